//! Runs the report jobs of contrib/patchew-ci.yml with `sh` against a one-shot HTTP
//! server on 127.0.0.1 and checks what Patchew would receive.

use crate::support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::thread::JoinHandle;

use git_patchew::msgid::MessageId;

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
const PIPELINE_URL: &str = "https://hub.example/ci/hub/-/pipelines/42";
const TOKEN: &str = "s3cret-token";

fn ci_file() -> serde_yaml::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/patchew-ci.yml");
    serde_yaml::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

struct Job {
    script: String,
    variables: Vec<(String, String)>,
}

fn job(name: &str) -> Job {
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
    Job {
        script: lines.join("\n"),
        variables,
    }
}

fn have_curl() -> bool {
    support::require::require_tool("curl")
}

#[derive(Debug)]
struct Request {
    method: String,
    path: String,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

/// Accepts one request, answers 200 and hands it back.
fn serve_once(listener: TcpListener) -> JoinHandle<Request> {
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap().to_owned();
        let path = parts.next().unwrap().to_owned();
        let mut headers = BTreeMap::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h).unwrap();
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (k, v) = h.split_once(':').unwrap();
            headers.insert(k.to_ascii_lowercase(), v.trim().to_owned());
        }
        let len = headers
            .get("content-length")
            .map_or(0, |l| l.parse().unwrap());
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
        let reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
        reader.get_mut().write_all(reply.as_bytes()).unwrap();
        Request {
            method,
            path,
            headers,
            body,
        }
    })
}

fn run(job: &Job, tag: Option<&str>, port: u16) -> Output {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(&job.script)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("CI_COMMIT_SHA", SHA)
        .env("CI_PIPELINE_URL", PIPELINE_URL)
        .env("CI_PIPELINE_ID", "42")
        .env("CI_PROJECT_URL", "https://hub.example/ci/hub")
        .env("PATCHEW_SERVER", format!("http://127.0.0.1:{port}/"))
        .env("PATCHEW_PROJECT_ID", "7")
        .env("PATCHEW_TOKEN", TOKEN)
        .envs(job.variables.iter().cloned());
    if let Some(tag) = tag {
        cmd.env("CI_COMMIT_TAG", tag);
    }
    cmd.output().unwrap()
}

/// Patchew's stored form, percent-encoded the way the job does it.
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

fn report(job_name: &str, raw_id: &str) -> (Request, MessageId) {
    let id = MessageId::parse(raw_id).unwrap();
    let tag = id.tag_name("patchew");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = serve_once(listener);
    let out = run(&job(job_name), Some(&tag), port);
    assert!(
        out.status.success(),
        "{raw_id}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (server.join().unwrap(), id)
}

fn check_report(job_name: &str, status: &str, raw_id: &str) {
    let (req, id) = report(job_name, raw_id);
    assert_eq!(req.method, "PUT");
    assert_eq!(
        req.path,
        format!(
            "/api/v1/projects/7/series/{}/results/testing.gitlab/",
            expected_segment(&id)
        ),
        "{raw_id}"
    );
    assert_eq!(req.headers["authorization"], format!("Token {TOKEN}"));
    assert_eq!(req.headers["content-type"], "application/json");
    let body: serde_json::Value = serde_json::from_slice(&req.body)
        .unwrap_or_else(|e| panic!("{raw_id}: {e}: {}", String::from_utf8_lossy(&req.body)));
    let log = format!(
        "GitLab pipeline {PIPELINE_URL} ({status})\nseries: {}\ncommit: {SHA}\n",
        id.as_str()
    );
    assert_eq!(
        body,
        serde_json::json!({
            "status": status,
            "log": log,
            "data": {"head": SHA, "is_timeout": false},
        }),
        "{raw_id}"
    );
}

#[test]
fn success_and_failure_jobs_report_their_status() {
    if !have_curl() {
        return;
    }
    check_report(
        "patchew-report-success",
        "success",
        "20240101.1234-1-a@x.org",
    );
    check_report(
        "patchew-report-failure",
        "failure",
        "20240101.1234-1-a@x.org",
    );
}

#[test]
fn hostile_message_ids_stay_data() {
    if !have_curl() {
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

#[test]
fn no_patchew_tag_means_no_report() {
    if !have_curl() {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    for tag in [None, Some("v1.0"), Some("patchew/")] {
        let out = run(&job("patchew-report-success"), tag, port);
        assert!(out.status.success(), "{tag:?}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to report"));
    }
    listener.set_nonblocking(true).unwrap();
    assert!(listener.accept().is_err(), "a request was sent");
}

#[test]
fn undecodable_tag_fails_without_request() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    for tag in ["patchew/a._ZZ@x", "patchew/a._5", "patchew/a._00@x"] {
        let out = run(&job("patchew-report-success"), Some(tag), port);
        assert!(!out.status.success(), "{tag}");
    }
    listener.set_nonblocking(true).unwrap();
    assert!(listener.accept().is_err(), "a request was sent");
}

#[test]
fn jobs_fit_into_any_project() {
    let file = ci_file();
    let top = file.as_mapping().unwrap();
    for key in ["stages", "workflow", "default", "variables", "include"] {
        assert!(!top.contains_key(key), "defines {key}");
    }
    for (name, when) in [
        ("patchew-report-success", "on_success"),
        ("patchew-report-failure", "on_failure"),
    ] {
        let job = &file[name];
        assert_eq!(job["stage"], ".post");
        assert!(job["image"]["name"]
            .as_str()
            .unwrap()
            .starts_with("curlimages/curl"));
        for key in ["before_script", "after_script", "dependencies", "cache"] {
            assert_eq!(
                job[key],
                serde_yaml::Value::Sequence(vec![]),
                "{name} {key}"
            );
        }
        assert_eq!(job["interruptible"], false);
        let rules = job["rules"].as_sequence().unwrap();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0]["when"], when);
        assert!(rules[0]["if"].as_str().unwrap().contains("/^patchew\\//"));
        assert!(
            job.get("when").is_none(),
            "GitLab refuses `when` next to `rules`"
        );
    }
    // Only the two jobs: anything else could clash with a project's names.
    assert_eq!(top.len(), 2);
}

#[test]
fn missing_configuration_fails_loudly() {
    let job = job("patchew-report-success");
    let out = Command::new("sh")
        .arg("-c")
        .arg(&job.script)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("CI_COMMIT_TAG", "patchew/a@b")
        .envs(job.variables.iter().cloned())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("PATCHEW_PROJECT_ID"));
}
