//! The `patchew.*` git-config keys, read once into plain data.

use crate::http::HttpConfig;
use crate::input::source::Source;
use crate::repo::{ConfigError, Repo};
use std::time::Duration;

/// Every key the tool reads, with its meaning (backquotes mark literals): the one
/// definition behind `--help`, the man page and README.md's table (`cmd::help`).
pub const KEYS: &[(&str, &str)] = &[
    ("patchew.server", "Patchew server URL, e.g. `https://patchew.org`"),
    ("patchew.project", "Patchew project name, e.g. `QEMU` (mbox at `{server}/{project}/{msgid}/mbox`)"),
    ("patchew.projectId", "Patchew project number, for `git patchew report`"),
    ("patchew.inbox", "public-inbox archive, e.g. `https://lore.kernel.org/all` (`{inbox}/{msgid}/t.mbox.gz`)"),
    ("patchew.sources", "where to fetch a series, in order; default `patchew,inbox`"),
    ("patchew.remote", "the ci-hub remote; default `ci-hub`"),
    ("patchew.tagPrefix", "prefix of series tags; default `patchew`"),
    ("patchew.ciInclude", "`https://` URL of the hosted `contrib/patchew-ci.yml` (must end in `.yml`)"),
    ("patchew.mainline", "base when a series names none; default `origin/HEAD`, then `HEAD`"),
    ("patchew.token", "API token; `PATCHEW_TOKEN` and `~/.patchew.token` (patchew-cli's file) also work"),
    ("patchew.addMessageId", "add `Message-ID:` lines in `git patchew apply` (the applier always does)"),
    ("patchew.httpTimeout", "seconds one HTTP request may take, all its redirects included (each retry gets its own); default 30"),
    ("http.proxy", "git's own key, also used for Patchew and GitLab requests: `[http://][user:password@]host[:port]` (empty: none); unset: `https_proxy`, `http_proxy`, `all_proxy` and `no_proxy` as in git"),
    ("patchew.httpRetries", "attempts for a request that meets a 5xx or no connection; default 4"),
    ("patchew.applierName", "how the applier signs its claims on series; default the host name"),
    ("patchew.claimTimeout", "seconds after which another applier's claim counts as stale and is taken over; default 3600"),
    ("patchew.claimSettle", "seconds between writing a claim and checking that it held (the series is fetched and applied in the mirror meanwhile; only what is left is waited for, before the push); default 2"),
    ("patchew.applierDeadline", "seconds the applier may spend on one series (fetch, mbox, apply, push; a git child still running is killed) before giving it back to the queue; default 1800"),
    ("patchew.giveBackLimit", "times in a row the applier may give a series back to the queue (deadline, network, locks); the next time it reports `failure` with each attempt's reason; default 5"),
    ("patchew.tagExpiry", "days after which a series tag (its tagger date) is deleted on the ci-hub and in the mirror by `git patchew prune` and the applier, unless a queued series is based on it or its testing result is pending or running; `0`: never; default 60"),
    ("patchew.metricsFile", "file the applier rewrites after every round with its state in the Prometheus text format, for node_exporter's textfile collector, e.g. `/var/lib/prometheus/node-exporter/git-patchew.prom`; unset: none (the status file `patchew-applier/status.json` in the mirror is always written)"),
    ("patchew.maintainersCommand", "shell command printing a series' maintainers (mbox on standard input); unset: not asked"),
    ("patchew.ciTimeout", "seconds after a push before the applier's backstop reports a pipeline that stayed silent; default 14400 (4 h)"),
    ("patchew.gitlabUrl", "the ci-hub's GitLab instance, e.g. `https://gitlab.com` (for the backstop, `reportFrom = applier` and `doctor`)"),
    ("patchew.gitlabTokenFile", "file holding a GitLab token with scope `read_api` (`PATCHEW_GITLAB_TOKEN` wins); never printed"),
    ("patchew.reportFrom", "`pipeline` (default: the report jobs send the verdict) or `applier` (the applier reads the pipeline from GitLab and reports; no Patchew secret in the ci-hub)"),
    ("patchew.ciProject", "the ci-hub project's GitLab path, e.g. `patchew/qemu`: `CI_PROJECT_NAMESPACE`/`CI_PROJECT_NAME` in the tag pipeline verdict, the project the backstop and `doctor` ask GitLab about; default from the ci-hub remote's URL"),
    ("patchew.ciVariables", "the CI/CD variables set on the ci-hub, space-separated `NAME=VALUE`, e.g. `QEMU_CI=2`, for the tag pipeline verdict"),
];

