//! Raw message -> [`Mail`]: headers decoded (RFC 2047), body transfer-decoded, MIME
//! parts walked.
//!
//! The goal is to see a mail exactly as `git mailinfo` (run by `git am`) sees it, so
//! this follows git's line-oriented reading rather than a full MIME parser:
//! * the header block ends at the first line that is blank *or* not header-shaped;
//! * multipart bodies are read as one stream with a stack of boundaries (git's
//!   cap: 4 nested levels, deeper is an error), every leaf part's lines in order,
//!   whatever its content type, and each end boundary adds one empty line;
//! * QP and base64 are undone line by line with git's lenient decoders;
//! * the body bytes are not converted to UTF-8 (only the log message will be, by
//!   [`crate::input::mailinfo`]), so patches keep the bytes of the sender's files.
//!
//! `mailparse` is used where it agrees with git mailinfo, checked against C git in
//! `tests/mailparse_oracle.rs` (hand-written hostile cases and Patchew's real mails):
//! * **addresses**: a `From:` of a plain form (`Name <addr>`, `"Quoted, Name"
//!   <addr>`, `<addr>`, bare `addr`; one `@`, no comment, escape, group or list) is
//!   read by `mailparse::addrparse` ([`plain_mailbox`]); all 22 real From lines are.
//!   Other forms keep git's `handle_from` heuristic, which RFC 5322 does not share:
//!   a comment is the name (`a@b (Name)`), quotes inside a name vanish, the first
//!   `@` anywhere is the address, `Name <addr>` needs no `@`, an unquoted comma is
//!   part of the name.
//!
//! What stays ours, because mailparse does not do what git does (each pinned by a
//! test):
//! * **RFC 2047 encoded words** (`decode_header`): git decodes a word glued to
//!   other text (`x=?utf-8?q?a?=y`), leaves the *whole* value alone when one word is
//!   malformed, skips stray bytes in base64 words, and reads ISO-8859-1 with iconv
//!   (0x80 is U+0080; mailparse's charset crate reads windows-1252). mailparse
//!   agrees on well-formed words, adjacent words (space between them dropped,
//!   folded or not) and unterminated words, but a decoder that switched between
//!   the two per value would cost more than it saves.
//! * **dates** (`input::date::parse_date`, gix's parser): `mailparse::dateparse` returns
//!   only seconds, not the zone the date was written in, which the author line of a
//!   commit keeps (so the commit id would change); and with no seconds
//!   (`01:02 +0530`) it reads the zone as the seconds. (The same comparison found
//!   gix's parser apart from git on zone names outside RFC 2822, `CET`, `JST`, ...,
//!   and on offsets out of range; `input::date::parse_date` now reads those as git does.)
//! * **the header block and the MIME tree** (`mailparse_differs_from_git_mailinfo`):
//!   mailparse agrees with git on the tree of a multipart mail without preamble and
//!   on the order of leaf parts, but not on what git am applies:
//!   * a part's body loses the newline before the boundary, and the end boundary
//!     adds none, so a patch's last line loses its line end;
//!   * a line that is not header-shaped is taken as a header (git ends the header
//!     block there and reads it as body);
//!   * base64 with a stray byte is a decoding error (git skips the byte);
//!   * a part whose headers end without a blank line comes out empty (git loses
//!     only that one line);
//!   * `parse_mail` recurses once per nesting level with no limit (git stops at 4).

use crate::input::msgid::MessageId;

/// git keeps boundaries in a 5-slot array whose first slot stays empty, so it
/// handles 4 nested multiparts and refuses more ("Too many boundaries to handle").
pub const MAX_MULTIPART_DEPTH: usize = 4;

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
    /// The sender as git mailinfo extracts it from `From:` (name falls back to the
    /// address when missing or unusable).
    pub from: Option<Ident>,
    /// The decoded `Date:` header value, unfolded.
    pub date: Option<String>,
    /// The `Message-Id:` value as written (with angle brackets), which is what
    /// `git am -m` appends to the commit message.
    pub message_id_header: Option<String>,
    /// The transfer-decoded bytes of every leaf part, in order (`parts` joined), not
    /// converted to UTF-8: the patch must keep the bytes the sender's files hold.
    pub body: Vec<u8>,
    /// Charset of the first part, used to convert the commit message.
    pub charset: Option<String>,
    /// The body as git mailinfo's filter receives it: lines of `body`, grouped by
    /// the part (and so the charset) they came from.
    pub parts: Vec<BodyPart>,
}

impl Mail {
    /// Every line of the body as git mailinfo's filter receives it, with its part.
    pub fn lines(&self) -> impl Iterator<Item = (&BodyPart, &[u8])> {
        self.parts
            .iter()
            .flat_map(|p| p.lines(&self.body).map(move |l| (p, l)))
    }
}

/// One MIME leaf part (or the whole body of a single-part mail): a stretch of
/// [`Mail::body`] read as lines. Each line ends in `\n` except where git's reader
/// hands on a line without one (a part's last, a partial decoded line flushed at a
/// boundary); those edges are kept, so the lines are exactly git's. Held as offsets
/// rather than a `Vec` per line: lines cost about twice their bytes again, which
/// made a big mbox cost several times its size.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BodyPart {
    pub charset: Option<String>,
    /// Whether the part was QP or base64 encoded: CRs in it were put there by the
    /// sender ("quoted CR"), no mbox reading added or kept them.
    pub encoded: bool,
    start: usize,
    end: usize,
    /// Ends of lines without `\n` inside the part, ascending.
    cuts: Vec<usize>,
}

impl BodyPart {
    /// The part's lines, `body` being the [`Mail::body`] it belongs to.
    pub fn lines<'a>(&'a self, body: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
        let mut pos = self.start;
        let mut cuts = self.cuts.iter().copied().peekable();
        std::iter::from_fn(move || {
            if pos >= self.end {
                return None;
            }
            let newline = body[pos..self.end]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(self.end, |i| pos + i + 1);
            while cuts.next_if(|&c| c <= pos).is_some() {}
            let end = cuts
                .peek()
                .copied()
                .filter(|&c| c < newline)
                .unwrap_or(newline);
            let line = &body[pos..end];
            pos = end;
            Some(line)
        })
    }

    fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("malformed mail: {0}")]
    Malformed(String),
    #[error("empty message")]
    Empty,
    #[error("MIME multiparts nested more than {MAX_MULTIPART_DEPTH} deep")]
    TooDeep,
}

