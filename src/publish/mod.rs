//! Stage 4, publish: the tip becomes a tag on the ci-hub.
//!
//! `tag` names and writes `patchew/<msgid>`, `push` hands tags to `git push`
//! (through `transport`), and the pre-push hook (`pre_push`, installed by `install`)
//! runs `check` on every tag before it leaves.

pub mod check;
pub mod install;
pub mod pre_push;
pub mod prune;
pub mod push;
pub mod tag;
