//! `git patchew push [TAG...]`: push tags to the ci-hub with the real `git push`, so
//! that git runs the pre-push hook.

use crate::ci::verdict::push_warnings;
use crate::error::CmdError;
use crate::output::Output;
use crate::publish::push::push_tags;
use crate::repo::Repo;
use crate::transport::Stream;

/// `git patchew push`'s command line.
#[derive(Debug, clap::Args)]
pub struct Cli {
    /// Tags to push (patchew/<id> or refs/tags/...)
    #[arg(required = true)]
    tags: Vec<String>,
    #[command(flatten)]
    push: super::PushOpts,
}

/// The subcommand; returns `git push`'s exit code.
pub fn cli(repo: &Repo, cli: Cli, out: &Output) -> Result<i32, CmdError> {
    for w in push_warnings(repo, &cli.tags, &cli.push.push_options) {
        out.warn(&w);
    }
    let run = push_tags(
        repo,
        &cli.tags,
        &cli.push.push_options,
        false,
        Stream::Inherit,
    )?;
    Ok(run.exit_code())
}
