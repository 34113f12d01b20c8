//! The text of a `testing.gitlab` report: plain data in (the pipeline's verdict, its
//! jobs, their logs), text out. The same layout as the report jobs of
//! contrib/patchew-ci.yml, so that Patchew's mails read alike whoever sent them (the
//! pipeline, or the applier in `reportFrom = applier` mode and in its backstop).

use crate::report::data;
use crate::report::gitlab::{GitLabError, Job};

/// Why a job's log is not in the report, as the report says it.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// GitLab answered with an error: the status alone is said (our error texts for
    /// 401/403 speak of tokens).
    #[error("HTTP {status}")]
    Status {
        status: u16,
        #[source]
        source: GitLabError,
    },
    #[error(transparent)]
    GitLab(GitLabError),
    #[error("no GitLab access")]
    NoGitLab,
}

impl From<GitLabError> for TraceError {
    fn from(e: GitLabError) -> Self {
        match e.status() {
            Some(status) => TraceError::Status { status, source: e },
            None => TraceError::GitLab(e),
        }
    }
}

/// Bounds of the job logs in one report: what Patchew mails must stay readable.
pub const MAX_LINES: usize = 200;
pub const MAX_BYTES: usize = 64 * 1024;

/// The jobs contrib/patchew-ci.yml defines: never listed as failures of the series.
pub const OUR_JOBS: &[&str] = &[
    "patchew-report-running",
    "patchew-report-success",
    "patchew-report-failure",
];

/// The first lines of every report.
pub fn head(pipeline_url: &str, status: &str, series: &str, commit: &str) -> Vec<String> {
    vec![
        format!("GitLab pipeline {pipeline_url} ({status})"),
        format!("series: {series}"),
        format!("commit: {commit}"),
    ]
}

/// The whole text of a finished pipeline's report: a first line that clears the
/// series when only the infrastructure failed a `failure` (see [`report_data`]), the
/// [`head`], and the failed jobs with their log ends.
pub fn verdict_lines(
    pipeline_url: &str,
    status: &str,
    series: &str,
    commit: &str,
    failed: &[Job],
    trace: &mut dyn FnMut(&Job) -> Result<Vec<u8>, TraceError>,
) -> Vec<String> {
    let mut lines = Vec::new();
    if status == "failure" {
        if let Some(reasons) = data::infrastructure_only(failed) {
            lines.push(data::infrastructure_line(&reasons));
        }
    }
    lines.extend(head(pipeline_url, status, series, commit));
    lines.extend(failure_details(failed, trace));
    lines
}

