//! The Patchew REST API, on top of the shared client in `crate::http`.

mod api;
mod projects;

pub use api::{
    redact, ApplierData, ApplierResult, BasedOn, Mirror, Patchew, QueueItem, ResultInfo, SeriesRef,
    Status,
};
pub use projects::find_project;
