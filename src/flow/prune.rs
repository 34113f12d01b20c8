//! Expired series tags deleted on the ci-hub and in the mirror (`git patchew prune`;
//! the applier runs a batch a round): what to keep, from the queue and the ledger,
//! and the deletions planned and made by `publish::prune`.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::config::Settings;
use crate::error::CmdError;
use crate::http::{lookup_token, HttpClient};
use crate::output::Output;
use crate::publish::prune::{self, Keep, Plan, Pruned};
use crate::repo::Repo;
use crate::report::backstop::Ledger;
use crate::report::patchew::{Patchew, QueueItem};

/// Series read from the queue for their `Based-on`; a fuller page means the queue
/// may hold more, whose bases are unknown: nothing is pruned then.
const QUEUE_PAGE: u32 = 1000;

/// What the applier and `prune` tell the world.
pub struct Outcome {
    pub plan: Plan,
    pub pruned: Pruned,
}

pub fn say_kept(plan: &Plan, out: &Output) {
    out.info(&format!(
        "{} series tags; expired but kept: {} a queued series is based on, {} with a pending or running testing result; {} undated (kept)",
        plan.total, plan.kept_based_on, plan.kept_watched, plan.undated
    ));
}

/// One warning per tag the hub refused or the mirror kept.
pub fn warnings(outcome: &Outcome) -> Vec<String> {
    let refused = outcome
        .pruned
        .refused
        .iter()
        .map(|(tag, why)| format!("prune: the ci-hub did not delete {tag}: {why}"));
    let mirror = outcome
        .pruned
        .mirror_errors
        .iter()
        .map(|e| format!("prune: deleted on the ci-hub, not in the mirror: {e}"));
    refused.chain(mirror).collect()
}

/// Patchew's queue is readable without a token; one is used when there is one.
pub fn queue_reader(settings: &Settings) -> Result<Patchew, CmdError> {
    let server = settings.server.as_deref().ok_or_else(|| {
        CmdError::BadInput(
            "patchew.server is not set: prune asks Patchew's queue which tags queued series are based on".into(),
        )
    })?;
    let token = lookup_token(server, settings.token.as_deref())
        .ok()
        .flatten();
    Ok(Patchew::new(
        server,
        token,
        HttpClient::new(settings.http_config()),
    ))
}

/// The ci-hub remote (`patchew.remote`), which must be configured: it is where the
/// tags are deleted.
pub fn hub(repo: &Repo, settings: &Settings) -> Result<String, CmdError> {
    repo.remote_url(&settings.remote)
        .map(|_| settings.remote.clone())
        .ok_or_else(|| {
            CmdError::BadInput(format!(
                "no remote {:?} (patchew.remote): prune deletes the tags there",
                settings.remote
            ))
        })
}

/// The tags to keep although expired: bases of queued series, and tags whose
/// testing result the applier still watches (pending or running), unless watched
/// for longer than the expiry window (see [`trim_ledger`]).
pub fn keep(
    repo: &Repo,
    settings: &Settings,
    patchew: &Patchew,
    target_repo: Option<&str>,
) -> Result<Keep, CmdError> {
    let queue = patchew.queue(target_repo, QUEUE_PAGE)?;
    if queue.len() >= QUEUE_PAGE as usize {
        return Err(CmdError::Network(format!(
            "the queue holds {QUEUE_PAGE} series or more: their bases are not all known, nothing pruned"
        )));
    }
    Ok(Keep {
        based_on: based_on(&queue),
        watched: Ledger::new(repo)
            .load()
            .into_iter()
            .filter(|e| e.pushed_at >= oldest(settings))
            .map(|e| e.tag)
            .collect(),
    })
}

