//! The GitLab REST client against a loopback stand-in: the token goes in
//! `PRIVATE-TOKEN`, job lists are followed page by page, the project is named by its
//! path, and the token never reaches another origin or an error message.

use crate::support;

use git_patchew::http::{HttpClient, HttpConfig, RetryPolicy, Service, Token};
use git_patchew::report::gitlab::GitLab;
use support::gitlab::{FakeGitLab, Job, Pipeline, PAGE_SIZE};
use support::{Reply, StandIn};

const TOKEN: &str = "glpat-client-s3cret";

fn client(url: &str, project: &str, token: &str) -> GitLab {
    let config = HttpConfig {
        retry: RetryPolicy::none(),
        ..HttpConfig::default()
    };
    GitLab::new(
        url,
        project,
        Token::new(Service::GitLab, token, "test").unwrap(),
        HttpClient::new(config),
    )
}

fn jobs(n: u64) -> Vec<Job> {
    (1..=n)
        .map(|id| Job {
            id,
            name: format!("job-{id}"),
            stage: "test".into(),
            status: if id == 3 { "failed" } else { "success" }.into(),
            allow_failure: false,
            trace: format!("trace of {id}\n").into_bytes(),
        })
        .collect()
}

#[test]
fn pipeline_jobs_and_traces_by_project_path() {
    let server = StandIn::start();
    let gitlab = FakeGitLab::install(&server, TOKEN);
    gitlab.add_pipeline(Pipeline {
        id: 5,
        git_ref: "patchew/a@b".into(),
        sha: "abc".into(),
        status: "failed".into(),
    });
    gitlab.serve_jobs(|_| jobs(5));
    let client = client(&format!("{}/", server.url()), "ci/hub", TOKEN);

    let pipeline = client
        .tag_pipeline("refs/tags/patchew/a@b")
        .unwrap()
        .expect("a pipeline");
    assert_eq!((pipeline.id, pipeline.status.as_str()), (5, "failed"));
    assert!(client.tag_pipeline("patchew/other@b").unwrap().is_none());

    let listed = client.jobs(5).unwrap();
    let names: Vec<&str> = listed.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(names, ["job-1", "job-2", "job-3", "job-4", "job-5"]);
    assert!(listed.len() > 2 * PAGE_SIZE);
    assert_eq!(listed[2].status, "failed");
    assert_eq!(client.trace(4).unwrap(), b"trace of 4\n");

    let requests = server.requests();
    assert!(requests
        .iter()
        .all(|r| r.header("PRIVATE-TOKEN") == Some(TOKEN) && r.header("Authorization").is_none()));
    // The path is one URL segment; the tag is encoded in the query.
    assert!(requests[0]
        .target
        .starts_with("/api/v4/projects/ci%2Fhub/pipelines?ref=patchew%2Fa@b&"));
    let pages = requests
        .iter()
        .filter(|r| r.path().ends_with("/jobs"))
        .count();
    assert_eq!(pages, 3);
}

#[test]
fn refusals_name_the_status_never_the_token() {
    let server = StandIn::start();
    FakeGitLab::install(&server, TOKEN);
    let err = client(&server.url(), "ci/hub", "glpat-wrong-token")
        .jobs(1)
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert!(!err.to_string().contains("glpat-wrong-token"), "{err}");
    let err = client(&server.url(), "other/project", TOKEN)
        .project_web_url()
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
}

#[test]
fn the_token_does_not_follow_a_redirect_elsewhere() {
    let elsewhere = StandIn::start();
    elsewhere.route("GET", "/trace", Reply::ok("moved"));
    let server = StandIn::start();
    server.route(
        "GET",
        "/api/v4/projects/7/jobs/1/trace",
        Reply::redirect(302, &format!("{}/trace", elsewhere.url())),
    );
    let body = client(&server.url(), "7", TOKEN).trace(1).unwrap();
    assert_eq!(body, b"moved");
    assert_eq!(server.requests()[0].header("PRIVATE-TOKEN"), Some(TOKEN));
    assert_eq!(elsewhere.requests()[0].header("PRIVATE-TOKEN"), None);
}
