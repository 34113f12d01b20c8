//! What a `testing.gitlab` report carries in its `data` besides `head` and
//! `is_timeout` (the pipeline's URL and its failed jobs, so that notification templates
//! and API readers need not parse the log), and whose failure a failed pipeline is:
//! the series', or the ci-hub's infrastructure's (a runner that died, a job stuck
//! without a runner), which nobody should blame the author for. Plain data in and out;
//! contrib/patchew-ci.yml does the same in Python, and tests/ci_jobs.rs checks both
//! write the same.

use serde::Serialize;

use crate::report::gitlab::Job;

/// GitLab's `failure_reason`s that are the job's own doing: its script failed, or ran
/// past the job's time limit (a test a patch made hang). Every other reason
/// (`runner_system_failure`, `stuck_or_timeout_failure`, `api_failure`,
/// `scheduler_failure`, `data_integrity_failure`, `runner_unsupported`...) is the
/// infrastructure's. A job without a reason counts as the series': without proof,
/// the author is told, as before.
pub const SERIES_REASONS: &[&str] = &["script_failure", "job_execution_timeout"];

/// Whether `reason` is the infrastructure's, not the job's script.
pub fn is_infrastructure(reason: Option<&str>) -> bool {
    reason.is_some_and(|r| !r.is_empty() && !SERIES_REASONS.contains(&r))
}

/// One failed job, as `data.failed_jobs` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedJob {
    pub name: String,
    pub stage: String,
    pub url: String,
    /// GitLab's reason; `null` when GitLab gave none.
    pub failure_reason: Option<String>,
    pub allow_failure: bool,
}

/// The report's `data` beyond `head` and `is_timeout`; absent fields are unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReportData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline_url: Option<String>,
    /// Known only when the job list was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_jobs: Option<Vec<FailedJob>>,
    /// Set only when every job that failed the pipeline failed for an infrastructure
    /// reason: those reasons, comma-separated (`runner_system_failure`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub infrastructure_failure: Option<String>,
}

impl ReportData {
    /// Of a pipeline whose jobs were read; `failed` as
    /// [`crate::report::pipeline::failed_jobs`] lists them.
    pub fn of_jobs(pipeline_url: &str, failed: &[Job]) -> Self {
        ReportData {
            pipeline_url: non_empty(pipeline_url),
            failed_jobs: Some(failed.iter().map(failed_job).collect()),
            infrastructure_failure: infrastructure_only(failed),
        }
    }

    /// Of a pipeline known by its URL only.
    pub fn of_pipeline(pipeline_url: &str) -> Self {
        ReportData {
            pipeline_url: non_empty(pipeline_url),
            ..ReportData::default()
        }
    }

    /// Adds these fields to a result's `data` object.
    pub fn merge_into(&self, data: &mut serde_json::Value) {
        let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(self) else {
            return;
        };
        if let Some(object) = data.as_object_mut() {
            object.extend(fields);
        }
    }
}

fn non_empty(url: &str) -> Option<String> {
    (!url.is_empty()).then(|| url.to_owned())
}

fn failed_job(job: &Job) -> FailedJob {
    FailedJob {
        name: job.name.clone(),
        stage: job.stage.clone(),
        url: job.web_url.clone(),
        failure_reason: job.failure_reason.clone(),
        allow_failure: job.allow_failure,
    }
}

/// The infrastructure's reasons, in job order without repeats, when every failed
/// job that is not allowed to fail (those that failed the pipeline) failed for one;
/// `None` when the series failed a job, or no such job is known.
pub fn infrastructure_only(failed: &[Job]) -> Option<String> {
    let blocking: Vec<&Job> = failed.iter().filter(|j| !j.allow_failure).collect();
    if blocking.is_empty()
        || !blocking
            .iter()
            .all(|j| is_infrastructure(j.failure_reason.as_deref()))
    {
        return None;
    }
    let mut reasons: Vec<&str> = Vec::new();
    for job in blocking {
        let reason = job.failure_reason.as_deref().unwrap_or_default();
        if !reasons.contains(&reason) {
            reasons.push(reason);
        }
    }
    Some(reasons.join(", "))
}

/// Whether the job lines should name each job's reason: when any failed job failed
/// for the infrastructure (a mix, or the infrastructure alone), so that readers see
/// which failures are the series'. All script failures: the usual list, unchanged.
pub fn show_reasons(failed: &[Job]) -> bool {
    failed
        .iter()
        .any(|j| is_infrastructure(j.failure_reason.as_deref()))
}

/// The first line of a failure report that is the infrastructure's alone.
pub fn infrastructure_line(reasons: &str) -> String {
    format!(
        "Infrastructure failure ({reasons}): the ci-hub failed, not the series; its tests did not run to the end."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: u64, allow_failure: bool, reason: Option<&str>) -> Job {
        Job {
            failure_reason: reason.map(str::to_owned),
            ..Job::example(id, &format!("job{id}"), "failed", allow_failure)
        }
    }

    #[test]
    fn only_infrastructure_reasons_clear_the_series() {
        let runner = Some("runner_system_failure");
        let stuck = Some("stuck_or_timeout_failure");
        let script = Some("script_failure");
        assert_eq!(
            infrastructure_only(&[
                job(1, false, runner),
                job(2, false, stuck),
                job(3, false, runner)
            ]),
            Some("runner_system_failure, stuck_or_timeout_failure".into())
        );
        // A script failure beside it: the series'.
        assert_eq!(
            infrastructure_only(&[job(1, false, runner), job(2, false, script)]),
            None
        );
        // A job that ran past its limit, or a reason GitLab did not give: the series'.
        assert_eq!(
            infrastructure_only(&[job(1, false, Some("job_execution_timeout"))]),
            None
        );
        assert_eq!(infrastructure_only(&[job(1, false, None)]), None);
        // An allowed failure failed nothing.
        assert_eq!(
            infrastructure_only(&[job(1, true, script), job(2, false, runner)]),
            Some("runner_system_failure".into())
        );
        assert_eq!(infrastructure_only(&[job(1, true, runner)]), None);
        assert_eq!(infrastructure_only(&[]), None);
        assert!(show_reasons(&[job(1, true, runner), job(2, false, script)]));
        assert!(!show_reasons(&[job(1, false, script), job(2, false, None)]));
    }

    #[test]
    fn data_lists_failed_jobs_and_merges_beside_head() {
        let data = ReportData::of_jobs(
            "https://hub/-/pipelines/9",
            &[job(4, false, Some("runner_system_failure"))],
        );
        let mut value = serde_json::json!({"head": "abc", "is_timeout": false});
        data.merge_into(&mut value);
        assert_eq!(
            value,
            serde_json::json!({
                "head": "abc", "is_timeout": false,
                "pipeline_url": "https://hub/-/pipelines/9",
                "failed_jobs": [{"name": "job4", "stage": "test", "url": "https://hub/-/jobs/4",
                                 "failure_reason": "runner_system_failure", "allow_failure": false}],
                "infrastructure_failure": "runner_system_failure",
            })
        );
        let mut value = serde_json::json!({"head": "abc"});
        ReportData::of_pipeline("").merge_into(&mut value);
        assert_eq!(value, serde_json::json!({"head": "abc"}));
    }
}
