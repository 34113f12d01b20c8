//! Patches + base commit -> commits, written straight into the object database
//! through `repo`: no worktree, no index, so a bare repository is enough.

use std::collections::{HashMap, HashSet};

use bstr::{BStr, BString, ByteSlice};

use crate::patch::{self, Body, FileMode, FilePatch, Operation};
use crate::repo::{self, Entry, MergeOutcome, Oid, Person, Repo, RepoError, TreeWriter};

/// One patch ready to become a commit.
#[derive(Debug, Clone)]
pub struct PatchToApply {
    /// 1-based position in the series, for messages.
    pub number: usize,
    pub total: usize,
    pub subject: String,
    pub message: String,
    pub author: Person,
    /// The diff part of the mail (diffstat and signature may surround it).
    pub diff: Vec<u8>,
}

/// A commit we wrote, or a patch we skipped.
#[derive(Debug, Clone)]
pub struct AppliedPatch {
    pub number: usize,
    /// `None` when the patch was empty and dropped, as `git am --empty=drop` does.
    pub commit: Option<Oid>,
    /// Files whose hunks did not apply and were merged in from the patch's preimage.
    pub three_way: Vec<BString>,
}

/// How to apply a series.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApplyOptions {
    /// When a file's hunks do not apply, apply them to the preimage blob named on the
    /// patch's `index` line and merge the result in, like `git am -3`.
    pub three_way: bool,
}

#[derive(Debug, Clone)]
pub struct Applied {
    pub base: Oid,
    pub head: Oid,
    pub patches: Vec<AppliedPatch>,
    pub warnings: Vec<String>,
}

