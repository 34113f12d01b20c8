//! End to end for real: a series mailed with `git format-patch --thread` is applied
//! by `git patchew apply`, which amends `.gitlab-ci.yml` with the remote include of
//! contrib/patchew-ci.yml and tags `patchew/<msgid>`; the tag is checked out and its
//! pipeline run by gitlab-ci-local (a GitLab CI runner without GitLab). The include is
//! fetched from, and the verdict PUT to, a loopback stand-in for the hosting web
//! server and the Patchew server; the report jobs read the pipeline's jobs and logs
//! from a loopback stand-in for GitLab's API that answers from what gitlab-ci-local
//! has really run so far (its `.gitlab-ci-local/` output and its progress lines).
//! Four pipelines: the series' test job fails (with and without a GitLab token for
//! the report), all jobs pass, and the failing job is `allow_failure: true`.
//!
//! gitlab-ci-local is looked up at `$GITLAB_CI_LOCAL`, then
//! `.ci/node_modules/.bin/gitlab-ci-local` (where `.ci/run` installs it), then PATH;
//! without it the tests print why they skip. How it differs from GitLab (it skips
//! `workflow:rules`, so it cannot tell whether GitLab would create the tag pipeline;
//! it needs the report jobs' `image:` taken away) is in contrib/README.md.

use crate::support;
use support::require::gitlab_ci_local;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use support::git::TestRepo;
use support::gitlab::{jobs_of_gitlab_ci_local, FakeGitLab, Pipeline};
use support::patchew::{FakePatchew, Role};
use support::{Recorded, Reply, StandIn};

/// A message-id with both characters Patchew escapes (`_` and `/`), so the tag
/// holds `._5F` and `._2F` and the report job must turn them back into the form
/// Patchew looks series up by.
const MSGID: &str = "20240101_series/v2-0-a@example.org";
/// The tag `git patchew apply` must create for it, written out by hand rather than
/// computed with src/input/msgid.rs, so that the test does not share a bug with it.
const TAG: &str = "patchew/20240101._5Fseries._2Fv2-0-a@example.org";
/// Where Patchew takes the result: its stored form of MSGID in the path.
const RESULT_PATH: &str =
    "/api/v1/projects/42/series/20240101._5Fseries._2Fv2-0-a@example.org/results/testing.gitlab/";
const PROJECT_ID: &str = "42";
const TOKEN: &str = "e2e-s3cret";
const GITLAB_TOKEN: &str = "glpat-e2e-s3cret";
/// The ci-hub project the checkout pretends to come from; gitlab-ci-local derives
/// `CI_PROJECT_URL` and `CI_PIPELINE_URL` from the `origin` remote. Never contacted.
const HUB_REMOTE: &str = "https://hub.example/ci/hub.git";
const HUB_PROJECT_URL: &str = "https://hub.example/ci/hub";
/// Generous: a pipeline takes about a second here; this only stops a hung runner.
const PIPELINE_TIMEOUT: Duration = Duration::from_secs(180);

/// The project's own CI file: a build and a test job (shell only), and a `default:`
/// that must not leak into the report jobs.
fn project_ci(allow_failure: bool) -> String {
    let allow = if allow_failure {
        "  allow_failure: true\n"
    } else {
        ""
    };
    format!(
        "# The project's own pipeline.\n\
         stages: [build, test]\n\
         default:\n  before_script:\n    - echo project-default-before-script\n\
         build:\n  stage: build\n  script:\n    - sh ./build.sh\n\
         test:\n  stage: test\n{allow}  script:\n    - sh ./test.sh\n"
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// The series breaks the test job.
    TestFails,
    AllPass,
    /// The series breaks the test job, which may fail.
    AllowedFailure,
}

impl Variant {
    fn series_breaks_test(self) -> bool {
        self != Variant::AllPass
    }

    /// The status Patchew must receive.
    fn status(self) -> &'static str {
        match self {
            Variant::TestFails => "failure",
            Variant::AllPass | Variant::AllowedFailure => "success",
        }
    }

    fn report_job(self) -> &'static str {
        match self {
            Variant::TestFails => "patchew-report-failure",
            Variant::AllPass | Variant::AllowedFailure => "patchew-report-success",
        }
    }

    fn other_report_job(self) -> &'static str {
        match self {
            Variant::TestFails => "patchew-report-success",
            Variant::AllPass | Variant::AllowedFailure => "patchew-report-failure",
        }
    }
}

fn have(program: &str) -> bool {
    support::require::require_tool(program)
}

