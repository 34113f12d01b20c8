//! git-patchew: apply mailing-list patch series with pure-Rust git and test them on
//! GitLab CI through Patchew.
//!
//! Data flows one way, one module per step:
//!
//! ```text
//! msgid -> source (bytes) -> mbox (raw messages) -> mail (decoded Mail) -> mailinfo
//! (message + patch text) -> series (ordered patches + base hint) -> bases (the base
//! commit; prerequisite checks) -> apply (commits, via repo; fsck rules) -> ci (tip
//! amended; ci::pipeline predicts the tag pipeline) -> tag -> transport (git push)
//! -> server (reports) ; gitlab + pipeline_report (what a pipeline did, for reports)
//! ```
//!
//! Only `repo` knows gix, only `http` knows HTTP (`source`, `server` and `gitlab` use
//! it), only `transport` runs git (`proxy_env` hands it the proxy variables that
//! `main` took out of the environment).

pub mod apply;
pub mod bases;
pub mod ci;
pub mod cmd;
pub mod config;
pub mod fsck;
pub mod gitlab;
pub mod hook;
pub mod http;
pub mod liveness;
pub mod mail;
pub mod mailinfo;
pub mod mbox;
pub mod msgid;
pub mod patch;
pub mod pipeline_report;
pub mod prerequisite;
pub mod proxy_env;
pub mod prune;
pub mod repo;
pub mod series;
pub mod server;
pub mod source;
pub mod stale_lock;
pub mod tag;
pub mod transport;
