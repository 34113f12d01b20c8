//! The mail and diff shapes where issue 27 found us apart from git (and b4), each
//! with the real tool as the oracle: `git am` (its commit id, with the fixed
//! identities and clock of `support::git::ENV`, must be ours), `git mailinfo`,
//! and `b4 am` for the order of trailers collected from replies. The shapes come
//! from git.git's t4126/t5100 and from patchwork's fuzz samples; the mails are
//! written here.

use crate::support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use support::git::{stderr, stdout, TestRepo};

/// A project with one file, `f.txt`.
fn project() -> TestRepo {
    let r = TestRepo::new();
    r.write("f.txt", "one\n");
    r.commit("base");
    r
}

/// One format-patch-like mail in mbox form: `headers` (From:, Date: ...), the
/// message `body` and the `diff`.
fn mail(from_line: &[u8], headers: &[u8], body: &str, diff: &str) -> Vec<u8> {
    let mut m = from_line.to_vec();
    m.extend_from_slice(b"\n");
    m.extend_from_slice(headers);
    m.extend_from_slice(b"Subject: [PATCH] change\n\n");
    m.extend_from_slice(body.as_bytes());
    m.extend_from_slice(b"\n---\n");
    m.extend_from_slice(diff.as_bytes());
    m.extend_from_slice(b"-- \n2.43.0\n\n");
    m
}

const FROM_LINE: &[u8] = b"From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001";
const AUTHOR: &[u8] = b"From: A U Thor <author@example.com>\n";
const DATE: &[u8] = b"Date: Tue, 14 Nov 2023 22:13:20 +0100\n";

const CHANGE_F: &str =
    "diff --git a/f.txt b/f.txt\n--- a/f.txt\n+++ b/f.txt\n@@ -1 +1 @@\n-one\n+two\n";

/// `git am ARGS` on `mbox` in a fresh clone of `r`: the new commit, or git's error.
fn git_am(r: &TestRepo, mbox: &[u8], args: &[&str]) -> Result<String, String> {
    static CLONES: AtomicUsize = AtomicUsize::new(0);
    let clone = r.scratch(&format!("am-{}", CLONES.fetch_add(1, Ordering::Relaxed)));
    r.git(&[
        "clone",
        "-q",
        r.path.to_str().unwrap(),
        clone.to_str().unwrap(),
    ]);
    let out = with_input(r.command("git", &clone).arg("am").args(args), mbox);
    if !out.status.success() {
        return Err(stderr(&out));
    }
    Ok(r.git_in(&clone, &["rev-parse", "HEAD"]))
}

/// `git patchew apply --no-ci --no-tag ARGS` on `mbox`: the tip, or our error.
fn ours(r: &TestRepo, mbox: &[u8], args: &[&str]) -> Result<String, String> {
    let path = r.scratch("ours.mbox");
    std::fs::write(&path, mbox).unwrap();
    let out = r.patchew(
        &r.path,
        &[
            &[
                "apply",
                "--no-ci",
                "--no-tag",
                "--mbox",
                path.to_str().unwrap(),
            ],
            args,
        ]
        .concat(),
    );
    if !out.status.success() {
        return Err(stderr(&out));
    }
    Ok(stdout(&out).trim().to_owned())
}

