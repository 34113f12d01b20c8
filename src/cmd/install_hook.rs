//! `git patchew install-hook [--uninstall]`.

use crate::error::CmdError;
use crate::output::Output;
use crate::publish::install::{install, uninstall, Outcome};
use crate::publish::pre_push::CHAINED;
use crate::repo::Repo;

/// `git patchew install-hook`'s command line.
#[derive(Debug, clap::Args)]
pub struct Cli {
    /// Remove our hook and restore the one it replaced
    #[arg(long)]
    uninstall: bool,
}

/// The subcommand: installs or uninstalls, and says what it did.
pub fn cli(repo: &Repo, cli: Cli, out: &Output) -> Result<(), CmdError> {
    let outcome = if cli.uninstall {
        uninstall(repo)?
    } else {
        install(repo)?
    };
    let dir = repo.hooks_dir()?;
    let hook = dir.join("pre-push");
    let chained = dir.join(CHAINED);
    out.info(&match outcome {
        Outcome::Installed => format!("installed {}", hook.display()),
        Outcome::InstalledChaining => format!(
            "installed {}; the previous hook, now {}, runs after it",
            hook.display(),
            chained.display()
        ),
        Outcome::AlreadyInstalled => format!("{} is already installed", hook.display()),
        Outcome::Uninstalled => format!("removed {}", hook.display()),
        Outcome::Restored => format!("restored the previous {}", hook.display()),
        Outcome::NotInstalled => format!("{} is not ours: left alone", hook.display()),
    });
    Ok(())
}
