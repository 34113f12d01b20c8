//! Includes outside the tree in the tag pipeline verdict: our own report include at
//! an `https://` URL on a QEMU-shaped tree (tests/ci-trees/qemu-like, written by us),
//! `project:` and `template:` includes from the GitLab stand-in, a `remote:` one from
//! a loopback server, and jobs expanded by `parallel:` named as GitLab names them
//! (checked against gitlab-ci-local's list).

use crate::ci_check::{gitlab_jobs, job_lines, qemu_series, reasons, repo_with_tree};
use crate::support;
use support::require::gitlab_ci_local;

use serde_json::Value;
use support::git::{stderr, stdout, TestRepo};
use support::gitlab::FakeGitLab;
use support::{refused_url, Reply, StandIn};

const TAG: &str = "patchew/20240101.1-a@example.org";
const INCLUDE: &str = "https://ci.example.org/patchew/patchew-ci.yml";
const GITLAB_TOKEN: &str = "glpat-include-reader";

/// `ci-check --json TAG` with the variables; (exit code, pipeline, stderr).
fn ci_check(r: &TestRepo, vars: &[&str]) -> (i32, Value, String) {
    let mut args = vec!["ci-check", "--json", TAG];
    for v in vars {
        args.extend(["--variable", v]);
    }
    let out = r
        .command(env!("CARGO_BIN_EXE_git-patchew"), &r.path)
        .args(&args)
        .env_remove("PATCHEW_GITLAB_TOKEN")
        .output()
        .unwrap();
    let pipeline: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} {}", stdout(&out), stderr(&out)));
    (out.status.code().unwrap(), pipeline, stderr(&out))
}

fn job<'a>(pipeline: &'a Value, name: &str) -> Option<&'a Value> {
    pipeline["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == name)
}

/// The QEMU-shaped tree with `include_line` added to its top file, tagged.
fn qemu_tagged(include_line: &str) -> TestRepo {
    let r = repo_with_tree("qemu-like");
    let top = std::fs::read_to_string(r.path.join(".gitlab-ci.yml")).unwrap();
    r.write(
        ".gitlab-ci.yml",
        top.replace("include:\n", &format!("include:\n  {include_line}\n")),
    );
    r.commit("the report include");
    r.git(&["tag", TAG]);
    r
}

/// QEMU_CI unset, 1, 2: none / blocked / runs and exit 1 / 1 / 0, the report jobs
/// listed as what they are, nothing said about our include.
#[track_caller]
fn assert_qemu_verdicts(r: &TestRepo) {
    for (vars, verdict, code) in [
        (&[][..], "none", 1),
        (&["QEMU_CI=1"][..], "blocked", 1),
        (&["QEMU_CI=2"][..], "runs", 0),
    ] {
        let (exit, pipeline, err) = ci_check(r, vars);
        let why = reasons(&pipeline);
        assert_eq!(pipeline["verdict"], verdict, "{vars:?}: {why}");
        assert_eq!(exit, code, "{vars:?}: {why}");
        assert!(!why.contains("cannot be read"), "{vars:?}: {why}");
        assert!(!err.contains("patchew-ci.yml"), "{vars:?}: {err}");
        let success = job(&pipeline, "patchew-report-success").expect("our .post job listed");
        assert_eq!(success["stage"], ".post");
        assert_eq!(success["when"], "on_success");
        let running = job(&pipeline, "patchew-report-running").unwrap();
        assert_eq!(
            (&running["stage"], &running["when"]),
            (&".pre".into(), &"always".into())
        );
        assert_eq!(
            job(&pipeline, "patchew-report-failure").unwrap()["when"],
            "on_failure"
        );
    }
}

