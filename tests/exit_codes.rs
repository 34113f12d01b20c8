//! One test per exit-code bucket (README.md's table, `cmd::exit::TABLE`), through the
//! CLI as a script sees it, including the cases that once landed in the wrong bucket:
//! git that cannot be started, a man page that cannot be written, a series found
//! nowhere.

use crate::support;

use std::path::PathBuf;

use git_patchew::exit;
use support::git::{stderr, TestRepo};
use support::{Reply, StandIn};

/// A repository at its base commit, and the mail (by git format-patch) of a second
/// commit that was dropped again.
fn repo_and_mail() -> (TestRepo, PathBuf, String) {
    let (r, mbox, id) = TestRepo::with_dropped_commit();
    let path = r.scratch("series.mbox");
    std::fs::write(&path, mbox).unwrap();
    (r, path, id)
}

fn code(out: &std::process::Output) -> Option<i32> {
    out.status.code()
}

/// Exactly one line on stderr, starting `error: `.
fn one_error_line(out: &std::process::Output) -> String {
    let err = stderr(out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
    err
}

#[test]
fn exit_0_done() {
    let (r, mbox, id) = repo_and_mail();
    let out = r.patchew(
        &r.path,
        &["apply", "--no-ci", "--mbox", mbox.to_str().unwrap()],
    );
    assert_eq!(code(&out), Some(exit::OK), "{}", stderr(&out));
    r.git(&["rev-parse", &format!("refs/tags/patchew/{id}")]);
}

#[test]
fn exit_1_a_patch_that_does_not_apply() {
    let (r, mbox, _) = repo_and_mail();
    r.write("f.txt", "other\n");
    r.commit("f: other");
    let out = r.patchew(
        &r.path,
        &[
            "apply",
            "--no-ci",
            "--no-3way",
            "--mbox",
            mbox.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&out), Some(exit::APPLY_FAILED), "{}", stderr(&out));
    assert!(one_error_line(&out).contains("f.txt"));
    assert_eq!(r.git(&["tag"]), "", "nothing tagged");
}

#[test]
fn exit_1_git_cannot_be_started() {
    let (r, mbox, id) = repo_and_mail();
    let out = r.patchew(
        &r.path,
        &["apply", "--no-ci", "--mbox", mbox.to_str().unwrap()],
    );
    assert_eq!(code(&out), Some(exit::OK), "{}", stderr(&out));
    let out = r
        .command(env!("CARGO_BIN_EXE_git-patchew"), &r.path)
        .env("PATH", r.scratch("no-such-dir"))
        // -q: the tag (applied with --no-ci) would warn that it starts no pipeline.
        .args(["-q", "push", &format!("patchew/{id}")])
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(exit::APPLY_FAILED), "{}", stderr(&out));
    assert!(one_error_line(&out).contains("cannot run git"));
}

#[test]
fn exit_1_the_man_page_cannot_be_written() {
    let (r, _, _) = repo_and_mail();
    let file = r.scratch("a-file");
    std::fs::write(&file, "").unwrap();
    let out = r.patchew(&r.path, &["man", "--output", file.to_str().unwrap()]);
    assert_eq!(code(&out), Some(exit::APPLY_FAILED), "{}", stderr(&out));
    assert!(one_error_line(&out).contains(file.to_str().unwrap()));
}

#[test]
fn exit_2_bad_input_usage_or_config() {
    let (r, mbox, _) = repo_and_mail();
    let missing = r.scratch("no-such.mbox");
    let out = r.patchew(
        &r.path,
        &["apply", "--no-ci", "--mbox", missing.to_str().unwrap()],
    );
    assert_eq!(code(&out), Some(exit::BAD_INPUT), "{}", stderr(&out));
    assert!(one_error_line(&out).contains("no-such.mbox"));

    let out = r.patchew(&r.path, &["apply", "--no-such-flag"]);
    assert_eq!(code(&out), Some(exit::BAD_INPUT), "{}", stderr(&out));

    let broken = std::fs::read_to_string(&mbox)
        .unwrap()
        .replace("@@ -1 +1 @@", "@@ -1,zz +1 @@");
    std::fs::write(&mbox, broken).unwrap();
    let out = r.patchew(
        &r.path,
        &["apply", "--no-ci", "--mbox", mbox.to_str().unwrap()],
    );
    assert_eq!(code(&out), Some(exit::BAD_INPUT), "{}", stderr(&out));
    one_error_line(&out);
}

#[test]
fn exit_3_nothing_to_do() {
    let (r, _, _) = repo_and_mail();
    let chat = r.scratch("chat.mbox");
    std::fs::write(
        &chat,
        "From x Mon Sep 17 00:00:00 2001\nFrom: A <a@x>\nSubject: hello\nMessage-ID: <chat@x>\n\nno patch here\n",
    )
    .unwrap();
    let out = r.patchew(
        &r.path,
        &["apply", "--no-ci", "--mbox", chat.to_str().unwrap()],
    );
    assert_eq!(code(&out), Some(exit::NOTHING_TO_DO), "{}", stderr(&out));
    one_error_line(&out);

    // A series no source has: nothing to do, not a network failure.
    let server = StandIn::start();
    r.git(&["config", "patchew.server", &server.url()]);
    r.git(&["config", "patchew.project", "QEMU"]);
    let out = r.patchew(&r.path, &["apply", "--no-ci", "nowhere@example.org"]);
    assert_eq!(code(&out), Some(exit::NOTHING_TO_DO), "{}", stderr(&out));
}

#[test]
fn exit_4_server_or_network() {
    let (r, _, id) = repo_and_mail();
    let server = StandIn::start();
    r.git(&["config", "patchew.server", &server.url()]);
    r.git(&["config", "patchew.project", "QEMU"]);
    r.git(&["config", "patchew.httpRetries", "1"]);
    server.route("GET", &format!("/QEMU/{id}/mbox"), Reply::status(502));
    let out = r.patchew(&r.path, &["apply", "--no-ci", &id]);
    assert_eq!(code(&out), Some(exit::NETWORK), "{}", stderr(&out));
    assert!(stderr(&out).contains("502"), "{}", stderr(&out));
}
