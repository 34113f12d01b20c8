//! `git patchew report`: PUT a testing result for a series, for scripts and for CI
//! jobs that have the binary.

use crate::error::CmdError;
use crate::flow::report::{run, Args};
use crate::repo::Repo;
use crate::report::patchew::Status;

/// `git patchew report`'s command line.
#[derive(Debug, clap::Args)]
pub struct Cli {
    /// Message-id of the series
    msgid: String,
    #[arg(long, value_enum)]
    status: CliStatus,
    /// Read the log from FILE ('-' for standard input)
    #[arg(long, value_name = "FILE")]
    log: Option<std::path::PathBuf>,
    /// Result name: testing.<NAME>
    #[arg(long, default_value = "gitlab")]
    name: String,
    /// Commit tested (default: the series' tag, else HEAD)
    #[arg(long, value_name = "SHA")]
    head: Option<String>,
    /// Patchew project number (default: git config patchew.projectId)
    #[arg(long, value_name = "N")]
    project_id: Option<u64>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum CliStatus {
    Success,
    Failure,
    Running,
    Pending,
}

/// The subcommand: reads the log, then [`run`].
pub fn cli(repo: &Repo, cli: Cli) -> Result<(), CmdError> {
    let log = match &cli.log {
        None => String::new(),
        Some(p) if p.as_os_str() == "-" => {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map_err(|source| {
                CmdError::Read {
                    what: "the log from standard input".into(),
                    source,
                }
            })?;
            s
        }
        Some(p) => std::fs::read_to_string(p).map_err(|source| CmdError::Read {
            what: p.display().to_string(),
            source,
        })?,
    };
    let args = Args {
        msgid: cli.msgid,
        status: match cli.status {
            CliStatus::Success => Status::Success,
            CliStatus::Failure => Status::Failure,
            CliStatus::Running => Status::Running,
            CliStatus::Pending => Status::Pending,
        },
        log,
        name: cli.name,
        head: cli.head,
        project_id: cli.project_id,
    };
    run(repo, &args)
}
