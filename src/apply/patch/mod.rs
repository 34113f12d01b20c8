//! Unified and git diffs: parsing, hunk application, binary patches. Pure bytes in,
//! bytes out; the tree work is in `apply`.
//!
//! The behaviour follows C git's `git apply` (apply.c) with its default options: `-p1`,
//! no fuzz, no whitespace fixing, no overlapping hunks. One deliberate extension: a hunk
//! that does not match exactly is retried ignoring a trailing CR on each line, because
//! mail transport often loses the CRs of CRLF files (see [`Applied::cr_tolerant_hunks`]).

mod base85;
mod binary;
mod delta;
mod lines;
mod parse;
mod quote;
mod text;

use bstr::{BStr, BString, ByteSlice};

pub use lines::{HunkLines, Line};

/// Largest file content (literal, delta result) this module will produce. Claimed sizes
/// above it are refused before any allocation.
pub const MAX_CONTENT_SIZE: usize = 512 << 20;

/// Modes are git's: the patch states them, the tree keeps them.
pub use crate::repo::FileMode;

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
    /// Mode before, when the patch states it (`old mode`, `deleted file mode`, or the
    /// mode on the `index` line). None: keep what the tree has.
    pub old_mode: Option<FileMode>,
    /// Mode after, when the patch states it. None: unchanged (or regular for a creation).
    pub new_mode: Option<FileMode>,
    /// Object ids from the `index <old>..<new>` line, abbreviated unless the patch was
    /// made with `--full-index`/`--binary`. Binary patches carry full ids: the caller
    /// should check the result's blob id against `new_oid` as `git apply` does.
    pub old_oid: Option<String>,
    pub new_oid: Option<String>,
    pub body: Body,
    /// 1-based line of the patch's first header line (`diff --git` or `---`).
    pub header_line: usize,
    /// A traditional diff (no `diff --git`, no `/dev/null`) whose one hunk has no old
    /// lines: git apply creates the file when it does not exist (t4126's
    /// `--- empty.orig` / `+++ empty`), and changes it when it does.
    pub maybe_new: bool,
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
    /// The `@@ -a,b +c,d @@` part of the header line, for error messages.
    pub header: BString,
    pub lines: HunkLines,
}

#[derive(Debug, Clone)]
pub struct Binary {
    pub forward: BinaryData,
    /// The reverse hunk of a `GIT binary patch`; validated, never applied.
    pub reverse: Option<BinaryData>,
}

#[derive(Debug, Clone)]
pub enum BinaryData {
    /// The whole new content (already inflated).
    Literal(Vec<u8>),
    /// A git delta against the old content (already inflated).
    Delta(Vec<u8>),
    /// `Binary files a/x and b/x differ`: the patch was made without `--binary`.
    Missing,
}

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("patch line {line}: {reason}")]
    Malformed { line: usize, reason: String },
}

impl ParseError {
    pub(crate) fn at(line: usize, reason: impl Into<String>) -> ParseError {
        ParseError::Malformed {
            line,
            reason: reason.into(),
        }
    }

    pub fn line(&self) -> usize {
        match self {
            ParseError::Malformed { line, .. } => *line,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{path}: hunk #{hunk} {header} (patch line {header_line}) does not apply")]
    HunkFailed {
        path: String,
        /// 1-based number of the hunk within its file.
        hunk: usize,
        header: String,
        header_line: usize,
    },
    #[error("{path}: hunk #{hunk} {header} (patch line {header_line}): gave up searching, the target is too large for the offsets in this patch")]
    SearchLimit {
        path: String,
        hunk: usize,
        header: String,
        header_line: usize,
    },
    #[error("{path}: binary patch lacks the binary data (the patch was made without --binary)")]
    BinaryWithoutData { path: String },
    #[error("{path}: binary patch does not apply: {reason}")]
    BinaryFailed { path: String, reason: String },
    #[error("{path}: removal patch leaves file contents")]
    DeleteLeavesContent { path: String },
    #[error("{path}: new file already has contents")]
    CreateOverContent { path: String },
}

/// What [`FilePatch::apply_with_report`] produced.
pub struct Applied<'a> {
    pub content: Content<'a>,
    /// 1-based numbers of hunks that matched only when a trailing CR was ignored on each
    /// line (the mail lost the CRs of a CRLF file); lines they added got their CR back.
    /// Worth a warning: the tree differs from what `git am` would write.
    pub cr_tolerant_hunks: Vec<usize>,
}

/// A file's content after a patch. For text hunks it is read from the old content and
/// the patch's lines as it is written out, so that the result of a huge patch is not
/// held in memory beside the diff (issue 16: peak memory at most twice the mbox).
pub struct Content<'a>(ContentRepr<'a>);

