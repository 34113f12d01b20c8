//! The tests' one Patchew: a stateful stand-in on a [`StandIn`] that answers every
//! call git-patchew makes as the real server does. What "as the real server does"
//! means is recorded in `../shared/patchew-api/` (one call and its answer per file),
//! and `tests/patchew_contract.rs` replays each of those calls against this stand-in
//! and compares status and JSON shape. Change this file only with those files in view.
//!
//! One project (`QEMU`, id 1 unless [`FakePatchew::install_project`] says otherwise)
//! with its series, each series' `git` result and its `testing.*` results, and users:
//!
//! - Tokens are checked on every API call, reads included: a token no user has is
//!   401 `Invalid token.`; no token is an anonymous user, who may read but whose
//!   writes are 401 `Authentication credentials were not provided.`.
//! - Permission comes before the body and before the lookup: writing the `git`
//!   result needs the group `importers`, a `testing.*` result the group `testers`;
//!   the project's maintainers and superusers may write both; `/config/` is for
//!   maintainers and superusers only (reads too). A user without the right gets 403
//!   whatever the body; one with it gets 404 for a result that does not exist, then
//!   400 for a bad body.
//! - `GET /api/v1/series/unapplied/` lists complete series whose `git` result is
//!   `pending`, oldest first, pages with `next`; `target_repo` matches the push URL as
//!   Patchew's `match_target_repo` does. `GET /api/v1/series/?q=` understands
//!   `project:NAME` and `<status>:<result>` (`running:git`), newest first.
//! - A `PUT` of a result sets its status, and `data`/`log` when given (the log with
//!   surrounding white space trimmed, as Django's `CharField` does); every save stamps
//!   `last_update`. `testing.<name>` results exist only once the project's testing
//!   configuration enables test `<name>` and the `git` result then turns `success`
//!   with `tag` and `repo` (they start `pending`); before that both `GET` and `PUT`
//!   are 404.
//! - `PUT .../config/` replaces the whole configuration; the project's `mirror`
//!   follows its `git` section.
//! - The series' mbox: `GET {mbox_uri}` and the web page `/{project}/{msgid}/mbox`;
//!   an unknown series is a JSON 404 in the API and an HTML 404 on the web page.
//! - `GET /api/v1/projects/by-name/NAME/...` redirects (307) to the project's URL.
//!
//! Every call it answers is logged with its user ([`FakePatchew::log`]), so that a
//! test can show that nothing was written. Paths it does not own (not `/api/` and not
//! a project's web mbox) fall through to the stand-in's routes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use super::{Recorded, Reply, StandIn};

const STATUSES: &[&str] = &["pending", "running", "success", "failure"];
const STATUS_MESSAGE: &str = "status must be one of pending, success, failure, running";
const NO_PERMISSION: &str = "You do not have permission to perform this action.";
const NOT_AUTHENTICATED: &str = "Authentication credentials were not provided.";
const NO_MESSAGE: &str = "No Message matches the given query.";
const NO_RESULT: &str = "No MessageResult matches the given query.";

/// Who a user is in Patchew (groups, `Project.maintainers`, `is_superuser`), as the
/// recorded calls name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Superuser,
    /// In the group `testers` only.
    Tester,
    /// In the group `importers` only.
    Importer,
    /// In both groups.
    Applier,
    /// A maintainer of the project, in no group.
    Maintainer,
    /// In no group.
    Nobody,
}

/// What a write needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Right {
    /// The `git` result, a series' maintainers: `importers`.
    Import,
    /// `testing.*` results: `testers`.
    Test,
    /// The project's configuration.
    Maintain,
}

