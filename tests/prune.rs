//! `git patchew prune`: expired series tags go on the ci-hub and in the mirror; recent
//! ones, bases of queued series, tags whose testing result is still pending or
//! running, and everything outside the prefix stay. C git is the oracle of what is
//! left on both sides.

use crate::support;

use std::path::PathBuf;

use serde_json::json;
use support::git::{stderr, stdout, TestRepo};
use support::patchew::{now, FakePatchew};
use support::StandIn;

const INCLUDE: &str = "https://ci.example.org/patchew-ci.yml";
const DAY: i64 = 86_400;

struct World {
    repo: TestRepo,
    hub: PathBuf,
    _server: StandIn,
    patchew: FakePatchew,
}

/// Annotated tag `name` on HEAD, tagged `days` days ago.
fn tag(r: &TestRepo, name: &str, days: i64) {
    let date = format!("{} +0000", now() - days * DAY);
    let out = r
        .command("git", &r.path)
        .env("GIT_COMMITTER_DATE", &date)
        .args(["tag", "-a", "-m", name, name])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

const OLD: &str = "refs/tags/patchew/old@example.org";
const OLDER: &str = "refs/tags/patchew/older@example.org";
const RECENT: &str = "refs/tags/patchew/recent@example.org";
const BASE: &str = "refs/tags/patchew/base@example.org";
const WATCHED: &str = "refs/tags/patchew/watched@example.org";
const LIGHT: &str = "refs/tags/patchew/light@example.org";
const OUTSIDE: [&str; 3] = [
    "refs/tags/v1.0",
    "refs/tags/patchewish/old@example.org",
    "refs/heads/patchew/old@example.org",
];

/// A repository with the hook installed, a ci-hub holding the same tags, a queued
/// series based on `BASE`, and the applier's ledger watching `WATCHED`.
fn world() -> World {
    let r = TestRepo::new();
    r.write("a.c", "int a;\n");
    r.commit("base");
    for (name, days) in [
        ("patchew/old@example.org", 61),
        ("patchew/older@example.org", 400),
        ("patchew/recent@example.org", 3),
        ("patchew/base@example.org", 100),
        ("patchew/watched@example.org", 100),
        ("v1.0", 900),
        ("patchewish/old@example.org", 900),
    ] {
        tag(&r, name, days);
    }
    r.git(&["tag", "patchew/light@example.org"]);
    r.git(&["branch", "patchew/old@example.org"]);
    let hub = r.scratch("hub.git");
    r.git(&["init", "-q", "--bare", hub.to_str().unwrap()]);
    r.git(&["remote", "add", "ci-hub", hub.to_str().unwrap()]);
    r.git(&[
        "push",
        "-q",
        "ci-hub",
        "--tags",
        "refs/heads/*:refs/heads/*",
    ]);
    let server = StandIn::start();
    let patchew = FakePatchew::install(
        &server,
        json!({"pushurl": hub.to_str().unwrap(), "url": "https://example.org/hub.git", "source": "x main"}),
    );
    patchew.add_series("next@example.org", "[PATCH] next", "");
    patchew.set_based_on(
        "next@example.org",
        json!({"repo": hub.to_str().unwrap(), "tag": "patchew/base@example.org"}),
    );
    r.git(&["config", "patchew.server", &server.url()]);
    r.git(&["config", "patchew.ciInclude", INCLUDE]);
    let out = r.patchew_on_path(&["install-hook"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let ledger = r.path.join(".git/patchew-applier/pushed");
    std::fs::create_dir_all(ledger.parent().unwrap()).unwrap();
    // Pushed again a day ago (its series' tags changed), still watched; and a tag
    // whose result stayed unsettled for longer than the expiry window.
    let entry = json!({"result_uri": "http://x/", "tag": WATCHED, "head": "0", "series": "watched@example.org", "pushed_at": now() - DAY});
    let stuck = json!({"result_uri": "http://x/", "tag": OLD, "head": "0", "series": "old@example.org", "pushed_at": now() - 61 * DAY});
    std::fs::write(&ledger, format!("{entry}\n{stuck}\n")).unwrap();
    World {
        repo: r,
        hub,
        _server: server,
        patchew,
    }
}

fn prune(w: &World, args: &[&str]) -> std::process::Output {
    let mut all = vec!["prune"];
    all.extend_from_slice(args);
    w.repo.patchew_on_path(&all)
}

fn has(w: &World, dir: &std::path::Path, name: &str) -> bool {
    w.repo.has_ref(dir, name)
}

#[test]
fn prune_deletes_only_expired_series_tags_on_the_hub_and_in_the_mirror() {
    let w = world();
    let out = prune(&w, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = stdout(&out);
    assert_eq!(
        listed.lines().collect::<Vec<_>>(),
        [format!("deleted {OLDER}"), format!("deleted {OLD}")],
        "oldest first: {}",
        stderr(&out)
    );
    for dir in [&w.repo.path, &w.hub] {
        assert!(!has(&w, dir, OLD) && !has(&w, dir, OLDER), "{dir:?}");
        for kept in [RECENT, BASE, WATCHED, LIGHT].iter().chain(OUTSIDE.iter()) {
            assert!(has(&w, dir, kept), "{kept} must stay in {dir:?}");
        }
    }
    assert!(
        stderr(&out)
            .contains("1 a queued series is based on, 1 with a pending or running testing result"),
        "{}",
        stderr(&out)
    );
    // The ledger keeps only what it still watches: bounded over years.
    let ledger = std::fs::read_to_string(w.repo.path.join(".git/patchew-applier/pushed")).unwrap();
    assert!(
        ledger.contains(WATCHED) && !ledger.contains(OLD),
        "{ledger}"
    );
    assert!(
        stderr(&out).contains(&format!("the backstop stops watching {OLD}")),
        "{}",
        stderr(&out)
    );
    // Once the base's series is applied (no longer queued), its base may go too.
    w.patchew.set_git("next@example.org", "success", json!({}));
    let out = prune(&w, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), format!("deleted {BASE}"));
    assert!(!has(&w, &w.hub, BASE) && !has(&w, &w.repo.path, BASE));
}

#[test]
fn prune_dry_run_deletes_nothing() {
    let w = world();
    let refs = |dir: &std::path::Path| w.repo.git_in(dir, &["for-each-ref"]);
    let (mirror_before, hub_before) = (refs(&w.repo.path), refs(&w.hub));
    let out = prune(&w, &["--dry-run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).lines().collect::<Vec<_>>(),
        [
            format!("would delete {OLDER}"),
            format!("would delete {OLD}")
        ]
    );
    assert_eq!(refs(&w.repo.path), mirror_before);
    assert_eq!(refs(&w.hub), hub_before);
}

/// The hub's own hook refuses one deletion: a warning naming it, exit 1, the tag
/// stays in the mirror (to be tried again), and the other deletion goes through.
#[test]
fn a_deletion_the_hub_refuses_is_a_warning_and_the_tag_stays() {
    use std::os::unix::fs::PermissionsExt;
    let w = world();
    let hook = w.hub.join("hooks/update");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\n[ \"$1\" = {OLD} ] && {{ echo no deleting that >&2; exit 1; }}\nexit 0\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = prune(&w, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("warning: prune: the ci-hub did not delete {OLD}")),
        "{}",
        stderr(&out)
    );
    assert!(has(&w, &w.hub, OLD) && has(&w, &w.repo.path, OLD));
    assert!(!has(&w, &w.hub, OLDER) && !has(&w, &w.repo.path, OLDER));
}

/// Our pre-push hook checks series tags that leave, and lets their deletions through.
#[test]
fn the_pre_push_hook_lets_deletions_of_series_tags_through() {
    let w = world();
    assert!(w.repo.path.join(".git/hooks/pre-push").exists());
    let out = w.repo.git_push(&["ci-hub", &format!(":{OLD}")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!has(&w, &w.hub, OLD));
}

#[test]
fn tag_expiry_zero_keeps_everything() {
    let w = world();
    w.repo.git(&["config", "patchew.tagExpiry", "0"]);
    let out = prune(&w, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert!(has(&w, &w.hub, OLDER));
}
