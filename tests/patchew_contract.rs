//! The tests' Patchew answers as the real one does: every call recorded against a
//! real Patchew server in `../shared/patchew-api/` (request, status, answer) is
//! replayed, in order, against the stand-in of `tests/support/patchew.rs`, set up as
//! the recorded server was (project `QEMU` id 1, its users, a one-patch series and a
//! `based.` series). Status, content type and the JSON's shape (every object's set of
//! keys, recursively, and each value's type) must be the same; values that describe
//! the state (statuses, results' data and logs, errors' messages) too. Addresses,
//! dates and tokens differ by nature and are not compared.

use crate::support;

use std::path::Path;

use serde_json::Value;
use support::patchew::{FakePatchew, Role};
use support::require::patchew_api_records;
use support::StandIn;

/// Keys whose values must be equal, not only of the same type.
const SAME_VALUE: &[&str] = &[
    "status",
    "name",
    "detail",
    "message_id",
    "data",
    "log",
    "tags",
    "based_on",
    "push_options",
    "is_complete",
    "num_patches",
    "total_patches",
    "patch_num",
    "maintainers",
    "testing",
];

const USERS: &[(&str, Role)] = &[
    ("admin", Role::Superuser),
    ("tester", Role::Tester),
    ("importer", Role::Importer),
    ("applier", Role::Applier),
    ("maint", Role::Maintainer),
    ("nobody", Role::Nobody),
];

/// The recorded calls, in order: (file name, content).
fn records(dir: &Path) -> Vec<(String, Value)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            let value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.file_name().unwrap().to_string_lossy().into_owned(), value)
        })
        .collect()
}

/// The body of the record named `prefix*`.
fn body_of<'a>(records: &'a [(String, Value)], prefix: &str) -> &'a Value {
    let (_, r) = records
        .iter()
        .find(|(name, _)| name.starts_with(prefix))
        .unwrap_or_else(|| panic!("no record {prefix}*"));
    &r["body"]
}

/// The stand-in as the recorded server was before the first call.
fn recorded_world(records: &[(String, Value)]) -> (StandIn, FakePatchew) {
    let server = StandIn::start();
    let project = &body_of(records, "04-")["mirror"];
    let mirror = serde_json::json!({
        "pushurl": project["pushurl"],
        "url": project["url"],
        "source": body_of(records, "04-")["git"],
    });
    let patchew = FakePatchew::install_project(&server, 1, "QEMU", mirror);
    for (name, role) in USERS {
        patchew.add_user(name, &token(name), *role);
    }
    let first = body_of(records, "11-");
    let based = body_of(records, "12-");
    let mbox = body_of(records, "38-").as_str().unwrap();
    let (first_id, based_id) = (
        first["message_id"].as_str().unwrap(),
        based["message_id"].as_str().unwrap(),
    );
    patchew.add_series(first_id, first["subject"].as_str().unwrap(), mbox);
    let based_mbox = mbox
        .replace(first_id, based_id)
        .replace("Subject: [PATCH] f: three", "Subject: [PATCH] f: four")
        .replacen("\n---\n", &format!("\nBased-on: <{first_id}>\n---\n"), 1);
    patchew.add_series(based_id, based["subject"].as_str().unwrap(), based_mbox);
    (server, patchew)
}

fn token(user: &str) -> String {
    format!("token-of-{user}")
}

/// Sends the recorded request to the stand-in: (status, media type, body).
fn replay(url: &str, request: &Value) -> (u16, String, Vec<u8>) {
    let path = request["path"].as_str().unwrap();
    let target = path.replace("http://127.0.0.1:PORT", url);
    let method = match request["method"].as_str().unwrap() {
        "GET" => minreq::Method::Get,
        "PUT" => minreq::Method::Put,
        "PATCH" => minreq::Method::Patch,
        "POST" => minreq::Method::Post,
        other => minreq::Method::Custom(other.to_owned()),
    };
    let mut r = minreq::Request::new(method, target).with_timeout(10);
    match request["as"].as_str().unwrap() {
        "anonymous" => {}
        "bad token" => r = r.with_header("Authorization", "Token 0123456789abcdef"),
        user => r = r.with_header("Authorization", format!("Token {}", token(user))),
    }
    if !request["body"].is_null() {
        r = r
            .with_header("Content-Type", "application/json")
            .with_body(request["body"].to_string());
    }
    let response = r.send().unwrap_or_else(|e| panic!("{path}: {e}"));
    let media = response
        .headers
        .get("content-type")
        .map(|t| media_type(t))
        .unwrap_or_default();
    (
        response.status_code as u16,
        media,
        response.as_bytes().to_vec(),
    )
}

fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Where `got` differs from `want` in shape (or in value, under [`SAME_VALUE`]).
fn differences(at: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
    if kind(want) != kind(got) {
        out.push(format!(
            "{at}: {} where the server sends {}",
            kind(got),
            kind(want)
        ));
        return;
    }
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for key in w.keys().filter(|k| !g.contains_key(*k)) {
                out.push(format!("{at}.{key}: missing"));
            }
            for key in g.keys().filter(|k| !w.contains_key(*k)) {
                out.push(format!("{at}.{key}: the server has no such field"));
            }
            for (key, w) in w {
                let Some(g) = g.get(key) else { continue };
                let here = format!("{at}.{key}");
                if SAME_VALUE.contains(&key.as_str()) && w != g {
                    out.push(format!("{here}: {g} where the server sends {w}"));
                } else {
                    differences(&here, w, g, out);
                }
            }
        }
        (Value::Array(w), Value::Array(g)) => {
            if w.len() != g.len() {
                out.push(format!(
                    "{at}: {} items where the server sends {}",
                    g.len(),
                    w.len()
                ));
            }
            for (i, (w, g)) in w.iter().zip(g).enumerate() {
                differences(&format!("{at}[{i}]"), w, g, out);
            }
        }
        _ => {}
    }
}

/// The gitlab test is enabled in the project's testing configuration between these
/// two calls (README.md of the records).
const ENABLE_GITLAB_AFTER: &str = "26-";

#[test]
fn the_stand_in_answers_every_recorded_call_as_the_real_server_did() {
    let Some(dir) = patchew_api_records() else {
        return;
    };
    let records = records(&dir);
    assert!(
        records.len() >= 39,
        "{}: {} recorded calls, expected all of them",
        dir.display(),
        records.len()
    );
    let (server, patchew) = recorded_world(&records);
    let mut failures = Vec::new();
    for (name, record) in &records {
        let answered_before = patchew.log().len();
        let (status, media, body) = replay(&server.url(), &record["request"]);
        let mut diffs = Vec::new();
        let log = patchew.log();
        match log.last() {
            Some(entry) if log.len() > answered_before => {
                // The log names the caller as the record does.
                let who = record["request"]["as"].as_str().unwrap();
                if entry.user != who {
                    diffs.push(format!("logged as {:?}, sent as {who:?}", entry.user));
                }
            }
            _ => diffs.push("the stand-in did not answer it".to_owned()),
        }
        let want_status = record["status"].as_u64().unwrap() as u16;
        if status != want_status {
            diffs.push(format!(
                "status {status} where the server answers {want_status}"
            ));
        }
        let want_media = media_type(record["content_type"].as_str().unwrap());
        if media != want_media {
            diffs.push(format!("{media:?} where the server sends {want_media:?}"));
        }
        match (&record["body"], want_media.as_str()) {
            (want, "application/json") => match serde_json::from_slice::<Value>(&body) {
                Ok(got) => differences("body", want, &got, &mut diffs),
                Err(e) => diffs.push(format!("body is not JSON: {e}")),
            },
            // The mbox is the one the series was made from.
            (Value::String(want), "text/plain")
                if want_status == 200 && body != want.as_bytes() =>
            {
                diffs.push("another mbox".to_owned());
            }
            _ => {}
        }
        if !diffs.is_empty() {
            failures.push(format!("{name}:\n  {}", diffs.join("\n  ")));
        }
        if name.starts_with(ENABLE_GITLAB_AFTER) {
            patchew.enable_test("gitlab");
        }
    }
    assert!(
        failures.is_empty(),
        "the stand-in differs from the real Patchew ({} of {} calls):\n{}",
        failures.len(),
        records.len(),
        failures.join("\n")
    );
    // The log's `wrote` (which tests use to show that nothing was written) marks
    // exactly the writes the real server accepted.
    let accepted = records
        .iter()
        .filter(|(_, r)| r["request"]["method"] != "GET" && r["status"] == 200)
        .count();
    assert!(accepted > 0);
    assert_eq!(patchew.writes().len(), accepted, "{:?}", patchew.writes());
}

/// The comparison itself catches what it must: a field too many, one missing, a
/// type changed, a value that describes the state.
#[test]
fn the_comparison_sees_extra_and_missing_fields_and_types() {
    let want: Value = serde_json::json!({"resource_uri": "u", "name": "QEMU", "list": [{"a": 1}]});
    let mut out = Vec::new();
    differences("body", &want, &want, &mut out);
    assert!(out.is_empty(), "{out:?}");
    let got =
        serde_json::json!({"id": 1, "resource_uri": "v", "name": "QEMU", "list": [{"a": "1"}]});
    differences("body", &want, &got, &mut out);
    assert_eq!(
        out,
        [
            "body.id: the server has no such field",
            "body.list[0].a: string where the server sends number"
        ]
    );
    let mut out = Vec::new();
    let got = serde_json::json!({"resource_uri": "u", "name": "qemu", "list": []});
    differences("body", &want, &got, &mut out);
    assert_eq!(
        out,
        [
            "body.list: 0 items where the server sends 1",
            "body.name: \"qemu\" where the server sends \"QEMU\"",
        ]
    );
}
