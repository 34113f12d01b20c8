//! `git patchew push [TAG...]`: push tags to the ci-hub with the real `git push`, so
//! that git runs the pre-push hook.

use crate::config::Settings;
use crate::error::CmdError;
use crate::repo::Repo;
use crate::transport::{self, GitRun, Stream};

/// Pushes each tag (a name under the prefix, or a full `refs/tags/...`) to the
/// ci-hub remote; git's exit code and messages come back unchanged.
pub fn push_tags(
    repo: &Repo,
    tags: &[String],
    push_options: &[String],
    force: bool,
    stream: Stream,
) -> Result<GitRun, CmdError> {
    let settings = Settings::load(repo)?;
    let refspecs: Vec<String> = tags
        .iter()
        .map(|t| {
            let full = if t.starts_with("refs/tags/") {
                t.clone()
            } else {
                format!("refs/tags/{t}")
            };
            format!("{full}:{full}")
        })
        .collect();
    transport::push(
        repo.top_dir(),
        &settings.remote,
        &refspecs,
        push_options,
        force,
        stream,
    )
    .map_err(CmdError::from)
}

/// `git patchew push`'s command line.
#[derive(Debug, clap::Args)]
pub struct Cli {
    /// Tags to push (patchew/<id> or refs/tags/...)
    #[arg(required = true)]
    tags: Vec<String>,
    #[command(flatten)]
    push: PushOpts,
}

/// `-o`, shared with `apply --push`.
#[derive(Debug, clap::Args)]
pub struct PushOpts {
    /// Transmit this push option (e.g. ci.skip); may be repeated
    #[arg(short = 'o', long = "push-option", value_name = "OPTION")]
    pub push_options: Vec<String>,
}

/// The subcommand; returns `git push`'s exit code.
pub fn cli(repo: &Repo, cli: Cli, out: &crate::error::Output) -> Result<i32, CmdError> {
    for w in crate::ci::verdict::push_warnings(repo, &cli.tags, &cli.push.push_options) {
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
