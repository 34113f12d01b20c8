//! C git as the oracle for `mbox` + `mail` + `mailinfo`: for mails made by
//! `git format-patch` (and some written by hand), what `git am` commits (author, date,
//! message) and the patch `git mailinfo` extracts must equal ours.

use crate::support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use git_patchew::input::mail;
use git_patchew::input::mailinfo::{self, MailInfo};
use git_patchew::input::mbox;

fn git(dir: &Path, args: &[&str]) -> Vec<u8> {
    git_in(dir, args, None).expect("git failed")
}

/// Runs git with a fixed identity and clean config; `Err(stderr)` on failure.
fn git_in(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Result<Vec<u8>, String> {
    let mut child = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_COMMITTER_NAME", "Committer")
        .env("GIT_COMMITTER_EMAIL", "committer@example.org")
        .env("GIT_COMMITTER_DATE", "1700000000 +0000")
        .env("GIT_AUTHOR_NAME", "Default Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.org")
        .env("LC_ALL", "C")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run git");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.unwrap_or_default())
        .expect("write stdin");
    drop(input);
    let out = child.wait_with_output().expect("git output");
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

struct Commit<'a> {
    author: &'a str,
    date: &'a str,
    message: &'a str,
}

const COMMITS: &[Commit] = &[
    Commit { author: "A U Thor <author@example.com>", date: "1112911993 -0700", message: "Subject only" },
    Commit {
        author: "A U Thor <author@example.com>",
        date: "1112912053 +0200",
        message: "Body with blank lines\n\nFirst paragraph.\n\n\nSecond paragraph,\nwrapped.\n\nSigned-off-by: A U Thor <author@example.com>\nReviewed-by: Some One <one@example.net>",
    },
    Commit {
        author: "Jöhn Dœ <john@example.com>",
        date: "1300000000 +0530",
        message: "Ünïcödé subject with — dashes\n\nBody in UTF-8: naïve café.",
    },
    Commit {
        author: "Bracket Person <b@example.com>",
        date: "1400000000 -0000",
        message: "net: fix [CVE-2024-1] handling of [foo] arrays\n\nBody.",
    },
    Commit {
        author: "\"Doe, Jane\" <jane@example.com>",
        date: "1500000000 +0100",
        message: "From line in body\n\nFrom the start this matters.\nFrom here, at 10:30 on 2024-01-01, it splits nothing.\nEnd.",
    },
    Commit {
        author: "Long Subject <long@example.com>",
        date: "1600000000 +0000",
        message: "A very long subject line that format-patch will fold because it is much longer than seventy-eight characters wide",
    },
    Commit {
        author: "Re Person <re@example.com>",
        date: "1600000100 +0000",
        message: "Re: leading re: kept? and trailing spaces   \n\n    indented body line\n\ttab line\t\n",
    },
];

/// A repository with one commit per entry of [`COMMITS`], each changing its own file.
fn build_repo(dir: &Path) -> Vec<String> {
    git(dir, &["init", "-q", "-b", "main"]);
    std::fs::write(dir.join("base.txt"), "base\n").unwrap();
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "base"]);
    let mut ids = Vec::new();
    for (i, c) in COMMITS.iter().enumerate() {
        std::fs::write(
            dir.join(format!("f{i}.txt")),
            format!("content {i}\ncafé\n"),
        )
        .unwrap();
        git(dir, &["add", "."]);
        let out = Command::new("git")
            .current_dir(dir)
            .args(["commit", "-q", "--cleanup=verbatim", "-F", "-"])
            .args(["--author", c.author, "--date", c.date])
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_COMMITTER_NAME", "Committer")
            .env("GIT_COMMITTER_EMAIL", "committer@example.org")
            .stdin(Stdio::piped())
            .spawn()
            .and_then(|mut ch| {
                ch.stdin.take().unwrap().write_all(c.message.as_bytes())?;
                ch.wait()
            })
            .unwrap();
        assert!(out.success());
        ids.push(
            String::from_utf8(git(dir, &["rev-parse", "HEAD"]))
                .unwrap()
                .trim()
                .to_owned(),
        );
    }
    ids
}

/// What git am made of one mail: author name, email, date (epoch and offset),
/// commit message.
#[derive(Debug, PartialEq)]
struct Applied {
    name: String,
    email: String,
    date: String,
    message: String,
}