fn with_input(command: &mut Command, input: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// git am and we make the same commit of `mbox`; `git fsck --strict` is clean.
fn assert_same_commit(r: &TestRepo, mbox: &[u8], am_args: &[&str], our_args: &[&str]) -> String {
    let theirs = git_am(r, mbox, am_args).unwrap_or_else(|e| panic!("git am: {e}"));
    let ours = ours(r, mbox, our_args).unwrap_or_else(|e| panic!("ours: {e}"));
    assert_eq!(ours, theirs, "our commit is not git am's");
    let fsck = r
        .command("git", &r.path)
        .args(["fsck", "--strict", "--no-dangling"])
        .output()
        .unwrap();
    assert!(
        fsck.status.success() && fsck.stderr.is_empty(),
        "{}",
        stderr(&fsck)
    );
    ours
}

/// (a) t4126 "apply create": a traditional diff (no `diff --git`, no `/dev/null`)
/// whose one hunk has no old lines creates the file the tree does not have. We
/// refused it ("does not exist in the base tree").
#[test]
fn a_traditional_diff_creating_a_file_from_an_empty_one_applies_as_git_am() {
    let r = project();
    let diff = "--- missing.orig\n+++ missing\n@@ -0,0 +1,2 @@\n+a\n+b\n";
    let tip = assert_same_commit(
        &r,
        &mail(FROM_LINE, &[AUTHOR, DATE].concat(), "Create.", diff),
        &[],
        &[],
    );
    assert_eq!(r.git(&["show", &format!("{tip}:missing")]), "a\nb");
    // The same diff on a tree that has the file (empty) changes it.
    r.write("missing", "");
    r.commit("empty file");
    assert_same_commit(
        &r,
        &mail(FROM_LINE, &[AUTHOR, DATE].concat(), "Fill.", diff),
        &[],
        &[],
    );
}

/// (b) t4126 "no-contents and a funny pathname": `diff --git a/funny /empty
/// b/funny /empty` creating an empty file, with no ---/+++ lines to name it. git
/// 2.45 and later find the name; we said "git diff header lacks filename
/// information". The diff is git's own (`git diff --cached`).
#[test]
fn an_empty_file_created_in_a_directory_whose_name_ends_in_a_space_applies_as_git_am() {
    let r = project();
    let empty = r.git(&["hash-object", "-w", "--stdin"]);
    r.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("100644,{empty},funny /empty"),
    ]);
    let diff = r.git(&["diff", "--cached", "HEAD", "--", "funny /"]);
    r.git(&["reset", "-q"]);
    assert!(
        diff.starts_with("diff --git a/funny /empty b/funny /empty\n"),
        "{diff}"
    );
    assert!(!diff.contains("\n--- "), "{diff}");
    let tip = assert_same_commit(
        &r,
        &mail(
            FROM_LINE,
            &[AUTHOR, DATE].concat(),
            "Empty.",
            &format!("{diff}\n"),
        ),
        &[],
        &[],
    );
    assert_eq!(r.git(&["rev-parse", &format!("{tip}:funny /empty")]), empty);
}

/// (d) `--patch-format=mboxrd` as git am has it: one `>` comes off `>From ` and
/// `>>From ` body lines even when the From_ line is not public-inbox's; with
/// `--patch-format=mbox` they stay, even in a public-inbox message; by default
/// (git am's `mbox`) they stay.
#[test]
fn patch_format_mboxrd_and_mbox_unquote_as_git_am_does() {
    let r = project();
    let body = "Quoted From_ lines:\n\n>From the start\n>>From twice\nFrom not quoted";
    let plain = mail(FROM_LINE, &[AUTHOR, DATE].concat(), body, CHANGE_F);
    let rd = assert_same_commit(
        &r,
        &plain,
        &["--patch-format=mboxrd"],
        &["--patch-format=mboxrd"],
    );
    let message = r.git(&["log", "-1", "--format=%B", &rd]);
    assert!(
        message.contains("\nFrom the start\n>From twice\n"),
        "{message}"
    );
    let o = assert_same_commit(
        &r,
        &plain,
        &["--patch-format=mbox"],
        &["--patch-format=mbox"],
    );
    assert!(r
        .git(&["log", "-1", "--format=%B", &o])
        .contains("\n>From the start\n"));
    assert_eq!(
        assert_same_commit(&r, &plain, &[], &[]),
        o,
        "the default is mbox"
    );
    let public_inbox = mail(
        b"From mboxrd@z Thu Jan  1 00:00:00 1970",
        &[AUTHOR, DATE].concat(),
        body,
        CHANGE_F,
    );
    assert_eq!(
        assert_same_commit(
            &r,
            &public_inbox,
            &["--patch-format=mbox"],
            &["--patch-format=mbox"]
        ),
        o
    );
    assert_eq!(
        assert_same_commit(&r, &public_inbox, &["--patch-format=mboxrd"], &[]),
        rd,
        "a public-inbox message is mboxrd by default"
    );
}

