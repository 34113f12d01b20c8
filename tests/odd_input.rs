//! Odd but valid input through `git patchew apply`: message-ids with a space,
//! trailers from repliers, CI files GitLab reads in YAML 1.1.

use crate::support;

use std::path::PathBuf;
use std::process::Output;

use support::git::{stderr, TestRepo};
use support::mail::Mail;

fn base_repo() -> TestRepo {
    let r = TestRepo::new();
    r.write("f.txt", "one\n");
    r.commit("base");
    r
}

fn write_mbox(r: &TestRepo, content: &str) -> PathBuf {
    let p = r.scratch("s.mbox");
    std::fs::write(&p, content).unwrap();
    p
}

fn apply(r: &TestRepo, mbox: &str, extra: &[&str]) -> Output {
    let path = write_mbox(r, mbox);
    let mut args = vec!["apply", "--no-ci", "--mbox", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    r.patchew(&r.path, &args)
}

/// One patch adding `path`, from `from`, with extra headers and body text.
fn patch_mail(from: &str, msgid: &str, subject: &str, body: &str, path: &str) -> String {
    Mail::new(subject)
        .from(from)
        .msgid(msgid)
        .body(body)
        .adding(path)
        .mbox()
}

#[test]
fn a_message_id_with_a_space_is_tagged_with_the_readme_escaping() {
    let r = base_repo();
    let mbox = patch_mail(
        "A U Thor <author@example.com>",
        "odd id@example.org",
        "[PATCH] odd",
        "Body.",
        "new.txt",
    );
    let out = apply(&r, &mbox, &[]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("not tagged"), "{err}");
    let tags = r.git(&["tag", "-l", "patchew/*"]);
    assert_eq!(tags, "patchew/odd._20id@example.org");
    let check = r
        .command("git", &r.path)
        .args(["check-ref-format", &format!("refs/tags/{tags}")])
        .status()
        .unwrap();
    assert!(check.success());
}

fn reply(from: &str, to: &str, id: &str, body: &str) -> String {
    format!(
        "From nobody Mon Sep 17 00:00:00 2001\n\
         From: {from}\n\
         Subject: Re: [PATCH] x\n\
         Date: Wed, 15 Nov 2023 10:00:00 +0100\n\
         Message-Id: <{id}>\n\
         In-Reply-To: <{to}>\n\
         References: <{to}>\n\
         \n\
         {body}\n"
    )
}

/// Cover, two patches, then replies in this order: a reviewer on patch 1, someone
/// vouching for a third person on patch 1, a tester on patch 2, an ack on the cover.
fn reviewed_thread() -> String {
    let author = "A U Thor <author@example.com>";
    let cover = format!(
        "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n\
         From: {author}\n\
         Date: Tue, 14 Nov 2023 22:13:20 +0100\n\
         Subject: [PATCH 0/2] two\n\
         Message-Id: <cover@x>\n\
         \n\
         Cover.\n\n"
    );
    let p1 = patch_mail(author, "p1@x", "[PATCH 1/2] one", "One.", "one.txt")
        .replace("Subject:", "In-Reply-To: <cover@x>\nSubject:");
    let p2 = patch_mail(author, "p2@x", "[PATCH 2/2] two", "Two.", "two.txt")
        .replace("Subject:", "In-Reply-To: <cover@x>\nSubject:");
    [
        cover,
        p1,
        p2,
        reply(
            "Rita Reviewer <Rita@Example.com>",
            "p1@x",
            "r1@x",
            "Reviewed-by: Rita Reviewer <rita@example.com>",
        ),
        reply(
            "Mallory <mallory@example.com>",
            "p1@x",
            "r2@x",
            "Reviewed-by: Linus <linus@example.org>",
        ),
        reply(
            "Tim Tester <tim@example.com>",
            "p2@x",
            "r3@x",
            "Tested-by: Tim Tester <tim@example.com>",
        ),
        reply(
            "Ann <ann@example.com>",
            "cover@x",
            "r4@x",
            "Acked-by: Ann <ann@example.com>",
        ),
    ]
    .concat()
}

fn trailers_of(r: &TestRepo, rev: &str) -> Vec<String> {
    r.git(&["log", "-1", "--format=%(trailers:only,unfold)", rev])
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn trailers_count_only_from_their_person_and_keep_arrival_order() {
    let r = base_repo();
    let out = apply(&r, &reviewed_thread(), &["--no-tag"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let head = String::from_utf8(out.stdout.clone())
        .unwrap()
        .trim()
        .to_owned();
    assert_eq!(
        trailers_of(&r, &format!("{head}~1")),
        [
            "Reviewed-by: Rita Reviewer <rita@example.com>",
            "Acked-by: Ann <ann@example.com>"
        ]
    );
    // The patch's own Tested-by came before the cover's Acked-by.
    assert_eq!(
        trailers_of(&r, &head),
        [
            "Tested-by: Tim Tester <tim@example.com>",
            "Acked-by: Ann <ann@example.com>"
        ]
    );
    let warning: Vec<&str> = err.lines().filter(|l| l.contains("Linus")).collect();
    assert_eq!(warning.len(), 1, "{err}");
    assert!(warning[0].contains("patch 1/2"), "{err}");
    assert!(
        warning[0].contains("Mallory <mallory@example.com>"),
        "{err}"
    );
    assert!(warning[0].contains("--sloppy-trailers"), "{err}");

    let out = apply(&r, &reviewed_thread(), &["--no-tag", "--sloppy-trailers"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let head = String::from_utf8(out.stdout.clone())
        .unwrap()
        .trim()
        .to_owned();
    assert!(trailers_of(&r, &format!("{head}~1"))
        .contains(&"Reviewed-by: Linus <linus@example.org>".to_owned()));
    assert!(!stderr(&out).contains("Linus"), "{}", stderr(&out));
}
