//! The Patchew REST API and its tokens, on top of the shared client in `crate::http`
//! (re-exported here so that callers keep one import).

mod api;
mod token;

pub use crate::http::{encode_component, redact_url};
pub use crate::http::{
    maybe_gunzip, Body, GzipError, HttpClient, HttpConfig, HttpError, HttpErrorKind, Method,
    Response, RetryPolicy,
};
pub use api::{
    redact, ApplierData, ApplierResult, BasedOn, Mirror, Patchew, QueueItem, ResultInfo, SeriesRef,
    Status,
};
pub use token::{lookup_token, lookup_token_in, token_from_file, Token, TokenError};
