//! The Patchew REST API, on top of the shared client in `crate::http`.

mod api;

pub use api::{
    redact, ApplierData, ApplierResult, BasedOn, Mirror, Patchew, QueueItem, ResultInfo, SeriesRef,
    Status,
};
