//! A small GitLab REST API (v4) on a [`StandIn`]: one project, its pipelines, their
//! jobs and traces, answering only what the report jobs and the applier ask:
//!
//! - `GET /api/v4/projects/:id/pipelines?ref=<ref>`: the pipelines of a ref, newest first;
//! - `GET /api/v4/projects/:id/pipelines/:pid/jobs`: its jobs, paginated by the
//!   stand-in's own page size (small, so that clients must follow `X-Next-Page`);
//! - `GET /api/v4/projects/:id/jobs/:job/trace`: the job's log;
//! - `GET /api/v4/projects/:id` and `.../variables` (names only), for `doctor`;
//! - `GET /api/v4/projects/:id/repository/files/:path/raw?ref=<ref>`: a file of any
//!   project the test serves (an `include: project:`), the default branch without `ref`;
//! - `GET /api/v4/templates/gitlab_ci_ymls/:key`: a CI template as `{name, content}`.
//!
//! A failed job carries GitLab's `failure_reason`: `script_failure` unless the test set
//! another with [`FakeGitLab::fail_with`] (`runner_system_failure`...).
//!
//! `:id` is the project's number or its URL-encoded path (`group%2Fname`), as GitLab
//! takes both. Every request needs `PRIVATE-TOKEN: <token>` (401 otherwise). The jobs
//! come from a closure called at request time, so a test can serve what a runner
//! (gitlab-ci-local) has run so far.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::{Recorded, Reply, StandIn};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: u64,
    pub name: String,
    pub stage: String,
    /// GitLab's job status: `success`, `failed`, `canceled`, `manual`, `running`...
    pub status: String,
    pub allow_failure: bool,
    pub trace: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    pub id: u64,
    pub git_ref: String,
    pub sha: String,
    /// GitLab's pipeline status: `success`, `failed`, `canceled`, `manual`, `running`...
    pub status: String,
}

/// (project path, file path, ref; `None`: the default branch) and content.
type ProjectFile = (String, String, Option<String>, Vec<u8>);

type Jobs = Arc<dyn Fn(u64) -> Vec<Job> + Send + Sync>;

/// Cheap to clone: clones share the state.
#[derive(Clone)]
pub struct FakeGitLab {
    url: String,
    pub project_id: u64,
    pub project_path: String,
    pipelines: Arc<Mutex<Vec<Pipeline>>>,
    jobs: Arc<Mutex<Jobs>>,
    /// Names of the project's CI/CD variables; `None`: listing them is forbidden (403).
    variables: Arc<Mutex<Option<Vec<String>>>>,
    files: Arc<Mutex<Vec<ProjectFile>>>,
    templates: Arc<Mutex<Vec<(String, String)>>>,
    /// `failure_reason` of failed jobs, by job id; `script_failure` when absent.
    failure_reasons: Arc<Mutex<HashMap<u64, String>>>,
}

/// Jobs per page, whatever `per_page` asks.
pub const PAGE_SIZE: usize = 2;

impl FakeGitLab {
    pub fn install(server: &StandIn, token: &str) -> Self {
        let fake = FakeGitLab {
            url: server.url(),
            project_id: 77,
            project_path: "ci/hub".into(),
            pipelines: Arc::default(),
            jobs: Arc::new(Mutex::new(Arc::new(|_| Vec::new()))),
            variables: Arc::new(Mutex::new(Some(Vec::new()))),
            files: Arc::default(),
            templates: Arc::default(),
            failure_reasons: Arc::default(),
        };
        let (handler, token) = (fake.clone(), token.to_owned());
        server.handle(move |request| handler.answer(request, &token));
        fake
    }

    /// What `CI_API_V4_URL` says.
    pub fn api_url(&self) -> String {
        format!("{}/api/v4", self.url)
    }

    pub fn project_web_url(&self) -> String {
        format!("{}/{}", self.url, self.project_path)
    }

    pub fn set_variables(&self, names: Option<&[&str]>) {
        *self.variables.lock().unwrap() = names.map(|n| n.iter().map(|v| v.to_string()).collect());
    }

    pub fn add_pipeline(&self, pipeline: Pipeline) {
        self.pipelines.lock().unwrap().push(pipeline);
    }

    /// A file of project `project` (its path) at `git_ref` (`None`: the default branch).
    pub fn serve_file(&self, project: &str, path: &str, git_ref: Option<&str>, content: &str) {
        self.files.lock().unwrap().push((
            project.to_owned(),
            path.to_owned(),
            git_ref.map(str::to_owned),
            content.as_bytes().to_vec(),
        ));
    }

