//! The HTTP layer, the Patchew client and the mbox sources against a loopback stand-in.

use crate::support;

use std::io::Write;
use std::time::Duration;

use git_patchew::http::{HttpClient, HttpConfig, HttpErrorKind, RetryPolicy, Service, Token};
use git_patchew::input::msgid::MessageId;
use git_patchew::input::source::{fetch_mbox_with, Source, SourceFailure};
use git_patchew::report::patchew::{ApplierData, ApplierResult, Patchew, Status};
use support::patchew::FakePatchew;
use support::{refused_url, Reply, StandIn};

const TOKEN: &str = "tok-8f3e2a";

fn quick_config() -> HttpConfig {
    HttpConfig {
        timeout: Duration::from_secs(1),
        retry: RetryPolicy {
            max_attempts: 3,
            first_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            max_total: Duration::from_secs(10),
        },
        ..HttpConfig::default()
    }
}

fn client(server: &StandIn) -> Patchew {
    let token = Token::new(Service::Patchew, TOKEN, "test").unwrap();
    Patchew::new(&server.url(), Some(token), HttpClient::new(quick_config()))
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// The tests' Patchew with project 3 pushing to a mirror whose push URL holds
/// credentials, and one series queued again with push options, on an applied base.
fn queued_patchew(server: &StandIn) -> FakePatchew {
    let patchew = FakePatchew::install_project(
        server,
        3,
        "QEMU",
        serde_json::json!({"pushurl": "https://bot:pw@git.x/q", "url": "https://git.x/q",
                           "source": "https://up.x/q.git master"}),
    );
    let id = "20240101._5F1@x.org";
    patchew.add_series(id, "[PATCH v2 0/3] hw: fix things", "");
    patchew.set_git(
        id,
        "pending",
        serde_json::json!({"git.push_options": "ci.skip"}),
    );
    patchew.set_based_on(
        id,
        serde_json::json!({"repo": "https://git.x/q", "tag": "refs/tags/patchew/b@x.org"}),
    );
    patchew
}

#[test]
fn unapplied_parses_patchews_queue() {
    let server = StandIn::start();
    let url = server.url();
    queued_patchew(&server);
    let item = client(&server)
        .unapplied(Some("https://bot:pw@git.x/q"))
        .unwrap()
        .unwrap();
    assert_eq!(item.message_id, "20240101._5F1@x.org");
    assert_eq!(item.message_id().unwrap().as_str(), "20240101_1@x.org");
    assert_eq!(
        item.mbox_uri,
        format!("{url}/api/v1/projects/3/series/20240101._5F1@x.org/mbox/")
    );
    assert_eq!(
        item.mirror.pushurl.as_deref(),
        Some("https://bot:pw@git.x/q")
    );
    assert_eq!(item.based_on.unwrap().tag, "refs/tags/patchew/b@x.org");
    assert_eq!(item.push_options.as_deref(), Some("ci.skip"));
    assert_eq!(
        item.mirror.source_repo_and_branch(),
        Some(("https://up.x/q.git", "master"))
    );
    let sent = server.requests();
    assert_eq!(
        sent[0].target,
        "/api/v1/series/unapplied/?limit=1&target_repo=https%3A%2F%2Fbot%3Apw@git.x%2Fq"
    );
    assert_eq!(sent[0].header("Authorization"), None, "GET needs no token");
}

/// The target repository is sent encoded, whatever it holds.
#[test]
fn unapplied_encodes_the_target_repo() {
    let server = StandIn::start();
    queued_patchew(&server);
    assert_eq!(
        client(&server)
            .unapplied(Some("https://git.x/q?a&b"))
            .unwrap(),
        None
    );
    assert_eq!(
        server.requests()[0].target,
        "/api/v1/series/unapplied/?limit=1&target_repo=https%3A%2F%2Fgit.x%2Fq%3Fa%26b"
    );
}

#[test]
fn empty_queue_is_none() {
    let server = StandIn::start();
    let patchew = queued_patchew(&server);
    patchew.set_git("20240101._5F1@x.org", "success", serde_json::json!({}));
    assert_eq!(client(&server).unapplied(None).unwrap(), None);
}

#[test]
fn mbox_plain_and_gzipped() {
    let server = StandIn::start();
    server.route("GET", "/plain/mbox/", Reply::ok("From nobody\n\nbody\n"));
    server.route("GET", "/packed/t.mbox.gz", Reply::ok(gzip(b"From x\n")));
    let patchew = client(&server);
    let plain = patchew.get_mbox(&format!("{}/plain/mbox/", server.url()));
    assert_eq!(plain.unwrap(), b"From nobody\n\nbody\n");
    let packed = patchew.get_mbox(&format!("{}/packed/t.mbox.gz", server.url()));
    assert_eq!(packed.unwrap(), b"From x\n");
}

#[test]
fn put_result_sends_exact_json_and_token() {
    let server = StandIn::start().with_token(TOKEN);
    server.route("PUT", "/r/git/", Reply::json(200, "{}"));
    let result = ApplierResult {
        status: Status::Success,
        data: ApplierData {
            base: Some("abc123".into()),
            repo: Some("https://git.x/q".into()),
            tag: Some("refs/tags/patchew/m@x".into()),
        },
        log: "applied\n".into(),
    };
    client(&server)
        .put_result(&format!("{}/r/git/", server.url()), &result)
        .unwrap();
    let sent = &server.requests_to("PUT", "/r/git/")[0];
    assert_eq!(
        sent.header("Authorization"),
        Some(&*format!("Token {TOKEN}"))
    );
    assert_eq!(sent.header("Content-Type"), Some("application/json"));
    assert_eq!(
        sent.body_text(),
        r#"{"status":"success","data":{"base":"abc123","repo":"https://git.x/q","tag":"refs/tags/patchew/m@x"},"log":"applied\n"}"#
    );
}

#[test]
fn put_testing_result_path_and_body() {
    let server = StandIn::start().with_token(TOKEN);
    let path = "/api/v1/projects/7/series/a._5Fb._2Fc%3F%23@x/results/testing.checkpatch/";
    server.route("PUT", path, Reply::status(200));
    let msgid = MessageId::parse("<a_b/c?#@x>").unwrap();
    client(&server)
        .put_testing_result(7, &msgid, "checkpatch", Status::Failure, "bad\n", "f00d")
        .unwrap();
    let sent = &server.requests_to("PUT", path)[0];
    assert_eq!(
        sent.body_text(),
        r#"{"status":"failure","log":"bad\n","data":{"head":"f00d","is_timeout":false}}"#
    );
}

#[test]
fn get_result_and_patch_json() {
    let server = StandIn::start().with_token(TOKEN);
    server.route(
        "GET",
        "/r/git/",
        Reply::json(
            200,
            r#"{"name":"git","status":"running","data":{},"log_url":null,"last_update":"x"}"#,
        ),
    );
    server.route("PATCH", "/s/", Reply::json(200, r#"{"ok":true}"#));
    let patchew = client(&server);
    let result = patchew
        .get_result(&format!("{}/r/git/", server.url()))
        .unwrap();
    assert_eq!(
        (result.name.as_str(), result.status),
        ("git", Status::Running)
    );
    let value = serde_json::json!({"maintainers": []});
    let answer = patchew
        .patch_json(&format!("{}/s/", server.url()), &value)
        .unwrap();
    assert_eq!(answer, serde_json::json!({"ok": true}));
    assert_eq!(
        server.requests_to("PATCH", "/s/")[0].body_text(),
        r#"{"maintainers":[]}"#
    );
}

#[test]
fn server_error_then_success_is_retried() {
    let server = StandIn::start().with_token(TOKEN);
    server.route_seq("PUT", "/r/", vec![Reply::status(500), Reply::status(200)]);
    let result = ApplierResult {
        status: Status::Failure,
        data: ApplierData::default(),
        log: String::new(),
    };
    client(&server)
        .put_result(&format!("{}/r/", server.url()), &result)
        .unwrap();
    let sent = server.requests_to("PUT", "/r/");
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].body, sent[1].body);
}

#[test]
fn server_error_forever_gives_up_after_bounded_attempts() {
    let server = StandIn::start();
    server.route("GET", "/x", Reply::status(503).body("down for maintenance"));
    let url = format!("{}/x", server.url());
    let err = client(&server).get_mbox(&url).unwrap_err();
    assert_eq!(server.requests().len(), 3);
    assert_eq!(err.attempts, 3);
    assert_eq!(
        err.to_string(),
        format!(
            "GET {url}: HTTP 503 Service Unavailable: down for maintenance \
             (gave up after 3 attempts)"
        )
    );
}

#[test]
fn retries_stop_at_the_total_time_bound() {
    let server = StandIn::start();
    server.route("GET", "/x", Reply::status(500));
    let config = HttpConfig {
        retry: RetryPolicy {
            max_attempts: 100,
            first_delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(50),
            max_total: Duration::from_millis(120),
        },
        ..quick_config()
    };
    let err = HttpClient::new(config)
        .get(&format!("{}/x", server.url()))
        .unwrap_err();
    assert!((2..=4).contains(&err.attempts), "{err}");
}

#[test]
fn not_found_is_not_retried_and_names_url_and_status() {
    let server = StandIn::start();
    let url = format!("{}/QEMU/nope@x/mbox", server.url());
    let err = client(&server).get_mbox(&url).unwrap_err();
    assert_eq!(server.requests().len(), 1);
    assert!(err.is_not_found());
    assert_eq!(
        err.to_string(),
        format!("GET {url}: HTTP 404 Not Found: {{\"detail\":\"Not found.\"}}")
    );
}

#[test]
fn wrong_or_missing_token_is_explained() {
    let server = StandIn::start().with_token("the-right-one");
    let url = format!("{}/r/", server.url());
    let result = ApplierResult {
        status: Status::Running,
        data: ApplierData::default(),
        log: String::new(),
    };
    let err = client(&server).put_result(&url, &result).unwrap_err();
    assert!(matches!(err.kind, HttpErrorKind::Unauthorized { .. }));
    let text = err.to_string();
    assert!(text.starts_with(&format!(
        "PUT {url}: HTTP 401: the server refused the Patchew token"
    )));
    assert!(text.contains("PATCHEW_TOKEN"), "{text}");
    assert_eq!(server.requests().len(), 1, "4xx is not retried");

    let anonymous = Patchew::new(&server.url(), None, HttpClient::new(quick_config()));
    let err = anonymous.put_result(&url, &result).unwrap_err();
    assert!(matches!(err.kind, HttpErrorKind::MissingToken), "{err}");
    assert_eq!(server.requests().len(), 1, "nothing sent without a token");
}

#[test]
fn hanging_server_times_out_within_the_timeout() {
    let server = StandIn::start();
    server.route("GET", "/slow", Reply::hang());
    let url = format!("{}/slow", server.url());
    let err = client(&server).get_mbox(&url).unwrap_err();
    assert!(matches!(err.kind, HttpErrorKind::Timeout(_)), "{err}");
    assert!(err
        .to_string()
        .starts_with(&format!("GET {url}: no complete answer within 1 s")));
    assert_eq!(server.requests().len(), 1, "timeouts are not retried");
}

#[test]
fn redirect_307_keeps_method_body_and_token() {
    let server = StandIn::start().with_token(TOKEN);
    server.route("PUT", "/old/", Reply::redirect(307, "/new/"));
    server.route("PUT", "/new/", Reply::status(204));
    let body = ApplierResult {
        status: Status::Success,
        data: ApplierData::default(),
        log: "x".into(),
    };
    client(&server)
        .put_result(&format!("{}/old/", server.url()), &body)
        .unwrap();
    let first = &server.requests_to("PUT", "/old/")[0];
    let second = &server.requests_to("PUT", "/new/")[0];
    assert_eq!(first.body, second.body);
    assert!(!second.body.is_empty());
    assert_eq!(
        second.header("Authorization"),
        first.header("Authorization")
    );
}

#[test]
fn redirect_303_turns_into_get() {
    let server = StandIn::start().with_token(TOKEN);
    server.route("PATCH", "/s/", Reply::redirect(303, "/done"));
    server.route("GET", "/done", Reply::json(200, "{}"));
    let answer = client(&server)
        .patch_json(&format!("{}/s/", server.url()), &serde_json::json!({}))
        .unwrap();
    assert_eq!(answer, serde_json::json!({}));
    assert!(server.requests_to("GET", "/done")[0].body.is_empty());
}

#[test]
fn redirect_to_another_origin_drops_the_token() {
    let elsewhere = StandIn::start();
    elsewhere.route("PUT", "/landing/", Reply::status(200));
    let server = StandIn::start().with_token(TOKEN);
    let target = format!("{}/landing/", elsewhere.url());
    server.route("PUT", "/r/", Reply::redirect(308, &target));
    let body = ApplierResult {
        status: Status::Success,
        data: ApplierData::default(),
        log: String::new(),
    };
    client(&server)
        .put_result(&format!("{}/r/", server.url()), &body)
        .unwrap();
    let landed = &elsewhere.requests_to("PUT", "/landing/")[0];
    assert_eq!(landed.header("Authorization"), None);
}

/// A `Location` whose query holds a URL is still a path on the same origin: the token
/// goes there, and nothing goes to the URL in the query.
#[test]
fn a_location_with_a_url_in_its_query_stays_on_the_origin() {
    let elsewhere = StandIn::start_on("127.0.0.2");
    let server = StandIn::start().with_token(TOKEN);
    let login = format!("/login?next={}/steal", elsewhere.url());
    server.route("PUT", "/r/", Reply::redirect(307, &login));
    server.route("PUT", &login, Reply::status(200));
    let body = ApplierResult {
        status: Status::Success,
        data: ApplierData::default(),
        log: String::new(),
    };
    client(&server)
        .put_result(&format!("{}/r/", server.url()), &body)
        .unwrap();
    let landed = &server.requests_to("PUT", "/login")[0];
    assert_eq!(landed.target, login);
    assert_eq!(
        landed.header("Authorization"),
        Some(&*format!("Token {TOKEN}"))
    );
    assert!(elsewhere.requests().is_empty());
}

/// `?query`-only and `../` references, resolved as RFC 3986 says.
#[test]
fn query_only_and_dot_dot_locations_resolve_against_the_answering_url() {
    let server = StandIn::start();
    server.route("GET", "/a/b/c", Reply::redirect(302, "?page=2"));
    server.route(
        "GET",
        "/a/b/c?page=2",
        Reply::redirect(302, "../d/./e?x#frag"),
    );
    server.route("GET", "/a/d/e?x", Reply::ok("From x\n"));
    let http = HttpClient::new(quick_config());
    let answer = http.get(&format!("{}/a/b/c", server.url())).unwrap();
    assert_eq!(answer.body, b"From x\n");
    let targets: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(targets, ["/a/b/c", "/a/b/c?page=2", "/a/d/e?x"]);
}

#[test]
fn redirect_loops_are_bounded() {
    let server = StandIn::start();
    server.route("GET", "/a", Reply::redirect(302, "/a"));
    let err = client(&server)
        .get_mbox(&format!("{}/a", server.url()))
        .unwrap_err();
    assert!(matches!(err.kind, HttpErrorKind::Redirect(_)), "{err}");
    assert_eq!(server.requests().len(), 11);
}

#[test]
fn refused_connection_names_the_url() {
    let url = format!("{}/api/v1/series/unapplied/", refused_url());
    let http = HttpClient::new(quick_config());
    let err = http.get(&url).unwrap_err();
    assert!(matches!(err.kind, HttpErrorKind::Connection(_)), "{err}");
    assert!(err
        .to_string()
        .starts_with(&format!("GET {url}: connection failed: ")));
    assert_eq!(err.attempts, 3, "connection errors are retried");
}

#[test]
fn credentials_in_urls_never_reach_error_text() {
    let server = StandIn::start();
    let base = server.url().replace("http://", "http://bot:s3cr%40t@");
    let err = HttpClient::new(quick_config())
        .get(&format!("{base}/missing"))
        .unwrap_err();
    let sent = &server.requests()[0];
    assert_eq!(sent.header("Authorization"), Some("Basic Ym90OnMzY3JAdA=="));
    assert_eq!(err.url, format!("{}/missing", server.url()));

    let refused = refused_url().replace("http://", "http://bot:s3cr%40t@");
    let err2 = HttpClient::new(quick_config()).get(&refused).unwrap_err();
    for text in [
        err.to_string(),
        format!("{err:?}"),
        err2.to_string(),
        format!("{err2:?}"),
    ] {
        assert!(!text.contains("s3cr"), "{text}");
        assert!(!text.contains("bot:"), "{text}");
    }
}

#[test]
fn token_never_appears_in_errors_or_debug() {
    let server = StandIn::start().with_token(TOKEN);
    // A server that echoes the request's headers back.
    let echo = format!("{{\"detail\": \"bad header Authorization: Token {TOKEN}\"}}");
    server.route("PUT", "/r/", Reply::json(400, &echo));
    let patchew = client(&server);
    let body = ApplierResult {
        status: Status::Success,
        data: ApplierData::default(),
        log: String::new(),
    };
    let err = patchew
        .put_result(&format!("{}/r/", server.url()), &body)
        .unwrap_err();
    for text in [err.to_string(), format!("{err:?}"), format!("{patchew:?}")] {
        assert!(!text.contains(TOKEN), "{text}");
    }
    assert!(err.to_string().contains("Token ***"), "{err}");
}

#[test]
fn zip_bomb_is_refused_clearly() {
    let server = StandIn::start();
    server.route("GET", "/t.mbox.gz", Reply::ok(gzip(&vec![b'A'; 4 << 20])));
    let http = HttpClient::new(HttpConfig {
        max_body: 1 << 20,
        ..quick_config()
    });
    let err = http
        .get_maybe_gzipped(&format!("{}/t.mbox.gz", server.url()))
        .unwrap_err();
    assert!(
        err.to_string().contains("expands beyond 1048576 bytes"),
        "{err}"
    );
}

#[test]
fn oversized_body_is_refused() {
    let server = StandIn::start();
    server.route("GET", "/big", Reply::ok(vec![b'x'; 2000]));
    let http = HttpClient::new(HttpConfig {
        max_body: 1000,
        ..quick_config()
    });
    let err = http.get(&format!("{}/big", server.url())).unwrap_err();
    assert!(
        matches!(err.kind, HttpErrorKind::BodyTooLarge { limit: 1000 }),
        "{err}"
    );
}

#[test]
fn sources_fall_back_from_patchew_to_inbox() {
    let patchew = StandIn::start();
    let inbox = StandIn::start();
    inbox.route(
        "GET",
        "/qemu-devel/a_b%2Fc@x/t.mbox.gz",
        Reply::ok(gzip(b"From x\n\nthread\n")),
    );
    let msgid = MessageId::parse("<a_b/c@x>").unwrap();
    let sources = [
        Source::Patchew {
            server: patchew.url(),
            project: "QEMU".into(),
        },
        Source::Inbox {
            url: format!("{}/qemu-devel/", inbox.url()),
        },
        Source::Stdin,
    ];
    let http = HttpClient::new(quick_config());
    let got = fetch_mbox_with(Some(&msgid), &sources, &http, &mut std::io::empty()).unwrap();
    assert_eq!(got.mbox, b"From x\n\nthread\n");
    assert_eq!(
        got.origin,
        format!("{}/qemu-devel/a_b%2Fc@x/t.mbox.gz", inbox.url())
    );
    let patchew_url = format!("{}/QEMU/a._5Fb._2Fc@x/mbox", patchew.url());
    assert!(matches!(&got.skipped[..], [SourceFailure::NotFound { url }] if *url == patchew_url));
    assert_eq!(
        got.skipped[0].to_string(),
        format!("not found at {patchew_url}")
    );
}

#[test]
fn sources_report_server_errors_and_try_on() {
    let patchew = StandIn::start();
    patchew.route("GET", "/QEMU/m@x/mbox", Reply::status(500));
    let msgid = MessageId::parse("m@x").unwrap();
    let sources = [
        Source::Patchew {
            server: patchew.url(),
            project: "QEMU".into(),
        },
        Source::Inbox { url: refused_url() },
    ];
    let http = HttpClient::new(quick_config());
    let err = fetch_mbox_with(Some(&msgid), &sources, &http, &mut std::io::empty()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("no mbox found for <m@x>\n  - GET "),
        "{text}"
    );
    assert!(text.contains("/QEMU/m@x/mbox: HTTP 500"), "{text}");
    assert!(text.contains("/m@x/t.mbox.gz: connection failed"), "{text}");

    let mut stdin = &b"From y\n"[..];
    let sources = [sources[0].clone(), Source::Stdin];
    let got = fetch_mbox_with(Some(&msgid), &sources, &http, &mut stdin).unwrap();
    assert_eq!(got.origin, "standard input");
    assert!(matches!(got.skipped[0], SourceFailure::Http(_)));
}
