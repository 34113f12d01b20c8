//! Real repositories built with the git CLI, the oracle of these tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

/// A fixed identity and clock, so that git and git-patchew write identical commits.
pub const ENV: &[(&str, &str)] = &[
    ("GIT_CONFIG_NOSYSTEM", "1"),
    ("GIT_AUTHOR_NAME", "A U Thor"),
    ("GIT_AUTHOR_EMAIL", "author@example.com"),
    ("GIT_AUTHOR_DATE", "1700000000 +0100"),
    ("GIT_COMMITTER_NAME", "C O Mitter"),
    ("GIT_COMMITTER_EMAIL", "committer@example.com"),
    ("GIT_COMMITTER_DATE", "1700000500 +0000"),
    ("LC_ALL", "C"),
    ("TZ", "UTC"),
];

/// A scratch directory holding a repository (and a private HOME).
pub struct TestRepo {
    _dir: TempDir,
    pub path: PathBuf,
    home: PathBuf,
}

impl TestRepo {
    pub fn new() -> Self {
        Self::init(&[])
    }

    pub fn bare() -> Self {
        Self::init(&["--bare"])
    }

    fn init(extra: &[&str]) -> Self {
        let dir = TempDir::new().expect("temp dir");
        let path = dir.path().join("repo");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let repo = TestRepo {
            _dir: dir,
            path,
            home,
        };
        let mut args = vec!["init", "-q", "-b", "main"];
        args.extend_from_slice(extra);
        args.push(repo.path.to_str().unwrap());
        repo.run_in(repo.path.parent().unwrap(), &args);
        repo
    }

    /// A second repository in the same scratch dir, cloned from this one.
    pub fn clone_to(&self, name: &str, extra: &[&str]) -> PathBuf {
        let dest = self.path.parent().unwrap().join(name);
        let mut args = vec!["clone", "-q"];
        args.extend_from_slice(extra);
        args.push(self.path.to_str().unwrap());
        args.push(dest.to_str().unwrap());
        self.run_in(self.path.parent().unwrap(), &args);
        dest
    }

    pub fn scratch(&self, name: &str) -> PathBuf {
        self.path.parent().unwrap().join(name)
    }

    pub fn command(&self, program: &str, dir: &Path) -> Command {
        let mut c = Command::new(program);
        c.current_dir(dir)
            .env("HOME", &self.home)
            .envs(ENV.iter().copied());
        // A developer's proxy must not carry the loopback stand-ins' traffic (git and
        // git-patchew both honour these); tests/proxy.rs sets them where it means to.
        for name in git_patchew::proxy_env::NAMES {
            c.env_remove(name);
        }
        c
    }

    fn run_in(&self, dir: &Path, args: &[&str]) -> Vec<u8> {
        let out = self
            .command("git", dir)
            .args(args)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Runs git in `dir`, asserting success; returns stdout.
    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        String::from_utf8(self.run_in(dir, args))
            .expect("utf-8 output")
            .trim_end()
            .to_owned()
    }

    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.path, args)
    }

    pub fn git_bytes(&self, args: &[&str]) -> Vec<u8> {
        self.run_in(&self.path, args)
    }

    /// Runs git in `dir` with `input` on stdin; returns the whole output.
    pub fn git_with_input(&self, dir: &Path, args: &[&str], input: &[u8]) -> Output {
        let mut child = self
            .command("git", dir)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("git runs");
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), input).unwrap();
        child.wait_with_output().unwrap()
    }

    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) {
        let p = self.path.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    pub fn remove(&self, rel: &str) {
        std::fs::remove_file(self.path.join(rel)).unwrap();
    }

    /// Stages everything and commits; returns the new commit id.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// `git patchew ARGS` run in `dir`.
    pub fn patchew(&self, dir: &Path, args: &[&str]) -> Output {
        self.command(env!("CARGO_BIN_EXE_git-patchew"), dir)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("git-patchew runs")
    }

    /// `git patchew ARGS` in the repository with git-patchew on PATH, as the installed
    /// pre-push hook script needs.
    pub fn patchew_on_path(&self, args: &[&str]) -> Output {
        self.command(env!("CARGO_BIN_EXE_git-patchew"), &self.path)
            .env("PATH", path_with_binary())
            .args(args)
            .output()
            .unwrap()
    }

    /// `git push ARGS` in the repository, git-patchew on PATH for the hook.
    pub fn git_push(&self, args: &[&str]) -> Output {
        self.command("git", &self.path)
            .env("PATH", path_with_binary())
            .arg("push")
            .args(args)
            .output()
            .unwrap()
    }

    /// Whether the repository at `dir` has `refname`.
    pub fn has_ref(&self, dir: &Path, refname: &str) -> bool {
        self.command("git", dir)
            .args(["rev-parse", "-q", "--verify", refname])
            .output()
            .unwrap()
            .status
            .success()
    }

    /// A repository at its base commit, the mail (git format-patch) of a second commit
    /// that was dropped again, and that mail's message-id without brackets.
    pub fn with_dropped_commit() -> (Self, String, String) {
        let r = Self::new();
        r.write("f.txt", "one\n");
        let base = r.commit("base");
        r.write("f.txt", "two\n");
        r.commit("f: two");
        let mbox = r.git(&["format-patch", "--stdout", "--thread", "-1"]) + "\n";
        r.git(&["reset", "-q", "--hard", &base]);
        let id = mbox
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: <"))
            .unwrap()
            .trim_end_matches('>')
            .to_owned();
        (r, mbox, id)
    }
}

/// PATH with git-patchew's own directory first.
pub fn path_with_binary() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_git-patchew"))
        .parent()
        .unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}
