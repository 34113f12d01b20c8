//! Tag expiry: which series tags to delete, and deleting them on the ci-hub and in
//! the mirror.
//!
//! Every series leaves a tag `refs/tags/<prefix>/<msgid>` on the ci-hub; each push
//! to the hub reads the hub's whole ref advertisement, so a hub that only grows
//! makes every push slower. A series tag older than `patchew.tagExpiry` (its tagger
//! date) goes, unless a series waiting in the queue names it as its base or its
//! testing result is still pending or running (the applier's ledger).
//!
//! Deleting with `git push <hub> :<ref>...` costs git's client O(deletions x refs
//! the hub advertises) (it matches every refspec against every advertised ref):
//! 1,000 deletions on a hub of 20,000 tags took 75 s. So deletions go in batches
//! sized by [`batch_size`], and the applier deletes one batch a round, as tags
//! expire. A tag is deleted in the mirror only once the hub has let it go, so
//! the mirror's tags always cover the hub's and a refused deletion is tried again.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::repo::{Oid, Repo, RepoError, TagRef};
use crate::transport::{self, TransportError};

/// Default `patchew.tagExpiry`, in days: a series is reviewed, resent and based on
/// for weeks, and its pipeline may be looked at for as long; two months of a busy
/// list (QEMU: about 40 series a day) is a few thousand tags, a push to such a hub
/// costs about what a push to an empty one does.
pub const DEFAULT_EXPIRY_DAYS: u64 = crate::config::TAG_EXPIRY.default;

/// The refspec-times-advertised-ref pairs one deletion push may cost: about 4 s of
/// git's CPU at the 3.75 µs a pair measured (75 s for 1,000 x 20,000).
const PAIRS_PER_PUSH: usize = 1_000_000;
/// Most deletions in one push, however small the hub: one push's command line
/// and output stay small.
const MAX_BATCH: usize = 500;

/// Why a tag is kept although it expired.
#[derive(Debug, Default, Clone)]
pub struct Keep {
    /// Full ref names that a series still in the queue names as its base.
    pub based_on: HashSet<String>,
    /// Full ref names whose testing result is pending or running.
    pub watched: HashSet<String>,
}

/// What to delete, oldest first, and how many expired tags are kept and why.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    pub delete: Vec<TagRef>,
    pub kept_based_on: usize,
    pub kept_watched: usize,
    /// Under the prefix but without a tagger date (a lightweight tag): its age is
    /// unknown, so it stays.
    pub undated: usize,
    /// Series tags in the mirror, before the deletions.
    pub total: usize,
}

/// The full name of a base tag as Patchew's `based_on.tag` gives it (with or without
/// `refs/tags/`).
pub fn full_tag_ref(tag: &str) -> String {
    if tag.starts_with("refs/") {
        tag.to_owned()
    } else {
        format!("refs/tags/{tag}")
    }
}

/// The tags of `tags` under `refs/tags/<prefix>/` tagged before `now - expiry`
/// and not kept; nothing outside the prefix ever. `expiry` zero: nothing expires.
pub fn plan(tags: &[TagRef], prefix: &str, now: i64, expiry: Duration, keep: &Keep) -> Plan {
    let under = format!("refs/tags/{}/", prefix.trim_matches('/'));
    let mut plan = Plan::default();
    let cutoff = now.saturating_sub(expiry.as_secs().min(i64::MAX as u64) as i64);
    for tag in tags.iter().filter(|t| t.name.starts_with(&under)) {
        plan.total += 1;
        if expiry.is_zero() {
            continue;
        }
        let Some(at) = tag.tagged_at else {
            plan.undated += 1;
            continue;
        };
        if at >= cutoff {
            continue;
        }
        if keep.based_on.contains(&tag.name) {
            plan.kept_based_on += 1;
        } else if keep.watched.contains(&tag.name) {
            plan.kept_watched += 1;
        } else {
            plan.delete.push(tag.clone());
        }
    }
    plan.delete
        .sort_by(|a, b| (a.tagged_at, &a.name).cmp(&(b.tagged_at, &b.name)));
    plan
}

