//! Locks and signals through `git patchew apply`: SIGTERM or SIGINT at any time
//! leaves no lock file, no temporary object file and no partial tag; a stale
//! `packed-refs.lock` is named with the way out; old temporary object files that a
//! killed run left are swept.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use support::git::{stderr, TestRepo};
use support::mail::Mail;
use support::process::output_within;

/// A repository whose refs are packed, as after `git gc`: every ref transaction
/// then reads `packed-refs` under its lock.
fn packed_repo() -> TestRepo {
    let r = TestRepo::new();
    r.write("f.txt", "one\n");
    r.commit("base");
    r.git(&["tag", "v1"]);
    r.git(&["pack-refs", "--all"]);
    assert!(r.path.join(".git/packed-refs").is_file());
    r
}

fn mail(subject: &str, msgid: &str, path: &str) -> String {
    Mail::new(subject).msgid(msgid).adding(path).mbox()
}

fn series(n: usize, prefix: &str) -> String {
    (1..=n)
        .map(|i| {
            let p = format!("d{}/f{i}.txt", i % 40);
            mail(
                &format!("[PATCH {i}/{n}] add {p}"),
                &format!("{prefix}{i}@x"),
                &p,
            )
        })
        .collect()
}

fn write_mbox(r: &TestRepo, content: &str) -> PathBuf {
    let p = r.scratch("s.mbox");
    std::fs::write(&p, content).unwrap();
    p
}

fn apply(r: &TestRepo, mbox: &Path) -> Output {
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

fn assert_fsck_clean(r: &TestRepo) {
    let out = r
        .command("git", &r.path)
        .args(["fsck", "--strict", "--no-dangling", "--no-progress"])
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        stderr(&out)
    );
}

/// Files whose names start with `.tmp` or end in `.lock` anywhere under `.git`.
fn leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.file_type().unwrap().is_dir() {
                pending.push(e.path());
            } else if name.starts_with(".tmp") || name.ends_with(".lock") {
                found.push(e.path());
            }
        }
    }
    found
}

/// `touch -d` the file into the past.
fn age(r: &TestRepo, file: &Path, ago: &str) {
    let out = r
        .command("touch", &r.path)
        .args(["-d", ago, file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_stale_packed_refs_lock_is_named_with_the_fix() {
    let r = packed_repo();
    let mbox = write_mbox(&r, &series(2, "stale"));
    let lock = r.path.join(".git/packed-refs.lock");
    std::fs::write(&lock, "").unwrap();
    age(&r, &lock, "5 minutes ago");
    let out = apply(&r, &mbox);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains(lock.to_str().unwrap()),
        "names the file: {err}"
    );
    assert!(
        err.contains("s old") && err.contains("rm "),
        "says the fix: {err}"
    );
    assert!(r.git(&["tag", "-l", "patchew/*"]).is_empty());

    // A fresh one may belong to a running git: named, but not called stale.
    age(&r, &lock, "now");
    let out = apply(&r, &mbox);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(lock.to_str().unwrap()), "{err}");
    assert!(err.contains("another git process"), "{err}");

    std::fs::remove_file(&lock).unwrap();
    let out = apply(&r, &mbox);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_fsck_clean(&r);
}

#[test]
fn old_temporary_object_files_of_killed_runs_are_swept() {
    let r = packed_repo();
    let objects = r.path.join(".git/objects");
    let old = objects.join(".tmpKILLED");
    let young = objects.join(".tmpWRITING");
    std::fs::write(&old, "").unwrap();
    std::fs::write(&young, "").unwrap();
    age(&r, &old, "2 hours ago");
    let mbox = write_mbox(&r, &series(1, "sweep"));
    let out = apply(&r, &mbox);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!old.exists(), "an old leftover stays");
    assert!(
        young.exists(),
        "another process's file in the making was removed"
    );
}

