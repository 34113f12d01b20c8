//! The only place that runs git: network transport, which gix cannot do for us
//! (`git push`, so that git runs the pre-push hook, and `git fetch`).

use std::path::Path;
use std::process::{Command, Stdio};

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
    let out = cmd.output().map_err(TransportError::Spawn)?;
    let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
    output.push_str(&String::from_utf8_lossy(&out.stderr));
    Ok(GitRun {
        success: out.status.success(),
        code: out.status.code(),
        output,
    })
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
    run(dir, &args, &[(VERDICT_GIVEN, "1")], stream)
}

/// `git fetch <remote> <refspec>...`
pub fn fetch(
    dir: &Path,
    remote: &str,
    refspecs: &[String],
    stream: Stream,
) -> Result<GitRun, TransportError> {
    let mut args = vec![
        "fetch".to_owned(),
        "--quiet".to_owned(),
        "--".to_owned(),
        remote.to_owned(),
    ];
    args.extend(refspecs.iter().cloned());
    run(dir, &args, &[], stream)
}
