//! Bytes -> raw messages: mboxo and mboxrd splitting, as `git mailsplit` (run by
//! `git am`) does it.
//!
//! Rules taken from git's behaviour:
//! * a line is a message separator only when it looks like `From <sender> <date>`
//!   (git's `is_from_line`): Patchew does not escape body lines starting with
//!   "From ", so a plain prefix test would cut patches in two;
//! * input whose first line is not such a From_ line is one bare message (git am
//!   passes `-b`), even if a From_ line appears further down;
//! * unlike git, a date-less `From x` line also separates messages where it can mean
//!   nothing else: after a blank line (or first) and right before a header line;
//! * CRLF line ends become LF only in a message whose header was stored with CRLF
//!   (a mailbox saved by a CRLF mailer). mailsplit strips a CR before every LF unless
//!   `--keep-cr`, which silently corrupts every file with CRLF line ends in a patch
//!   mailed by `git format-patch`; we keep those CRs, as `--keep-cr` would;
//! * `>From ` lines are left alone unless the caller asks for mboxrd, because git am's
//!   default patch format is `mbox`, which does not unquote; except in messages whose
//!   From_ line is public-inbox's, which are mboxrd.

use std::borrow::Cow;

/// Most messages one mbox may hold. A series thread rarely has more than a few
/// hundred; the cap keeps a stranger's mbox from costing per-message work and
/// allocations without end (the byte size is capped where the mbox is read).
pub const MAX_MESSAGES: usize = 10_000;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MboxError {
    #[error("input is empty")]
    Empty,
    #[error("more than {MAX_MESSAGES} messages: not a patch series")]
    TooManyMessages,
}

/// How quoted `>From ` lines are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Lines are kept as they are (git am's default `--patch-format=mbox`).
    #[default]
    Mboxo,
    /// One `>` is removed from lines matching `>+From ` (`--patch-format=mboxrd`).
    Mboxrd,
}

/// Splits an mbox the way plain `git am` does (mboxo, no unquoting) into raw
/// messages, From_ lines removed, CRLF line ends turned into LF in messages whose
/// header has them. Input that does not start with a From_ line is one message.
/// Messages whose From_ line is public-inbox's (`From mboxrd@z ...`, as in its
/// `t.mbox.gz`) are mboxrd: public-inbox quotes every `>*From ` body line with one
/// more `>`, which is taken off again (git am would need `--patch-format=mboxrd`).
pub fn split(data: &[u8]) -> Result<Vec<Vec<u8>>, MboxError> {
    split_with(data, None)
}

/// [`split`] with an explicit quoting format for every message.
pub fn split_as(data: &[u8], format: Format) -> Result<Vec<Vec<u8>>, MboxError> {
    split_with(data, Some(format))
}

/// The From_ line public-inbox writes before every message of the mboxes it serves.
const PUBLIC_INBOX_FROM: &[u8] = b"From mboxrd@z ";

fn format_of(from_line: &[u8]) -> Format {
    if from_line.starts_with(PUBLIC_INBOX_FROM) {
        Format::Mboxrd
    } else {
        Format::Mboxo
    }
}

fn split_with(data: &[u8], fixed: Option<Format>) -> Result<Vec<Vec<u8>>, MboxError> {
    Messages::new(data, fixed)?
        .map(|m| m.map(Cow::into_owned))
        .collect()
}

/// The messages of an mbox one at a time, as [`split`] cuts them: a caller that
/// parses each before taking the next holds the mbox and one raw message, not a
/// second copy of the whole mbox.
pub fn messages(data: &[u8]) -> Result<Messages<'_>, MboxError> {
    Messages::new(data, None)
}

/// [`messages`] with `Some` quoting format for every message (`None`: as [`split`]).
pub fn messages_as(data: &[u8], format: Option<Format>) -> Result<Messages<'_>, MboxError> {
    Messages::new(data, format)
}

