//! git's habits, kept by `git patchew` run through git itself: `git -c` options
//! (which git hands on in `GIT_CONFIG_PARAMETERS`) read like any other config and
//! winning as in git; a closed pipe ends the command quietly, as it ends git's.
//! C git is the oracle: `git -c ... config --get` says what a value is.

use crate::support;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use support::git::{path_with_binary, stderr, stdout, TestRepo};

/// A repository with one commit and the mail of a second (dropped again), and that
/// mail's message-id.
fn repo_and_mbox() -> (TestRepo, PathBuf, String) {
    let (r, mbox, id) = TestRepo::with_dropped_commit();
    let path = r.scratch("s.mbox");
    std::fs::write(&path, mbox).unwrap();
    (r, path, id)
}

/// `git [-c OPTION]... CMD...` in the repository, git-patchew on PATH: git itself
/// turns the `-c` options into `GIT_CONFIG_PARAMETERS` for us.
fn git_with(r: &TestRepo, options: &[&str], args: &[&str]) -> Command {
    let mut c = r.command("git", &r.path);
    c.env("PATH", path_with_binary()).stdin(Stdio::null());
    for option in options {
        c.arg("-c").arg(option);
    }
    c.args(args);
    c
}

fn apply_with(r: &TestRepo, options: &[&str], mbox: &std::path::Path) -> Output {
    let mbox = mbox.to_str().unwrap();
    git_with(
        r,
        options,
        &["patchew", "apply", "--no-ci", "--force", "--mbox", mbox],
    )
    .output()
    .unwrap()
}

/// What C git reads for `key` with these `-c` options.
fn git_reads(r: &TestRepo, options: &[&str], key: &str) -> String {
    let out = git_with(r, options, &["config", "--get", key])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).strip_suffix('\n').unwrap().to_owned()
}

#[test]
fn git_c_tag_prefix_names_the_tag_over_the_config_file() {
    let (r, mbox, id) = repo_and_mbox();
    r.git(&["config", "patchew.tagPrefix", "from-file"]);
    let out = apply_with(&r, &["patchew.tagPrefix=x"], &mbox);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(r.git(&["tag"]), format!("x/{id}"));
}

#[test]
fn git_c_with_a_boolean_git_refuses_exits_2_naming_the_key() {
    let (r, mbox, _) = repo_and_mbox();
    let out = apply_with(&r, &["patchew.addMessageId=maybe"], &mbox);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("patchew.addMessageId") && err.contains("maybe"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(r.git(&["tag"]), "", "nothing done");
}

#[test]
fn a_bare_git_c_key_is_true_as_in_git() {
    let (r, mbox, _) = repo_and_mbox();
    r.git(&["config", "patchew.addMessageId", "false"]);
    let out = apply_with(&r, &["patchew.addMessageId"], &mbox);
    assert!(out.status.success(), "{}", stderr(&out));
    let tip = r.git(&["log", "-1", "--format=%B", stdout(&out).trim()]);
    assert!(tip.contains("Message-ID:"), "{tip}");
}

/// Spaces at both ends, quotes of both kinds, a backslash, `=` and `!` (which git's
/// quoting escapes): the value arrives as C git reads it. The error message shows it.
#[test]
fn a_git_c_value_with_spaces_and_quotes_reads_as_git_reads_it() {
    let (r, mbox, _) = repo_and_mbox();
    let option = r#"patchew.addMessageId=  a "b" 'c' \d = !e  "#;
    let git_value = git_reads(&r, &[option], "patchew.addMessageId");
    assert_eq!(git_value, r#"  a "b" 'c' \d = !e  "#, "the oracle");
    let out = apply_with(&r, &[option], &mbox);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("{git_value:?}")), "{err}");
}

/// `GIT_CONFIG_COUNT` entries are read too, and `-c` wins over them as in git.
#[test]
fn git_c_wins_over_git_config_count_as_in_git() {
    let (r, mbox, id) = repo_and_mbox();
    let env = [
        ("GIT_CONFIG_COUNT", "1"),
        ("GIT_CONFIG_KEY_0", "patchew.tagPrefix"),
        ("GIT_CONFIG_VALUE_0", "env"),
    ];
    let with_env = |options: &[&str], args: &[&str]| {
        let mut c = git_with(&r, options, args);
        c.envs(env);
        c.output().unwrap()
    };
    let mbox = mbox.to_str().unwrap();
    let apply = ["patchew", "apply", "--no-ci", "--force", "--mbox", mbox];
    let oracle = with_env(
        &["patchew.tagPrefix=cli"],
        &["config", "--get", "patchew.tagPrefix"],
    );
    assert_eq!(stdout(&oracle), "cli\n");
    let out = with_env(&["patchew.tagPrefix=cli"], &apply);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(r.git(&["tag"]), format!("cli/{id}"));
    r.git(&["tag", "-d", &format!("cli/{id}")]);
    let out = with_env(&[], &apply);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(r.git(&["tag"]), format!("env/{id}"));
}

