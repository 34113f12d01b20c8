//! Path names in diff headers: git's C-style quoting and its rules for finding a name
//! on `diff --git`, `---`/`+++` and `rename from` lines.

/// Decodes a C-style quoted string that starts at `s[0] == b'"'`. Returns the decoded
/// bytes and how many input bytes the quoted string used, closing quote included.
/// gix's decoder is git's (octal and named escapes, refusing others and a missing
/// closing quote); a line break inside, which git's callers never see, is refused too.
pub(crate) fn unquote_c_style(s: &[u8]) -> Option<(Vec<u8>, usize)> {
    use bstr::ByteSlice;
    if s.first() != Some(&b'"') {
        return None;
    }
    let (decoded, used) = gix_quote::ansi_c::undo(s.as_bstr()).ok()?;
    (!s[..used].contains(&b'\n')).then(|| (decoded.into_owned().into(), used))
}

/// Index just past the first `p` path components (`a/` for p = 1), or None when the name
/// has fewer components or an empty first one (git's `skip_tree_prefix`).
pub(crate) fn skip_tree_prefix(name: &[u8], p: usize) -> Option<usize> {
    if p == 0 {
        return if name.first() == Some(&b'/') {
            None
        } else {
            Some(0)
        };
    }
    let mut left = p;
    for (i, &c) in name.iter().enumerate() {
        if c == b'/' {
            left -= 1;
            if left == 0 {
                return if i == 0 { None } else { Some(i + 1) };
            }
        }
    }
    None
}

/// Collapses runs of `/` as git does for names taken from headers.
fn squash_slash(name: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len());
    for c in name {
        if c == b'/' && out.last() == Some(&b'/') {
            continue;
        }
        out.push(c);
    }
    out
}

/// Where an unquoted name ends.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Terminator {
    /// `---`/`+++` lines: a TAB starts the timestamp (git adds one after names with spaces).
    Tab,
    /// `rename from` and friends: the whole rest of the line.
    EndOfLine,
    /// The text is the name and nothing else (its timestamp was cut off already):
    /// TABs, spaces, even CRs belong to it.
    Nothing,
}

/// The name on a header line (`rest` is the text after the keyword, without newline),
/// with `p` leading components removed. None when no usable name is there.
pub(crate) fn find_name(rest: &[u8], p: usize, terminator: Terminator) -> Option<Vec<u8>> {
    if rest.first() == Some(&b'"') {
        if let Some(name) = find_quoted_name(rest, p) {
            return Some(name);
        }
    }
    // git's `find_name_common` ends a name at any white space its terminator does
    // not let through: a CR always ends it (a mail that turned line ends into CRLF
    // must not make "configure\r").
    let ends_name = |c: u8| match terminator {
        Terminator::Tab => c == b'\r' || c == b'\t',
        Terminator::EndOfLine => c == b'\r',
        Terminator::Nothing => false,
    };
    let end = rest
        .iter()
        .position(|&c| ends_name(c))
        .unwrap_or(rest.len());
    let name = &rest[..end];
    let start = strip_components(name, p)?;
    let stripped = &name[start..];
    if stripped.is_empty() {
        return None;
    }
    Some(squash_slash(stripped.to_vec()))
}

fn find_quoted_name(rest: &[u8], p: usize) -> Option<Vec<u8>> {
    let (name, _) = unquote_c_style(rest)?;
    let start = strip_components(&name, p)?;
    Some(squash_slash(name[start..].to_vec()))
}

/// Index after `p` slashes (counting each slash, like git's find_name), or None.
fn strip_components(name: &[u8], p: usize) -> Option<usize> {
    if p == 0 {
        return Some(0);
    }
    let mut left = p;
    for (i, &c) in name.iter().enumerate() {
        if c == b'/' {
            left -= 1;
            if left == 0 {
                return Some(i + 1);
            }
        }
    }
    None
}

/// The name on a traditional `---`/`+++` line, which may end with a timestamp. Also
/// says whether that timestamp is the epoch, which GNU diff uses to mark a created
/// or deleted file. As git's `find_name_traditional`: when the line ends in a
/// timestamp, everything before it is the name (TABs and spaces included);
/// otherwise the name ends at a TAB.
pub(crate) fn find_traditional_name(rest: &[u8], p: usize) -> (Option<Vec<u8>>, bool) {
    if rest.first() == Some(&b'"') {
        if let Some(name) = find_quoted_name(rest, p) {
            let after = unquote_c_style(rest).map_or(rest.len(), |(_, used)| used);
            return (Some(name), is_epoch(rest.get(after..).unwrap_or_default()));
        }
    }
    match timestamp_start(rest) {
        Some(cut) => (
            find_name(&rest[..cut], p, Terminator::Nothing),
            is_epoch(&rest[cut..]),
        ),
        None => (find_name(rest, p, Terminator::Tab), false),
    }
}

