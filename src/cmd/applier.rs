//! `git patchew applier`: the unattended service that replaces
//! `patchew-cli apply --applier-mode`. One round: re-queue series whose applier died,
//! take the oldest unapplied series, claim it, apply it on its base, inject the CI
//! include, tag, push to the mirror, record its maintainers, report.

mod claim;
mod maintainers;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use self::claim::{Claim, Claimant, Outcome};
use super::apply;
use super::{exit, CmdError, Output};
use crate::ci::IncludeUrl;
use crate::config::Settings;
use crate::msgid::MessageId;
use crate::repo::{Oid, Repo};
use crate::server::{redact, ApplierData, ApplierResult, Patchew, QueueItem, Status};
use crate::transport::{self, Stream};

#[derive(Debug, Clone)]
pub struct Args {
    pub once: bool,
    pub target_repo: Option<String>,
    pub interval: Duration,
    pub ci_include: Option<String>,
}

/// Where a series' base comes from, fetched into these refs of the applier's repo.
const SOURCE_REFS: &str = "refs/patchew-applier/source";

/// Runs rounds, sleeping while the queue is empty; `--once` stops after one series
/// (or none); returns the exit code.
pub fn run(repo: &Repo, args: &Args, out: &Output) -> Result<i32, CmdError> {
    let settings = Settings::load(repo);
    // A bad include URL would fail every series after claiming it: say so once.
    let include = args
        .ci_include
        .as_ref()
        .or(settings.ci_include.as_ref())
        .ok_or_else(|| {
            CmdError::BadInput(
                "no CI include URL: set patchew.ciInclude or pass --ci-include".into(),
            )
        })?;
    IncludeUrl::parse(include).map_err(|e| CmdError::BadInput(format!("CI include: {e}")))?;
    let patchew = super::patchew_client(&settings)?;
    let claimant = Claimant::new(
        settings.applier_name.as_deref(),
        settings.claim_timeout,
        settings.claim_settle,
    );
    // The series we last failed to claim: when the queue offers it again, the
    // server has not caught up yet, and asking again at once would spin.
    let mut skipped: Option<String> = None;
    loop {
        let round = Round {
            repo,
            patchew: &patchew,
            claimant: &claimant,
            args,
            settings: &settings,
            out,
        };
        match round.run(&mut skipped) {
            Ok(Turn::Reported(status)) if args.once => {
                return Ok(if status == Status::Success {
                    exit::OK
                } else {
                    exit::APPLY_FAILED
                });
            }
            Ok(Turn::Idle | Turn::GaveUp) if args.once => return Ok(exit::NOTHING_TO_DO),
            Ok(Turn::Idle) => std::thread::sleep(args.interval),
            Ok(Turn::Reported(_) | Turn::Skipped | Turn::GaveUp) => {}
            Err(e) if args.once => return Err(e),
            // A service must outlive a server hiccup or one series it cannot report.
            Err(e) => {
                out.warn(&format!(
                    "{e}; trying again in {} s",
                    args.interval.as_secs()
                ));
                std::thread::sleep(args.interval);
            }
        }
    }
}

/// How one round ended.
enum Turn {
    /// Nothing to take: the queue is empty, or its head is claimed by another.
    Idle,
    /// Another applier holds the head of the queue.
    Skipped,
    /// Our claim was lost while applying: nothing pushed, nothing reported.
    GaveUp,
    Reported(Status),
}

/// What one round needs.
struct Round<'a> {
    repo: &'a Repo,
    patchew: &'a Patchew,
    claimant: &'a Claimant,
    args: &'a Args,
    settings: &'a Settings,
    out: &'a Output,
}

