//! Why GitLab may create no tag pipeline for a commit, from its `.gitlab-ci.yml`:
//! the one place the backstop and `doctor` ask. The CI verdict of issue #14 (src/ci/)
//! replaces `pipeline_warnings` here when it lands.

use crate::repo::{Oid, Repo};

/// One sentence per reason; empty when the file shows none (or cannot be read).
pub fn tag_pipeline_problems(repo: &Repo, commit: Oid) -> Vec<String> {
    match repo.read_file(commit, ".gitlab-ci.yml".into()) {
        Ok(Some(file)) => crate::ci::pipeline_warnings(&file),
        Ok(None) => vec!["there is no .gitlab-ci.yml".into()],
        Err(_) => Vec::new(),
    }
}