/// Deletions in one push to a hub advertising about `refs` refs: the cost of one
/// push stays about the same whatever the size of the hub.
pub fn batch_size(refs: usize) -> usize {
    (PAIRS_PER_PUSH / refs.max(1)).clamp(1, MAX_BATCH)
}

/// What one deletion push did, ref by ref.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HubOutcome {
    pub deleted: Vec<String>,
    /// Ref and the hub's (or git's) reason.
    pub refused: Vec<(String, String)>,
}

/// Reads `git push --porcelain`'s report of deletions: `-\t:<ref>\t[deleted]` or
/// `!\t:<ref>\t[remote rejected] (<reason>)`. A ref git did not report on (the push
/// failed as a whole: a hook, the network) is refused with `failure`.
pub fn read_porcelain(output: &str, asked: &[String], failure: &str) -> HubOutcome {
    let mut outcome = HubOutcome::default();
    let mut seen = HashSet::new();
    for line in output.lines() {
        let mut fields = line.splitn(3, '\t');
        let (Some(flag), Some(spec), summary) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let Some(name) = spec.strip_prefix(':') else {
            continue;
        };
        if !asked.iter().any(|a| a == name) || !seen.insert(name.to_owned()) {
            continue;
        }
        match flag {
            "-" => outcome.deleted.push(name.to_owned()),
            _ => outcome.refused.push((
                name.to_owned(),
                summary.unwrap_or("refused").trim().to_owned(),
            )),
        }
    }
    for name in asked.iter().filter(|a| !seen.contains(*a)) {
        outcome.refused.push((name.clone(), failure.to_owned()));
    }
    outcome
}

#[derive(Debug, thiserror::Error)]
pub enum PruneError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Transport(#[from] TransportError),
}

/// What a prune run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pruned {
    /// Deleted on the hub and in the mirror.
    pub deleted: Vec<String>,
    /// Refused by the hub (or the push failed): kept in the mirror, tried again later.
    pub refused: Vec<(String, String)>,
    /// Deleted on the hub but still in the mirror (the mirror's ref moved, or a lock).
    pub mirror_errors: Vec<String>,
    /// Expired, deletable, but left for a later run (`limit`, the deadline).
    pub left: usize,
}

/// Deletes `plan.delete` on `hub` (a remote name or URL, for `git push`) in batches,
/// then in the mirror; at most `limit` tags, and no new batch once `deadline` has
/// passed. A refused deletion is not an error, only a line of [`Pruned::refused`].
pub fn execute(
    repo: &Repo,
    dir: &Path,
    hub: &str,
    plan: &Plan,
    limit: Option<usize>,
    deadline: Option<Instant>,
) -> Result<Pruned, PruneError> {
    let mut pruned = Pruned::default();
    let wanted = limit.map_or(plan.delete.len(), |l| l.min(plan.delete.len()));
    let mut refs_on_hub = plan.total;
    let mut done = 0;
    while done < wanted {
        if deadline.is_some_and(|d| Instant::now() >= d) || crate::interrupt::interrupted() {
            break;
        }
        let size = batch_size(refs_on_hub).min(wanted - done);
        let batch = &plan.delete[done..done + size];
        done += size;
        let names: Vec<String> = batch.iter().map(|t| t.name.clone()).collect();
        let run = transport::delete_remote_refs(dir, hub, &names, deadline)?;
        let failure = if run.success {
            "git reported nothing for it".to_owned()
        } else {
            run.failure_reason().unwrap_or("git push failed").to_owned()
        };
        let outcome = read_porcelain(&run.output, &names, &failure);
        refs_on_hub = refs_on_hub.saturating_sub(outcome.deleted.len());
        let gone: Vec<(String, Oid)> = batch
            .iter()
            .filter(|t| outcome.deleted.contains(&t.name))
            .map(|t| (t.name.clone(), t.target))
            .collect();
        delete_in_mirror(repo, &gone, &mut pruned);
        pruned.refused.extend(outcome.refused);
    }
    pruned.left = plan.delete.len() - done;
    Ok(pruned)
}