#[test]
fn our_include_at_an_https_url_on_a_qemu_shaped_tree() {
    let r = qemu_tagged(&format!("- remote: '{INCLUDE}'"));
    r.git(&["config", "patchew.ciInclude", INCLUDE]);
    assert_qemu_verdicts(&r);
    // A job of the series named like ours is still refused.
    r.write(
        ".gitlab-ci.d/custom-runners/x.yml",
        "patchew-report-success:\n  stage: .post\n  script: [echo fake]\n",
    );
    r.commit("hijack");
    r.git(&["tag", "-f", TAG]);
    let out = r.patchew(&r.path, &["ci-check", TAG]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("`patchew-report-success` (.gitlab-ci.d/custom-runners/x.yml)"));
}

/// `apply --ci-include URL` (no setting): the include it injects is ours.
#[test]
fn apply_with_ci_include_on_the_command_line_knows_our_include() {
    let (r, mbox) = qemu_series(&[]);
    r.git(&["config", "--unset", "patchew.ciInclude"]);
    let mbox = mbox.to_str().unwrap();
    for (option, verdict) in [(None, "none"), (Some("ci.variable=QEMU_CI=2"), "runs")] {
        let mut args = vec![
            "apply",
            "--force",
            "--mbox",
            mbox,
            "--json",
            "--ci-include",
            INCLUDE,
        ];
        if let Some(o) = option {
            args.extend(["-o", o]);
        }
        let out = r.patchew(&r.path, &args);
        assert!(out.status.success(), "{}", stderr(&out));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["pipeline"]["verdict"], verdict, "{report}");
        let err = stderr(&out);
        assert!(!err.contains("cannot be read"), "{err}");
        assert!(job(&report["pipeline"], "patchew-report-success").is_some());
    }
}

/// Without `patchew.ciInclude`, ci-check fetches the include and recognises the
/// report jobs it serves, at whatever URL.
#[test]
fn our_include_fetched_from_an_unconfigured_url_is_still_ours() {
    let server = StandIn::start();
    let yml = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/patchew-ci.yml"),
    )
    .unwrap();
    server.route("GET", "/ci/patchew-ci.yml", Reply::ok(yml));
    let r = qemu_tagged(&format!("- remote: '{}/ci/patchew-ci.yml'", server.url()));
    // The include has moved since the tag was made (the host may be local, as the
    // settings name it).
    r.git(&[
        "config",
        "patchew.ciInclude",
        &format!("{}/new/patchew-ci.yml", server.url()),
    ]);
    assert_qemu_verdicts(&r);
    assert_eq!(server.requests_to("GET", "/ci/patchew-ci.yml").len(), 3);

    // gitlab-ci-local fetches the same include: both list the same jobs, ours too.
    let Some(runner) = gitlab_ci_local() else {
        return;
    };
    for vars in [&[][..], &["QEMU_CI=1"][..], &["QEMU_CI=2"][..]] {
        let (_, pipeline, _) = ci_check(&r, vars);
        let ours = job_lines(&pipeline["jobs"]);
        assert!(ours.iter().any(|j| j.0 == "patchew-report-failure"));
        assert_eq!(
            ours,
            gitlab_jobs(&runner, &r, vars),
            "{vars:?}: git patchew (left) and gitlab-ci-local (right)"
        );
    }
}

/// A top file including a project file (which includes a file of its own project),
/// a template and a remote file, whose jobs and rules alone decide.
fn external_tree(remote_url: &str) -> TestRepo {
    let r = TestRepo::new();
    r.write(
        ".gitlab-ci.yml",
        format!(
            "include:\n  - project: shared/ci\n    ref: v1\n    file: /jobs.yml\n  - template: Jobs/Gated.gitlab-ci.yml\n  - remote: '{remote_url}'\n  # Again, with inputs: another include for GitLab, the same file to fetch.\n  - remote: '{remote_url}'\n    inputs:\n      unused: 1\n"
        ),
    );
    r.commit("CI from elsewhere");
    r.git(&["tag", TAG]);
    r
}

