//! `git patchew doctor --fix` against the Patchew stand-in's configuration endpoint
//! (tests/support/patchew_config.rs, checked here against what the real server
//! answered): the gitlab test enabled and the notification installed, every other
//! entry written back as it came, a second run a no-op, `--dry-run` writing nothing,
//! and a tester's token refused with the permission it lacks.

use crate::support;

use std::process::Output;

use serde_json::{json, Value};
use support::git::{stderr, stdout, TestRepo};
use support::patchew_config::{recorded, FakeConfig, Role};
use support::{Reply, StandIn};

const MAINT: &str = "maint-token-0123456789";
const TESTER: &str = "tester-token-0123456789";
const IMPORTER: &str = "importer-token-0123456789";

/// A configuration with entries of every kind that are not ours.
const CONFIG: &str = r##"{
  "git": {"push_to": "/srv/hub.git", "public_repo": "https://example.org/hub.git", "url_template": "https://example.org/hub/%t"},
  "testing": {"tests": {"checkpatch": {"enabled": true, "requirements": "docker", "timeout": 3600, "script": "#!/bin/sh\nmake check \u2014 \"quoted\"\n"}}},
  "email": {"notifications": {"theirs": {"event": "TestingReport", "enabled": true, "reply_to_all": false, "in_reply_to": true, "set_reply_to": true, "reply_subject": true, "to_user": false, "to": "", "cc": "list@example.org", "subject_template": "Re: {{ obj.subject }}", "body_template": "{% if test != \"checkpatch\" %}{{ cancel }}{% endif %}\n\tfailed: {{ log }}"}}},
  "maintainers": {"x": 1.5}
}"##;

struct World {
    repo: TestRepo,
    server: StandIn,
    config: FakeConfig,
}

fn world(config: &str) -> World {
    let repo = TestRepo::new();
    repo.write("f", "x\n");
    repo.commit("base");
    let server = StandIn::start();
    let fake = FakeConfig::install(
        &server,
        1,
        config,
        &[
            (MAINT, Role::Maintainer),
            (TESTER, Role::Other),
            (IMPORTER, Role::Other),
        ],
    );
    for (k, v) in [
        ("patchew.server", server.url()),
        ("patchew.projectId", "1".into()),
        ("patchew.httpTimeout", "5".into()),
    ] {
        repo.git(&["config", k, &v]);
    }
    World {
        repo,
        server,
        config: fake,
    }
}

fn fix(w: &World, token: &str, extra: &[&str]) -> Output {
    let out = w
        .repo
        .command(env!("CARGO_BIN_EXE_git-patchew"), &w.repo.path)
        .env("PATCHEW_TOKEN", token)
        .args(["doctor", "--fix"])
        .args(extra)
        .output()
        .unwrap();
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!all.contains(token), "the token was printed: {all}");
    out
}

fn puts(w: &World) -> usize {
    w.server
        .requests_to("PUT", "/api/v1/projects/1/config/")
        .len()
}

/// The text of member `key` of the object `text`, as written there.
fn member(text: &str, key: &str) -> String {
    let raw: std::collections::BTreeMap<String, Box<serde_json::value::RawValue>> =
        serde_json::from_str(text).unwrap();
    raw[key].get().to_owned()
}

