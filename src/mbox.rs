//! Bytes -> raw messages: mboxo and mboxrd splitting.

#[derive(Debug, thiserror::Error)]
pub enum MboxError {
    #[error("input is empty")]
    Empty,
}

/// Splits an mbox (mboxo or mboxrd, LF or CRLF) into raw messages, From_ lines removed,
/// `>From ` quoting undone, CRLF line ends turned into LF. Input that does not start
/// with a From_ line but with a header is one message.
pub fn split(_data: &[u8]) -> Result<Vec<Vec<u8>>, MboxError> {
    todo!("issue 2: mbox splitting")
}
