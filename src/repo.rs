//! The one module that knows gix: objects, trees, commits, refs, config.
//!
//! Everything here speaks plain data ([`Oid`], [`Entry`], [`Person`], byte paths) so that
//! the rest of the crate never sees a gix type.

use std::fmt;
use std::path::Path;

use bstr::{BStr, BString, ByteSlice};
use gix::object::tree::EntryKind;
use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};

mod command_line;
mod merge;
pub use command_line::ParameterError;
pub use merge::{merge_blobs, ConflictRange, LineRange, MergeOutcome};

/// The gix error (or our own words) under a [`RepoError`], kept as its `source()`.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("cannot open git repository at {path}: {}", with_causes(source.as_ref()))]
    Open { path: String, source: Cause },
    #[error("{rev:?} does not name a commit: {}", with_causes(source.as_ref()))]
    BadRevision { rev: String, source: Cause },
    #[error("{what}: {}", with_causes(source.as_ref()))]
    Object { what: String, source: Cause },
    #[error("cannot update {refs}: {}", with_causes(source.as_ref()))]
    Refs { refs: String, source: Cause },
    #[error("no committer identity: set user.name and user.email, or GIT_COMMITTER_NAME/EMAIL")]
    NoCommitter,
    #[error("bad committer identity: {0}")]
    BadCommitter(String),
    /// Another process holds a lock we need, or a killed one left it behind.
    #[error("cannot update {refs}: {}", lock_advice(file, *age_secs))]
    Locked {
        refs: String,
        file: String,
        age_secs: Option<u64>,
    },
    /// A signal or the applier's deadline stopped the work at a safe point.
    #[error(transparent)]
    Stopped(#[from] crate::interrupt::Stop),
    /// `git -c` options (in `GIT_CONFIG_PARAMETERS`) that git would refuse too.
    #[error(transparent)]
    CommandLineConfig(#[from] ParameterError),
}

/// A lock older than this was left by a process that died: no git operation holds
/// a ref lock for that long.
const STALE_LOCK_SECS: u64 = 60;

fn lock_advice(file: &str, age_secs: Option<u64>) -> String {
    match age_secs {
        Some(age) if age > STALE_LOCK_SECS => format!(
            "{file} is {age} s old: a git process was killed while holding it; if no git \
             process is running in this repository, remove it (rm {file}) and try again"
        ),
        _ => format!(
            "{file} exists: another git process is updating refs, or one was killed while \
             doing so (remove the file if none is running)"
        ),
    }
}

impl RepoError {
    /// Trouble of the moment (a lock held by another process, a signal), not of the
    /// data.
    pub fn is_temporary(&self) -> bool {
        matches!(self, RepoError::Locked { .. } | RepoError::Stopped(_))
    }

    /// The user's input is wrong (a `git -c` option): retrying will not help.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, RepoError::CommandLineConfig(_))
    }
}

/// gix's handler for SIGINT, SIGTERM, SIGHUP and SIGQUIT (see `interrupt`): it
/// also removes gix's lock and temporary files when a second signal ends the process.
pub fn install_signal_handlers() {
    // Only fails when the handlers cannot be registered; the default behaviour
    // (dying at once) then remains, which is what we had.
    let _ = gix::interrupt::init_handler_default(1);
}

/// Whether a termination signal has arrived since [`install_signal_handlers`].
pub fn signal_received() -> bool {
    gix::interrupt::is_triggered()
}

/// Removes the lock and temporary files gix holds now, for a process about to end
/// without unwinding (a closed stdout, see `stdio`): what a second signal does.
pub fn remove_lock_and_temporary_files() {
    gix::tempfile::registry::cleanup_tempfiles();
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

/// A stream of exactly `left` bytes: the size goes into the object's header before
/// the bytes are read, so a stream that disagrees must fail the write, not make a
/// corrupt object.
struct ExactSize<'a> {
    inner: &'a mut dyn std::io::Read,
    left: u64,
}

impl std::io::Read for ExactSize<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        match self.left.checked_sub(n as u64) {
            _ if n == 0 && self.left > 0 => Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("the content ended {} bytes short of its size", self.left),
            )),
            Some(left) => {
                self.left = left;
                Ok(n)
            }
            None => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the content is longer than its size",
            )),
        }
    }
}

