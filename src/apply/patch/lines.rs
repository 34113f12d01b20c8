//! The lines of a hunk, kept as stretches of the patch text with 8 bytes of
//! bookkeeping each. A record per line with its own pointer cost half the diff again
//! for the 50-byte lines of a big generated file (issue 16: peak memory at most twice
//! the mbox), and a copy of the lines a whole copy of the diff.

use std::sync::Arc;

use bstr::ByteSlice;

/// One hunk line without its `+`/`-`/` ` marker. The bytes include the line's `\n`,
/// except for a line followed by `\ No newline at end of file`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line<'a> {
    Context(&'a [u8]),
    Remove(&'a [u8]),
    Add(&'a [u8]),
}

impl<'a> Line<'a> {
    pub fn text(self) -> &'a [u8] {
        match self {
            Line::Context(t) | Line::Remove(t) | Line::Add(t) => t,
        }
    }

    /// Context or removed: a line the hunk expects to find.
    pub fn is_preimage(self) -> bool {
        !matches!(self, Line::Add(_))
    }

    /// Context or added: a line the file has after the hunk.
    pub fn is_postimage(self) -> bool {
        !matches!(self, Line::Remove(_))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Context,
    Remove,
    Add,
}

/// A line longer than [`MAX_LINE`]: it could not be the line of any content this
/// module produces ([`super::MAX_CONTENT_SIZE`]).
#[derive(Debug)]
pub(crate) struct LineTooLong;

/// Bits of [`Span::meta`]: the length above, then whether the line is in `own`,
/// then the kind in the low two bits.
const LEN_SHIFT: u32 = 3;
const OWN_BIT: u32 = 1 << 2;
const KIND_MASK: u32 = 0b11;
/// The longest line: 512 MiB - 1, the largest content being 512 MiB.
pub(crate) const MAX_LINE: usize = (u32::MAX >> LEN_SHIFT) as usize;

#[derive(Clone, Copy)]
struct Span {
    start: u32,
    meta: u32,
}

impl Span {
    fn new(kind: Kind, own: bool, start: usize, len: usize) -> Result<Span, LineTooLong> {
        let start = u32::try_from(start).map_err(|_| LineTooLong)?;
        if len > MAX_LINE {
            return Err(LineTooLong);
        }
        let kind = match kind {
            Kind::Context => 0,
            Kind::Remove => 1,
            Kind::Add => 2,
        };
        let own = if own { OWN_BIT } else { 0 };
        Ok(Span {
            start,
            meta: (len as u32) << LEN_SHIFT | own | kind,
        })
    }

    fn len(self) -> usize {
        (self.meta >> LEN_SHIFT) as usize
    }

    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.start as usize + self.len()
    }
}

/// The lines of one hunk, in order.
#[derive(Clone)]
pub struct HunkLines {
    /// The patch text: all hunks of a diff share it.
    text: Arc<Vec<u8>>,
    /// Lines that are not in `text`: only a last line the input gave no newline.
    own: Vec<u8>,
    spans: Vec<Span>,
}

impl HunkLines {
    pub(crate) fn new(text: Arc<Vec<u8>>) -> HunkLines {
        HunkLines {
            text,
            own: Vec::new(),
            spans: Vec::new(),
        }
    }

    /// Lines from their kinds and bytes, in a buffer of their own.
    ///
    /// # Panics
    ///
    /// When a line is longer than 512 MiB - 1 or the lines more than 4 GiB in all
    /// (the parser refuses such input with an error instead).
    pub fn from_lines<'a>(lines: impl IntoIterator<Item = Line<'a>>) -> HunkLines {
        let mut text = Vec::new();
        let mut spans = Vec::new();
        for line in lines {
            let kind = match line {
                Line::Context(_) => Kind::Context,
                Line::Remove(_) => Kind::Remove,
                Line::Add(_) => Kind::Add,
            };
            let start = text.len();
            text.extend_from_slice(line.text());
            spans.push(
                Span::new(kind, false, start, line.text().len()).expect("a line under 512 MiB"),
            );
        }
        HunkLines {
            text: Arc::new(text),
            own: Vec::new(),
            spans,
        }
    }

    /// A line's bytes, newline included: a stretch of the patch text is kept as a
    /// span of it; only the input's last line, which may lack its newline, gets
    /// bytes of its own (with the newline).
    pub(crate) fn push_slice(&mut self, kind: Kind, content: &[u8]) -> Result<(), LineTooLong> {
        match self.offset_in_text(content) {
            Some(start) if content.ends_with(b"\n") => {
                self.push_within(kind, start..start + content.len())
            }
            _ => {
                let mut own = content.to_vec();
                if !own.ends_with(b"\n") {
                    own.push(b'\n');
                }
                self.push_own(kind, &own)
            }
        }
    }

    /// Where `part` starts in the patch text, when it is a part of it.
    fn offset_in_text(&self, part: &[u8]) -> Option<usize> {
        let range = self.text.as_ptr_range();
        let at = part.as_ptr();
        (range.start <= at && at <= range.end)
            .then(|| at as usize - range.start as usize)
            .filter(|start| start + part.len() <= self.text.len())
    }

    /// A line that is `range` of the patch text.
    fn push_within(
        &mut self,
        kind: Kind,
        range: std::ops::Range<usize>,
    ) -> Result<(), LineTooLong> {
        debug_assert!(range.end <= self.text.len());
        self.spans
            .push(Span::new(kind, false, range.start, range.len())?);
        Ok(())
    }

    /// A line whose bytes are not in the patch text.
    fn push_own(&mut self, kind: Kind, bytes: &[u8]) -> Result<(), LineTooLong> {
        let span = Span::new(kind, true, self.own.len(), bytes.len())?;
        self.own.extend_from_slice(bytes);
        self.spans.push(span);
        Ok(())
    }

    /// What `\ No newline at end of file` does to the line before it. git drops an
    /// empty context line that loses its newline: nothing is left of it.
    pub(crate) fn drop_last_newline(&mut self) {
        let Some(last) = self.spans.last().copied() else {
            return;
        };
        if self.bytes(last).ends_with(b"\n") {
            let shorter = Span {
                meta: last.meta - (1 << LEN_SHIFT),
                ..last
            };
            *self.spans.last_mut().expect("checked above") = shorter;
        }
        if self.spans.last().is_some_and(|s| s.len() == 0) {
            self.spans.pop();
        }
    }

    fn bytes(&self, span: Span) -> &[u8] {
        let buf = if span.meta & OWN_BIT != 0 {
            &self.own
        } else {
            &self.text
        };
        &buf[span.range()]
    }

    fn line(&self, span: Span) -> Line<'_> {
        let bytes = self.bytes(span);
        match span.meta & KIND_MASK {
            0 => Line::Context(bytes),
            1 => Line::Remove(bytes),
            _ => Line::Add(bytes),
        }
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    pub fn get(&self, index: usize) -> Option<Line<'_>> {
        self.spans.get(index).map(|&s| self.line(s))
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Line<'_>> + ExactSizeIterator + Clone {
        self.spans.iter().map(|&s| self.line(s))
    }

    /// Whether the line's bytes are a stretch of `text` (not a copy), for tests.
    #[cfg(test)]
    pub(crate) fn is_within_text(&self, index: usize) -> bool {
        self.spans.get(index).is_some_and(|s| s.meta & OWN_BIT == 0)
    }
}

