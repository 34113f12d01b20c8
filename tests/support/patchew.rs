//! A small stateful Patchew on a [`StandIn`]: one project, its series, and each
//! series' `git` result, with the semantics of Patchew's code (mods/git.py,
//! api/rest/__init__.py, api/search.py):
//!
//! - `GET /api/v1/series/unapplied/` lists the series whose `git` result is
//!   `pending`, oldest first; `target_repo` matches the push URL as Patchew does.
//! - `GET /api/v1/series/?q=<status>:git` lists the series whose `git` result has
//!   that status (other search terms are not emulated and match everything).
//! - A result is read with `GET` and replaced with `PUT` (status, and `data`/`log`
//!   when given); every save stamps `last_update` with the server's clock.
//! - `PATCH` on a series stores its `maintainers`; `GET .../mbox/` serves the mbox.
//! - Testing results (`results/testing.<name>/`) exist only for tests enabled in the
//!   project ([`FakePatchew::enable_test`]): each becomes `pending` when the `git`
//!   result turns `success` with `tag` and `repo` (mods/testing.py); `GET` and `PUT`
//!   of a testing result that does not exist are 404, as `ResultsViewSet` has no
//!   create.
//!
//! Anything else falls through to the stand-in's routes.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::{Recorded, Reply, StandIn};

const STATUSES: &[&str] = &["pending", "running", "success", "failure"];

#[derive(Debug, Clone, PartialEq)]
pub struct GitResult {
    pub status: String,
    pub data: Value,
    pub log: Option<String>,
    /// Seconds since the epoch, server clock.
    pub last_update: i64,
}

#[derive(Debug, Clone)]
pub struct Series {
    /// In Patchew's stored form, as the API shows it.
    pub message_id: String,
    pub subject: String,
    pub mbox: Vec<u8>,
    pub git: GitResult,
    pub maintainers: Vec<String>,
    /// Patchew found it merged upstream; the queue lists it all the same.
    pub is_merged: bool,
    /// `based_on` as the queue shows it: `{"repo", "tag"}` or null.
    pub based_on: Value,
    /// Re-queue the series as a tags update does, after this many more reads of its
    /// result: a way to change the server's state at a precise step of a client.
    tags_update_after_reads: Option<usize>,
    /// `testing.<name>` results by name.
    pub tests: std::collections::BTreeMap<String, GitResult>,
    /// After this many more reads of a testing result, write it as a pipeline
    /// would: (reads, name, status).
    testing_written_after_reads: Option<(usize, String, String)>,
}

struct Project {
    /// `{"pushurl", "url", "source"}`.
    mirror: Value,
    use_push_options: bool,
    series: Vec<Series>,
    enabled_tests: Vec<String>,
}

/// Cheap to clone: clones share the state.
#[derive(Clone)]
pub struct FakePatchew {
    url: String,
    project_id: u64,
    project: Arc<Mutex<Project>>,
}

impl FakePatchew {
    /// Serves project 1 with this mirror on `server`.
    pub fn install(server: &StandIn, mirror: Value) -> Self {
        let fake = FakePatchew {
            url: server.url(),
            project_id: 1,
            project: Arc::new(Mutex::new(Project {
                mirror,
                use_push_options: true,
                series: Vec::new(),
                enabled_tests: Vec::new(),
            })),
        };
        let handler = fake.clone();
        server.handle(move |request| handler.answer(request));
        fake
    }

    /// A complete series: queued, as Patchew's `SeriesComplete` handler does.
    pub fn add_series(&self, message_id: &str, subject: &str, mbox: impl Into<Vec<u8>>) {
        let mut project = self.project.lock().unwrap();
        assert!(
            project.series.iter().all(|s| s.message_id != message_id),
            "{message_id} added twice"
        );
        project.series.push(Series {
            message_id: message_id.to_owned(),
            subject: subject.to_owned(),
            mbox: mbox.into(),
            git: GitResult {
                status: "pending".into(),
                data: json!({}),
                log: None,
                last_update: now(),
            },
            maintainers: Vec::new(),
            is_merged: false,
            based_on: Value::Null,
            tags_update_after_reads: None,
            tests: Default::default(),
            testing_written_after_reads: None,
        });
    }