/// One line per line, each ended by a newline.
pub fn render(lines: &[String]) -> String {
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// The series' failed jobs, real failures first, then allowed ones, each in order.
pub fn failed_jobs(jobs: &[Job]) -> Vec<Job> {
    let mut failed: Vec<Job> = jobs
        .iter()
        .filter(|j| j.status == "failed" && !OUR_JOBS.contains(&j.name.as_str()))
        .cloned()
        .collect();
    failed.sort_by_key(|j| (j.allow_failure, j.id));
    failed
}

/// A job's line in the list of failures; `show_reason` adds GitLab's failure reason
/// (see [`data::show_reasons`]).
pub fn job_line(job: &Job, show_reason: bool) -> String {
    let allowed = if job.allow_failure {
        ", allowed to fail"
    } else {
        ""
    };
    let reason = match (show_reason, job.failure_reason.as_deref()) {
        (true, Some(r)) if !r.is_empty() => format!(", {r}"),
        _ => String::new(),
    };
    format!(
        "- {} (stage {}{allowed}{reason}): {}",
        job.name, job.stage, job.web_url
    )
}

/// The list of failed jobs and the end of each one's log, within [`MAX_LINES`] and
/// [`MAX_BYTES`] in all; `trace` fetches a log (or says why it cannot).
pub fn failure_details(
    failed: &[Job],
    trace: &mut dyn FnMut(&Job) -> Result<Vec<u8>, TraceError>,
) -> Vec<String> {
    if failed.is_empty() {
        return Vec::new();
    }
    let mut out = vec![String::new(), "Failed jobs:".to_owned()];
    let show_reason = data::show_reasons(failed);
    out.extend(failed.iter().map(|j| job_line(j, show_reason)));
    let (mut lines_left, mut bytes_left) = (MAX_LINES, MAX_BYTES);
    for job in failed {
        out.push(String::new());
        if lines_left == 0 || bytes_left == 0 {
            out.push(format!(
                "--- log of {} left out: a report carries at most {MAX_LINES} lines and {} KiB of logs ---",
                job.name,
                MAX_BYTES / 1024
            ));
            continue;
        }
        match trace(job) {
            Err(why) => out.push(format!("--- log of {} unavailable ({why}) ---", job.name)),
            Ok(raw) => {
                let kept = tail(&clean_trace(&raw), lines_left, bytes_left);
                out.push(format!(
                    "--- last {} lines of the log of {} ---",
                    kept.len(),
                    job.name
                ));
                lines_left -= kept.len();
                bytes_left -= kept.iter().map(|l| l.len() + 1).sum::<usize>();
                out.extend(kept);
            }
        }
    }
    out
}

/// A job log as a reader sees it: no colours, no GitLab section markers, and of a
/// line rewritten with `\r` (a progress bar) only what was shown last.
pub fn clean_trace(raw: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(raw);
    let text = strip_sections(&strip_ansi(&text));
    let mut lines: Vec<String> = text
        .split('\n')
        .map(|l| {
            let l = l.trim_end_matches('\r');
            l.rsplit('\r').next().unwrap_or(l).to_owned()
        })
        .collect();
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

/// The last lines that fit both bounds (a newline counted for each).
pub fn tail(lines: &[String], max_lines: usize, max_bytes: usize) -> Vec<String> {
    let mut kept = Vec::new();
    let mut size = 0;
    for line in lines.iter().rev().take(max_lines) {
        size += line.len() + 1;
        if size > max_bytes {
            break;
        }
        kept.push(line.clone());
    }
    kept.reverse();
    kept
}

/// Removes `ESC [ <digits ; ?> <letter>`.
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find("\x1b[") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let params = after
            .find(|c: char| !(c.is_ascii_digit() || c == ';' || c == '?'))
            .unwrap_or(after.len());
        match after[params..].chars().next() {
            Some(c) if c.is_ascii_alphabetic() => rest = &after[params + 1..],
            _ => {
                out.push('\x1b');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Removes GitLab's `section_start:<time>:<name>\r` and `section_end:...\r` markers.
fn strip_sections(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    loop {
        let found = ["section_start:", "section_end:"]
            .iter()
            .filter_map(|m| rest.find(m).map(|at| (at, m.len())))
            .min();
        let Some((at, len)) = found else { break };
        let after = &rest[at + len..];
        let digits = after
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after.len());
        let marker_end = (digits > 0 && after[digits..].starts_with(':'))
            .then(|| {
                let name = &after[digits + 1..];
                let stop = name.find(['\r', '\n'])?;
                name[stop..]
                    .starts_with('\r')
                    .then_some(digits + 1 + stop + 1)
            })
            .flatten();
        match marker_end {
            Some(end) => {
                out.push_str(&rest[..at]);
                rest = &after[end..];
            }
            None => {
                out.push_str(&rest[..at + len]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: u64, name: &str, status: &str, allow_failure: bool) -> Job {
        Job {
            web_url: format!("https://hub.example/-/jobs/{id}"),
            ..Job::example(id, name, status, allow_failure)
        }
    }

    #[test]
    fn traces_are_cleaned() {
        let raw = b"\x1b[0Kstart\nsection_start:17:step_script\r\x1b[0K\x1b[32;1m$ make\x1b[0;m\n10%\r100%\r\nsection_end:18:step_script\r\x1b[0K\n\n";
        assert_eq!(clean_trace(raw), ["start", "$ make", "100%"]);
        // Not a marker: kept as written.
        assert_eq!(
            clean_trace(b"see section_start:x:y\n"),
            ["see section_start:x:y"]
        );
        assert_eq!(clean_trace(b"a\x1b[1;2"), ["a\x1b[1;2"]);
    }

    #[test]
    fn tails_keep_both_bounds() {
        let lines: Vec<String> = (1..=10).map(|i| format!("line {i}")).collect();
        assert_eq!(tail(&lines, 2, 1000), ["line 9", "line 10"]);
        // "line 10\n" is 8 bytes, "line 9\n" 7.
        assert_eq!(tail(&lines, 5, 15), ["line 9", "line 10"]);
        assert_eq!(tail(&lines, 5, 14), ["line 10"]);
        assert!(tail(&lines, 0, 100).is_empty());
    }

    #[test]
    fn failures_are_listed_real_ones_first_without_ours() {
        let jobs = vec![
            job(1, "lint", "failed", true),
            job(2, "build", "success", false),
            job(3, "check", "failed", false),
            job(4, "patchew-report-running", "failed", true),
        ];
        let failed = failed_jobs(&jobs);
        let names: Vec<&str> = failed.iter().map(|j| j.name.as_str()).collect();
        assert_eq!(names, ["check", "lint"]);
        let mut fetched = Vec::new();
        let details = failure_details(&failed, &mut |j| {
            fetched.push(j.id);
            if j.id == 3 {
                Ok((1..=300)
                    .map(|i| format!("l{i}\n"))
                    .collect::<String>()
                    .into_bytes())
            } else {
                Err(TraceError::NoGitLab)
            }
        });
        assert_eq!(fetched, [3]);
        assert_eq!(details[1], "Failed jobs:");
        assert_eq!(
            details[2],
            "- check (stage test): https://hub.example/-/jobs/3"
        );
        assert_eq!(
            details[3],
            "- lint (stage test, allowed to fail): https://hub.example/-/jobs/1"
        );
        assert_eq!(details[5], "--- last 200 lines of the log of check ---");
        assert_eq!(details[6], "l101");
        assert_eq!(details[205], "l300");
        assert!(details[207].starts_with("--- log of lint left out"));
    }
}
