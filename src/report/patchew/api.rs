//! The few Patchew REST calls the applier and the CI reporters need, as plain data.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use std::time::Duration;

use crate::http::Token;
use crate::http::{encode_component, origin_of, redact_url, same_origin, split_userinfo};
use crate::http::{Body, HttpClient, HttpError, HttpErrorKind, Method, Response};
use crate::input::msgid::{MessageId, MessageIdError};

/// A result's status, as Patchew's `Result.VALID_STATUSES` spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Running,
    Success,
    Failure,
}

/// One series waiting to be applied (`/api/v1/series/unapplied/`). Fields Patchew
/// may leave out or send as `null` default to empty.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct QueueItem {
    /// Already in Patchew's stored form (`_` as `._5F`, `/` as `._2F`): use it as it is
    /// in tags and URLs built from Patchew's, never escape it again. See
    /// [`QueueItem::message_id`] for the bare id.
    pub message_id: String,
    #[serde(default)]
    pub subject: String,
    pub resource_uri: String,
    pub result_uri: String,
    pub mbox_uri: String,
    #[serde(default)]
    pub is_complete: bool,
    /// Patchew found the series merged upstream (the queue still lists it).
    #[serde(default)]
    pub is_merged: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub mirror: Mirror,
    #[serde(default)]
    pub based_on: Option<BasedOn>,
    /// For `git push -o`, e.g. `ci.skip` when only the series' tags changed.
    #[serde(default)]
    pub push_options: Option<String>,
}

impl QueueItem {
    /// The bare message-id, decoded from Patchew's stored form.
    pub fn message_id(&self) -> Result<MessageId, MessageIdError> {
        MessageId::from_patchew_stored(&self.message_id)
    }
}

/// Where applied series go. Patchew sends `pushurl` and `url` only when the project
/// configures them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Mirror {
    /// May hold credentials: never show it (see [`redact`]).
    #[serde(default)]
    pub pushurl: Option<String>,
    /// The public URL of the same repository.
    #[serde(default)]
    pub url: Option<String>,
    /// The project's upstream, `"<repo-url> <branch>"` or just `"<repo-url>"`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub source: String,
    /// Patchew's last known head of the project's mainline, when it has one.
    #[serde(default)]
    pub head: Option<String>,
}

impl Mirror {
    /// The upstream repository and branch; patchew-cli assumes `master` when
    /// `source` names no branch.
    pub fn source_repo_and_branch(&self) -> Option<(&str, &str)> {
        let mut words = self.source.split_whitespace();
        let repo = words.next()?;
        Some((repo, words.next().unwrap_or("master")))
    }
}

/// The applied base series: its `git` result's data. Empty strings when Patchew left
/// a field out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct BasedOn {
    #[serde(default)]
    pub repo: String,
    #[serde(default)]
    pub tag: String,
}

/// The body of `PUT {result_uri}` for the `git` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplierResult {
    pub status: Status,
    pub data: ApplierData,
    /// Must not hold the push URL: pass it through [`redact`] first.
    pub log: String,
}

/// What is known so far; a failure may know only the base, or nothing (patchew-cli
/// then sends `"data": {}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApplierData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// The public repository URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// `refs/tags/patchew/<msgid>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// A result as Patchew shows it (`GET` on a result URI). `log` is sent only to
/// those allowed to see it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ResultInfo {
    #[serde(default)]
    pub name: String,
    pub status: Status,
    #[serde(default)]
    pub data: serde_json::Value,
    #[serde(default)]
    pub log_url: Option<String>,
    #[serde(default)]
    pub log: Option<String>,
    #[serde(default)]
    pub last_update: Option<String>,
}

/// A series as Patchew's series lists show it, reduced to what finds its results.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SeriesRef {
    pub message_id: String,
    pub resource_uri: String,
    /// The URL of the series' results list; the `git` result is `{results}git/`.
    #[serde(default)]
    pub results: Option<String>,
}

impl SeriesRef {
    pub fn git_result_uri(&self) -> Option<String> {
        let list = self.results.as_deref()?;
        Some(format!("{}/git/", list.trim_end_matches('/')))
    }
}