pub struct Messages<'a> {
    data: &'a [u8],
    lines: std::iter::Peekable<Lines<'a>>,
    /// The line before the next one, for date-less From_ lines.
    previous: Option<&'a [u8]>,
    /// Input without a From_ line first: one message, whatever follows.
    bare: bool,
    fixed: Option<Format>,
    format: Format,
    produced: usize,
    done: bool,
}

impl<'a> Messages<'a> {
    fn new(data: &'a [u8], fixed: Option<Format>) -> Result<Self, MboxError> {
        // mailsplit skips leading white space before looking at the first line.
        let start = data
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .ok_or(MboxError::Empty)?;
        let mut lines = Lines(&data[start..]).peekable();
        let first = lines.next().ok_or(MboxError::Empty)?;
        let bare = !(is_from_line(first) || is_bare_from_line(first, None, lines.peek().copied()));
        let mut messages = Messages {
            data,
            lines,
            previous: Some(first),
            bare,
            fixed,
            format: fixed.unwrap_or_default(),
            produced: 0,
            done: false,
        };
        if bare {
            // The first line is the message's own: put it back in front.
            messages.lines = Lines(&data[start..]).peekable();
            messages.previous = None;
        } else {
            messages.format = messages.format_for(first);
        }
        Ok(messages)
    }

    fn format_for(&self, from_line: &[u8]) -> Format {
        self.fixed.unwrap_or_else(|| format_of(from_line))
    }
}

impl<'a> Iterator for Messages<'a> {
    type Item = Result<Cow<'a, [u8]>, MboxError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut message = MessageBuilder::new(self.data, self.format);
        while let Some(line) = self.lines.next() {
            let separator = !self.bare
                && (is_from_line(line)
                    || is_bare_from_line(line, self.previous, self.lines.peek().copied()));
            self.previous = Some(line);
            if separator {
                self.produced += 1;
                if self.produced + 1 > MAX_MESSAGES {
                    self.done = true;
                    return Some(Err(MboxError::TooManyMessages));
                }
                self.format = self.format_for(line);
                return Some(Ok(message.finish()));
            }
            message.push(line);
        }
        self.done = true;
        Some(Ok(message.finish()))
    }
}

/// One message from its lines; CRs are transport when the header line has them.
/// Most messages need neither CRs removed nor lines unquoted: those are handed on
/// as the stretch of the mbox they are, without a copy.
struct MessageBuilder<'a> {
    data: &'a [u8],
    format: Format,
    stored_crlf: Option<bool>,
    start: Option<usize>,
    end: usize,
    /// The message so far, once a line had to change.
    owned: Option<Vec<u8>>,
}

impl<'a> MessageBuilder<'a> {
    fn new(data: &'a [u8], format: Format) -> Self {
        MessageBuilder {
            data,
            format,
            stored_crlf: None,
            start: None,
            end: 0,
            owned: None,
        }
    }

    /// `line` must be a slice of `data`.
    fn push(&mut self, line: &'a [u8]) {
        let offset = line.as_ptr() as usize - self.data.as_ptr() as usize;
        let start = *self.start.get_or_insert(offset);
        self.end = offset + line.len();
        let stored_crlf = *self
            .stored_crlf
            .get_or_insert_with(|| line.ends_with(b"\r\n"));
        let (content, newline): (&[u8], &[u8]) =
            match line.strip_suffix(b"\r\n").filter(|_| stored_crlf) {
                Some(body) => (unquote(body, self.format), b"\n"),
                None => (unquote(line, self.format), b""),
            };
        let unchanged = content.len() + newline.len() == line.len();
        if unchanged && self.owned.is_none() {
            return;
        }
        let owned = self
            .owned
            .get_or_insert_with(|| self.data[start..offset].to_vec());
        owned.extend_from_slice(content);
        owned.extend_from_slice(newline);
    }

    fn finish(self) -> Cow<'a, [u8]> {
        match (self.owned, self.start) {
            (Some(owned), _) => Cow::Owned(owned),
            (None, Some(start)) => Cow::Borrowed(&self.data[start..self.end]),
            (None, None) => Cow::Borrowed(&[]),
        }
    }
}

