//! The unattended applier against a loopback Patchew stand-in: queue, mbox, result
//! PUT with token checking, and a real bare "ci-hub" mirror.

mod support;

use serde_json::{json, Value};
use support::git::{stderr, TestRepo};
use support::{refused_url, Reply, StandIn};

const TOKEN: &str = "s3cr3t-applier-token";
const INCLUDE: &str = "https://ci.example.org/patchew-ci.yml";
const PUBLIC_URL: &str = "https://gitlab.example.org/ci-hub.git";

struct World {
    project: TestRepo,
    mirror: std::path::PathBuf,
    hub: std::path::PathBuf,
    server: StandIn,
}

/// An upstream project with a CI file, the applier's bare mirror, a bare ci-hub,
/// and a Patchew stand-in; `series` commits are mailed and then dropped from the
/// project, like a series on a list.
fn world() -> World {
    let project = TestRepo::new();
    project.write(".gitlab-ci.yml", "build:\n  script: make\n");
    project.write("main.c", "int x = 1;\n");
    project.commit("base");
    let mirror = project.clone_to("mirror.git", &["--bare"]);
    let hub = project.scratch("hub.git");
    project.git(&["init", "-q", "--bare", hub.to_str().unwrap()]);
    let server = StandIn::start().with_token(TOKEN);
    for (k, v) in [
        ("patchew.server", server.url()),
        ("patchew.ciInclude", INCLUDE.to_owned()),
        ("patchew.httpRetries", "3".to_owned()),
        ("patchew.httpTimeout", "5".to_owned()),
    ] {
        project.git_in(&mirror, &["config", k, &v]);
    }
    World {
        project,
        mirror,
        hub,
        server,
    }
}

/// Mails one patch that edits `file`, with the given Message-Id, then forgets it.
fn mail_patch(p: &TestRepo, file: &str, content: &str, msgid: &str) -> String {
    p.write(file, content);
    p.commit(&format!("change {file}"));
    let mbox = p.git(&["format-patch", "--stdout", "-1", "HEAD"]);
    p.git(&["reset", "-q", "--hard", "HEAD~1"]);
    mbox.replacen("Subject:", &format!("Message-Id: <{msgid}>\nSubject:"), 1)
}

fn queue_item(w: &World, stored_id: &str, based_on: Value) -> Value {
    json!({
        "message_id": stored_id,
        "subject": "[PATCH] change",
        "resource_uri": format!("{}/api/v1/projects/1/series/{stored_id}/", w.server.url()),
        "result_uri": format!("{}/api/v1/projects/1/series/{stored_id}/results/git/", w.server.url()),
        "mbox_uri": format!("{}/api/v1/projects/1/series/{stored_id}/mbox/", w.server.url()),
        "is_complete": true,
        "mirror": {
            "pushurl": w.hub.to_str().unwrap(),
            "url": PUBLIC_URL,
            "source": format!("{} main", w.project.path.display()),
        },
        "based_on": based_on,
        "push_options": "",
    })
}

fn offer(w: &World, item: &Value, mbox: &str) {
    w.server.route(
        "GET",
        "/api/v1/series/unapplied/?limit=1",
        Reply::json(200, &json!({"count": 1, "results": [item]}).to_string()),
    );
    let mbox_path = item["mbox_uri"]
        .as_str()
        .unwrap()
        .trim_start_matches(&w.server.url())
        .to_owned();
    w.server
        .route("GET", &mbox_path, Reply::ok(mbox.to_owned()));
    let result_path = item["result_uri"]
        .as_str()
        .unwrap()
        .trim_start_matches(&w.server.url())
        .to_owned();
    w.server.route("PUT", &result_path, Reply::json(200, "{}"));
}

fn run_applier(w: &World, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["applier", "--once"];
    args.extend_from_slice(extra);
    w.project
        .command(env!("CARGO_BIN_EXE_git-patchew"), &w.mirror)
        .env("PATCHEW_TOKEN", TOKEN)
        .args(&args)
        .output()
        .unwrap()
}

fn result_put(w: &World, item: &Value) -> Value {
    let path = item["result_uri"]
        .as_str()
        .unwrap()
        .trim_start_matches(&w.server.url())
        .to_owned();
    let puts = w.server.requests_to("PUT", &path);
    assert_eq!(puts.len(), 1, "exactly one result PUT");
    assert_eq!(
        puts[0].header("authorization"),
        Some(format!("Token {TOKEN}").as_str())
    );
    serde_json::from_str(&puts[0].body_text()).unwrap()
}