/// Where a failure happened: patch, and file when there is one.
#[derive(Debug, Clone)]
pub struct Location {
    pub number: usize,
    pub total: usize,
    pub subject: String,
    pub path: Option<BString>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "patch {}/{} {:?}", self.number, self.total, self.subject)?;
        if let Some(p) = &self.path {
            write!(f, ": {p}")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{at}: {source}")]
    Hunk {
        at: Location,
        source: Box<patch::ApplyError>,
    },
    #[error("{at}: malformed diff: {source}")]
    Parse {
        at: Location,
        source: Box<patch::ParseError>,
    },
    #[error("{at}: {reason}")]
    Tree { at: Location, reason: String },
    /// The hunks did not apply, and the 3-way fallback was impossible or conflicted.
    #[error("{at}: {source}; {reason}")]
    ThreeWay {
        at: Location,
        source: Box<patch::ApplyError>,
        reason: String,
    },
    #[error("{at}: refusing unsafe path: {reason}")]
    UnsafePath { at: Location, reason: String },
    #[error(transparent)]
    Repo(#[from] RepoError),
}

impl ApplyError {
    /// Input that can never apply anywhere (exit 2) versus a patch that does not fit
    /// this base (exit 1).
    pub fn is_malformed_input(&self) -> bool {
        matches!(
            self,
            ApplyError::Parse { .. } | ApplyError::UnsafePath { .. }
        )
    }
}

/// Applies `patches` in order on top of `base`, one commit each, committed by
/// `committer`; `starting` hears of each patch before it is applied. Writes objects
/// only: no ref moves, so a failure leaves nothing visible behind.
pub fn apply_series(
    repo: &Repo,
    base: Oid,
    patches: &[PatchToApply],
    committer: &Person,
    options: ApplyOptions,
    starting: &mut dyn FnMut(&PatchToApply),
) -> Result<Applied, ApplyError> {
    let base_tree = repo.commit_info(base)?.tree;
    let mut writer = repo.tree_writer(base_tree)?;
    let mut head = base;
    let mut tree = base_tree;
    let mut applied = Vec::with_capacity(patches.len());
    let mut warnings = Vec::new();

    for p in patches {
        starting(p);
        let at = |path: Option<&BString>| Location {
            number: p.number,
            total: p.total,
            subject: p.subject.clone(),
            path: path.cloned(),
        };
        let files = patch::parse(&p.diff).map_err(|source| ApplyError::Parse {
            at: at(None),
            source: Box::new(source),
        })?;
        if files.is_empty() {
            warnings.push(format!("{}: empty patch dropped", at(None)));
            applied.push(AppliedPatch {
                number: p.number,
                commit: None,
                three_way: Vec::new(),
            });
            continue;
        }
        let mut step = PatchStep::new(repo, tree, &mut writer, options);
        for file in &files {
            step.apply_file(file)
                .map_err(|e| e.locate(at(file.new_path.as_ref().or(file.old_path.as_ref()))))?;
        }
        warnings.extend(step.notes.drain(..).map(|n| format!("{}: {n}", at(None))));
        let three_way = std::mem::take(&mut step.merged);
        let new_tree = writer.write()?;
        if !three_way.is_empty() {
            warnings.push(format!(
                "{}: applied with a 3-way merge (its hunks did not apply): {}",
                at(None),
                join_paths(&three_way)
            ));
            // As git am -3 does: a merge that changes nothing means the patch is
            // already there, and gives no commit.
            if new_tree == tree {
                warnings.push(format!(
                    "{}: no changes after the 3-way merge (already applied?): dropped",
                    at(None)
                ));
                applied.push(AppliedPatch {
                    number: p.number,
                    commit: None,
                    three_way,
                });
                continue;
            }
        }
        tree = new_tree;
        head = repo.write_commit(tree, &[head], &p.author, committer, &p.message)?;
        applied.push(AppliedPatch {
            number: p.number,
            commit: Some(head),
            three_way,
        });
    }
    Ok(Applied {
        base,
        head,
        patches: applied,
        warnings,
    })
}

fn join_paths(paths: &[BString]) -> String {
    paths
        .iter()
        .map(|p| p.to_str_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rewrites `tip` so that `path` holds `data`, keeping its message, author and
/// parents; the committer is `committer`. Returns the new commit.
pub fn amend_file(
    repo: &Repo,
    tip: Oid,
    path: &BStr,
    data: &[u8],
    committer: &Person,
) -> Result<Oid, RepoError> {
    let info = repo.commit_info(tip)?;
    let tree = tree_with_file(repo, info.tree, path, data)?;
    repo.write_commit(tree, &info.parents, &info.author, committer, &info.message)
}

/// A new commit on top of `parent` that sets `path` to `data`, by `committer`.
pub fn commit_file(
    repo: &Repo,
    parent: Oid,
    path: &BStr,
    data: &[u8],
    committer: &Person,
    message: &str,
) -> Result<Oid, RepoError> {
    let tree = tree_with_file(repo, repo.commit_info(parent)?.tree, path, data)?;
    repo.write_commit(tree, &[parent], committer, committer, message)
}

/// `tree` with `path` set to `data`, keeping the file's mode when it exists.
fn tree_with_file(repo: &Repo, tree: Oid, path: &BStr, data: &[u8]) -> Result<Oid, RepoError> {
    let mode = repo
        .entry(tree, path)?
        .map_or(FileMode::Regular, |e| e.mode);
    let mut writer = repo.tree_writer(tree)?;
    let oid = repo.write_blob(data)?;
    writer.upsert(path, Entry { mode, oid })?;
    writer.write()
}

/// A failure inside one file of a patch, before we know which patch it is.
enum FileError {
    Hunk(patch::ApplyError),
    ThreeWay {
        hunk: patch::ApplyError,
        reason: String,
    },
    Tree(String),
    Unsafe(String),
    Repo(RepoError),
}

impl From<RepoError> for FileError {
    fn from(e: RepoError) -> Self {
        FileError::Repo(e)
    }
}

impl FileError {
    fn locate(self, at: Location) -> ApplyError {
        match self {
            FileError::Hunk(source) => ApplyError::Hunk {
                at,
                source: Box::new(source),
            },
            FileError::ThreeWay { hunk, reason } => ApplyError::ThreeWay {
                at,
                source: Box::new(hunk),
                reason,
            },
            FileError::Tree(reason) => ApplyError::Tree { at, reason },
            FileError::Unsafe(reason) => ApplyError::UnsafePath { at, reason },
            FileError::Repo(e) => ApplyError::Repo(e),
        }
    }
}

/// The file patches of one mail, applied against the tree before that mail. Like
/// git apply, a path written earlier in the same patch is read back as written,
/// while a path deleted or renamed away is still read as it was (so renames that
/// swap files work).
struct PatchStep<'a, 'r> {
    repo: &'a Repo,
    before: Oid,
    writer: &'a mut TreeWriter<'r>,
    written: HashMap<BString, Entry>,
    removed: HashSet<BString>,
    notes: Vec<String>,
    options: ApplyOptions,
    /// Paths whose content came from a 3-way merge.
    merged: Vec<BString>,
}

impl<'a, 'r> PatchStep<'a, 'r> {
    fn new(
        repo: &'a Repo,
        before: Oid,
        writer: &'a mut TreeWriter<'r>,
        options: ApplyOptions,
    ) -> Self {
        PatchStep {
            repo,
            before,
            writer,
            written: HashMap::new(),
            removed: HashSet::new(),
            notes: Vec::new(),
            options,
            merged: Vec::new(),
        }
    }

    fn read(&self, path: &BStr) -> Result<Option<Entry>, FileError> {
        if let Some(e) = self.written.get(path) {
            return Ok(Some(*e));
        }
        Ok(self.repo.entry(self.before, path)?)
    }

    fn exists(&self, path: &BStr) -> Result<bool, FileError> {
        if self.written.contains_key(path) {
            return Ok(true);
        }
        if self.removed.contains(path) {
            return Ok(false);
        }
        Ok(self.repo.entry(self.before, path)?.is_some())
    }

    fn apply_file(&mut self, file: &FilePatch) -> Result<(), FileError> {
        for p in [&file.old_path, &file.new_path].into_iter().flatten() {
            check_path(p.as_ref()).map_err(FileError::Unsafe)?;
        }
        let old_path = file.old_path.as_ref().map(|p| p.as_bstr());
        let new_path = file.new_path.as_ref().map(|p| p.as_bstr());
        match file.operation {
            Operation::Create => {
                let path =
                    new_path.ok_or_else(|| FileError::Tree("creation without a path".into()))?;
                if self.exists(path)? {
                    return Err(FileError::Tree("already exists in the base tree".into()));
                }
                if self.repo.is_dir(self.before, path)? && !self.removed.contains(path) {
                    return Err(FileError::Tree("a directory of that name exists".into()));
                }
                let data = self.content(file, &[])?;
                let mode = file.new_mode.unwrap_or(FileMode::Regular);
                self.write(path, mode, &data)
            }
            Operation::Delete => {
                let path =
                    old_path.ok_or_else(|| FileError::Tree("deletion without a path".into()))?;
                let entry = self.existing(path)?;
                let old = self.repo.read_blob(entry.oid)?;
                if !matches!(file.body, Body::None | Body::Binary(_)) {
                    let rest = file.apply(&old).map_err(FileError::Hunk)?;
                    if !rest.is_empty() {
                        return Err(FileError::Tree(
                            "deletion patch does not remove all of the file".into(),
                        ));
                    }
                }
                self.remove(path)
            }
            Operation::Modify | Operation::Rename | Operation::Copy => {
                let from = old_path.ok_or_else(|| FileError::Tree("no source path".into()))?;
                let to = new_path.unwrap_or(from);
                let entry = self.existing(from)?;
                if from != to && self.exists(to)? && !self.removed.contains(to) {
                    return Err(FileError::Tree(format!("{to} already exists")));
                }
                let old = self.repo.read_blob(entry.oid)?;
                let data = self.patched(file, entry, &old)?;
                let mode = file.new_mode.unwrap_or(entry.mode);
                if file.operation == Operation::Rename {
                    self.remove(from)?;
                }
                if data == old && mode == entry.mode {
                    self.writer.upsert(to, entry)?;
                    self.written.insert(to.to_owned(), entry);
                    self.removed.remove(to);
                    return Ok(());
                }
                self.write(to, mode, &data)
            }
        }
    }

    fn existing(&self, path: &BStr) -> Result<Entry, FileError> {
        if self.removed.contains(path) && !self.written.contains_key(path) {
            // Read as it was: a later file patch may still take it as a source.
            if let Some(e) = self.repo.entry(self.before, path)? {
                return Ok(e);
            }
        }
        self.read(path)?
            .ok_or_else(|| FileError::Tree("does not exist in the base tree".into()))
    }

    fn content(&mut self, file: &FilePatch, old: &[u8]) -> Result<Vec<u8>, FileError> {
        if matches!(file.body, Body::None) {
            return Ok(old.to_vec());
        }
        file.apply(old).map_err(FileError::Hunk)
    }

    /// The content `file` gives `old` (the blob `ours`), through the 3-way fallback
    /// when its hunks do not apply and the options allow it.
    fn patched(&mut self, file: &FilePatch, ours: Entry, old: &[u8]) -> Result<Vec<u8>, FileError> {
        match self.content(file, old) {
            Err(FileError::Hunk(failed)) if self.options.three_way => {
                let merged = merge_from_preimage(self.repo, file, ours, old).map_err(|reason| {
                    FileError::ThreeWay {
                        hunk: failed,
                        reason,
                    }
                })?;
                self.merged.push(file.path().to_owned());
                Ok(merged)
            }
            other => other,
        }
    }

    fn write(&mut self, path: &BStr, mode: FileMode, data: &[u8]) -> Result<(), FileError> {
        let entry = Entry {
            mode,
            oid: self.repo.write_blob(data)?,
        };
        self.writer.upsert(path, entry)?;
        self.written.insert(path.to_owned(), entry);
        self.removed.remove(path);
        Ok(())
    }

    fn remove(&mut self, path: &BStr) -> Result<(), FileError> {
        self.writer.remove(path)?;
        self.written.remove(path);
        self.removed.insert(path.to_owned());
        Ok(())
    }
}

/// What `git am -3` does for one file: apply `file` to the preimage blob its `index`
/// line names, where it must apply, then merge that change into `old` (the blob
/// `ours`). Errors are the reason the fallback failed, for a message.
fn merge_from_preimage(
    repo: &Repo,
    file: &FilePatch,
    ours: Entry,
    old: &[u8],
) -> Result<Vec<u8>, String> {
    let impossible = |why: String| format!("3-way merge impossible: {why}");
    let abbrev = file
        .old_oid
        .as_deref()
        .ok_or_else(|| impossible("the patch has no index line naming its preimage blob".into()))?;
    let preimage = repo
        .find_by_prefix(abbrev)
        .ok_or_else(|| impossible(format!("preimage blob {abbrev} is not in this repository")))?;
    let base = repo
        .read_blob(preimage)
        .map_err(|e| impossible(format!("preimage {abbrev}: {e}")))?;
    let theirs = file.apply(&base).map_err(|e| {
        impossible(format!(
            "the patch does not apply to its own preimage blob {abbrev} either ({e})"
        ))
    })?;
    if is_binary(file, [&base, old, &theirs]) {
        return merge_binary(preimage, ours, old, theirs).ok_or_else(|| {
            impossible(format!(
                "binary file changed since the patch was made (preimage {abbrev})"
            ))
        });
    }
    match repo::merge_blobs(&base, old, &theirs) {
        MergeOutcome::Clean(data) => Ok(data),
        MergeOutcome::Conflict { ranges } if ranges.is_empty() => {
            Err(format!("3-way merge with preimage {abbrev} conflicts"))
        }
        MergeOutcome::Conflict { ranges } => {
            let at: Vec<String> = ranges
                .iter()
                .map(|r| format!("{} (preimage {})", r.ours, r.base))
                .collect();
            Err(format!(
                "3-way merge with preimage {abbrev} conflicts at {} of the file being patched",
                at.join(", ")
            ))
        }
    }
}

/// Binary content cannot be merged: the result is only unambiguous when one side did
/// not change (by blob id, as git decides) or both made the same change.
fn merge_binary(preimage: Oid, ours: Entry, old: &[u8], theirs: Vec<u8>) -> Option<Vec<u8>> {
    (ours.oid == preimage || old == theirs.as_slice()).then_some(theirs)
}

/// Binary as git's merge decides it: a binary patch, or a NUL byte in the first 8000
/// bytes of any side.
fn is_binary(file: &FilePatch, sides: [&[u8]; 3]) -> bool {
    file.is_binary() || sides.iter().any(|s| s[..s.len().min(8000)].contains(&0))
}

/// Refuses paths that git's fsck refuses, or that would reach outside the tree or into
/// `.git` on a case-insensitive or NTFS/HFS+ checkout.
pub fn check_path(path: &BStr) -> Result<(), String> {
    if path.is_empty() {
        return Err("empty path".into());
    }
    if path.contains(&0) {
        return Err(format!("{path:?} contains a NUL byte"));
    }
    if path.starts_with(b"/") {
        return Err(format!("{path} is absolute"));
    }
    for comp in path.split(|b| *b == b'/') {
        let comp = comp.as_bstr();
        if comp.is_empty() {
            return Err(format!("{path} has an empty component"));
        }
        if comp == "." || comp == ".." {
            return Err(format!("{path} has a {comp:?} component"));
        }
        if is_dot_git_disguise(comp) {
            return Err(format!("{path} reaches into .git"));
        }
    }
    Ok(())
}

/// `.git` in any case, with trailing dots or spaces (Windows drops them), NTFS short
/// name `git~1` or alternate stream `.git::$INDEX_ALLOCATION`, or with HFS+ ignorable
/// code points in it.
fn is_dot_git_disguise(comp: &BStr) -> bool {
    let stripped: Vec<u8> = strip_hfs_ignorables(comp);
    let lower = stripped.to_ascii_lowercase();
    let base = lower.split(|b| *b == b':').next().unwrap_or(&lower);
    let trimmed = base
        .iter()
        .rposition(|b| *b != b'.' && *b != b' ')
        .map_or(&base[..0], |end| &base[..=end]);
    trimmed == b".git" || trimmed == b"git~1"
}

/// Code points that HFS+ ignores when comparing names (the same list git's fsck uses).
fn strip_hfs_ignorables(comp: &BStr) -> Vec<u8> {
    const IGNORABLE: &[char] = &[
        '\u{200c}', '\u{200d}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202b}', '\u{202c}',
        '\u{202d}', '\u{202e}', '\u{206a}', '\u{206b}', '\u{206c}', '\u{206d}', '\u{206e}',
        '\u{206f}', '\u{feff}',
    ];
    match comp.to_str() {
        Ok(s) => s
            .chars()
            .filter(|c| !IGNORABLE.contains(c))
            .collect::<String>()
            .into_bytes(),
        Err(_) => comp.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_paths_are_refused() {
        for bad in [
            "",
            "/etc/passwd",
            "a//b",
            "a/./b",
            "../x",
            "a/..",
            ".git/config",
            ".GIT/hooks/x",
            "a/.git",
            ".git./x",
            ".git /x",
            "git~1/config",
            "GIT~1/x",
            ".git::$INDEX_ALLOCATION/x",
            ".g\u{200c}it/config",
            "\u{feff}.git/x",
            "a\0b",
        ] {
            assert!(
                check_path(bad.as_bytes().as_bstr()).is_err(),
                "{bad:?} accepted"
            );
        }
        for good in [
            "a",
            "a/b.c",
            ".gitignore",
            ".github/x",
            "git",
            "a/.gitmodules",
            "dir/.git-blame",
        ] {
            assert!(
                check_path(good.as_bytes().as_bstr()).is_ok(),
                "{good:?} refused"
            );
        }
    }
}
