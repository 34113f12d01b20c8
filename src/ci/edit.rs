//! The textual edit: insert the lines of our include entry and leave every existing
//! byte where it was. Only the shape of the top-level `include` value is read here;
//! whether the result means what we want is decided by the proof afterwards.

use std::ops::Range;

use super::node::Node;
use super::{CiError, IncludeUrl};

/// One line of the file; `text` excludes the line terminator (`\n` or `\r\n`).
struct Line<'a> {
    start: usize,
    text: &'a str,
    /// Just after the terminator, or the end of `text` on an unterminated last line.
    end: usize,
    terminated: bool,
}

impl Line<'_> {
    fn indent(&self) -> usize {
        self.text.len() - self.text.trim_start_matches(' ').len()
    }
    fn body(&self) -> &str {
        &self.text[self.indent()..]
    }
    /// Blank and comment-only lines do not count for the structure.
    fn is_content(&self) -> bool {
        let t = self.text.trim_start();
        !t.is_empty() && !t.starts_with('#')
    }
    fn is_block_seq_entry(&self) -> bool {
        let b = self.body();
        b == "-" || b.starts_with("- ") || b.starts_with("-\t")
    }
}

/// What `add_include` inserts, at byte offsets of the old file.
struct Insertions {
    at: Vec<(usize, String)>,
    newline: &'static str,
    entry: String,
}

impl Insertions {
    fn insert(&mut self, offset: usize, text: String) {
        self.at.push((offset, text));
    }

    /// A whole line after `line`, keeping a missing final newline missing.
    fn line_after(&mut self, line: &Line, text: &str) {
        let nl = self.newline;
        if line.terminated {
            self.insert(line.end, format!("{text}{nl}"));
        } else {
            self.insert(line.end, format!("{nl}{text}"));
        }
    }

    fn apply(mut self, old: &str) -> Vec<u8> {
        self.at.sort_by_key(|(offset, _)| *offset);
        let mut out = String::with_capacity(old.len() + 128);
        let mut copied = 0;
        for (offset, text) in &self.at {
            out.push_str(&old[copied..*offset]);
            out.push_str(text);
            copied = *offset;
        }
        out.push_str(&old[copied..]);
        out.into_bytes()
    }
}

pub(crate) fn add_include(
    old: &[u8],
    target: usize,
    docs: &[Node],
    url: &IncludeUrl,
) -> Result<Vec<u8>, CiError> {
    let text = std::str::from_utf8(old)
        .map_err(|_| CiError::Unsupported("the file is not UTF-8".into()))?;
    let lines = split_lines(text);
    let ranges = document_ranges(&lines)?;
    if ranges.len() != docs.len() {
        return Err(CiError::Unsupported(
            "its `---`/`...` markers do not match its YAML documents".into(),
        ));
    }
    check_include_kind(docs[target].get("include"))?;
    let mut edits = Insertions {
        at: Vec::new(),
        newline: if text.contains("\r\n") && text.find('\n') == text.find("\r\n").map(|i| i + 1) {
            "\r\n"
        } else {
            "\n"
        },
        entry: format!("- remote: {}", url.yaml_quoted()),
    };
    let doc = Document::new(&lines, ranges[target].clone())?;
    match (docs[target].get("include").is_some(), doc.include_line()) {
        (false, None) => doc.add_include_key(&mut edits),
        (true, Some(i)) => doc.extend_include(i, text, &mut edits),
        _ => Err(CiError::Unsupported(
            "its top-level `include` key is not written as a plain `include:` line".into(),
        )),
    }?;
    Ok(edits.apply(text))
}

/// Only these shapes turn into "old entries plus ours".
fn check_include_kind(value: Option<&Node>) -> Result<(), CiError> {
    match value {
        None | Some(Node::Null | Node::Str(_) | Node::Map(_) | Node::Seq(_)) => Ok(()),
        Some(other) => Err(CiError::Unsupported(format!(
            "`include` holds {other:?}, not a string, map or list"
        ))),
    }
}

