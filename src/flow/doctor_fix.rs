//! `git patchew doctor --fix`: sets up the Patchew side with a maintainer's token.
//! It reads the project's whole configuration, enables the `gitlab` test and
//! installs the mail notification (see [`crate::report::patchew_config`]), and writes the
//! configuration back (`PUT` replaces all of it), printing what changed.

use serde_json::value::RawValue;

use crate::config::Settings;
use crate::error::CmdError;
use crate::http::HttpError;
use crate::repo::Repo;
use crate::report::notify::{self, MailOptions};
use crate::report::patchew::{find_project, Patchew};
use crate::report::patchew_config;

/// What `--fix` was asked.
#[derive(Debug, Clone, Default)]
pub struct FixArgs {
    pub dry_run: bool,
    /// Overrides `patchew.adminEmail`.
    pub admin_email: Option<String>,
    /// Or `patchew.mailSuccess`.
    pub mail_success: bool,
}

/// The sentence for a token that may not touch the configuration.
const NOT_MAINTAINER: &str = "only a maintainer of the project may read and write its configuration: use the token of a project maintainer (the admin's own PATCHEW_TOKEN, not the testers' user of the pipelines)";

/// Prints what changed (or would), returns doctor's exit code: 0 done or nothing to
/// do, 1 when Patchew refused.
pub fn run(repo: &Repo, args: &FixArgs) -> Result<i32, CmdError> {
    let settings = Settings::load(repo)?;
    let patchew = super::clients::patchew_client(&settings)?;
    let options = mail_options(repo, &settings, args)?;
    let server = patchew.server_url().to_owned();
    let id = match settings.project_id {
        Some(id) => id,
        None => project_id(&patchew, &settings)?,
    };
    let url = format!("{server}/api/v1/projects/{id}/config/");
    let current = match patchew.get_text_as_user(&url) {
        Ok(text) => text,
        Err(e) => return refused(e, "read"),
    };
    let plan = patchew_config::plan(&current, &notify::notification(&options))
        .map_err(|e| CmdError::BadInput(format!("project {id}: {e}")))?;
    if plan.changes.is_empty() {
        crate::outln!("nothing to change: the gitlab test is enabled and the notification is installed (project {id})");
        return Ok(0);
    }
    let verb = if args.dry_run {
        "would change"
    } else {
        "changed"
    };
    if !args.dry_run {
        let body = RawValue::from_string(plan.config).expect("the plan is valid JSON");
        if let Err(e) = patchew.put_json(&url, &body) {
            return refused(e, "write");
        }
    }
    for change in &plan.changes {
        crate::outln!("{}", crate::output::printable(&format!("{verb} {change}")));
    }
    Ok(0)
}

/// One line for a refusal; other errors are the usual ones.
fn refused(e: HttpError, what: &str) -> Result<i32, CmdError> {
    match e.status() {
        Some(403) => {
            crate::errln!("error: Patchew refused to {what} the project's configuration (HTTP 403): {NOT_MAINTAINER}");
            Ok(1)
        }
        Some(401) => {
            crate::errln!("error: Patchew refuses the token (HTTP 401): check PATCHEW_TOKEN, patchew.token or ~/.patchew.token");
            Ok(1)
        }
        _ => Err(CmdError::Http(e)),
    }
}

fn mail_options(repo: &Repo, s: &Settings, args: &FixArgs) -> Result<MailOptions, CmdError> {
    let from_config = crate::config::MAIL_SUCCESS.load(repo)?;
    let options = MailOptions {
        server_url: s.server.clone().unwrap_or_default(),
        admin_email: args
            .admin_email
            .clone()
            .or(crate::config::ADMIN_EMAIL.load(repo)?)
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty()),
        mail_success: args.mail_success || from_config,
    };
    options
        .check()
        .map_err(|e| CmdError::BadInput(e.to_string()))?;
    Ok(options)
}

/// The project's number from Patchew's list, by `patchew.project`: the last
/// component of each project's `resource_uri` (project objects have no `id`).
pub(crate) fn project_id(patchew: &Patchew, s: &Settings) -> Result<u64, CmdError> {
    let name = s.project.as_deref().ok_or_else(|| {
        CmdError::BadInput(
            "set patchew.project (or patchew.projectId) to the Patchew project".into(),
        )
    })?;
    let url = format!("{}/api/v1/projects/?limit=500", patchew.server_url());
    let listed = patchew.get_json_as_user(&url)?;
    find_project(&listed, None, Some(name))
        .map(|(id, _)| id)
        .ok_or_else(|| {
            CmdError::BadInput(format!("no project {name:?} on {}", patchew.server_url()))
        })
}