/// Where the timestamp diff tools write after a name begins (the white space
/// before it included), if the line ends in one: `YYYY-MM-DD`, optionally followed
/// by ` HH:MM:SS` (with optional fraction) and a ` +HHMM` or ` +HH:MM` zone. One TAB
/// before it is the separator; spaces instead of it (whitespace damage) all go.
fn timestamp_start(line: &[u8]) -> Option<usize> {
    if !line.last()?.is_ascii_digit() {
        return None;
    }
    let mut end = line.len();
    end -= zone_len(&line[..end]);
    end -= time_len(&line[..end]);
    let date = end.checked_sub(10)?;
    if !is_date(&line[date..end]) {
        return None;
    }
    match line[..date].last()? {
        b'\t' => Some(date - 1),
        b' ' => Some(
            line[..date]
                .iter()
                .rposition(|&c| c != b' ')
                .map_or(0, |i| i + 1),
        ),
        _ => None,
    }
}

fn digits_at(s: &[u8], at: &[usize]) -> bool {
    at.iter().all(|&i| s.get(i).is_some_and(u8::is_ascii_digit))
}

/// ` +HHMM` or ` +HH:MM` (either sign) at the end, else 0.
fn zone_len(s: &[u8]) -> usize {
    let signed = |z: &[u8]| z[0] == b' ' && matches!(z[1], b'+' | b'-');
    if s.len() >= 6 {
        let z = &s[s.len() - 6..];
        if signed(z) && digits_at(z, &[2, 3, 4, 5]) {
            return 6;
        }
    }
    if s.len() >= 7 {
        let z = &s[s.len() - 7..];
        if signed(z) && digits_at(z, &[2, 3, 5, 6]) && z[4] == b':' {
            return 7;
        }
    }
    0
}

/// ` HH:MM:SS` or ` HH:MM:SS.fraction` at the end, else 0.
fn time_len(s: &[u8]) -> usize {
    let fraction = s.iter().rev().take_while(|c| c.is_ascii_digit()).count();
    let whole = s.len() - fraction;
    let body_end = if fraction > 0 && whole > 0 && s[whole - 1] == b'.' {
        whole - 1
    } else {
        s.len()
    };
    let Some(start) = body_end.checked_sub(9) else {
        return 0;
    };
    let t = &s[start..body_end];
    let is_time = t[0] == b' ' && t[3] == b':' && t[6] == b':' && digits_at(t, &[1, 2, 4, 5, 7, 8]);
    if is_time {
        s.len() - start
    } else {
        0
    }
}

fn is_date(s: &[u8]) -> bool {
    s.len() == 10 && s[4] == b'-' && s[7] == b'-' && digits_at(s, &[0, 1, 2, 3, 5, 6, 8, 9])
}

fn is_epoch(date: &[u8]) -> bool {
    // GNU diff writes the epoch in local time: midnight UTC or the evening before.
    let date = date.trim_ascii_start();
    date.starts_with(b"1970-01-01 00:00:00") || date.starts_with(b"1969-12-31 ")
}

/// Longest line we try to split into two symmetric names; PATH_MAX twice is plenty and
/// it keeps the search below linear-times-small on hostile input.
const MAX_HEADER_NAME_LINE: usize = 8192;

/// The name from `diff --git a/<name> b/<name>` when both sides are the same name, which
/// is all this line is used for (renames carry their names on other lines). `rest` is
/// the text after `diff --git `, without newline.
pub(crate) fn git_header_name(rest: &[u8], p: usize) -> Option<Vec<u8>> {
    if rest.len() > MAX_HEADER_NAME_LINE {
        return None;
    }
    if rest.first() == Some(&b'"') {
        return name_after_quoted_first(rest, p);
    }
    let name_start = skip_tree_prefix(rest, p)?;
    let name = &rest[name_start..];
    if let Some(quote) = name.iter().position(|&c| c == b'"') {
        return name_with_quoted_second(name, quote, p);
    }
    symmetric_unquoted_name(name, p)
}

fn name_after_quoted_first(rest: &[u8], p: usize) -> Option<Vec<u8>> {
    let (first, used) = unquote_c_style(rest)?;
    let first = first[skip_tree_prefix(&first, p)?..].to_vec();
    let second = rest[used..].trim_ascii_start();
    if second.is_empty() {
        return None;
    }
    let second = if second.first() == Some(&b'"') {
        unquote_c_style(second)?.0
    } else {
        second.to_vec()
    };
    let second = &second[skip_tree_prefix(&second, p)?..];
    (second == first.as_slice()).then_some(first)
}

/// First name unquoted, second quoted: the second must be the first name followed by
/// whitespace in the line.
fn name_with_quoted_second(name: &[u8], quote: usize, p: usize) -> Option<Vec<u8>> {
    let (second, _) = unquote_c_style(&name[quote..])?;
    let second = second[skip_tree_prefix(&second, p)?..].to_vec();
    let len = second.len();
    let matches = len < quote && name[..len] == second[..] && name[len].is_ascii_whitespace();
    matches.then_some(second)
}

