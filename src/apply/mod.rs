//! Stage 2, apply: a [`Series`](crate::input::series::Series) becomes commits in the
//! object database.
//!
//! `bases` finds the commit to build on (and `prerequisite` checks what a series says it
//! needs), `patch` parses and applies diffs to blobs, `commits` turns each patch into a
//! commit through `repo`, and `fsck` refuses what `git fsck` would.

pub mod bases;
pub mod commits;
pub mod fsck;
pub mod merged;
pub mod patch;
pub mod prerequisite;
