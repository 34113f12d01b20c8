//! `git patchew ci-check` against gitlab-ci-local 4.56.0, a GitLab CI implementation
//! nobody here wrote: on CI trees shaped like real projects' (tests/ci-trees/, files
//! we wrote after reading theirs), both list the jobs of a tag pipeline with the
//! same variables, and name, stage, when and allow_failure must agree for every job.
//! gitlab-ci-local does not evaluate `workflow:rules`; where a tree has them, the
//! verdict is checked against GitLab's documented rule instead ("if no rules match,
//! the pipeline is not created"). Also: `apply --json` carries the verdict, and
//! apply and the pre-push hook refuse job names reserved for our report jobs.

use crate::support;
use support::require::gitlab_ci_local;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::git::{stderr, stdout, TestRepo};

const TAG: &str = "patchew/20240101.1-a@example.org";
const INCLUDE: &str = "https://ci.example.org/patchew-ci.yml";

/// A repository holding the tree `tests/ci-trees/<name>`, with an `origin` that
/// gitlab-ci-local derives `CI_PROJECT_NAMESPACE` from, and the same path in
/// `patchew.ciProject`.
pub(crate) fn repo_with_tree(name: &str) -> TestRepo {
    let r = TestRepo::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/ci-trees")
        .join(name);
    copy_tree(&root, &root, &r);
    r.commit("the CI tree");
    r.git(&[
        "remote",
        "add",
        "origin",
        &format!("https://hub.example/patchew/{name}.git"),
    ]);
    r.git(&["config", "patchew.ciProject", &format!("patchew/{name}")]);
    r
}

fn copy_tree(root: &Path, dir: &Path, r: &TestRepo) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            copy_tree(root, &path, r);
        } else {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            r.write(&rel, std::fs::read(&path).unwrap());
        }
    }
}

pub(crate) type JobLine = (String, String, String, bool);

pub(crate) fn job_lines(jobs: &Value) -> Vec<JobLine> {
    let mut lines: Vec<JobLine> = jobs
        .as_array()
        .expect("a list of jobs")
        .iter()
        .map(|j| {
            (
                j["name"].as_str().unwrap().to_owned(),
                j["stage"].as_str().unwrap().to_owned(),
                j["when"].as_str().unwrap().to_owned(),
                j["allow_failure"].as_bool().unwrap(),
            )
        })
        .collect();
    lines.sort();
    lines
}

/// `ci-check --json` with the variables; returns (exit code, pipeline object).
fn ci_check(r: &TestRepo, vars: &[&str]) -> (i32, Value) {
    let mut args = vec!["ci-check", "--json", "--variable"];
    let tag_var = format!("CI_COMMIT_TAG={TAG}");
    args.push(&tag_var);
    for v in vars {
        args.extend(["--variable", v]);
    }
    let out = r.patchew(&r.path, &args);
    let pipeline: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} {}", stdout(&out), stderr(&out)));
    (out.status.code().unwrap(), pipeline)
}

