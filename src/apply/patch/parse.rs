//! Patch text to [`FilePatch`]es, following the structure of git's apply.c: find a
//! header (`diff --git` or `---`/`+++`), read its extended header lines, then its hunks
//! or binary data, then skip whatever follows until the next header.

use std::sync::Arc;

use bstr::BString;

use super::lines::Kind;
use super::quote::{find_name, find_traditional_name, git_header_name, Terminator};
use super::{
    binary, Binary, BinaryData, Body, FileMode, FilePatch, Hunk, HunkLines, Operation, ParseError,
};

/// Leading path components to strip (`a/`, `b/`), like `git apply -p1`.
const P_VALUE: usize = 1;

/// What the header lines say, before it is turned into a [`FilePatch`].
#[derive(Default)]
struct Header {
    /// Index of the first header line.
    first: usize,
    /// Name from a symmetric `diff --git a/x b/x` line.
    def_name: Option<Vec<u8>>,
    old_name: Option<Vec<u8>>,
    new_name: Option<Vec<u8>>,
    is_new: bool,
    is_delete: bool,
    is_rename: bool,
    is_copy: bool,
    old_mode: Option<FileMode>,
    new_mode: Option<FileMode>,
    /// `old mode`/`new mode` lines were present (a metadata change even if equal).
    mode_lines: bool,
    /// A traditional header naming no `/dev/null`: creation or change, as git decides
    /// from the hunks and the tree.
    traditional_maybe_new: bool,
    index_mode: Option<FileMode>,
    old_oid: Option<String>,
    new_oid: Option<String>,
}

/// The `-p` level for traditional diffs: 1 until the first of them shows names
/// without any slash, which makes it 0 for the rest of the patch (git apply's
/// `guess_p_value`: `--- file.orig` / `+++ file`, svn's `Index:` diffs). git would
/// also use a guessed 0 for a `diff --git` later in the same mail; git never writes
/// names without its prefixes there, so those keep 1.
#[derive(Clone, Copy)]
struct TraditionalP {
    p: usize,
    known: bool,
}

pub(crate) fn parse(source: &Arc<Vec<u8>>) -> Result<Vec<FilePatch>, ParseError> {
    let lines: Vec<&[u8]> = source.split_inclusive(|&c| c == b'\n').collect();
    let mut patches = Vec::new();
    let mut next = 0;
    let mut p = TraditionalP {
        p: P_VALUE,
        known: false,
    };
    while let Some((header, body_start)) = find_header(&lines, next, &mut p)? {
        let (body, after) = parse_body(source, &lines, body_start, &header)?;
        patches.push(into_file_patch(header, body)?);
        next = after;
    }
    Ok(patches)
}

/// The line without its newline.
fn text(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\n").unwrap_or(line)
}

/// 1-based patch line number of line index `i`.
fn line_no(i: usize) -> usize {
    i + 1
}

/// Finds the next patch header at or after `from`; returns it and where its body starts.
fn find_header(
    lines: &[&[u8]],
    from: usize,
    p: &mut TraditionalP,
) -> Result<Option<(Header, usize)>, ParseError> {
    let mut i = from;
    while let Some(&line) = lines.get(i) {
        // git ignores lines this short; no header fits in them.
        if line.len() < 6 {
            i += 1;
            continue;
        }
        if line.starts_with(b"@@ -") && parse_hunk_header(text(line)).is_some() {
            return Err(ParseError::at(line_no(i), "patch fragment without header"));
        }
        if i + 1 >= lines.len() {
            break;
        }
        if line.starts_with(b"diff --git ") {
            let (header, end) = parse_git_header(lines, i)?;
            // A bare `diff --git` line without any header line is not a patch (git).
            if end == i + 1 {
                i += 1;
                continue;
            }
            return Ok(Some((header, end)));
        }
        if is_traditional_start(lines, i) {
            return Ok(Some((parse_traditional_header(lines, i, p)?, i + 2)));
        }
        i += 1;
    }
    Ok(None)
}

fn is_traditional_start(lines: &[&[u8]], i: usize) -> bool {
    let starts = |j: usize, prefix: &[u8]| lines.get(j).is_some_and(|l| l.starts_with(prefix));
    starts(i, b"--- ") && starts(i + 1, b"+++ ") && starts(i + 2, b"@@ -")
}

