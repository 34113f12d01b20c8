//! `git patchew applier`: the unattended service that replaces
//! `patchew-cli apply --applier-mode`. One round: re-queue series whose applier died,
//! take the oldest unapplied series, claim it, apply it on its base, inject the CI
//! include, tag, push to the mirror, record its maintainers, report.

mod claim;
pub mod liveness;
mod maintainers;
mod stale_lock;
mod timing;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use self::claim::{Claim, Claimant, Outcome, Settle};
use self::liveness::{Liveness, RoundEnd};
use super::apply;
use crate::ci::pipeline::Verdict;
use crate::ci::IncludeUrl;
use crate::config::{ReportFrom, Settings};
use crate::error::{CmdError, DeadlineHit};
use crate::exit;
use crate::input::msgid::MessageId;
use crate::output::Output;
use crate::publish::tag;
use crate::repo::{Oid, Repo};
use crate::report::backstop::{Backstop, Ledger, Pushed};
use crate::report::patchew::{redact, ApplierData, ApplierResult, Patchew, QueueItem, Status};
use crate::transport;

/// The options of the service.
#[derive(Debug, Clone)]
pub struct Args {
    /// Handle at most one series, then exit (3 when the queue is empty).
    pub once: bool,
    /// Only series whose project pushes to a URL starting with this.
    pub target_repo: Option<String>,
    /// How long to wait when the queue is empty.
    pub interval: Duration,
    /// URL of the hosted patchew-ci.yml; `None`: git config patchew.ciInclude.
    pub ci_include: Option<String>,
}

/// Where a series' base comes from, fetched into these refs of the applier's repo.
const SOURCE_REFS: &str = "refs/patchew-applier/source";

/// How our pre-push hook starts each refusal (see `publish::pre_push`).
const HOOK_REFUSAL: &str = "pre-push: refusing ";

/// Runs rounds, sleeping while the queue is empty; `--once` stops after one series
/// (or none); returns the exit code.
pub fn run(repo: &Repo, args: &Args, out: &Output) -> Result<i32, CmdError> {
    crate::interrupt::handle_termination_signals();
    let settings = Settings::load(repo)?;
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
    IncludeUrl::parse(include).map_err(|e| CmdError::setting("CI include", e))?;
    let patchew = super::clients::patchew_client(&settings)?;
    let mode = settings.report_from()?;
    let gitlab = super::clients::gitlab_client(&settings)?;
    if mode == ReportFrom::Applier && gitlab.is_none() {
        return Err(CmdError::BadInput(
            "patchew.reportFrom = applier needs GitLab access: set patchew.gitlabUrl, patchew.ciProject and a read_api token (PATCHEW_GITLAB_TOKEN or patchew.gitlabTokenFile)".into(),
        ));
    }
    let backstop = Backstop {
        repo,
        patchew: &patchew,
        gitlab: gitlab.as_ref(),
        mode,
        timeout: settings.ci_timeout,
    };
    let claimant = Claimant::new(
        settings.applier_name.as_deref(),
        settings.claim_timeout,
        Settle::configured(settings.claim_settle),
    );
    // The series we last failed to claim: when the queue offers it again, the
    // server has not caught up yet, and asking again at once would spin.
    let mut skipped: Option<String> = None;
    let mut liveness = Liveness::new(
        repo.common_dir(),
        settings.metrics_file.clone(),
        &claimant.name,
        args.interval.as_secs(),
        settings.applier_deadline.as_secs(),
    );
    loop {
        if let Err(e) = liveness.begin(liveness::unix_now()) {
            out.warn(&format!("cannot write the applier's status: {e}"));
        }
        // Before the queue, and whatever it holds: `--once` too, without touching
        // its exit code.
        sweep(&backstop, out);
        super::prune::applier_round(repo, &settings, &patchew, args.target_repo.as_deref(), out);
        let round = Round {
            repo,
            patchew: &patchew,
            claimant: &claimant,
            args,
            settings: &settings,
            out,
        };
        let turn = round.run(&mut skipped);
        if let Err(e) = liveness.finish(liveness::unix_now(), &round_end(&turn)) {
            out.warn(&format!("cannot write the applier's status: {e}"));
        }
        // A signal: the series in hand was finished or given back; stop here.
        if crate::interrupt::interrupted() && !args.once {
            return Err(crate::interrupt::Stop::Signal("the next round".into()).into());
        }
        match turn {
            Ok(Turn::Reported(status)) if args.once => {
                return Ok(if status == Status::Success {
                    exit::OK
                } else {
                    exit::APPLY_FAILED
                });
            }
            Ok(Turn::Idle | Turn::GaveUp) if args.once => return Ok(exit::NOTHING_TO_DO),
            Ok(Turn::GaveBack) if args.once => return Ok(exit::NETWORK),
            // Taking the same series again at once would meet the same trouble.
            Ok(Turn::Idle | Turn::GaveBack) => pause(args.interval),
            Ok(Turn::Reported(_) | Turn::Skipped | Turn::GaveUp) => {}
            // Not temporary: every later series would meet the same refusal.
            Err(e) if refused_by_patchew(&e) => return Err(not_an_importer(e)),
            Err(e) if args.once => return Err(e),
            // A service must outlive a server hiccup or one series it cannot report.
            Err(e) => {
                out.warn(&format!(
                    "{e}; trying again in {} s",
                    args.interval.as_secs()
                ));
                pause(args.interval);
            }
        }
    }
}