/// The error and each cause below it, on one line: gix's own message alone often
/// drops the operating system's reason ("Could not persist loose object", without
/// "Not a directory" or "No space left on device").
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let said = c.to_string();
        if !said.is_empty() && !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = c.source();
    }
    text
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

/// A date as git's date parser (gix's, which follows it) reads it: seconds since the
/// epoch and the offset it was written in. `input::date` prepares mail dates for it.
pub fn parse_git_date(value: &str) -> Option<(i64, i32)> {
    gix::date::parse(value, None)
        .ok()
        .map(|t| (t.seconds, t.offset))
}

/// The first second of 2100 (UTC): git's date parser knows the years 1970 to 2099.
const GIT_DATE_END: i64 = 4_102_444_800;

/// Whether git would write this date: git refuses ("invalid date format") a date
/// whose written (local) time or whose UTC time is before 1970 or after 2099,
/// measured with `git commit-tree` (tests/fsck_attacks.rs checks the edges against
/// git). Before 1970 the seconds are negative, which `git fsck` calls `badDate`.
pub fn in_git_range(seconds: i64, offset: i32) -> bool {
    let local = seconds.saturating_add(i64::from(offset));
    (0..GIT_DATE_END).contains(&seconds) && (0..GIT_DATE_END).contains(&local)
}

/// The kind of a tree entry that is not a tree, as a patch or a tree states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileMode {
    Regular,
    Executable,
    Symlink,
    Gitlink,
}

impl FileMode {
    /// Maps a git mode number to a kind. Like git, any regular-file permission bits are
    /// accepted and only the owner's execute bit matters (old repositories have 100664).
    pub fn from_octal(mode: u32) -> Option<FileMode> {
        match mode & 0o170000 {
            0o100000 if mode & 0o100 != 0 => Some(FileMode::Executable),
            0o100000 => Some(FileMode::Regular),
            0o120000 if mode == 0o120000 => Some(FileMode::Symlink),
            0o160000 if mode == 0o160000 => Some(FileMode::Gitlink),
            _ => None,
        }
    }

    /// The canonical mode number git writes in trees.
    pub fn as_octal(self) -> u32 {
        match self {
            FileMode::Regular => 0o100644,
            FileMode::Executable => 0o100755,
            FileMode::Symlink => 0o120000,
            FileMode::Gitlink => 0o160000,
        }
    }
}

#[derive(Debug, Clone)]
pub struct CommitInfo {
    pub tree: Oid,
    pub parents: Vec<Oid>,
    pub message: String,
    pub author: Person,
    pub committer: Person,
}

/// A file that differs between two trees; a side is `None` where the file does not
/// exist (or is a directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub path: BString,
    pub old: Option<Entry>,
    pub new: Option<Entry>,
}

/// A run of changed lines: 0-based, half-open line ranges of the old and new file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineHunk {
    pub before: std::ops::Range<usize>,
    pub after: std::ops::Range<usize>,
}

/// The changed runs of lines from `old` to `new` as `git diff` finds them by
/// default: Myers, then the indent heuristic for ambiguous runs.
pub fn line_hunks(old: &[u8], new: &[u8]) -> Vec<LineHunk> {
    use gix::diff::blob::{sources::byte_lines, Diff, InternedInput};
    let input = InternedInput::new(byte_lines(old), byte_lines(new));
    let mut diff = Diff::compute(gix::diff::blob::Algorithm::Myers, &input);
    diff.postprocess_lines(&input);
    diff.hunks()
        .map(|h| LineHunk {
            before: h.before.start as usize..h.before.end as usize,
            after: h.after.start as usize..h.after.end as usize,
        })
        .collect()
}

/// SHA-1 over bytes fed in pieces (git's patch ids are SHA-1 whatever the
/// repository's object hash).
pub struct Sha1(gix::hash::Hasher);

impl Default for Sha1 {
    fn default() -> Self {
        Sha1(gix::hash::hasher(gix::hash::Kind::Sha1))
    }
}

