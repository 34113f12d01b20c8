//! The `patchew.*` git-config keys, read once into plain data.

use crate::http::HttpConfig;
use crate::repo::{ConfigError, Repo};
use std::time::Duration;

mod kind;

pub use kind::{Bool, Command, Count, Entry, Key, Kind, Names, Optional, Proxy, Seconds, Text};

pub const SERVER: Optional<Text> = Optional::new(
    "patchew.server",
    None,
    "Patchew server URL, e.g. `https://patchew.org`",
);
pub const PROJECT: Optional<Text> = Optional::new(
    "patchew.project",
    None,
    "Patchew project name, e.g. `QEMU` (mbox at `{server}/{project}/{msgid}/mbox`)",
);
pub const PROJECT_ID: Optional<Count> = Optional::new(
    "patchew.projectId",
    None,
    "Patchew project number, for `git patchew report`",
);
pub const INBOX: Optional<Text> = Optional::new(
    "patchew.inbox",
    None,
    "public-inbox archive, e.g. `https://lore.kernel.org/all` (`{inbox}/{msgid}/t.mbox.gz`)",
);
pub const SOURCES: Key<Names> = Key {
    name: "patchew.sources",
    default: &["patchew", "inbox"],
    doc: "where to fetch a series, in order",
};
pub const REMOTE: Key<Text> = Key {
    name: "patchew.remote",
    default: "ci-hub",
    doc: "the ci-hub remote",
};
pub const TAG_PREFIX: Key<Text> = Key {
    name: "patchew.tagPrefix",
    default: "patchew",
    doc: "prefix of series tags",
};
pub const CI_INCLUDE: Optional<Text> = Optional::new(
    "patchew.ciInclude",
    None,
    "`https://` URL of the hosted `contrib/patchew-ci.yml` (must end in `.yml`)",
);
pub const MAINLINE: Optional<Text> = Optional::new(
    "patchew.mainline",
    Some("`origin/HEAD`, then `HEAD`"),
    "base when a series names none",
);
pub const TOKEN: Optional<Text> = Optional::new(
    "patchew.token",
    None,
    "API token; `PATCHEW_TOKEN` and `~/.patchew.token` (patchew-cli's file) also work",
);
pub const ADD_MESSAGE_ID: Key<Bool> = Key {
    name: "patchew.addMessageId",
    default: false,
    doc: "add `Message-ID:` lines in `git patchew apply` (the applier always does)",
};
pub const HTTP_TIMEOUT: Key<Seconds> = Key {
    name: "patchew.httpTimeout",
    default: crate::http::DEFAULT_TIMEOUT,
    doc: "how long one HTTP request may take, all its redirects included (each retry gets its own); at least 1",
};
pub const HTTP_PROXY: Optional<Proxy> = Optional::new(
    "http.proxy",
    Some("from `https_proxy`, `http_proxy`, `all_proxy` and `no_proxy`, as in git"),
    "git's own key, also used for Patchew and GitLab requests",
);
pub const HTTP_RETRIES: Key<Count> = Key {
    name: "patchew.httpRetries",
    default: crate::http::DEFAULT_ATTEMPTS as u64,
    doc: "attempts for a request that meets a 5xx or no connection; at least 1",
};
pub const APPLIER_NAME: Optional<Text> = Optional::new(
    "patchew.applierName",
    Some("the host name"),
    "how the applier signs its claims on series",
);
pub const CLAIM_TIMEOUT: Key<Seconds> = Key {
    name: "patchew.claimTimeout",
    default: Duration::from_secs(3600),
    doc: "age at which another applier's claim counts as stale and is taken over",
};
pub const CLAIM_SETTLE: Optional<Seconds> = Optional::new(
    "patchew.claimSettle",
    Some("measured: twice the time the claim's own two requests took (about four round trips to Patchew), at least 0.05"),
    "how long after writing a claim the applier checks that it held (the series is fetched and applied in the mirror meanwhile; only what is left is waited for, before the push); set it above the slowest applier's round trip to Patchew when appliers sharing a queue reach it over very different networks",
);
pub const APPLIER_DEADLINE: Key<Seconds> = Key {
    name: "patchew.applierDeadline",
    default: Duration::from_secs(1800),
    doc: "how long the applier may spend on one series (fetch, mbox, apply, push; a git child still running is killed) before giving it back to the queue",
};
pub const GIVE_BACK_LIMIT: Key<Count> = Key {
    name: "patchew.giveBackLimit",
    default: 5,
    doc: "times in a row the applier may give a series back to the queue (deadline, network, locks); the next time it reports `failure` with each attempt's reason",
};
pub const MAINTAINERS_COMMAND: Optional<Command> = Optional::new(
    "patchew.maintainersCommand",
    Some("none (not asked)"),
    "shell command printing a series' maintainers (mbox on standard input)",
);
pub const CI_TIMEOUT: Key<Seconds> = Key {
    name: "patchew.ciTimeout",
    // Long pipelines (QEMU's) take a couple of hours.
    default: Duration::from_secs(4 * 3600),
    doc: "how long after a push the applier's backstop waits before it reports a pipeline that stayed silent",
};
pub const GITLAB_URL: Optional<Text> = Optional::new(
    "patchew.gitlabUrl",
    None,
    "the ci-hub's GitLab instance, e.g. `https://gitlab.com` (for the backstop, `reportFrom = applier`, `doctor`, and the verdict's `project:`/`template:` includes)",
);
pub const GITLAB_TOKEN_FILE: Optional<Text> = Optional::new(
    "patchew.gitlabTokenFile",
    None,
    "file holding a GitLab token with scope `read_api` (`PATCHEW_GITLAB_TOKEN` wins); never printed",
);
pub const REPORT_FROM: Key<Text> = Key {
    name: "patchew.reportFrom",
    default: "pipeline",
    doc: "who sends a tag pipeline's verdict to Patchew: `pipeline` (its report jobs) or `applier` (the applier reads the pipeline from GitLab and reports; no Patchew secret in the ci-hub)",
};
pub const CI_PROJECT: Optional<Text> = Optional::new(
    "patchew.ciProject",
    Some("from the ci-hub remote's URL"),
    "the ci-hub project's GitLab path, e.g. `patchew/qemu`: `CI_PROJECT_NAMESPACE`/`CI_PROJECT_NAME` in the tag pipeline verdict, the project the backstop and `doctor` ask GitLab about",
);
pub const CI_VARIABLES: Optional<Text> = Optional::new(
    "patchew.ciVariables",
    None,
    "the CI/CD variables set on the ci-hub, space-separated `NAME=VALUE`, e.g. `QEMU_CI=2`, for the tag pipeline verdict",
);
pub const TAG_EXPIRY: Key<Count> = Key {
    name: "patchew.tagExpiry",
    // Two months: a series is reviewed, resent and based on for weeks (README).
    default: 60,
    doc: "days after which a series tag (its tagger date) is deleted on the ci-hub and in the mirror by `git patchew prune` and the applier, unless a queued series is based on it or its testing result is pending or running; `0`: never",
};
pub const METRICS_FILE: Optional<Text> = Optional::new(
    "patchew.metricsFile",
    Some("none (the status file `patchew-applier/status.json` in the mirror is always written)"),
    "file the applier rewrites after every round with its state in the Prometheus text format, for node_exporter's textfile collector, e.g. `/var/lib/prometheus/node-exporter/git-patchew.prom` (a path, `~/` expanded as git does)",
);
pub const ADMIN_EMAIL: Optional<Text> = Optional::new(
    "patchew.adminEmail",
    Some("nobody"),
    "where `doctor --fix`'s notification sends mails about infrastructure failures (never to the author)",
);
pub const MAIL_SUCCESS: Key<Bool> = Key {
    name: "patchew.mailSuccess",
    default: false,
    doc: "`true`: `doctor --fix`'s notification mails successes too, not only failures",
};

