//! A series based on several series: its base is the merge of theirs.
//!
//! The bases are merged in the order their `Based-on:` lines are written, each into
//! the merge of those before it, as `git merge` of each tag in turn does; every step
//! is a merge commit whose message names the bases merged so far. Only objects are
//! written: a conflict leaves nothing but unreachable objects behind.

use crate::input::msgid::MessageId;
use crate::repo::{Oid, Person, Repo, RepoError, TreeMerge};

/// One base: the series named by a `Based-on:` line, and its tip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    pub id: MessageId,
    pub commit: Oid,
}

#[derive(Debug, thiserror::Error)]
pub enum BaseError {
    #[error("the series is based on {}, but {} exist neither here nor on {remote} (not applied yet?)", ids(.bases), .missing_tags.join(", "))]
    Missing {
        bases: Vec<MessageId>,
        /// The tags of the bases that are missing.
        missing_tags: Vec<String>,
        remote: String,
    },
    #[error("the series is based on {}: merging <{}> into the bases before it conflicts in {}", ids(.merged), .conflicting, .paths.join(", "))]
    Conflict {
        /// The bases merged, the conflicting one last.
        merged: Vec<MessageId>,
        conflicting: MessageId,
        paths: Vec<String>,
    },
    #[error("the series is based on {}: {source}", ids(.bases))]
    Repo {
        bases: Vec<MessageId>,
        source: RepoError,
    },
}

fn ids(ids: &[MessageId]) -> String {
    ids.iter()
        .map(|i| format!("<{i}>"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The merge commit of `first` and `rest` (in line order), committed by
/// `committer`; `first` itself when `rest` is empty.
pub fn merge(
    repo: &Repo,
    first: &Base,
    rest: &[Base],
    committer: &Person,
) -> Result<Oid, BaseError> {
    let all: Vec<MessageId> = std::iter::once(first)
        .chain(rest)
        .map(|b| b.id.clone())
        .collect();
    let repo_err = |source| BaseError::Repo {
        bases: all.clone(),
        source,
    };
    let mut head = first.commit;
    for (i, base) in rest.iter().enumerate() {
        let merged = &all[..i + 2];
        let tree = match repo.merge_commits(head, base.commit).map_err(repo_err)? {
            TreeMerge::Clean(tree) => tree,
            TreeMerge::Conflict(paths) => {
                return Err(BaseError::Conflict {
                    merged: merged.to_vec(),
                    conflicting: base.id.clone(),
                    paths,
                })
            }
        };
        head = repo
            .write_commit(
                tree,
                &[head, base.commit],
                committer,
                committer,
                &merge_message(merged),
            )
            .map_err(repo_err)?;
    }
    Ok(head)
}

/// The message of the merge of `bases`: one `Based-on:` line each, in order.
fn merge_message(bases: &[MessageId]) -> String {
    let mut m = String::from("patchew: merge the series this series is based on\n\n");
    for id in bases {
        m += &format!("Based-on: <{id}>\n");
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_message_names_each_base_in_order() {
        let a = MessageId::parse("<a@x>").unwrap();
        let b = MessageId::parse("<b@x>").unwrap();
        assert_eq!(
            merge_message(&[a, b]),
            "patchew: merge the series this series is based on\n\nBased-on: <a@x>\nBased-on: <b@x>\n"
        );
    }
}
