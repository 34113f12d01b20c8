//! The 3-way text merge of one file (what `git am -3` falls back to), kept beside
//! `repo` because it is built on gix's diff; see [`merge_blobs`] for why not gix's own
//! merge.

use std::fmt;

/// What a 3-way merge of one file's content gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeOutcome {
    Clean(Vec<u8>),
    /// Both sides changed the same or adjacent lines differently. `ranges` may be empty
    /// when the conflicts could not be located (they are recomputed for the message).
    Conflict {
        ranges: Vec<ConflictRange>,
    },
}

/// One conflicting region, as 1-based line ranges of the two files a reader knows:
/// ours (the file being patched) and the base (the patch's preimage).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConflictRange {
    pub ours: LineRange,
    pub base: LineRange,
}

/// `len` lines from line `start` (1-based); `len == 0` is the gap before `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineRange {
    pub start: usize,
    pub len: usize,
}

impl fmt::Display for LineRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.len {
            0 if self.start <= 1 => write!(f, "before line 1"),
            0 => write!(f, "after line {}", self.start - 1),
            1 => write!(f, "line {}", self.start),
            n => write!(f, "lines {}-{}", self.start, self.start + n - 1),
        }
    }
}

/// The diff algorithm of the merge. C git's `am -3` (merge-recursive up to git 2.49,
/// and `git merge-file`) uses Myers; it decides which changes overlap, so it decides
/// clean versus conflict.
const MERGE_DIFF_ALGORITHM: gix::diff::blob::Algorithm = gix::diff::blob::Algorithm::Myers;

/// Merges the changes `base -> ours` and `base -> theirs` of one text file the way
/// `git merge-file` (xdiff's `xdl_merge` at git's default level) does: changes of the
/// two sides whose base ranges overlap or touch form one region, which conflicts
/// unless both sides turned it into the same lines. Trivial cases are decided by
/// equality first, as git's merge does by blob id.
///
/// gix's built-in text merge is not used: it places ambiguous hunks (a line added
/// next to an identical one) with the indent heuristic of `git diff`, while git's
/// merge has no slider heuristic and slides them down, so the two disagree on which
/// changes touch; measured on generated cases against `git am -3`. Nor is
/// `Repository::merge_resource_cache`: it takes attributes from HEAD's index (not the
/// tree being patched, and arbitrary in a bare applier repository), may run external
/// merge drivers from the configuration, and wants all three sides written first.
pub fn merge_blobs(base: &[u8], ours: &[u8], theirs: &[u8]) -> MergeOutcome {
    if ours == theirs || theirs == base {
        return MergeOutcome::Clean(ours.to_vec());
    }
    if ours == base {
        return MergeOutcome::Clean(theirs.to_vec());
    }
    let (base_lines, ours_lines, theirs_lines) =
        (line_starts(base), line_starts(ours), line_starts(theirs));
    let mut out = Vec::with_capacity(ours.len().max(theirs.len()));
    let mut ranges = Vec::new();
    let mut base_done = 0;
    for region in regions(base, ours, theirs) {
        out.extend_from_slice(slice_lines(
            base,
            &base_lines,
            &(base_done..region.base.start),
        ));
        base_done = region.base.end;
        let ours_part = slice_lines(ours, &ours_lines, &region.ours);
        let theirs_part = slice_lines(theirs, &theirs_lines, &region.theirs);
        match (region.changed_by_ours, region.changed_by_theirs) {
            (true, false) => out.extend_from_slice(ours_part),
            (false, true) => out.extend_from_slice(theirs_part),
            _ if ours_part == theirs_part => out.extend_from_slice(ours_part),
            _ => ranges.push(ConflictRange {
                ours: LineRange {
                    start: region.ours.start + 1,
                    len: region.ours.len(),
                },
                base: LineRange {
                    start: region.base.start + 1,
                    len: region.base.len(),
                },
            }),
        }
    }
    if !ranges.is_empty() {
        return MergeOutcome::Conflict { ranges };
    }
    out.extend_from_slice(slice_lines(
        base,
        &base_lines,
        &(base_done..base_lines.len().saturating_sub(1)),
    ));
    MergeOutcome::Clean(out)
}

/// A change of one side, in line numbers (0-based, half-open).
#[derive(Debug, Clone)]
struct SideHunk {
    theirs: bool,
    before: std::ops::Range<usize>,
    after: std::ops::Range<usize>,
}

/// The hunks of `base -> side` as xdiff makes them for a merge: Myers, then each
/// ambiguous group slid as far down as it goes unless that splits it from a change
/// of the other file (`xdl_change_compact` without a heuristic).
fn side_hunks(base: &[u8], side: &[u8], theirs: bool) -> Vec<SideHunk> {
    use gix::diff::blob::{sources::byte_lines, Diff, InternedInput};
    let input = InternedInput::new(byte_lines(base), byte_lines(side));
    let mut diff = Diff::compute(MERGE_DIFF_ALGORITHM, &input);
    diff.postprocess_no_heuristic(&input);
    diff.hunks()
        .map(|h| SideHunk {
            theirs,
            before: h.before.start as usize..h.before.end as usize,
            after: h.after.start as usize..h.after.end as usize,
        })
        .collect()
}

