//! A small blocking HTTP client on minreq: per-request timeout, our own redirect
//! handling, bounded retries, bounded bodies and gzip, and errors that never carry
//! credentials.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::time::{Duration, Instant};

pub mod credentials;
pub mod proxy;
mod url;

pub use credentials::{lookup_token, lookup_token_in, token_from_file, Service, Token, TokenError};
pub(crate) use url::split_userinfo;
pub use url::{encode_component, is_local_target, redact_url};
use url::{is_https, origin, resolve_location};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Put,
    Patch,
    Post,
}

impl Method {
    fn to_minreq(self) -> minreq::Method {
        match self {
            Method::Get => minreq::Method::Get,
            Method::Put => minreq::Method::Put,
            Method::Patch => minreq::Method::Patch,
            Method::Post => minreq::Method::Post,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Post => "POST",
        })
    }
}

/// When to try again after a connection error or a 5xx answer. Other failures,
/// timeouts included, are final: a server that hangs once usually hangs again, and
/// retrying would multiply the wait the user configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included; 1 means no retry.
    pub max_attempts: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// No new attempt starts once this much time has passed since the first.
    pub max_total: Duration,
}

impl RetryPolicy {
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }
}

/// Attempts of a request by default (`patchew.httpRetries` documents this one).
pub const DEFAULT_ATTEMPTS: u32 = 4;

/// How long one request may take by default (`patchew.httpTimeout` documents this one).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: DEFAULT_ATTEMPTS,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(16),
            max_total: Duration::from_secs(120),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// For one request, redirects included; minreq counts whole seconds, so this is
    /// rounded up to at least one second.
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// Largest body accepted, before and after gzip decompression.
    pub max_body: u64,
    pub max_redirects: u32,
    /// Where the proxy for each request comes from; the default has none.
    pub proxy: ProxySettings,
}

/// git's `http.proxy` and the proxy variables of the environment, from which
/// [`proxy::proxy_for`] picks per request. Plain data: the caller (config) reads
/// them, so that a client made with [`HttpConfig::default`] uses no proxy at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxySettings {
    /// `http.proxy` as written, if set (empty: no proxy, whatever the environment says).
    pub configured: Option<String>,
    pub env: crate::proxy_env::ProxyEnv,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
            max_body: 256 << 20,
            max_redirects: 10,
            proxy: ProxySettings::default(),
        }
    }
}

/// A request body with its media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Body {
    pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> Self {
        Body {
            content_type: "application/json".into(),
            bytes: serde_json::to_vec(value).expect("plain data always serialises to JSON"),
        }
    }
}

/// A successful (2xx) answer.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// The URL that answered (after redirects), without credentials.
    pub url: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// What went wrong, and with which request. `url` never holds credentials and no
/// field ever holds the token.
#[derive(Debug, thiserror::Error)]
#[error("{method} {url}: {kind}{}", attempts_note(*attempts))]
pub struct HttpError {
    pub method: Method,
    pub url: String,
    pub attempts: u32,
    pub kind: HttpErrorKind,
}

