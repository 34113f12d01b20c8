//! The tag pipeline GitLab would run for a commit on the ci-hub: where `ci-check`,
//! `apply`, the applier and the hook get the ci-hub's variables from, so that all of
//! them say the same.

use crate::ci::pipeline::{self, Fetcher, Hub, Prediction};
use crate::config::Settings;
use crate::error::CmdError;
use crate::repo::{Oid, Repo};

/// What the ci-hub sets for a push of `tag`: `patchew.ciProject` (else the ci-hub
/// remote's URL), `patchew.ciVariables`, the push options, then `extra`.
pub fn hub(
    repo: &Repo,
    settings: &Settings,
    tag: &str,
    push_options: &[String],
    extra: &[(String, String)],
) -> Result<Hub, CmdError> {
    let mut hub = Hub {
        tag: tag.to_owned(),
        project: settings.ci_project.clone().or_else(|| {
            repo.remote_url(&settings.remote)
                .and_then(|u| project_path(&u))
        }),
        own_include: settings.ci_include.clone(),
        ..Hub::default()
    };
    if let Some(text) = &settings.ci_variables {
        hub.variables = Hub::parse_assignments(text)
            .map_err(|e| CmdError::setting("patchew.ciVariables", e))?;
    }
    hub.add_push_options(push_options);
    hub.variables.extend(extra.iter().cloned());
    if let Some((_, t)) = hub
        .variables
        .iter()
        .rev()
        .find(|(n, _)| n == "CI_COMMIT_TAG")
    {
        hub.tag = t.clone();
    }
    Ok(hub)
}

/// `namespace/name` from `https://host/namespace/name.git`, `git@host:ns/name.git`...
pub fn project_path(url: &str) -> Option<String> {
    let path = match url.split_once("://") {
        Some((_, rest)) => rest.split_once('/')?.1,
        None => url.split_once(':')?.1,
    };
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    path.contains('/').then(|| path.to_owned())
}

pub fn predict(repo: &Repo, commit: Oid, hub: &Hub) -> Result<Prediction, CmdError> {
    predict_with(repo, commit, hub, None)
}

/// [`predict`], reading includes outside the tree with `fetcher`.
pub fn predict_with(
    repo: &Repo,
    commit: Oid,
    hub: &Hub,
    fetcher: Option<&dyn Fetcher>,
) -> Result<Prediction, CmdError> {
    let tree = repo.commit_tree(commit)?;
    Ok(pipeline::predict_with(&tree, hub, fetcher)?)
}

/// What `apply` would warn about the tag pipeline of `commit` pushed as `tag` with
/// these options: empty when the report jobs will run. The one computation behind
/// `push`'s and the hook's warnings and the backstop's and `doctor`'s reasons.
pub fn verdict_warnings(
    repo: &Repo,
    settings: &Settings,
    tag: &str,
    commit: Oid,
    push_options: &[String],
) -> Result<Vec<String>, CmdError> {
    verdict_warnings_with(repo, settings, tag, commit, push_options, None)
}

/// [`verdict_warnings`], reading includes outside the tree with `fetcher`.
pub fn verdict_warnings_with(
    repo: &Repo,
    settings: &Settings,
    tag: &str,
    commit: Oid,
    push_options: &[String],
    fetcher: Option<&dyn Fetcher>,
) -> Result<Vec<String>, CmdError> {
    let hub = hub(repo, settings, tag, push_options, &[])?;
    Ok(predict_with(repo, commit, &hub, fetcher)?.warnings())
}

/// For `git patchew push`: what the ci-hub will make of each tag pushed with these
/// options, when it is not "report jobs will run". A tag that cannot be read is
/// left to git and the hook.
pub fn push_warnings(repo: &Repo, tags: &[String], push_options: &[String]) -> Vec<String> {
    // A config error is reported by the push itself; no verdict then.
    let Ok(settings) = Settings::load(repo) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for tag in tags {
        let short = tag.strip_prefix("refs/tags/").unwrap_or(tag);
        let Some(commit) = repo.try_resolve_commit(&format!("refs/tags/{short}")) else {
            continue;
        };
        if let Ok(warnings) = verdict_warnings(repo, &settings, short, commit, push_options) {
            out.extend(warnings.into_iter().map(|w| format!("{short}: {w}")));
        }
    }
    out
}

/// A job of the series named like ours would replace our report job: refused, exit 2.
pub fn refuse_reserved(prediction: &Prediction) -> Result<(), CmdError> {
    match prediction.reserved_problem() {
        Some(problem) => Err(CmdError::BadInput(problem)),
        None => Ok(()),
    }
}

/// GitLab reads the CI files of the commit's tree.
impl pipeline::Tree for crate::repo::CommitTree<'_> {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, crate::repo::RepoError> {
        crate::repo::CommitTree::read(self, path)
    }

    fn paths(&self) -> Result<Vec<String>, crate::repo::RepoError> {
        crate::repo::CommitTree::paths(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_paths_from_urls() {
        assert_eq!(
            project_path("https://u:p@gitlab.com/patchew/qemu.git").as_deref(),
            Some("patchew/qemu")
        );
        assert_eq!(
            project_path("git@gitlab.com:group/sub/qemu.git").as_deref(),
            Some("group/sub/qemu")
        );
        assert_eq!(project_path("/srv/hub.git"), None);
    }
}
