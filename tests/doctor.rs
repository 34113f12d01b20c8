//! `git patchew doctor` against loopback stand-ins for Patchew, the include's web
//! host and GitLab: all well, the `gitlab` test missing, a bad token, checks it may
//! not make, and a CI file that runs nothing on tags.

use crate::support;

use std::path::Path;
use std::process::Output;

use serde_json::{json, Value};
use support::git::{stderr, stdout, TestRepo};
use support::gitlab::FakeGitLab;
use support::patchew::{FakePatchew, Role};
use support::{Reply, StandIn};

const TOKEN: &str = "doctor-patchew-s3cret";
const GITLAB_TOKEN: &str = "glpat-doctor-s3cret";

struct World {
    repo: TestRepo,
    server: StandIn,
    patchew: FakePatchew,
    gitlab: FakeGitLab,
    _gitlab_server: StandIn,
}

/// The series the rights are probed on.
const SERIES: &str = "probe-me@example.org";

/// What Patchew's configuration holds: `Some(true)` a gitlab test, `Some(false)`
/// another test only, `None` a user who may not read it (no maintainer).
fn world(gitlab_test: Option<bool>) -> World {
    let role = match gitlab_test {
        Some(_) => Role::Maintainer,
        None => Role::Applier,
    };
    world_as(gitlab_test, role)
}

/// The same, with the token's user in `role`.
fn world_as(gitlab_test: Option<bool>, role: Role) -> World {
    let repo = TestRepo::new();
    repo.write(".gitlab-ci.yml", "build:\n  script: make\n");
    repo.commit("base");
    repo.git(&["remote", "add", "ci-hub", "https://hub.example/ci/hub.git"]);
    let server = StandIn::start();
    let patchew = FakePatchew::install_project(
        &server,
        5,
        "QEMU",
        json!({"pushurl": "https://hub.example/ci/hub.git", "url": "https://hub.example/ci/hub"}),
    );
    patchew.add_user("doctor", TOKEN, role);
    patchew.add_series(SERIES, "[PATCH] probe me", "");
    match gitlab_test {
        Some(true) => patchew.enable_test("gitlab"),
        Some(false) => {
            let mut config = patchew.config();
            config["testing"] = json!({"tests": {"docker": {"enabled": true}}});
            patchew.set_config(config);
        }
        None => {}
    }
    let yml = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/patchew-ci.yml"))
        .unwrap();
    server.route("GET", "/patchew-ci.yml", Reply::ok(yml));
    let gitlab_server = StandIn::start();
    let gitlab = FakeGitLab::install(&gitlab_server, GITLAB_TOKEN);
    gitlab.set_variables(Some(&[
        "PATCHEW_SERVER",
        "PATCHEW_PROJECT_ID",
        "PATCHEW_TOKEN",
        "PATCHEW_GITLAB_TOKEN",
    ]));
    for (k, v) in [
        ("patchew.server", server.url()),
        ("patchew.project", "QEMU".into()),
        (
            "patchew.ciInclude",
            format!("{}/patchew-ci.yml", server.url()),
        ),
        ("patchew.gitlabUrl", gitlab_server.url()),
        ("patchew.ciProject", gitlab.project_path.clone()),
        ("patchew.httpTimeout", "5".into()),
    ] {
        repo.git(&["config", k, &v]);
    }
    let out = repo.patchew(&repo.path, &["install-hook"]);
    assert!(out.status.success(), "{}", stderr(&out));
    World {
        repo,
        server,
        patchew,
        gitlab,
        _gitlab_server: gitlab_server,
    }
}

fn doctor(w: &World, token: &str, json: bool) -> Output {
    let mut cmd = w
        .repo
        .command(env!("CARGO_BIN_EXE_git-patchew"), &w.repo.path);
    cmd.env("PATCHEW_TOKEN", token)
        .env("PATCHEW_GITLAB_TOKEN", GITLAB_TOKEN)
        .arg("doctor");
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().unwrap();
    let all = format!("{}{}", stdout(&out), stderr(&out));
    for secret in [TOKEN, GITLAB_TOKEN, "wrong-token-123"] {
        assert!(!all.contains(secret), "a token was printed: {all}");
    }
    out
}

/// check name -> (status, whole line) from the human output.
fn lines(out: &Output) -> Vec<(String, String, String)> {
    stdout(out)
        .lines()
        .map(|l| {
            let (status, rest) = l.split_once(' ').unwrap();
            let name = rest.trim_start().split(':').next().unwrap().to_owned();
            (name, status.to_owned(), l.to_owned())
        })
        .collect()
}

fn status_of(out: &Output, check: &str) -> (String, String) {
    let (_, status, line) = lines(out)
        .into_iter()
        .find(|(name, _, _)| name == check)
        .unwrap_or_else(|| panic!("no check {check}: {}", stdout(out)));
    (status, line)
}