/// A header line as git mailinfo reads it: its C strings end at the first NUL
/// byte, so a raw NUL cuts the header there (`Date: <date>\0junk` is `<date>`).
/// A NUL that an encoded word decodes to is another matter: git refuses it, and
/// so does `fsck::check_commit` later.
fn until_nul(line: &[u8]) -> &[u8] {
    line.iter()
        .position(|&b| b == 0)
        .map_or(line, |at| &line[..at])
}

pub fn parse(raw: &[u8]) -> Result<Mail, MailError> {
    let start = raw
        .iter()
        .position(|&b| !is_git_space(b))
        .ok_or(MailError::Empty)?;
    let mut reader = LineReader::new(&raw[start..]);
    let mut state = ParseState::default();
    let first_body_line = loop {
        match read_header_line(&mut reader) {
            HeaderLine::Header(h) => state.main_header(&h)?,
            HeaderLine::End(line) => break line,
        }
    };
    state.read_body(&mut reader, first_body_line)?;
    Ok(state.into_mail())
}

/// git's `isspace` (sane-ctype): no vertical tab, no form feed.
pub(crate) fn is_git_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

pub(crate) fn trim_git_space_end(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., last] = s {
        if !is_git_space(*last) {
            break;
        }
        s = rest;
    }
    s
}

pub(crate) fn trim_git_space(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_git_space(b)).unwrap_or(s.len());
    trim_git_space_end(&s[start..])
}

/// git's `cleanup_space`: every run of white space becomes one space.
pub(crate) fn collapse_space(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for &b in s {
        if !is_git_space(b) {
            out.push(b);
        } else if out.last() != Some(&b' ') {
            out.push(b' ');
        }
    }
    out
}

/// What `git commit` does to a message or ident that is not valid UTF-8: each byte
/// that does not start a valid sequence is taken as Latin-1. git's validity test is
/// stricter than Rust's (noncharacters count as invalid).
pub(crate) fn ensure_utf8(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match valid_sequence_len(&bytes[i..]) {
            Some(n) => {
                // valid_sequence_len only accepts what UTF-8 accepts, so this holds.
                out.push_str(std::str::from_utf8(&bytes[i..i + n]).unwrap_or("\u{fffd}"));
                i += n;
            }
            None => {
                out.push(char::from(bytes[i]));
                i += 1;
            }
        }
    }
    out
}

fn valid_sequence_len(s: &[u8]) -> Option<usize> {
    let lead = *s.first()?;
    if lead < 0x80 {
        return Some(1);
    }
    let len = match lead {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => return None,
    };
    let seq = s.get(..len)?;
    let c = std::str::from_utf8(seq).ok()?.chars().next()?;
    let cp = u32::from(c);
    let noncharacter = (cp & 0xfffe) == 0xfffe || (0xfdd0..=0xfdef).contains(&cp);
    (!noncharacter).then_some(len)
}

/// Converts text in `charset` to UTF-8 as git mailinfo does (no-op for UTF-8 and
/// when no charset is named). Where git would fail (unknown charset, bytes the
/// charset cannot hold) we keep going: unknown charsets leave the bytes alone (and
/// [`ensure_utf8`] later reads stray bytes as Latin-1), undecodable bytes become
/// U+FFFD.
pub(crate) fn convert_to_utf8(bytes: &[u8], charset: Option<&str>) -> Vec<u8> {
    let Some(label) = charset.map(str::trim).filter(|c| !c.is_empty()) else {
        return bytes.to_vec();
    };
    // RFC 2231 allows a language after '*' in encoded words.
    let label = label.split('*').next().unwrap_or(label);
    if is_utf8_label(label) {
        return bytes.to_vec();
    }
    if is_latin1_label(label) {
        // iconv's ISO-8859-1 maps 0x80..0x9f to C1 controls; encoding_rs would read
        // windows-1252 instead.
        return bytes
            .iter()
            .map(|&b| char::from(b))
            .collect::<String>()
            .into_bytes();
    }
    match charset::Charset::for_label(label.as_bytes()) {
        Some(cs) => cs
            .decode_without_bom_handling(bytes)
            .0
            .into_owned()
            .into_bytes(),
        None => bytes.to_vec(),
    }
}

fn is_utf8_label(label: &str) -> bool {
    let l = label.to_ascii_lowercase();
    l == "utf-8" || l == "utf8"
}

fn is_latin1_label(label: &str) -> bool {
    matches!(
        label.to_ascii_lowercase().as_str(),
        "iso-8859-1" | "iso8859-1" | "iso_8859-1" | "latin1" | "latin-1" | "l1"
    )
}

/// RFC 2047 decoding with git's rules (`decode_header`): encoded words are found
/// anywhere, white space between two encoded words is dropped, and a malformed word
/// leaves the whole value as it was. Not `mailparse`'s `get_value`: that one needs
/// white space around a word, keeps the other words when one is malformed, rejects
/// stray base64 bytes and reads ISO-8859-1 as windows-1252 (see the module doc).
pub(crate) fn decode_header(value: &[u8]) -> Vec<u8> {
    decode_encoded_words(value).unwrap_or_else(|| value.to_vec())
}

