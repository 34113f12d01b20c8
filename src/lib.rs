//! git-patchew: apply mailing-list patch series with pure-Rust git and test them on
//! GitLab CI through Patchew.
//!
//! The folders are the stages a series walks through, each using only the ones above
//! it in this list (tests/layout.rs checks every `crate::` path):
//!
//! ```text
//! repo, http, transport   the outside: gix (objects, refs, config), HTTP (and the
//!                         tokens it sends), git push/fetch; interrupt (signals, the
//!                         applier's deadline), output, exit, state_file, proxy_env
//! config                  Settings: the patchew.* keys, read once through repo
//! input/                  message-id -> source (mbox bytes) -> mbox -> mail ->
//!                         mailinfo -> series: a Series with its base hint
//! apply/                  bases (+ prerequisite) -> patch -> commits (fsck rules):
//!                         the series as commits in the object database
//! ci/                     inject (the include, in a commit of its own; edit +
//!                         prove), pipeline and verdict (the tag pipeline GitLab
//!                         will run)
//! publish/                tag -> push; the pre-push hook (pre_push, check, install)
//! report/                 patchew (REST API), gitlab (jobs, traces), pipeline (the
//!                         report text), backstop (pipelines that never reported)
//! flow/                   apply (one series, start to end), applier (the service),
//!                         report, doctor, clients (servers from the settings)
//! cmd/                    one file per subcommand: clap, one flow call, printing
//! ```
//!
//! `error` gathers the stages' errors into [`error::CmdError`], which alone decides
//! the exit code. Only `repo` knows gix, only `http` knows HTTP, only `transport`
//! runs git, only `main.rs` and `cmd/` know clap.

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
pub mod transport;
