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
pub mod merged;
pub mod notify;
pub mod patchew_config;
pub mod proxy_env;
pub mod publish;
pub mod repo;
pub mod report;
pub mod state_file;
pub mod report_data;
pub mod retest;
pub mod transport;
