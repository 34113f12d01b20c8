//! A loopback stand-in for a Patchew server (or any HTTP server) for integration tests.
//!
//! It listens on 127.0.0.1 on a free port, answers each route from a queue of canned
//! replies (the last one repeats, so `[500, 200]` means "fail once, then work"),
//! records every request, checks the token on non-GET calls like Patchew does, and
//! stops when dropped. Unknown routes get 404. std only; one connection per request.
//!
//! Routes can also be answered by code ([`StandIn::handle`]); [`patchew::FakePatchew`]
//! uses that to answer Patchew's API as the real server does, users and groups
//! included (checked by tests/patchew_contract.rs): a test that talks to Patchew uses
//! it, not routes of its own. [`StandIn::with_token`] is for other servers.
//!
//! ```ignore
//! let server = StandIn::start().with_token("tok");
//! server.route("GET", "/api/v1/series/unapplied/?limit=1", Reply::json(200, "{...}"));
//! server.route_seq("PUT", "/r/", vec![Reply::status(500), Reply::status(200)]);
//! // ... run the code under test against server.url() ...
//! assert_eq!(server.requests_to("PUT", "/r/").len(), 2);
//! ```

#![allow(dead_code)] // each test binary uses a different part of it

pub mod applier;
pub mod git;
pub mod gitlab;
pub mod mail;
pub mod patchew;
pub mod patchew_config;
pub mod process;
pub mod require;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// One canned answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Accept the request, then never answer (until the stand-in is dropped).
    pub hang: bool,
    /// Wait this long before answering.
    pub delay: Duration,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            hang: false,
            delay: Duration::ZERO,
        }
    }

    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Reply::status(200).body(body)
    }

    pub fn json(status: u16, json: &str) -> Self {
        Reply::status(status)
            .header("Content-Type", "application/json")
            .body(json)
    }

    pub fn redirect(status: u16, location: &str) -> Self {
        Reply::status(status).header("Location", location)
    }

    pub fn hang() -> Self {
        Reply {
            hang: true,
            ..Reply::status(200)
        }
    }

    /// The same reply, sent only after `delay`: a slow server.
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
}

/// One request as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    /// The request target as sent: path and query, still percent-encoded.
    pub target: String,
    /// In the order received, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The first header of that name, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Answers a request, or passes (`None`) to the next handler and then the routes.
pub type Handler = Arc<dyn Fn(&Recorded) -> Option<Reply> + Send + Sync>;

#[derive(Default)]
struct State {
    /// (method, path) -> one-shot replies, given before anything else.
    interjections: HashMap<(String, String), Vec<Reply>>,
    /// Asked in order before the routes.
    handlers: Vec<Handler>,
    /// (method, target) -> replies still to give; the last one is never removed.
    routes: HashMap<(String, String), Vec<Reply>>,
    requests: Vec<Recorded>,
    token: Option<String>,
}

pub struct StandIn {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl StandIn {
    pub fn start() -> Self {
        StandIn::start_on("127.0.0.1")
    }

    /// On another loopback address (127.0.0.2, ...): another origin, for tests of
    /// what may cross from one server to another.
    pub fn start_on(ip: &str) -> Self {
        // For tests that call the library in this process: take a developer's
        // http_proxy out of the environment, where minreq would apply it to loopback
        // traffic by itself (HttpConfig::default() uses no proxy; runs of the binary
        // lose the variables in TestRepo::command).
        git_patchew::proxy_env::capture();
        let listener = TcpListener::bind((ip, 0)).unwrap_or_else(|e| panic!("bind {ip}:0: {e}"));
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let (state, stop) = (state.clone(), stop.clone());
            std::thread::spawn(move || accept_loop(listener, state, stop))
        };
        StandIn {
            addr,
            state,
            stop,
            acceptor: Some(acceptor),
        }
    }

    /// Require `Authorization: Token <token>` on every non-GET request (401 otherwise).
    pub fn with_token(self, token: &str) -> Self {
        self.state.lock().unwrap().token = Some(token.to_owned());
        self
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Always answer `method target` with `reply`. `target` is the path, with the
    /// query when the route should only match that exact query.
    pub fn route(&self, method: &str, target: &str, reply: Reply) {
        self.route_seq(method, target, vec![reply]);
    }

    /// Answer with `replies` in turn, repeating the last one forever.
    pub fn route_seq(&self, method: &str, target: &str, replies: Vec<Reply>) {
        assert!(!replies.is_empty(), "a route needs at least one reply");
        let key = (method.to_owned(), target.to_owned());
        self.state.lock().unwrap().routes.insert(key, replies);
    }

    /// Let `handler` answer requests before the routes (the token is checked first).
    /// It runs with the stand-in locked, so requests are answered one at a time.
    pub fn handle(&self, handler: impl Fn(&Recorded) -> Option<Reply> + Send + Sync + 'static) {
        self.state.lock().unwrap().handlers.push(Arc::new(handler));
    }

    /// Answer the next requests to `method path` (query ignored) with `replies`, one
    /// each, before handlers and routes get them: "fail twice, then as usual".
    pub fn interject(&self, method: &str, path: &str, replies: Vec<Reply>) {
        let key = (method.to_owned(), path.to_owned());
        let mut state = self.state.lock().unwrap();
        state.interjections.entry(key).or_default().extend(replies);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Requests with this method and path (query ignored).
    pub fn requests_to(&self, method: &str, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path() == path)
            .collect()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so that the thread sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// A URL where nothing listens: the port was just free, and is closed again.
pub fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

fn accept_loop(listener: TcpListener, state: Arc<Mutex<State>>, stop: Arc<AtomicBool>) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let (state, stop) = (state.clone(), stop.clone());
        // One thread per connection, so that a hanging reply blocks nobody else.
        std::thread::spawn(move || serve(stream, &state, &stop));
    }
}

fn serve(mut stream: TcpStream, state: &Mutex<State>, stop: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Some(request) = read_request(&mut stream) else {
        return;
    };
    let reply = answer(state, &request);
    if reply.hang {
        while !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(20));
        }
        return;
    }
    std::thread::sleep(reply.delay);
    let _ = write_reply(&mut stream, &reply);
}

fn answer(state: &Mutex<State>, request: &Recorded) -> Reply {
    let mut state = state.lock().unwrap();
    state.requests.push(request.clone());
    if let Some(token) = &state.token {
        let expected = format!("Token {token}");
        if request.method != "GET" && request.header("Authorization") != Some(&expected) {
            return Reply::json(401, r#"{"detail":"Invalid token."}"#);
        }
    }
    let by_path = (request.method.clone(), request.path().to_owned());
    if let Some(queue) = state
        .interjections
        .get_mut(&by_path)
        .filter(|q| !q.is_empty())
    {
        return queue.remove(0);
    }
    if let Some(reply) = state.handlers.iter().find_map(|h| h(request)) {
        return reply;
    }
    let exact = (request.method.clone(), request.target.clone());
    let key = if state.routes.contains_key(&exact) {
        exact
    } else {
        by_path
    };
    match state.routes.get_mut(&key) {
        Some(queue) if queue.len() > 1 => queue.remove(0),
        Some(queue) => queue[0].clone(),
        None => Reply::json(404, r#"{"detail":"Not found."}"#),
    }
}

fn read_request(stream: &mut TcpStream) -> Option<Recorded> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let header = line.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Recorded {
        method,
        target,
        headers,
        body,
    })
}

fn write_reply(stream: &mut TcpStream, reply: &Reply) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reason(reply.status),
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(&reply.body)?;
    stream.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}