fn parse_git_header(lines: &[&[u8]], first: usize) -> Result<(Header, usize), ParseError> {
    let mut header = Header {
        first,
        def_name: git_header_name(&text(lines[first])[b"diff --git ".len()..], P_VALUE),
        ..Header::default()
    };
    let mut i = first + 1;
    while let Some(&line) = lines.get(i) {
        let line = text(line);
        if line.starts_with(b"@@ -") || !apply_extended_header(&mut header, line, line_no(i))? {
            break;
        }
        i += 1;
    }
    if header.old_name.is_none() && header.new_name.is_none() {
        let Some(name) = header.def_name.clone() else {
            return Err(ParseError::at(
                line_no(first),
                "git diff header lacks filename information",
            ));
        };
        header.old_name = Some(name.clone());
        header.new_name = Some(name);
    }
    if (header.new_name.is_none() && !header.is_delete)
        || (header.old_name.is_none() && !header.is_new)
    {
        return Err(ParseError::at(
            line_no(first),
            "git diff header lacks filename information",
        ));
    }
    Ok((header, i))
}

/// Applies one extended header line; Ok(false) when the line is not a header line (it
/// ends the header, as in git).
fn apply_extended_header(h: &mut Header, line: &[u8], line_no: usize) -> Result<bool, ParseError> {
    if let Some(rest) = line.strip_prefix(b"--- ") {
        verify_name(&mut h.old_name, rest, h.is_new, line_no, "old")?;
    } else if let Some(rest) = line.strip_prefix(b"+++ ") {
        verify_name(&mut h.new_name, rest, h.is_delete, line_no, "new")?;
    } else if let Some(rest) = line.strip_prefix(b"old mode ") {
        h.old_mode = Some(parse_mode(rest, line_no)?);
        h.mode_lines = true;
    } else if let Some(rest) = line.strip_prefix(b"new mode ") {
        h.new_mode = Some(parse_mode(rest, line_no)?);
        h.mode_lines = true;
    } else if let Some(rest) = line.strip_prefix(b"deleted file mode ") {
        h.is_delete = true;
        h.old_name = h.def_name.clone();
        h.old_mode = Some(parse_mode(rest, line_no)?);
    } else if let Some(rest) = line.strip_prefix(b"new file mode ") {
        h.is_new = true;
        h.new_name = h.def_name.clone();
        h.new_mode = Some(parse_mode(rest, line_no)?);
    } else if let Some(rest) = line.strip_prefix(b"copy from ") {
        h.is_copy = true;
        h.old_name = metadata_name(rest);
    } else if let Some(rest) = line.strip_prefix(b"copy to ") {
        h.is_copy = true;
        h.new_name = metadata_name(rest);
    } else if let Some(rest) = line
        .strip_prefix(b"rename from ")
        .or_else(|| line.strip_prefix(b"rename old "))
    {
        h.is_rename = true;
        h.old_name = metadata_name(rest);
    } else if let Some(rest) = line
        .strip_prefix(b"rename to ")
        .or_else(|| line.strip_prefix(b"rename new "))
    {
        h.is_rename = true;
        h.new_name = metadata_name(rest);
    } else if line.starts_with(b"similarity index ") || line.starts_with(b"dissimilarity index ") {
        // The score only matters for display.
    } else if let Some(rest) = line.strip_prefix(b"index ") {
        parse_index_line(h, rest, line_no)?;
    } else {
        return Ok(false);
    }
    Ok(true)
}

/// Names on `rename from`/`copy to` lines have no `a/` prefix and run to the end of line.
fn metadata_name(rest: &[u8]) -> Option<Vec<u8>> {
    find_name(rest, P_VALUE - 1, Terminator::EndOfLine)
}

fn is_dev_null(rest: &[u8]) -> bool {
    rest.strip_prefix(b"/dev/null")
        .is_some_and(|tail| tail.first().is_none_or(u8::is_ascii_whitespace))
}

/// `---`/`+++` inside a git header must agree with what the other lines said.
fn verify_name(
    slot: &mut Option<Vec<u8>>,
    rest: &[u8],
    expect_null: bool,
    line_no: usize,
    side: &str,
) -> Result<(), ParseError> {
    match slot {
        None if !expect_null => *slot = find_name(rest, P_VALUE, Terminator::Tab),
        None if !is_dev_null(rest) => {
            return Err(ParseError::at(line_no, "bad git diff: expected /dev/null"))
        }
        None => {}
        Some(_) if expect_null => {
            return Err(ParseError::at(line_no, "bad git diff: expected /dev/null"))
        }
        Some(name) if find_name(rest, P_VALUE, Terminator::Tab).as_ref() != Some(name) => {
            return Err(ParseError::at(
                line_no,
                format!("bad git diff: inconsistent {side} filename"),
            ));
        }
        Some(_) => {}
    }
    Ok(())
}