fn git_am(repo: &Path, parent: &str, mail: &[u8]) -> Result<Applied, String> {
    git(repo, &["checkout", "-q", "-f", "--detach", parent]);
    let _ = git_in(repo, &["am", "--abort"], None);
    git_in(repo, &["am", "-q"], Some(mail))?;
    let out = git(
        repo,
        &[
            "log",
            "-1",
            "--date=raw",
            "--format=%an%x00%ae%x00%ad%x00%B",
        ],
    );
    let out = String::from_utf8(out).expect("utf-8 log");
    let mut f = out.splitn(4, '\0');
    let mut next = || f.next().unwrap_or_default().to_owned();
    let (name, email, date) = (next(), next(), next());
    // %B adds one newline after the message.
    let message = next()
        .strip_suffix('\n')
        .map(str::to_owned)
        .unwrap_or_default();
    Ok(Applied {
        name,
        email,
        date,
        message,
    })
}

/// `git mailinfo` on one message: (info text, log message, patch, success).
fn git_mailinfo(scratch: &Path, mail: &[u8]) -> (String, Vec<u8>, Vec<u8>, bool) {
    let (msg, patch) = (scratch.join("mi-msg"), scratch.join("mi-patch"));
    let args = ["mailinfo", msg.to_str().unwrap(), patch.to_str().unwrap()];
    // mailinfo exits 1 on conversion errors but still writes everything.
    let info = Command::new("git")
        .args(args)
        .current_dir(scratch)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .and_then(|mut ch| {
            ch.stdin.take().unwrap().write_all(mail)?;
            ch.wait_with_output()
        })
        .unwrap();
    (
        String::from_utf8_lossy(&info.stdout).into_owned(),
        std::fs::read(msg).unwrap_or_default(),
        std::fs::read(patch).unwrap_or_default(),
        info.status.success(),
    )
}

fn ours(mail: &[u8]) -> MailInfo {
    let parsed = mail::parse(mail).expect("mail parses");
    mailinfo::mailinfo(&parsed)
}

fn our_date(info: &MailInfo) -> String {
    let raw = info.date.as_deref().expect("date");
    let t = gix::date::parse(raw, None).expect("date parses");
    let off = t.offset;
    let sign = if off < 0 { '-' } else { '+' };
    let off = off.abs();
    format!(
        "{} {sign}{:02}{:02}",
        t.seconds,
        off / 3600,
        off % 3600 / 60
    )
}

/// Compares ours with git am and git mailinfo for every message of an mbox.
fn check_mbox(repo: &Path, scratch: &Path, parent: &str, mbox_bytes: &[u8], what: &str) {
    let messages = mbox::split(mbox_bytes).expect("split");
    for (i, msg) in messages.iter().enumerate() {
        check_message(repo, scratch, parent, msg, &format!("{what} #{i}"));
    }
}

fn check_message(repo: &Path, scratch: &Path, parent: &str, msg: &[u8], what: &str) {
    let info = ours(msg);
    let (_, _, git_patch, _) = git_mailinfo(scratch, msg);
    assert_eq!(
        String::from_utf8_lossy(&info.patch),
        String::from_utf8_lossy(&git_patch),
        "{what}: patch text"
    );
    let applied = git_am(repo, parent, msg).unwrap_or_else(|e| panic!("{what}: git am: {e}"));
    let author = info.author.clone().expect("author");
    let mine = Applied {
        name: author.name,
        email: author.email,
        date: our_date(&info),
        message: info.commit_message(),
    };
    assert_eq!(mine, applied, "{what}");
}

fn format_patch(repo: &Path, out: &Path, args: &[&str]) -> Vec<PathBuf> {
    let _ = std::fs::remove_dir_all(out);
    let mut all = vec!["format-patch", "-q", "-o", out.to_str().unwrap()];
    all.extend_from_slice(args);
    git(repo, &all);
    let mut files: Vec<_> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn format_patch_mails_match_git_am() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let ids = build_repo(&repo);
    let scratch = tmp.path();
    let variants: &[&[&str]] = &[
        &[],
        &["--attach"],
        &["--inline"],
        &["--subject-prefix=PATCH v3"],
        &["--rfc"],
        &["-k"],
        &["--encode-email-headers"],
    ];
    for variant in variants {
        for (i, id) in ids.iter().enumerate() {
            let parent = format!("{id}~1");
            let mut args = variant.to_vec();
            args.extend(["-1", id.as_str()]);
            for file in format_patch(&repo, &scratch.join("out"), &args) {
                let bytes = std::fs::read(&file).unwrap();
                check_mbox(
                    &repo,
                    scratch,
                    &parent,
                    &bytes,
                    &format!("{variant:?} commit {i}"),
                );
            }
        }
    }
}