    /// A CI/CD template, by its key (`Jobs/Build` for `Jobs/Build.gitlab-ci.yml`).
    pub fn serve_template(&self, key: &str, content: &str) {
        self.templates
            .lock()
            .unwrap()
            .push((key.to_owned(), content.to_owned()));
    }

    /// `GET .../templates/gitlab_ci_ymls/:key` and `.../repository/files/:path/raw`.
    fn answer_files(&self, request: &Recorded) -> Option<Reply> {
        let path = request.path();
        if let Some(key) = path.strip_prefix("/api/v4/templates/gitlab_ci_ymls/") {
            let key = super::patchew::percent_decode(key);
            let templates = self.templates.lock().unwrap();
            return Some(match templates.iter().find(|(k, _)| *k == key) {
                Some((k, content)) => {
                    Reply::json(200, &json!({"name": k, "content": content}).to_string())
                }
                // GitLab's `not_found!("gitlab_ci_yml")` (lib/api/templates.rb).
                None => Reply::json(404, r#"{"message":"404 Gitlab Ci Yml Not Found"}"#),
            });
        }
        let rest = path.strip_prefix("/api/v4/projects/")?;
        let (project, rest) = rest.split_once('/')?;
        let file = rest
            .strip_prefix("repository/files/")?
            .strip_suffix("/raw")?;
        let (project, file) = (
            super::patchew::percent_decode(project),
            super::patchew::percent_decode(file),
        );
        let wanted = query(request, "ref");
        let files = self.files.lock().unwrap();
        if !files.iter().any(|(p, ..)| *p == project) {
            return Some(Reply::json(404, r#"{"message":"404 Project Not Found"}"#));
        }
        Some(
            match files
                .iter()
                .find(|(p, f, r, _)| *p == project && *f == file && *r == wanted)
            {
                Some((.., content)) => Reply::ok(content.clone()),
                None => Reply::json(404, r#"{"message":"404 File Not Found"}"#),
            },
        )
    }

    /// The jobs of a pipeline (by id), computed when asked.
    pub fn serve_jobs(&self, jobs: impl Fn(u64) -> Vec<Job> + Send + Sync + 'static) {
        *self.jobs.lock().unwrap() = Arc::new(jobs);
    }

    /// GitLab's `failure_reason` for job `id` when it fails (e.g.
    /// `runner_system_failure`: the runner, not the job's script, failed).
    pub fn fail_with(&self, id: u64, reason: &str) {
        self.failure_reasons
            .lock()
            .unwrap()
            .insert(id, reason.to_owned());
    }

    fn job_json(&self, job: &Job, pipeline: u64) -> Value {
        let mut value = json!({
            "id": job.id,
            "name": job.name,
            "stage": job.stage,
            "status": job.status,
            "allow_failure": job.allow_failure,
            "web_url": format!("{}/-/jobs/{}", self.project_web_url(), job.id),
            "pipeline": {"id": pipeline},
        });
        // GitLab names a reason for failed jobs only.
        if job.status == "failed" {
            let reasons = self.failure_reasons.lock().unwrap();
            let reason = reasons
                .get(&job.id)
                .map_or("script_failure", String::as_str);
            value["failure_reason"] = json!(reason);
        }
        value
    }

    fn answer(&self, request: &Recorded, token: &str) -> Option<Reply> {
        if !request.path().starts_with("/api/v4/") {
            return None;
        }
        if request.header("PRIVATE-TOKEN") != Some(token) {
            return Some(Reply::json(401, r#"{"message":"401 Unauthorized"}"#));
        }
        if let Some(reply) = self.answer_files(request) {
            return Some(reply);
        }
        let rest = request.path().strip_prefix("/api/v4/projects/")?;
        let (project, rest) = rest.split_once('/').unwrap_or((rest, ""));
        let ours = [
            self.project_id.to_string(),
            self.project_path.replace('/', "%2F"),
        ];
        if !ours.iter().any(|p| p.eq_ignore_ascii_case(project)) {
            return Some(Reply::json(404, r#"{"message":"404 Project Not Found"}"#));
        }
        let parts: Vec<&str> = rest.split('/').collect();
        let jobs = self.jobs.lock().unwrap().clone();
        match parts.as_slice() {
            [""] => Some(Reply::json(
                200,
                &json!({"id": self.project_id, "path_with_namespace": self.project_path,
                        "web_url": self.project_web_url()})
                .to_string(),
            )),
            ["variables"] => Some(match &*self.variables.lock().unwrap() {
                None => Reply::json(403, r#"{"message":"403 Forbidden"}"#),
                Some(names) => {
                    let list: Vec<Value> = names
                        .iter()
                        .map(|k| json!({"key": k, "value": "(hidden)", "masked": true}))
                        .collect();
                    Reply::json(200, &Value::Array(list).to_string())
                }
            }),
            ["pipelines"] => {
                let wanted = query(request, "ref");
                let mut list: Vec<Value> = self
                    .pipelines
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|p| wanted.as_ref().is_none_or(|r| r == &p.git_ref))
                    .map(|p| {
                        json!({
                            "id": p.id, "ref": p.git_ref, "sha": p.sha, "status": p.status,
                            "web_url": format!("{}/-/pipelines/{}", self.project_web_url(), p.id),
                        })
                    })
                    .collect();
                list.reverse();
                Some(Reply::json(200, &Value::Array(list).to_string()))
            }
            ["pipelines", id, "jobs"] => {
                let id: u64 = id.parse().ok()?;
                let all: Vec<Value> = jobs(id).iter().map(|j| self.job_json(j, id)).collect();
                let page: usize = query(request, "page")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(1)
                    .max(1);
                let start = (page - 1) * PAGE_SIZE;
                let chunk: Vec<Value> = all.iter().skip(start).take(PAGE_SIZE).cloned().collect();
                let next = if start + PAGE_SIZE < all.len() {
                    (page + 1).to_string()
                } else {
                    String::new()
                };
                Some(
                    Reply::json(200, &Value::Array(chunk).to_string())
                        .header("X-Next-Page", &next)
                        .header("X-Total", &all.len().to_string()),
                )
            }
            ["jobs", id, "trace"] => {
                let id: u64 = id.parse().ok()?;
                let pipelines: Vec<u64> = self
                    .pipelines
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|p| p.id)
                    .collect();
                let found = pipelines
                    .iter()
                    .flat_map(|p| jobs(*p))
                    .find(|j| j.id == id)?;
                Some(Reply::ok(found.trace).header("Content-Type", "text/plain"))
            }
            _ => None,
        }
    }
}

fn query(request: &Recorded, name: &str) -> Option<String> {
    let (_, q) = request.target.split_once('?')?;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| super::patchew::percent_decode(v))
    })
}

/// The jobs gitlab-ci-local has run so far in checkout `dir`, as GitLab would list
/// them: a job is listed once it has started (its log exists under
/// `.gitlab-ci-local/output/`); it is running until the runner prints `<job> finished
/// in ...` (in one of the `progress` files: its stdout and stderr), failed when that
/// line ends in `FAIL` or `WARN` (an allowed failure), else successful; its stage and
/// `allow_failure` come from the runner's expanded configuration, its trace is its log.
pub fn jobs_of_gitlab_ci_local(dir: &Path, progress: &[PathBuf]) -> Vec<Job> {
    let state = dir.join(".gitlab-ci-local");
    let Ok(expanded) = std::fs::read(state.join("expanded-gitlab-ci.yml")) else {
        return Vec::new();
    };
    let config: serde_yaml::Value = serde_yaml::from_slice(&expanded).unwrap();
    // It prints a failed job's verdict on stderr, the rest on stdout.
    let progress: String = progress
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap_or_default())
        .collect();
    let mut jobs = Vec::new();
    for (i, (name, def)) in config.as_mapping().unwrap().iter().enumerate() {
        let Some(name) = name.as_str() else { continue };
        let Ok(trace) = std::fs::read(state.join("output").join(format!("{name}.log"))) else {
            continue;
        };
        let finished = progress.lines().find(|l| {
            let mut words = l.split_whitespace();
            words.next() == Some(name) && words.next() == Some("finished")
        });
        let status = match finished {
            None => "running",
            Some(l) if l.contains(" FAIL") || l.contains(" WARN") => "failed",
            Some(_) => "success",
        };
        jobs.push(Job {
            id: 1 + i as u64,
            name: name.to_owned(),
            stage: def["stage"].as_str().unwrap_or("test").to_owned(),
            status: status.to_owned(),
            allow_failure: def["allow_failure"].as_bool().unwrap_or(false),
            trace,
        });
    }
    jobs
}
