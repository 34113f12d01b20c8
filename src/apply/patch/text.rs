//! Applying text hunks the way `git apply` does (apply.c `apply_one_fragment`,
//! `find_pos`, `match_fragment`) with its defaults: no fuzz, no whitespace fixing, no
//! overlap.
//!
//! git rules kept here:
//! - the search starts at the hunk's *new* start line (earlier hunks already shifted the
//!   image), then tries lines +1, -1, +2, -2, ... outward;
//! - a hunk whose old start is 0 or 1 must match at the beginning, one without trailing
//!   context must match at the end;
//! - a hunk may not match lines an earlier hunk produced (git's LINE_PATCHED).
//!
//! git rewrites a line table per hunk and compares candidates line by line, which is
//! quadratic on large files. Here the image is a gap buffer of segments (untouched runs
//! of the original lines, and blocks an earlier hunk produced), positioned at the last
//! edit so hunks in order cost O(1) to reach, and a candidate position is checked with a
//! rolling hash over the original lines in O(1). A work budget bounds hostile offsets.

use std::cell::OnceCell;

use super::{ApplyError, Hunk, HunkLines, Line};

/// Which hunk failed, for [`HunkFailure::into_apply_error`].
#[derive(Debug)]
pub(crate) struct HunkFailure {
    index: usize,
    gave_up: bool,
}

impl HunkFailure {
    pub(crate) fn into_apply_error(self, hunks: &[Hunk], path: String) -> ApplyError {
        let (header, header_line) = hunks.get(self.index).map_or((String::new(), 0), |h| {
            (h.header.to_string(), h.header_line)
        });
        let hunk = self.index + 1;
        if self.gave_up {
            ApplyError::SearchLimit {
                path,
                hunk,
                header,
                header_line,
            }
        } else {
            ApplyError::HunkFailed {
                path,
                hunk,
                header,
                header_line,
            }
        }
    }
}

/// Where the hunks go in `old`, and whether some matched only ignoring CRs (1-based
/// numbers, see [`super::Applied::cr_tolerant_hunks`]).
pub(crate) fn apply_hunks<'a>(
    old: &'a [u8],
    hunks: &'a [Hunk],
) -> Result<(Postimage<'a>, Vec<usize>), HunkFailure> {
    let target = Target::new(old);
    let mut image = Image::new(target.line_count());
    let hunk_lines: usize = hunks.iter().map(|h| h.lines.len()).sum();
    let mut budget = Budget::for_sizes(target.line_count(), hunk_lines);
    let mut cr_tolerant_hunks = Vec::new();
    for (index, hunk) in hunks.iter().enumerate() {
        let gave_up = |_: OutOfBudget| HunkFailure {
            index,
            gave_up: true,
        };
        let rules = Rules::for_hunk(hunk);
        let expected = hunk.new_start.saturating_sub(1);
        let mut matching = Matching::Exact;
        let mut found = image
            .find(&target, &hunk.lines, expected, rules, matching, &mut budget)
            .map_err(gave_up)?;
        let replaced = preimage(&hunk.lines).count();
        if found.is_none() && replaced > 0 {
            matching = Matching::IgnoreTrailingCr;
            found = image
                .find(&target, &hunk.lines, expected, rules, matching, &mut budget)
                .map_err(gave_up)?;
            if found.is_some() {
                cr_tolerant_hunks.push(index + 1);
            }
        }
        let Some(at) = found else {
            return Err(HunkFailure {
                index,
                gave_up: false,
            });
        };
        let post = Block::new(&target, hunk, at.original, replaced, matching);
        if !image
            .splice(at.image, replaced, post, &mut budget)
            .map_err(gave_up)?
        {
            return Err(HunkFailure {
                index,
                gave_up: false,
            });
        }
    }
    Ok((image.into_postimage(target), cr_tolerant_hunks))
}

/// The lines the hunk expects to find: context and removed lines, in order.
fn preimage(lines: &HunkLines) -> impl Iterator<Item = &[u8]> + Clone {
    lines
        .iter()
        .filter(|line| line.is_preimage())
        .map(Line::text)
}

/// How the lines a hunk adds end, when it matched ignoring CRs. Context lines are
/// taken from the target, so that a CR-tolerant match never alters lines the patch
/// does not change; added lines get a CR when they replace a region of CRLF lines
/// and the mail lost it, and lose theirs when they replace a region of LF lines and
/// the mail added it (a mail client that sent the patch with CRLF line ends,
/// "quoted CR").
#[derive(Clone, Copy, PartialEq, Eq)]
enum AddedEnds {
    AsSent,
    RestoreCr,
    DropCr,
}

