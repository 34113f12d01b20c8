//! Where the `mailparse` crate agrees with git, with C git as the oracle: `git
//! mailinfo -k` for From addresses and RFC 2047 encoded words, `git var` for dates.
//! Each hand-written case says whether mailparse agrees; `src/input/mail.rs` uses mailparse
//! where it does (plain mailboxes) and keeps git's rules where it does not. Our own
//! parse must match git in every case.

use crate::support;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use git_patchew::input::{date, mail, mbox};
use mailparse::MailHeaderMap;

/// `git mailinfo -k` on one message: its `Author:`, `Email:` and `Subject:` lines.
fn git_mailinfo(scratch: &Path, message: &[u8]) -> (String, String, String) {
    let (msg, patch) = (scratch.join("msg"), scratch.join("patch"));
    let mut child = Command::new("git")
        .args(["mailinfo", "-k"])
        .arg(&msg)
        .arg(&patch)
        .current_dir(scratch)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run git mailinfo");
    child.stdin.take().unwrap().write_all(message).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_default()
            .to_owned()
    };
    (field("Author: "), field("Email: "), field("Subject: "))
}

fn message(header: &str) -> Vec<u8> {
    format!("{header}\n\nbody\n").into_bytes()
}

/// What mailparse makes of a `From:` line: (name, address), the name falling back
/// to the address as git's does when there is none.
fn mailparse_from(header: &str) -> Option<(String, String)> {
    let (h, _) = mailparse::parse_header(header.as_bytes()).ok()?;
    let list = mailparse::addrparse_header(&h).ok()?;
    let [mailparse::MailAddr::Single(single)] = list.as_slice() else {
        return None;
    };
    let name = single.display_name.clone().unwrap_or_default();
    let name = if name.is_empty() {
        single.addr.clone()
    } else {
        name
    };
    Some((name, single.addr.clone()))
}

#[test]
fn from_addresses_against_git_mailinfo() {
    let tmp = tempfile::tempdir().unwrap();
    // (From value, does mailparse's addrparse_header give git's name and address?)
    let cases: &[(&str, bool)] = &[
        ("John Doe <john@x.org>", true),
        ("\"Doe, John\" <john@x.org>", true),
        ("<john@x.org>", true),
        ("john@x.org", true),
        ("J. Doe <j@x.org>", true),
        ("=?utf-8?q?J=C3=B6rg_M=C3=BCller?= <j@x.de>", true),
        ("\"a\\\"b\" <a@b.org>", true),
        // git collapses white space in the name.
        ("John   Doe <john@x.org>", false),
        // git keeps a comment as the name.
        ("john@x.org (John Doe)", false),
        ("John (the man) <j@x.org>", false),
        ("John (the <man>) <j@x.org>", false),
        // git drops quotes in the middle of a name.
        ("J\"o\"hn <j@x.org>", false),
        // git accepts an address without `@`.
        ("John <john>", false),
        // git reads an unquoted comma as part of the name.
        ("Doe, John <j@x.org>", false),
        // git takes the first `@` as the address.
        ("A@B <a@b.org>", false),
        ("A <a@b.org>, B <b@c.org>", false),
        ("A <a@b.org", false),
        ("A <a@b.org> trailing", false),
    ];
    for &(value, agrees) in cases {
        let header = format!("From: {value}");
        let (name, email, _) = git_mailinfo(tmp.path(), &message(&header));
        let git = (name, email);
        let ours = mail::parse(&message(&header)).unwrap().from.unwrap();
        assert_eq!((ours.name, ours.email), git, "ours, {value}");
        let theirs = mailparse_from(&header);
        assert_eq!(theirs.as_ref() == Some(&git), agrees, "mailparse, {value}");
        // The forms we hand to mailparse (after decoding) must be ones where it agrees.
        let (h, _) = mailparse::parse_header(header.as_bytes()).unwrap();
        if let Some(plain) = mail::plain_mailbox(&h.get_value()) {
            assert_eq!((plain.name, plain.email), git, "plain mailbox, {value}");
        }
    }
}

