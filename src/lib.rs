//! git-patchew: apply mailing-list patch series with pure-Rust git and test them on
//! GitLab CI through Patchew.

// Our stdout and stderr are written through `stdio` (outln!, errln!): a closed pipe.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod apply;
pub mod ci;
pub mod cmd;
pub mod config;
pub mod error;
pub mod exit;
pub mod flow;
pub mod http;
pub mod input;
pub mod proxy_env;
pub mod publish;
pub mod repo;
pub mod report;
pub mod state_file;
pub mod stdio;
pub mod transport;