#[test]
fn numbered_series_with_cover_letter_matches_git_am() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let ids = build_repo(&repo);
    let scratch = tmp.path();
    let series = git(
        &repo,
        &[
            "format-patch",
            "-n",
            "--cover-letter",
            "--thread",
            "--stdout",
            "main~3..main",
        ],
    );
    let messages = mbox::split(&series).unwrap();
    assert_eq!(messages.len(), 4, "cover + 3 patches");
    let cover = mail::parse(&messages[0]).unwrap();
    assert!(
        cover.subject.starts_with("[PATCH 0/3]"),
        "{}",
        cover.subject
    );
    for (k, msg) in messages.iter().enumerate().skip(1) {
        let parsed = mail::parse(msg).unwrap();
        assert_eq!(parsed.in_reply_to, cover.message_id, "threading");
        let commit = &ids[ids.len() - 4 + k];
        check_message(
            &repo,
            scratch,
            &format!("{commit}~1"),
            msg,
            &format!("series #{k}"),
        );
    }
}

/// Writes a hand-made mail adding `new.txt` on top of `parent` so git am can apply it.
fn hand_mail(headers: &str, body_before_patch: &str) -> Vec<u8> {
    format!(
        "{headers}\n{body_before_patch}---\n new.txt | 1 +\n 1 file changed, 1 insertion(+)\n\n\
         diff --git a/new.txt b/new.txt\nnew file mode 100644\nindex 0000000..ce01362\n\
         --- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+hello\n-- \n2.40.0\n\n"
    )
    .into_bytes()
}

#[test]
fn hand_written_mails_match_git_am() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    build_repo(&repo);
    let scratch = tmp.path();
    let date = "Date: Tue, 5 Mar 2024 10:11:12 +0100\n";
    let mut mails: Vec<(&str, Vec<u8>)> = vec![
        (
            "in-body headers",
            hand_mail(
                &format!("From: Sender <sender@example.com>\n{date}Subject: [PATCH 2/7] outer subject\n"),
                "From: Real Author <real@example.com>\nDate: Wed, 6 Mar 2024 01:02:03 -0500\nSubject: inner subject\n\nThe body.\n",
            ),
        ),
        (
            "scissors ignored by default",
            hand_mail(
                &format!("From: S <s@example.com>\n{date}Subject: Re: [PATCH] chatter\n"),
                "Some discussion.\n\n-- >8 --\nSubject: real subject\n\nReal body.\n",
            ),
        ),
        (
            "RFC 2047 and folding",
            hand_mail(
                &format!(
                    "From: =?UTF-8?q?Philippe=20Mathieu-Daud=C3=A9?= <f4bug@example.org>\n{date}\
                     Subject: [Qemu-devel] [PATCH v2 1/2] =?ISO-8859-1?Q?caf=E9?=\n =?UTF-8?B?IMOgIGxhIGNyw6htZQ==?=\n\tfolded\n"
                ),
                "Body.\n",
            ),
        ),
        (
            "blank lines and CR at top of body",
            hand_mail(
                &format!("From: S <s@example.com>\n{date}Subject: [PATCH] blanks\n"),
                "\n\n   \nFirst line   \nsecond\r\n\n\n\nthird\n\n\n",
            ),
        ),
        (
            "[PATCH] line in body",
            hand_mail(
                &format!("From: S <s@example.com>\n{date}Subject: outer\n"),
                "[PATCH] inner from bracket line\n\nBody.\n",
            ),
        ),
    ];
    let qp_latin1 = format!(
        "From: =?iso-8859-1?q?J=F6rg?= <j@example.com>\n{date}Subject: [PATCH] latin\n\
         MIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\n\
         Content-Transfer-Encoding: quoted-printable\n\n\
         Caf=E9 na=EFve, a very long line that is soft=\n-broken.\n---\n \
         new.txt | 1 +\n\ndiff --git a/new.txt b/new.txt\nnew file mode 100644\n\
         index 0000000..ce01362\n--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+hello\n"
    );
    mails.push(("QP latin-1", qp_latin1.into_bytes()));
    let b64_body = "Ünïcödé body\n\nSigned-off-by: Ö <o@example.com>\n---\ndiff --git a/new.txt b/new.txt\nnew file mode 100644\nindex 0000000..ce01362\n--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+hello\n";
    let b64 = format!(
        "From: O <o@example.com>\n{date}Subject: [PATCH] base64\nContent-Type: text/plain; charset=utf-8\n\
         Content-Transfer-Encoding: base64\n\n{}\n",
        base64_lines(b64_body.as_bytes())
    );
    mails.push(("base64 utf-8", b64.into_bytes()));
    let crlf = String::from_utf8(hand_mail(
        &format!("From nobody Mon Sep 17 00:00:00 2001\nFrom: C <c@example.com>\n{date}Subject: [PATCH] crlf\n"),
        "CRLF body.\n",
    ))
    .unwrap()
    .replace('\n', "\r\n");
    mails.push(("CRLF mbox", crlf.into_bytes()));
    let attachment = format!(
        "From: M <m@example.com>\n{date}Subject: [PATCH] by hand attached\nMIME-Version: 1.0\n\
         Content-Type: multipart/mixed; boundary=\"OUT\"\n\nThis is a multi-part message.\n--OUT\n\
         Content-Type: multipart/alternative; boundary=\"IN\"\n\npreamble\n--IN\n\
         Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n\
         Message with latin-1: caf\u{e9}\n--IN--\n--OUT\nContent-Type: text/x-patch; name=p.diff\n\
         Content-Disposition: attachment\n\n\
         diff --git a/new.txt b/new.txt\nnew file mode 100644\nindex 0000000..ce01362\n\
         --- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+hello\n--OUT--\n"
    );
    let latin1: Vec<u8> = attachment.chars().map(|c| c as u32 as u8).collect();
    mails.push(("nested multipart with attachment", latin1));
    let mut no_newline = hand_mail(
        &format!("From: N <n@example.com>\n{date}Subject: [PATCH] eof\n"),
        "B.\n",
    );
    no_newline.truncate(no_newline.len() - 2);
    mails.push(("no final newline", no_newline));
    let base = String::from_utf8(git(&repo, &["rev-parse", "main"])).unwrap();
    for (what, bytes) in &mails {
        // Each mail goes through the whole pipeline as an mbox of one.
        check_mbox(&repo, scratch, base.trim(), bytes, what);
    }
}

