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

/// `git am` on `mbox` in a fresh clone of `r`: the author line it wrote
/// (`<seconds> <zone>`), or `None` where it stopped.
fn git_am_author_date(r: &TestRepo, mbox: &str, name: &str) -> Option<String> {
    let dir = r.scratch(name);
    r.git(&[
        "clone",
        "-q",
        r.path.to_str().unwrap(),
        dir.to_str().unwrap(),
    ]);
    let out = r
        .command("git", &dir)
        .args(["am", "-q"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(mbox.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    if !out.status.success() {
        assert!(
            stderr(&out).contains("invalid date format"),
            "git am stopped for another reason: {}",
            stderr(&out)
        );
        return None;
    }
    let line = r.git_in(&dir, &["cat-file", "-p", "HEAD"]);
    let author = line.lines().find(|l| l.starts_with("author ")).unwrap();
    let fields: Vec<&str> = author.rsplitn(3, ' ').collect();
    Some(format!("{} {}", fields[1], fields[0]))
}

/// Dates git cannot write (before 1970 or after 2099, in the zone written or in
/// UTC) stop `git am` with "invalid date format"; we refuse them alike, where we
/// used to write `-30610224000 +0000`, which `git fsck --strict` calls badDate.
/// The edges git accepts give the same author line as git am.
#[test]
fn author_dates_out_of_git_range_are_refused_as_git_am_does() {
    let r = base_repo();
    let before = r.git(&["for-each-ref"]);
    git_refuses(
        &r,
        "f",
        b"x\n",
        "author A <a@x> -30610224000 +0000\ncommitter A <a@x> 1700000000 +0000",
        b"\nx\n",
        "badDate",
    );
    let dates = [
        ("Mon, 1 Jan 1000 00:00:00 -2400", false),
        ("Wed, 31 Dec 1969 23:59:59 +0000", false),
        ("Thu, 1 Jan 1970 00:30:00 +0100", false),
        ("Thu, 31 Dec 2099 23:00:00 -0100", false),
        ("Fri, 1 Jan 2100 00:30:00 +0100", false),
        ("Thu, 1 Jan 1970 00:00:00 -0100", true),
        ("Thu, 1 Jan 1970 01:00:00 +0100", true),
        ("Thu, 31 Dec 2099 22:59:59 -0100", true),
        ("Mon, 1 Jan 2001 00:00:00 -2400", true),
    ];
    for (i, (date, git_takes_it)) in dates.into_iter().enumerate() {
        let mbox = mail(PLAIN, "Dated.", &creation(&format!("d{i}.txt")))
            .replace("Tue, 14 Nov 2023 22:13:20 +0100", date)
            .replace("<fsck@evil>", &format!("<date{i}@evil>"));
        let oracle = git_am_author_date(&r, &mbox, &format!("am{i}"));
        assert_eq!(
            oracle.is_some(),
            git_takes_it,
            "git am on {date}: {oracle:?}"
        );
        let out = apply(&r, &mbox);
        match oracle {
            None => assert_refused(&r, &out, &before, "invalid date format"),
            Some(want) => {
                assert!(out.status.success(), "{date}: {}", stderr(&out));
                let tag = format!("patchew/date{i}@evil");
                let got = r.git(&["log", "-1", "--format=%ad", "--date=raw", &tag]);
                assert_eq!(got, want, "{date}");
                assert_fsck_clean(&r);
                r.git(&["tag", "-d", &tag]);
            }
        }
    }
}

/// A committer date out of git's range (GIT_COMMITTER_DATE) stops git am; we stop
/// too, before writing any object.
#[test]
fn a_committer_date_out_of_git_range_is_refused() {
    let r = base_repo();
    let before = r.git(&["for-each-ref"]);
    let path = r.scratch("c.mbox");
    std::fs::write(&path, mail(PLAIN, "Dated.", &creation("c.txt"))).unwrap();
    let date = "Mon, 1 Jan 1000 00:00:00 +0000";
    let am = r
        .command("git", &r.path)
        .env("GIT_COMMITTER_DATE", date)
        .args(["am", "-q", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!am.status.success(), "git am took {date}");
    assert!(
        stderr(&am).contains("invalid date format"),
        "{}",
        stderr(&am)
    );
    let out = r
        .command(env!("CARGO_BIN_EXE_git-patchew"), &r.path)
        .env("GIT_COMMITTER_DATE", date)
        .args(["apply", "--no-ci", "--mbox", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success(), "took {date}");
    assert!(
        stderr(&out).contains("invalid date format"),
        "{}",
        stderr(&out)
    );
    assert_eq!(r.git(&["for-each-ref"]), before);
    assert_fsck_clean(&r);
}

/// `[submodule "t"` then a bare `path`: not config git can parse. `git fsck
/// --strict` warns gitmodulesParse (a warning is still output, and a ci-hub with
/// `fsck.gitmodulesParse=error` refuses it); we refuse it like the other shapes.
#[test]
fn an_unparsable_gitmodules_is_refused() {
    let r = base_repo();
    let before = r.git(&["for-each-ref"]);
    let content = "[submodule \"t\"\npath\n";
    let dir = r.scratch("oracle-parse");
    r.git(&["init", "-q", dir.to_str().unwrap()]);
    std::fs::write(dir.join(".gitmodules"), content).unwrap();
    r.git_in(&dir, &["add", ".gitmodules"]);
    r.git_in(&dir, &["commit", "-q", "-m", "x"]);
    let out = fsck(&dir, &r);
    assert!(
        stderr(&out).contains("gitmodulesParse"),
        "git fsck --strict said {}",
        stderr(&out)
    );
    let out = apply(&r, &mail(PLAIN, "Hostile.", &gitmodules_diff(content)));
    assert_refused(&r, &out, &before, "gitmodulesParse");
    assert!(stderr(&out).contains(".gitmodules"), "{}", stderr(&out));
}