/// Patchew refused a write of the round (the `git` result: claim, report, give-back)
/// with 403: the token's user lacks the right, which no retry changes.
fn refused_by_patchew(e: &CmdError) -> bool {
    matches!(e, CmdError::Http(e) if e.status() == Some(403))
}

/// The one line an admin needs: which group the token's user must join.
fn not_an_importer(e: CmdError) -> CmdError {
    match e {
        CmdError::Http(e) => CmdError::NotImporter(e),
        other => other,
    }
}

/// How a round counts in the status file and the metrics.
fn round_end(turn: &Result<Turn, CmdError>) -> RoundEnd {
    match turn {
        Ok(Turn::Reported(Status::Success)) => RoundEnd::Applied,
        Ok(Turn::Reported(_)) => RoundEnd::Failed,
        Ok(Turn::GaveBack) => RoundEnd::GaveBack,
        Ok(Turn::Idle | Turn::Skipped | Turn::GaveUp) => RoundEnd::Nothing,
        Err(e) => RoundEnd::Error(e.to_string()),
    }
}

/// The backstop's round: what it reported, and why it could not, as warnings.
fn sweep(backstop: &Backstop, out: &Output) {
    let swept = backstop.sweep();
    for tag in &swept.reported {
        out.info(&format!("backstop: reported {tag}"));
    }
    for tag in &swept.left_alone {
        out.info(&format!(
            "backstop: {tag} was reported meanwhile; left alone"
        ));
    }
    for w in &swept.warnings {
        out.warn(&format!("backstop: {w}"));
    }
}

