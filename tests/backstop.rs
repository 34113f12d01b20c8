//! The applier's backstop: series it pushed whose `testing.gitlab` result stays
//! `pending`/`running` past `patchew.ciTimeout` get a report from the applier, from
//! what a loopback GitLab API says about the tag's pipeline; and `reportFrom =
//! applier`, where the applier reports every pipeline itself.

use crate::support;

use std::path::PathBuf;
use std::process::Output;

use serde_json::{json, Value};
use support::applier::{CI_PLAIN, TOKEN};
use support::git::{stderr, stdout, TestRepo};
use support::gitlab::{FakeGitLab, Job, Pipeline};
use support::patchew::FakePatchew;
use support::StandIn;

const GITLAB_TOKEN: &str = "glpat-backstop-s3cret";
const ID: &str = "backstop-1@example.org";
const TAG: &str = "patchew/backstop-1@example.org";

/// GitLab runs no pipeline for a tag of this project.
const CI_NO_TAGS: &str = "workflow:\n  rules:\n    - if: $CI_COMMIT_TAG\n      when: never\n    - when: always\nbuild:\n  script: make\n";

struct World {
    project: TestRepo,
    mirror: PathBuf,
    _server: StandIn,
    patchew: FakePatchew,
    gitlab_server: StandIn,
    gitlab: FakeGitLab,
}

fn world(ci: &str) -> World {
    let gitlab_server = StandIn::start();
    let gitlab = FakeGitLab::install(&gitlab_server, GITLAB_TOKEN);
    let w = support::applier::world(ci, &[]);
    w.patchew.enable_test("gitlab");
    let token_file = w.project.scratch("gitlab-token");
    std::fs::write(&token_file, format!("{GITLAB_TOKEN}\n")).unwrap();
    for (k, v) in [
        ("patchew.httpRetries", "1".to_owned()),
        ("patchew.httpTimeout", "5".to_owned()),
        ("patchew.claimSettle", "0".to_owned()),
        ("patchew.ciTimeout", "0".to_owned()),
        ("patchew.gitlabUrl", gitlab_server.url()),
        ("patchew.ciProject", gitlab.project_path.clone()),
        (
            "patchew.gitlabTokenFile",
            token_file.to_str().unwrap().to_owned(),
        ),
    ] {
        w.project.git_in(&w.mirror, &["config", k, &v]);
    }
    // A series: one patch, as Patchew's mbox serves it.
    let mbox = support::applier::one_patch(&w.project, ID, "int x = 2;\n");
    w.patchew.add_series(ID, "[PATCH] change main.c", mbox);
    World {
        project: w.project,
        mirror: w.mirror,
        _server: w.server,
        patchew: w.patchew,
        gitlab_server,
        gitlab,
    }
}

fn applier(w: &World) -> Output {
    let out = w
        .project
        .command(env!("CARGO_BIN_EXE_git-patchew"), &w.mirror)
        .env("PATCHEW_TOKEN", TOKEN)
        .env_remove("PATCHEW_GITLAB_TOKEN")
        .args(["applier", "--once", "-v"])
        .output()
        .unwrap();
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!all.contains(TOKEN), "the Patchew token was printed: {all}");
    assert!(
        !all.contains(GITLAB_TOKEN),
        "the GitLab token was printed: {all}"
    );
    out
}

/// Applies and pushes the series; its testing.gitlab result is then pending.
fn push_series(w: &World) -> String {
    let out = applier(w);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(w.patchew.git(ID).status, "success");
    assert_eq!(w.patchew.testing(ID, "gitlab").unwrap().status, "pending");
    w.project.git_in(
        &w.mirror,
        &["rev-parse", &format!("refs/tags/{TAG}^{{commit}}")],
    )
}

/// The next applier round with an empty queue: the backstop's turn. `--once` keeps
/// its exit code (3, nothing to apply) whatever the backstop does.
fn backstop_round(w: &World) -> String {
    let out = applier(w);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    stderr(&out)
}

fn testing_puts(w: &World) -> Vec<Value> {
    w._server
        .requests_to("PUT", &w.patchew.testing_path(ID, "gitlab"))
        .iter()
        .map(|r| {
            assert_eq!(r.header("Authorization"), Some(&*format!("Token {TOKEN}")));
            serde_json::from_slice(&r.body).unwrap()
        })
        .collect()
}

