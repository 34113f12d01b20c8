//! The only place that runs git: network transport, which gix cannot do for us
//! (`git push`, so that git runs the pre-push hook, and `git fetch`).

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot run git: {0}")]
    Spawn(#[source] std::io::Error),
}

/// What git said and how it ended.
#[derive(Debug, Clone)]
pub struct GitRun {
    pub success: bool,
    pub code: Option<i32>,
    pub output: String,
}

impl GitRun {
    /// git's own exit code, passed through (1 when a signal ended it), as a git
    /// user expects from a push.
    pub fn exit_code(&self) -> i32 {
        self.code.unwrap_or(1).clamp(0, 255)
    }

    /// The line of a failed run's output that says why: git's `fatal:`, a refused
    /// ref (` ! [rejected] ... (reason)`), else its last `error:` line or last line
    /// ("error: failed to push some refs" alone says nothing). Captured runs only.
    pub fn failure_reason(&self) -> Option<&str> {
        let lines = || {
            self.output
                .lines()
                .map(str::trim_end)
                .filter(|l| !l.is_empty())
        };
        lines()
            .find(|l| l.starts_with("fatal: "))
            .or_else(|| lines().find(|l| l.starts_with(" ! ")))
            .or_else(|| lines().rev().find(|l| l.starts_with("error: ")))
            .or_else(|| lines().next_back())
            .map(str::trim)
    }
}

/// How git's own output reaches the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Passed straight through to our stdout/stderr (a person is watching).
    Inherit,
    /// Captured for a log (the unattended applier).
    Capture,
}

/// Runs git in `dir` (the work tree, or the git dir of a bare repository) as a user's
/// shell would: git then finds the repository, and resolves a relative
/// `core.hooksPath`, exactly as it does for them.
fn run(
    dir: &Path,
    args: &[String],
    envs: &[(&str, &str)],
    stream: Stream,
    deadline: Option<Instant>,
) -> Result<GitRun, TransportError> {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir).stdin(Stdio::null());
    cmd.envs(envs.iter().copied());
    // main() took the proxy variables out of our environment (so that minreq does
    // not act on them behind our back); git must still see them as the user set them.
    crate::proxy_env::give_back(&mut cmd);
    if stream == Stream::Capture {
        // Unattended: a credential prompt would wait for ever, and so would a stalled
        // HTTP transfer without a speed floor.
        cmd.env("GIT_TERMINAL_PROMPT", "0").args([
            "-c",
            "http.lowSpeedLimit=1000",
            "-c",
            "http.lowSpeedTime=60",
        ]);
    }
    cmd.args(args);
    if stream == Stream::Inherit {
        let status = cmd.status().map_err(TransportError::Spawn)?;
        return Ok(GitRun {
            success: status.success(),
            code: status.code(),
            output: String::new(),
        });
    }
    if let Some(deadline) = deadline {
        return run_until(cmd, &args[0], deadline);
    }
    let out = cmd.output().map_err(TransportError::Spawn)?;
    let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
    output.push_str(&String::from_utf8_lossy(&out.stderr));
    Ok(GitRun {
        success: out.status.success(),
        code: out.status.code(),
        output,
    })
}

/// Runs captured git, killing it (and whatever it started: ssh, remote helpers,
/// hooks) once `deadline` passes; the log then says so.
fn run_until(mut cmd: Command, verb: &str, deadline: Instant) -> Result<GitRun, TransportError> {
    use std::os::unix::process::CommandExt;
    // Its own process group, so that one kill reaches git's children too: they hold
    // the output pipes open, and a hung `ssh` or hook is what a deadline is for.
    cmd.process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(TransportError::Spawn)?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = wait_until(&mut child, deadline).map_err(TransportError::Spawn)?;
    let mut output = String::from_utf8_lossy(&collect(stdout)).into_owned();
    output.push_str(&String::from_utf8_lossy(&collect(stderr)));
    let status = match status {
        Ended::Exited(status) => status,
        Ended::Killed(why) => {
            output.push_str(&format!("git-patchew: git {verb} was killed: {why}\n"));
            return Ok(GitRun {
                success: false,
                code: None,
                output,
            });
        }
    };
    Ok(GitRun {
        success: status.success(),
        code: status.code(),
        output,
    })
}

/// How a child run with a deadline ended.
enum Ended {
    Exited(ExitStatus),
    /// We killed it, for this reason.
    Killed(&'static str),
}

/// Waits for the child, killing it at `deadline` or on a termination signal (in its
/// own process group, git does not get the terminal's).
fn wait_until(child: &mut Child, deadline: Instant) -> std::io::Result<Ended> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Ended::Exited(status));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let why = if left.is_zero() {
            Some("still running at the deadline")
        } else if crate::interrupt::interrupted() {
            Some("a signal asked us to stop")
        } else {
            None
        };
        if let Some(why) = why {
            kill_group(child);
            child.wait()?;
            return Ok(Ended::Killed(why));
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

/// Kills `child` and everything it started: it must lead its own process group
/// (`process_group(0)`). Also for the applier's maintainers command, whose `sh`
/// would otherwise leave its children running.
pub fn kill_group(child: &mut Child) {
    match i32::try_from(child.id()) {
        // The group's id is the child's pid (process_group(0)); a negative pid
        // signals the whole group.
        Ok(pid) => {
            // SAFETY: kill(2) takes plain integers and touches no memory of ours.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
        Err(_) => {
            let _ = child.kill();
        }
    }
}

type Drain = Option<std::thread::JoinHandle<Vec<u8>>>;

/// Reads a pipe to its end on a thread, so that a chatty git never blocks on a full
/// pipe while we wait for it.
fn drain(pipe: Option<impl Read + Send + 'static>) -> Drain {
    pipe.map(|mut p| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = p.read_to_end(&mut bytes);
            bytes
        })
    })
}