/// The tests' Patchew (project 42, the series with its `testing.gitlab` result
/// pending, the token's user a tester), and the web server hosting the include.
fn start_server() -> StandIn {
    let server = StandIn::start();
    let patchew = FakePatchew::install_project(&server, 42, "QEMU", serde_json::json!({}));
    patchew.add_user("ci-hub-reporter", TOKEN, Role::Tester);
    let stored = TAG.strip_prefix("patchew/").unwrap();
    patchew.add_series(stored, "[PATCH 0/2] the feature", "");
    patchew.set_testing(stored, "gitlab", "pending", "");
    let yml = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/patchew-ci.yml"))
        .unwrap();
    server.route(
        "GET",
        "/patchew-ci.yml",
        Reply::ok(yml).header("Content-Type", "text/yaml"),
    );
    server
}

/// The project on `main`, and the series on branch `series` (two patches; the second
/// decides whether `test.sh` passes).
fn project(variant: Variant) -> TestRepo {
    let repo = TestRepo::new();
    repo.write(
        ".gitlab-ci.yml",
        project_ci(variant == Variant::AllowedFailure),
    );
    repo.write("build.sh", "echo project-build-ran\n");
    repo.write("test.sh", "echo project-test-ran\n");
    repo.write("README", "A project.\n");
    repo.commit("Initial import");
    repo.git(&["checkout", "-q", "-b", "series"]);
    repo.write("README", "A project.\nWith a feature.\n");
    repo.commit("Document the feature");
    let test = if variant.series_breaks_test() {
        "echo project-test-ran\necho the feature is broken >&2\nexit 1\n"
    } else {
        "echo project-test-ran\necho the feature works\n"
    };
    repo.write("test.sh", test);
    repo.commit("Test the feature");
    repo.git(&["checkout", "-q", "main"]);
    repo
}

/// The series as a mailing list carries it: `git format-patch --thread --cover-letter`,
/// with the cover letter's Message-ID replaced by [`MSGID`] (git makes up its own) in
/// its header and in every reply's In-Reply-To/References.
fn mail_series(repo: &TestRepo) -> PathBuf {
    let dir = repo.scratch("mails");
    repo.git(&[
        "format-patch",
        "-q",
        "--thread=shallow",
        "--cover-letter",
        "-o",
        dir.to_str().unwrap(),
        "main..series",
    ]);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 3, "cover letter and two patches: {files:?}");
    let mut mbox = String::new();
    for f in &files {
        mbox.push_str(&std::fs::read_to_string(f).unwrap());
    }
    let cover_id = mbox
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("message-id")
                .then(|| value.trim())
        })
        .expect("the cover letter has a Message-ID")
        .to_owned();
    let replaced = mbox.replace(&cover_id, &format!("<{MSGID}>"));
    // Header, In-Reply-To and References of both patches: proves they still thread.
    assert_eq!(replaced.matches(MSGID).count(), 5, "{replaced}");
    let path = repo.scratch("series.mbox");
    std::fs::write(&path, replaced).unwrap();
    path
}

/// GitLab's API for the pipeline gitlab-ci-local is running in `dir`, its output
/// going to `pipeline.log`/`.err` beside `dir` (see [`run_runner`]).
fn gitlab_from_runner(server: &StandIn, dir: &Path) -> FakeGitLab {
    let gitlab = FakeGitLab::install(server, GITLAB_TOKEN);
    gitlab.add_pipeline(Pipeline {
        id: 1000,
        git_ref: TAG.into(),
        sha: String::new(),
        status: "running".into(),
    });
    let dir = dir.to_owned();
    let progress = [
        dir.parent().unwrap().join("pipeline.log"),
        dir.parent().unwrap().join("pipeline.err"),
    ];
    gitlab.serve_jobs(move |_| jobs_of_gitlab_ci_local(&dir, &progress));
    gitlab
}

/// The tagged tip, as `git patchew apply` leaves it.
struct Tagged {
    tag: String,
    head: String,
}

