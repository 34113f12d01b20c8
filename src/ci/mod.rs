//! `.gitlab-ci.yml` injection of the Patchew report include, its proof, and the
//! verdict on the tag pipeline GitLab will run ([`pipeline`]).
//! Pure text and YAML; the tree work is in `apply`.
//!
//! Re-serialising a CI file destroys comments and anchors, so the include is added as
//! text ([`edit`]) and then both versions are parsed to prove that the include is the
//! only semantic change ([`prove`]). Only a proven file ever leaves [`inject`].

/// The file GitLab reads the pipeline from, at the root of the tree.
pub const CI_FILE: &str = ".gitlab-ci.yml";

mod edit;
pub mod inject;
mod node;
pub mod pipeline;
pub mod problems;
mod prove;
pub use prove::Difference;
mod url;
pub mod verdict;

pub use url::IncludeUrl;

use node::{parse_documents, Node};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CiError {
    #[error("bad include URL {0:?}: {1}")]
    BadUrl(String, &'static str),
    #[error("invalid YAML: {0}")]
    InvalidYaml(String),
    #[error("not a GitLab CI file: {0}")]
    NotAMapping(String),
    #[error("cannot add the include to this file: {0}")]
    Unsupported(String),
    #[error("the edited file is not the old one plus the include ({0}); nothing written")]
    ProofFailed(#[source] prove::Difference),
    #[error("the Patchew include is missing")]
    IncludeMissing,
    #[error("the Patchew include is present {0} times")]
    IncludeRepeated(usize),
    #[error("changes besides the Patchew include: {0}")]
    OtherChanges(#[source] prove::Difference),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Injection {
    /// The new file content, proven to differ from the old only by our include.
    Injected(Vec<u8>),
    /// The file already carries exactly our include.
    AlreadyPresent,
}

/// Adds `- remote: '<url>'` to the file's `include:`, textually, then proves it.
pub fn inject(old: &[u8], url: &IncludeUrl) -> Result<Injection, CiError> {
    // GitLab reads a file that starts with a byte-order mark; the YAML parser here
    // would count it as a column. The mark is set aside and put back.
    let (bom, old) = split_bom(old);
    let old_docs = parse(old, "")?;
    let target = target_document(&old_docs)?;
    match count_ours(&old_docs[target], url) {
        0 => {}
        1 => return Ok(Injection::AlreadyPresent),
        n => return Err(CiError::IncludeRepeated(n)),
    }
    let new = edit::add_include(old, target, &old_docs, url)?;
    let new_docs = parse(&new, "edited file: ")
        .map_err(|e| CiError::ProofFailed(prove::Difference::Unparsable(Box::new(e))))?;
    prove::only_include_added(&old_docs, &new_docs, target, url).map_err(CiError::ProofFailed)?;
    Ok(Injection::Injected([bom, &new].concat()))
}

const BOM: &[u8] = "\u{feff}".as_bytes();

/// The byte-order mark (or nothing) and the rest.
fn split_bom(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.strip_prefix(BOM) {
        Some(rest) => (BOM, rest),
        None => (&[], bytes),
    }
}

/// For the pre-push hook: `tip` holds the include exactly once and equals `parent`
/// (the first parent's file) plus that include. A parent that already holds it (a
/// series based on another Patchew tag) must be left unchanged.
pub fn verify(parent: &[u8], tip: &[u8], url: &IncludeUrl) -> Result<(), CiError> {
    // The comparison below reads YAML 1.2, GitLab reads YAML 1.1: `yes` and `'yes'`,
    // `0o2` and `2`, `1:30` and `'1:30'`, `<<` and `'<<'` are the same here and not
    // there. Requiring every line of the parent to be in the tip unchanged (the
    // injection only inserts lines) leaves no room for such a change.
    prove::only_lines_inserted(split_bom(parent).1, split_bom(tip).1, url)
        .map_err(CiError::OtherChanges)?;
    let tip_docs = parse(tip, "tip: ")?;
    let target = target_document(&tip_docs)?;
    match count_ours(&tip_docs[target], url) {
        0 => return Err(CiError::IncludeMissing),
        1 => {}
        n => return Err(CiError::IncludeRepeated(n)),
    }
    let parent_docs = parse(parent, "parent: ")?;
    let parent_has_it = parent_docs
        .get(target)
        .is_some_and(|doc| count_ours(doc, url) > 0);
    if parent_has_it {
        return if parent_docs == tip_docs {
            Ok(())
        } else {
            Err(CiError::OtherChanges(prove::Difference::ParentChanged))
        };
    }
    prove::only_include_added(&parent_docs, &tip_docs, target, url).map_err(CiError::OtherChanges)
}

fn parse(bytes: &[u8], which: &str) -> Result<Vec<Node>, CiError> {
    parse_documents(split_bom(bytes).1).map_err(|e| CiError::InvalidYaml(format!("{which}{e}")))
}

/// The document holding the jobs: the only one, or the second after a `spec:` header.
fn target_document(docs: &[Node]) -> Result<usize, CiError> {
    let index = match docs {
        [] => return Err(CiError::NotAMapping("the file is empty".into())),
        [_] => 0,
        [header, _] if header.get("spec").is_some() => 1,
        _ => {
            return Err(CiError::Unsupported(format!(
                "{} YAML documents and no `spec:` header",
                docs.len()
            )))
        }
    };
    match &docs[index] {
        Node::Map(_) => Ok(index),
        Node::Null => Err(CiError::NotAMapping("the file holds no jobs".into())),
        _ => Err(CiError::NotAMapping(
            "its top level is not a mapping".into(),
        )),
    }
}

/// The include entry we add.
fn our_entry(url: &IncludeUrl) -> Node {
    Node::Map(vec![(
        Node::Str("remote".into()),
        Node::Str(url.as_str().into()),
    )])
}

/// How many entries of the top-level `include` are ours: `{remote: URL}`, or the bare
/// URL string, which GitLab reads as the same remote include.
fn count_ours(doc: &Node, url: &IncludeUrl) -> usize {
    let ours = our_entry(url);
    let is_ours = |n: &Node| *n == ours || n.as_str() == Some(url.as_str());
    match doc.get("include") {
        Some(Node::Seq(items)) => items.iter().filter(|n| is_ours(n)).count(),
        Some(single) => usize::from(is_ours(single)),
        None => 0,
    }
}