/// gitlab-ci-local's jobs for the same tag push. `rules:changes` is always true for
/// a new tag on GitLab; `--no-evaluate-rule-changes` makes gitlab-ci-local agree
/// instead of diffing against a default branch.
pub(crate) fn gitlab_jobs(runner: &Path, r: &TestRepo, vars: &[&str]) -> Vec<JobLine> {
    let mut cmd = Command::new(runner);
    cmd.current_dir(&r.path)
        .args([
            "--list-json",
            "--no-evaluate-rule-changes",
            "--unset-variable",
            "CI_COMMIT_BRANCH",
        ])
        .args(["--variable", &format!("CI_COMMIT_TAG={TAG}")]);
    for v in vars {
        cmd.args(["--variable", v]);
    }
    let out = cmd.output().expect("gitlab-ci-local runs");
    assert!(
        out.status.success(),
        "gitlab-ci-local: {}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    // It prints notes before the JSON.
    let start = text.find("\n[").map_or(0, |i| i + 1);
    let jobs: Value =
        serde_json::from_str(&text[start..]).unwrap_or_else(|e| panic!("{e}: {text}"));
    job_lines(&jobs)
}

pub(crate) fn reasons(pipeline: &Value) -> String {
    pipeline["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("; ")
}

#[track_caller]
fn check(
    runner: &Path,
    r: &TestRepo,
    vars: &[&str],
    verdict: &str,
    code: i32,
    needles: &[&str],
) -> Vec<JobLine> {
    let (exit, pipeline) = ci_check(r, vars);
    let why = reasons(&pipeline);
    assert_eq!(pipeline["verdict"], verdict, "{vars:?}: {why}");
    assert_eq!(exit, code, "{vars:?}: {why}");
    for n in needles {
        assert!(why.contains(n), "{vars:?}: {n:?} not in {why}");
    }
    let ours = job_lines(&pipeline["jobs"]);
    let theirs = gitlab_jobs(runner, r, vars);
    assert_eq!(
        ours, theirs,
        "{vars:?}: git patchew (left) and gitlab-ci-local (right) disagree"
    );
    ours
}

#[test]
fn qemu_shaped_tree_at_each_qemu_ci() {
    let Some(runner) = gitlab_ci_local() else {
        return;
    };
    let r = repo_with_tree("qemu-like");
    let jobs = check(
        &runner,
        &r,
        &[],
        "none",
        1,
        &["QEMU_CI (now unset", ".gitlab-ci.d/base.yml"],
    );
    assert!(jobs.iter().all(|j| j.2 == "never"), "{jobs:?}");
    let jobs = check(
        &runner,
        &r,
        &["QEMU_CI=1"],
        "blocked",
        1,
        &["QEMU_CI (now \"1\"", "manual"],
    );
    assert!(jobs.iter().any(|j| j.2 == "manual" && !j.3), "{jobs:?}");
    // A manual job that may fail does not block: the optional one and check-patch.
    assert!(
        jobs.iter()
            .any(|j| j.0 == "check-patch" && j.2 == "manual" && j.3),
        "{jobs:?}"
    );
    let jobs = check(&runner, &r, &["QEMU_CI=2"], "runs", 0, &[]);
    assert!(jobs
        .iter()
        .any(|j| j.0 == "build-system-alpine" && j.2 == "on_success"));
    // The upstream namespace never runs tags, whatever QEMU_CI says.
    r.git(&["config", "patchew.ciProject", "qemu-project/qemu"]);
    r.git(&[
        "remote",
        "set-url",
        "origin",
        "https://hub.example/qemu-project/qemu.git",
    ]);
    check(&runner, &r, &["QEMU_CI=2"], "none", 1, &["CI_COMMIT_TAG"]);
}

#[test]
fn libvirt_shaped_tree_runs_nothing_on_tags() {
    let Some(runner) = gitlab_ci_local() else {
        return;
    };
    let r = repo_with_tree("libvirt-like");
    check(
        &runner,
        &r,
        &[],
        "none",
        1,
        &["`.gitlab_native_build_job` (ci/gitlab/build-templates.yml)"],
    );
    // Its fork switch only opens branch pushes.
    check(&runner, &r, &["RUN_PIPELINE=1"], "none", 1, &[]);
}

#[test]
fn mesa_shaped_tree_jobs_agree_and_workflow_rules_stop_it() {
    let Some(runner) = gitlab_ci_local() else {
        return;
    };
    let r = repo_with_tree("mesa-like");
    // gitlab-ci-local lists the jobs as if workflow:rules allowed the pipeline;
    // GitLab documents that a pipeline whose workflow:rules all fail to match is
    // not created, which is what the verdict says.
    let jobs = check(
        &runner,
        &r,
        &[],
        "none",
        1,
        &["workflow:rules of .gitlab-ci.yml"],
    );
    assert!(
        jobs.iter()
            .any(|j| j.0 == "sanity" && j.2 == "manual" && j.3),
        "{jobs:?}"
    );
    assert!(
        jobs.iter()
            .any(|j| j.0 == "radeonsi-test" && j.2 == "on_success"),
        "{jobs:?}"
    );
}

#[test]
fn templates_with_inputs_agree() {
    let Some(runner) = gitlab_ci_local() else {
        return;
    };
    let r = repo_with_tree("inputs-like");
    let jobs = check(&runner, &r, &[], "blocked", 1, &["`release-job`"]);
    let names: Vec<&str> = jobs.iter().map(|j| j.0.as_str()).collect();
    assert_eq!(names, ["build", "release-job", "unit-job"]);
}

#[test]
fn ci_check_takes_the_tag_and_prints_a_table() {
    let r = repo_with_tree("qemu-like");
    r.git(&["tag", TAG]);
    r.git(&["config", "patchew.ciVariables", "QEMU_CI=2"]);
    let out = r.patchew(&r.path, &["ci-check", TAG]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.lines().next().unwrap().starts_with("name"), "{text}");
    assert!(text.contains("build-system-alpine"), "{text}");
    assert!(
        text.trim_end().ends_with("none blocks before .post"),
        "{text}"
    );
    // A push option on top of the config: the last value wins.
    let out = r.patchew(
        &r.path,
        &["ci-check", TAG, "-o", "ci.variable=\"QEMU_CI=1\""],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("blocked before the report"),
        "{}",
        stdout(&out)
    );
    let out = r.patchew(&r.path, &["ci-check", "--variable", "not a variable"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// A project with the QEMU-shaped tree, a one-patch series mailed, and a bare hub.
pub(crate) fn qemu_series(extra: &[(&str, &str)]) -> (TestRepo, PathBuf) {
    let r = repo_with_tree("qemu-like");
    r.write("src.c", "int main(void) { return 0; }\n");
    r.commit("base");
    r.write("src.c", "int main(void) { return 1; }\n");
    for (path, content) in extra {
        r.write(path, content);
    }
    r.commit("return one");
    let mbox = r.git_bytes(&["format-patch", "--stdout", "--thread", "-1", "HEAD"]);
    r.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let mbox_path = r.scratch("p.mbox");
    std::fs::write(&mbox_path, mbox).unwrap();
    r.git(&["config", "patchew.ciInclude", INCLUDE]);
    (r, mbox_path)
}

/// Without a tag there is no tag pipeline: `--json` still predicts it, but no
/// warning about it is printed.
#[test]
fn an_untagged_apply_does_not_warn_about_the_tag_pipeline() {
    let (r, mbox) = qemu_series(&[]);
    let mbox = mbox.to_str().unwrap();
    let out = r.patchew(&r.path, &["apply", "--mbox", mbox, "--json", "--no-tag"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["pipeline"]["verdict"], "none");
    assert!(!stderr(&out).contains("tag pipeline"), "{}", stderr(&out));
}

#[test]
fn apply_reports_the_verdict_in_json_and_warns() {
    let (r, mbox) = qemu_series(&[]);
    let mbox = mbox.to_str().unwrap();
    let out = r.patchew(&r.path, &["apply", "--mbox", mbox, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["pipeline"]["verdict"], "none");
    assert!(
        stderr(&out).contains("warning: tag pipeline: no pipeline"),
        "{}",
        stderr(&out)
    );
    assert!(reasons(&report["pipeline"]).contains("QEMU_CI"));
    // The same series pushed with the variable set runs.
    let out = r.patchew(
        &r.path,
        &[
            "apply",
            "--force",
            "--mbox",
            mbox,
            "--json",
            "-o",
            "ci.variable=QEMU_CI=2",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["pipeline"]["verdict"], "runs", "{report}");
    assert!(!stderr(&out).contains("tag pipeline"), "{}", stderr(&out));
    let jobs = report["pipeline"]["jobs"].as_array().unwrap();
    assert!(jobs.iter().all(|j| j.get("name").is_some()
        && j.get("stage").is_some()
        && j.get("when").is_some()
        && j.get("allow_failure").is_some()));
}

#[test]
fn apply_and_the_hook_refuse_reserved_job_names() {
    let hijack = "patchew-report-success:\n  stage: .post\n  script: [echo fake success]\n";
    let (r, mbox) = qemu_series(&[(".gitlab-ci.d/custom-runners/extra.yml", hijack)]);
    let out = r.patchew(&r.path, &["apply", "--mbox", mbox.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("`patchew-report-success` (.gitlab-ci.d/custom-runners/extra.yml)"),
        "{err}"
    );
    assert_eq!(r.git(&["tag", "-l"]), "", "no tag may be left behind");

    // A tag made by hand with our include and the same job: the hook refuses it.
    let (r, _) = qemu_series(&[]);
    r.write(
        ".gitlab-ci.d/custom-runners/extra.yml",
        hijack.replace("success", "failure"),
    );
    r.commit("hide a report job");
    let top = std::fs::read_to_string(r.path.join(".gitlab-ci.yml")).unwrap();
    r.write(
        ".gitlab-ci.yml",
        top.replace(
            "include:\n",
            &format!("include:\n  - remote: '{INCLUDE}'\n"),
        ),
    );
    r.commit("add the include");
    r.git(&["tag", TAG]);
    let head = r.git(&["rev-parse", "HEAD"]);
    let zero = "0".repeat(40);
    let line = format!("refs/tags/{TAG} {head} refs/tags/{TAG} {zero}\n");
    let mut child = r
        .command(env!("CARGO_BIN_EXE_git-patchew"), &r.path)
        .args(["hook", "pre-push", "ci-hub", "/nowhere/hub.git"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), line.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("`patchew-report-failure`"),
        "{}",
        stderr(&out)
    );
}
