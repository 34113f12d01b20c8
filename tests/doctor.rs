//! `git patchew doctor` against loopback stand-ins for Patchew, the include's web
//! host and GitLab: all well, the `gitlab` test missing, a bad token, checks it may
//! not make, and a CI file that runs nothing on tags.

use crate::support;

use std::path::Path;
use std::process::Output;

use serde_json::Value;
use support::git::{stderr, stdout, TestRepo};
use support::gitlab::FakeGitLab;
use support::{Reply, StandIn};

const TOKEN: &str = "doctor-patchew-s3cret";
const GITLAB_TOKEN: &str = "glpat-doctor-s3cret";

struct World {
    repo: TestRepo,
    patchew: StandIn,
    gitlab: FakeGitLab,
    _gitlab_server: StandIn,
}

/// What Patchew's config endpoint answers: `None` is 403 (not a maintainer).
fn world(gitlab_test: Option<bool>) -> World {
    let repo = TestRepo::new();
    repo.write(".gitlab-ci.yml", "build:\n  script: make\n");
    repo.commit("base");
    repo.git(&["remote", "add", "ci-hub", "https://hub.example/ci/hub.git"]);
    let patchew = StandIn::start();
    // Patchew refuses a bad token even on reads; anonymous reads are fine.
    patchew.handle(|r| {
        let auth = r.header("Authorization")?;
        (auth != format!("Token {TOKEN}"))
            .then(|| Reply::json(401, r#"{"detail":"Invalid token."}"#))
    });
    patchew.route(
        "GET",
        "/api/v1/projects/",
        Reply::json(
            200,
            r#"{"count": 2, "results": [{"id": 3, "name": "other"}, {"id": 5, "name": "QEMU"}]}"#,
        ),
    );
    let config = match gitlab_test {
        Some(true) => Reply::json(
            200,
            r#"{"testing": {"tests": {"gitlab": {"enabled": true, "requirements": "gitlab-ci-hub"}}}}"#,
        ),
        Some(false) => Reply::json(
            200,
            r#"{"testing": {"tests": {"docker": {"enabled": true}}}}"#,
        ),
        None => Reply::json(403, r#"{"detail":"You do not have permission."}"#),
    };
    patchew.route("GET", "/api/v1/projects/5/config/", config);
    let yml = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/patchew-ci.yml"))
        .unwrap();
    patchew.route("GET", "/patchew-ci.yml", Reply::ok(yml));
    let gitlab_server = StandIn::start();
    let gitlab = FakeGitLab::install(&gitlab_server, GITLAB_TOKEN);
    gitlab.set_variables(Some(&[
        "PATCHEW_SERVER",
        "PATCHEW_PROJECT_ID",
        "PATCHEW_TOKEN",
        "PATCHEW_GITLAB_TOKEN",
    ]));
    for (k, v) in [
        ("patchew.server", patchew.url()),
        ("patchew.project", "QEMU".into()),
        (
            "patchew.ciInclude",
            format!("{}/patchew-ci.yml", patchew.url()),
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
            "gitlab",
            "gitlab-variables",
            "ci-verdict",
            "applier"
        ]
    );
    for (name, status, line) in &all {
        // No applier has run in this repository: nothing to say about one.
        let expected = if name == "applier" { "skip" } else { "ok" };
        assert_eq!(status, expected, "{name}: {line}");
    }
    assert!(status_of(&out, "patchew-project").1.contains("project 5"));
    // The config was read as the token's user.
    let config_reads = w.patchew.requests_to("GET", "/api/v1/projects/5/config/");
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
        let expected = if c["check"] == "applier" {
            "skip"
        } else {
            "ok"
        };
        c["status"] == expected && c["message"].is_string()
    }));
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
    assert!(line.contains("testers group"), "{line}");
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
