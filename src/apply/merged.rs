//! A series that does not apply because it is already there: every one of its
//! patches is found, by patch id, among the recent commits of the base it was
//! applied on (it was merged meanwhile, or posted again after being applied). Such
//! a series is reported as "already in mainline as <commits>", not as a conflict,
//! as patch-CI peers do.
//!
//! A mail's patch id is `git patch-id --stable` of its diff text: per file, the
//! SHA-1 of the `diff --git` line, the header lines other than `index`, the
//! `---`/`+++` lines and the hunks' lines, every white space removed, hunk headers
//! and `\ No newline` markers left out; the files' hashes added up as 20-byte
//! little-endian numbers. A commit's is [`crate::apply::prerequisite::commit_patch_id`],
//! the same id computed from its trees the way `format-patch` does, which hashes
//! `---`/`+++` lines even for a file whose mode alone changed (or that is added or
//! deleted empty), where the mail has none: for such a file the mail's id adds them
//! too, so that it matches the commit's (and differs from `git patch-id` on the
//! mail's text).

use std::collections::{HashMap, HashSet, VecDeque};

use crate::apply::prerequisite::{commit_patch_id, MAX_WALK};
use crate::input::msgid::MessageId;
use crate::input::{mail, mbox, series};
use crate::repo::{Oid, Repo, RepoError, Sha1};

/// The commits of `base`'s recent history that hold every patch of the series in
/// `mbox` (the version `wanted` names), in the series' order; `None` when one is
/// missing, or the mbox gives no series whose patches all have an id.
pub fn already_in(
    repo: &Repo,
    base: Oid,
    mbox: &[u8],
    wanted: Option<MessageId>,
) -> Result<Option<Vec<Oid>>, RepoError> {
    match series_patch_ids(mbox, wanted) {
        Some(ids) => find_all(repo, base, &ids),
        None => Ok(None),
    }
}

/// The patch id of each patch of the series, in order; `None` when the mbox gives
/// no complete series or a patch has no id (no diff, a binary one).
pub fn series_patch_ids(mbox: &[u8], wanted: Option<MessageId>) -> Option<Vec<String>> {
    let mails: Vec<mail::Mail> = mbox::messages(mbox)
        .ok()?
        .filter_map(|raw| mail::parse(&raw.ok()?).ok())
        .collect();
    let options = series::Options {
        wanted,
        ..series::Options::default()
    };
    let series = series::assemble(&mails, &options).ok()?;
    series
        .patches
        .iter()
        .map(|p| mail_patch_id(&p.info.patch))
        .collect()
}

/// The stable patch id, in hex, of the diffs in `patch` (a mail's text from its
/// patch break on: diffstat, diffs, signature); `None` when it holds no diff, or a
/// binary one (its id needs the full blob ids, which a mail's `index` line
/// abbreviates).
pub fn mail_patch_id(patch: &[u8]) -> Option<String> {
    let mut sum = [0u8; 20];
    let mut file: Option<FileHash> = None;
    let mut files = 0;
    // Lines left in the current hunk (old side, new side); `None` in a header.
    let mut hunk: Option<(u64, u64)> = None;
    let mut in_header = false;
    for line in patch.split_inclusive(|b| *b == b'\n') {
        if line.starts_with(b"diff ") && hunk.is_none_or(|(b, a)| b == 0 && a == 0) {
            if let Some(done) = file.take().and_then(FileHash::finish) {
                add_into(&mut sum, &done);
            }
            let mut h = FileHash::new(line);
            update(&mut h.sha, line);
            file = Some(h);
            files += 1;
            hunk = None;
            in_header = true;
            continue;
        }
        let Some(f) = file.as_mut() else {
            // The commit message's end, the diffstat: before the first diff.
            continue;
        };
        if in_header {
            if line.starts_with(b"GIT binary patch") || line.starts_with(b"Binary files") {
                return None;
            }
            if line.starts_with(b"index ") {
                continue;
            }
            if line.starts_with(b"--- ") {
                in_header = false;
                f.has_sides = true;
                hunk = Some((0, 0));
            } else if !line.first().is_some_and(u8::is_ascii_alphabetic) {
                break;
            }
            f.header_line(line);
            update(&mut f.sha, line);
            continue;
        }
        let h = &mut f.sha;
        match hunk {
            Some((0, 0)) => {
                if line.starts_with(b"+++ ") {
                    update(h, line);
                } else if let Some(counts) = hunk_counts(line) {
                    hunk = Some(counts);
                } else {
                    // The end of the diffs: a signature, or the next mail's text.
                    break;
                }
            }
            Some((before, after)) => {
                if line.starts_with(b"\\ ") {
                    continue;
                }
                let (b, a) = match line.first() {
                    Some(b' ') => (1, 1),
                    Some(b'-') => (1, 0),
                    Some(b'+') => (0, 1),
                    // A blank line where a context line was meant (a mailer ate
                    // its space): counted as context, as git apply does.
                    Some(b'\n' | b'\r') => (1, 1),
                    _ => break,
                };
                hunk = Some((before.saturating_sub(b), after.saturating_sub(a)));
                update(h, line);
            }
            None => break,
        }
    }
    if let Some(done) = file.take().and_then(FileHash::finish) {
        add_into(&mut sum, &done);
    }
    (files > 0).then(|| sum.iter().map(|b| format!("{b:02x}")).collect())
}

