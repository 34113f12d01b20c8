//! Patchew's own test mails (../shared/data/patchew-mbox) applied end to end. Their
//! bases are not published, so each base is built from the patches themselves: every
//! file a patch modifies gets the lines its hunks expect (context and removed lines),
//! which is enough for both `git am` and us to apply them. C git is the oracle: our
//! tree must be git am's tree.

use crate::support;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

use git_patchew::apply::patch::{self, Body, Line, Operation};
use git_patchew::input::{mail, mailinfo, mbox};
use support::git::{stderr, TestRepo};

fn data_dir() -> Option<PathBuf> {
    support::require::shared_data("patchew-mbox")
}

fn gunzip(path: &std::path::Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The content each modified file must have for the mbox's patches to apply: the
/// old side of its hunks, in order. `None` when the mbox cannot be given a base
/// (a file created by one patch and edited by a later one, binary patches...).
fn synthetic_base(mbox_bytes: &[u8]) -> Option<BTreeMap<String, Vec<u8>>> {
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut created = Vec::new();
    for raw in mbox::split(mbox_bytes).ok()? {
        let info = mailinfo::mailinfo(&mail::parse(&raw).ok()?);
        for fp in patch::parse(&info.patch).ok()? {
            // The file the patch reads: the old path of a rename or copy.
            let path = fp
                .old_path
                .as_ref()
                .unwrap_or(&fp.path().to_owned())
                .to_string();
            let reads_old = matches!(
                fp.operation,
                Operation::Modify | Operation::Rename | Operation::Copy
            );
            match (&fp.operation, &fp.body) {
                (Operation::Create, _) => created.push(fp.path().to_string()),
                (Operation::Rename | Operation::Copy, Body::None) => {
                    files
                        .entry(path)
                        .or_insert_with(|| b"moved as it is\n".to_vec());
                }
                (_, Body::Text(hunks))
                    if reads_old && !created.contains(&path) && !files.contains_key(&path) =>
                {
                    let mut content = Vec::new();
                    for h in hunks {
                        for line in h.lines.iter() {
                            if let Line::Context(l) | Line::Remove(l) = line {
                                content.extend_from_slice(l);
                            }
                        }
                    }
                    files.insert(path, content);
                }
                (_, Body::Text(_)) if reads_old => {}
                _ => return None,
            }
        }
    }
    (!files.is_empty() || !created.is_empty()).then_some(files)
}

#[test]
fn patchew_mails_apply_like_git_am_on_a_base_built_from_them() {
    let Some(dir) = data_dir() else {
        return;
    };
    let mut compared = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".mbox.gz"))
        .collect();
    paths.sort();
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = gunzip(&path);
        let Some(base_files) = synthetic_base(&bytes) else {
            eprintln!("{name}: no base can be built, not applied");
            continue;
        };
        let r = TestRepo::new();
        r.write("README", "synthetic base\n");
        for (file, content) in &base_files {
            r.write(file, content);
        }
        let base = r.commit("synthetic base");
        let mbox_path = r.scratch("series.mbox");
        std::fs::write(&mbox_path, &bytes).unwrap();
        // These mails were stored by Python's mailbox module, whose `From A` lines git
        // does not take for separators; give git am dated ones (we read both).
        let for_git = String::from_utf8_lossy(&bytes)
            .replace("\nFrom A\n", "\nFrom nobody Mon Sep 17 00:00:00 2001\n");
        let for_git = for_git
            .strip_prefix("From A\n")
            .map_or(for_git.clone(), |rest| {
                format!("From nobody Mon Sep 17 00:00:00 2001\n{rest}")
            });
        let git_path = r.scratch("for-git.mbox");
        std::fs::write(&git_path, for_git).unwrap();

        // The oracle; mails it refuses (git mailinfo's limits) say nothing about us.
        let am = r
            .command("git", &r.path)
            .args(["am", "-q", "--keep-cr", "--empty=drop"])
            .arg(&git_path)
            .output()
            .unwrap();
        if !am.status.success() {
            eprintln!(
                "{name}: git am refuses it: {}",
                stderr(&am).lines().next().unwrap_or("")
            );
            continue;
        }
        let bare = r.clone_to("bare.git", &["--bare"]);
        let out = r.patchew(
            &bare,
            &[
                "apply",
                "--mbox",
                mbox_path.to_str().unwrap(),
                "--base",
                &base,
                "--no-ci",
                "--no-tag",
                "--no-3way",
            ],
        );
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let ours = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        assert_eq!(
            r.git_in(&bare, &["rev-parse", &format!("{ours}^{{tree}}")]),
            r.git(&["rev-parse", "HEAD^{tree}"]),
            "{name}: tree differs from git am's"
        );
        assert_eq!(
            r.git_in(
                &bare,
                &["log", "--format=%an <%ae>%n%s", &format!("{base}..{ours}")]
            ),
            r.git(&["log", "--format=%an <%ae>%n%s", &format!("{base}..HEAD")]),
            "{name}: authors or subjects differ"
        );
        compared.push(name);
    }
    eprintln!("compared with git am: {compared:?}");
    assert!(
        compared.len() >= 10,
        "too few real mails could be compared: {compared:?}"
    );
}
