//! All HTTP: a small blocking client (timeouts, redirects, bounded retries) and the
//! Patchew REST API on top of it.
