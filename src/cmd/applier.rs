//! `git patchew applier`: the unattended service (see `flow::applier`).

use std::time::Duration;

use crate::error::CmdError;
use crate::flow::applier::{run, Args};
use crate::output::Output;
use crate::repo::Repo;

/// `git patchew applier`'s command line.
#[derive(Debug, Clone, clap::Args)]
pub struct Cli {
    /// Handle at most one series, then exit (3 when the queue is empty)
    #[arg(long)]
    once: bool,
    /// Only series whose project pushes to a URL starting with this
    #[arg(long, value_name = "PREFIX")]
    target_repo: Option<String>,
    /// Seconds to wait when the queue is empty
    #[arg(long = "interval", value_name = "SECS", default_value = "60", value_parser = seconds)]
    interval: Duration,
    /// URL of the hosted patchew-ci.yml (default: git config patchew.ciInclude)
    #[arg(long, value_name = "URL")]
    ci_include: Option<String>,
}

fn seconds(value: &str) -> Result<Duration, std::num::ParseIntError> {
    value.parse().map(Duration::from_secs)
}

/// The subcommand; returns the service's exit code.
pub fn cli(repo: &Repo, cli: Cli, out: &Output) -> Result<i32, CmdError> {
    let args = Args {
        once: cli.once,
        target_repo: cli.target_repo,
        interval: cli.interval,
        ci_include: cli.ci_include,
    };
    run(repo, &args, out)
}
