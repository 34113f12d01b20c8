//! `patchew.applierDeadline` bounds the whole series, the steps already running
//! included (a hung `git fetch` or `git push` is killed, the mbox GET gets only the
//! time left), and `patchew.giveBackLimit` stops a series from being given back for
//! ever.

use crate::network_attacks::{
    assert_given_back, hub_tags, queued_with_push_options, run_applier, world, World,
};
use crate::support;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use serde_json::Value;
use support::git::stderr;
use support::process::{output_within, wait_until};
use support::Reply;

/// A `git` first in PATH that hangs (with a child holding its output open, as ssh
/// or a hook would) when asked to `verb`, and is the real git otherwise. The hung
/// child writes its pid to the returned file.
fn hanging_git(w: &World, verb: &str) -> (PathBuf, PathBuf) {
    let real = w
        .project
        .command("sh", &w.mirror)
        .args(["-c", "command -v git"])
        .output()
        .unwrap();
    let real = String::from_utf8(real.stdout).unwrap().trim().to_owned();
    assert!(Path::new(&real).is_absolute(), "git not found: {real:?}");
    let dir = w.project.scratch("fake-bin");
    std::fs::create_dir_all(&dir).unwrap();
    let pid_file = dir.join("hung.pid");
    let script = format!(
        "#!/bin/sh\nfor a in \"$@\"; do\n  if [ \"$a\" = {verb} ]; then\n    \
         sleep 600 &\n    echo $! > '{}'\n    wait\n    exit 1\n  fi\ndone\nexec '{real}' \"$@\"\n",
        pid_file.display()
    );
    let git = dir.join("git");
    std::fs::write(&git, script).unwrap();
    let chmod = w
        .project
        .command("chmod", &dir)
        .args(["+x", git.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(chmod.success());
    (dir, pid_file)
}

fn run_applier_with_path(w: &World, bin: &Path) -> Output {
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    w.project
        .command(env!("CARGO_BIN_EXE_git-patchew"), &w.mirror)
        .env("PATCHEW_TOKEN", "s3cr3t-applier-token")
        .env("PATH", path)
        .args(["applier", "--once", "-v"])
        .output()
        .unwrap()
}

fn config(w: &World, key: &str, value: &str) {
    w.project.git_in(&w.mirror, &["config", key, value]);
}

/// The process is gone (or a zombie waiting for init to reap it).
fn assert_not_running(pid_file: &Path) {
    let pid = std::fs::read_to_string(pid_file).expect("the hung git started its child");
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()));
    if let Ok(stat) = stat {
        let state = stat.rsplit(')').next().unwrap().split_whitespace().next();
        assert_eq!(state, Some("Z"), "the hung git's child still runs: {stat}");
    }
}