fn serve_gitlab(server: &StandIn) -> FakeGitLab {
    let gitlab = FakeGitLab::install(server, GITLAB_TOKEN);
    gitlab.serve_file(
        "shared/ci",
        "jobs.yml",
        Some("v1"),
        "stages: [build, test, deploy]\ninclude:\n  - local: nested.yml\n",
    );
    gitlab.serve_file(
        "shared/ci",
        "nested.yml",
        Some("v1"),
        "build:\n  stage: build\n  script: [make]\n  rules:\n    - if: $RUN == \"yes\"\n    - when: never\n",
    );
    // Another ref of the same file, which must not be read.
    gitlab.serve_file(
        "shared/ci",
        "jobs.yml",
        None,
        "build:\n  script: [wrong ref]\n",
    );
    // A template in a folder, as GitLab's own (Jobs/Build, Security/SAST...).
    gitlab.serve_template(
        "Jobs/Gated",
        "deploy:\n  stage: deploy\n  script: [ship]\n  rules:\n    - if: $BLOCK == \"yes\"\n      when: manual\n    - when: never\n",
    );
    gitlab
}

/// Loopback hosts are fetched from only when the settings name them: here as the
/// host of our include.
fn trust(r: &TestRepo, origin: &str) {
    r.git(&[
        "config",
        "patchew.ciInclude",
        &format!("{origin}/patchew-ci.yml"),
    ]);
}

fn configure_gitlab(r: &TestRepo, server: &StandIn) {
    let token_file = r.scratch("gitlab.token");
    std::fs::write(&token_file, GITLAB_TOKEN).unwrap();
    r.git(&["config", "patchew.gitlabUrl", &server.url()]);
    r.git(&["config", "patchew.ciProject", "ci/hub"]);
    r.git(&[
        "config",
        "patchew.gitlabTokenFile",
        token_file.to_str().unwrap(),
    ]);
    r.git(&["config", "patchew.httpRetries", "1"]);
}

#[test]
fn project_template_and_remote_includes_decide_the_verdict() {
    let gitlab_server = StandIn::start();
    let _gitlab = serve_gitlab(&gitlab_server);
    let remote = StandIn::start();
    remote.route(
        "GET",
        "/remote.yml",
        Reply::ok("lint:\n  stage: test\n  script: [lint]\n  rules:\n    - if: $REMOTE == \"yes\"\n    - when: never\n"),
    );
    let r = external_tree(&format!("{}/remote.yml", remote.url()));
    configure_gitlab(&r, &gitlab_server);
    trust(&r, &remote.url());

    let (code, p, _) = ci_check(&r, &[]);
    assert_eq!(
        (p["verdict"].as_str(), code),
        (Some("none"), 1),
        "{}",
        reasons(&p)
    );
    assert!(reasons(&p).contains("`build`"), "{}", reasons(&p));
    assert!(!reasons(&p).contains("cannot be read"), "{}", reasons(&p));
    let (code, p, _) = ci_check(&r, &["RUN=yes"]);
    assert_eq!(
        (p["verdict"].as_str(), code),
        (Some("runs"), 0),
        "{}",
        reasons(&p)
    );
    assert_eq!(job(&p, "build").unwrap()["when"], "on_success");
    let (code, p, _) = ci_check(&r, &["RUN=yes", "BLOCK=yes"]);
    assert_eq!(
        (p["verdict"].as_str(), code),
        (Some("blocked"), 1),
        "{}",
        reasons(&p)
    );
    assert!(reasons(&p).contains("`deploy`"), "{}", reasons(&p));
    let (code, p, _) = ci_check(&r, &["REMOTE=yes"]);
    assert_eq!(
        (p["verdict"].as_str(), code),
        (Some("runs"), 0),
        "{}",
        reasons(&p)
    );
    assert_eq!(job(&p, "lint").unwrap()["when"], "on_success");

    // Each file was asked once per run, the template's and the file's with the
    // token; the remote one anonymously.
    let gets = remote.requests_to("GET", "/remote.yml");
    assert_eq!(gets.len(), 4, "one per ci-check run");
    assert!(gets
        .iter()
        .all(|g| g.header("PRIVATE-TOKEN").is_none() && g.header("Authorization").is_none()));
    let files = gitlab_server.requests_to(
        "GET",
        "/api/v4/projects/shared%2Fci/repository/files/jobs.yml/raw",
    );
    assert_eq!(files.len(), 4);
    assert!(files.iter().all(|f| f.target.ends_with("?ref=v1")));
    assert_eq!(
        gitlab_server
            .requests_to("GET", "/api/v4/templates/gitlab_ci_ymls/Jobs%2FGated")
            .len(),
        4
    );
}

