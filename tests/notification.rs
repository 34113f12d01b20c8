//! The mail notification `doctor --fix` installs (templates in contrib/notification/),
//! rendered by Django's own template engine the way Patchew's email module renders it
//! for a `ResultUpdate` (tests/notify_render.py), with the context Patchew gives: the
//! series as `obj`, `old_status`, and the result with its name, status, log, data and
//! `get_log_url` (a path: Patchew has no request to make it absolute).

use crate::support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use git_patchew::report::notify::{notification, MailOptions};
use serde_json::{json, Value};

const SERVER: &str = "https://patchew.example";
const SENDER: &str = "author@example.org";
const ADMIN: &str = "ci-admin@hub.example";
const LOG_PATH: &str = "/QEMU/20241125.1-1-author@example.org/logs/testing.gitlab/";
const PIPELINE: &str = "https://gitlab.example/ci/hub/-/pipelines/42";

/// Where `.ci/run` installs Django (`pip install --target`), else the Python path.
fn django_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/python")
}

fn have_django() -> bool {
    if !support::require::require_tool("python3") {
        return false;
    }
    let found = Command::new("python3")
        .args(["-c", "import django"])
        .env("PYTHONPATH", django_path())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    support::require::require(
        "Django (python3 -c 'import django')",
        found,
        ".ci/run installs it into .ci/python with pip",
    )
}

fn options(admin: Option<&str>, success: bool) -> MailOptions {
    MailOptions {
        server_url: format!("{SERVER}/"),
        admin_email: admin.map(str::to_owned),
        mail_success: success,
    }
}

/// A failure's log as the report jobs write it (see tests/ci_jobs.rs).
fn failure_log() -> String {
    format!(
        "GitLab pipeline {PIPELINE} (failure)\nseries: 20241125.1-1-author@example.org\ncommit: 0123\n\nFailed jobs:\n- check-unit (stage test): https://gitlab.example/ci/hub/-/jobs/7\n\n--- last 2 lines of the log of check-unit ---\ntest-foo: FAIL\nmake: *** [check] Error 1\n"
    )
}

fn failure_data() -> Value {
    json!({"head": "0123", "is_timeout": false, "pipeline_url": PIPELINE,
           "failed_jobs": [{"name": "check-unit", "stage": "test",
                            "url": "https://gitlab.example/ci/hub/-/jobs/7",
                            "failure_reason": "script_failure", "allow_failure": false}]})
}