fn base64_lines(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
        if out.len() % 77 == 76 {
            out.push('\n');
        }
    }
    out
}

/// Real mails from Patchew's test suite: each must decode, and its subject and
/// author must be what `git mailinfo` finds.
#[test]
fn patchew_mboxes_match_git_mailinfo() {
    let Some(dir) = support::require::shared_data("patchew-mbox") else {
        return;
    };
    let entries = std::fs::read_dir(&dir).unwrap();
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".mbox.gz"))
        .collect();
    files.sort();
    let tmp = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for file in files {
        let mut data = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&file).unwrap())
            .read_to_end(&mut data)
            .unwrap();
        for (i, msg) in mbox::split(&data).unwrap().iter().enumerate() {
            let what = format!("{} #{i}", file.display());
            let parsed = mail::parse(msg).unwrap_or_else(|e| panic!("{what}: {e}"));
            let info = mailinfo::mailinfo(&parsed);
            let (git_info, _, git_patch, git_ok) = git_mailinfo(tmp.path(), msg);
            let field = |name: &str| {
                git_info
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .unwrap_or_default()
                    .to_owned()
            };
            assert_eq!(info.subject, field("Subject: "), "{what}: subject");
            // git mailinfo prints the name before git's ident clean-up.
            let author = parsed.from.clone().expect("author");
            assert_eq!(author.name, field("Author: "), "{what}: author");
            assert_eq!(author.email, field("Email: "), "{what}: email");
            // Where git gives up (unknown charset) we go on, so its patch is cut short.
            if git_ok {
                assert_eq!(
                    String::from_utf8_lossy(&info.patch),
                    String::from_utf8_lossy(&git_patch),
                    "{what}: patch"
                );
            } else {
                eprintln!("{what}: git mailinfo failed; patch not compared");
            }
            checked += 1;
        }
    }
    assert!(checked > 0);
}

/// `git am -m` (what Patchew's old applier ran) against `Options::message_id`.
#[test]
fn message_id_option_matches_git_am_m() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    build_repo(&repo);
    let mail = hand_mail(
        "From: S <s@example.com>\nDate: Tue, 5 Mar 2024 10:11:12 +0100\n\
         Subject: [PATCH] with id\nMessage-Id: <20240305.1_2/x@example.com>\n",
        "Body.\n\nSigned-off-by: S <s@example.com>\n",
    );
    git(&repo, &["checkout", "-q", "-f", "--detach", "main"]);
    git_in(&repo, &["am", "-q", "-m"], Some(&mail)).unwrap();
    let theirs = String::from_utf8(git(&repo, &["log", "-1", "--format=%B"])).unwrap();
    let options = mailinfo::Options {
        message_id: true,
        ..Default::default()
    };
    let ours = mailinfo::mailinfo_with(&mail::parse(&mail).unwrap(), options);
    assert_eq!(format!("{}\n", ours.commit_message()), theirs);
}