fn apply(repo: &TestRepo, mbox: &Path, include_url: &str) -> Tagged {
    let out = repo.patchew(
        &repo.path,
        &[
            "apply",
            "--mbox",
            mbox.to_str().unwrap(),
            "--ci-include",
            include_url,
            "--base",
            "main",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "git patchew apply failed: {}",
        support::git::stderr(&out)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tag = report["tag"].as_str().expect("a tag").to_owned();
    let head = repo.git(&["rev-parse", &format!("refs/tags/{tag}^{{commit}}")]);
    assert_eq!(report["head"].as_str(), Some(head.as_str()));
    Tagged { tag, head }
}

/// A clone of the project with the tag checked out, its `origin` pointing at the
/// ci-hub as a real runner's checkout would.
fn checkout(repo: &TestRepo, tagged: &Tagged) -> PathBuf {
    let dir = repo.clone_to("checkout", &["--no-checkout"]);
    repo.git_in(&dir, &["checkout", "-q", "--detach", &tagged.tag]);
    repo.git_in(&dir, &["remote", "set-url", "origin", HUB_REMOTE]);
    dir
}

/// gitlab-ci-local only runs a job in the shell when it has no `image:`, and the
/// report jobs name one (`curlimages/curl`, which a GitLab runner with the shell
/// executor ignores and a Docker one needs). `.gitlab-ci-local.yml`, which only
/// gitlab-ci-local reads and merges last, takes it away here; the CI file and the
/// include stay as GitLab gets them. `image: null` fails GitLab's JSON schema, so the
/// run that uses it skips that check and [`validate`] does it without the override.
const LOCAL_OVERRIDE: &str = "\
patchew-report-running:
  image: null
patchew-report-success:
  image: null
patchew-report-failure:
  image: null
";

struct Run {
    status: ExitStatus,
    output: String,
}

/// Runs gitlab-ci-local in `dir`, its output going to `<name>.log`/`.err` beside it.
fn run_runner(runner: &Path, repo: &TestRepo, dir: &Path, name: &str, args: &[String]) -> Run {
    let log = dir.parent().unwrap().join(format!("{name}.log"));
    let mut cmd = repo.command(runner.to_str().unwrap(), dir);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(log.with_extension("err")).unwrap())
        // Only the loopback server is to be reached, by the runner and by curl.
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .env("FORCE_COLOR", "0");
    // Its own process group, so that a hung pipeline can be stopped whole.
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.spawn().expect("gitlab-ci-local starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > PIPELINE_TIMEOUT {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            panic!(
                "gitlab-ci-local still running after {PIPELINE_TIMEOUT:?}: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = std::fs::read_to_string(&log).unwrap()
        + &std::fs::read_to_string(log.with_extension("err")).unwrap();
    Run { status, output }
}

/// The variables of a tag pipeline on the ci-hub.
fn tag_pipeline_args(server: &StandIn, tag: &str, gitlab: Option<&FakeGitLab>) -> Vec<String> {
    [
        "--no-color".to_owned(),
        "--shell-executor-no-image".to_owned(),
        // A tag pipeline as GitLab starts it for a pushed tag.
        "--variable".to_owned(),
        format!("CI_COMMIT_TAG={tag}"),
        "--unset-variable".to_owned(),
        "CI_COMMIT_BRANCH".to_owned(),
        // What the ci-hub admin sets as project CI/CD variables.
        "--variable".to_owned(),
        format!("PATCHEW_SERVER={}", server.url()),
        "--variable".to_owned(),
        format!("PATCHEW_PROJECT_ID={PROJECT_ID}"),
        "--variable".to_owned(),
        format!("PATCHEW_TOKEN={TOKEN}"),
    ]
    .into_iter()
    .chain(gitlab.into_iter().flat_map(|g| {
        [
            "--variable".to_owned(),
            format!("CI_API_V4_URL={}", g.api_url()),
            "--variable".to_owned(),
            format!("CI_PROJECT_ID={}", g.project_id),
            "--variable".to_owned(),
            format!("PATCHEW_GITLAB_TOKEN={GITLAB_TOKEN}"),
        ]
    }))
    .collect()
}

/// Without the local override, with GitLab's JSON schema on: the tag's CI file plus
/// the fetched include form a valid GitLab CI configuration, and on this tag the
/// rules keep all four jobs (`--list` leaves out jobs whose rules say never).
fn validate(runner: &Path, repo: &TestRepo, dir: &Path, server: &StandIn, tag: &str) {
    let mut args = tag_pipeline_args(server, tag, None);
    args.push("--list".into());
    let run = run_runner(runner, repo, dir, "list", &args);
    assert!(
        run.status.success(),
        "gitlab-ci-local --list refused the configuration:\n{}",
        run.output
    );
    let expected = [
        ("patchew-report-running", "always"),
        ("build", "on_success"),
        ("test", "on_success"),
        ("patchew-report-success", "on_success"),
        ("patchew-report-failure", "on_failure"),
    ];
    for (job, when) in expected {
        assert!(
            run.output.lines().any(|l| {
                let words: Vec<&str> = l.split_whitespace().collect();
                words.first() == Some(&job) && words.contains(&when)
            }),
            "job {job} ({when}) missing from --list:\n{}",
            run.output
        );
    }
}

fn pipeline(
    runner: &Path,
    repo: &TestRepo,
    dir: &Path,
    server: &StandIn,
    tag: &str,
    gitlab: Option<&FakeGitLab>,
) -> Run {
    pipeline_with(runner, repo, dir, server, tag, gitlab, &[])
}

/// [`pipeline`] with more runner arguments (such as variables GitLab would set).
fn pipeline_with(
    runner: &Path,
    repo: &TestRepo,
    dir: &Path,
    server: &StandIn,
    tag: &str,
    gitlab: Option<&FakeGitLab>,
    extra: &[String],
) -> Run {
    std::fs::write(dir.join(".gitlab-ci-local.yml"), LOCAL_OVERRIDE).unwrap();
    let mut args = tag_pipeline_args(server, tag, gitlab);
    args.extend([
        "--json-schema-validation=false".to_owned(),
        // Fetch the include again rather than reuse what --list cached.
        "--fetch-includes".to_owned(),
    ]);
    args.extend_from_slice(extra);
    run_runner(runner, repo, dir, "pipeline", &args)
}

/// Names of the jobs that started, from lines like `test   starting shell (test)`.
fn started_jobs(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let job = words.next()?;
            (words.next() == Some("starting")).then(|| job.to_owned())
        })
        .collect()
}

