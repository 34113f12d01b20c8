//! [`Mail`] -> commit metadata and patch text, by git mailinfo's / git am's rules.

use crate::mail::{Ident, Mail};

#[derive(Debug, Clone)]
pub struct MailInfo {
    /// Author, after any in-body `From:` override.
    pub author: Option<Ident>,
    /// Raw author date (RFC 2822), after any in-body `Date:` override.
    pub date: Option<String>,
    /// Subject with `[PATCH ...]`, `Re:` and list prefixes stripped as git am does.
    pub subject: String,
    /// The commit message body after the subject (UTF-8), cleaned as git am does,
    /// empty when there is none.
    pub body: String,
    /// Everything from the patch break on: diffstat, diffs, signature.
    pub patch: Vec<u8>,
}

impl MailInfo {
    /// The whole commit message exactly as `git am` writes it.
    pub fn commit_message(&self) -> String {
        todo!("issue 2: commit message")
    }
}

pub fn mailinfo(_mail: &Mail) -> MailInfo {
    todo!("issue 2: mailinfo")
}