    /// Marks the series merged, as Patchew does when its patches reach the branch.
    pub fn set_merged(&self, message_id: &str) {
        let mut project = self.project.lock().unwrap();
        let series = project
            .series
            .iter_mut()
            .find(|s| s.message_id == message_id);
        series.expect("no such series").is_merged = true;
    }

    /// Enables test `name` in the project's testing configuration.
    pub fn enable_test(&self, name: &str) {
        self.project
            .lock()
            .unwrap()
            .enabled_tests
            .push(name.to_owned());
    }

    pub fn testing(&self, message_id: &str, name: &str) -> Option<GitResult> {
        self.series(message_id).tests.get(name).cloned()
    }

    /// Sets a testing result, `last_update` now.
    pub fn set_testing(&self, message_id: &str, name: &str, status: &str, log: &str) {
        self.with_series(message_id, |s| {
            s.tests.insert(
                name.to_owned(),
                GitResult {
                    status: status.into(),
                    data: json!({}),
                    log: Some(log.into()),
                    last_update: now(),
                },
            );
        });
    }

    /// After `reads` more GETs of `testing.<name>`, it becomes `status`, as if the
    /// pipeline reported between a client's check and its write.
    pub fn testing_written_after_reads(
        &self,
        message_id: &str,
        name: &str,
        reads: usize,
        status: &str,
    ) {
        self.with_series(message_id, |s| {
            s.testing_written_after_reads = Some((reads, name.to_owned(), status.to_owned()))
        });
    }

    pub fn testing_path(&self, message_id: &str, name: &str) -> String {
        format!("{}results/testing.{name}/", self.series_path(message_id))
    }

    pub fn set_git(&self, message_id: &str, status: &str, data: Value) {
        self.with_series(message_id, |s| {
            s.git = GitResult {
                status: status.into(),
                data,
                log: None,
                last_update: now(),
            }
        });
    }

    /// After `reads` more GETs of the series' result, re-queue it with
    /// `git.push_options: ci.skip`, as Patchew's `TagsUpdate` handler does when a
    /// reply adds a trailer.
    pub fn tags_update_after_reads(&self, message_id: &str, reads: usize) {
        self.with_series(message_id, |s| s.tags_update_after_reads = Some(reads));
    }

    /// The series as the queue lists it, for tests that fake a lagging queue.
    pub fn queue_entry(&self, message_id: &str) -> Value {
        let project = self.project.lock().unwrap();
        let s = project
            .series
            .iter()
            .find(|s| s.message_id == message_id)
            .unwrap_or_else(|| panic!("no series {message_id}"));
        self.queue_json(&project, s)
    }

    pub fn set_based_on(&self, message_id: &str, based_on: Value) {
        self.with_series(message_id, |s| s.based_on = based_on);
    }

    pub fn series(&self, message_id: &str) -> Series {
        self.with_series(message_id, |s| s.clone())
    }

    pub fn git(&self, message_id: &str) -> GitResult {
        self.series(message_id).git
    }

    pub fn resource_uri(&self, message_id: &str) -> String {
        format!("{}{}", self.url, self.series_path(message_id))
    }

    pub fn result_uri(&self, message_id: &str) -> String {
        format!("{}{}", self.url, self.result_path(message_id))
    }

    /// Paths, for [`StandIn::requests_to`].
    pub fn series_path(&self, message_id: &str) -> String {
        format!("/api/v1/projects/{}/series/{message_id}/", self.project_id)
    }

    pub fn result_path(&self, message_id: &str) -> String {
        format!("{}results/git/", self.series_path(message_id))
    }

    fn with_series<T>(&self, message_id: &str, f: impl FnOnce(&mut Series) -> T) -> T {
        let mut project = self.project.lock().unwrap();
        let s = project
            .series
            .iter_mut()
            .find(|s| s.message_id == message_id)
            .unwrap_or_else(|| panic!("no series {message_id}"));
        f(s)
    }

