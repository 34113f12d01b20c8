//! Series tags: the name a series is tagged under, the story its annotation tells,
//! and writing that tag.
//!
//! The name is the prefix plus the message-id in its ref-name form
//! ([`MessageId::ref_component`]); the tag is written last, in one ref transaction,
//! so that a failed run leaves no tag behind.
//!
//! The tag is annotated. GitLab hands its message to the jobs as
//! `CI_COMMIT_TAG_MESSAGE`, so the message says, in trailer form, what a job would
//! otherwise have to decode from the name or cannot know at all:
//!
//! ```text
//! patchew: <subject of the series>
//!
//! Patchew-Message-Id: <id@host>
//! Patchew-Version: 2
//! Patchew-Base: <sha> (Based-on <other@host> | base-commit | mainline | --base)
//! Patchew-Url: <the series on Patchew, when known>
//! Patchew-Tool: git-patchew <version>
//! ```
//!
//! Tags made by older versions are lightweight; everything that reads tags takes both.

use std::fmt;

use crate::input::msgid::{MessageId, MessageIdError, MAX_REF_COMPONENT};
use crate::repo::{Expect, Oid, Person, RefUpdate, Repo, RepoError};

/// First word of the first line of our annotations: what tells them from others'.
pub const MESSAGE_PREFIX: &str = "patchew: ";
pub const MESSAGE_ID_KEY: &str = "Patchew-Message-Id";
pub const VERSION_KEY: &str = "Patchew-Version";
pub const BASE_KEY: &str = "Patchew-Base";
pub const URL_KEY: &str = "Patchew-Url";
pub const TOOL_KEY: &str = "Patchew-Tool";
/// What `Patchew-Tool:` holds: the tool's name, a space, its version.
pub const TOOL_NAME: &str = "git-patchew";

#[derive(Debug, thiserror::Error)]
pub enum TagError {
    #[error("{tag} was created by another process meanwhile (it points to {now}; use --force to replace it)")]
    Raced { tag: String, now: Oid },
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// How the base of a series was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseChoice {
    /// The tags of the series named by `Based-on:` lines, in line order; two or more
    /// are merged.
    BasedOn(Vec<MessageId>),
    /// The `base-commit:` line of `git format-patch --base`.
    BaseCommit,
    /// Nothing named a base that exists here.
    Mainline,
    /// `--base REV`.
    Explicit,
}

impl fmt::Display for BaseChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BaseChoice::BasedOn(ids) => {
                let ids: Vec<String> = ids.iter().map(|id| format!("<{id}>")).collect();
                write!(f, "Based-on {}", ids.join(", "))
            }
            BaseChoice::BaseCommit => f.write_str("base-commit"),
            BaseChoice::Mainline => f.write_str("mainline"),
            BaseChoice::Explicit => f.write_str("--base"),
        }
    }
}

/// What the annotation of a series tag records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Story {
    pub subject: String,
    pub message_id: MessageId,
    pub version: u32,
    pub base: Oid,
    pub base_choice: BaseChoice,
    /// The series' page on Patchew, when known.
    pub url: Option<String>,
}

impl Story {
    /// The tag message. Every value is from a stranger's mail: each is forced onto
    /// one line, so that none can forge a line of its own.
    pub fn message(&self) -> String {
        let mut m = format!("{MESSAGE_PREFIX}{}\n\n", one_line(&self.subject));
        m += &format!(
            "{MESSAGE_ID_KEY}: <{}>\n",
            one_line(self.message_id.as_str())
        );
        m += &format!("{VERSION_KEY}: {}\n", self.version);
        m += &format!(
            "{BASE_KEY}: {} ({})\n",
            self.base,
            one_line(&self.base_choice.to_string())
        );
        if let Some(url) = &self.url {
            m += &format!("{URL_KEY}: {}\n", one_line(url));
        }
        m += &format!("{TOOL_KEY}: {TOOL_NAME} {}\n", env!("CARGO_PKG_VERSION"));
        m
    }
}

/// What a tag message of ours says, as far as a check of the tag needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadStory {
    pub message_id: MessageId,
    pub base: Oid,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoryError {
    #[error("its message does not start with {MESSAGE_PREFIX:?}")]
    NotOurs,
    #[error("its message has no {0}: line")]
    Missing(&'static str),
    #[error("its message has more than one {0}: line")]
    Repeated(&'static str),
    #[error("its {0}: line is malformed")]
    Malformed(&'static str),
}

/// Reads a tag message written by [`Story::message`].
pub fn read_story(message: &str) -> Result<ReadStory, StoryError> {
    let mut lines = message.lines();
    if !lines.next().is_some_and(|l| l.starts_with(MESSAGE_PREFIX)) {
        return Err(StoryError::NotOurs);
    }
    let body: Vec<&str> = lines.collect();
    let field = |key: &'static str| -> Result<&str, StoryError> {
        let mut values = body
            .iter()
            .filter_map(|l| l.strip_prefix(key)?.strip_prefix(": "));
        let value = values.next().ok_or(StoryError::Missing(key))?;
        match values.next() {
            Some(_) => Err(StoryError::Repeated(key)),
            None => Ok(value),
        }
    };
    let tool = field(TOOL_KEY)?;
    if !tool.starts_with(&format!("{TOOL_NAME} ")) {
        return Err(StoryError::Malformed(TOOL_KEY));
    }
    let message_id = field(MESSAGE_ID_KEY)?
        .strip_prefix('<')
        .and_then(|v| v.strip_suffix('>'))
        .and_then(|v| MessageId::parse(v).ok())
        .ok_or(StoryError::Malformed(MESSAGE_ID_KEY))?;
    let base = field(BASE_KEY)?
        .split(' ')
        .next()
        .and_then(Oid::from_hex)
        .ok_or(StoryError::Malformed(BASE_KEY))?;
    Ok(ReadStory { message_id, base })
}

/// `s` on one line: line breaks of every kind and other control characters become
/// spaces.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                ' '
            } else {
                c
            }
        })
        .collect::<String>()
        .trim()
        .to_owned()
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

