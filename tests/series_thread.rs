//! Whole threads, built at test time with `git format-patch --thread` plus replies
//! written the way reviewers send them: version selection, completeness, trailers,
//! Based-on chains and hostile message-ids.

use crate::support;

use support::git::{stderr, stdout, TestRepo};

/// Each patch touches its own file, so any subset applies.
fn series_commits(r: &TestRepo, version: &str, n: usize) -> String {
    for i in 1..=n {
        r.write(&format!("file{i}.txt"), format!("{version} change {i}\n"));
        r.commit(&format!("area: {version} change {i}\n\nBody of change {i}.\n\nSigned-off-by: A U Thor <author@example.com>"));
    }
    r.git(&["rev-parse", "HEAD"])
}

/// `git format-patch` of the last `n` commits as one threaded mbox. With the fixed
/// clock of the tests every cover letter would get the same id, so `label` makes it
/// unique, as the real clock does.
fn mail_series(r: &TestRepo, label: &str, n: usize, extra: &[&str]) -> String {
    let mut args = vec![
        "format-patch",
        "--stdout",
        "--thread=shallow",
        "--cover-letter",
    ];
    args.extend_from_slice(extra);
    let range = format!("HEAD~{n}..HEAD");
    args.push(&range);
    String::from_utf8(r.git_bytes(&args))
        .unwrap()
        .replace("<cover.", &format!("<cover-{label}."))
}

/// The message-ids of an mbox, in order.
fn message_ids(mbox: &str) -> Vec<String> {
    mbox.lines()
        .filter_map(|l| {
            l.strip_prefix("Message-ID: <")
                .or_else(|| l.strip_prefix("Message-Id: <"))
        })
        .map(|l| l.trim_end_matches('>').to_owned())
        .collect()
}

fn reply(to: &str, id: &str, body: &str) -> String {
    reply_from("Rita Reviewer <rita@example.com>", to, id, body)
}

/// A reply sent by `from`: a person's trailer counts only in that person's reply.
fn reply_from(from: &str, to: &str, id: &str, body: &str) -> String {
    format!(
        "From nobody Mon Sep 17 00:00:00 2001\nFrom: {from}\nSubject: Re: [PATCH] whatever\nDate: Tue, 14 Nov 2023 23:13:20 +0100\nMessage-Id: <{id}>\nIn-Reply-To: <{to}>\nReferences: <{to}>\n\n{body}\n"
    )
}

fn write_mbox(r: &TestRepo, name: &str, content: &str) -> String {
    let p = r.scratch(name);
    std::fs::write(&p, content).unwrap();
    p.to_str().unwrap().to_owned()
}

