//! The pre-push check (githooks(5) protocol): no tag under the prefix leaves this
//! repository, for the ci-hub or any other remote (the tag namespace is ours), unless
//! its tip carries exactly our CI include and nothing else new.

use bstr::ByteSlice;

use crate::ci::pipeline::{self, Hub};
use crate::ci::{self, IncludeUrl, CI_FILE};
use crate::input::msgid::MessageId;
use crate::publish::tag;
use crate::repo::{Oid, Repo, RepoError};

/// One line of the hook's stdin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefLine {
    pub local_ref: String,
    pub local_oid: String,
    pub remote_ref: String,
    pub remote_oid: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("pre-push: malformed input line {line:?}")]
pub struct BadLine {
    pub line: String,
}

/// Parses `<local-ref> SP <local-oid> SP <remote-ref> SP <remote-oid>` lines.
pub fn parse_ref_lines(input: &str) -> Result<Vec<RefLine>, BadLine> {
    input
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let parts: Vec<&str> = line.split(' ').collect();
            match parts.as_slice() {
                [lr, lo, rr, ro] => Ok(RefLine {
                    local_ref: (*lr).to_owned(),
                    local_oid: (*lo).to_owned(),
                    remote_ref: (*rr).to_owned(),
                    remote_oid: (*ro).to_owned(),
                }),
                _ => Err(BadLine {
                    line: line.to_owned(),
                }),
            }
        })
        .collect()
}

/// What the hook guards.
#[derive(Debug, Clone)]
pub struct Guard {
    /// Name of the ci-hub remote.
    pub remote: String,
    /// Its configured URLs (url, pushurl), to recognise `git push <url>`.
    pub remote_urls: Vec<String>,
    pub tag_prefix: String,
    /// Why not, when patchew.ciInclude is unset or invalid: every guarded tag is
    /// then refused with that reason.
    pub include: Result<IncludeUrl, NoInclude>,
}

/// Why the hook has no include to check tags against.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoInclude {
    #[error("patchew.ciInclude is not set")]
    Unset,
    #[error("patchew.ciInclude: {0}")]
    Invalid(String),
}

/// Why a series tag may not reach the ci-hub; each says how to make a good one.
#[derive(Debug, thiserror::Error)]
pub enum TagProblem {
    #[error(
        "the tag name does not decode to a message-id ({0}); name tags with git patchew apply"
    )]
    NotAMessageId(crate::input::msgid::MessageIdError),
    #[error("{0}, so the injection cannot be checked: fix it")]
    NoInclude(NoInclude),
    #[error("{0} does not point at a commit")]
    NotACommit(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error("the tagged commit has no parent to compare its CI file with")]
    NoParent,
    #[error("the tagged commit has no {CI_FILE}: nothing would run on the ci-hub")]
    NoCiFile,
    #[error("{0}; re-run git patchew apply --force to re-create the tag with the include in its tip commit")]
    Unproven(ci::CiError),
    #[error("the tagged commit changes {first:?}{}, not only {CI_FILE}: it must be its parent plus the Patchew include; re-run git patchew apply --force to re-create the tag", if *more == 0 { String::new() } else { format!(" and {more} other files") })]
    OtherFiles { first: String, more: usize },
    #[error("{0}")]
    Reserved(String),
    #[error(transparent)]
    Pipeline(#[from] pipeline::PipelineError),
    #[error("the annotated tag is not git-patchew's: {0}; {REDO}")]
    NotOurs(String),
    #[error("the annotated tag calls itself {name:?}, not {wanted:?}; {REDO}")]
    Misnamed { name: String, wanted: String },
    #[error("the annotated tag points to {target}, not straight to the commit {tip}; {REDO}")]
    Indirect { target: Oid, tip: Oid },
    #[error(
        "its {}: {story:?} is not the message-id its name says, {name:?}; {REDO}",
        tag::MESSAGE_ID_KEY
    )]
    OtherMessageId { story: MessageId, name: MessageId },
    #[error("its {key}: {base} is not an ancestor of the tagged commit along first parents; {REDO}", key = tag::BASE_KEY)]
    BaseNotBelow { base: Oid },
}

/// How to make a good tag when its annotation is wrong.
const REDO: &str = "re-run git patchew apply --force to re-create it";