impl AddedEnds {
    /// For a hunk whose `window` preimage lines matched at target line `original`.
    fn for_match(target: &Target, original: usize, window: usize, matching: Matching) -> AddedEnds {
        if matching != Matching::IgnoreTrailingCr {
            return AddedEnds::AsSent;
        }
        if target.all_crlf(original, window) {
            AddedEnds::RestoreCr
        } else if target.none_crlf(original, window) {
            AddedEnds::DropCr
        } else {
            AddedEnds::AsSent
        }
    }

    /// The added line as it goes into the file: at most two pieces.
    fn pieces(self, line: &[u8]) -> [&[u8]; 2] {
        match self {
            AddedEnds::RestoreCr if line.ends_with(b"\n") && !line.ends_with(b"\r\n") => {
                [&line[..line.len() - 1], b"\r\n"]
            }
            AddedEnds::DropCr if line.ends_with(b"\r\n") => [&line[..line.len() - 2], b"\n"],
            _ => [line, b""],
        }
    }
}

#[derive(Clone, Copy)]
struct Rules {
    match_beginning: bool,
    match_end: bool,
}

impl Rules {
    fn for_hunk(hunk: &Hunk) -> Rules {
        let trailing_context = hunk
            .lines
            .iter()
            .rev()
            .take_while(|l| matches!(l, Line::Context(_)))
            .count();
        Rules {
            // -U0 patches would need --unidiff-zero in git; we follow git's default.
            match_beginning: hunk.old_start <= 1,
            match_end: trailing_context == 0,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Matching {
    Exact,
    IgnoreTrailingCr,
}

/// The line with a CR before its newline (or at its very end) removed, split as
/// (body, has newline) so no allocation is needed.
fn without_trailing_cr(line: &[u8]) -> (&[u8], bool) {
    let (body, newline) = match line.strip_suffix(b"\n") {
        Some(body) => (body, true),
        None => (line, false),
    };
    (body.strip_suffix(b"\r").unwrap_or(body), newline)
}

fn lines_equal(a: &[u8], b: &[u8], matching: Matching) -> bool {
    match matching {
        Matching::Exact => a == b,
        Matching::IgnoreTrailingCr => without_trailing_cr(a) == without_trailing_cr(b),
    }
}

// Polynomial hashing modulo the Mersenne prime 2^61 - 1.
const MODULUS: u64 = (1 << 61) - 1;
const BASE: u64 = 0x1f3d_5b79_a3c4_e1d7 % MODULUS;

fn mul_mod(a: u64, b: u64) -> u64 {
    ((u128::from(a) * u128::from(b)) % u128::from(MODULUS)) as u64
}

fn add_mod(a: u64, b: u64) -> u64 {
    (a + b) % MODULUS
}

fn line_hash(line: &[u8], matching: Matching) -> u64 {
    fn fnv(bytes: &[u8], mut h: u64) -> u64 {
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        h
    }
    let seed = 0xcbf2_9ce4_8422_2325;
    let h = match matching {
        Matching::Exact => fnv(line, seed),
        Matching::IgnoreTrailingCr => {
            let (body, newline) = without_trailing_cr(line);
            fnv(if newline { b"\n" } else { b"" }, fnv(body, seed))
        }
    };
    h % MODULUS
}

/// Rolling hashes of a line sequence: the hash of any window in O(1).
struct Hashes {
    prefix: Vec<u64>,
}

impl Hashes {
    fn new<'a>(lines: impl Iterator<Item = &'a [u8]>, matching: Matching) -> Hashes {
        let mut prefix = vec![0];
        let mut acc = 0;
        for line in lines {
            acc = add_mod(mul_mod(acc, BASE), line_hash(line, matching));
            prefix.push(acc);
        }
        Hashes { prefix }
    }

    fn window(&self, start: usize, len: usize, base_pow_len: u64) -> Option<u64> {
        let end = self.prefix.get(start.checked_add(len)?)?;
        let head = mul_mod(*self.prefix.get(start)?, base_pow_len);
        Some(add_mod(*end, MODULUS - head))
    }
}

/// The preimage to look for, with its hash. Its lines are read from the hunk when
/// needed: a list of them would be as long as the hunk.
struct Pattern<'p> {
    lines: &'p HunkLines,
    len: usize,
    hash: u64,
    base_pow_len: u64,
}

impl<'p> Pattern<'p> {
    fn new(lines: &'p HunkLines, matching: Matching) -> Pattern<'p> {
        // The same sum as `Hashes`, without keeping its prefixes.
        let (hash, len, base_pow_len) =
            preimage(lines).fold((0, 0, 1), |(hash, len, power), line| {
                let hash = add_mod(mul_mod(hash, BASE), line_hash(line, matching));
                (hash, len + 1, mul_mod(power, BASE))
            });
        Pattern {
            lines,
            len,
            hash,
            base_pow_len,
        }
    }

    fn lines(&self) -> impl Iterator<Item = &'p [u8]> {
        preimage(self.lines)
    }
}

/// The old content split into lines, with lazily built hashes for each way of matching.
struct Target<'a> {
    data: &'a [u8],
    /// Byte offset of each line, plus the total length at the end.
    starts: Vec<usize>,
    exact: OnceCell<Hashes>,
    ignoring_cr: OnceCell<Hashes>,
}