#[derive(Serialize)]
struct TestingResult<'a> {
    status: Status,
    log: &'a str,
    data: TestingData<'a>,
}

#[derive(Serialize)]
struct TestingData<'a> {
    head: &'a str,
    is_timeout: bool,
}

/// DRF's paginated list.
#[derive(Deserialize)]
struct Page<T> {
    results: Vec<T>,
}

/// Replaces every occurrence of the push URL (which may hold credentials) by the
/// public URL, and then any credentials left in URLs of the same host.
pub fn redact(log: &str, push_url: &str, public_url: &str) -> String {
    if push_url.is_empty() {
        return log.to_owned();
    }
    let log = log.replace(push_url, public_url);
    // git also prints the push URL in other spellings (without ".git", say); only
    // the credentials in them need to go.
    match split_userinfo(push_url) {
        Some((_, userinfo)) => log.replace(&format!("://{userinfo}@"), "://"),
        None => log,
    }
}

/// A Patchew server: its base URL, the HTTP client, and the token for writes.
#[derive(Debug, Clone)]
pub struct Patchew {
    server: String,
    http: HttpClient,
    token: Option<Token>,
}

impl Patchew {
    pub fn new(server_url: &str, token: Option<Token>, http: HttpClient) -> Self {
        Patchew {
            server: server_url.trim().trim_end_matches('/').to_owned(),
            http,
            token,
        }
    }