#[test]
fn sigterm_or_sigint_at_any_time_leaves_no_lock_temp_file_or_partial_tag() {
    let r = packed_repo();
    let n = 300;
    let mbox = write_mbox(&r, &series(n, "sig"));
    let out = apply(&r, &mbox);
    assert!(out.status.success(), "{}", stderr(&out));
    // Timed again: later runs find their objects written already.
    let t = Instant::now();
    let out = apply(&r, &mbox);
    assert!(out.status.success(), "{}", stderr(&out));
    let full = t.elapsed();
    eprintln!("a run takes {full:?}");
    r.git(&["tag", "-d", "patchew/sig1@x"]);
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let (mut interrupted, mut finished) = (0, 0);
    for round in 0..10 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // From the start (reading the mbox, when a signal ends the process at once)
        // to past the end.
        let share = (seed % 1000) as f64 / 1000.0 * 1.1;
        let signal = if round % 2 == 0 { "-TERM" } else { "-INT" };
        let child = r
            .command(env!("CARGO_BIN_EXE_git-patchew"), &r.path)
            .args([
                "apply",
                "--no-ci",
                "--force",
                "--mbox",
                mbox.to_str().unwrap(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(full.mul_f64(share));
        let _ = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status();
        let out = output_within(child, Duration::from_secs(120));
        let err = stderr(&out);
        match out.status.code() {
            Some(0) => finished += 1,
            Some(1) => {
                assert!(err.contains("interrupted"), "round {round}: {err}");
                interrupted += 1;
            }
            // Still reading the mbox: nothing written yet, dying is fine.
            None => assert!(err.is_empty(), "round {round}: {err}"),
            other => panic!("round {round} {signal}: ended with {other:?}: {err}"),
        }
        let left = leftovers(&r.path.join(".git"));
        assert!(left.is_empty(), "round {round} {signal}: left {left:?}");
        let tag = r
            .command("git", &r.path)
            .args(["rev-parse", "-q", "--verify", "refs/tags/patchew/sig1@x"])
            .output()
            .unwrap();
        if tag.status.success() {
            let tip = String::from_utf8(tag.stdout).unwrap();
            let count = r.git(&["rev-list", "--count", tip.trim()]);
            assert_eq!(count, (n + 1).to_string(), "round {round}: partial tag");
            r.git(&["tag", "-d", "patchew/sig1@x"]);
        }
        assert_fsck_clean(&r);
    }
    assert!(
        interrupted > 0,
        "no signal arrived during a run ({finished} finished)"
    );
}

#[test]
fn an_operating_system_error_keeps_its_reason() {
    let r = packed_repo();
    // Every object directory not there yet is a file instead: writing any new
    // object fails in the OS (as root, permissions would not stop us).
    let objects = r.path.join(".git/objects");
    let mut blockers = Vec::new();
    for i in 0..=255u8 {
        let d = objects.join(format!("{i:02x}"));
        if !d.exists() {
            std::fs::write(&d, "").unwrap();
            blockers.push(d);
        }
    }
    let mbox = write_mbox(&r, &series(1, "os"));
    let out = apply(&r, &mbox);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("Not a directory"),
        "the OS reason is kept: {err}"
    );
    assert!(r.git(&["tag", "-l", "patchew/*"]).is_empty());
    for b in blockers {
        std::fs::remove_file(b).unwrap();
    }
    assert!(apply(&r, &mbox).status.success());
    assert_fsck_clean(&r);
}

/// The fsync calls of `git patchew apply`, counted by strace.
fn fsyncs_of_apply(r: &TestRepo, mbox: &Path) -> usize {
    let log = r.scratch("strace.log");
    let out = r
        .command("strace", &r.path)
        .args([
            "-f",
            "-e",
            "trace=fsync,fdatasync",
            "-o",
            log.to_str().unwrap(),
        ])
        .arg(env!("CARGO_BIN_EXE_git-patchew"))
        .args([
            "apply",
            "--no-ci",
            "--force",
            "--mbox",
            mbox.to_str().unwrap(),
        ])
        .output()
        .expect("strace is installed (apt-get install strace)");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&log).unwrap();
    text.lines().filter(|l| l.contains("fsync(")).count()
}

#[test]
fn core_fsync_is_honoured_for_loose_objects_and_the_tag() {
    let r = packed_repo();
    let mbox = write_mbox(&r, &series(2, "sync"));
    assert_eq!(
        fsyncs_of_apply(&r, &mbox),
        0,
        "nothing asked, nothing synced"
    );
    // New content, so that the objects are written again.
    let mbox = write_mbox(&r, &series(2, "sync").replace("+x", "+y"));
    r.git(&["config", "core.fsync", "loose-object,reference"]);
    let synced = fsyncs_of_apply(&r, &mbox);
    // 2 blobs, trees, 2 commits, their directories, the tag and its directory.
    assert!(synced >= 8, "only {synced} fsync calls");
    assert_fsck_clean(&r);
}