/// Both names unquoted: find the separator such that `<name> <prefix>/<name>`.
fn symmetric_unquoted_name(name: &[u8], p: usize) -> Option<Vec<u8>> {
    // The first slash after each candidate separator only moves forward, so one cursor
    // keeps the whole scan linear (git rescans from every space).
    let mut slash = 0;
    for (len, &c) in name.iter().enumerate() {
        if c != b' ' && c != b'\t' {
            continue;
        }
        let second_start = len + 1;
        if second_start >= name.len() {
            return None;
        }
        let start = if p == 1 {
            slash = slash.max(second_start);
            while slash < name.len() && name[slash] != b'/' {
                slash += 1;
            }
            // No slash: no later separator has one either.
            if slash >= name.len() {
                return None;
            }
            // An empty first component (the space ended a directory name, as in
            // `a/funny /empty b/funny /empty`): not this separator, as in git since
            // 2.45, which gave up here before.
            if slash == second_start {
                continue;
            }
            slash + 1
        } else {
            match skip_tree_prefix(&name[second_start..], p) {
                Some(skip) => second_start + skip,
                None => continue,
            }
        };
        if name[start..] == name[..len] {
            return Some(name[..len].to_vec());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use bstr::BString;

    #[test]
    fn unquotes_c_style_escapes() {
        let (name, used) = unquote_c_style(br#""a/t\303\251st\t\n\"\\x" rest"#).unwrap();
        assert_eq!(name, "a/t\u{e9}st\t\n\"\\x".as_bytes());
        assert_eq!(used, 24);
        assert!(unquote_c_style(br#""unterminated"#).is_none());
        assert!(unquote_c_style(br#""bad \q""#).is_none());
        assert!(unquote_c_style(br#""bad \4xx""#).is_none());
        assert_eq!(unquote_c_style(br#""\000""#).unwrap().0, vec![0]);
    }

    #[test]
    fn git_header_name_handles_spaces_and_quotes() {
        assert_eq!(git_header_name(b"a/x y b/x y", 1).unwrap(), b"x y");
        assert_eq!(git_header_name(b"a/dir/f b/dir/f", 1).unwrap(), b"dir/f");
        assert_eq!(
            git_header_name(br#""a/t\303\251st" "b/t\303\251st""#, 1).unwrap(),
            "t\u{e9}st".as_bytes()
        );
        assert_eq!(git_header_name(br#"a/x "b/x""#, 1).unwrap(), b"x");
        assert!(git_header_name(b"a/old b/new", 1).is_none());
        assert!(git_header_name(b"a/x", 1).is_none());
        assert!(git_header_name(b"", 1).is_none());
    }

    #[test]
    fn find_name_strips_prefix_and_timestamp() {
        assert_eq!(find_name(b"a/x y\t", 1, Terminator::Tab).unwrap(), b"x y");
        assert_eq!(
            find_name(b"a/dir//f", 1, Terminator::Tab).unwrap(),
            b"dir/f"
        );
        assert_eq!(
            find_name(br#""b/sp\"q""#, 1, Terminator::Tab).unwrap(),
            b"sp\"q"
        );
        assert_eq!(
            find_name(b"old name", 0, Terminator::EndOfLine).unwrap(),
            b"old name"
        );
        assert!(find_name(b"noslash", 1, Terminator::Tab).is_none());
        let (name, epoch) = find_traditional_name(b"a/f.c 2002-02-21 23:30:39.942229878 -0800", 1);
        assert_eq!(name.unwrap(), b"f.c");
        assert!(!epoch);
        let (name, epoch) = find_traditional_name(b"b/new\t1970-01-01 00:00:00.000000000 +0000", 1);
        assert_eq!(name.unwrap(), b"new");
        assert!(epoch);
    }

    #[test]
    fn traditional_names_keep_tabs_and_lose_the_spaces_before_a_timestamp() {
        let name = |line: &[u8]| find_traditional_name(line, 1).0.map(BString::from);
        let some = |s: &str| Some(BString::from(s));
        assert_eq!(
            name(b"a/t\tab.c\t2023-11-14 10:00:00 +0100"),
            some("t\tab.c")
        );
        assert_eq!(name(b"a/f.c    2023-11-14 10:00:00.5 +01:00"), some("f.c"));
        assert_eq!(name(b"a/sp ace.c\t2023-11-14"), some("sp ace.c"));
        assert_eq!(name(b"a/f.c\t(revision 12)"), some("f.c"));
        assert_eq!(name(b"a/f.c\r"), some("f.c"));
        assert_eq!(name(b"a/f.c 2023-11-14x"), some("f.c 2023-11-14x"));
        assert_eq!(
            name(b"a/f2023-11-14"),
            some("f2023-11-14"),
            "no space before the date"
        );
    }

    #[test]
    fn symmetric_split_is_linear_on_hostile_lines() {
        let mut line = b"a/".to_vec();
        line.extend(std::iter::repeat_n(b' ', 8000));
        line.extend_from_slice(b"/x");
        let start = std::time::Instant::now();
        assert!(git_header_name(&line, 1).is_none());
        assert!(start.elapsed().as_millis() < 500);
    }

    #[test]
    fn skip_tree_prefix_rejects_empty_component() {
        assert_eq!(skip_tree_prefix(b"a/b", 1), Some(2));
        assert_eq!(skip_tree_prefix(b"/b", 1), None);
        assert_eq!(skip_tree_prefix(b"ab", 1), None);
    }
}