    fn answer(&self, request: &Recorded) -> Option<Reply> {
        let path = percent_decode(request.path());
        let method = request.method.as_str();
        let mut project = self.project.lock().unwrap();
        if method == "GET" && path == "/api/v1/series/unapplied/" {
            let target = query(request, "target_repo");
            let wanted = target.is_none_or(|t| targets(&project.mirror, &t));
            let listed = project
                .series
                .iter()
                .filter(|s| wanted && s.git.status == "pending")
                .map(|s| self.queue_json(&project, s));
            return Some(page(listed, limit(request)));
        }
        if method == "GET" && path == "/api/v1/series/" {
            let status = query(request, "q").and_then(|q| {
                q.split_whitespace()
                    .find_map(|t| t.strip_suffix(":git").map(str::to_owned))
            });
            let listed = project
                .series
                .iter()
                .filter(|s| status.as_ref().is_none_or(|st| &s.git.status == st))
                .map(|s| self.series_json(s));
            return Some(page(listed, limit(request)));
        }
        let prefix = format!("/api/v1/projects/{}/series/", self.project_id);
        let rest = path.strip_prefix(&prefix)?;
        let (id, sub) = rest.split_once('/')?;
        let index = project.series.iter().position(|s| s.message_id == id)?;
        let enabled = project.enabled_tests.clone();
        let series = &mut project.series[index];
        if let Some(name) = sub
            .strip_prefix("results/testing.")
            .and_then(|n| n.strip_suffix('/'))
        {
            return Some(testing(series, name, method, &request.body));
        }
        let body = || serde_json::from_slice::<Value>(&request.body);
        let reply = match (method, sub) {
            ("GET", "") => Reply::json(200, &self.series_json(series).to_string()),
            ("PATCH", "") => {
                let Ok(body) = body() else {
                    return Some(Reply::json(400, r#"{"detail":"JSON parse error"}"#));
                };
                if let Some(list) = body.get("maintainers") {
                    let Some(list) = list.as_array() else {
                        return Some(Reply::json(400, r#"{"maintainers":["Expected a list."]}"#));
                    };
                    series.maintainers = list
                        .iter()
                        .map(|m| m.as_str().unwrap_or_default().to_owned())
                        .collect();
                }
                Reply::json(200, &self.series_json(series).to_string())
            }
            ("GET", "mbox/") => Reply::ok(series.mbox.clone()),
            ("GET", "results/git/") => {
                let reply = Reply::json(200, &result_json(&series.git).to_string());
                match &mut series.tags_update_after_reads {
                    Some(0) | None => {}
                    Some(n) => {
                        *n -= 1;
                        if *n == 0 {
                            series.git = GitResult {
                                status: "pending".into(),
                                data: json!({"git.push_options": "ci.skip"}),
                                log: None,
                                last_update: now(),
                            };
                        }
                    }
                }
                reply
            }
            ("PUT", "results/git/") => {
                let Ok(body) = body() else {
                    return Some(Reply::json(400, r#"{"detail":"JSON parse error"}"#));
                };
                let status = body.get("status").and_then(Value::as_str).unwrap_or("");
                if !STATUSES.contains(&status) {
                    return Some(Reply::json(400, r#"{"status":["invalid"]}"#));
                }
                series.git.status = status.to_owned();
                if let Some(data) = body.get("data") {
                    series.git.data = data.clone();
                }
                if let Some(log) = body.get("log") {
                    series.git.log = log.as_str().map(str::to_owned);
                }
                series.git.last_update = now();
                let data = &series.git.data;
                if status == "success" && data.get("tag").is_some() && data.get("repo").is_some() {
                    for name in enabled {
                        series.tests.insert(
                            name,
                            GitResult {
                                status: "pending".into(),
                                data: json!({}),
                                log: None,
                                last_update: now(),
                            },
                        );
                    }
                }
                Reply::json(200, &result_json(&series.git).to_string())
            }
            _ => return None,
        };
        Some(reply)
    }

    fn series_json(&self, s: &Series) -> Value {
        let resource = self.resource_uri(&s.message_id);
        json!({
            "resource_uri": resource,
            "message_id": s.message_id,
            "subject": s.subject,
            "mbox_uri": format!("{resource}mbox/"),
            "results": format!("{resource}results/"),
            "is_complete": true,
            "is_merged": s.is_merged,
            "maintainers": s.maintainers,
            "based_on": s.based_on,
        })
    }

    /// The queue's shape: the series plus mirror, result_uri and push_options.
    fn queue_json(&self, project: &Project, s: &Series) -> Value {
        let mut v = self.series_json(s);
        let resource = v["resource_uri"].as_str().unwrap().to_owned();
        v["result_uri"] = format!("{resource}results/git/").into();
        v["mirror"] = project.mirror.clone();
        v["push_options"] = if project.use_push_options {
            s.git
                .data
                .get("git.push_options")
                .cloned()
                .unwrap_or(Value::Null)
        } else {
            Value::Null
        };
        v
    }
}

/// `GET`/`PUT` of `testing.<name>`: only updates, never creates.
fn testing(series: &mut Series, name: &str, method: &str, body: &[u8]) -> Reply {
    let not_found = || {
        Reply::json(
            404,
            r#"{"detail":"No MessageResult matches the given query."}"#,
        )
    };
    if !series.tests.contains_key(name) {
        return not_found();
    }
    match method {
        "GET" => {
            let reply = Reply::json(200, &result_json(&series.tests[name]).to_string());
            if let Some((reads, test, status)) = &mut series.testing_written_after_reads {
                if test == name {
                    *reads = reads.saturating_sub(1);
                    if *reads == 0 {
                        let status = status.clone();
                        let result = series.tests.get_mut(name).unwrap();
                        result.status = status;
                        result.log = Some("written by the pipeline".into());
                        result.last_update = now();
                        series.testing_written_after_reads = None;
                    }
                }
            }
            reply
        }
        "PUT" => {
            let Ok(body) = serde_json::from_slice::<Value>(body) else {
                return Reply::json(400, r#"{"detail":"JSON parse error"}"#);
            };
            let status = body.get("status").and_then(Value::as_str).unwrap_or("");
            if !STATUSES.contains(&status) {
                return Reply::json(400, r#"{"status":["invalid"]}"#);
            }
            let result = series.tests.get_mut(name).unwrap();
            result.status = status.to_owned();
            if let Some(data) = body.get("data") {
                result.data = data.clone();
            }
            result.log = body.get("log").and_then(Value::as_str).map(str::to_owned);
            result.last_update = now();
            Reply::json(200, &result_json(result).to_string())
        }
        _ => not_found(),
    }
}

/// Patchew's `match_target_repo`.
fn targets(mirror: &Value, target: &str) -> bool {
    let Some(push_to) = mirror.get("pushurl").and_then(Value::as_str) else {
        return false;
    };
    if target.is_empty() {
        true
    } else if !target.ends_with('/') {
        push_to == target || push_to.starts_with(&format!("{target}/"))
    } else {
        push_to.starts_with(target)
    }
}

fn result_json(r: &GitResult) -> Value {
    json!({
        "name": "git",
        "status": r.status,
        "data": r.data,
        "log": r.log,
        "last_update": naive_utc(r.last_update),
    })
}

fn page(items: impl Iterator<Item = Value>, limit: usize) -> Reply {
    let all: Vec<Value> = items.collect();
    let count = all.len();
    let results: Vec<Value> = all.into_iter().take(limit).collect();
    Reply::json(
        200,
        &json!({"count": count, "next": null, "previous": null, "results": results}).to_string(),
    )
}

fn limit(request: &Recorded) -> usize {
    query(request, "limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(100)
}

fn query(request: &Recorded, name: &str) -> Option<String> {
    let (_, q) = request.target.split_once('?')?;
    q.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == name).then(|| percent_decode(&v.replace('+', " ")))
    })
}

pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// `2024-01-31T12:00:00`: Patchew's `last_update` is a naive UTC datetime.
pub fn naive_utc(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