impl Round<'_> {
    fn run(&self, skipped: &mut Option<String>) -> Result<Turn, CmdError> {
        let (patchew, out) = (self.patchew, self.out);
        match self.claimant.requeue_stale(patchew) {
            Ok(ids) => {
                for id in ids {
                    out.info(&format!("re-queued <{id}>: its applier's claim went stale"));
                }
            }
            Err(e) => out.warn(&format!("cannot look for stale claims: {e}")),
        }
        let item = patchew
            .unapplied(self.args.target_repo.as_deref())
            .map_err(|e| CmdError::Network(e.to_string()))?;
        let Some(item) = item else {
            out.info("nothing to apply");
            return Ok(Turn::Idle);
        };
        if skipped.as_deref() == Some(item.message_id.as_str()) {
            out.info("nothing to apply: the head of the queue is claimed");
            *skipped = None;
            return Ok(Turn::Idle);
        }
        let claim = match self.claimant.try_claim(patchew, &item)? {
            Outcome::Claimed(claim) => claim,
            Outcome::Skipped(reason) => {
                out.info(&format!("skipping <{}>: {reason}", item.message_id));
                *skipped = Some(item.message_id);
                return Ok(Turn::Skipped);
            }
        };
        *skipped = None;
        out.info(&format!("applying <{}> {}", item.message_id, item.subject));
        let reported = process(
            self.repo,
            patchew,
            &item,
            self.args,
            self.settings,
            self.claimant,
            &claim,
        )?;
        let Some(status) = reported else {
            out.info(&format!(
                "gave up <{}>: another applier took it over, or it was re-queued",
                item.message_id
            ));
            *skipped = Some(item.message_id);
            return Ok(Turn::GaveUp);
        };
        out.info(&format!("reported {status:?} for <{}>", item.message_id));
        Ok(Turn::Reported(status))
    }
}

/// Applies one claimed series and reports the outcome, whatever happens in between:
/// even a panic is reported as a failure. `None` when the claim was lost on the way:
/// then nothing is pushed or reported, the new owner does both. Errors only when the
/// server cannot be reached.
fn process(
    repo: &Repo,
    patchew: &Patchew,
    item: &QueueItem,
    args: &Args,
    settings: &Settings,
    claimant: &Claimant,
    claim: &Claim,
) -> Result<Option<Status>, CmdError> {
    let mut log = String::new();
    let outcome = match guarded(|| apply_locally(repo, patchew, item, args, settings, &mut log)) {
        Ok(applied) => {
            if !claimant.holds(patchew, item, claim)? {
                return Ok(None);
            }
            guarded(|| push(repo, patchew, item, settings, &applied, &mut log))
        }
        Err(e) => Err(e),
    };
    let (status, data) = match outcome {
        Ok(data) => (Status::Success, data),
        Err(e) => {
            log.push_str(&format!("error: {e}\n"));
            (Status::Failure, ApplierData::default())
        }
    };
    if !claimant.holds(patchew, item, claim)? {
        return Ok(None);
    }
    let push_url = item.mirror.pushurl.as_deref().unwrap_or_default();
    let public_url = item.mirror.url.as_deref().unwrap_or_default();
    let result = ApplierResult {
        status,
        data,
        log: redact(&log, push_url, public_url),
    };
    patchew
        .put_result(&item.result_uri, &result)
        .map_err(|e| CmdError::Network(e.to_string()))?;
    Ok(Some(status))
}

/// A panic becomes an error, so that the series is still reported.
fn guarded<T>(f: impl FnOnce() -> Result<T, CmdError>) -> Result<T, CmdError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(CmdError::BadInput(
            "internal error (panic) while applying".into(),
        ))
    })
}

/// What was applied in the applier's repository, ready to push.
struct Applied {
    msgid: MessageId,
    mbox: Vec<u8>,
    base: String,
    head: String,
    tag: String,
}

fn apply_locally(
    repo: &Repo,
    patchew: &Patchew,
    item: &QueueItem,
    args: &Args,
    settings: &Settings,
    log: &mut String,
) -> Result<Applied, CmdError> {
    let msgid = item
        .message_id()
        .map_err(|e| CmdError::BadInput(format!("message-id {:?}: {e}", item.message_id)))?;
    if item.mirror.pushurl.is_none() {
        return Err(CmdError::BadInput(
            "the project has no mirror push URL".into(),
        ));
    }
    let base = fetch_base(repo, item, log)?;
    let mbox = patchew
        .get_mbox(&item.mbox_uri)
        .map_err(|e| CmdError::Network(e.to_string()))?;
    let options = apply::Options {
        base: Some(base),
        no_ci: false,
        no_tag: false,
        // A series re-queued because its trailers changed replaces its old tag.
        force: true,
        allow_partial: false,
        trailers: true,
        ci_include: args.ci_include.clone(),
        // Patchew recognises merged series by the Message-ID lines (git am -m).
        message_id: Some(true),
        signoff: false,
        // The old applier ran git am -3.
        three_way: true,
        scissors: false,
        quoted_cr: Default::default(),
    };
    let report = apply::apply_mbox(
        repo,
        settings,
        &mbox,
        Some(msgid.clone()),
        &options,
        &mut |line| {
            log.push_str(line);
            log.push('\n');
        },
    )?;
    for w in &report.warnings {
        log.push_str(&format!("warning: {w}\n"));
    }
    let tag = format!(
        "refs/tags/{}",
        report
            .tag
            .as_deref()
            .ok_or_else(|| CmdError::BadInput("the series was not tagged".into()))?
    );
    Ok(Applied {
        msgid,
        mbox,
        base: report.base,
        head: report.head,
        tag,
    })
}