fn attempts_note(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (gave up after {attempts} attempts)")
    } else {
        String::new()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HttpErrorKind {
    #[error("HTTP {status} {reason}{}", detail_note(detail))]
    Status {
        status: u16,
        reason: String,
        detail: String,
    },
    #[error(
        "HTTP 401: the server refused the Patchew token (missing, wrong or expired); set \
         PATCHEW_TOKEN, git config patchew.token, or a \"<server-url> <token>\" line in \
         ~/.patchew.token{}",
        detail_note(detail)
    )]
    Unauthorized { detail: String },
    #[error("HTTP 403: the token's user may not do this{}", detail_note(detail))]
    Forbidden { detail: String },
    #[error(
        "no Patchew token for this server; set PATCHEW_TOKEN, git config patchew.token, \
         or a \"<server-url> <token>\" line in ~/.patchew.token"
    )]
    MissingToken,
    #[error("no complete answer within {} s", .0.as_secs())]
    Timeout(Duration),
    #[error("connection failed: {0}")]
    Connection(String),
    #[error("malformed HTTP answer: {0}")]
    Protocol(String),
    #[error("response body is larger than {limit} bytes")]
    BodyTooLarge { limit: u64 },
    #[error(transparent)]
    Gzip(#[from] GzipError),
    #[error("unexpected JSON: {0}")]
    Json(String),
    #[error("bad redirect: {0}")]
    Redirect(String),
    #[error("invalid URL: {0}")]
    InvalidUrl(&'static str),
    /// The proxy is unusable or refused us; `proxy` is its URL without credentials.
    #[error("proxy {proxy}: {reason}")]
    Proxy { proxy: String, reason: String },
    /// A URL handed to us (by a server's JSON, say) that is not on the origin the
    /// credential belongs to: the request is not sent at all.
    #[error("refusing to send the token outside {allowed} (the configured server's origin)")]
    ForeignOrigin { allowed: String },
}

fn detail_note(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

impl HttpError {
    pub fn status(&self) -> Option<u16> {
        match self.kind {
            HttpErrorKind::Status { status, .. } => Some(status),
            HttpErrorKind::Unauthorized { .. } => Some(401),
            HttpErrorKind::Forbidden { .. } => Some(403),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

impl HttpErrorKind {
    fn is_retriable(&self) -> bool {
        match self {
            HttpErrorKind::Connection(_) => true,
            HttpErrorKind::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// Whether two URLs have the same scheme, host and port (default ports made
/// explicit, case ignored). Unparsable URLs are never the same origin.
pub fn same_origin(a: &str, b: &str) -> bool {
    match (origin(a), origin(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// `scheme://host:port` of a URL, for messages.
pub fn origin_of(url: &str) -> String {
    origin(&redact_url(url)).unwrap_or_else(|| redact_url(url))
}

#[derive(Debug, thiserror::Error)]
pub enum GzipError {
    #[error("gzip data expands beyond {limit} bytes (refusing a possible zip bomb)")]
    TooLarge { limit: u64 },
    #[error("corrupt gzip data: {0}")]
    Corrupt(std::io::Error),
}

/// Decompresses `bytes` if they start with the gzip magic number, refusing output
/// larger than `limit`; anything else is returned as it is (an mbox never starts with
/// those bytes).
pub fn maybe_gunzip(bytes: Vec<u8>, limit: u64) -> Result<Vec<u8>, GzipError> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes.as_slice())
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(GzipError::Corrupt)?;
    if out.len() as u64 > limit {
        return Err(GzipError::TooLarge { limit });
    }
    Ok(out)
}

/// Error bodies are only read this far: enough for a server's one-line reason.
const ERROR_EXCERPT: u64 = 4096;
const SHOWN_DETAIL: usize = 300;

#[derive(Debug, Clone, Default)]
pub struct HttpClient {
    config: HttpConfig,
}

/// One hop of a request: what is sent where, and with which credentials.
#[derive(Clone)]
struct Hop<'a> {
    method: Method,
    url: String,
    body: Option<&'a Body>,
    authorization: Option<String>,
    /// GitLab's `PRIVATE-TOKEN` header instead of `Authorization`.
    private_token: bool,
}

impl Hop<'_> {
    /// The secret sent on this hop: what follows `Token` or `Basic` in the
    /// Authorization header, or the whole `PRIVATE-TOKEN` value.
    fn credential(&self) -> Option<&str> {
        let header = self.authorization.as_deref()?;
        if self.private_token {
            return Some(header);
        }
        header.split_once(' ').map(|(_, credential)| credential)
    }
}

impl HttpClient {
    pub fn new(config: HttpConfig) -> Self {
        HttpClient { config }
    }

    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    pub fn get(&self, url: &str) -> Result<Response, HttpError> {
        self.send(Method::Get, url, None, None)
    }

    /// GET with GitLab's `PRIVATE-TOKEN: <token>` header (retries and redirects as
    /// [`HttpClient::send`]; the token does not cross to another origin either).
    pub fn get_with_private_token(&self, url: &str, token: &Token) -> Result<Response, HttpError> {
        self.send_hop(
            first_hop(Method::Get, url, None, Some(token)).map(|mut hop| {
                hop.authorization = Some(token.expose().to_owned());
                hop.private_token = true;
                hop
            }),
        )
    }

    /// This client, with every request (retries included) over within `left`: a
    /// request's timeout is at most `left`, and no retry starts that could end later.
    pub fn within(&self, left: Duration) -> HttpClient {
        let mut config = self.config.clone();
        // minreq counts whole seconds, at least one.
        let left = left.max(Duration::from_secs(1));
        config.timeout = config.timeout.min(left);
        config.retry.max_total = config
            .retry
            .max_total
            .min(left.saturating_sub(config.timeout));
        HttpClient { config }
    }

    /// GET, then gunzip the body if it is gzip, within the same size bound.
    pub fn get_maybe_gzipped(&self, url: &str) -> Result<Vec<u8>, HttpError> {
        let response = self.get(url)?;
        maybe_gunzip(response.body, self.config.max_body).map_err(|e| HttpError {
            method: Method::Get,
            url: response.url,
            attempts: 1,
            kind: e.into(),
        })
    }

    /// Sends a request, following redirects and retrying as configured; any answer but
    /// 2xx is an error. `token`, if given, goes in `Authorization: Token ...`;
    /// otherwise credentials in the URL are sent as basic authentication. Neither
    /// crosses to another origin on a redirect.
    pub fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<&Body>,
        token: Option<&Token>,
    ) -> Result<Response, HttpError> {
        self.send_hop(first_hop(method, url, body, token))
    }

    fn send_hop(&self, first: Result<Hop, HttpError>) -> Result<Response, HttpError> {
        let first = first?;
        let policy = &self.config.retry;
        let started = Instant::now();
        let mut delay = policy.first_delay;
        let mut attempts = 1;
        loop {
            match self.follow_redirects(first.clone()) {
                Ok(response) => return Ok(response),
                Err(mut e) => {
                    let may_retry = e.kind.is_retriable()
                        && attempts < policy.max_attempts
                        && started.elapsed() + delay <= policy.max_total;
                    if !may_retry {
                        e.attempts = attempts;
                        return Err(e);
                    }
                }
            }
            std::thread::sleep(delay);
            delay = (delay * 2).min(policy.max_delay);
            attempts += 1;
        }
    }

    fn follow_redirects(&self, mut hop: Hop) -> Result<Response, HttpError> {
        let first_origin = origin(&hop.url);
        // One deadline for the whole request: a chain of slow redirects must not get
        // a fresh timeout per hop.
        let deadline = Deadline::start(self.config.timeout);
        for _ in 0..=self.config.max_redirects {
            let fail = |kind| HttpError {
                method: hop.method,
                url: hop.url.clone(),
                attempts: 1,
                kind,
            };
            let answer = self.exchange(&hop, &deadline).map_err(fail)?;
            let Some(location) = answer.redirect_location else {
                return answer.into_result(&hop);
            };
            let next = resolve_location(&hop.url, &location)
                .ok_or_else(|| fail(HttpErrorKind::Redirect("unusable Location header".into())))?;
            let next = redact_url(&next);
            if is_https(&hop.url) && !is_https(&next) {
                let why = format!("refusing to leave HTTPS for {next}");
                return Err(fail(HttpErrorKind::Redirect(why)));
            }
            check_url(&next).map_err(fail)?;
            // 303 always means "now GET that", and old clients turned a redirected POST
            // into a GET; 307 and 308 (and 301/302 of anything else) keep method and body.
            let becomes_get = answer.status == 303
                || (matches!(answer.status, 301 | 302) && hop.method == Method::Post);
            if becomes_get {
                hop.method = Method::Get;
                hop.body = None;
            }
            // Once dropped, the credential stays dropped: a foreign host must not be
            // able to send us back to the first origin with a path of its choosing.
            if origin(&next) != first_origin {
                hop.authorization = None;
            }
            hop.url = next;
        }
        Err(HttpError {
            method: hop.method,
            url: hop.url,
            attempts: 1,
            kind: HttpErrorKind::Redirect(format!(
                "more than {} redirects",
                self.config.max_redirects
            )),
        })
    }

    /// The proxy for this hop's URL, if any: chosen per hop, since a redirect may
    /// lead to a host that `no_proxy` lists.
    fn proxy_for(&self, hop: &Hop) -> Option<String> {
        let settings = &self.config.proxy;
        proxy::proxy_for(&hop.url, settings.configured.as_deref(), &settings.env).map(str::to_owned)
    }

    fn build_request(&self, hop: &Hop, seconds: u64) -> minreq::Request {
        let mut request = minreq::Request::new(hop.method.to_minreq(), hop.url.as_str())
            .with_timeout(seconds)
            .with_follow_redirects(false)
            .with_max_headers_size(64 * 1024)
            .with_max_status_line_length(8 * 1024)
            .with_header(
                "User-Agent",
                concat!("git-patchew/", env!("CARGO_PKG_VERSION")),
            );
        if let Some(value) = &hop.authorization {
            let name = if hop.private_token {
                "PRIVATE-TOKEN"
            } else {
                "Authorization"
            };
            request = request.with_header(name, value.as_str());
        }
        if let Some(body) = hop.body {
            request = request
                .with_header("Content-Type", body.content_type.as_str())
                .with_body(body.bytes.clone());
        }
        request
    }

    fn exchange(&self, hop: &Hop, deadline: &Deadline) -> Result<Answer, HttpErrorKind> {
        let timeout = self.config.timeout;
        let seconds = deadline
            .remaining_whole_seconds()
            .ok_or(HttpErrorKind::Timeout(timeout))?;
        let mut request = self.build_request(hop, seconds);
        let via = self.proxy_for(hop);
        if let Some(url) = &via {
            request = request.with_proxy(minreq_proxy(url)?);
        }
        let response = request.send_lazy().map_err(|e| match &via {
            Some(url) => classify_proxied(e, timeout, url),
            None => classify(e, timeout),
        })?;
        let status = u16::try_from(response.status_code)
            .map_err(|_| HttpErrorKind::Protocol("status code out of range".into()))?;
        let headers = response.headers.clone();
        let reason = response.reason_phrase.clone();
        if matches!(status, 301 | 302 | 303 | 307 | 308) {
            let location = headers.get("location").cloned().ok_or_else(|| {
                HttpErrorKind::Redirect(format!("HTTP {status} without Location"))
            })?;
            return Ok(Answer::redirect(status, location));
        }
        let success = (200..300).contains(&status);
        let limit = if success {
            self.config.max_body
        } else {
            ERROR_EXCERPT
        };
        if success {
            check_declared_length(&headers, limit)?;
        }
        let body = read_bounded(response, limit, timeout)?;
        if success && body.len() as u64 > limit {
            return Err(HttpErrorKind::BodyTooLarge { limit });
        }
        let detail = if success {
            String::new()
        } else {
            excerpt(&body, hop.credential())
        };
        Ok(Answer {
            status,
            reason,
            headers,
            body,
            detail,
            redirect_location: None,
        })
    }
}

/// When a whole request (all its redirect hops) must be over.
struct Deadline(Instant);

impl Deadline {
    fn start(timeout: Duration) -> Self {
        Deadline(Instant::now() + timeout)
    }

    /// What is left, for minreq, which counts whole seconds: rounded up, so one hop
    /// may end less than a second late and the next then finds no time left.
    /// `None` once the deadline has passed.
    fn remaining_whole_seconds(&self) -> Option<u64> {
        let left = self.0.checked_duration_since(Instant::now())?;
        if left.is_zero() {
            return None;
        }
        Some(left.as_secs() + u64::from(left.subsec_nanos() > 0))
    }
}

/// The raw outcome of one exchange, before it is judged.
struct Answer {
    status: u16,
    reason: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
    detail: String,
    redirect_location: Option<String>,
}

impl Answer {
    fn redirect(status: u16, location: String) -> Self {
        Answer {
            status,
            reason: String::new(),
            headers: HashMap::new(),
            body: Vec::new(),
            detail: String::new(),
            redirect_location: Some(location),
        }
    }

    fn into_result(self, hop: &Hop) -> Result<Response, HttpError> {
        let kind = match self.status {
            200..=299 => {
                return Ok(Response {
                    status: self.status,
                    url: hop.url.clone(),
                    headers: self.headers,
                    body: self.body,
                })
            }
            401 => HttpErrorKind::Unauthorized {
                detail: self.detail,
            },
            403 => HttpErrorKind::Forbidden {
                detail: self.detail,
            },
            status => HttpErrorKind::Status {
                status,
                reason: self.reason,
                detail: self.detail,
            },
        };
        Err(HttpError {
            method: hop.method,
            url: hop.url.clone(),
            attempts: 1,
            kind,
        })
    }
}

fn first_hop<'a>(
    method: Method,
    url: &str,
    body: Option<&'a Body>,
    token: Option<&Token>,
) -> Result<Hop<'a>, HttpError> {
    let (clean, userinfo) = match split_userinfo(url) {
        Some((clean, userinfo)) => (clean, Some(userinfo)),
        None => (url.to_owned(), None),
    };
    let authorization = match (token, userinfo) {
        (Some(token), _) => Some(format!("Token {}", token.expose())),
        (None, Some(userinfo)) => Some(format!(
            "Basic {}",
            base64(&percent_encoding::percent_decode_str(&userinfo).collect::<Vec<u8>>())
        )),
        (None, None) => None,
    };
    check_url(&clean).map_err(|kind| HttpError {
        method,
        url: clean.clone(),
        attempts: 1,
        kind,
    })?;
    Ok(Hop {
        method,
        url: clean,
        body,
        authorization,
        private_token: false,
    })
}

/// minreq writes the URL into the request line as it is, so anything that could end
/// that line or confuse the host part is refused here.
fn check_url(url: &str) -> Result<(), HttpErrorKind> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(HttpErrorKind::InvalidUrl(
            "only http:// and https:// are supported",
        ));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(HttpErrorKind::InvalidUrl(
            "white space or control characters",
        ));
    }
    Ok(())
}

fn check_declared_length(
    headers: &HashMap<String, String>,
    limit: u64,
) -> Result<(), HttpErrorKind> {
    let declared = headers
        .get("content-length")
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(length) if length > limit => Err(HttpErrorKind::BodyTooLarge { limit }),
        _ => Ok(()),
    }
}

/// Reads at most `limit + 1` bytes, so that the caller can tell "too large" from
/// "exactly at the limit" without ever holding more.
fn read_bounded(
    response: minreq::ResponseLazy,
    limit: u64,
    timeout: Duration,
) -> Result<Vec<u8>, HttpErrorKind> {
    let mut body = Vec::new();
    Read::take(response, limit.saturating_add(1))
        .read_to_end(&mut body)
        .map_err(|e| classify_io(e, timeout))?;
    Ok(body)
}

fn classify(error: minreq::Error, timeout: Duration) -> HttpErrorKind {
    match error {
        minreq::Error::IoError(e) => classify_io(e, timeout),
        other => HttpErrorKind::Protocol(other.to_string()),
    }
}

/// minreq's proxy, from a proxy URL as curl takes it: `[http://][user[:pass]@]host[:port]`
/// (port 1080 when none is written, as curl), credentials percent-decoded.
fn minreq_proxy(url: &str) -> Result<minreq::Proxy, HttpErrorKind> {
    let shown = redact_proxy(url);
    let fail = |reason: &str| HttpErrorKind::Proxy {
        proxy: shown.clone(),
        reason: reason.to_owned(),
    };
    let rest = match url.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
        Some(_) => return Err(fail("only http:// proxies are supported")),
        None => url,
    };
    let rest = rest.trim_end_matches('/');
    let (userinfo, host_port) = match rest.rsplit_once('@') {
        Some((userinfo, host_port)) => (Some(userinfo), host_port),
        None => (None, rest),
    };
    if host_port.is_empty() || host_port.contains(['/', '?', '#']) {
        return Err(fail(
            "not of the form [http://][user[:password]@]host[:port]",
        ));
    }
    let host_port = if host_port
        .rsplit_once(':')
        .is_some_and(|(_, p)| !p.is_empty())
    {
        host_port.to_owned()
    } else {
        format!("{}:1080", host_port.trim_end_matches(':'))
    };
    let decoded = userinfo.map(|u| {
        percent_encoding::percent_decode_str(u)
            .decode_utf8_lossy()
            .into_owned()
    });
    let spec = match decoded {
        Some(userinfo) => format!("{userinfo}@{host_port}"),
        None => host_port,
    };
    minreq::Proxy::new(spec)
        .map_err(|_| fail("not of the form [http://][user[:password]@]host[:port]"))
}