#[test]
fn unreadable_includes_stay_unknown_with_their_reason() {
    // The remote server is gone; GitLab is not configured at all.
    let gone = refused_url();
    let r = external_tree(&format!("{gone}/remote.yml"));
    trust(&r, &gone);
    let (code, p, _) = ci_check(&r, &["REMOTE=yes"]);
    let why = reasons(&p);
    assert_eq!((p["verdict"].as_str(), code), (Some("unknown"), 3), "{why}");
    assert!(why.contains("remote.yml` (connection failed"), "{why}");
    assert!(
        why.contains(
            "project `shared/ci` (file jobs.yml, ref v1) (not read: set patchew.gitlabUrl"
        ),
        "{why}"
    );
    assert!(
        why.contains("template `Jobs/Gated.gitlab-ci.yml` (not read"),
        "{why}"
    );

    // GitLab configured, the template missing there and a file refused: GitLab's
    // answers are the reasons, and the token is never shown.
    let gitlab_server = StandIn::start();
    let gitlab = FakeGitLab::install(&gitlab_server, GITLAB_TOKEN);
    gitlab.serve_file("shared/ci", "other.yml", None, "x:\n  script: [y]\n");
    configure_gitlab(&r, &gitlab_server);
    let (code, p, err) = ci_check(&r, &[]);
    let why = reasons(&p);
    assert_eq!((p["verdict"].as_str(), code), (Some("unknown"), 3), "{why}");
    assert!(
        why.contains("(file jobs.yml, ref v1) (GitLab: HTTP 404)"),
        "{why}"
    );
    assert!(
        why.contains("template `Jobs/Gated.gitlab-ci.yml` (GitLab: HTTP 404)"),
        "{why}"
    );
    assert!(!why.contains(GITLAB_TOKEN) && !err.contains(GITLAB_TOKEN));

    // A remote server that never answers: cut by patchew.httpTimeout.
    let hanging = StandIn::start();
    hanging.route("GET", "/remote.yml", Reply::hang());
    let r = external_tree(&format!("{}/remote.yml", hanging.url()));
    trust(&r, &hanging.url());
    r.git(&["config", "patchew.httpTimeout", "1"]);
    let (code, p, _) = ci_check(&r, &["REMOTE=yes"]);
    let why = reasons(&p);
    assert_eq!((p["verdict"].as_str(), code), (Some("unknown"), 3), "{why}");
    assert!(
        why.contains("remote.yml` (no complete answer within 1 s)"),
        "{why}"
    );
}

