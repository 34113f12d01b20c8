//! Patches + base commit -> commits, written straight into the object database
//! through `repo`: no worktree, no index, so a bare repository is enough.

use std::collections::{HashMap, HashSet};

use bstr::{BStr, BString, ByteSlice};

use crate::apply::fsck::{self, check_entry, check_path};
use crate::apply::patch::{self, Body, Content, FileMode, FilePatch, Operation};
use crate::repo::{
    self, Entry, MergeOutcome, Oid, Person, PrefixMatch, Repo, RepoError, TreeWriter,
};

/// Content above this size is streamed into the object database from the old
/// content and the diff, not assembled first (issue 16: peak memory at most twice the
/// mbox). Smaller content goes through `write_blob`, which skips objects already
/// there.
const STREAM_ABOVE: usize = 1 << 20;

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
            // A hostile path may be megabytes long: a line must stay readable.
            if p.len() > 200 {
                let p = p.to_str_lossy();
                let start: String = p.chars().take(60).collect();
                let end: String = p
                    .chars()
                    .rev()
                    .take(60)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                write!(f, ": {start}...{end} ({} bytes)", p.len())?;
            } else {
                write!(f, ": {p}")?;
            }
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
    /// The patch did not apply as is (`failed`), and the 3-way fallback was
    /// impossible or conflicted (`reason`).
    #[error("{at}: {reason} (the patch did not apply as is: {failed})")]
    ThreeWay {
        at: Location,
        failed: String,
        #[source]
        reason: Box<MergeError>,
    },
    /// The hunks did not apply and the 3-way fallback was turned off.
    #[error("{at}: {source} (3-way fallback disabled)")]
    NoThreeWay {
        at: Location,
        source: Box<patch::ApplyError>,
    },
    #[error("{at}: no valid patch in the mail: it has a patch part, but no diff in it parses")]
    NoDiff { at: Location },
    #[error("{at}: refusing unsafe path: {reason}")]
    UnsafePath {
        at: Location,
        #[source]
        reason: Box<fsck::PathError>,
    },
    /// Content that `git fsck --strict` (and a ci-hub with `receive.fsckObjects`)
    /// would refuse; `reason` names fsck's rule.
    #[error("{at}: git fsck would refuse it: {reason}")]
    Fsck {
        at: Location,
        #[source]
        reason: Box<fsck::FsckError>,
    },
    #[error(transparent)]
    Repo(#[from] RepoError),
}

impl ApplyError {
    /// Input that can never apply anywhere (exit 2) versus a patch that does not fit
    /// this base (exit 1).
    pub fn is_malformed_input(&self) -> bool {
        matches!(
            self,
            ApplyError::Parse { .. }
                | ApplyError::UnsafePath { .. }
                | ApplyError::Fsck { .. }
                | ApplyError::NoDiff { .. }
        )
    }
}

