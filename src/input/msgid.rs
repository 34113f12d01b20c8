//! Message-ids and their encodings.
//!
//! A message-id is chosen by whoever sent the mail, so each place it goes needs its own
//! safe form. Three forms exist:
//!
//! * the bare id, as in the `Message-Id:` header without angle brackets;
//! * Patchew's stored form (its `clean_message_id`): `_` written `._5F`, `/` written
//!   `._2F`; this is what Patchew's API returns and what its tags used;
//! * the ref-name form used in tags: the stored form, plus `._XX` (upper-case hex of
//!   each byte) for every other byte that git refuses in a ref name component. Because
//!   every literal `_` is escaped, `._` followed by two hex digits is unambiguous, and
//!   decoding any of these forms is one rule: replace each `._XX` by byte `XX`. A
//!   component that would start with `.` (an escape) gets a leading `_`, dropped again
//!   when decoding.

use std::fmt;

/// A bare message-id: no angle brackets, no surrounding white space, never empty.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MessageIdError {
    #[error("empty message-id")]
    Empty,
    #[error("message-id {0:?} contains white space or control characters")]
    BadCharacter(String),
    #[error("{0:?} holds no message-id")]
    NotFound(String),
    #[error("tag component {0:?} is not a valid escaped message-id")]
    BadEscape(String),
    #[error("message-id <{prefix}...> is too long to name a tag: its ref name component would be {len} bytes, more than {MAX_REF_COMPONENT} (git stores refs as files, and a file name holds at most 255 bytes with the `.lock` git writes first)")]
    TooLong { prefix: String, len: usize },
}

/// Longest ref-name component `publish::tag::checked_name` makes. Loose refs (and
/// their reflogs) are files, written through `<name>.lock`, and a file name holds at
/// most 255 bytes on the filesystems git runs on. A longer id is refused with a clear
/// error rather than renamed (say, hashed): the tag must map back to the message-id,
/// for Patchew and for the CI jobs that report under it.
pub const MAX_REF_COMPONENT: usize = 255 - ".lock".len();