fn decode_encoded_words(value: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(value.len());
    let mut rest = value;
    let mut after_word = false;
    while let Some(start) = find(rest, b"=?") {
        let before = &rest[..start];
        let only_space = before.iter().all(|&b| is_git_space(b));
        if !(only_space && after_word) {
            out.extend_from_slice(before);
        }
        let word = &rest[start + 2..];
        let q1 = word.iter().position(|&b| b == b'?')?;
        let charset = &word[..q1];
        let encoding = *word.get(q1 + 1)?;
        if word.get(q1 + 2) != Some(&b'?') {
            return None;
        }
        let text_and_rest = &word[q1 + 3..];
        let end = find(text_and_rest, b"?=")?;
        let text = &text_and_rest[..end];
        let decoded = match encoding.to_ascii_lowercase() {
            b'b' => decode_base64_segment(text),
            b'q' => decode_qp_segment(text, true),
            _ => return None,
        };
        let charset = String::from_utf8_lossy(charset);
        out.extend(convert_to_utf8(&decoded, Some(&charset)));
        rest = &text_and_rest[end + 2..];
        after_word = true;
    }
    out.extend_from_slice(rest);
    Some(out)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    bstr::ByteSlice::find(haystack, needle)
}

/// git's `decode_q_segment`: `=XX` escapes, `=` at the end of the line is a soft
/// break, anything else (bad escapes too) literal; `_` is a space in headers. Stops
/// at a NUL byte as git's C string handling does.
pub(crate) fn decode_qp_segment(s: &[u8], header: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        if c == 0 {
            break;
        }
        i += 1;
        if c == b'=' {
            match s.get(i) {
                None | Some(b'\n') | Some(0) => break,
                _ => {}
            }
            if let Some(byte) = hex_pair(s.get(i..i + 2)) {
                out.push(byte);
                i += 2;
                continue;
            }
        }
        out.push(if header && c == b'_' { b' ' } else { c });
    }
    out
}

fn hex_pair(pair: Option<&[u8]>) -> Option<u8> {
    let [hi, lo] = pair? else { return None };
    let digit = |b: u8| char::from(b).to_digit(16);
    Some((digit(*hi)? * 16 + digit(*lo)?) as u8)
}

/// git's `decode_b_segment`: base64 that skips every non-alphabet byte (padding,
/// line ends, garbage) and stops at NUL.
pub(crate) fn decode_base64_segment(s: &[u8]) -> Vec<u8> {
    let s = &s[..s.iter().position(|&c| c == 0).unwrap_or(s.len())];
    decode_base64_line(s).unwrap_or_else(|| decode_base64_bytewise(s))
}

fn decode_base64_bytewise(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 3);
    let mut acc: u32 = 0;
    let mut pos = 0;
    for &c in s {
        let Some(v) = base64_value(c) else { continue };
        match pos {
            0 => acc = v << 2,
            1 => {
                out.push((acc | (v >> 4)) as u8);
                acc = (v & 15) << 4;
            }
            2 => {
                out.push((acc | (v >> 2)) as u8);
                acc = (v & 3) << 6;
            }
            _ => out.push((acc | v) as u8),
        }
        pos = (pos + 1) % 4;
    }
    out
}

/// The usual encoded line, alphabet only up to its padding and line end, decoded by
/// the base64 crate (several times faster than the byte loop git's leniency needs
/// otherwise); `None` for anything else. Bits left over in a last partial quad are
/// dropped, as git drops them.
fn decode_base64_line(s: &[u8]) -> Option<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    use base64::Engine;
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(true),
    );
    let end = s
        .iter()
        .rposition(|c| !matches!(c, b'\n' | b'\r' | b'='))
        .map_or(0, |i| i + 1);
    // The crate refuses any byte outside the alphabet (git would skip it) and one
    // character alone in its quad (nothing to git): the byte loop takes those.
    LENIENT.decode(&s[..end]).ok()
}

fn base64_value(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// git's `handle_from`: finds the address around the first `@` (optionally in
/// `<>`), the rest (unquoted, trimmed, outer parentheses removed) is the name; a name
/// that is empty, longer than 60 bytes or holds `@<>` is replaced by the address.
/// Without an `@`, `Name <addr>` is still accepted. `None` when no address is found.
pub fn parse_from(value: &str) -> Option<Ident> {
    let collapsed = collapse_space(value.as_bytes());
    if let Some(ident) = std::str::from_utf8(&collapsed).ok().and_then(plain_mailbox) {
        return Some(ident);
    }
    let unquoted = unquote_quoted_pairs(&collapsed);
    let Some(mut at) = unquoted.iter().position(|&b| b == b'@') else {
        return parse_bogus_from(&collapsed);
    };
    let mut f = unquoted;
    while at > 0 {
        let c = f[at - 1];
        if c.is_ascii_whitespace() {
            break;
        }
        if c == b'<' {
            f[at - 1] = b' ';
            break;
        }
        at -= 1;
    }
    let email_len = f[at..]
        .iter()
        .position(|&b| matches!(b, b' ' | b'\n' | b'\t' | b'\r' | 0x0b | 0x0c | b'>'))
        .unwrap_or(f.len() - at);
    let email = f[at..at + email_len].to_vec();
    let removed_end = (at + email_len + 1).min(f.len());
    f.drain(at..removed_end);
    let mut name = trim_git_space(&collapse_space(&f)).to_vec();
    if name.len() >= 2 && name[0] == b'(' && name.last() == Some(&b')') {
        name = name[1..name.len() - 1].to_vec();
    } else if name == b"(" {
        // git's check needs only one byte for both ends.
        name.clear();
    }
    Some(sane_ident(name, email))
}

/// The forms where RFC 5322 (read by `mailparse::addrparse`) and git's `handle_from`
/// heuristic agree, read by mailparse: `Name <addr>`, `"Quoted, Name" <addr>`,
/// `<addr>` and a bare `addr`, with exactly one `@` and no comment, escape, group or
/// list. `None` for anything else, which [`parse_from`] leaves to git's rules:
/// git keeps comments in the name (`a@b (Name)` names the author "Name"), drops
/// quotes in the middle of a name, takes the first `@` anywhere as the address and
/// accepts `Name <addr>` without an `@`; mailparse does none of these.
/// `tests/mailparse_oracle.rs` checks each side against `git mailinfo`.
pub fn plain_mailbox(value: &str) -> Option<Ident> {
    let value = std::str::from_utf8(trim_git_space(value.as_bytes())).ok()?;
    if !is_plain_mailbox(value) {
        return None;
    }
    let list = mailparse::addrparse(value).ok()?;
    let [mailparse::MailAddr::Single(single)] = list.as_slice() else {
        return None;
    };
    // git trims the name it finds (a quoted name of spaces is no name).
    let name = single.display_name.as_deref().unwrap_or_default();
    let name = trim_git_space(&collapse_space(name.as_bytes())).to_vec();
    Some(sane_ident(name, single.addr.clone().into_bytes()))
}

fn is_plain_mailbox(value: &str) -> bool {
    let (name, addr) = match value.split_once('<') {
        Some((name, rest)) => match rest.strip_suffix('>') {
            Some(addr) => (name.trim_end(), addr),
            None => return false,
        },
        None => ("", value),
    };
    is_plain_addr(addr) && is_plain_name(name)
}

fn is_plain_addr(addr: &str) -> bool {
    let Some((local, domain)) = addr.split_once('@') else {
        return false;
    };
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_graphic() && !b"<>()[]\\,;:\"@".contains(&b))
    };
    plain(local) && plain(domain)
}