fn collect(drain: Drain) -> Vec<u8> {
    drain.and_then(|h| h.join().ok()).unwrap_or_default()
}

/// Set for the pre-push hook when git-patchew runs the push: it has then given the
/// tag pipeline verdict itself, with the push options the hook cannot see.
pub const VERDICT_GIVEN: &str = "GIT_PATCHEW_VERDICT_GIVEN";

/// `git push [--force] [-o OPT]... <remote> <refspec>...`
pub fn push(
    dir: &Path,
    remote: &str,
    refspecs: &[String],
    push_options: &[String],
    force: bool,
    stream: Stream,
) -> Result<GitRun, TransportError> {
    let args = push_args(remote, refspecs, push_options, force);
    run(dir, &args, &[(VERDICT_GIVEN, "1")], stream, None)
}

fn push_args(
    remote: &str,
    refspecs: &[String],
    push_options: &[String],
    force: bool,
) -> Vec<String> {
    let mut args = vec!["push".to_owned()];
    if force {
        args.push("--force".into());
    }
    for o in push_options {
        args.push("-o".into());
        args.push(o.clone());
    }
    // Remotes may come from the Patchew server: "--" keeps one from being an option.
    args.push("--".into());
    args.push(remote.to_owned());
    args.extend(refspecs.iter().cloned());
    args
}

/// [`push`], captured, killed when `deadline` passes (the unattended applier).
pub fn push_until(
    dir: &Path,
    remote: &str,
    refspecs: &[String],
    push_options: &[String],
    force: bool,
    deadline: Instant,
) -> Result<GitRun, TransportError> {
    let args = push_args(remote, refspecs, push_options, force);
    run(
        dir,
        &args,
        &[(VERDICT_GIVEN, "1")],
        Stream::Capture,
        Some(deadline),
    )
}

/// `git push --porcelain <remote> :<ref>...`: deletes `refs` on `remote`, captured
/// (the porcelain lines say ref by ref what the remote did), killed when `deadline`
/// passes. git runs the pre-push hook, which lets deletions through.
pub fn delete_remote_refs(
    dir: &Path,
    remote: &str,
    refs: &[String],
    deadline: Option<Instant>,
) -> Result<GitRun, TransportError> {
    let mut args = vec!["push".to_owned(), "--porcelain".to_owned(), "--".to_owned()];
    args.push(remote.to_owned());
    args.extend(refs.iter().map(|r| format!(":{r}")));
    run(dir, &args, &[], Stream::Capture, deadline)
}

/// `git fetch <remote> <refspec>...`
pub fn fetch(
    dir: &Path,
    remote: &str,
    refspecs: &[String],
    stream: Stream,
) -> Result<GitRun, TransportError> {
    run(dir, &fetch_args(remote, refspecs), &[], stream, None)
}

/// [`fetch`], captured, killed when `deadline` passes (the unattended applier).
pub fn fetch_until(
    dir: &Path,
    remote: &str,
    refspecs: &[String],
    deadline: Instant,
) -> Result<GitRun, TransportError> {
    let args = fetch_args(remote, refspecs);
    run(dir, &args, &[], Stream::Capture, Some(deadline))
}

fn fetch_args(remote: &str, refspecs: &[String]) -> Vec<String> {
    let mut args = vec![
        "fetch".to_owned(),
        "--quiet".to_owned(),
        "--".to_owned(),
        remote.to_owned(),
    ];
    args.extend(refspecs.iter().cloned());
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(output: &str) -> GitRun {
        GitRun {
            success: false,
            code: Some(1),
            output: output.to_owned(),
        }
    }

    #[test]
    fn a_failed_run_names_the_line_that_says_why() {
        let rejected = "To /hub.git\n ! [rejected]        t -> t (already exists)\nerror: failed to push some refs to '/hub.git'\nhint: x\n";
        assert_eq!(
            run(rejected).failure_reason(),
            Some("! [rejected]        t -> t (already exists)")
        );
        let fatal = "error: first\nfatal: could not read from remote repository\n";
        assert_eq!(
            run(fatal).failure_reason(),
            Some("fatal: could not read from remote repository")
        );
        assert_eq!(
            run("error: a\nerror: b\nhint: c\n").failure_reason(),
            Some("error: b")
        );
        assert_eq!(run("something\n\n").failure_reason(), Some("something"));
        assert_eq!(run("").failure_reason(), None);
    }
}
