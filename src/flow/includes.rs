//! The tag pipeline verdict's reader of includes outside the tree: `remote:` files by
//! an anonymous GET, `project:` files and `template:`s from the ci-hub's GitLab
//! (`patchew.gitlabUrl`, with its `read_api` token). The verdict code only sees the
//! plain-data [`Fetcher`]; HTTP stays in the http and gitlab modules.

use std::time::{Duration, Instant};

use super::clients::gitlab_client;
use crate::ci::pipeline::{Cached, External, FetchError, Fetcher};
use crate::config::Settings;
use crate::error::CmdError;
use crate::http::{is_local_target, same_origin, HttpClient, HttpError};
use crate::report::gitlab::{GitLab, GitLabError};

/// GitLab gives itself 30 s to resolve every include of a pipeline (DESIGN.md); a
/// run here waits no longer for all of them together.
const BUDGET: Duration = Duration::from_secs(30);

pub struct IncludeFetcher {
    /// For `remote:` files: follows no redirect (see [`IncludeFetcher::fetch`]).
    http: HttpClient,
    /// URLs whose hosts may be local: the ones the settings name.
    trusted: Vec<String>,
    /// The ci-hub's GitLab, or why `project:` and `template:` cannot be read.
    gitlab: Result<GitLab, FetchError>,
    /// When the last request must be over: [`BUDGET`] after the start, or the
    /// applier's deadline for the series if sooner.
    end: Instant,
}

/// A fetcher with the settings' timeouts and proxies, remembering every answer for
/// the rest of the run.
pub fn include_fetcher(settings: &Settings) -> Cached<IncludeFetcher> {
    let gitlab = match gitlab_client(settings) {
        Ok(Some(gitlab)) => Ok(gitlab),
        Ok(None) => Err(FetchError::new(IncludeError::NoGitLab)),
        Err(e) => Err(FetchError::new(IncludeError::GitLabSettings(e))),
    };
    let mut config = settings.http_config();
    config.max_redirects = 0;
    let trusted = [&settings.ci_include, &settings.gitlab_url]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    Cached::new(IncludeFetcher {
        http: HttpClient::new(config),
        trusted,
        gitlab,
        end: end_of_budget(Instant::now() + BUDGET, crate::interrupt::deadline()),
    })
}

fn end_of_budget(budget: Instant, deadline: Option<Instant>) -> Instant {
    deadline.map_or(budget, |d| d.min(budget))
}

impl IncludeFetcher {
    fn left(&self) -> Result<Duration, FetchError> {
        self.end
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
            .ok_or_else(|| FetchError::new(IncludeError::Spent))
    }

    fn gitlab(&self) -> Result<GitLab, FetchError> {
        let left = self.left()?;
        let gitlab = self.gitlab.clone()?;
        Ok(gitlab.within(left))
    }
}

impl Fetcher for IncludeFetcher {
    fn fetch(&self, include: &External) -> Result<Vec<u8>, FetchError> {
        match include {
            External::Remote { url } => {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(FetchError::new(IncludeError::NotHttp));
                }
                // A series names this URL, and the applier runs inside someone's
                // network: like GitLab, which by default refuses includes from local
                // networks, we do not fetch from this machine or a private network
                // (unless the settings name that host), nor follow a redirect, which
                // could lead there.
                let trusted = self.trusted.iter().any(|t| same_origin(t, url));
                if !trusted && is_local_target(url) {
                    return Err(FetchError::new(IncludeError::Local));
                }
                // Anonymous, as GitLab fetches it: no token goes to a stranger.
                let http = self.http.within(self.left()?);
                http.get(url)
                    .map(|r| r.body)
                    .map_err(|e| FetchError::new(IncludeError::Http(e)))
            }
            External::Project {
                project,
                file,
                reference,
            } => self
                .gitlab()?
                .project_file(project, file, reference.as_deref())
                .map_err(|e| FetchError::new(IncludeError::from(e))),
            External::Template { name } => self
                .gitlab()?
                .ci_template(External::template_key(name))
                .map(String::into_bytes)
                .map_err(|e| FetchError::new(IncludeError::from(e))),
        }
    }
}

/// Why an include outside the tree was not read, in the few words of a warning.
#[derive(Debug, thiserror::Error)]
pub enum IncludeError {
    #[error("not read: set patchew.gitlabUrl, patchew.ciProject and a GitLab token to read it")]
    NoGitLab,
    #[error("not read: {0}")]
    GitLabSettings(#[source] CmdError),
    #[error("not read: the time for includes is spent (at most {} s, as GitLab allows, and within the applier's deadline)", BUDGET.as_secs())]
    Spent,
    #[error("not an http(s) URL")]
    NotHttp,
    #[error("not fetched: a loopback or private address, which only the hosts of patchew.ciInclude and patchew.gitlabUrl may be")]
    Local,
    #[error("{}", http_reason(.0))]
    Http(#[source] HttpError),
    #[error("GitLab: {}", http_reason(.0))]
    GitLabHttp(#[source] HttpError),
    #[error(transparent)]
    GitLab(GitLabError),
}

impl From<GitLabError> for IncludeError {
    fn from(e: GitLabError) -> Self {
        match e {
            GitLabError::Http(e) => IncludeError::GitLabHttp(e),
            other => IncludeError::GitLab(other),
        }
    }
}

/// A short reason: the status alone for an answer (our error texts for 401/403 speak
/// of Patchew's token), else what failed.
fn http_reason(e: &HttpError) -> String {
    match e.status() {
        Some(status) => format!("HTTP {status}"),
        None => e.kind.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_applier_deadline_shortens_the_budget() {
        let now = Instant::now();
        let budget = now + BUDGET;
        assert_eq!(end_of_budget(budget, None), budget);
        let soon = now + Duration::from_secs(5);
        assert_eq!(end_of_budget(budget, Some(soon)), soon);
        let later = now + Duration::from_secs(600);
        assert_eq!(end_of_budget(budget, Some(later)), budget);
    }
}