/// Sleeps, but wakes up early when a signal asks us to stop.
fn pause(duration: Duration) {
    let end = Instant::now() + duration;
    while !crate::interrupt::interrupted() {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(100)));
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
    /// Trouble that is not the series' fault (a server, the network, a lock, the
    /// deadline): the series is pending again, for a later round or another applier.
    GaveBack,
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
        recover_locks(self.repo, out);
        let item = patchew.unapplied(self.args.target_repo.as_deref())?;
        let Some(item) = item else {
            out.info("nothing to apply");
            return Ok(Turn::Idle);
        };
        if skipped.as_deref() == Some(item.message_id.as_str()) {
            out.info("nothing to apply: the head of the queue is claimed");
            *skipped = None;
            return Ok(Turn::Idle);
        }
        timing::take();
        let claim = match timing::timed("claim", || self.claimant.try_claim(patchew, &item))? {
            Outcome::Claimed(claim) => claim,
            Outcome::Skipped(reason) => {
                out.info(&format!("skipping <{}>: {reason}", item.message_id));
                *skipped = Some(item.message_id);
                return Ok(Turn::Skipped);
            }
        };
        *skipped = None;
        out.info(&format!("applying <{}> {}", item.message_id, item.subject));
        out.progress(&format!(
            "the claim of <{}> settles in {:.3} s",
            item.message_id,
            claim.settle().as_secs_f64()
        ));
        let reported = self.process(&item, &claim)?;
        let status = match reported {
            Processed::Reported(status) => status,
            Processed::Lost => {
                out.info(&format!(
                    "gave up <{}>: another applier took it over, or it was re-queued",
                    item.message_id
                ));
                *skipped = Some(item.message_id);
                return Ok(Turn::GaveUp);
            }
            Processed::GivenBack(why) => {
                out.warn(&format!(
                    "gave <{}> back to the queue: {why}",
                    item.message_id
                ));
                return Ok(Turn::GaveBack);
            }
        };
        out.info(&format!("reported {status:?} for <{}>", item.message_id));
        out.info(&format!(
            "round trip of <{}>: {}",
            item.message_id,
            timing::summary(&timing::take())
        ));
        Ok(Turn::Reported(status))
    }
}

/// Before the next series: ref locks that a dead process left in the mirror (a
/// SIGKILL while writing a tag) would fail every later series; removed when no
/// live process works in the mirror, else left to their holder.
fn recover_locks(repo: &Repo, out: &Output) {
    let r = self::stale_lock::recover(repo.common_dir(), std::process::id());
    for lock in &r.removed {
        out.warn(&format!(
            "removed {}: left by a process that died (no live process works in the mirror)",
            lock.display()
        ));
    }
    if !r.held_by.is_empty() {
        out.info(&format!(
            "ref locks in the mirror are held by live processes {:?}: left alone",
            r.held_by
        ));
    }
}

/// How processing a claimed series ended.
enum Processed {
    Reported(Status),
    /// The claim was lost on the way: nothing pushed or reported, the new owner
    /// does both.
    Lost,
    /// Put back to `pending` (push options kept), for this reason.
    GivenBack(String),
}

/// How the work on a claimed series went, before it is reported or given back.
enum Attempt {
    /// The outcome, and the log so far.
    Done(Result<ApplierData, CmdError>, String),
    /// The claim was lost before the push.
    Lost,
}

