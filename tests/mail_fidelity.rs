//! Mail shapes other projects' suites use (git.git's t5100 mailinfo samples and t41xx
//! apply cases, patchwork's and b4's sample mails), written here or made by git at
//! test time, each applied both by `git am --keep-cr --empty=drop` (the oracle) and by
//! `git patchew apply`: the commit ids must be equal, and where git am refuses, we
//! refuse too, with a message naming the patch and no ref written.

use crate::support;

use std::path::PathBuf;
use std::process::Output;

use support::git::{stderr, TestRepo};

const AM: &[&str] = &["--keep-cr", "--empty=drop"];

/// What `git am` (in a fresh clone, detached at `base`) made of `mbox`: the new
/// commits, oldest first, or its error output.
fn git_am(r: &TestRepo, base: &str, mbox: &[u8], am_args: &[&str]) -> Result<Vec<String>, String> {
    let name = format!("am-{}", unique());
    let mbox_path = write_mbox(r, mbox);
    let dir = r.clone_to(&name, &[]);
    r.git_in(&dir, &["checkout", "-q", "--detach", base]);
    let out = r
        .command("git", &dir)
        .arg("am")
        .args(am_args)
        .arg(&mbox_path)
        .output()
        .expect("git am runs");
    if !out.status.success() {
        return Err(format!("{}{}", support::git::stdout(&out), stderr(&out)));
    }
    Ok(
        r.git_in(&dir, &["rev-list", "--reverse", &format!("{base}..HEAD")])
            .lines()
            .map(str::to_owned)
            .collect(),
    )
}

/// `git patchew apply --mbox` in a fresh bare clone; returns the clone and the output.
fn patchew(r: &TestRepo, base: &str, mbox: &[u8], extra: &[&str]) -> (PathBuf, Output) {
    let mbox_path = write_mbox(r, mbox);
    let bare = r.clone_to(&format!("bare-{}.git", unique()), &["--bare"]);
    let mut args = vec![
        "apply",
        "--mbox",
        mbox_path.to_str().unwrap(),
        "--base",
        base,
        "--no-ci",
        "--json",
    ];
    args.extend_from_slice(extra);
    let out = r.patchew(&bare, &args);
    (bare, out)
}