impl<'a> Target<'a> {
    fn new(data: &'a [u8]) -> Target<'a> {
        let mut starts: Vec<usize> = std::iter::once(0)
            .chain(
                data.iter()
                    .enumerate()
                    .filter(|(_, &c)| c == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .collect();
        if starts.last() != Some(&data.len()) {
            starts.push(data.len());
        }
        Target {
            data,
            starts,
            exact: OnceCell::new(),
            ignoring_cr: OnceCell::new(),
        }
    }

    fn line_count(&self) -> usize {
        self.starts.len() - 1
    }

    fn line(&self, i: usize) -> &'a [u8] {
        self.lines(i, i + 1)
    }

    /// Bytes of lines `from..to` (empty when out of range).
    fn lines(&self, from: usize, to: usize) -> &'a [u8] {
        match (self.starts.get(from), self.starts.get(to)) {
            (Some(&a), Some(&b)) if a <= b => &self.data[a..b],
            _ => &[],
        }
    }

    fn hashes(&self, matching: Matching) -> &Hashes {
        let cell = match matching {
            Matching::Exact => &self.exact,
            Matching::IgnoreTrailingCr => &self.ignoring_cr,
        };
        cell.get_or_init(|| Hashes::new((0..self.line_count()).map(|i| self.line(i)), matching))
    }

    /// Whether the window holds the pattern (hash first, then bytes to rule out
    /// collisions).
    fn window_matches(
        &self,
        start: usize,
        pattern: &Pattern,
        matching: Matching,
        budget: &mut Budget,
    ) -> Result<bool, OutOfBudget> {
        let len = pattern.len;
        if self
            .hashes(matching)
            .window(start, len, pattern.base_pow_len)
            != Some(pattern.hash)
        {
            return Ok(false);
        }
        budget.spend(len)?;
        Ok(pattern
            .lines()
            .enumerate()
            .all(|(k, expected)| lines_equal(self.line(start + k), expected, matching)))
    }

    /// Whether no line of the window ends in CRLF and one has a newline.
    fn none_crlf(&self, start: usize, len: usize) -> bool {
        let mut with_newline = (start..start + len)
            .map(|i| self.line(i))
            .filter(|l| l.ends_with(b"\n"))
            .peekable();
        with_newline.peek().is_some() && with_newline.all(|l| !l.ends_with(b"\r\n"))
    }

    /// Whether every line of the window that has a newline ends in CRLF (and one does).
    fn all_crlf(&self, start: usize, len: usize) -> bool {
        let mut with_newline = (start..start + len)
            .map(|i| self.line(i))
            .filter(|l| l.ends_with(b"\n"))
            .peekable();
        with_newline.peek().is_some() && with_newline.all(|l| l.ends_with(b"\r\n"))
    }
}

#[derive(Debug)]
struct OutOfBudget;

/// Caps the candidate checks and segment moves per file, so that a patch whose hunks
/// send the search far away again and again cannot take quadratic time.
struct Budget {
    left: u64,
}

impl Budget {
    fn for_sizes(target_lines: usize, hunk_lines: usize) -> Budget {
        let scale = (target_lines as u64).saturating_add(hunk_lines as u64);
        Budget {
            left: scale.saturating_mul(64).saturating_add(100_000_000),
        }
    }

    fn spend(&mut self, units: usize) -> Result<(), OutOfBudget> {
        self.left = self.left.checked_sub(units as u64).ok_or(OutOfBudget)?;
        Ok(())
    }
}

/// The lines a hunk produced, never matched again. They are described, not copied:
/// context lines are the target's, added lines the hunk's, so that the result of a
/// huge hunk exists only when it is written out.
struct Block<'a> {
    hunk: &'a Hunk,
    /// The target line the hunk's first preimage line matched.
    original: usize,
    added: AddedEnds,
    lines: usize,
    bytes: usize,
}

