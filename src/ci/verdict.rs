//! `git patchew ci-check [REV]`: the tag pipeline GitLab would run for REV on the
//! ci-hub, without applying anything. Also where `apply`, the applier and the hook
//! get the ci-hub's variables from, so that all of them say the same.

use crate::ci::pipeline::{self, Hub, Prediction, Verdict};
use crate::config::Settings;
use crate::error::{CmdError, Output};
use crate::exit;
use crate::repo::{Oid, Repo};

#[derive(Debug, Clone, clap::Args)]
#[command(
    after_help = "Exit codes:\n  0  the report jobs will run\n  1  no pipeline, or blocked before the report\n  2  bad input or usage\n  3  unknown (the reasons say why)"
)]
pub struct Args {
    /// The commit to look at (a tag works); default HEAD
    #[arg(default_value = "HEAD")]
    pub rev: String,
    /// Print the pipeline as one JSON object
    #[arg(long)]
    pub json: bool,
    /// A CI/CD variable the ci-hub sets, on top of patchew.ciVariables (repeatable)
    #[arg(long = "variable", value_name = "NAME=VALUE", value_parser = parse_variable)]
    pub variables: Vec<(String, String)>,
    /// A push option the tag would be pushed with (ci.variable="NAME=VALUE",
    /// ci.skip); may be repeated
    #[arg(short = 'o', long = "push-option", value_name = "OPTION")]
    pub push_options: Vec<String>,
}

fn parse_variable(word: &str) -> Result<(String, String), String> {
    pipeline::parse_assignment(word)
}

/// Prints the jobs and the verdict; the exit code is 0 when the report jobs will
/// run, 1 when there is no pipeline or it is blocked, 3 when we cannot tell.
pub fn run(repo: &Repo, args: &Args, out: &Output) -> Result<i32, CmdError> {
    let settings = Settings::load(repo)?;
    let commit = repo
        .resolve_commit(&args.rev)
        .map_err(|e| CmdError::BadInput(e.to_string()))?;
    let (tag, stand_in) = match tag_of(repo, &args.rev) {
        Some(tag) => (tag, false),
        None => (format!("{}/ci-check", settings.tag_prefix), true),
    };
    let hub = hub(repo, &settings, &tag, &args.push_options, &args.variables)?;
    if stand_in && !hub.variables.iter().any(|(n, _)| n == "CI_COMMIT_TAG") {
        out.info(&format!(
            "{} is not a tag: CI_COMMIT_TAG is taken as {tag}",
            args.rev
        ));
    }
    let prediction = predict(repo, commit, &hub)?;
    refuse_reserved(&prediction)?;
    let pipeline = &prediction.pipeline;
    if args.json {
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(pipeline).expect("pipeline serialises")
        );
    } else {
        print_table(pipeline);
        println!("{}", crate::error::printable(&pipeline.summary()));
    }
    Ok(match pipeline.verdict {
        Verdict::Runs => exit::OK,
        Verdict::None | Verdict::Blocked => exit::APPLY_FAILED,
        Verdict::Unknown => exit::NOTHING_TO_DO,
    })
}

fn print_table(pipeline: &pipeline::Pipeline) {
    let width = |f: fn(&pipeline::Job) -> usize, min| {
        pipeline.jobs.iter().map(f).max().unwrap_or(0).max(min)
    };
    let (n, s, w) = (
        width(|j| j.name.len(), 4),
        width(|j| j.stage.len(), 5),
        width(|j| j.when.len(), 4),
    );
    crate::outln!(
        "{:n$}  {:s$}  {:w$}  allow_failure",
        "name",
        "stage",
        "when"
    );
    for j in &pipeline.jobs {
        crate::outln!(
            "{:n$}  {:s$}  {:w$}  {}",
            crate::error::printable(&j.name),
            crate::error::printable(&j.stage),
            j.when,
            j.allow_failure
        );
    }
}