impl Guard {
    /// Whether git is pushing to the ci-hub, by remote name or by a URL naming the
    /// same repository (`canonical` spells each URL one way). Only for messages: tags
    /// under the prefix are checked wherever they go.
    pub fn is_ci_hub(&self, name: &str, url: &str, canonical: impl Fn(&str) -> String) -> bool {
        if name == self.remote {
            return true;
        }
        let hub: Vec<String> = self.remote_urls.iter().map(|u| canonical(u)).collect();
        hub.contains(&canonical(url)) || hub.contains(&canonical(name))
    }

    pub fn guarded_prefix(&self) -> String {
        format!("refs/tags/{}/", self.tag_prefix)
    }
}

/// One refused ref and why, with the way out.
#[derive(Debug)]
pub struct Refusal {
    pub remote_ref: String,
    pub reason: TagProblem,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "refusing {}: {}", self.remote_ref, self.reason)
    }
}

/// Checks every guarded ref; the push may go ahead when the result is empty.
pub fn check(repo: &Repo, guard: &Guard, lines: &[RefLine]) -> Vec<Refusal> {
    let prefix = guard.guarded_prefix();
    lines
        .iter()
        .filter(|l| l.remote_ref.starts_with(&prefix))
        .filter(|l| !is_zero(&l.local_oid))
        .filter_map(|l| {
            check_tag(repo, guard, l, &l.remote_ref[prefix.len()..])
                .err()
                .map(|reason| Refusal {
                    remote_ref: l.remote_ref.clone(),
                    reason,
                })
        })
        .collect()
}

fn is_zero(oid: &str) -> bool {
    !oid.is_empty() && oid.bytes().all(|b| b == b'0')
}

fn check_tag(
    repo: &Repo,
    guard: &Guard,
    line: &RefLine,
    component: &str,
) -> Result<(), TagProblem> {
    let id = MessageId::from_ref_component(component).map_err(TagProblem::NotAMessageId)?;
    let include = guard
        .include
        .as_ref()
        .map_err(|why| TagProblem::NoInclude(why.clone()))?;
    let tip = repo
        .resolve_commit(&line.local_oid)
        .map_err(|_| TagProblem::NotACommit(line.local_ref.clone()))?;
    let tag_name = line
        .remote_ref
        .strip_prefix("refs/tags/")
        .unwrap_or(&line.remote_ref);
    check_annotation(repo, &line.local_oid, tag_name, &id, tip)?;
    let info = repo.commit_info(tip)?;
    let parent = *info.parents.first().ok_or(TagProblem::NoParent)?;
    let tip_file = ci_file(repo, tip)?.ok_or(TagProblem::NoCiFile)?;
    let parent_file = ci_file(repo, parent)?.unwrap_or_default();
    ci::verify(&parent_file, &tip_file, include).map_err(TagProblem::Unproven)?;
    only_ci_file_changed(repo, parent, info.tree)?;
    reserved_jobs(repo, guard, tip, component, include)
}

/// The tagged commit must be its parent plus the include and nothing else: another
/// file it changes (a script that a local include runs, say) would ride along
/// unproven, as a change inside the CI file would not.
fn only_ci_file_changed(repo: &Repo, parent: Oid, tip_tree: Oid) -> Result<(), TagProblem> {
    let parent_tree = repo.commit_info(parent)?.tree;
    let others: Vec<String> = repo
        .changed_files(Some(parent_tree), tip_tree)?
        .into_iter()
        .filter(|change| change.path != CI_FILE.as_bytes())
        .map(|change| change.path.to_str_lossy().into_owned())
        .collect();
    match others.split_first() {
        None => Ok(()),
        Some((first, rest)) => Err(TagProblem::OtherFiles {
            first: first.clone(),
            more: rest.len(),
        }),
    }
}

/// A job of the series named like our report jobs would replace them.
fn reserved_jobs(
    repo: &Repo,
    guard: &Guard,
    tip: Oid,
    component: &str,
    include: &IncludeUrl,
) -> Result<(), TagProblem> {
    let hub = Hub {
        tag: format!("{}/{component}", guard.tag_prefix),
        own_include: Some(include.as_str().to_owned()),
        ..Hub::default()
    };
    let tree = repo.commit_tree(tip)?;
    let prediction = pipeline::predict(&tree, &hub)?;
    match prediction.reserved_problem() {
        Some(problem) => Err(TagProblem::Reserved(problem)),
        None => Ok(()),
    }
}

