//! The Patchew side of a ci-hub as configuration entries: the `gitlab` test (see
//! contrib/README.md, "The Patchew side") and the mail notification whose templates
//! live in contrib/notification/ (event `ResultUpdate`: a mail when `testing.gitlab`
//! becomes `failure`, optionally `success`; every other update cancelled). Plain data
//! in, JSON values out, in the shape of Patchew's project configuration.

use serde_json::{json, Value};

/// The notification's name in `email.notifications`.
pub const NOTIFICATION: &str = "git-patchew-gitlab";
/// The test's name in `testing.tests`: results are `testing.gitlab`.
pub const TEST: &str = "gitlab";

const SUBJECT: &str = include_str!("../../contrib/notification/subject.txt");
const BODY: &str = include_str!("../../contrib/notification/body.txt");
const TO: &str = include_str!("../../contrib/notification/to.txt");

/// What an admin chooses about the mails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailOptions {
    /// Patchew's URL, for absolute links (Patchew renders the log's link as a path).
    pub server_url: String,
    /// Where infrastructure failures go instead of to the author; `None`: nowhere.
    pub admin_email: Option<String>,
    /// Mail successes too.
    pub mail_success: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MailOptionsError {
    #[error("patchew.adminEmail {0:?} is not one mail address (name@host, no spaces)")]
    BadAddress(String),
}

impl MailOptions {
    /// Checks the admin address: it is written into a Django template and a `To:`
    /// list that Patchew splits on whitespace.
    pub fn check(&self) -> Result<(), MailOptionsError> {
        match &self.admin_email {
            Some(a) if !is_plain_address(a) => Err(MailOptionsError::BadAddress(a.clone())),
            _ => Ok(()),
        }
    }
}

fn is_plain_address(a: &str) -> bool {
    let Some((local, host)) = a.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !host.is_empty()
        && !host.contains('@')
        && a.chars()
            .all(|c| c.is_ascii_graphic() && !"{}%#\"'<>,;".contains(c))
}

/// A template of contrib/notification/ with its placeholders filled.
fn fill(template: &str, o: &MailOptions) -> String {
    let mail_on = if o.mail_success {
        "failure success"
    } else {
        "failure"
    };
    template
        .trim_end()
        .replace("@MAIL_ON@", mail_on)
        .replace("@ADMIN_EMAIL@", o.admin_email.as_deref().unwrap_or(""))
        .replace("@PATCHEW_URL@", o.server_url.trim_end_matches('/'))
}

/// The `email.notifications` entry, with the fields Patchew's email module reads.
pub fn notification(o: &MailOptions) -> Value {
    json!({
        "event": "ResultUpdate",
        "enabled": true,
        "reply_to_all": false,
        "in_reply_to": true,
        "set_reply_to": true,
        "reply_subject": true,
        "to_user": false,
        "to": fill(TO, o),
        "cc": "",
        "subject_template": fill(SUBJECT, o),
        "body_template": fill(BODY, o),
    })
}

/// The `testing.tests` entry: enabled, with requirements no legacy tester offers (so
/// that none takes the test and writes the result the pipeline is meant to write),
/// and an empty script.
pub fn gitlab_test() -> Value {
    json!({
        "enabled": true,
        "requirements": "gitlab-ci-hub",
        "timeout": 3600,
        "script": "",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(admin: Option<&str>, success: bool) -> MailOptions {
        MailOptions {
            server_url: "https://patchew.example/".into(),
            admin_email: admin.map(str::to_owned),
            mail_success: success,
        }
    }

    #[test]
    fn placeholders_are_filled() {
        let n = notification(&options(Some("ci@hub.example"), true));
        let all = n.to_string();
        assert!(
            !all.contains("@MAIL_ON@")
                && !all.contains("@PATCHEW_URL@")
                && !all.contains("@ADMIN_EMAIL@")
        );
        assert!(n["subject_template"]
            .as_str()
            .unwrap()
            .contains(r#"not in "failure success""#));
        assert!(n["body_template"]
            .as_str()
            .unwrap()
            .contains("https://patchew.example{{ result.get_log_url }}"));
        assert_eq!(
            n["to"],
            "{% if result.data.infrastructure_failure %}ci@hub.example{% endif %}"
        );
        let n = notification(&options(None, false));
        assert!(n["subject_template"]
            .as_str()
            .unwrap()
            .contains(r#"not in "failure" %}"#));
        assert!(n["subject_template"]
            .as_str()
            .unwrap()
            .contains(r#"and not "" %}"#));
    }

    #[test]
    fn admin_addresses_are_checked() {
        assert!(options(Some("ci@hub.example"), false).check().is_ok());
        for bad in ["ci", "a b@c", "{{x}}@c", "@c", "a@", "a@b@c", "a@b,c@d"] {
            assert!(options(Some(bad), false).check().is_err(), "{bad}");
        }
        assert!(options(None, false).check().is_ok());
    }
}
