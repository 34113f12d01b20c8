//! GitLab's REST API (v4), read only: a tag's pipeline, its jobs and their logs, and
//! what `doctor` checks. Requests go through the HTTP client of [`crate::report::patchew`]; the
//! token travels in `PRIVATE-TOKEN` and never appears in an error or in output.

use serde::Deserialize;

use crate::http::{encode_component, HttpClient, HttpError, Token};

/// Pages of a job list followed at most: 100 jobs each, far beyond real pipelines.
const MAX_PAGES: u32 = 50;

#[derive(Debug, thiserror::Error)]
pub enum GitLabError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("GitLab's answer to {what} is not what its API documents: {reason}")]
    BadAnswer { what: String, reason: String },
}

impl GitLabError {
    pub fn status(&self) -> Option<u16> {
        match self {
            GitLabError::Http(e) => e.status(),
            GitLabError::BadAnswer { .. } => None,
        }
    }
}

/// A pipeline as GitLab lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Pipeline {
    pub id: u64,
    /// `created`, `waiting_for_resource`, `preparing`, `pending`, `running`,
    /// `success`, `failed`, `canceled`, `skipped`, `manual`, `scheduled`.
    pub status: String,
    #[serde(default)]
    pub web_url: String,
    #[serde(default)]
    pub sha: String,
}

/// A job of a pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Job {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub stage: String,
    /// As for pipelines, plus `manual` for a job waiting for someone to start it.
    pub status: String,
    #[serde(default)]
    pub allow_failure: bool,
    #[serde(default)]
    pub web_url: String,
    /// Why a failed job failed: `script_failure` (its own script), or the
    /// infrastructure's reason (`runner_system_failure`, `stuck_or_timeout_failure`...);
    /// `None` for a job that did not fail, or a GitLab that does not say.
    #[serde(default)]
    pub failure_reason: Option<String>,
}

#[cfg(test)]
impl Job {
    /// A job of stage `test` on the hub `https://hub`, for the report modules' tests.
    pub fn example(id: u64, name: &str, status: &str, allow_failure: bool) -> Job {
        Job {
            id,
            name: name.into(),
            stage: "test".into(),
            status: status.into(),
            allow_failure,
            web_url: format!("https://hub/-/jobs/{id}"),
            failure_reason: None,
        }
    }
}

/// One project on one GitLab instance, with a `read_api` token.
#[derive(Debug, Clone)]
pub struct GitLab {
    api: String,
    /// The project's number or its path (`group/name`), URL-encoded.
    project: String,
    token: Token,
    http: HttpClient,
}

impl GitLab {
    /// `url` is the instance (`https://gitlab.com`), `project` the ci-hub's path
    /// (`patchew/qemu`) or number.
    pub fn new(url: &str, project: &str, token: Token, http: HttpClient) -> Self {
        GitLab {
            api: format!("{}/api/v4", url.trim().trim_end_matches('/')),
            project: encode_component(project.trim().trim_matches('/')),
            token,
            http,
        }
    }

    /// This client with every request over within `left` (see [`HttpClient::within`]).
    pub fn within(&self, left: std::time::Duration) -> GitLab {
        GitLab {
            http: self.http.within(left),
            ..self.clone()
        }
    }

    /// The newest pipeline GitLab created for the tag, if any.
    pub fn tag_pipeline(&self, tag: &str) -> Result<Option<Pipeline>, GitLabError> {
        let tag = tag.strip_prefix("refs/tags/").unwrap_or(tag);
        let url = format!(
            "{}/pipelines?ref={}&order_by=id&sort=desc&per_page=1",
            self.project_url(),
            encode_component(tag)
        );
        let list: Vec<Pipeline> = self.get_json(&url, "the pipeline list")?;
        Ok(list.into_iter().next())
    }

    /// Every job of the pipeline, following `X-Next-Page`.
    pub fn jobs(&self, pipeline: u64) -> Result<Vec<Job>, GitLabError> {
        let mut jobs = Vec::new();
        let mut page = "1".to_owned();
        for _ in 0..MAX_PAGES {
            let url = format!(
                "{}/pipelines/{pipeline}/jobs?per_page=100&page={}",
                self.project_url(),
                encode_component(&page)
            );
            let response = self.http.get_with_private_token(&url, &self.token)?;
            let batch: Vec<Job> = parse(&response.body, "the job list")?;
            jobs.extend(batch);
            match response.header("x-next-page").map(str::trim) {
                Some(next) if !next.is_empty() => page = next.to_owned(),
                _ => break,
            }
        }
        Ok(jobs)
    }

    /// The job's log as GitLab stores it (colours and section markers included).
    pub fn trace(&self, job: u64) -> Result<Vec<u8>, GitLabError> {
        let url = format!("{}/jobs/{job}/trace", self.project_url());
        Ok(self.http.get_with_private_token(&url, &self.token)?.body)
    }

    /// The names of the project's CI/CD variables (needs a maintainer's token).
    pub fn variable_names(&self) -> Result<Vec<String>, GitLabError> {
        #[derive(Deserialize)]
        struct Variable {
            key: String,
        }
        let url = format!("{}/variables?per_page=100", self.project_url());
        let list: Vec<Variable> = self.get_json(&url, "the variable list")?;
        Ok(list.into_iter().map(|v| v.key).collect())
    }

    /// The project's web URL: proves the project exists and the token may read it.
    pub fn project_web_url(&self) -> Result<String, GitLabError> {
        #[derive(Deserialize)]
        struct Project {
            web_url: String,
        }
        let project: Project = self.get_json(&self.project_url(), "the project")?;
        Ok(project.web_url)
    }

    /// A file of any project on this instance, raw, at `reference` (none: the
    /// project's default branch): how GitLab reads an `include: project:`.
    pub fn project_file(
        &self,
        project: &str,
        path: &str,
        reference: Option<&str>,
    ) -> Result<Vec<u8>, GitLabError> {
        let mut url = format!(
            "{}/projects/{}/repository/files/{}/raw",
            self.api,
            encode_component(project.trim_matches('/')),
            encode_component(path.trim_start_matches('/'))
        );
        if let Some(r) = reference {
            url.push_str(&format!("?ref={}", encode_component(r)));
        }
        Ok(self.http.get_with_private_token(&url, &self.token)?.body)
    }

    /// One of GitLab's CI/CD templates by its key (`Jobs/SAST` for `include:
    /// template: Jobs/SAST.gitlab-ci.yml`), from the templates API.
    pub fn ci_template(&self, key: &str) -> Result<String, GitLabError> {
        #[derive(Deserialize)]
        struct Template {
            content: String,
        }
        let url = format!(
            "{}/templates/gitlab_ci_ymls/{}",
            self.api,
            encode_component(key)
        );
        let template: Template = self.get_json(&url, "the template")?;
        Ok(template.content)
    }

    fn project_url(&self) -> String {
        format!("{}/projects/{}", self.api, self.project)
    }

    fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        what: &str,
    ) -> Result<T, GitLabError> {
        let response = self.http.get_with_private_token(url, &self.token)?;
        parse(&response.body, what)
    }
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, GitLabError> {
    serde_json::from_slice(body).map_err(|e| GitLabError::BadAnswer {
        what: what.to_owned(),
        reason: e.to_string(),
    })
}
