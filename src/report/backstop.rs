//! No series left silent. The applier remembers every tag it pushed (a ledger in its
//! repository) and, every round, looks at each one's `testing.gitlab` result:
//!
//! - `reportFrom = pipeline`: once `patchew.ciTimeout` has passed with the result
//!   still `pending` or `running`, it asks GitLab (when configured) what became of
//!   the tag's pipeline and reports that: no pipeline (with the CI file's reason),
//!   canceled, blocked on a manual job, timed out (`is_timeout`), or the verdict of a
//!   finished pipeline whose own report never arrived. Without GitLab it reports a
//!   timeout.
//! - `reportFrom = applier`: it reports each finished pipeline at once, with the same
//!   report the jobs would send, and the backstop's outcomes after the timeout.
//!
//! It never overwrites a result the pipeline wrote: the result is read again just
//! before writing, and only `pending`/`running` is replaced.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::config::ReportFrom;
use crate::repo::{Oid, Repo};
use crate::report::data::ReportData;
use crate::report::gitlab::{GitLab, GitLabError, Job, Pipeline};
use crate::report::patchew::{Patchew, Status};
use crate::report::pipeline::{self, failed_jobs, TraceError};

/// Who the result says wrote it.
const TESTER: &str = "git-patchew applier";

/// One pushed tag the applier still watches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pushed {
    /// `{series resource_uri}results/testing.gitlab/`.
    pub result_uri: String,
    /// `refs/tags/patchew/...`.
    pub tag: String,
    pub head: String,
    /// The bare message-id, for the report's text.
    pub series: String,
    /// Seconds since the epoch.
    pub pushed_at: i64,
}

/// The watched tags, one JSON object a line in `<git dir>/patchew-applier/pushed`.
pub struct Ledger {
    path: PathBuf,
}

impl Ledger {
    pub fn new(repo: &Repo) -> Self {
        Ledger {
            path: repo.common_dir().join("patchew-applier").join("pushed"),
        }
    }

    /// Adds `entry`, replacing an older one for the same tag (a re-push).
    pub fn record(&self, entry: Pushed) -> std::io::Result<()> {
        let mut entries = self.load();
        entries.retain(|e| e.tag != entry.tag);
        entries.push(entry);
        self.save(&entries)
    }

    /// Stops watching `tag`, if it was watched.
    pub fn forget(&self, tag: &str) -> std::io::Result<()> {
        let mut entries = self.load();
        let count = entries.len();
        entries.retain(|e| e.tag != tag);
        if entries.len() == count {
            return Ok(());
        }
        self.save(&entries)
    }

    pub fn load(&self) -> Vec<Pushed> {
        crate::state_file::load(&self.path)
    }

    /// Keeps the ledger bounded over years: drops the entries of `deleted` tags
    /// (pruned), entries pushed before `oldest` (watched for a whole expiry window:
    /// the backstop could never settle them, and their tags must be free to expire),
    /// and all but the newest [`MAX_WATCHED`]. Returns the tags dropped.
    pub fn trim(&self, deleted: &[String], oldest: i64) -> std::io::Result<Vec<String>> {
        let entries = self.load();
        let (kept, dropped) = bounded(entries, deleted, oldest);
        if !dropped.is_empty() {
            self.save(&kept)?;
        }
        Ok(dropped)
    }

    fn save(&self, entries: &[Pushed]) -> std::io::Result<()> {
        crate::state_file::save(&self.path, entries)
    }
}

/// Most tags the backstop watches at once: far above the pipelines of a
/// `patchew.ciTimeout` window of any list, so only a ledger gone wrong reaches it.
pub const MAX_WATCHED: usize = 10_000;

/// [`Ledger::trim`]'s choice: (kept, dropped tags).
fn bounded(entries: Vec<Pushed>, deleted: &[String], oldest: i64) -> (Vec<Pushed>, Vec<String>) {
    let (mut kept, mut dropped): (Vec<Pushed>, Vec<Pushed>) = entries
        .into_iter()
        .partition(|e| e.pushed_at >= oldest && !deleted.contains(&e.tag));
    if kept.len() > MAX_WATCHED {
        kept.sort_by_key(|e| e.pushed_at);
        let excess = kept.len() - MAX_WATCHED;
        dropped.extend(kept.drain(..excess));
    }
    (kept, dropped.into_iter().map(|e| e.tag).collect())
}