impl Sha1 {
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// `None` when the input is a known SHA-1 collision attack (gix hashes with
    /// collision detection).
    pub fn finish(self) -> Option<[u8; 20]> {
        let id = self.0.try_finalize().ok()?;
        let mut out = [0; 20];
        out.copy_from_slice(id.as_bytes());
        Some(out)
    }
}

/// What merging two commits gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeMerge {
    Clean(Oid),
    /// The paths that conflict.
    Conflict(Vec<String>),
}

/// An annotated tag object, as far as we read one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagObject {
    /// The name recorded in the object (without `refs/tags/`).
    pub name: String,
    pub target: Oid,
    pub target_is_commit: bool,
    pub message: String,
}

/// A remote URL in one spelling per repository, for telling whether two URLs name
/// the same one: parsed as git parses remotes (scp-like `host:path` included),
/// local paths and `file://` resolved against `current_dir` with symlinks followed,
/// credentials dropped, scheme and host lower-cased, the default port made
/// explicit, and the path without trailing `/` or `.git` (lower-cased for network
/// URLs: GitLab's project paths ignore case). Unparsable text is kept as it is.
pub fn canonical_remote_url(url: &str, current_dir: &Path) -> String {
    let url = url.trim();
    // git takes `HTTPS://` as https; gix's parser wants the scheme in lower case.
    let url = match url.split_once("://") {
        Some((scheme, rest)) => format!("{}://{rest}", scheme.to_ascii_lowercase()),
        None => url.to_owned(),
    };
    let Ok(parsed) = gix::url::parse(url.as_bytes().as_bstr()) else {
        return url;
    };
    let parsed = parsed.canonicalized(current_dir).unwrap_or(parsed);
    let path = parsed.path.to_str_lossy();
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    if parsed.scheme == gix::url::Scheme::File {
        return format!("file://{path}");
    }
    let port = parsed
        .port_or_default()
        .map_or(String::new(), |p| format!(":{p}"));
    format!(
        "{}://{}{port}/{}",
        parsed.scheme.as_str().to_ascii_lowercase(),
        parsed.host().unwrap_or_default().to_ascii_lowercase(),
        path.trim_start_matches('/').to_lowercase()
    )
}

/// One `key = value` of git-config text: `[section "subsection"] key = value`.
/// Names are lower-cased as git compares them; `value` is `None` for a bare `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigEntry {
    pub section: String,
    pub subsection: Option<BString>,
    pub key: String,
    pub value: Option<BString>,
}

/// The entries of git-config text (a `.gitmodules` blob, say), as git's config
/// parser reads them; `None` when the text does not parse.
pub fn parse_config(text: &[u8]) -> Option<Vec<ConfigEntry>> {
    let file = gix::config::File::from_bytes_no_includes(
        text,
        gix::config::file::Metadata::api(),
        Default::default(),
    )
    .ok()?;
    let mut entries = Vec::new();
    for section in file.sections() {
        let header = section.header();
        let body = section.body();
        let mut names: Vec<String> = body.value_names().map(|n| n.to_ascii_lowercase()).collect();
        names.dedup();
        for key in names {
            let values = body.values(&key);
            let values: Vec<Option<BString>> = if values.is_empty() {
                vec![None]
            } else {
                values.into_iter().map(Some).collect()
            };
            for value in values {
                entries.push(ConfigEntry {
                    section: header.name().to_str_lossy().to_ascii_lowercase(),
                    subsection: header.subsection_name().map(ToOwned::to_owned),
                    key: key.clone(),
                    value,
                });
            }
        }
    }
    Some(entries)
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

/// A ref and, when it names an annotated tag, the tagger's date (seconds since the
/// epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRef {
    pub name: String,
    pub target: Oid,
    pub tagged_at: Option<i64>,
}

pub struct Repo {
    inner: gix::Repository,
    /// Loose objects newer than this were written by us (for `core.fsync`).
    opened_at: std::time::SystemTime,
}

/// What `core.fsync` (or the older `core.fsyncObjectFiles`) asks to make durable;
/// gix itself never calls fsync, so we do it for what we write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fsync {
    pub loose_objects: bool,
    pub references: bool,
}