/// Deletes refs the hub has let go; one transaction, else one by one so that one
/// moved ref does not keep the others.
fn delete_in_mirror(repo: &Repo, gone: &[(String, Oid)], pruned: &mut Pruned) {
    if gone.is_empty() {
        return;
    }
    if repo.delete_refs(gone).is_ok() {
        pruned.deleted.extend(gone.iter().map(|(n, _)| n.clone()));
        return;
    }
    for one in gone {
        match repo.delete_refs(std::slice::from_ref(one)) {
            Ok(()) => pruned.deleted.push(one.0.clone()),
            Err(e) => pruned.mirror_errors.push(format!("{}: {e}", one.0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    fn tag(name: &str, days_old: Option<i64>, now: i64) -> TagRef {
        TagRef {
            name: name.into(),
            target: Oid::from_hex("1111111111111111111111111111111111111111").unwrap(),
            tagged_at: days_old.map(|d| now - d * DAY),
        }
    }

    #[test]
    fn only_expired_series_tags_without_a_reason_to_stay_go() {
        let now = 2_000_000_000;
        let tags = [
            tag("refs/tags/patchew/old", Some(90), now),
            tag("refs/tags/patchew/older", Some(120), now),
            tag("refs/tags/patchew/new", Some(10), now),
            tag("refs/tags/patchew/base", Some(90), now),
            tag("refs/tags/patchew/watched", Some(90), now),
            tag("refs/tags/patchew/light", None, now),
            tag("refs/tags/v1.0", Some(900), now),
            tag("refs/tags/patchewX/old", Some(900), now),
            tag("refs/heads/patchew/old", Some(900), now),
        ];
        let keep = Keep {
            based_on: ["refs/tags/patchew/base".to_owned()].into(),
            watched: ["refs/tags/patchew/watched".to_owned()].into(),
        };
        let p = plan(
            &tags,
            "patchew",
            now,
            Duration::from_secs(60 * DAY as u64),
            &keep,
        );
        let names: Vec<&str> = p.delete.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["refs/tags/patchew/older", "refs/tags/patchew/old"]);
        assert_eq!(
            (p.kept_based_on, p.kept_watched, p.undated, p.total),
            (1, 1, 1, 6)
        );
        let never = plan(&tags, "patchew/", now, Duration::ZERO, &keep);
        assert!(never.delete.is_empty());
    }

    #[test]
    fn batches_shrink_as_the_hub_grows() {
        assert_eq!(batch_size(0), MAX_BATCH);
        assert_eq!(batch_size(100), MAX_BATCH);
        assert_eq!(batch_size(20_000), 50);
        assert_eq!(batch_size(100_000), 10);
        assert_eq!(batch_size(10_000_000), 1);
    }

    #[test]
    fn porcelain_says_what_went_and_what_was_refused() {
        let asked: Vec<String> = ["refs/tags/p/a", "refs/tags/p/b", "refs/tags/p/c"]
            .map(String::from)
            .into();
        let out = "To /hub.git\n-\t:refs/tags/p/a\t[deleted]\n!\t:refs/tags/p/b\t[remote rejected] (hook declined)\nDone\n";
        let o = read_porcelain(out, &asked, "push failed");
        assert_eq!(o.deleted, ["refs/tags/p/a"]);
        assert_eq!(
            o.refused,
            [
                (
                    "refs/tags/p/b".to_owned(),
                    "[remote rejected] (hook declined)".to_owned()
                ),
                ("refs/tags/p/c".to_owned(), "push failed".to_owned()),
            ]
        );
    }
}
