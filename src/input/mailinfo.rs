//! [`Mail`] -> commit metadata and patch text, by `git mailinfo`'s rules as plain
//! `git am` runs it (`-u`: log message converted to UTF-8; no `-k`, no `-b`; no
//! scissors unless asked, because `mailinfo.scissors` defaults to false; in-body
//! headers honoured).

use crate::input::mail::{
    collapse_space, convert_to_utf8, decode_header, ensure_utf8, header_value, is_git_space,
    parse_from, trim_git_space, trim_git_space_end, Ident, Mail,
};

/// The few `git am` switches that change what mailinfo produces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// `git am --scissors` / `mailinfo.scissors`: drop everything above a
    /// `-- >8 --` line.
    pub scissors: bool,
    /// `git am -m`: append `Message-ID: <id>` to the log message (Patchew's old
    /// applier did, and its merge detection looks for it).
    pub message_id: bool,
    /// `git am --quoted-cr=ACTION`: what to do with body lines ending in CRLF.
    pub quoted_cr: QuotedCr,
}

/// `--quoted-cr=ACTION`. git's default is `warn`: the CRs stay, and a mail client
/// that turned every line of a base64 or QP body into CRLF makes the patch fail
/// ("configure\r"). Ours is [`QuotedCr::Auto`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum QuotedCr {
    /// Keep the CRs, say nothing.
    Nowarn,
    /// Keep the CRs, warn.
    Warn,
    /// Remove the CR of every body line ending in CRLF (git's `strip`).
    Strip,
    /// `strip` for a mail whose encoded part has CRLF on its diff's own header lines
    /// (`diff --git`, `@@`): git never writes those with a CR, so the CRs came from
    /// the mail's transport, not from the files; `warn` otherwise. Either way with
    /// a warning.
    #[default]
    Auto,
}

/// An action `--quoted-cr` does not know, in git am's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad action '{0}' for '--quoted-cr' (nowarn, warn or strip)")]
pub struct UnknownQuotedCr(String);

impl std::str::FromStr for QuotedCr {
    type Err = UnknownQuotedCr;

    fn from_str(s: &str) -> Result<Self, UnknownQuotedCr> {
        match s {
            "nowarn" => Ok(QuotedCr::Nowarn),
            "warn" => Ok(QuotedCr::Warn),
            "strip" => Ok(QuotedCr::Strip),
            _ => Err(UnknownQuotedCr(s.to_owned())),
        }
    }
}

/// What was found and done about quoted CRs in one mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotedCrSeen {
    Kept,
    Stripped,
}

#[derive(Debug, Clone)]
pub struct MailInfo {
    /// Author as `git am` records it: after any in-body `From:` override, with the
    /// characters git's ident code drops removed. `None` when no address was found
    /// (git am refuses such a patch).
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
    /// Body lines ending in CRLF were found (and kept or stripped), worth a warning
    /// unless `--quoted-cr=nowarn`.
    pub quoted_cr: Option<QuotedCrSeen>,
}

impl MailInfo {
    /// The whole commit message exactly as `git am` writes it: git am builds
    /// `subject + "\n\n" + log` and runs it through `stripspace`, which this
    /// reproduces from the already-cleaned parts.
    pub fn commit_message(&self) -> String {
        match (self.subject.is_empty(), self.body.is_empty()) {
            (true, true) => String::new(),
            (true, false) => self.body.clone(),
            (false, true) => format!("{}\n", self.subject),
            (false, false) => format!("{}\n\n{}", self.subject, self.body),
        }
    }
}

/// [`mailinfo_with`] with `git am`'s defaults.
pub fn mailinfo(mail: &Mail) -> MailInfo {
    mailinfo_with(mail, Options::default())
}

