//! The library's one error type for whole flows: each stage's error wrapped with its
//! source, and [`CmdError::exit`] alone sorts them into exit codes.

use std::path::PathBuf;

use crate::apply::commits::ApplyError;
use crate::ci::CiError;
use crate::exit::Exit;
use crate::http::HttpError;
use crate::input::series::SeriesError;
use crate::input::source::SourceError;
use crate::repo::{ConfigError, RepoError};
use crate::transport::TransportError;

#[derive(Debug, thiserror::Error)]
pub enum CmdError {
    #[error(transparent)]
    Apply(#[from] ApplyError),
    #[error(transparent)]
    Series(#[from] SeriesError),
    #[error(transparent)]
    Ci(#[from] CiError),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Tag(#[from] crate::publish::tag::TagError),
    #[error(transparent)]
    Base(#[from] crate::apply::bases::BaseError),
    /// A config value git would refuse.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// No source had the series (or the mbox given could not be read).
    #[error(transparent)]
    Fetch(#[from] SourceError),
    /// A request to Patchew (or another server) failed.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// git (for push or fetch) or a hook could not be started.
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("cannot run {}: {source}", program.display())]
    Spawn {
        program: PathBuf,
        source: std::io::Error,
    },
    /// A file the user named cannot be read: their input is wrong.
    #[error("cannot read {what}: {source}")]
    Read {
        what: String,
        source: std::io::Error,
    },
    /// Our own file-system work failed (a hook, a man page, the working directory).
    #[error("cannot {action} {}: {source}", path.display())]
    Local {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// A message-id that cannot name a series (or a tag).
    #[error(transparent)]
    MessageId(#[from] crate::input::msgid::MessageIdError),
    /// A revision the user gave that names no commit here.
    #[error(transparent)]
    Revision(RepoError),
    /// An mbox that cannot be cut into messages.
    #[error("mbox: {0}")]
    Mbox(#[from] crate::input::mbox::MboxError),
    /// A token that is malformed or cannot be read.
    #[error(transparent)]
    Token(#[from] crate::http::TokenError),
    /// The CI files cannot be read as GitLab would.
    #[error(transparent)]
    Pipeline(#[from] crate::ci::pipeline::PipelineError),
    /// A `patchew.*` setting (or the option standing for it) that cannot be used.
    #[error("{key}: {source}")]
    Setting {
        key: &'static str,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A `patchew.reportFrom` that names no mode.
    #[error(transparent)]
    ReportFrom(#[from] crate::config::UnknownReportFrom),
    /// A line git gave the pre-push hook that is not what githooks(5) says.
    #[error(transparent)]
    RefLine(#[from] crate::publish::check::BadLine),
    /// A signal or the applier's deadline stopped the work at a safe point.
    #[error(transparent)]
    Stopped(#[from] crate::interrupt::Stop),
    /// The applier's time for one series (`patchew.applierDeadline`) ran out.
    #[error(transparent)]
    Deadline(#[from] DeadlineHit),
    /// git push or git fetch ran and failed; `reason` is git's own words.
    #[error("git {verb} {target} failed{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    GitFailed {
        verb: &'static str,
        target: String,
        reason: Option<String>,
    },
    /// Patchew refused the applier's write of a series' `git` result (HTTP 403).
    #[error("{} {}: HTTP 403: this token's user is not in the importers group, which Patchew requires to write a series' git result; add the user to it (or use a maintainer's token) and start the applier again", .0.method, .0.url)]
    NotImporter(HttpError),
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    Exists(String),
    #[error("{0}")]
    Network(String),
}

/// How the applier's time for one series ran out.
#[derive(Debug, thiserror::Error)]
pub enum DeadlineHit {
    #[error("the series took longer than patchew.applierDeadline ({} s)", .0.as_secs())]
    Series(std::time::Duration),
    /// A git child still running at the deadline was killed (see `transport`).
    #[error("git {verb} was still running at patchew.applierDeadline ({} s) and was killed", limit.as_secs())]
    GitKilled {
        verb: &'static str,
        limit: std::time::Duration,
    },
}

impl CmdError {
    /// A setting's value is wrong: `key` names it, `source` says why.
    pub fn setting(
        key: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        CmdError::Setting {
            key,
            source: Box::new(source),
        }
    }

    /// The one place that sorts an error into an exit code (see [`exit::TABLE`]).
    pub fn exit(&self) -> Exit {
        match self {
            CmdError::Apply(e) if e.is_malformed_input() => Exit::BadInput,
            CmdError::Repo(e) if e.is_bad_input() => Exit::BadInput,
            CmdError::Apply(_)
            | CmdError::Ci(_)
            | CmdError::Repo(_)
            | CmdError::Tag(_)
            | CmdError::Base(_)
            | CmdError::Exists(_)
            | CmdError::Transport(_)
            | CmdError::Spawn { .. }
            | CmdError::Local { .. }
            | CmdError::Stopped(_) => Exit::Failed,
            CmdError::Series(SeriesError::Incomplete { .. } | SeriesError::NoPatches) => {
                Exit::NothingToDo
            }
            CmdError::Fetch(e) if e.server_failed() => Exit::Network,
            CmdError::Fetch(e) if e.found_nowhere() => Exit::NothingToDo,
            CmdError::Series(_)
            | CmdError::Fetch(_)
            | CmdError::Read { .. }
            | CmdError::Config(_)
            | CmdError::BadInput(_)
            | CmdError::MessageId(_)
            | CmdError::Revision(_)
            | CmdError::Mbox(_)
            | CmdError::Token(_)
            | CmdError::Pipeline(_)
            | CmdError::RefLine(_)
            | CmdError::ReportFrom(_)
            | CmdError::Setting { .. }
            | CmdError::NotImporter(_) => Exit::BadInput,
            CmdError::Http(_)
            | CmdError::Network(_)
            | CmdError::Deadline(_)
            | CmdError::GitFailed { .. } => Exit::Network,
        }
    }

    pub fn exit_code(&self) -> i32 {
        self.exit().code()
    }
}