enum ContentRepr<'a> {
    Bytes(std::borrow::Cow<'a, [u8]>),
    Text(text::Postimage<'a>),
}

impl<'a> Content<'a> {
    pub fn len(&self) -> usize {
        match &self.0 {
            ContentRepr::Bytes(bytes) => bytes.len(),
            ContentRepr::Text(postimage) => postimage.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The content's bytes, in order, in pieces.
    pub fn pieces(&self) -> Box<dyn Iterator<Item = &[u8]> + '_> {
        match &self.0 {
            ContentRepr::Bytes(bytes) => Box::new(std::iter::once(&bytes[..])),
            ContentRepr::Text(postimage) => Box::new(postimage.pieces()),
        }
    }

    /// Reads the content without assembling it.
    pub fn reader(&self) -> impl std::io::Read + '_ {
        PieceReader {
            pieces: self.pieces(),
            current: &[],
        }
    }

    pub fn into_vec(self) -> Vec<u8> {
        match self.0 {
            ContentRepr::Bytes(bytes) => bytes.into_owned(),
            ContentRepr::Text(_) => {
                let mut out = Vec::with_capacity(self.len());
                for piece in self.pieces() {
                    out.extend_from_slice(piece);
                }
                out
            }
        }
    }

    /// Whether the content is `bytes`, compared piece by piece.
    pub fn is(&self, bytes: &[u8]) -> bool {
        if self.len() != bytes.len() {
            return false;
        }
        let mut rest = bytes;
        self.pieces()
            .all(|piece| match rest.split_at_checked(piece.len()) {
                Some((head, tail)) if head == piece => {
                    rest = tail;
                    true
                }
                _ => false,
            })
    }
}

impl From<Vec<u8>> for Content<'_> {
    fn from(bytes: Vec<u8>) -> Self {
        Content(ContentRepr::Bytes(bytes.into()))
    }
}

impl<'a> From<&'a [u8]> for Content<'a> {
    fn from(bytes: &'a [u8]) -> Self {
        Content(ContentRepr::Bytes(bytes.into()))
    }
}

struct PieceReader<'p, I: Iterator<Item = &'p [u8]>> {
    pieces: I,
    current: &'p [u8],
}

impl<'p, I: Iterator<Item = &'p [u8]>> std::io::Read for PieceReader<'p, I> {
    /// Fills `buf` from as many pieces as fit: a read per line would reach the
    /// object's zlib stream, and its file, in line-sized writes.
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut filled = 0;
        while filled < buf.len() {
            if self.current.is_empty() {
                match self.pieces.next() {
                    Some(piece) => self.current = piece,
                    None => break,
                }
            }
            let n = (buf.len() - filled).min(self.current.len());
            buf[filled..filled + n].copy_from_slice(&self.current[..n]);
            self.current = &self.current[n..];
            filled += n;
        }
        Ok(filled)
    }
}

/// Parses the patch part of a mail (or any text containing git or unified diffs). Junk
/// before, between and after the diffs is skipped, as `git apply` does; no diff at all
/// gives an empty Vec.
pub fn parse(patch: &[u8]) -> Result<Vec<FilePatch>, ParseError> {
    parse_owned(patch.to_vec())
}

/// [`parse`], keeping `patch` as the one buffer the hunks' lines point into: a huge
/// diff is then held once, not once as text and again as hunk lines.
pub fn parse_owned(patch: Vec<u8>) -> Result<Vec<FilePatch>, ParseError> {
    if u32::try_from(patch.len()).is_err() {
        return Err(ParseError::at(1, "patch larger than 4 GiB"));
    }
    parse::parse(&std::sync::Arc::new(patch))
}

impl FilePatch {
    /// The path the file has after the patch (its old path for a deletion).
    pub fn path(&self) -> &BStr {
        self.new_path
            .as_ref()
            .or(self.old_path.as_ref())
            .map(|p| p.as_bstr())
            .unwrap_or_default()
    }

    pub fn is_binary(&self) -> bool {
        matches!(self.body, Body::Binary(_))
    }

    /// Applies the content change to `old` (empty for a creation).
    pub fn apply(&self, old: &[u8]) -> Result<Vec<u8>, ApplyError> {
        self.apply_with_report(old)
            .map(|applied| applied.content.into_vec())
    }

    /// Like [`FilePatch::apply`], also telling which hunks needed CR-tolerant
    /// matching, and leaving the content unassembled.
    pub fn apply_with_report<'a>(&'a self, old: &'a [u8]) -> Result<Applied<'a>, ApplyError> {
        let path = self.path().to_str_lossy().into_owned();
        if self.operation == Operation::Create && !old.is_empty() {
            return Err(ApplyError::CreateOverContent { path });
        }
        let applied = match &self.body {
            Body::None => Applied {
                content: old.into(),
                cr_tolerant_hunks: Vec::new(),
            },
            Body::Text(hunks) => {
                let (postimage, cr_tolerant_hunks) = text::apply_hunks(old, hunks)
                    .map_err(|e| e.into_apply_error(hunks, path.clone()))?;
                Applied {
                    content: Content(ContentRepr::Text(postimage)),
                    cr_tolerant_hunks,
                }
            }
            Body::Binary(binary) => Applied {
                content: self.apply_binary(binary, old, &path)?,
                cr_tolerant_hunks: Vec::new(),
            },
        };
        if self.operation == Operation::Delete && !applied.content.is_empty() {
            return Err(ApplyError::DeleteLeavesContent { path });
        }
        Ok(applied)
    }

    fn apply_binary<'a>(
        &'a self,
        binary: &'a Binary,
        old: &[u8],
        path: &str,
    ) -> Result<Content<'a>, ApplyError> {
        match &binary.forward {
            // The content of a deleted file does not matter, so data is not needed.
            BinaryData::Missing if self.operation == Operation::Delete => Ok(Vec::new().into()),
            BinaryData::Missing => Err(ApplyError::BinaryWithoutData {
                path: path.to_owned(),
            }),
            BinaryData::Literal(data) => Ok(data[..].into()),
            BinaryData::Delta(data) => {
                delta::apply(old, data)
                    .map(Content::from)
                    .map_err(|reason| ApplyError::BinaryFailed {
                        path: path.to_owned(),
                        reason: reason.to_string(),
                    })
            }
        }
    }
}

#[cfg(test)]
mod tests;
