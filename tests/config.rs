//! `git config` read the way git reads it, with C git as the oracle: values git
//! refuses are errors naming key and value (exit 2), paths are interpolated like
//! git's, the repository is found like git finds it.

use crate::support;

use std::path::PathBuf;

use support::git::{stderr, stdout, TestRepo};

/// A repository with one commit and the mail of a second (dropped again).
fn repo_and_mbox() -> (TestRepo, PathBuf) {
    let (r, mbox, _) = TestRepo::with_dropped_commit();
    let path = r.scratch("s.mbox");
    std::fs::write(&path, mbox).unwrap();
    (r, path)
}

fn apply(r: &TestRepo, mbox: &std::path::Path) -> std::process::Output {
    r.patchew(
        &r.path,
        &[
            "apply",
            "--no-ci",
            "--force",
            "--mbox",
            mbox.to_str().unwrap(),
        ],
    )
}

#[test]
fn a_boolean_git_refuses_is_an_error_naming_key_and_value() {
    let (r, mbox) = repo_and_mbox();
    r.git(&["config", "patchew.addMessageId", "maybe"]);
    // The oracle: git refuses it too.
    let git = r
        .command("git", &r.path)
        .args(["config", "--bool", "patchew.addMessageId"])
        .output()
        .unwrap();
    assert!(!git.status.success());
    let out = apply(&r, &mbox);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("patchew.addMessageId") && err.contains("maybe"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(r.git(&["tag"]), "", "nothing done");

    // What git accepts, we accept, with git's meaning.
    for (value, expect) in [("yes", true), ("off", false), ("1", true), ("", false)] {
        r.git(&["config", "patchew.addMessageId", value]);
        let out = apply(&r, &mbox);
        assert!(out.status.success(), "{value}: {}", stderr(&out));
        let tip = r.git(&["log", "-1", "--format=%B", stdout(&out).trim()]);
        assert_eq!(tip.contains("Message-ID:"), expect, "{value}: {tip}");
    }
}

#[test]
fn numbers_git_refuses_or_out_of_range_are_errors() {
    let (r, mbox) = repo_and_mbox();
    for (key, value) in [
        ("patchew.httpTimeout", "soon"),
        ("patchew.httpRetries", "-1"),
        ("patchew.projectId", "12abc"),
        ("patchew.claimSettle", "later"),
    ] {
        r.git(&["config", key, value]);
        let out = apply(&r, &mbox);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{key}={value}: {err}");
        assert!(err.contains(key) && err.contains(value), "{err}");
        r.git(&["config", "--unset", key]);
    }
    // git's unit suffixes are numbers too, for the seconds keys as well.
    r.git(&["config", "patchew.httpTimeout", "1k"]);
    r.git(&["config", "patchew.claimTimeout", "2K"]);
    let out = apply(&r, &mbox);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn hooks_path_with_a_tilde_is_where_git_looks() {
    let (r, _) = repo_and_mbox();
    r.git(&["config", "core.hooksPath", "~/global-hooks"]);
    let out = r.patchew(&r.path, &["install-hook"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let oracle = PathBuf::from(r.git(&["rev-parse", "--git-path", "hooks/pre-push"]));
    assert!(oracle.is_absolute(), "{}", oracle.display());
    let installed = std::fs::read_to_string(&oracle).unwrap();
    assert!(
        installed.contains("git patchew hook pre-push"),
        "{installed}"
    );
}

#[test]
fn git_dir_in_the_environment_finds_the_repository_like_git() {
    let (r, mbox) = repo_and_mbox();
    let elsewhere = tempfile::tempdir().unwrap();
    let out = r
        .command(env!("CARGO_BIN_EXE_git-patchew"), elsewhere.path())
        .env("GIT_DIR", r.path.join(".git"))
        .env("GIT_WORK_TREE", &r.path)
        .args(["apply", "--no-ci", "--mbox", mbox.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let tip = stdout(&out).trim().to_owned();
    assert_eq!(r.git(&["log", "-1", "--format=%s", &tip]), "f: two");
}

/// What `git config --type=int` makes of `key`'s value, or `None` when it refuses it.
fn git_int(r: &TestRepo, key: &str) -> Option<i64> {
    let out = r
        .command("git", &r.path)
        .args(["config", "--type=int", "--get", key])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| stdout(&out).trim().parse().expect("git prints a decimal"))
}

#[test]
fn integer_and_seconds_keys_read_numbers_as_git_config_type_int_does() {
    use git_patchew::config::{Settings, CLAIM_TIMEOUT, GIVE_BACK_LIMIT};
    use git_patchew::repo::Repo;
    use std::time::Duration;

    let r = TestRepo::new();
    let load = || Settings::load(&Repo::discover(&r.path).unwrap());
    let values = [
        "0",
        "7",
        "1k",
        "1K",
        "2m",
        "1g",
        "1G",
        "+5",
        "-1",
        "-0",
        "00",
        "010",
        "08",
        "0x10",
        "0X1f",
        "0x1k",
        "+0x10",
        " 5",
        "\t5",
        "1kb",
        "k",
        "1t",
        "0b101",
        "1.5k",
        "1e3",
        "9223372036854775807",
        "8796093022208k",
        "99999999999g",
    ];
    for value in values {
        // One key at a time, so that an error can only be its own.
        for key in [GIVE_BACK_LIMIT.name, CLAIM_TIMEOUT.name] {
            r.git(&["config", key, value]);
            // The oracle (these keys are 0 or more: git's negatives are refused).
            let git = git_int(&r, key).and_then(|n| u64::try_from(n).ok());
            match (git, load()) {
                (Some(n), Ok(s)) if key == GIVE_BACK_LIMIT.name => {
                    assert_eq!(s.give_back_limit, n, "{key}={value:?}")
                }
                (Some(n), Ok(s)) => {
                    let secs = Duration::from_secs(n.min(1_000_000_000));
                    assert_eq!(s.claim_timeout, secs, "{key}={value:?}")
                }
                (None, Err(e)) => {
                    let message = e.to_string();
                    assert!(message.contains(key), "{value:?}: {message}");
                }
                (git, ours) => panic!("{key}={value:?}: git {git:?}, ours {ours:?}"),
            }
            r.git(&["config", "--unset", key]);
        }
    }
    // Beyond git: the seconds keys take decimal fractions too (for sub-second waits).
    r.git(&["config", CLAIM_TIMEOUT.name, "0.25"]);
    assert_eq!(
        git_int(&r, CLAIM_TIMEOUT.name),
        None,
        "git refuses a fraction"
    );
    assert_eq!(load().unwrap().claim_timeout, Duration::from_millis(250));
}

#[test]
fn unset_keys_load_as_the_defaults_the_documentation_shows() {
    use git_patchew::config::{Settings, CI_TIMEOUT, CLAIM_SETTLE, GIVE_BACK_LIMIT, HTTP_TIMEOUT};
    use git_patchew::repo::Repo;

    let r = TestRepo::new();
    let s = Settings::load(&Repo::discover(&r.path).unwrap()).unwrap();
    // Unset: measured on each claim, as its row says.
    assert_eq!(s.claim_settle, None);
    assert!(CLAIM_SETTLE
        .unset
        .is_some_and(|w| w.starts_with("measured")));
    assert_eq!(s.ci_timeout, CI_TIMEOUT.default);
    assert_eq!(s.http_timeout, HTTP_TIMEOUT.default);
    assert_eq!(s.give_back_limit, GIVE_BACK_LIMIT.default);
    assert_eq!(s.http_config().timeout, HTTP_TIMEOUT.default);
    let help = git_patchew::cmd::help::long_help_text();
    let shown = format!(
        "\n  {}  seconds, default {} ",
        CI_TIMEOUT.name,
        CI_TIMEOUT.default.as_secs()
    );
    assert!(help.contains(&shown), "{shown}\n{help}");
}