/// A region of the merge, in 0-based half-open line ranges of each file.
struct Region {
    base: std::ops::Range<usize>,
    ours: std::ops::Range<usize>,
    theirs: std::ops::Range<usize>,
    changed_by_ours: bool,
    changed_by_theirs: bool,
}

/// The changed regions of a merge, in order: hunks of the two sides whose base
/// ranges overlap or touch are one region (`xdl_do_merge` keeps changes apart only
/// when at least one unchanged base line separates them).
fn regions(base: &[u8], ours: &[u8], theirs: &[u8]) -> Vec<Region> {
    let mut hunks = side_hunks(base, ours, false);
    hunks.extend(side_hunks(base, theirs, true));
    hunks.sort_by_key(|h| (h.before.start, h.before.end));
    let mut regions = Vec::new();
    // Line count difference of each side before the current region.
    let (mut ours_shift, mut theirs_shift) = (0isize, 0isize);
    let mut i = 0;
    while i < hunks.len() {
        let (start, mut end) = (hunks[i].before.start, hunks[i].before.end);
        let mut j = i + 1;
        while j < hunks.len() && hunks[j].before.start <= end {
            end = end.max(hunks[j].before.end);
            j += 1;
        }
        let group = &hunks[i..j];
        let growth = |theirs: bool| -> isize {
            group
                .iter()
                .filter(|h| h.theirs == theirs)
                .map(|h| h.after.len() as isize - h.before.len() as isize)
                .sum()
        };
        let (ours_growth, theirs_growth) = (growth(false), growth(true));
        regions.push(Region {
            base: start..end,
            ours: shifted(start, end, ours_shift, ours_growth),
            theirs: shifted(start, end, theirs_shift, theirs_growth),
            changed_by_ours: group.iter().any(|h| !h.theirs),
            changed_by_theirs: group.iter().any(|h| h.theirs),
        });
        ours_shift += ours_growth;
        theirs_shift += theirs_growth;
        i = j;
    }
    regions
}

fn shifted(start: usize, end: usize, shift: isize, growth: isize) -> std::ops::Range<usize> {
    let s = (start as isize + shift).max(0) as usize;
    let e = (end as isize + shift + growth).max(s as isize) as usize;
    s..e
}

/// Byte offset of the start of each line, plus the length of `data` at the end: line
/// `i` is `starts[i]..starts[i + 1]`.
fn line_starts(data: &[u8]) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(
        data.iter()
            .enumerate()
            .filter(|(i, b)| **b == b'\n' && i + 1 < data.len())
            .map(|(i, _)| i + 1),
    );
    starts.push(data.len());
    if data.is_empty() {
        starts.pop();
    }
    starts
}

fn slice_lines<'d>(data: &'d [u8], starts: &[usize], lines: &std::ops::Range<usize>) -> &'d [u8] {
    let at = |line: usize| starts.get(line).copied().unwrap_or(data.len());
    &data[at(lines.start)..at(lines.end).max(at(lines.start))]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(base: &str, ours: &str, theirs: &str) -> Option<String> {
        match merge_blobs(base.as_bytes(), ours.as_bytes(), theirs.as_bytes()) {
            MergeOutcome::Clean(out) => Some(String::from_utf8(out).unwrap()),
            MergeOutcome::Conflict { .. } => None,
        }
    }

    #[test]
    fn changes_one_line_apart_merge_and_touching_ones_conflict() {
        let base = "1\n2\n3\n4\n5\n";
        assert_eq!(
            clean(base, "1\nA\n3\n4\n5\n", "1\n2\n3\nB\n5\n").as_deref(),
            Some("1\nA\n3\nB\n5\n")
        );
        assert_eq!(clean(base, "1\nA\n3\n4\n5\n", "1\n2\nB\n4\n5\n"), None);
        // The same change on both sides is no conflict.
        assert_eq!(
            clean(base, "1\nA\n3\n4\n5\nours\n", "1\nA\n3\n4\n5\n").as_deref(),
            Some("1\nA\n3\n4\n5\nours\n")
        );
        assert_eq!(
            merge_blobs(base.as_bytes(), b"1\nA\nA\n4\n5\n", b"1\nB\n3\n4\n5\n"),
            MergeOutcome::Conflict {
                ranges: vec![ConflictRange {
                    ours: LineRange { start: 2, len: 2 },
                    base: LineRange { start: 2, len: 2 },
                }]
            }
        );
    }

    /// Their `}` added after an identical line goes last, as git's merge places it
    /// (no indent heuristic), so it does not touch our change above: `git merge-file`
    /// gives exactly this result, where gix's built-in merge reports a conflict.
    #[test]
    fn ambiguous_additions_slide_down_as_in_git() {
        let base = "l0\n    return 0;\n    return 0;\n{\n\n}\n    return 0;\nl7\n";
        let ours = "l0\n    return 0;\n    return 0;\nours 1\nours 2\n}\n}\n    return 0;\nl7\n";
        let theirs = "l0\n    return 0;\n    return 0;\n{\n\n}\n}\n    return 0;\nl7\n";
        assert_eq!(
            clean(base, ours, theirs).as_deref(),
            Some("l0\n    return 0;\n    return 0;\nours 1\nours 2\n}\n}\n}\n    return 0;\nl7\n")
        );
    }
}