/// Our new commits (dropped patches left out), after checking that the run worked.
fn our_commits(r: &TestRepo, bare: &std::path::Path, out: &Output) -> Vec<String> {
    assert!(
        out.status.success(),
        "git patchew apply failed: {}",
        stderr(out)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    r.git_in(bare, &["fsck", "--strict", "--no-dangling"]);
    report["commits"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["commit"].as_str().map(str::to_owned))
        .collect()
}

/// Both ways must give the same commits; returns them and our clone.
fn same_as_git_am(r: &TestRepo, base: &str, mbox: &[u8], extra: &[&str]) -> (Vec<String>, PathBuf) {
    let am = git_am(r, base, mbox, AM).unwrap_or_else(|e| panic!("git am failed: {e}"));
    let (bare, out) = patchew(r, base, mbox, extra);
    let ours = our_commits(r, &bare, &out);
    assert_eq!(ours, am, "commit ids differ from git am's");
    (ours, bare)
}

/// git am refuses `mbox`; so must we, with exit `code`, a message containing
/// `naming`, and no tag or branch written.
fn refused_like_git_am(r: &TestRepo, base: &str, mbox: &[u8], code: i32, naming: &str) -> String {
    let am = git_am(r, base, mbox, AM);
    assert!(am.is_err(), "git am accepted it: {am:?}");
    let (bare, out) = patchew(r, base, mbox, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert!(err.contains(naming), "{naming:?} not in: {err}");
    assert_eq!(r.git_in(&bare, &["tag", "-l", "patchew/*"]), "");
    err
}

fn write_mbox(r: &TestRepo, mbox: &[u8]) -> PathBuf {
    let path = r.scratch(&format!("mail-{}.mbox", unique()));
    std::fs::write(&path, mbox).unwrap();
    path
}

fn unique() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn replace_all(haystack: &[u8], from: &str, to: &str) -> Vec<u8> {
    let s = String::from_utf8(haystack.to_vec()).expect("utf-8 mail");
    assert!(s.contains(from), "{from:?} not in the mail");
    s.replace(from, to).into_bytes()
}

/// base, then two commits with bodies; returns (base, tip).
fn two_commits(r: &TestRepo) -> (String, String) {
    r.write("a.txt", "one\ntwo\nthree\n");
    r.write("b.txt", "alpha\n");
    let base = r.commit("base");
    r.write("a.txt", "one\n2\nthree\n");
    r.git(&["add", "-A"]);
    r.git(&[
        "commit",
        "-q",
        "-m",
        "first change\n\nWhy the first change.\n\nSigned-off-by: A U Thor <author@example.com>",
    ]);
    r.write("b.txt", "alpha\nbeta\n");
    r.git(&["add", "-A"]);
    r.git(&["commit", "-q", "-m", "second change\n\nWhy the second."]);
    (base, r.git(&["rev-parse", "HEAD"]))
}

// Item 1: a multipart mail whose first boundary follows the blank line directly.
#[test]
fn multipart_attachment_without_preamble_keeps_its_first_part() {
    let r = TestRepo::new();
    let (base, tip) = two_commits(&r);
    let mbox = r.git_bytes(&[
        "format-patch",
        "--attach",
        "--stdout",
        &format!("{base}..{tip}"),
    ]);
    let mbox = replace_all(&mbox, "This is a multi-part message in MIME format.\n", "");
    let (ours, bare) = same_as_git_am(&r, &base, &mbox, &[]);
    assert_eq!(ours.len(), 2);
    let message = r.git_in(&bare, &["log", "-1", "--format=%B", &ours[0]]);
    assert!(message.contains("Why the first change."), "{message}");
}

/// A mail client's multipart/alternative: the patch inline in the text part, an HTML
/// copy after it, no preamble.
fn alternative_mail(subject: &str, text_part: &str) -> String {
    format!(
        "From: A U Thor <author@example.com>\nDate: Tue, 14 Nov 2023 22:13:20 +0000\n\
         Subject: {subject}\nMessage-Id: <alt-{n}@example.com>\nMIME-Version: 1.0\n\
         Content-Type: multipart/alternative; boundary=\"=-=alt=-=\"\n\n\
         --=-=alt=-=\nContent-Type: text/plain; charset=utf-8\n\n{text_part}\n\
         --=-=alt=-=\nContent-Type: text/html; charset=utf-8\n\n\
         <html><body><p>HTML copy of the message</p></body></html>\n\
         --=-=alt=-=--\n",
        n = unique()
    )
}

#[test]
fn multipart_alternative_without_preamble_applies_its_text_part() {
    let r = TestRepo::new();
    let (base, tip) = two_commits(&r);
    let patches =
        String::from_utf8(r.git_bytes(&["format-patch", "--stdout", &format!("{base}..{tip}")]))
            .unwrap();
    // The body of each format-patch mail (after the first blank line), as a text part.
    let mut mbox = String::new();
    for (i, mail) in patches.split("\nFrom ").enumerate() {
        let body = mail.split_once("\n\n").unwrap().1;
        let subject = format!(
            "[PATCH {}/2] {}",
            i + 1,
            if i == 0 {
                "first change"
            } else {
                "second change"
            }
        );
        mbox.push_str("From nobody Mon Sep 17 00:00:00 2001\n");
        mbox.push_str(&alternative_mail(&subject, body));
    }
    let (ours, _) = same_as_git_am(&r, &base, mbox.as_bytes(), &[]);
    assert_eq!(ours.len(), 2, "both patches applied");
}

// Item 2: a patch part with no diff we can parse is an error, as in git am.
#[test]
fn patch_without_a_valid_diff_is_refused_naming_it() {
    let r = TestRepo::new();
    let (base, tip) = two_commits(&r);
    let mbox = r.git_bytes(&[
        "format-patch",
        "--thread",
        "--stdout",
        &format!("{base}..{tip}"),
    ]);
    // Mangle the second patch's diff so that nothing in it parses as a diff.
    let s = String::from_utf8(mbox).unwrap();
    let (first, second) = s.split_at(s.find("\nFrom ").unwrap() + 1);
    let mangled: String = second
        .lines()
        .map(|l| {
            if l.starts_with("diff --git")
                || l.starts_with("--- a/")
                || l.starts_with("+++ b/")
                || l.starts_with("@@")
                || l.starts_with("index ")
            {
                format!(">{l}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let mbox = format!("{first}{mangled}");
    refused_like_git_am(&r, &base, mbox.as_bytes(), 2, "second change");
}

#[test]
fn empty_commit_is_dropped_like_git_am_empty_drop() {
    let r = TestRepo::new();
    let (base, _) = two_commits(&r);
    r.git(&["commit", "-q", "--allow-empty", "-m", "nothing here"]);
    r.write("a.txt", "last\n");
    let tip = r.commit("after the empty one");
    let mbox = r.git_bytes(&[
        "format-patch",
        "--stdout",
        "--always",
        &format!("{base}..{tip}"),
    ]);
    let (ours, _) = same_as_git_am(&r, &base, &mbox, &[]);
    assert_eq!(ours.len(), 3, "the empty commit is dropped");
}

// Item 3: submodules (gitlinks) added, updated and removed.
#[test]
fn gitlink_add_update_remove_series() {
    let r = TestRepo::new();
    r.write("a.txt", "a\n");
    let base = r.commit("base");
    let target1 = r.commit("first submodule target");
    let target2 = r.commit("second submodule target");
    r.git(&["reset", "-q", "--hard", &base]);
    r.write(
        ".gitmodules",
        "[submodule \"sub\"]\n\tpath = sub\n\turl = ../sub.git\n",
    );
    r.git(&["add", ".gitmodules"]);
    r.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{target1},sub"),
    ]);
    r.git(&["commit", "-q", "-m", "add a submodule"]);
    r.git(&[
        "update-index",
        "--cacheinfo",
        &format!("160000,{target2},sub"),
    ]);
    r.write("a.txt", "a\nb\n");
    r.git(&["add", "a.txt"]);
    r.git(&["commit", "-q", "-m", "update the submodule"]);
    r.git(&["update-index", "--force-remove", "sub"]);
    r.git(&["rm", "-q", "--cached", ".gitmodules"]);
    r.git(&["commit", "-q", "-m", "remove the submodule"]);
    let tip = r.git(&["rev-parse", "HEAD"]);
    let mbox = r.git_bytes(&["format-patch", "--stdout", &format!("{base}..{tip}")]);
    let (ours, bare) = same_as_git_am(&r, &base, &mbox, &[]);
    assert_eq!(ours.len(), 3);
    let added = r.git_in(&bare, &["ls-tree", &ours[0], "sub"]);
    assert_eq!(added, format!("160000 commit {target1}\tsub"));
    let updated = r.git_in(&bare, &["ls-tree", &ours[1], "sub"]);
    assert_eq!(updated, format!("160000 commit {target2}\tsub"));
    assert_eq!(r.git_in(&bare, &["ls-tree", &ours[2], "sub"]), "");
}

/// The first patch of [`two_commits`] as one mail, made by git.
fn first_patch_mail(r: &TestRepo) -> String {
    let mail =
        String::from_utf8(r.git_bytes(&["format-patch", "--stdout", "-1", "HEAD~1"])).unwrap();
    assert_eq!(mail.matches("\nFrom: ").count(), 1);
    mail
}

// Item 4: a patch mailed as a reply.
#[test]
fn patch_sent_as_a_reply_is_applied() {
    let r = TestRepo::new();
    let (base, _) = two_commits(&r);
    let mail = first_patch_mail(&r);
    let mail = mail.replacen(
        "Subject: [PATCH] first change",
        "Message-Id: <reply@example.com>\nIn-Reply-To: <question@example.com>\nSubject: Re: [PATCH] first change",
        1,
    );
    assert!(mail.contains("Subject: Re: [PATCH]"));
    let (ours, _) = same_as_git_am(&r, &base, mail.as_bytes(), &[]);
    assert_eq!(ours.len(), 1);
}

#[test]
fn inbody_subject_in_a_reply_is_applied() {
    let r = TestRepo::new();
    let (base, _) = two_commits(&r);
    let mail = first_patch_mail(&r);
    let (head, body) = mail.split_once("\n\n").unwrap();
    let head = head.replacen(
        "Subject: [PATCH] first change",
        "Subject: Re: what about the first line?",
        1,
    );
    let mail = format!("{head}\n\nSubject: [PATCH] first line, really\nDate: Wed, 1 Nov 2023 10:00:00 +0100\n\n{body}");
    let (ours, bare) = same_as_git_am(&r, &base, mail.as_bytes(), &[]);
    assert_eq!(
        r.git_in(&bare, &["log", "-1", "--format=%s", &ours[0]]),
        "first line, really"
    );
}

/// `mail` with its body base64-encoded after turning every line end into CRLF, as
/// some mail clients send it.
fn base64_crlf(mail: &str) -> String {
    let (head, body) = mail.split_once("\n\n").unwrap();
    let crlf = body.replace('\n', "\r\n");
    let head = head.replacen(
        "Subject:",
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\nSubject:",
        1,
    );
    format!("{head}\n\n{}", base64(crlf.as_bytes()))
}

fn base64(data: &[u8]) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for (i, chunk) in data.chunks(3).enumerate() {
        if i > 0 && i % 19 == 0 {
            out.push('\n');
        }
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            out.push(if k <= chunk.len() {
                ABC[(n >> (18 - 6 * k) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out.push('\n');
    out
}

// Item 6: a base64 body whose lines all end in CRLF (quoted CR).
#[test]
fn quoted_cr_mail_gives_git_am_quoted_cr_strip_commits() {
    let r = TestRepo::new();
    let (base, tip) = two_commits(&r);
    let mbox =
        String::from_utf8(r.git_bytes(&["format-patch", "--stdout", &format!("{base}..{tip}")]))
            .unwrap();
    let encoded: String = mbox
        .split("\nFrom ")
        .enumerate()
        .map(|(i, m)| {
            base64_crlf(&if i == 0 {
                m.to_owned()
            } else {
                format!("From {m}")
            })
        })
        .collect();
    let am = git_am(
        &r,
        &base,
        encoded.as_bytes(),
        &["--keep-cr", "--empty=drop", "--quoted-cr=strip"],
    )
    .unwrap();
    assert_eq!(am.len(), 2);
    // git am's own default (warn) keeps the CRs and fails.
    assert!(git_am(&r, &base, encoded.as_bytes(), AM).is_err());
    let (bare, out) = patchew(&r, &base, encoded.as_bytes(), &[]);
    assert_eq!(
        our_commits(&r, &bare, &out),
        am,
        "default: the transport's CRs go"
    );
    assert!(
        stderr(&out).contains("quoted CRLF detected and stripped"),
        "{}",
        stderr(&out)
    );
    let (bare, out) = patchew(&r, &base, encoded.as_bytes(), &["--quoted-cr=strip"]);
    assert_eq!(our_commits(&r, &bare, &out), am);
}

#[test]
fn quoted_cr_warn_keeps_the_crs_yet_lf_files_stay_lf() {
    let r = TestRepo::new();
    let (base, _) = two_commits(&r);
    let mail = base64_crlf(&first_patch_mail(&r));
    // git am keeps the CRs (its default, warn) and then fails on "a.txt\r"'s hunks.
    assert!(git_am(&r, &base, mail.as_bytes(), AM).is_err());
    let strip = ["--keep-cr", "--empty=drop", "--quoted-cr=strip"];
    let am = git_am(&r, &base, mail.as_bytes(), &strip).unwrap();
    // We keep them too, but never in a path, and the hunks' CR-tolerant match gives
    // the LF file LF lines: the commit git am --quoted-cr=strip makes, with warnings.
    let (bare, out) = patchew(&r, &base, mail.as_bytes(), &["--quoted-cr=warn"]);
    let err = stderr(&out);
    assert_eq!(our_commits(&r, &bare, &out), am, "{err}");
    assert!(err.contains("quoted CRLF detected (lines"), "{err}");
    let (_, out) = patchew(&r, &base, mail.as_bytes(), &["--quoted-cr=bogus"]);
    assert_eq!(out.status.code(), Some(2));
}

/// A mail carrying `diff` as its patch, written the way people (not git) write them.
fn mail_with_diff(subject: &str, diff: &str) -> String {
    format!(
        "From nobody Mon Sep 17 00:00:00 2001\nFrom: A U Thor <author@example.com>\n\
         Date: Tue, 14 Nov 2023 22:13:20 +0000\nSubject: [PATCH] {subject}\n\n\
         Explain {subject}.\n---\n{diff}"
    )
}

/// A base with files whose names need care; returns its commit.
fn awkward_names(r: &TestRepo) -> String {
    r.write("file.c", "one\ntwo\nthree\n");
    r.write("src/deep.c", "alpha\nbeta\ngamma\n");
    r.write("with space.txt", "x\ny\nz\n");
    r.write("tab\tname.txt", "p\nq\nr\n");
    r.commit("base")
}

// Item 5: traditional diffs, as diff -u and svn/cvs write them.
#[test]
fn traditional_diffs_apply_as_git_am_applies_them() {
    let r = TestRepo::new();
    let base = awkward_names(&r);
    let cases = [
        (
            "orig suffix without prefixes",
            "--- file.c.orig\t2023-11-14 10:00:00.000000000 +0100\n+++ file.c\t2023-11-14 10:01:00.000000000 +0100\n@@ -1,3 +1,3 @@\n one\n-two\n+2\n three\n",
        ),
        (
            "svn Index diff",
            "Index: file.c\n===================================================================\n--- file.c\t(revision 12)\n+++ file.c\t(working copy)\n@@ -1,3 +1,3 @@\n one\n two\n-three\n+3\n",
        ),
        (
            "a/b prefixes with a timestamp after spaces",
            "--- a/src/deep.c   2023-11-14 10:00:00.000000000 +0100\n+++ b/src/deep.c   2023-11-14 10:01:00.000000000 +0100\n@@ -1,3 +1,3 @@\n alpha\n-beta\n+BETA\n gamma\n",
        ),
        (
            "space in a name with a timestamp",
            "--- a/with space.txt\t2023-11-14 10:00:00 +0100\n+++ b/with space.txt\t2023-11-14 10:01:00 +0100\n@@ -1,3 +1,3 @@\n x\n-y\n+Y\n z\n",
        ),
        (
            "tab in a name with a timestamp",
            "--- a/tab\tname.txt\t2023-11-14 10:00:00.000000000 +0100\n+++ b/tab\tname.txt\t2023-11-14 10:01:00.000000000 +0100\n@@ -1,3 +1,3 @@\n p\n-q\n+Q\n r\n",
        ),
        (
            "traditional creation",
            "--- /dev/null\n+++ b/created.txt\n@@ -0,0 +1,2 @@\n+one\n+two\n",
        ),
        (
            "traditional deletion",
            "--- a/src/deep.c\n+++ /dev/null\n@@ -1,3 +0,0 @@\n-alpha\n-beta\n-gamma\n",
        ),
        (
            "cvs diff with dates after tabs",
            "Index: file.c\n===================================================================\nRCS file: /cvs/file.c,v\nretrieving revision 1.1\ndiff -u -r1.1 file.c\n--- file.c\t14 Nov 2023 10:00:00 -0000\t1.1\n+++ file.c\t14 Nov 2023 10:01:00 -0000\n@@ -1,3 +1,3 @@\n-one\n+1\n two\n three\n",
        ),
        (
            "diff -ruN creation with an epoch date",
            "diff -ruN a/new.c b/new.c\n--- a/new.c\t1970-01-01 00:00:00.000000000 +0000\n+++ b/new.c\t2023-11-14 10:00:00.000000000 +0100\n@@ -0,0 +1 @@\n+fresh\n",
        ),
        (
            "empty top-level file with a space",
            "diff --git a/empty file b/empty file\nnew file mode 100644\nindex 0000000..e69de29\n",
        ),
        (
            "empty new file under a name with a space",
            "diff --git a/new dir/empty file b/new dir/empty file\nnew file mode 100644\nindex 0000000..e69de29\n",
        ),
    ];
    let mut differ = Vec::new();
    for (subject, diff) in cases {
        let mail = mail_with_diff(subject, diff);
        let am = git_am(&r, &base, mail.as_bytes(), AM)
            .unwrap_or_else(|e| panic!("{subject}: git am failed: {e}"));
        assert_eq!(am.len(), 1, "{subject}");
        let (bare, out) = patchew(&r, &base, mail.as_bytes(), &[]);
        if !out.status.success() {
            differ.push(format!("{subject}: {}", stderr(&out)));
        } else if our_commits(&r, &bare, &out) != am {
            differ.push(format!("{subject}: other commit than git am's"));
        }
    }
    assert!(differ.is_empty(), "{differ:#?}");
}

// Item 7: where git refuses, we refuse.
#[test]
fn removal_patch_without_hunks_of_a_non_empty_file_is_refused() {
    let r = TestRepo::new();
    let (base, _) = two_commits(&r);
    let blob = r.git(&["rev-parse", &format!("{base}:a.txt")]);
    let diff = format!(
        "diff --git a/a.txt b/a.txt\ndeleted file mode 100644\nindex {}..0000000\n",
        &blob[..7]
    );
    let mail = mail_with_diff("drop a.txt", &diff);
    let err = refused_like_git_am(
        &r,
        &base,
        mail.as_bytes(),
        1,
        "removal patch leaves file contents",
    );
    assert!(err.contains("a.txt"), "{err}");
    // An empty file deleted the same way is fine for both.
    r.write("empty", "");
    let base2 = r.commit("an empty file");
    let mail = mail_with_diff(
        "drop empty",
        "diff --git a/empty b/empty\ndeleted file mode 100644\nindex e69de29..0000000\n",
    );
    same_as_git_am(&r, &base2, mail.as_bytes(), &[]);
}

#[test]
fn bogus_date_is_refused_and_a_zoneless_one_is_not() {
    let r = TestRepo::new();
    let (base, _) = two_commits(&r);
    let mail = first_patch_mail(&r);
    let date_line = mail
        .lines()
        .find(|l| l.starts_with("Date: "))
        .unwrap()
        .to_owned();
    let bogus = mail.replacen(&date_line, "Date: bogus", 1);
    let err = refused_like_git_am(&r, &base, bogus.as_bytes(), 2, "invalid date format: bogus");
    assert!(err.contains("first change"), "{err}");
    let zoneless = mail.replacen(&date_line, "Date: Tue, 14 Nov 2023 22:13:20", 1);
    // TZ=UTC here, so git's local zone and our UTC agree.
    same_as_git_am(&r, &base, zoneless.as_bytes(), &[]);
}

// Item 8: a --full-index binary diff without data, whose result blob is here.
#[test]
fn full_index_binary_without_data_uses_the_postimage_blob_we_have() {
    let r = TestRepo::new();
    r.write("logo.bin", b"\x00\x01\x02binary\xff".as_slice());
    let base = r.commit("base");
    r.write("logo.bin", b"\x00\x01\x02changed binary\xfe".as_slice());
    r.write("new.bin", b"\x00fresh\x01".as_slice());
    let tip = r.commit("binary change");
    let mbox = r.git_bytes(&[
        "format-patch",
        "--stdout",
        "--full-index",
        "--no-binary",
        &format!("{base}..{tip}"),
    ]);
    assert!(
        String::from_utf8_lossy(&mbox).contains("Binary files a/logo.bin and b/logo.bin differ")
    );
    let (ours, bare) = same_as_git_am(&r, &base, &mbox, &[]);
    assert_eq!(
        r.git_in(&bare, &["rev-parse", &format!("{}^{{tree}}", ours[0])]),
        r.git(&["rev-parse", &format!("{tip}^{{tree}}")])
    );
}

// --scissors: git.git's "-- >8 --" workflow, in a reply.
#[test]
fn scissors_cut_the_chatter_like_git_am_scissors() {
    let r = TestRepo::new();
    let (base, _) = two_commits(&r);
    let mail = first_patch_mail(&r);
    let (head, body) = mail.split_once("\n\n").unwrap();
    let head = head.replacen(
        "Subject: [PATCH] first change",
        "Subject: Re: [PATCH] first change",
        1,
    );
    let mail = format!(
        "{head}\n\nYou are right, how about this?\n\n-- >8 --\nSubject: [PATCH] first change, the real one\n\n{body}"
    );
    let cut = ["--keep-cr", "--empty=drop", "--scissors"];
    let am = git_am(&r, &base, mail.as_bytes(), &cut).unwrap();
    let (bare, out) = patchew(&r, &base, mail.as_bytes(), &["--scissors"]);
    let ours = our_commits(&r, &bare, &out);
    assert_eq!(ours, am);
    let subject = r.git_in(&bare, &["log", "-1", "--format=%s", &ours[0]]);
    assert_eq!(subject, "first change, the real one");
    // Without it, both keep the chatter.
    same_as_git_am(&r, &base, mail.as_bytes(), &[]);
}

/// `mbox` as public-inbox serves a thread (`t.mbox.gz`, unzipped): its own From_
/// line before each message, and mboxrd quoting of `>*From ` body lines.
fn as_public_inbox(mbox: &str) -> String {
    let mut out = String::new();
    let mut in_body = false;
    for line in mbox.split_inclusive('\n') {
        if git_patchew::input::mbox::is_from_line(line.as_bytes()) {
            out.push_str("From mboxrd@z Thu Jan  1 00:00:00 1970\n");
            in_body = false;
            continue;
        }
        if line == "\n" {
            in_body = true;
        }
        if in_body && line.trim_start_matches('>').starts_with("From ") {
            out.push('>');
        }
        out.push_str(line);
    }
    out
}

#[test]
fn public_inbox_mboxrd_is_unquoted() {
    let r = TestRepo::new();
    r.write("a.txt", "a\n");
    let base = r.commit("base");
    r.write("a.txt", "b\n");
    r.git(&["add", "-A"]);
    r.git(&["commit", "-q", "-m", "quoting\n\nFrom the start, this line looks like a From_ line.\n>From here it was quoted already.\n"]);
    r.write("a.txt", "c\n");
    r.git(&["add", "-A"]);
    r.git(&["commit", "-q", "-m", "second\n\nFrom 1999 on.\n"]);
    let tip = r.git(&["rev-parse", "HEAD"]);
    let mbox = String::from_utf8(r.git_bytes(&[
        "format-patch",
        "--stdout",
        "--thread",
        &format!("{base}..{tip}"),
    ]))
    .unwrap();
    let inbox = as_public_inbox(&mbox);
    assert!(
        inbox.contains("\n>From the start") && inbox.contains("\n>>From here"),
        "{inbox}"
    );
    let rd = ["--keep-cr", "--empty=drop", "--patch-format=mboxrd"];
    let am = git_am(&r, &base, inbox.as_bytes(), &rd).unwrap();
    assert_eq!(am.len(), 2);
    let (bare, out) = patchew(&r, &base, inbox.as_bytes(), &[]);
    let ours = our_commits(&r, &bare, &out);
    assert_eq!(ours, am);
    // And they are the very commits the patches were made from, message included.
    assert_eq!(
        r.git_in(&bare, &["log", "-1", "--format=%B", &ours[0]]),
        r.git(&["log", "-1", "--format=%B", &format!("{tip}~1")])
    );
}

// Item 2, where we are stricter than git am: a mail whose diff does not start a line
// (an HTML-only mail) has no patch part for mailinfo; git am drops it as empty.
#[test]
fn html_only_patch_is_an_error_not_an_empty_patch() {
    let r = TestRepo::new();
    let (base, _) = two_commits(&r);
    let mail = first_patch_mail(&r);
    let (head, body) = mail.split_once("\n\n").unwrap();
    let lines: String = body.lines().map(|l| format!("<div>{l}</div>\n")).collect();
    let html = format!(
        "{head}\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n<html><body>\n{lines}</body></html>\n"
    );
    let am = git_am(&r, &base, html.as_bytes(), AM).expect("git am drops it and succeeds");
    assert!(am.is_empty(), "git am applied {am:?}");
    let (_, out) = patchew(&r, &base, html.as_bytes(), &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("first change") && err.contains("looks like a patch"),
        "{err}"
    );
}

// A PGP/MIME-signed mail (multipart/signed around multipart/mixed, message and
// attached patch, then the signature), no preamble at any level.
#[test]
fn signed_nested_multipart_without_preambles() {
    let r = TestRepo::new();
    let (base, _) = two_commits(&r);
    let mail = first_patch_mail(&r);
    let (head, body) = mail.split_once("\n\n").unwrap();
    let (message, diff) = body.split_once("\ndiff --git").unwrap();
    let signed = format!(
        "{head}\nMIME-Version: 1.0\n\
         Content-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; boundary=\"SIG\"\n\n\
         --SIG\nContent-Type: multipart/mixed; boundary=\"MIX\"\n\n\
         --MIX\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n{message}\n\
         --MIX\nContent-Type: text/x-patch; charset=utf-8; name=\"fix.patch\"\nContent-Disposition: attachment; filename=\"fix.patch\"\n\n\
         diff --git{diff}\n--MIX--\n\n\
         --SIG\nContent-Type: application/pgp-signature; name=\"signature.asc\"\n\n\
         -----BEGIN PGP SIGNATURE-----\n\niQEzBAEBCAAdFiEE\n=AbCd\n-----END PGP SIGNATURE-----\n--SIG--\n"
    );
    let (ours, bare) = same_as_git_am(&r, &base, signed.as_bytes(), &[]);
    assert_eq!(ours.len(), 1);
    let text = r.git_in(&bare, &["log", "-1", "--format=%B", &ours[0]]);
    assert!(text.contains("Why the first change."), "{text}");
}
