//! git-patchew: apply mailing-list patch series with pure-Rust git and test them on
//! GitLab CI through Patchew.
//!
//! The folders are the stages a series walks through, each using only the ones above
//! it in this list (tests/layout.rs checks every `crate::` path):
//!
//! ```text
//! repo, http, transport   the outside: gix (objects, refs, config), HTTP (and the
//!                         tokens it sends), git push/fetch; interrupt (signals, the
//!                         applier's deadline), stdio and output (what we print),
//!                         exit, state_file, proxy_env
//! config                  Settings: the patchew.* keys, read once through repo
//! input/                  message-id -> source (mbox bytes) -> mbox -> mail ->
//!                         mailinfo -> series: a Series with its base hint
//! apply/                  bases (+ prerequisite) -> patch -> commits (fsck rules):
//!                         the series as commits in the object database; merged
//!                         (a series already upstream, by patch id)
//! ci/                     inject (the include, in a commit of its own; edit +
//!                         prove), pipeline and verdict (the tag pipeline GitLab
//!                         will run; includes outside the tree through a Fetcher)
//! publish/                tag -> push; the pre-push hook (pre_push, check,
//!                         install); prune (expired tags, which and how)
//! report/                 patchew (REST API, patchew_config), gitlab (jobs,
//!                         traces), pipeline and data (the report's log and data),
//!                         notify (the mail notification), backstop (pipelines
//!                         that never reported)
//! flow/                   apply (one series, start to end), applier (the service:
//!                         claims, liveness, stale locks), report, retest, prune,
//!                         doctor (+ doctor_fix), includes (the Fetcher over HTTP),
//!                         clients (servers from the settings)
//! cmd/                    one file per subcommand: clap, one flow call, printing
//! ```
//!
//! `error` gathers the stages' errors into [`error::CmdError`], which alone decides
//! the exit code. Only `repo` knows gix, only `http` knows HTTP, only `transport`
//! runs git, only `main.rs` and `cmd/` know clap.

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
pub mod interrupt;
pub mod output;
pub mod proxy_env;
pub mod publish;
pub mod repo;
pub mod report;
pub mod state_file;
pub mod stdio;
pub mod transport;
