//! Runs the report jobs of contrib/patchew-ci.yml with `sh`, as a shell runner does,
//! against loopback stand-ins for Patchew and for GitLab's jobs API, and checks what
//! Patchew receives and what the job prints.

use crate::support;

use std::path::Path;
use std::process::{Command, Output};

use git_patchew::input::msgid::MessageId;
use serde_json::{json, Value};
use support::gitlab::{FakeGitLab, Job, Pipeline, PAGE_SIZE};
use support::patchew::{FakePatchew, Role};
use support::{Recorded, Reply, StandIn};

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
const PIPELINE_URL: &str = "https://hub.example/ci/hub/-/pipelines/42";
const PIPELINE_ID: u64 = 42;
const TOKEN: &str = "s3cret-patchew-token";
const GITLAB_TOKEN: &str = "glpat-s3cret-gitlab";
const PROJECT: &str = "7";

fn ci_file() -> serde_yaml::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/patchew-ci.yml");
    serde_yaml::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

struct JobDef {
    script: String,
    variables: Vec<(String, String)>,
}

fn job(name: &str) -> JobDef {
    let file = ci_file();
    let job = &file[name];
    let lines: Vec<&str> = job["script"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let variables = job["variables"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().into(), v.as_str().unwrap().into()))
        .collect();
    JobDef {
        script: lines.join("\n"),
        variables,
    }
}

/// The jobs need python3 (a shell runner's host has it; the Docker image is Python's).
fn have_python() -> bool {
    support::require::require_tool("python3")
}

/// One report job's run: its environment, and what came out.
struct Run<'a> {
    job: &'a str,
    tag: Option<String>,
    patchew: String,
    extra: Vec<(String, String)>,
}

impl<'a> Run<'a> {
    fn new(job: &'a str, tag: Option<&str>, patchew: &StandIn) -> Self {
        Run {
            job,
            tag: tag.map(str::to_owned),
            patchew: format!("{}/", patchew.url()),
            extra: Vec::new(),
        }
    }

    fn env(mut self, name: &str, value: &str) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    fn gitlab(self, gitlab: &FakeGitLab, token: &str) -> Self {
        self.env("CI_API_V4_URL", &gitlab.api_url())
            .env("CI_PROJECT_ID", &gitlab.project_id.to_string())
            .env("PATCHEW_GITLAB_TOKEN", token)
    }

