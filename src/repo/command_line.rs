//! `git -c key=value`: git hands its `-c` options to a subcommand in
//! `GIT_CONFIG_PARAMETERS`, which gix does not read (it reads `GIT_CONFIG_COUNT` and
//! `GIT_CONFIG_KEY_<n>`/`GIT_CONFIG_VALUE_<n>`). This reads the variable as git's
//! config.c does, in both forms git has written: `'key=value'` (before 2.31) and
//! `'key'='value'`, each single-quoted as git's quote.c does, entries separated by
//! white space. Values are taken as they are (no config-file quoting), as git does.

use bstr::{BString, ByteSlice};

/// The environment variable git puts its `-c` options in.
pub const VARIABLE: &str = "GIT_CONFIG_PARAMETERS";

/// One `-c` option: the key as given (`section[.subsection].name`) and its value,
/// `None` for a bare key (`git -c key`), which reads as boolean true.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub section: String,
    pub subsection: Option<BString>,
    pub name: String,
    pub value: Option<BString>,
}

/// What git would say of the variable, and which entry it stumbled on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParameterError {
    #[error("bogus format in {VARIABLE}")]
    Format,
    #[error("bogus config parameter in {VARIABLE}: {0}")]
    Parameter(String),
    #[error("key does not contain a section: {0} (in {VARIABLE})")]
    NoSection(String),
    #[error("key does not contain variable name: {0} (in {VARIABLE})")]
    NoName(String),
    #[error("invalid key: {0} (in {VARIABLE})")]
    InvalidKey(String),
}

/// All `-c` options in `text`, in the order given (the last one of a key wins).
pub fn parse(text: &[u8]) -> Result<Vec<Parameter>, ParameterError> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (key, after) = sq_dequote_step(rest).ok_or(ParameterError::Format)?;
        rest = match after.first() {
            // Old style: `'key=value'`, one quoted word.
            None => {
                out.push(old_style(&key)?);
                after
            }
            Some(c) if c.is_ascii_whitespace() => {
                out.push(old_style(&key)?);
                after
            }
            // New style: `'key'='value'`, or `'key'=` for a bare key.
            Some(b'=') => {
                let after = &after[1..];
                let (value, after) = match after.first() {
                    Some(b'\'') => {
                        let (value, after) =
                            sq_dequote_step(after).ok_or(ParameterError::Format)?;
                        if after.first().is_some_and(|c| !c.is_ascii_whitespace()) {
                            return Err(ParameterError::Format);
                        }
                        (Some(value), after)
                    }
                    None => (None, after),
                    Some(c) if c.is_ascii_whitespace() => (None, after),
                    Some(_) => return Err(ParameterError::Format),
                };
                out.push(split_key(&key, value)?);
                after
            }
            Some(_) => return Err(ParameterError::Format),
        };
        rest = rest.trim_start_with(|c| c.is_ascii_whitespace());
    }
    Ok(out)
}

/// One single-quoted word at the start of `text`, and what follows it: `'a'\''b'`
/// is `a'b` (a backslashed `'` or `!` between two quoted parts, as git's `sq_quote`
/// writes them); `None` when `text` does not start with a complete quoted word.
fn sq_dequote_step(text: &[u8]) -> Option<(BString, &[u8])> {
    let mut rest = text.strip_prefix(b"'")?;
    let mut word = BString::default();
    loop {
        let end = rest.find_byte(b'\'')?;
        word.extend_from_slice(&rest[..end]);
        rest = &rest[end + 1..];
        match rest {
            [b'\\', c @ (b'\'' | b'!'), b'\'', after @ ..] => {
                word.push(*c);
                rest = after;
            }
            _ => return Some((word, rest)),
        }
    }
}

/// `key=value` split at its first `=` (a value is more likely to hold one than a
/// subsection, as git reasons); without `=`, a bare key. The key is trimmed, the value
/// kept as it is.
fn old_style(text: &[u8]) -> Result<Parameter, ParameterError> {
    let (key, value) = match text.find_byte(b'=') {
        Some(eq) => (&text[..eq], Some(BString::from(&text[eq + 1..]))),
        None => (text, None),
    };
    let key = key.trim();
    if key.is_empty() {
        return Err(ParameterError::Parameter(text.to_str_lossy().into_owned()));
    }
    split_key(key, value)
}