/// The one report the backstop sent, checked against what Patchew stored.
fn the_report(w: &World, head: &str) -> Value {
    let puts = testing_puts(w);
    assert_eq!(puts.len(), 1, "{puts:#?}");
    let put = puts.into_iter().next().unwrap();
    assert_eq!(put["data"]["head"], head);
    let stored = w.patchew.testing(ID, "gitlab").unwrap();
    assert_eq!(put["status"], stored.status);
    let log = put["log"].as_str().unwrap();
    assert!(
        log.contains(&format!("series: {ID}\ncommit: {head}\n")),
        "{log}"
    );
    assert!(!log.contains(GITLAB_TOKEN) && !log.contains(TOKEN));
    put
}

fn pipeline(status: &str) -> Pipeline {
    Pipeline {
        id: 31,
        git_ref: TAG.into(),
        sha: String::new(),
        status: status.into(),
    }
}

fn job(id: u64, name: &str, status: &str, allow_failure: bool) -> Job {
    Job {
        id,
        name: name.into(),
        stage: "test".into(),
        status: status.into(),
        allow_failure,
        trace: format!("{name} says hello\n{name} ends\n").into_bytes(),
    }
}

#[test]
fn no_pipeline_is_reported_with_the_ci_files_reason() {
    let w = world(CI_NO_TAGS);
    let head = push_series(&w);
    let err = backstop_round(&w);
    let put = the_report(&w, &head);
    assert_eq!(put["status"], "failure", "{err}");
    assert_eq!(put["data"]["is_timeout"], false);
    let log = put["log"].as_str().unwrap();
    assert!(
        log.contains(&format!("GitLab created no pipeline for refs/tags/{TAG}")),
        "{log}"
    );
    assert!(
        log.contains("The tag's .gitlab-ci.yml says why:\n- "),
        "{log}"
    );
    assert!(log.contains("workflow"), "{log}");
    // GitLab was asked with the token from the file.
    let asked = w.gitlab_server.requests();
    assert!(!asked.is_empty());
    assert!(asked
        .iter()
        .all(|r| r.header("PRIVATE-TOKEN") == Some(GITLAB_TOKEN)));
    // Reported once: the tag is no longer watched.
    backstop_round(&w);
    assert_eq!(testing_puts(&w).len(), 1);
}

#[test]
fn a_canceled_pipeline_is_reported() {
    let w = world(CI_PLAIN);
    let head = push_series(&w);
    w.gitlab.add_pipeline(pipeline("canceled"));
    backstop_round(&w);
    let put = the_report(&w, &head);
    assert_eq!(put["status"], "failure");
    assert_eq!(put["data"]["is_timeout"], false);
    assert!(put["log"]
        .as_str()
        .unwrap()
        .contains("The pipeline was canceled."));
}

#[test]
fn a_pipeline_blocked_on_a_manual_job_is_reported() {
    let w = world(CI_PLAIN);
    let head = push_series(&w);
    w.gitlab.add_pipeline(pipeline("manual"));
    w.gitlab.serve_jobs(|_| {
        vec![
            job(1, "build", "success", false),
            job(2, "optional", "manual", true),
            job(3, "deploy-check", "manual", false),
        ]
    });
    backstop_round(&w);
    let put = the_report(&w, &head);
    assert_eq!(put["status"], "failure");
    let log = put["log"].as_str().unwrap();
    assert!(log.contains("blocked on manual job deploy-check"), "{log}");
}

#[test]
fn a_pipeline_still_running_times_out() {
    let w = world(CI_PLAIN);
    let head = push_series(&w);
    w.gitlab.add_pipeline(pipeline("running"));
    w.gitlab.serve_jobs(|_| {
        vec![
            job(1, "build", "success", false),
            job(2, "check", "pending", false),
        ]
    });
    backstop_round(&w);
    let put = the_report(&w, &head);
    assert_eq!(put["status"], "failure");
    assert_eq!(put["data"]["is_timeout"], true);
    let log = put["log"].as_str().unwrap();
    assert!(
        log.contains("Timed out: the pipeline is still running"),
        "{log}"
    );
    assert!(log.contains("- check (pending)"), "{log}");
}

