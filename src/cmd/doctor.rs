//! `git patchew doctor`: checks every link of the chain, one line per check, what is
//! wrong and how to fix it. Exit 0 when nothing failed (a check that could not be
//! made says so and does not fail), 1 otherwise.

use crate::error::CmdError;
use crate::flow::doctor::{checks, Check, Status};
use crate::output::printable;
use crate::repo::Repo;

#[derive(Debug, Clone, clap::Args)]
pub struct Cli {
    /// Print the checks as a JSON list, for scripts
    #[arg(long)]
    pub json: bool,
}

/// Runs every check, prints them, returns the exit code.
pub fn run(repo: &Repo, args: &Cli) -> Result<i32, CmdError> {
    let checks = checks(repo);
    if args.json {
        let text = serde_json::to_string_pretty(&checks).expect("plain data serialises");
        crate::outln!("{text}");
    } else {
        for c in &checks {
            crate::outln!("{}", printable(&line(c)));
        }
    }
    Ok(i32::from(checks.iter().any(|c| c.status == Status::Fail)))
}

fn line(c: &Check) -> String {
    let word = match c.status {
        Status::Ok => "ok  ",
        Status::Fail => "FAIL",
        Status::Skip => "skip",
    };
    match &c.fix {
        Some(fix) => format!("{word} {}: {} -- fix: {fix}", c.check, c.message),
        None => format!("{word} {}: {}", c.check, c.message),
    }
}
