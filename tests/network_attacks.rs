//! The applier against a hostile or failing Patchew: its token stays on the
//! configured server's origin, and trouble that is not the series' fault gives the
//! series back to the queue instead of reporting it as failed.

use crate::support;

use std::path::Path;
use std::process::Output;

use serde_json::{json, Value};
use support::applier::{CI_PLAIN, PUBLIC_URL, TOKEN};
use support::git::{stderr, TestRepo};
use support::patchew::naive_utc;
use support::{Reply, StandIn};

pub(crate) use support::applier::{hub_tags, one_patch, World};

/// A Patchew on 127.0.0.1 whose appliers try once, and soon give up.
pub(crate) fn world() -> World {
    support::applier::world(
        CI_PLAIN,
        &[
            ("patchew.httpRetries", "1"),
            ("patchew.httpTimeout", "3"),
            ("patchew.claimSettle", "0.05"),
        ],
    )
}

pub(crate) fn run_applier(w: &World, mirror: &Path) -> Output {
    support::applier::run_applier(w, mirror, &["-v"])
}

/// No request that reached `evil` carried the token, in any header or the body.
fn assert_token_never_reached(evil: &StandIn) {
    for r in evil.requests() {
        let leaked = r.headers.iter().any(|(_, v)| v.contains(TOKEN))
            || r.body_text().contains(TOKEN)
            || r.target.contains(TOKEN);
        assert!(!leaked, "token sent to the other origin: {r:?}");
    }
}

/// A queue entry whose URLs all point at `evil`.
fn queue_on(evil: &str, hub: &Path) -> Value {
    let series = format!("{evil}/api/v1/projects/1/series/x@y/");
    json!({"next": null, "previous": null, "results": [{
        "message_id": "x@y", "subject": "[PATCH] x", "is_complete": true,
        "resource_uri": series, "result_uri": format!("{series}results/git/"),
        "mbox_uri": format!("{series}mbox/"), "based_on": null, "push_options": null,
        "mirror": {"pushurl": hub.to_str().unwrap(), "url": PUBLIC_URL, "source": "x"},
    }]})
}

/// The other origin answers like a Patchew whose series is waiting.
fn evil_patchew() -> StandIn {
    let evil = StandIn::start_on("127.0.0.2");
    evil.route(
        "GET",
        "/api/v1/projects/1/series/x@y/results/git/",
        Reply::json(200, r#"{"name": "git", "status": "pending", "data": {}}"#),
    );
    evil.route(
        "PUT",
        "/api/v1/projects/1/series/x@y/results/git/",
        Reply::status(200),
    );
    evil
}

#[test]
fn urls_in_the_queue_naming_another_origin_never_get_the_token() {
    let w = world();
    let evil = evil_patchew();
    let queue = queue_on(&evil.url(), &w.hub);
    w.server.interject(
        "GET",
        "/api/v1/series/unapplied/",
        vec![Reply::json(200, &queue.to_string())],
    );
    let out = run_applier(&w, &w.mirror);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("refusing to send the token"), "{err}");
    assert!(err.contains("127.0.0.2"), "{err}");
    assert!(!err.contains(TOKEN), "{err}");
    assert_token_never_reached(&evil);
    assert!(evil
        .requests_to("PUT", "/api/v1/projects/1/series/x@y/results/git/")
        .is_empty());
    assert!(hub_tags(&w).is_empty());
}

#[test]
fn a_redirected_queue_that_answers_with_urls_on_its_own_host_never_gets_the_token() {
    let w = world();
    let evil = evil_patchew();
    evil.route(
        "GET",
        "/api/v1/series/unapplied/",
        Reply::json(200, &queue_on(&evil.url(), &w.hub).to_string()),
    );
    let moved = format!("{}/api/v1/series/unapplied/?limit=1", evil.url());
    w.server.interject(
        "GET",
        "/api/v1/series/unapplied/",
        vec![Reply::redirect(302, &moved)],
    );
    let out = run_applier(&w, &w.mirror);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("refusing to send the token"), "{err}");
    assert_eq!(
        evil.requests_to("GET", "/api/v1/series/unapplied/").len(),
        1
    );
    assert_token_never_reached(&evil);
}

#[test]
fn stale_claims_listed_on_another_origin_are_not_re_queued_with_the_token() {
    let w = world();
    let evil = StandIn::start_on("127.0.0.2");
    let stale = json!({"name": "git", "status": "running", "data": {"applier": "dead"},
        "last_update": naive_utc(1_000_000)});
    evil.route(
        "GET",
        "/api/v1/projects/1/series/x@y/results/git/",
        Reply::json(200, &stale.to_string()),
    );
    evil.route(
        "PUT",
        "/api/v1/projects/1/series/x@y/results/git/",
        Reply::status(200),
    );
    let list = json!({"next": null, "previous": null, "results": [{
        "message_id": "x@y",
        "resource_uri": format!("{}/api/v1/projects/1/series/x@y/", evil.url()),
        "results": format!("{}/api/v1/projects/1/series/x@y/results/", evil.url()),
    }]});
    w.server.interject(
        "GET",
        "/api/v1/series/",
        vec![Reply::json(200, &list.to_string())],
    );
    let out = run_applier(&w, &w.mirror);
    let err = stderr(&out);
    // The queue itself is empty; the bad listing only costs a warning.
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("refusing to send the token"), "{err}");
    assert!(evil
        .requests_to("PUT", "/api/v1/projects/1/series/x@y/results/git/")
        .is_empty());
    assert_token_never_reached(&evil);
}