impl Round<'_> {
    /// Applies one claimed series and reports the outcome, whatever happens in between:
    /// even a panic is reported as a failure. Trouble that is not the series' doing
    /// (see [`is_temporary`]) and running past `patchew.applierDeadline` give the series
    /// back instead, up to `patchew.giveBackLimit` times in a row. Errors only when the
    /// server cannot be reached.
    fn process(&self, item: &QueueItem, claim: &Claim) -> Result<Processed, CmdError> {
        let (patchew, settings, claimant) = (self.patchew, self.settings, self.claimant);
        if item.is_merged {
            // Merged meanwhile: nothing to test, no pipeline to spend.
            let log = "The series is already merged (Patchew marks it is_merged): not applied, no pipeline.\n";
            let data = ApplierData::default();
            return self.report(item, claim, Status::Success, data, log);
        }
        // Give-backs that counted while no attempt of ours ended (an applier that died
        // on the series, whose claim went stale) may already be past the limit: a series
        // that kills its applier, out of memory say, is not taken for ever.
        if claim.given_back().len() as u64 > settings.give_back_limit {
            let log = gave_up_log(claim.given_back(), settings.give_back_limit);
            let data = ApplierData::default();
            return self.report(item, claim, Status::Failure, data, &log);
        }
        let deadline = Instant::now() + settings.applier_deadline;
        // The apply loop and the ref update stop at their next safe point once it passes.
        crate::interrupt::set_deadline(Some(deadline));
        let outcome = self.attempt(item, claim, deadline);
        crate::interrupt::set_deadline(None);
        let (outcome, mut log) = match outcome? {
            Attempt::Done(outcome, log) => (outcome, log),
            Attempt::Lost => return Ok(Processed::Lost),
        };
        let (status, data) = match outcome {
            Ok(data) => (Status::Success, data),
            Err(e) if is_temporary(&e) => {
                if !claimant.holds(patchew, item, claim)? {
                    return Ok(Processed::Lost);
                }
                // A signal (the service stopping) says nothing about the series: not
                // counted, and never the give-back that turns into a failure.
                if crate::interrupt::interrupted() {
                    claimant.give_back(patchew, item, claim.given_back())?;
                    return Ok(Processed::GivenBack(e.to_string()));
                }
                let mut reasons = claim.given_back().to_vec();
                reasons.push(e.to_string());
                if reasons.len() as u64 <= settings.give_back_limit {
                    claimant.give_back(patchew, item, &reasons)?;
                    return Ok(Processed::GivenBack(e.to_string()));
                }
                log.push_str(&gave_up_log(&reasons, settings.give_back_limit));
                (Status::Failure, ApplierData::default())
            }
            Err(e) => {
                log.push_str(&format!("error: {e}\n"));
                (Status::Failure, ApplierData::default())
            }
        };
        self.report(item, claim, status, data, &log)
    }

    /// PUTs the outcome of a series we still hold.
    fn report(
        &self,
        item: &QueueItem,
        claim: &Claim,
        status: Status,
        data: ApplierData,
        log: &str,
    ) -> Result<Processed, CmdError> {
        let patchew = self.patchew;
        if !self.claimant.holds(patchew, item, claim)? {
            return Ok(Processed::Lost);
        }
        let push_url = item.mirror.pushurl.as_deref().unwrap_or_default();
        let public_url = item.mirror.url.as_deref().unwrap_or_default();
        let result = ApplierResult {
            status,
            data,
            log: redact(log, push_url, public_url),
        };
        // Reported: the data no longer holds give-backs, so a later give-back of the
        // same series (re-queued) starts a new count.
        timing::timed("report", || patchew.put_result(&item.result_uri, &result))?;
        Ok(Processed::Reported(status))
    }

    /// Fetch, apply, push, within `deadline`: each git child is killed when it passes,
    /// the mbox GET gets only the time left, and the apply stops between patches.
    fn attempt(
        &self,
        item: &QueueItem,
        claim: &Claim,
        deadline: Instant,
    ) -> Result<Attempt, CmdError> {
        let (repo, patchew, args, settings) = (self.repo, self.patchew, self.args, self.settings);
        let mut log = String::new();
        let applied =
            guarded(|| apply_locally(repo, patchew, item, args, settings, deadline, &mut log));
        let outcome = match applied {
            Ok(Local::AlreadyIn) => Ok(ApplierData::default()),
            Ok(_) if Instant::now() >= deadline => Err(past_deadline(settings)),
            Ok(Local::Applied(applied)) => {
                if !self.claimant.holds(patchew, item, claim)? {
                    return Ok(Attempt::Lost);
                }
                guarded(|| push(repo, patchew, item, settings, &applied, deadline, &mut log))
            }
            Err(e) => Err(e),
        };
        Ok(Attempt::Done(outcome, log))
    }
}

/// The log of a series given back too often: every attempt's reason, so that its
/// author and the admins see what keeps going wrong.
fn gave_up_log(reasons: &[String], limit: u64) -> String {
    let mut log = format!(
        "error: gave up after {} attempts in a row that ended in trouble not caused by \
         the series (patchew.giveBackLimit is {limit}):\n",
        reasons.len(),
    );
    for (i, reason) in reasons.iter().enumerate() {
        log.push_str(&format!(
            "attempt {}: {}\n",
            i + 1,
            reason.replace('\n', " ")
        ));
    }
    log
}