/// Errors on a proxied request: the proxy's own refusals are named as such.
fn classify_proxied(error: minreq::Error, timeout: Duration, proxy: &str) -> HttpErrorKind {
    let reason = match error {
        minreq::Error::InvalidProxyCreds => "refused our credentials (HTTP 407)".to_owned(),
        minreq::Error::BadProxy => "refused the connection, or answered badly".to_owned(),
        minreq::Error::ProxyConnect => "closed the connection".to_owned(),
        other => {
            return match classify(other, timeout) {
                HttpErrorKind::Connection(e) => HttpErrorKind::Connection(format!(
                    "{e} (through proxy {})",
                    redact_proxy(proxy)
                )),
                kind => kind,
            }
        }
    };
    HttpErrorKind::Proxy {
        proxy: redact_proxy(proxy),
        reason,
    }
}

/// A proxy URL for messages: `http://host:port`, credentials dropped even when no
/// scheme is written (`user:pass@host` is a valid proxy setting).
pub fn redact_proxy(url: &str) -> String {
    let url = url.trim();
    if url.contains("://") {
        redact_url(url)
    } else {
        redact_url(&format!("http://{url}"))
    }
}

fn classify_io(error: std::io::Error, timeout: Duration) -> HttpErrorKind {
    use std::io::ErrorKind::{TimedOut, WouldBlock};
    match error.kind() {
        TimedOut | WouldBlock => HttpErrorKind::Timeout(timeout),
        _ => HttpErrorKind::Connection(error.to_string()),
    }
}

