//! Proxies as git has them: `http_proxy`/`https_proxy`/`all_proxy` route our own
//! requests through an HTTP CONNECT proxy, `no_proxy` sends a host direct, git's
//! children still see the variables, and the proxy's credentials are never shown.

use crate::support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use support::git::{stderr, stdout, TestRepo};
use support::{Reply, StandIn};

/// What the proxy stand-in saw of one connection.
#[derive(Debug, Clone)]
struct Seen {
    request_line: String,
    proxy_authorization: Option<String>,
}

/// A loopback HTTP proxy that understands `CONNECT host:port` (minreq tunnels every
/// request, http:// too): it records the request, checks `Proxy-Authorization` if
/// told to, answers 200 and then relays bytes both ways.
struct ConnectProxy {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl ConnectProxy {
    /// `required`: the `Proxy-Authorization` value without which it answers 407.
    fn start(required: Option<String>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let (seen, stop) = (seen.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (seen, required) = (seen.clone(), required.clone());
                    std::thread::spawn(move || serve(stream, &seen, required.as_deref()));
                }
            })
        };
        ConnectProxy {
            port,
            seen,
            stop,
            acceptor: Some(acceptor),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn serve(stream: TcpStream, seen: &Mutex<Vec<Seen>>, required: Option<&str>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return; // the wake-up connection of Drop
    }
    let mut proxy_authorization = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("proxy-authorization") {
                proxy_authorization = Some(value.trim().to_owned());
            }
        }
    }
    let request_line = request_line.trim_end().to_owned();
    seen.lock().unwrap().push(Seen {
        request_line: request_line.clone(),
        proxy_authorization: proxy_authorization.clone(),
    });
    let mut client = stream;
    if required.is_some() && proxy_authorization.as_deref() != required {
        let _ = client
            .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n");
        return;
    }
    let target = match request_line.split(' ').collect::<Vec<_>>()[..] {
        ["CONNECT", target, _] => target.to_owned(),
        _ => {
            let _ = client.write_all(b"HTTP/1.1 405 Only CONNECT\r\nContent-Length: 0\r\n\r\n");
            return;
        }
    };
    let Ok(upstream) = TcpStream::connect(&target) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .unwrap();
    let pending = reader.buffer().to_vec();
    let (mut up_write, mut up_read) = (upstream.try_clone().unwrap(), upstream);
    let mut client_write = client.try_clone().unwrap();
    up_write.write_all(&pending).unwrap();
    let forward = std::thread::spawn(move || {
        let _ = std::io::copy(&mut reader.into_inner(), &mut up_write);
        let _ = up_write.shutdown(Shutdown::Write);
    });
    let mut buf = [0u8; 8192];
    loop {
        match up_read.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if client_write.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = client_write.shutdown(Shutdown::Both);
    let _ = forward.join();
}

/// A repository with one commit, the mail of a second one, and a Patchew stand-in
/// on 127.0.0.2 (another host than the proxy's) serving that mail.
fn project_with_series() -> (TestRepo, StandIn, String) {
    let (r, mbox, id) = TestRepo::with_dropped_commit();
    let server = StandIn::start_on("127.0.0.2");
    server.route("GET", &format!("/QEMU/{id}/mbox"), Reply::ok(mbox));
    for (k, v) in [
        ("patchew.server", server.url()),
        ("patchew.project", "QEMU".to_owned()),
        ("patchew.sources", "patchew".to_owned()),
        ("patchew.httpTimeout", "5".to_owned()),
        ("patchew.httpRetries", "1".to_owned()),
    ] {
        r.git(&["config", k, &v]);
    }
    (r, server, id)
}

/// `git patchew ARGS` with exactly these proxy variables (`TestRepo::command`
/// removes any the test inherited).
fn patchew_with(r: &TestRepo, vars: &[(&str, &str)], args: &[&str]) -> Output {
    r.command(env!("CARGO_BIN_EXE_git-patchew"), &r.path)
        .envs(vars.iter().copied())
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("git-patchew runs")
}

fn server_port(server: &StandIn) -> String {
    server.url().rsplit(':').next().unwrap().to_owned()
}

#[test]
fn http_proxy_carries_the_patchew_request() {
    let (r, server, id) = project_with_series();
    let proxy = ConnectProxy::start(None);
    let out = patchew_with(
        &r,
        &[("http_proxy", &proxy.url())],
        &["apply", "--no-ci", &id],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        seen[0].request_line,
        format!("CONNECT 127.0.0.2:{} HTTP/1.1", server_port(&server))
    );
    // The request did reach the server, through the tunnel.
    assert_eq!(
        server.requests_to("GET", &format!("/QEMU/{id}/mbox")).len(),
        1
    );
    r.git(&["rev-parse", "--verify", &format!("refs/tags/patchew/{id}")]);
}