/// Applies `patches` in order on top of `base`, one commit each, committed by
/// `committer`; `starting` hears of each patch before it is applied. Writes objects
/// only: no ref moves, so a failure leaves nothing visible behind.
pub fn apply_series(
    repo: &Repo,
    base: Oid,
    patches: Vec<PatchToApply>,
    committer: &Person,
    options: ApplyOptions,
    starting: &mut dyn FnMut(&PatchToApply),
) -> Result<Applied, ApplyError> {
    repo.sweep_stale_object_tempfiles();
    let base_tree = repo.commit_info(base)?.tree;
    let mut writer = repo.tree_writer(base_tree)?;
    let mut head = base;
    let mut tree = base_tree;
    let mut applied = Vec::with_capacity(patches.len());
    let mut warnings = Vec::new();

    for mut p in patches {
        // Between patches nothing is half-written: the place to stop on a signal.
        crate::interrupt::check(&format!("patch {}/{}", p.number, p.total))
            .map_err(crate::repo::RepoError::from)?;
        starting(&p);
        let at = |path: Option<&BString>| Location {
            number: p.number,
            total: p.total,
            subject: p.subject.clone(),
            path: path.cloned(),
        };
        let had_patch_part = !p.diff.is_empty();
        // The parsed files' lines point into the diff: a huge diff is not kept
        // twice while it is applied.
        let files = patch::parse_owned(std::mem::take(&mut p.diff)).map_err(|source| {
            ApplyError::Parse {
                at: at(None),
                source: Box::new(source),
            }
        })?;
        if files.is_empty() && had_patch_part {
            // The mail has a patch part (mailinfo found a patch break) but nothing in
            // it is a diff: git am stops here ("No valid patches in input"), and
            // dropping it would silently lose the patch.
            return Err(ApplyError::NoDiff { at: at(None) });
        }
        if files.is_empty() {
            warnings.push(format!("{}: empty patch dropped", at(None)));
            applied.push(AppliedPatch {
                number: p.number,
                commit: None,
                three_way: Vec::new(),
            });
            continue;
        }
        // As git am -3: the patch is applied as is when every file of it applies;
        // otherwise the whole patch, not just the failing file, is merged in from
        // its preimage blobs, so files that would apply elsewhere by offset get the
        // merge's verdict too.
        let mut step = PatchStep::new(repo, tree, &mut writer, false);
        let mut fallback = None;
        match step.apply_files(&files) {
            Ok(()) => {}
            Err((file, e)) if options.three_way && e.wants_fallback() => {
                let failed = match &e {
                    FileError::Hunk(_) => e.describe(),
                    _ => format!("{}: {}", file.path(), e.describe()),
                };
                fallback = Some((file.path().to_owned(), failed));
            }
            Err((file, e)) => {
                let e = match e {
                    FileError::Hunk(h) if !options.three_way => FileError::NoFallback(h),
                    e => e,
                };
                return Err(e.locate(at(file.new_path.as_ref().or(file.old_path.as_ref()))));
            }
        }
        let mut notes = std::mem::take(&mut step.notes);
        let mut three_way = Vec::new();
        if let Some((failed_path, failed)) = fallback {
            // Start over from the tree before this patch: the edits of the attempt
            // are dropped with the old writer.
            writer = repo.tree_writer(tree)?;
            let mut step = PatchStep::new(repo, tree, &mut writer, true);
            step.apply_files(&files).map_err(|(file, e)| {
                let e = match e {
                    FileError::Merge(reason) => FileError::ThreeWay {
                        failed: failed.clone(),
                        reason,
                    },
                    e => e,
                };
                e.locate(at(file.new_path.as_ref().or(file.old_path.as_ref())))
            })?;
            notes.append(&mut step.notes);
            three_way = std::mem::take(&mut step.merged);
            if !three_way.contains(&failed_path) {
                three_way.insert(0, failed_path);
            }
        }
        warnings.extend(notes.into_iter().map(|n| format!("{}: {n}", at(None))));
        let new_tree = writer.write()?;
        if !three_way.is_empty() {
            warnings.push(format!(
                "{}: did not apply as is, applied with a 3-way merge: {}",
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
        fsck::check_commit(&p.message, &p.author.name, &p.author.email).map_err(|reason| {
            ApplyError::Fsck {
                at: at(None),
                reason: Box::new(reason),
            }
        })?;
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
    /// A hunk failure with the 3-way fallback turned off.
    NoFallback(patch::ApplyError),
    /// Why the 3-way merge of this file failed; becomes [`FileError::ThreeWay`] once
    /// the failure that called for the merge is attached.
    Merge(MergeError),
    ThreeWay {
        failed: String,
        reason: MergeError,
    },
    Tree(String),
    /// A patch that cannot apply to any content of the file: no 3-way fallback.
    Refused(String),
    Unsafe(fsck::PathError),
    Fsck(fsck::FsckError),
    Repo(RepoError),
}

impl From<RepoError> for FileError {
    fn from(e: RepoError) -> Self {
        FileError::Repo(e)
    }
}

impl FileError {
    /// Failures that git am -3 answers with a 3-way merge: everything about the
    /// content or presence of files, nothing about the input itself.
    fn wants_fallback(&self) -> bool {
        matches!(self, FileError::Hunk(_) | FileError::Tree(_))
    }

    fn describe(&self) -> String {
        match self {
            FileError::Hunk(e) | FileError::NoFallback(e) => e.to_string(),
            FileError::Tree(s) | FileError::Refused(s) => s.clone(),
            FileError::Merge(e) => e.to_string(),
            FileError::Unsafe(e) => e.to_string(),
            FileError::Fsck(e) => e.to_string(),
            FileError::ThreeWay { reason, .. } => reason.to_string(),
            FileError::Repo(e) => e.to_string(),
        }
    }

    fn locate(self, at: Location) -> ApplyError {
        // The patch module's errors name the file themselves.
        let patch_only = Location {
            path: None,
            ..at.clone()
        };
        match self {
            FileError::Hunk(source) => ApplyError::Hunk {
                at: patch_only,
                source: Box::new(source),
            },
            FileError::NoFallback(source) => ApplyError::NoThreeWay {
                at: patch_only,
                source: Box::new(source),
            },
            FileError::Merge(reason) => ApplyError::ThreeWay {
                at,
                failed: String::new(),
                reason: Box::new(reason),
            },
            FileError::ThreeWay { failed, reason } => ApplyError::ThreeWay {
                at,
                failed,
                reason: Box::new(reason),
            },
            FileError::Tree(reason) | FileError::Refused(reason) => ApplyError::Tree { at, reason },
            FileError::Unsafe(reason) => ApplyError::UnsafePath {
                at,
                reason: Box::new(reason),
            },
            FileError::Fsck(reason) => ApplyError::Fsck {
                at,
                reason: Box::new(reason),
            },
            FileError::Repo(e) => ApplyError::Repo(e),
        }
    }
}

/// The file patches of one mail, applied against the tree before that mail. Like
/// git apply, a path written earlier in the same patch is read back as written,
/// while a path deleted or renamed away is still read as it was, and the sources of
/// renames and copies are read as they were (so renames that swap files work).
struct PatchStep<'a, 'r> {
    repo: &'a Repo,
    before: Oid,
    writer: &'a mut TreeWriter<'r>,
    written: HashMap<BString, Entry>,
    removed: HashSet<BString>,
    notes: Vec<String>,
    /// The second attempt of git am -3: every file is merged in from its preimage
    /// instead of patched in place.
    merge: bool,
    /// Paths whose content came from a 3-way merge with changes on both sides.
    merged: Vec<BString>,
}

impl<'a, 'r> PatchStep<'a, 'r> {
    fn new(repo: &'a Repo, before: Oid, writer: &'a mut TreeWriter<'r>, merge: bool) -> Self {
        PatchStep {
            repo,
            before,
            writer,
            written: HashMap::new(),
            removed: HashSet::new(),
            notes: Vec::new(),
            merge,
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

    /// Applies all file patches of one mail in two passes, as git apply writes them
    /// out (apply.c `write_out_results`): first every deletion and the removal of
    /// every rename source, then the creations and modifications. git format-patch
    /// orders files by path, so `new file dir` comes before `deleted file dir/x` (a
    /// blob `dir` sorts before the tree `dir/`): the creation must see the directory
    /// already emptied. On failure, returns the file patch that failed.
    fn apply_files<'f>(
        &mut self,
        files: &'f [FilePatch],
    ) -> Result<(), (&'f FilePatch, FileError)> {
        for file in files {
            self.remove_old(file).map_err(|e| (file, e))?;
        }
        for file in files {
            if file.operation != Operation::Delete {
                self.apply_file(file).map_err(|e| (file, e))?;
            }
        }
        Ok(())
    }

    /// The first pass of [`PatchStep::apply_files`]: a deletion, or the removal of a
    /// rename's source (its content is read from the tree before the patch later).
    fn remove_old(&mut self, file: &FilePatch) -> Result<(), FileError> {
        match file.operation {
            Operation::Delete => self.apply_file(file),
            Operation::Rename => {
                check_paths(file)?;
                match &file.old_path {
                    Some(from) if self.repo.entry(self.before, from.as_bstr())?.is_some() => {
                        self.remove(from.as_bstr())
                    }
                    // The second pass reports the missing source.
                    _ => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }

    /// Whether `path` is a directory once this patch's removals are done: some file
    /// under it in the tree before was not removed, or this patch wrote one.
    fn is_live_dir(&self, path: &BStr) -> Result<bool, FileError> {
        let mut prefix = path.to_owned();
        prefix.push(b'/');
        if self.written.keys().any(|p| p.starts_with(&prefix)) {
            return Ok(true);
        }
        Ok(self
            .repo
            .files_under(self.before, path)?
            .iter()
            .any(|p| !self.removed.contains(p)))
    }

    /// A file that sits where `path` needs a directory (one of its leading
    /// components), once this patch's removals are done.
    fn file_above(&self, path: &BStr) -> Result<Option<BString>, FileError> {
        for i in path.find_iter("/") {
            let parent = path[..i].as_bstr();
            if self.exists(parent)? {
                return Ok(Some(parent.to_owned()));
            }
        }
        Ok(None)
    }

    /// Refuses to create `path` over a directory or under a file that stays: git
    /// apply cannot add such an entry to the index either.
    fn check_free(&self, path: &BStr) -> Result<(), FileError> {
        if self.is_live_dir(path)? {
            return Err(self.fail("a directory of that name exists"));
        }
        if let Some(file) = self.file_above(path)? {
            return Err(self.fail(&format!("{file} is a file, not a directory")));
        }
        Ok(())
    }

    fn apply_file(&mut self, file: &FilePatch) -> Result<(), FileError> {
        check_paths(file)?;
        let old_path = file.old_path.as_ref().map(|p| p.as_bstr());
        let new_path = file.new_path.as_ref().map(|p| p.as_bstr());
        if let (true, Operation::Modify, Some(path)) = (file.maybe_new, &file.operation, old_path) {
            if !self.exists(path)? {
                // As git apply: a traditional diff with no old lines creates a
                // file the tree does not have.
                return self.apply_file(&FilePatch {
                    operation: Operation::Create,
                    old_path: None,
                    old_mode: None,
                    maybe_new: false,
                    ..file.clone()
                });
            }
        }
        match file.operation {
            Operation::Create => {
                let path =
                    new_path.ok_or_else(|| FileError::Tree("creation without a path".into()))?;
                let data = self.content(file, &[])?;
                let mode = file.new_mode.unwrap_or(FileMode::Regular);
                if self.exists(path)? {
                    // Both sides added the file: a merge of two additions is clean
                    // only when they are the same.
                    let ours = self.existing(path)?;
                    if self.merge && ours.mode == mode && data.is(&self.entry_content(ours)?) {
                        return Ok(());
                    }
                    return Err(self.fail("already exists in the base tree"));
                }
                self.check_free(path)?;
                self.write(path, mode, data)
            }
            Operation::Delete => {
                let path =
                    old_path.ok_or_else(|| FileError::Tree("deletion without a path".into()))?;
                if self.merge {
                    let preimage = self.preimage(file)?;
                    return match self.read(path)? {
                        // Deleted on both sides.
                        None => Ok(()),
                        // No index line: git takes the base from the current tree.
                        Some(_) if preimage.is_none() => self.remove(path),
                        Some(ours) if Some(ours.oid) == preimage.map(|(oid, _)| oid) => {
                            self.remove(path)
                        }
                        Some(_) => Err(FileError::Merge(MergeError::DeletedChanged)),
                    };
                }
                let entry = self.existing(path)?;
                check_binary_preimage(file, entry)?;
                let old = self.entry_content(entry)?;
                if matches!(file.body, Body::None)
                    && !old.is_empty()
                    && entry.mode != FileMode::Gitlink
                {
                    // git apply refuses this whatever -3 says: a deletion without
                    // hunks only fits an empty file.
                    return Err(FileError::Refused(
                        "removal patch leaves file contents (the patch deletes the file without removing its lines)".into(),
                    ));
                }
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
                // git apply reads the source of a rename or copy as it was before
                // the patch (apply.c `previous_patch`), whatever else the patch does.
                let source = match file.operation {
                    Operation::Modify => self.existing(from),
                    _ => self
                        .repo
                        .entry(self.before, from)?
                        .ok_or_else(|| FileError::Tree("does not exist in the base tree".into())),
                };
                let entry = match source {
                    Err(FileError::Tree(_)) if self.merge => {
                        return Err(FileError::Merge(MergeError::ChangedDeleted(
                            from.to_owned(),
                        )))
                    }
                    other => other?,
                };
                if from != to {
                    if self.exists(to)? && !self.removed.contains(to) {
                        return Err(self.fail(&format!("{to} already exists")));
                    }
                    self.check_free(to)?;
                }
                let old = self.entry_content(entry)?;
                let (data, mode) = if self.merge {
                    let (data, mode) = self.merged_content(file, entry, &old)?;
                    (Content::from(data), mode)
                } else {
                    check_binary_preimage(file, entry)?;
                    let data = self.content(file, &old)?;
                    (data, self.direct_mode(file, from, entry.mode))
                };
                if mode == entry.mode && data.is(&old) {
                    check_entry(to, mode, Some(&old)).map_err(FileError::Unsafe)?;
                    self.writer.upsert(to, entry)?;
                    self.written.insert(to.to_owned(), entry);
                    self.removed.remove(to);
                    return Ok(());
                }
                self.write(to, mode, data)
            }
        }
    }

    /// The mode after a clean apply. A mode on the `index` line only says what the
    /// sender had: like git apply, keep ours (and say so) unless the patch changes
    /// the mode.
    fn direct_mode(&mut self, file: &FilePatch, path: &BStr, current: FileMode) -> FileMode {
        if let Some(expected) = file.old_mode.filter(|m| *m != current) {
            self.notes.push(format!(
                "{path} has type {:o}, expected {:o}",
                current.as_octal(),
                expected.as_octal()
            ));
        }
        match (file.old_mode, file.new_mode) {
            (Some(old), Some(new)) if old != new => new,
            (None, Some(new)) => new,
            _ => current,
        }
    }

    /// A failure about the presence of files: it calls for the fallback on the first
    /// attempt, and is a conflict of the merge on the second.
    fn fail(&self, reason: &str) -> FileError {
        if self.merge {
            FileError::Merge(MergeError::Presence(reason.into()))
        } else {
            FileError::Tree(reason.into())
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

    fn content<'c>(&self, file: &'c FilePatch, old: &'c [u8]) -> Result<Content<'c>, FileError> {
        if let Some(data) = self.known_postimage(file) {
            return Ok(data.into());
        }
        Ok(file
            .apply_with_report(old)
            .map_err(FileError::Hunk)?
            .content)
    }

    /// A binary diff without data (`Binary files a/x and b/x differ`) made with
    /// `--full-index` names its result blob in full; when this repository has that
    /// blob, it is the result, as in git apply. (The preimage was checked against
    /// the full old id already.)
    fn known_postimage(&self, file: &FilePatch) -> Option<Vec<u8>> {
        let Body::Binary(binary) = &file.body else {
            return None;
        };
        if !matches!(binary.forward, patch::BinaryData::Missing) {
            return None;
        }
        let oid = file
            .new_oid
            .as_deref()
            .filter(|hex| hex.len() == 40)
            .and_then(Oid::from_hex)?;
        // Missing here (or not a blob): the patch lacks the data after all.
        self.repo.read_blob(oid).ok()
    }

    /// The preimage blob named on the patch's `index` line, with its abbreviation as
    /// written, or `None` for a patch without content change (a pure rename or mode
    /// change, which git am -3 takes from the current tree).
    fn preimage(&self, file: &FilePatch) -> Result<Option<(Oid, String)>, FileError> {
        let Some(abbrev) = file.old_oid.as_deref() else {
            if matches!(file.body, Body::None) {
                return Ok(None);
            }
            return Err(FileError::Merge(MergeError::NoIndexLine));
        };
        match self.repo.find_by_prefix(abbrev) {
            PrefixMatch::Unique(oid) => Ok(Some((oid, abbrev.to_owned()))),
            PrefixMatch::Ambiguous => Err(FileError::Merge(MergeError::Ambiguous {
                abbrev: abbrev.to_owned(),
            })),
            PrefixMatch::Missing => Err(FileError::Merge(MergeError::Missing {
                abbrev: abbrev.to_owned(),
            })),
        }
    }

    /// What `git am -3` gives for one file: the patch applied to the preimage blob its
    /// `index` line names, where it must apply, merged with `old` (the blob `ours`),
    /// and the mode merged the same way.
    fn merged_content(
        &mut self,
        file: &FilePatch,
        ours: Entry,
        old: &[u8],
    ) -> Result<(Vec<u8>, FileMode), FileError> {
        let base_mode = file.old_mode.unwrap_or(ours.mode);
        let their_mode = file.new_mode.unwrap_or(base_mode);
        let mode = if ours.mode == base_mode || ours.mode == their_mode {
            their_mode
        } else if their_mode == base_mode {
            ours.mode
        } else {
            return Err(FileError::Merge(MergeError::Mode {
                ours: ours.mode.as_octal(),
                base: base_mode.as_octal(),
                theirs: their_mode.as_octal(),
            }));
        };
        let Some((preimage, abbrev)) = self.preimage(file)? else {
            return Ok((old.to_vec(), mode));
        };
        let base = self
            .repo
            .read_blob(preimage)
            .map_err(|e| FileError::Merge(MergeError::Unreadable(e)))?;
        let theirs = file.apply(&base).map_err(|e| {
            FileError::Merge(MergeError::NotOwnPreimage {
                abbrev: abbrev.clone(),
                source: Box::new(e),
            })
        })?;
        if ours.oid == preimage {
            return Ok((theirs, mode));
        }
        let data = merge_contents(file, &abbrev, &base, ours, preimage, old, theirs)
            .map_err(FileError::Merge)?;
        self.merged.push(file.path().to_owned());
        Ok((data, mode))
    }

    /// What a patch sees as the content of `entry`: the blob, or for a submodule
    /// (gitlink, no blob behind it) the line git diff writes for it.
    fn entry_content(&self, entry: Entry) -> Result<Vec<u8>, FileError> {
        if entry.mode == FileMode::Gitlink {
            return Ok(format!("Subproject commit {}\n", entry.oid).into_bytes());
        }
        Ok(self.repo.read_blob(entry.oid)?)
    }

    fn write(&mut self, path: &BStr, mode: FileMode, data: Content) -> Result<(), FileError> {
        let oid = if data.len() > STREAM_ABOVE
            && matches!(mode, FileMode::Regular | FileMode::Executable)
            && !fsck::reads_content(path)
        {
            check_entry(path, mode, None).map_err(FileError::Unsafe)?;
            self.repo
                .write_blob_stream(data.len() as u64, &mut data.reader())?
        } else {
            self.write_bytes(path, mode, &data.into_vec())?
        };
        let entry = Entry { mode, oid };
        self.writer.upsert(path, entry)?;
        self.written.insert(path.to_owned(), entry);
        self.removed.remove(path);
        Ok(())
    }

    /// The object for `data` at `path`, after the checks that read the content.
    fn write_bytes(&self, path: &BStr, mode: FileMode, data: &[u8]) -> Result<Oid, FileError> {
        check_entry(path, mode, Some(data)).map_err(FileError::Unsafe)?;
        if fsck::is_gitmodules(path) {
            // What git's config parser refuses, `git fsck --strict` warns about
            // (gitmodulesParse), and git's submodule code would stop on.
            let entries = repo::parse_config(data)
                .ok_or(FileError::Fsck(fsck::FsckError::GitmodulesParse))?;
            fsck::check_gitmodules(&entries).map_err(FileError::Fsck)?;
        }
        if mode == FileMode::Gitlink {
            return gitlink_target(data).ok_or_else(|| {
                FileError::Tree(format!(
                    "corrupt patch for submodule {path}: its content is not \"Subproject commit <id>\""
                ))
            });
        }
        Ok(self.repo.write_blob(data)?)
    }

    fn remove(&mut self, path: &BStr) -> Result<(), FileError> {
        self.writer.remove(path)?;
        self.written.remove(path);
        self.removed.insert(path.to_owned());
        Ok(())
    }
}

/// The commit a submodule entry points to, from the text a patch gives it (git
/// apply's `add_index_file`: `Subproject commit ` and a full hex id; the rest of the
/// line is not looked at).
fn gitlink_target(data: &[u8]) -> Option<Oid> {
    let hex = data.strip_prefix(b"Subproject commit ")?.get(..40)?;
    Oid::from_hex(std::str::from_utf8(hex).ok()?)
}

fn check_paths(file: &FilePatch) -> Result<(), FileError> {
    for p in [&file.old_path, &file.new_path].into_iter().flatten() {
        check_path(p.as_ref()).map_err(FileError::Unsafe)?;
    }
    Ok(())
}

/// A binary patch says nothing about the content it replaces but its blob id: as git
/// apply does, it applies only to that very blob (else the 3-way fallback decides).
fn check_binary_preimage(file: &FilePatch, entry: Entry) -> Result<(), FileError> {
    match &file.old_oid {
        Some(abbrev) if file.is_binary() && !entry.oid.to_string().starts_with(abbrev.as_str()) => {
            Err(FileError::Hunk(patch::ApplyError::BinaryFailed {
                path: file.path().to_str_lossy().into_owned(),
                reason: format!(
                    "it was made on blob {abbrev}, the file here is blob {}",
                    entry.oid
                ),
            }))
        }
        _ => Ok(()),
    }
}

/// Why the 3-way merge of a file was impossible or conflicted.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("3-way merge conflicts: the patch deletes the file, which was changed since the patch was made")]
    DeletedChanged,
    #[error(
        "3-way merge conflicts: the patch changes {0}, which was deleted since the patch was made"
    )]
    ChangedDeleted(BString),
    /// A file that is there or missing against the patch's expectation.
    #[error("3-way merge conflicts: {0}")]
    Presence(String),
    /// Modes in octal: the tree's, and the patch's change from `base` to `theirs`.
    #[error("3-way merge conflicts: mode {ours:o} here, the patch changes {base:o} to {theirs:o}")]
    Mode { ours: u32, base: u32, theirs: u32 },
    #[error("3-way merge impossible: the patch has no index line naming its preimage blob")]
    NoIndexLine,
    #[error("3-way merge impossible: preimage blob {abbrev} is ambiguous (several blobs here start with it)")]
    Ambiguous { abbrev: String },
    #[error("3-way merge impossible: preimage blob {abbrev} is not in this repository (was the patch made on another history?)")]
    Missing { abbrev: String },
    #[error("3-way merge impossible: {0}")]
    Unreadable(#[source] RepoError),
    #[error("3-way merge impossible: the patch does not apply to its own preimage blob {abbrev} either ({source})")]
    NotOwnPreimage {
        abbrev: String,
        source: Box<patch::ApplyError>,
    },
    #[error(
        "3-way merge impossible: binary file changed since the patch was made (preimage {abbrev})"
    )]
    Binary { abbrev: String },
    #[error("3-way merge with preimage {abbrev} conflicts")]
    Conflict { abbrev: String },
    /// `at` lists the conflicting ranges: ours (preimage's).
    #[error("3-way merge with preimage {abbrev} conflicts at {at} of the file being patched")]
    ConflictAt { abbrev: String, at: String },
}

/// Merges the patch's change (`base` -> `theirs`) into `old` (the blob `ours`).
fn merge_contents(
    file: &FilePatch,
    abbrev: &str,
    base: &[u8],
    ours: Entry,
    preimage: Oid,
    old: &[u8],
    theirs: Vec<u8>,
) -> Result<Vec<u8>, MergeError> {
    if is_binary(file, [base, old, &theirs]) {
        return merge_binary(preimage, ours, old, theirs).ok_or_else(|| MergeError::Binary {
            abbrev: abbrev.to_owned(),
        });
    }
    match repo::merge_blobs(base, old, &theirs) {
        MergeOutcome::Clean(data) => Ok(data),
        MergeOutcome::Conflict { ranges } if ranges.is_empty() => Err(MergeError::Conflict {
            abbrev: abbrev.to_owned(),
        }),
        MergeOutcome::Conflict { ranges } => {
            let at: Vec<String> = ranges
                .iter()
                .map(|r| format!("{} (preimage {})", r.ours, r.base))
                .collect();
            Err(MergeError::ConflictAt {
                abbrev: abbrev.to_owned(),
                at: at.join(", "),
            })
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