/// Servers, the network, a lock another process holds, a deadline: nothing the
/// series did, so it must not be reported as a series that "did not apply".
fn is_temporary(e: &CmdError) -> bool {
    match e {
        CmdError::Network(_)
        | CmdError::Http(_)
        | CmdError::Deadline(_)
        | CmdError::GitFailed { .. }
        | CmdError::Stopped(_) => true,
        // git missing or unstartable on the applier host is not the series' doing.
        CmdError::Transport(_) | CmdError::Spawn { .. } => true,
        CmdError::Fetch(e) => e.server_failed(),
        CmdError::Repo(e)
        | CmdError::Tag(tag::TagError::Repo(e))
        | CmdError::Apply(crate::apply::commits::ApplyError::Repo(e)) => e.is_temporary(),
        _ => false,
    }
}

fn past_deadline(settings: &Settings) -> CmdError {
    DeadlineHit::Series(settings.applier_deadline).into()
}

/// A git child that ran past the deadline was killed (see `transport`).
fn killed_at_deadline(verb: &'static str, settings: &Settings) -> CmdError {
    DeadlineHit::GitKilled {
        verb,
        limit: settings.applier_deadline,
    }
    .into()
}

/// What is left before `deadline`, or the error that says none is.
fn time_left(settings: &Settings, deadline: Instant) -> Result<Duration, CmdError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(past_deadline(settings));
    }
    Ok(left)
}

/// A panic becomes an error, so that the series is still reported.
fn guarded<T>(f: impl FnOnce() -> Result<T, CmdError>) -> Result<T, CmdError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(CmdError::BadInput(
            "internal error (panic) while applying".into(),
        ))
    })
}

/// What applying found.
enum Local {
    Applied(Applied),
    /// Every patch is in the base's history already (the log says where).
    AlreadyIn,
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
    deadline: Instant,
    log: &mut String,
) -> Result<Local, CmdError> {
    let msgid = item
        .message_id()
        .map_err(|e| CmdError::BadInput(format!("message-id {:?}: {e}", item.message_id)))?;
    if item.mirror.pushurl.is_none() {
        return Err(CmdError::BadInput(
            "the project has no mirror push URL".into(),
        ));
    }
    let base = timing::timed("fetch", || fetch_base(repo, item, settings, deadline, log))?;
    // Fell back to the branch: the Based-on tag is gone.
    let choice = if base.starts_with(SOURCE_REFS) {
        tag::BaseChoice::Mainline
    } else {
        base_choice(item)
    };
    let left = time_left(settings, deadline)?;
    let mbox = timing::timed("fetch", || patchew.get_mbox_within(&item.mbox_uri, left))?;
    let options = apply::Options {
        base: Some(base),
        no_ci: false,
        no_tag: false,
        // A series re-queued because its trailers changed replaces its old tag.
        force: true,
        allow_partial: false,
        trailers: true,
        sloppy_trailers: false,
        ci_include: args.ci_include.clone(),
        // Patchew recognises merged series by the Message-ID lines (git am -m).
        message_id: Some(true),
        signoff: false,
        // The old applier ran git am -3.
        three_way: true,
        base_choice: Some(choice),
        // Patchew's mboxes are plain mbox, as the old applier's git am read them.
        patch_format: None,
        // Where based-on series' tags are: Patchew's based_on names the repository,
        // else the mirror this applier pushes every series to.
        base_remote: item
            .based_on
            .as_ref()
            .map(|b| b.repo.clone())
            .filter(|r| !r.is_empty())
            .or_else(|| item.mirror.pushurl.clone()),
        push_options: item
            .push_options
            .iter()
            .filter(|o| !o.is_empty())
            .cloned()
            .collect(),
        scissors: false,
        fetch_includes: true,
        quoted_cr: Default::default(),
    };
    // The tag pipeline runs in the project pushed to: its path is the one the
    // verdict needs, unless configured.
    let mut settings = settings.clone();
    if settings.ci_project.is_none() {
        settings.ci_project = item
            .mirror
            .pushurl
            .as_deref()
            .and_then(crate::ci::verdict::project_path);
    }
    let applied = timing::timed("apply", || {
        apply::apply_mbox(
            repo,
            &settings,
            &mbox,
            Some(msgid.clone()),
            &options,
            &mut |line| {
                log.push_str(line);
                log.push('\n');
            },
        )
    });
    // A patch that does not fit, or that changes nothing, may be there already.
    let already_in = |log: &mut String| {
        let base = repo.try_resolve_commit(options.base.as_deref().unwrap_or_default());
        let found =
            base.map(|b| crate::apply::merged::already_in(repo, b, &mbox, Some(msgid.clone())));
        let Some(Ok(Some(commits))) = found else {
            return false;
        };
        log.push_str(&crate::apply::merged::already_in_line(&commits));
        log.push('\n');
        true
    };
    let report = match applied {
        Err(CmdError::Apply(e)) if !e.is_malformed_input() => {
            if already_in(log) {
                return Ok(Local::AlreadyIn);
            }
            return Err(CmdError::Apply(e));
        }
        other => other?,
    };
    if report.tag.is_none() && already_in(log) {
        return Ok(Local::AlreadyIn);
    }
    for w in &report.warnings {
        log.push_str(&format!("warning: {w}\n"));
    }
    // Patchew shows this log: say what the ci-hub will make of the tag, even when
    // all is well.
    if let Some(pipeline) = report
        .pipeline
        .as_ref()
        .filter(|p| p.verdict == Verdict::Runs)
    {
        log.push_str(&format!("{}\n", pipeline.summary()));
    }
    let tag = format!(
        "refs/tags/{}",
        report
            .tag
            .as_deref()
            .ok_or_else(|| CmdError::BadInput("the series was not tagged".into()))?
    );
    Ok(Local::Applied(Applied {
        msgid,
        mbox,
        base: report.base,
        head: report.head,
        tag,
    }))
}