impl Role {
    fn may(self, right: Right) -> bool {
        use Role::*;
        matches!(
            (self, right),
            (Superuser | Maintainer, _)
                | (Importer | Applier, Right::Import)
                | (Tester | Applier, Right::Test)
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct GitResult {
    pub status: String,
    pub data: Value,
    pub log: Option<String>,
    /// Microseconds since the epoch, server clock.
    pub last_update: i64,
}

impl GitResult {
    fn pending() -> Self {
        GitResult {
            status: "pending".into(),
            data: json!({}),
            log: None,
            last_update: now_micros(),
        }
    }
}

/// One mail of a series' mbox, as the series detail lists it.
#[derive(Debug, Clone)]
struct Patch {
    message_id: String,
    subject: String,
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
    /// `based_on` as the API shows it: `{"repo", "tag"}` or null.
    pub based_on: Value,
    /// `testing.<name>` results by name.
    pub tests: BTreeMap<String, GitResult>,
    /// The `Based-on:` lines of its mails.
    pub tags: Vec<String>,
    date: String,
    sender: (String, String),
    patches: Vec<Patch>,
    /// Re-queue the series as a tags update does, after this many more reads of its
    /// result: a way to change the server's state at a precise step of a client.
    tags_update_after_reads: Option<usize>,
    /// After this many more reads of a testing result, write it as a pipeline
    /// would: (reads, name, status).
    testing_written_after_reads: Option<(usize, String, String)>,
}

/// One call the stand-in answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub method: String,
    /// Percent-decoded, without the query.
    pub path: String,
    /// The user's name, `anonymous`, or `bad token`.
    pub user: String,
    pub status: u16,
    /// The server's state changed.
    pub wrote: bool,
}

struct User {
    name: String,
    token: String,
    role: Role,
}

struct Project {
    id: u64,
    name: String,
    mailing_list: String,
    /// `"<upstream> <branch>"`: the queue's `mirror.source`.
    git: String,
    /// What `/config/` reads and replaces.
    config: Value,
    use_push_options: bool,
    /// How late every answer comes: a Patchew far away.
    latency: std::time::Duration,
    series: Vec<Series>,
    users: Vec<User>,
    log: Vec<Logged>,
}

/// Cheap to clone: clones share the state.
#[derive(Clone)]
pub struct FakePatchew {
    url: String,
    project: Arc<Mutex<Project>>,
}

/// The caller of one request.
#[derive(Clone, Copy)]
enum Who {
    Anonymous,
    User(Role),
}

impl FakePatchew {
    /// Serves project 1, `QEMU`, with this mirror (`{"pushurl", "url", "source"}`)
    /// on `server`.
    pub fn install(server: &StandIn, mirror: Value) -> Self {
        FakePatchew::install_project(server, 1, "QEMU", mirror)
    }

    pub fn install_project(server: &StandIn, id: u64, name: &str, mirror: Value) -> Self {
        let text = |k: &str| mirror.get(k).and_then(Value::as_str).map(str::to_owned);
        let mut git = Map::new();
        if let Some(push_to) = text("pushurl") {
            git.insert("push_to".into(), push_to.into());
        }
        if let Some(public) = text("url") {
            git.insert("url_template".into(), format!("{public}/-/tree/%t").into());
            git.insert("public_repo".into(), public.into());
        }
        let config = if git.is_empty() {
            json!({})
        } else {
            json!({ "git": git })
        };
        let fake = FakePatchew {
            url: server.url(),
            project: Arc::new(Mutex::new(Project {
                id,
                name: name.to_owned(),
                mailing_list: "qemu-devel@nongnu.org".into(),
                git: text("source").unwrap_or_default(),
                config,
                use_push_options: true,
                latency: std::time::Duration::ZERO,
                series: Vec::new(),
                users: Vec::new(),
                log: Vec::new(),
            })),
        };
        let handler = fake.clone();
        server.handle(move |request| handler.answer(request));
        fake
    }

    /// A user whose token is `token`.
    pub fn add_user(&self, name: &str, token: &str, role: Role) {
        let mut project = self.project.lock().unwrap();
        assert!(
            project.users.iter().all(|u| u.token != token),
            "two users with one token"
        );
        project.users.push(User {
            name: name.to_owned(),
            token: token.to_owned(),
            role,
        });
    }

    /// Every call answered so far, in order.
    pub fn log(&self) -> Vec<Logged> {
        self.project.lock().unwrap().log.clone()
    }

    /// The calls that changed the server's state.
    pub fn writes(&self) -> Vec<Logged> {
        self.log().into_iter().filter(|l| l.wrote).collect()
    }

    /// Every call but the GETs, whether the server took it or refused it.
    pub fn write_attempts(&self) -> Vec<Logged> {
        self.log()
            .into_iter()
            .filter(|l| l.method != "GET")
            .collect()
    }

    pub fn project_id(&self) -> u64 {
        self.project.lock().unwrap().id
    }

    /// The project's configuration, as `/config/` shows it to a maintainer.
    pub fn config(&self) -> Value {
        self.project.lock().unwrap().config.clone()
    }

    /// Replaces the project's configuration, as a maintainer's `PUT .../config/` does.
    pub fn set_config(&self, config: Value) {
        self.project.lock().unwrap().config = config;
    }

    /// A complete series: queued, as Patchew's `SeriesComplete` handler does.
    pub fn add_series(&self, message_id: &str, subject: &str, mbox: impl Into<Vec<u8>>) {
        let mbox = mbox.into();
        let mut project = self.project.lock().unwrap();
        assert!(
            project.series.iter().all(|s| s.message_id != message_id),
            "{message_id} added twice"
        );
        let text = String::from_utf8_lossy(&mbox).into_owned();
        let mails = read_mails(&text);
        let sender = mails
            .first()
            .and_then(|m| header(m, "from"))
            .map(|from| address(&from))
            .unwrap_or_else(|| ("Series Author".into(), "author@example.org".into()));
        let mut patches: Vec<Patch> = mails
            .iter()
            .map(|m| Patch {
                message_id: header(m, "message-id")
                    .map(|id| id.trim().trim_matches(['<', '>']).to_owned())
                    .unwrap_or_else(|| message_id.to_owned()),
                subject: header(m, "subject").unwrap_or_else(|| subject.to_owned()),
            })
            .collect();
        if patches.is_empty() {
            patches.push(Patch {
                message_id: message_id.to_owned(),
                subject: subject.to_owned(),
            });
        }
        let tags = text
            .lines()
            .filter(|l| l.starts_with("Based-on:"))
            .map(|l| l.trim_end().to_owned())
            .collect();
        project.series.push(Series {
            message_id: message_id.to_owned(),
            subject: subject.to_owned(),
            mbox,
            git: GitResult::pending(),
            maintainers: Vec::new(),
            is_merged: false,
            based_on: Value::Null,
            tests: BTreeMap::new(),
            tags,
            date: naive_utc(now()),
            sender,
            patches,
            tags_update_after_reads: None,
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

    /// Enables test `name` in the project's testing configuration, as a maintainer
    /// would in the web UI.
    pub fn enable_test(&self, name: &str) {
        let mut project = self.project.lock().unwrap();
        let config = &mut project.config;
        if !config["testing"]["tests"].is_object() {
            config["testing"] = json!({"tests": {}});
        }
        config["testing"]["tests"][name] = json!({
            "enabled": true, "requirements": "gitlab-ci-hub", "timeout": 3600, "script": ""
        });
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
                    last_update: now_micros(),
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
                last_update: now_micros(),
            }
        });
    }

    /// After `reads` more GETs of the series' result, re-queue it with
    /// `git.push_options: ci.skip`, as Patchew's `TagsUpdate` handler does when a
    /// reply adds a trailer.
    pub fn tags_update_after_reads(&self, message_id: &str, reads: usize) {
        self.with_series(message_id, |s| s.tags_update_after_reads = Some(reads));
    }

    /// The queue's page as it would list these series, for tests that fake a
    /// lagging queue with [`StandIn::interject`].
    pub fn queue_page(&self, message_ids: &[&str]) -> Reply {
        let project = self.project.lock().unwrap();
        let listed = message_ids.iter().map(|id| {
            let s = project
                .series
                .iter()
                .find(|s| s.message_id == *id)
                .unwrap_or_else(|| panic!("no series {id}"));
            self.queue_json(&project, s)
        });
        Reply::json(
            200,
            &json!({"next": null, "previous": null, "results": listed.collect::<Vec<_>>()})
                .to_string(),
        )
    }

    /// `based_on` as Patchew computes it from the base series' `git` result.
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
        format!(
            "/api/v1/projects/{}/series/{message_id}/",
            self.project_id()
        )
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

    /// The stand-in's handler: answers and logs what this Patchew owns.
    fn answer(&self, request: &Recorded) -> Option<Reply> {
        let path = percent_decode(request.path());
        let mut project = self.project.lock().unwrap();
        let web_mbox = web_mbox_id(&project.name, &path).map(str::to_owned);
        if !path.starts_with("/api/") && web_mbox.is_none() {
            return None;
        }
        let method = request.method.as_str();
        // The web page is Django's, not the REST API's: no token authentication.
        let (who, user) = match request.header("Authorization") {
            _ if web_mbox.is_some() => (Ok(Who::Anonymous), "anonymous".to_owned()),
            Some(auth) if auth.len() > 6 && auth[..6].eq_ignore_ascii_case("token ") => {
                match project.users.iter().find(|u| u.token == auth[6..].trim()) {
                    Some(u) => (Ok(Who::User(u.role)), u.name.clone()),
                    None => (Err(()), "bad token".to_owned()),
                }
            }
            _ => (Ok(Who::Anonymous), "anonymous".to_owned()),
        };
        let (reply, wrote) = match (who, &web_mbox) {
            (Err(()), _) => (detail(401, "Invalid token."), false),
            (Ok(_), Some(id)) => (self.web_mbox(&project, id), false),
            (Ok(who), None) => self.api(&mut project, request, &path, method, who),
        };
        project.log.push(Logged {
            method: method.to_owned(),
            path,
            user,
            status: reply.status,
            wrote,
        });
        Some(reply.after(project.latency))
    }

    /// Every answer from now on comes `latency` late (the request has landed by
    /// then: a write takes effect at once, its answer travels back slowly).
    pub fn set_latency(&self, latency: std::time::Duration) {
        self.project.lock().unwrap().latency = latency;
    }

    fn web_mbox(&self, project: &Project, id: &str) -> Reply {
        match project.series.iter().find(|s| s.message_id == id) {
            Some(s) => Reply::ok(s.mbox.clone()).header("Content-Type", "text/plain"),
            None => Reply::status(404)
                .header("Content-Type", "text/html")
                .body(format!(
                    "<!DOCTYPE html>\n<html lang=\"en\">\n<head><title>Page not found at /{}/{id}/mbox</title></head>\n<body><h1>Page not found <span>(404)</span></h1><p>Series not found</p></body>\n</html>\n",
                    project.name
                )),
        }
    }

    /// The REST API: (reply, whether it wrote).
    fn api(
        &self,
        project: &mut Project,
        request: &Recorded,
        path: &str,
        method: &str,
        who: Who,
    ) -> (Reply, bool) {
        let read = |reply: Reply| (reply, false);
        let parts: Vec<&str> = path
            .trim_start_matches("/api/v1/")
            .trim_end_matches('/')
            .split('/')
            .collect();
        let project_id = project.id.to_string();
        match parts.as_slice() {
            ["projects"] if method == "GET" => read(self.page(
                request,
                "/api/v1/projects/",
                vec![self.project_json(project)],
            )),
            ["projects", "by-name", name, tail @ ..] => {
                if *name != project.name {
                    return read(detail(404, "Not found."));
                }
                let mut location = format!("{}/api/v1/projects/{}/", self.url, project.id);
                if !tail.is_empty() {
                    location.push_str(&tail.join("/"));
                    location.push('/');
                }
                if let Some((_, query)) = request.target.split_once('?') {
                    location.push('?');
                    location.push_str(query);
                }
                read(Reply::redirect(307, &location))
            }
            ["projects", id] if *id == project_id && method == "GET" => {
                read(json_reply(200, &self.project_json(project)))
            }
            ["projects", id, "config"] if *id == project_id => {
                if let Some(denied) = refuse(who, Right::Maintain) {
                    return read(denied);
                }
                match method {
                    "GET" => read(json_reply(200, &project.config)),
                    "PUT" => match body_json(request) {
                        Ok(body) => {
                            project.config = body;
                            (json_reply(200, &project.config), true)
                        }
                        Err(reply) => read(reply),
                    },
                    _ => read(not_allowed(method)),
                }
            }
            ["series", "unapplied"] if method == "GET" => {
                let target = query(request, "target_repo");
                let mirror = self.mirror(project, false);
                let wanted = target.is_none_or(|t| targets(&mirror, &t));
                let listed = project
                    .series
                    .iter()
                    .filter(|s| wanted && s.git.status == "pending")
                    .map(|s| self.queue_json(project, s))
                    .collect();
                read(self.page(request, "/api/v1/series/unapplied/", listed))
            }
            ["series"] if method == "GET" => {
                let q = query(request, "q").unwrap_or_default();
                let listed = project
                    .series
                    .iter()
                    .rev()
                    .filter(|s| matches_search(project, s, &q))
                    .map(|s| self.series_json(project, s))
                    .collect();
                read(self.page(request, "/api/v1/series/", listed))
            }
            ["projects", id, "series", msgid, rest @ ..] if *id == project_id => {
                self.series_api(project, request, msgid, rest, method, who)
            }
            _ => read(detail(404, "Not found.")),
        }
    }

    /// `/api/v1/projects/N/series/MSGID/...`.
    fn series_api(
        &self,
        project: &mut Project,
        request: &Recorded,
        msgid: &str,
        rest: &[&str],
        method: &str,
        who: Who,
    ) -> (Reply, bool) {
        let read = |reply: Reply| (reply, false);
        let index = project.series.iter().position(|s| s.message_id == msgid);
        match rest {
            [] => {
                if method != "GET" {
                    if let Some(denied) = refuse(who, Right::Import) {
                        return read(denied);
                    }
                }
                let Some(index) = index else {
                    return read(detail(404, NO_MESSAGE));
                };
                match method {
                    "GET" => read(json_reply(
                        200,
                        &self.series_detail(project, &project.series[index]),
                    )),
                    "PATCH" | "PUT" => {
                        let body = match body_json(request) {
                            Ok(body) => body,
                            Err(reply) => return read(reply),
                        };
                        if let Some(list) = body.get("maintainers") {
                            let Some(list) = list.as_array() else {
                                return read(json_reply(
                                    400,
                                    &json!({"maintainers": ["Expected a list of items but got type \"str\"."]}),
                                ));
                            };
                            project.series[index].maintainers = list
                                .iter()
                                .map(|m| m.as_str().unwrap_or_default().to_owned())
                                .collect();
                        }
                        let answer = self.series_detail(project, &project.series[index]);
                        (json_reply(200, &answer), true)
                    }
                    _ => read(not_allowed(method)),
                }
            }
            ["mbox"] if method == "GET" => match index {
                Some(i) => read(
                    Reply::ok(project.series[i].mbox.clone())
                        .header("Content-Type", "text/plain; charset=utf-8"),
                ),
                None => read(
                    Reply::status(404)
                        .header("Content-Type", "text/plain; charset=utf-8")
                        .body("404 Not Found"),
                ),
            },
            ["results"] if method == "GET" => {
                let listed = match index {
                    Some(i) => {
                        let s = &project.series[i];
                        std::iter::once(("git".to_owned(), &s.git))
                            .chain(s.tests.iter().map(|(n, r)| (format!("testing.{n}"), r)))
                            .map(|(n, r)| self.result_json(project, s, &n, r, false))
                            .collect()
                    }
                    // A filter on the results, not a lookup of the series.
                    None => Vec::new(),
                };
                let base = format!("/api/v1/projects/{}/series/{msgid}/results/", project.id);
                read(self.page(request, &base, listed))
            }
            ["results", name] => self.result_api(project, request, index, name, method, who),
            _ => read(detail(404, "Not found.")),
        }
    }

    /// `GET`/`PUT` of one result. Results are only updated, never created.
    fn result_api(
        &self,
        project: &mut Project,
        request: &Recorded,
        index: Option<usize>,
        name: &str,
        method: &str,
        who: Who,
    ) -> (Reply, bool) {
        let read = |reply: Reply| (reply, false);
        if method != "GET" {
            let right = if name == "git" {
                Right::Import
            } else if name.starts_with("testing.") {
                Right::Test
            } else {
                Right::Maintain
            };
            if let Some(denied) = refuse(who, right) {
                return read(denied);
            }
        }
        let test = name.strip_prefix("testing.");
        let exists = index.is_some_and(|i| match test {
            Some(t) => project.series[i].tests.contains_key(t),
            None => name == "git",
        });
        if !exists {
            return read(detail(404, NO_RESULT));
        }
        let index = index.unwrap();
        match method {
            "GET" => {
                let series = &mut project.series[index];
                let result = match test {
                    Some(t) => series.tests[t].clone(),
                    None => series.git.clone(),
                };
                match test {
                    Some(t) => written_by_pipeline(series, t),
                    None => requeued_by_tags_update(series),
                }
                let s = &project.series[index];
                read(json_reply(
                    200,
                    &self.result_json(project, s, name, &result, true),
                ))
            }
            "PUT" | "PATCH" => {
                let update = match result_update(request, method == "PUT") {
                    Ok(update) => update,
                    Err(reply) => return read(reply),
                };
                let enabled = enabled_tests(&project.config);
                let series = &mut project.series[index];
                let result = match test {
                    Some(t) => series.tests.get_mut(t).unwrap(),
                    None => &mut series.git,
                };
                update.apply(result);
                let result = result.clone();
                if test.is_none() && starts_testing(&result) {
                    for name in enabled {
                        series.tests.insert(name, GitResult::pending());
                    }
                }
                let s = &project.series[index];
                let answer = self.result_json(project, s, name, &result, true);
                (json_reply(200, &answer), true)
            }
            _ => read(not_allowed(method)),
        }
    }

    /// A paginated list: `limit`/`offset` from the query, `next`/`previous` as
    /// Patchew's pagination writes them (no `count`).
    fn page(&self, request: &Recorded, path: &str, all: Vec<Value>) -> Reply {
        let number = |name| query(request, name).and_then(|v| v.parse::<usize>().ok());
        let limit = number("limit").unwrap_or(50).max(1);
        let offset = number("offset").unwrap_or(0);
        let others: Vec<(String, String)> = query_pairs(request)
            .into_iter()
            .filter(|(k, _)| k != "limit" && k != "offset")
            .collect();
        let link = |offset: usize| {
            let mut pairs = others.clone();
            pairs.push(("limit".into(), limit.to_string()));
            if offset > 0 {
                pairs.push(("offset".into(), offset.to_string()));
            }
            pairs.sort();
            let query: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
                .collect();
            Value::from(format!("{}{path}?{}", self.url, query.join("&")))
        };
        let next = if offset + limit < all.len() {
            link(offset + limit)
        } else {
            Value::Null
        };
        let previous = if offset > 0 {
            link(offset.saturating_sub(limit))
        } else {
            Value::Null
        };
        let results: Vec<Value> = all.into_iter().skip(offset).take(limit).collect();
        json_reply(
            200,
            &json!({"next": next, "previous": previous, "results": results}),
        )
    }

    /// `{"pushurl", "url"}` from the configuration's `git` section (and `source`,
    /// the upstream, in the queue); null when the project pushes nowhere.
    fn mirror(&self, project: &Project, with_source: bool) -> Value {
        let git = &project.config["git"];
        if !git.is_object() {
            return Value::Null;
        }
        let mut mirror = Map::new();
        if let Some(push_to) = git.get("push_to") {
            mirror.insert("pushurl".into(), push_to.clone());
        }
        if let Some(public) = git.get("public_repo") {
            mirror.insert("url".into(), public.clone());
        }
        if with_source {
            mirror.insert("source".into(), project.git.clone().into());
        }
        Value::Object(mirror)
    }

    fn project_json(&self, project: &Project) -> Value {
        let uri = format!("{}/api/v1/projects/{}/", self.url, project.id);
        json!({
            "resource_uri": uri,
            "name": project.name,
            "mailing_list": project.mailing_list,
            "prefix_tags": "",
            "url": "",
            "git": project.git,
            "description": "",
            "display_order": 0,
            "logo": null,
            "parent_project": null,
            "messages": format!("{uri}messages/"),
            "results": format!("{uri}results/"),
            "series": format!("{uri}series/"),
            "mirror": self.mirror(project, false),
            "testing_probes": {},
        })
    }

    fn message_uri(&self, project: &Project, message_id: &str) -> String {
        format!(
            "{}/api/v1/projects/{}/messages/{message_id}/",
            self.url, project.id
        )
    }

    /// A series as lists show it.
    fn series_json(&self, project: &Project, s: &Series) -> Value {
        let resource = format!(
            "{}/api/v1/projects/{}/series/{}/",
            self.url, project.id, s.message_id
        );
        json!({
            "resource_uri": resource,
            "message_id": s.message_id,
            "subject": s.subject,
            "date": s.date,
            "sender": {"name": s.sender.0, "address": s.sender.1},
            "recipients": [{"address": project.mailing_list}],
            "tags": s.tags,
            "message": self.message_uri(project, &s.message_id),
            "stripped_subject": stripped(&s.subject),
            "num_patches": s.patches.len(),
            "total_patches": s.patches.len(),
            "results": format!("{resource}results/"),
            "mbox_uri": format!("{resource}mbox/"),
            "last_comment_date": null,
            "last_reply_date": s.date,
            "is_complete": true,
            "is_merged": s.is_merged,
            "is_obsolete": false,
            "is_tested": false,
            "is_reviewed": false,
            "maintainers": s.maintainers,
            "version": 1,
            "based_on": s.based_on,
            "obsoleted_by": null,
            "reviewers": [],
        })
    }

    /// The series' own page: its patches and replies too.
    fn series_detail(&self, project: &Project, s: &Series) -> Value {
        let mut v = self.series_json(project, s);
        let numbered = s.patches.len() > 1;
        let patches: Vec<Value> = s
            .patches
            .iter()
            .enumerate()
            .map(|(i, p)| {
                json!({
                    "resource_uri": self.message_uri(project, &p.message_id),
                    "message_id": p.message_id,
                    "subject": p.subject,
                    "date": s.date,
                    "sender": {"name": s.sender.0, "address": s.sender.1},
                    "recipients": [{"address": project.mailing_list}],
                    "tags": s.tags,
                    "stripped_subject": stripped(&p.subject),
                    "last_comment_date": null,
                    "patch_num": if numbered { json!(i + 1) } else { Value::Null },
                })
            })
            .collect();
        v["patches"] = patches.into();
        v["replies"] = json!([]);
        v["other_versions"] = json!([]);
        v
    }

    /// The queue's shape: the series plus mirror, result_uri and push_options.
    fn queue_json(&self, project: &Project, s: &Series) -> Value {
        let mut v = self.series_json(project, s);
        let resource = v["resource_uri"].as_str().unwrap().to_owned();
        v["result_uri"] = format!("{resource}results/git/").into();
        v["mirror"] = self.mirror(project, true);
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

    /// A result; `full` adds the log, as the result's own URL shows it.
    fn result_json(
        &self,
        project: &Project,
        s: &Series,
        name: &str,
        r: &GitResult,
        full: bool,
    ) -> Value {
        let completed = r.status == "success" || r.status == "failure";
        let log_url = (completed && r.log.is_some()).then(|| {
            format!(
                "{}/{}/{}/logs/{name}/",
                self.url, project.name, s.message_id
            )
        });
        let mut v = json!({
            "resource_uri": format!(
                "{}/api/v1/projects/{}/series/{}/results/{name}/",
                self.url, project.id, s.message_id
            ),
            "name": name,
            "status": r.status,
            "last_update": naive_utc_micros(r.last_update),
            "data": r.data,
            "log_url": log_url,
        });
        if full {
            v["log"] = r.log.clone().into();
        }
        v
    }
}

/// What a `PUT`/`PATCH` of a result changes.
struct ResultUpdate {
    status: Option<String>,
    data: Option<Value>,
    log: Option<Option<String>>,
}

impl ResultUpdate {
    fn apply(self, result: &mut GitResult) {
        if let Some(status) = self.status {
            result.status = status;
        }
        if let Some(data) = self.data {
            result.data = data;
        }
        if let Some(log) = self.log {
            result.log = log;
        }
        result.last_update = now_micros();
    }
}

/// The body of a result write, checked as Patchew's serializer does.
fn result_update(request: &Recorded, status_required: bool) -> Result<ResultUpdate, Reply> {
    let body = body_json(request)?;
    let Some(body) = body.as_object() else {
        return Err(json_reply(
            400,
            &json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}),
        ));
    };
    let status = match body.get("status") {
        None if status_required => {
            return Err(json_reply(
                400,
                &json!({"status": ["This field is required."]}),
            ))
        }
        None => None,
        Some(s) => match s.as_str().filter(|s| STATUSES.contains(s)) {
            Some(s) => Some(s.to_owned()),
            None => return Err(json_reply(400, &json!({"status": [STATUS_MESSAGE]}))),
        },
    };
    let log = match body.get("log") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(log)) => Some(Some(log.trim().to_owned())),
        Some(_) => return Err(json_reply(400, &json!({"log": ["Not a valid string."]}))),
    };
    Ok(ResultUpdate {
        status,
        data: body.get("data").cloned(),
        log,
    })
}