/// What GitLab shows for a tag, reduced to what decides a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PipelineView {
    NotCreated,
    Found { pipeline: Pipeline, jobs: Vec<Job> },
}

/// What to do about one watched tag this round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Look again next round.
    Wait,
    /// Say `running` with the pipeline's link, and keep watching.
    Running { log: String, data: ReportData },
    /// Write this final result and stop watching.
    Report(Verdict),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: Status,
    pub log: String,
    pub is_timeout: bool,
    /// The pipeline's URL and failed jobs, for `data`.
    pub data: ReportData,
}

/// Everything [`decide`] needs, as plain data.
pub struct Facts<'a> {
    pub mode: ReportFrom,
    pub entry: &'a Pushed,
    /// What the result says now.
    pub current: Status,
    pub age: Duration,
    pub timeout: Duration,
    /// `None`: the applier has no GitLab access, or GitLab failed to answer
    /// (`gitlab_trouble` says how).
    pub gitlab: Option<&'a PipelineView>,
    pub gitlab_trouble: Option<&'a str>,
    /// Why GitLab may create no pipeline for the tag, from the tag's CI file.
    pub no_pipeline_reasons: &'a [String],
}

/// The heart of the backstop: a pure function of what is known.
pub fn decide(f: &Facts, trace: &mut dyn FnMut(&Job) -> Result<Vec<u8>, TraceError>) -> Action {
    let timed_out = f.age >= f.timeout;
    let head =
        |url: &str, status: &str| pipeline::head(url, status, &f.entry.series, &f.entry.head);
    let Some(view) = f.gitlab else {
        if !timed_out {
            return Action::Wait;
        }
        let mut log = head("(unknown)", "failure");
        log.push(String::new());
        let why = match f.gitlab_trouble {
            Some(trouble) => format!("GitLab could not say why: {trouble}"),
            None => "the applier has no GitLab access to say why (patchew.gitlabUrl, patchew.ciProject, a read_api token)".to_owned(),
        };
        log.push(format!(
            "No report from the pipeline of {} within {} s (patchew.ciTimeout), and {why}.",
            f.entry.tag,
            f.timeout.as_secs()
        ));
        return not_the_series("ci_timeout", log, true, ReportData::default());
    };
    let (pipeline, jobs) = match view {
        PipelineView::NotCreated if !timed_out => return Action::Wait,
        PipelineView::NotCreated => {
            let mut log = head("(none)", "failure");
            log.push(String::new());
            log.push(format!(
                "GitLab created no pipeline for {} within {} s.",
                f.entry.tag,
                f.timeout.as_secs()
            ));
            if f.no_pipeline_reasons.is_empty() {
                log.push("The tag's CI file shows no reason; look at the ci-hub's pipeline settings and runners.".into());
            } else {
                log.push("The tag's .gitlab-ci.yml says why:".into());
                log.extend(f.no_pipeline_reasons.iter().map(|r| format!("- {r}")));
            }
            return not_the_series("no_pipeline", log, false, ReportData::default());
        }
        PipelineView::Found { pipeline, jobs } => (pipeline, jobs),
    };
    let url = pipeline.web_url.as_str();
    let finished_status = match pipeline.status.as_str() {
        "success" => Some(Status::Success),
        "failed" => Some(Status::Failure),
        _ => None,
    };
    if let Some(status) = finished_status {
        // In pipeline mode the jobs report; only a report that never came is ours.
        if f.mode == ReportFrom::Pipeline && !timed_out {
            return Action::Wait;
        }
        let word = if status == Status::Success {
            "success"
        } else {
            "failure"
        };
        let failed = failed_jobs(jobs);
        let mut log =
            pipeline::verdict_lines(url, word, &f.entry.series, &f.entry.head, &failed, trace);
        if f.mode == ReportFrom::Pipeline {
            log.push(String::new());
            log.push("(Sent by the applier: the pipeline's own report did not arrive.)".into());
        }
        return report(status, &log, false, ReportData::of_jobs(url, &failed));
    }
    if matches!(pipeline.status.as_str(), "canceled" | "skipped") {
        if f.mode == ReportFrom::Pipeline && !timed_out {
            return Action::Wait;
        }
        let mut log = head(url, "failure");
        log.push(String::new());
        log.push(format!("The pipeline was {}.", pipeline.status));
        let reason = format!("pipeline_{}", pipeline.status);
        return not_the_series(&reason, log, false, ReportData::of_pipeline(url));
    }
    if !timed_out {
        let says_pending = f.current == Status::Pending;
        return if f.mode == ReportFrom::Applier && says_pending {
            Action::Running {
                log: pipeline::render(&head(url, "running")),
                data: ReportData::of_pipeline(url),
            }
        } else {
            Action::Wait
        };
    }
    let blocking = jobs
        .iter()
        .find(|j| j.status == "manual" && !j.allow_failure);
    let mut log = head(url, "failure");
    log.push(String::new());
    if pipeline.status == "manual" || blocking.is_some() {
        let name = blocking.map_or("(unknown)", |j| j.name.as_str());
        log.push(format!(
            "The pipeline is blocked on manual job {name}: nobody started it within {} s. A manual job that may not fail stops the pipeline before the report.",
            f.timeout.as_secs()
        ));
        let data = ReportData::of_pipeline(url);
        return not_the_series("blocked_on_manual_job", log, false, data);
    }
    log.push(format!(
        "Timed out: the pipeline is still {} after {} s (patchew.ciTimeout).",
        pipeline.status,
        f.timeout.as_secs()
    ));
    let waiting: Vec<String> = jobs
        .iter()
        .filter(|j| {
            !matches!(
                j.status.as_str(),
                "success" | "failed" | "canceled" | "skipped"
            )
        })
        .map(|j| format!("- {} ({})", j.name, j.status))
        .collect();
    if !waiting.is_empty() {
        log.push("Jobs not finished:".into());
        log.extend(waiting);
    }
    not_the_series("ci_timeout", log, true, ReportData::of_pipeline(url))
}