fn is_plain_name(name: &str) -> bool {
    const SPECIALS: &[u8] = b"<>()[]\\,;:\"@";
    match name.strip_prefix('"') {
        Some(quoted) => quoted.strip_suffix('"').is_some_and(|inner| {
            !inner
                .bytes()
                .any(|b| matches!(b, b'"' | b'\\' | b'<' | b'>' | b'@') || b.is_ascii_control())
        }),
        None => !name
            .bytes()
            .any(|b| SPECIALS.contains(&b) || b.is_ascii_control()),
    }
}

fn parse_bogus_from(line: &[u8]) -> Option<Ident> {
    let bra = line.iter().position(|&b| b == b'<')?;
    let ket = bra + line[bra..].iter().position(|&b| b == b'>')?;
    let email = line[bra + 1..ket].to_vec();
    let name = trim_git_space(&line[..bra]).to_vec();
    Some(sane_ident(name, email))
}

fn sane_ident(name: Vec<u8>, email: Vec<u8>) -> Ident {
    let unusable = name.is_empty() || name.len() > 60 || name.iter().any(|b| b"@<>".contains(b));
    let name = if unusable { email.clone() } else { name };
    Ident {
        name: ensure_utf8(&name),
        email: ensure_utf8(&email),
    }
}

/// git's `unquote_quoted_pair`: `"..."` loses its quotes and backslashes, comments
/// keep their parentheses but lose backslashes.
fn unquote_quoted_pairs(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        match c {
            b'"' => i = unquote_until_quote(s, i, &mut out),
            b'(' => i = unquote_comment(s, i, &mut out),
            _ => out.push(c),
        }
    }
    out
}

fn unquote_until_quote(s: &[u8], mut i: usize, out: &mut Vec<u8>) -> usize {
    let mut literal = false;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if literal {
            literal = false;
        } else if c == b'\\' {
            literal = true;
            continue;
        } else if c == b'"' {
            return i;
        }
        out.push(c);
    }
    i
}

fn unquote_comment(s: &[u8], mut i: usize, out: &mut Vec<u8>) -> usize {
    let mut literal = false;
    let mut depth = 1usize;
    out.push(b'(');
    while i < s.len() {
        let c = s[i];
        i += 1;
        if literal {
            literal = false;
        } else {
            match c {
                b'\\' => {
                    literal = true;
                    continue;
                }
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        out.push(c);
                        return i;
                    }
                }
                _ => {}
            }
        }
        out.push(c);
    }
    i
}

/// Splits input into lines including their `\n`.
struct LineReader<'a> {
    rest: &'a [u8],
}

impl<'a> LineReader<'a> {
    fn new(data: &'a [u8]) -> Self {
        LineReader { rest: data }
    }

    fn next_line(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let end = self
            .rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(self.rest.len(), |i| i + 1);
        let (line, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some(line)
    }

    fn peek_byte(&self) -> Option<u8> {
        self.rest.first().copied()
    }
}

enum HeaderLine {
    /// An unfolded header line, right-trimmed, without line end.
    Header(Vec<u8>),
    /// The line that ended the header block (right-trimmed, `\n` re-added), or
    /// `None` at the end of input.
    End(Option<Vec<u8>>),
}

/// git's `read_one_header_line`.
fn read_header_line(reader: &mut LineReader) -> HeaderLine {
    let Some(line) = reader.next_line() else {
        return HeaderLine::End(None);
    };
    let mut line = trim_git_space_end(line).to_vec();
    if line.is_empty() || !is_rfc2822_header(&line) {
        line.push(b'\n');
        return HeaderLine::End(Some(line));
    }
    while matches!(reader.peek_byte(), Some(b' ' | b'\t')) {
        let Some(cont) = reader.next_line() else {
            break;
        };
        line.push(b' ');
        line.extend_from_slice(trim_git_space_end(&cont[1..]));
    }
    HeaderLine::Header(line)
}

fn is_rfc2822_header(line: &[u8]) -> bool {
    if line.starts_with(b"From ") || line.starts_with(b">From ") {
        return true;
    }
    for &c in line {
        if c == b':' {
            return true;
        }
        if !(33..=126).contains(&c) {
            return false;
        }
    }
    false
}

/// `Name: value` with the name matched case-insensitively (git's `skip_header`).
pub(crate) fn header_value<'a>(line: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let head = line.get(..name.len())?;
    if !head.eq_ignore_ascii_case(name.as_bytes()) || line.get(name.len()) != Some(&b':') {
        return None;
    }
    let value = &line[name.len() + 1..];
    let start = value
        .iter()
        .position(|&b| !is_git_space(b))
        .unwrap_or(value.len());
    Some(&value[start..])
}

#[derive(Clone, Copy, PartialEq, Eq, Default)]
enum TransferEncoding {
    #[default]
    None,
    QuotedPrintable,
    Base64,
}