/// The `git` result turned `success` with a tag and a repo: Patchew's testing module
/// queues the project's tests.
fn starts_testing(git: &GitResult) -> bool {
    let has = |k: &str| {
        git.data
            .get(k)
            .and_then(Value::as_str)
            .is_some_and(|v| !v.is_empty())
    };
    git.status == "success" && has("tag") && has("repo")
}

/// The tests enabled in a testing configuration.
fn enabled_tests(config: &Value) -> Vec<String> {
    let Some(tests) = config.pointer("/testing/tests").and_then(Value::as_object) else {
        return Vec::new();
    };
    tests
        .iter()
        .filter(|(_, t)| t.get("enabled").and_then(Value::as_bool) != Some(false))
        .map(|(name, _)| name.clone())
        .collect()
}

/// A read of the `git` result may be the one after which the test re-queues it.
fn requeued_by_tags_update(series: &mut Series) {
    match &mut series.tags_update_after_reads {
        Some(0) | None => {}
        Some(n) => {
            *n -= 1;
            if *n == 0 {
                series.git = GitResult {
                    status: "pending".into(),
                    data: json!({"git.push_options": "ci.skip"}),
                    log: None,
                    last_update: now_micros(),
                };
            }
        }
    }
}

/// A read of `testing.<name>` may be the one after which the pipeline writes it.
fn written_by_pipeline(series: &mut Series, name: &str) {
    let Some((reads, test, status)) = &mut series.testing_written_after_reads else {
        return;
    };
    if test != name {
        return;
    }
    *reads = reads.saturating_sub(1);
    if *reads == 0 {
        let status = status.clone();
        let result = series.tests.get_mut(name).unwrap();
        result.status = status;
        result.log = Some("written by the pipeline".into());
        result.last_update = now_micros();
        series.testing_written_after_reads = None;
    }
}

