//! The series' maintainers, as Patchew's old applier found them with the project's
//! `scripts/get_maintainer.pl`: here any configured command, fed the mbox on stdin,
//! run in a scratch directory holding only the files it needs (no checkout: the
//! applier's repository is bare, and a full tree costs what `git am` cost).

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bstr::{BStr, BString, ByteSlice};

use crate::apply::patch;
use crate::input::mail;
use crate::input::mbox;
use crate::input::msgid::MessageId;
use crate::input::series;
use crate::repo::{Entry, Oid, Repo};

/// get_maintainer.pl takes seconds; a command that takes this long is stuck.
const TIMEOUT: Duration = Duration::from_secs(300);

/// The file get_maintainer.pl and its kin read the maintainers from.
const MAINTAINERS: &str = "MAINTAINERS";

/// Runs `command` on the series and returns its `Name <address>` lines.
///
/// The command's own files (words of the command naming a file of the tree) are
/// taken from `base`, not from the applied `head`: a posted series must not be able
/// to change the code that is run on it. The files the series touches and
/// `MAINTAINERS` come from `head`, so that a series adding a file and its
/// `MAINTAINERS` entry is attributed as the project would after merging it.
pub fn find(
    repo: &Repo,
    base: Oid,
    head: Oid,
    mbox: &[u8],
    wanted: Option<MessageId>,
    command: &str,
) -> Result<Vec<String>, MaintainersError> {
    let scratch = Scratch::new().map_err(MaintainersError::Scratch)?;
    let mut data: BTreeSet<BString> = touched_paths(mbox, wanted)?;
    data.insert(MAINTAINERS.into());
    let base_tree = tree_of(repo, base)?;
    let code = command_files(command);
    for word in &code {
        let in_base = matches!(repo.entry(base_tree, word.as_bstr()), Ok(Some(_)));
        if !in_base && data.contains(word) {
            return Err(MaintainersError::AddsCode(word.clone()));
        }
        copy_out(repo, base_tree, word.as_bstr(), &scratch.0)?;
    }
    // Nothing the series wrote may sit next to the command's own files, where an
    // interpreter would load it as a module.
    data.retain(|path| !code.iter().any(|word| beside(path, word)));
    let head_tree = tree_of(repo, head)?;
    for path in &data {
        copy_out(repo, head_tree, path.as_bstr(), &scratch.0)?;
    }
    let stdout = run(command, &scratch.0, mbox)?;
    Ok(parse_output(&stdout))
}

/// Why the maintainers of a series could not be asked; the series is reported all the
/// same, without them.
#[derive(Debug, thiserror::Error)]
pub enum MaintainersError {
    #[error("cannot make a scratch directory: {0}")]
    Scratch(std::io::Error),
    #[error("the series adds {0}, which the maintainers command would run: not running it")]
    AddsCode(BString),
    #[error("mbox: {0}")]
    Mbox(#[from] mbox::MboxError),
    #[error(transparent)]
    Mail(#[from] mail::MailError),
    #[error(transparent)]
    Series(#[from] series::SeriesError),
    #[error(transparent)]
    Patch(#[from] patch::ParseError),
    #[error(transparent)]
    Repo(#[from] crate::repo::RepoError),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot run sh: {0}")]
    Spawn(std::io::Error),
    #[error("still running after {} s: killed", .0.as_secs())]
    Timeout(Duration),
    #[error("{status}{}{stderr}", if stderr.is_empty() { "" } else { ": " })]
    Failed {
        status: std::process::ExitStatus,
        stderr: String,
    },
}

/// The words of the command that name a file of the tree: the code it runs.
fn command_files(command: &str) -> Vec<BString> {
    command
        .split_whitespace()
        .filter(|w| !w.starts_with('-'))
        .filter(|w| safe_relative(w.as_bytes().as_bstr()).is_some())
        .map(BString::from)
        .collect()
}

/// Whether `path` is `code` itself, or in the same (non-root) directory or below it.
fn beside(path: &BString, code: &BString) -> bool {
    if path == code {
        return true;
    }
    match code.rfind_byte(b'/') {
        Some(slash) => path.starts_with(&code[..=slash]),
        None => false,
    }
}

/// `Name <address>` lines; anything else (bare list addresses, blank lines) is left
/// out as patchew-cli did, and role statistics after the address are cut.
pub fn parse_output(stdout: &str) -> Vec<String> {
    let mut seen = BTreeSet::new();
    stdout
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let open = line.find('<')?;
            let close = open + line[open..].find('>')?;
            Some(line[..=close].trim().to_owned())
        })
        .filter(|l| seen.insert(l.clone()))
        .collect()
}

fn touched_paths(
    mbox: &[u8],
    wanted: Option<MessageId>,
) -> Result<BTreeSet<BString>, MaintainersError> {
    let raw = mbox::split(mbox)?;
    let mails = raw
        .iter()
        .map(|m| mail::parse(m))
        .collect::<Result<Vec<_>, _>>()?;
    let series = series::assemble(
        &mails,
        &series::Options {
            wanted,
            ..series::Options::default()
        },
    )?;
    let mut paths = BTreeSet::new();
    for p in &series.patches {
        for file in patch::parse(&p.info.patch)? {
            paths.extend(file.old_path.into_iter().chain(file.new_path));
        }
    }
    Ok(paths)
}

fn tree_of(repo: &Repo, commit: Oid) -> Result<Oid, MaintainersError> {
    Ok(repo.commit_info(commit)?.tree)
}

/// Writes the blob at `path` of `tree` below `dir`, if there is one (a deleted file,
/// a directory, a symlink or a word that is no path are skipped).
fn copy_out(repo: &Repo, tree: Oid, path: &BStr, dir: &Path) -> Result<(), MaintainersError> {
    let Some(relative) = safe_relative(path) else {
        return Ok(());
    };
    let Ok(Some(Entry { mode, oid })) = repo.entry(tree, path) else {
        return Ok(());
    };
    let executable = match mode {
        patch::FileMode::Regular => false,
        patch::FileMode::Executable => true,
        _ => return Ok(()),
    };
    let target = dir.join(relative);
    let bytes = repo.read_blob(oid)?;
    let write = || -> std::io::Result<()> {
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, &bytes)?;
        #[cfg(unix)]
        if executable {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755))?;
        }
        Ok(())
    };
    write().map_err(|source| MaintainersError::Write {
        path: target.clone(),
        source,
    })
}