impl MessageId {
    /// Accepts what a user types or pastes: `<id@host>`, `id@host`, `id:id@host`,
    /// `mid:id@host`, or a Patchew / public-inbox URL whose path holds the id
    /// (`https://patchew.org/QEMU/<id>/`, `https://lore.kernel.org/<list>/<id>/`).
    pub fn parse(input: &str) -> Result<Self, MessageIdError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(MessageIdError::Empty);
        }
        if s.starts_with("http://") || s.starts_with("https://") {
            return Self::from_url(s);
        }
        let s = s
            .strip_prefix("id:")
            .or_else(|| s.strip_prefix("mid:"))
            .unwrap_or(s);
        match s.strip_prefix('<').and_then(|s| s.strip_suffix('>')) {
            Some(bracketed) => Self::from_bracketed(bracketed),
            None => Self::from_bare(s),
        }
    }

    /// The id from a `Message-Id:`-like header value; anything around the first
    /// `<...>` is ignored (some mailers add comments).
    pub fn from_header(value: &str) -> Option<Self> {
        let v = value.trim();
        // Gnus writes `<id> (message from X <x@y> ...)`: the first pair is the id.
        let first_pair = v
            .find('<')
            .and_then(|a| Some((a, a + 1 + v[a + 1..].find('>')?)));
        match first_pair {
            Some((a, b)) => Self::from_bracketed(v[a + 1..b].trim()).ok(),
            None => Self::from_bare(v).ok(),
        }
    }

    /// Every id in a `References:` / `In-Reply-To:` header value, in order.
    pub fn all_from_header(value: &str) -> Vec<Self> {
        let mut ids = Vec::new();
        let mut rest = value;
        while let Some(a) = rest.find('<') {
            let Some(len) = rest[a..].find('>') else {
                break;
            };
            if let Ok(id) = Self::from_bracketed(rest[a + 1..a + len].trim()) {
                ids.push(id);
            }
            rest = &rest[a + len + 1..];
        }
        if ids.is_empty() {
            ids.extend(Self::from_header(value));
        }
        ids
    }

    fn from_bare(s: &str) -> Result<Self, MessageIdError> {
        if s.contains(' ') {
            return Err(MessageIdError::BadCharacter(s.to_owned()));
        }
        Self::from_bracketed(s)
    }

    /// Between angle brackets a space is part of the id: mailers do send such ids,
    /// Patchew keeps them (its `clean_message_id` only strips the ends), and the tag
    /// escaping writes a space `._20`. Other white space and control characters are
    /// still refused: a folded header has been unfolded by now.
    fn from_bracketed(s: &str) -> Result<Self, MessageIdError> {
        let s = s.trim_matches(' ');
        if s.is_empty() {
            return Err(MessageIdError::Empty);
        }
        if s.chars()
            .any(|c| (c.is_whitespace() && c != ' ') || c.is_control())
        {
            return Err(MessageIdError::BadCharacter(s.to_owned()));
        }
        Ok(MessageId(s.to_owned()))
    }

    fn from_url(url: &str) -> Result<Self, MessageIdError> {
        let path = url
            .split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or(url)
            .split(['?', '#'])
            .next()
            .unwrap_or_default();
        // The id is the path segment holding an '@' (after percent-decoding); Patchew
        // URLs hold it in stored form.
        path.split('/')
            .skip(1)
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .find(|seg| seg.contains('@'))
            .map(|seg| Self::from_patchew_stored(&seg))
            .unwrap_or_else(|| Err(MessageIdError::NotFound(url.to_owned())))
    }

    /// Decodes Patchew's stored form (or our tag form) back to the bare id.
    pub fn from_patchew_stored(stored: &str) -> Result<Self, MessageIdError> {
        let decoded = unescape(stored).ok_or_else(|| MessageIdError::BadEscape(stored.into()))?;
        let s = String::from_utf8(decoded).map_err(|_| MessageIdError::BadEscape(stored.into()))?;
        Self::from_bracketed(s.trim_start_matches('<').trim_end_matches('>'))
    }

    /// The inverse of [`MessageId::ref_component`].
    pub fn from_ref_component(component: &str) -> Result<Self, MessageIdError> {
        Self::from_patchew_stored(component)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Patchew's stored form: `_` -> `._5F`, `/` -> `._2F`, nothing else.
    pub fn patchew_stored(&self) -> String {
        let mut out = String::with_capacity(self.0.len());
        for c in self.0.chars() {
            match c {
                '_' => out.push_str("._5F"),
                '/' => out.push_str("._2F"),
                c => out.push(c),
            }
        }
        out
    }

    /// A single ref-name component that git accepts and that decodes back to this id.
    /// Equal to [`MessageId::patchew_stored`] for every id that git would accept there.
    pub fn ref_component(&self) -> String {
        let bytes = self.0.as_bytes();
        let mut out = Vec::with_capacity(bytes.len() + 8);
        let ends_with_lock = self.0.ends_with(".lock");
        for (i, &b) in bytes.iter().enumerate() {
            let escape = if b == b'.' {
                let next = bytes.get(i + 1).copied();
                // A literal '.' may not start the component, end it, precede another
                // '.', or precede an escape (which starts with '.'), nor start ".lock".
                i == 0
                    || next.is_none_or(|n| n == b'.' || needs_escape(n))
                    || (ends_with_lock && i == bytes.len() - 5)
            } else {
                needs_escape(b) || (b == b'{' && i > 0 && bytes[i - 1] == b'@')
            };
            if escape {
                out.extend_from_slice(format!("._{b:02X}").as_bytes());
            } else {
                out.push(b);
            }
        }
        // A component may not start with '.', and escapes do: mark that case with a
        // leading '_', which cannot otherwise occur since every literal '_' is escaped.
        if out.first() == Some(&b'.') {
            out.insert(0, b'_');
        }
        // Only ASCII bytes are ever escaped, so multi-byte UTF-8 sequences stay whole.
        String::from_utf8(out).expect("escaping keeps UTF-8 sequences whole")
    }
}

/// Bytes that git refuses anywhere in a ref name, plus the two Patchew escapes.
fn needs_escape(b: u8) -> bool {
    matches!(
        b,
        b'_' | b'/' | b' ' | b'~' | b'^' | b':' | b'?' | b'*' | b'[' | b'\\' | 0x7f
    ) || b < 0x20
}