#[test]
fn without_gitlab_a_silent_pipeline_times_out() {
    let w = world(CI_PLAIN);
    for key in [
        "patchew.gitlabUrl",
        "patchew.ciProject",
        "patchew.gitlabTokenFile",
    ] {
        w.project.git_in(&w.mirror, &["config", "--unset", key]);
    }
    let head = push_series(&w);
    backstop_round(&w);
    let put = the_report(&w, &head);
    assert_eq!(put["status"], "failure");
    assert_eq!(put["data"]["is_timeout"], true);
    assert!(w.gitlab_server.requests().is_empty());
}

#[test]
fn nothing_is_reported_before_the_timeout() {
    let w = world(CI_PLAIN);
    w.project
        .git_in(&w.mirror, &["config", "patchew.ciTimeout", "3600"]);
    push_series(&w);
    let before = w._server.requests().len();
    backstop_round(&w);
    assert!(testing_puts(&w).is_empty());
    assert_eq!(w.patchew.testing(ID, "gitlab").unwrap().status, "pending");
    // Not even a look at the result, nor at GitLab, before the timeout.
    let testing = w.patchew.testing_path(ID, "gitlab");
    assert!(w._server.requests()[before..]
        .iter()
        .all(|r| r.path() != testing));
    assert!(w.gitlab_server.requests().is_empty());
}

#[test]
fn a_result_written_meanwhile_is_not_overwritten() {
    let w = world(CI_PLAIN);
    push_series(&w);
    w.gitlab.add_pipeline(pipeline("canceled"));
    // The pipeline's own report lands between the backstop's look and its write.
    w.patchew
        .testing_written_after_reads(ID, "gitlab", 1, "success");
    let err = backstop_round(&w);
    assert!(testing_puts(&w).is_empty(), "{err}");
    let stored = w.patchew.testing(ID, "gitlab").unwrap();
    assert_eq!(stored.status, "success");
    assert_eq!(stored.log.as_deref(), Some("written by the pipeline"));
    assert!(err.contains("reported meanwhile; left alone"), "{err}");
}

#[test]
fn a_result_the_pipeline_wrote_is_left_alone() {
    let w = world(CI_PLAIN);
    push_series(&w);
    w.gitlab.add_pipeline(pipeline("failed"));
    w.patchew
        .set_testing(ID, "gitlab", "failure", "the pipeline's report");
    backstop_round(&w);
    assert!(testing_puts(&w).is_empty());
    assert!(
        w.gitlab_server.requests().is_empty(),
        "GitLab asked for nothing"
    );
}

#[test]
fn applier_mode_reports_a_finished_pipeline_at_once() {
    let w = world(CI_PLAIN);
    w.project
        .git_in(&w.mirror, &["config", "patchew.ciTimeout", "3600"]);
    w.project
        .git_in(&w.mirror, &["config", "patchew.reportFrom", "applier"]);
    let head = push_series(&w);
    w.gitlab.add_pipeline(pipeline("running"));
    w.gitlab
        .serve_jobs(|_| vec![job(1, "build", "running", false)]);
    backstop_round(&w);
    let puts = testing_puts(&w);
    assert_eq!(puts.len(), 1, "{puts:#?}");
    assert_eq!(puts[0]["status"], "running");
    assert!(puts[0]["log"]
        .as_str()
        .unwrap()
        .contains("/-/pipelines/31 (running)"));

    w.gitlab.add_pipeline(Pipeline {
        id: 32,
        ..pipeline("failed")
    });
    w.gitlab.serve_jobs(|p| {
        if p == 32 {
            vec![
                job(5, "build", "success", false),
                job(6, "check", "failed", false),
            ]
        } else {
            Vec::new()
        }
    });
    backstop_round(&w);
    let puts = testing_puts(&w);
    assert_eq!(puts.len(), 2, "{puts:#?}");
    let put = &puts[1];
    assert_eq!(put["status"], "failure");
    assert_eq!(put["data"]["head"], head);
    let log = put["log"].as_str().unwrap();
    let web = w.gitlab.project_web_url();
    assert!(
        log.starts_with(&format!("GitLab pipeline {web}/-/pipelines/32 (failure)\n")),
        "{log}"
    );
    assert!(
        log.contains(&format!("- check (stage test): {web}/-/jobs/6\n")),
        "{log}"
    );
    assert!(log.contains("check says hello\ncheck ends\n"), "{log}");
}