/// `git mailinfo` on one message: its Author and Email lines.
fn git_mailinfo(r: &TestRepo, message: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let dir = r.scratch("");
    let out = with_input(
        r.command("git", &dir)
            .args(["mailinfo", "/dev/null", "/dev/null"]),
        message,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let field = |name: &[u8]| {
        out.stdout
            .split(|&b| b == b'\n')
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_default()
            .to_vec()
    };
    (field(b"Author: "), field(b"Email: "))
}

/// (e-g) patchwork's fuzz samples: a From name ending in an unbalanced `"`, alone
/// or after undeclared 8-bit bytes, with and without an `@` in the address. git
/// mailinfo's `Author:` keeps the `"` where git does and so does our parse of the
/// mail; the commit drops it on both sides (git's ident code strips `"` at the
/// ends of a name), and the commits are the same. The difference found was with our
/// `MailInfo::author`, which is the commit's author (stripped), not mailinfo's line.
#[test]
fn from_names_ending_in_an_unbalanced_quote_match_git() {
    let r = project();
    let cases: &[&[u8]] = &[
        b"Jo S. M\" <jo>",
        b"Jo S. M\" <jo@example.com>",
        b"\"Jo\\\" <jo@example.com>",
        b"\xc7o S. M\" <jo>",
        b"J\xc3\xb6 \xff S. M\" <jo@example.com>",
    ];
    for (i, from) in cases.iter().enumerate() {
        let what = String::from_utf8_lossy(from);
        let headers = [b"From: ".as_slice(), from, b"\n", DATE].concat();
        let m = mail(FROM_LINE, &headers, "Body.", CHANGE_F);
        let (author, email) = git_mailinfo(&r, &m[FROM_LINE.len() + 1..]);
        let parsed = git_patchew::input::mail::parse(&m[FROM_LINE.len() + 1..]).unwrap();
        let from = parsed.from.unwrap_or_else(|| panic!("{what}: no From"));
        assert_eq!(from.email.as_bytes(), email, "{what}");
        if author.is_ascii() {
            assert_eq!(from.name.as_bytes(), author, "{what}");
        } else {
            // git prints undeclared bytes as they came (its commit turns them into
            // UTF-8 as Latin-1, as we do at once): same text, same quote.
            assert_eq!(from.name.ends_with('"'), author.ends_with(b"\""), "{what}");
        }
        assert_same_commit(&r, &m, &[], &[]);
        r.git(&["tag", &format!("case{i}"), "HEAD"]);
    }
}

/// (h) A `Date:` holding NUL bytes: git mailinfo's C strings end there, so git am
/// takes the date before the NUL; we refused the whole ("invalid date format").
/// patchwork's sample ends `17:50:` before the NUL, which git's date parser reads.
#[test]
fn a_date_cut_by_a_nul_byte_is_read_as_git_am_reads_it() {
    let r = project();
    for date in [
        b"Date: Wed, 4 Jun 2014 17:50:46 +0100\0\xff junk\n".as_slice(),
        b"Date: Wed, 4 Jun 2014 17:50:\0\x80\xff\xff\n",
        b"Date: Wed, 4 Jun 2014 17:50:46 +0100 ;\n",
    ] {
        let m = mail(FROM_LINE, &[AUTHOR, date].concat(), "Body.", CHANGE_F);
        let tip = assert_same_commit(&r, &m, &[], &[]);
        let when = r.git(&["log", "-1", "--format=%ad", "--date=raw", &tip]);
        assert!(when.starts_with("14019"), "{when}");
    }
}

/// `b4` from `$B4`, `.ci/venv` (which .ci/run fills), or PATH.
fn b4() -> Option<PathBuf> {
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/venv/bin/b4");
    let candidate = std::env::var_os("B4")
        .map(PathBuf::from)
        .or_else(|| local.is_file().then_some(local))
        .unwrap_or_else(|| PathBuf::from("b4"));
    support::require::require_tool(candidate.to_str()?).then_some(candidate)
}

fn reply(id: &str, from: &str, to: &str, refs: &str, trailer: &str) -> String {
    format!(
        "From foo@z Thu Jan  1 00:00:00 1970\n\
         From: {from}\n\
         Subject: Re: [PATCH 2/2] Second\n\
         Date: Tue, 30 Aug 2022 12:00:00 -0400\n\
         Message-Id: <{id}>\n\
         In-Reply-To: <{to}>\n\
         References: {refs}\n\
         \n\
         > Quoted.\n\
         \n\
         {trailer}\n\n"
    )
}

fn series_mail(n: usize, subject: &str, trailers: &str, file: &str) -> String {
    format!(
        "From foo@z Thu Jan  1 00:00:00 1970\n\
         From: Sub Mitter <sub@example.com>\n\
         Subject: [PATCH {n}/2] {subject}\n\
         Date: Tue, 30 Aug 2022 11:19:0{n} -0400\n\
         Message-Id: <p{n}@example.com>\n\
         In-Reply-To: <cover@example.com>\n\
         References: <cover@example.com>\n\
         \n\
         {subject} change.\n\
         \n\
         {trailers}\n\
         ---\n\
         diff --git a/{file} b/{file}\n\
         new file mode 100644\n\
         --- /dev/null\n\
         +++ b/{file}\n\
         @@ -0,0 +1 @@\n\
         +{file}\n\
         -- \n\
         2.43.0\n\n"
    )
}

/// The trailer lines of the paragraph after "Second change." in `text`.
fn trailers_of_second(text: &str) -> Vec<String> {
    let start = text.find("Second change.\n\n").expect("patch 2") + "Second change.\n\n".len();
    text[start..]
        .lines()
        .take_while(|l| !l.is_empty() && *l != "---")
        .map(str::to_owned)
        .collect()
}

/// (c) b4's order of the trailers it collects: the patch's own, then those of
/// replies to the patch, then those of replies to the cover letter, each in the
/// order the replies arrived, whatever their dates. b4 runs offline on the mbox
/// written here; our commit of patch 2/2 must carry the same lines.
#[test]
fn trailers_from_replies_come_in_b4_order() {
    let Some(b4) = b4() else { return };
    let r = project();
    let cover = "<cover@example.com>";
    let on_p2 = format!("{cover} <p2@example.com>");
    let mbox = [
        "From foo@z Thu Jan  1 00:00:00 1970\n\
         From: Sub Mitter <sub@example.com>\n\
         Subject: [PATCH 0/2] A series\n\
         Date: Tue, 30 Aug 2022 11:19:00 -0400\n\
         Message-Id: <cover@example.com>\n\
         \n\
         Cover letter.\n\n"
            .to_owned(),
        series_mail(
            1,
            "First",
            "Signed-off-by: Sub Mitter <sub@example.com>",
            "a.txt",
        ),
        series_mail(
            2,
            "Second",
            "Signed-off-by: Sub Mitter <sub@example.com>\n\
             Link: https://bugs.example.org/1\n\
             Closes: https://bugs.example.org/2",
            "b.txt",
        ),
        reply(
            "r1@x",
            "Cover Reviewer <rev@example.com>",
            "cover@example.com",
            cover,
            "Reviewed-by: Cover Reviewer <rev@example.com>",
        ),
        reply(
            "r2@x",
            "Tes Ter <tester@example.com>",
            "p2@example.com",
            &on_p2,
            "Tested-by: Tes Ter <tester@example.com>",
        ),
        reply(
            "r3@x",
            "Ac Ker <acker@example.com>",
            "cover@example.com",
            cover,
            "Acked-by: Ac Ker <acker@example.com>",
        ),
        reply(
            "r4@x",
            "Re Viewer <viewer@example.com>",
            "p2@example.com",
            &on_p2,
            "Reviewed-by: Re Viewer <viewer@example.com>",
        ),
    ]
    .concat();
    let path = r.scratch("thread.mbox");
    std::fs::write(&path, &mbox).unwrap();
    let out_dir = r.scratch("b4-out");
    let home = r.scratch("b4-home");
    std::fs::create_dir_all(&home).unwrap();
    let out = Command::new(&b4)
        .current_dir(&r.path)
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("XDG_DATA_HOME", home.join(".local"))
        .args(["--offline-mode", "am", "-m"])
        .arg(&path)
        .arg("-o")
        .arg(&out_dir)
        .arg("cover@example.com")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "b4 am: {}", stderr(&out));
    let am = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "mbx"))
        .expect("b4 wrote an .mbx");
    let theirs = trailers_of_second(&std::fs::read_to_string(am).unwrap());
    assert_eq!(
        theirs,
        [
            "Signed-off-by: Sub Mitter <sub@example.com>",
            "Link: https://bugs.example.org/1",
            "Closes: https://bugs.example.org/2",
            "Tested-by: Tes Ter <tester@example.com>",
            "Reviewed-by: Re Viewer <viewer@example.com>",
            "Reviewed-by: Cover Reviewer <rev@example.com>",
            "Acked-by: Ac Ker <acker@example.com>",
        ],
        "b4's order (the test's premise)"
    );
    let tip = ours(&r, mbox.as_bytes(), &[]).unwrap_or_else(|e| panic!("ours: {e}"));
    let message = r.git(&["log", "-1", "--format=%B", &tip]);
    assert_eq!(trailers_of_second(&message), theirs, "{message}");
}
