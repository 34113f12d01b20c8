//! `git patchew doctor`: checks every link of the chain, one line per check, what is
//! wrong and how to fix it. Exit 0 when nothing failed (a check that could not be
//! made says so and does not fail), 1 otherwise.

use serde::Serialize;
use serde_json::Value;

use super::clients as gitlab_access;
use crate::ci::IncludeUrl;
use crate::config::{ReportFrom, Settings};
use crate::http::{HttpClient, RetryPolicy};
use crate::publish::install::MARKER;
use crate::repo::Repo;
use crate::report::gitlab::GitLab;
use crate::report::patchew::{find_project, Patchew};

/// The jobs contrib/patchew-ci.yml defines; a hosted copy without them reports nothing.
const REPORT_JOBS: &[&str] = &["patchew-report-success", "patchew-report-failure"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Fail,
    /// Not checked, and why: not configured, or not allowed to look.
    Skip,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub check: &'static str,
    pub status: Status,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

fn ok(check: &'static str, message: impl Into<String>) -> Check {
    Check {
        check,
        status: Status::Ok,
        message: message.into(),
        fix: None,
    }
}

fn fail(check: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Check {
    Check {
        check,
        status: Status::Fail,
        message: message.into(),
        fix: Some(fix.into()),
    }
}

fn skip(check: &'static str, message: impl Into<String>) -> Check {
    Check {
        check,
        status: Status::Skip,
        message: message.into(),
        fix: None,
    }
}

pub fn checks(repo: &Repo) -> Vec<Check> {
    let settings = match Settings::load(repo) {
        Ok(settings) => settings,
        // Nothing else can be checked with settings git itself would refuse.
        Err(e) => {
            return vec![fail(
                "config",
                e.to_string(),
                format!("git config {} <a valid value>", e.key),
            )]
        }
    };
    let mut http_config = settings.http_config();
    // A diagnosis should answer quickly: one attempt each.
    http_config.retry = RetryPolicy::none();
    let http = HttpClient::new(http_config);
    let mut out = vec![
        config_check(&settings),
        remote_check(repo, &settings),
        hook_check(repo),
        include_check(&settings, &http),
    ];
    out.extend(patchew_checks(&settings));
    out.extend(gitlab_checks(&settings));
    out.push(verdict_check(repo, &settings));
    out.push(applier_check(repo));
    out
}

/// When the applier of this mirror last finished a round (its status file).
fn applier_check(repo: &Repo) -> Check {
    use crate::flow::applier::liveness::{self, Health};
    let path = liveness::status_path(repo.common_dir());
    let status = liveness::load(&path);
    let now = liveness::unix_now();
    match liveness::health(status.as_ref(), now) {
        Health::NeverRan => skip("applier", "no applier has run in this repository"),
        Health::InRound { started_ago } => ok(
            "applier",
            format!("a round is under way, started {started_ago} s ago"),
        ),
        Health::Fresh { ago } => ok(
            "applier",
            format!("the last round finished {ago} s ago"),
        ),
        Health::Stale { ago, limit } => fail(
            "applier",
            format!(
                "the last round finished {ago} s ago, more than a few rounds ({limit} s): the applier is stopped or stuck ({})",
                path.display()
            ),
            "systemctl status 'git-patchew-applier@*' and its journal",
        ),
    }
}

fn config_check(s: &Settings) -> Check {
    let mut missing = Vec::new();
    if s.server.is_none() {
        missing.push("git config patchew.server https://patchew.example.org");
    }
    if s.ci_include.is_none() {
        missing.push("git config patchew.ciInclude https://<host>/patchew-ci.yml");
    }
    if s.project.is_none() && s.project_id.is_none() {
        missing.push("git config patchew.project <Patchew project name>");
    }
    if let Err(e) = s.report_from() {
        return fail(
            "config",
            e.to_string(),
            "git config patchew.reportFrom pipeline (or applier)",
        );
    }
    if missing.is_empty() {
        ok(
            "config",
            "patchew.server, patchew.ciInclude and the project are set",
        )
    } else {
        fail("config", "settings are missing", missing.join("; "))
    }
}

fn remote_check(repo: &Repo, s: &Settings) -> Check {
    match repo.remote_url(&s.remote) {
        Some(_) => ok("remote", format!("remote {} is configured", s.remote)),
        None => skip(
            "remote",
            format!(
                "no remote {}: git patchew push needs one (git remote add {} <ci-hub URL>, or patchew.remote); the applier pushes to Patchew's mirror URL instead",
                s.remote, s.remote
            ),
        ),
    }
}

fn hook_check(repo: &Repo) -> Check {
    let hook = match repo.hooks_dir() {
        Ok(dir) => dir.join("pre-push"),
        Err(e) => return fail("hook", e.to_string(), "fix core.hooksPath"),
    };
    let fix = "git patchew install-hook";
    match std::fs::read(&hook) {
        Err(_) => fail(
            "hook",
            format!("no pre-push hook at {}", hook.display()),
            fix,
        ),
        Ok(script) if !String::from_utf8_lossy(&script).contains(MARKER) => fail(
            "hook",
            format!("{} is not git patchew's", hook.display()),
            format!("{fix} (it keeps the existing hook and runs it after ours)"),
        ),
        Ok(_) if !crate::publish::pre_push::is_executable(&hook) => fail(
            "hook",
            format!("{} is not executable", hook.display()),
            format!("chmod +x {}", hook.display()),
        ),
        Ok(_) => ok("hook", format!("{} is installed", hook.display())),
    }
}

fn include_check(s: &Settings, http: &HttpClient) -> Check {
    let name = "include";
    let Some(url) = &s.ci_include else {
        return skip(name, "patchew.ciInclude is not set");
    };
    if let Err(e) = IncludeUrl::parse(url) {
        return fail(
            name,
            format!("patchew.ciInclude: {e}"),
            "an https:// URL ending in .yml",
        );
    }
    let host_it = "host contrib/patchew-ci.yml there (contrib/README.md, \"Hosting it\")";
    let body = match http.get(url) {
        Ok(r) => r.body,
        Err(e) => return fail(name, format!("cannot fetch it: {e}"), host_it),
    };
    let yaml: serde_yaml::Value = match serde_yaml::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return fail(name, format!("{url} is not valid YAML: {e}"), host_it),
    };
    let absent: Vec<&str> = REPORT_JOBS
        .iter()
        .copied()
        .filter(|job| yaml.get(job).is_none())
        .collect();
    if absent.is_empty() {
        ok(name, format!("{url} defines the report jobs"))
    } else {
        fail(
            name,
            format!("{url} does not define {}", absent.join(", ")),
            host_it,
        )
    }
}

fn patchew_checks(s: &Settings) -> Vec<Check> {
    let Some(server) = &s.server else {
        return vec![skip("patchew", "patchew.server is not set")];
    };
    let patchew = match super::clients::patchew_client(s) {
        Ok(p) => p,
        Err(e) => {
            return vec![fail(
                "patchew-token",
                e.to_string(),
                "PATCHEW_TOKEN, git config patchew.token, or ~/.patchew.token",
            )]
        }
    };
    let http = patchew.http();
    let projects_url = format!("{server}/api/v1/projects/?limit=500");
    if let Err(e) = http.get(&projects_url) {
        return vec![fail(
            "patchew",
            format!("Patchew does not answer: {e}"),
            "check patchew.server and the network",
        )];
    }
    let mut out = vec![ok("patchew", format!("{server} answers"))];
    let listed = match patchew.get_json_as_user(&projects_url) {
        Ok(v) => v,
        Err(e) if matches!(e.status(), Some(401 | 403)) => {
            out.push(fail(
                "patchew-token",
                format!("Patchew refuses the token ({e})"),
                "a valid token of a user in the importers group (and testers with patchew.reportFrom = applier)",
            ));
            return out;
        }
        Err(e) => {
            out.push(fail("patchew-token", e.to_string(), "check the server"));
            return out;
        }
    };
    out.push(ok("patchew-token", "Patchew accepts the token"));
    let Some((id, project)) = find_project(&listed, s.project_id, s.project.as_deref()) else {
        out.push(fail(
            "patchew-project",
            format!(
                "no project {} on {server}",
                s.project.as_deref().unwrap_or("(unset)")
            ),
            "git config patchew.project <name as Patchew shows it> (or patchew.projectId)",
        ));
        return out;
    };
    out.push(ok(
        "patchew-project",
        format!("project {project} found (id {id})"),
    ));
    out.push(gitlab_test_check(&patchew, server, id));
    out.extend(token_rights_checks(&patchew, s, server, id, &project));
    out
}

fn gitlab_test_check(patchew: &Patchew, server: &str, id: u64) -> Check {
    let name = "patchew-gitlab-test";
    let fix = "in the project's testing configuration, enable a test named gitlab whose requirements no legacy tester offers (contrib/README.md, \"The Patchew side\")";
    match patchew.get_json_as_user(&format!("{server}/api/v1/projects/{id}/config/")) {
        Ok(config) => {
            let test = config.pointer("/testing/tests/gitlab");
            match test {
                Some(t) if t.get("enabled").and_then(Value::as_bool) != Some(false) => {
                    ok(name, "a test named gitlab is enabled")
                }
                Some(_) => fail(name, "the test named gitlab is disabled", fix),
                None => fail(
                    name,
                    "no test named gitlab: Patchew answers 404 to every report",
                    fix,
                ),
            }
        }
        Err(e) if matches!(e.status(), Some(403 | 404)) => skip(
            name,
            "could not check: only a maintainer may read the project's configuration; make sure a test named gitlab is enabled",
        ),
        Err(e) => fail(name, e.to_string(), fix),
    }
}

fn gitlab_checks(s: &Settings) -> Vec<Check> {
    let gitlab = match gitlab_access::gitlab_client(s) {
        Ok(Some(g)) => g,
        Ok(None) => {
            return vec![skip(
                "gitlab",
                "no GitLab settings (patchew.gitlabUrl, patchew.ciProject, PATCHEW_GITLAB_TOKEN or patchew.gitlabTokenFile): the ci-hub was not checked",
            )]
        }
        Err(e) => {
            return vec![fail(
                "gitlab",
                e.to_string(),
                "set all three, or none",
            )]
        }
    };
    let url = match gitlab.project_web_url() {
        Ok(url) => url,
        Err(e) => {
            return vec![fail(
                "gitlab",
                format!("the ci-hub project cannot be read: {e}"),
                "check patchew.gitlabUrl, patchew.ciProject, and that the token has scope read_api",
            )]
        }
    };
    let mode = s.report_from().unwrap_or(ReportFrom::Pipeline);
    vec![
        ok("gitlab", format!("{url} is readable")),
        variables_check(&gitlab, mode),
    ]
}

fn variables_check(gitlab: &GitLab, mode: ReportFrom) -> Check {
    let name = "gitlab-variables";
    let names = match gitlab.variable_names() {
        Ok(names) => names,
        Err(e) if matches!(e.status(), Some(401 | 403)) => {
            return skip(
                name,
                "could not check: listing CI/CD variables needs a maintainer's token",
            )
        }
        Err(e) => return fail(name, e.to_string(), "check the GitLab settings"),
    };
    let has = |v: &str| names.iter().any(|n| n == v);
    let settings = "the ci-hub's Settings > CI/CD > Variables";
    match mode {
        ReportFrom::Pipeline => {
            let missing: Vec<&str> = ["PATCHEW_SERVER", "PATCHEW_PROJECT_ID", "PATCHEW_TOKEN"]
                .into_iter()
                .filter(|v| !has(v))
                .collect();
            if !missing.is_empty() {
                return fail(
                    name,
                    format!("missing {}", missing.join(", ")),
                    format!("add them in {settings} (PATCHEW_TOKEN masked and protected)"),
                );
            }
            if has("PATCHEW_GITLAB_TOKEN") {
                ok(name, "the report jobs have what they need, job details included")
            } else {
                ok(name, "the report jobs have what they need; add PATCHEW_GITLAB_TOKEN (read_api, masked) for failed jobs and their logs in reports")
            }
        }
        ReportFrom::Applier if has("PATCHEW_TOKEN") => fail(
            name,
            "PATCHEW_TOKEN is set, but patchew.reportFrom = applier needs no Patchew secret in pipelines",
            format!("remove PATCHEW_TOKEN from {settings}"),
        ),
        ReportFrom::Applier if !has("PATCHEW_REPORT_FROM") => fail(
            name,
            "PATCHEW_REPORT_FROM is not set: the report jobs will fail for want of a token",
            format!("add PATCHEW_REPORT_FROM = applier in {settings}"),
        ),
        ReportFrom::Applier => ok(name, "no Patchew secret; the jobs leave the report to the applier"),
    }
}

fn verdict_check(repo: &Repo, s: &Settings) -> Check {
    let name = "ci-verdict";
    let mainline = match &s.mainline {
        Some(rev) => repo.try_resolve_commit(rev),
        None => ["refs/remotes/origin/HEAD", "HEAD"]
            .iter()
            .find_map(|r| repo.try_resolve_commit(r)),
    };
    let Some(commit) = mainline else {
        return skip(name, "no mainline commit to look at (patchew.mainline)");
    };
    let fetcher = super::includes::include_fetcher(s);
    let problems = crate::ci::problems::tag_pipeline_problems(repo, commit, Some(&fetcher));
    if problems.is_empty() {
        ok(
            name,
            "mainline's .gitlab-ci.yml runs jobs on a patchew/ tag",
        )
    } else {
        fail(
            name,
            format!("on a patchew/ tag at mainline: {}", problems.join("; ")),
            "let the ci-hub run tag pipelines (contrib/README.md, \"Why a tag pipeline may run nothing\")",
        )
    }
}

/// What the token must be allowed to write in the configured mode, asked without
/// writing ([`Patchew::may_write_result`]): the applier writes the `git` result
/// (group `importers`); with `patchew.reportFrom = applier` it also writes
/// `testing.gitlab` (group `testers`). One line per right.
fn token_rights_checks(
    patchew: &Patchew,
    s: &Settings,
    server: &str,
    id: u64,
    project: &str,
) -> Vec<Check> {
    let results = probe_results_url(patchew, server, id, project);
    let mut out = vec![right_check(
        patchew,
        "patchew-token-git",
        &format!("{results}git/"),
        "importers",
        "write a series' git result, which the applier does for every series",
    )];
    match s.report_from() {
        Ok(ReportFrom::Applier) => out.push(right_check(
            patchew,
            "patchew-token-testing",
            &format!("{results}testing.gitlab/"),
            "testers",
            "write testing results, which patchew.reportFrom = applier does with this token",
        )),
        _ => out.push(skip(
            "patchew-token-testing",
            "the report jobs write testing results with the ci-hub's PATCHEW_TOKEN, which cannot be checked from here: its user needs the testers group, and no other",
        )),
    }
    out
}

/// The results URL (with its trailing slash) of a series of the project: the newest
/// one, else a message-id no series has (Patchew checks the permission before it
/// looks the series up, so the answer is the same).
fn probe_results_url(patchew: &Patchew, server: &str, id: u64, project: &str) -> String {
    let fallback =
        format!("{server}/api/v1/projects/{id}/series/git-patchew-doctor-probe@invalid/results/");
    let query = format!("project:{project}");
    match patchew.search_series(&query, 1) {
        Ok(series) => series
            .first()
            .and_then(|s| s.results.clone())
            .map(|r| format!("{}/", r.trim_end_matches('/')))
            .unwrap_or(fallback),
        Err(_) => fallback,
    }
}

fn right_check(
    patchew: &Patchew,
    name: &'static str,
    result_url: &str,
    group: &str,
    what: &str,
) -> Check {
    match patchew.may_write_result(result_url) {
        Ok(true) => ok(name, format!("the token's user may {what}")),
        Ok(false) => fail(
            name,
            format!("Patchew refuses (403): the token's user may not {what}; it is not in the {group} group"),
            // A maintainer may write the git result, not testing results.
            if group == "importers" {
                format!("add the token's user to the group {group} in Patchew's admin (or make it a maintainer of the project)")
            } else {
                format!("add the token's user to the group {group} in Patchew's admin")
            },
        ),
        Err(e) => fail(name, format!("could not ask Patchew: {e}"), "check the server"),
    }
}
