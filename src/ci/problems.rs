//! Why GitLab may create no tag pipeline for a commit, or stop it before the report:
//! the one place the backstop and `doctor` ask. It is the tag pipeline verdict of
//! `ci-check` (src/ci/pipeline), with the ci-hub's settings and no push options.

use super::pipeline::Fetcher;
use super::verdict as ci_check;
use crate::config::Settings;
use crate::error::CmdError;
use crate::repo::{Oid, Repo};

/// One sentence per reason; empty when the report jobs will run. `fetcher` reads the
/// includes outside the tree, where the caller may go online.
pub fn tag_pipeline_problems(
    repo: &Repo,
    commit: Oid,
    fetcher: Option<&dyn Fetcher>,
) -> Vec<String> {
    let warnings = Settings::load(repo)
        .map_err(CmdError::from)
        .and_then(|settings| {
            // The verdict only needs a tag name of our namespace, not the real one.
            let tag = format!("{}/ci-check", settings.tag_prefix);
            ci_check::verdict_warnings_with(repo, &settings, &tag, commit, &[], fetcher)
        });
    warnings.unwrap_or_else(|e| vec![e.to_string()])
}