#[test]
fn encoded_words_against_git_mailinfo() {
    let tmp = tempfile::tempdir().unwrap();
    // (Subject value, does mailparse's get_value give git's text?)
    let cases: &[(&str, bool)] = &[
        ("=?utf-8?q?caf=C3=A9?=", true),
        ("[PATCH] =?UTF-8?B?Y2Fmw6k=?= (v2)", true),
        ("=?utf-8?q?hello_world?=", true),
        ("=?utf-8?q?a=5Fb?=", true),
        // White space between adjacent encoded words goes, folded or not.
        ("=?utf-8?q?a?= =?utf-8?q?b?=", true),
        ("=?utf-8?q?a?=\n =?utf-8?q?b?=", true),
        ("=?utf-8?q?a?= b =?utf-8?q?c?=", true),
        // Unterminated: both leave it.
        ("=?utf-8?q?abc", true),
        // git decodes an encoded word glued to other text.
        ("x=?utf-8?q?a_b?=y", false),
        // A malformed word: git leaves the whole value, mailparse only that word.
        ("a =?utf-8?x?abc?= =?utf-8?q?ok?=", false),
        // git's base64 skips a stray byte; mailparse gives up on the word.
        ("=?utf-8?b?w6k*?=", false),
        // iconv's ISO-8859-1 maps 0x80 to U+0080; mailparse reads windows-1252.
        ("=?iso-8859-1?q?=80?=", false),
    ];
    for &(value, agrees) in cases {
        let header = format!("Subject: {value}");
        let (_, _, git) = git_mailinfo(tmp.path(), &message(&header));
        let ours = mail::parse(&message(&header)).unwrap().subject;
        assert_eq!(ours, git, "ours, {value:?}");
        let (h, _) = mailparse::parse_header(header.as_bytes()).unwrap();
        assert_eq!(h.get_value() == git, agrees, "mailparse, {value:?}");
    }
}

/// An encoded word in a charset nobody knows: git mailinfo fails (so git am stops)
/// and prints the value as it was, as mailparse leaves it; we keep the bytes and
/// go on (see `mail::convert_to_utf8`).
#[test]
fn unknown_charset_against_git_mailinfo() {
    let tmp = tempfile::tempdir().unwrap();
    let header = "Subject: =?x-no-such-charset?q?caf=C3=A9?= b";
    let msg = message(header);
    let status = Command::new("git")
        .args(["mailinfo", "-k", "m", "p"])
        .current_dir(tmp.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .and_then(|mut ch| {
            ch.stdin.take().unwrap().write_all(&msg)?;
            ch.wait()
        })
        .unwrap();
    assert!(
        !status.success(),
        "git mailinfo accepted an unknown charset"
    );
    let (_, _, git) = git_mailinfo(tmp.path(), &msg);
    let (h, _) = mailparse::parse_header(header.as_bytes()).unwrap();
    assert_eq!(h.get_value(), git);
    assert_eq!(mail::parse(&msg).unwrap().subject, "café b");
}

/// `git var GIT_AUTHOR_IDENT` parses `GIT_AUTHOR_DATE` as `git am` parses a mail's
/// date: (seconds, "+hhmm").
fn git_date(value: &str) -> Option<(i64, String)> {
    let out = Command::new("git")
        .args(["var", "GIT_AUTHOR_IDENT"])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "A")
        .env("GIT_AUTHOR_EMAIL", "a@x")
        .env("GIT_AUTHOR_DATE", value)
        // A date without zone is read in the local zone by git, as UTC by us.
        .env("TZ", "UTC")
        .output()
        .expect("run git var");
    let text = String::from_utf8(out.stdout).ok()?;
    let mut words = text.split_whitespace().rev();
    let zone = words.next()?.to_owned();
    Some((words.next()?.parse().ok()?, zone))
}

fn zone(offset: i32) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let m = offset.abs() / 60;
    format!("{sign}{:02}{:02}", m / 60, m % 60)
}

