//! `git patchew apply <msgid>` fetching the series itself, from a Patchew server or a
//! public-inbox archive on loopback.

use crate::support;

use std::io::Write;

use support::git::{stderr, TestRepo};
use support::{Reply, StandIn};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn configure(r: &TestRepo, server: &StandIn) {
    for (k, v) in [
        ("patchew.server", server.url()),
        ("patchew.project", "QEMU".to_owned()),
        ("patchew.inbox", format!("{}/all", server.url())),
        ("patchew.httpTimeout", "1".to_owned()),
        ("patchew.httpRetries", "1".to_owned()),
    ] {
        r.git(&["config", k, &v]);
    }
}

#[test]
fn from_patchew_by_any_form_of_the_id() {
    let (r, mbox, id) = TestRepo::with_dropped_commit();
    let server = StandIn::start();
    configure(&r, &server);
    server.route("GET", &format!("/QEMU/{id}/mbox"), Reply::ok(mbox));
    for form in [
        format!("<{id}>"),
        format!("id:{id}"),
        format!("https://patchew.org/QEMU/{id}/"),
    ] {
        let out = r.patchew(&r.path, &["apply", "--no-ci", "--force", &form]);
        assert!(out.status.success(), "{form}: {}", stderr(&out));
    }
    let tag = format!("refs/tags/patchew/{id}");
    assert_eq!(
        r.git(&["show", "-s", "--format=%s", &format!("{tag}^{{commit}}")]),
        "f: two"
    );
    assert_eq!(
        server.requests_to("GET", &format!("/QEMU/{id}/mbox")).len(),
        3
    );
}

#[test]
fn falls_back_to_the_gzipped_inbox_thread() {
    let (r, mbox, id) = TestRepo::with_dropped_commit();
    let server = StandIn::start();
    configure(&r, &server);
    server.route(
        "GET",
        &format!("/all/{id}/t.mbox.gz"),
        Reply::ok(gzip(mbox.as_bytes())),
    );
    let out = r.patchew(&r.path, &["apply", "--no-ci", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        server.requests_to("GET", &format!("/QEMU/{id}/mbox")).len(),
        1,
        "Patchew tried first"
    );
    r.git(&["rev-parse", &format!("refs/tags/patchew/{id}")]);
}

#[test]
fn not_found_anywhere_names_the_urls_one_a_line_and_exits_3() {
    let (r, _, id) = TestRepo::with_dropped_commit();
    let server = StandIn::start();
    configure(&r, &server);
    // A source named but not configured is listed too.
    r.git(&["config", "patchew.sources", "patchew,inbox,nntp"]);
    let out = r.patchew(&r.path, &["apply", "--no-ci", &id]);
    assert_eq!(out.status.code(), Some(3), "nothing to do: no such series");
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 4, "{err}");
    assert!(lines[0].starts_with("error: no mbox found for <"), "{err}");
    assert!(
        lines[1].ends_with(&format!("not found at {}/QEMU/{id}/mbox", server.url())),
        "{err}"
    );
    assert!(lines[2].ends_with("t.mbox.gz"), "{err}");
    assert!(lines[3].contains("nntp: not asked"), "{err}");
    assert_eq!(r.git(&["tag"]), "");
}

#[test]
fn a_source_that_failed_before_one_that_answered_is_named_in_a_warning() {
    let (r, mbox, id) = TestRepo::with_dropped_commit();
    let server = StandIn::start();
    configure(&r, &server);
    server.route(
        "GET",
        &format!("/all/{id}/t.mbox.gz"),
        Reply::ok(gzip(mbox.as_bytes())),
    );
    let out = r.patchew(&r.path, &["apply", "--no-ci", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "warning: not found at {}/QEMU/{id}/mbox; used {}/all/",
            server.url(),
            server.url()
        )),
        "{err}"
    );
}

#[test]
fn a_hanging_server_times_out() {
    let (r, _, id) = TestRepo::with_dropped_commit();
    let server = StandIn::start();
    configure(&r, &server);
    r.git(&["config", "patchew.sources", "patchew"]);
    server.route("GET", &format!("/QEMU/{id}/mbox"), Reply::hang());
    let out = r.patchew(&r.path, &["apply", "--no-ci", &id]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no complete answer within 1 s"),
        "{}",
        stderr(&out)
    );
}