/// A From_ line without git's date (`From A`, as Python's mailbox module writes and
/// reads, and Patchew's own test mails have): a separator only where nothing else
/// can be meant, at the start or after a blank line, right before a header line.
fn is_bare_from_line(line: &[u8], previous: Option<&[u8]>, next: Option<&[u8]>) -> bool {
    line.starts_with(b"From ")
        && previous.is_none_or(|p| p.iter().all(u8::is_ascii_whitespace))
        && next.is_some_and(is_header_line)
}

/// `Name: value`, with an RFC 5322 field name.
fn is_header_line(line: &[u8]) -> bool {
    let name_len = line
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'-'))
        .unwrap_or(0);
    name_len > 0 && line[name_len..].starts_with(b":")
}

fn unquote(line: &[u8], format: Format) -> &[u8] {
    if format == Format::Mboxrd && is_quoted_from(line) {
        &line[1..]
    } else {
        line
    }
}

fn is_quoted_from(line: &[u8]) -> bool {
    let unquoted = line.iter().position(|&b| b != b'>').unwrap_or(line.len());
    unquoted > 0 && line[unquoted..].starts_with(b"From ")
}

/// git's `is_from_line`: "From " then, at the end of the line, something shaped like
/// `hh:mm:ss yyyy` with a year after 1990. The line includes its line end.
pub fn is_from_line(line: &[u8]) -> bool {
    if line.len() < 20 || !line.starts_with(b"From ") {
        return false;
    }
    // git scans back from the byte before the line's last byte for the last colon.
    let search_end = line.len() - 2;
    let Some(colon) = line[5..search_end]
        .iter()
        .rposition(|&b| b == b':')
        .map(|i| i + 5)
    else {
        return false;
    };
    let digit_at = |i: Option<usize>| {
        i.and_then(|i| line.get(i))
            .is_some_and(|b| b.is_ascii_digit())
    };
    let digits_ok = digit_at(colon.checked_sub(4))
        && digit_at(colon.checked_sub(2))
        && digit_at(colon.checked_sub(1))
        && digit_at(Some(colon + 1))
        && digit_at(Some(colon + 2));
    digits_ok && leading_number(&line[colon + 3..]) > 90
}

/// `strtol`-like: leading white space skipped, then the decimal number (negative
/// numbers count as 0, as they are never a plausible year either).
fn leading_number(s: &[u8]) -> u64 {
    let start = s
        .iter()
        .position(|b| !b" \t\n\r\x0b\x0c".contains(b))
        .unwrap_or(s.len());
    let s = s[start..].strip_prefix(b"+").unwrap_or(&s[start..]);
    s.iter()
        .take_while(|b| b.is_ascii_digit())
        .take(18)
        .fold(0, |n, b| n * 10 + u64::from(b - b'0'))
}

