//! git-patchew: apply mailing-list patch series with pure-Rust git and test them on
//! GitLab CI through Patchew.

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
pub mod liveness;
pub mod prune;
pub mod stale_lock;
pub mod transport;
