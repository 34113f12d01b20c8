//! The git-native experience: help, man page, completions, progress, the demo.

use crate::support;

use std::process::Command;

use support::git::{stderr, stdout, TestRepo};

const SUBCOMMANDS: &[&str] = &[
    "apply",
    "push",
    "install-hook",
    "applier",
    "report",
    "retest",
    "completions",
    "man",
    "hook",
];

fn patchew(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_git-patchew"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn short_help_lists_subcommands_and_exit_codes() {
    let out = patchew(&["-h"]);
    assert!(out.status.success());
    let help = stdout(&out);
    for sub in SUBCOMMANDS {
        assert!(help.contains(sub), "{sub} missing from -h");
    }
    assert!(help.contains(&git_patchew::cmd::help::exit_status_text()));
    assert_eq!(patchew(&["no-such-command"]).status.code(), Some(2));
}

#[test]
fn long_help_and_man_page_show_exit_status_and_configuration() {
    let out = patchew(&["--help"]);
    assert!(out.status.success());
    let help = stdout(&out);
    assert!(
        help.contains(&git_patchew::cmd::help::long_help_text()),
        "{help}"
    );
    let page = stdout(&patchew(&["man"]));
    assert!(page.contains(".SH \"EXIT STATUS\""), "{page}");
    assert!(page.contains(".SH CONFIGURATION"), "{page}");
    assert!(page.contains("\\fBpatchew.addMessageId\\fR"), "{page}");
}

/// README.md's sections that `cmd::help` renders, each between a `<!-- begin NAME...`
/// and an `<!-- end NAME -->` line, are exactly the rendering; with
/// `GIT_PATCHEW_UPDATE_README=1` set, the test rewrites them instead of failing.
#[test]
fn readme_tables_are_the_generated_ones() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let mut readme = std::fs::read_to_string(path).unwrap();
    let mut stale = Vec::new();
    for (name, text) in [
        ("exit codes", git_patchew::cmd::help::exit_status_markdown()),
        (
            "configuration",
            git_patchew::cmd::help::configuration_markdown(),
        ),
    ] {
        let begin = format!("<!-- begin {name}:");
        let start = readme
            .find(&begin)
            .unwrap_or_else(|| panic!("no {begin} in README.md"));
        let start = start + readme[start..].find('\n').unwrap() + 1;
        let end = format!("<!-- end {name} -->");
        let stop = start
            + readme[start..]
                .find(&end)
                .unwrap_or_else(|| panic!("no {end} in README.md"));
        if readme[start..stop] != text {
            stale.push(name);
            readme.replace_range(start..stop, &text);
        }
    }
    if std::env::var_os("GIT_PATCHEW_UPDATE_README").is_some() {
        std::fs::write(path, readme).unwrap();
        return;
    }
    assert!(
        stale.is_empty(),
        "README.md's {stale:?} differ from what the code renders (src/cmd/help.rs); \
         regenerate them with: GIT_PATCHEW_UPDATE_README=1 cargo test --test all readme_tables"
    );
}

#[test]
fn man_pages_name_every_subcommand() {
    let out = patchew(&["man"]);
    assert!(out.status.success());
    let page = stdout(&out);
    assert!(
        page.starts_with(".ie") || page.contains(".TH git-patchew 1"),
        "{page}"
    );
    for sub in SUBCOMMANDS {
        assert!(
            page.contains(&format!("git\\-patchew\\-{}", sub.replace('-', "\\-"))),
            "{sub} not in the man page"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let out = patchew(&["man", "--output", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    for sub in SUBCOMMANDS {
        let page =
            std::fs::read_to_string(dir.path().join(format!("git-patchew-{sub}.1"))).unwrap();
        assert!(page.contains(".SH SYNOPSIS"), "git-patchew-{sub}.1");
    }
    // `man` itself renders it, when man is installed.
    if let Ok(rendered) = Command::new("man")
        .arg("-l")
        .arg(dir.path().join("git-patchew-apply.1"))
        .env("MANWIDTH", "100")
        .output()
    {
        if rendered.status.success() {
            assert!(stdout(&rendered).contains("--ci-include"));
        }
    }
}

#[test]
fn completions_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete"),
        ("zsh", "#compdef git-patchew"),
        ("fish", "complete -c git-patchew"),
    ] {
        let out = patchew(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let script = stdout(&out);
        assert!(script.contains(marker), "{shell}: {marker}");
        assert!(
            script.contains("install-hook") && script.contains("ci-include"),
            "{shell}"
        );
    }
    let bash = stdout(&patchew(&["completions", "bash"]));
    assert!(
        bash.contains("_git_patchew ()"),
        "git's own completion hook"
    );
    // The snippet is valid bash.
    let check = Command::new("bash")
        .arg("-n")
        .arg("-c")
        .arg(&bash)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", stderr(&check));
}

#[test]
fn progress_is_quiet_off_a_terminal_unless_verbose() {
    let r = TestRepo::new();
    r.write("f", "1\n");
    let base = r.commit("base");
    r.write("f", "2\n");
    r.commit("subsystem: change f");
    let mbox = r.git_bytes(&["format-patch", "--stdout", "-1"]);
    let path = r.scratch("p.mbox");
    std::fs::write(&path, mbox).unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "apply",
            "--no-ci",
            "--no-tag",
            "--base",
            &base,
            "--mbox",
            path.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        r.patchew(&r.path, &args)
    };
    assert!(!stderr(&run(&[])).contains("Applying:"));
    assert!(stderr(&run(&["-v"])).contains("Applying: subsystem: change f"));
    let quiet = run(&["-q"]);
    assert!(quiet.status.success() && stderr(&quiet).is_empty());
    assert_eq!(
        stdout(&quiet).trim().len(),
        40,
        "the tip commit id on stdout"
    );
}

#[test]
fn readme_documents_every_config_key() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for key in git_patchew::config::KEYS {
        let key = key.name();
        assert!(
            readme.contains(&format!("`{key}`")),
            "{key} missing from README.md"
        );
    }
}

#[test]
fn demo_runs_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_git-patchew"))
        .parent()
        .unwrap();
    let out = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/contrib/demo.sh"))
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .env("DEMO_DIR", dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "demo failed:\n{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let hub = dir.path().join("ci-hub.git");
    let tags = Command::new("git")
        .arg("--git-dir")
        .arg(&hub)
        .args(["tag", "-l"])
        .output()
        .unwrap();
    let tags = stdout(&tags);
    assert_eq!(tags.lines().count(), 1, "{tags}");
    assert!(
        tags.starts_with("patchew/") && !tags.contains("tampered"),
        "{tags}"
    );
    assert!(stdout(&out).contains("remote: 'https://ci-hub.example.org/patchew-ci.yml'"));
    let refused = std::fs::read_to_string(dir.path().join("refused.txt")).unwrap();
    assert!(
        refused.contains("refusing refs/tags/patchew/tampered@example.org"),
        "{refused}"
    );
}