impl Fsync {
    /// git's component names (git-config(1), `core.fsync`); unknown ones are ignored
    /// as git does, `-name` removes one.
    pub fn parse(core_fsync: Option<&str>, fsync_object_files: Option<bool>) -> Self {
        let mut f = Fsync {
            loose_objects: fsync_object_files.unwrap_or(false),
            references: false,
        };
        for item in core_fsync.unwrap_or_default().split(',').map(str::trim) {
            let (on, name) = match item.strip_prefix('-') {
                Some(name) => (false, name),
                None => (true, item),
            };
            match name {
                "none" => f = Fsync::default(),
                "loose-object" | "objects" => f.loose_objects = on,
                "reference" => f.references = on,
                "committed" | "added" | "all" => {
                    f.loose_objects = on;
                    f.references = on;
                }
                _ => {}
            }
        }
        f
    }
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
        let mut repo = Repo {
            inner,
            opened_at: std::time::SystemTime::now(),
        };
        if let Some(text) = std::env::var_os(command_line::VARIABLE) {
            repo.add_command_line_config(text.as_encoded_bytes())?;
        }
        Ok(repo)
    }

    /// `git -c` options (the text of `GIT_CONFIG_PARAMETERS`) on top of all other
    /// config, as git reads them: after the files and `GIT_CONFIG_COUNT`'s entries
    /// (gix read those), so that they win. Trusted like git trusts them (a `-c` option
    /// may name a program), since whoever runs us chose them.
    fn add_command_line_config(&mut self, text: &[u8]) -> Result<()> {
        use gix::config::{file::Metadata, File, Source};
        let mut file = File::new(Metadata::from(Source::Cli));
        for p in command_line::parse(text)? {
            let key = || {
                let sub = p.subsection.as_ref().map(|s| format!(".{s}"));
                ParameterError::InvalidKey(format!(
                    "{}{}.{}",
                    p.section,
                    sub.unwrap_or_default(),
                    p.name
                ))
            };
            // One section per option keeps them in the order given; gix's key rules
            // are git's, which parse() has checked, so these cannot fail.
            file.new_section(p.section.clone(), p.subsection.clone())
                .map_err(|_| key())?
                .push(p.name.as_str(), p.value.as_ref().map(|v| v.as_bstr()))
                .map_err(|_| key())?;
        }
        let path = self.inner.git_dir().display().to_string();
        let open_err = |e: Cause| RepoError::Open { path, source: e };
        let mut config = self.inner.config_snapshot_mut();
        match config.append(file) {
            Ok(_) => config.commit().map(drop).map_err(|e| open_err(e.into())),
            Err(e) => Err(open_err(e.into())),
        }
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

    /// Writes a blob of `size` bytes read from `data`, never holding it whole (gix's
    /// `write_blob_stream` copies the stream into a buffer first). Unlike
    /// [`Repo::write_blob`] it does not look for the object first: meant for content
    /// too big to have been there already.
    pub fn write_blob_stream(&self, size: u64, data: &mut dyn std::io::Read) -> Result<Oid> {
        use gix::objs::Write as _;
        let mut exact = ExactSize {
            inner: data,
            left: size,
        };
        let id = self
            .inner
            .objects
            .write_stream(gix::objs::Kind::Blob, size, &mut exact)
            .map_err(object_err("writing a blob"))?;
        Ok(Oid(id))
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

    /// Writes an annotated tag object named `name` (without `refs/tags/`) pointing to
    /// the commit `target`; moves no ref.
    pub fn write_tag(
        &self,
        name: &str,
        target: Oid,
        tagger: &Person,
        message: &str,
    ) -> Result<Oid> {
        let tag = gix::objs::Tag {
            target: target.0,
            target_kind: gix::object::Kind::Commit,
            name: name.into(),
            tagger: Some(tagger.to_gix()),
            message: message.into(),
            signature: None,
        };
        let id = self
            .inner
            .write_object(&tag)
            .map_err(object_err(format!("writing tag {name}")))?;
        Ok(Oid(id.detach()))
    }

    /// The annotated tag object `oid`, or `None` when `oid` names another kind of
    /// object (a lightweight tag points straight at its commit).
    pub fn tag_object(&self, oid: Oid) -> Result<Option<TagObject>> {
        let what = || format!("object {oid}");
        let object = self.inner.find_object(oid.0).map_err(object_err(what()))?;
        if object.kind != gix::object::Kind::Tag {
            return Ok(None);
        }
        let tag = object.into_tag();
        let decoded = tag.decode().map_err(|e| RepoError::Object {
            what: what(),
            source: e.into(),
        })?;
        Ok(Some(TagObject {
            name: decoded.name.to_str_lossy().into_owned(),
            target: Oid(decoded.target()),
            target_is_commit: decoded.target_kind == gix::object::Kind::Commit,
            message: decoded.message.to_str_lossy().into_owned(),
        }))
    }

    /// Merges the trees of two commits in the object database, as `git merge` does
    /// (merge base found here, several merge bases merged first, renames as
    /// configured); writes the merged blobs and trees but no commit and no ref.
    pub fn merge_commits(&self, ours: Oid, theirs: Oid) -> Result<TreeMerge> {
        let what = || format!("merging {ours} and {theirs}");
        let options = self
            .inner
            .tree_merge_options()
            .map_err(|e| RepoError::Object {
                what: what(),
                source: e.into(),
            })?;
        let mut outcome = self
            .inner
            .merge_commits(ours.0, theirs.0, Default::default(), options.into())
            .map_err(|e| RepoError::Object {
                what: what(),
                source: e.into(),
            })?;
        let how = gix::merge::tree::TreatAsUnresolved::git();
        if outcome.tree_merge.has_unresolved_conflicts(how) {
            let mut paths: Vec<String> = outcome
                .tree_merge
                .conflicts
                .iter()
                .filter(|c| c.is_unresolved(how))
                .map(|c| c.ours.location().to_str_lossy().into_owned())
                .collect();
            paths.dedup();
            return Ok(TreeMerge::Conflict(paths));
        }
        let tree = outcome
            .tree_merge
            .tree
            .write()
            .map_err(|e| RepoError::Object {
                what: what(),
                source: e.into(),
            })?;
        Ok(TreeMerge::Clean(Oid(tree.detach())))
    }

    /// The files (not trees) that differ between two trees, as `git diff-tree -r`
    /// lists them without rename detection; `old` `None` is the empty tree.
    pub fn changed_files(&self, old: Option<Oid>, new: Oid) -> Result<Vec<FileChange>> {
        let what = || format!("diff of trees {old:?} and {new}");
        let tree = |oid: Oid| self.inner.find_tree(oid.0).map_err(object_err(what()));
        let new_tree = tree(new)?;
        let old_tree = old.map(tree).transpose()?;
        let changes = self
            .inner
            .diff_tree_to_tree(old_tree.as_ref(), &new_tree, gix::diff::Options::default())
            .map_err(object_err(what()))?;
        let entry = |mode: gix::object::tree::EntryMode, id: gix::ObjectId| {
            file_mode(mode.kind()).map(|mode| Entry { mode, oid: Oid(id) })
        };
        use gix::object::tree::diff::ChangeDetached as C;
        Ok(changes
            .into_iter()
            .filter_map(|c| {
                let (path, old, new) = match c {
                    C::Addition {
                        location,
                        entry_mode,
                        id,
                        ..
                    } => (location, None, entry(entry_mode, id)),
                    C::Deletion {
                        location,
                        entry_mode,
                        id,
                        ..
                    } => (location, entry(entry_mode, id), None),
                    C::Modification {
                        location,
                        previous_entry_mode,
                        previous_id,
                        entry_mode,
                        id,
                    } => (
                        location,
                        entry(previous_entry_mode, previous_id),
                        entry(entry_mode, id),
                    ),
                    C::Rewrite {
                        location,
                        entry_mode,
                        id,
                        ..
                    } => (location, None, entry(entry_mode, id)),
                };
                (old.is_some() || new.is_some()).then_some(FileChange { path, old, new })
            })
            .collect())
    }

    /// The committer as git would use it now: `GIT_COMMITTER_*` environment, then
    /// `user.*` config; the time is now unless `GIT_COMMITTER_DATE` says otherwise.
    pub fn committer(&self) -> Result<Person> {
        let sig = self
            .inner
            .committer()
            .ok_or(RepoError::NoCommitter)?
            .map_err(|e| RepoError::BadCommitter(with_causes(&e)))?;
        let person = Person::from_gix(sig);
        // GIT_COMMITTER_DATE out of git's range: git stops, and fsck would refuse it.
        if !in_git_range(person.seconds, person.offset) {
            return Err(RepoError::BadCommitter(format!(
                "invalid date format: {} seconds since 1970 is outside git's 1970 to 2099 (GIT_COMMITTER_DATE?)",
                person.seconds
            )));
        }
        Ok(person)
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

    /// An integer as `git config --type=int` reads it (`0x`/`0` prefixes, `k`, `m`,
    /// `g` suffixes); anything else is an error.
    pub fn config_integer(&self, key: &str) -> Result<Option<i64>, ConfigError> {
        let snapshot = self.inner.config_snapshot();
        // gix's parser differs from git's strtoimax() in two corners: git skips
        // leading blanks and knows no `0b` prefix. The rest is gix's.
        if let Some(value) = snapshot.string(key) {
            let value = value.to_str_lossy();
            let number = value.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
            let digits = number.trim_start_matches(['+', '-']);
            if digits.starts_with("0b") || digits.starts_with("0B") {
                return Err(self.config_error(key, "not an integer git reads".into()));
            }
            if number.len() != value.len() {
                return gix::config::Integer::from_bytes::<i64>(number)
                    .map(Some)
                    .map_err(|e| self.config_error(key, e.into()));
            }
        }
        snapshot
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
        crate::interrupt::check("the ref update")?;
        let fsync = self.fsync();
        if fsync.loose_objects {
            // As git does: the objects are durable before a ref names them.
            self.sync_new_loose_objects()
                .map_err(|e| RepoError::Object {
                    what: "syncing new objects (core.fsync)".into(),
                    source: e.into(),
                })?;
        }
        self.inner.edit_references(edits).map_err(|e| {
            self.held_lock(updates, names()).unwrap_or(RepoError::Refs {
                refs: names(),
                source: e.into(),
            })
        })?;
        if fsync.references {
            self.sync_refs(updates).map_err(|e| RepoError::Refs {
                refs: names(),
                source: format!("written, but syncing them (core.fsync) failed: {e}").into(),
            })?;
        }
        Ok(())
    }

    fn fsync(&self) -> Fsync {
        Fsync::parse(
            self.config_string("core.fsync").as_deref(),
            // A bad value here is git's to report; it only means "not asked" to us.
            self.config_bool("core.fsyncObjectFiles").ok().flatten(),
        )
    }

    /// fsyncs every loose object file written since the repository was opened, and
    /// the directories holding them (a new directory entry is only durable then).
    fn sync_new_loose_objects(&self) -> std::io::Result<()> {
        let objects = self.inner.objects.store_ref().path().to_owned();
        // Coarse file-system clocks: a second of slack costs a few extra syncs.
        let since = self.opened_at - std::time::Duration::from_secs(1);
        for dir in std::fs::read_dir(&objects)?.flatten() {
            let name = dir.file_name();
            let is_fan_out = name.len() == 2
                && name
                    .to_string_lossy()
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit());
            if !is_fan_out || !dir.file_type()?.is_dir() {
                continue;
            }
            let mut synced_any = false;
            for file in std::fs::read_dir(dir.path())?.flatten() {
                let new = file.metadata()?.modified()? >= since;
                if new {
                    std::fs::File::open(file.path())?.sync_all()?;
                    synced_any = true;
                }
            }
            if synced_any {
                std::fs::File::open(dir.path())?.sync_all()?;
                std::fs::File::open(&objects)?.sync_all()?;
            }
        }
        Ok(())
    }

    /// fsyncs the loose files of refs just written, and their directories.
    fn sync_refs(&self, updates: &[RefUpdate]) -> std::io::Result<()> {
        let dir = self.inner.common_dir();
        for u in updates {
            let path = dir.join(&u.name);
            if path.is_file() {
                std::fs::File::open(&path)?.sync_all()?;
                if let Some(parent) = path.parent() {
                    std::fs::File::open(parent)?.sync_all()?;
                }
            }
        }
        Ok(())
    }

    /// Every ref under `prefix` (e.g. `refs/tags/patchew/`), with the tagger's date
    /// when it names an annotated tag: what tag expiry decides on.
    pub fn tags_under(&self, prefix: &str) -> Result<Vec<TagRef>> {
        let err = |e: Cause| RepoError::Refs {
            refs: format!("{prefix}*"),
            source: e,
        };
        let platform = self.inner.references().map_err(|e| err(e.into()))?;
        let iter = platform
            .prefixed(prefix.trim_end_matches('/'))
            .map_err(|e| err(e.into()))?;
        let mut tags = Vec::new();
        for r in iter {
            let r = r.map_err(|e| err(e.into()))?;
            let name = r.name().as_bstr().to_str_lossy().into_owned();
            // A sibling such as `refs/tags/patchewX` shares the path prefix only.
            if !name.starts_with(prefix) {
                continue;
            }
            let Some(id) = r.try_id().map(|id| id.detach()) else {
                continue; // symbolic: not a series tag
            };
            let tagged_at = self
                .inner
                .find_object(id)
                .ok()
                .filter(|o| o.kind == gix::object::Kind::Tag)
                .and_then(|o| {
                    let tag = o.into_tag();
                    let decoded = tag.decode().ok()?;
                    Some(decoded.tagger().ok()??.time().ok()?.seconds)
                });
            tags.push(TagRef {
                name,
                target: Oid(id),
                tagged_at,
            });
        }
        Ok(tags)
    }

    /// Deletes each ref if it still points where `refs` says (a ref moved meanwhile
    /// is someone else's news: the whole deletion fails, nothing is deleted).
    pub fn delete_refs(&self, refs: &[(String, Oid)]) -> Result<()> {
        let names = || {
            refs.iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut edits = Vec::with_capacity(refs.len());
        for (name, oid) in refs {
            let full = name.as_str().try_into().map_err(|e| RepoError::Refs {
                refs: name.clone(),
                source: format!("invalid ref name: {e}").into(),
            })?;
            edits.push(RefEdit {
                change: Change::Delete {
                    expected: PreviousValue::MustExistAndMatch(oid.0.into()),
                    log: RefLog::AndReference,
                },
                name: full,
                deref: false,
            });
        }
        crate::interrupt::check("deleting refs")?;
        self.inner.edit_references(edits).map_err(|e| {
            let as_updates: Vec<RefUpdate> = refs
                .iter()
                .map(|(name, oid)| RefUpdate {
                    name: name.clone(),
                    new: *oid,
                    expect: Expect::Any,
                })
                .collect();
            self.held_lock(&as_updates, names())
                .unwrap_or(RepoError::Refs {
                    refs: names(),
                    source: e.into(),
                })
        })?;
        Ok(())
    }

    /// When a ref update failed: the lock file in the way, if there is one (gix's
    /// error does not name `packed-refs.lock`), with its age.
    fn held_lock(&self, updates: &[RefUpdate], refs: String) -> Option<RepoError> {
        let dir = self.inner.common_dir();
        let candidates = updates
            .iter()
            .map(|u| dir.join(format!("{}.lock", u.name)))
            .chain(std::iter::once(dir.join("packed-refs.lock")));
        candidates
            .filter_map(|path| Some((path.symlink_metadata().ok()?, path)))
            .map(|(meta, path)| RepoError::Locked {
                refs: refs.clone(),
                file: path.display().to_string(),
                age_secs: meta
                    .modified()
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .map(|d| d.as_secs()),
            })
            .next()
    }

    /// Removes the `objects/.tmp*` files a killed run left behind (gix writes each
    /// loose object to one first); only old ones, so that another process's object
    /// in the making is left alone. `git gc` does not remove them.
    pub fn sweep_stale_object_tempfiles(&self) {
        let dir = self.inner.objects.store_ref().path().to_owned();
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return;
        };
        for entry in entries.flatten() {
            let is_temp = entry.file_name().to_string_lossy().starts_with(".tmp");
            let old = entry
                .metadata()
                .ok()
                .filter(|m| m.is_file())
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 3600);
            if is_temp && old {
                let _ = std::fs::remove_file(entry.path());
            }
        }
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

/// One commit's tree, read by path: what the CI verdict follows includes in.
pub struct CommitTree<'r> {
    repo: &'r Repo,
    tree: Oid,
}

impl Repo {
    pub fn commit_tree(&self, commit: Oid) -> Result<CommitTree<'_>> {
        Ok(CommitTree {
            repo: self,
            tree: self.commit_info(commit)?.tree,
        })
    }
}

