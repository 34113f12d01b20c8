//! The one module that knows gix: objects, trees, commits, refs, config.
//!
//! Everything here speaks plain data ([`Oid`], [`Entry`], [`Person`], byte paths) so that
//! the rest of the crate never sees a gix type.

use std::fmt;
use std::path::Path;

use bstr::{BStr, BString, ByteSlice};
use gix::object::tree::EntryKind;
use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};

use crate::patch::FileMode;

mod merge;
pub use merge::{merge_blobs, ConflictRange, LineRange, MergeOutcome};

/// The gix error (or our own words) under a [`RepoError`], kept as its `source()`.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("cannot open git repository at {path}: {source}")]
    Open { path: String, source: Cause },
    #[error("{rev:?} does not name a commit: {source}")]
    BadRevision { rev: String, source: Cause },
    #[error("{what}: {source}")]
    Object { what: String, source: Cause },
    #[error("cannot update {refs}: {source}")]
    Refs { refs: String, source: Cause },
    #[error("no committer identity: set user.name and user.email, or GIT_COMMITTER_NAME/EMAIL")]
    NoCommitter,
    #[error("bad committer identity: {0}")]
    BadCommitter(String),
}

/// A config value git itself would refuse (or that a key of ours cannot take).
#[derive(Debug, thiserror::Error)]
#[error("bad config value {value:?} for {key}: {source}")]
pub struct ConfigError {
    pub key: String,
    pub value: String,
    pub source: Cause,
}

type Result<T, E = RepoError> = std::result::Result<T, E>;

fn object_err<E: Into<Cause>>(what: impl Into<String>) -> impl FnOnce(E) -> RepoError {
    let what = what.into();
    move |e| RepoError::Object {
        what,
        source: e.into(),
    }
}

/// An object id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Oid(gix::ObjectId);

impl Oid {
    pub fn from_hex(hex: &str) -> Option<Self> {
        gix::ObjectId::from_hex(hex.as_bytes()).ok().map(Oid)
    }

    pub fn is_null(&self) -> bool {
        self.0.is_null()
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What an abbreviated object id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrefixMatch {
    Missing,
    Unique(Oid),
    /// Several objects, and not exactly one blob among them.
    Ambiguous,
}

/// The choice among several objects sharing a prefix, given whether each is a blob:
/// the one blob, as git's blob disambiguation picks it, or ambiguous when there are
/// none or several (git's `finish_object_disambiguation`).
fn resolve_among_blobs(candidates: impl IntoIterator<Item = (Oid, bool)>) -> PrefixMatch {
    let mut blobs = candidates.into_iter().filter(|(_, is_blob)| *is_blob);
    match (blobs.next(), blobs.next()) {
        (Some((oid, _)), None) => PrefixMatch::Unique(oid),
        _ => PrefixMatch::Ambiguous,
    }
}

/// A tree entry that is not a tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub mode: FileMode,
    pub oid: Oid,
}

/// A signature: who, and when (seconds since the epoch, offset east of UTC in seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub email: String,
    pub seconds: i64,
    pub offset: i32,
}

impl Person {
    fn to_gix(&self) -> gix::actor::Signature {
        gix::actor::Signature {
            name: self.name.as_str().into(),
            email: self.email.as_str().into(),
            time: gix::date::Time {
                seconds: self.seconds,
                offset: self.offset,
            },
        }
    }

    fn from_gix(sig: gix::actor::SignatureRef<'_>) -> Self {
        let time = sig.time().unwrap_or_default();
        Person {
            name: sig.name.to_str_lossy().into_owned(),
            email: sig.email.to_str_lossy().into_owned(),
            seconds: time.seconds,
            offset: time.offset,
        }
    }
}

/// Parses a mail `Date:` header (RFC 2822, and the other forms git accepts) into
/// seconds since the epoch and the offset it was written in.
pub fn parse_date(value: &str) -> Option<(i64, i32)> {
    gix::date::parse(value.trim(), None)
        .ok()
        .map(|t| (t.seconds, t.offset))
}