/// The tag REV names, without `refs/tags/`, if it names one.
fn tag_of(repo: &Repo, rev: &str) -> Option<String> {
    let short = rev.strip_prefix("refs/tags/").unwrap_or(rev);
    repo.ref_target(&format!("refs/tags/{short}"))
        .map(|_| short.to_owned())
}

/// What the ci-hub sets for a push of `tag`: `patchew.ciProject` (else the ci-hub
/// remote's URL), `patchew.ciVariables`, the push options, then `extra`.
pub fn hub(
    repo: &Repo,
    settings: &Settings,
    tag: &str,
    push_options: &[String],
    extra: &[(String, String)],
) -> Result<Hub, CmdError> {
    let mut hub = Hub {
        tag: tag.to_owned(),
        project: settings.ci_project.clone().or_else(|| {
            repo.remote_url(&settings.remote)
                .and_then(|u| project_path(&u))
        }),
        own_include: settings.ci_include.clone(),
        ..Hub::default()
    };
    if let Some(text) = &settings.ci_variables {
        hub.variables = Hub::parse_assignments(text)
            .map_err(|e| CmdError::BadInput(format!("patchew.ciVariables: {e}")))?;
    }
    hub.add_push_options(push_options);
    hub.variables.extend(extra.iter().cloned());
    if let Some((_, t)) = hub
        .variables
        .iter()
        .rev()
        .find(|(n, _)| n == "CI_COMMIT_TAG")
    {
        hub.tag = t.clone();
    }
    Ok(hub)
}

/// `namespace/name` from `https://host/namespace/name.git`, `git@host:ns/name.git`...
pub fn project_path(url: &str) -> Option<String> {
    let path = match url.split_once("://") {
        Some((_, rest)) => rest.split_once('/')?.1,
        None => url.split_once(':')?.1,
    };
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    path.contains('/').then(|| path.to_owned())
}

pub fn predict(repo: &Repo, commit: Oid, hub: &Hub) -> Result<Prediction, CmdError> {
    let tree = repo.commit_tree(commit)?;
    pipeline::predict(&tree, hub).map_err(|e| CmdError::BadInput(e.to_string()))
}

/// What `apply` would warn about the tag pipeline of `commit` pushed as `tag` with
/// these options: empty when the report jobs will run. The one computation behind
/// `push`'s and the hook's warnings and the backstop's and `doctor`'s reasons.
pub fn verdict_warnings(
    repo: &Repo,
    settings: &Settings,
    tag: &str,
    commit: Oid,
    push_options: &[String],
) -> Result<Vec<String>, CmdError> {
    let hub = hub(repo, settings, tag, push_options, &[])?;
    Ok(predict(repo, commit, &hub)?.warnings())
}

/// For `git patchew push`: what the ci-hub will make of each tag pushed with these
/// options, when it is not "report jobs will run". A tag that cannot be read is
/// left to git and the hook.
pub fn push_warnings(repo: &Repo, tags: &[String], push_options: &[String]) -> Vec<String> {
    // A config error is reported by the push itself; no verdict then.
    let Ok(settings) = Settings::load(repo) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for tag in tags {
        let short = tag.strip_prefix("refs/tags/").unwrap_or(tag);
        let Some(commit) = repo.try_resolve_commit(&format!("refs/tags/{short}")) else {
            continue;
        };
        if let Ok(warnings) = verdict_warnings(repo, &settings, short, commit, push_options) {
            out.extend(warnings.into_iter().map(|w| format!("{short}: {w}")));
        }
    }
    out
}

/// A job of the series named like ours would replace our report job: refused, exit 2.
pub fn refuse_reserved(prediction: &Prediction) -> Result<(), CmdError> {
    match prediction.reserved_problem() {
        Some(problem) => Err(CmdError::BadInput(problem)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_paths_from_urls() {
        assert_eq!(
            project_path("https://u:p@gitlab.com/patchew/qemu.git").as_deref(),
            Some("patchew/qemu")
        );
        assert_eq!(
            project_path("git@gitlab.com:group/sub/qemu.git").as_deref(),
            Some("group/sub/qemu")
        );
        assert_eq!(project_path("/srv/hub.git"), None);
    }
}