impl<'a> Block<'a> {
    /// The block of `hunk`, whose `replaced` preimage lines matched at target line
    /// `original`.
    fn new(
        target: &Target,
        hunk: &'a Hunk,
        original: usize,
        replaced: usize,
        matching: Matching,
    ) -> Block<'a> {
        let mut block = Block {
            hunk,
            original,
            added: AddedEnds::for_match(target, original, replaced, matching),
            lines: hunk.lines.iter().filter(|l| l.is_postimage()).count(),
            bytes: 0,
        };
        block.bytes = block.pieces(target).map(<[u8]>::len).sum();
        block
    }

    /// The block's bytes, in pieces.
    fn pieces<'t>(&'t self, target: &'t Target<'a>) -> impl Iterator<Item = &'t [u8]> + 't {
        let mut next_original = self.original;
        self.hunk.lines.iter().flat_map(move |line| {
            let pieces: [&[u8]; 2] = match line {
                Line::Context(_) => {
                    next_original += 1;
                    [target.line(next_original - 1), b""]
                }
                Line::Remove(_) => {
                    next_original += 1;
                    [b"", b""]
                }
                Line::Add(text) => self.added.pieces(text),
            };
            pieces.into_iter().filter(|piece| !piece.is_empty())
        })
    }
}

enum Segment<'a> {
    /// Original lines `start..end`, untouched so far.
    Original {
        start: usize,
        end: usize,
    },
    Patched(Block<'a>),
}

impl Segment<'_> {
    fn lines(&self) -> usize {
        match self {
            Segment::Original { start, end } => end - start,
            Segment::Patched(block) => block.lines,
        }
    }
}

/// Where a hunk matched: image line and original line of the window's start.
struct Position {
    image: usize,
    original: usize,
}

/// The file as hunks transform it: segments before the cursor in `left`, from the
/// cursor on in `right` (reversed, so the segment at the cursor is `right.last()`).
struct Image<'a> {
    left: Vec<Segment<'a>>,
    right: Vec<Segment<'a>>,
    left_lines: usize,
    total_lines: usize,
}

