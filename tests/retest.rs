//! `git patchew retest` against a bare ci-hub, through the pre-push hook: the tag is
//! deleted and pushed again (a new pipeline), `testing.gitlab` is pending again and
//! the backstop watches the tag from now; a series without a tag is a clear error.

use crate::support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::json;
use support::git::{path_with_binary, stderr, stdout, TestRepo};
use support::patchew::{FakePatchew, Role};
use support::StandIn;

const TOKEN: &str = "retest-token-0123456789";
const ID: &str = "20241125.1-1-dev@example.org";

struct World {
    repo: TestRepo,
    hub: PathBuf,
    tag: String,
    server: StandIn,
    patchew: FakePatchew,
}

fn executable(path: &Path, script: &str) {
    std::fs::write(path, script).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A project with a series applied and tagged, a bare ci-hub that logs every ref
/// update it receives, our pre-push hook in front of one that logs each push, the
/// tag pushed once, and Patchew saying its test failed.
fn world() -> World {
    let r = TestRepo::new();
    r.write(".gitlab-ci.yml", "build:\n  script: make\n");
    r.write("src.c", "int x;\n");
    r.commit("base");
    r.write("src.c", "int y;\n");
    r.git(&["commit", "-qam", "rename x"]);
    let mbox = r.git(&["format-patch", "--stdout", "-1", "HEAD"]);
    let mbox = mbox.replacen("Subject:", &format!("Message-Id: <{ID}>\nSubject:"), 1);
    r.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let mbox_path = r.scratch("p.mbox");
    std::fs::write(&mbox_path, &mbox).unwrap();

    let hub = r.scratch("hub.git");
    r.git(&["init", "-q", "--bare", hub.to_str().unwrap()]);
    let received = hub.join("received.log");
    executable(
        &hub.join("hooks/post-receive"),
        &format!("#!/bin/sh\ncat >> '{}'\n", received.display()),
    );
    r.git(&["remote", "add", "ci-hub", hub.to_str().unwrap()]);
    r.git(&[
        "config",
        "patchew.ciInclude",
        "https://ci.example.org/patchew-ci.yml",
    ]);
    let hooks = r.path.join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let pushes = r.scratch("pushes.log");
    executable(
        &hooks.join("pre-push"),
        &format!("#!/bin/sh\ncat >> '{}'\n", pushes.display()),
    );
    let out = r.patchew_on_path(&["install-hook"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = r.patchew_on_path(&["apply", "--mbox", mbox_path.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tag = format!("refs/tags/{}", report["tag"].as_str().unwrap());
    let out = r.patchew_on_path(&["push", &tag]);
    assert!(out.status.success(), "{}", stderr(&out));

    let server = StandIn::start();
    let patchew = FakePatchew::install(
        &server,
        json!({"pushurl": hub.to_str().unwrap(), "url": "https://hub.example/p.git"}),
    );
    // Retest writes testing.gitlab: the group testers (the applier's user has both).
    patchew.add_user("applier", TOKEN, Role::Applier);
    patchew.add_series(ID, "[PATCH] rename x", mbox);
    patchew.enable_test("gitlab");
    patchew.set_testing(ID, "gitlab", "failure", "the old run\n");
    r.git(&["config", "patchew.server", &server.url()]);
    r.git(&["config", "patchew.projectId", "1"]);
    World {
        repo: r,
        hub,
        tag,
        server,
        patchew,
    }
}

fn retest(w: &World, msgid: &str) -> Output {
    let out = w
        .repo
        .command(env!("CARGO_BIN_EXE_git-patchew"), &w.repo.path)
        .env("PATH", path_with_binary())
        .env("PATCHEW_TOKEN", TOKEN)
        .args(["retest", msgid])
        .output()
        .unwrap();
    assert!(!stdout(&out).contains(TOKEN) && !stderr(&out).contains(TOKEN));
    out
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_tag_is_pushed_again_through_the_hook_and_the_test_is_pending() {
    let w = world();
    let head = w.repo.git(&["rev-parse", &format!("{}^{{commit}}", w.tag)]);
    let tag_object = w.repo.git(&["rev-parse", &w.tag]);
    let zero = "0".repeat(40);
    assert_eq!(
        lines(&w.hub.join("received.log")),
        [format!("{zero} {tag_object} {}", w.tag)]
    );

    let out = retest(&w, &format!("<{ID}>"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("pushed {} ({head}) again", w.tag)),
        "{}",
        stdout(&out)
    );
    // The ci-hub saw the tag go and come back: a new ref, so a new pipeline.
    assert_eq!(
        lines(&w.hub.join("received.log")),
        [
            format!("{zero} {tag_object} {}", w.tag),
            format!("{tag_object} {zero} {}", w.tag),
            format!("{zero} {tag_object} {}", w.tag),
        ]
    );
    // Both pushes went through the pre-push hooks (ours, then the one it keeps).
    let pushes = lines(&w.repo.scratch("pushes.log"));
    assert_eq!(pushes.len(), 3, "{pushes:?}");
    assert!(
        pushes[1].starts_with(&format!("(delete) {zero} {} {tag_object}", w.tag)),
        "{pushes:?}"
    );
    assert!(
        pushes[2].starts_with(&format!("{} {tag_object} {} {zero}", w.tag, w.tag)),
        "{pushes:?}"
    );
    // Pending again, for the same commit, and written before the pushes.
    let testing = w.patchew.testing(ID, "gitlab").unwrap();
    assert_eq!(testing.status, "pending");
    assert_eq!(testing.data["head"], head.as_str());
    let puts = w
        .server
        .requests_to("PUT", &w.patchew.testing_path(ID, "gitlab"));
    assert_eq!(puts.len(), 1);
    // The backstop watches the tag from now on.
    let ledger = std::fs::read_to_string(w.repo.path.join(".git/patchew-applier/pushed")).unwrap();
    let entry: serde_json::Value = serde_json::from_str(ledger.lines().next().unwrap()).unwrap();
    assert_eq!(entry["tag"], w.tag.as_str());
    assert_eq!(entry["head"], head.as_str());
    let age = support::patchew::now() - entry["pushed_at"].as_i64().unwrap();
    assert!((0..600).contains(&age), "{entry}");
    assert!(entry["result_uri"]
        .as_str()
        .unwrap()
        .ends_with("/results/testing.gitlab/"));

    // A tag the ci-hub lost is simply pushed.
    w.repo.git_in(
        &w.hub,
        &["tag", "-d", w.tag.strip_prefix("refs/tags/").unwrap()],
    );
    let out = retest(&w, ID);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("it was not on the ci-hub"),
        "{}",
        stdout(&out)
    );
    assert!(w.repo.has_ref(&w.hub, &w.tag));
}

#[test]
fn a_series_without_a_tag_is_a_clear_error() {
    let w = world();
    let out = retest(&w, "never-applied@example.org");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("no tag refs/tags/patchew/never-applied@example.org in this repository"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(w.server.requests().is_empty(), "asked Patchew anyway");
    assert_eq!(lines(&w.hub.join("received.log")).len(), 1);
}
