//! `git config` read the way git reads it, with C git as the oracle: values git
//! refuses are errors naming key and value (exit 2), paths are interpolated like
//! git's, the repository is found like git finds it.

use crate::support;

use std::path::PathBuf;

use support::git::{stderr, stdout, TestRepo};

/// A repository with one commit and the mail of a second (dropped again).
fn repo_and_mbox() -> (TestRepo, PathBuf) {
    let (r, mbox, _) = TestRepo::with_dropped_commit();
    let path = r.scratch("s.mbox");
    std::fs::write(&path, mbox).unwrap();
    (r, path)
}

fn apply(r: &TestRepo, mbox: &std::path::Path) -> std::process::Output {
    r.patchew(
        &r.path,
        &[
            "apply",
            "--no-ci",
            "--force",
            "--mbox",
            mbox.to_str().unwrap(),
        ],
    )
}

#[test]
fn a_boolean_git_refuses_is_an_error_naming_key_and_value() {
    let (r, mbox) = repo_and_mbox();
    r.git(&["config", "patchew.addMessageId", "maybe"]);
    // The oracle: git refuses it too.
    let git = r
        .command("git", &r.path)
        .args(["config", "--bool", "patchew.addMessageId"])
        .output()
        .unwrap();
    assert!(!git.status.success());
    let out = apply(&r, &mbox);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("patchew.addMessageId") && err.contains("maybe"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(r.git(&["tag"]), "", "nothing done");

    // What git accepts, we accept, with git's meaning.
    for (value, expect) in [("yes", true), ("off", false), ("1", true), ("", false)] {
        r.git(&["config", "patchew.addMessageId", value]);
        let out = apply(&r, &mbox);
        assert!(out.status.success(), "{value}: {}", stderr(&out));
        let tip = r.git(&["log", "-1", "--format=%B", stdout(&out).trim()]);
        assert_eq!(tip.contains("Message-ID:"), expect, "{value}: {tip}");
    }
}

#[test]
fn numbers_git_refuses_or_out_of_range_are_errors() {
    let (r, mbox) = repo_and_mbox();
    for (key, value) in [
        ("patchew.httpTimeout", "soon"),
        ("patchew.httpRetries", "-1"),
        ("patchew.projectId", "12abc"),
        ("patchew.claimSettle", "later"),
    ] {
        r.git(&["config", key, value]);
        let out = apply(&r, &mbox);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{key}={value}: {err}");
        assert!(err.contains(key) && err.contains(value), "{err}");
        r.git(&["config", "--unset", key]);
    }
    // git's unit suffixes are numbers too.
    r.git(&["config", "patchew.httpTimeout", "1k"]);
    let out = apply(&r, &mbox);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn hooks_path_with_a_tilde_is_where_git_looks() {
    let (r, _) = repo_and_mbox();
    r.git(&["config", "core.hooksPath", "~/global-hooks"]);
    let out = r.patchew(&r.path, &["install-hook"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let oracle = PathBuf::from(r.git(&["rev-parse", "--git-path", "hooks/pre-push"]));
    assert!(oracle.is_absolute(), "{}", oracle.display());
    let installed = std::fs::read_to_string(&oracle).unwrap();
    assert!(
        installed.contains("git patchew hook pre-push"),
        "{installed}"
    );
}

#[test]
fn git_dir_in_the_environment_finds_the_repository_like_git() {
    let (r, mbox) = repo_and_mbox();
    let elsewhere = tempfile::tempdir().unwrap();
    let out = r
        .command(env!("CARGO_BIN_EXE_git-patchew"), elsewhere.path())
        .env("GIT_DIR", r.path.join(".git"))
        .env("GIT_WORK_TREE", &r.path)
        .args(["apply", "--no-ci", "--mbox", mbox.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let tip = stdout(&out).trim().to_owned();
    assert_eq!(r.git(&["log", "-1", "--format=%s", &tip]), "f: two");
}