/// The verdict gitlab-ci-local prints for a job at the end (`PASS`, `FAIL`, or `WARN`
/// for an allowed failure): ` WARN  test   <last words of its output>`.
fn verdict(output: &str, job: &str) -> Option<String> {
    output.lines().find_map(|l| {
        let mut words = l.split_whitespace();
        let verdict = words
            .next()
            .filter(|v| ["PASS", "FAIL", "WARN"].contains(v))?;
        (words.next() == Some(job)).then(|| verdict.to_owned())
    })
}

fn scenario(variant: Variant, with_gitlab_token: bool) {
    let Some(runner) = gitlab_ci_local() else {
        return;
    };
    if !have("python3") || !have("rsync") {
        return;
    }
    let started = Instant::now();
    let server = start_server();
    let include_url = format!("{}/patchew-ci.yml", server.url());
    let repo = project(variant);
    let mbox = mail_series(&repo);
    let tagged = apply(&repo, &mbox, &include_url);
    assert_eq!(tagged.tag, TAG, "the tag names the cover letter's id");
    let dir = checkout(&repo, &tagged);
    let ci = std::fs::read_to_string(dir.join(".gitlab-ci.yml")).unwrap();
    assert!(
        ci.contains(&format!("- remote: '{include_url}'")),
        "the tag's CI file has no include of {include_url}:\n{ci}"
    );

    let runner_started = Instant::now();
    validate(&runner, &repo, &dir, &server, &tagged.tag);
    let gitlab_server = StandIn::start();
    let gitlab = gitlab_from_runner(&gitlab_server, &dir);
    let run = pipeline(
        &runner,
        &repo,
        &dir,
        &server,
        &tagged.tag,
        with_gitlab_token.then_some(&gitlab),
    );
    let out = &run.output;
    println!(
        "{variant:?}: gitlab-ci-local --list and pipeline took {:?}",
        runner_started.elapsed()
    );

    // The runner fetched the include from us: it was not read from anywhere else.
    let requests = server.requests();
    let gets: Vec<&Recorded> = requests.iter().filter(|r| r.method == "GET").collect();
    assert!(!gets.is_empty(), "the include was never fetched:\n{out}");
    assert!(
        gets.iter().all(|r| r.target == "/patchew-ci.yml"),
        "{gets:?}"
    );

    // The project's jobs ran on the series' tree, then exactly one report job.
    assert_eq!(verdict(out, "build").as_deref(), Some("PASS"), "{out}");
    let test_verdict = match variant {
        Variant::TestFails => "FAIL",
        Variant::AllPass => "PASS",
        Variant::AllowedFailure => "WARN",
    };
    assert_eq!(verdict(out, "test").as_deref(), Some(test_verdict), "{out}");
    // The jobs ran the series' tree: its test.sh, not the base's.
    assert!(out.contains("project-test-ran"), "{out}");
    assert_eq!(
        out.contains("the feature is broken"),
        variant.series_breaks_test(),
        "{out}"
    );
    let started_jobs = started_jobs(out);
    assert!(
        started_jobs.iter().any(|j| j == variant.report_job()),
        "{} did not run:\n{out}",
        variant.report_job()
    );
    assert!(
        !started_jobs.iter().any(|j| j == variant.other_report_job()),
        "{} ran too:\n{out}",
        variant.other_report_job()
    );
    assert_eq!(
        verdict(out, variant.report_job()).as_deref(),
        Some("PASS"),
        "{out}"
    );
    // The project's `default: before_script` must not reach the report job.
    let report_log = std::fs::read_to_string(
        dir.join(".gitlab-ci-local/output")
            .join(format!("{}.log", variant.report_job())),
    )
    .unwrap();
    assert!(
        !report_log.contains("project-default-before-script"),
        "{report_log}"
    );
    // gitlab-ci-local fails the pipeline exactly when a job failed for real.
    assert_eq!(
        run.status.success(),
        variant != Variant::TestFails,
        "exit {:?}:\n{out}",
        run.status
    );

    // No token in anything the runner or the jobs printed.
    let job_logs: String = std::fs::read_dir(dir.join(".gitlab-ci-local/output"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    for secret in [TOKEN, GITLAB_TOKEN] {
        assert!(!out.contains(secret), "{secret} printed:\n{out}");
        assert!(!job_logs.contains(secret), "{secret} in a job log");
    }

    // `running` from .pre, then the verdict, to the series' result.
    let puts: Vec<&Recorded> = requests.iter().filter(|r| r.method != "GET").collect();
    assert_eq!(puts.len(), 2, "{puts:#?}\n{out}");
    let running: serde_json::Value = serde_json::from_slice(&puts[0].body).unwrap();
    assert_eq!(running["status"], "running", "{running}");
    assert_eq!(puts[0].target, RESULT_PATH);
    let put = puts[1];
    assert_eq!(put.method, "PUT");
    assert_eq!(put.target, RESULT_PATH);
    assert_eq!(put.header("Authorization"), Some("Token e2e-s3cret"));
    assert_eq!(put.header("Content-Type"), Some("application/json"));
    let body: serde_json::Value =
        serde_json::from_slice(&put.body).unwrap_or_else(|e| panic!("{e}: {}", put.body_text()));
    assert_eq!(body["status"], variant.status(), "{body}");
    let log = body["log"].as_str().expect("a log");
    let pipeline_url = log
        .strip_prefix("GitLab pipeline ")
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("the log names no pipeline: {log:?}"));
    // The data: head and is_timeout, the pipeline's URL, and the failed jobs when
    // the job list could be read; the series' failure is never the infrastructure's.
    let data = &body["data"];
    assert_eq!(data["head"], tagged.head.as_str(), "{body}");
    assert_eq!(data["is_timeout"], false, "{body}");
    assert_eq!(data["pipeline_url"], pipeline_url, "{body}");
    assert_eq!(
        data.get("failed_jobs").is_some(),
        with_gitlab_token,
        "{body}"
    );
    assert!(data.get("infrastructure_failure").is_none(), "{body}");
    let pipeline_number = pipeline_url
        .strip_prefix(&format!("{HUB_PROJECT_URL}/pipelines/"))
        .unwrap_or_else(|| panic!("not a pipeline of {HUB_PROJECT_URL}: {pipeline_url}"));
    assert!(
        !pipeline_number.is_empty() && pipeline_number.bytes().all(|b| b.is_ascii_digit()),
        "{pipeline_url}"
    );
    let head_lines = format!(
        "GitLab pipeline {pipeline_url} ({})\nseries: {MSGID}\ncommit: {}\n",
        variant.status(),
        tagged.head
    );
    assert!(log.starts_with(&head_lines), "{log}");
    check_details(variant, with_gitlab_token, log, &gitlab_server);
    println!("{variant:?}: whole scenario took {:?}", started.elapsed());
}

/// What the report says beyond its first lines: the failed job and its log's end,
/// read from the GitLab stand-in, or how to get them.
fn check_details(variant: Variant, with_gitlab_token: bool, log: &str, gitlab: &StandIn) {
    let asked_gitlab = !gitlab.requests().is_empty();
    assert_eq!(asked_gitlab, with_gitlab_token, "{:#?}", gitlab.requests());
    let hint = log.contains("Job details: set PATCHEW_GITLAB_TOKEN");
    assert_eq!(
        hint,
        !with_gitlab_token && variant == Variant::TestFails,
        "{log}"
    );
    if !with_gitlab_token {
        return;
    }
    match variant {
        Variant::AllPass => assert!(!log.contains("Failed jobs:"), "{log}"),
        Variant::TestFails | Variant::AllowedFailure => {
            let allowed = if variant == Variant::AllowedFailure {
                ", allowed to fail"
            } else {
                ""
            };
            assert!(
                log.contains(&format!("Failed jobs:\n- test (stage test{allowed}): ")),
                "{log}"
            );
            assert!(log.contains("--- last "), "{log}");
            // The end of the job's log as the runner wrote it.
            // Patchew stores the log trimmed (Django's CharField): the last line has no
            // newline left.
            assert!(log.lines().any(|l| l == "the feature is broken"), "{log}");
            assert!(!log.contains("- build "), "{log}");
        }
    }
}

#[test]
fn failing_test_job_reports_failure() {
    scenario(Variant::TestFails, true);
}

#[test]
fn failing_test_job_reports_failure_without_gitlab_token() {
    scenario(Variant::TestFails, false);
}

#[test]
fn passing_pipeline_reports_success() {
    scenario(Variant::AllPass, true);
}

#[test]
fn allowed_failure_reports_success() {
    scenario(Variant::AllowedFailure, true);
}

/// The tag message as GitLab hands it to jobs in `CI_COMMIT_TAG_MESSAGE`: what
/// `git cat-file tag` shows after the header's blank line, without the final newline.
fn tag_message(repo: &TestRepo, tag: &str) -> String {
    let raw = repo.git(&["cat-file", "tag", &format!("refs/tags/{tag}")]);
    let (_, message) = raw
        .split_once("\n\n")
        .unwrap_or_else(|| panic!("{tag} is not an annotated tag:\n{raw}"));
    message.trim_end_matches('\n').to_owned()
}

/// What one pipeline on the tag told Patchew, and what the success report job printed.
struct Reported {
    /// Targets of the PUTs, in order.
    targets: Vec<String>,
    /// The `log` of the final report.
    log: String,
    job_log: String,
}

/// Runs the tag's pipeline (all jobs pass) with `message` as `CI_COMMIT_TAG_MESSAGE`,
/// or without that variable, and returns what reached the Patchew stand-in since.
fn report_with_tag_message(
    runner: &Path,
    repo: &TestRepo,
    dir: &Path,
    server: &StandIn,
    message: Option<&str>,
) -> Reported {
    let before = server.requests().len();
    let extra: Vec<String> = message
        .map(|m| {
            vec![
                "--variable".to_owned(),
                format!("CI_COMMIT_TAG_MESSAGE={m}"),
            ]
        })
        .unwrap_or_default();
    let run = pipeline_with(runner, repo, dir, server, TAG, None, &extra);
    let out = &run.output;
    assert!(run.status.success(), "{out}");
    assert_eq!(
        verdict(out, "patchew-report-success").as_deref(),
        Some("PASS"),
        "{out}"
    );
    let puts: Vec<Recorded> = server
        .requests()
        .into_iter()
        .skip(before)
        .filter(|r| r.method == "PUT")
        .collect();
    assert_eq!(puts.len(), 2, "{puts:#?}\n{out}");
    let body: serde_json::Value = serde_json::from_slice(&puts[1].body).unwrap();
    assert_eq!(body["status"], "success", "{body}");
    let job_log =
        std::fs::read_to_string(dir.join(".gitlab-ci-local/output/patchew-report-success.log"))
            .unwrap();
    Reported {
        targets: puts.iter().map(|r| r.target.clone()).collect(),
        log: body["log"].as_str().expect("a log").to_owned(),
        job_log,
    }
}

/// A tag applied by `git patchew apply`, checked out for the runner.
fn applied_tag_checkout(server: &StandIn) -> (TestRepo, PathBuf) {
    let include_url = format!("{}/patchew-ci.yml", server.url());
    let repo = project(Variant::AllPass);
    let mbox = mail_series(&repo);
    let tagged = apply(&repo, &mbox, &include_url);
    assert_eq!(tagged.tag, TAG);
    let dir = checkout(&repo, &tagged);
    (repo, dir)
}

/// Issue #18: GitLab hands the annotated tag's message to jobs as
/// `CI_COMMIT_TAG_MESSAGE`. With it (our tag's message, `_` and `/` unescaped in its
/// `Patchew-Message-Id:`) and without it (a lightweight tag, or a GitLab that does not
/// set it: the name is decoded) the report reaches the same series' result; the job
/// says which route it took, so the two runs are known to differ.
#[test]
fn report_job_reads_the_tag_message_and_works_without_it() {
    let Some(runner) = gitlab_ci_local() else {
        return;
    };
    if !have("python3") || !have("rsync") {
        return;
    }
    let server = start_server();
    let (repo, dir) = applied_tag_checkout(&server);
    let message = tag_message(&repo, TAG);
    assert!(
        message
            .lines()
            .any(|l| l == format!("Patchew-Message-Id: <{MSGID}>")),
        "{message}"
    );

    let with = report_with_tag_message(&runner, &repo, &dir, &server, Some(&message));
    assert_eq!(with.targets, [RESULT_PATH, RESULT_PATH]);
    assert!(
        with.job_log
            .contains("series from the tag message, the same as the tag name"),
        "{}",
        with.job_log
    );
    assert!(
        with.log.contains(&format!("\nseries: {MSGID}\n")),
        "{}",
        with.log
    );
    assert!(!with.log.contains("warning"), "{}", with.log);

    let without = report_with_tag_message(&runner, &repo, &dir, &server, None);
    assert_eq!(without.targets, [RESULT_PATH, RESULT_PATH]);
    assert!(
        without
            .job_log
            .contains("series from the tag name (the tag message names none)"),
        "{}",
        without.job_log
    );
    assert!(
        without.log.contains(&format!("\nseries: {MSGID}\n")),
        "{}",
        without.log
    );
}

/// A tag whose message names another series than its name decodes to (it went around
/// the pre-push hook, which refuses it): the name wins, since it is the ref the
/// pipeline runs for and what Patchew's tag results name, while the message is text
/// anyone pushing a tag writes. The other series' result is never touched, and the
/// report's log says what the message claimed.
#[test]
fn report_job_trusts_the_tag_name_over_a_disagreeing_message() {
    let Some(runner) = gitlab_ci_local() else {
        return;
    };
    if !have("python3") || !have("rsync") {
        return;
    }
    const OTHER: &str = "20240101_other/v1-0-b@example.org";
    let server = start_server();
    let other_path =
        "/api/v1/projects/42/series/20240101._5Fother._2Fv1-0-b@example.org/results/testing.gitlab/";
    let (repo, dir) = applied_tag_checkout(&server);
    let message = tag_message(&repo, TAG);
    let ours = format!("Patchew-Message-Id: <{MSGID}>");
    assert!(message.contains(&ours), "{message}");
    let forged = message.replace(&ours, &format!("Patchew-Message-Id: <{OTHER}>"));

    let reported = report_with_tag_message(&runner, &repo, &dir, &server, Some(&forged));
    assert_eq!(reported.targets, [RESULT_PATH, RESULT_PATH]);
    assert!(server.requests_to("PUT", other_path).is_empty());
    assert!(
        reported.log.contains(&format!("\nseries: {MSGID}\n")),
        "{}",
        reported.log
    );
    let warning = format!(
        "warning: the tag message's Patchew-Message-Id names '{OTHER}', not the tag name's \
         series; reported for the tag name"
    );
    assert!(reported.log.contains(&warning), "{}", reported.log);
    assert!(reported.job_log.contains(&warning), "{}", reported.job_log);
}

/// `patchew.reportFrom = applier` end to end: the applier applies and pushes the
/// series to a bare ci-hub; gitlab-ci-local runs the tag's pipeline with no Patchew
/// variable at all (only `PATCHEW_REPORT_FROM=applier`); the GitLab stand-in answers
/// from what it ran; the applier's next round reads the pipeline and reports the
/// failed job and its log's end. A project job prints its whole environment, so no
/// job saw the Patchew token if no log holds it.
#[test]
fn applier_mode_reports_what_the_pipeline_ran() {
    let Some(runner) = gitlab_ci_local() else {
        return;
    };
    if !have("python3") || !have("rsync") {
        return;
    }
    let id = "applier-mode-1@example.org";
    let tag = format!("patchew/{id}");
    let server = StandIn::start();
    let repo = project(Variant::TestFails);
    repo.git(&["checkout", "-q", "main"]);
    repo.write(
        ".gitlab-ci.yml",
        format!(
            "{}spy:\n  stage: build\n  script:\n    - env\n",
            project_ci(false)
        ),
    );
    repo.commit("A job that shows what a job can see");
    let hub = repo.scratch("hub.git");
    repo.git(&["init", "-q", "--bare", hub.to_str().unwrap()]);
    let patchew = FakePatchew::install(
        &server,
        serde_json::json!({
            "pushurl": hub.to_str().unwrap(),
            "url": HUB_REMOTE,
            "source": format!("{} main", repo.path.display()),
        }),
    );
    // reportFrom = applier: the applier's token writes both results.
    patchew.add_user("applier", TOKEN, Role::Applier);
    patchew.enable_test("gitlab");
    let yml = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/patchew-ci.yml"))
        .unwrap();
    server.route("GET", "/patchew-ci.yml", Reply::ok(yml));
    // The series: the two patches of branch `series`, as Patchew's mbox serves them.
    let mbox = repo.git(&["format-patch", "--stdout", "main..series"]);
    let mut n = 0;
    let mbox = mbox
        .split_inclusive('\n')
        .map(|l| {
            if l.starts_with("Subject:") {
                n += 1;
                format!("Message-Id: <{id}.{n}>\n{l}")
            } else {
                l.to_owned()
            }
        })
        .collect::<String>();
    patchew.add_series(id, "[PATCH 0/2] the feature", mbox);

    let checkout_dir = repo.scratch("hub-checkout");
    let gitlab_server = StandIn::start();
    let gitlab = FakeGitLab::install(&gitlab_server, GITLAB_TOKEN);
    let progress = [
        checkout_dir.parent().unwrap().join("pipeline.log"),
        checkout_dir.parent().unwrap().join("pipeline.err"),
    ];
    {
        let dir = checkout_dir.clone();
        gitlab.serve_jobs(move |_| jobs_of_gitlab_ci_local(&dir, &progress));
    }
    let mirror = repo.clone_to("mirror.git", &["--bare"]);
    let token_file = repo.scratch("gitlab-token");
    std::fs::write(&token_file, GITLAB_TOKEN).unwrap();
    for (k, v) in [
        ("patchew.server", server.url()),
        (
            "patchew.ciInclude",
            format!("{}/patchew-ci.yml", server.url()),
        ),
        ("patchew.claimSettle", "0".to_owned()),
        ("patchew.reportFrom", "applier".to_owned()),
        ("patchew.gitlabUrl", gitlab_server.url()),
        ("patchew.ciProject", gitlab.project_path.clone()),
        (
            "patchew.gitlabTokenFile",
            token_file.to_str().unwrap().to_owned(),
        ),
    ] {
        repo.git_in(&mirror, &["config", k, &v]);
    }
    let applier = || {
        let out = repo
            .command(env!("CARGO_BIN_EXE_git-patchew"), &mirror)
            .env("PATCHEW_TOKEN", TOKEN)
            .env_remove("PATCHEW_GITLAB_TOKEN")
            .args(["applier", "--once", "-v"])
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            support::git::stdout(&out),
            support::git::stderr(&out)
        );
        assert!(!all.contains(TOKEN) && !all.contains(GITLAB_TOKEN), "{all}");
        out
    };
    let out = applier();
    assert!(out.status.success(), "{}", support::git::stderr(&out));
    assert_eq!(patchew.testing(id, "gitlab").unwrap().status, "pending");

    // The ci-hub runs the tag's pipeline: no Patchew variable but the mode.
    repo.git(&[
        "clone",
        "-q",
        "--branch",
        &tag,
        hub.to_str().unwrap(),
        checkout_dir.to_str().unwrap(),
    ]);
    repo.git_in(&checkout_dir, &["remote", "set-url", "origin", HUB_REMOTE]);
    std::fs::write(checkout_dir.join(".gitlab-ci-local.yml"), LOCAL_OVERRIDE).unwrap();
    let args: Vec<String> = [
        "--no-color",
        "--shell-executor-no-image",
        "--json-schema-validation=false",
        "--fetch-includes",
        "--variable",
        &format!("CI_COMMIT_TAG={tag}"),
        "--unset-variable",
        "CI_COMMIT_BRANCH",
        "--variable",
        "PATCHEW_REPORT_FROM=applier",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    let run = run_runner(&runner, &repo, &checkout_dir, "pipeline", &args);
    let out = &run.output;
    assert!(!run.status.success(), "the test job fails:\n{out}");
    assert_eq!(verdict(out, "test").as_deref(), Some("FAIL"), "{out}");
    assert!(out.contains("the applier reports this pipeline"), "{out}");
    assert!(
        out.contains("CI_COMMIT_TAG="),
        "the spy job printed its environment:\n{out}"
    );
    let job_logs: String = std::fs::read_dir(checkout_dir.join(".gitlab-ci-local/output"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(
        !out.contains(TOKEN) && !job_logs.contains(TOKEN),
        "a job saw the token"
    );
    assert!(!job_logs.contains(GITLAB_TOKEN));
    assert_eq!(patchew.testing(id, "gitlab").unwrap().status, "pending");
    // GitLab records the pipeline as the runner ended it.
    gitlab.add_pipeline(Pipeline {
        id: 1000,
        git_ref: tag.clone(),
        sha: String::new(),
        status: "failed".into(),
    });

    let out = applier();
    assert_eq!(out.status.code(), Some(3), "{}", support::git::stderr(&out));
    let result = patchew.testing(id, "gitlab").unwrap();
    assert_eq!(result.status, "failure");
    let head = repo.git_in(&hub, &["rev-parse", &format!("refs/tags/{tag}^{{commit}}")]);
    assert_eq!(result.data["head"], head.as_str());
    let log = result.log.unwrap();
    let web = gitlab.project_web_url();
    assert!(
        log.starts_with(&format!(
            "GitLab pipeline {web}/-/pipelines/1000 (failure)\nseries: {id}\ncommit: {head}\n"
        )),
        "{log}"
    );
    assert!(log.contains("Failed jobs:\n- test (stage test): "), "{log}");
    // Patchew stores the log trimmed (Django's CharField): the last line has no
    // newline left.
    assert!(log.lines().any(|l| l == "the feature is broken"), "{log}");
    assert!(
        !log.contains("- build ") && !log.contains("- spy "),
        "{log}"
    );
}