/// Every key the tool reads, in the order the documentation lists them: the one
/// definition behind [`Settings::load`], `--help`, the man page and README.md's
/// table (`cmd::help`).
pub const KEYS: &[&dyn Entry] = &[
    &SERVER,
    &PROJECT,
    &PROJECT_ID,
    &INBOX,
    &SOURCES,
    &REMOTE,
    &TAG_PREFIX,
    &CI_INCLUDE,
    &MAINLINE,
    &TOKEN,
    &ADD_MESSAGE_ID,
    &HTTP_TIMEOUT,
    &HTTP_PROXY,
    &HTTP_RETRIES,
    &APPLIER_NAME,
    &CLAIM_TIMEOUT,
    &CLAIM_SETTLE,
    &APPLIER_DEADLINE,
    &GIVE_BACK_LIMIT,
    &MAINTAINERS_COMMAND,
    &CI_TIMEOUT,
    &GITLAB_URL,
    &GITLAB_TOKEN_FILE,
    &REPORT_FROM,
    &CI_PROJECT,
    &CI_VARIABLES,
    &TAG_EXPIRY,
    &METRICS_FILE,
    &ADMIN_EMAIL,
    &MAIL_SUCCESS,
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
    pub http_timeout: Duration,
    pub http_retries: u32,
    /// git's `http.proxy` as written; empty means "no proxy".
    pub http_proxy: Option<String>,
    pub add_message_id: bool,
    pub applier_name: Option<String>,
    pub claim_timeout: Duration,
    /// `None`: measured on each claim's own requests.
    pub claim_settle: Option<Duration>,
    pub applier_deadline: Duration,
    /// Give-backs in a row after which a series is reported as a failure.
    pub give_back_limit: u64,
    pub maintainers_command: Option<String>,
    pub ci_timeout: Duration,
    pub gitlab_url: Option<String>,
    pub ci_project: Option<String>,
    pub gitlab_token_file: Option<String>,
    /// `patchew.reportFrom` as written (or its default); see [`Settings::report_from`].
    pub report_from: String,
    pub ci_variables: Option<String>,
    /// Where the applier writes its Prometheus metrics, if anywhere.
    pub metrics_file: Option<std::path::PathBuf>,
    /// Age after which a series tag expires; zero: never.
    pub tag_expiry: Duration,
}

