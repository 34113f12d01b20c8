//! Mail `Date:` headers read as git mailinfo reads them.

/// Parses a mail `Date:` header (RFC 2822, and the other forms git accepts) into
/// seconds since the epoch and the offset it was written in. Not
/// `mailparse::dateparse`, which loses the offset that the author line keeps.
/// `None` also where the date is out of git's range (see `repo::in_git_range`): git
/// am stops there with "invalid date format", and such a date would fail `git fsck`.
pub fn parse_date(value: &str) -> Option<(i64, i32)> {
    let parse = |v: &str| crate::repo::parse_git_date(&numeric_zone(v.trim()));
    parse(value)
        .or_else(|| parse(&without_stray_punctuation(value)))
        .filter(|&(seconds, offset)| crate::repo::in_git_range(seconds, offset))
}

/// git's date parser skips punctuation it has no use for, gix's does not: a time
/// cut short after its colon (`17:50:`, as in a `Date:` that a NUL byte ended) or
/// a date followed by `;` or `,`. Such colons and trailing marks are dropped.
fn without_stray_punctuation(value: &str) -> String {
    let value = value.trim_end_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace());
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        let next_is_digit = chars.peek().is_some_and(char::is_ascii_digit);
        if c != ':' || next_is_digit {
            out.push(c);
        }
    }
    out
}

/// Zone names git's date parser knows besides RFC 2822's (which gix reads), with
/// the offsets git gives them (`tests/mailparse_oracle.rs` checks each with git).
const GIT_ZONE_NAMES: &[(&str, &str)] = &[
    ("IDLW", "-1200"),
    ("NT", "-1100"),
    ("CAT", "-1000"),
    ("HST", "-1000"),
    ("HDT", "-0900"),
    ("YST", "-0900"),
    ("YDT", "-0800"),
    ("AST", "-0300"),
    ("ADT", "-0200"),
    ("WAT", "-0100"),
    ("BST", "+0100"),
    ("CET", "+0100"),
    ("MET", "+0100"),
    ("MEWT", "+0100"),
    ("FWT", "+0100"),
    ("MEST", "+0200"),
    ("CEST", "+0200"),
    ("MESZ", "+0200"),
    ("FST", "+0200"),
    ("EET", "+0200"),
    ("EEST", "+0300"),
    ("WAST", "+0700"),
    ("WADT", "+0800"),
    ("CCT", "+0800"),
    ("JST", "+0900"),
    ("EAST", "+1000"),
    ("GST", "+1000"),
    ("EADT", "+1100"),
    ("NZT", "+1200"),
    ("NZST", "+1200"),
    ("IDLE", "+1200"),
    ("NZDT", "+1300"),
];

/// The date with its zone as git reads it, in a form gix reads the same way: a zone
/// name of git's table becomes its offset, and a numeric offset out of range
/// (`+2400`), which git ignores, becomes `+0000` (git would use the local zone; a
/// date without zone is read as UTC here, see `flow::apply`).
fn numeric_zone(value: &str) -> std::borrow::Cow<'_, str> {
    let Some((head, zone)) = value.rsplit_once(' ') else {
        return value.into();
    };
    if let Some((_, offset)) = GIT_ZONE_NAMES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(zone))
    {
        return format!("{head} {offset}").into();
    }
    let digits = zone.strip_prefix(['+', '-']).filter(|d| d.len() == 4);
    match digits.and_then(|d| Some((d[..2].parse::<u32>().ok()?, d[2..].parse::<u32>().ok()?))) {
        Some((hours, minutes)) if hours >= 24 || minutes >= 60 => format!("{head} +0000").into(),
        _ => value.into(),
    }
}
