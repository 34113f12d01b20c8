//! The tag pipeline verdict over arbitrary CI files: `ci::pipeline::predict` reads
//! strangers' YAML (a series may change `.gitlab-ci.yml` and what it includes). On any
//! tree it must answer (an in-memory tree never fails to read), give the same answer
//! twice, and say why whenever the report jobs will not run.
//!
//! The input is a tree: `.gitlab-ci.yml` first, then further files, each starting
//! after a line `#== <path>` (a YAML comment, so that seeds stay readable). Two
//! names are not files: `@variables` holds the ci-hub's `NAME=VALUE` words, and
//! `@push` git push options, one a line (`ci.skip`, `ci.variable="NAME=VALUE"`).
#![no_main]

use std::collections::BTreeMap;

use git_patchew::ci::pipeline::{self, Hub, Tree, Verdict};
use libfuzzer_sys::fuzz_target;

struct Files(BTreeMap<String, Vec<u8>>);

impl Tree for Files {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, git_patchew::repo::RepoError> {
        Ok(self.0.get(path).cloned())
    }
    fn paths(&self) -> Result<Vec<String>, git_patchew::repo::RepoError> {
        Ok(self.0.keys().cloned().collect())
    }
}

const OWN_INCLUDE: &str = "https://ci-hub.example.org/patchew/patchew-ci.yml";

/// The files of the input, `@variables` and `@push` taken out into the hub.
fn tree_and_hub(data: &[u8]) -> (Files, Hub) {
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut path = ".gitlab-ci.yml".to_owned();
    for line in data.split_inclusive(|b| *b == b'\n') {
        match line.strip_prefix(b"#== ") {
            Some(name) => path = String::from_utf8_lossy(name).trim().to_owned(),
            None => files
                .entry(path.clone())
                .or_default()
                .extend_from_slice(line),
        }
    }
    let text = |files: &mut BTreeMap<String, Vec<u8>>, name: &str| {
        let bytes = files.remove(name).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let mut hub = Hub {
        tag: "patchew/20240101.1-a@example.org".into(),
        project: Some("patchew/project".into()),
        own_include: Some(OWN_INCLUDE.into()),
        ..Hub::default()
    };
    hub.variables = text(&mut files, "@variables")
        .split_whitespace()
        .filter_map(|word| pipeline::parse_assignment(word).ok())
        .collect();
    let push = text(&mut files, "@push");
    hub.add_push_options(&push.lines().collect::<Vec<_>>());
    (Files(files), hub)
}

fuzz_target!(|data: &[u8]| {
    let (tree, hub) = tree_and_hub(data);
    let first = pipeline::predict(&tree, &hub).expect("an in-memory tree always reads");
    let again = pipeline::predict(&tree, &hub).expect("an in-memory tree always reads");
    assert_eq!(
        first.pipeline, again.pipeline,
        "the same tree, another verdict"
    );
    assert_eq!(first.reserved, again.reserved);
    assert_eq!(first.unreadable, again.unreadable);
    if first.pipeline.verdict != Verdict::Runs {
        assert!(
            !first.pipeline.reasons.is_empty(),
            "a verdict without a reason: {}",
            first.pipeline.summary()
        );
    }
    let _ = first.warnings();
    let _ = first.reserved_problem();
});