/// `section.name` or `section.sub.section.name`, checked as git's
/// `git_config_parse_key` does: section and name of letters, digits and `-`, the
/// name starting with a letter; the subsection may hold anything but a newline.
fn split_key(key: &[u8], value: Option<BString>) -> Result<Parameter, ParameterError> {
    let shown = || key.to_str_lossy().into_owned();
    let first_dot = key.find_byte(b'.');
    let last_dot = key.rfind_byte(b'.');
    let (Some(first_dot), Some(last_dot)) = (first_dot, last_dot) else {
        return Err(ParameterError::NoSection(shown()));
    };
    if first_dot == 0 {
        return Err(ParameterError::NoSection(shown()));
    }
    let section = &key[..first_dot];
    let name = &key[last_dot + 1..];
    if name.is_empty() {
        return Err(ParameterError::NoName(shown()));
    }
    let word = |w: &[u8]| w.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-');
    if !word(section) || !word(name) || !name[0].is_ascii_alphabetic() {
        return Err(ParameterError::InvalidKey(shown()));
    }
    let subsection = (first_dot != last_dot).then(|| BString::from(&key[first_dot + 1..last_dot]));
    if subsection.as_ref().is_some_and(|s| s.contains(&b'\n')) {
        return Err(ParameterError::InvalidKey(shown()));
    }
    Ok(Parameter {
        section: section.to_str_lossy().into_owned(),
        subsection,
        name: name.to_str_lossy().into_owned(),
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(section: &str, sub: Option<&str>, name: &str, value: Option<&str>) -> Parameter {
        Parameter {
            section: section.into(),
            subsection: sub.map(Into::into),
            name: name.into(),
            value: value.map(Into::into),
        }
    }

    #[test]
    fn both_forms_git_writes() {
        let text = br#"'patchew.tagPrefix'='x y' 'core.bare=false' 'a.b'= 'c.D' 'r.o.r/x=y.url'='it'\''s'"#;
        assert_eq!(
            parse(text).unwrap(),
            [
                p("patchew", None, "tagPrefix", Some("x y")),
                p("core", None, "bare", Some("false")),
                p("a", None, "b", None),
                p("c", None, "D", None),
                p("r", Some("o.r/x=y"), "url", Some("it's")),
            ]
        );
    }

    #[test]
    fn values_keep_their_spaces_quotes_and_equals() {
        let text = br#"'x.y'='  a "b" \c = d  '"#;
        assert_eq!(
            parse(text).unwrap()[0].value.as_ref().unwrap(),
            r#"  a "b" \c = d  "#
        );
        assert_eq!(
            parse(b"' x.y = v '").unwrap()[0],
            p("x", None, "y", Some(" v ")),
            "old style: the key is trimmed, the value is not"
        );
        assert_eq!(parse(b"'x.y='").unwrap()[0], p("x", None, "y", Some("")));
        assert_eq!(
            parse(br"'a.b'='\!'\!''").unwrap()[0],
            p("a", None, "b", Some(r"\!!"))
        );
    }

    #[test]
    fn what_git_calls_bogus() {
        use ParameterError::*;
        for (text, err) in [
            (&b"x.y=1"[..], Format),
            (b"'x.y=1", Format),
            (b"'x.y'='1'z", Format),
            (b"'x.y'=1", Format),
            (b"'x.y'x", Format),
            (b" 'x.y=1'", Format),
            (b"'=1'", Parameter("=1".into())),
            (b"'xy=1'", NoSection("xy".into())),
            (b"'.xy=1'", NoSection(".xy".into())),
            (b"'x.=1'", NoName("x.".into())),
            (b"'x_y.z=1'", InvalidKey("x_y.z".into())),
            (b"'x.1z=1'", InvalidKey("x.1z".into())),
        ] {
            assert_eq!(parse(text), Err(err), "{}", text.as_bstr());
        }
        assert_eq!(parse(b"").unwrap(), []);
        assert_eq!(parse(b"'a.b=1'  ").unwrap().len(), 1);
    }
}
