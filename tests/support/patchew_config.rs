//! Patchew's project configuration endpoint on a [`StandIn`], as the real server
//! answered it (`../shared/patchew-api/06,07,35,36,37-*.json`):
//!
//! - `GET /api/v1/projects/<id>/config/` answers the stored configuration, and
//!   `PUT` replaces the whole of it with the body and answers it back;
//! - only a project maintainer (or a superuser) may do either: any other user
//!   (testers, importers, nobody) gets 403 `You do not have permission to perform
//!   this action.`, whatever the body; an unknown token 401 `Invalid token.`, and no
//!   token 401 as DRF's token authentication says (not recorded).
//!
//! The configuration is kept as the text last written, so that a test can see
//! exactly what a client sent back.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::{Reply, StandIn};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Maintainer,
    Superuser,
    /// In `testers`, `importers`, or nothing: not allowed here.
    Other,
}

/// Cheap to clone: clones share the state.
#[derive(Clone)]
pub struct FakeConfig {
    path: String,
    config: Arc<Mutex<String>>,
    users: Arc<HashMap<String, Role>>,
}

impl FakeConfig {
    /// Serves project `id`'s configuration `config` (JSON text) on `server`, for the
    /// users holding these tokens.
    pub fn install(server: &StandIn, id: u64, config: &str, users: &[(&str, Role)]) -> Self {
        let fake = FakeConfig {
            path: format!("/api/v1/projects/{id}/config/"),
            config: Arc::new(Mutex::new(config.to_owned())),
            users: Arc::new(users.iter().map(|(t, r)| ((*t).to_owned(), *r)).collect()),
        };
        let handler = fake.clone();
        server.handle(move |request| {
            (request.path() == handler.path).then(|| {
                handler.answer(
                    &request.method,
                    request.header("Authorization"),
                    &request.body,
                )
            })
        });
        fake
    }

    /// The configuration as last written.
    pub fn text(&self) -> String {
        self.config.lock().unwrap().clone()
    }

    fn answer(&self, method: &str, auth: Option<&str>, body: &[u8]) -> Reply {
        let role = match auth.and_then(|a| a.strip_prefix("Token ")) {
            None => {
                return Reply::json(
                    401,
                    r#"{"detail": "Authentication credentials were not provided."}"#,
                )
            }
            Some(token) => match self.users.get(token) {
                None => return Reply::json(401, r#"{"detail": "Invalid token."}"#),
                Some(role) => *role,
            },
        };
        if role == Role::Other {
            return Reply::json(
                403,
                r#"{"detail": "You do not have permission to perform this action."}"#,
            );
        }
        match method {
            "GET" => Reply::json(200, &self.text()),
            "PUT" => {
                let text = String::from_utf8_lossy(body).into_owned();
                if serde_json::from_str::<serde_json::Map<String, Value>>(&text).is_err() {
                    return Reply::json(400, r#"{"detail": "JSON parse error"}"#);
                }
                *self.config.lock().unwrap() = text.clone();
                Reply::json(200, &text)
            }
            _ => Reply::json(405, r#"{"detail": "Method not allowed."}"#),
        }
    }
}

/// One recorded call of the real server (`../shared/patchew-api/<name>`), its
/// `PORT` replaced by the stand-in's address.
pub fn recorded(name: &str, server_url: &str) -> Option<Value> {
    let dir = std::env::var_os("GIT_PATCHEW_SHARED_API")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/patchew-api"));
    let file = dir.join(name);
    let found = super::require::require(
        &file.display().to_string(),
        file.is_file(),
        "CI checks out ../shared beside the repository; GIT_PATCHEW_SHARED_API names another place",
    );
    if !found {
        return None;
    }
    let text = std::fs::read_to_string(file).unwrap();
    Some(serde_json::from_str(&text.replace("http://127.0.0.1:PORT", server_url)).unwrap())
}
