//! What a test needs from outside the repository: a tool on the machine or the shared
//! data folder. Under `CI=true` (which `.ci/run` installs everything for) a missing one
//! fails the test; elsewhere the test skips and says so on stderr, so that a green run
//! without the tools never passes for one that tested them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `CI=true` (GitLab and GitHub set it; `.ci/run` too).
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// `true` when `available`; otherwise panics under CI, or says SKIP on stderr and
/// returns `false` for the test to return early.
pub fn require(what: &str, available: bool, remedy: &str) -> bool {
    if available {
        return true;
    }
    let test = std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_owned();
    assert!(
        !under_ci(),
        "{test}: {what} is missing and CI=true, so the test fails instead of skipping ({remedy})"
    );
    // Straight to the stderr handle: libtest captures eprintln! of passing tests, and
    // a skip must show in a plain `cargo test`.
    let _ = writeln!(
        std::io::stderr(),
        "SKIP {test}: {what} is missing ({remedy})"
    );
    false
}

/// The program answers `--version` (a path like `/usr/bin/time` must exist).
pub fn require_tool(program: &str) -> bool {
    let found = if program.contains('/') {
        Path::new(program).is_file()
    } else {
        Command::new(program)
            .arg("--version")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    };
    require(program, found, ".ci/run installs it")
}

/// `<repo>/../shared/data/<sub>`, or `$GIT_PATCHEW_SHARED_DATA/<sub>` where a checkout
/// (a git worktree, say) does not sit beside `shared/`.
pub fn shared_data(sub: &str) -> Option<PathBuf> {
    let root = std::env::var_os("GIT_PATCHEW_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    let dir = root.join(sub);
    require(
        &dir.display().to_string(),
        dir.is_dir(),
        "CI checks out ../shared/data beside the repository; GIT_PATCHEW_SHARED_DATA names another place",
    )
    .then_some(dir)
}

/// `<repo>/../shared/patchew-api`: what the real Patchew server answered to each call
/// (see its README.md). `$GIT_PATCHEW_SHARED_DATA/../patchew-api` where a checkout does
/// not sit beside `shared/`.
pub fn patchew_api_records() -> Option<PathBuf> {
    let dir = match std::env::var_os("GIT_PATCHEW_SHARED_DATA") {
        Some(data) => PathBuf::from(data).join("../patchew-api"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/patchew-api"),
    };
    require(
        &dir.display().to_string(),
        dir.is_dir(),
        "CI checks out ../shared beside the repository; GIT_PATCHEW_SHARED_DATA names its data folder",
    )
    .then_some(dir)
}

/// gitlab-ci-local (a GitLab CI runner without GitLab): `$GITLAB_CI_LOCAL`, then
/// `.ci/node_modules/.bin/gitlab-ci-local` (where `.ci/run` installs it), then PATH.
/// An explicit path that does not work is a broken setup, not a reason to skip.
pub fn gitlab_ci_local() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("GITLAB_CI_LOCAL") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "GITLAB_CI_LOCAL={} does not exist",
            path.display()
        );
        return Some(path);
    }
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/node_modules/.bin/gitlab-ci-local");
    let found = local.is_file().then_some(local).or_else(|| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("gitlab-ci-local"))
                .find(|p| p.is_file())
        })
    });
    require(
        "gitlab-ci-local",
        found.is_some(),
        "set GITLAB_CI_LOCAL, or run .ci/run, which installs it into .ci/node_modules",
    );
    found
}
