//! Series whose objects `git fsck --strict` would refuse (and so would a ci-hub with
//! `receive.fsckObjects`): refused by `git patchew apply` with exit 2, one line
//! naming the patch and fsck's rule, no ref, and `git fsck --strict` clean after
//! every case. C git is the oracle twice: each hostile shape is first shown to be
//! refused by `git fsck --strict` when built with git's own plumbing.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Output;

use support::git::{stderr, TestRepo};
use support::mail::Mail;

/// A repository with a `.gitmodules` for patches to change.
fn base_repo() -> TestRepo {
    let r = TestRepo::new();
    r.write("f.txt", "one\n");
    r.write(".gitmodules", "");
    r.commit("base");
    r
}

/// One mail with these `From:`/`Subject:` headers (and more), in mbox form.
fn mail(headers: &str, body: &str, diff: &str) -> String {
    Mail::new("")
        .raw_headers(headers)
        .msgid("fsck@evil")
        .body(body)
        .diff(diff)
        .mbox()
}

const PLAIN: &str = "From: A U Thor <author@example.com>\nSubject: [PATCH] evil\n";

/// A diff replacing the (empty) `.gitmodules` with `content`.
fn gitmodules_diff(content: &str) -> String {
    let lines: Vec<&str> = content.lines().collect();
    let added: String = lines.iter().map(|l| format!("+{l}\n")).collect();
    format!(
        "diff --git a/.gitmodules b/.gitmodules\n\
         --- a/.gitmodules\n\
         +++ b/.gitmodules\n\
         @@ -0,0 +1,{} @@\n\
         {added}",
        lines.len()
    )
}

fn creation(path: &str) -> String {
    format!(
        "diff --git a/{path} b/{path}\n\
         new file mode 100644\n\
         --- /dev/null\n\
         +++ b/{path}\n\
         @@ -0,0 +1 @@\n\
         +payload\n"
    )
}

fn apply(r: &TestRepo, mbox: &str) -> Output {
    let path: PathBuf = r.scratch("p.mbox");
    std::fs::write(&path, mbox).unwrap();
    r.patchew(
        &r.path,
        &["apply", "--no-ci", "--mbox", path.to_str().unwrap()],
    )
}

fn fsck(dir: &Path, r: &TestRepo) -> Output {
    r.command("git", dir)
        .args(["fsck", "--strict", "--no-dangling", "--no-progress"])
        .output()
        .unwrap()
}

fn assert_fsck_clean(r: &TestRepo) {
    let out = fsck(&r.path, r);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "git fsck --strict: {}",
        stderr(&out)
    );
}

/// Exit 2, one line naming the patch and `rule`, no ref changed, fsck clean.
fn assert_refused(r: &TestRepo, out: &Output, before: &str, rule: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{rule}: {err}");
    assert_eq!(err.trim().lines().count(), 1, "{rule}: one line: {err}");
    assert!(err.contains("patch 1/1"), "{rule}: names the patch: {err}");
    assert!(err.contains(rule), "{rule}: names the rule: {err}");
    assert_eq!(
        r.git(&["for-each-ref"]),
        before,
        "{rule}: no ref may change"
    );
    assert_fsck_clean(r);
}

