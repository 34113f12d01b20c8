//! The EXIT STATUS and CONFIGURATION sections of `--help`, the man page and README.md,
//! rendered from the two tables ([`super::exit::TABLE`], [`crate::config::KEYS`]) so
//! that they cannot drift apart. Plain strings; main.rs hands them to clap.

use crate::config::KEYS;
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
        .map(|(key, meaning)| format!("\n  {key}\n      {}", plain(meaning)))
        .collect();
    format!(
        "{}\n  {PUSH_NOTE}\n\nConfiguration (git config):{keys}",
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
        .map(|(key, meaning)| format!(".TP\n\\fB{}\\fR\n{}\n", roff(key), roff(meaning)))
        .collect();
    format!(
        ".SH \"EXIT STATUS\"\n{codes}.PP\n{}\n.SH CONFIGURATION\nRead with git config, like git reads its own keys.\n{keys}",
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

/// README.md's configuration table, exactly.
pub fn configuration_markdown() -> String {
    let rows: String = KEYS
        .iter()
        .map(|(key, meaning)| format!("| `{key}` | {meaning} |\n"))
        .collect();
    format!("| key | meaning |\n| --- | --- |\n{rows}")
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
        for (key, _) in KEYS {
            assert!(help.contains(&format!("\n  {key}\n")), "{key}");
            assert!(man.contains(&format!("\\fB{}\\fR", roff(key))), "{key}");
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
