//! Unified and git diffs: parsing, hunk application, binary patches. Pure bytes in,
//! bytes out; the tree work is in `apply`.

use bstr::BString;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileMode {
    Regular,
    Executable,
    Symlink,
    Gitlink,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    Modify,
    Create,
    Delete,
    Rename,
    Copy,
}

#[derive(Debug, Clone)]
pub struct FilePatch {
    pub operation: Operation,
    /// Path before (None for a creation).
    pub old_path: Option<BString>,
    /// Path after (None for a deletion).
    pub new_path: Option<BString>,
    pub old_mode: Option<FileMode>,
    pub new_mode: Option<FileMode>,
    /// Abbreviated object ids from the `index <old>..<new>` line.
    pub old_oid: Option<String>,
    pub new_oid: Option<String>,
    pub body: Body,
}

#[derive(Debug, Clone)]
pub enum Body {
    /// Mode change, pure rename or copy, empty file creation/deletion.
    None,
    Text(Vec<Hunk>),
    Binary(Binary),
}

#[derive(Debug, Clone)]
pub struct Hunk {
    pub old_start: usize,
    pub old_lines: usize,
    pub new_start: usize,
    pub new_lines: usize,
    /// 1-based line of the `@@` header within the patch text, for error messages.
    pub header_line: usize,
    pub lines: Vec<Line>,
}

#[derive(Debug, Clone)]
pub enum Line {
    Context(BString),
    Remove(BString),
    Add(BString),
}

#[derive(Debug, Clone)]
pub struct Binary {
    pub forward: BinaryData,
}

#[derive(Debug, Clone)]
pub enum BinaryData {
    Literal(Vec<u8>),
    Delta(Vec<u8>),
}

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("line {line}: {reason}")]
    Malformed { line: usize, reason: String },
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("hunk at patch line {header_line} does not apply")]
    HunkFailed { header_line: usize },
}

pub fn parse(_patch: &[u8]) -> Result<Vec<FilePatch>, ParseError> {
    todo!("issue 2: diff parsing")
}

impl FilePatch {
    /// Applies the content change to `old` (empty for a creation).
    pub fn apply(&self, _old: &[u8]) -> Result<Vec<u8>, ApplyError> {
        todo!("issue 2: hunk application")
    }
}