fn unescape(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let b = b
        .strip_prefix(b"_")
        .filter(|r| r.starts_with(b"."))
        .unwrap_or(b);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'.' && b.get(i + 1) == Some(&b'_') {
            let hex = std::str::from_utf8(b.get(i + 2..i + 4)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}>", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_user_form() {
        let want = MessageId::parse("abc@host").unwrap();
        for form in [
            "<abc@host>",
            " abc@host ",
            "id:abc@host",
            "mid:<abc@host>",
            "https://patchew.org/QEMU/abc@host/",
            "https://lore.kernel.org/qemu-devel/abc@host/",
            "https://lore.kernel.org/all/abc%40host/t.mbox.gz",
        ] {
            assert_eq!(MessageId::parse(form).unwrap(), want, "{form}");
        }
        assert!(MessageId::parse("https://patchew.org/QEMU/").is_err());
        assert_eq!(MessageId::parse("<>"), Err(MessageIdError::Empty));
        assert!(MessageId::parse("a b@c").is_err());
        assert_eq!(MessageId::parse("<a b@c>").unwrap().as_str(), "a b@c");
        assert!(MessageId::parse("<a\tb@c>").is_err());
    }

    #[test]
    fn a_space_inside_brackets_is_part_of_the_id() {
        let id = MessageId::from_header(" <a b@c> ").unwrap();
        assert_eq!(id.as_str(), "a b@c");
        assert_eq!(id.ref_component(), "a._20b@c");
        assert_eq!(MessageId::from_ref_component("a._20b@c").unwrap(), id);
        let refs = MessageId::all_from_header("<x y@z> <w@v>");
        assert_eq!(refs[0].as_str(), "x y@z");
    }

    #[test]
    fn patchew_url_holds_stored_form() {
        let id = MessageId::parse("https://patchew.org/QEMU/a._5Fb._2Fc@h/").unwrap();
        assert_eq!(id.as_str(), "a_b/c@h");
    }

    #[test]
    fn stored_form_matches_patchew() {
        let id = MessageId::parse("<20240101_1/2@x.org>").unwrap();
        assert_eq!(id.patchew_stored(), "20240101._5F1._2F2@x.org");
        assert_eq!(id.ref_component(), id.patchew_stored());
    }

    /// git's own rules for a ref name component (git-check-ref-format(1)).
    fn valid_component(c: &str) -> bool {
        !c.is_empty()
            && !c.starts_with('.')
            && !c.ends_with('.')
            && !c.ends_with(".lock")
            && !c.contains("..")
            && !c.contains("@{")
            && !c
                .bytes()
                .any(|b| b < 0x20 || b == 0x7f || b"/ ~^:?*[\\".contains(&b))
    }

    #[test]
    fn hostile_ids_make_valid_reversible_components() {
        for raw in [
            "a..b@c",
            ".start@x",
            "end@x.",
            "x@y.lock",
            "a._5Fb@c",
            "we~ird^:?*[\\@x",
            "a@{1}",
            "a/b/../c@d",
            "_@_",
            "é@ü.example",
            "a.._@b",
            "a.~b@c",
        ] {
            let id = MessageId::parse(raw).unwrap();
            let comp = id.ref_component();
            assert!(valid_component(&comp), "{raw:?} -> {comp:?}");
            assert_eq!(MessageId::from_ref_component(&comp).unwrap(), id, "{raw:?}");
        }
    }

    #[test]
    fn header_value_gives_its_first_id() {
        let id = MessageId::from_header("<a@b> (message from X <x@y> on Mon)").unwrap();
        assert_eq!(id.as_str(), "a@b");
        assert_eq!(
            MessageId::from_header("<a@b> <c@d>").unwrap().as_str(),
            "a@b"
        );
    }

    #[test]
    fn references_header_yields_all_ids() {
        let ids = MessageId::all_from_header("<a@b>\r\n <c@d> (comment) <e@f>");
        let got: Vec<_> = ids.iter().map(|i| i.as_str()).collect();
        assert_eq!(got, ["a@b", "c@d", "e@f"]);
    }
}