fn push(
    repo: &Repo,
    patchew: &Patchew,
    item: &QueueItem,
    settings: &Settings,
    applied: &Applied,
    log: &mut String,
) -> Result<ApplierData, CmdError> {
    let push_url = item.mirror.pushurl.clone().unwrap_or_default();
    let options: Vec<String> = item
        .push_options
        .iter()
        .filter(|o| !o.is_empty())
        .cloned()
        .collect();
    let tag = &applied.tag;
    let pushed = transport::push(
        repo.top_dir(),
        &push_url,
        &[format!("{tag}:{tag}")],
        &options,
        true,
        Stream::Capture,
    )
    .map_err(|e| CmdError::BadInput(e.to_string()))?;
    log.push_str(&pushed.output);
    if !pushed.success {
        return Err(CmdError::Network("git push to the mirror failed".into()));
    }
    if let Some(command) = &settings.maintainers_command {
        report_maintainers(repo, patchew, item, applied, command, log);
    }
    Ok(ApplierData {
        base: Some(applied.base.clone()),
        repo: item.mirror.url.clone(),
        tag: Some(tag.clone()),
    })
}

/// Like patchew-cli, after the push and before the result; a failure here is only
/// a warning: the series is applied and pushed, which is what the result reports.
fn report_maintainers(
    repo: &Repo,
    patchew: &Patchew,
    item: &QueueItem,
    applied: &Applied,
    command: &str,
    log: &mut String,
) {
    let commits = Oid::from_hex(&applied.base).zip(Oid::from_hex(&applied.head));
    let Some((base, head)) = commits else {
        log.push_str("warning: maintainers: the applied commits are unknown\n");
        return;
    };
    let found = maintainers::find(
        repo,
        base,
        head,
        &applied.mbox,
        Some(applied.msgid.clone()),
        command,
    );
    let list = match found {
        Ok(list) => list,
        Err(e) => {
            log.push_str(&format!("warning: maintainers command failed: {e}\n"));
            return;
        }
    };
    if let Err(e) = patchew.patch_json(
        &item.resource_uri,
        &serde_json::json!({ "maintainers": list }),
    ) {
        log.push_str(&format!("warning: cannot record the maintainers: {e}\n"));
    }
}

/// Fetches the series' base into the applier's repository and names it: the base
/// series' tag when Patchew says it is based on one, else the project's branch.
fn fetch_base(repo: &Repo, item: &QueueItem, log: &mut String) -> Result<String, CmdError> {
    let (url, refspec, local) = match &item.based_on {
        Some(b) if !b.repo.is_empty() && !b.tag.is_empty() => {
            let tag = if b.tag.starts_with("refs/") {
                b.tag.clone()
            } else {
                format!("refs/tags/{}", b.tag)
            };
            (b.repo.clone(), format!("+{tag}:{tag}"), tag)
        }
        _ => {
            let (url, branch) = item.mirror.source_repo_and_branch().ok_or_else(|| {
                CmdError::BadInput("the project has no source repository (mirror.source)".into())
            })?;
            let local = format!("{SOURCE_REFS}/{branch}");
            (
                url.to_owned(),
                format!("+refs/heads/{branch}:{local}"),
                local,
            )
        }
    };
    let fetched = transport::fetch(repo.top_dir(), &url, &[refspec], Stream::Capture)
        .map_err(|e| CmdError::BadInput(e.to_string()))?;
    log.push_str(&fetched.output);
    if !fetched.success {
        return Err(CmdError::Network(format!("git fetch {url} failed")));
    }
    Ok(local)
}
