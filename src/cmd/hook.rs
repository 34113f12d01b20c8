//! `git patchew hook <HOOK>`: the entry points of the hooks git runs.

use crate::error::CmdError;
use crate::publish::pre_push::pre_push;
use crate::repo::Repo;

/// `git patchew hook <HOOK>`: the hooks git runs.
#[derive(Debug, clap::Subcommand)]
pub enum Cli {
    /// githooks(5) pre-push: ref lines on stdin
    PrePush {
        remote_name: String,
        remote_url: String,
    },
}

/// The subcommand; returns the exit code for git.
pub fn cli(repo: &Repo, cli: Cli) -> Result<i32, CmdError> {
    match cli {
        Cli::PrePush {
            remote_name,
            remote_url,
        } => Ok(pre_push(repo, &remote_name, &remote_url)?.clamp(0, 255)),
    }
}