pub fn mailinfo_with(mail: &Mail, options: Options) -> MailInfo {
    let strip = match options.quoted_cr {
        QuotedCr::Strip => true,
        QuotedCr::Auto => crs_from_transport(mail),
        QuotedCr::Nowarn | QuotedCr::Warn => false,
    };
    let mut found_cr = false;
    let mut filter = Filter::new(options, mail.message_id_header.as_deref());
    for part in &mail.parts {
        for line in part.lines(&mail.body) {
            match line.strip_suffix(b"\r\n") {
                // git looks at every line it filters; a plain part's CRs are the
                // mbox's, which `git am --keep-cr` keeps and so do we.
                Some(content) if part.encoded || options.quoted_cr == QuotedCr::Strip => {
                    found_cr = true;
                    if strip {
                        let mut l = content.to_vec();
                        l.push(b'\n');
                        filter.line(&l, part.charset.as_deref());
                        continue;
                    }
                }
                _ => {}
            }
            filter.line(line, part.charset.as_deref());
        }
    }
    filter.flush_inbody_header();
    let mut info = filter.into_info(mail);
    info.quoted_cr = match (found_cr, strip, options.quoted_cr) {
        (false, ..) | (true, _, QuotedCr::Nowarn) => None,
        (true, true, _) => Some(QuotedCrSeen::Stripped),
        (true, false, _) => Some(QuotedCrSeen::Kept),
    };
    info
}

/// Whether an encoded part has a CR at the end of a diff header line: git writes
/// those without one whatever the file holds, so the CRs are the transport's.
fn crs_from_transport(mail: &Mail) -> bool {
    mail.parts.iter().filter(|p| p.encoded).any(|p| {
        p.lines(&mail.body).any(|l| {
            (l.starts_with(b"diff --git ") || l.starts_with(b"@@ -")) && l.ends_with(b"\r\n")
        })
    })
}

/// The in-body headers git mailinfo recognises, in its order.
const SUBJECT: usize = 1;
const INBODY_HEADERS: [&str; 3] = ["From", "Subject", "Date"];

/// git mailinfo's `handle_filter` / `handle_commit_msg` state.
struct Filter<'a> {
    options: Options,
    message_id: Option<&'a str>,
    /// Still at the top of the body, where blank lines and in-body headers are eaten.
    header_stage: bool,
    /// An in-body header being read, continuation lines included.
    inbody_accum: Vec<u8>,
    inbody: [Option<Vec<u8>>; 3],
    log: Vec<u8>,
    in_patch: bool,
    patch: Vec<u8>,
}

impl<'a> Filter<'a> {
    fn new(options: Options, message_id: Option<&'a str>) -> Self {
        Filter {
            options,
            message_id,
            header_stage: true,
            inbody_accum: Vec::new(),
            inbody: [None, None, None],
            log: Vec::new(),
            in_patch: false,
            patch: Vec::new(),
        }
    }

    fn line(&mut self, line: &[u8], charset: Option<&str>) {
        if self.in_patch {
            self.patch.extend_from_slice(line);
            return;
        }
        if let Some(first_patch_line) = self.commit_msg_line(line, charset) {
            self.in_patch = true;
            self.patch.extend_from_slice(&first_patch_line);
        }
    }

    /// Returns the line (converted, as git hands it on) when it starts the patch.
    fn commit_msg_line(&mut self, line: &[u8], charset: Option<&str>) -> Option<Vec<u8>> {
        if self.header_stage && (line.is_empty() || line == b"\n") {
            if !self.inbody_accum.is_empty() {
                self.flush_inbody_header();
                self.header_stage = false;
            }
            return None;
        }
        if self.header_stage {
            self.header_stage = self.inbody_header_line(line);
            if self.header_stage {
                return None;
            }
        }
        let line = convert_to_utf8(line, charset);
        if self.options.scissors && is_scissors_line(&line) {
            self.log.clear();
            self.header_stage = true;
            self.inbody = [None, None, None];
            return None;
        }
        if is_patch_break(&line) {
            if let (true, Some(id)) = (self.options.message_id, self.message_id) {
                self.log
                    .extend_from_slice(format!("Message-ID: {id}\n").as_bytes());
            }
            return Some(line);
        }
        self.log.extend_from_slice(&line);
        None
    }

    /// git's `check_inbody_header`: true when the line was taken as a header.
    fn inbody_header_line(&mut self, line: &[u8]) -> bool {
        if !self.inbody_accum.is_empty() && matches!(line.first(), Some(b' ' | b'\t')) {
            if self.options.scissors && is_scissors_line(line) {
                self.flush_inbody_header();
                return false;
            }
            if self.inbody_accum.last() == Some(&b'\n') {
                self.inbody_accum.pop();
            }
            self.inbody_accum.extend_from_slice(line);
            return true;
        }
        self.flush_inbody_header();
        if line.starts_with(b">From") && line.get(5).is_some_and(|&b| is_git_space(b)) {
            return is_format_patch_separator(&line[1..]);
        }
        if line.starts_with(b"[PATCH]") && line.get(7).is_some_and(|&b| is_git_space(b)) {
            self.inbody[SUBJECT] = Some(line.to_vec());
            return true;
        }
        let is_header = INBODY_HEADERS
            .iter()
            .zip(&self.inbody)
            .any(|(name, seen)| seen.is_none() && header_value(line, name).is_some());
        if is_header {
            self.inbody_accum.extend_from_slice(line);
        }
        is_header
    }

