//! `git patchew install-hook [--uninstall]`: put our pre-push hook in place without
//! losing one that is already there (it is kept and run after ours).

use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use super::pre_push::CHAINED;
use crate::error::CmdError;
use crate::repo::Repo;

/// The script git runs; the same file as `hooks/pre-push` in the source tree.
pub const PRE_PUSH: &str = include_str!("../../hooks/pre-push");

/// What every version of our hook runs: how an older copy of it is recognised, so
/// that it is replaced rather than chained (chaining ourselves would loop).
pub const MARKER: &str = "git patchew hook pre-push";

fn is_ours(script: &str) -> bool {
    script.contains(MARKER)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Installed,
    InstalledChaining,
    AlreadyInstalled,
    Uninstalled,
    Restored,
    NotInstalled,
}

fn io_err(path: &Path, what: &'static str) -> impl FnOnce(std::io::Error) -> CmdError {
    let path = path.to_owned();
    move |source| CmdError::Local {
        action: what,
        path,
        source,
    }
}

fn read_if_exists(path: &Path) -> Result<Option<String>, CmdError> {
    match fs::read(path) {
        Ok(b) => Ok(Some(String::from_utf8_lossy(&b).into_owned())),
        // A dangling symlink is still someone's hook: keep it, never clobber it.
        Err(e) if e.kind() == ErrorKind::NotFound && path.symlink_metadata().is_ok() => {
            Ok(Some(String::new()))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(path, "read")(e)),
    }
}

pub fn install(repo: &Repo) -> Result<Outcome, CmdError> {
    let dir = repo.hooks_dir()?;
    fs::create_dir_all(&dir).map_err(io_err(&dir, "create"))?;
    let hook = dir.join("pre-push");
    let outcome = match read_if_exists(&hook)? {
        Some(existing) if existing == PRE_PUSH => return Ok(Outcome::AlreadyInstalled),
        Some(existing) if is_ours(&existing) => Outcome::Installed,
        Some(_) => {
            let chained = dir.join(CHAINED);
            if chained.exists() {
                return Err(CmdError::BadInput(format!(
                    "{} exists and differs from ours, and {} is taken: resolve by hand",
                    hook.display(),
                    chained.display()
                )));
            }
            // Ours is written first, so that a failure never leaves no hook at all.
            let tmp = write_temporary(&hook, PRE_PUSH)?;
            fs::rename(&hook, &chained).map_err(io_err(&hook, "move"))?;
            fs::rename(&tmp, &hook).map_err(io_err(&hook, "install"))?;
            return Ok(Outcome::InstalledChaining);
        }
        None => Outcome::Installed,
    };
    let tmp = write_temporary(&hook, PRE_PUSH)?;
    fs::rename(&tmp, &hook).map_err(io_err(&hook, "install"))?;
    Ok(outcome)
}

pub fn uninstall(repo: &Repo) -> Result<Outcome, CmdError> {
    let dir = repo.hooks_dir()?;
    let hook = dir.join("pre-push");
    if !read_if_exists(&hook)?.as_deref().is_some_and(is_ours) {
        return Ok(Outcome::NotInstalled);
    }
    let chained = dir.join(CHAINED);
    if chained.exists() {
        fs::rename(&chained, &hook).map_err(io_err(&chained, "restore"))?;
        Ok(Outcome::Restored)
    } else {
        fs::remove_file(&hook).map_err(io_err(&hook, "remove"))?;
        Ok(Outcome::Uninstalled)
    }
}

/// An executable file beside `path`, to be renamed over it: git never runs half a
/// hook.
fn write_temporary(path: &Path, content: &str) -> Result<std::path::PathBuf, CmdError> {
    use std::os::unix::fs::PermissionsExt;
    let tmp = path.with_extension("patchew-tmp");
    fs::write(&tmp, content).map_err(io_err(&tmp, "write"))?;
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755)).map_err(io_err(&tmp, "chmod"))?;
    Ok(tmp)
}