impl<'a> Image<'a> {
    fn new(lines: usize) -> Image<'a> {
        let right = if lines > 0 {
            vec![Segment::Original {
                start: 0,
                end: lines,
            }]
        } else {
            Vec::new()
        };
        Image {
            left: Vec::new(),
            right,
            left_lines: 0,
            total_lines: lines,
        }
    }

    fn segment_count(&self) -> usize {
        self.left.len() + self.right.len()
    }

    /// Segment by position in file order.
    fn segment(&self, index: usize) -> Option<&Segment<'a>> {
        match index.checked_sub(self.left.len()) {
            None => self.left.get(index),
            Some(in_right) => self
                .right
                .len()
                .checked_sub(in_right + 1)
                .and_then(|i| self.right.get(i)),
        }
    }

    /// Moves the cursor so that image line `line` is in `right.last()` (or `right` is
    /// empty when `line` is the end of the file).
    fn move_cursor_to(&mut self, line: usize, budget: &mut Budget) -> Result<(), OutOfBudget> {
        while self.left_lines > line {
            let Some(segment) = self.left.pop() else {
                break;
            };
            budget.spend(1)?;
            self.left_lines -= segment.lines();
            self.right.push(segment);
        }
        while let Some(segment) = self.right.last() {
            if self.left_lines + segment.lines() > line {
                break;
            }
            budget.spend(1)?;
            self.left_lines += segment.lines();
            if let Some(segment) = self.right.pop() {
                self.left.push(segment);
            }
        }
        Ok(())
    }

    fn find(
        &mut self,
        target: &Target,
        lines: &HunkLines,
        expected: usize,
        rules: Rules,
        matching: Matching,
        budget: &mut Budget,
    ) -> Result<Option<Position>, OutOfBudget> {
        let pattern = Pattern::new(lines, matching);
        let len = pattern.len;
        if rules.match_beginning || rules.match_end {
            let at = if rules.match_beginning {
                Some(0)
            } else {
                self.total_lines.checked_sub(len)
            };
            let Some(at) = at else { return Ok(None) };
            if rules.match_end && at + len != self.total_lines {
                return Ok(None);
            }
            return self.check_single(target, &pattern, at, matching, budget);
        }
        if len == 0 {
            // Unreachable with git's rules (no context means match_end), kept total.
            let at = expected.min(self.total_lines);
            return Ok(Some(Position {
                image: at,
                original: 0,
            }));
        }
        self.search_outward(
            target,
            &pattern,
            expected.min(self.total_lines),
            matching,
            budget,
        )
    }

    fn check_single(
        &mut self,
        target: &Target,
        pattern: &Pattern,
        at: usize,
        matching: Matching,
        budget: &mut Budget,
    ) -> Result<Option<Position>, OutOfBudget> {
        let len = pattern.len;
        if len == 0 {
            return Ok(Some(Position {
                image: at,
                original: 0,
            }));
        }
        self.move_cursor_to(at, budget)?;
        let Some(&Segment::Original { start, end }) = self.right.last() else {
            return Ok(None);
        };
        let original = start + (at - self.left_lines);
        if original + len > end || !target.window_matches(original, pattern, matching, budget)? {
            return Ok(None);
        }
        Ok(Some(Position {
            image: at,
            original,
        }))
    }

    /// git's find_pos order: `expected`, then +1, -1, +2, -2, ... (forward first on
    /// ties), skipping windows that are not inside one untouched run.
    fn search_outward(
        &mut self,
        target: &Target,
        pattern: &Pattern,
        expected: usize,
        matching: Matching,
        budget: &mut Budget,
    ) -> Result<Option<Position>, OutOfBudget> {
        self.move_cursor_to(expected, budget)?;
        let len = pattern.len;
        let mut forward = Walker::new(self.left.len(), self.left_lines, Some(expected));
        let mut backward = Walker::new(self.left.len(), self.left_lines, expected.checked_sub(1));
        let mut next_forward = forward.next_forward(self, len, budget)?;
        let mut next_backward = backward.next_backward(self, len, budget)?;
        loop {
            let take_forward = match (&next_forward, &next_backward) {
                (None, None) => return Ok(None),
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(f), Some(b)) => f.image - expected <= expected - b.image,
            };
            let candidate = if take_forward {
                &next_forward
            } else {
                &next_backward
            };
            if let Some(candidate) = candidate {
                budget.spend(1)?;
                if target.window_matches(candidate.original, pattern, matching, budget)? {
                    let image = candidate.image;
                    let original = candidate.original;
                    return Ok(Some(Position { image, original }));
                }
            }
            if take_forward {
                next_forward = forward.next_forward(self, len, budget)?;
            } else {
                next_backward = backward.next_backward(self, len, budget)?;
            }
        }
    }

    /// Replaces `len` lines at image line `at` (inside one untouched run) by `block`.
    /// False when the position is not usable (never after a successful `find`).
    fn splice(
        &mut self,
        at: usize,
        len: usize,
        block: Block<'a>,
        budget: &mut Budget,
    ) -> Result<bool, OutOfBudget> {
        self.move_cursor_to(at, budget)?;
        let added = block.lines;
        if len == 0 && at == self.left_lines {
            self.left.push(Segment::Patched(block));
        } else {
            let Some(&Segment::Original { start, end }) = self.right.last() else {
                return Ok(false);
            };
            let split = start + (at - self.left_lines);
            if split + len > end {
                return Ok(false);
            }
            self.right.pop();
            if split > start {
                self.left.push(Segment::Original { start, end: split });
                self.left_lines += split - start;
            }
            self.left.push(Segment::Patched(block));
            if split + len < end {
                self.right.push(Segment::Original {
                    start: split + len,
                    end,
                });
            }
        }
        self.left_lines += added;
        self.total_lines = self.total_lines - len + added;
        Ok(true)
    }

    /// The segments in file order, with what they read from.
    fn into_postimage(self, mut target: Target<'a>) -> Postimage<'a> {
        // The hashes served the search only.
        target.exact.take();
        target.ignoring_cr.take();
        let mut segments = self.left;
        segments.extend(self.right.into_iter().rev());
        let len = segments
            .iter()
            .map(|segment| match segment {
                Segment::Original { start, end } => target.lines(*start, *end).len(),
                Segment::Patched(block) => block.bytes,
            })
            .sum();
        Postimage {
            target,
            segments,
            len,
        }
    }
}

/// A file's content after its hunks: untouched runs of the old content and the
/// hunks' blocks, read piece by piece rather than copied into one buffer.
pub(crate) struct Postimage<'a> {
    target: Target<'a>,
    segments: Vec<Segment<'a>>,
    len: usize,
}

impl Postimage<'_> {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn pieces(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.segments.iter().flat_map(move |segment| {
            let (run, block) = match segment {
                Segment::Original { start, end } => (Some(self.target.lines(*start, *end)), None),
                Segment::Patched(block) => (None, Some(block.pieces(&self.target))),
            };
            run.into_iter().chain(block.into_iter().flatten())
        })
    }
}

