//! Whether the applier is alive, where a monitor can read it: a status file in the
//! mirror (`<common git dir>/patchew-applier/status.json`) and, with
//! `patchew.metricsFile`, the same in the Prometheus text format for
//! node_exporter's textfile collector. Both are rewritten at the start and at the
//! end of every round, atomically (written aside, synced, renamed): a reader sees
//! the old file or the new one, never half of one.
//!
//! Patchew's own users found their applier down for days before anyone noticed
//! (patchew-project/patchew#144): an alert on the end of the last round catches it.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What the status file holds. Counters carry on across restarts (the file is read
/// back at start), so that `--once` runs from a timer count too.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub applier: String,
    pub pid: u32,
    /// The service's `--interval` and `patchew.applierDeadline`, so that a reader
    /// can tell a late round from a long one.
    pub interval_secs: u64,
    pub deadline_secs: u64,
    /// Seconds since the epoch.
    pub round_started: Option<i64>,
    pub round_finished: Option<i64>,
    pub rounds: u64,
    pub applied: u64,
    pub failed: u64,
    pub given_back: u64,
    /// Rounds that ended in an error (a server down, say).
    pub errors: u64,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
}

/// How a round ended, for the counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundEnd {
    Applied,
    Failed,
    GaveBack,
    /// Nothing to take, or someone else's.
    Nothing,
    Error(String),
}

/// Longest `last_error` kept: the status file stays small.
const MAX_ERROR: usize = 1000;

impl Status {
    pub fn begin(&mut self, now: i64) {
        self.round_started = Some(now);
        self.pid = std::process::id();
    }

    pub fn finish(&mut self, now: i64, end: &RoundEnd) {
        self.round_finished = Some(now);
        self.rounds += 1;
        match end {
            RoundEnd::Applied => self.applied += 1,
            RoundEnd::Failed => self.failed += 1,
            RoundEnd::GaveBack => self.given_back += 1,
            RoundEnd::Nothing => {}
            RoundEnd::Error(e) => {
                self.errors += 1;
                self.last_error = Some(e.chars().take(MAX_ERROR).collect());
                self.last_error_at = Some(now);
            }
        }
    }
}

/// The status in the Prometheus text exposition format (version 0.0.4).
pub fn metrics_text(s: &Status) -> String {
    let label = format!("applier=\"{}\"", escape_label(&s.applier));
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, values: &[(Option<&str>, String)]| {
        out.push_str(&format!("# HELP git_patchew_applier_{name} {help}\n"));
        out.push_str(&format!("# TYPE git_patchew_applier_{name} {kind}\n"));
        for (extra, value) in values {
            let labels = match extra {
                Some(e) => format!("{label},{e}"),
                None => label.clone(),
            };
            out.push_str(&format!("git_patchew_applier_{name}{{{labels}}} {value}\n"));
        }
    };
    let time = |t: Option<i64>| t.unwrap_or(0).to_string();
    metric(
        "round_start_timestamp_seconds",
        "gauge",
        "When the last round started.",
        &[(None, time(s.round_started))],
    );
    metric(
        "round_end_timestamp_seconds",
        "gauge",
        "When the last round finished.",
        &[(None, time(s.round_finished))],
    );
    metric(
        "interval_seconds",
        "gauge",
        "The pause between rounds when the queue is empty.",
        &[(None, s.interval_secs.to_string())],
    );
    metric(
        "rounds_total",
        "counter",
        "Rounds finished.",
        &[(None, s.rounds.to_string())],
    );
    metric(
        "series_total",
        "counter",
        "Series handled, by how it ended.",
        &[
            (Some("result=\"applied\""), s.applied.to_string()),
            (Some("result=\"failed\""), s.failed.to_string()),
            (Some("result=\"given_back\""), s.given_back.to_string()),
        ],
    );
    metric(
        "errors_total",
        "counter",
        "Rounds that ended in an error.",
        &[(None, s.errors.to_string())],
    );
    metric(
        "last_error_timestamp_seconds",
        "gauge",
        "When the last round error happened (0: never).",
        &[(None, time(s.last_error_at))],
    );
    out
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// What a monitor (or `doctor`) makes of a status file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// No status file: the applier never ran here.
    NeverRan,
    /// A round is under way, started this long ago (within the deadline).
    InRound { started_ago: i64 },
    /// The last round finished this long ago, within `limit`.
    Fresh { ago: i64 },
    /// The last round finished (or started) longer ago than `limit` seconds.
    Stale { ago: i64, limit: i64 },
}

/// Rounds that may pass without a finished one before the applier counts as stale.
const ROUNDS_OF_SLACK: i64 = 3;
/// Slack on top, for slow servers.
const SLACK_SECS: i64 = 60;