/// An annotated tag must be ours and tell the story of the commit it is pushed for.
/// A lightweight tag (made by older versions) has no story to check.
fn check_annotation(
    repo: &Repo,
    local_oid: &str,
    tag_name: &str,
    id: &MessageId,
    tip: Oid,
) -> Result<(), TagProblem> {
    let Some(oid) = Oid::from_hex(local_oid) else {
        return Ok(());
    };
    let Some(object) = repo.tag_object(oid)? else {
        return Ok(());
    };
    let story = tag::read_story(&object.message).map_err(|e| TagProblem::NotOurs(e.to_string()))?;
    if object.name != tag_name {
        return Err(TagProblem::Misnamed {
            name: object.name,
            wanted: tag_name.to_owned(),
        });
    }
    if !object.target_is_commit || object.target != tip {
        return Err(TagProblem::Indirect {
            target: object.target,
            tip,
        });
    }
    if story.message_id != *id {
        return Err(TagProblem::OtherMessageId {
            story: story.message_id,
            name: id.clone(),
        });
    }
    if !on_first_parent_line(repo, tip, story.base)? {
        return Err(TagProblem::BaseNotBelow { base: story.base });
    }
    Ok(())
}

/// Whether `base` is `tip` or one of its first-parent ancestors, within the length
/// of the longest series (the walk is bounded: the tag is a stranger's until checked).
fn on_first_parent_line(repo: &Repo, tip: Oid, base: Oid) -> Result<bool, RepoError> {
    let mut commit = tip;
    for _ in 0..crate::input::series::MAX_PATCHES + 2 {
        if commit == base {
            return Ok(true);
        }
        match repo.commit_info(commit)?.parents.first() {
            Some(&p) => commit = p,
            None => return Ok(false),
        }
    }
    Ok(false)
}

fn ci_file(repo: &Repo, commit: Oid) -> Result<Option<Vec<u8>>, RepoError> {
    let tree = repo.commit_info(commit)?.tree;
    match repo.entry(tree, CI_FILE.as_bytes().as_bstr())? {
        Some(e) => repo.read_blob(e.oid).map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_githooks_lines() {
        let z = "0".repeat(40);
        let a = "a".repeat(40);
        let lines = parse_ref_lines(&format!(
            "refs/tags/patchew/x@y {a} refs/tags/patchew/x@y {z}\n\n"
        ))
        .unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].remote_oid, z);
        assert!(parse_ref_lines("only three fields").is_err());
    }

    #[test]
    fn recognises_the_remote_by_name_or_any_spelling_of_its_url() {
        let g = Guard {
            remote: "ci-hub".into(),
            remote_urls: vec!["https://gitlab.com/x/ci-hub.git".into()],
            tag_prefix: "patchew".into(),
            include: Err(NoInclude::Unset),
        };
        let canonical = |u: &str| crate::repo::canonical_remote_url(u, std::path::Path::new("/"));
        assert!(g.is_ci_hub("ci-hub", "whatever", canonical));
        for spelling in [
            "https://gitlab.com/x/ci-hub",
            "https://gitlab.com/x/ci-hub.git/",
            "https://gitlab.com:443/x/ci-hub.git",
            "HTTPS://GitLab.COM/X/CI-hub.git",
            "https://applier:s3cret@GitLab.com/x/ci-hub",
        ] {
            assert!(g.is_ci_hub(spelling, spelling, canonical), "{spelling}");
        }
        assert!(!g.is_ci_hub("origin", "https://gitlab.com/x/project.git", canonical));
        assert!(!g.is_ci_hub("x", "http://gitlab.com/x/ci-hub.git", canonical));
        assert!(!g.is_ci_hub("x", "https://gitlab.com:8443/x/ci-hub.git", canonical));
        let ssh = Guard {
            remote_urls: vec!["git@gitlab.com:x/ci-hub.git".into()],
            ..g
        };
        assert!(ssh.is_ci_hub("x", "ssh://git@GitLab.com/x/ci-hub", canonical));
        assert!(ssh.is_ci_hub("x", "ssh://gitlab.com:22/x/ci-hub.git", canonical));
    }
}