impl std::fmt::Debug for HunkLines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|line| match line {
                Line::Context(t) => format!(" {:?}", t.as_bstr()),
                Line::Remove(t) => format!("-{:?}", t.as_bstr()),
                Line::Add(t) => format!("+{:?}", t.as_bstr()),
            }))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_their_kind_and_bytes() {
        let lines = HunkLines::from_lines([
            Line::Context(b"a\n"),
            Line::Remove(b"b\n"),
            Line::Add(b""),
            Line::Add(b"c"),
        ]);
        let got: Vec<_> = lines.iter().collect();
        assert_eq!(
            got,
            [
                Line::Context(b"a\n"),
                Line::Remove(b"b\n"),
                Line::Add(b""),
                Line::Add(b"c")
            ]
        );
    }

    #[test]
    fn no_newline_marker_shortens_or_drops_the_last_line() {
        let text = Arc::new(b" x\n-y\n \n".to_vec());
        let mut lines = HunkLines::new(text);
        lines.push_within(Kind::Context, 1..3).unwrap();
        lines.push_within(Kind::Remove, 4..6).unwrap();
        lines.drop_last_newline();
        assert_eq!(lines.get(1), Some(Line::Remove(b"y")));
        lines.push_within(Kind::Context, 7..8).unwrap();
        lines.drop_last_newline();
        assert_eq!(
            lines.len(),
            2,
            "an empty context line losing its newline goes"
        );
        lines.push_own(Kind::Add, b"z\n").unwrap();
        assert_eq!(lines.get(2), Some(Line::Add(b"z\n")));
        assert!(lines.is_within_text(0) && !lines.is_within_text(2));
    }

    #[test]
    fn a_line_over_the_limit_is_refused() {
        assert!(Span::new(Kind::Add, false, 0, MAX_LINE).is_ok());
        assert!(Span::new(Kind::Add, false, 0, MAX_LINE + 1).is_err());
        assert!(Span::new(Kind::Add, false, u32::MAX as usize + 1, 1).is_err());
    }
}
