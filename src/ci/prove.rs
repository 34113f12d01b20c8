//! The proof that an edited CI file is the old one plus our include entry, and
//! nothing else.

use super::node::Node;
use super::{our_entry, CiError, IncludeUrl};

/// How an edited CI file differs from the old one plus our include entry, in a few
/// words.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Difference {
    #[error("{old} YAML documents became {new}")]
    DocumentCount { old: usize, new: usize },
    /// `number` counts from 1.
    #[error("YAML document {number} changed")]
    Document { number: usize },
    #[error("the top level is not a mapping")]
    NotMapping,
    #[error("`include` comes from a top-level `<<:` merge, which ours would replace")]
    MergedInclude,
    #[error("top-level key {0} changed")]
    TopLevelKey(String),
    #[error("`include` is not the old entries plus ours")]
    Include,
    #[error("the file is not UTF-8")]
    NotUtf8,
    /// `number` counts from 1.
    #[error("line {number} of the parent's file changed: {line:?}")]
    Line { number: usize, line: String },
    #[error("several `include` keys")]
    SeveralIncludes,
    /// The value as Rust's `Debug` writes it.
    #[error("unexpected old `include` value {0}")]
    OldInclude(String),
    #[error("the parent already had the include, yet the file changed")]
    ParentChanged,
    /// Our edit made a file that does not parse.
    #[error(transparent)]
    Unparsable(Box<CiError>),
}

/// `Err` says, in a few words, how `new` differs from `old` plus the include.
pub(crate) fn only_include_added(
    old: &[Node],
    new: &[Node],
    target: usize,
    url: &IncludeUrl,
) -> Result<(), Difference> {
    if old.len() != new.len() {
        return Err(Difference::DocumentCount {
            old: old.len(),
            new: new.len(),
        });
    }
    for (i, (o, n)) in old.iter().zip(new).enumerate() {
        if i != target && o != n {
            return Err(Difference::Document { number: i + 1 });
        }
    }
    let (Some(old_top), Some(new_top)) = (old[target].entries(), new[target].entries()) else {
        return Err(Difference::NotMapping);
    };
    if old[target].get("include").is_none() && old[target].get_merged("include").is_some() {
        return Err(Difference::MergedInclude);
    }
    let (old_include, old_rest) = split_include(old_top)?;
    let (new_include, new_rest) = split_include(new_top)?;
    if let Some(key) = first_difference(&old_rest, &new_rest) {
        return Err(Difference::TopLevelKey(key));
    }
    let expected = entries_before(old_include)?;
    // GitLab reads `include: URL` (one string) as the list of that one remote.
    let got = entries_before(new_include)?;
    let bare_url = Node::Str(url.as_str().into());
    without_one(&got, &our_entry(url))
        .or_else(|| without_one(&got, &bare_url))
        .filter(|rest| *rest == expected)
        .map(|_| ())
        .ok_or(Difference::Include)
}

/// `Err` names the first line of `parent` that `tip` does not keep: `tip` must be
/// `parent` with lines inserted, where a one-line `include: X` may have become
/// `include:` and, later, `- X` (as [`super::edit`] writes it).
pub(crate) fn only_lines_inserted(
    parent: &[u8],
    tip: &[u8],
    url: &IncludeUrl,
) -> Result<(), Difference> {
    let (Ok(parent), Ok(tip)) = (std::str::from_utf8(parent), std::str::from_utf8(tip)) else {
        return Err(Difference::NotUtf8);
    };
    // In a flow list our entry goes first, on the line of the `[`.
    let flow = format!("[{{remote: {}}}", url.yaml_quoted());
    let same = |parent_line: &str, tip_line: &str| {
        tip_line == parent_line
            || [format!("{flow}, "), flow.clone()]
                .iter()
                .any(|f| tip_line.replacen(f.as_str(), "[", 1) == parent_line)
    };
    let mut tip_lines = tip.lines();
    for (n, line) in parent.lines().enumerate() {
        let pieces = match split_include_line(line) {
            Some((key, item)) if !tip_lines.clone().any(|l| same(line, l)) => vec![key, item],
            _ => vec![line.to_owned()],
        };
        for piece in pieces {
            if !tip_lines.any(|l| same(&piece, l)) {
                return Err(Difference::Line {
                    number: n + 1,
                    line: line.to_owned(),
                });
            }
        }
    }
    Ok(())
}

/// `include: X` at the top level -> (`include:`, `- X`), the two lines our edit makes
/// of it.
fn split_include_line(line: &str) -> Option<(String, String)> {
    let pad = &line[..line.len() - line.trim_start_matches(' ').len()];
    let rest = line[pad.len()..].strip_prefix("include:")?;
    (!rest.trim().is_empty()).then(|| (format!("{pad}include:"), format!("{pad}-{rest}")))
}

type Entries<'a> = Vec<&'a (Node, Node)>;

/// The `include` value and every other top-level entry, in order.
fn split_include(top: &[(Node, Node)]) -> Result<(Option<&Node>, Entries<'_>), Difference> {
    let (includes, rest): (Entries, Entries) =
        top.iter().partition(|(k, _)| k.as_str() == Some("include"));
    match includes.as_slice() {
        [] => Ok((None, rest)),
        [(_, v)] => Ok((Some(v), rest)),
        _ => Err(Difference::SeveralIncludes),
    }
}

fn first_difference(old: &Entries, new: &Entries) -> Option<String> {
    if old.len() != new.len() {
        return Some(format!("count ({} -> {})", old.len(), new.len()));
    }
    old.iter()
        .zip(new)
        .find(|(o, n)| o != n)
        .map(|((k, _), _)| match k.as_str() {
            Some(name) => format!("`{name}`"),
            None => format!("{k:?}"),
        })
}

/// The list GitLab sees for the old `include`: a single string or map is one entry.
fn entries_before(old: Option<&Node>) -> Result<Vec<Node>, Difference> {
    match old {
        None | Some(Node::Null) => Ok(Vec::new()),
        Some(Node::Seq(items)) => Ok(items.clone()),
        Some(single @ (Node::Str(_) | Node::Map(_))) => Ok(vec![single.clone()]),
        Some(other) => Err(Difference::OldInclude(format!("{other:?}"))),
    }
}

/// `items` without its only occurrence of `entry`; `None` unless it occurs exactly once.
fn without_one(items: &[Node], entry: &Node) -> Option<Vec<Node>> {
    let mut hits = items.iter().enumerate().filter(|(_, n)| *n == entry);
    let (index, _) = hits.next()?;
    if hits.next().is_some() {
        return None;
    }
    let mut rest = items.to_vec();
    rest.remove(index);
    Some(rest)
}