/// Only plain relative paths: tree paths are already checked when written, but
/// command words are anybody's.
fn safe_relative(path: &BStr) -> Option<PathBuf> {
    let os = path.to_os_str().ok()?;
    let p = Path::new(os);
    (!path.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_))))
        .then(|| p.to_path_buf())
}

fn run(command: &str, dir: &Path, stdin: &[u8]) -> Result<String, MaintainersError> {
    run_within(command, dir, stdin, TIMEOUT)
}

fn run_within(
    command: &str,
    dir: &Path,
    stdin: &[u8],
    timeout: Duration,
) -> Result<String, MaintainersError> {
    use std::os::unix::process::CommandExt;
    let mut sh = Command::new("sh");
    // The user's command (a script that may fetch over HTTP) gets the proxy variables
    // that our main() took out of the environment.
    crate::proxy_env::give_back(&mut sh);
    // Its own process group, so that the kill at the timeout reaches what `sh` started
    // (perl, its children), which would otherwise outlive it.
    sh.process_group(0);
    let mut child = sh
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(MaintainersError::Spawn)?;
    let mut input = child.stdin.take().expect("piped");
    let bytes = stdin.to_vec();
    // A command that does not read its input must not make us block on the pipe.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&bytes);
    });
    let readers = [
        child.stdout.take().map(drain),
        child.stderr.take().map(drain),
    ];
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait().map_err(MaintainersError::Spawn)? {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                crate::transport::kill_group(&mut child);
                let _ = child.wait();
                return Err(MaintainersError::Timeout(timeout));
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let _ = writer.join();
    let [out, err] = readers.map(|r| r.and_then(|h| h.join().ok()).unwrap_or_default());
    if !status.success() {
        return Err(MaintainersError::Failed {
            status,
            stderr: err.trim().to_owned(),
        });
    }
    Ok(out)
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// A directory of our own under the system's temporary directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> std::io::Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "git-patchew-maintainers-{}-{nanos:x}",
            std::process::id()
        ));
        // create_dir, not create_dir_all: never reuse a directory someone prepared.
        std::fs::create_dir(&dir)?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_keeps_named_addresses_once() {
        let out = "Alice A <a@x.org> (maintainer:Block)\nqemu-devel@nongnu.org (open list:All)\n\n  Bob <b@x.org>\nAlice A <a@x.org>\n";
        assert_eq!(parse_output(out), ["Alice A <a@x.org>", "Bob <b@x.org>"]);
    }

    /// Whether `pid` still runs: a zombie (dead, waiting for a parent that may
    /// never reap it in a container) counts as gone.
    fn running(pid: i32) -> bool {
        // SAFETY: kill(2) with signal 0 only checks; plain integers.
        let exists = unsafe { libc::kill(pid, 0) } == 0;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat.rsplit_once(") ").map(|(_, rest)| rest.chars().next());
        exists && state != Some(Some('Z'))
    }

    #[test]
    fn a_timed_out_command_is_killed_with_what_it_started() {
        let scratch = Scratch::new().unwrap();
        let pid_file = scratch.0.join("grandchild.pid");
        // sh starts a grandchild of ours and waits for it.
        let command = format!("sleep 600 & echo $! > '{}'; wait", pid_file.display());
        let err = run_within(&command, &scratch.0, b"", Duration::from_secs(2)).unwrap_err();
        assert!(matches!(err, MaintainersError::Timeout(_)), "{err}");
        assert!(err.to_string().contains("killed"), "{err}");
        let pid: i32 = std::fs::read_to_string(&pid_file)
            .expect("the command started its sleep within 2 s")
            .trim()
            .parse()
            .unwrap();
        // SIGKILL is delivered at once; give the kernel a bounded moment to finish.
        let gone = (0..200).any(|_| {
            let gone = !running(pid);
            if !gone {
                std::thread::sleep(Duration::from_millis(25));
            }
            gone
        });
        if !gone {
            // SAFETY: as above; do not leave it behind.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        assert!(gone, "the grandchild {pid} outlived the timeout");
    }

    #[test]
    fn only_plain_relative_paths_leave_the_tree() {
        for ok in ["MAINTAINERS", "scripts/get_maintainer.pl"] {
            assert!(safe_relative(ok.as_bytes().as_bstr()).is_some(), "{ok}");
        }
        for bad in ["", "/etc/passwd", "../x", "a/../../x", "./x"] {
            assert!(safe_relative(bad.as_bytes().as_bstr()).is_none(), "{bad}");
        }
    }
}