#[derive(Default)]
struct ParseState {
    subject: Option<Vec<u8>>,
    from: Option<Vec<u8>>,
    date: Option<Vec<u8>>,
    message_id: Option<Vec<u8>>,
    in_reply_to: Option<Vec<u8>>,
    references: Option<Vec<u8>>,
    boundaries: Vec<Vec<u8>>,
    encoding: TransferEncoding,
    charset: Option<String>,
    flowed: bool,
    delsp: bool,
    parts: Vec<BodyPart>,
    body: Vec<u8>,
    pending: Vec<u8>,
}

impl ParseState {
    fn main_header(&mut self, line: &[u8]) -> Result<(), MailError> {
        let line = until_nul(line);
        // Later copies of From/Subject/Date win, as with git's `overwrite`.
        for (name, slot) in [
            ("From", &mut self.from),
            ("Subject", &mut self.subject),
            ("Date", &mut self.date),
        ] {
            if let Some(v) = header_value(line, name) {
                *slot = Some(decode_header(v));
                return Ok(());
            }
        }
        for (name, slot) in [
            ("Message-ID", &mut self.message_id),
            ("In-Reply-To", &mut self.in_reply_to),
            ("References", &mut self.references),
        ] {
            if let Some(v) = header_value(line, name) {
                *slot = Some(decode_header(v));
                return Ok(());
            }
        }
        self.content_header(line)
    }

    /// Headers of a MIME part: only fill in what the mail did not have.
    fn part_header(&mut self, line: &[u8]) -> Result<(), MailError> {
        let line = until_nul(line);
        for (name, slot) in [
            ("From", &mut self.from),
            ("Subject", &mut self.subject),
            ("Date", &mut self.date),
        ] {
            if slot.is_none() {
                if let Some(v) = header_value(line, name) {
                    *slot = Some(decode_header(v));
                    return Ok(());
                }
            }
        }
        self.content_header(line)
    }

    fn content_header(&mut self, line: &[u8]) -> Result<(), MailError> {
        if let Some(v) = header_value(line, "Content-Type") {
            return self.content_type(&decode_header(v));
        }
        if let Some(v) = header_value(line, "Content-Transfer-Encoding") {
            let v = decode_header(v).to_ascii_lowercase();
            self.encoding = if find(&v, b"base64").is_some() {
                TransferEncoding::Base64
            } else if find(&v, b"quoted-printable").is_some() {
                TransferEncoding::QuotedPrintable
            } else {
                TransferEncoding::None
            };
        }
        Ok(())
    }

    /// git's `handle_content_type`: looks for its attributes anywhere in the value.
    fn content_type(&mut self, value: &[u8]) -> Result<(), MailError> {
        self.flowed = attr(value, "format=").is_some_and(|v| v.eq_ignore_ascii_case(b"flowed"));
        self.delsp = attr(value, "delsp=").is_some_and(|v| v.eq_ignore_ascii_case(b"yes"));
        if let Some(boundary) = attr(value, "boundary=") {
            if self.boundaries.len() >= MAX_MULTIPART_DEPTH {
                return Err(MailError::TooDeep);
            }
            let mut b = b"--".to_vec();
            b.extend_from_slice(&boundary);
            self.boundaries.push(b);
        }
        self.charset = attr(value, "charset=")
            .map(|c| String::from_utf8_lossy(&c).into_owned())
            .filter(|c| !c.is_empty());
        Ok(())
    }

    fn at_boundary(&self, line: &[u8]) -> bool {
        self.boundaries.last().is_some_and(|b| line.starts_with(b))
    }

    /// git's `handle_body`.
    fn read_body(
        &mut self,
        reader: &mut LineReader,
        first: Option<Vec<u8>>,
    ) -> Result<(), MailError> {
        self.start_part();
        let first = if self.boundaries.is_empty() {
            // git feeds the blank separator line to its filter, which always drops
            // it (blank lines at the top of the body are skipped); leaving it out
            // keeps `body` free of it.
            match first {
                Some(line) if line == b"\n" => reader.next_line().map(<[u8]>::to_vec),
                other => other,
            }
        } else {
            // A multipart body's preamble is skipped, header-ending line included;
            // the search starts on the line after it, so a boundary right after
            // the blank separator (no preamble) is found.
            self.skip_to_boundary(reader)
        };
        let Some(mut line) = first else {
            return Ok(());
        };
        loop {
            if self.at_boundary(&line) {
                self.flush_pending();
                match self.enter_part(reader, line)? {
                    Some(l) => line = l,
                    None => return Ok(()),
                }
            }
            self.decoded_line(&line);
            match reader.next_line() {
                Some(l) => line = l.to_vec(),
                None => break,
            }
        }
        self.flush_pending();
        Ok(())
    }

    fn skip_to_boundary(&self, reader: &mut LineReader) -> Option<Vec<u8>> {
        while let Some(l) = reader.next_line() {
            if self.at_boundary(l) {
                return Some(l.to_vec());
            }
        }
        None
    }

    /// git's `handle_boundary`: returns the first content line of the next part, or
    /// `None` when the body is over.
    fn enter_part(
        &mut self,
        reader: &mut LineReader,
        mut line: Vec<u8>,
    ) -> Result<Option<Vec<u8>>, MailError> {
        loop {
            let Some(top) = self.boundaries.last() else {
                return Ok(None);
            };
            if line.get(top.len()..top.len() + 2) != Some(b"--") {
                break;
            }
            self.boundaries.pop();
            self.emit(b"\n".to_vec());
            match self.skip_to_boundary(reader) {
                Some(l) => line = l,
                None => return Ok(None),
            }
        }
        self.encoding = TransferEncoding::None;
        self.charset = None;
        while let HeaderLine::Header(h) = read_header_line(reader) {
            self.part_header(&h)?;
        }
        self.start_part();
        // git reads the next line after the part's headers unconditionally, so a
        // header block ended by a non-blank line loses that line.
        Ok(reader.next_line().map(|l| {
            let mut l = l.strip_suffix(b"\n").unwrap_or(l).to_vec();
            l.push(b'\n');
            l
        }))
    }