/// Not through git (which refuses it first): a hand-made `GIT_CONFIG_PARAMETERS`
/// that git would call bogus is a usage error, and nothing is done.
#[test]
fn a_bogus_git_config_parameters_is_bad_input() {
    let (r, mbox, _) = repo_and_mbox();
    for (text, says) in [
        (
            "'patchew.tagPrefix=x",
            "bogus format in GIT_CONFIG_PARAMETERS",
        ),
        (
            "'tagPrefix'='x'",
            "key does not contain a section: tagPrefix",
        ),
    ] {
        let out = r
            .command(env!("CARGO_BIN_EXE_git-patchew"), &r.path)
            .env("GIT_CONFIG_PARAMETERS", text)
            .args([
                "apply",
                "--no-ci",
                "--force",
                "--mbox",
                mbox.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{text}: {err}");
        assert!(err.contains(says), "{text}: {err}");
        assert_eq!(r.git(&["tag"]), "", "nothing done");
    }
}

/// A pipe whose reader is gone: any write to it meets EPIPE, every time.
fn closed_pipe() -> Stdio {
    use std::os::fd::{FromRawFd, OwnedFd};
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills the two ints it is given; each fd is then owned once.
    let (reader, writer) = unsafe {
        assert_eq!(libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC), 0);
        (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))
    };
    drop(reader);
    Stdio::from(writer)
}

/// How a process ended, as a shell reports it: 128 + the signal that killed it.
fn shell_status(out: &Output) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    out.status
        .code()
        .or(out.status.signal().map(|s| 128 + s))
        .unwrap()
}

/// The oracle: `git log` with its reader gone dies of SIGPIPE, saying nothing.
fn git_log_with_closed_stdout(r: &TestRepo) -> Output {
    let out = git_with(r, &[], &["log"])
        .stdout(closed_pipe())
        .output()
        .unwrap();
    assert_eq!(shell_status(&out), 141, "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    out
}

#[test]
fn a_closed_stdout_ends_the_command_quietly_as_it_ends_git() {
    use std::os::unix::process::ExitStatusExt;
    let (r, mbox, _) = repo_and_mbox();
    let mbox = mbox.to_str().unwrap();
    // -q: no warning on stderr (this tree has no CI file), so that it stays empty.
    let apply = [
        "apply", "-q", "--json", "--no-ci", "--force", "--mbox", mbox,
    ];
    let git_log = git_log_with_closed_stdout(&r);
    // git-patchew itself is killed by SIGPIPE...
    let out = r
        .command(env!("CARGO_BIN_EXE_git-patchew"), &r.path)
        .args(apply)
        .stdout(closed_pipe())
        .output()
        .unwrap();
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    // ... and `git patchew`, through git, ends as `git log` does.
    r.git(&["tag", "-d", &r.git(&["tag"])]);
    let mut args = vec!["patchew"];
    args.extend(apply);
    let out = git_with(&r, &[], &args)
        .stdout(closed_pipe())
        .output()
        .unwrap();
    assert_eq!(
        shell_status(&out),
        shell_status(&git_log),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out), "");
}

#[test]
fn a_closed_stderr_ends_the_command_quietly_as_it_ends_git() {
    use std::os::unix::process::ExitStatusExt;
    let r = TestRepo::new();
    let oracle = git_with(&r, &[], &["rev-parse", "--verify", "nosuch"])
        .stdout(Stdio::null())
        .stderr(closed_pipe())
        .output()
        .unwrap();
    assert_eq!(shell_status(&oracle), 141);
    // An error message (the mbox is missing) has nowhere to go.
    let out = r
        .command(env!("CARGO_BIN_EXE_git-patchew"), &r.path)
        .args(["apply", "--mbox", "/nonexistent/x.mbox"])
        .stderr(closed_pipe())
        .output()
        .unwrap();
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE));
    assert_eq!(stdout(&out), "");
}

/// The shell pipeline of the report: the reader takes 10 bytes and goes. Whether
/// git-patchew was still writing then is a race, so either end is git's: done (0) or
/// killed by SIGPIPE (141); never a panic.
#[test]
fn git_patchew_apply_json_into_head_ends_quietly() {
    let (r, mbox, _) = repo_and_mbox();
    let script = format!(
        "git patchew apply -q --json --no-ci --force --mbox '{}' | head -c 10; echo \" ${{PIPESTATUS[0]}}\"",
        mbox.display()
    );
    let out = r
        .command("bash", &r.path)
        .env("PATH", path_with_binary())
        .args(["-c", &script])
        .output()
        .unwrap();
    assert_eq!(stderr(&out), "");
    let text = stdout(&out);
    let (json, status) = text.rsplit_once(' ').unwrap();
    assert_eq!(json, "{\n  \"base\"", "{text}");
    assert!(["0\n", "141\n"].contains(&status), "{text}");
}