/// DRF's answer when `who` lacks `right`: 401 for the anonymous, 403 for a user.
fn refuse(who: Who, right: Right) -> Option<Reply> {
    match who {
        Who::User(role) if role.may(right) => None,
        Who::User(_) => Some(detail(403, NO_PERMISSION)),
        Who::Anonymous => Some(detail(401, NOT_AUTHENTICATED)),
    }
}

fn not_allowed(method: &str) -> Reply {
    detail(405, &format!("Method \"{method}\" not allowed."))
}

fn detail(status: u16, text: &str) -> Reply {
    json_reply(status, &json!({ "detail": text }))
}

fn json_reply(status: u16, value: &Value) -> Reply {
    Reply::json(status, &value.to_string())
}

fn body_json(request: &Recorded) -> Result<Value, Reply> {
    serde_json::from_slice(&request.body)
        .map_err(|e| detail(400, &format!("JSON parse error - {e}")))
}

/// The message-id of `/{project}/{msgid}/mbox`.
fn web_mbox_id<'a>(project: &str, path: &'a str) -> Option<&'a str> {
    let rest = path
        .strip_prefix('/')?
        .strip_prefix(project)?
        .strip_prefix('/')?;
    let id = rest.strip_suffix("/mbox").or(rest.strip_suffix("/mbox/"))?;
    (!id.is_empty() && !id.contains('/')).then_some(id)
}

