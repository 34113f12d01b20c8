//! `git patchew doctor`: checks every link of the chain, one line per check, what is
//! wrong and how to fix it. Exit 0 when nothing failed (a check that could not be
//! made says so and does not fail), 1 otherwise.

use crate::error::CmdError;
use crate::flow::doctor::{checks, Check, Status};
use crate::flow::doctor_fix::{self, FixArgs};
use crate::output::printable;
use crate::repo::Repo;

#[derive(Debug, Clone, clap::Args)]
pub struct Cli {
    /// Print the checks as a JSON list, for scripts
    #[arg(long)]
    pub json: bool,
    /// Set up the Patchew side with a maintainer's token: enable the gitlab test and
    /// install the mail notification (contrib/notification/), keeping all else
    #[arg(long)]
    pub fix: bool,
    /// With --fix: only print what would change
    #[arg(long, requires = "fix")]
    pub dry_run: bool,
    /// With --fix: where mails about infrastructure failures go (default: git config
    /// patchew.adminEmail; unset: nobody, never the author)
    #[arg(long, value_name = "ADDRESS", requires = "fix")]
    pub admin_email: Option<String>,
    /// With --fix: mail successes too (default: git config patchew.mailSuccess)
    #[arg(long, requires = "fix")]
    pub mail_success: bool,
}

/// Runs every check, prints them, returns the exit code.
pub fn run(repo: &Repo, args: &Cli) -> Result<i32, CmdError> {
    if args.fix {
        let fix = FixArgs {
            dry_run: args.dry_run,
            admin_email: args.admin_email.clone(),
            mail_success: args.mail_success,
        };
        return doctor_fix::run(repo, &fix);
    }
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
