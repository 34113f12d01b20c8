//! Lock files a dead process left in a repository, and whether a live one holds them.
//!
//! git and gix lock a ref by creating `<ref>.lock` (and `packed-refs.lock` when the
//! packed refs change) and remove it when done; a process killed with SIGKILL (an
//! OOM kill, a node going down) leaves it, and every later ref update in the
//! repository fails. Only the applier, which nobody watches, removes such locks, and
//! only when the OS shows no live process working in the repository (Linux `/proc`:
//! none has its current directory in it or a file of it open); without `/proc`
//! nothing is removed.

use std::path::{Path, PathBuf};

/// The ref lock files under `common_dir`: `packed-refs.lock`, `HEAD.lock` and every
/// `*.lock` under `refs/`.
pub fn ref_locks(common_dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = ["packed-refs.lock", "HEAD.lock"]
        .iter()
        .map(|f| common_dir.join(f))
        .filter(|p| p.symlink_metadata().is_ok())
        .collect();
    let mut dirs = vec![common_dir.join("refs")];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => dirs.push(path),
                Ok(_) if path.extension().is_some_and(|e| e == "lock") => found.push(path),
                _ => {}
            }
        }
    }
    found.sort();
    found
}

/// Live processes other than `own_pid` whose current directory is inside `dir` or
/// that have a file inside it open; `None` when the OS cannot tell (no `/proc`).
pub fn processes_in(dir: &Path, own_pid: u32) -> Option<Vec<u32>> {
    let dir = dir.canonicalize().ok()?;
    let procs = std::fs::read_dir("/proc").ok()?;
    let mut pids = Vec::new();
    let mut saw_any = false;
    for entry in procs.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        saw_any = true;
        if pid == own_pid {
            continue;
        }
        let base = entry.path();
        let cwd_inside = std::fs::read_link(base.join("cwd")).is_ok_and(|c| c.starts_with(&dir));
        let fd_inside = || {
            std::fs::read_dir(base.join("fd")).is_ok_and(|fds| {
                fds.flatten()
                    .filter_map(|fd| std::fs::read_link(fd.path()).ok())
                    .any(|target| target.starts_with(&dir))
            })
        };
        if cwd_inside || fd_inside() {
            pids.push(pid);
        }
    }
    saw_any.then_some(pids)
}

/// What [`recover`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovery {
    pub removed: Vec<PathBuf>,
    /// The locks were left alone: these live processes work in the repository.
    pub held_by: Vec<u32>,
    /// The locks were left alone: the OS cannot say who works in the repository.
    pub unknown: bool,
}

/// Removes the ref locks of `common_dir` when no live process but us works in it.
pub fn recover(common_dir: &Path, own_pid: u32) -> Recovery {
    let locks = ref_locks(common_dir);
    if locks.is_empty() {
        return Recovery::default();
    }
    let Some(held_by) = processes_in(common_dir, own_pid) else {
        return Recovery {
            unknown: true,
            ..Recovery::default()
        };
    };
    if !held_by.is_empty() {
        return Recovery {
            held_by,
            ..Recovery::default()
        };
    }
    let removed = locks
        .into_iter()
        .filter(|l| std::fs::remove_file(l).is_ok())
        .collect();
    Recovery {
        removed,
        ..Recovery::default()
    }
}

/// Whether process `pid` is alive on this host (Linux `/proc`); `true` when the OS
/// cannot tell, so that nothing is taken from a process that may be running.
pub fn pid_alive(pid: u32) -> bool {
    if !Path::new("/proc/self").exists() {
        return true;
    }
    // A zombie (`Z`) has finished: it only waits for its parent to reap it.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_ref_locks_and_removes_them_when_nobody_works_there() {
        let dir = tempfile::TempDir::new().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("refs/tags/patchew")).unwrap();
        for f in [
            "packed-refs.lock",
            "refs/tags/patchew/x.lock",
            "refs/tags/patchew/y",
            "config.lock",
        ] {
            std::fs::write(root.join(f), "").unwrap();
        }
        assert_eq!(
            ref_locks(root),
            [
                root.join("packed-refs.lock"),
                root.join("refs/tags/patchew/x.lock")
            ]
        );
        // A live process working there holds them: nothing is removed.
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .current_dir(root)
            .spawn()
            .unwrap();
        let r = recover(root, std::process::id());
        assert_eq!(r.held_by, [child.id()]);
        assert!(r.removed.is_empty() && root.join("packed-refs.lock").exists());
        child.kill().unwrap();
        child.wait().unwrap();
        let r = recover(root, std::process::id());
        assert_eq!(r.removed.len(), 2, "{r:?}");
        assert!(ref_locks(root).is_empty());
        assert!(root.join("config.lock").exists());
    }

    #[test]
    fn tells_live_processes_from_dead_ones() {
        assert!(pid_alive(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!pid_alive(pid));
    }
}