#[test]
fn fix_installs_the_test_and_the_notification_and_keeps_the_rest_byte_for_byte() {
    let w = world(CONFIG);
    let out = fix(&w, MAINT, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let printed = stdout(&out);
    assert!(
        printed.contains("changed testing.tests.gitlab: there was none"),
        "{printed}"
    );
    assert!(
        printed.contains("changed email.notifications.git-patchew-gitlab: installed"),
        "{printed}"
    );
    assert_eq!(puts(&w), 1);
    let written = w.config.text();
    let new: Value = serde_json::from_str(&written).unwrap();
    assert_eq!(
        new["testing"]["tests"]["gitlab"],
        json!({"enabled": true, "requirements": "gitlab-ci-hub", "timeout": 3600, "script": ""})
    );
    let note = &new["email"]["notifications"]["git-patchew-gitlab"];
    assert_eq!(note["event"], "ResultUpdate");
    assert!(note["body_template"]
        .as_str()
        .unwrap()
        .contains(&format!("{}{{{{ result.get_log_url }}}}", w.server.url())));
    // Every other entry: the same text as before.
    let before: Value = serde_json::from_str(CONFIG).unwrap();
    for key in ["git", "maintainers"] {
        let text = member(CONFIG, key);
        assert!(written.contains(&text), "{key} changed: {written}");
    }
    let checkpatch = member(&member(&member(CONFIG, "testing"), "tests"), "checkpatch");
    assert!(checkpatch.contains("\\u2014 \\\"quoted"), "{checkpatch}");
    assert!(written.contains(&checkpatch), "{written}");
    let theirs = member(&member(&member(CONFIG, "email"), "notifications"), "theirs");
    assert!(written.contains(&theirs), "{written}");
    let mut rest = new.clone();
    rest["testing"]["tests"]
        .as_object_mut()
        .unwrap()
        .remove("gitlab");
    rest["email"]["notifications"]
        .as_object_mut()
        .unwrap()
        .remove("git-patchew-gitlab");
    assert_eq!(rest, before);

    // A second run finds nothing to change and writes nothing.
    let out = fix(&w, MAINT, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("nothing to change"),
        "{}",
        stdout(&out)
    );
    assert_eq!(puts(&w), 1);
    assert_eq!(w.config.text(), written);

    // Asking for success mails and an admin address changes the notification alone.
    let out = fix(
        &w,
        MAINT,
        &["--mail-success", "--admin-email", "ci@hub.example"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 1, "{}", stdout(&out));
    assert!(stdout(&out).contains("updated"), "{}", stdout(&out));
    let newer: Value = serde_json::from_str(&w.config.text()).unwrap();
    let note = &newer["email"]["notifications"]["git-patchew-gitlab"];
    assert_eq!(
        note["to"],
        "{% if result.data.infrastructure_failure %}ci@hub.example{% endif %}"
    );
    assert!(note["subject_template"]
        .as_str()
        .unwrap()
        .contains(r#"not in "failure success""#));
}

#[test]
fn dry_run_prints_and_writes_nothing() {
    let w = world(CONFIG);
    let out = fix(&w, MAINT, &["--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("would change testing.tests.gitlab"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("would change email.notifications.git-patchew-gitlab"));
    assert_eq!(puts(&w), 0);
    assert_eq!(w.config.text(), CONFIG);
}

#[test]
fn a_testers_token_is_refused_naming_the_permission() {
    let w = world(CONFIG);
    for token in [TESTER, IMPORTER] {
        let out = fix(&w, token, &[]);
        // doctor's code for a failed check.
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("HTTP 403") && err.contains("a maintainer of the project"),
            "{err}"
        );
        assert!(stdout(&out).is_empty());
    }
    assert_eq!(puts(&w), 0);
    assert_eq!(w.config.text(), CONFIG);
    let out = fix(&w, "not-a-token-at-all", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("HTTP 401"), "{}", stderr(&out));
}

#[test]
fn the_project_is_found_by_name_in_patchews_list() {
    let w = world("{}");
    let Some(list) = recorded("01-projects-list.json", &w.server.url()) else {
        return;
    };
    w.server.route(
        "GET",
        "/api/v1/projects/",
        Reply::json(200, &list["body"].to_string()),
    );
    w.repo.git(&["config", "--unset", "patchew.projectId"]);
    w.repo.git(&["config", "patchew.project", "QEMU"]);
    let out = fix(&w, MAINT, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(puts(&w), 1);
}

/// The stand-in answers the recorded calls as the real server did.
#[test]
fn the_config_stand_in_answers_as_patchew_did() {
    let server = StandIn::start();
    let url = server.url();
    let calls: Vec<Value> = [
        "36-config-get-as-maintainer-now.json",
        "06-config-as-tester.json",
        "35-config-put-as-tester.json",
        "37-config-put-as-maintainer.json",
    ]
    .iter()
    .filter_map(|name| recorded(name, &url))
    .collect();
    if calls.len() < 4 {
        return;
    }
    let seed = calls[0]["body"].to_string();
    let fake = FakeConfig::install(
        &server,
        1,
        &seed,
        &[("maint", Role::Maintainer), ("tester", Role::Other)],
    );
    let http = minreq_like();
    for call in &calls {
        let request = &call["request"];
        let (status, body) = http(
            request["method"].as_str().unwrap(),
            request["path"].as_str().unwrap(),
            request["as"].as_str().unwrap(),
            &request["body"],
        );
        assert_eq!(status, call["status"], "{request}");
        assert_eq!(body, call["body"], "{request}");
    }
    let stored: Value = serde_json::from_str(&fake.text()).unwrap();
    assert_eq!(stored, calls[3]["request"]["body"]);
}

/// Sends one call as the recorded user (the token is the user's name here), over
/// plain HTTP/1.1; the answer's status and JSON body.
fn minreq_like() -> impl Fn(&str, &str, &str, &Value) -> (Value, Value) {
    use std::io::{Read, Write};
    |method, url, user, body| {
        let rest = url.strip_prefix("http://").unwrap();
        let (host, path) = rest.split_once('/').unwrap();
        let payload = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let mut stream = std::net::TcpStream::connect(host).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "{method} /{path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Token {user}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
            payload.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let (head, text) = answer.split_once("\r\n\r\n").unwrap();
        let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
        (json!(status), serde_json::from_str(text).unwrap())
    }
}