fn parse_mode(rest: &[u8], line_no: usize) -> Result<FileMode, ParseError> {
    let digits = rest
        .iter()
        .take_while(|c| (b'0'..=b'7').contains(c))
        .count();
    let valid_end = rest.get(digits).is_none_or(u8::is_ascii_whitespace);
    let invalid = || ParseError::at(line_no, format!("invalid mode {:?}", BString::from(rest)));
    if digits == 0 || digits > 7 || !valid_end {
        return Err(invalid());
    }
    let mode = rest[..digits]
        .iter()
        .fold(0u32, |acc, &d| acc * 8 + u32::from(d - b'0'));
    FileMode::from_octal(mode).ok_or_else(invalid)
}

/// `index <old>..<new>[ <mode>]`. Like git, a malformed line is ignored rather than fatal.
fn parse_index_line(h: &mut Header, rest: &[u8], line_no: usize) -> Result<(), ParseError> {
    const MAX_HEX: usize = 64;
    let Some(dot) = rest.iter().position(|&c| c == b'.') else {
        return Ok(());
    };
    if rest.get(dot + 1) != Some(&b'.') || dot > MAX_HEX {
        return Ok(());
    }
    let after = &rest[dot + 2..];
    let new_end = after.iter().position(|&c| c == b' ').unwrap_or(after.len());
    if new_end > MAX_HEX {
        return Ok(());
    }
    h.old_oid = hex_id(&rest[..dot]);
    h.new_oid = hex_id(&after[..new_end]);
    if let Some(mode) = after.get(new_end + 1..) {
        h.index_mode = Some(parse_mode(mode, line_no)?);
    }
    Ok(())
}

fn hex_id(text: &[u8]) -> Option<String> {
    let valid = !text.is_empty() && text.iter().all(u8::is_ascii_hexdigit);
    valid.then(|| String::from_utf8_lossy(text).into_owned())
}

fn parse_traditional_header(
    lines: &[&[u8]],
    first: usize,
    p: &mut TraditionalP,
) -> Result<Header, ParseError> {
    let old_rest = &text(lines[first])[4..];
    let new_rest = &text(lines[first + 1])[4..];
    if !p.known {
        let guess = match (guess_p(old_rest), guess_p(new_rest)) {
            (None, q) => q,
            (p, q) if p == q => p,
            _ => None,
        };
        if let Some(guessed) = guess {
            *p = TraditionalP {
                p: guessed,
                known: true,
            };
        }
    }
    let (old_name, old_epoch) = find_traditional_name(old_rest, p.p);
    let (new_name, new_epoch) = find_traditional_name(new_rest, p.p);
    let mut header = Header {
        first,
        ..Header::default()
    };
    if is_dev_null(old_rest) || old_epoch {
        header.is_new = true;
        header.new_name = new_name;
    } else if is_dev_null(new_rest) || new_epoch {
        header.is_delete = true;
        header.old_name = old_name;
    } else {
        // Like git, prefer the shorter name when the other only adds a suffix
        // ("file.orig", "file~").
        let name = match (old_name, new_name) {
            (Some(old), Some(new)) if new.len() > old.len() && new.starts_with(&old) => Some(old),
            (old, new) => new.or(old),
        };
        header.old_name = name.clone();
        header.new_name = name;
        header.traditional_maybe_new = true;
    }
    if header.old_name.is_none() && header.new_name.is_none() {
        return Err(ParseError::at(
            line_no(first),
            "unable to find filename in patch",
        ));
    }
    Ok(header)
}

/// git apply's `guess_p_value` without a prefix: a name with no slash at all can
/// only be meant with `-p0`; anything else says nothing.
fn guess_p(rest: &[u8]) -> Option<usize> {
    if is_dev_null(rest) {
        return None;
    }
    let name = find_traditional_name(rest, 0).0?;
    (!name.contains(&b'/')).then_some(0)
}

