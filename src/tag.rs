//! Series tags: the name a series is tagged under, and writing that tag.
//!
//! The name is the prefix plus the message-id in its ref-name form
//! ([`MessageId::ref_component`]); the tag is written last, in one ref transaction,
//! so that a failed run leaves no tag behind.

use crate::msgid::{MessageId, MessageIdError, MAX_REF_COMPONENT};
use crate::repo::{Expect, Oid, RefUpdate, Repo, RepoError};

#[derive(Debug, thiserror::Error)]
pub enum TagError {
    #[error("cannot create {tag}: {lock} exists: another git process is updating it, or one was killed while doing so (remove the file if none is running)")]
    Locked { tag: String, lock: String },
    #[error("{tag} was created by another process meanwhile (it points to {now}; use --force to replace it)")]
    Raced { tag: String, now: Oid },
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// The tag name (without `refs/tags/`), e.g. `patchew/<id>`.
pub fn name(id: &MessageId, prefix: &str) -> String {
    format!("{}/{}", prefix.trim_end_matches('/'), id.ref_component())
}

/// The full ref name, `refs/tags/<prefix>/<id>`.
pub fn ref_name(id: &MessageId, prefix: &str) -> String {
    format!("refs/tags/{}", name(id, prefix))
}

/// [`ref_name`] for a tag we are about to create: refused when its last component
/// is longer than [`MAX_REF_COMPONENT`] bytes.
pub fn checked_ref_name(id: &MessageId, prefix: &str) -> Result<String, MessageIdError> {
    checked_name(id, prefix).map(|n| format!("refs/tags/{n}"))
}

/// [`name`] for a tag we are about to create: refused when its last component is
/// longer than [`MAX_REF_COMPONENT`] bytes.
pub fn checked_name(id: &MessageId, prefix: &str) -> Result<String, MessageIdError> {
    let len = id.ref_component().len();
    if len > MAX_REF_COMPONENT {
        let raw = id.as_str();
        let cut = (0..=40)
            .rev()
            .find(|&i| raw.is_char_boundary(i))
            .unwrap_or(0);
        return Err(MessageIdError::TooLong {
            prefix: raw.get(..cut).unwrap_or(raw).to_owned(),
            len,
        });
    }
    Ok(name(id, prefix))
}

/// Points the tag `ref_name` at `target`; `replace` allows an existing tag to move.
pub fn write(repo: &Repo, ref_name: &str, target: Oid, replace: bool) -> Result<(), TagError> {
    let update = RefUpdate {
        name: ref_name.to_owned(),
        new: target,
        expect: if replace { Expect::Any } else { Expect::Absent },
    };
    match repo.update_refs(&[update], "git patchew apply") {
        Ok(()) => Ok(()),
        Err(e) => explain_ref_failure(repo, ref_name, target, e),
    }
}

/// Turns a failed tag transaction into a message a person can act on. Another run
/// (the same series fetched twice, two appliers) may hold the ref's lock or have
/// created the tag between our check and our transaction. If it tagged the very
/// commit we tagged, as the same series applied within the same second does, the
/// outcome is the one we wanted: not an error.
fn explain_ref_failure(
    repo: &Repo,
    tag: &str,
    head: Oid,
    error: RepoError,
) -> Result<(), TagError> {
    let lock = repo.common_dir().join(format!("{tag}.lock"));
    if lock.exists() {
        return Err(TagError::Locked {
            tag: tag.to_owned(),
            lock: lock.display().to_string(),
        });
    }
    match repo.ref_target(tag) {
        Some(now) if now == head => Ok(()),
        Some(now) => Err(TagError::Raced {
            tag: tag.to_owned(),
            now,
        }),
        None => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_long_ids_get_a_clear_error_not_a_tag() {
        let fits = MessageId::parse(&format!("{}@x", "a".repeat(MAX_REF_COMPONENT - 2))).unwrap();
        assert_eq!(checked_name(&fits, "patchew").unwrap().len(), 8 + 250);
        // '_' escapes to 4 bytes (and a leading escape gets a '_' mark): a short id
        // can make a long component.
        let escapes = MessageId::parse(&format!("{}@x", "_".repeat(63))).unwrap();
        let err = checked_name(&escapes, "patchew").unwrap_err();
        assert!(
            matches!(err, MessageIdError::TooLong { len: 255, .. }),
            "{err}"
        );
        let long = MessageId::parse(&format!("{}@x", "é".repeat(200))).unwrap();
        let err = checked_name(&long, "patchew").unwrap_err();
        assert!(
            matches!(err, MessageIdError::TooLong { len: 402, .. }),
            "{err}"
        );
        assert!(!err.to_string().contains('\n'));
    }
}
