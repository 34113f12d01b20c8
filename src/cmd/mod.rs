//! One module per subcommand. Each holds its command line (`Cli`, derived with clap:
//! the only clap outside main.rs) and a `cli` entry point beside its code; below that,
//! functions take and return plain data. Errors are typed, and [`CmdError::exit`]
//! alone sorts them into exit codes.

pub mod applier;
pub mod apply;
pub mod ci_check;
pub mod ci_verdict;
pub mod doctor;
pub mod exit;
pub mod gitlab_access;
pub mod help;
pub mod hook;
pub mod install_hook;
pub mod prune;
pub mod push;
pub mod report;

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::apply::ApplyError;
use crate::ci::CiError;
use crate::config::Settings;
use crate::repo::{ConfigError, RepoError};
use crate::series::SeriesError;
use crate::server::{lookup_token, HttpClient, HttpError, Patchew};
use crate::source::SourceError;
use crate::transport::TransportError;
use exit::Exit;

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
    Tag(#[from] crate::tag::TagError),
    #[error(transparent)]
    Base(#[from] crate::bases::BaseError),
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
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    Exists(String),
    #[error("{0}")]
    Network(String),
}

impl CmdError {
    /// The one place that sorts an error into an exit code (see [`exit::TABLE`]).
    pub fn exit(&self) -> Exit {
        match self {
            CmdError::Apply(e) if e.is_malformed_input() => Exit::BadInput,
            CmdError::Apply(_)
            | CmdError::Ci(_)
            | CmdError::Repo(_)
            | CmdError::Tag(_)
            | CmdError::Base(_)
            | CmdError::Exists(_)
            | CmdError::Transport(_)
            | CmdError::Spawn { .. }
            | CmdError::Local { .. } => Exit::Failed,
            CmdError::Series(SeriesError::Incomplete { .. } | SeriesError::NoPatches) => {
                Exit::NothingToDo
            }
            CmdError::Fetch(e) if e.server_failed() => Exit::Network,
            CmdError::Fetch(e) if e.found_nowhere() => Exit::NothingToDo,
            CmdError::Series(_)
            | CmdError::Fetch(_)
            | CmdError::Read { .. }
            | CmdError::Config(_)
            | CmdError::BadInput(_) => Exit::BadInput,
            CmdError::Http(_) | CmdError::Network(_) => Exit::Network,
        }
    }

    pub fn exit_code(&self) -> i32 {
        self.exit().code()
    }
}

/// The Patchew server of `patchew.server`, with the token every write needs.
pub fn patchew_client(settings: &Settings) -> Result<Patchew, CmdError> {
    let server = settings
        .server
        .as_deref()
        .ok_or_else(|| CmdError::BadInput("patchew.server is not set".into()))?;
    let token = lookup_token(server, settings.token.as_deref())
        .map_err(|e| CmdError::BadInput(e.to_string()))?
        .ok_or_else(|| {
            CmdError::BadInput(
                "no Patchew token: set PATCHEW_TOKEN, git config patchew.token, or ~/.patchew.token".into(),
            )
        })?;
    Ok(Patchew::new(
        server,
        Some(token),
        HttpClient::new(settings.http_config()),
    ))
}

/// How chatty to be on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// Progress and detail lines for a person at a terminal; scripts read stdout.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub verbosity: Verbosity,
    stderr_is_terminal: bool,
}

impl Output {
    pub fn new(verbosity: Verbosity) -> Self {
        Output {
            verbosity,
            stderr_is_terminal: std::io::stderr().is_terminal(),
        }
    }

    /// `Applying: ...` lines, like git am: on a terminal, or always with -v.
    pub fn progress(&self, line: &str) {
        let show = match self.verbosity {
            Verbosity::Quiet => false,
            Verbosity::Normal => self.stderr_is_terminal,
            Verbosity::Verbose => true,
        };
        if show {
            eprintln!("{}", printable(line));
        }
    }

    /// A result line for a person (stderr, so stdout stays for data).
    pub fn info(&self, line: &str) {
        if self.verbosity != Verbosity::Quiet {
            eprintln!("{}", printable(line));
        }
    }

    pub fn warn(&self, line: &str) {
        if self.verbosity != Verbosity::Quiet {
            eprintln!("warning: {}", printable(line));
        }
    }
}

/// Subjects and ids are chosen by strangers: no escape sequence or carriage return of
/// theirs reaches the operator's terminal. Line breaks stay (an error may list what it
/// tried, one per line), but every line after the first is indented, so that no line
/// can pass for one of ours (`error: ...`).
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            if !line.starts_with(' ') {
                out.push_str("  ");
            }
        }
        out.extend(line.chars().map(|c| if c.is_control() { '?' } else { c }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn printable_keeps_lines_but_no_control_characters() {
        assert_eq!(printable("a\x1b[31mb\rc"), "a?[31mb?c");
        assert_eq!(
            printable("no mbox found\n  - GET x\nerror: fake"),
            "no mbox found\n  - GET x\n  error: fake"
        );
    }
}
