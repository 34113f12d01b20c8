//! Odd but valid input through `git patchew apply`: message-ids with a space,
//! trailers from repliers, CI files GitLab reads in YAML 1.1.

mod support;

use std::path::PathBuf;
use std::process::Output;

use support::git::{stderr, TestRepo};

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
    format!(
        "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n\
         From: {from}\n\
         Date: Tue, 14 Nov 2023 22:13:20 +0100\n\
         Subject: {subject}\n\
         Message-Id: <{msgid}>\n\
         \n\
         {body}\n\
         ---\n\
         diff --git a/{path} b/{path}\n\
         new file mode 100644\n\
         --- /dev/null\n\
         +++ b/{path}\n\
         @@ -0,0 +1 @@\n\
         +x\n\
         -- \n\
         2.43.0\n\n"
    )
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