#[test]
fn a_result_put_redirected_elsewhere_and_back_never_carries_the_token_again() {
    let w = world();
    let mbox = one_patch(&w.project, "bounce@example.org", "int x = 2;\n");
    w.patchew
        .add_series("bounce@example.org", "[PATCH] bounce", mbox);
    let evil = StandIn::start_on("127.0.0.2");
    let result = w.patchew.result_path("bounce@example.org");
    // The server sends the claim elsewhere; that origin sends it straight back.
    let back = w.patchew.result_uri("bounce@example.org");
    evil.route("PUT", "/steal", Reply::redirect(307, &back));
    w.server.interject(
        "PUT",
        &result,
        vec![Reply::redirect(307, &format!("{}/steal", evil.url()))],
    );
    let out = run_applier(&w, &w.mirror);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert_eq!(evil.requests_to("PUT", "/steal").len(), 1);
    assert_token_never_reached(&evil);
    // Back home without the token: the server refuses it, nothing is claimed.
    let puts = w.server.requests_to("PUT", &result);
    assert_eq!(puts.len(), 2, "{puts:?}");
    assert_eq!(puts[1].header("authorization"), None);
    assert_eq!(w.patchew.git("bounce@example.org").status, "pending");
}

/// A repository set up to fetch from Patchew only, and the mail of one more commit.
fn fetching_project(server: &StandIn) -> (TestRepo, String, String) {
    let (r, mbox, id) = TestRepo::with_dropped_commit();
    for (k, v) in [
        ("patchew.server", server.url()),
        ("patchew.project", "QEMU".to_owned()),
        ("patchew.sources", "patchew".to_owned()),
        ("patchew.httpTimeout", "2".to_owned()),
        ("patchew.httpRetries", "1".to_owned()),
    ] {
        r.git(&["config", k, &v]);
    }
    (r, mbox, id)
}

#[test]
fn the_http_timeout_covers_a_whole_redirect_chain() {
    let server = StandIn::start();
    let (r, mbox, id) = fetching_project(&server);
    // Each hop answers within the 2 s timeout, the chain does not.
    let hop = std::time::Duration::from_millis(900);
    let first = format!("/QEMU/{id}/mbox");
    server.route("GET", &first, Reply::redirect(302, "/hop/1").after(hop));
    for n in 1..4 {
        let next = format!("/hop/{}", n + 1);
        server.route(
            "GET",
            &format!("/hop/{n}"),
            Reply::redirect(302, &next).after(hop),
        );
    }
    server.route("GET", "/hop/4", Reply::ok(mbox));
    let out = r.patchew(&r.path, &["apply", "--no-ci", &id]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("no complete answer within 2 s"), "{err}");
    assert!(server.requests_to("GET", "/hop/4").is_empty(), "{err}");
    assert_eq!(r.git(&["tag"]), "");
}

/// Adds a one-patch series waiting with `ci.skip` as its push options.
pub(crate) fn queued_with_push_options(w: &World, id: &str) {
    let mbox = one_patch(&w.project, id, "int x = 7;\n");
    w.patchew.add_series(id, "[PATCH] queued", mbox);
    w.patchew
        .set_git(id, "pending", json!({"git.push_options": "ci.skip"}));
}

/// The series was claimed, then given back: pending again with its push options,
/// never reported as failed, nothing on the hub.
pub(crate) fn assert_given_back(w: &World, id: &str, out: &Output) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("back to the queue"), "{err}");
    let git = w.patchew.git(id);
    assert_eq!(git.status, "pending", "{git:?}");
    // The push options kept, and the count of give-backs (unless a signal caused
    // it): nothing of the claim.
    assert_eq!(git.data["git.push_options"], json!("ci.skip"), "{git:?}");
    let keys: Vec<&String> = git.data.as_object().unwrap().keys().collect();
    assert!(
        keys.iter()
            .all(|k| *k == "git.push_options" || *k == "give_backs"),
        "{git:?}"
    );
    let statuses: Vec<String> = w
        .server
        .requests_to("PUT", &w.patchew.result_path(id))
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap()["status"].to_string())
        .collect();
    assert_eq!(statuses, ["\"running\"", "\"pending\""]);
    assert!(hub_tags(w).is_empty());
}

#[test]
fn a_server_error_on_the_mbox_gives_the_series_back() {
    let w = world();
    let id = "mbox500@example.org";
    queued_with_push_options(&w, id);
    let mbox = format!("{}mbox/", w.patchew.series_path(id));
    w.server.interject("GET", &mbox, vec![Reply::status(502)]);
    let out = run_applier(&w, &w.mirror);
    assert_given_back(&w, id, &out);
    // The next round applies it, with its push options.
    let out = run_applier(&w, &w.mirror);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(w.patchew.git(id).status, "success");
}