/// Who sends a tag pipeline's verdict to Patchew.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFrom {
    /// The report jobs of contrib/patchew-ci.yml, with a Patchew token in the ci-hub.
    Pipeline,
    /// The applier, which reads the pipeline from GitLab's API: no Patchew secret in
    /// any pipeline.
    Applier,
}

/// Default of `patchew.ciTimeout`: long pipelines (QEMU's) take a couple of hours.
pub const DEFAULT_CI_TIMEOUT: Duration = Duration::from_secs(4 * 3600);

#[derive(Debug, Clone)]
pub struct Settings {
    pub server: Option<String>,
    pub project: Option<String>,
    pub project_id: Option<u64>,
    pub inbox: Option<String>,
    pub remote: String,
    pub tag_prefix: String,
    pub ci_include: Option<String>,
    pub mainline: Option<String>,
    pub token: Option<String>,
    /// Names from patchew.sources, in order.
    pub source_order: Vec<String>,
    pub http_timeout: Option<u64>,
    pub http_retries: Option<u32>,
    /// git's `http.proxy` as written; empty means "no proxy".
    pub http_proxy: Option<String>,
    pub add_message_id: bool,
    pub applier_name: Option<String>,
    pub claim_timeout: Duration,
    pub claim_settle: Duration,
    pub applier_deadline: Duration,
    /// Give-backs in a row after which a series is reported as a failure.
    pub give_back_limit: u64,
    pub metrics_file: Option<std::path::PathBuf>,
    /// Age after which a series tag expires; zero: never.
    pub tag_expiry: Duration,
    pub maintainers_command: Option<String>,
    pub ci_timeout: Duration,
    pub gitlab_url: Option<String>,
    pub ci_project: Option<String>,
    pub gitlab_token_file: Option<String>,
    /// `patchew.reportFrom` as written; see [`Settings::report_from`].
    pub report_from: Option<String>,
    pub ci_variables: Option<String>,
}