/// Lines including their `\n`; the last may lack one.
struct Lines<'a>(&'a [u8]);

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.0.is_empty() {
            return None;
        }
        let end = self
            .0
            .iter()
            .position(|&b| b == b'\n')
            .map_or(self.0.len(), |i| i + 1);
        let (line, rest) = self.0.split_at(end);
        self.0 = rest;
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FROM: &str = "From nobody Mon Sep 17 00:00:00 2001\n";

    #[test]
    fn dateless_from_lines_separate_only_before_headers() {
        let data = b"From A\nSubject: one\n\nFrom here on, text.\nFrom B\n\nFrom A\nSubject: two\n\nbody\n";
        let msgs = split(data).unwrap();
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0], b"Subject: one\n\nFrom here on, text.\nFrom B\n\n");
        assert_eq!(msgs[1], b"Subject: two\n\nbody\n");
    }

    #[test]
    fn empty_and_blank_input_is_an_error() {
        assert_eq!(split(b""), Err(MboxError::Empty));
        assert_eq!(split(b" \n\r\n"), Err(MboxError::Empty));
    }

    #[test]
    fn from_lines_are_recognised_like_git() {
        assert!(is_from_line(FROM.as_bytes()));
        assert!(is_from_line(
            b"From rhvirt@redhat.com Tue Jul 25 20:36:53 2017\n"
        ));
        assert!(is_from_line(
            b"From e6807f3efca28b30decfecb1732a56c7db1137ee Mon Sep 17 00:00:00 2001\n"
        ));
        assert!(!is_from_line(b"From the start of this patch we do x\n"));
        assert!(
            !is_from_line(b"From a Mon Sep 17 00:00:00 89\n"),
            "year <= 90"
        );
        assert!(is_from_line(b"From a Mon Sep 17 00:00:00 1970\n"));
        assert!(!is_from_line(b"From: someone <a@b>\n"));
        assert!(!is_from_line(b"From :::::::::::::::::\n"));
        assert!(!is_from_line(b"From 1:2\n"));
    }

    #[test]
    fn splits_mboxo_and_keeps_unescaped_from_in_body() {
        let mbox =
            format!("{FROM}Subject: a\n\nFrom here on\n>From quoted\n\n{FROM}Subject: b\n\nbody\n");
        let msgs = split(mbox.as_bytes()).unwrap();
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0], b"Subject: a\n\nFrom here on\n>From quoted\n\n");
        assert_eq!(msgs[1], b"Subject: b\n\nbody\n");
    }

    #[test]
    fn public_inbox_messages_are_mboxrd_others_mboxo() {
        let data = b"From mboxrd@z Thu Jan  1 00:00:00 1970\nSubject: a\n\n>From x\n>>From y\n\
            From 1234 Mon Sep 17 00:00:00 2001\nSubject: b\n\n>From z\n";
        let messages = split(data).unwrap();
        assert_eq!(messages[0], b"Subject: a\n\nFrom x\n>From y\n");
        assert_eq!(messages[1], b"Subject: b\n\n>From z\n");
    }

    #[test]
    fn plain_messages_are_not_copied() {
        let data = format!("{FROM}Subject: a\n\nbody\n{FROM}Subject: b\r\n\r\nx\r\n");
        let got: Vec<Cow<[u8]>> = messages(data.as_bytes())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(matches!(&got[0], Cow::Borrowed(b) if *b == b"Subject: a\n\nbody\n"));
        assert!(matches!(&got[1], Cow::Owned(b) if *b == b"Subject: b\n\nx\n"));
    }

    #[test]
    fn mboxrd_removes_one_quote() {
        let mbox = format!("{FROM}Subject: a\n\n>From x\n>>From y\n>Fromage\n");
        let msgs = split_as(mbox.as_bytes(), Format::Mboxrd).unwrap();
        assert_eq!(msgs[0], b"Subject: a\n\nFrom x\n>From y\n>Fromage\n");
    }

    #[test]
    fn crlf_becomes_lf_and_missing_final_newline_is_kept_missing() {
        let mbox = format!(
            "{}Subject: a\r\n\r\nbody\r\nlast",
            FROM.replace('\n', "\r\n")
        );
        let msgs = split(mbox.as_bytes()).unwrap();
        assert_eq!(msgs, vec![b"Subject: a\n\nbody\nlast".to_vec()]);
    }

    #[test]
    fn bare_message_is_one_message_even_with_from_lines_inside() {
        let mail = format!("\n\nSubject: a\n\nbody\n{FROM}more\n");
        let msgs = split(mail.as_bytes()).unwrap();
        assert_eq!(msgs.len(), 1);
        assert_eq!(
            msgs[0],
            format!("Subject: a\n\nbody\n{FROM}more\n").as_bytes()
        );
    }

    #[test]
    fn lone_from_line_gives_one_empty_message() {
        assert_eq!(split(FROM.as_bytes()).unwrap(), vec![Vec::<u8>::new()]);
    }
}
