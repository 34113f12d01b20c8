//! `git patchew retest <msgid>`: runs a series' GitLab pipeline again (see
//! [`crate::retest`]).

use super::CmdError;
use crate::config::Settings;
use crate::msgid::MessageId;
use crate::repo::Repo;
use crate::retest::{retest, Request, RetestError};

/// `git patchew retest`'s command line.
#[derive(Debug, clap::Args)]
pub struct Cli {
    /// Message-id of the series
    msgid: String,
    /// The ci-hub remote (default: git config patchew.remote, else ci-hub)
    #[arg(long, value_name = "REMOTE")]
    remote: Option<String>,
}

pub fn cli(repo: &Repo, cli: Cli, out: &super::Output) -> Result<(), CmdError> {
    let settings = Settings::load(repo)?;
    let id = MessageId::parse(&cli.msgid).map_err(|e| CmdError::BadInput(e.to_string()))?;
    let tag = crate::tag::ref_name(&id, &settings.tag_prefix);
    // A tag that is not here is the first thing to say, before any request.
    if repo.try_resolve_commit(&tag).is_none() {
        return Err(CmdError::BadInput(RetestError::NoTag { tag }.to_string()));
    }
    let patchew = super::patchew_client(&settings)?;
    let project_id = match settings.project_id {
        Some(id) => id,
        None => super::doctor_fix::project_id(&patchew, &settings)?,
    };
    let remote = cli.remote.unwrap_or_else(|| settings.remote.clone());
    let request = Request {
        id: &id,
        tag: &tag,
        remote: &remote,
        project_id,
    };
    let done = retest(repo, &patchew, &request).map_err(|e| match e {
        RetestError::Transport(t) => CmdError::Transport(t),
        RetestError::Patchew { source, .. } => CmdError::Http(source),
        other => CmdError::Network(other.to_string()),
    })?;
    for line in done.output.lines() {
        out.info(line);
    }
    let absent = if done.was_absent {
        " (it was not on the ci-hub)"
    } else {
        ""
    };
    println!(
        "{}",
        super::printable(&format!(
            "pushed {tag} ({}) again to {remote}{absent}: testing.gitlab is pending until the new pipeline reports",
            done.head
        ))
    );
    Ok(())
}