/// Runs git plumbing in a scratch repository with `input` on stdin.
fn plumbing(r: &TestRepo, dir: &Path, args: &[&str], input: &[u8]) -> String {
    let out = r.git_with_input(dir, args, input);
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The oracle: `git fsck --strict` refuses a commit built by git itself from this
/// tree entry and raw commit text, naming `rule`.
fn git_refuses(
    r: &TestRepo,
    name: &str,
    blob: &[u8],
    commit_head: &str,
    message: &[u8],
    rule: &str,
) {
    let dir = r.scratch(&format!("oracle-{rule}-{}", name.len()));
    r.git(&["init", "-q", "--bare", dir.to_str().unwrap()]);
    let blob = plumbing(r, &dir, &["hash-object", "-w", "--stdin"], blob);
    let mut entry = format!("100644 blob {blob}\t").into_bytes();
    entry.extend_from_slice(name.as_bytes());
    entry.push(b'\n');
    let tree = plumbing(r, &dir, &["mktree"], &entry);
    let mut commit = format!("tree {tree}\n{commit_head}\n").into_bytes();
    commit.extend_from_slice(message);
    let commit = plumbing(
        r,
        &dir,
        &[
            "hash-object",
            "-t",
            "commit",
            "--literally",
            "-w",
            "--stdin",
        ],
        &commit,
    );
    plumbing(r, &dir, &["update-ref", "refs/heads/x", &commit], b"");
    let out = fsck(&dir, r);
    let said = format!("{}{}", stderr(&out), String::from_utf8_lossy(&out.stdout));
    assert!(!out.status.success(), "git fsck accepted the {rule} case");
    assert!(said.contains(rule), "git fsck said {said}, not {rule}");
}

const IDENT: &str = "author A <a@x> 1700000000 +0000\ncommitter A <a@x> 1700000000 +0000";

#[test]
fn gitmodules_content_git_fsck_refuses_is_refused() {
    let r = base_repo();
    let before = r.git(&["for-each-ref"]);
    let cases = [
        (
            "[submodule \"x\"]\n\tpath = x\n\turl = --upload-pack=touch /tmp/pwned\n",
            "gitmodulesUrl",
        ),
        (
            "[submodule \"x\"]\n\tpath = x\n\turl = ../../../:x.git\n",
            "gitmodulesUrl",
        ),
        (
            "[submodule \"../x\"]\n\tpath = x\n\turl = https://h/x\n",
            "gitmodulesName",
        ),
        ("[submodule \"a/../b\"]\n\tpath = x\n", "gitmodulesName"),
        (
            "[submodule \"x\"]\n\tpath = -x\n\turl = https://h/x\n",
            "gitmodulesPath",
        ),
        (
            "[submodule \"x\"]\n\tpath = x\n\tupdate = !touch /tmp/pwned\n",
            "gitmodulesUpdate",
        ),
    ];
    for (content, rule) in cases {
        git_refuses(&r, ".gitmodules", content.as_bytes(), IDENT, b"\nx\n", rule);
        let out = apply(&r, &mail(PLAIN, "Hostile.", &gitmodules_diff(content)));
        assert_refused(&r, &out, &before, rule);
        assert!(stderr(&out).contains(".gitmodules"), "{}", stderr(&out));
    }
}

#[test]
fn ordinary_gitmodules_still_apply() {
    let r = base_repo();
    let content = "[submodule \"lib/x\"]\n\tpath = lib/x\n\turl = ../x.git\n\tupdate = rebase\n\
                   [submodule \"y\"]\n\tpath = y\n\turl = https://h.example/y.git\n";
    let out = apply(&r, &mail(PLAIN, "Fine.", &gitmodules_diff(content)));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_fsck_clean(&r);
}

#[test]
fn a_path_component_longer_than_git_allows_is_refused() {
    let r = base_repo();
    let before = r.git(&["for-each-ref"]);
    let long = "a".repeat(70_000);
    git_refuses(&r, &long, b"payload\n", IDENT, b"\nx\n", "largePathname");
    let out = apply(&r, &mail(PLAIN, "Long.", &creation(&format!("dir/{long}"))));
    assert_refused(&r, &out, &before, "largePathname");
    assert!(stderr(&out).len() < 1000, "the path is not shown whole");
    // The longest component git accepts still applies.
    let limit = "b".repeat(4096);
    let out = apply(&r, &mail(PLAIN, "Limit.", &creation(&limit)));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_fsck_clean(&r);
}

#[test]
fn nul_bytes_in_message_subject_or_author_are_refused() {
    let r = base_repo();
    let before = r.git(&["for-each-ref"]);
    git_refuses(&r, "f", b"x\n", IDENT, b"\na\0b\n", "nulInCommit");
    git_refuses(
        &r,
        "f",
        b"x\n",
        "author A\0B <a@x> 1700000000 +0000\ncommitter A <a@x> 1700000000 +0000",
        b"\nx\n",
        "nulInHeader",
    );
    let diff = creation("new.txt");
    let qp = "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\
              Content-Transfer-Encoding: quoted-printable\n";
    let cases = [
        (
            format!("{PLAIN}{qp}"),
            "Body with a =00 byte.".to_owned(),
            "nulInCommit",
        ),
        (
            "From: A U Thor <author@example.com>\nSubject: =?utf-8?q?[PATCH]_a=00b?=\n".to_owned(),
            "Body.".to_owned(),
            "nulInCommit",
        ),
        (
            "From: =?utf-8?q?A=00B?= <author@example.com>\nSubject: [PATCH] evil\n".to_owned(),
            "Body.".to_owned(),
            "nulInHeader",
        ),
    ];
    for (headers, body, rule) in cases {
        let out = apply(&r, &mail(&headers, &body, &diff));
        assert_refused(&r, &out, &before, rule);
    }
}
