//! `git patchew applier`: the unattended service that replaces
//! `patchew-cli apply --applier-mode`. One round: take the oldest unapplied series,
//! apply it on its base, inject the CI include, tag, push to the mirror, report.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use super::apply;
use super::{exit, CmdError, Output};
use crate::config::Settings;
use crate::repo::Repo;
use crate::server::{
    lookup_token, redact, ApplierData, ApplierResult, HttpClient, Patchew, QueueItem, Status,
};
use crate::transport::{self, Stream};

#[derive(Debug, Clone)]
pub struct Args {
    pub once: bool,
    pub target_repo: Option<String>,
    pub interval: Duration,
    pub ci_include: Option<String>,
}

/// Where a series' base comes from, fetched into these refs of the applier's repo.
const SOURCE_REFS: &str = "refs/patchew-applier/source";

/// Runs rounds until the queue is empty (`--once`: one round); returns the exit code.
pub fn run(repo: &Repo, args: &Args, out: &Output) -> Result<i32, CmdError> {
    let patchew = connect(repo)?;
    loop {
        let item = patchew
            .unapplied(args.target_repo.as_deref())
            .map_err(|e| CmdError::Network(e.to_string()))?;
        let Some(item) = item else {
            if args.once {
                out.info("nothing to apply");
                return Ok(exit::NOTHING_TO_DO);
            }
            std::thread::sleep(args.interval);
            continue;
        };
        out.info(&format!("applying <{}> {}", item.message_id, item.subject));
        let status = process(repo, &patchew, &item, args)?;
        out.info(&format!("reported {status:?} for <{}>", item.message_id));
        if args.once {
            return Ok(if status == Status::Success {
                exit::OK
            } else {
                exit::APPLY_FAILED
            });
        }
    }
}

fn connect(repo: &Repo) -> Result<Patchew, CmdError> {
    let settings = Settings::load(repo);
    let server = settings
        .server
        .clone()
        .ok_or_else(|| CmdError::BadInput("patchew.server is not set".into()))?;
    let token = lookup_token(&server, settings.token.as_deref())
        .map_err(|e| CmdError::BadInput(e.to_string()))?
        .ok_or_else(|| {
            CmdError::BadInput(
                "no Patchew token: set PATCHEW_TOKEN, git config patchew.token, or ~/.patchew.token".into(),
            )
        })?;
    Ok(Patchew::new(
        &server,
        Some(token),
        HttpClient::new(settings.http_config()),
    ))
}

/// Applies one series and reports the outcome, whatever happens in between: even a
/// panic is reported as a failure, so no series is left unreported while the server
/// can be reached. Errors only when the report itself cannot be sent.
fn process(
    repo: &Repo,
    patchew: &Patchew,
    item: &QueueItem,
    args: &Args,
) -> Result<Status, CmdError> {
    let mut log = String::new();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        apply_and_push(repo, patchew, item, args, &mut log)
    }))
    .unwrap_or_else(|_| {
        Err(CmdError::BadInput(
            "internal error (panic) while applying".into(),
        ))
    });
    let (status, data) = match outcome {
        Ok(data) => (Status::Success, data),
        Err(e) => {
            log.push_str(&format!("error: {e}\n"));
            (Status::Failure, ApplierData::default())
        }
    };
    let push_url = item.mirror.pushurl.as_deref().unwrap_or_default();
    let public_url = item.mirror.url.as_deref().unwrap_or_default();
    let result = ApplierResult {
        status,
        data,
        log: redact(&log, push_url, public_url),
    };
    patchew
        .put_result(&item.result_uri, &result)
        .map_err(|e| CmdError::Network(e.to_string()))?;
    Ok(status)
}

fn apply_and_push(
    repo: &Repo,
    patchew: &Patchew,
    item: &QueueItem,
    args: &Args,
    log: &mut String,
) -> Result<ApplierData, CmdError> {
    let msgid = item
        .message_id()
        .map_err(|e| CmdError::BadInput(format!("message-id {:?}: {e}", item.message_id)))?;
    let push_url = item
        .mirror
        .pushurl
        .clone()
        .ok_or_else(|| CmdError::BadInput("the project has no mirror push URL".into()))?;
    let base = fetch_base(repo, item, log)?;
    let mbox = patchew
        .get_mbox(&item.mbox_uri)
        .map_err(|e| CmdError::Network(e.to_string()))?;
    let options = apply::Options {
        base: Some(base),
        no_ci: false,
        no_tag: false,
        // A series re-queued because its trailers changed replaces its old tag.
        force: true,
        allow_partial: false,
        trailers: true,
        ci_include: args.ci_include.clone(),
        // Patchew recognises merged series by the Message-ID lines (git am -m).
        message_id: true,
        signoff: false,
        // The old applier ran git am -3.
        three_way: true,
    };
    let report = apply::apply_mbox(repo, &mbox, Some(msgid), &options, &mut |line| {
        log.push_str(line);
        log.push('\n');
    })?;
    for w in &report.warnings {
        log.push_str(&format!("warning: {w}\n"));
    }
    let tag = format!(
        "refs/tags/{}",
        report.tag.as_deref().expect("apply tags the series")
    );
    let options: Vec<String> = item
        .push_options
        .iter()
        .filter(|o| !o.is_empty())
        .cloned()
        .collect();
    let pushed = transport::push(
        repo.git_dir(),
        &push_url,
        &[format!("{tag}:{tag}")],
        &options,
        true,
        Stream::Capture,
    )
    .map_err(|e| CmdError::BadInput(e.to_string()))?;
    log.push_str(&pushed.output);
    if !pushed.success {
        return Err(CmdError::Network("git push to the mirror failed".into()));
    }
    Ok(ApplierData {
        base: Some(report.base),
        repo: item.mirror.url.clone(),
        tag: Some(tag),
    })
}

/// Fetches the series' base into the applier's repository and names it: the base
/// series' tag when Patchew says it is based on one, else the project's branch.
fn fetch_base(repo: &Repo, item: &QueueItem, log: &mut String) -> Result<String, CmdError> {
    let (url, refspec, local) = match &item.based_on {
        Some(b) if !b.repo.is_empty() && !b.tag.is_empty() => {
            let tag = if b.tag.starts_with("refs/") {
                b.tag.clone()
            } else {
                format!("refs/tags/{}", b.tag)
            };
            (b.repo.clone(), format!("+{tag}:{tag}"), tag)
        }
        _ => {
            let (url, branch) = item.mirror.source_repo_and_branch().ok_or_else(|| {
                CmdError::BadInput("the project has no source repository (mirror.source)".into())
            })?;
            let local = format!("{SOURCE_REFS}/{branch}");
            (
                url.to_owned(),
                format!("+refs/heads/{branch}:{local}"),
                local,
            )
        }
    };
    let fetched = transport::fetch(repo.git_dir(), &url, &[refspec], Stream::Capture)
        .map_err(|e| CmdError::BadInput(e.to_string()))?;
    log.push_str(&fetched.output);
    if !fetched.success {
        return Err(CmdError::Network(format!("git fetch {url} failed")));
    }
    Ok(local)
}