/// Walks candidate window starts through the segments in one direction.
struct Walker {
    /// Segment being examined (may be one past the last) and its first image line.
    segment: usize,
    segment_start: usize,
    /// Next image line to offer, None when exhausted.
    next: Option<usize>,
}

impl Walker {
    fn new(segment: usize, segment_start: usize, next: Option<usize>) -> Walker {
        Walker {
            segment,
            segment_start,
            next,
        }
    }

    /// Window starts inside `segment` as (first, last) image lines and the original line
    /// of the first, when the segment is an untouched run long enough for `len` lines.
    fn window_range(&self, image: &Image<'_>, len: usize) -> Option<(usize, usize, usize)> {
        match image.segment(self.segment)? {
            &Segment::Original { start, end } if end - start >= len => Some((
                self.segment_start,
                self.segment_start + (end - start - len),
                start,
            )),
            _ => None,
        }
    }

    fn next_forward(
        &mut self,
        image: &Image<'_>,
        len: usize,
        budget: &mut Budget,
    ) -> Result<Option<Position>, OutOfBudget> {
        loop {
            let Some(want) = self.next else {
                return Ok(None);
            };
            if self.segment >= image.segment_count() {
                self.next = None;
                return Ok(None);
            }
            if let Some((first, last, original_first)) = self.window_range(image, len) {
                let at = want.max(first);
                if at <= last {
                    self.next = Some(at + 1);
                    return Ok(Some(Position {
                        image: at,
                        original: original_first + (at - first),
                    }));
                }
            }
            budget.spend(1)?;
            self.segment_start += image.segment(self.segment).map_or(0, Segment::lines);
            self.segment += 1;
        }
    }