/// A failure whose tests never ran to a verdict (no pipeline, canceled, blocked,
/// timed out): like a runner's failure, not the author's to be told about. The first
/// line and `data.infrastructure_failure` say so (see [`crate::report::data`]).
fn not_the_series(reason: &str, log: Vec<String>, is_timeout: bool, data: ReportData) -> Action {
    let mut lines = vec![crate::report::data::infrastructure_line(reason)];
    lines.extend(log);
    let data = ReportData {
        infrastructure_failure: Some(reason.to_owned()),
        ..data
    };
    report(Status::Failure, &lines, is_timeout, data)
}

fn report(status: Status, lines: &[String], is_timeout: bool, data: ReportData) -> Action {
    Action::Report(Verdict {
        status,
        log: pipeline::render(lines),
        is_timeout,
        data,
    })
}

/// What a sweep did, for the applier's output.
#[derive(Debug, Default)]
pub struct Swept {
    pub reported: Vec<String>,
    pub left_alone: Vec<String>,
    pub warnings: Vec<String>,
}

/// Runs the backstop over every watched tag.
pub struct Backstop<'a> {
    pub repo: &'a Repo,
    pub patchew: &'a Patchew,
    pub gitlab: Option<&'a GitLab>,
    pub mode: ReportFrom,
    pub timeout: Duration,
}