/// Patchew's search, for the terms the clients use: `project:NAME` and
/// `<status>:<result>`; other terms match everything.
fn matches_search(project: &Project, s: &Series, q: &str) -> bool {
    q.split_whitespace().all(|term| {
        let Some((key, value)) = term.split_once(':') else {
            return true;
        };
        if key == "project" {
            return value == project.name;
        }
        if !STATUSES.contains(&key) {
            return true;
        }
        let result = if value == "git" {
            Some(&s.git)
        } else {
            value.strip_prefix("testing.").and_then(|t| s.tests.get(t))
        };
        result.is_some_and(|r| r.status == key)
    })
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

/// The subject without its `[...]` prefixes.
fn stripped(subject: &str) -> String {
    let mut s = subject.trim();
    while let Some(rest) = s.strip_prefix('[') {
        match rest.split_once(']') {
            Some((_, after)) => s = after.trim_start(),
            None => break,
        }
    }
    s.to_owned()
}

/// The mails of an mbox, each as its lines (From_ line excluded).
fn read_mails(mbox: &str) -> Vec<Vec<&str>> {
    let lines: Vec<&str> = mbox.lines().collect();
    let mut mails: Vec<Vec<&str>> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let starts = line.starts_with("From ")
            && (i == 0 || lines[i - 1].is_empty())
            && lines
                .get(i + 1)
                .is_some_and(|next| !next.starts_with([' ', '\t']) && next.contains(':'));
        if starts {
            mails.push(Vec::new());
        } else if let Some(mail) = mails.last_mut() {
            mail.push(line);
        }
    }
    mails
}