fn push(
    repo: &Repo,
    patchew: &Patchew,
    item: &QueueItem,
    settings: &Settings,
    applied: &Applied,
    deadline: Instant,
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
    let pushed = timing::timed("push", || {
        transport::push_until(
            repo.top_dir(),
            &push_url,
            &[format!("{tag}:{tag}")],
            &options,
            true,
            deadline,
        )
    })?;
    log.push_str(&pushed.output);
    if !pushed.success && Instant::now() >= deadline {
        return Err(killed_at_deadline("push", settings));
    }
    if !pushed.success {
        // Our own pre-push hook refusing the tag is the series' doing (its CI file);
        // anything else (a host down, a full disk, credentials) is not.
        if pushed.output.contains(HOOK_REFUSAL) {
            return Err(CmdError::BadInput(
                "the pre-push hook refused the tag".into(),
            ));
        }
        let public_url = item.mirror.url.as_deref().unwrap_or_default();
        return Err(CmdError::GitFailed {
            verb: "push",
            target: "to the mirror".into(),
            reason: pushed
                .failure_reason()
                .map(|line| redact(line, &push_url, public_url)),
        });
    }
    if let Some(command) = &settings.maintainers_command {
        timing::timed("maintainers", || {
            report_maintainers(repo, patchew, item, applied, command, log)
        });
    }
    watch(repo, item, applied, log);
    Ok(ApplierData {
        base: Some(applied.base.clone()),
        repo: item.mirror.url.clone(),
        tag: Some(tag.clone()),
    })
}

