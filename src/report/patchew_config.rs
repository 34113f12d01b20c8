//! What `doctor --fix` changes in a Patchew project's configuration, computed on the
//! JSON text itself: Patchew's `PUT .../config/` replaces the whole configuration, so
//! every entry but the two we own (the `gitlab` test, our notification) must go back
//! exactly as it came. The objects on the way to those two are re-listed in their
//! order; every other value is copied as its original text, byte for byte. Plain
//! text in, text and a list of changes out.

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::report::notify;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigEditError {
    #[error("the project's configuration is not a JSON object: {0}")]
    NotJson(String),
    #[error("the project's configuration holds {0} that is not a JSON object")]
    NotAnObject(String),
}

/// The configuration to write back, and one line per change (empty: nothing to do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub config: String,
    pub changes: Vec<String>,
}

/// Enables the `gitlab` test as contrib/README.md describes and installs
/// `notification` under [`notify::NOTIFICATION`], leaving all else as it is.
pub fn plan(config: &str, notification: &Value) -> Result<Plan, ConfigEditError> {
    let parsed: Value =
        serde_json::from_str(config).map_err(|e| ConfigEditError::NotJson(e.to_string()))?;
    let mut text = config.to_owned();
    let mut changes = Vec::new();
    let test_path = ["testing", "tests", notify::TEST];
    let test = parsed.pointer("/testing/tests/gitlab");
    if let Some(why) = test_problem(test) {
        let mut wanted = notify::gitlab_test();
        // The admin's timeout is theirs to choose (nothing polls for it).
        if let Some(timeout) = test
            .and_then(|t| t.get("timeout"))
            .filter(|t| t.is_number())
        {
            wanted["timeout"] = timeout.clone();
        }
        text = set_at(&text, &test_path, &wanted, "")?;
        changes.push(format!(
            "testing.tests.gitlab: {why}; now enabled, requirements gitlab-ci-hub (no legacy tester takes it), empty script"
        ));
    }
    let pointer = format!("/email/notifications/{}", notify::NOTIFICATION);
    let current = parsed.pointer(&pointer);
    if current != Some(notification) {
        let path = ["email", "notifications", notify::NOTIFICATION];
        text = set_at(&text, &path, notification, "")?;
        let verb = if current.is_some() {
            "updated to the templates of contrib/notification/"
        } else {
            "installed from contrib/notification/"
        };
        changes.push(format!(
            "email.notifications.{}: {verb} (event ResultUpdate: a mail to the series' sender when testing.gitlab fails)",
            notify::NOTIFICATION
        ));
    }
    if changes.is_empty() {
        text = config.to_owned();
    }
    Ok(Plan {
        config: text,
        changes,
    })
}

/// Why the `gitlab` test is not as contrib/README.md describes; `None` when it is.
fn test_problem(test: Option<&Value>) -> Option<&'static str> {
    let Some(test) = test else {
        return Some("there was none (every report got 404)");
    };
    if !test.is_object() {
        return Some("it was not an object");
    }
    if test.get("enabled") == Some(&Value::Bool(false)) {
        return Some("it was disabled");
    }
    let requirements = test.get("requirements").and_then(Value::as_str);
    if requirements.is_none_or(|r| r.trim().is_empty()) {
        return Some("it had no requirements, so any legacy tester could take it");
    }
    let script = test.get("script").and_then(Value::as_str).unwrap_or("");
    if !script.trim().is_empty() {
        return Some("it had a script, which a legacy tester would run");
    }
    None
}

/// An object's members in order, each value as its original text.
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Ordered;
        impl<'de> Visitor<'de> for Ordered {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, Box<RawValue>>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(Ordered)
    }
}