#[derive(Debug, Clone)]
pub struct CommitInfo {
    pub tree: Oid,
    pub parents: Vec<Oid>,
    pub message: String,
    pub author: Person,
    pub committer: Person,
}

/// What a ref must hold before an update, for compare-and-swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Absent,
    Any,
    Value(Oid),
}

#[derive(Debug, Clone)]
pub struct RefUpdate {
    /// Full name, e.g. `refs/tags/patchew/<id>`.
    pub name: String,
    pub new: Oid,
    pub expect: Expect,
}

pub struct Repo {
    inner: gix::Repository,
}

impl Repo {
    /// Opens the repository containing `dir` as git finds it: `GIT_DIR` and
    /// `GIT_WORK_TREE` (set for hooks, too), else upwards from `dir` within
    /// `GIT_CEILING_DIRECTORIES` (gix reads the environment, as git does).
    pub fn discover(dir: &Path) -> Result<Self> {
        let inner = gix::ThreadSafeRepository::discover_with_environment_overrides(dir)
            .map_err(|e| RepoError::Open {
                path: dir.display().to_string(),
                source: e.into(),
            })?
            .to_thread_local();
        Ok(Repo { inner })
    }

    pub fn git_dir(&self) -> &Path {
        self.inner.git_dir()
    }

    /// Where git would be started for this repository: the work tree, or the git dir
    /// of a bare repository.
    pub fn top_dir(&self) -> &Path {
        self.inner.workdir().unwrap_or_else(|| self.inner.git_dir())
    }

    /// The common git dir, where hooks and config live for all worktrees.
    pub fn common_dir(&self) -> &Path {
        self.inner.common_dir()
    }

    /// Where git looks for hooks: `core.hooksPath` (relative to the worktree root, or
    /// the git dir of a bare repository, as git resolves it), else `hooks/` in the
    /// common git dir so that linked worktrees share it.
    pub fn hooks_dir(&self) -> Result<std::path::PathBuf, ConfigError> {
        Ok(match self.config_path("core.hooksPath")? {
            Some(p) => {
                if p.is_absolute() {
                    p
                } else {
                    self.inner
                        .workdir()
                        .unwrap_or_else(|| self.inner.git_dir())
                        .join(p)
                }
            }
            None => self.inner.common_dir().join("hooks"),
        })
    }

    /// Resolves a revision to the commit it names.
    pub fn resolve_commit(&self, rev: &str) -> Result<Oid> {
        let bad = |source: Cause| RepoError::BadRevision {
            rev: rev.to_owned(),
            source,
        };
        let id = self
            .inner
            .rev_parse_single(rev)
            .map_err(|e| bad(e.into()))?;
        let commit = id
            .object()
            .map_err(|e| bad(e.into()))?
            .peel_to_commit()
            .map_err(|e| bad(e.into()))?;
        Ok(Oid(commit.id))
    }

    /// Like [`Repo::resolve_commit`], but a name that does not exist is `None`.
    pub fn try_resolve_commit(&self, rev: &str) -> Option<Oid> {
        self.resolve_commit(rev).ok()
    }