/// Hunks, binary data, or nothing (metadata-only patches); returns where parsing resumes.
fn parse_body(
    source: &Arc<Vec<u8>>,
    lines: &[&[u8]],
    start: usize,
    header: &Header,
) -> Result<(Body, usize), ParseError> {
    let mut hunks = Vec::new();
    let mut i = start;
    while lines.get(i).is_some_and(|l| l.starts_with(b"@@ -")) {
        let (hunk, next) = parse_hunk(source, lines, i)?;
        hunks.push(hunk);
        i = next;
    }
    if !hunks.is_empty() {
        check_hunks_against_header(&hunks, header)?;
        return Ok((Body::Text(hunks), i));
    }
    if let Some(&line) = lines.get(i) {
        let line = text(line);
        if line == b"GIT binary patch" {
            return parse_binary(lines, i);
        }
        let says_differ = line.ends_with(b" differ")
            && (line.starts_with(b"Binary files ") || line.starts_with(b"Files "));
        if says_differ {
            let binary = Binary {
                forward: BinaryData::Missing,
                reverse: None,
            };
            return Ok((Body::Binary(binary), i + 1));
        }
    }
    if !has_metadata_change(header) {
        return Err(ParseError::at(line_no(i), "patch with only garbage"));
    }
    Ok((Body::None, i))
}

fn has_metadata_change(h: &Header) -> bool {
    h.is_new || h.is_delete || h.is_rename || h.is_copy || h.mode_lines
}

fn check_hunks_against_header(hunks: &[Hunk], header: &Header) -> Result<(), ParseError> {
    let first_hunk_line = hunks.first().map_or(0, |h| h.header_line);
    if header.is_new && hunks.iter().any(|h| h.old_lines > 0) {
        return Err(ParseError::at(
            first_hunk_line,
            "new file depends on old contents",
        ));
    }
    if header.is_delete && hunks.iter().any(|h| h.new_lines > 0) {
        return Err(ParseError::at(
            first_hunk_line,
            "deleted file still has contents",
        ));
    }
    Ok(())
}

fn parse_binary(lines: &[&[u8]], marker: usize) -> Result<(Body, usize), ParseError> {
    let Some((forward, next)) = binary::parse_hunk(lines, marker + 1, 1)? else {
        return Err(ParseError::at(line_no(marker), "unrecognized binary patch"));
    };
    // The reverse hunk is optional; a corrupt one is still an error, as in git.
    let (reverse, next) = match binary::parse_hunk(lines, next, 1)? {
        Some((reverse, after)) => (Some(reverse), after),
        None => (None, next),
    };
    Ok((Body::Binary(Binary { forward, reverse }), next))
}

/// Numbers in `@@ -a,b +c,d @@`.
struct HunkHeader {
    old_start: usize,
    old_lines: usize,
    new_start: usize,
    new_lines: usize,
    /// Length of the `@@ ... @@` part.
    len: usize,
}

fn parse_hunk_header(line: &[u8]) -> Option<HunkHeader> {
    let (old_start, old_lines, pos) = parse_range(line, 4, b" +")?;
    let (new_start, new_lines, len) = parse_range(line, pos, b" @@")?;
    Some(HunkHeader {
        old_start,
        old_lines,
        new_start,
        new_lines,
        len,
    })
}

/// `start[,count]` at `pos` followed by `expect`; the count defaults to 1.
fn parse_range(line: &[u8], pos: usize, expect: &[u8]) -> Option<(usize, usize, usize)> {
    let (start, mut pos) = parse_number(line, pos)?;
    let mut count = 1;
    if line.get(pos) == Some(&b',') {
        (count, pos) = parse_number(line, pos + 1)?;
    }
    let end = pos + expect.len();
    (line.get(pos..end)? == expect).then_some((start, count, end))
}

fn parse_number(line: &[u8], pos: usize) -> Option<(usize, usize)> {
    let digits = line
        .get(pos..)?
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if digits == 0 {
        return None;
    }
    let value = line[pos..pos + digits].iter().try_fold(0usize, |acc, &d| {
        acc.checked_mul(10)?.checked_add(usize::from(d - b'0'))
    })?;
    Some((value, pos + digits))
}

