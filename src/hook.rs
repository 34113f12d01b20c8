//! The pre-push check (githooks(5) protocol): no tag under the prefix reaches the
//! ci-hub remote unless its tip carries exactly our CI include and nothing else new.

use bstr::ByteSlice;

use crate::ci::pipeline::{self, Hub};
use crate::ci::{self, IncludeUrl, CI_FILE};
use crate::msgid::MessageId;
use crate::repo::{Oid, Repo};

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
    pub include: Result<IncludeUrl, String>,
}

impl Guard {
    /// Whether git is pushing to the ci-hub (by remote name or by its URL).
    pub fn guards_remote(&self, name: &str, url: &str) -> bool {
        name == self.remote
            || self
                .remote_urls
                .iter()
                .any(|u| same_url(u, url) || same_url(u, name))
    }

    fn guarded_prefix(&self) -> String {
        format!("refs/tags/{}/", self.tag_prefix)
    }
}

/// The same repository, whatever credentials, case of host or `.git` suffix each
/// spelling has (the applier pushes to a URL that carries credentials).
fn same_url(a: &str, b: &str) -> bool {
    normalise_url(a) == normalise_url(b)
}

fn normalise_url(url: &str) -> String {
    let u = url.trim().trim_end_matches('/');
    let u = u.strip_suffix(".git").unwrap_or(u);
    let Some((scheme, rest)) = u.split_once("://") else {
        return u.to_owned();
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    format!(
        "{}://{}/{path}",
        scheme.to_ascii_lowercase(),
        host.to_ascii_lowercase()
    )
}

/// One refused ref and why, with the way out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub remote_ref: String,
    pub reason: String,
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

fn check_tag(repo: &Repo, guard: &Guard, line: &RefLine, component: &str) -> Result<(), String> {
    MessageId::from_ref_component(component).map_err(|e| {
        format!(
            "the tag name does not decode to a message-id ({e}); name tags with git patchew apply"
        )
    })?;
    let include = guard
        .include
        .as_ref()
        .map_err(|why| format!("{why}, so the injection cannot be checked: fix it"))?;
    let tip = repo
        .resolve_commit(&line.local_oid)
        .map_err(|_| format!("{} does not point at a commit", line.local_ref))?;
    let info = repo.commit_info(tip).map_err(|e| e.to_string())?;
    let parent = *info
        .parents
        .first()
        .ok_or("the tagged commit has no parent to compare its CI file with")?;
    let tip_file = ci_file(repo, tip)?.ok_or(format!(
        "the tagged commit has no {CI_FILE}: nothing would run on the ci-hub"
    ))?;
    let parent_file = ci_file(repo, parent)?.unwrap_or_default();
    ci::verify(&parent_file, &tip_file, include).map_err(|e| {
        format!("{e}; re-run git patchew apply --force to re-create the tag with the include in its tip commit")
    })?;
    reserved_jobs(repo, guard, tip, component, include)
}

/// A job of the series named like our report jobs would replace them.
fn reserved_jobs(
    repo: &Repo,
    guard: &Guard,
    tip: Oid,
    component: &str,
    include: &IncludeUrl,
) -> Result<(), String> {
    let hub = Hub {
        tag: format!("{}/{component}", guard.tag_prefix),
        own_include: Some(include.as_str().to_owned()),
        ..Hub::default()
    };
    let tree = repo.commit_tree(tip).map_err(|e| e.to_string())?;
    let prediction = pipeline::predict(&tree, &hub).map_err(|e| e.to_string())?;
    match prediction.reserved_problem() {
        Some(problem) => Err(problem),
        None => Ok(()),
    }
}

fn ci_file(repo: &Repo, commit: Oid) -> Result<Option<Vec<u8>>, String> {
    let tree = repo.commit_info(commit).map_err(|e| e.to_string())?.tree;
    match repo
        .entry(tree, CI_FILE.as_bytes().as_bstr())
        .map_err(|e| e.to_string())?
    {
        Some(e) => repo.read_blob(e.oid).map(Some).map_err(|e| e.to_string()),
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
    fn recognises_the_remote_by_name_or_url() {
        let g = Guard {
            remote: "ci-hub".into(),
            remote_urls: vec!["https://gitlab.com/x/ci-hub.git".into()],
            tag_prefix: "patchew".into(),
            include: Err("unset".into()),
        };
        assert!(g.guards_remote("ci-hub", "whatever"));
        assert!(g.guards_remote("https://gitlab.com/x/ci-hub", "https://gitlab.com/x/ci-hub"));
        assert!(g.guards_remote("other", "https://gitlab.com/x/ci-hub.git/"));
        assert!(!g.guards_remote("origin", "https://gitlab.com/x/project.git"));
        let with_credentials = "https://applier:s3cret@GitLab.com/x/ci-hub";
        assert!(g.guards_remote(with_credentials, with_credentials));
    }
}