    fn output(self) -> Output {
        let def = job(self.job);
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(&def.script)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("CI_COMMIT_SHA", SHA)
            .env("CI_PIPELINE_URL", PIPELINE_URL)
            .env("CI_PIPELINE_ID", PIPELINE_ID.to_string())
            .env("CI_PROJECT_URL", "https://hub.example/ci/hub")
            .env("PATCHEW_SERVER", &self.patchew)
            .env("PATCHEW_PROJECT_ID", PROJECT)
            .env("PATCHEW_TOKEN", TOKEN)
            .envs(def.variables.iter().cloned())
            .envs(self.extra.iter().cloned());
        if let Some(tag) = &self.tag {
            cmd.env("CI_COMMIT_TAG", tag);
        }
        let out = cmd.output().unwrap();
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(!all.contains(TOKEN), "the Patchew token was printed: {all}");
        assert!(
            !all.contains(GITLAB_TOKEN),
            "the GitLab token was printed: {all}"
        );
        out
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The tests' Patchew with series `a@b`, its `testing.gitlab` result pending, and
/// the token's user a tester.
fn patchew() -> StandIn {
    patchew_with(&["a@b"], Role::Tester, true)
}

/// The tests' Patchew with these series (raw message-ids), their `testing.gitlab`
/// result pending when `tested`, and the token's user in this `role`.
fn patchew_with(raw_ids: &[&str], role: Role, tested: bool) -> StandIn {
    let server = StandIn::start();
    let fake = FakePatchew::install_project(&server, PROJECT.parse().unwrap(), "QEMU", json!({}));
    fake.add_user("ci-hub-reporter", TOKEN, role);
    for raw in raw_ids {
        let stored = MessageId::parse(raw).unwrap().patchew_stored();
        fake.add_series(&stored, "[PATCH] x", "");
        if tested {
            fake.set_testing(&stored, "gitlab", "pending", "");
        }
    }
    server
}

/// Patchew's stored form, percent-encoded, written independently of the job.
fn expected_segment(id: &MessageId) -> String {
    id.patchew_stored()
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn result_path(id: &MessageId) -> String {
    format!(
        "/api/v1/projects/{PROJECT}/series/{}/results/testing.gitlab/",
        expected_segment(id)
    )
}

/// The one PUT the run sent, checked for what every report has; its JSON body.
fn the_put(server: &StandIn, id: &MessageId, status: &str) -> Value {
    let puts: Vec<Recorded> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .collect();
    assert_eq!(puts.len(), 1, "{puts:#?}");
    let put = &puts[0];
    assert_eq!(put.target, result_path(id), "{}", id.as_str());
    assert_eq!(
        put.header("Authorization"),
        Some(&*format!("Token {TOKEN}"))
    );
    assert_eq!(put.header("Content-Type"), Some("application/json"));
    let body: Value = serde_json::from_slice(&put.body)
        .unwrap_or_else(|e| panic!("{}: {e}: {}", id.as_str(), put.body_text()));
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["data"]["head"], SHA, "{body}");
    assert_eq!(body["data"]["is_timeout"], false, "{body}");
    assert_eq!(body["data"]["pipeline_url"], PIPELINE_URL, "{body}");
    assert!(!put.body_text().contains(GITLAB_TOKEN));
    body
}

fn head_lines(status: &str, id: &MessageId) -> String {
    format!(
        "GitLab pipeline {PIPELINE_URL} ({status})\nseries: {}\ncommit: {SHA}\n",
        id.as_str()
    )
}

const NO_TOKEN_HINT: &str = "\nJob details: set PATCHEW_GITLAB_TOKEN";

fn check_report(job_name: &str, status: &str, raw_id: &str) {
    let id = MessageId::parse(raw_id).unwrap();
    let server = patchew_with(&[raw_id], Role::Tester, true);
    let tag = git_patchew::publish::tag::name(&id, "patchew");
    let out = Run::new(job_name, Some(&tag), &server).output();
    assert!(
        out.status.success(),
        "{raw_id}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let body = the_put(&server, &id, status);
    let log = body["log"].as_str().unwrap();
    assert!(log.starts_with(&head_lines(status, &id)), "{raw_id}: {log}");
    // Without a GitLab token a failure says how to get the details.
    assert_eq!(log.contains(NO_TOKEN_HINT), status == "failure", "{log}");
}

#[test]
fn success_failure_and_running_jobs_report_their_status() {
    if !have_python() {
        return;
    }
    let id = "20240101.1234-1-a@x.org";
    check_report("patchew-report-success", "success", id);
    check_report("patchew-report-failure", "failure", id);
    check_report("patchew-report-running", "running", id);
}

#[test]
fn hostile_message_ids_stay_data() {
    if !have_python() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("pwned");
    let m = marker.display();
    for raw in [
        format!("$(touch${{IFS}}{m})@evil"),
        format!("`touch${{IFS}}{m}`@evil"),
        format!("';touch${{IFS}}{m};'@evil"),
        format!("\";touch${{IFS}}{m};\"@evil"),
        r#"a"b'c\d@x"#.to_owned(),
        r#"","status":"success@x"#.to_owned(),
        "a_b/c@x".to_owned(),
        "%41&x=1?y#z@h".to_owned(),
        ".lead..dots.@x.lock".to_owned(),
        "a._5Fb@c".to_owned(),
        "_.x@y".to_owned(),
        "é@ü.example".to_owned(),
        "w~^:*[@{x".to_owned(),
    ] {
        check_report("patchew-report-failure", "failure", &raw);
        assert!(!marker.exists(), "{raw} ran a command");
    }
}

/// An annotated tag's message (`CI_COMMIT_TAG_MESSAGE`) agreeing with the tag name:
/// the job says it read the message, and a hostile id in it is data, not shell.
#[test]
fn annotated_tag_message_is_read_and_agrees_with_the_name() {
    if !have_python() {
        return;
    }
    let raw = "long_id/with$(touch${IFS}x)@x";
    let server = patchew_with(&[raw], Role::Tester, true);
    let id = MessageId::parse(raw).unwrap();
    let tag = git_patchew::publish::tag::name(&id, "patchew");
    let out = Run::new("patchew-report-success", Some(&tag), &server)
        .env(
            "CI_COMMIT_TAG_MESSAGE",
            &format!("patchew: Series title\n\nPatchew-Message-Id: <{raw}>\n"),
        )
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("series from the tag message, the same as the tag name"),
        "{}",
        text(&out.stdout)
    );
    let body = the_put(&server, &id, "success");
    assert_eq!(body["log"], head_lines("success", &id));
}

/// A message naming another series than the tag name (a tag that went around the
/// hook), or naming several: the report goes to the name's series, with a warning.
#[test]
fn tag_name_wins_over_a_disagreeing_tag_message() {
    if !have_python() {
        return;
    }
    let id = MessageId::parse("named_by/the-tag@x").unwrap();
    let tag = git_patchew::publish::tag::name(&id, "patchew");
    for (message, claim) in [
        (
            "patchew: t\n\nPatchew-Message-Id: <someone-else@x>\n",
            "'someone-else@x'",
        ),
        (
            "patchew: t\n\nPatchew-Message-Id: <named_by/the-tag@x>\nPatchew-Message-Id: <b@x>\n",
            "'no single valid id'",
        ),
    ] {
        let server = patchew_with(&["named_by/the-tag@x"], Role::Tester, true);
        let out = Run::new("patchew-report-success", Some(&tag), &server)
            .env("CI_COMMIT_TAG_MESSAGE", message)
            .output();
        assert!(out.status.success(), "{}", text(&out.stderr));
        let body = the_put(&server, &id, "success");
        let warning = format!(
            "warning: the tag message's Patchew-Message-Id names {claim}, not the tag \
             name's series; reported for the tag name\n"
        );
        assert_eq!(
            body["log"],
            format!("{}{warning}", head_lines("success", &id)),
            "{message}"
        );
    }
}

#[test]
fn no_patchew_tag_means_no_report() {
    if !have_python() {
        return;
    }
    let server = patchew();
    for tag in [None, Some("v1.0"), Some("patchew/")] {
        let out = Run::new("patchew-report-success", tag, &server).output();
        assert!(out.status.success(), "{tag:?}");
        assert!(text(&out.stdout).contains("nothing to report"));
    }
    assert!(server.requests().is_empty(), "a request was sent");
}

#[test]
fn applier_mode_sends_nothing_and_needs_no_token() {
    if !have_python() {
        return;
    }
    let server = patchew();
    for job_name in [
        "patchew-report-running",
        "patchew-report-success",
        "patchew-report-failure",
    ] {
        let out = Run::new(job_name, Some("patchew/a@b"), &server)
            .env("PATCHEW_REPORT_FROM", "applier")
            .env("PATCHEW_TOKEN", "")
            .output();
        assert!(out.status.success(), "{job_name}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("the applier reports"));
    }
    assert!(server.requests().is_empty(), "a request was sent");
}

#[test]
fn undecodable_tag_fails_without_request() {
    if !have_python() {
        return;
    }
    let server = patchew();
    for tag in ["patchew/a._ZZ@x", "patchew/a._5", "patchew/a._00@x"] {
        let out = Run::new("patchew-report-success", Some(tag), &server).output();
        assert!(!out.status.success(), "{tag}");
        assert!(text(&out.stderr).contains("does not hold an escaped message-id"));
    }
    assert!(server.requests().is_empty(), "a request was sent");
}

/// Each Patchew refusal gets a line that says what to fix.
#[test]
fn patchew_refusals_are_explained() {
    if !have_python() {
        return;
    }
    // What the real server answers: no gitlab test enabled (the result does not
    // exist), a token it does not know, a user in importers only.
    for (status, wanted, role, tested) in [
        (
            404,
            "enable a test named gitlab in the project's testing configuration",
            Role::Tester,
            false,
        ),
        (
            401,
            "Patchew refused PATCHEW_TOKEN (HTTP 401)",
            Role::Tester,
            true,
        ),
        (
            403,
            "in the testers group, or a maintainer",
            Role::Importer,
            true,
        ),
    ] {
        let server = patchew_with(&["a@b"], role, tested);
        let mut run = Run::new("patchew-report-failure", Some("patchew/a@b"), &server);
        if status == 401 {
            run = run.env("PATCHEW_TOKEN", "not-a-token-patchew-knows");
        }
        let out = run.output();
        assert!(!out.status.success(), "{status}");
        let err = text(&out.stderr);
        assert!(err.contains(wanted), "{status}: {err}");
        // A refusal is not retried.
        assert_eq!(server.requests().len(), 1, "{status}");
    }
}

#[test]
fn a_patchew_hiccup_is_retried() {
    if !have_python() {
        return;
    }
    let server = patchew();
    let id = MessageId::parse("a@b").unwrap();
    server.interject("PUT", &result_path(&id), vec![Reply::status(502)]);
    let out = Run::new("patchew-report-success", Some("patchew/a@b"), &server).output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(server.requests_to("PUT", &result_path(&id)).len(), 2);
}

/// A trace as GitLab stores it: colours, collapsible sections, a progress line.
fn trace(name: &str, lines: usize) -> Vec<u8> {
    let mut t = String::from(
        "\x1b[0KRunning with gitlab-runner\n\
         section_start:1700000000:step_script\r\x1b[0K\x1b[32;1m$ make check\x1b[0;m\n\
         progress 10%\rprogress 100%\n",
    );
    for i in 1..=lines {
        t.push_str(&format!("{name} line {i}\n"));
    }
    t.push_str(&format!(
        "\x1b[31;1m{name}: FAILED\x1b[0;m\nsection_end:1700000001:step_script\r\x1b[0K\n"
    ));
    t.into_bytes()
}

fn gitlab_job(id: u64, name: &str, stage: &str, status: &str, allow: bool, lines: usize) -> Job {
    Job {
        id,
        name: name.into(),
        stage: stage.into(),
        status: status.into(),
        allow_failure: allow,
        trace: trace(name, lines),
    }
}

fn gitlab(jobs: Vec<Job>) -> (StandIn, FakeGitLab) {
    let server = StandIn::start();
    let fake = FakeGitLab::install(&server, GITLAB_TOKEN);
    fake.add_pipeline(Pipeline {
        id: PIPELINE_ID,
        git_ref: "patchew/a@b".into(),
        sha: SHA.into(),
        status: "running".into(),
    });
    fake.serve_jobs(move |p| {
        if p == PIPELINE_ID {
            jobs.clone()
        } else {
            Vec::new()
        }
    });
    (server, fake)
}

#[test]
fn failure_report_names_failed_jobs_and_carries_log_tails() {
    if !have_python() {
        return;
    }
    let jobs = vec![
        gitlab_job(1, "build", "build", "success", false, 3),
        gitlab_job(2, "check-unit", "test", "failed", false, 500),
        gitlab_job(3, "lint", "test", "failed", true, 5),
        gitlab_job(4, "docs", "test", "success", false, 3),
        gitlab_job(5, "patchew-report-running", ".pre", "failed", true, 1),
        gitlab_job(6, "patchew-report-failure", ".post", "running", false, 0),
    ];
    assert!(jobs.len() > 2 * PAGE_SIZE, "the list spans pages");
    let (gl_server, gl) = gitlab(jobs);
    let server = patchew();
    let id = MessageId::parse("a@b").unwrap();
    let out = Run::new("patchew-report-failure", Some("patchew/a@b"), &server)
        .gitlab(&gl, GITLAB_TOKEN)
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let body = the_put(&server, &id, "failure");
    let log = body["log"].as_str().unwrap();
    assert!(log.starts_with(&head_lines("failure", &id)), "{log}");
    assert!(!log.contains(NO_TOKEN_HINT), "{log}");
    let web = gl.project_web_url();
    assert!(
        log.contains(&format!(
            "- check-unit (stage test): {web}/-/jobs/2\n- lint (stage test, allowed to fail): {web}/-/jobs/3\n"
        )),
        "{log}"
    );
    // Passing jobs and our own are not listed.
    for absent in ["build (", "docs", "patchew-report"] {
        assert!(!log.contains(absent), "{absent}: {log}");
    }
    // The end of the failed job's log, cleaned of colours and section markers...
    assert!(
        log.contains("check-unit line 500\ncheck-unit: FAILED\n"),
        "{log}"
    );
    assert!(!log.contains('\x1b') && !log.contains("section_"), "{log}");
    // ...bounded to 200 lines of logs in all, the real failure first.
    assert!(
        log.contains("--- last 200 lines of the log of check-unit ---"),
        "{log}"
    );
    assert!(!log.contains("check-unit line 301\n"), "{log}");
    assert!(log.contains("\ncheck-unit line 302\n"), "{log}");
    assert!(
        log.contains(
            "--- log of lint left out: a report carries at most 200 lines and 64 KiB of logs ---"
        ),
        "{log}"
    );
    // Every list page and the trace were read with the GitLab token.
    let gl_requests = gl_server.requests();
    let pages = gl_requests
        .iter()
        .filter(|r| r.path().ends_with("/jobs"))
        .count();
    assert_eq!(pages, 3, "{gl_requests:#?}");
    assert!(gl_requests
        .iter()
        .all(|r| r.header("PRIVATE-TOKEN") == Some(GITLAB_TOKEN)));
    assert!(gl_requests
        .iter()
        .any(|r| r.path() == "/api/v4/projects/77/jobs/2/trace"));
}

#[test]
fn the_gitlab_token_does_not_follow_a_redirect() {
    if !have_python() {
        return;
    }
    let elsewhere = StandIn::start();
    elsewhere.route("GET", "/trace", Reply::ok("log from elsewhere\n"));
    let (gl_server, gl) = gitlab(vec![gitlab_job(2, "check", "test", "failed", false, 3)]);
    gl_server.interject(
        "GET",
        "/api/v4/projects/77/jobs/2/trace",
        vec![Reply::redirect(302, &format!("{}/trace", elsewhere.url()))],
    );
    let server = patchew();
    let out = Run::new("patchew-report-failure", Some("patchew/a@b"), &server)
        .gitlab(&gl, GITLAB_TOKEN)
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let body = the_put(&server, &MessageId::parse("a@b").unwrap(), "failure");
    assert!(body["log"]
        .as_str()
        .unwrap()
        .contains("\nlog from elsewhere\n"));
    let followed = elsewhere.requests();
    assert_eq!(followed.len(), 1);
    assert_eq!(followed[0].header("PRIVATE-TOKEN"), None);
}

/// The report jobs and the applier (`reportFrom = applier`, the backstop) write the
/// same report for the same pipeline: Patchew's mails read alike whoever sent them.
#[test]
fn the_jobs_and_the_applier_write_the_same_report() {
    use git_patchew::report::pipeline;
    if !have_python() {
        return;
    }
    let jobs = vec![
        gitlab_job(1, "build", "build", "success", false, 3),
        gitlab_job(2, "check-unit", "test", "failed", false, 150),
        gitlab_job(3, "lint", "test", "failed", true, 80),
        gitlab_job(4, "patchew-report-running", ".pre", "failed", true, 1),
    ];
    let (_gl_server, gl) = gitlab(jobs.clone());
    // One job lost to its runner beside a script failure: every reason is shown.
    let reasons = |id| {
        if id == 3 {
            "runner_system_failure"
        } else {
            "script_failure"
        }
    };
    gl.fail_with(3, reasons(3));
    let server = patchew();
    let out = Run::new("patchew-report-failure", Some("patchew/a@b"), &server)
        .gitlab(&gl, GITLAB_TOKEN)
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let body = the_put(&server, &MessageId::parse("a@b").unwrap(), "failure");

    let web = gl.project_web_url();
    let listed: Vec<git_patchew::report::gitlab::Job> = jobs
        .iter()
        .map(|j| git_patchew::report::gitlab::Job {
            id: j.id,
            name: j.name.clone(),
            stage: j.stage.clone(),
            status: j.status.clone(),
            allow_failure: j.allow_failure,
            web_url: format!("{web}/-/jobs/{}", j.id),
            failure_reason: (j.status == "failed").then(|| reasons(j.id).to_owned()),
        })
        .collect();
    let failed = pipeline::failed_jobs(&listed);
    let lines = pipeline::verdict_lines(PIPELINE_URL, "failure", "a@b", SHA, &failed, &mut |job| {
        Ok(jobs.iter().find(|j| j.id == job.id).unwrap().trace.clone())
    });
    assert_eq!(body["log"].as_str().unwrap(), pipeline::render(&lines));
    let mut data = serde_json::json!({"head": SHA, "is_timeout": false});
    git_patchew::report::data::ReportData::of_jobs(PIPELINE_URL, &failed).merge_into(&mut data);
    assert_eq!(body["data"], data);
}

#[test]
fn log_tails_stay_within_64_kib() {
    if !have_python() {
        return;
    }
    let mut big = gitlab_job(2, "check", "test", "failed", false, 0);
    big.trace = (0..150)
        .flat_map(|i| format!("{i:03}{}\n", "x".repeat(1000)).into_bytes())
        .collect();
    let (_gl_server, gl) = gitlab(vec![big]);
    let server = patchew();
    let out = Run::new("patchew-report-failure", Some("patchew/a@b"), &server)
        .gitlab(&gl, GITLAB_TOKEN)
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let body = the_put(&server, &MessageId::parse("a@b").unwrap(), "failure");
    let log = body["log"].as_str().unwrap();
    let kept = log.lines().filter(|l| l.len() > 1000).count();
    assert_eq!(kept, 64 * 1024 / 1004, "{}", log.len());
    assert!(log.contains(&format!("149{}\n", "x".repeat(1000))));
    assert!(log.len() < 64 * 1024 + 1024);
}

#[test]
fn success_report_lists_allowed_failures() {
    if !have_python() {
        return;
    }
    let (_gl_server, gl) = gitlab(vec![
        gitlab_job(1, "build", "build", "success", false, 3),
        gitlab_job(3, "lint", "test", "failed", true, 5),
    ]);
    let server = patchew();
    let out = Run::new("patchew-report-success", Some("patchew/a@b"), &server)
        .gitlab(&gl, GITLAB_TOKEN)
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let body = the_put(&server, &MessageId::parse("a@b").unwrap(), "success");
    let log = body["log"].as_str().unwrap();
    assert!(
        log.contains("- lint (stage test, allowed to fail): "),
        "{log}"
    );
    assert!(log.contains("lint line 5\n"), "{log}");
    // A short log is shown whole, cleaned: colours, sections and overwritten
    // progress gone.
    assert!(
        log.contains("\nRunning with gitlab-runner\n$ make check\nprogress 100%\nlint line 1\n"),
        "{log}"
    );
}

#[test]
fn a_refused_gitlab_token_still_reports() {
    if !have_python() {
        return;
    }
    let (_gl_server, gl) = gitlab(vec![gitlab_job(2, "check", "test", "failed", false, 3)]);
    let server = patchew();
    let out = Run::new("patchew-report-failure", Some("patchew/a@b"), &server)
        .gitlab(&gl, "glpat-wrong")
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let body = the_put(&server, &MessageId::parse("a@b").unwrap(), "failure");
    let log = body["log"].as_str().unwrap();
    assert!(
        log.contains(
            "GitLab answered HTTP 401 to the jobs list (PATCHEW_GITLAB_TOKEN needs scope read_api)"
        ),
        "{log}"
    );
    assert!(!log.contains("glpat-wrong"));
}

#[test]
fn jobs_fit_into_any_project() {
    let file = ci_file();
    let top = file.as_mapping().unwrap();
    for key in ["stages", "workflow", "default", "variables", "include"] {
        assert!(!top.contains_key(key), "defines {key}");
    }
    for (name, stage, when) in [
        ("patchew-report-running", ".pre", "always"),
        ("patchew-report-success", ".post", "on_success"),
        ("patchew-report-failure", ".post", "on_failure"),
    ] {
        let job = &file[name];
        assert_eq!(job["stage"], stage);
        assert!(job["image"]["name"]
            .as_str()
            .unwrap()
            .starts_with("python:3"));
        for key in ["before_script", "after_script", "dependencies", "cache"] {
            assert_eq!(
                job[key],
                serde_yaml::Value::Sequence(vec![]),
                "{name} {key}"
            );
        }
        assert_eq!(job["interruptible"], false);
        // Only the courtesy job may fail without failing the pipeline.
        assert_eq!(
            job["allow_failure"].as_bool().unwrap_or(false),
            stage == ".pre",
            "{name}"
        );
        let rules = job["rules"].as_sequence().unwrap();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0]["when"], when);
        assert!(rules[0]["if"].as_str().unwrap().contains("/^patchew\\//"));
        assert!(
            job.get("when").is_none(),
            "GitLab refuses `when` next to `rules`"
        );
    }
    // Only the three jobs: anything else could clash with a project's names.
    assert_eq!(top.len(), 3);
}

#[test]
fn missing_configuration_fails_loudly() {
    if !have_python() {
        return;
    }
    let def = job("patchew-report-success");
    let out = Command::new("sh")
        .arg("-c")
        .arg(&def.script)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("CI_COMMIT_TAG", "patchew/a@b")
        .envs(def.variables.iter().cloned())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("PATCHEW_PROJECT_ID"));
}