    /// The object an abbreviated blob id (at least 4 hex digits) names. When several
    /// objects start with `hex`, only blobs count, as `git am -3` resolves the ids of
    /// `index` lines (`get_oid_blob`): a longer history makes short prefixes collide
    /// with commits and trees, which must not hide the one blob meant.
    pub fn find_by_prefix(&self, hex: &str) -> PrefixMatch {
        if hex.len() < 4 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return PrefixMatch::Missing;
        }
        let Ok(prefix) = gix::hash::Prefix::from_hex(hex) else {
            return PrefixMatch::Missing;
        };
        match self.inner.objects.lookup_prefix(prefix, None) {
            Ok(Some(Ok(id))) => return PrefixMatch::Unique(Oid(id)),
            Ok(Some(Err(()))) => {}
            _ => return PrefixMatch::Missing,
        }
        let mut candidates = std::collections::HashSet::new();
        if self
            .inner
            .objects
            .lookup_prefix(prefix, Some(&mut candidates))
            .is_err()
        {
            return PrefixMatch::Ambiguous;
        }
        resolve_among_blobs(candidates.into_iter().map(|id| {
            let is_blob = self
                .inner
                .find_header(id)
                .is_ok_and(|h| h.kind() == gix::object::Kind::Blob);
            (Oid(id), is_blob)
        }))
    }

    /// Every file (non-tree entry) under the directory `dir` of `tree`, recursively,
    /// as full paths; empty when `dir` is not a directory there.
    pub fn files_under(&self, tree: Oid, dir: &BStr) -> Result<Vec<BString>> {
        let what = || format!("tree {tree} at {dir}");
        let tree_obj = self.inner.find_tree(tree.0).map_err(object_err(what()))?;
        let found = tree_obj
            .lookup_entry(dir.split(|b| *b == b'/'))
            .map_err(object_err(what()))?;
        let mut files = Vec::new();
        let mut pending = match found {
            Some(e) if e.mode().is_tree() => vec![(BString::from(dir), Oid(e.object_id()))],
            _ => return Ok(files),
        };
        while let Some((path, oid)) = pending.pop() {
            let sub = self
                .inner
                .find_tree(oid.0)
                .map_err(object_err(format!("tree {oid} at {path}")))?;
            let decoded = sub
                .decode()
                .map_err(object_err(format!("tree {oid} at {path}")))?;
            for entry in &decoded.entries {
                let mut full = path.clone();
                full.push(b'/');
                full.extend_from_slice(entry.filename);
                if entry.mode.is_tree() {
                    pending.push((full, Oid(entry.oid.to_owned())));
                } else {
                    files.push(full);
                }
            }
        }
        Ok(files)
    }

    pub fn commit_info(&self, oid: Oid) -> Result<CommitInfo> {
        let what = format!("commit {oid}");
        let commit = self.inner.find_commit(oid.0).map_err(object_err(&what))?;
        let decoded = commit.decode().map_err(object_err(&what))?;
        Ok(CommitInfo {
            tree: Oid(decoded.tree()),
            parents: decoded.parents().map(Oid).collect(),
            message: decoded.message.to_str_lossy().into_owned(),
            author: Person::from_gix(decoded.author().map_err(object_err(&what))?),
            committer: Person::from_gix(decoded.committer().map_err(object_err(&what))?),
        })
    }

    /// The non-tree entry at `path` in `tree`, if any.
    pub fn entry(&self, tree: Oid, path: &BStr) -> Result<Option<Entry>> {
        let what = || format!("tree {tree} at {path}");
        let tree_obj = self.inner.find_tree(tree.0).map_err(object_err(what()))?;
        let found = tree_obj
            .lookup_entry(path.split(|b| *b == b'/'))
            .map_err(object_err(what()))?;
        Ok(found.and_then(|e| {
            let mode = file_mode(e.mode().kind())?;
            Some(Entry {
                mode,
                oid: Oid(e.object_id()),
            })
        }))
    }

    /// The content of the file at `path` in `commit`'s tree, if there is one.
    pub fn read_file(&self, commit: Oid, path: &BStr) -> Result<Option<Vec<u8>>> {
        let tree = self.commit_info(commit)?.tree;
        self.entry(tree, path)?
            .map(|e| self.read_blob(e.oid))
            .transpose()
    }

    pub fn read_blob(&self, oid: Oid) -> Result<Vec<u8>> {
        let blob = self
            .inner
            .find_blob(oid.0)
            .map_err(object_err(format!("blob {oid}")))?;
        Ok(blob.detach().data)
    }

    pub fn write_blob(&self, data: &[u8]) -> Result<Oid> {
        let id = self
            .inner
            .write_blob(data)
            .map_err(object_err("writing a blob"))?;
        Ok(Oid(id.detach()))
    }

    /// Starts a series of tree edits on top of `tree`.
    pub fn tree_writer(&self, tree: Oid) -> Result<TreeWriter<'_>> {
        let what = || format!("tree {tree}");
        let tree_obj = self.inner.find_tree(tree.0).map_err(object_err(what()))?;
        let editor = tree_obj.edit().map_err(object_err(what()))?;
        Ok(TreeWriter { editor })
    }

    pub fn write_commit(
        &self,
        tree: Oid,
        parents: &[Oid],
        author: &Person,
        committer: &Person,
        message: &str,
    ) -> Result<Oid> {
        let author = author.to_gix();
        let committer = committer.to_gix();
        let mut time_buf = gix::date::parse::TimeBuf::default();
        let mut time_buf2 = gix::date::parse::TimeBuf::default();
        let commit = self
            .inner
            .new_commit_as(
                committer.to_ref(&mut time_buf),
                author.to_ref(&mut time_buf2),
                message,
                tree.0,
                parents.iter().map(|p| p.0),
            )
            .map_err(object_err("writing a commit"))?;
        Ok(Oid(commit.id))
    }

    /// The committer as git would use it now: `GIT_COMMITTER_*` environment, then
    /// `user.*` config; the time is now unless `GIT_COMMITTER_DATE` says otherwise.
    pub fn committer(&self) -> Result<Person> {
        let sig = self
            .inner
            .committer()
            .ok_or(RepoError::NoCommitter)?
            .map_err(|e| RepoError::BadCommitter(e.to_string()))?;
        Ok(Person::from_gix(sig))
    }

    pub fn config_string(&self, key: &str) -> Option<String> {
        self.inner
            .config_snapshot()
            .string(key)
            .map(|v| v.to_str_lossy().into_owned())
    }

    /// A boolean as git reads it (`yes`, `on`, `1`, a bare key...); anything else is
    /// an error naming key and value, as `git config --bool` gives.
    pub fn config_bool(&self, key: &str) -> Result<Option<bool>, ConfigError> {
        self.inner
            .config_snapshot()
            .try_boolean(key)
            .map_err(|e| self.config_error(key, e.into()))
    }

    /// An integer as git reads it (`k`, `m`, `g` suffixes); anything else is an error.
    pub fn config_integer(&self, key: &str) -> Result<Option<i64>, ConfigError> {
        self.inner
            .config_snapshot()
            .try_integer(key)
            .map_err(|e| self.config_error(key, e.into()))
    }

    /// A path from a trusted config file, interpolated like git (`~/`, `~user/`).
    pub fn config_path(&self, key: &str) -> Result<Option<std::path::PathBuf>, ConfigError> {
        self.inner
            .config_snapshot()
            .trusted_path(key)
            .map_err(|e| self.config_error(key, e.into()))
    }

    /// A command line to run, only from a trusted config file (one of another user's
    /// repositories must not choose what we run).
    pub fn config_program(&self, key: &str) -> Result<Option<std::ffi::OsString>, ConfigError> {
        self.inner
            .config_snapshot()
            .trusted_program(key)
            .map_err(|e| self.config_error(key, e.into()))
    }

    /// `key`'s value with what is wrong with it.
    pub fn config_error(&self, key: &str, source: Cause) -> ConfigError {
        ConfigError {
            key: key.to_owned(),
            value: self.config_string(key).unwrap_or_default(),
            source,
        }
    }

    /// The URL configured for remote `name`, as written in the config.
    pub fn remote_url(&self, name: &str) -> Option<String> {
        self.config_string(&format!("remote.{name}.url"))
    }

    /// Where `name` points now, peeled to an object id.
    pub fn ref_target(&self, name: &str) -> Option<Oid> {
        let mut r = self.inner.try_find_reference(name).ok()??;
        r.peel_to_id().ok().map(|id| Oid(id.detach()))
    }

    /// Applies all updates in one transaction: every ref is locked first, and either
    /// all change or none does.
    pub fn update_refs(&self, updates: &[RefUpdate], log_message: &str) -> Result<()> {
        let names = || {
            updates
                .iter()
                .map(|u| u.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut edits = Vec::with_capacity(updates.len());
        for u in updates {
            let name = u.name.as_str().try_into().map_err(|e| RepoError::Refs {
                refs: u.name.clone(),
                source: format!("invalid ref name: {e}").into(),
            })?;
            let expected = match u.expect {
                Expect::Absent => PreviousValue::MustNotExist,
                Expect::Any => PreviousValue::Any,
                Expect::Value(oid) => PreviousValue::MustExistAndMatch(oid.0.into()),
            };
            edits.push(RefEdit {
                change: Change::Update {
                    log: LogChange {
                        mode: RefLog::AndReference,
                        force_create_reflog: false,
                        message: BString::from(log_message),
                    },
                    expected,
                    new: u.new.0.into(),
                },
                name,
                deref: false,
            });
        }
        self.inner
            .edit_references(edits)
            .map_err(|e| RepoError::Refs {
                refs: names(),
                source: e.into(),
            })?;
        Ok(())
    }
}

/// Tree edits accumulated in memory, written on [`TreeWriter::write`]. Intermediate
/// directories are created and emptied ones removed as needed.
pub struct TreeWriter<'r> {
    editor: gix::object::tree::Editor<'r>,
}