fn split_lines(text: &str) -> Vec<Line<'_>> {
    let mut lines = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let (text_end, end, terminated) = match text[start..].find('\n') {
            Some(i) => (start + i, start + i + 1, true),
            None => (text.len(), text.len(), false),
        };
        let line = &text[start..text_end];
        lines.push(Line {
            start,
            text: line.strip_suffix('\r').unwrap_or(line),
            end,
            terminated,
        });
        start = end;
    }
    lines
}

fn is_marker(text: &str, marker: &str) -> bool {
    text.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

/// Line ranges of the YAML documents, markers excluded, as libyaml counts them.
fn document_ranges(lines: &[Line]) -> Result<Vec<Range<usize>>, CiError> {
    let has_content = |r: &Range<usize>| lines[r.clone()].iter().any(Line::is_content);
    let mut ranges = Vec::new();
    let (mut start, mut explicit) = (0, false);
    for (i, line) in lines.iter().enumerate() {
        let starts_document = is_marker(line.text, "---");
        if !starts_document && !is_marker(line.text, "...") {
            continue;
        }
        if explicit || has_content(&(start..i)) {
            ranges.push(start..i);
        }
        let after_marker = line.text[3..].trim_start();
        if !after_marker.is_empty() && !after_marker.starts_with('#') {
            return Err(CiError::Unsupported(
                "content on a `---` or `...` line".into(),
            ));
        }
        (start, explicit) = (i + 1, starts_document);
    }
    if explicit || has_content(&(start..lines.len())) {
        ranges.push(start..lines.len());
    }
    Ok(ranges)
}

/// The target document's lines and the indentation of its top-level keys.
struct Document<'a> {
    lines: &'a [Line<'a>],
    range: Range<usize>,
    first_key: usize,
    top: usize,
}

impl<'a> Document<'a> {
    fn new(lines: &'a [Line<'a>], range: Range<usize>) -> Result<Self, CiError> {
        let first_key = range
            .clone()
            .find(|&i| lines[i].is_content())
            .ok_or_else(|| CiError::NotAMapping("the file holds no jobs".into()))?;
        if lines[first_key].body().starts_with(['{', '[', '-', '?']) {
            return Err(CiError::Unsupported(
                "its top-level mapping is not in block style".into(),
            ));
        }
        Ok(Document {
            lines,
            range,
            first_key,
            top: lines[first_key].indent(),
        })
    }

    fn pad(&self) -> String {
        " ".repeat(self.top)
    }

    fn content_lines_after(&self, line: usize) -> impl Iterator<Item = usize> + '_ {
        (line + 1..self.range.end).filter(|&i| self.lines[i].is_content())
    }

    fn include_line(&self) -> Option<usize> {
        self.range.clone().find(|&i| {
            let line = &self.lines[i];
            line.is_content()
                && line.indent() == self.top
                && after_include_key(line.body()).is_some()
        })
    }

    /// The smallest nesting step the file uses, so added lines look like the rest.
    fn indent_unit(&self) -> usize {
        self.range
            .clone()
            .map(|i| &self.lines[i])
            .filter(|l| l.is_content() && l.indent() > self.top)
            .map(|l| l.indent() - self.top)
            .min()
            .unwrap_or(2)
    }

    /// The last line of the value starting on `line`: the following lines indented
    /// deeper than the keys (or, for a sequence written at the keys' indentation, its
    /// `-` lines).
    fn value_end(&self, line: usize, dash_at_top: bool) -> usize {
        let belongs = |l: &Line| {
            l.indent() > self.top
                || (dash_at_top && l.indent() == self.top && l.is_block_seq_entry())
        };
        self.content_lines_after(line)
            .take_while(|&i| belongs(&self.lines[i]))
            .last()
            .unwrap_or(line)
    }

    /// No `include` yet: a new key before the first one.
    fn add_include_key(&self, edits: &mut Insertions) -> Result<(), CiError> {
        let (pad, nl) = (self.pad(), edits.newline);
        let step = " ".repeat(self.indent_unit());
        let text = format!("{pad}include:{nl}{pad}{step}{}{nl}", edits.entry);
        edits.insert(self.lines[self.first_key].start, text);
        Ok(())
    }

    fn extend_include(
        &self,
        line: usize,
        text: &str,
        edits: &mut Insertions,
    ) -> Result<(), CiError> {
        let key_line = &self.lines[line];
        let value_at = key_line.start + self.top + after_include_key(key_line.body()).unwrap_or(0);
        match inline_value(&key_line.text[value_at - key_line.start..]) {
            Inline::FlowSeq(offset) => {
                prepend_to_flow_seq(text, value_at + offset, edits);
                Ok(())
            }
            Inline::Scalar => {
                // `include: x` -> `include:` / `- x` / `- remote: ...`
                let pad = self.pad();
                edits.insert(value_at, format!("{}{pad}-", edits.newline));
                let end = &self.lines[self.value_end(line, false)];
                edits.line_after(end, &format!("{pad}{}", edits.entry));
                Ok(())
            }
            Inline::Nothing => {
                self.extend_block_value(line, text, edits);
                Ok(())
            }
        }
    }

    fn extend_block_value(&self, line: usize, text: &str, edits: &mut Insertions) {
        let key_line = &self.lines[line];
        let next = self
            .content_lines_after(line)
            .next()
            .map(|i| (i, &self.lines[i]));
        match next {
            Some((_, l)) if l.indent() >= self.top && l.is_block_seq_entry() => {
                let end = &self.lines[self.value_end(line, l.indent() == self.top)];
                let seq_pad = " ".repeat(l.indent());
                edits.line_after(end, &format!("{seq_pad}{}", edits.entry));
            }
            Some((_, l)) if l.indent() > self.top && l.body().starts_with('[') => {
                prepend_to_flow_seq(text, l.start + l.indent(), edits);
            }
            Some((_, l)) if l.indent() > self.top => {
                // A map (or a scalar) on the following lines becomes the first entry
                // of a list written at the keys' indentation, which YAML allows for a
                // mapping's value: no existing line needs re-indenting.
                let pad = self.pad();
                edits.line_after(key_line, &format!("{pad}-"));
                let end = &self.lines[self.value_end(line, false)];
                edits.line_after(end, &format!("{pad}{}", edits.entry));
            }
            _ => {
                let pad = format!("{}{}", self.pad(), " ".repeat(self.indent_unit()));
                edits.line_after(key_line, &format!("{pad}{}", edits.entry));
            }
        }
    }
}