    fn next_backward(
        &mut self,
        image: &Image<'_>,
        len: usize,
        budget: &mut Budget,
    ) -> Result<Option<Position>, OutOfBudget> {
        loop {
            let Some(want) = self.next else {
                return Ok(None);
            };
            if let Some((first, last, original_first)) = self.window_range(image, len) {
                let at = want.min(last);
                if at >= first {
                    self.next = at.checked_sub(1);
                    return Ok(Some(Position {
                        image: at,
                        original: original_first + (at - first),
                    }));
                }
            }
            if self.segment == 0 {
                self.next = None;
                return Ok(None);
            }
            budget.spend(1)?;
            self.segment -= 1;
            let lines = image.segment(self.segment).map_or(0, Segment::lines);
            self.segment_start = self.segment_start.saturating_sub(lines);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bstr::BString;

    fn hunk(old_start: usize, new_start: usize, body: &str) -> Hunk {
        hunk_of(old_start, new_start, &lines_of(body))
    }

    fn lines_of(body: &str) -> Vec<Line<'_>> {
        body.split_inclusive('\n')
            .map(|l| {
                let (marker, rest) = l.split_at(1);
                match marker {
                    " " => Line::Context(rest.as_bytes()),
                    "-" => Line::Remove(rest.as_bytes()),
                    "+" => Line::Add(rest.as_bytes()),
                    _ => panic!("bad test line {l:?}"),
                }
            })
            .collect()
    }

    fn hunk_of(old_start: usize, new_start: usize, lines: &[Line]) -> Hunk {
        let old_lines = lines.iter().filter(|l| l.is_preimage()).count();
        let new_lines = lines.iter().filter(|l| l.is_postimage()).count();
        Hunk {
            old_start,
            old_lines,
            new_start,
            new_lines,
            header_line: 7,
            header: BString::from(format!(
                "@@ -{old_start},{old_lines} +{new_start},{new_lines} @@"
            )),
            lines: HunkLines::from_lines(lines.iter().copied()),
        }
    }

    fn numbered(n: usize) -> String {
        (1..=n).map(|i| format!("line {i}\n")).collect()
    }

    fn apply(old: &str, hunks: &[Hunk]) -> Result<String, HunkFailure> {
        apply_hunks(old.as_bytes(), hunks)
            .map(|(post, _)| String::from_utf8(content(&post)).unwrap())
    }

    fn content(post: &Postimage) -> Vec<u8> {
        let bytes: Vec<u8> = post.pieces().flatten().copied().collect();
        assert_eq!(bytes.len(), post.len(), "the length is the pieces' sum");
        bytes
    }

    #[test]
    fn applies_at_stated_position() {
        let h = hunk(
            4,
            4,
            " line 4\n line 5\n line 6\n-line 7\n+seven\n line 8\n line 9\n line 10\n",
        );
        let out = apply(&numbered(12), &[h]).unwrap();
        assert_eq!(out, numbered(12).replace("line 7\n", "seven\n"));
    }

    #[test]
    fn finds_offset_both_directions() {
        let h = hunk(
            4,
            4,
            " line 4\n line 5\n line 6\n-line 7\n+seven\n line 8\n line 9\n line 10\n",
        );
        let shifted_down = format!("extra\nextra\n{}", numbered(12));
        assert_eq!(
            apply(&shifted_down, std::slice::from_ref(&h)).unwrap(),
            shifted_down.replace("line 7\n", "seven\n")
        );
        let shifted_up = numbered(12).replacen("line 1\nline 2\n", "", 1);
        assert_eq!(
            apply(&shifted_up, &[h]).unwrap(),
            shifted_up.replace("line 7\n", "seven\n")
        );
    }

    #[test]
    fn prefers_nearest_match_forward_on_ties() {
        // "x y b" at 0-based lines 1 and 5.
        let old = "a\nx\ny\nb\nq\nx\ny\nb\nc\n";
        // Expected at line 3: both are 2 away and git tries forward first.
        let h = hunk(4, 4, " x\n-y\n+z\n b\n");
        assert_eq!(apply(old, &[h]).unwrap(), "a\nx\ny\nb\nq\nx\nz\nb\nc\n");
        // Expected at line 2: the earlier one is nearer.
        let h = hunk(4, 3, " x\n-y\n+z\n b\n");
        assert_eq!(apply(old, &[h]).unwrap(), "a\nx\nz\nb\nq\nx\ny\nb\nc\n");
    }

    #[test]
    fn beginning_and_end_anchors() {
        // No leading context and old start 1: must match at the start, not at line 3.
        let h = hunk(1, 1, "-a\n+A\n b\n");
        assert_eq!(
            apply("a\nb\na\nb\n", std::slice::from_ref(&h)).unwrap(),
            "A\nb\na\nb\n"
        );
        assert!(apply("z\na\nb\n", &[h]).is_err());
        // No trailing context: must match at the end.
        let h = hunk(2, 2, " a\n-b\n+B\n");
        assert_eq!(
            apply("x\na\nb\na\nb\n", std::slice::from_ref(&h)).unwrap(),
            "x\na\nb\na\nB\n"
        );
        assert!(apply("x\na\nb\nc\n", &[h]).is_err());
    }

    #[test]
    fn later_hunk_cannot_match_patched_lines() {
        // The second hunk's context is the first hunk's output: git refuses overlap.
        let first = hunk(2, 2, " a\n-b\n+c\n d\n");
        let second = hunk(2, 2, " a\n-c\n+e\n d\n");
        let err = apply("0\na\nb\nd\n9\n", &[first, second]).unwrap_err();
        assert_eq!(err.index, 1);
    }

    #[test]
    fn hunks_apply_in_order_with_shifts() {
        let old = numbered(30);
        let first = hunk(
            2,
            2,
            " line 2\n line 3\n line 4\n+new a\n+new b\n line 5\n line 6\n line 7\n",
        );
        let second = hunk(
            20,
            22,
            " line 20\n line 21\n line 22\n-line 23\n line 24\n line 25\n line 26\n",
        );
        let out = apply(&old, &[first, second]).unwrap();
        assert_eq!(
            out,
            old.replace("line 4\n", "line 4\nnew a\nnew b\n")
                .replace("line 23\n", "")
        );
    }

    #[test]
    fn creation_and_deletion() {
        let create = hunk(0, 1, "+a\n+b\n");
        assert_eq!(apply("", std::slice::from_ref(&create)).unwrap(), "a\nb\n");
        assert!(apply("x\n", &[create]).is_err());
        let delete = hunk(1, 0, "-a\n-b\n");
        assert_eq!(apply("a\nb\n", std::slice::from_ref(&delete)).unwrap(), "");
        assert!(apply("a\nb\nc\n", &[delete]).is_err());
    }

    #[test]
    fn missing_newline_lines_match_exactly() {
        let mut lines = vec![Line::Context(b"x\n")];
        lines.extend(lines_of("-a\n-b"));
        lines.push(Line::Add(b"b\n"));
        let h = hunk_of(1, 1, &lines);
        assert_eq!(
            apply("x\na\nb", std::slice::from_ref(&h)).unwrap(),
            "x\nb\n"
        );
        assert!(apply("x\na\nb\n", &[h]).is_err());
    }

    #[test]
    fn crlf_target_with_stripped_patch() {
        let old = "one\r\ntwo\r\nthree\r\nfour\r\n";
        let h = hunk(1, 1, " one\n-two\n+TWO\n+2b\n three\n four\n");
        let hunks = [h];
        let (post, cr_tolerant_hunks) = apply_hunks(old.as_bytes(), &hunks).unwrap();
        assert_eq!(content(&post), b"one\r\nTWO\r\n2b\r\nthree\r\nfour\r\n");
        assert_eq!(cr_tolerant_hunks, vec![1]);
    }

    #[test]
    fn lf_target_with_crlf_patch_gets_no_cr() {
        let old = "one\ntwo\nthree\n";
        let h = hunk(1, 1, " one\r\n-two\r\n+TWO\r\n three\r\n");
        let hunks = [h];
        let (post, cr_tolerant_hunks) = apply_hunks(old.as_bytes(), &hunks).unwrap();
        assert_eq!(content(&post), b"one\nTWO\nthree\n");
        assert_eq!(cr_tolerant_hunks, vec![1]);
    }

    #[test]
    fn exact_match_wins_over_cr_tolerance() {
        let old = "one\ntwo\nthree\n";
        let h = hunk(1, 1, " one\n-two\n+TWO\n three\n");
        let hunks = [h];
        let (post, cr_tolerant_hunks) = apply_hunks(old.as_bytes(), &hunks).unwrap();
        assert_eq!(content(&post), b"one\nTWO\nthree\n");
        assert!(cr_tolerant_hunks.is_empty());
    }

    #[test]
    fn mixed_endings_get_no_cr_added() {
        let old = "one\r\ntwo\nthree\r\n";
        let h = hunk(1, 1, " one\n-two\n+TWO\n three\n");
        let hunks = [h];
        let (post, cr_tolerant_hunks) = apply_hunks(old.as_bytes(), &hunks).unwrap();
        assert_eq!(content(&post), b"one\r\nTWO\nthree\r\n");
        assert_eq!(cr_tolerant_hunks, vec![1]);
    }

    #[test]
    fn cr_tolerance_keeps_untouched_lines() {
        let old = "a\r\nb\r\nc\r\nd\r\ne\r\nf\r\ng\r\n";
        let h = hunk(2, 2, " b\n c\n-d\n+D\n e\n f\n");
        let hunks = [h];
        let (post, cr_tolerant_hunks) = apply_hunks(old.as_bytes(), &hunks).unwrap();
        assert_eq!(content(&post), b"a\r\nb\r\nc\r\nD\r\ne\r\nf\r\ng\r\n");
        assert_eq!(cr_tolerant_hunks, vec![1]);
    }

    #[test]
    fn large_file_many_hunks_apply() {
        let n = 200_000;
        let old = numbered(n);
        let mut hunks = Vec::new();
        for k in (10..n - 10).step_by(100) {
            // Offset every hunk by 3 lines to exercise the search.
            let body = format!(
                " line {}\n line {}\n-line {}\n+changed {}\n line {}\n line {}\n",
                k,
                k + 1,
                k + 2,
                k,
                k + 3,
                k + 4
            );
            hunks.push(hunk(k + 3, k + 3, &body));
        }
        // Its speed is contrib/bench.sh's to measure, not a test's.
        let out = apply(&old, &hunks).unwrap();
        assert!(out.contains("changed 10\n") && !out.contains("line 12\n"));
    }

    #[test]
    fn budget_stops_hostile_search() {
        let mut budget = Budget { left: 10 };
        let old = numbered(1000);
        let target = Target::new(old.as_bytes());
        let mut image = Image::new(target.line_count());
        let lines = HunkLines::from_lines([Line::Context(b"nope\n"), Line::Context(b"line 1\n")]);
        let rules = Rules {
            match_beginning: false,
            match_end: false,
        };
        assert!(image
            .find(&target, &lines, 500, rules, Matching::Exact, &mut budget)
            .is_err());
    }

    #[test]
    fn failure_names_the_hunk() {
        let hunks = vec![
            hunk(1, 1, " a\n-b\n+c\n d\n"),
            hunk(10, 10, " x\n-y\n+z\n w\n"),
        ];
        let Err(failure) = apply_hunks(b"a\nb\nd\n", &hunks) else {
            panic!("hunk #2 applied");
        };
        let message = failure.into_apply_error(&hunks, "f.c".into()).to_string();
        assert_eq!(
            message,
            "f.c: hunk #2 @@ -10,3 +10,3 @@ (patch line 7) does not apply"
        );
    }
}