#[test]
fn all_well_exits_0_with_one_line_per_check() {
    let w = world(Some(true));
    let out = doctor(&w, TOKEN, false);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let all = lines(&out);
    let names: Vec<&str> = all.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "config",
            "remote",
            "hook",
            "include",
            "patchew",
            "patchew-token",
            "patchew-project",
            "patchew-gitlab-test",
            "patchew-token-git",
            "patchew-token-testing",
            "gitlab",
            "gitlab-variables",
            "ci-verdict",
            "applier"
        ]
    );
    for (name, status, line) in &all {
        // The pipeline's token is not the applier's: nothing to check it with; and no
        // applier has run in this repository: nothing to say about one.
        let expected = if name == "patchew-token-testing" || name == "applier" {
            "skip"
        } else {
            "ok"
        };
        assert_eq!(status, expected, "{name}: {line}");
    }
    // Found by its name; Patchew's projects have no id field, only resource_uri.
    assert!(
        status_of(&out, "patchew-project")
            .1
            .contains("project QEMU found (id 5)"),
        "{}",
        stdout(&out)
    );
    // The config was read as the token's user.
    let config_reads = w.server.requests_to("GET", "/api/v1/projects/5/config/");
    assert_eq!(
        config_reads[0].header("Authorization"),
        Some(&*format!("Token {TOKEN}"))
    );

    let out = doctor(&w, TOKEN, true);
    assert_eq!(out.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let list = json.as_array().unwrap();
    assert_eq!(list.len(), all.len());
    assert!(list.iter().all(|c| {
        let expected = if c["check"] == "applier" || c["check"] == "patchew-token-testing" {
            "skip"
        } else {
            "ok"
        };
        c["status"] == expected && c["message"].is_string()
    }));
    assert!(w.patchew.writes().is_empty(), "{:?}", w.patchew.writes());
}

#[test]
fn a_missing_gitlab_test_fails_with_the_fix() {
    let w = world(Some(false));
    let out = doctor(&w, TOKEN, false);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let (status, line) = status_of(&out, "patchew-gitlab-test");
    assert_eq!(status, "FAIL");
    assert!(line.contains("no test named gitlab"), "{line}");
    assert!(
        line.contains("fix: in the project's testing configuration, enable a test named gitlab"),
        "{line}"
    );
}

#[test]
fn a_config_only_maintainers_may_read_is_not_a_failure() {
    let w = world(None);
    let out = doctor(&w, TOKEN, true);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let check = json
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "patchew-gitlab-test")
        .unwrap()
        .clone();
    assert_eq!(check["status"], "skip");
    assert!(check["message"]
        .as_str()
        .unwrap()
        .contains("could not check"));
}

#[test]
fn a_bad_token_is_named() {
    let w = world(Some(true));
    let out = doctor(&w, "wrong-token-123", false);
    assert_eq!(out.status.code(), Some(1));
    let (status, line) = status_of(&out, "patchew-token");
    assert_eq!(status, "FAIL");
    assert!(line.contains("Patchew refuses the token"), "{line}");
    assert!(line.contains("importers group"), "{line}");
}

#[test]
fn missing_variables_hook_and_tag_pipeline_fail() {
    let w = world(Some(true));
    w.gitlab.set_variables(Some(&["PATCHEW_SERVER"]));
    std::fs::remove_file(w.repo.path.join(".git/hooks/pre-push")).unwrap();
    w.repo.write(
        ".gitlab-ci.yml",
        "workflow:\n  rules:\n    - if: $CI_COMMIT_TAG\n      when: never\n    - when: always\nbuild:\n  script: make\n",
    );
    w.repo.commit("no tag pipelines");
    let out = doctor(&w, TOKEN, false);
    assert_eq!(out.status.code(), Some(1));
    let (status, line) = status_of(&out, "gitlab-variables");
    assert_eq!(status, "FAIL");
    assert!(
        line.contains("missing PATCHEW_PROJECT_ID, PATCHEW_TOKEN"),
        "{line}"
    );
    let (status, line) = status_of(&out, "hook");
    assert_eq!(status, "FAIL");
    assert!(line.contains("fix: git patchew install-hook"), "{line}");
    let (status, line) = status_of(&out, "ci-verdict");
    assert_eq!(status, "FAIL", "{line}");
    // Listing variables needs a maintainer: said, not failed.
    w.gitlab.set_variables(None);
    let out = doctor(&w, TOKEN, false);
    assert_eq!(status_of(&out, "gitlab-variables").0, "skip");
}

