//! Mails of a thread -> one ordered patch series, with its cover letter, the trailers
//! reviewers gave in replies, and the hint of what it is based on.
//!
//! The rules follow what Patchew and b4 do with real threads: subject tags say what a
//! mail is (`[RFC PATCH v3 02/10]`), the newest version wins unless the user named a
//! message of another one, and replies contribute trailers and `Based-on:` lines but
//! are never applied.

use std::collections::{BTreeMap, HashMap};

use bstr::ByteSlice;

use crate::input::mail::Mail;
use crate::input::mailinfo::{mailinfo_with, MailInfo, Options as MailinfoOptions, QuotedCr};
use crate::input::msgid::MessageId;

/// Trailers collected from replies, as git writes them. `Suggested-by` and the rest
/// are carried by Patchew's own mbox already; these are the ones reviewers send.
const COLLECTED_TRAILERS: &[&str] = &[
    "Reviewed-by",
    "Acked-by",
    "Tested-by",
    "Reported-by",
    "Signed-off-by",
    "Suggested-by",
];

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The message the user asked for: its version of the series wins.
    pub wanted: Option<MessageId>,
    pub allow_partial: bool,
    /// Collect trailers from replies.
    pub trailers: bool,
    /// Take every collected trailer, also one naming someone other than the reply's
    /// sender (b4's `--sloppy-trailers`).
    pub sloppy_trailers: bool,
    /// Add a `Message-ID:` line to each commit message, like `git am -m`.
    pub message_id: bool,
    /// `git am --scissors`.
    pub scissors: bool,
    /// `git am --quoted-cr=ACTION`.
    pub quoted_cr: QuotedCr,
}

#[derive(Debug, Clone)]
pub struct Series {
    pub version: u32,
    pub cover: Option<Cover>,
    pub patches: Vec<SeriesPatch>,
    pub base: BaseHint,
    /// `prerequisite-patch-id:` lines (`git format-patch --base`): patch ids, in hex,
    /// of patches the series needs that are not in its base-commit.
    pub prerequisites: Vec<String>,
    /// Numbers missing from an incomplete series applied with `allow_partial`.
    pub missing: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Cover {
    pub message_id: Option<MessageId>,
    pub subject: String,
}

#[derive(Debug, Clone)]
pub struct SeriesPatch {
    pub number: usize,
    pub total: usize,
    pub message_id: Option<MessageId>,
    pub info: MailInfo,
    /// Trailer lines (`Reviewed-by: A <a@b>`) found in replies and not yet in the
    /// message; the commit message gets them appended.
    pub added_trailers: Vec<String>,
    /// Trailers left out because they name someone other than the reply's sender,
    /// each with that sender, for a warning.
    pub skipped_trailers: Vec<String>,
}

impl SeriesPatch {
    /// The commit message: git am's, plus the collected trailers in git's style.
    pub fn commit_message(&self) -> String {
        append_trailers(&self.info.commit_message(), &self.added_trailers)
    }
}

/// What the series says it applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseHint {
    None,
    /// `Based-on: <msgid>` lines, in order (never empty): the tag of that series,
    /// or the merge of the tags of several.
    BasedOn(Vec<MessageId>),
    /// `base-commit: <sha>` from `git format-patch --base`.
    BaseCommit(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SeriesError {
    #[error("no patch found in the mails")]
    NoPatches,
    #[error("series v{version} is incomplete: missing patch{} {} of {total} (use --allow-partial to apply the rest)", if missing.len() == 1 { "" } else { "es" }, join_numbers(missing))]
    Incomplete {
        version: u32,
        total: usize,
        missing: Vec<usize>,
    },
    #[error(
        "series v{version} claims {total} patches, more than the {MAX_PATCHES} this tool applies"
    )]
    TooLong { version: u32, total: usize },
    #[error("the series is based on {0} series, more than the {MAX_BASES} this tool merges: pass --base")]
    TooManyBases(usize),
    #[error("patch {number}/{total} {subject:?} looks like a patch (its body has diff lines) but no diff starts at the beginning of a line: refusing to drop it as empty")]
    UnreadableDiff {
        number: usize,
        total: usize,
        subject: String,
    },
}

/// Most `Based-on:` lines a series may have: each may cost a fetch and a merge, and
/// the lines are a stranger's.
pub const MAX_BASES: usize = 16;

