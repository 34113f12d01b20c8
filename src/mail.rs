//! Raw message -> [`Mail`]: headers decoded (RFC 2047), body transfer-decoded, MIME
//! parts picked.

use crate::msgid::MessageId;

/// A person as in a `From:` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub email: String,
}

#[derive(Debug, Clone)]
pub struct Mail {
    pub message_id: Option<MessageId>,
    pub in_reply_to: Option<MessageId>,
    /// `References:` ids, oldest first.
    pub references: Vec<MessageId>,
    /// Decoded `Subject:`, folded onto one line, nothing stripped.
    pub subject: String,
    pub from: Option<Ident>,
    /// The raw `Date:` header value.
    pub date: Option<String>,
    /// The transfer-decoded bytes of the text parts that carry message and patch
    /// (the first text part, then `text/x-patch`/`text/x-diff` attachments), not
    /// converted to UTF-8: the patch must keep the bytes the sender's files hold.
    pub body: Vec<u8>,
    /// Charset of the first text part, used to convert the commit message.
    pub charset: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("malformed mail: {0}")]
    Malformed(String),
}

pub fn parse(_raw: &[u8]) -> Result<Mail, MailError> {
    todo!("issue 2: mail decoding")
}
