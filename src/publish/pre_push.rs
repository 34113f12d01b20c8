//! `git patchew hook pre-push <remote-name> <remote-url>`: what git runs.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::ci::IncludeUrl;
use crate::config::Settings;
use crate::error::CmdError;
use crate::publish::check::{self, Guard, NoInclude};
use crate::repo::{self, Repo};

/// Where install-hook keeps a pre-push hook that was there before ours.
pub const CHAINED: &str = "pre-push.patchew-chained";

/// Set for the chained hook, so that a copy of ours there can never loop.
const IN_HOOK: &str = "GIT_PATCHEW_IN_HOOK";

/// Runs the check; returns the exit code for git (0 lets the push go ahead).
pub fn pre_push(repo: &Repo, remote_name: &str, remote_url: &str) -> Result<i32, CmdError> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|source| CmdError::Read {
            what: "the pre-push hook's standard input".into(),
            source,
        })?;
    if std::env::var_os(IN_HOOK).is_some() {
        // We are our own chained hook (an old copy of ours): the check already ran.
        return Ok(0);
    }
    let settings = Settings::load(repo)?;
    let guard = Guard {
        remote_urls: ["url", "pushurl"]
            .iter()
            .filter_map(|k| repo.config_string(&format!("remote.{}.{k}", settings.remote)))
            .collect(),
        include: match settings.ci_include.as_deref() {
            None => Err(NoInclude::Unset),
            Some(u) => IncludeUrl::parse(u).map_err(|e| NoInclude::Invalid(e.to_string())),
        },
        remote: settings.remote.clone(),
        tag_prefix: settings.tag_prefix.clone(),
    };
    // Every remote: a tampered tag must not reach the ci-hub by another spelling of
    // its URL, a symlink, or a remote added for the purpose.
    let lines = check::parse_ref_lines(&input)?;
    let refused = check::check(repo, &guard, &lines);
    if !refused.is_empty() {
        for r in &refused {
            crate::errln!("pre-push: {r}");
        }
        let canonical = |u: &str| repo::canonical_remote_url(u, repo.top_dir());
        let shown = crate::http::redact_url(remote_url);
        let target = if guard.is_ci_hub(remote_name, remote_url, canonical) {
            format!("{shown}, the ci-hub")
        } else {
            format!("{shown}, not the ci-hub remote {:?}", guard.remote)
        };
        crate::errln!(
            "pre-push: tags under refs/tags/{}/ are checked whatever the remote (pushing to {target})",
            guard.tag_prefix
        );
        return Ok(1);
    }
    let canonical = |u: &str| repo::canonical_remote_url(u, repo.top_dir());
    let verdict_given = std::env::var_os(crate::transport::VERDICT_GIVEN).is_some();
    if !verdict_given && guard.is_ci_hub(remote_name, remote_url, canonical) {
        for warning in verdict_warnings(repo, &settings, &guard, &lines) {
            crate::errln!("pre-push: warning: {}", crate::output::printable(&warning));
        }
    }
    run_chained(&repo.hooks_dir()?, remote_name, remote_url, &input)
}

/// The tag pipeline verdict (as `git patchew ci-check` words it) of each series tag
/// pushed to the ci-hub whose report jobs will not run for sure. Only a warning: the
/// hook cannot see push options (git does not hand them to pre-push), and the
/// ci-hub may set variables patchew.ciVariables does not list. Skipped when
/// git-patchew runs the push: it gave the verdict with the real push options.
fn verdict_warnings(
    repo: &Repo,
    settings: &Settings,
    guard: &Guard,
    lines: &[check::RefLine],
) -> Vec<String> {
    let prefix = guard.guarded_prefix();
    let mut out = Vec::new();
    for line in lines.iter().filter(|l| l.remote_ref.starts_with(&prefix)) {
        let Some(commit) = repo.try_resolve_commit(&line.local_oid) else {
            continue; // a deletion, or nothing to look at
        };
        let tag = line
            .remote_ref
            .strip_prefix("refs/tags/")
            .unwrap_or(&line.remote_ref);
        // A bad patchew.ciVariables is ci-check's and apply's to report.
        if let Ok(warnings) = crate::ci::verdict::verdict_warnings(repo, settings, tag, commit, &[])
        {
            out.extend(warnings.into_iter().map(|w| {
                format!(
                    "{tag}: {w} (with patchew.ciVariables; this hook cannot see push options such as -o ci.variable=... or -o ci.skip)"
                )
            }));
        }
    }
    out
}

/// Runs the hook that was installed before ours, with the same arguments and input.
fn run_chained(hooks_dir: &Path, name: &str, url: &str, input: &str) -> Result<i32, CmdError> {
    let chained = hooks_dir.join(CHAINED);
    if !is_executable(&chained) {
        return Ok(0);
    }
    let mut command = Command::new(&chained);
    // Our main() took the proxy variables out of the environment; the user's hook
    // gets them back, as git gave them to us.
    crate::proxy_env::give_back(&mut command);
    let mut child = command
        .args([name, url])
        .env(IN_HOOK, "1")
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|source| CmdError::Spawn {
            program: chained.clone(),
            source,
        })?;
    // A hook may exit without reading its input; that is not our failure.
    let _ = child
        .stdin
        .take()
        .expect("piped")
        .write_all(input.as_bytes());
    let status = child.wait().map_err(|source| CmdError::Spawn {
        program: chained.clone(),
        source,
    })?;
    Ok(status.code().unwrap_or(1))
}

pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