/// The mail Patchew would send for this update, or `None`.
fn render(
    o: &MailOptions,
    name: &str,
    old: Option<&str>,
    status: &str,
    log: &str,
    data: Value,
) -> Option<Value> {
    let spec = json!({
        "notification": notification(o),
        "event": "ResultUpdate",
        "series": {"subject": "[PATCH 0/2] hw: fix the frobnicator",
                   "message_id": "20241125.1-1-author@example.org", "project": "QEMU",
                   "sender": SENDER, "mailing_list": "qemu-devel@nongnu.org"},
        "result": {"name": name, "status": status, "log": log, "data": data,
                   "log_path": LOG_PATH},
        "old_status": old,
    });
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/notify_render.py");
    let mut child = Command::new("python3")
        .arg(script)
        .env("PYTHONPATH", django_path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(spec.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mail: Value = serde_json::from_slice(&out.stdout).unwrap();
    (mail["sent"] == true).then_some(mail)
}

#[test]
fn a_failure_mails_the_author_with_jobs_log_ends_and_absolute_links() {
    if !have_django() {
        return;
    }
    let mail = render(
        &options(None, false),
        "testing.gitlab",
        Some("running"),
        "failure",
        &failure_log(),
        failure_data(),
    )
    .expect("a failure is mailed");
    assert_eq!(mail["to"], json!([SENDER]));
    assert_eq!(mail["cc"], json!([]));
    assert_eq!(
        mail["headers"]["Subject"],
        "Re: [PATCH 0/2] hw: fix the frobnicator"
    );
    assert_eq!(
        mail["headers"]["In-Reply-To"],
        "<20241125.1-1-author@example.org>"
    );
    let body = mail["body"].as_str().unwrap();
    assert!(
        body.starts_with("Hi,\n\nThis series failed the GitLab CI pipeline of the ci-hub."),
        "{body}"
    );
    assert!(
        body.contains(&format!("Pipeline: {PIPELINE}\nVerdict: failure\n")),
        "{body}"
    );
    // The failed job with its link and the end of its log, as the report wrote them.
    assert!(
        body.contains("- check-unit (stage test): https://gitlab.example/ci/hub/-/jobs/7\n"),
        "{body}"
    );
    assert!(
        body.contains("test-foo: FAIL\nmake: *** [check] Error 1\n\n=== OUTPUT END ==="),
        "{body}"
    );
    // An absolute link to the full log on Patchew.
    assert!(
        body.contains(&format!(
            "The full log is available at\n{SERVER}{LOG_PATH}\n"
        )),
        "{body}"
    );
    assert!(!body.contains("{{") && !body.contains("{%"), "{body}");
    assert!(
        !body.contains("@PATCHEW_URL@") && !body.contains("None"),
        "{body}"
    );
}

#[test]
fn every_other_update_is_cancelled() {
    if !have_django() {
        return;
    }
    let o = options(Some(ADMIN), false);
    let cases = [
        ("testing.gitlab", Some("success"), "pending", ""),
        (
            "testing.gitlab",
            Some("pending"),
            "running",
            "GitLab pipeline x (running)\n",
        ),
        (
            "testing.gitlab",
            Some("running"),
            "success",
            "GitLab pipeline x (success)\n",
        ),
        ("git", Some("running"), "failure", "error: patch failed"),
        ("git", Some("pending"), "success", ""),
        (
            "testing.checkpatch",
            Some("running"),
            "failure",
            "ERROR: trailing space",
        ),
        // The same failure written again: one mail was enough.
        ("testing.gitlab", Some("failure"), "failure", "again"),
    ];
    for (name, old, status, log) in cases {
        let mail = render(&o, name, old, status, log, json!({"head": "0123"}));
        assert!(mail.is_none(), "{name} {old:?} -> {status}: {mail:#?}");
    }
}

#[test]
fn successes_are_mailed_when_the_admin_asks() {
    if !have_django() {
        return;
    }
    let data =
        json!({"head": "0123", "is_timeout": false, "pipeline_url": PIPELINE, "failed_jobs": []});
    let log = format!("GitLab pipeline {PIPELINE} (success)\n");
    let mail = render(
        &options(None, true),
        "testing.gitlab",
        Some("running"),
        "success",
        &log,
        data,
    )
    .expect("asked for successes");
    let body = mail["body"].as_str().unwrap();
    assert!(
        body.contains("This series passed the GitLab CI pipeline"),
        "{body}"
    );
    assert!(body.contains(&format!("{SERVER}{LOG_PATH}")), "{body}");
    assert_eq!(mail["to"], json!([SENDER]));
}

#[test]
fn an_infrastructure_failure_never_mails_the_author() {
    if !have_django() {
        return;
    }
    let mut data = failure_data();
    data["failed_jobs"][0]["failure_reason"] = json!("runner_system_failure");
    data["infrastructure_failure"] = json!("runner_system_failure");
    let log = format!("Infrastructure failure (runner_system_failure): the ci-hub failed, not the series; its tests did not run to the end.\n{}", failure_log());
    // No admin address: nobody.
    let none = render(
        &options(None, false),
        "testing.gitlab",
        Some("running"),
        "failure",
        &log,
        data.clone(),
    );
    assert!(none.is_none(), "{none:#?}");
    // With one: the admin alone.
    let mail = render(
        &options(Some(ADMIN), false),
        "testing.gitlab",
        Some("running"),
        "failure",
        &log,
        data,
    )
    .expect("the admin is told");
    assert_eq!(mail["to"], json!([ADMIN]));
    let body = mail["body"].as_str().unwrap();
    assert!(body.contains("failed because of the ci-hub's\ninfrastructure (runner_system_failure), not because of the series"), "{body}");
    assert!(
        body.contains("git patchew retest 20241125.1-1-author@example.org"),
        "{body}"
    );
    // A series failure with an admin set still goes to the author only.
    let mail = render(
        &options(Some(ADMIN), false),
        "testing.gitlab",
        Some("running"),
        "failure",
        &failure_log(),
        failure_data(),
    )
    .unwrap();
    assert_eq!(mail["to"], json!([SENDER]));
}
