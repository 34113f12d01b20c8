//! The clients of the two servers, from the settings: Patchew (`patchew.server` and its
//! token) and the ci-hub's GitLab project (`patchew.gitlabUrl`, `patchew.ciProject` and
//! a token: `PATCHEW_GITLAB_TOKEN`, else the file `patchew.gitlabTokenFile`).

use crate::config::Settings;
use crate::error::CmdError;
use crate::http::{lookup_token, HttpClient, Service, Token};
use crate::report::gitlab::GitLab;
use crate::report::patchew::Patchew;

/// `None` when nothing is configured; an error when only part of it is, so that a
/// typo does not silently turn the backstop's GitLab checks off.
pub fn gitlab_client(settings: &Settings) -> Result<Option<GitLab>, CmdError> {
    let token = gitlab_token(settings)?;
    match (&settings.gitlab_url, &settings.ci_project, token) {
        (None, None, None) => Ok(None),
        (Some(url), Some(project), Some(token)) => Ok(Some(GitLab::new(
            url,
            project,
            token,
            HttpClient::new(settings.http_config()),
        ))),
        (url, project, token) => {
            let missing: Vec<&str> = [
                (url.is_none(), "patchew.gitlabUrl"),
                (project.is_none(), "patchew.ciProject"),
                (
                    token.is_none(),
                    "a token (PATCHEW_GITLAB_TOKEN or patchew.gitlabTokenFile)",
                ),
            ]
            .into_iter()
            .filter_map(|(missing, name)| missing.then_some(name))
            .collect();
            Err(CmdError::BadInput(format!(
                "GitLab access is half configured: set {}",
                missing.join(" and ")
            )))
        }
    }
}

fn gitlab_token(settings: &Settings) -> Result<Option<Token>, CmdError> {
    let bad = |origin: &str| {
        CmdError::BadInput(format!(
            "the GitLab token from {origin} is empty or holds white space"
        ))
    };
    if let Some(value) = std::env::var("PATCHEW_GITLAB_TOKEN")
        .ok()
        .filter(|v| !v.is_empty())
    {
        return Token::new(Service::GitLab, &value, "PATCHEW_GITLAB_TOKEN")
            .map(Some)
            .map_err(|_| bad("PATCHEW_GITLAB_TOKEN"));
    }
    let Some(path) = &settings.gitlab_token_file else {
        return Ok(None);
    };
    let contents = std::fs::read_to_string(path).map_err(|e| {
        CmdError::BadInput(format!(
            "cannot read patchew.gitlabTokenFile {path}: {}",
            e.kind()
        ))
    })?;
    Token::new(Service::GitLab, &contents, path)
        .map(Some)
        .map_err(|_| bad(&format!("patchew.gitlabTokenFile {path}")))
}

/// The Patchew server of `patchew.server`, with the token every write needs.
pub fn patchew_client(settings: &Settings) -> Result<Patchew, CmdError> {
    let server = settings
        .server
        .as_deref()
        .ok_or_else(|| CmdError::BadInput("patchew.server is not set".into()))?;
    let token = lookup_token(server, settings.token.as_deref())?.ok_or_else(|| {
        CmdError::BadInput(
            "no Patchew token: set PATCHEW_TOKEN, git config patchew.token, or ~/.patchew.token"
                .into(),
        )
    })?;
    Ok(Patchew::new(
        server,
        Some(token),
        HttpClient::new(settings.http_config()),
    ))
}