impl Settings {
    /// Reads every key through its definition above; a value git would refuse, or
    /// that is out of range for its key, is an error naming both (as git fails on
    /// `core.bare=maybe`).
    pub fn load(repo: &Repo) -> Result<Self, ConfigError> {
        let url = |s: String| s.trim().trim_end_matches('/').to_owned();
        Ok(Settings {
            server: SERVER
                .load(repo)?
                .map(|s| s.trim_end_matches('/').to_owned()),
            project: PROJECT.load(repo)?,
            project_id: PROJECT_ID.load(repo)?,
            inbox: INBOX
                .load(repo)?
                .map(|s| s.trim_end_matches('/').to_owned()),
            remote: REMOTE.load(repo)?,
            tag_prefix: TAG_PREFIX.load(repo)?.trim_matches('/').to_owned(),
            ci_include: CI_INCLUDE.load(repo)?,
            mainline: MAINLINE.load(repo)?,
            token: TOKEN.load(repo)?,
            source_order: SOURCES.load(repo)?,
            http_timeout: HTTP_TIMEOUT.load(repo)?,
            http_retries: u32::try_from(HTTP_RETRIES.load(repo)?).unwrap_or(u32::MAX),
            http_proxy: HTTP_PROXY.load(repo)?,
            add_message_id: ADD_MESSAGE_ID.load(repo)?,
            applier_name: APPLIER_NAME.load(repo)?.map(|s| s.trim().to_owned()),
            claim_timeout: CLAIM_TIMEOUT.load(repo)?,
            claim_settle: CLAIM_SETTLE.load(repo)?,
            applier_deadline: APPLIER_DEADLINE.load(repo)?,
            give_back_limit: GIVE_BACK_LIMIT.load(repo)?,
            maintainers_command: MAINTAINERS_COMMAND.load(repo)?,
            ci_timeout: CI_TIMEOUT.load(repo)?,
            gitlab_url: GITLAB_URL.load(repo)?.map(url),
            ci_project: CI_PROJECT
                .load(repo)?
                .map(|s| s.trim().trim_matches('/').to_owned()),
            gitlab_token_file: GITLAB_TOKEN_FILE.load(repo)?,
            report_from: REPORT_FROM.load(repo)?,
            ci_variables: CI_VARIABLES.load(repo)?,
            metrics_file: repo.config_path(METRICS_FILE.name)?,
            tag_expiry: Duration::from_secs(TAG_EXPIRY.load(repo)?.saturating_mul(86_400)),
        })
    }

    /// `patchew.reportFrom`, or why its value is not one we know.
    pub fn report_from(&self) -> Result<ReportFrom, UnknownReportFrom> {
        match self.report_from.trim() {
            "pipeline" => Ok(ReportFrom::Pipeline),
            "applier" => Ok(ReportFrom::Applier),
            other => Err(UnknownReportFrom(other.to_owned())),
        }
    }

    /// The HTTP client's settings from these keys; the timeout is at least a second
    /// and a request gets at least one attempt.
    pub fn http_config(&self) -> HttpConfig {
        let defaults = HttpConfig::default();
        HttpConfig {
            timeout: self.http_timeout.max(Duration::from_secs(1)),
            retry: crate::http::RetryPolicy {
                max_attempts: self.http_retries.max(1),
                ..defaults.retry
            },
            proxy: crate::http::ProxySettings {
                configured: self.http_proxy.clone(),
                env: crate::proxy_env::get().clone(),
            },
            ..defaults
        }
    }
}

/// A `patchew.reportFrom` that names no mode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("patchew.reportFrom is {0:?}: use pipeline or applier")]
pub struct UnknownReportFrom(pub String);

impl Settings {
    /// The names in `patchew.sources` that `flow::apply` cannot fetch from, with the
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

#[cfg(test)]
mod tests {
    use super::KEYS;

    /// A key defined above but left out of [`KEYS`] would be read yet documented
    /// nowhere.
    #[test]
    fn every_key_defined_is_in_the_table_once() {
        let source = include_str!("config.rs");
        let defined = source
            .lines()
            .filter(|l| {
                l.starts_with("pub const ") && (l.contains(": Key<") || l.contains(": Optional<"))
            })
            .count();
        assert_eq!(defined, KEYS.len());
        let mut names: Vec<_> = KEYS.iter().map(|k| k.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KEYS.len(), "a key twice");
    }
}