impl Backstop<'_> {
    pub fn sweep(&self) -> Swept {
        let ledger = Ledger::new(self.repo);
        let mut swept = Swept::default();
        let mut keep = Vec::new();
        let entries = ledger.load();
        let count = entries.len();
        for entry in entries {
            match self.check(&entry, &mut swept) {
                Ok(true) => keep.push(entry),
                Ok(false) => {}
                Err(e) => {
                    swept.warnings.push(format!("{}: {e}", entry.tag));
                    keep.push(entry);
                }
            }
        }
        if keep.len() != count {
            if let Err(e) = ledger.save(&keep) {
                swept
                    .warnings
                    .push(format!("cannot update the ledger of pushed tags: {e}"));
            }
        }
        swept
    }

    /// `Ok(true)`: keep watching.
    fn check(&self, entry: &Pushed, swept: &mut Swept) -> Result<bool, SweepError> {
        let age = Duration::from_secs(now().saturating_sub(entry.pushed_at).max(0) as u64);
        let timed_out = age >= self.timeout;
        // Until the timeout, the pipeline reports for itself: no request at all, so
        // that a long ledger costs Patchew nothing between timeouts.
        if self.mode == ReportFrom::Pipeline && !timed_out {
            return Ok(true);
        }
        let current = match self.patchew.get_result(&entry.result_uri) {
            Ok(result) => result.status,
            Err(e) if e.is_not_found() && timed_out => {
                swept.warnings.push(format!(
                    "{}: Patchew has no testing.gitlab result for it: enable a test named gitlab in the project's testing configuration; no longer watched",
                    entry.tag
                ));
                return Ok(false);
            }
            Err(e) if e.is_not_found() => return Ok(true),
            Err(e) => return Err(e.into()),
        };
        if !matches!(current, Status::Pending | Status::Running) {
            return Ok(false);
        }
        let (view, trouble) = match self.gitlab.map(|g| view(g, &entry.tag)) {
            None => (None, None),
            Some(Ok(view)) => (Some(view), None),
            // Before the timeout, try again next round; after it, a silent series
            // is still reported, as a timeout that says GitLab did not answer.
            Some(Err(e)) if !timed_out => return Err(e.into()),
            Some(Err(e)) => {
                swept.warnings.push(format!("{}: GitLab: {e}", entry.tag));
                (None, Some(e.to_string()))
            }
        };
        let reasons = match &view {
            Some(PipelineView::NotCreated) => no_pipeline_reasons(self.repo, &entry.head),
            _ => Vec::new(),
        };
        let facts = Facts {
            mode: self.mode,
            entry,
            current,
            age,
            timeout: self.timeout,
            gitlab: view.as_ref(),
            gitlab_trouble: trouble.as_deref(),
            no_pipeline_reasons: &reasons,
        };
        let gitlab = self.gitlab;
        let mut trace = |job: &Job| match gitlab {
            Some(g) => g.trace(job.id).map_err(TraceError::from),
            None => Err(TraceError::NoGitLab),
        };
        match decide(&facts, &mut trace) {
            Action::Wait => Ok(true),
            Action::Running { log, data } => {
                self.write(entry, Status::Running, &log, false, &data)?;
                Ok(true)
            }
            Action::Report(verdict) => {
                if self.write(
                    entry,
                    verdict.status,
                    &verdict.log,
                    verdict.is_timeout,
                    &verdict.data,
                )? {
                    swept
                        .reported
                        .push(format!("{} {:?}", entry.tag, verdict.status));
                } else {
                    swept.left_alone.push(entry.tag.clone());
                }
                Ok(false)
            }
        }
    }

    /// Writes the result unless it was finished meanwhile; `false` if left alone.
    fn write(
        &self,
        entry: &Pushed,
        status: Status,
        log: &str,
        is_timeout: bool,
        data: &ReportData,
    ) -> Result<bool, SweepError> {
        let now = self.patchew.get_result(&entry.result_uri)?;
        if !matches!(now.status, Status::Pending | Status::Running) {
            return Ok(false);
        }
        let mut fields =
            serde_json::json!({"head": entry.head, "is_timeout": is_timeout, "tester": TESTER});
        data.merge_into(&mut fields);
        let body = serde_json::json!({"status": status, "log": log, "data": fields});
        self.patchew.put_json(&entry.result_uri, &body)?;
        Ok(true)
    }
}

