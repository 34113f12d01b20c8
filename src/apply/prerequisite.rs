//! `prerequisite-patch-id:` lines (`git format-patch --base`) name patches a series
//! needs that its base-commit lacks. Each is looked for, by patch id, among the
//! commits of the base the series is applied on; one not found is a warning.
//!
//! The patch id is the one `git format-patch --base` writes, which for changes of
//! text is the one `git patch-id --stable` computes from `git show`'s diff: per
//! file, the SHA-1 of the diff's lines with all white space removed, hunk headers
//! and `index` lines left out; the files' hashes are then added up as 20-byte
//! little-endian numbers, so that their order does not matter. Where git's two
//! routes disagree, format-patch's (the source of the lines) is followed: a binary
//! file hashes its two blob ids in full, and the `---`/`+++` lines are hashed even
//! for a mode change or an empty new file, which `git show` prints without them. Renames are not detected (a renamed file counts as a
//! deletion and an addition), the Myers diff with git's indent heuristic decides
//! the lines, and paths are hashed as they are (git's text route would hash the
//! quoted form of a path with unusual bytes).

use std::collections::{HashSet, VecDeque};
use std::fmt;

use bstr::{BStr, ByteSlice};

use crate::apply::patch::FileMode;
use crate::repo::{line_hunks, Entry, FileChange, Oid, Repo, RepoError, Sha1};

/// Most commits of the base's history looked at: the walk stops at the
/// base-commit when there is one, and must stop somewhere when there is none.
pub const MAX_WALK: usize = 2000;

/// Context lines around a change, as `git show` prints them.
const CONTEXT: usize = 3;

/// Bytes git looks at to decide that a blob is binary (a NUL among them).
const BINARY_PROBE: usize = 8000;

/// A stable patch id.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PatchId([u8; 20]);

impl fmt::Display for PatchId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for PatchId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// What the search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The prerequisites not found, as written.
    pub missing: Vec<String>,
    /// How many commits were looked at.
    pub walked: usize,
    /// Whether the walk stopped at [`MAX_WALK`] with history left.
    pub cut_short: bool,
}

/// Looks for each of `wanted` (patch ids in hex) among the commits reachable from
/// `base`, not going past `stop_at` (the series' base-commit, upstream: a
/// prerequisite is by definition not there).
pub fn check(
    repo: &Repo,
    base: Oid,
    stop_at: Option<Oid>,
    wanted: &[String],
) -> Result<Outcome, RepoError> {
    let mut missing: Vec<String> = wanted.to_vec();
    let mut queue = VecDeque::from([base]);
    let mut seen = HashSet::from([base]);
    let mut walked = 0;
    while !missing.is_empty() {
        let Some(commit) = queue.pop_front() else {
            break;
        };
        if Some(commit) == stop_at {
            continue;
        }
        if walked == MAX_WALK {
            return Ok(Outcome {
                missing,
                walked,
                cut_short: true,
            });
        }
        walked += 1;
        let info = repo.commit_info(commit)?;
        queue.extend(info.parents.iter().copied().filter(|p| seen.insert(*p)));
        if let Some(id) = commit_patch_id(repo, info.tree, &info.parents)? {
            let hex = id.to_string();
            missing.retain(|m| *m != hex);
        }
    }
    Ok(Outcome {
        missing,
        walked,
        cut_short: false,
    })
}

/// The stable patch id of a commit with tree `tree` and `parents`; `None` for a
/// merge (git gives none) or a commit that changes nothing.
pub fn commit_patch_id(
    repo: &Repo,
    tree: Oid,
    parents: &[Oid],
) -> Result<Option<PatchId>, RepoError> {
    let parent_tree = match parents {
        [] => None,
        [p] => Some(repo.commit_info(*p)?.tree),
        _ => return Ok(None),
    };
    let changes = repo.changed_files(parent_tree, tree)?;
    if changes.is_empty() {
        return Ok(None);
    }
    let mut sum = [0u8; 20];
    for change in &changes {
        let Some(hash) = file_hash(repo, change)? else {
            return Ok(None);
        };
        add_into(&mut sum, &hash);
    }
    Ok(Some(PatchId(sum)))
}

/// `sum += hash`, both little-endian 20-byte numbers, as git adds the files' ids.
fn add_into(sum: &mut [u8; 20], hash: &[u8; 20]) {
    let mut carry = 0u16;
    for (s, h) in sum.iter_mut().zip(hash) {
        carry += u16::from(*s) + u16::from(*h);
        *s = carry as u8;
        carry >>= 8;
    }
}