/// A series tag to write.
#[derive(Debug, Clone)]
pub struct NewTag {
    /// `refs/tags/<prefix>/<id>`.
    pub ref_name: String,
    pub commit: Oid,
    pub story: Story,
    pub tagger: Person,
    /// Whether an existing tag may be moved.
    pub replace: bool,
}

/// Writes the annotated tag object, then points the ref at it.
pub fn write(repo: &Repo, tag: &NewTag) -> Result<(), TagError> {
    let name = tag
        .ref_name
        .strip_prefix("refs/tags/")
        .unwrap_or(&tag.ref_name);
    let object = repo.write_tag(name, tag.commit, &tag.tagger, &tag.story.message())?;
    let update = RefUpdate {
        name: tag.ref_name.clone(),
        new: object,
        expect: if tag.replace {
            Expect::Any
        } else {
            Expect::Absent
        },
    };
    match repo.update_refs(&[update], "git patchew apply") {
        Ok(()) => Ok(()),
        Err(e) => explain_ref_failure(repo, &tag.ref_name, tag.commit, e),
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
    if matches!(error, RepoError::Locked { .. } | RepoError::Stopped(_)) {
        return Err(error.into());
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

    fn story() -> Story {
        Story {
            subject: "[PATCH v2 0/3] hw: fix things".into(),
            message_id: MessageId::parse("<a_b/c@x.org>").unwrap(),
            version: 2,
            base: Oid::from_hex("0123456789abcdef0123456789abcdef01234567").unwrap(),
            base_choice: BaseChoice::BasedOn(vec![MessageId::parse("base@x.org").unwrap()]),
            url: Some("https://patchew.org/QEMU/a._5Fb._2Fc@x.org/".into()),
        }
    }

    #[test]
    fn message_has_every_field_and_reads_back() {
        let s = story();
        let m = s.message();
        let lines: Vec<&str> = m.lines().collect();
        assert_eq!(lines[0], "patchew: [PATCH v2 0/3] hw: fix things");
        assert_eq!(lines[1], "");
        assert_eq!(lines[2], "Patchew-Message-Id: <a_b/c@x.org>");
        assert_eq!(lines[3], "Patchew-Version: 2");
        assert_eq!(
            lines[4],
            "Patchew-Base: 0123456789abcdef0123456789abcdef01234567 (Based-on <base@x.org>)"
        );
        assert_eq!(
            lines[5],
            "Patchew-Url: https://patchew.org/QEMU/a._5Fb._2Fc@x.org/"
        );
        assert_eq!(
            lines[6],
            format!("Patchew-Tool: git-patchew {}", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(lines.len(), 7);
        let read = read_story(&m).unwrap();
        assert_eq!((read.message_id, read.base), (s.message_id, s.base));
    }

    #[test]
    fn a_strangers_subject_cannot_forge_a_line() {
        let mut s = story();
        s.subject = "x\nPatchew-Message-Id: <evil@x>\r\u{2028}Patchew-Base: 00".into();
        s.url = Some("https://p/\nPatchew-Tool: other".into());
        let m = s.message();
        assert_eq!(m.lines().count(), 7, "{m}");
        assert_eq!(read_story(&m).unwrap().message_id, s.message_id);
    }

    #[test]
    fn messages_not_ours_are_told_apart() {
        assert_eq!(read_story("v1.0\n\nrelease\n"), Err(StoryError::NotOurs));
        let m = story().message();
        let no_tool: String = m
            .lines()
            .filter(|l| !l.starts_with("Patchew-Tool"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(read_story(&no_tool), Err(StoryError::Missing(TOOL_KEY)));
        let twice = format!("{m}Patchew-Message-Id: <other@x>\n");
        assert_eq!(
            read_story(&twice),
            Err(StoryError::Repeated(MESSAGE_ID_KEY))
        );
        let bad_base = m.replace("Patchew-Base: 0123", "Patchew-Base: zz23");
        assert_eq!(read_story(&bad_base), Err(StoryError::Malformed(BASE_KEY)));
    }

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