impl TreeWriter<'_> {
    pub fn upsert(&mut self, path: &BStr, entry: Entry) -> Result<()> {
        self.editor
            .upsert(path, entry_kind(entry.mode), entry.oid.0)
            .map_err(object_err(format!("adding {path} to a tree")))?;
        Ok(())
    }

    pub fn remove(&mut self, path: &BStr) -> Result<()> {
        self.editor
            .remove(path)
            .map_err(object_err(format!("removing {path} from a tree")))?;
        Ok(())
    }

    /// Writes the changed trees; later edits continue from the written state.
    pub fn write(&mut self) -> Result<Oid> {
        let id = self.editor.write().map_err(object_err("writing a tree"))?;
        Ok(Oid(id.detach()))
    }
}

fn entry_kind(mode: FileMode) -> EntryKind {
    match mode {
        FileMode::Regular => EntryKind::Blob,
        FileMode::Executable => EntryKind::BlobExecutable,
        FileMode::Symlink => EntryKind::Link,
        FileMode::Gitlink => EntryKind::Commit,
    }
}

fn file_mode(kind: EntryKind) -> Option<FileMode> {
    match kind {
        EntryKind::Blob => Some(FileMode::Regular),
        EntryKind::BlobExecutable => Some(FileMode::Executable),
        EntryKind::Link => Some(FileMode::Symlink),
        EntryKind::Commit => Some(FileMode::Gitlink),
        EntryKind::Tree => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ambiguous_prefix_resolves_to_its_only_blob() {
        let oid = |hex: &str| Oid::from_hex(hex).unwrap();
        let blob = oid("abcd000000000000000000000000000000000001");
        let tree = oid("abcd000000000000000000000000000000000002");
        let commit = oid("abcd000000000000000000000000000000000003");
        let other_blob = oid("abcd000000000000000000000000000000000004");
        assert_eq!(
            resolve_among_blobs([(tree, false), (blob, true), (commit, false)]),
            PrefixMatch::Unique(blob)
        );
        assert_eq!(
            resolve_among_blobs([(blob, true), (other_blob, true), (tree, false)]),
            PrefixMatch::Ambiguous
        );
        assert_eq!(
            resolve_among_blobs([(tree, false), (commit, false)]),
            PrefixMatch::Ambiguous
        );
    }
}