/// One file's hash while its diff is read.
struct FileHash {
    sha: Sha1,
    /// From `diff --git a/<path> b/<path>` (no renames: both are the same).
    path: Vec<u8>,
    added: bool,
    deleted: bool,
    /// The mail had `---`/`+++` lines for it.
    has_sides: bool,
}

impl FileHash {
    fn new(diff_line: &[u8]) -> Self {
        let names = diff_line
            .strip_prefix(b"diff --git a/")
            .unwrap_or_default()
            .trim_ascii_end();
        // "<path> b/<path>": the path is the first half, less " b/".
        let path = names
            .get(..names.len().saturating_sub(3) / 2)
            .unwrap_or_default();
        FileHash {
            sha: Sha1::default(),
            path: path.to_vec(),
            added: false,
            deleted: false,
            has_sides: false,
        }
    }

    fn header_line(&mut self, line: &[u8]) {
        self.added |= line.starts_with(b"new file mode");
        self.deleted |= line.starts_with(b"deleted file mode");
    }

    /// The file's hash, with the `---`/`+++` lines format-patch would have hashed.
    fn finish(mut self) -> Option<[u8; 20]> {
        if !self.has_sides {
            let side = |prefix: &[u8], absent: bool| -> Vec<u8> {
                if absent {
                    b"/dev/null".to_vec()
                } else {
                    [prefix, self.path.as_slice()].concat()
                }
            };
            let old = [b"--- ".as_slice(), &side(b"a/", self.added)].concat();
            let new = [b"+++ ".as_slice(), &side(b"b/", self.deleted)].concat();
            update(&mut self.sha, &old);
            update(&mut self.sha, &new);
        }
        self.sha.finish()
    }
}

/// Old and new line counts of a hunk header `@@ -a[,b] +c[,d] @@`.
fn hunk_counts(line: &[u8]) -> Option<(u64, u64)> {
    let text = std::str::from_utf8(line.strip_prefix(b"@@ -")?).ok()?;
    let (old, rest) = text.split_once(" +")?;
    let (new, _) = rest.split_once(" @@")?;
    let count = |range: &str| match range.split_once(',') {
        Some((_, n)) => n.parse().ok(),
        None => Some(1),
    };
    Some((count(old)?, count(new)?))
}

fn update(h: &mut Sha1, line: &[u8]) {
    let kept: Vec<u8> = line
        .iter()
        .copied()
        .filter(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .collect();
    h.update(&kept);
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

/// The commit holding each of `wanted` (patch ids in hex), in that order, when every
/// one is among the last [`MAX_WALK`] commits reachable from `base`; `None` when one
/// is not (or `wanted` is empty).
pub fn find_all(repo: &Repo, base: Oid, wanted: &[String]) -> Result<Option<Vec<Oid>>, RepoError> {
    if wanted.is_empty() {
        return Ok(None);
    }
    let mut left: HashSet<&str> = wanted.iter().map(String::as_str).collect();
    let mut found: HashMap<String, Oid> = HashMap::new();
    let mut queue = VecDeque::from([base]);
    let mut seen = HashSet::from([base]);
    let mut walked = 0;
    while !left.is_empty() && walked < MAX_WALK {
        let Some(commit) = queue.pop_front() else {
            break;
        };
        walked += 1;
        let info = repo.commit_info(commit)?;
        queue.extend(info.parents.iter().copied().filter(|p| seen.insert(*p)));
        if let Some(id) = commit_patch_id(repo, info.tree, &info.parents)? {
            let hex = id.to_string();
            if left.remove(hex.as_str()) {
                found.insert(hex, commit);
            }
        }
    }
    if !left.is_empty() {
        return Ok(None);
    }
    Ok(Some(wanted.iter().map(|w| found[w]).collect()))
}

/// The line the `git` result's log gives such a series.
pub fn already_in_line(commits: &[Oid]) -> String {
    let list: Vec<String> = commits.iter().map(Oid::to_string).collect();
    format!(
        "The series is already in mainline as {}: not applied again, no pipeline.",
        list.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunk_headers_give_their_counts() {
        assert_eq!(hunk_counts(b"@@ -1,3 +1,4 @@ fn x\n"), Some((3, 4)));
        assert_eq!(hunk_counts(b"@@ -1 +1 @@\n"), Some((1, 1)));
        assert_eq!(hunk_counts(b"@@ -0,0 +1 @@\n"), Some((0, 1)));
        assert_eq!(hunk_counts(b"@@ junk\n"), None);
    }

    #[test]
    fn ids_ignore_white_space_headers_and_what_surrounds_the_diff() {
        let a = b"---\n a | 2 +-\n 1 file changed\n\ndiff --git a/a b/a\nindex 1111111..2222222 100644\n--- a/a\n+++ b/a\n@@ -1,2 +1,2 @@\n x\n-old\n+new\n-- \n2.40.0\n";
        let b = b"diff --git a/a b/a\nindex 3333333..4444444 100644\n--- a/a\n+++ b/a\n@@ -10,2 +10,2 @@ ctx\n x\n- old\n+new \n";
        assert_eq!(mail_patch_id(a), mail_patch_id(b));
        assert!(mail_patch_id(a).is_some());
        let c = b"diff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -1,2 +1,2 @@\n x\n-old\n+newer\n";
        assert_ne!(mail_patch_id(a), mail_patch_id(c));
        assert_eq!(mail_patch_id(b"no diff here\n"), None);
        assert_eq!(
            mail_patch_id(b"diff --git a/b b/b\nGIT binary patch\n"),
            None
        );
    }
}
