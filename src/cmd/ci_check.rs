//! `git patchew ci-check [REV]`: the tag pipeline GitLab would run for REV on the
//! ci-hub, without applying anything.

use crate::ci::pipeline::{self, Verdict};
use crate::ci::verdict::{hub, predict_with, refuse_reserved};
use crate::config::Settings;
use crate::error::CmdError;
use crate::exit;
use crate::flow::includes::include_fetcher;
use crate::output::{printable, Output};
use crate::repo::Repo;

#[derive(Debug, Clone, clap::Args)]
#[command(
    after_help = "Exit codes:\n  0  the report jobs will run\n  1  no pipeline, or blocked before the report\n  2  bad input or usage\n  3  unknown (the reasons say why)"
)]
pub struct Cli {
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

fn parse_variable(word: &str) -> Result<(String, String), pipeline::AssignmentError> {
    pipeline::parse_assignment(word)
}

/// Prints the jobs and the verdict; the exit code is 0 when the report jobs will
/// run, 1 when there is no pipeline or it is blocked, 3 when we cannot tell.
pub fn run(repo: &Repo, args: &Cli, out: &Output) -> Result<i32, CmdError> {
    let settings = Settings::load(repo)?;
    let commit = repo.resolve_commit(&args.rev).map_err(CmdError::Revision)?;
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
    let fetcher = include_fetcher(&settings);
    let prediction = predict_with(repo, commit, &hub, Some(&fetcher))?;
    refuse_reserved(&prediction)?;
    let pipeline = &prediction.pipeline;
    if args.json {
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(pipeline).expect("pipeline serialises")
        );
    } else {
        print_table(pipeline);
        crate::outln!("{}", printable(&pipeline.summary()));
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
            printable(&j.name),
            printable(&j.stage),
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
