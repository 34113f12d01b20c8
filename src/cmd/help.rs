//! The EXIT STATUS and CONFIGURATION sections of `--help`, the man page and README.md,
//! rendered from the two tables ([`super::exit::TABLE`], [`crate::config::KEYS`]) so
//! that they cannot drift apart: a key's kind and default come from the definition
//! the loader reads it by. Plain strings; main.rs hands them to clap.

use crate::config::{Entry, KEYS};
use crate::exit::TABLE;

/// A note under both tables that belongs to neither row.
const PUSH_NOTE: &str = "git patchew push and apply --push end with git push's own exit code.";

/// The exit codes for `-h`: short, one line each.
pub fn exit_status_text() -> String {
    let rows: String = TABLE
        .iter()
        .map(|(exit, meaning)| format!("\n  {}  {}", exit.code(), plain(meaning)))
        .collect();
    format!("Exit status:{rows}")
}

/// EXIT STATUS and CONFIGURATION for `--help`.
pub fn long_help_text() -> String {
    let keys: String = KEYS
        .iter()
        .map(|key| {
            format!(
                "\n  {}  {}\n      {}",
                key.name(),
                plain(&summary(*key)),
                plain(key.doc())
            )
        })
        .collect();
    let kinds: String = kinds()
        .map(|(kind, accepts)| format!("\n  {kind}: {}", plain(accepts)))
        .collect();
    format!(
        "{}\n  {PUSH_NOTE}\n\nConfiguration (git config):{keys}\n\nKinds of value:{kinds}",
        exit_status_text()
    )
}

/// The two sections in roff, for the man page.
pub fn roff_sections() -> String {
    let codes: String = TABLE
        .iter()
        .map(|(exit, meaning)| format!(".TP\n\\fB{}\\fR\n{}\n", exit.code(), roff(meaning)))
        .collect();
    let keys: String = KEYS
        .iter()
        .map(|key| {
            format!(
                ".TP\n\\fB{}\\fR \\(em {}\n{}\n",
                roff(key.name()),
                roff(&summary(*key)),
                roff(key.doc())
            )
        })
        .collect();
    let kinds: String = kinds()
        .map(|(kind, accepts)| format!(".TP\n\\fI{}\\fR\n{}\n", roff(kind), roff(accepts)))
        .collect();
    format!(
        ".SH \"EXIT STATUS\"\n{codes}.PP\n{}\n.SH CONFIGURATION\nRead with git config, like git reads its own keys.\n{keys}.SS \"Kinds of value\"\n{kinds}",
        roff(PUSH_NOTE)
    )
}

/// README.md's exit-code table, exactly.
pub fn exit_status_markdown() -> String {
    let rows: String = TABLE
        .iter()
        .map(|(exit, meaning)| format!("| {} | {meaning} |\n", exit.code()))
        .collect();
    format!("| code | meaning |\n| --- | --- |\n{rows}")
}

/// README.md's configuration table and the list of kinds under it, exactly.
pub fn configuration_markdown() -> String {
    let rows: String = KEYS
        .iter()
        .map(|key| {
            format!(
                "| `{}` | {} | {} | {} |\n",
                key.name(),
                key.kind(),
                key.default().unwrap_or_default(),
                key.doc()
            )
        })
        .collect();
    let kinds: String = kinds()
        .map(|(kind, accepts)| format!("- {kind}: {accepts}\n"))
        .collect();
    format!("| key | kind | default | meaning |\n| --- | --- | --- | --- |\n{rows}\nKinds of value:\n\n{kinds}")
}

/// A key's kind and default, e.g. "seconds, default 30" (backquotes mark literals).
fn summary(key: &dyn Entry) -> String {
    match key.default() {
        Some(default) => format!("{}, default {default}", key.kind()),
        None => key.kind().to_owned(),
    }
}

/// Each kind some key has, with what it accepts, in the order the keys first use them.
fn kinds() -> impl Iterator<Item = (&'static str, &'static str)> {
    let mut seen = Vec::new();
    KEYS.iter().filter_map(move |key| {
        if seen.contains(&key.kind()) {
            return None;
        }
        seen.push(key.kind());
        Some((key.kind(), key.accepts()))
    })
}

fn plain(text: &str) -> String {
    text.replace('`', "")
}

/// Backquoted literals in bold; roff's escape character and line-leading dots made safe.
fn roff(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    let mut out = String::new();
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str(&format!("\\fB{part}\\fR"));
        } else {
            out.push_str(part);
        }
    }
    if out.starts_with('.') || out.starts_with('\'') {
        out.insert_str(0, "\\&");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_and_key_reaches_every_rendering() {
        let (help, man) = (long_help_text(), roff_sections());
        for (exit, _) in TABLE {
            assert!(help.contains(&format!("\n  {}  ", exit.code())));
            assert!(man.contains(&format!("\\fB{}\\fR", exit.code())));
        }
        for key in KEYS {
            let (name, doc) = (key.name(), key.doc());
            assert!(
                help.contains(&format!("\n  {name}  {}", key.kind())),
                "{name}"
            );
            assert!(help.contains(&plain(doc)), "{name}");
            assert!(
                man.contains(&format!("\\fB{}\\fR \\(em ", roff(name))),
                "{name}"
            );
            assert!(man.contains(&roff(doc)), "{name}");
            assert!(help.contains(&format!("\n  {}: ", key.kind())), "{name}");
            assert!(man.contains(&format!("\\fI{}\\fR", key.kind())), "{name}");
        }
    }

    #[test]
    fn roff_bolds_literals_and_escapes() {
        assert_eq!(
            roff("a `b-c` \\d"),
            "a \\fBb\\-c\\fR \\ed",
            "backslash, dash and backquotes"
        );
        assert_eq!(roff(".x"), "\\&.x");
    }
}