/// After deletions: the ledger forgets the deleted tags, and entries older than the
/// expiry window (see [`Ledger::trim`]).
pub fn trim_ledger(repo: &Repo, settings: &Settings, deleted: &[String], out: &Output) {
    match Ledger::new(repo).trim(deleted, oldest(settings)) {
        Ok(dropped) => {
            for tag in dropped.iter().filter(|t| !deleted.contains(t)) {
                out.warn(&format!(
                    "prune: the backstop stops watching {tag}: its result stayed unsettled for longer than patchew.tagExpiry"
                ));
            }
        }
        Err(e) => out.warn(&format!(
            "prune: cannot update the ledger of pushed tags: {e}"
        )),
    }
}

fn based_on(queue: &[QueueItem]) -> std::collections::HashSet<String> {
    queue
        .iter()
        .filter_map(|item| item.based_on.as_ref())
        .filter(|b| !b.tag.is_empty())
        .map(|b| prune::full_tag_ref(&b.tag))
        .collect()
}

pub fn plan(repo: &Repo, settings: &Settings, keep: &Keep) -> Result<Plan, CmdError> {
    let prefix = format!("refs/tags/{}/", settings.tag_prefix);
    let tags = repo.tags_under(&prefix)?;
    Ok(prune::plan(
        &tags,
        &settings.tag_prefix,
        unix_now(),
        settings.tag_expiry,
        keep,
    ))
}

/// The applier's share of pruning, once a round: one batch, within `budget`; what
/// went wrong is a warning, never a failed round. Skipped without the ci-hub remote
/// (said once, and only when some tag has expired: a mirror with nothing to prune
/// needs no hub).
pub fn applier_round(
    repo: &Repo,
    settings: &Settings,
    patchew: &Patchew,
    target_repo: Option<&str>,
    out: &Output,
) {
    static NO_HUB: std::sync::Once = std::sync::Once::new();
    if settings.tag_expiry.is_zero() {
        return;
    }
    let Ok(hub) = hub(repo, settings) else {
        let expired = plan(repo, settings, &Keep::default()).is_ok_and(|p| !p.delete.is_empty());
        if !expired {
            return;
        }
        NO_HUB.call_once(|| {
            out.warn(&format!(
                "prune: no remote {:?} (patchew.remote) in the mirror: expired tags are not deleted",
                settings.remote
            ))
        });
        return;
    };
    trim_ledger(repo, settings, &[], out);
    match round(repo, settings, patchew, &hub, target_repo, ROUND_BUDGET) {
        Ok(None) => {}
        Ok(Some(outcome)) => {
            for tag in &outcome.pruned.deleted {
                out.info(&format!("prune: deleted {tag}"));
            }
            trim_ledger(repo, settings, &outcome.pruned.deleted, out);
            for w in warnings(&outcome) {
                out.warn(&w);
            }
        }
        Err(e) => out.warn(&format!("prune: {e}")),
    }
}

/// Most time a round spends pruning (a batch is sized to take a few seconds).
const ROUND_BUDGET: Duration = Duration::from_secs(60);

/// One batch of expired tags; `None` when none has expired (Patchew is then not
/// asked for its queue).
fn round(
    repo: &Repo,
    settings: &Settings,
    patchew: &Patchew,
    hub: &str,
    target_repo: Option<&str>,
    budget: Duration,
) -> Result<Option<Outcome>, CmdError> {
    if plan(repo, settings, &Keep::default())?.delete.is_empty() {
        return Ok(None);
    }
    let keep = keep(repo, settings, patchew, target_repo)?;
    let plan = plan(repo, settings, &keep)?;
    let limit = prune::batch_size(plan.total);
    let deadline = Instant::now() + budget;
    let pruned = prune::execute(
        repo,
        repo.top_dir(),
        hub,
        &plan,
        Some(limit),
        Some(deadline),
    )
    .map_err(|e| CmdError::Network(e.to_string()))?;
    Ok(Some(Outcome { plan, pruned }))
}

/// Ledger entries pushed before this are no longer watched.
fn oldest(settings: &Settings) -> i64 {
    unix_now().saturating_sub(settings.tag_expiry.as_secs() as i64)
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
