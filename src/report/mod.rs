//! Stage 5, report: what happened reaches Patchew.
//!
//! `patchew` is Patchew's REST API, `gitlab` what a pipeline did (jobs, traces),
//! `pipeline` turns that into a report, and `backstop`
//! reports the pipelines whose own report jobs never did.

pub mod backstop;
pub mod data;
pub mod gitlab;
pub mod notify;
pub mod patchew;
pub mod patchew_config;
pub mod pipeline;