    fn start_part(&mut self) {
        if self.parts.last().is_some_and(BodyPart::is_empty) {
            self.parts.pop();
        }
        self.parts.push(BodyPart {
            charset: self.charset.clone(),
            encoded: self.encoding != TransferEncoding::None,
            start: self.body.len(),
            end: self.body.len(),
            cuts: Vec::new(),
        });
    }

    fn decoded_line(&mut self, line: &[u8]) {
        let decoded = match self.encoding {
            TransferEncoding::None => return self.flowed_line(line.to_vec()),
            TransferEncoding::QuotedPrintable => decode_qp_segment(line, false),
            TransferEncoding::Base64 => decode_base64_segment(line),
        };
        // As git: the pending partial line is prepended to the decoded text, which
        // is cut at its line ends. `pending` never holds a `\n`, so only the new
        // bytes are searched: rescanning the whole text per encoded line made a long
        // line without `\n` quadratic.
        let Some(first_nl) = decoded.iter().position(|&b| b == b'\n') else {
            self.pending.extend_from_slice(&decoded);
            return;
        };
        let mut line = std::mem::take(&mut self.pending);
        line.extend_from_slice(&decoded[..=first_nl]);
        self.flowed_line(line);
        let mut rest = &decoded[first_nl + 1..];
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            self.flowed_line(rest[..=nl].to_vec());
            rest = &rest[nl + 1..];
        }
        self.pending.extend_from_slice(rest);
    }

    /// git's `handle_filter_flowed` (RFC 3676 format=flowed undoing).
    fn flowed_line(&mut self, mut line: Vec<u8>) {
        if !self.flowed {
            return self.emit(line);
        }
        let mut len = line.len();
        if line.last() == Some(&b'\n') {
            len -= 1;
            if len > 0 && line[len - 1] == b'\r' {
                len -= 1;
            }
        }
        if len == 3 && line.starts_with(b"-- ") {
            self.flush_pending();
            return self.emit(line);
        }
        if len > 0 && line[0] == b' ' {
            line.remove(0);
            len -= 1;
        }
        if len > 0 && line[len - 1] == b' ' {
            let keep = len - usize::from(self.delsp);
            self.pending.extend_from_slice(&line[..keep]);
            return;
        }
        let mut joined = std::mem::take(&mut self.pending);
        joined.extend_from_slice(&line);
        self.emit(joined);
    }

    fn flush_pending(&mut self) {
        if !self.pending.is_empty() {
            let p = std::mem::take(&mut self.pending);
            self.emit(p);
        }
    }

    fn emit(&mut self, line: Vec<u8>) {
        if self.parts.is_empty() {
            self.start_part();
        }
        self.body.extend_from_slice(&line);
        if let Some(part) = self.parts.last_mut() {
            part.end = self.body.len();
            if !line.ends_with(b"\n") {
                part.cuts.push(part.end);
            }
        }
    }

    fn into_mail(mut self) -> Mail {
        self.parts.retain(|p| !p.is_empty());
        let mut body = self.body;
        body.shrink_to_fit();
        let text = |v: &Option<Vec<u8>>| v.as_deref().map(ensure_utf8);
        let from = text(&self.from).and_then(|f| parse_from(&f));
        let message_id_header = text(&self.message_id).map(|m| m.trim().to_owned());
        Mail {
            message_id: message_id_header
                .as_deref()
                .and_then(MessageId::from_header),
            in_reply_to: text(&self.in_reply_to).and_then(|v| MessageId::from_header(&v)),
            references: text(&self.references)
                .map(|v| MessageId::all_from_header(&v))
                .unwrap_or_default(),
            subject: text(&self.subject).unwrap_or_default(),
            from,
            date: text(&self.date),
            message_id_header,
            body,
            charset: self.parts.first().and_then(|p| p.charset.clone()),
            parts: self.parts,
        }
    }
}

