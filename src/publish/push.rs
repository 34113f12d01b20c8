//! Tags to the ci-hub with the real `git push`, so that git runs the pre-push hook.

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