pub fn health(status: Option<&Status>, now: i64) -> Health {
    let Some(s) = status else {
        return Health::NeverRan;
    };
    let limit = ROUNDS_OF_SLACK * s.interval_secs as i64 + SLACK_SECS;
    let finished = s.round_finished.unwrap_or(0);
    if let Some(started) = s.round_started.filter(|&st| st > finished) {
        let ago = now - started;
        if ago <= s.deadline_secs as i64 + limit {
            return Health::InRound { started_ago: ago };
        }
        return Health::Stale { ago, limit };
    }
    let ago = now - finished;
    if ago <= limit {
        Health::Fresh { ago }
    } else {
        Health::Stale { ago, limit }
    }
}

/// Seconds since the epoch, now.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Where a mirror's status file is.
pub fn status_path(common_dir: &Path) -> PathBuf {
    common_dir.join("patchew-applier").join("status.json")
}

/// The status file, when there is one that parses.
pub fn load(path: &Path) -> Option<Status> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Writes `bytes` to `path` atomically: aside (a name of this process), synced,
/// renamed over.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    // A leading dot: node_exporter reads only `*.prom`, never the file in the making.
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.unwrap_or_default(),
        std::process::id()
    ));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// The applier's writer of both files.
pub struct Liveness {
    status_path: PathBuf,
    metrics_path: Option<PathBuf>,
    pub status: Status,
}

impl Liveness {
    /// Carries on the counters of the status file already there.
    pub fn new(
        common_dir: &Path,
        metrics_path: Option<PathBuf>,
        applier: &str,
        interval_secs: u64,
        deadline_secs: u64,
    ) -> Self {
        let status_path = status_path(common_dir);
        let mut status = load(&status_path).unwrap_or_default();
        status.applier = applier.to_owned();
        status.interval_secs = interval_secs;
        status.deadline_secs = deadline_secs;
        Liveness {
            status_path,
            metrics_path,
            status,
        }
    }

    pub fn begin(&mut self, now: i64) -> std::io::Result<()> {
        self.status.begin(now);
        self.write()
    }

    pub fn finish(&mut self, now: i64, end: &RoundEnd) -> std::io::Result<()> {
        self.status.finish(now, end);
        self.write()
    }

    fn write(&self) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(&self.status).expect("plain data serialises");
        write_atomic(&self.status_path, &json)?;
        if let Some(path) = &self.metrics_path {
            write_atomic(path, metrics_text(&self.status).as_bytes())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status() -> Status {
        Status {
            applier: "host-a".into(),
            interval_secs: 60,
            deadline_secs: 1800,
            ..Status::default()
        }
    }

    #[test]
    fn rounds_count_by_outcome_and_keep_the_last_error() {
        let mut s = status();
        s.begin(100);
        s.finish(110, &RoundEnd::Applied);
        s.begin(120);
        s.finish(130, &RoundEnd::Error("x".repeat(5000)));
        s.finish(140, &RoundEnd::GaveBack);
        s.finish(150, &RoundEnd::Failed);
        s.finish(160, &RoundEnd::Nothing);
        assert_eq!(
            (s.rounds, s.applied, s.failed, s.given_back, s.errors),
            (5, 1, 1, 1, 1)
        );
        assert_eq!(s.last_error.as_deref().map(str::len), Some(MAX_ERROR));
        assert_eq!(
            (s.round_started, s.round_finished, s.last_error_at),
            (Some(120), Some(160), Some(130))
        );
    }

    #[test]
    fn metrics_are_prometheus_text() {
        let mut s = status();
        s.applier = "a\"b".into();
        s.begin(100);
        s.finish(110, &RoundEnd::Applied);
        let text = metrics_text(&s);
        assert!(text.contains("# TYPE git_patchew_applier_series_total counter\n"));
        assert!(text.contains(
            "git_patchew_applier_series_total{applier=\"a\\\"b\",result=\"applied\"} 1\n"
        ));
        assert!(text
            .contains("git_patchew_applier_round_end_timestamp_seconds{applier=\"a\\\"b\"} 110\n"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }

    #[test]
    fn health_says_when_the_applier_went_quiet() {
        assert_eq!(health(None, 0), Health::NeverRan);
        let mut s = status();
        s.begin(1000);
        s.finish(1010, &RoundEnd::Nothing);
        assert_eq!(health(Some(&s), 1100), Health::Fresh { ago: 90 });
        assert_eq!(
            health(Some(&s), 1010 + 241),
            Health::Stale {
                ago: 241,
                limit: 240
            }
        );
        s.begin(2000);
        assert_eq!(health(Some(&s), 2500), Health::InRound { started_ago: 500 });
        assert!(matches!(
            health(Some(&s), 2000 + 1800 + 241),
            Health::Stale { .. }
        ));
    }
}
