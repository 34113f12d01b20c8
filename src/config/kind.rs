//! What a config key is: its name, the kind of value it holds, its default and its
//! meaning, as typed data. [`Settings::load`](super::Settings::load) reads each key
//! through its definition (the default it falls back on is the one the
//! definition holds), and `cmd::help` renders the same definitions for `--help`, the
//! man page and README.md: a default cannot be documented as one value and loaded
//! as another. (The shape is ripgrep's flag definitions, which feed its parser, its
//! man page and its completions alike.)
//!
//! Every value is read through the repo module's accessors, so that it is read as
//! git reads it (`git config --type=bool`, `--type=int`).

use std::marker::PhantomData;
use std::time::Duration;

use crate::repo::{ConfigError, Repo};

/// One kind of value: how it is read from git's config, and how a default of it is
/// written in the documentation.
pub trait Kind {
    /// What the loader hands out.
    type Value;
    /// A default as the table writes it (a `const` value; [`std::convert::Infallible`]
    /// for kinds no key gives a default).
    type Default: Copy + Send + Sync + 'static;
    /// The kind's name in the documentation.
    const NAME: &'static str;
    /// What a value of this kind may be, for the documentation (backquotes mark
    /// literals).
    const ACCEPTS: &'static str;
    /// The value of `key`, `None` when it is unset (or blank, for kinds where blank
    /// means nothing); a value git would refuse is an error naming key and value.
    fn read(repo: &Repo, key: &str) -> Result<Option<Self::Value>, ConfigError>;
    /// The loader's value for a default.
    fn value(default: Self::Default) -> Self::Value;
    /// A default as the documentation writes it (backquotes mark literals).
    fn show(default: Self::Default) -> String;
}

/// A key that falls back on a typed default when unset.
pub struct Key<K: Kind> {
    pub name: &'static str,
    pub default: K::Default,
    pub doc: &'static str,
}

impl<K: Kind> Key<K> {
    /// The configured value, or the default.
    pub fn load(&self, repo: &Repo) -> Result<K::Value, ConfigError> {
        Ok(K::read(repo, self.name)?.unwrap_or_else(|| K::value(self.default)))
    }
}

/// A key with no default value: unset means "not used", or something found at run
/// time, which `unset` says in words.
pub struct Optional<K: Kind> {
    pub name: &'static str,
    pub unset: Option<&'static str>,
    pub doc: &'static str,
    kind: PhantomData<fn() -> K>,
}

impl<K: Kind> Optional<K> {
    pub const fn new(name: &'static str, unset: Option<&'static str>, doc: &'static str) -> Self {
        Optional {
            name,
            unset,
            doc,
            kind: PhantomData,
        }
    }

    /// The configured value, if any.
    pub fn load(&self, repo: &Repo) -> Result<Option<K::Value>, ConfigError> {
        K::read(repo, self.name)
    }
}

/// A key as the documentation sees it, whatever its kind: one row of the table.
pub trait Entry: Sync {
    fn name(&self) -> &'static str;
    /// The kind's name ([`Kind::NAME`]).
    fn kind(&self) -> &'static str;
    /// What the kind accepts ([`Kind::ACCEPTS`]).
    fn accepts(&self) -> &'static str;
    /// The default, rendered from the value the loader uses, or said in words.
    fn default(&self) -> Option<String>;
    fn doc(&self) -> &'static str;
}

impl<K: Kind> Entry for Key<K> {
    fn name(&self) -> &'static str {
        self.name
    }
    fn kind(&self) -> &'static str {
        K::NAME
    }
    fn accepts(&self) -> &'static str {
        K::ACCEPTS
    }
    fn default(&self) -> Option<String> {
        Some(K::show(self.default))
    }
    fn doc(&self) -> &'static str {
        self.doc
    }
}