/// Hands the pushed tag to the backstop, which watches its `testing.gitlab` result.
fn watch(repo: &Repo, item: &QueueItem, applied: &Applied, log: &mut String) {
    // Pushed with ci.skip (only its trailers changed): GitLab runs no pipeline on
    // purpose, and the backstop must not call that a failure.
    if item.push_options.iter().any(|o| o.trim() == "ci.skip") {
        if let Err(e) = Ledger::new(repo).forget(&applied.tag) {
            log.push_str(&format!("warning: the backstop ledger: {e}\n"));
        }
        return;
    }
    let entry = Pushed {
        result_uri: format!(
            "{}/results/testing.gitlab/",
            item.resource_uri.trim_end_matches('/')
        ),
        tag: applied.tag.clone(),
        head: applied.head.clone(),
        series: applied.msgid.as_str().to_owned(),
        pushed_at: crate::report::backstop::now(),
    };
    if let Err(e) = Ledger::new(repo).record(entry) {
        log.push_str(&format!(
            "warning: the backstop cannot watch this tag: {e}\n"
        ));
    }
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

/// What the base fetched by [`fetch_base`] is, for the tag's story.
fn base_choice(item: &QueueItem) -> tag::BaseChoice {
    let based_on = item
        .based_on
        .as_ref()
        .filter(|b| !b.repo.is_empty() && !b.tag.is_empty());
    match based_on {
        None => tag::BaseChoice::Mainline,
        Some(b) => b
            .tag
            .rsplit('/')
            .next()
            .and_then(|c| MessageId::from_ref_component(c).ok())
            .map_or(tag::BaseChoice::Explicit, |id| {
                tag::BaseChoice::BasedOn(vec![id])
            }),
    }
}

/// Fetches the series' base into the applier's repository and names it: the base
/// series' tag when Patchew says it is based on one, else the project's branch. A
/// series tag the hub no longer has (expired: `git patchew prune`) falls back to the
/// branch, and the log says so.
fn fetch_base(
    repo: &Repo,
    item: &QueueItem,
    settings: &Settings,
    deadline: Instant,
    log: &mut String,
) -> Result<String, CmdError> {
    if let Some(b) = item
        .based_on
        .as_ref()
        .filter(|b| !b.repo.is_empty() && !b.tag.is_empty())
    {
        let tag = crate::publish::prune::full_tag_ref(&b.tag);
        let missing = fetch_into(repo, &b.repo, &tag, &tag, settings, deadline, log)?;
        let Some(why) = missing else {
            return Ok(tag);
        };
        if !tag.starts_with(&format!("refs/tags/{}/", settings.tag_prefix)) {
            return Err(CmdError::Network(why));
        }
        log.push_str(&format!(
            "warning: the Based-on tag {tag} is gone from {} (expired series tags are \
             pruned after patchew.tagExpiry days): applying on the project's branch instead\n",
            b.repo
        ));
    }
    let (url, branch) = item.mirror.source_repo_and_branch().ok_or_else(|| {
        CmdError::BadInput("the project has no source repository (mirror.source)".into())
    })?;
    let local = format!("{SOURCE_REFS}/{branch}");
    let remote = format!("refs/heads/{branch}");
    match fetch_into(repo, url, &remote, &local, settings, deadline, log)? {
        None => Ok(local),
        Some(why) => Err(CmdError::Network(why)),
    }
}

/// Fetches `remote_ref` of `url` into `local`; `Some(why)` when the remote does not
/// have it, any other failure is an error.
fn fetch_into(
    repo: &Repo,
    url: &str,
    remote_ref: &str,
    local: &str,
    settings: &Settings,
    deadline: Instant,
    log: &mut String,
) -> Result<Option<String>, CmdError> {
    time_left(settings, deadline)?;
    let refspec = format!("+{remote_ref}:{local}");
    let fetched = transport::fetch_until(repo.top_dir(), url, &[refspec], deadline)?;
    log.push_str(&fetched.output);
    if !fetched.success && Instant::now() >= deadline {
        return Err(killed_at_deadline("fetch", settings));
    }
    if fetched.success {
        return Ok(None);
    }
    let reason = fetched.failure_reason().map(str::to_owned);
    // A base tag that is not there (pruned, say) is not trouble: the caller falls
    // back on the base rules' next choice.
    if fetched.output.contains("couldn't find remote ref") {
        let why = reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        return Ok(Some(format!("git fetch {url} failed{why}")));
    }
    Err(CmdError::GitFailed {
        verb: "fetch",
        target: url.to_owned(),
        reason,
    })
}