/// `parallel: 3` and a 2x2 matrix whose rules read the matrix variables: our names
/// are GitLab's; gitlab-ci-local 4.56 writes `name: [1/3]` and `name: [a,b]` (no
/// space), and otherwise agrees on every job.
#[test]
fn parallel_jobs_are_listed_with_gitlabs_names() {
    let r = TestRepo::new();
    r.write(
        ".gitlab-ci.yml",
        "stages: [build, test]\nunit:\n  stage: test\n  parallel: 3\n  script: [echo unit]\ncross:\n  stage: build\n  script: [echo $OS $ARCH]\n  parallel:\n    matrix:\n      - OS: [linux, bsd]\n        ARCH: [x86, arm]\n  rules:\n    - if: $OS == \"bsd\"\n      when: manual\n      allow_failure: true\n    - when: on_success\n",
    );
    r.commit("parallel jobs");
    r.git(&["tag", TAG]);
    r.git(&[
        "remote",
        "add",
        "origin",
        "https://hub.example/patchew/par.git",
    ]);
    let (code, p, _) = ci_check(&r, &[]);
    assert_eq!(code, 0, "{}", reasons(&p));
    let names: Vec<&str> = p["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "unit 1/3",
            "unit 2/3",
            "unit 3/3",
            "cross: [linux, x86]",
            "cross: [linux, arm]",
            "cross: [bsd, x86]",
            "cross: [bsd, arm]",
        ]
    );
    assert_eq!(job(&p, "cross: [bsd, arm]").unwrap()["when"], "manual");
    assert_eq!(
        job(&p, "cross: [linux, arm]").unwrap()["when"],
        "on_success"
    );

    let Some(runner) = gitlab_ci_local() else {
        return;
    };
    // gitlab-ci-local's spelling of the same names.
    let theirs_named = |name: &str| -> String {
        match name.split_once(' ') {
            Some((base, n)) if !base.ends_with(':') => format!("{base}: [{n}]"),
            _ => name.replace(", ", ","),
        }
    };
    let mut ours: Vec<_> = job_lines(&p["jobs"])
        .into_iter()
        .map(|(n, s, w, a)| (theirs_named(&n), s, w, a))
        .collect();
    ours.sort();
    let theirs = gitlab_jobs(&runner, &r, &[]);
    assert_eq!(
        ours, theirs,
        "git patchew (left, respelled) and gitlab-ci-local (right)"
    );
}

/// `apply` reads includes outside the tree only when `patchew.gitlabUrl` is set.
#[test]
fn apply_reads_remote_includes_when_gitlab_is_configured() {
    let remote = StandIn::start();
    remote.route(
        "GET",
        "/remote.yml",
        Reply::ok("lint:\n  script: [lint]\n  rules:\n    - if: $CI_COMMIT_TAG\n      when: never\n    - when: always\n"),
    );
    let r = TestRepo::new();
    r.write(
        ".gitlab-ci.yml",
        format!("include:\n  - remote: '{}/remote.yml'\n", remote.url()),
    );
    r.write("src.c", "int main(void) { return 0; }\n");
    r.commit("base");
    r.write("src.c", "int main(void) { return 1; }\n");
    r.commit("return one");
    let mbox = r.git_bytes(&["format-patch", "--stdout", "--thread", "-1", "HEAD"]);
    r.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let mbox_path = r.scratch("p.mbox");
    std::fs::write(&mbox_path, mbox).unwrap();
    trust(&r, &remote.url());
    let apply = |r: &TestRepo| {
        let out = r
            .command(env!("CARGO_BIN_EXE_git-patchew"), &r.path)
            .args(["apply", "--force", "--json", "--mbox"])
            .arg(&mbox_path)
            .env_remove("PATCHEW_GITLAB_TOKEN")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        (report["pipeline"].clone(), stderr(&out))
    };
    // Offline: the remote file is named, the verdict unknown.
    let (p, err) = apply(&r);
    assert_eq!(p["verdict"], "unknown", "{p}");
    assert!(err.contains("remote.yml`"), "{err}");
    assert!(remote.requests_to("GET", "/remote.yml").is_empty());
    // With GitLab configured, its rules decide: no pipeline.
    let gitlab_server = StandIn::start();
    let _gitlab = FakeGitLab::install(&gitlab_server, GITLAB_TOKEN);
    configure_gitlab(&r, &gitlab_server);
    let (p, err) = apply(&r);
    assert_eq!(p["verdict"], "none", "{p}");
    assert!(reasons(&p).contains("`lint`"), "{}", reasons(&p));
    assert!(!err.contains("cannot be read"), "{err}");
    assert_eq!(remote.requests_to("GET", "/remote.yml").len(), 1);
}