impl<K: Kind> Entry for Optional<K> {
    fn name(&self) -> &'static str {
        self.name
    }
    fn kind(&self) -> &'static str {
        K::NAME
    }
    fn accepts(&self) -> &'static str {
        K::ACCEPTS
    }
    fn default(&self) -> Option<String> {
        self.unset.map(str::to_owned)
    }
    fn doc(&self) -> &'static str {
        self.doc
    }
}

/// Any string; blank is as if unset.
pub struct Text;

impl Kind for Text {
    type Value = String;
    type Default = &'static str;
    const NAME: &'static str = "text";
    const ACCEPTS: &'static str = "any string; empty or blank is as if unset";

    fn read(repo: &Repo, key: &str) -> Result<Option<String>, ConfigError> {
        Ok(repo.config_string(key).filter(|v| !v.trim().is_empty()))
    }
    fn value(default: &'static str) -> String {
        default.to_owned()
    }
    fn show(default: &'static str) -> String {
        format!("`{default}`")
    }
}

/// A comma-separated list of names, compared in lower case.
pub struct Names;

impl Kind for Names {
    type Value = Vec<String>;
    type Default = &'static [&'static str];
    const NAME: &'static str = "names";
    const ACCEPTS: &'static str = "comma-separated names, in any case; blank is as if unset";

    fn read(repo: &Repo, key: &str) -> Result<Option<Vec<String>>, ConfigError> {
        Ok(Text::read(repo, key)?.map(|list| {
            list.split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        }))
    }
    fn value(default: Self::Default) -> Vec<String> {
        default.iter().map(|s| (*s).to_owned()).collect()
    }
    fn show(default: Self::Default) -> String {
        format!("`{}`", default.join(","))
    }
}

/// A boolean as git reads one.
pub struct Bool;

impl Kind for Bool {
    type Value = bool;
    type Default = bool;
    const NAME: &'static str = "boolean";
    const ACCEPTS: &'static str = "as `git config --type=bool` reads it: `true`, `yes`, `on`, `1` or a bare key; `false`, `no`, `off`, `0` or empty (any case)";

    fn read(repo: &Repo, key: &str) -> Result<Option<bool>, ConfigError> {
        repo.config_bool(key)
    }
    fn value(default: bool) -> bool {
        default
    }
    fn show(default: bool) -> String {
        format!("`{default}`")
    }
}

/// A whole number, 0 or more, as git reads integers.
pub struct Count;

impl Kind for Count {
    type Value = u64;
    type Default = u64;
    const NAME: &'static str = "integer";
    const ACCEPTS: &'static str = "0 or more, as `git config --type=int` reads it: decimal, `0x` hexadecimal or `0` octal, optionally followed by `k`, `m` or `g` (any case), which multiply it by 2^10, 2^20 or 2^30";

    fn read(repo: &Repo, key: &str) -> Result<Option<u64>, ConfigError> {
        match repo.config_integer(key)? {
            None => Ok(None),
            Some(n) => u64::try_from(n)
                .map(Some)
                .map_err(|_| repo.config_error(key, "must not be negative".into())),
        }
    }
    fn value(default: u64) -> u64 {
        default
    }
    fn show(default: u64) -> String {
        default.to_string()
    }
}

/// A duration in seconds: an integer as git reads one, or a decimal fraction.
pub struct Seconds;

/// Longer is "for ever": it keeps `Instant + duration` from overflowing.
const MAX_SECONDS: u64 = 1_000_000_000;

impl Kind for Seconds {
    type Value = Duration;
    type Default = Duration;
    const NAME: &'static str = "seconds";
    const ACCEPTS: &'static str = "an integer as for integer keys (so `1k` is 1024 seconds), or a decimal fraction such as `0.5` (no suffix); 0 or more; blank is as if unset";