/// git's `slurp_attr`: the value after `name` (searched case-insensitively
/// anywhere), up to a closing quote or `; \t`.
fn attr(value: &[u8], name: &str) -> Option<Vec<u8>> {
    let lower = value.to_ascii_lowercase();
    let at = find(&lower, name.as_bytes())? + name.len();
    let rest = &value[at..];
    let (rest, ends): (&[u8], &[u8]) = match rest.strip_prefix(b"\"") {
        Some(r) => (r, b"\""),
        None => (rest, b"; \t"),
    };
    let len = rest
        .iter()
        .position(|b| ends.contains(b))
        .unwrap_or(rest.len());
    Some(rest[..len].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(mail: &Mail) -> Vec<String> {
        mail.lines()
            .map(|(_, l)| String::from_utf8_lossy(l).into_owned())
            .collect()
    }

    #[test]
    fn empty_input_is_an_error() {
        assert!(matches!(parse(b" \n\n"), Err(MailError::Empty)));
    }

    #[test]
    fn headers_are_unfolded_decoded_and_ids_parsed() {
        let raw = b"From: =?UTF-8?q?Philippe=20Mathieu-Daud=C3=A9?= <f4bug@amsat.org>\n\
            Subject: [PATCH] =?ISO-8859-1?Q?caf=E9?=\n =?UTF-8?B?IMOgIGxh?=\n\tend\n\
            Message-Id: <a_b@x>\nIn-Reply-To: <c@x>\nReferences: <r1@x>\n <r2@x>\n\nbody\n";
        let m = parse(raw).unwrap();
        let from = m.from.unwrap();
        assert_eq!(from.name, "Philippe Mathieu-Daudé");
        assert_eq!(from.email, "f4bug@amsat.org");
        // White space between two encoded words goes, other folding stays a space.
        assert_eq!(m.subject, "[PATCH] café à la end");
        assert_eq!(m.message_id.unwrap().as_str(), "a_b@x");
        assert_eq!(m.message_id_header.as_deref(), Some("<a_b@x>"));
        assert_eq!(m.in_reply_to.unwrap().as_str(), "c@x");
        assert_eq!(m.references.len(), 2);
    }

    #[test]
    fn malformed_encoded_word_leaves_header_alone() {
        assert_eq!(
            decode_header(b"a =?utf-8?x?abc?= b"),
            b"a =?utf-8?x?abc?= b"
        );
        assert_eq!(decode_header(b"=?utf-8?q?abc"), b"=?utf-8?q?abc");
        assert_eq!(decode_header(b"x=?utf-8?q?a_b?=y"), b"xa by");
    }

    #[test]
    fn unknown_charsets_and_raw_bytes_do_not_fail() {
        assert_eq!(convert_to_utf8(b"caf\xe9", Some("y")), b"caf\xe9");
        assert_eq!(ensure_utf8(b"caf\xe9 \xc3\xa9"), "café é");
        assert_eq!(
            convert_to_utf8(b"\x80", Some("latin1")),
            "\u{80}".as_bytes()
        );
        assert_eq!(
            convert_to_utf8(b"\x80", Some("windows-1252")),
            "€".as_bytes()
        );
        let raw = b"From: J\xf6rg <j@x>\nSubject: caf\xe9\n\nbody\n";
        let m = parse(raw).unwrap();
        assert_eq!(m.subject, "café");
        assert_eq!(m.from.unwrap().name, "Jörg");
    }

    #[test]
    fn git_utf8_check_rejects_noncharacters() {
        assert_eq!(ensure_utf8("\u{fffe}".as_bytes()), "\u{ef}\u{bf}\u{be}");
        assert_eq!(ensure_utf8("ok ✓".as_bytes()), "ok ✓");
    }

    #[test]
    fn header_block_ends_at_first_non_header_line() {
        let m = parse(b"Subject: s\nnot a header line  \nX-Late: h\n").unwrap();
        assert_eq!(lines(&m), ["not a header line\n", "X-Late: h\n"]);
    }

    #[test]
    fn qp_and_base64_are_decoded_but_not_converted() {
        let qp = b"Content-Type: text/plain; charset=iso-8859-1\n\
            Content-Transfer-Encoding: quoted-printable\n\ncaf=E9 soft=\nbreak =3D\n";
        let m = parse(qp).unwrap();
        assert_eq!(m.body, b"caf\xe9 softbreak =\n");
        assert_eq!(m.charset.as_deref(), Some("iso-8859-1"));
        let b64 = b"Content-Transfer-Encoding: base64\n\nYWIKY2Q=\n";
        assert_eq!(parse(b64).unwrap().body, b"ab\ncd");
    }

    #[test]
    fn multipart_parts_are_streamed_with_end_boundary_newline() {
        let raw = b"Content-Type: multipart/mixed; boundary=\"XX\"\n\npreamble\n--XX\n\
            Content-Type: text/plain; charset=utf-8\n\nmessage\n--XX\n\
            Content-Type: text/x-patch; charset=iso-8859-1\n\
            Content-Transfer-Encoding: base64\n\nZGlmZgo=\n--XX--\nepilogue\n";
        let m = parse(raw).unwrap();
        assert_eq!(m.parts.len(), 2);
        assert_eq!(m.parts[0].charset.as_deref(), Some("utf-8"));
        assert_eq!(m.parts[1].charset.as_deref(), Some("iso-8859-1"));
        assert_eq!(lines(&m), ["message\n", "diff\n", "\n"]);
    }

    #[test]
    fn multipart_boundary_right_after_the_headers_opens_the_first_part() {
        let raw = b"Content-Type: multipart/alternative; boundary=\"XX\"\n\n--XX\n\
            Content-Type: text/plain\n\nmessage\n--XX\n\
            Content-Type: text/html\n\n<p>html</p>\n--XX--\n";
        let m = parse(raw).unwrap();
        assert_eq!(lines(&m), ["message\n", "<p>html</p>\n", "\n"]);
    }

    #[test]
    fn base64_line_split_anywhere_decodes_the_same() {
        let text = b"a long line with no end ".repeat(40);
        let encoded = crate::input::mail::tests::encode_base64(&text);
        let one_line = [
            &b"Content-Transfer-Encoding: base64\n\n"[..],
            &encoded,
            b"\n",
        ]
        .concat();
        let wrapped: Vec<u8> = encoded
            .chunks(76)
            .flat_map(|c| [c, b"\n"].concat())
            .collect();
        let many = [&b"Content-Transfer-Encoding: base64\n\n"[..], &wrapped].concat();
        assert_eq!(parse(&one_line).unwrap().body, text);
        assert_eq!(parse(&many).unwrap().body, text);
    }

    /// The crate's decoding of a plain line and the byte loop agree on every line
    /// the crate takes, padded or not, and the crate takes the usual lines.
    #[test]
    fn fast_base64_lines_decode_as_the_byte_loop() {
        let data: Vec<u8> = (0..=255u8).cycle().take(300).collect();
        let encoded = encode_base64(&data);
        let mut taken = 0;
        for len in 0..encoded.len().min(90) {
            for tail in ["", "\n", "\r\n", "=\n", "==\r\n", "x", "=Q\n"] {
                let mut line = encoded[..len].to_vec();
                line.extend_from_slice(tail.as_bytes());
                if let Some(fast) = decode_base64_line(&line) {
                    assert_eq!(fast, decode_base64_bytewise(&line), "{line:?}");
                    taken += 1;
                }
            }
        }
        assert!(taken > 200, "the fast path took only {taken} lines");
        assert!(decode_base64_line(b"QUJD\n").is_some());
        assert!(
            decode_base64_line(b"QUJDR\n").is_none(),
            "a lone 5th character"
        );
    }

    pub(crate) fn encode_base64(data: &[u8]) -> Vec<u8> {
        const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = Vec::new();
        for chunk in data.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ABC[(n >> (18 - 6 * i) & 63) as usize]);
                } else {
                    out.push(b'=');
                }
            }
        }
        out
    }

    /// The reasons given in the module doc for not using mailparse; if one of these
    /// stops holding, re-check whether mailparse can replace the reader.
    #[test]
    fn mailparse_differs_from_git_mailinfo() {
        let raw_body = |raw: &[u8]| {
            let m = mailparse::parse_mail(raw).unwrap();
            let body = |p: &mailparse::ParsedMail| p.get_body_raw().ok();
            let parts: Vec<Option<Vec<u8>>> = m.subparts.iter().map(body).collect();
            (body(&m), parts)
        };
        let no_preamble = b"Content-Type: multipart/alternative; boundary=\"XX\"\n\n--XX\n\
            Content-Type: text/plain\n\nmsg\n---\ndiff\n--XX\nContent-Type: text/html\n\n\
            <p>x</p>\n--XX--\n";
        let (_, parts) = raw_body(no_preamble);
        let want = [Some(b"msg\n---\ndiff".to_vec()), Some(b"<p>x</p>".to_vec())];
        assert_eq!(parts, want, "same parts, without line ends");
        assert_eq!(
            parse(no_preamble).unwrap().body,
            b"msg\n---\ndiff\n<p>x</p>\n\n"
        );

        let not_header = b"Subject: s\nnot a header\n\nbody\n";
        assert_eq!(raw_body(not_header).0.unwrap(), b"body\n");
        assert_eq!(parse(not_header).unwrap().body, b"not a header\n\nbody\n");

        let stray = b"Content-Transfer-Encoding: base64\n\nYWI*KY2Q=\n";
        assert_eq!(raw_body(stray).0, None, "a decoding error");
        assert_eq!(parse(stray).unwrap().body, b"ab\ncd");

        let headless = b"Content-Type: multipart/mixed; boundary=XX\n\n--XX\n\
            Content-Type: text/plain\nnot-a-header line\nmore\n--XX--\n";
        assert_eq!(raw_body(headless).1, [Some(Vec::new())]);
        assert_eq!(parse(headless).unwrap().body, b"more\n\n");
    }

    #[test]
    fn a_partial_line_flushed_at_a_boundary_stays_its_own_line() {
        let raw = b"Content-Type: multipart/mixed; boundary=XX\n\npre\n--XX\n\
            Content-Transfer-Encoding: base64\n\nYWJj\n--XX--\n";
        let m = parse(raw).unwrap();
        assert_eq!(lines(&m), ["abc", "\n"]);
        assert_eq!(m.body, b"abc\n");
    }

    #[test]
    fn nested_multipart_is_bounded() {
        // git reads the line after a part's headers as content, boundary or not, so
        // each level needs a line before its first boundary.
        let nested = |levels: usize| {
            let mut raw = String::new();
            for depth in 0..levels {
                raw.push_str(&format!(
                    "Content-Type: multipart/mixed; boundary=b{depth}\n\n"
                ));
                raw.push_str(&format!("pre\n--b{depth}\n"));
            }
            raw + "\ntext\n"
        };
        assert!(matches!(
            parse(nested(5).as_bytes()),
            Err(MailError::TooDeep)
        ));
        let body = parse(nested(MAX_MULTIPART_DEPTH).as_bytes()).unwrap().body;
        assert!(
            body.ends_with(b"pre\ntext\n"),
            "{}",
            String::from_utf8_lossy(&body)
        );
        assert!(matches!(
            parse(nested(10_000).as_bytes()),
            Err(MailError::TooDeep)
        ));
    }

    #[test]
    fn format_flowed_lines_are_joined() {
        let raw = b"Content-Type: text/plain; format=flowed\n\nsoft \nbreak\n stuffed\n-- \nsig\n";
        assert_eq!(parse(raw).unwrap().body, b"soft break\nstuffed\n-- \nsig\n");
    }

    #[test]
    fn from_forms_follow_git() {
        let f = |s: &str| parse_from(s).map(|i| (i.name, i.email));
        let pair = |a: &str, b: &str| Some((a.to_owned(), b.to_owned()));
        assert_eq!(f("John Doe <john@x.org>"), pair("John Doe", "john@x.org"));
        assert_eq!(f("john@x.org (John Doe)"), pair("John Doe", "john@x.org"));
        assert_eq!(
            f("\"Doe, John\" <john@x.org>"),
            pair("Doe, John", "john@x.org")
        );
        assert_eq!(f("<john@x.org>"), pair("john@x.org", "john@x.org"));
        assert_eq!(f("John <john>"), pair("John", "john"));
        assert_eq!(f("nobody"), None);
        let long = "N".repeat(61);
        assert_eq!(f(&format!("{long} <a@b>")), pair("a@b", "a@b"));
        assert_eq!(f("\" \" <a@b>"), pair("a@b", "a@b"));
    }

    /// Which From forms mailparse reads (the rest stay with git's rules).
    #[test]
    fn plain_mailboxes_go_to_mailparse() {
        for plain in [
            "John Doe <john@x.org>",
            "\"Doe, John\" <john@x.org>",
            "<john@x.org>",
            "john@x.org",
            "J. Doe <j@x>",
        ] {
            assert!(plain_mailbox(plain).is_some(), "{plain}");
        }
        for git_only in [
            "john@x.org (John Doe)",
            "J\"o\"hn <j@x>",
            "John <john>",
            "A@B <a@b>",
            "A <a@b>, B <b@c>",
            "g: A <a@b>;",
            "A <a@b> trailing",
            "\"a\\\"b\" <a@b>",
            "A <a@b",
        ] {
            assert!(plain_mailbox(git_only).is_none(), "{git_only}");
        }
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        for raw in [
            &b"From: <@>\n\n"[..],
            b"From: (\n\n",
            b"Subject: =?\n\n",
            b"Content-Type: multipart/mixed; boundary=\n\n--\n--\n----\n",
            b"Content-Type: multipart/mixed; boundary=a\n\n--a--\n--a\n",
            b"Content-Transfer-Encoding: quoted-printable\n\n=\n=4\n=\0x\n",
            b"Content-Transfer-Encoding: base64\n\n\0\xff===\n",
            b"Content-Type: text/plain; format=flowed; delsp=yes\n\n \n\n",
            b"\xff\xfe:\n",
        ] {
            let _ = parse(raw).map(|m| crate::input::mailinfo::mailinfo(&m).commit_message());
        }
    }
}