/// An `https://` server is reached through `https_proxy` with `CONNECT host:port`
/// (the stand-in speaks no TLS, so the request itself then fails: the tunnel is what
/// is checked), and not at all when `no_proxy` lists it.
#[test]
fn https_proxy_tunnels_to_an_https_server() {
    let (r, server, id) = project_with_series();
    let https = server.url().replacen("http://", "https://", 1);
    r.git(&["config", "patchew.server", &https]);
    let proxy = ConnectProxy::start(None);
    let out = patchew_with(
        &r,
        &[
            ("HTTPS_PROXY", &proxy.url()),
            ("http_proxy", "http://127.0.0.1:1"),
        ],
        &["apply", "--no-ci", &id],
    );
    assert!(!out.status.success(), "the stand-in speaks no TLS");
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        seen[0].request_line,
        format!("CONNECT 127.0.0.2:{} HTTP/1.1", server_port(&server))
    );

    let out = patchew_with(
        &r,
        &[
            ("https_proxy", &proxy.url()),
            ("no_proxy", ".0.0.2,127.0.0.2"),
        ],
        &["apply", "--no-ci", &id],
    );
    assert!(!out.status.success());
    assert_eq!(proxy.seen().len(), 1, "no_proxy: direct");
}

#[test]
fn https_proxy_alone_does_not_serve_http_but_all_proxy_does() {
    let (r, _server, id) = project_with_series();
    let proxy = ConnectProxy::start(None);
    let out = patchew_with(
        &r,
        &[("https_proxy", &proxy.url()), ("HTTP_PROXY", &proxy.url())],
        &["apply", "--no-ci", &id],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(proxy.seen().is_empty(), "{:?}", proxy.seen());

    let out = patchew_with(
        &r,
        &[("ALL_PROXY", &proxy.url())],
        &["apply", "--no-ci", "--force", &id],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(proxy.seen().len(), 1, "{:?}", proxy.seen());
}

#[test]
fn git_config_http_proxy_wins_over_the_environment() {
    let (r, _server, id) = project_with_series();
    let configured = ConnectProxy::start(None);
    let from_env = ConnectProxy::start(None);
    r.git(&["config", "http.proxy", &configured.url()]);
    let out = patchew_with(
        &r,
        &[("http_proxy", &from_env.url())],
        &["apply", "--no-ci", &id],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(configured.seen().len(), 1);
    assert!(from_env.seen().is_empty());

    // Empty http.proxy: direct, whatever the environment says (as git).
    r.git(&["config", "http.proxy", ""]);
    let out = patchew_with(
        &r,
        &[("http_proxy", &from_env.url())],
        &["apply", "--no-ci", "--force", &id],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(configured.seen().len(), 1);
    assert!(from_env.seen().is_empty());
}

#[test]
fn no_proxy_sends_a_listed_host_direct() {
    let (r, server, id) = project_with_series();
    let proxy = ConnectProxy::start(None);
    for (n, no_proxy) in [
        ("no_proxy", "example.org, 127.0.0.2".to_owned()),
        ("NO_PROXY", "*".to_owned()),
        ("no_proxy", format!("127.0.0.2:{}", server_port(&server))),
        ("no_proxy", "127.0.0.0/8".to_owned()),
    ] {
        let out = patchew_with(
            &r,
            &[("http_proxy", &proxy.url()), (n, &no_proxy)],
            &["apply", "--no-ci", "--force", &id],
        );
        assert!(out.status.success(), "{n}={no_proxy}: {}", stderr(&out));
        assert!(
            proxy.seen().is_empty(),
            "{n}={no_proxy}: {:?}",
            proxy.seen()
        );
    }
    // A list that names other hosts (or another port) leaves the proxy in use.
    let out = patchew_with(
        &r,
        &[
            ("http_proxy", &proxy.url()),
            ("no_proxy", "127.0.0.1,127.0.0.2:1,localhost"),
        ],
        &["apply", "--no-ci", "--force", &id],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(proxy.seen().len(), 1, "{:?}", proxy.seen());
}

#[test]
fn proxy_credentials_are_sent_to_the_proxy_and_never_shown() {
    let (r, _server, id) = project_with_series();
    // Percent-encoded in the URL, as curl takes it: the password is "s3cr@t!".
    let expected = format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "agent:s3cr@t!")
    );
    let proxy = ConnectProxy::start(Some(expected.clone()));
    let with_password = format!("http://agent:s3cr%40t%21@127.0.0.1:{}", proxy.port);
    let out = patchew_with(
        &r,
        &[("http_proxy", &with_password)],
        &["-v", "apply", "--no-ci", &id],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        proxy.seen()[0].proxy_authorization.as_deref(),
        Some(expected.as_str())
    );
    let shown = stdout(&out) + &stderr(&out);
    assert!(!shown.contains("s3cr"), "{shown}");

    // A wrong password: the proxy answers 407; the error names the proxy, not the
    // password, and is a network failure.
    let wrong = format!("agent:wr0ngpass@127.0.0.1:{}", proxy.port);
    let out = patchew_with(
        &r,
        &[("http_proxy", &wrong)],
        &["-v", "apply", "--no-ci", "--force", &id],
    );
    let shown = stdout(&out) + &stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{shown}");
    assert!(
        shown.contains(&format!("proxy http://127.0.0.1:{}", proxy.port)),
        "{shown}"
    );
    assert!(shown.contains("407"), "{shown}");
    assert!(!shown.contains("wr0ngpass"), "{shown}");
}

#[test]
fn an_unsupported_proxy_is_a_clear_error_without_its_password() {
    let (r, _server, id) = project_with_series();
    let out = patchew_with(
        &r,
        &[("http_proxy", "socks5://agent:hunter2@127.0.0.1:1")],
        &["apply", "--no-ci", &id],
    );
    let shown = stdout(&out) + &stderr(&out);
    assert!(!out.status.success(), "{shown}");
    assert!(shown.contains("only http:// proxies"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

/// git reads the variables itself, so git push (and its hooks) must still see them.
#[test]
fn git_push_still_sees_the_proxy_variables() {
    let r = TestRepo::new();
    r.write("f.txt", "one\n");
    r.commit("base");
    r.git(&["tag", "patchew/t1"]);
    let hub = r.scratch("hub.git");
    r.git(&["init", "-q", "--bare", hub.to_str().unwrap()]);
    r.git(&["remote", "add", "ci-hub", hub.to_str().unwrap()]);
    let record = r.scratch("push-env.txt");
    let hook = r.path.join(".git/hooks/pre-push");
    std::fs::write(&hook, format!("#!/bin/sh\nenv > '{}'\n", record.display())).unwrap();
    make_executable(&hook);
    let vars = [
        ("http_proxy", "http://agent:pw@127.0.0.1:9"),
        ("HTTPS_PROXY", "http://127.0.0.1:10"),
        ("all_proxy", "http://127.0.0.1:11"),
        ("NO_PROXY", "example.org"),
    ];
    let out = patchew_with(&r, &vars, &["-q", "push", "patchew/t1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let env = std::fs::read_to_string(&record).expect("the pre-push hook ran");
    for (name, value) in vars {
        assert!(
            env.lines().any(|l| l == format!("{name}={value}")),
            "{name} missing from git's environment:\n{env}"
        );
    }
    for name in ["https_proxy", "no_proxy", "ALL_PROXY"] {
        assert!(
            !env.lines().any(|l| l.starts_with(&format!("{name}="))),
            "{name} was not set and must not appear:\n{env}"
        );
    }
    assert!(
        !(stdout(&out) + &stderr(&out)).contains("agent:pw"),
        "credentials printed"
    );
}

/// git runs our pre-push hook, which takes the variables out of its own environment
/// like any run of git-patchew: the user's hook that ours chains must get them back.
#[test]
fn a_chained_pre_push_hook_still_sees_the_proxy_variables() {
    let r = TestRepo::new();
    r.write("f.txt", "one\n");
    r.commit("base");
    r.git(&["tag", "v1"]);
    let hub = r.scratch("hub.git");
    r.git(&["init", "-q", "--bare", hub.to_str().unwrap()]);
    r.git(&["remote", "add", "ci-hub", hub.to_str().unwrap()]);
    let record = r.scratch("chained-env.txt");
    let hook = r.path.join(".git/hooks/pre-push");
    std::fs::write(&hook, format!("#!/bin/sh\nenv > '{}'\n", record.display())).unwrap();
    make_executable(&hook);
    let bin = Path::new(env!("CARGO_BIN_EXE_git-patchew"))
        .parent()
        .unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let out = r
        .command(env!("CARGO_BIN_EXE_git-patchew"), &r.path)
        .env("PATH", &path)
        .args(["install-hook"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        r.path.join(".git/hooks/pre-push.patchew-chained").exists(),
        "the recording hook is chained behind ours"
    );
    let vars = [
        ("https_proxy", "http://127.0.0.1:12"),
        ("no_proxy", "example.org"),
    ];
    let out = r
        .command(env!("CARGO_BIN_EXE_git-patchew"), &r.path)
        .env("PATH", &path)
        .envs(vars)
        .args(["-q", "push", "refs/tags/v1"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let env = std::fs::read_to_string(&record).expect("the chained hook ran");
    for (name, value) in vars {
        assert!(
            env.lines().any(|l| l == format!("{name}={value}")),
            "{name} missing from the chained hook's environment:\n{env}"
        );
    }
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}