/// The `status` of each result PUT for `id`, in order.
fn put_statuses(w: &World, id: &str) -> Vec<String> {
    w.server
        .requests_to("PUT", &w.patchew.result_path(id))
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            body["status"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn a_hung_git_push_is_killed_at_the_deadline_and_the_series_given_back() {
    let w = world();
    let id = "hung-push@example.org";
    queued_with_push_options(&w, id);
    config(&w, "patchew.applierDeadline", "8");
    let (bin, pid_file) = hanging_git(&w, "push");
    let out = run_applier_with_path(&w, &bin);
    assert_given_back(&w, id, &out);
    let err = stderr(&out);
    assert!(
        err.contains("git push was still running at patchew.applierDeadline (8 s) and was killed"),
        "{err}"
    );
    assert_not_running(&pid_file);
}

#[test]
fn a_hung_git_fetch_of_the_base_is_killed_at_the_deadline() {
    let w = world();
    let id = "hung-fetch@example.org";
    queued_with_push_options(&w, id);
    config(&w, "patchew.applierDeadline", "2");
    let (bin, pid_file) = hanging_git(&w, "fetch");
    let out = run_applier_with_path(&w, &bin);
    assert_given_back(&w, id, &out);
    let err = stderr(&out);
    assert!(
        err.contains("git fetch was still running at patchew.applierDeadline (2 s) and was killed"),
        "{err}"
    );
    assert_not_running(&pid_file);
    // Without the hang, the next round applies it.
    let out = run_applier(&w, &w.mirror);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(w.patchew.git(id).status, "success");
}

#[test]
fn the_mbox_get_gets_only_the_time_left_before_the_deadline() {
    let w = world();
    let id = "slow-mbox@example.org";
    queued_with_push_options(&w, id);
    // A request may take a minute, the whole series 2 s: the GET must give up at
    // the deadline, not wait for an answer that comes after it.
    config(&w, "patchew.httpTimeout", "60");
    config(&w, "patchew.applierDeadline", "2");
    let mbox = format!("{}mbox/", w.patchew.series_path(id));
    w.server.interject(
        "GET",
        &mbox,
        vec![Reply::status(502).after(std::time::Duration::from_secs(6))],
    );
    let out = run_applier(&w, &w.mirror);
    assert_given_back(&w, id, &out);
    let err = stderr(&out);
    // Cut by what was left of the series' 2 s (the fetch took some): neither the
    // request's own 60 s, nor the 502 that came later, nor the check after the apply.
    assert!(err.contains("mbox/: no complete answer within "), "{err}");
    assert!(!err.contains("within 60 s"), "{err}");
    assert!(!err.contains("502"), "{err}");
    assert!(!err.contains("took longer"), "{err}");
}

#[test]
fn a_series_given_back_past_the_limit_is_reported_as_failed_with_every_reason() {
    let w = world();
    let id = "flaky@example.org";
    queued_with_push_options(&w, id);
    config(&w, "patchew.giveBackLimit", "1");
    let mbox = format!("{}mbox/", w.patchew.series_path(id));
    w.server
        .interject("GET", &mbox, vec![Reply::status(502), Reply::status(503)]);
    let out = run_applier(&w, &w.mirror);
    assert_given_back(&w, id, &out);
    // The second time in a row is one more than the limit allows: a failure that
    // says what happened each time.
    let out = run_applier(&w, &w.mirror);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let git = w.patchew.git(id);
    assert_eq!(git.status, "failure", "{git:?}");
    let log = git.log.unwrap_or_default();
    assert!(log.contains("gave up after 2 attempts"), "{log}");
    assert!(log.contains("patchew.giveBackLimit is 1"), "{log}");
    let attempts: Vec<&str> = log.lines().filter(|l| l.starts_with("attempt ")).collect();
    assert_eq!(attempts.len(), 2, "{log}");
    assert!(
        attempts[0].starts_with("attempt 1: ") && attempts[0].contains("502"),
        "{log}"
    );
    assert!(
        attempts[1].starts_with("attempt 2: ") && attempts[1].contains("503"),
        "{log}"
    );
    assert!(!log.contains("s3cr3t-applier-token"), "{log}");
    assert_eq!(
        put_statuses(&w, id),
        ["running", "pending", "running", "failure"]
    );
    assert!(hub_tags(&w).is_empty());
    // Reported: the count starts again when the series comes back.
    assert_eq!(give_backs(&w, id), Vec::<String>::new());
}

/// The give-back reasons the series' `git` result carries.
fn give_backs(w: &World, id: &str) -> Vec<String> {
    let data = w.patchew.git(id).data;
    data.get("give_backs")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|r| r.as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Appliers sharing one queue share the count: the give-back limit is the
/// series', not each applier's (it was counted in each applier's git directory).
#[test]
fn appliers_sharing_the_queue_share_the_give_back_count() {
    let w = world();
    let id = "shared@example.org";
    queued_with_push_options(&w, id);
    config(&w, "patchew.giveBackLimit", "1");
    let other = w.project.clone_to("mirror2.git", &["--bare"]);
    let settings = w
        .project
        .git_in(&w.mirror, &["config", "--get-regexp", "^patchew\\."]);
    for line in settings.lines() {
        let (key, value) = line.split_once(' ').unwrap();
        w.project.git_in(&other, &["config", key, value]);
    }
    let mbox = format!("{}mbox/", w.patchew.series_path(id));
    w.server
        .interject("GET", &mbox, vec![Reply::status(502), Reply::status(503)]);
    assert_given_back(&w, id, &run_applier(&w, &w.mirror));
    let counted = give_backs(&w, id);
    assert_eq!(counted.len(), 1, "{counted:?}");
    assert!(counted[0].contains("502"), "{counted:?}");
    // The push options survive beside the count.
    assert_eq!(
        w.patchew.git(id).data["git.push_options"].as_str(),
        Some("ci.skip")
    );
    // Another applier takes it and meets trouble again: over the limit.
    let out = run_applier(&w, &other);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let git = w.patchew.git(id);
    assert_eq!(git.status, "failure", "{git:?}");
    let log = git.log.unwrap_or_default();
    assert!(log.contains("gave up after 2 attempts"), "{log}");
    assert!(log.contains("attempt 1: ") && log.contains("502"), "{log}");
    assert!(log.contains("attempt 2: ") && log.contains("503"), "{log}");
    assert!(!log.contains("s3cr3t-applier-token"), "{log}");
}

#[test]
fn a_success_starts_the_count_of_give_backs_again() {
    let w = world();
    let id = "recovers@example.org";
    queued_with_push_options(&w, id);
    config(&w, "patchew.giveBackLimit", "1");
    let mbox = format!("{}mbox/", w.patchew.series_path(id));
    w.server.interject("GET", &mbox, vec![Reply::status(502)]);
    assert_given_back(&w, id, &run_applier(&w, &w.mirror));
    let out = run_applier(&w, &w.mirror);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(w.patchew.git(id).status, "success");
    // Queued again (its trailers changed, say) and the server fails once more: with
    // the count reset this is the first give-back, not a failure.
    w.patchew.set_git(
        id,
        "pending",
        serde_json::json!({"git.push_options": "ci.skip"}),
    );
    w.server.interject("GET", &mbox, vec![Reply::status(502)]);
    let out = run_applier(&w, &w.mirror);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("back to the queue"),
        "{}",
        stderr(&out)
    );
    assert_eq!(w.patchew.git(id).status, "pending");
}

#[test]
fn a_long_series_stops_between_patches_at_the_deadline_with_nothing_tagged() {
    use git_patchew::config::Settings;
    use git_patchew::flow::apply::{apply_mbox, Options};
    use git_patchew::repo::Repo;

    let p = support::git::TestRepo::new();
    p.git(&["config", "user.name", "C O Mitter"]);
    p.git(&["config", "user.email", "committer@example.com"]);
    p.write("a.txt", "0\n");
    p.commit("base");
    let base = p.git(&["rev-parse", "HEAD"]).trim().to_owned();
    for i in 1..=4 {
        p.write("a.txt", format!("{i}\n"));
        p.commit(&format!("step {i}"));
    }
    let mbox = p.git(&["format-patch", "--stdout", "--thread", "-4", "HEAD"]);
    p.git(&["reset", "-q", "--hard", &base]);
    let refs_before = p.git(&["for-each-ref"]);

    let repo = Repo::discover(&p.path).unwrap();
    let settings = Settings::load(&repo).unwrap();
    let options = Options {
        base: Some(base.clone()),
        no_ci: true,
        ..Options::default()
    };
    let mut started = 0;
    let result = apply_mbox(
        &repo,
        &settings,
        mbox.as_bytes(),
        None,
        &options,
        &mut |line| {
            if line.starts_with("Applying: ") {
                started += 1;
                // The deadline passes while patch 2 is being applied.
                if started == 2 {
                    git_patchew::interrupt::set_deadline(Some(std::time::Instant::now()));
                }
            }
        },
    );
    git_patchew::interrupt::set_deadline(None);
    let err = match result {
        Ok(report) => panic!("applied past the deadline: tag {:?}", report.tag),
        Err(e) => e.to_string(),
    };
    assert_eq!(started, 2, "{err}");
    assert!(err.contains("deadline passed before patch 3/4"), "{err}");
    assert!(err.contains("nothing was tagged"), "{err}");
    assert_eq!(p.git(&["for-each-ref"]), refs_before);
    assert_eq!(p.git(&["rev-parse", "HEAD"]).trim(), base);
    p.git(&["fsck", "--strict", "--no-dangling"]);
}

#[test]
fn a_signal_kills_a_hung_push_and_its_give_back_is_not_counted() {
    let w = world();
    let id = "stopped@example.org";
    queued_with_push_options(&w, id);
    // Even with no give-back allowed, stopping the service is not the series' fault.
    config(&w, "patchew.giveBackLimit", "0");
    config(&w, "patchew.applierDeadline", "600");
    let (bin, pid_file) = hanging_git(&w, "push");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let child = w
        .project
        .command(env!("CARGO_BIN_EXE_git-patchew"), &w.mirror)
        .env("PATCHEW_TOKEN", "s3cr3t-applier-token")
        .env("PATH", path)
        .args(["applier", "--once", "-v"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The push hangs once its child has written its pid.
    wait_until("the hung git push's pid", Duration::from_secs(60), || {
        std::fs::read_to_string(&pid_file).is_ok_and(|pid| !pid.trim().is_empty())
    });
    let term = w
        .project
        .command("kill", &w.mirror)
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let out = output_within(child, Duration::from_secs(60));
    assert_given_back(&w, id, &out);
    let err = stderr(&out);
    // Killed at the signal, not at the deadline 600 s later.
    assert!(err.contains("git push to the mirror failed"), "{err}");
    assert!(!err.contains("applierDeadline"), "{err}");
    assert_not_running(&pid_file);
    assert_eq!(give_backs(&w, id), Vec::<String>::new(), "counted");
}