/// `text` (a JSON value) with the member at `path` set to `value`, objects on the way
/// created when absent (or `null`); `at` names the part for errors.
fn set_at(text: &str, path: &[&str], value: &Value, at: &str) -> Result<String, ConfigEditError> {
    let Some((first, rest)) = path.split_first() else {
        return Ok(value.to_string());
    };
    let mut members = if text.trim() == "null" {
        Vec::new()
    } else {
        serde_json::from_str::<Members>(text)
            .map_err(|_| {
                ConfigEditError::NotAnObject(if at.is_empty() {
                    "itself".into()
                } else {
                    at.to_owned()
                })
            })?
            .0
    };
    let here = if at.is_empty() {
        (*first).to_owned()
    } else {
        format!("{at}.{first}")
    };
    let inner = members
        .iter()
        .find(|(k, _)| k == first)
        .map_or_else(|| "null".to_owned(), |(_, v)| v.get().to_owned());
    let new = raw(set_at(&inner, rest, value, &here)?);
    match members.iter_mut().find(|(k, _)| k == first) {
        Some(slot) => slot.1 = new,
        None => members.push(((*first).to_owned(), new)),
    }
    let body: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), v.get()))
        .collect();
    Ok(format!("{{{}}}", body.join(", ")))
}

fn raw(text: String) -> Box<RawValue> {
    RawValue::from_string(text).expect("set_at writes valid JSON")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note() -> Value {
        serde_json::json!({"event": "ResultUpdate", "body_template": "x"})
    }

    #[test]
    fn only_our_two_entries_change_and_the_rest_keeps_its_text() {
        let config = r#"{ "git" : {"push_to": "/x", "n": 1.50e1, "s": "\u00e9\n"},
            "testing": {"tests": {"docker": {"enabled": true, "script": "make"}}},
            "email": {"notifications": {"theirs": {"event": "TestingReport"}}} }"#;
        let p = plan(config, &note()).unwrap();
        assert_eq!(p.changes.len(), 2, "{:?}", p.changes);
        for kept in [
            r#"{"push_to": "/x", "n": 1.50e1, "s": "\u00e9\n"}"#,
            r#"{"enabled": true, "script": "make"}"#,
            r#"{"event": "TestingReport"}"#,
        ] {
            assert!(p.config.contains(kept), "{kept}: {}", p.config);
        }
        let v: Value = serde_json::from_str(&p.config).unwrap();
        assert_eq!(v["testing"]["tests"]["gitlab"], notify::gitlab_test());
        assert_eq!(v["email"]["notifications"][notify::NOTIFICATION], note());
        assert!(p.config.find("\"git\"") < p.config.find("\"testing\""));
        // A second pass finds nothing to do and gives the text back untouched.
        let again = plan(&p.config, &note()).unwrap();
        assert!(again.changes.is_empty(), "{:?}", again.changes);
        assert_eq!(again.config, p.config);
    }

    #[test]
    fn a_test_not_as_described_is_replaced_keeping_its_timeout() {
        let config = r#"{"testing": {"tests": {"gitlab": {"enabled": false, "timeout": 60}}}}"#;
        let p = plan(config, &note()).unwrap();
        assert!(p.changes[0].contains("it was disabled"), "{:?}", p.changes);
        let v: Value = serde_json::from_str(&p.config).unwrap();
        assert_eq!(v["testing"]["tests"]["gitlab"]["timeout"], 60);
        assert_eq!(v["testing"]["tests"]["gitlab"]["enabled"], true);
        let custom = r#"{"testing": {"tests": {"gitlab": {"enabled": true, "requirements": "mine", "script": ""}}}}"#;
        assert_eq!(plan(custom, &note()).unwrap().changes.len(), 1);
    }

    #[test]
    fn odd_configurations_are_refused_or_filled() {
        assert!(matches!(
            plan("[1]", &note()),
            Err(ConfigEditError::NotAnObject(_))
        ));
        assert!(matches!(
            plan("{", &note()),
            Err(ConfigEditError::NotJson(_))
        ));
        assert_eq!(
            plan(r#"{"testing": 3}"#, &note()),
            Err(ConfigEditError::NotAnObject("testing".into()))
        );
        let p = plan(r#"{"email": null}"#, &note()).unwrap();
        let v: Value = serde_json::from_str(&p.config).unwrap();
        assert_eq!(v["email"]["notifications"][notify::NOTIFICATION], note());
        assert!(plan("{}", &note()).unwrap().changes.len() == 2);
    }
}
