//! The unattended applier against a loopback Patchew (a stateful emulation of its
//! queue and results, with token checking) and real bare mirrors and ci-hub: the
//! round trip, claims shared by several appliers, stale claims, maintainers, and
//! parity with `git am -m`/`-s`.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use support::applier::{
    self, hub_tags, mail_series, run_applier, run_applier_as, World, CI_PLAIN, INCLUDE, PUBLIC_URL,
    TOKEN,
};
use support::git::{stderr, stdout};
use support::patchew::{naive_utc, now, Role};
use support::process::output_within;
use support::{refused_url, Reply};

/// The settings of this file's appliers: three tries, a quick claim.
const SETTINGS: &[(&str, &str)] = &[
    ("patchew.httpRetries", "3"),
    ("patchew.httpTimeout", "5"),
    ("patchew.claimSettle", "0.05"),
];

fn world() -> World {
    applier::world(CI_PLAIN, SETTINGS)
}

/// Another applier's repository: a bare clone configured for the same server.
fn add_mirror(w: &World, name: &str) -> PathBuf {
    applier::add_mirror(w, name, SETTINGS)
}

fn config(w: &World, repo: &Path, key: &str, value: &str) {
    w.project.git_in(repo, &["config", key, value]);
}

/// The result PUTs for `id`, bodies parsed, in order.
fn result_puts(w: &World, id: &str) -> Vec<Value> {
    let puts = w.server.requests_to("PUT", &w.patchew.result_path(id));
    for put in &puts {
        assert_eq!(
            put.header("authorization"),
            Some(format!("Token {TOKEN}").as_str())
        );
    }
    puts.iter()
        .map(|p| serde_json::from_str(&p.body_text()).unwrap())
        .collect()
}

/// The one final (success or failure) result PUT for `id`.
fn final_put(w: &World, id: &str) -> Value {
    let finals: Vec<Value> = result_puts(w, id)
        .into_iter()
        .filter(|p| p["status"] == "success" || p["status"] == "failure")
        .collect();
    assert_eq!(finals.len(), 1, "exactly one final result PUT: {finals:?}");
    finals.into_iter().next().unwrap()
}