#[test]
fn full_round_trip_tags_pushes_and_reports() {
    let w = world();
    let mbox = mail_patch(&w.project, "main.c", "int x = 2;\n", "one_1/2@example.org");
    let item = queue_item(&w, "one._5F1._2F2@example.org", Value::Null);
    offer(&w, &item, &mbox);

    let out = run_applier(&w, &["-v"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains(TOKEN) && !String::from_utf8_lossy(&out.stdout).contains(TOKEN));

    let tag = "refs/tags/patchew/one._5F1._2F2@example.org";
    let pushed = w.project.git_in(&w.hub, &["rev-parse", tag]);
    let base = w.project.git(&["rev-parse", "main"]);
    let put = result_put(&w, &item);
    assert_eq!(
        put["data"],
        json!({"base": base, "repo": PUBLIC_URL, "tag": tag}),
        "{put}"
    );
    assert_eq!(put["status"], "success");
    let log = put["log"].as_str().unwrap();
    assert!(log.contains("Applying: change main.c"), "{log}");
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
            .git_in(&w.hub, &["rev-parse", &format!("{pushed}~1")]),
        base
    );
}

#[test]
fn a_series_that_does_not_apply_is_reported_as_failure() {
    let w = world();
    let mbox = mail_patch(&w.project, "main.c", "int x = 2;\n", "bad@example.org")
        .replace("-int x = 1;", "-int x = 42;");
    let item = queue_item(&w, "bad@example.org", Value::Null);
    offer(&w, &item, &mbox);
    let out = run_applier(&w, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let put = result_put(&w, &item);
    assert_eq!(put["status"], "failure");
    assert_eq!(put["data"], json!({}));
    assert!(put["log"].as_str().unwrap().contains("main.c"), "{put}");
    assert!(
        w.project.git_in(&w.hub, &["tag"]).is_empty(),
        "nothing pushed"
    );
}

#[test]
fn based_on_series_is_applied_on_the_base_tag() {
    let w = world();
    let first = mail_patch(&w.project, "a.c", "a\n", "first@example.org");
    let item = queue_item(&w, "first@example.org", Value::Null);
    offer(&w, &item, &first);
    assert!(run_applier(&w, &[]).status.success());
    let first_tag = "refs/tags/patchew/first@example.org";
    let first_tip = w.project.git_in(&w.hub, &["rev-parse", first_tag]);

    let second = mail_patch(&w.project, "b.c", "b\n", "second@example.org");
    let based_on = json!({"repo": w.hub.to_str().unwrap(), "tag": first_tag});
    let item2 = queue_item(&w, "second@example.org", based_on);
    offer(&w, &item2, &second);
    let out = run_applier(&w, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let put = result_put(&w, &item2);
    assert_eq!(put["data"]["base"].as_str(), Some(first_tip.as_str()));
}

#[test]
fn empty_queue_exits_3() {
    let w = world();
    w.server.route(
        "GET",
        "/api/v1/series/unapplied/?limit=1",
        Reply::json(200, r#"{"count": 0, "results": []}"#),
    );
    assert_eq!(run_applier(&w, &[]).status.code(), Some(3));
}

#[test]
fn server_errors_retry_then_work_and_down_or_unauthorised_exit_4() {
    let w = world();
    let mbox = mail_patch(&w.project, "main.c", "int x = 3;\n", "retry@example.org");
    let item = queue_item(&w, "retry@example.org", Value::Null);
    offer(&w, &item, &mbox);
    let listing = Reply::json(200, &json!({"count": 1, "results": [item]}).to_string());
    w.server.route_seq(
        "GET",
        "/api/v1/series/unapplied/?limit=1",
        vec![Reply::status(500), listing],
    );
    let out = run_applier(&w, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        w.server
            .requests_to("GET", "/api/v1/series/unapplied/")
            .len(),
        2
    );

    // Wrong token: the result PUT is refused with 401.
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

    // Server down.
    w.project
        .git_in(&w.mirror, &["config", "patchew.server", &refused_url()]);
    w.project
        .git_in(&w.mirror, &["config", "patchew.httpRetries", "1"]);
    let out = run_applier(&w, &[]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("127.0.0.1"), "{}", stderr(&out));
}