    fn flush_inbody_header(&mut self) {
        let accum = std::mem::take(&mut self.inbody_accum);
        for (name, slot) in INBODY_HEADERS.iter().zip(self.inbody.iter_mut()) {
            if slot.is_none() {
                if let Some(value) = header_value(&accum, name) {
                    *slot = Some(decode_header(value));
                    return;
                }
            }
        }
    }

    fn into_info(self, mail: &Mail) -> MailInfo {
        // git uses in-body headers only when the mail has a patch.
        let has_patch = !self.patch.is_empty();
        let [inbody_from, inbody_subject, inbody_date] = self.inbody;
        let inbody = |h: Option<Vec<u8>>| h.filter(|_| has_patch);
        let author = match inbody(inbody_from) {
            Some(from) => parse_from(&ensure_utf8(&from)),
            None => mail.from.clone(),
        };
        let subject = match inbody(inbody_subject) {
            Some(s) => s,
            None => mail.subject.as_bytes().to_vec(),
        };
        let date = inbody(inbody_date)
            .map(|d| ensure_utf8(&d))
            .or_else(|| mail.date.clone())
            .map(|d| ensure_utf8(trim_git_space(&collapse_space(d.as_bytes()))));
        MailInfo {
            author: author.map(|a| Ident {
                name: without_ident_crud(&a.name),
                email: without_ident_crud(&a.email),
            }),
            date,
            subject: ensure_utf8(&collapse_space(&cleanup_subject(&subject))),
            body: ensure_utf8(&stripspace(&self.log)),
            patch: self.patch,
            quoted_cr: None,
        }
    }
}

/// git's `cleanup_subject` (without `-k`/`-b`): strips, from the front, any run of
/// `Re:` (any case, only when more follows), white space, colons and `[...]`
/// groups, then trims.
fn cleanup_subject(subject: &[u8]) -> Vec<u8> {
    let mut s = subject;
    loop {
        match s.first() {
            Some(b'r' | b'R') if s.len() > 3 && matches!(s[1], b'e' | b'E') && s[2] == b':' => {
                s = &s[3..];
            }
            Some(b' ' | b'\t' | b':') => s = &s[1..],
            Some(b'[') => match s.iter().position(|&b| b == b']') {
                Some(close) => s = &s[close + 1..],
                None => break,
            },
            _ => break,
        }
    }
    trim_git_space(s).to_vec()
}

/// git's `patchbreak`: `diff -`, `Index: `, `--- <name>` or `---` followed only by
/// white space.
fn is_patch_break(line: &[u8]) -> bool {
    if line.starts_with(b"diff -") || line.starts_with(b"Index: ") {
        return true;
    }
    if line.len() < 4 || !line.starts_with(b"---") {
        return false;
    }
    // Past the end counts as a non-space, as git's NUL terminator does.
    if line[3] == b' ' && !line.get(4).is_some_and(|&b| is_git_space(b)) {
        return true;
    }
    for &c in &line[3..] {
        if c == b'\n' {
            return true;
        }
        if !is_git_space(c) {
            return false;
        }
    }
    false
}

/// git's `is_scissors_line`: a perforation of dashes with `>8`, `8<`, `>%` or `%<`,
/// at least 8 visible bytes, taking more than a third of the visible line.
fn is_scissors_line(line: &[u8]) -> bool {
    let line = line.split(|&b| b == 0).next().unwrap_or_default();
    let (mut scissors, mut gap, mut perforation) = (0usize, 0usize, 0usize);
    let mut in_perforation = false;
    let (mut first, mut last) = (None, None);
    let mut i = 0;
    while i < line.len() {
        let c = line[i];
        if is_git_space(c) {
            if in_perforation {
                perforation += 1;
                gap += 1;
            }
            i += 1;
            continue;
        }
        last = Some(i);
        first.get_or_insert(i);
        if c == b'-' {
            in_perforation = true;
            perforation += 1;
        } else if [b">8", b"8<", b">%", b"%<"]
            .iter()
            .any(|m| line[i..].starts_with(*m))
        {
            in_perforation = true;
            perforation += 2;
            scissors += 2;
            // git steps over the mark's second byte without noting it as last.
            i += 1;
        } else {
            in_perforation = false;
        }
        i += 1;
    }
    let visible = match (first, last) {
        (Some(f), Some(l)) => l + 1 - f,
        _ => 0,
    };
    scissors > 0 && visible >= 8 && visible < perforation * 3 && gap * 2 < perforation
}