#[test]
fn full_round_trip_claims_tags_pushes_and_reports() {
    let w = world();
    let id = "one._5F1._2F2@example.org";
    let mbox = mail_series(
        &w.project,
        "one_1/2@example.org",
        &[("main.c", "int x = 2;\n")],
    );
    w.patchew.add_series(id, "[PATCH] change main.c", mbox);

    let out = run_applier(&w, &w.mirror, &["-v"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains(TOKEN) && !String::from_utf8_lossy(&out.stdout).contains(TOKEN));

    let tag = format!("refs/tags/patchew/{id}");
    let pushed = w.project.git_in(&w.hub, &["rev-parse", &tag]);
    let base = w.project.git(&["rev-parse", "main"]);
    let puts = result_puts(&w, id);
    assert_eq!(puts.len(), 2, "{puts:?}");
    // The claim: running, signed, dated.
    assert_eq!(puts[0]["status"], "running");
    for key in ["applier", "pid", "claim", "claimed_at"] {
        assert!(
            !puts[0]["data"][key].is_null(),
            "{key} missing: {}",
            puts[0]
        );
    }
    let put = &puts[1];
    assert_eq!(put["status"], "success");
    assert_eq!(
        put["data"],
        json!({"base": base, "repo": PUBLIC_URL, "tag": tag}),
        "{put}"
    );
    assert_eq!(w.patchew.git(id).status, "success");
    let log = put["log"].as_str().unwrap();
    assert!(log.contains("Applying: change main.c"), "{log}");
    // What the ci-hub will make of the tag, in the words apply and ci-check use.
    assert!(log.contains("tag pipeline: report jobs will run"), "{log}");
    assert!(
        log.contains(&format!("To {PUBLIC_URL}")),
        "push output: {log}"
    );
    assert!(
        !log.contains(w.hub.to_str().unwrap()),
        "push URL leaked: {log}"
    );
    let ci = w
        .project
        .git_in(&w.hub, &["show", &format!("{pushed}:.gitlab-ci.yml")]);
    assert!(ci.contains(INCLUDE));
    assert_eq!(
        w.project
            .git_in(&w.hub, &["rev-parse", &format!("{pushed}~2")]),
        base
    );
    let message = w.project.git_in(
        &w.hub,
        &["log", "-1", "--format=%B", &format!("{pushed}~1")],
    );
    assert!(
        message.ends_with("\nMessage-ID: <one_1/2@example.org>"),
        "{message}"
    );
    // No maintainers command configured: no PATCH.
    assert!(w.server.requests().iter().all(|r| r.method != "PATCH"));
}

#[test]
fn a_series_that_does_not_apply_is_reported_as_failure_with_a_git_am_like_log() {
    let w = world();
    let mbox = mail_series(
        &w.project,
        "bad@example.org",
        &[("a.c", "a\n"), ("main.c", "int x = 2;\n")],
    )
    .replace("-int x = 1;", "-int x = 42;");
    w.patchew
        .add_series("bad@example.org", "[PATCH 0/2] bad", mbox);
    let out = run_applier(&w, &w.mirror, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let put = final_put(&w, "bad@example.org");
    assert_eq!(put["status"], "failure");
    assert_eq!(put["data"], json!({}));
    let log = put["log"].as_str().unwrap();
    let applying: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("Applying: "))
        .collect();
    assert_eq!(
        applying,
        ["Applying: change a.c", "Applying: change main.c"],
        "{log}"
    );
    let error = log
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_default();
    assert!(error.contains("main.c"), "{log}");
    assert!(hub_tags(&w).is_empty(), "nothing pushed");
}

#[test]
fn based_on_series_is_applied_on_the_base_tag() {
    let w = world();
    let first = mail_series(&w.project, "first@example.org", &[("a.c", "a\n")]);
    w.patchew
        .add_series("first@example.org", "[PATCH] first", first);
    assert!(run_applier(&w, &w.mirror, &[]).status.success());
    let first_tag = "refs/tags/patchew/first@example.org";
    let first_tip = w
        .project
        .git_in(&w.hub, &["rev-parse", &format!("{first_tag}^{{commit}}")]);

    let second = mail_series(&w.project, "second@example.org", &[("b.c", "b\n")]);
    w.patchew
        .add_series("second@example.org", "[PATCH] second", second);
    w.patchew.set_based_on(
        "second@example.org",
        json!({"repo": w.hub.to_str().unwrap(), "tag": first_tag}),
    );
    let out = run_applier(&w, &w.mirror, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let put = final_put(&w, "second@example.org");
    assert_eq!(put["data"]["base"].as_str(), Some(first_tip.as_str()));
    let log = put["log"].as_str().unwrap();
    assert!(
        log.contains("Base: Based-on <first@example.org>, as Patchew's based_on says"),
        "{log}"
    );

    // The mails name another base than Patchew: Patchew's wins, and the log says so.
    let third = mail_series(&w.project, "third@example.org", &[("c.c", "c\n")]);
    let third = third.replacen("---\n", "---\nBased-on: <second@example.org>\n", 1);
    w.patchew
        .add_series("third@example.org", "[PATCH] third", third);
    w.patchew.set_based_on(
        "third@example.org",
        json!({"repo": w.hub.to_str().unwrap(), "tag": first_tag}),
    );
    assert!(run_applier(&w, &w.mirror, &[]).status.success());
    let put = final_put(&w, "third@example.org");
    assert_eq!(put["data"]["base"].as_str(), Some(first_tip.as_str()));
    let log = put["log"].as_str().unwrap();
    assert!(
        log.contains("warning: Patchew's based_on (Based-on <first@example.org>) and the series' Based-on line disagree: using Patchew's"),
        "{log}"
    );
}

/// Patchew's `based_on` holds one base; a series whose mails name two is applied
/// on the merge of both tags (what `git merge` of them then `git am` gives), and
/// the log says which base was used. A missing base is the git result's failure.
#[test]
fn series_on_two_bases_is_applied_on_their_merge() {
    let w = world();
    for (id, file) in [("a@example.org", "a.c"), ("b@example.org", "b.c")] {
        let mbox = mail_series(&w.project, id, &[(file, "new\n")]);
        w.patchew.add_series(id, &format!("[PATCH] {id}"), mbox);
        assert!(run_applier(&w, &w.mirror, &[]).status.success());
    }
    let tip = |id: &str| {
        w.project.git_in(
            &w.hub,
            &["rev-parse", &format!("refs/tags/patchew/{id}^{{commit}}")],
        )
    };
    let (a_tip, b_tip) = (tip("a@example.org"), tip("b@example.org"));
    // The single patch carries the Based-on lines below its "---", as Patchew's mbox
    // of a one-patch series does.
    let two_bases = "---\nBased-on: <a@example.org>\nBased-on: <b@example.org>\n";
    let one_missing = "---\nBased-on: <a@example.org>\nBased-on: <gone@example.org>\n";
    for (id, lines) in [("m@example.org", two_bases), ("n@example.org", one_missing)] {
        let mbox = mail_series(&w.project, id, &[("main.c", "int x = 3;\n")]);
        w.patchew.add_series(
            id,
            &format!("[PATCH] {id}"),
            mbox.replacen("---\n", lines, 1),
        );
        w.patchew.set_based_on(
            id,
            json!({"repo": w.hub.to_str().unwrap(), "tag": "refs/tags/patchew/a@example.org"}),
        );
        run_applier(&w, &w.mirror, &[]);
    }

    let put = final_put(&w, "m@example.org");
    assert_eq!(put["status"], "success", "{put}");
    let log = put["log"].as_str().unwrap();
    assert!(
        log.contains("Base: the series' Based-on lines, merged"),
        "{log}"
    );
    let base = put["data"]["base"].as_str().unwrap();
    let parents = w.project.git_in(
        &w.hub,
        &["rev-parse", &format!("{base}^1"), &format!("{base}^2")],
    );
    assert_eq!(parents, format!("{a_tip}\n{b_tip}"));
    // C git: merge the two tags, then am the patch; the same files (the CI file
    // aside, which the applier amends).
    let check = w.project.clone_to("check", &[]);
    w.project.git_in(
        &check,
        &[
            "fetch",
            "-q",
            w.hub.to_str().unwrap(),
            "refs/tags/*:refs/tags/*",
        ],
    );
    w.project
        .git_in(&check, &["checkout", "-q", "--detach", &a_tip]);
    w.project
        .git_in(&check, &["merge", "-q", "--no-edit", &b_tip]);
    let patch = mail_series(&w.project, "m@example.org", &[("main.c", "int x = 3;\n")]);
    let am = w
        .project
        .git_with_input(&check, &["am", "-q"], patch.as_bytes());
    assert!(am.status.success(), "{}", stderr(&am));
    let ours = "refs/tags/patchew/m@example.org";
    let diff = w
        .project
        .command("git", &check)
        .args([
            "diff",
            "--quiet",
            "HEAD",
            ours,
            "--",
            ".",
            ":(exclude).gitlab-ci.yml",
        ])
        .output()
        .unwrap();
    assert!(diff.status.success(), "the trees differ");

    let put = final_put(&w, "n@example.org");
    assert_eq!(put["status"], "failure", "{put}");
    let log = put["log"].as_str().unwrap();
    assert!(
        log.contains("refs/tags/patchew/gone@example.org") && log.contains("error: "),
        "{log}"
    );
    assert!(!hub_tags(&w).contains(&"patchew/n@example.org".to_owned()));
}

#[test]
fn empty_queue_exits_3() {
    let w = world();
    assert_eq!(run_applier(&w, &w.mirror, &[]).status.code(), Some(3));
}

#[test]
fn server_errors_retry_then_work_and_down_or_unauthorised_exit_4() {
    let w = world();
    let mbox = mail_series(
        &w.project,
        "retry@example.org",
        &[("main.c", "int x = 3;\n")],
    );
    w.patchew
        .add_series("retry@example.org", "[PATCH] retry", mbox);
    w.server
        .interject("GET", "/api/v1/series/unapplied/", vec![Reply::status(500)]);
    let out = run_applier(&w, &w.mirror, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        w.server
            .requests_to("GET", "/api/v1/series/unapplied/")
            .len(),
        2
    );

    // Wrong token: the claim is refused with 401, and nothing is applied.
    let again = mail_series(
        &w.project,
        "token@example.org",
        &[("main.c", "int x = 4;\n")],
    );
    w.patchew
        .add_series("token@example.org", "[PATCH] token", again);
    let out = w
        .project
        .command(env!("CARGO_BIN_EXE_git-patchew"), &w.mirror)
        .env("PATCHEW_TOKEN", "wrong-token")
        .args(["applier", "--once", "-v"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = stderr(&out);
    assert!(
        err.contains("401") || err.to_lowercase().contains("unauthori"),
        "{err}"
    );
    assert!(!err.contains("wrong-token"));
    assert_eq!(w.patchew.git("token@example.org").status, "pending");

    // Server down.
    config(&w, &w.mirror, "patchew.server", &refused_url());
    config(&w, &w.mirror, "patchew.httpRetries", "1");
    let out = run_applier(&w, &w.mirror, &[]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("127.0.0.1"), "{}", stderr(&out));
}

/// Runs `applier --once` until the queue is empty, as the systemd unit does.
fn drain(w: &World, mirror: &Path) -> Vec<(i32, String)> {
    let mut runs = Vec::new();
    for _ in 0..20 {
        let out = run_applier(w, mirror, &["-v"]);
        let code = out.status.code().unwrap_or(-1);
        runs.push((code, stderr(&out)));
        if code != 0 && code != 1 {
            break;
        }
    }
    runs
}

/// Two appliers drain one queue at the default (measured) settle: each series is
/// applied, pushed and reported once.
#[test]
fn two_appliers_apply_each_series_exactly_once() {
    let w = world();
    let second = add_mirror(&w, "mirror2.git");
    for (mirror, name) in [(&w.mirror, "applier-a"), (&second, "applier-b")] {
        config(&w, mirror, "patchew.applierName", name);
        w.project
            .git_in(mirror, &["config", "--unset", "patchew.claimSettle"]);
    }
    // Every push that moves a tag leaves a reflog entry.
    w.project
        .git_in(&w.hub, &["config", "core.logAllRefUpdates", "always"]);
    let ids: Vec<String> = (1..=5).map(|i| format!("s{i}@example.org")).collect();
    for (i, id) in ids.iter().enumerate() {
        let file = format!("f{i}.c");
        let mbox = mail_series(&w.project, id, &[(&file, "x\n")]);
        w.patchew.add_series(id, &format!("[PATCH] {file}"), mbox);
    }

    let start = std::sync::Barrier::new(2);
    let (runs_a, runs_b) = std::thread::scope(|s| {
        let a = s.spawn(|| {
            start.wait();
            drain(&w, &w.mirror)
        });
        let b = s.spawn(|| {
            start.wait();
            drain(&w, &second)
        });
        (a.join().unwrap(), b.join().unwrap())
    });
    let runs: Vec<&(i32, String)> = runs_a.iter().chain(&runs_b).collect();
    assert!(
        runs.iter().all(|(code, _)| [0, 3].contains(code)),
        "{runs:#?}"
    );

    let mut by = std::collections::BTreeMap::new();
    for id in &ids {
        let put = final_put(&w, id);
        assert_eq!(put["status"], "success", "{put}");
        let claims = result_puts(&w, id)
            .into_iter()
            .filter(|p| p["status"] == "running")
            .count();
        assert!(claims >= 1, "{id} was never claimed");
        let winner = w.patchew.git(id);
        assert_eq!(winner.status, "success");
        *by.entry(claims).or_insert(0) += 1;
    }
    let mut tags = hub_tags(&w);
    tags.sort();
    let expected: Vec<String> = ids.iter().map(|id| format!("patchew/{id}")).collect();
    assert_eq!(tags, expected);
    for tag in &tags {
        // The reflog file itself: `git reflog show` skips entries that point to an
        // annotated tag object rather than a commit.
        let updates =
            std::fs::read_to_string(w.hub.join("logs/refs/tags").join(tag)).unwrap_or_default();
        assert_eq!(updates.lines().count(), 1, "{tag} pushed more than once");
    }
    // Both appliers did work, or one lost every race: either way each series once.
    let count =
        |what: &str| -> usize { runs.iter().map(|(_, err)| err.matches(what).count()).sum() };
    eprintln!(
        "series by number of claims: {by:?}; found claimed: {}; claims lost while settling: {}",
        count("skipping <"),
        count("gave up <")
    );
}

#[test]
fn a_stale_claim_is_taken_over_and_a_fresh_one_left_alone() {
    let w = world();
    config(&w, &w.mirror, "patchew.claimTimeout", "600");
    w.project
        .git_in(&w.hub, &["config", "receive.advertisePushOptions", "true"]);
    let dead = mail_series(&w.project, "dead@example.org", &[("a.c", "a\n")]);
    let busy = mail_series(&w.project, "busy@example.org", &[("b.c", "b\n")]);
    w.patchew
        .add_series("dead@example.org", "[PATCH] dead", dead);
    w.patchew
        .add_series("busy@example.org", "[PATCH] busy", busy);
    let claim = |who: &str, age: i64| {
        json!({"applier": who, "pid": 42, "claim": format!("{who}/42/1"),
               "claimed_at": format!("{}Z", naive_utc(now() - age)),
               "git.push_options": "ci.skip"})
    };
    w.patchew
        .set_git("dead@example.org", "running", claim("crashed-host", 7200));
    w.patchew
        .set_git("busy@example.org", "running", claim("busy-host", 30));

    let out = run_applier(&w, &w.mirror, &["-v"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("re-queued <dead@example.org>"),
        "{}",
        stderr(&out)
    );
    let puts = result_puts(&w, "dead@example.org");
    let statuses: Vec<&str> = puts.iter().map(|p| p["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["pending", "running", "success"]);
    // The queue's push options survive the claims, as Patchew keeps them in data;
    // the dead applier counts as a give-back.
    assert_eq!(
        puts[0]["data"],
        json!({"git.push_options": "ci.skip", "give_backs": [
            "the applier crashed-host (pid 42) stopped without reporting: its claim went stale"
        ]})
    );
    assert_eq!(puts[1]["data"]["git.push_options"], "ci.skip");
    assert_eq!(puts[1]["data"]["give_backs"], puts[0]["data"]["give_backs"]);
    assert_eq!(hub_tags(&w), ["patchew/dead@example.org"]);
    assert!(puts[2]["data"].get("give_backs").is_none(), "{:?}", puts[2]);

    // The fresh claim is someone's work in progress.
    assert_eq!(run_applier(&w, &w.mirror, &[]).status.code(), Some(3));
    assert!(result_puts(&w, "busy@example.org").is_empty());
    assert_eq!(w.patchew.git("busy@example.org").status, "running");
}

/// A series whose applier died on it as many times as `patchew.giveBackLimit`
/// allows, then once more (out of memory, say), is reported as failed when it is
/// taken again, without another try that could kill this applier too.
#[test]
fn a_series_that_keeps_killing_its_applier_is_reported_failed() {
    let w = world();
    config(&w, &w.mirror, "patchew.claimTimeout", "600");
    config(&w, &w.mirror, "patchew.giveBackLimit", "1");
    let mbox = mail_series(&w.project, "killer@example.org", &[("a.c", "a\n")]);
    w.patchew
        .add_series("killer@example.org", "[PATCH] killer", mbox);
    let stale = json!({"applier": "host-b", "pid": 9, "claim": "host-b/9/1",
                       "claimed_at": format!("{}Z", naive_utc(now() - 7200)),
                       "give_backs": ["the applier host-a (pid 8) stopped without reporting: its claim went stale"]});
    w.patchew.set_git("killer@example.org", "running", stale);

    let out = run_applier(&w, &w.mirror, &["-v"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let git = w.patchew.git("killer@example.org");
    assert_eq!(git.status, "failure", "{git:?}");
    let log = git.log.unwrap_or_default();
    assert!(log.contains("gave up after 2 attempts"), "{log}");
    assert!(log.contains("patchew.giveBackLimit is 1"), "{log}");
    assert!(
        log.contains("attempt 1: the applier host-a (pid 8)"),
        "{log}"
    );
    assert!(
        log.contains("attempt 2: the applier host-b (pid 9)"),
        "{log}"
    );
    assert!(hub_tags(&w).is_empty(), "it was not applied again");
}

#[test]
fn a_series_the_queue_still_lists_but_another_applier_holds_is_skipped() {
    let w = world();
    let mbox = mail_series(&w.project, "held@example.org", &[("a.c", "a\n")]);
    w.patchew
        .add_series("held@example.org", "[PATCH] held", mbox);
    let fresh = json!({"applier": "other-host", "pid": 7, "claim": "other-host/7/1",
                       "claimed_at": format!("{}Z", naive_utc(now() - 5))});
    w.patchew.set_git("held@example.org", "running", fresh);
    // The queue lags behind the claim (both listings of this run).
    let reply = w.patchew.queue_page(&["held@example.org"]);
    w.server.interject(
        "GET",
        "/api/v1/series/unapplied/",
        vec![reply.clone(), reply],
    );
    let out = run_applier(&w, &w.mirror, &["-v"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("skipping <held@example.org>: claimed by other-host (pid 7)"),
        "{}",
        stderr(&out)
    );
    assert!(result_puts(&w, "held@example.org").is_empty());
    assert!(hub_tags(&w).is_empty());
}

#[test]
fn a_series_re_queued_while_being_applied_is_neither_pushed_nor_reported_twice() {
    let w = world();
    w.project
        .git_in(&w.hub, &["config", "receive.advertisePushOptions", "true"]);
    let mbox = mail_series(&w.project, "requeued@example.org", &[("a.c", "a\n")]);
    w.patchew
        .add_series("requeued@example.org", "[PATCH] requeued", mbox);
    // Right after the claim, while the series is applied, a reply adds a trailer
    // and Patchew re-queues the series, before the check before pushing.
    let out = run_applier_and_on_claim(&w, "requeued@example.org", || {
        w.patchew.set_git(
            "requeued@example.org",
            "pending",
            json!({"git.push_options": "ci.skip"}),
        )
    });
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("gave up <requeued@example.org>"),
        "{}",
        stderr(&out)
    );
    assert!(
        hub_tags(&w).is_empty(),
        "pushed by an applier that lost its claim"
    );
    let puts = result_puts(&w, "requeued@example.org");
    assert_eq!(puts.len(), 1, "only the claim: {puts:?}");
    assert_eq!(w.patchew.git("requeued@example.org").status, "pending");

    // The next run applies the re-queued series, with its new push option.
    let out = run_applier(&w, &w.mirror, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(final_put(&w, "requeued@example.org")["status"], "success");
    assert_eq!(hub_tags(&w), ["patchew/requeued@example.org"]);
    let claims: Vec<Value> = result_puts(&w, "requeued@example.org")
        .into_iter()
        .filter(|p| p["status"] == "running")
        .collect();
    assert_eq!(claims[1]["data"]["git.push_options"], "ci.skip");
}

/// Runs `applier --once -v` (claims settle for 1 s) and, as soon as its claim of
/// `id` has landed, `then` (on the test's side, as another applier or Patchew would).
fn run_applier_and_on_claim(w: &World, id: &str, then: impl FnOnce() + Send) -> Output {
    use std::time::{Duration, Instant};
    config(w, &w.mirror, "patchew.claimSettle", "1");
    let path = w.patchew.result_path(id);
    std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            let until = Instant::now() + Duration::from_secs(60);
            while w.server.requests_to("PUT", &path).is_empty() {
                assert!(Instant::now() < until, "the applier never claimed {id}");
                std::thread::sleep(Duration::from_millis(1));
            }
            then();
        });
        let out = run_applier(w, &w.mirror, &["-v"]);
        watcher.join().unwrap();
        out
    })
}

/// Another applier's claim lands while ours settles (the series is being applied
/// in the mirror meanwhile): the work is thrown away, no tag on the hub, no result.
#[test]
fn a_claim_lost_during_the_settle_leaves_no_tag_and_no_result() {
    let w = world();
    let id = "contested@example.org";
    let mbox = mail_series(&w.project, id, &[("a.c", "a\n")]);
    w.patchew.add_series(id, "[PATCH] contested", mbox);
    let theirs = json!({"applier": "other-host", "pid": 7, "claim": "other-host/7/1",
                        "claimed_at": format!("{}Z", naive_utc(now()))});
    let out = run_applier_and_on_claim(&w, id, || w.patchew.set_git(id, "running", theirs.clone()));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains(&format!("gave up <{id}>")), "{err}");
    assert!(hub_tags(&w).is_empty(), "pushed without the claim");
    assert_eq!(result_puts(&w, id).len(), 1, "only our claim");
    let git = w.patchew.git(id);
    assert_eq!((git.status.as_str(), &git.data), ("running", &theirs));
}

#[test]
fn maintainers_come_from_the_configured_command() {
    let w = world();
    let script = "#!/bin/sh\n\
        find . -type f | sort > \"$LISTING\"\n\
        cat MAINTAINERS\n\
        sed -n 's|^+++ b/\\(.*\\)|Toucher <\\1@example.org> (rolestats)|p'\n";
    w.project.write("scripts/get_maintainer.sh", script);
    w.project.write(
        "MAINTAINERS",
        "Alice Maint <alice@example.org>\nqemu-devel@nongnu.org\n",
    );
    w.project.write("docs/big.txt", "not needed\n");
    use std::os::unix::fs::PermissionsExt;
    let perms = std::fs::Permissions::from_mode(0o755);
    std::fs::set_permissions(w.project.path.join("scripts/get_maintainer.sh"), perms).unwrap();
    w.project.commit("tools");
    config(
        &w,
        &w.mirror,
        "patchew.maintainersCommand",
        "scripts/get_maintainer.sh --norolestats",
    );
    // The series also rewrites the script: the base's copy must run all the same.
    let mbox = mail_series(
        &w.project,
        "maint@example.org",
        &[
            ("hw/dev.c", "dev\n"),
            (
                "scripts/get_maintainer.sh",
                "#!/bin/sh\necho 'Evil <evil@example.org>'\n",
            ),
        ],
    );
    w.patchew
        .add_series("maint@example.org", "[PATCH 0/2] maint", mbox);
    let listing = w.project.scratch("listing.txt");
    let out = w
        .project
        .command(env!("CARGO_BIN_EXE_git-patchew"), &w.mirror)
        .env("PATCHEW_TOKEN", TOKEN)
        .env("LISTING", &listing)
        .args(["applier", "--once"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let put = final_put(&w, "maint@example.org");
    assert_eq!(put["status"], "success", "{put}");
    let log = put["log"].as_str().unwrap();
    assert!(!log.contains("warning"), "{log}");

    let patches = w
        .server
        .requests_to("PATCH", &w.patchew.series_path("maint@example.org"));
    assert_eq!(patches.len(), 1);
    let body: Value = serde_json::from_str(&patches[0].body_text()).unwrap();
    let expected = [
        "Alice Maint <alice@example.org>",
        "Toucher <hw/dev.c@example.org>",
        "Toucher <scripts/get_maintainer.sh@example.org>",
    ];
    assert_eq!(body, json!({ "maintainers": expected }));
    assert_eq!(w.patchew.series("maint@example.org").maintainers, expected);
    let files = std::fs::read_to_string(&listing).unwrap();
    assert_eq!(
        files.lines().collect::<Vec<_>>(),
        ["./MAINTAINERS", "./hw/dev.c", "./scripts/get_maintainer.sh"]
    );
}

#[test]
fn a_series_cannot_supply_the_maintainers_command_it_is_run_with() {
    let w = world();
    config(
        &w,
        &w.mirror,
        "patchew.maintainersCommand",
        "scripts/get_maintainer.sh",
    );
    let marker = w.project.scratch("owned");
    let evil = format!(
        "#!/bin/sh\ntouch '{}'\necho 'Evil <evil@example.org>'\n",
        marker.display()
    );
    let mbox = mail_series(
        &w.project,
        "evil@example.org",
        &[("scripts/get_maintainer.sh", &evil)],
    );
    w.patchew
        .add_series("evil@example.org", "[PATCH] evil", mbox);
    let out = run_applier(&w, &w.mirror, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let put = final_put(&w, "evil@example.org");
    assert!(
        put["log"].as_str().unwrap().contains("not running it"),
        "{put}"
    );
    assert!(!marker.exists(), "the series' own script ran");
    let series = w.patchew.series_path("evil@example.org");
    assert!(w.server.requests_to("PATCH", &series).is_empty());
}

/// A clone with a worktree at the project's `main`, for `git am`.
fn am_clone(w: &World, name: &str) -> PathBuf {
    w.project.clone_to(name, &[])
}

fn messages(w: &World, repo: &Path, range: &str) -> Vec<String> {
    let log = w
        .project
        .git_in(repo, &["log", "--reverse", "--format=%B%x00", range]);
    log.split('\0')
        .map(|m| m.trim_matches('\n').to_owned())
        .filter(|m| !m.is_empty())
        .collect()
}

#[test]
fn applier_commits_carry_message_ids_exactly_as_git_am_m() {
    let w = world();
    let mbox = mail_series(
        &w.project,
        "mid_1/x@example.org",
        &[("a.c", "a\n"), ("b.c", "b\n")],
    );
    let id = "mid._5F1._2Fx@example.org";
    w.patchew.add_series(id, "[PATCH 0/2] mid", mbox.clone());
    let out = run_applier(&w, &w.mirror, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let base = w.project.git(&["rev-parse", "main"]);
    // The series' commits; the include is in a commit of its own on top.
    let ours = messages(&w, &w.hub, &format!("{base}..patchew/{id}~1"));

    let clone = am_clone(&w, "am.git");
    let am = w
        .project
        .git_with_input(&clone, &["am", "-q", "-m"], mbox.as_bytes());
    assert!(am.status.success(), "{}", stderr(&am));
    let theirs = messages(&w, &clone, "origin/main..HEAD");
    assert_eq!(ours, theirs);
    assert!(
        theirs[0].ends_with("Message-ID: <mid_1/x@example.org.1>"),
        "{theirs:?}"
    );
}

#[test]
fn apply_signoff_matches_git_am_s() {
    let w = world();
    let committer = "Signed-off-by: C O Mitter <committer@example.com>";
    let author = "Signed-off-by: A U Thor <author@example.com>";
    let cases = [
        ("none", String::new()),
        ("author", format!("\n\n{author}")),
        ("committer last", format!("\n\n{author}\n{committer}")),
        ("committer first", format!("\n\n{committer}\n{author}")),
    ];
    for (i, (case, trailers)) in cases.iter().enumerate() {
        let file = format!("s{i}.c");
        w.project.write(&file, "x\n");
        w.project
            .commit(&format!("change {file}\n\nWhy it changes.{trailers}"));
        let mbox = w.project.git(&["format-patch", "--stdout", "-1", "HEAD"]);
        w.project.git(&["reset", "-q", "--hard", "HEAD~1"]);
        let mbox = mbox.replacen(
            "Subject:",
            &format!("Message-Id: <so{i}@example.org>\nSubject:"),
            1,
        );
        for flags in [&["-s"][..], &["-s", "-m"][..]] {
            let clone = am_clone(&w, &format!("am-{i}-{}", flags.len()));
            let mut args = vec!["am", "-q"];
            args.extend_from_slice(flags);
            let am = w.project.git_with_input(&clone, &args, mbox.as_bytes());
            assert!(am.status.success(), "{}", stderr(&am));
            let theirs = messages(&w, &clone, "origin/main..HEAD");

            let mbox_file = w.project.scratch(&format!("so{i}.mbox"));
            std::fs::write(&mbox_file, &mbox).unwrap();
            let ours_repo = w
                .project
                .clone_to(&format!("ours-{i}-{}", flags.len()), &[]);
            let mut args = vec![
                "apply",
                "--mbox",
                mbox_file.to_str().unwrap(),
                "--no-ci",
                "--no-tag",
            ];
            args.push(if flags.len() == 2 {
                "--message-id"
            } else {
                "--no-message-id"
            });
            args.push("-s");
            let out = w.project.patchew(&ours_repo, &args);
            assert!(out.status.success(), "{case}: {}", stderr(&out));
            let head = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            let ours = messages(&w, &ours_repo, &format!("origin/main..{head}"));
            assert_eq!(ours, theirs, "{case} {flags:?}");
        }
    }
}

/// A token whose user is not in `importers` (README once said `testers` was
/// enough): Patchew refuses the claim with 403. The applier says so in one line
/// naming the group, writes nothing, and stops instead of trying the refused write
/// again every round, `--once` or not.
#[test]
fn a_token_outside_importers_stops_the_applier_with_one_clear_line() {
    const TESTER: &str = "tester-only-token-s3cret";
    let w = world();
    w.patchew.add_user("tester", TESTER, Role::Tester);
    let mbox = mail_series(&w.project, "refused@example.org", &[("a.c", "a\n")]);
    w.patchew
        .add_series("refused@example.org", "[PATCH] refused", mbox);
    let wanted = "HTTP 403: this token's user is not in the importers group";

    let out = run_applier_as(&w, &w.mirror, TESTER, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains(wanted), "{err}");
    assert!(!err.contains(TESTER), "{err}");

    // As a service (no --once, a round every second): the same line, and it stops.
    let child = w
        .project
        .command(env!("CARGO_BIN_EXE_git-patchew"), &w.mirror)
        .env("PATCHEW_TOKEN", TESTER)
        .args(["applier", "--interval", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = output_within(child, Duration::from_secs(30));
    let (status, err) = (out.status, stderr(&out));
    assert_eq!(status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(wanted), "{err}");

    // One refused claim per run, nothing written, the series still queued.
    let puts = w.patchew.write_attempts();
    assert_eq!(puts.len(), 2, "{puts:?}");
    assert!(puts.iter().all(|p| p.status == 403 && p.user == "tester"));
    assert!(w.patchew.writes().is_empty());
    assert_eq!(w.patchew.git("refused@example.org").status, "pending");
    assert!(hub_tags(&w).is_empty());
}

/// A series whose patches reached mainline meanwhile (applied upstream, then the
/// branch moved on) does not apply again: it is reported as already in mainline,
/// with the commits, and nothing is tagged or pushed.
#[test]
fn a_series_already_in_mainline_is_reported_with_its_commits() {
    already_in_mainline(true);
}

/// The same when upstream left the lines alone: every patch then merges to no change.
#[test]
fn a_series_applied_upstream_as_is_is_reported_with_its_commits() {
    already_in_mainline(false);
}

fn already_in_mainline(upstream_moved_on: bool) {
    let w = world();
    let id = "again@example.org";
    let mbox = mail_series(
        &w.project,
        id,
        &[("a.c", "a\n"), ("main.c", "int x = 2;\n")],
    );
    w.patchew.add_series(id, "[PATCH 0/2] again", mbox);
    // Upstream takes the same two changes (by git am, as a maintainer would), then
    // moves on, changing the lines around them.
    let mbox_again = mail_series(
        &w.project,
        "upstream@example.org",
        &[("a.c", "a\n"), ("main.c", "int x = 2;\n")],
    );
    let mbox_file = w.project.scratch("upstream.mbox");
    std::fs::write(&mbox_file, mbox_again).unwrap();
    w.project.git(&["am", "-q", mbox_file.to_str().unwrap()]);
    let merged: Vec<String> = w
        .project
        .git(&["rev-list", "--reverse", "HEAD~2..HEAD"])
        .lines()
        .map(str::to_owned)
        .collect();
    if upstream_moved_on {
        w.project.write("main.c", "int x = 3;\n");
        w.project.write("a.c", "b\n");
    } else {
        w.project.write("b.c", "b\n");
    }
    w.project.commit("later");

    let out = run_applier(&w, &w.mirror, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let put = final_put(&w, id);
    assert_eq!(put["status"], "success", "{put}");
    assert_eq!(put["data"], json!({}));
    let log = put["log"].as_str().unwrap();
    assert!(
        log.contains(&format!(
            "The series is already in mainline as {}, {}: not applied again, no pipeline.\n",
            merged[0], merged[1]
        )),
        "{log}"
    );
    assert!(!log.contains("error:"), "{log}");
    assert!(hub_tags(&w).is_empty(), "nothing pushed");
}

/// A series Patchew marks merged is not applied: no fetch, no tag, no pipeline.
#[test]
fn a_series_patchew_marks_merged_is_skipped() {
    let w = world();
    let id = "merged@example.org";
    let mbox = mail_series(&w.project, id, &[("main.c", "int x = 2;\n")]);
    w.patchew.add_series(id, "[PATCH] merged", mbox);
    w.patchew.set_merged(id);
    let out = run_applier(&w, &w.mirror, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let put = final_put(&w, id);
    assert_eq!(put["status"], "success", "{put}");
    assert_eq!(put["data"], json!({}));
    assert!(
        put["log"].as_str().unwrap().contains("already merged"),
        "{put}"
    );
    assert!(hub_tags(&w).is_empty(), "nothing pushed");
    // Not even its mbox was read.
    assert!(w
        .server
        .requests()
        .iter()
        .all(|r| !r.path().ends_with("/mbox/")));
}

/// The base series' tag expired and was pruned from the hub: the series is applied
/// on the project's branch (what the base rules give next) and its log says why.
#[test]
fn a_series_based_on_a_pruned_tag_is_applied_on_the_branch_and_says_so() {
    let w = world();
    let first = mail_series(&w.project, "gone@example.org", &[("a.c", "a\n")]);
    w.patchew
        .add_series("gone@example.org", "[PATCH] gone", first);
    assert!(run_applier(&w, &w.mirror, &[]).status.success());
    let gone = "refs/tags/patchew/gone@example.org";
    w.project.git_in(&w.hub, &["update-ref", "-d", gone]);
    w.project.git_in(&w.mirror, &["update-ref", "-d", gone]);

    let second = mail_series(&w.project, "after@example.org", &[("b.c", "b\n")]);
    w.patchew
        .add_series("after@example.org", "[PATCH] after", second);
    w.patchew.set_based_on(
        "after@example.org",
        json!({"repo": w.hub.to_str().unwrap(), "tag": gone}),
    );
    let out = run_applier(&w, &w.mirror, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let put = final_put(&w, "after@example.org");
    assert_eq!(put["status"], "success");
    let main = w.project.git(&["rev-parse", "main"]);
    assert_eq!(put["data"]["base"].as_str(), Some(main.as_str()));
    let log = put["log"].as_str().unwrap();
    assert!(
        log.contains(&format!("warning: the Based-on tag {gone} is gone from")),
        "{log}"
    );
}

/// An applier killed with SIGKILL while it writes a series' tag in its mirror, so
/// holding the ref locks: the next round removes the locks it left (nobody lives in
/// the mirror), puts the killed series back in the queue at once (its claim names
/// this host and a dead pid), applies the next series, and the killed one later.
/// While a live process works in the mirror the locks are left alone.
#[test]
fn a_killed_applier_leaves_nothing_that_stops_the_next_round() {
    use std::time::{Duration, Instant};
    let w = world();
    let killed = mail_series(&w.project, "killed@example.org", &[("k.c", "k\n")]);
    w.patchew
        .add_series("killed@example.org", "[PATCH] killed", killed);
    // The tag's reflog as a FIFO: writing the tag opens it to append (every ref
    // keeps a reflog here), and that open blocks, with the ref locks taken, until
    // someone reads: the moment to kill.
    config(&w, &w.mirror, "core.logAllRefUpdates", "always");
    let reflog = w.mirror.join("logs/refs/tags/patchew/killed@example.org");
    std::fs::create_dir_all(reflog.parent().unwrap()).unwrap();
    let made = w
        .project
        .command("mkfifo", &w.mirror)
        .arg(&reflog)
        .status()
        .unwrap();
    assert!(made.success());
    let mut applier = w
        .project
        .command(env!("CARGO_BIN_EXE_git-patchew"), &w.mirror)
        .env("PATCHEW_TOKEN", TOKEN)
        .args(["applier", "--once"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lock = w.mirror.join("packed-refs.lock");
    let tag_lock = w.mirror.join("refs/tags/patchew/killed@example.org.lock");
    let until = Instant::now() + Duration::from_secs(60);
    while !(lock.exists() && tag_lock.exists()) {
        assert!(
            Instant::now() < until,
            "the applier never took the tag's locks"
        );
        assert!(
            applier.try_wait().unwrap().is_none(),
            "the applier ended before writing the tag"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    applier.kill().unwrap(); // SIGKILL
    applier.wait().unwrap();
    std::fs::remove_file(&reflog).unwrap();
    assert!(lock.exists() && tag_lock.exists());
    assert_eq!(w.patchew.git("killed@example.org").status, "running");
    assert!(!w
        .project
        .has_ref(&w.hub, "refs/tags/patchew/killed@example.org"));

    let next = mail_series(&w.project, "next@example.org", &[("n.c", "n\n")]);
    w.patchew
        .add_series("next@example.org", "[PATCH] next", next);
    // While a live process works in the mirror, its locks are left alone and the
    // series given back.
    let mut live = w
        .project
        .command("sleep", &w.mirror)
        .arg("60")
        .spawn()
        .unwrap();
    let out = run_applier(&w, &w.mirror, &[]);
    assert!(lock.exists() && tag_lock.exists(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("held by live processes"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("removed "), "{}", stderr(&out));
    // The killed series went back to the queue at once, not after claimTimeout.
    assert!(
        stderr(&out).contains("re-queued <killed@example.org>"),
        "{}",
        stderr(&out)
    );

    live.kill().unwrap();
    live.wait().unwrap();
    let out = run_applier(&w, &w.mirror, &["-v"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("packed-refs.lock: left by a process that died"),
        "{err}"
    );
    assert!(!lock.exists() && !tag_lock.exists());
    // Both series get applied and reported, the killed one included.
    let _ = run_applier(&w, &w.mirror, &[]);
    for id in ["killed@example.org", "next@example.org"] {
        assert_eq!(final_put(&w, id)["status"], "success", "{id}");
        assert!(w
            .project
            .has_ref(&w.hub, &format!("refs/tags/patchew/{id}")));
    }
}

/// The status file and the Prometheus metrics after rounds that applied, failed and
/// gave a series back; `doctor` on no status, a fresh one and a stale one.
#[test]
fn every_round_leaves_its_state_for_a_monitor_and_doctor_reads_it() {
    use std::os::unix::fs::PermissionsExt;
    let w = world();
    let metrics = w.project.scratch("textfile/git-patchew.prom");
    config(
        &w,
        &w.mirror,
        "patchew.metricsFile",
        metrics.to_str().unwrap(),
    );
    let status_file = w.mirror.join("patchew-applier/status.json");
    let status =
        || -> Value { serde_json::from_slice(&std::fs::read(&status_file).unwrap()).unwrap() };
    let doctor_line = |dir: &Path| {
        let out = w.project.patchew(dir, &["doctor"]);
        stdout(&out)
            .lines()
            .find(|l| l.contains(" applier: "))
            .map(str::to_owned)
            .unwrap_or_default()
    };
    assert!(doctor_line(&w.mirror).starts_with("skip applier: no applier has run"));

    let good = mail_series(
        &w.project,
        "good@example.org",
        &[("main.c", "int x = 5;\n")],
    );
    w.patchew
        .add_series("good@example.org", "[PATCH] good", good);
    assert_eq!(run_applier(&w, &w.mirror, &[]).status.code(), Some(0));
    let s = status();
    assert_eq!(
        (s["rounds"].as_u64(), s["applied"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(s["round_finished"].as_i64().unwrap() >= s["round_started"].as_i64().unwrap());

    // Conflicts with what main has meanwhile: a failure.
    let bad = mail_series(&w.project, "bad@example.org", &[("main.c", "int x = 6;\n")]);
    w.project.write("main.c", "int x = 9;\n");
    w.project.commit("main moves on");
    w.patchew.add_series("bad@example.org", "[PATCH] bad", bad);
    assert_eq!(run_applier(&w, &w.mirror, &[]).status.code(), Some(1));
    assert_eq!(status()["failed"].as_u64(), Some(1));

    // The hub refuses every push: given back.
    let hook = w.hub.join("hooks/pre-receive");
    std::fs::write(&hook, "#!/bin/sh\nexit 1\n").unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let back = mail_series(&w.project, "back@example.org", &[("other.c", "o\n")]);
    w.patchew
        .add_series("back@example.org", "[PATCH] back", back);
    assert_eq!(run_applier(&w, &w.mirror, &[]).status.code(), Some(4));
    let s = status();
    assert_eq!(
        [
            &s["rounds"],
            &s["applied"],
            &s["failed"],
            &s["given_back"],
            &s["errors"]
        ]
        .map(|v| v.as_u64()),
        [Some(3), Some(1), Some(1), Some(1), Some(0)]
    );
    let text = std::fs::read_to_string(&metrics).unwrap();
    for line in [
        "git_patchew_applier_rounds_total{applier=",
        "git_patchew_applier_series_total{applier=",
    ] {
        assert!(text.contains(line), "{text}");
    }
    assert!(
        text.contains(",result=\"applied\"} 1\n")
            && text.contains(",result=\"failed\"} 1\n")
            && text.contains(",result=\"given_back\"} 1\n"),
        "{text}"
    );
    let end = s["round_finished"].as_i64().unwrap();
    assert!(
        text.contains(&format!(
            "_round_end_timestamp_seconds{{applier=\"{}\"}} {end}\n",
            s["applier"].as_str().unwrap()
        )),
        "{text}"
    );
    // Nothing half-written beside them.
    let names: Vec<String> = std::fs::read_dir(metrics.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["git-patchew.prom"]);

    assert!(
        doctor_line(&w.mirror).starts_with("ok   applier: the last round finished"),
        "{}",
        doctor_line(&w.mirror)
    );
    let mut s = status();
    s["round_started"] = (now() - 10_000).into();
    s["round_finished"] = (now() - 9_990).into();
    std::fs::write(&status_file, s.to_string()).unwrap();
    let line = doctor_line(&w.mirror);
    assert!(
        line.starts_with("FAIL applier: the last round finished 99"),
        "{line}"
    );
}

/// The round trip per phase (claim, fetch, apply, settle, check, push, report) against
/// the Patchew stand-in, at the default settings, at the old fixed `claimSettle` of
/// 2 s and with no settle at all, with the stand-in next door and answering 50 ms
/// late (a Patchew across a continent): every phase is logged, and the settle runs
/// during fetch and apply, so that only what is left of it is waited for: never
/// more than the settle (by default twice the claim's requests, at least 0.05 s),
/// none at 0. With `--nocapture` it prints the times and how much the settle adds
/// to the round trip: `contrib/bench-round-trip.sh` runs it in a release build.
#[test]
fn round_trip_by_phase_waits_only_for_what_is_left_of_the_settle() {
    let w = world();
    for (key, _) in SETTINGS {
        w.project.git_in(&w.mirror, &["config", "--unset", key]);
    }
    for (place, latency) in [("near", 0), ("50 ms away", 50)] {
        w.patchew
            .set_latency(std::time::Duration::from_millis(latency));
        let mut round_trips = Vec::new();
        for settle in [None, Some("2"), Some("0")] {
            let label = match settle {
                None => format!("{place}, default"),
                Some(v) => format!("{place}, claimSettle {v}"),
            };
            let set = match settle {
                Some(v) => vec!["config", "patchew.claimSettle", v],
                None => vec!["config", "--unset-all", "patchew.claimSettle"],
            };
            // --unset-all of an unset key exits 5: nothing to check.
            let _ = w.project.command("git", &w.mirror).args(&set).status();
            let phases = round_trip_phases(&w, &label, settle, 3);
            round_trips.push((label, phases));
        }
        let without = round_trips[2].1;
        for (label, phases) in &round_trips[..2] {
            eprintln!(
                "{label}: the settle adds {:.1}% to the round trip of claimSettle 0 ({phases:.3} s / {without:.3} s)",
                100.0 * (phases / without - 1.0)
            );
        }
    }
}

/// Applies `runs` one-patch series, one round each, checks every round's phases and
/// settle wait against `settle` (`None`: the default), prints their means under
/// `label`, and returns the mean round trip (the phases' sum) in seconds.
fn round_trip_phases(w: &World, label: &str, settle: Option<&str>, runs: usize) -> f64 {
    let mut totals = std::collections::BTreeMap::<String, f64>::new();
    let mut wall = 0.0;
    for _ in 0..runs {
        // The stand-in's call count only grows: a fresh id for every series.
        let n = w.patchew.log().len();
        let id = format!("bench-{n}@example.org");
        let mbox = mail_series(&w.project, &id, &[(&format!("bench-{n}.c"), "x\n")]);
        w.patchew.add_series(&id, "[PATCH] bench", mbox);
        let start = std::time::Instant::now();
        let out = run_applier(w, &w.mirror, &["-v"]);
        wall += start.elapsed().as_secs_f64();
        let err = stderr(&out);
        assert!(out.status.success(), "{err}");
        let (line, phases) = logged_round_trip(&err, &id);
        let settle_time = logged_settle(&err, &id);
        for phase in ["claim", "fetch", "apply", "check", "push", "report"] {
            assert!(phases.contains_key(phase), "{phase} not logged: {line}");
        }
        // Bounds the code sets, not speeds: the default settle is measured on the
        // claim, and the wait is what is left of the settle (none with no settle).
        match settle {
            None => assert!(
                (0.05..=(2.0 * phases["claim"]).max(0.05) + 0.001).contains(&settle_time),
                "{label}: settled {settle_time} s: {line}"
            ),
            Some(v) => assert_eq!(settle_time, v.parse::<f64>().unwrap()),
        }
        match phases.get("settle") {
            None => {}
            Some(_) if settle == Some("0") => panic!("{label}: waited with no settle: {line}"),
            Some(&s) => assert!(s <= settle_time + 0.001, "{label}: waited {s} s: {line}"),
        }
        for (name, secs) in phases {
            *totals.entry(name.to_owned()).or_default() += secs;
        }
    }
    let mean = |secs: f64| secs / runs as f64;
    let round_trip = mean(totals.values().sum());
    let settle_wait = mean(totals.get("settle").copied().unwrap_or(0.0));
    eprintln!(
        "{label}: process {:.3} s, phases {round_trip:.3} s a series; {}; settle wait {:.1}% of the round trip",
        mean(wall),
        totals
            .iter()
            .map(|(k, v)| format!("{k} {:.3} s", mean(*v)))
            .collect::<Vec<_>>()
            .join(", "),
        100.0 * settle_wait / round_trip
    );
    round_trip
}

/// The round trip `-v` logs for `id`: the line, and its phases in seconds.
fn logged_round_trip<'a>(
    err: &'a str,
    id: &str,
) -> (&'a str, std::collections::BTreeMap<&'a str, f64>) {
    let line = err
        .lines()
        .find_map(|l| l.strip_prefix(&format!("round trip of <{id}>: ")))
        .unwrap_or_else(|| panic!("no round trip line: {err}"));
    let phases = line
        .split(", ")
        .map(|part| {
            let (name, secs) = part.split_once(' ').unwrap();
            (name, secs.trim_end_matches(" s").parse().unwrap())
        })
        .collect();
    (line, phases)
}

/// What `-v` says the claim of `id` settles in, in seconds.
fn logged_settle(err: &str, id: &str) -> f64 {
    err.lines()
        .find_map(|l| l.strip_prefix(&format!("the claim of <{id}> settles in ")))
        .and_then(|s| s.strip_suffix(" s"))
        .unwrap_or_else(|| panic!("no settle line: {err}"))
        .parse()
        .unwrap()
}

/// By default the settle is measured on the claim's own requests: with a Patchew
/// whose every answer comes 150 ms late, the claim settles at least four times
/// that after it was written, however quick the claim is on a near server, and
/// the check before the push waits for it.
#[test]
fn the_default_settle_grows_with_patchews_round_trip() {
    let w = world();
    w.project
        .git_in(&w.mirror, &["config", "--unset", "patchew.claimSettle"]);
    let latency = 0.15;
    w.patchew
        .set_latency(std::time::Duration::from_secs_f64(latency));
    let id = "far@example.org";
    let mbox = mail_series(&w.project, id, &[("far.c", "far\n")]);
    w.patchew.add_series(id, "[PATCH] far", mbox);
    let out = run_applier(&w, &w.mirror, &["-v"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert_eq!(final_put(&w, id)["status"], "success");
    let settle = logged_settle(&err, id);
    assert!(settle >= 4.0 * latency, "settled {settle} s: {err}");
    let (line, phases) = logged_round_trip(&err, id);
    let phase = |name: &str| phases.get(name).copied().unwrap_or(0.0);
    // The check came no sooner than the settle after the claim.
    assert!(
        phase("fetch") + phase("apply") + phase("settle") >= settle - 0.001,
        "{line}"
    );
}

/// Every round deletes a batch of expired series tags on the ci-hub and in the
/// mirror; the series it just pushed (its result pending: watched) stays, and so
/// does everything outside the prefix.
#[test]
fn each_round_prunes_expired_tags() {
    let w = world();
    w.project.git_in(
        &w.mirror,
        &["remote", "add", "ci-hub", w.hub.to_str().unwrap()],
    );
    // The fixed test clock dates tags in 2023: long expired.
    w.project.git_in(
        &w.mirror,
        &["tag", "-a", "-m", "old", "patchew/old@example.org", "main"],
    );
    w.project
        .git_in(&w.mirror, &["tag", "-a", "-m", "v", "v1.0", "main"]);
    w.project.git_in(
        &w.mirror,
        &["push", "-q", w.hub.to_str().unwrap(), "--tags"],
    );
    let mbox = mail_series(&w.project, "fresh@example.org", &[("f.c", "f\n")]);
    w.patchew
        .add_series("fresh@example.org", "[PATCH] fresh", mbox);
    let out = run_applier(&w, &w.mirror, &["-v"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("prune: deleted refs/tags/patchew/old@example.org"),
        "{}",
        stderr(&out)
    );
    for dir in [&w.hub, &w.mirror] {
        assert!(!w.project.has_ref(dir, "refs/tags/patchew/old@example.org"));
        assert!(w.project.has_ref(dir, "refs/tags/v1.0"));
    }
    // The next round: the pushed series' result is pending, so its tag stays.
    let out = run_applier(&w, &w.mirror, &["-v"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(hub_tags(&w), ["patchew/fresh@example.org", "v1.0"]);
}