    /// Without a trailing slash.
    pub fn server_url(&self) -> &str {
        &self.server
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The oldest series waiting to be applied, optionally only among projects
    /// pushing to `target_repo` (Patchew matches it as a prefix of the push URL).
    pub fn unapplied(&self, target_repo: Option<&str>) -> Result<Option<QueueItem>, HttpError> {
        Ok(self.queue(target_repo, 1)?.into_iter().next())
    }

    /// The first `limit` series waiting to be applied, oldest first (one page).
    pub fn queue(
        &self,
        target_repo: Option<&str>,
        limit: u32,
    ) -> Result<Vec<QueueItem>, HttpError> {
        let mut url = format!("{}/api/v1/series/unapplied/?limit={limit}", self.server);
        if let Some(repo) = target_repo {
            url.push_str("&target_repo=");
            url.push_str(&encode_component(repo));
        }
        let response = self.http.get(&url)?;
        let page: Page<QueueItem> = parse_json(Method::Get, response)?;
        Ok(page.results)
    }

    /// Series matching a Patchew search (the web UI's syntax, e.g. `running:git`),
    /// first page only, at most `limit`.
    pub fn search_series(&self, query: &str, limit: u32) -> Result<Vec<SeriesRef>, HttpError> {
        let url = format!(
            "{}/api/v1/series/?q={}&limit={limit}",
            self.server,
            encode_component(query)
        );
        let page: Page<SeriesRef> = parse_json(Method::Get, self.http.get(&url)?)?;
        Ok(page.results)
    }

    /// The series' mbox, from the `mbox_uri` Patchew gave (fetched without auth).
    pub fn get_mbox(&self, mbox_uri: &str) -> Result<Vec<u8>, HttpError> {
        self.get_mbox_with(&self.http, mbox_uri)
    }

    /// [`Patchew::get_mbox`] that is over, retries included, within `left`.
    pub fn get_mbox_within(&self, mbox_uri: &str, left: Duration) -> Result<Vec<u8>, HttpError> {
        self.get_mbox_with(&self.http.within(left), mbox_uri)
    }

    fn get_mbox_with(&self, http: &HttpClient, mbox_uri: &str) -> Result<Vec<u8>, HttpError> {
        let mbox = http.get_maybe_gzipped(mbox_uri)?;
        if looks_like_html(&mbox) {
            // A proxy's error page or a login form, served with 200: the server's
            // trouble, not a series without patches.
            return Err(HttpError {
                method: Method::Get,
                url: redact_url(mbox_uri),
                attempts: 1,
                kind: HttpErrorKind::Protocol("an HTML page where an mbox was expected".into()),
            });
        }
        Ok(mbox)
    }

    pub fn put_result(&self, result_uri: &str, result: &ApplierResult) -> Result<(), HttpError> {
        self.write(Method::Put, result_uri, &Body::json(result))
            .map(drop)
    }

    /// Reports a test run as result `testing.{name}` of series `msgid`.
    pub fn put_testing_result(
        &self,
        project_id: u64,
        msgid: &MessageId,
        name: &str,
        status: Status,
        log: &str,
        head: &str,
    ) -> Result<(), HttpError> {
        let url = format!(
            "{}/api/v1/projects/{project_id}/series/{}/results/{}/",
            self.server,
            encode_component(&msgid.patchew_stored()),
            encode_component(&format!("testing.{name}")),
        );
        let body = TestingResult {
            status,
            log,
            data: TestingData {
                head,
                is_timeout: false,
            },
        };
        self.write(Method::Put, &url, &Body::json(&body)).map(drop)
    }

    /// PUT of any JSON body, e.g. a result that is not the final applier result.
    pub fn put_json<T: Serialize + ?Sized>(&self, url: &str, body: &T) -> Result<(), HttpError> {
        self.write(Method::Put, url, &Body::json(body)).map(drop)
    }

    /// Whether the token's user may write the result at `result_uri`, found out
    /// without writing it: a PUT whose status no result can have. Patchew checks
    /// the permission before it looks the result up and before it reads the body, so
    /// a user without the right gets 403, and one with it 404 (no such result yet)
    /// or 400 (the status refused); nothing is saved either way.
    pub fn may_write_result(&self, result_uri: &str) -> Result<bool, HttpError> {
        let probe = serde_json::json!({ "status": "not-a-status (git patchew doctor's probe)" });
        match self.write(Method::Put, result_uri, &Body::json(&probe)) {
            Err(e) if matches!(e.status(), Some(400 | 404)) => Ok(true),
            Err(e) if e.status() == Some(403) => Ok(false),
            Err(e) => Err(e),
            Ok(response) => Err(HttpError {
                method: Method::Put,
                url: response.url,
                attempts: 1,
                kind: HttpErrorKind::Protocol(
                    "the server accepted a result status that does not exist".into(),
                ),
            }),
        }
    }

    /// GET as the token's user: what only some users may read (a project's
    /// configuration is for maintainers), and a check of the token, which Patchew
    /// refuses with 401 even on reads.
    pub fn get_json_as_user(&self, url: &str) -> Result<serde_json::Value, HttpError> {
        let response = self
            .http
            .send(Method::Get, url, None, self.token.as_ref())?;
        parse_json(Method::Get, response)
    }

    /// GET as the token's user, the body as text: a JSON document to be written back
    /// with every byte it came with (a project's configuration).
    pub fn get_text_as_user(&self, url: &str) -> Result<String, HttpError> {
        let response = self
            .http
            .send(Method::Get, url, None, self.token.as_ref())?;
        String::from_utf8(response.body).map_err(|e| HttpError {
            method: Method::Get,
            url: response.url,
            attempts: 1,
            kind: HttpErrorKind::Json(e.to_string()),
        })
    }

    pub fn get_result(&self, result_uri: &str) -> Result<ResultInfo, HttpError> {
        parse_json(Method::Get, self.http.get(result_uri)?)
    }

    /// PATCH with a JSON body; the answer's JSON (`null` when it has no body).
    pub fn patch_json(
        &self,
        url: &str,
        value: &serde_json::Value,
    ) -> Result<serde_json::Value, HttpError> {
        let response = self.write(Method::Patch, url, &Body::json(value))?;
        if response.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(serde_json::Value::Null);
        }
        parse_json(Method::Patch, response)
    }

    /// Every non-GET call carries the token; without one, fail before sending.
    fn write(&self, method: Method, url: &str, body: &Body) -> Result<Response, HttpError> {
        let refuse = |kind| HttpError {
            method,
            url: redact_url(url),
            attempts: 1,
            kind,
        };
        let Some(token) = &self.token else {
            return Err(refuse(HttpErrorKind::MissingToken));
        };
        // URLs come from the server's JSON, and that JSON may come from wherever a
        // redirect of an anonymous GET led: the token goes to patchew.server only.
        if !same_origin(url, &self.server) {
            return Err(refuse(HttpErrorKind::ForeignOrigin {
                allowed: origin_of(&self.server),
            }));
        }
        self.http.send(method, url, Some(body), Some(token))
    }
}