/// git's `is_format_patch_separator`: the `From <sha1> Mon Sep 17 00:00:00 2001`
/// line format-patch writes.
fn is_format_patch_separator(line: &[u8]) -> bool {
    const TAIL: &[u8] = b" Mon Sep 17 00:00:00 2001\n";
    let Some(rest) = line.strip_prefix(b"From ") else {
        return false;
    };
    rest.len() == 40 + TAIL.len()
        && rest[..40].iter().all(|b| b"0123456789abcdef".contains(b))
        && &rest[40..] == TAIL
}

/// git's `strbuf_stripspace` without comment stripping: trailing white space off
/// every line, leading and trailing blank lines dropped, runs of blank lines made
/// one, every line ended with `\n`.
pub(crate) fn stripspace(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut blank_run = false;
    for line in text.split_inclusive(|&b| b == b'\n') {
        let content = trim_git_space_end(line);
        if content.is_empty() {
            blank_run = true;
            continue;
        }
        if blank_run && !out.is_empty() {
            out.push(b'\n');
        }
        blank_run = false;
        out.extend_from_slice(content);
        out.push(b'\n');
    }
    out
}

/// What git's ident code (`strbuf_addstr_without_crud`) does to a name or address
/// before writing it into a commit.
fn without_ident_crud(s: &str) -> String {
    let crud = |c: char| c <= ' ' || matches!(c, ',' | ':' | ';' | '<' | '>' | '"' | '\\' | '\'');
    s.trim_matches(crud)
        .chars()
        .filter(|c| !matches!(c, '\n' | '<' | '>'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::mail::parse;

    const PATCH: &str =
        "---\n a | 1 +\n\ndiff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -0,0 +1 @@\n+x\n";

    fn info(headers: &str, body: &str) -> MailInfo {
        let raw = format!("{headers}\n{body}");
        mailinfo(&parse(raw.as_bytes()).unwrap())
    }

    #[test]
    fn subject_prefixes_are_stripped_like_git() {
        let s = |subject: &str| String::from_utf8(cleanup_subject(subject.as_bytes())).unwrap();
        assert_eq!(s("Re: [Qemu-devel] [PATCH v2 3/4] foo: bar"), "foo: bar");
        assert_eq!(s("RE:re: [PATCH]: foo [bar] baz"), "foo [bar] baz");
        assert_eq!(s("Aw: [PATCH] foo"), "Aw: [PATCH] foo");
        assert_eq!(s("Re:"), "Re:", "needs something after it");
        assert_eq!(s("[unterminated foo"), "[unterminated foo");
        assert_eq!(s("  [PATCH]   "), "");
    }

    #[test]
    fn commit_message_is_stripspaced() {
        let i = info(
            "From: A <a@b>\nSubject: [PATCH] s  with   spaces \n",
            &format!("\n\n  \nfirst  \r\n\n\n\nsecond\tx\r\n\n\n{PATCH}"),
        );
        assert_eq!(i.subject, "s with spaces");
        assert_eq!(i.body, "first\n\nsecond\tx\n");
        assert_eq!(i.commit_message(), "s with spaces\n\nfirst\n\nsecond\tx\n");
        let subject_only = info("From: A <a@b>\nSubject: only\n", PATCH);
        assert_eq!(subject_only.commit_message(), "only\n");
        assert_eq!(subject_only.patch, PATCH.as_bytes());
    }

    #[test]
    fn inbody_headers_override_only_with_a_patch() {
        let body =
            "From: Real <real@x>\nDate: Wed, 6 Mar 2024 01:02:03 -0500\nSubject: inner\n\nText.\n";
        let with_patch = info(
            "From: S <s@x>\nSubject: outer\nDate: D\n",
            &format!("{body}{PATCH}"),
        );
        assert_eq!(with_patch.author.unwrap().email, "real@x");
        assert_eq!(with_patch.subject, "inner");
        assert_eq!(
            with_patch.date.as_deref(),
            Some("Wed, 6 Mar 2024 01:02:03 -0500")
        );
        assert_eq!(with_patch.body, "Text.\n");
        let without = info("From: S <s@x>\nSubject: outer\nDate: D\n", body);
        assert_eq!(without.author.unwrap().email, "s@x");
        assert_eq!(without.subject, "outer");
        assert_eq!(without.body, "Text.\n", "in-body headers are still eaten");
    }

    #[test]
    fn bracket_patch_line_and_folded_inbody_header() {
        let i = info(
            "From: S <s@x>\nSubject: o\n",
            &format!("[PATCH] from bracket\n\nb\n{PATCH}"),
        );
        assert_eq!(i.subject, "from bracket");
        let folded = format!("Subject: long\n  folded\n\nb\n{PATCH}");
        let i = info("From: S <s@x>\nSubject: o\n", &folded);
        assert_eq!(i.subject, "long folded");
    }

    #[test]
    fn patch_breaks() {
        for yes in [
            "---\n",
            "--- \n",
            "--- a/file\n",
            "---\t \n",
            "diff -u a b\n",
            "Index: f\n",
            "--- ",
        ] {
            assert!(is_patch_break(yes.as_bytes()), "{yes:?}");
        }
        for no in [
            "--\n", "---x\n", "----\n", "---  x\n", " ---\n", "diff\n", "---",
        ] {
            assert!(!is_patch_break(no.as_bytes()), "{no:?}");
        }
    }

    #[test]
    fn scissors_only_when_asked() {
        for yes in [
            "-- >8 --\n",
            "--8<--cut here--8<--\n",
            "- - - - >8 - - - -\n",
        ] {
            assert!(is_scissors_line(yes.as_bytes()), "{yes:?}");
        }
        for no in ["-- >8\n", ">8 cut here and some more text\n", "--------\n"] {
            assert!(!is_scissors_line(no.as_bytes()), "{no:?}");
        }
        let body = format!("chatter\n-- >8 --\nSubject: real\n\nreal body\n{PATCH}");
        let mail = parse(format!("From: S <s@x>\nSubject: o\n\n{body}").as_bytes()).unwrap();
        let default = mailinfo(&mail);
        assert_eq!(
            default.body,
            "chatter\n-- >8 --\nSubject: real\n\nreal body\n"
        );
        let cut = mailinfo_with(
            &mail,
            Options {
                scissors: true,
                ..Options::default()
            },
        );
        assert_eq!(
            (cut.subject.as_str(), cut.body.as_str()),
            ("real", "real body\n")
        );
    }

    #[test]
    fn message_id_option_adds_git_am_m_line() {
        let mail = parse(
            format!("From: S <s@x>\nSubject: s\nMessage-Id: <id@x>\n\nb\n{PATCH}").as_bytes(),
        )
        .unwrap();
        let with = mailinfo_with(
            &mail,
            Options {
                message_id: true,
                ..Options::default()
            },
        );
        assert_eq!(with.commit_message(), "s\n\nb\nMessage-ID: <id@x>\n");
        assert_eq!(mailinfo(&mail).commit_message(), "s\n\nb\n");
    }

    #[test]
    fn log_is_converted_but_patch_keeps_bytes() {
        let head = "From: S <s@x>\nSubject: s\nContent-Type: text/plain; charset=iso-8859-1\n\n";
        let bytes = [
            head.as_bytes(),
            b"caf\xe9\n",
            PATCH.as_bytes(),
            b"+caf\xe9\n",
        ]
        .concat();
        let i = mailinfo(&parse(&bytes).unwrap());
        assert_eq!(i.body, "café\n");
        assert!(i.patch.ends_with(b"+caf\xe9\n"));
    }

    #[test]
    fn author_loses_ident_crud() {
        let i = info("From: \"'Quoted, Name'\" <q@x>\nSubject: s\n", PATCH);
        let a = i.author.unwrap();
        assert_eq!((a.name.as_str(), a.email.as_str()), ("Quoted, Name", "q@x"));
        assert!(info("Subject: s\n", PATCH).author.is_none());
    }

    #[test]
    fn stripspace_rules() {
        assert_eq!(stripspace(b"\n \n a \n\n\n b\r\n \n"), b" a\n\n b\n");
        assert_eq!(stripspace(b" \n\t\n"), b"");
        assert_eq!(stripspace(b"no newline"), b"no newline\n");
    }
}