/// The failure report of a pipeline with `jobs`, job 2 failed by its runner: the
/// result written to Patchew, the series' id and the project's web URL.
fn failure_report_where_a_runner_failed(jobs: Vec<Job>) -> (Value, MessageId, String) {
    let (_gl_server, gl) = gitlab(jobs);
    gl.fail_with(2, "runner_system_failure");
    let server = patchew();
    let id = MessageId::parse("a@b").unwrap();
    let out = Run::new("patchew-report-failure", Some("patchew/a@b"), &server)
        .gitlab(&gl, GITLAB_TOKEN)
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    (the_put(&server, &id, "failure"), id, gl.project_web_url())
}

/// GitLab says a runner, not the job's script, failed the only failed job: the
/// report clears the series in its first line and in its data.
#[test]
fn a_runner_failure_alone_is_not_the_series_failure() {
    if !have_python() {
        return;
    }
    let (body, id, web) = failure_report_where_a_runner_failed(vec![
        gitlab_job(1, "build", "build", "success", false, 3),
        gitlab_job(2, "check", "test", "failed", false, 4),
    ]);
    let log = body["log"].as_str().unwrap();
    let first = "Infrastructure failure (runner_system_failure): the ci-hub failed, not the series; its tests did not run to the end.\n";
    assert!(
        log.starts_with(&format!("{first}{}", head_lines("failure", &id))),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "- check (stage test, runner_system_failure): {web}/-/jobs/2\n"
        )),
        "{log}"
    );
    assert!(log.contains("check line 4\n"), "{log}");
    assert_eq!(
        body["data"],
        serde_json::json!({
            "head": SHA, "is_timeout": false, "pipeline_url": PIPELINE_URL,
            "failed_jobs": [{"name": "check", "stage": "test", "url": format!("{web}/-/jobs/2"),
                             "failure_reason": "runner_system_failure", "allow_failure": false}],
            "infrastructure_failure": "runner_system_failure",
        })
    );
}

/// A script failure beside the runner's: the series failed, and each job says why.
#[test]
fn a_script_failure_beside_a_runner_failure_is_the_series_failure() {
    if !have_python() {
        return;
    }
    let (body, id, web) = failure_report_where_a_runner_failed(vec![
        gitlab_job(2, "check", "test", "failed", false, 4),
        gitlab_job(3, "unit", "test", "failed", false, 4),
    ]);
    let log = body["log"].as_str().unwrap();
    assert!(log.starts_with(&head_lines("failure", &id)), "{log}");
    assert!(
        log.contains(&format!(
            "- check (stage test, runner_system_failure): {web}/-/jobs/2\n- unit (stage test, script_failure): {web}/-/jobs/3\n"
        )),
        "{log}"
    );
    assert!(
        body["data"].get("infrastructure_failure").is_none(),
        "{body}"
    );
    let reasons: Vec<&str> = body["data"]["failed_jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["failure_reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["runner_system_failure", "script_failure"]);
}