/// An mbox starts with `From `; a web page with a doctype or `<html`.
fn looks_like_html(body: &[u8]) -> bool {
    let start = body.trim_ascii_start();
    let head = &start[..start.len().min(14)];
    head.to_ascii_lowercase().starts_with(b"<!doctype html")
        || head.to_ascii_lowercase().starts_with(b"<html")
}

fn parse_json<T: DeserializeOwned>(method: Method, response: Response) -> Result<T, HttpError> {
    serde_json::from_slice(&response.body).map_err(|e| HttpError {
        method,
        url: response.url,
        attempts: 1,
        kind: HttpErrorKind::Json(e.to_string()),
    })
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_item_parses_patchew_shape() {
        let json = r#"{"count": 1, "next": null, "previous": null, "results": [{
            "resource_uri": "https://p.org/api/v1/projects/1/series/a._5Fb@x/",
            "message_id": "a._5Fb@x", "subject": "[PATCH 0/2] s", "date": "2024-01-01",
            "is_complete": true, "mbox_uri": "https://p.org/api/v1/projects/1/series/a._5Fb@x/mbox/",
            "mirror": {"pushurl": "https://u:p@h/r", "url": "https://h/r", "source": "https://up/r main"},
            "result_uri": "https://p.org/api/v1/projects/1/series/a._5Fb@x/results/git/",
            "push_options": null, "based_on": null, "extra": [1, 2]}]}"#;
        let page: Page<QueueItem> = serde_json::from_str(json).unwrap();
        let item = &page.results[0];
        assert_eq!(item.message_id, "a._5Fb@x");
        assert_eq!(item.message_id().unwrap().as_str(), "a_b@x");
        assert!(item.is_complete && item.based_on.is_none() && item.push_options.is_none());
        assert_eq!(
            item.mirror.source_repo_and_branch(),
            Some(("https://up/r", "main"))
        );
    }

    #[test]
    fn missing_mirror_fields_default() {
        let json = r#"{"message_id": "m@x", "resource_uri": "r", "result_uri": "u",
            "mbox_uri": "b", "mirror": {"source": null}, "based_on": {"repo": "g", "tag": "t"}}"#;
        let item: QueueItem = serde_json::from_str(json).unwrap();
        assert_eq!(item.mirror, Mirror::default());
        assert_eq!(item.mirror.source_repo_and_branch(), None);
        assert_eq!(item.based_on.unwrap().tag, "t");
    }

    #[test]
    fn applier_result_json_is_exact() {
        let ok = ApplierResult {
            status: Status::Success,
            data: ApplierData {
                base: Some("abc".into()),
                repo: Some("https://h/r".into()),
                tag: Some("refs/tags/patchew/m@x".into()),
            },
            log: "l".into(),
        };
        assert_eq!(
            serde_json::to_string(&ok).unwrap(),
            r#"{"status":"success","data":{"base":"abc","repo":"https://h/r","tag":"refs/tags/patchew/m@x"},"log":"l"}"#
        );
        let failed = ApplierResult {
            status: Status::Failure,
            data: ApplierData::default(),
            log: String::new(),
        };
        assert_eq!(
            serde_json::to_string(&failed).unwrap(),
            r#"{"status":"failure","data":{},"log":""}"#
        );
    }

    #[test]
    fn redact_replaces_push_url_and_stray_credentials() {
        let log = "pushing to https://bot:s3cret@git.h/r.git\nTo https://bot:s3cret@git.h/r\n";
        let out = redact(log, "https://bot:s3cret@git.h/r.git", "https://h/r");
        assert_eq!(out, "pushing to https://h/r\nTo https://git.h/r\n");
        assert_eq!(redact("x", "", "y"), "x");
        assert_eq!(redact("git@h:r", "git@h:r", "https://h/r"), "https://h/r");
    }

    #[test]
    fn statuses_are_lowercase() {
        assert_eq!(
            serde_json::to_string(&Status::Running).unwrap(),
            "\"running\""
        );
        let s: Status = serde_json::from_str("\"pending\"").unwrap();
        assert_eq!(s, Status::Pending);
    }
}