/// Reads the hunk whose header is `lines[at]`. The header's counts say where it ends;
/// they are only decremented against real lines, so a lying count costs nothing.
/// `lines` are the lines of `source`.
fn parse_hunk(
    source: &Arc<Vec<u8>>,
    lines: &[&[u8]],
    at: usize,
) -> Result<(Hunk, usize), ParseError> {
    let header_text = text(lines[at]);
    let corrupt = |i: usize| ParseError::at(line_no(i), "corrupt patch");
    let numbers = parse_hunk_header(header_text).ok_or_else(|| corrupt(at))?;
    let mut old_left = numbers.old_lines;
    let mut new_left = numbers.new_lines;
    let mut hunk_lines = HunkLines::new(source.clone());
    let mut changes = false;
    let mut i = at + 1;
    while old_left > 0 || new_left > 0 {
        let Some(&raw) = lines.get(i) else {
            return Err(ParseError::at(
                line_no(i),
                "corrupt patch: hunk is truncated",
            ));
        };
        match raw.first() {
            Some(b' ' | b'\n') => {
                old_left = old_left.checked_sub(1).ok_or_else(|| corrupt(i))?;
                new_left = new_left.checked_sub(1).ok_or_else(|| corrupt(i))?;
                push_line(&mut hunk_lines, Kind::Context, raw, line_no(i))?;
            }
            Some(b'-') => {
                old_left = old_left.checked_sub(1).ok_or_else(|| corrupt(i))?;
                push_line(&mut hunk_lines, Kind::Remove, raw, line_no(i))?;
                changes = true;
            }
            Some(b'+') => {
                new_left = new_left.checked_sub(1).ok_or_else(|| corrupt(i))?;
                push_line(&mut hunk_lines, Kind::Add, raw, line_no(i))?;
                changes = true;
            }
            Some(b'\\') if is_no_newline_marker(raw) => hunk_lines.drop_last_newline(),
            _ => return Err(corrupt(i)),
        }
        i += 1;
    }
    if !changes {
        return Err(corrupt(at));
    }
    // The marker after the hunk's last line comes after its counts ran out.
    if lines.get(i).is_some_and(|l| is_no_newline_marker(l)) {
        hunk_lines.drop_last_newline();
        i += 1;
    }
    let hunk = Hunk {
        old_start: numbers.old_start,
        old_lines: numbers.old_lines,
        new_start: numbers.new_start,
        new_lines: numbers.new_lines,
        header_line: line_no(at),
        header: BString::from(&header_text[..numbers.len]),
        lines: hunk_lines,
    };
    Ok((hunk, i))
}

/// Adds a hunk line, without its marker byte. An empty line is an empty context
/// line (some mailers strip the trailing space).
fn push_line(lines: &mut HunkLines, kind: Kind, raw: &[u8], line: usize) -> Result<(), ParseError> {
    let content = if raw == b"\n" {
        raw
    } else {
        raw.get(1..).unwrap_or_default()
    };
    lines.push_slice(kind, content).map_err(|_| {
        ParseError::at(
            line,
            format!("line longer than {} bytes", super::lines::MAX_LINE),
        )
    })
}

/// `\ No newline at end of file`, in whatever language: git only checks the start and
/// that it is at least 12 bytes long.
fn is_no_newline_marker(line: &[u8]) -> bool {
    line.starts_with(b"\\ ") && line.len() >= 12
}

fn into_file_patch(h: Header, body: Body) -> Result<FilePatch, ParseError> {
    let operation = if h.is_new {
        Operation::Create
    } else if h.is_delete {
        Operation::Delete
    } else if h.is_rename {
        Operation::Rename
    } else if h.is_copy {
        Operation::Copy
    } else {
        Operation::Modify
    };
    let header_line = line_no(h.first);
    // git apply's `is_new < 0` left so by parse_single_patch: no old lines, one hunk.
    let maybe_new = h.traditional_maybe_new
        && matches!(&body, Body::Text(hunks) if matches!(hunks.as_slice(), [hunk] if hunk.old_lines == 0));
    let old_path = if h.is_new {
        None
    } else {
        checked_path(h.old_name, header_line)?
    };
    let new_path = if h.is_delete {
        None
    } else {
        checked_path(h.new_name, header_line)?
    };
    // A mode on the index line means "unchanged"; explicit lines take precedence.
    let old_mode = if h.is_new {
        None
    } else {
        h.old_mode.or(h.index_mode)
    };
    let new_mode = if h.is_delete {
        None
    } else {
        h.new_mode.or(h.index_mode)
    };
    Ok(FilePatch {
        operation,
        old_path,
        new_path,
        old_mode,
        new_mode,
        old_oid: h.old_oid,
        new_oid: h.new_oid,
        body,
        header_line,
        maybe_new,
    })
}

fn checked_path(name: Option<Vec<u8>>, header_line: usize) -> Result<Option<BString>, ParseError> {
    let Some(name) = name else { return Ok(None) };
    if name.contains(&0) {
        return Err(ParseError::at(header_line, "path name contains NUL"));
    }
    if name.is_empty() {
        return Err(ParseError::at(header_line, "empty path name"));
    }
    Ok(Some(BString::from(name)))
}