    fn read(repo: &Repo, key: &str) -> Result<Option<Duration>, ConfigError> {
        let Some(value) = Text::read(repo, key)? else {
            return Ok(None);
        };
        let bad = || {
            repo.config_error(
                key,
                "not a number of seconds (0 or more: an integer with git's k/m/g suffixes, or a decimal fraction)".into(),
            )
        };
        if let Some(fraction) = decimal_fraction(&value) {
            return Ok(Some(fraction));
        }
        match repo.config_integer(key) {
            Ok(Some(n)) if n >= 0 => {
                Ok(Some(Duration::from_secs(n.unsigned_abs().min(MAX_SECONDS))))
            }
            _ => Err(bad()),
        }
    }
    fn value(default: Duration) -> Duration {
        default
    }
    fn show(default: Duration) -> String {
        let secs = default.as_secs();
        if default.subsec_nanos() != 0 {
            format!("{}", default.as_secs_f64())
        } else if secs >= 3600 && secs % 3600 == 0 {
            format!("{secs} ({} h)", secs / 3600)
        } else if secs >= 60 && secs % 60 == 0 {
            format!("{secs} ({} min)", secs / 60)
        } else {
            secs.to_string()
        }
    }
}

/// `digits.digits` (either side may be empty, not both), with an optional `+`, around
/// blanks: what these keys took before they took git's integers, kept for sub-second
/// waits. Anything else, `1e3` included, is `None`.
fn decimal_fraction(value: &str) -> Option<Duration> {
    let value = value.trim();
    let unsigned = value.strip_prefix('+').unwrap_or(value);
    let (whole, fraction) = unsigned.split_once('.')?;
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) || whole.len() + fraction.len() == 0 {
        return None;
    }
    let secs: f64 = unsigned.parse().ok()?;
    Some(Duration::from_secs_f64(secs.min(MAX_SECONDS as f64)))
}

/// A shell command line, taken only from config files git would trust.
pub struct Command;

impl Kind for Command {
    type Value = String;
    type Default = std::convert::Infallible;
    const NAME: &'static str = "command";
    const ACCEPTS: &'static str = "a shell command line, taken only from config files git would trust (not from a repository another user owns); blank is as if unset";

    fn read(repo: &Repo, key: &str) -> Result<Option<String>, ConfigError> {
        Ok(repo
            .config_program(key)?
            .map(|c| c.to_string_lossy().trim().to_owned())
            .filter(|c| !c.is_empty()))
    }
    fn value(default: Self::Default) -> String {
        match default {}
    }
    fn show(default: Self::Default) -> String {
        match default {}
    }
}

/// git's `http.proxy`: a proxy URL, where empty means "none".
pub struct Proxy;

impl Kind for Proxy {
    type Value = String;
    type Default = std::convert::Infallible;
    const NAME: &'static str = "proxy";
    const ACCEPTS: &'static str =
        "`[http://][user:password@]host[:port]`; empty: no proxy, whatever the environment says";

    fn read(repo: &Repo, key: &str) -> Result<Option<String>, ConfigError> {
        Ok(repo.config_string(key).map(|p| p.trim().to_owned()))
    }
    fn value(default: Self::Default) -> String {
        match default {}
    }
    fn show(default: Self::Default) -> String {
        match default {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_fractions_are_digits_around_one_dot() {
        let ms = Duration::from_millis;
        for (value, expect) in [
            ("0.05", Some(ms(50))),
            (" 1.5 ", Some(ms(1500))),
            ("+.5", Some(ms(500))),
            ("2.", Some(ms(2000))),
            ("1e9999.5", None),
            (".", None),
            ("-0.5", None),
            ("1.5k", None),
            ("7", None),
            ("1.2.3", None),
        ] {
            assert_eq!(decimal_fraction(value), expect, "{value:?}");
        }
        assert_eq!(
            decimal_fraction("99999999999.0"),
            Some(Duration::from_secs(MAX_SECONDS))
        );
    }

    #[test]
    fn seconds_defaults_read_in_hours_or_minutes() {
        assert_eq!(Seconds::show(Duration::from_secs(14400)), "14400 (4 h)");
        assert_eq!(Seconds::show(Duration::from_secs(1800)), "1800 (30 min)");
        assert_eq!(Seconds::show(Duration::from_secs(30)), "30");
        assert_eq!(Seconds::show(Duration::from_millis(500)), "0.5");
    }
}
