//! `git patchew retest <msgid>`: runs a series' GitLab pipeline again (see
//! [`crate::flow::retest`]).

use crate::config::Settings;
use crate::error::CmdError;
use crate::flow::retest::{retest, Request, RetestError};
use crate::input::msgid::MessageId;
use crate::output::{printable, Output};
use crate::repo::Repo;

/// `git patchew retest`'s command line.
#[derive(Debug, clap::Args)]
pub struct Cli {
    /// Message-id of the series
    msgid: String,
    /// The ci-hub remote (default: git config patchew.remote, else ci-hub)
    #[arg(long, value_name = "REMOTE")]
    remote: Option<String>,
}

pub fn cli(repo: &Repo, cli: Cli, out: &Output) -> Result<(), CmdError> {
    let settings = Settings::load(repo)?;
    let id = MessageId::parse(&cli.msgid)?;
    let tag = crate::publish::tag::ref_name(&id, &settings.tag_prefix);
    // A tag that is not here is the first thing to say, before any request.
    if repo.try_resolve_commit(&tag).is_none() {
        return Err(CmdError::BadInput(RetestError::NoTag { tag }.to_string()));
    }
    let patchew = crate::flow::clients::patchew_client(&settings)?;
    let project_id = match settings.project_id {
        Some(id) => id,
        None => crate::flow::doctor_fix::project_id(&patchew, &settings)?,
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
    crate::outln!(
        "{}",
        printable(&format!(
            "pushed {tag} ({}) again to {remote}{absent}: testing.gitlab is pending until the new pipeline reports",
            done.head
        ))
    );
    Ok(())
}
