//! What a command says on stderr (progress, information, warnings) and the one
//! filter every stranger's text goes through before a terminal sees it.

use std::io::IsTerminal;

/// How chatty to be on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// Progress and detail lines for a person at a terminal; scripts read stdout.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub verbosity: Verbosity,
    stderr_is_terminal: bool,
}

impl Output {
    pub fn new(verbosity: Verbosity) -> Self {
        Output {
            verbosity,
            stderr_is_terminal: std::io::stderr().is_terminal(),
        }
    }

    /// `Applying: ...` lines, like git am: on a terminal, or always with -v.
    pub fn progress(&self, line: &str) {
        let show = match self.verbosity {
            Verbosity::Quiet => false,
            Verbosity::Normal => self.stderr_is_terminal,
            Verbosity::Verbose => true,
        };
        if show {
            crate::errln!("{}", printable(line));
        }
    }

    /// A result line for a person (stderr, so stdout stays for data).
    pub fn info(&self, line: &str) {
        if self.verbosity != Verbosity::Quiet {
            crate::errln!("{}", printable(line));
        }
    }

    pub fn warn(&self, line: &str) {
        if self.verbosity != Verbosity::Quiet {
            crate::errln!("warning: {}", printable(line));
        }
    }
}

/// Subjects and ids are chosen by strangers: no escape sequence or carriage return of
/// theirs reaches the operator's terminal. Line breaks stay (an error may list what it
/// tried, one per line), but every line after the first is indented, so that no line
/// can pass for one of ours (`error: ...`).
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            if !line.starts_with(' ') {
                out.push_str("  ");
            }
        }
        out.extend(line.chars().map(|c| if c.is_control() { '?' } else { c }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn printable_keeps_lines_but_no_control_characters() {
        assert_eq!(printable("a\x1b[31mb\rc"), "a?[31mb?c");
        assert_eq!(
            printable("no mbox found\n  - GET x\nerror: fake"),
            "no mbox found\n  - GET x\n  error: fake"
        );
    }
}