/// Every zone name that `date::parse_date` reads as git does, beyond RFC 2822's.
#[test]
fn zone_names_against_git() {
    for name in [
        "IDLW", "NT", "CAT", "HST", "HDT", "YST", "YDT", "AST", "ADT", "WAT", "BST", "CET", "MET",
        "MEWT", "FWT", "MEST", "CEST", "MESZ", "FST", "EET", "EEST", "WAST", "WADT", "CCT", "JST",
        "EAST", "GST", "EADT", "NZT", "NZST", "IDLE", "NZDT",
    ] {
        let value = format!("Wed, 6 Mar 2024 01:02:03 {name}");
        let (seconds, git_zone) = git_date(&value).unwrap_or_else(|| panic!("git: {value}"));
        let (ours, offset) = date::parse_date(&value).unwrap_or_else(|| panic!("ours: {value}"));
        assert_eq!((ours, zone(offset)), (seconds, git_zone), "{value}");
    }
}

/// mailparse's `dateparse` returns only seconds, never the zone the date was
/// written in, which a commit's author line keeps: it cannot give the commit id
/// `git am` gives, so dates stay with gix's parser. Even the seconds differ where a
/// date has no seconds.
#[test]
fn dates_against_git() {
    // (Date value, do mailparse's seconds equal git's?)
    let cases: &[(&str, bool)] = &[
        ("Wed, 6 Mar 2024 01:02:03 +0530", true),
        ("Wed, 6 Mar 2024 01:02:03 -0000", true),
        ("6 Mar 2024 01:02:03 +1400", true),
        ("Wed, 6 Mar 2024 01:02:03 -0700 (PDT)", true),
        ("Wed, 6 Mar 2024 01:02:03 -1245", true),
        ("Wed, 6 Mar 2024 01:02:03 +0000 (UTC)", true),
        ("Wed, 6 Mar 2024 01:02:03 EST", true),
        ("Wed, 6 Mar 2024 01:02:03 GMT", true),
        ("Wed, 6 Mar 2024 01:02:03 Z", true),
        // No seconds: mailparse reads the zone as the seconds, and then no zone.
        ("Wed, 6 Mar 2024 01:02 +0530", false),
        // A zone mailparse does not know.
        ("Wed, 6 Mar 2024 01:02:03 CET", false),
        ("Wed, 6 Mar 2024 01:02:03 cest", false),
        ("Wed, 6 Mar 2024 01:02:03 JST", false),
        // git drops an offset out of range (here: read as UTC); mailparse applies it.
        ("Wed, 6 Mar 2024 01:02:03 +2400", false),
    ];
    for &(value, agrees) in cases {
        let (seconds, git_zone) = git_date(value).unwrap_or_else(|| panic!("git: {value}"));
        let (ours, offset) = date::parse_date(value).unwrap_or_else(|| panic!("ours: {value}"));
        assert_eq!((ours, zone(offset)), (seconds, git_zone.clone()), "{value}");
        let theirs = mailparse::dateparse(value).ok();
        assert_eq!(theirs == Some(seconds), agrees, "mailparse, {value}");
        assert_ne!(git_zone, "", "the zone that dateparse cannot give");
    }
}

/// Patchew's real mails: every From that `plain_mailbox` takes gets git's answer
/// from mailparse, and most real From lines are of that form.
#[test]
fn real_from_lines_through_mailparse_match_git() {
    let Some(dir) = support::require::shared_data("patchew-mbox") else {
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".mbox.gz"))
        .collect();
    files.sort();
    let tmp = tempfile::tempdir().unwrap();
    let (mut total, mut plain) = (0, 0);
    for file in files {
        let mut data = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&file).unwrap())
            .read_to_end(&mut data)
            .unwrap();
        for (i, msg) in mbox::split(&data).unwrap().iter().enumerate() {
            let what = format!("{} #{i}", file.display());
            let (name, email, _) = git_mailinfo(tmp.path(), msg);
            // git lets a later From win; an mbox's own `From ` line is no header.
            let headers = mailparse::parse_headers(msg).map(|(h, _)| h);
            let from = headers.ok().and_then(|h| h.get_all_values("From").pop());
            let Some(from) = from else {
                panic!("{what}: mailparse finds no From");
            };
            total += 1;
            if let Some(ident) = mail::plain_mailbox(&from) {
                plain += 1;
                assert_eq!((ident.name, ident.email), (name, email), "{what}");
            }
        }
    }
    eprintln!("{plain} of {total} From lines read by mailparse");
    assert!(plain * 2 > total, "{plain} of {total}");
}