#[test]
fn applier_mode_wants_no_patchew_token_in_the_ci_hub() {
    let w = world(Some(true));
    w.repo.git(&["config", "patchew.reportFrom", "applier"]);
    let out = doctor(&w, TOKEN, false);
    let (status, line) = status_of(&out, "gitlab-variables");
    assert_eq!(status, "FAIL");
    assert!(line.contains("remove PATCHEW_TOKEN"), "{line}");
    w.gitlab.set_variables(Some(&["PATCHEW_REPORT_FROM"]));
    let out = doctor(&w, TOKEN, false);
    assert_eq!(
        status_of(&out, "gitlab-variables").0,
        "ok",
        "{}",
        stdout(&out)
    );
}

/// The probes of the token's rights wrote nothing: no call changed Patchew's state,
/// the series' results are as they were, and each probe was a PUT Patchew refused.
fn assert_nothing_written(w: &World) {
    assert!(w.patchew.writes().is_empty(), "{:?}", w.patchew.writes());
    let git = w.patchew.git(SERIES);
    assert_eq!((git.status.as_str(), git.log), ("pending", None));
    assert!(w.patchew.testing(SERIES, "gitlab").is_none());
    let puts = w.patchew.write_attempts();
    assert!(!puts.is_empty(), "no probe was sent");
    for put in &puts {
        assert!(
            put.path
                .starts_with(&format!("/api/v1/projects/5/series/{SERIES}/results/")),
            "{put:?}"
        );
        assert!([400, 403, 404].contains(&put.status), "{put:?}");
        assert_eq!(put.user, "doctor");
    }
}

#[test]
fn a_tester_only_token_is_flagged_for_the_applier() {
    let w = world_as(Some(true), Role::Tester);
    let out = doctor(&w, TOKEN, false);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let (status, line) = status_of(&out, "patchew-token-git");
    assert_eq!(status, "FAIL", "{line}");
    assert!(line.contains("not in the importers group"), "{line}");
    assert!(
        line.contains("fix: add the token's user to the group importers"),
        "{line}"
    );
    // The pipeline reports in this mode: the testers group is not this token's job.
    assert_eq!(status_of(&out, "patchew-token-testing").0, "skip");
    assert_nothing_written(&w);
    let refused: Vec<_> = w
        .patchew
        .log()
        .into_iter()
        .filter(|l| l.method == "PUT" && l.status == 403)
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0].path.ends_with("/results/git/"), "{refused:?}");
}

#[test]
fn an_importer_only_token_is_flagged_for_reporting_from_the_applier() {
    let w = world_as(Some(true), Role::Importer);
    // With the pipeline reporting, the importers group is all the applier needs.
    let out = doctor(&w, TOKEN, false);
    assert_eq!(
        status_of(&out, "patchew-token-git").0,
        "ok",
        "{}",
        stdout(&out)
    );
    assert_eq!(status_of(&out, "patchew-token-testing").0, "skip");

    w.repo.git(&["config", "patchew.reportFrom", "applier"]);
    w.gitlab.set_variables(Some(&["PATCHEW_REPORT_FROM"]));
    let out = doctor(&w, TOKEN, false);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_eq!(status_of(&out, "patchew-token-git").0, "ok");
    let (status, line) = status_of(&out, "patchew-token-testing");
    assert_eq!(status, "FAIL", "{line}");
    assert!(line.contains("not in the testers group"), "{line}");
    assert!(
        line.contains("fix: add the token's user to the group testers"),
        "{line}"
    );
    assert_nothing_written(&w);
}

#[test]
fn a_token_in_both_groups_may_do_all_the_applier_does() {
    let w = world_as(None, Role::Applier);
    w.repo.git(&["config", "patchew.reportFrom", "applier"]);
    w.gitlab.set_variables(Some(&["PATCHEW_REPORT_FROM"]));
    let out = doctor(&w, TOKEN, false);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(status_of(&out, "patchew-token-git").0, "ok");
    assert_eq!(status_of(&out, "patchew-token-testing").0, "ok");
    assert_nothing_written(&w);
}

/// The mainline's jobs come from a `project:` include on the ci-hub's GitLab: doctor
/// reads it (with the `read_api` token) and its rules decide.
#[test]
fn the_verdict_reads_project_includes_from_gitlab() {
    let w = world(Some(true));
    w.repo.write(
        ".gitlab-ci.yml",
        "include:\n  - project: shared/ci\n    file: jobs.yml\n",
    );
    w.repo.commit("jobs from another project");
    w.gitlab.serve_file(
        "shared/ci",
        "jobs.yml",
        None,
        "build:\n  script: make\n  rules:\n    - if: $CI_COMMIT_TAG\n      when: never\n    - when: always\n",
    );
    let out = doctor(&w, TOKEN, false);
    let (status, line) = status_of(&out, "ci-verdict");
    assert_eq!(status, "FAIL", "{line}");
    assert!(
        line.contains("`build` (project `shared/ci` (file jobs.yml))"),
        "{line}"
    );
    assert!(!line.contains("cannot be read"), "{line}");
}