#[test]
fn a_timeout_on_the_mbox_gives_the_series_back() {
    let w = world();
    let id = "slow@example.org";
    queued_with_push_options(&w, id);
    w.project
        .git_in(&w.mirror, &["config", "patchew.httpTimeout", "1"]);
    let mbox = format!("{}mbox/", w.patchew.series_path(id));
    w.server.interject("GET", &mbox, vec![Reply::hang()]);
    let out = run_applier(&w, &w.mirror);
    assert_given_back(&w, id, &out);
}

#[test]
fn an_html_page_instead_of_the_mbox_gives_the_series_back() {
    let w = world();
    let id = "html@example.org";
    queued_with_push_options(&w, id);
    let mbox = format!("{}mbox/", w.patchew.series_path(id));
    let page = "\n<!DOCTYPE html>\n<html><body>Please log in</body></html>\n";
    w.server.interject(
        "GET",
        &mbox,
        vec![Reply::ok(page).header("Content-Type", "text/html")],
    );
    let out = run_applier(&w, &w.mirror);
    assert_given_back(&w, id, &out);
    assert!(stderr(&out).contains("HTML page"), "{}", stderr(&out));
}

#[test]
fn a_failed_push_gives_the_series_back() {
    let w = world();
    let id = "push@example.org";
    queued_with_push_options(&w, id);
    // The hub is gone for a moment.
    let away = w.hub.with_extension("away");
    std::fs::rename(&w.hub, &away).unwrap();
    let out = run_applier(&w, &w.mirror);
    std::fs::rename(&away, &w.hub).unwrap();
    assert_given_back(&w, id, &out);
    // The give-back says why, in git's words: nothing else of the push is kept.
    let err = stderr(&out);
    assert!(
        err.contains("git push to the mirror failed: fatal:")
            && err.contains("does not appear to be a git repository"),
        "{err}"
    );
}

#[test]
fn a_base_that_cannot_be_fetched_gives_the_series_back_saying_why() {
    let w = world();
    let id = "nobase@example.org";
    queued_with_push_options(&w, id);
    let gone = w.project.scratch("gone.git");
    w.patchew.set_based_on(
        id,
        json!({"repo": gone.to_str().unwrap(), "tag": "patchew/first@example.org"}),
    );
    let out = run_applier(&w, &w.mirror);
    assert_given_back(&w, id, &out);
    let err = stderr(&out);
    assert!(
        err.contains("failed: fatal:") && err.contains("does not appear to be a git repository"),
        "{err}"
    );
}

#[test]
fn git_missing_on_the_applier_host_gives_the_series_back() {
    let w = world();
    let id = "nogit@example.org";
    queued_with_push_options(&w, id);
    let out = w
        .project
        .command(env!("CARGO_BIN_EXE_git-patchew"), &w.mirror)
        .env("PATCHEW_TOKEN", TOKEN)
        .env("PATH", w.project.scratch("no-such-bin"))
        .args(["applier", "--once", "-v"])
        .output()
        .unwrap();
    assert!(stderr(&out).contains("cannot run git"), "{}", stderr(&out));
    assert_given_back(&w, id, &out);
}

#[test]
fn a_series_past_the_applier_deadline_is_given_back() {
    let w = world();
    let id = "deadline@example.org";
    queued_with_push_options(&w, id);
    w.project
        .git_in(&w.mirror, &["config", "patchew.applierDeadline", "0"]);
    let out = run_applier(&w, &w.mirror);
    assert_given_back(&w, id, &out);
    assert!(
        stderr(&out).contains("patchew.applierDeadline"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_series_that_does_not_apply_is_still_a_failure() {
    let w = world();
    let id = "conflict@example.org";
    let mbox = one_patch(&w.project, id, "int x = 8;\n");
    w.project.write("main.c", "int y;\n");
    w.project.commit("upstream moved on");
    w.patchew.add_series(id, "[PATCH] conflict", mbox);
    let out = run_applier(&w, &w.mirror);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(w.patchew.git(id).status, "failure");
}

#[test]
fn a_stale_packed_refs_lock_in_the_mirror_is_removed_and_the_series_applied() {
    let w = world();
    let id = "locked@example.org";
    queued_with_push_options(&w, id);
    let packed = w.mirror.join("packed-refs");
    if !packed.exists() {
        w.project.git_in(&w.mirror, &["pack-refs", "--all"]);
    }
    let lock = w.mirror.join("packed-refs.lock");
    std::fs::write(&lock, "").unwrap();
    let touched = w
        .project
        .command("touch", &w.mirror)
        .args(["-d", "5 minutes ago", lock.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(touched.success());
    // Nobody works in the mirror: the lock was left by a dead process.
    let out = run_applier(&w, &w.mirror);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!(
            "removed {}: left by a process that died",
            lock.display()
        )),
        "{err}"
    );
    assert!(!lock.exists());
    assert_eq!(w.patchew.git(id).status, "success");
}