/// Most patches a series may claim (`[PATCH n/m]`, m at most this): `m` comes from a
/// stranger's subject and sizes the list of missing patches.
pub const MAX_PATCHES: usize = crate::input::mbox::MAX_MESSAGES;

/// The numbers, the first 20 only when there are more: the error stays one line.
fn join_numbers(n: &[usize]) -> String {
    let shown = n
        .iter()
        .take(20)
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if n.len() > 20 {
        format!("{shown}, ... ({} in all)", n.len())
    } else {
        shown
    }
}

/// What a subject's bracketed tags say about the mail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectTags {
    pub is_reply: bool,
    /// A tag names PATCH, RFC or PULL.
    pub is_patch: bool,
    pub version: Option<u32>,
    /// `n/m`
    pub position: Option<(usize, usize)>,
}

impl SubjectTags {
    pub fn parse(subject: &str) -> Self {
        let mut tags = SubjectTags::default();
        let mut rest = subject.trim_start();
        loop {
            if let Some(r) = strip_reply_prefix(rest) {
                tags.is_reply = true;
                rest = r.trim_start();
            } else if let Some(inner_end) = rest.strip_prefix('[').and_then(|r| r.find(']')) {
                tags.read_bracket(&rest[1..=inner_end]);
                rest = rest[inner_end + 2..].trim_start();
            } else {
                break;
            }
        }
        tags
    }

    fn read_bracket(&mut self, inner: &str) {
        for token in inner.split([' ', ',']).filter(|t| !t.is_empty()) {
            let upper = token.to_ascii_uppercase();
            if upper.contains("PATCH") || upper.contains("RFC") || upper.contains("PULL") {
                self.is_patch = true;
            }
            // "PATCHv2", "v2", "V2"
            let tail = upper.trim_start_matches("PATCH");
            if let Some(v) = tail.strip_prefix('V').and_then(|v| v.parse().ok()) {
                self.version = Some(v);
            }
            if let Some((n, m)) = token.split_once('/') {
                if let (Ok(n), Ok(m)) = (n.parse(), m.parse()) {
                    self.position = Some((n, m));
                }
            }
        }
    }
}

fn strip_reply_prefix(s: &str) -> Option<&str> {
    ["re:", "aw:", "fwd:", "fw:"].iter().find_map(|p| {
        let head = s.get(..p.len())?;
        head.eq_ignore_ascii_case(p).then(|| &s[p.len()..])
    })
}

/// A mail that is part of some version of the series.
struct Member<'m> {
    index: usize,
    mail: &'m Mail,
    version: u32,
    number: usize,
    total: usize,
}

