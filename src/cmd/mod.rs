//! One module per subcommand. Each takes plain arguments (main.rs turns clap's into
//! them) and returns plain data; errors carry their exit code.

pub mod applier;
pub mod apply;
pub mod ci_check;
pub mod ci_verdict;
pub mod doctor;
pub mod gitlab_access;
pub mod hook;
pub mod install_hook;
pub mod push;
pub mod report;

use std::io::IsTerminal;

use crate::apply::ApplyError;
use crate::ci::CiError;
use crate::config::Settings;
use crate::repo::RepoError;
use crate::series::SeriesError;
use crate::server::{lookup_token, HttpClient, Patchew};

/// Exit codes, as documented in `--help`.
pub mod exit {
    pub const OK: i32 = 0;
    pub const APPLY_FAILED: i32 = 1;
    pub const BAD_INPUT: i32 = 2;
    pub const NOTHING_TO_DO: i32 = 3;
    pub const NETWORK: i32 = 4;
}

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
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    Exists(String),
    #[error("{0}")]
    Network(String),
}

impl CmdError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CmdError::Apply(e) if e.is_malformed_input() => exit::BAD_INPUT,
            CmdError::Apply(_)
            | CmdError::Ci(_)
            | CmdError::Repo(_)
            | CmdError::Tag(_)
            | CmdError::Base(_)
            | CmdError::Exists(_) => exit::APPLY_FAILED,
            CmdError::Series(SeriesError::Incomplete { .. } | SeriesError::NoPatches) => {
                exit::NOTHING_TO_DO
            }
            CmdError::Series(_) | CmdError::BadInput(_) => exit::BAD_INPUT,
            CmdError::Network(_) => exit::NETWORK,
        }
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
/// theirs reaches the operator's terminal.
pub fn printable(line: &str) -> String {
    line.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}