/// For a line body starting with the `include` key, the offset just after its colon.
fn after_include_key(body: &str) -> Option<usize> {
    let rest = ["include", "\"include\"", "'include'"]
        .iter()
        .find_map(|key| body.strip_prefix(key))?;
    let colon = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    let after = rest[colon..].strip_prefix(':')?;
    (after.is_empty() || after.starts_with([' ', '\t'])).then_some(body.len() - after.len())
}

enum Inline {
    /// Nothing but properties (`&anchor`, `!tag`) or a comment: the value follows.
    Nothing,
    /// A flow sequence whose `[` is at this offset.
    FlowSeq(usize),
    /// A scalar, flow map or alias on the key's line.
    Scalar,
}

fn inline_value(after_colon: &str) -> Inline {
    let mut offset = 0;
    loop {
        let rest = &after_colon[offset..];
        let trimmed = rest.trim_start_matches([' ', '\t']);
        offset += rest.len() - trimmed.len();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return Inline::Nothing;
        }
        if trimmed.starts_with('[') {
            return Inline::FlowSeq(offset);
        }
        if !trimmed.starts_with(['&', '!']) {
            return Inline::Scalar;
        }
        offset += trimmed.find([' ', '\t']).unwrap_or(trimmed.len());
    }
}

/// Our entry goes first in a flow list: its end would need a YAML-aware scan for the
/// matching `]`, its start is right here. GitLab does not care about the order.
fn prepend_to_flow_seq(text: &str, bracket: usize, edits: &mut Insertions) {
    let entry = format!("{{{}}}", edits.entry.trim_start_matches("- "));
    let separator = if flow_seq_is_empty(&text[bracket + 1..]) {
        ""
    } else {
        ", "
    };
    edits.insert(bracket + 1, format!("{entry}{separator}"));
}

fn flow_seq_is_empty(after_bracket: &str) -> bool {
    let mut rest = after_bracket;
    loop {
        rest = rest.trim_start();
        match rest.strip_prefix('#') {
            Some(comment) => rest = comment.split_once('\n').map_or("", |(_, r)| r),
            None => return rest.starts_with(']'),
        }
    }
}
