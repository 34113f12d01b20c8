//! The include in a series' tip, and the tag pipeline it will get: the CI stage of
//! `flow::apply`.

use bstr::ByteSlice;

use super::pipeline::{Fetcher, Pipeline};
use super::verdict as ci_check;
use super::{IncludeUrl, Injection, CI_FILE};
use crate::apply::commits;
use crate::config::Settings;
use crate::error::CmdError;
use crate::repo::{Oid, Person, Repo};

/// Gives `head` our CI include, in a commit of its own on top of the series: the
/// pre-push hook proves that the tagged commit is its parent plus the include and
/// nothing else, and the series' own commits stay the ones git am would make.
pub fn inject_ci(
    repo: &Repo,
    head: Oid,
    base: Oid,
    url: &IncludeUrl,
    committer: &Person,
    warnings: &mut Vec<String>,
) -> Result<Oid, CmdError> {
    if head == base {
        warnings.push("no commit was applied: the CI file of the base is left alone".into());
        return Ok(head);
    }
    let path = CI_FILE.as_bytes().as_bstr();
    let Some(old) = ci_file(repo, head)? else {
        warnings.push(format!(
            "no {CI_FILE} in the series' tree: nothing injected (GitLab runs no pipeline whose only jobs are in .post)"
        ));
        return Ok(head);
    };
    // Already there (from the base, another series' tag): the commit of our own is
    // empty, so that the tagged commit is still its parent plus the include.
    let (new, what) = match super::inject(&old, url)? {
        Injection::AlreadyPresent => (old, "Keeps"),
        Injection::Injected(new) => (new, "Adds"),
    };
    let message = format!(
        "patchew: report this pipeline to Patchew\n\n{what} the include of {}.\n",
        url.as_str()
    );
    Ok(commits::commit_file(
        repo, head, path, &new, committer, &message,
    )?)
}

/// The tag pipeline of `head` on the ci-hub, its warnings added to `warnings` when a
/// tag is made (without one there is no tag pipeline to warn about; `--json` still
/// has the prediction). A series whose CI files define a job named like our report
/// jobs is refused when the include was injected: that job would replace ours.
/// `fetcher` reads the includes outside the tree, where the caller may go online.
#[allow(clippy::too_many_arguments)]
pub fn predict_pipeline(
    repo: &Repo,
    settings: &Settings,
    head: Oid,
    tag: Option<&str>,
    push_options: &[String],
    injected: Option<&IncludeUrl>,
    fetcher: Option<&dyn Fetcher>,
    warnings: &mut Vec<String>,
) -> Result<Option<Pipeline>, CmdError> {
    let tagged = tag.is_some();
    let tag = match tag {
        Some(t) => t.trim_start_matches("refs/tags/").to_owned(),
        None => format!("{}/untagged", settings.tag_prefix),
    };
    let mut hub = ci_check::hub(repo, settings, &tag, push_options, &[])?;
    // The include just injected (`--ci-include` or the setting) is our report jobs.
    if let Some(url) = injected {
        hub.own_include = Some(url.as_str().to_owned());
    }
    let prediction = match ci_check::predict_with(repo, head, &hub, fetcher) {
        Ok(p) => p,
        Err(e) => {
            if tagged {
                warnings.push(format!("tag pipeline: unknown: {e}"));
            }
            return Ok(None);
        }
    };
    if injected.is_some() {
        ci_check::refuse_reserved(&prediction)?;
    }
    if tagged {
        warnings.extend(prediction.warnings());
    }
    Ok(Some(prediction.pipeline))
}

fn ci_file(repo: &Repo, commit: Oid) -> Result<Option<Vec<u8>>, CmdError> {
    Ok(repo.read_file(commit, CI_FILE.as_bytes().as_bstr())?)
}