/// A header of a mail's lines, unfolded.
fn header(mail: &[&str], name: &str) -> Option<String> {
    let mut found: Option<String> = None;
    for line in mail {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(value) = &mut found {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if found.is_some() {
            break;
        }
        if let Some((n, v)) = line.split_once(':') {
            if n.eq_ignore_ascii_case(name) {
                found = Some(v.trim().to_owned());
            }
        }
    }
    found
}

/// `Name <addr>` as (name, address).
fn address(from: &str) -> (String, String) {
    match from.split_once('<') {
        Some((name, rest)) => (
            name.trim().trim_matches('"').to_owned(),
            rest.trim_end_matches('>').trim().to_owned(),
        ),
        None => (from.trim().to_owned(), from.trim().to_owned()),
    }
}

fn query_pairs(request: &Recorded) -> Vec<(String, String)> {
    let Some((_, q)) = request.target.split_once('?') else {
        return Vec::new();
    };
    q.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

fn query(request: &Recorded, name: &str) -> Option<String> {
    query_pairs(request)
        .into_iter()
        .find_map(|(k, v)| (k == name).then_some(v))
}

/// Python's `quote_plus`, as Django's `urlencode` writes a query.
fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
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
    now_micros() / 1_000_000
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64
}

/// `2024-01-31T12:00:00.123456`: Patchew's `last_update` is a naive UTC datetime
/// with microseconds.
fn naive_utc_micros(micros: i64) -> String {
    let (secs, frac) = (micros.div_euclid(1_000_000), micros.rem_euclid(1_000_000));
    format!("{}.{frac:06}", naive_utc(secs))
}

/// `2024-01-31T12:00:00`: a naive UTC datetime.
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