impl CommitTree<'_> {
    /// The file at `path` (relative, `/`-separated): regular and executable files
    /// only, as GitLab reads no include through a symlink or a submodule.
    pub fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        if path.is_empty()
            || path
                .split('/')
                .any(|c| c.is_empty() || c == "." || c == "..")
        {
            return Ok(None);
        }
        let entry = self.repo.entry(self.tree, path.as_bytes().as_bstr())?;
        match entry {
            Some(e) if matches!(e.mode, FileMode::Regular | FileMode::Executable) => {
                self.repo.read_blob(e.oid).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// Every file path of the tree.
    pub fn paths(&self) -> Result<Vec<String>> {
        let mut files = Vec::new();
        let mut pending = vec![(String::new(), self.tree)];
        while let Some((dir, oid)) = pending.pop() {
            let tree = self
                .repo
                .inner
                .find_tree(oid.0)
                .map_err(object_err(format!("tree {oid}")))?;
            let decoded = tree.decode().map_err(object_err(format!("tree {oid}")))?;
            for entry in &decoded.entries {
                let name = entry.filename.to_str_lossy();
                let full = if dir.is_empty() {
                    name.into_owned()
                } else {
                    format!("{dir}/{name}")
                };
                if entry.mode.is_tree() {
                    pending.push((full, Oid(entry.oid.to_owned())));
                } else if entry.mode.is_blob() {
                    files.push(full);
                }
            }
        }
        Ok(files)
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

    /// A stream that disagrees with the size in the object's header fails the write
    /// and leaves no object; one that agrees gives git's id for the bytes.
    #[test]
    fn a_streamed_blob_must_be_as_long_as_announced() {
        let dir = tempfile::tempdir().unwrap();
        let init = std::process::Command::new("git")
            .args(["init", "-q", "--bare"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(init.success());
        let repo = Repo::discover(dir.path()).unwrap();
        let data = b"hello\n";
        let id = repo.write_blob_stream(6, &mut &data[..]).unwrap();
        // git hash-object of "hello\n".
        assert_eq!(id.to_string(), "ce013625030ba8dba906f756967f9e9ca394464a");
        let objects = || {
            std::fs::read_dir(dir.path().join("objects"))
                .unwrap()
                .filter(|e| {
                    let name = e.as_ref().unwrap().file_name();
                    name.len() == 2 && name != "ce"
                })
                .count()
        };
        for size in [5, 7] {
            let err = repo.write_blob_stream(size, &mut &data[..]).unwrap_err();
            assert!(err.to_string().contains("size"), "{err}");
        }
        assert_eq!(objects(), 0, "a failed write left an object");
    }

    #[test]
    fn core_fsync_components_as_git_names_them() {
        let none = Fsync::default();
        assert_eq!(Fsync::parse(None, None), none);
        assert_eq!(Fsync::parse(Some("pack,index"), None), none);
        let objects = Fsync {
            loose_objects: true,
            references: false,
        };
        assert_eq!(Fsync::parse(Some("loose-object"), None), objects);
        assert_eq!(Fsync::parse(Some("objects, -reference"), None), objects);
        assert_eq!(Fsync::parse(None, Some(true)), objects);
        let both = Fsync {
            loose_objects: true,
            references: true,
        };
        assert_eq!(Fsync::parse(Some("committed"), None), both);
        assert_eq!(Fsync::parse(Some("loose-object,reference"), None), both);
        assert_eq!(Fsync::parse(Some("all,none"), None), none);
        assert!(Fsync::parse(Some("all,-loose-object"), None).references);
    }

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