fn apply_json(r: &TestRepo, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["apply", "--no-ci", "--json"];
    all.extend_from_slice(args);
    let out = r.patchew(&r.path, &all);
    assert!(
        out.status.success(),
        "apply {args:?} failed: {}",
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn subjects(r: &TestRepo, base: &str, head: &str) -> Vec<String> {
    r.git(&[
        "log",
        "--reverse",
        "--format=%s",
        &format!("{base}..{head}"),
    ])
    .lines()
    .map(str::to_owned)
    .collect()
}

#[test]
fn newest_version_wins_unless_another_is_named() {
    let r = TestRepo::new();
    r.write("README", "base\n");
    let base = r.commit("base");
    series_commits(&r, "v1", 2);
    let v1 = mail_series(&r, "s1", 2, &[]);
    let v1_cover = message_ids(&v1)[0].clone();
    r.git(&["reset", "-q", "--hard", &base]);
    series_commits(&r, "v2", 2);
    let v2 = mail_series(
        &r,
        "s2",
        2,
        &["-v2", &format!("--in-reply-to=<{v1_cover}>")],
    );
    r.git(&["reset", "-q", "--hard", &base]);
    let thread = write_mbox(&r, "thread.mbox", &format!("{v1}{v2}"));

    let report = apply_json(&r, &["--mbox", &thread, "--no-tag"]);
    let head = report["head"].as_str().unwrap();
    assert_eq!(
        subjects(&r, &base, head),
        ["area: v2 change 1", "area: v2 change 2"]
    );

    let report = apply_json(&r, &["--mbox", &thread, &v1_cover]);
    let head = report["head"].as_str().unwrap();
    assert_eq!(
        subjects(&r, &base, head),
        ["area: v1 change 1", "area: v1 change 2"]
    );
    let tag = report["tag"].as_str().unwrap();
    assert_eq!(tag, format!("patchew/{v1_cover}"));
    assert_eq!(
        r.git(&["rev-parse", &format!("refs/tags/{tag}^{{commit}}")]),
        head
    );
}

#[test]
fn missing_patch_is_refused_with_its_number_unless_partial() {
    let r = TestRepo::new();
    r.write("README", "base\n");
    let base = r.commit("base");
    series_commits(&r, "v1", 3);
    let mbox = mail_series(&r, "s3", 3, &[]);
    r.git(&["reset", "-q", "--hard", &base]);
    // Drop patch 2/3 from the mbox.
    let mails: Vec<&str> = mbox.split("\nFrom ").collect();
    let without_2: Vec<&str> = mails
        .iter()
        .copied()
        .filter(|m| !m.contains("Subject: [PATCH 2/3]"))
        .collect();
    assert_eq!(without_2.len(), 3);
    let path = write_mbox(&r, "partial.mbox", &without_2.join("\nFrom "));

    let out = r.patchew(&r.path, &["apply", "--no-ci", "--mbox", &path]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("missing patch 2 of 3"),
        "{}",
        stderr(&out)
    );
    assert_eq!(r.git(&["tag"]), "", "no tag on failure");

    let report = apply_json(&r, &["--mbox", &path, "--allow-partial", "--no-tag"]);
    let head = report["head"].as_str().unwrap();
    assert_eq!(
        subjects(&r, &base, head),
        ["area: v1 change 1", "area: v1 change 3"]
    );
    assert!(report["warnings"].to_string().contains("missing"));
}

#[test]
fn reviewers_trailers_reach_the_right_commits_once() {
    let r = TestRepo::new();
    r.write("README", "base\n");
    let base = r.commit("base");
    series_commits(&r, "v1", 2);
    let mbox = mail_series(&r, "s4", 2, &[]);
    r.git(&["reset", "-q", "--hard", &base]);
    let ids = message_ids(&mbox);
    let (cover, p2) = (&ids[0], &ids[2]);
    let thread = format!(
        "{mbox}{}{}{}",
        reply(
            cover,
            "r1@x",
            "> quoted\nReviewed-by: Rita Reviewer <rita@example.com>\n> Acked-by: Quoted <q@x>"
        ),
        reply_from(
            "Tim Tester <tim@example.com>",
            p2,
            "r2@x",
            "Tested-by: Tim Tester <tim@example.com>\nSigned-off-by: A U Thor <author@example.com>"
        ),
        reply_from(
            "Ann <ann@example.com>",
            "r2@x",
            "r3@x",
            "Acked-by: Ann <ann@example.com>"
        ),
    );
    let path = write_mbox(&r, "thread.mbox", &thread);
    let report = apply_json(&r, &["--mbox", &path, "--no-tag"]);
    let head = report["head"].as_str().unwrap();
    let msg1 = r.git(&["log", "-1", "--format=%B", &format!("{head}~1")]);
    let msg2 = r.git(&["log", "-1", "--format=%B", head]);
    assert!(msg1.ends_with(
        "Signed-off-by: A U Thor <author@example.com>\nReviewed-by: Rita Reviewer <rita@example.com>"
    ), "{msg1}");
    assert!(
        !msg1.contains("Tested-by") && !msg1.contains("Quoted"),
        "{msg1}"
    );
    // b4's order: the replies to the patch (and theirs), then those to the cover.
    assert!(msg2.ends_with(
        "Signed-off-by: A U Thor <author@example.com>\nTested-by: Tim Tester <tim@example.com>\nAcked-by: Ann <ann@example.com>\nReviewed-by: Rita Reviewer <rita@example.com>"
    ), "{msg2}");
    assert_eq!(msg2.matches("Signed-off-by").count(), 1, "no duplicate");
    let added = &report["commits"][1]["trailers_added"];
    assert_eq!(added.as_array().unwrap().len(), 3, "{added}");
    assert_eq!(
        report["commits"][1]["message_id"].as_str(),
        Some(p2.as_str())
    );

    let plain = apply_json(&r, &["--mbox", &path, "--no-tag", "--no-trailers"]);
    let head = plain["head"].as_str().unwrap();
    assert!(!r
        .git(&["log", "-1", "--format=%B", head])
        .contains("Tested-by"));
}

#[test]
fn based_on_chain_applies_on_the_base_series_tag() {
    let r = TestRepo::new();
    r.write("README", "base\n");
    let base = r.commit("base");
    series_commits(&r, "first", 2);
    let first = mail_series(&r, "s5", 2, &[]);
    let first_id = message_ids(&first)[0].clone();
    // The second series is written on top of the first.
    for i in 1..=2 {
        r.write(&format!("second{i}.txt"), "second\n");
        r.commit(&format!("second series {i}"));
    }
    let second = mail_series(&r, "s6", 2, &[]).replacen(
        "*** BLURB HERE ***",
        &format!("Based-on: <{first_id}>"),
        1,
    );
    r.git(&["reset", "-q", "--hard", &base]);

    // Not applied yet: falls back to mainline, and says so.
    let second_path = write_mbox(&r, "second.mbox", &second);
    let early = apply_json(&r, &["--mbox", &second_path, "--no-tag"]);
    assert_eq!(early["base"].as_str(), Some(base.as_str()));
    assert!(
        early["warnings"].to_string().contains(&first_id),
        "{}",
        early["warnings"]
    );

    let first_report = apply_json(&r, &["--mbox", &write_mbox(&r, "first.mbox", &first)]);
    let first_head = first_report["head"].as_str().unwrap().to_owned();
    let report = apply_json(&r, &["--mbox", &second_path]);
    assert_eq!(report["base"].as_str(), Some(first_head.as_str()));
    let head = report["head"].as_str().unwrap();
    assert_eq!(r.git(&["rev-parse", &format!("{head}~2")]), first_head);
}

#[test]
fn several_based_on_lines_whose_tags_are_missing_are_refused_by_name() {
    let r = TestRepo::new();
    r.write("README", "base\n");
    r.commit("base");
    series_commits(&r, "v1", 1);
    let mbox = mail_series(&r, "s7", 1, &[]).replacen(
        "*** BLURB HERE ***",
        "Based-on: <a@x>\nBased-on: <b@x>",
        1,
    );
    let path = write_mbox(&r, "s.mbox", &mbox);
    let out = r.patchew(&r.path, &["apply", "--no-ci", "--mbox", &path]);
    // Several bases are merged (tests/bases.rs); none of these exists.
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("<a@x>") && err.contains("<b@x>"), "{err}");
    assert!(r.git(&["tag"]).is_empty());
}

#[test]
fn hostile_message_id_gives_a_valid_reversible_tag() {
    let r = TestRepo::new();
    r.write("README", "base\n");
    let base = r.commit("base");
    r.write("f", "x\n");
    r.commit("one change");
    let hostile = "..we~ird^:?*[\\_/@{x}.lock";
    let mbox = r.git(&["format-patch", "--stdout", "--thread", "-1"]);
    let id = message_ids(&mbox)[0].clone();
    let mbox = mbox.replace(&id, hostile);
    r.git(&["reset", "-q", "--hard", &base]);
    let report = apply_json(&r, &["--mbox", &write_mbox(&r, "h.mbox", &mbox)]);
    let tag = report["tag"].as_str().unwrap();
    r.git(&["check-ref-format", &format!("refs/tags/{tag}")]);
    assert_eq!(
        r.git(&["rev-parse", &format!("refs/tags/{tag}^{{commit}}")]),
        report["head"].as_str().unwrap()
    );
    // Applying again needs --force, which replaces the tag.
    let out = r.patchew(
        &r.path,
        &[
            "apply",
            "--no-ci",
            "--mbox",
            &r.scratch("h.mbox").to_string_lossy(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--force"));
    assert!(stdout(&out).is_empty());
    let again = apply_json(
        &r,
        &["--mbox", &r.scratch("h.mbox").to_string_lossy(), "--force"],
    );
    assert_eq!(again["tag"], report["tag"]);
}

#[test]
fn based_on_tag_is_fetched_from_the_ci_hub() {
    let r = TestRepo::new();
    r.write("README", "base\n");
    let base = r.commit("base");
    series_commits(&r, "first", 1);
    let first = mail_series(&r, "f", 1, &[]);
    let first_id = message_ids(&first)[0].clone();
    r.write("second.txt", "second\n");
    r.commit("second series");
    let second = mail_series(&r, "s", 1, &[]).replacen(
        "*** BLURB HERE ***",
        &format!("Based-on: {first_id}"),
        1,
    );
    r.git(&["reset", "-q", "--hard", &base]);

    // The first series was applied elsewhere and its tag pushed to the ci-hub.
    let first_report = apply_json(&r, &["--mbox", &write_mbox(&r, "first.mbox", &first)]);
    let tag = first_report["tag"].as_str().unwrap();
    let hub = r.scratch("hub.git");
    r.git(&["init", "-q", "--bare", hub.to_str().unwrap()]);
    r.git(&[
        "push",
        "-q",
        hub.to_str().unwrap(),
        &format!("refs/tags/{tag}"),
    ]);

    let here = r.clone_to("maintainer", &[]);
    r.git_in(&here, &["remote", "add", "ci-hub", hub.to_str().unwrap()]);
    let path = write_mbox(&r, "second.mbox", &second);
    let out = r.patchew(&here, &["apply", "--no-ci", "--json", "--mbox", &path]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["base"], first_report["head"],
        "based on the fetched tag"
    );
    r.git_in(&here, &["rev-parse", &format!("refs/tags/{tag}")]);
}
