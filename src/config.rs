//! The `patchew.*` git-config keys, read once into plain data.

use crate::repo::Repo;
use crate::server::HttpConfig;
use crate::source::Source;
use std::time::Duration;

/// Every key the tool reads; the README's table lists the same.
pub const KEYS: &[(&str, &str)] = &[
    (
        "patchew.server",
        "Patchew server URL, e.g. https://patchew.org",
    ),
    ("patchew.project", "Patchew project name, e.g. QEMU"),
    (
        "patchew.projectId",
        "Patchew project number, for git patchew report",
    ),
    (
        "patchew.inbox",
        "public-inbox archive URL, e.g. https://lore.kernel.org/all",
    ),
    ("patchew.remote", "the ci-hub remote (name); default ci-hub"),
    (
        "patchew.tagPrefix",
        "prefix of series tags; default patchew",
    ),
    (
        "patchew.ciInclude",
        "https URL of the hosted patchew-ci.yml",
    ),
    (
        "patchew.mainline",
        "base when a series names none; default the remote's HEAD, then HEAD",
    ),
    (
        "patchew.token",
        "API token (PATCHEW_TOKEN and ~/.patchew.token also work)",
    ),
    (
        "patchew.sources",
        "where to fetch a series, in order; default patchew,inbox",
    ),
    (
        "patchew.httpTimeout",
        "seconds one HTTP request may take, redirects included; default 30",
    ),
    (
        "patchew.httpRetries",
        "attempts for a request that meets a 5xx or no connection; default 4",
    ),
    (
        "patchew.addMessageId",
        "add Message-ID: lines in git patchew apply (the applier always does)",
    ),
    (
        "patchew.applierName",
        "how this applier signs its claims; default the host name",
    ),
    (
        "patchew.claimTimeout",
        "seconds after which another applier's claim is taken over; default 3600",
    ),
    (
        "patchew.claimSettle",
        "seconds to wait before checking that a claim held; default 2",
    ),
    (
        "patchew.applierDeadline",
        "seconds the applier may spend on one series before giving it back; default 1800",
    ),
    (
        "patchew.ciProject",
        "the ci-hub project's GitLab path, e.g. patchew/qemu (CI_PROJECT_NAMESPACE, CI_PROJECT_NAME in the verdict; backstop, doctor); default from the ci-hub remote's URL",
    ),
    (
        "patchew.ciVariables",
        "CI/CD variables set on the ci-hub, space-separated NAME=VALUE, e.g. QEMU_CI=2",
    ),
    (
        "patchew.maintainersCommand",
        "shell command printing a series' maintainers (mbox on stdin), e.g. scripts/get_maintainer.pl --no-tree --noroles --norolestats --nogit --nogit-fallback",
    ),
    (
        "patchew.ciTimeout",
        "seconds after a push before the applier's backstop reports a silent pipeline; default 14400 (4 h)",
    ),
    (
        "patchew.gitlabUrl",
        "the ci-hub's GitLab instance, e.g. https://gitlab.com (backstop, reportFrom=applier, doctor)",
    ),
    (
        "patchew.gitlabTokenFile",
        "file holding a GitLab read_api token (PATCHEW_GITLAB_TOKEN also works)",
    ),
    (
        "patchew.reportFrom",
        "who reports pipelines to Patchew: pipeline (the report jobs, default) or applier",
    ),
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
    pub add_message_id: bool,
    pub applier_name: Option<String>,
    pub claim_timeout: Duration,
    pub claim_settle: Duration,
    pub applier_deadline: Duration,
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
    pub fn load(repo: &Repo) -> Self {
        let get = |key: &str| repo.config_string(key).filter(|v| !v.trim().is_empty());
        Settings {
            server: get("patchew.server").map(|s| s.trim_end_matches('/').to_owned()),
            project: get("patchew.project"),
            project_id: get("patchew.projectId").and_then(|v| v.trim().parse().ok()),
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
            http_timeout: get("patchew.httpTimeout").and_then(|v| v.trim().parse().ok()),
            http_retries: get("patchew.httpRetries").and_then(|v| v.trim().parse().ok()),
            add_message_id: repo.config_bool("patchew.addMessageId").unwrap_or(false),
            applier_name: get("patchew.applierName").map(|s| s.trim().to_owned()),
            claim_timeout: get("patchew.claimTimeout")
                .and_then(|v| seconds(&v))
                .unwrap_or(Duration::from_secs(3600)),
            claim_settle: get("patchew.claimSettle")
                .and_then(|v| seconds(&v))
                .unwrap_or(Duration::from_secs(2)),
            applier_deadline: get("patchew.applierDeadline")
                .and_then(|v| seconds(&v))
                .unwrap_or(Duration::from_secs(1800)),
            maintainers_command: get("patchew.maintainersCommand"),
            ci_timeout: get("patchew.ciTimeout")
                .and_then(|v| seconds(&v))
                .unwrap_or(DEFAULT_CI_TIMEOUT),
            gitlab_url: get("patchew.gitlabUrl").map(|s| s.trim().trim_end_matches('/').to_owned()),
            ci_project: get("patchew.ciProject").map(|s| s.trim().trim_matches('/').to_owned()),
            gitlab_token_file: get("patchew.gitlabTokenFile"),
            report_from: get("patchew.reportFrom"),
            ci_variables: get("patchew.ciVariables"),
        }
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

/// Whole or fractional seconds; garbage and negative values give `None` (the default).
fn seconds(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)))
}