impl Settings {
    /// Reads every key; a value git would refuse, or that is out of range for its
    /// key, is an error naming both (as git fails on `core.bare=maybe`).
    pub fn load(repo: &Repo) -> Result<Self, ConfigError> {
        let get = |key: &str| repo.config_string(key).filter(|v| !v.trim().is_empty());
        let number = |key: &str| -> Result<Option<u64>, ConfigError> {
            match repo.config_integer(key)? {
                None => Ok(None),
                Some(n) => u64::try_from(n)
                    .map(Some)
                    .map_err(|_| repo.config_error(key, "must not be negative".into())),
            }
        };
        let secs = |key: &str, default: u64| -> Result<Duration, ConfigError> {
            match get(key) {
                None => Ok(Duration::from_secs(default)),
                Some(v) => seconds(&v).ok_or_else(|| {
                    repo.config_error(key, "not a number of seconds (0 or more)".into())
                }),
            }
        };
        Ok(Settings {
            server: get("patchew.server").map(|s| s.trim_end_matches('/').to_owned()),
            project: get("patchew.project"),
            project_id: number("patchew.projectId")?,
            inbox: get("patchew.inbox").map(|s| s.trim_end_matches('/').to_owned()),
            remote: get("patchew.remote").unwrap_or_else(|| "ci-hub".into()),
            tag_prefix: get("patchew.tagPrefix")
                .map(|p| p.trim_matches('/').to_owned())
                .unwrap_or_else(|| "patchew".into()),
            ci_include: get("patchew.ciInclude"),
            mainline: get("patchew.mainline"),
            token: get("patchew.token"),
            source_order: get("patchew.sources")
                .unwrap_or_else(|| "patchew,inbox".into())
                .split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .filter(|s| !s.is_empty())
                .collect(),
            http_timeout: number("patchew.httpTimeout")?,
            http_retries: number("patchew.httpRetries")?
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
            http_proxy: repo
                .config_string("http.proxy")
                .map(|p| p.trim().to_owned()),
            add_message_id: repo.config_bool("patchew.addMessageId")?.unwrap_or(false),
            applier_name: get("patchew.applierName").map(|s| s.trim().to_owned()),
            claim_timeout: secs("patchew.claimTimeout", 3600)?,
            claim_settle: secs("patchew.claimSettle", 2)?,
            applier_deadline: secs("patchew.applierDeadline", 1800)?,
            give_back_limit: number("patchew.giveBackLimit")?.unwrap_or(5),
            metrics_file: repo.config_path("patchew.metricsFile")?,
            tag_expiry: Duration::from_secs(
                number("patchew.tagExpiry")?
                    .unwrap_or(crate::prune::DEFAULT_EXPIRY_DAYS)
                    .saturating_mul(86_400),
            ),
            maintainers_command: repo
                .config_program("patchew.maintainersCommand")?
                .map(|c| c.to_string_lossy().trim().to_owned())
                .filter(|c| !c.is_empty()),
            ci_timeout: secs("patchew.ciTimeout", DEFAULT_CI_TIMEOUT.as_secs())?,
            gitlab_url: get("patchew.gitlabUrl").map(|s| s.trim().trim_end_matches('/').to_owned()),
            ci_project: get("patchew.ciProject").map(|s| s.trim().trim_matches('/').to_owned()),
            gitlab_token_file: get("patchew.gitlabTokenFile"),
            report_from: get("patchew.reportFrom"),
            ci_variables: get("patchew.ciVariables"),
        })
    }

    /// `patchew.reportFrom`, or why its value is not one we know.
    pub fn report_from(&self) -> Result<ReportFrom, String> {
        match self.report_from.as_deref().map(str::trim) {
            None | Some("pipeline") => Ok(ReportFrom::Pipeline),
            Some("applier") => Ok(ReportFrom::Applier),
            Some(other) => Err(format!(
                "patchew.reportFrom is {other:?}: use pipeline or applier"
            )),
        }
    }

    pub fn http_config(&self) -> HttpConfig {
        let mut config = HttpConfig::default();
        if let Some(secs) = self.http_timeout {
            config.timeout = Duration::from_secs(secs.max(1));
        }
        if let Some(n) = self.http_retries {
            config.retry.max_attempts = n.max(1);
        }
        config.proxy = crate::http::ProxySettings {
            configured: self.http_proxy.clone(),
            env: crate::proxy_env::get().clone(),
        };
        config
    }

    /// The configured network sources, in order; a name whose keys are unset is
    /// skipped.
    pub fn sources(&self) -> Vec<Source> {
        self.source_order
            .iter()
            .filter_map(|name| match name.as_str() {
                "patchew" => Some(Source::Patchew {
                    server: self.server.clone()?,
                    project: self.project.clone()?,
                }),
                "inbox" => Some(Source::Inbox {
                    url: self.inbox.clone()?,
                }),
                _ => None,
            })
            .collect()
    }
}

impl Settings {
    /// The names in `patchew.sources` that [`Settings::sources`] leaves out, with the
    /// keys they lack (unknown names lack everything), so that an error can name them.
    pub fn unusable_sources(&self) -> Vec<(String, String)> {
        self.source_order
            .iter()
            .filter_map(|name| {
                let missing = match name.as_str() {
                    "patchew" if self.server.is_none() => "patchew.server",
                    "patchew" if self.project.is_none() => "patchew.project",
                    "patchew" => return None,
                    "inbox" if self.inbox.is_none() => "patchew.inbox",
                    "inbox" => return None,
                    _ => "a known name (patchew, inbox): it is",
                };
                Some((name.clone(), missing.to_owned()))
            })
            .collect()
    }
}

/// Whole or fractional seconds; garbage and negative values give `None`.
fn seconds(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)))
}
