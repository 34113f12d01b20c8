//! `git patchew install-hook [--uninstall]`: put our pre-push hook in place without
//! losing one that is already there (it is kept and run after ours).

use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use super::hook::CHAINED;
use super::CmdError;
use crate::repo::Repo;

/// The script git runs; the same file as `hooks/pre-push` in the source tree.
pub const PRE_PUSH: &str = include_str!("../../hooks/pre-push");

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
    let path = path.display().to_string();
    move |e| CmdError::BadInput(format!("cannot {what} {path}: {e}"))
}

fn read_if_exists(path: &Path) -> Result<Option<String>, CmdError> {
    match fs::read(path) {
        Ok(b) => Ok(Some(String::from_utf8_lossy(&b).into_owned())),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(path, "read")(e)),
    }
}

pub fn install(repo: &Repo) -> Result<Outcome, CmdError> {
    let dir = repo.hooks_dir();
    fs::create_dir_all(&dir).map_err(io_err(&dir, "create"))?;
    let hook = dir.join("pre-push");
    let outcome = match read_if_exists(&hook)? {
        Some(existing) if existing == PRE_PUSH => return Ok(Outcome::AlreadyInstalled),
        Some(_) => {
            let chained = dir.join(CHAINED);
            if chained.exists() {
                return Err(CmdError::BadInput(format!(
                    "{} exists and differs from ours, and {} is taken: resolve by hand",
                    hook.display(),
                    chained.display()
                )));
            }
            fs::rename(&hook, &chained).map_err(io_err(&hook, "move"))?;
            Outcome::InstalledChaining
        }
        None => Outcome::Installed,
    };
    write_executable(&hook, PRE_PUSH)?;
    Ok(outcome)
}

pub fn uninstall(repo: &Repo) -> Result<Outcome, CmdError> {
    let dir = repo.hooks_dir();
    let hook = dir.join("pre-push");
    if read_if_exists(&hook)?.as_deref() != Some(PRE_PUSH) {
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

/// Writes through a temporary file and a rename, so git never runs half a hook.
fn write_executable(path: &Path, content: &str) -> Result<(), CmdError> {
    use std::os::unix::fs::PermissionsExt;
    let tmp = path.with_extension("patchew-tmp");
    fs::write(&tmp, content).map_err(io_err(&tmp, "write"))?;
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755)).map_err(io_err(&tmp, "chmod"))?;
    fs::rename(&tmp, path).map_err(io_err(path, "install"))
}