/// Why one pushed tag could not be looked at this round (it is kept and looked at
/// again the next).
#[derive(Debug, thiserror::Error)]
enum SweepError {
    #[error(transparent)]
    Patchew(#[from] crate::http::HttpError),
    #[error(transparent)]
    GitLab(#[from] GitLabError),
}

fn view(gitlab: &GitLab, tag: &str) -> Result<PipelineView, GitLabError> {
    let Some(pipeline) = gitlab.tag_pipeline(tag)? else {
        return Ok(PipelineView::NotCreated);
    };
    let jobs = gitlab.jobs(pipeline.id)?;
    Ok(PipelineView::Found { pipeline, jobs })
}

/// Why GitLab may create no pipeline for the tag.
pub fn no_pipeline_reasons(repo: &Repo, head: &str) -> Vec<String> {
    Oid::from_hex(head).map_or_else(Vec::new, |commit| {
        crate::ci::problems::tag_pipeline_problems(repo, commit, None)
    })
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Pushed {
        Pushed {
            result_uri: "http://p/r/".into(),
            tag: "refs/tags/patchew/a@b".into(),
            head: "abc".into(),
            series: "a@b".into(),
            pushed_at: 0,
        }
    }

    #[test]
    fn the_ledger_stays_bounded() {
        let at = |tag: &str, pushed_at: i64| Pushed {
            tag: tag.into(),
            pushed_at,
            ..entry()
        };
        let entries = vec![at("old", 10), at("pruned", 500), at("kept", 600)];
        let (kept, dropped) = bounded(entries, &["pruned".to_owned()], 100);
        assert_eq!(kept, [at("kept", 600)]);
        assert_eq!(dropped, ["old", "pruned"]);
        let many: Vec<Pushed> = (0..MAX_WATCHED as i64 + 5)
            .map(|i| at(&i.to_string(), 1000 + i))
            .collect();
        let (kept, dropped) = bounded(many, &[], 0);
        assert_eq!(kept.len(), MAX_WATCHED);
        assert_eq!(dropped, ["0", "1", "2", "3", "4"]);
    }

    fn found(status: &str, jobs: Vec<Job>) -> PipelineView {
        PipelineView::Found {
            pipeline: Pipeline {
                id: 9,
                status: status.into(),
                web_url: "https://hub/-/pipelines/9".into(),
                sha: "abc".into(),
            },
            jobs,
        }
    }

    fn run(mode: ReportFrom, age: u64, view: Option<&PipelineView>) -> Action {
        let e = entry();
        let facts = Facts {
            mode,
            entry: &e,
            current: Status::Pending,
            age: Duration::from_secs(age),
            timeout: Duration::from_secs(100),
            gitlab: view,
            gitlab_trouble: None,
            no_pipeline_reasons: &["workflow:rules never run tags".into()],
        };
        decide(&facts, &mut |j| {
            Ok(format!("log of {}\n", j.name).into_bytes())
        })
    }

    fn verdict(action: Action) -> Verdict {
        match action {
            Action::Report(v) => v,
            other => panic!("no report: {other:?}"),
        }
    }

    #[test]
    fn nothing_happens_before_the_timeout_in_pipeline_mode() {
        for view in [
            PipelineView::NotCreated,
            found("running", vec![]),
            found("failed", vec![]),
            found("canceled", vec![]),
        ] {
            assert_eq!(run(ReportFrom::Pipeline, 99, Some(&view)), Action::Wait);
        }
        assert_eq!(run(ReportFrom::Pipeline, 99, None), Action::Wait);
    }

    #[test]
    fn the_four_outcomes_after_the_timeout() {
        let v = verdict(run(
            ReportFrom::Pipeline,
            100,
            Some(&PipelineView::NotCreated),
        ));
        assert_eq!((v.status, v.is_timeout), (Status::Failure, false));
        assert!(v
            .log
            .contains("GitLab created no pipeline for refs/tags/patchew/a@b"));
        // Tests that never ran are not the author's failure.
        assert!(
            v.log.starts_with("Infrastructure failure (no_pipeline): "),
            "{}",
            v.log
        );
        assert_eq!(
            v.data.infrastructure_failure.as_deref(),
            Some("no_pipeline")
        );
        assert!(
            v.log.contains("- workflow:rules never run tags"),
            "{}",
            v.log
        );

        let v = verdict(run(
            ReportFrom::Pipeline,
            100,
            Some(&found("canceled", vec![])),
        ));
        assert_eq!((v.status, v.is_timeout), (Status::Failure, false));
        assert!(v.log.contains("The pipeline was canceled."));
        assert_eq!(
            v.data.infrastructure_failure.as_deref(),
            Some("pipeline_canceled")
        );

        let jobs = vec![
            Job::example(1, "build", "success", false),
            Job::example(2, "deploy", "manual", false),
        ];
        let v = verdict(run(ReportFrom::Pipeline, 100, Some(&found("manual", jobs))));
        assert_eq!((v.status, v.is_timeout), (Status::Failure, false));
        assert!(v.log.contains("blocked on manual job deploy"), "{}", v.log);
        assert_eq!(
            v.data.infrastructure_failure.as_deref(),
            Some("blocked_on_manual_job")
        );

        let jobs = vec![
            Job::example(1, "build", "success", false),
            Job::example(2, "test", "pending", false),
        ];
        let v = verdict(run(
            ReportFrom::Pipeline,
            100,
            Some(&found("running", jobs)),
        ));
        assert_eq!((v.status, v.is_timeout), (Status::Failure, true));
        assert!(v.log.contains("still running after 100 s"), "{}", v.log);
        assert!(v.log.contains("- test (pending)"), "{}", v.log);
        assert_eq!(v.data.infrastructure_failure.as_deref(), Some("ci_timeout"));

        let v = verdict(run(ReportFrom::Pipeline, 100, None));
        assert_eq!((v.status, v.is_timeout), (Status::Failure, true));
    }

    #[test]
    fn a_finished_pipeline_is_reported_with_its_failed_jobs() {
        let jobs = vec![
            Job::example(1, "build", "success", false),
            Job::example(2, "check", "failed", false),
        ];
        let v = verdict(run(ReportFrom::Applier, 1, Some(&found("failed", jobs))));
        assert_eq!((v.status, v.is_timeout), (Status::Failure, false));
        assert!(v.log.starts_with(
            "GitLab pipeline https://hub/-/pipelines/9 (failure)\nseries: a@b\ncommit: abc\n"
        ));
        assert!(v
            .log
            .contains("- check (stage test): https://hub/-/jobs/2\n"));
        assert!(v.log.contains("log of check\n"));
        // In pipeline mode, only after the timeout, and saying who sent it.
        let jobs = vec![Job::example(2, "check", "success", false)];
        let v = verdict(run(
            ReportFrom::Pipeline,
            100,
            Some(&found("success", jobs)),
        ));
        assert_eq!(v.status, Status::Success);
        assert!(v.log.contains("did not arrive"));
    }

    #[test]
    fn a_pipeline_failed_by_its_runner_alone_clears_the_series() {
        let mut lost = Job::example(2, "check", "failed", false);
        lost.failure_reason = Some("runner_system_failure".into());
        let v = verdict(run(
            ReportFrom::Applier,
            1,
            Some(&found("failed", vec![lost.clone()])),
        ));
        assert_eq!(v.status, Status::Failure);
        assert!(v.log.starts_with("Infrastructure failure (runner_system_failure): the ci-hub failed, not the series; its tests did not run to the end.\nGitLab pipeline https://hub/-/pipelines/9 (failure)\n"), "{}", v.log);
        assert!(
            v.log
                .contains("- check (stage test, runner_system_failure): https://hub/-/jobs/2\n"),
            "{}",
            v.log
        );
        assert_eq!(
            v.data.infrastructure_failure.as_deref(),
            Some("runner_system_failure")
        );
        assert_eq!(
            v.data.pipeline_url.as_deref(),
            Some("https://hub/-/pipelines/9")
        );
        // A script failure beside it: the series' failure, each job's reason shown.
        let mut script = Job::example(3, "unit", "failed", false);
        script.failure_reason = Some("script_failure".into());
        let v = verdict(run(
            ReportFrom::Applier,
            1,
            Some(&found("failed", vec![lost, script])),
        ));
        assert!(v.log.starts_with("GitLab pipeline "), "{}", v.log);
        assert!(
            v.log
                .contains("- unit (stage test, script_failure): https://hub/-/jobs/3\n"),
            "{}",
            v.log
        );
        assert_eq!(v.data.infrastructure_failure, None);
        assert_eq!(v.data.failed_jobs.as_ref().map(Vec::len), Some(2));
    }

    #[test]
    fn applier_mode_says_running_while_the_pipeline_runs() {
        match run(ReportFrom::Applier, 1, Some(&found("running", vec![]))) {
            Action::Running { log, data } => {
                assert!(log.contains("(running)"));
                assert_eq!(
                    data.pipeline_url.as_deref(),
                    Some("https://hub/-/pipelines/9")
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            run(ReportFrom::Applier, 1, Some(&PipelineView::NotCreated)),
            Action::Wait
        );
    }
}