/// The SHA-1 of one file's diff, white space removed.
fn file_hash(repo: &Repo, change: &FileChange) -> Result<Option<[u8; 20]>, RepoError> {
    let path = change.path.as_bstr();
    let mut h = Hasher::default();
    h.line(format!("diff --git a/{path} b/{path}").as_bytes());
    match (change.old, change.new) {
        (None, Some(new)) => h.line(format!("new file mode {}", mode(new.mode)).as_bytes()),
        (Some(old), None) => h.line(format!("deleted file mode {}", mode(old.mode)).as_bytes()),
        (Some(old), Some(new)) if old.mode != new.mode => {
            h.line(format!("old mode {}", mode(old.mode)).as_bytes());
            h.line(format!("new mode {}", mode(new.mode)).as_bytes());
        }
        _ => {}
    }
    let old = content(repo, change.old)?;
    let new = content(repo, change.new)?;
    // Unlike `git show`, format-patch's patch id has the `---`/`+++` lines even when
    // the content does not change (a mode change, an empty file added).
    let old_name = side_name("a", path, change.old);
    let new_name = side_name("b", path, change.new);
    {
        if is_binary(&old) || is_binary(&new) {
            // As `git format-patch --base` hashes a binary file: both blob ids in
            // full (`git patch-id` on `git show` text hashes the abbreviated ids
            // of the index line instead, so git itself disagrees there).
            h.line(blob_hex(change.old).as_bytes());
            h.line(blob_hex(change.new).as_bytes());
        } else {
            h.line(format!("--- {old_name}").as_bytes());
            h.line(format!("+++ {new_name}").as_bytes());
            hash_hunks(&mut h, &old, &new);
        }
    }
    Ok(h.0.finish())
}

/// The lines of the unified diff with [`CONTEXT`] lines of context, without hunk
/// headers (which the patch id leaves out).
fn hash_hunks(h: &mut Hasher, old: &[u8], new: &[u8]) {
    let old_lines: Vec<&[u8]> = old.split_inclusive(|b| *b == b'\n').collect();
    let new_lines: Vec<&[u8]> = new.split_inclusive(|b| *b == b'\n').collect();
    let hunks = line_hunks(old, new);
    // Old-file lines up to here have been hashed as context already.
    let mut done = 0;
    for (i, hunk) in hunks.iter().enumerate() {
        let lead = hunk.before.start.saturating_sub(CONTEXT).max(done);
        for l in &old_lines[lead..hunk.before.start] {
            h.prefixed(b' ', l);
        }
        for l in &old_lines[hunk.before.clone()] {
            h.prefixed(b'-', l);
        }
        for l in &new_lines[hunk.after.clone()] {
            h.prefixed(b'+', l);
        }
        let next = hunks.get(i + 1).map_or(old_lines.len(), |n| n.before.start);
        let trail = (hunk.before.end + CONTEXT).min(next);
        for l in &old_lines[hunk.before.end..trail] {
            h.prefixed(b' ', l);
        }
        done = trail;
    }
}

/// The full id of a side's blob, zeros where the file is absent.
fn blob_hex(entry: Option<Entry>) -> String {
    entry.map_or_else(|| "0".repeat(40), |e| e.oid.to_string())
}

/// `a/<path>` or `b/<path>`, `/dev/null` for the side where the file is absent.
fn side_name(prefix: &str, path: &BStr, entry: Option<Entry>) -> String {
    match entry {
        Some(_) => format!("{prefix}/{path}"),
        None => "/dev/null".to_owned(),
    }
}

/// What `git show` diffs for an entry: a blob's bytes, a submodule's commit line.
fn content(repo: &Repo, entry: Option<Entry>) -> Result<Vec<u8>, RepoError> {
    match entry {
        None => Ok(Vec::new()),
        Some(Entry {
            mode: FileMode::Gitlink,
            oid,
        }) => Ok(format!("Subproject commit {oid}\n").into_bytes()),
        Some(e) => repo.read_blob(e.oid),
    }
}

fn is_binary(data: &[u8]) -> bool {
    data[..data.len().min(BINARY_PROBE)].contains(&0)
}

fn mode(mode: FileMode) -> &'static str {
    match mode {
        FileMode::Regular => "100644",
        FileMode::Executable => "100755",
        FileMode::Symlink => "120000",
        FileMode::Gitlink => "160000",
    }
}

/// SHA-1 of diff lines with every white-space byte removed (`remove_space` in git's
/// patch-id, with git's own `isspace`: space, tab, CR and LF only).
#[derive(Default)]
struct Hasher(Sha1);

impl Hasher {
    fn line(&mut self, line: &[u8]) {
        let kept: Vec<u8> = line
            .iter()
            .copied()
            .filter(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .collect();
        self.0.update(&kept);
    }

    fn prefixed(&mut self, prefix: u8, line: &[u8]) {
        self.line(&[prefix]);
        self.line(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_add_as_little_endian_numbers_with_carry() {
        let mut sum = [0u8; 20];
        sum[0] = 0xff;
        sum[1] = 0xff;
        let mut one = [0u8; 20];
        one[0] = 1;
        add_into(&mut sum, &one);
        assert_eq!(&sum[..3], &[0, 0, 1]);
        // The top byte's carry is dropped, as git's 20-byte sum does.
        let mut top = [0xffu8; 20];
        add_into(&mut top, &one);
        assert_eq!(top, [0u8; 20]);
    }
}