/// The start of an error body, on one line, with the credential blanked out in case
/// the server echoes request headers back.
fn excerpt(body: &[u8], secret: Option<&str>) -> String {
    let text = String::from_utf8_lossy(body);
    let mut one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(secret) = secret {
        one_line = one_line.replace(secret, "***");
    }
    if one_line.chars().count() > SHOWN_DETAIL {
        one_line = one_line.chars().take(SHOWN_DETAIL).collect::<String>() + "...";
    }
    one_line
}

fn base64(input: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(input)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn gunzip_passes_plain_bytes_and_bounds_output() {
        assert_eq!(maybe_gunzip(b"From x\n".to_vec(), 10).unwrap(), b"From x\n");
        assert_eq!(maybe_gunzip(gzip(b"hello"), 5).unwrap(), b"hello");
        let bomb = gzip(&vec![0u8; 1 << 20]);
        assert!(bomb.len() < 4096);
        let err = maybe_gunzip(bomb, 1000).unwrap_err();
        assert!(matches!(err, GzipError::TooLarge { limit: 1000 }), "{err}");
        assert!(matches!(
            maybe_gunzip(vec![0x1f, 0x8b, 0, 0], 100),
            Err(GzipError::Corrupt(_))
        ));
    }

    #[test]
    fn base64_matches_rfc4648() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
            ("user:pa ss", "dXNlcjpwYSBzcw=="),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn excerpt_is_short_one_line_and_hides_token() {
        let body = format!("{{\"detail\":\n \"bad token abc123\"}}{}", "x".repeat(1000));
        let e = excerpt(body.as_bytes(), Some("abc123"));
        assert!(e.starts_with("{\"detail\": \"bad token ***\"}"), "{e}");
        assert!(e.len() <= SHOWN_DETAIL + 3);
    }

    #[test]
    fn error_text_names_method_url_status_and_attempts() {
        let e = HttpError {
            method: Method::Put,
            url: "http://h/x".into(),
            attempts: 3,
            kind: HttpErrorKind::Status {
                status: 502,
                reason: "Bad Gateway".into(),
                detail: String::new(),
            },
        };
        assert_eq!(
            e.to_string(),
            "PUT http://h/x: HTTP 502 Bad Gateway (gave up after 3 attempts)"
        );
        assert_eq!(e.status(), Some(502));
    }

    #[test]
    fn proxy_urls_are_read_as_curl_reads_them() {
        let p = minreq_proxy("http://u%40x:p%3Aw@proxy.example:3128/").unwrap();
        assert_eq!(p, minreq::Proxy::new("u@x:p:w@proxy.example:3128").unwrap());
        let p = minreq_proxy("proxy.example").unwrap();
        assert_eq!(p, minreq::Proxy::new("proxy.example:1080").unwrap());
        let err = minreq_proxy("socks5://u:secret@h:1").unwrap_err();
        assert_eq!(
            err.to_string(),
            "proxy socks5://h:1: only http:// proxies are supported"
        );
        let err = minreq_proxy("u:secret@h:notaport").unwrap_err();
        assert!(
            err.to_string().starts_with("proxy http://h:notaport: "),
            "{err}"
        );
        assert!(!err.to_string().contains("secret"));
    }

    #[test]
    fn bad_urls_are_refused_before_sending() {
        let client = HttpClient::default();
        let err = client.get("http://h/a\r\nX: y").unwrap_err();
        assert!(matches!(err.kind, HttpErrorKind::InvalidUrl(_)), "{err}");
        let err = client.get("ftp://h/").unwrap_err();
        assert!(matches!(err.kind, HttpErrorKind::InvalidUrl(_)), "{err}");
    }
}