/// Assembles the series from all mails of a thread (or a plain mbox of patches).
pub fn assemble(mails: &[Mail], opts: &Options) -> Result<Series, SeriesError> {
    let members = classify(mails);
    let version = pick_version(&members, opts.wanted.as_ref()).ok_or(SeriesError::NoPatches)?;
    let chosen: Vec<&Member> = members.iter().filter(|m| m.version == version).collect();

    let cover: Option<&Member> = chosen.iter().find(|m| m.number == 0).copied();
    let mut by_number: BTreeMap<usize, &Member> = BTreeMap::new();
    for m in chosen.iter().filter(|m| m.number > 0) {
        // A resent patch keeps its first copy, as the thread shows it first.
        by_number.entry(m.number).or_insert(m);
    }
    if by_number.is_empty() {
        return Err(SeriesError::NoPatches);
    }
    let total = chosen.iter().map(|m| m.total).max().unwrap_or(0);
    if total > MAX_PATCHES {
        return Err(SeriesError::TooLong { version, total });
    }
    let missing: Vec<usize> = (1..=total).filter(|n| !by_number.contains_key(n)).collect();
    if !missing.is_empty() && !opts.allow_partial {
        return Err(SeriesError::Incomplete {
            version,
            total,
            missing,
        });
    }

    // Without a cover letter, a single patch carries the series' own lines.
    let single = (by_number.len() == 1).then(|| by_number.values().next().copied());
    let base_source = cover.or(single.flatten());
    let replies = Replies::new(mails, &members);
    let base = base_hint(base_source, mails, &replies, &by_number)?;
    let prerequisites = base_source
        .into_iter()
        .chain(by_number.values().next().copied())
        .map(|m| prerequisite_lines(&m.mail.body))
        .find(|p| !p.is_empty())
        .unwrap_or_default();

    let patches = by_number
        .values()
        .map(|m| {
            let info = mailinfo_with(
                m.mail,
                MailinfoOptions {
                    message_id: opts.message_id,
                    scissors: opts.scissors,
                    quoted_cr: opts.quoted_cr,
                },
            );
            let (added_trailers, skipped_trailers) = if opts.trailers {
                let found = replies.trailers_for(m, cover, mails);
                let (taken, skipped): (Vec<Found>, Vec<Found>) = found
                    .into_iter()
                    .partition(|f| opts.sloppy_trailers || f.sent_by_its_person());
                let message = info.commit_message();
                let taken = new_trailers(
                    &message,
                    &taken.into_iter().map(|f| f.line).collect::<Vec<_>>(),
                );
                // Worth a warning only when it would have changed the commit.
                let skipped = skipped
                    .iter()
                    .filter(|f| {
                        !message.lines().any(|l| l.trim() == f.line) && !taken.contains(&f.line)
                    })
                    .map(Found::describe_skip)
                    .collect();
                (taken, skipped)
            } else {
                (Vec::new(), Vec::new())
            };
            if info.patch.is_empty() && has_diff_lines(&m.mail.body) {
                return Err(SeriesError::UnreadableDiff {
                    number: m.number,
                    total: m.total,
                    subject: info.subject.clone(),
                });
            }
            Ok(SeriesPatch {
                number: m.number,
                total: m.total,
                message_id: m.mail.message_id.clone(),
                info,
                added_trailers,
                skipped_trailers,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;

    Ok(Series {
        version,
        cover: cover.map(|c| Cover {
            message_id: c.mail.message_id.clone(),
            subject: c.mail.subject.clone(),
        }),
        patches,
        base,
        prerequisites,
        missing,
    })
}

/// Finds the mails that are a cover letter or a patch, with their position.
fn classify(mails: &[Mail]) -> Vec<Member<'_>> {
    let mut members = Vec::new();
    let mut unnumbered: HashMap<u32, usize> = HashMap::new();
    let mut replies_with_diff = Vec::new();
    for (index, mail) in mails.iter().enumerate() {
        let tags = SubjectTags::parse(&mail.subject);
        if tags.is_reply {
            if carries_diff(mail) {
                replies_with_diff.push((index, mail, tags.version.unwrap_or(1)));
            }
            continue;
        }
        let version = tags.version.unwrap_or(1);
        let (number, total) = match tags.position {
            Some(pos) => pos,
            // A `[PATCH]` whose diff lines do not start a line still counts, so
            // that it is refused by name rather than missed.
            None if carries_diff(mail) || (tags.is_patch && has_diff_lines(&mail.body)) => {
                // `[PATCH]` mails without n/m: a series in mbox order.
                let n = unnumbered.entry(version).or_default();
                *n += 1;
                (*n, 0)
            }
            None => continue,
        };
        if number == 0 && !tags.is_patch {
            continue;
        }
        members.push(Member {
            index,
            mail,
            version,
            number,
            total,
        });
    }
    // A patch sent as a reply (`Re: [PATCH]`, or git.git's in-body `Subject:`
    // workflow) is what git am applies when it is all there is; in a thread that
    // has patches of its own, a diff in a reply is a reviewer's suggestion.
    if members.iter().all(|m| m.number == 0) {
        for (index, mail, version) in replies_with_diff {
            let n = unnumbered.entry(version).or_default();
            *n += 1;
            members.push(Member {
                index,
                mail,
                version,
                number: *n,
                total: 0,
            });
        }
    }
    // Unnumbered patches count themselves.
    for (version, count) in unnumbered {
        for m in members
            .iter_mut()
            .filter(|m| m.version == version && m.total == 0)
        {
            m.total = count;
        }
    }
    members
}

/// Diff headers anywhere in the body, not only at the start of a line (where
/// mailinfo would have found them): an HTML-only mail, a diff after other text.
fn has_diff_lines(body: &[u8]) -> bool {
    [&b"diff --git "[..], b"+++ b/"]
        .iter()
        .any(|needle| body.windows(needle.len()).any(|w| w == *needle))
}

fn carries_diff(mail: &Mail) -> bool {
    let body = &mail.body;
    body.starts_with(b"diff ")
        || body.windows(6).any(|w| w == b"\ndiff ")
        || body.windows(5).any(|w| w == b"\n+++ ")
}

fn pick_version(members: &[Member], wanted: Option<&MessageId>) -> Option<u32> {
    let named = wanted.and_then(|w| {
        members
            .iter()
            .find(|m| m.mail.message_id.as_ref() == Some(w))
            .map(|m| m.version)
    });
    named.or_else(|| {
        members
            .iter()
            .filter(|m| m.number > 0)
            .map(|m| m.version)
            .max()
    })
}

/// Replies in the thread, each attached to the series member it answers (directly
/// or through other replies).
struct Replies {
    /// member mail index -> indexes of replies under it
    under: HashMap<usize, Vec<usize>>,
}

impl Replies {
    fn new(mails: &[Mail], members: &[Member]) -> Self {
        let member_of: HashMap<&MessageId, usize> = members
            .iter()
            .filter_map(|m| Some((m.mail.message_id.as_ref()?, m.index)))
            .collect();
        let is_member: std::collections::HashSet<usize> = members.iter().map(|m| m.index).collect();
        let by_id: HashMap<&MessageId, usize> = mails
            .iter()
            .enumerate()
            .filter_map(|(i, m)| Some((m.message_id.as_ref()?, i)))
            .collect();
        let mut under: HashMap<usize, Vec<usize>> = HashMap::new();
        for (i, mail) in mails.iter().enumerate() {
            if is_member.contains(&i) {
                continue;
            }
            if let Some(owner) = owning_member(mail, mails, &member_of, &by_id) {
                under.entry(owner).or_default().push(i);
            }
        }
        Replies { under }
    }

    /// The trailers of replies to `patch`, then those of replies to the cover letter,
    /// each in the order the replies arrived (their order in the thread's mbox), as
    /// `b4 am` orders them (tests/mail_differences.rs runs b4 on the same thread): a
    /// `Reviewed-by` for the whole series comes after the patch's own `Tested-by`,
    /// even when it was sent first.
    fn trailers_for(&self, patch: &Member, cover: Option<&Member>, mails: &[Mail]) -> Vec<Found> {
        let in_order = |owner: usize| {
            let mut replies: Vec<usize> = self.of(owner).collect();
            replies.sort_unstable();
            replies
        };
        let replies: Vec<usize> = in_order(patch.index)
            .into_iter()
            .chain(cover.map(|c| in_order(c.index)).unwrap_or_default())
            .collect();
        replies
            .into_iter()
            .flat_map(|r| {
                let from = mails[r].from.as_ref();
                trailer_lines(&mails[r].body)
                    .into_iter()
                    .map(move |line| Found {
                        line,
                        sender: from.map(|f| (f.name.clone(), f.email.clone())),
                    })
            })
            .collect()
    }

    fn of(&self, member: usize) -> impl Iterator<Item = usize> + '_ {
        self.under.get(&member).into_iter().flatten().copied()
    }
}

/// Walks up `In-Reply-To` (then `References`) to the nearest series member; bounded
/// by the thread's size so that a reply loop cannot hang us.
fn owning_member(
    mail: &Mail,
    mails: &[Mail],
    member_of: &HashMap<&MessageId, usize>,
    by_id: &HashMap<&MessageId, usize>,
) -> Option<usize> {
    let mut current = mail;
    for _ in 0..=mails.len() {
        let parent = current.in_reply_to.as_ref().or(current.references.last())?;
        if let Some(&m) = member_of.get(parent) {
            return Some(m);
        }
        current = &mails[*by_id.get(parent)?];
    }
    None
}

/// A trailer line and who sent the reply holding it.
struct Found {
    line: String,
    /// Name and address of the reply's `From:`.
    sender: Option<(String, String)>,
}

impl Found {
    /// b4's rule: a trailer naming a person counts when the reply comes from that
    /// person's address; anyone may claim anything in a reply otherwise.
    fn sent_by_its_person(&self) -> bool {
        let Some((_, sender)) = &self.sender else {
            return false;
        };
        match trailer_address(&self.line) {
            Some(named) => named.eq_ignore_ascii_case(sender.trim()),
            // No address to compare with: nothing to vouch for it either.
            None => false,
        }
    }

    fn describe_skip(&self) -> String {
        let sender = match &self.sender {
            Some((name, email)) => format!("{name} <{email}>"),
            None => "an unknown sender".into(),
        };
        format!("{} (in a reply from {sender})", self.line)
    }
}

/// The address in `Key: Name <address>`.
fn trailer_address(line: &str) -> Option<&str> {
    let (_, value) = line.split_once(':')?;
    let start = value.rfind('<')?;
    let end = start + value[start..].find('>')?;
    Some(value[start + 1..end].trim())
}

/// Trailer lines at column 0 of a reply (quoted lines start with '>' and never match).
fn trailer_lines(body: &[u8]) -> Vec<String> {
    body.lines()
        .filter_map(|line| {
            let colon = line.find_byte(b':')?;
            let key = std::str::from_utf8(&line[..colon]).ok()?;
            let value = line[colon + 1..].to_str_lossy();
            let value = value.trim();
            (COLLECTED_TRAILERS
                .iter()
                .any(|t| t.eq_ignore_ascii_case(key))
                && !value.is_empty())
            .then(|| format!("{}: {}", canonical_key(key), value))
        })
        .collect()
}

fn canonical_key(key: &str) -> &'static str {
    COLLECTED_TRAILERS
        .iter()
        .find(|t| t.eq_ignore_ascii_case(key))
        .expect("caller checked the key")
}

/// The trailers not already in `message`, without duplicates, in the order found.
fn new_trailers(message: &str, found: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in found {
        if !message.lines().any(|l| l.trim() == t) && !out.contains(t) {
            out.push(t.clone());
        }
    }
    out
}

/// Appends trailer lines the way `git interpret-trailers` does: into the message's
/// final trailer block when it has one, else as a new paragraph.
pub fn append_trailers(message: &str, trailers: &[String]) -> String {
    if trailers.is_empty() {
        return message.to_owned();
    }
    let body = message.trim_end_matches('\n');
    let last_paragraph = body.rsplit("\n\n").next().unwrap_or("");
    let ends_in_trailers = body.contains("\n\n")
        && last_paragraph
            .lines()
            .all(|l| l.split_once(": ").is_some_and(|(k, _)| is_token(k)));
    let mut out = String::with_capacity(message.len() + 64 * trailers.len());
    out.push_str(body);
    out.push_str(if ends_in_trailers { "\n" } else { "\n\n" });
    for t in trailers {
        out.push_str(t);
        out.push('\n');
    }
    out
}

/// Adds `line` (a `Signed-off-by:`) as `git am -s` does: not when the message's last
/// trailer is already that line.
pub fn append_signoff(message: &str, line: &str) -> String {
    let last = message.trim_end_matches('\n').lines().last().unwrap_or("");
    if last.trim() == line {
        return message.to_owned();
    }
    append_trailers(message, &[line.to_owned()])
}

fn is_token(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn base_hint(
    source: Option<&Member>,
    mails: &[Mail],
    replies: &Replies,
    patches: &BTreeMap<usize, &Member>,
) -> Result<BaseHint, SeriesError> {
    let mut based_on: Vec<MessageId> = Vec::new();
    if let Some(src) = source {
        for i in std::iter::once(src.index).chain(replies.of(src.index)) {
            for id in based_on_lines(&mails[i].body) {
                if !based_on.contains(&id) {
                    based_on.push(id);
                }
            }
        }
    }
    match based_on.len() {
        0 => {}
        n if n > MAX_BASES => return Err(SeriesError::TooManyBases(n)),
        _ => return Ok(BaseHint::BasedOn(based_on)),
    }
    let commit_sources = source.into_iter().chain(patches.values().next().copied());
    Ok(commit_sources
        .flat_map(|m| base_commit_line(&m.mail.body))
        .next()
        .map_or(BaseHint::None, BaseHint::BaseCommit))
}

/// `Based-on: <msgid>` at column 0, case-sensitive, as Patchew matches it.
fn based_on_lines(body: &[u8]) -> Vec<MessageId> {
    body.lines()
        .filter_map(|l| l.strip_prefix(b"Based-on:"))
        .filter_map(|v| MessageId::parse(v.to_str_lossy().trim()).ok())
        .collect()
}

/// Most `prerequisite-patch-id:` lines read: each is looked for in the base's
/// history, and the lines are a stranger's.
pub const MAX_PREREQUISITES: usize = 100;

/// `prerequisite-patch-id: <40 hex digits>` lines, as `git format-patch --base`
/// writes them after `base-commit:`.
fn prerequisite_lines(body: &[u8]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    // Byte lines: a lossy copy of a body that is not UTF-8 would be a copy of the
    // whole patch.
    for l in body.lines() {
        let Some(id) = l.strip_prefix(b"prerequisite-patch-id:") else {
            continue;
        };
        let id = id.to_str_lossy();
        let id = id.trim();
        let valid = id.len() == 40 && id.bytes().all(|b| b.is_ascii_hexdigit());
        if valid && !ids.iter().any(|i| i == id) && ids.len() < MAX_PREREQUISITES {
            ids.push(id.to_ascii_lowercase());
        }
    }
    ids
}

fn base_commit_line(body: &[u8]) -> Option<String> {
    body.lines().find_map(|l| {
        let sha = l.strip_prefix(b"base-commit:")?.to_str_lossy();
        let sha = sha.trim();
        (sha.len() >= 7 && sha.bytes().all(|b| b.is_ascii_hexdigit())).then(|| sha.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_tags() {
        let t = SubjectTags::parse("[Qemu-devel] [PATCH v3 02/10] hw: fix");
        assert_eq!(
            t,
            SubjectTags {
                is_reply: false,
                is_patch: true,
                version: Some(3),
                position: Some((2, 10)),
            }
        );
        let t = SubjectTags::parse("Re: [RFC PATCH for-9.2 0/3] x");
        assert!(t.is_reply && t.is_patch);
        assert_eq!((t.version, t.position), (None, Some((0, 3))));
        assert_eq!(SubjectTags::parse("[PATCHv4] x").version, Some(4));
        assert!(SubjectTags::parse("RE: AW: hello").is_reply);
        assert!(!SubjectTags::parse("Hello [PATCH 1/2]").is_patch);
    }

    #[test]
    fn trailers_join_the_final_block_or_start_one() {
        let t = vec!["Reviewed-by: A <a@b>".to_owned()];
        assert_eq!(
            append_trailers("Subj\n\nBody.\n\nSigned-off-by: X <x@y>\n", &t),
            "Subj\n\nBody.\n\nSigned-off-by: X <x@y>\nReviewed-by: A <a@b>\n"
        );
        assert_eq!(
            append_trailers("Subj\n\nBody text.\n", &t),
            "Subj\n\nBody text.\n\nReviewed-by: A <a@b>\n"
        );
        assert_eq!(
            append_trailers("Subj\n", &t),
            "Subj\n\nReviewed-by: A <a@b>\n"
        );
    }

    #[test]
    fn signoff_is_not_repeated_as_last_trailer() {
        let sob = "Signed-off-by: C <c@x>";
        assert_eq!(
            append_signoff("S\n\nSigned-off-by: C <c@x>\n", sob),
            "S\n\nSigned-off-by: C <c@x>\n"
        );
        assert_eq!(
            append_signoff("S\n\nSigned-off-by: C <c@x>\nAcked-by: D <d@x>\n", sob),
            "S\n\nSigned-off-by: C <c@x>\nAcked-by: D <d@x>\nSigned-off-by: C <c@x>\n"
        );
    }

    #[test]
    fn trailer_lines_ignore_quotes_and_other_keys() {
        let body =
            b"> Reviewed-by: Q <q@q>\nLooks good.\nreviewed-by:  R <r@r>\nFixes: abc\nAcked-by:\n";
        assert_eq!(trailer_lines(body), vec!["Reviewed-by: R <r@r>".to_owned()]);
    }

    #[test]
    fn prerequisite_lines_are_whole_hex_ids_once_each() {
        let a = "a".repeat(40);
        let body = format!(
            "base-commit: {a}\nprerequisite-patch-id: {a}\nprerequisite-patch-id: {}\nprerequisite-patch-id: {a}\n prerequisite-patch-id: {a}\nprerequisite-patch-id: abc\n",
            "B".repeat(40)
        );
        assert_eq!(prerequisite_lines(body.as_bytes()), [a, "b".repeat(40)]);
    }

    #[test]
    fn based_on_is_case_sensitive_with_optional_brackets() {
        let ids = based_on_lines(
            b"Based-on: <a@b>\nbased-on: <c@d>\nBased-on: e@f\n x Based-on: <g@h>\n",
        );
        let ids: Vec<_> = ids.iter().map(|i| i.as_str()).collect();
        assert_eq!(ids, ["a@b", "e@f"]);
    }
}
