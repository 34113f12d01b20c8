//! `git patchew prune [--dry-run]`: deletes expired series tags on the ci-hub and in
//! the mirror (see `flow::prune`).

use std::time::Instant;

use crate::config::Settings;
use crate::error::CmdError;
use crate::flow::prune::{hub, keep, plan, queue_reader, say_kept, trim_ledger, warnings, Outcome};
use crate::output::Output;
use crate::publish::prune;
use crate::repo::Repo;

#[derive(Debug, clap::Args)]
pub struct Cli {
    /// Only say which tags would be deleted
    #[arg(long)]
    pub dry_run: bool,
    /// Only series whose project pushes to a URL starting with this (for the queue)
    #[arg(long, value_name = "PREFIX")]
    pub target_repo: Option<String>,
}

/// Runs the subcommand; returns the exit code (0, or 1 when a deletion was refused).
pub fn cli(repo: &Repo, cli: Cli, out: &Output) -> Result<i32, CmdError> {
    let settings = Settings::load(repo)?;
    let patchew = queue_reader(&settings)?;
    let hub = hub(repo, &settings)?;
    if !cli.dry_run && !settings.tag_expiry.is_zero() {
        trim_ledger(repo, &settings, &[], out);
    }
    let keep = keep(repo, &settings, &patchew, cli.target_repo.as_deref())?;
    let plan = plan(repo, &settings, &keep)?;
    if cli.dry_run {
        for tag in &plan.delete {
            crate::outln!("would delete {}", tag.name);
        }
        say_kept(&plan, out);
        return Ok(0);
    }
    let started = Instant::now();
    let pruned = prune::execute(repo, repo.top_dir(), &hub, &plan, None, None)
        .map_err(|e| CmdError::Network(e.to_string()))?;
    for tag in &pruned.deleted {
        crate::outln!("deleted {tag}");
    }
    trim_ledger(repo, &settings, &pruned.deleted, out);
    say_kept(&plan, out);
    let outcome = Outcome { plan, pruned };
    for w in warnings(&outcome) {
        out.warn(&w);
    }
    out.info(&format!(
        "pruned {} tags in {:.1} s",
        outcome.pruned.deleted.len(),
        started.elapsed().as_secs_f64()
    ));
    let refused = !outcome.pruned.refused.is_empty() || !outcome.pruned.mirror_errors.is_empty();
    Ok(if refused { 1 } else { 0 })
}
