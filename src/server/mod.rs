//! All HTTP: a small blocking client (timeouts, redirects, bounded retries and bodies)
//! and the Patchew REST API on top of it. No other module talks to the network.

mod api;
mod http;
mod token;
mod url;

pub use api::{
    redact, ApplierData, ApplierResult, BasedOn, Mirror, Patchew, QueueItem, ResultInfo, SeriesRef,
    Status,
};
pub use http::{
    maybe_gunzip, Body, GzipError, HttpClient, HttpConfig, HttpError, HttpErrorKind, Method,
    Response, RetryPolicy,
};
pub use token::{lookup_token, lookup_token_in, token_from_file, Token, TokenError};
pub use url::{encode_component, redact_url};