#[test]
fn applier_mode_needs_gitlab_and_half_a_setup_is_refused() {
    let w = world(CI_PLAIN);
    w.project
        .git_in(&w.mirror, &["config", "--unset", "patchew.ciProject"]);
    let out = applier(&w);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("patchew.ciProject"),
        "{}",
        stderr(&out)
    );
    for key in ["patchew.gitlabUrl", "patchew.gitlabTokenFile"] {
        w.project.git_in(&w.mirror, &["config", "--unset", key]);
    }
    w.project
        .git_in(&w.mirror, &["config", "patchew.reportFrom", "applier"]);
    let out = applier(&w);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("needs GitLab access"),
        "{}",
        stderr(&out)
    );
    w.project
        .git_in(&w.mirror, &["config", "patchew.reportFrom", "jobs"]);
    let out = applier(&w);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("patchew.reportFrom"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_tag_pushed_with_ci_skip_is_not_watched() {
    let w = world(CI_PLAIN);
    w.project
        .git_in(&w.mirror, &["config", "patchew.ciTimeout", "3600"]);
    push_series(&w);
    // A reply added a trailer: Patchew re-queues the series with ci.skip, and
    // GitLab will run no pipeline for the new tag, on purpose.
    let hub = w.project.scratch("hub.git");
    w.project
        .git_in(&hub, &["config", "receive.advertisePushOptions", "true"]);
    w.patchew
        .set_git(ID, "pending", json!({"git.push_options": "ci.skip"}));
    let out = applier(&w);
    assert!(out.status.success(), "{}", stderr(&out));
    w.project
        .git_in(&w.mirror, &["config", "patchew.ciTimeout", "0"]);
    w.patchew.set_testing(ID, "gitlab", "pending", "");
    backstop_round(&w);
    assert!(testing_puts(&w).is_empty());
    assert!(w.gitlab_server.requests().is_empty());
}

#[test]
fn a_gitlab_that_refuses_still_gives_a_timeout_report() {
    let w = world(CI_PLAIN);
    let token_file = w.project.scratch("gitlab-token");
    std::fs::write(&token_file, "glpat-revoked").unwrap();
    let head = push_series(&w);
    let err = backstop_round(&w);
    let put = the_report(&w, &head);
    assert_eq!(put["status"], "failure");
    assert_eq!(put["data"]["is_timeout"], true);
    let log = put["log"].as_str().unwrap();
    assert!(log.contains("GitLab could not say why: GET "), "{log}");
    assert!(log.contains("401"), "{log}");
    assert!(
        !log.contains("glpat-revoked") && !err.contains("glpat-revoked"),
        "{err}"
    );
    assert!(err.contains("warning: backstop: refs/tags/"), "{err}");
}

/// `reportFrom = applier`: a pipeline failed only by its runner is reported as the
/// infrastructure's, in the log's first line and in the data.
#[test]
fn applier_mode_reports_a_runner_failure_as_the_infrastructure() {
    let w = world(CI_PLAIN);
    w.project
        .git_in(&w.mirror, &["config", "patchew.reportFrom", "applier"]);
    let head = push_series(&w);
    w.gitlab.add_pipeline(pipeline("failed"));
    w.gitlab.serve_jobs(|_| {
        vec![
            job(5, "build", "success", false),
            job(6, "check", "failed", false),
        ]
    });
    w.gitlab.fail_with(6, "runner_system_failure");
    backstop_round(&w);
    let put = the_report(&w, &head);
    assert_eq!(put["status"], "failure");
    let web = w.gitlab.project_web_url();
    let log = put["log"].as_str().unwrap();
    assert!(
        log.starts_with(&format!(
            "Infrastructure failure (runner_system_failure): the ci-hub failed, not the series; its tests did not run to the end.\nGitLab pipeline {web}/-/pipelines/31 (failure)\n"
        )),
        "{log}"
    );
    assert_eq!(
        put["data"]["infrastructure_failure"],
        "runner_system_failure"
    );
    assert_eq!(put["data"]["pipeline_url"], format!("{web}/-/pipelines/31"));
    assert_eq!(
        put["data"]["failed_jobs"][0]["url"],
        format!("{web}/-/jobs/6")
    );
}
