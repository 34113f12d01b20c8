//! The 3-way fallback against C git: a patch whose hunks no longer apply is merged
//! in from the preimage blobs named on its `index` lines, and the result must be the
//! tree `git am -3 --keep-cr` gives on the same mail; where git am -3 fails, so do we.

use crate::support;

use std::path::Path;
use std::process::Output;
use std::time::Instant;

use support::git::{stderr, stdout, TestRepo};

fn numbered(n: usize) -> String {
    (1..=n).map(|i| format!("line {i}\n")).collect()
}

fn replace_line(text: &str, line: usize, with: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == line {
                format!("{with}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect()
}

/// `git patchew apply --mbox <mbox> --base <base> --no-ci <extra>` in `dir`.
fn patchew_apply(r: &TestRepo, dir: &Path, mbox: &[u8], base: &str, extra: &[&str]) -> Output {
    let path = r.scratch("three-way.mbox");
    std::fs::write(&path, mbox).unwrap();
    let mut args = vec![
        "apply",
        "--mbox",
        path.to_str().unwrap(),
        "--base",
        base,
        "--no-ci",
    ];
    args.extend_from_slice(extra);
    r.patchew(dir, &args)
}

/// Runs `git am -3 --keep-cr` of `mbox` on `base` in a fresh clone; returns the new
/// commits, oldest first, or git's stderr when it fails.
fn git_am_3(r: &TestRepo, base: &str, mbox: &[u8]) -> Result<Vec<String>, String> {
    let am_dir = r.clone_to("am", &[]);
    r.git_in(&am_dir, &["checkout", "-q", "--detach", base]);
    let out = r.git_with_input(&am_dir, &["am", "-q", "-3", "--keep-cr"], mbox);
    if !out.status.success() {
        return Err(stderr(&out));
    }
    Ok(r.git_in(
        &am_dir,
        &["rev-list", "--reverse", &format!("{base}..HEAD")],
    )
    .lines()
    .map(str::to_owned)
    .collect())
}

fn one_error_line(out: &Output) -> String {
    let err = stderr(out);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one-line error expected: {err}");
    lines[0].to_owned()
}

#[test]
fn series_made_on_an_ancestor_applies_through_the_fallback_like_git_am_3() {
    let r = TestRepo::new();
    r.write("a.txt", numbered(30));
    r.write("b.txt", numbered(20));
    let p = r.commit("base");

    r.git(&["checkout", "-q", "-b", "topic"]);
    r.write("a.txt", replace_line(&numbered(30), 10, "topic ten"));
    r.commit("topic: change ten");
    let a2 = replace_line(
        &replace_line(&numbered(30), 10, "topic ten"),
        20,
        "topic 20",
    );
    r.write("a.txt", &a2);
    r.write("b.txt", replace_line(&numbered(20), 5, "topic five"));
    r.commit("topic: change twenty and b");
    let mbox = r.git_bytes(&["format-patch", "--stdout", &format!("{p}..topic")]);

    // The target moved on: lines 8 and 12 are in the context of patch 1's hunk, so
    // it does not apply as is; line 15 of b.txt is outside patch 2's.
    r.git(&["checkout", "-q", "main"]);
    r.write(
        "a.txt",
        replace_line(&replace_line(&numbered(30), 8, "main eight"), 12, "main 12"),
    );
    r.write("b.txt", replace_line(&numbered(20), 15, "main fifteen"));
    let target = r.commit("main: other lines");

    let am = git_am_3(&r, &target, &mbox).expect("git am -3 applies the series");

    let out = patchew_apply(&r, &r.path, &mbox, &target, &["--no-tag", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let commits = report["commits"].as_array().unwrap();
    let ours: Vec<&str> = commits
        .iter()
        .map(|c| c["commit"].as_str().unwrap())
        .collect();
    // Same tree, author, message, committer and parent: the very commits of git am -3.
    assert_eq!(ours, am);
    assert_eq!(commits[0]["three_way"], true);
    assert_eq!(commits[1]["three_way"], false);
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("patch 1/2") && warnings.contains("3-way") && warnings.contains("a.txt"),
        "{warnings}"
    );
    assert!(!warnings.contains("patch 2/2"), "{warnings}");
    assert!(
        stderr(&out).contains("3-way merge: a.txt"),
        "{}",
        stderr(&out)
    );

    // Without the fallback: refused, exit 1, nothing written.
    let refs_before = r.git(&["for-each-ref"]);
    let out = patchew_apply(&r, &r.path, &mbox, &target, &["--no-3way"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = one_error_line(&out);
    assert!(
        err.contains("patch 1/2")
            && err.contains("a.txt")
            && err.contains("3-way fallback disabled"),
        "{err}"
    );
    assert_eq!(r.git(&["for-each-ref"]), refs_before);
    // The last of --3way/--no-3way wins.
    let out = patchew_apply(
        &r,
        &r.path,
        &mbox,
        &target,
        &["--no-3way", "-3", "--no-tag"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = patchew_apply(
        &r,
        &r.path,
        &mbox,
        &target,
        &["--3way", "--no-3way", "--no-tag"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn real_conflict_fails_with_the_line_ranges_and_writes_no_ref() {
    let r = TestRepo::new();
    r.write("f.txt", numbered(30));
    r.write("g.txt", "untouched\n");
    let p = r.commit("base");
    r.git(&["checkout", "-q", "-b", "topic"]);
    r.write("f.txt", replace_line(&numbered(30), 10, "topic ten"));
    r.commit("topic: change ten");
    let mbox = r.git_bytes(&[
        "format-patch",
        "--stdout",
        "--thread",
        &format!("{p}..topic"),
    ]);
    r.git(&["checkout", "-q", "main"]);
    r.write(
        "f.txt",
        replace_line(&replace_line(&numbered(30), 10, "main ten"), 11, "main 11"),
    );
    let target = r.commit("main: change ten and eleven");
    assert!(
        git_am_3(&r, &target, &mbox).is_err(),
        "git am -3 conflicts too"
    );

    let refs_before = r.git(&["for-each-ref"]);
    let out = patchew_apply(&r, &r.path, &mbox, &target, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = one_error_line(&out);
    assert!(
        err.contains("patch 1/1")
            && err.contains("topic: change ten")
            && err.contains("f.txt")
            && err.contains("conflicts at lines 10-11 (preimage lines 10-11)"),
        "{err}"
    );
    assert_eq!(r.git(&["for-each-ref"]), refs_before, "no ref may change");
    assert!(stdout(&out).is_empty());
}

#[test]
fn unknown_preimage_says_why_the_fallback_was_impossible() {
    // The mail comes from another repository, where the file had another history.
    let elsewhere = TestRepo::new();
    elsewhere.write("f.txt", format!("elsewhere\n{}", numbered(20)));
    elsewhere.commit("their base");
    elsewhere.write(
        "f.txt",
        format!("elsewhere\n{}", replace_line(&numbered(20), 5, "five")),
    );
    elsewhere.commit("change five");
    let mbox = elsewhere.git_bytes(&["format-patch", "--stdout", "-1", "HEAD"]);

    let r = TestRepo::new();
    r.write("f.txt", replace_line(&numbered(20), 3, "here three"));
    let target = r.commit("ours");
    let am = git_am_3(&r, &target, &mbox).expect_err("git am -3 cannot fall back either");
    assert!(am.contains("sha1 information is lacking"), "{am}");

    let out = patchew_apply(&r, &r.path, &mbox, &target, &["--no-tag"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = one_error_line(&out);
    assert!(
        err.contains("patch 1/1")
            && err.contains("f.txt")
            && err.contains("3-way merge impossible")
            && err.contains("is not in this repository")
            && err.contains("does not apply"),
        "{err}"
    );
}

#[test]
fn rename_with_an_edit_that_needs_the_fallback() {
    let r = TestRepo::new();
    r.write("old.txt", numbered(40));
    r.write("mode.sh", numbered(12));
    let p = r.commit("base");
    r.git(&["checkout", "-q", "-b", "topic"]);
    r.git(&["mv", "old.txt", "new.txt"]);
    r.write("new.txt", replace_line(&numbered(40), 15, "topic fifteen"));
    r.write("mode.sh", replace_line(&numbered(12), 6, "topic six"));
    let exec = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    std::fs::set_permissions(r.path.join("mode.sh"), exec).unwrap();
    r.commit("topic: rename, edit and make executable");
    let mbox = r.git_bytes(&["format-patch", "--stdout", "-M", &format!("{p}..topic")]);
    assert!(String::from_utf8_lossy(&mbox).contains("rename from old.txt"));

    r.git(&["checkout", "-q", "main"]);
    r.write("old.txt", replace_line(&numbered(40), 13, "main thirteen"));
    r.write("mode.sh", replace_line(&numbered(12), 8, "main eight"));
    let target = r.commit("main: edit in the context of both hunks");

    let am = git_am_3(&r, &target, &mbox).expect("git am -3 applies it");
    let bare = r.clone_to("bare.git", &["--bare"]);
    let out = patchew_apply(&r, &bare, &mbox, &target, &["--no-tag", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["commits"][0]["three_way"], true);
    let head = report["head"].as_str().unwrap();
    let am_dir = r.scratch("am");
    assert_eq!(
        r.git_in(&bare, &["rev-parse", &format!("{head}^{{tree}}")]),
        r.git_in(&am_dir, &["rev-parse", &format!("{}^{{tree}}", am[0])]),
    );
    let merged = r.git_in(&bare, &["show", &format!("{head}:new.txt")]);
    assert!(merged.contains("topic fifteen") && merged.contains("main thirteen"));
    assert!(r
        .git_in(&bare, &["ls-tree", head, "mode.sh"])
        .starts_with("100755"));
    r.git_in(&bare, &["fsck", "--strict", "--no-dangling"]);
}

#[test]
fn binary_file_changed_on_both_sides_fails_clearly() {
    let r = TestRepo::new();
    r.write("data.bin", b"\0base\0data\0".as_slice());
    let p = r.commit("base");
    r.git(&["checkout", "-q", "-b", "topic"]);
    r.write("data.bin", b"\0their\0data\0".as_slice());
    r.commit("topic: binary");
    let mbox = r.git_bytes(&[
        "format-patch",
        "--stdout",
        "--binary",
        &format!("{p}..topic"),
    ]);
    r.git(&["checkout", "-q", "main"]);
    r.write("data.bin", b"\0our\0data\0".as_slice());
    let target = r.commit("main: binary");
    assert!(git_am_3(&r, &target, &mbox).is_err());
    let out = patchew_apply(&r, &r.path, &mbox, &target, &["--no-tag"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = one_error_line(&out);
    assert!(err.contains("data.bin") && err.contains("binary"), "{err}");

    // Already applied on the target: unambiguous, and nothing left to commit.
    r.write("data.bin", b"\0their\0data\0".as_slice());
    let target = r.commit("main: same binary change");
    let out = patchew_apply(&r, &r.path, &mbox, &target, &["--no-tag"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), target);
    assert!(stderr(&out).contains("no changes"), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------------
// Generated cases against git am -3.

/// xorshift64*, seeded: the same cases on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// Lines that recur in real files, so that diffs have ambiguous matches to choose
/// from, as they do in code.
const COMMON: &[&str] = &["", "}", "{", "    return 0;", "#endif"];

fn new_line(rng: &mut Rng, tag: &str, counter: &mut usize) -> String {
    if rng.chance(35) {
        COMMON[rng.below(COMMON.len())].to_owned()
    } else {
        *counter += 1;
        format!("{tag} {counter}")
    }
}

/// One to `max_ops` random replacements, insertions or deletions.
fn random_edit(
    rng: &mut Rng,
    lines: &[String],
    max_ops: usize,
    tag: &str,
    counter: &mut usize,
) -> Vec<String> {
    let mut out = lines.to_vec();
    for _ in 0..1 + rng.below(max_ops) {
        let n = out.len();
        match rng.below(4) {
            0 if n > 0 => {
                let i = rng.below(n);
                out[i] = new_line(rng, tag, counter);
            }
            1 if n > 2 => {
                let i = rng.below(n - 1);
                out.drain(i..i + 1 + rng.below(2));
            }
            2 if n > 1 => {
                let i = rng.below(n - 1);
                out[i] = new_line(rng, tag, counter);
                out[i + 1] = new_line(rng, tag, counter);
            }
            _ => {
                let i = rng.below(n + 1);
                for _ in 0..1 + rng.below(2) {
                    out.insert(i, new_line(rng, tag, counter));
                }
            }
        }
    }
    out
}

struct Case {
    base: Vec<String>,
    theirs: Vec<String>,
    ours: Vec<String>,
}

fn generate(rng: &mut Rng, id: usize) -> Case {
    let mut counter = 0;
    let base: Vec<String> = (0..4 + rng.below(36))
        .map(|j| {
            if rng.chance(45) {
                COMMON[rng.below(COMMON.len())].to_owned()
            } else {
                format!("c{id} l{j}")
            }
        })
        .collect();
    let theirs = loop {
        let t = random_edit(rng, &base, 4, "theirs", &mut counter);
        if t != base {
            break t;
        }
    };
    let ours = match rng.below(10) {
        // The same change already made on the target.
        0 => theirs.clone(),
        // The same change and another one.
        1 => random_edit(rng, &theirs, 2, "ours", &mut counter),
        _ => random_edit(rng, &base, 2, "ours", &mut counter),
    };
    Case { base, theirs, ours }
}

/// Every line ends with a newline. Files whose last line has none are left out on
/// purpose: with them, git am -3 differs from git merge-file (and from us) before any
/// merge happens. Its first step, git apply, matches a context line marked `\ No
/// newline at end of file` against a line that has one, anywhere in the file, and
/// writes the line without it: measured here, base `"x\n    return 0;"`, the patch
/// adds a second `    return 0;` line, and applied to a target that already has it,
/// git am -3 applies it as is and writes `"x\n    return 0;\n    return 0;    return 0;"`,
/// where our patch application does not match and the merge finds it already applied.
/// That is a property of direct application, not of the 3-way fallback under test.
fn text(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

#[derive(Default, Debug)]
struct Tally {
    direct: usize,
    three_way: usize,
    already_applied: usize,
    conflict: usize,
    mismatch: Vec<String>,
}

/// One repository, one small file per case. Their edits are commits on a side
/// branch (mailed with format-patch, one patch per case), our edits one commit on the
/// target. Each patch is applied alone on the target by git am -3 in the worktree and
/// by git-patchew into the same object database, and the trees compared.
fn run_cases(seed: u64, count: usize) -> Tally {
    let r = TestRepo::new();
    r.git(&["config", "gc.auto", "0"]);
    let mut rng = Rng(seed);
    let cases: Vec<Case> = (0..count).map(|i| generate(&mut rng, i)).collect();
    let name = |i: usize| format!("c{i:03}.txt");
    for (i, c) in cases.iter().enumerate() {
        r.write(&name(i), text(&c.base));
    }
    let p = r.commit("base");
    r.git(&["checkout", "-q", "-b", "theirs"]);
    for (i, c) in cases.iter().enumerate() {
        r.write(&name(i), text(&c.theirs));
        r.git(&["commit", "-q", "-a", "-m", &format!("case {i}")]);
    }
    let patches = r.scratch("patches");
    r.git(&[
        "format-patch",
        "-q",
        "--no-numbered",
        "-o",
        patches.to_str().unwrap(),
        &format!("{p}..theirs"),
    ]);
    let mut files: Vec<_> = std::fs::read_dir(&patches)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), count);
    r.git(&["checkout", "-q", "-b", "target", &p]);
    for (i, c) in cases.iter().enumerate() {
        r.write(&name(i), text(&c.ours));
    }
    let target = r.commit("ours");
    r.git(&["checkout", "-q", "--detach", &target]);

    let mut tally = Tally::default();
    for (i, patch) in files.iter().enumerate() {
        let patch = patch.to_str().unwrap();
        let am = r
            .command("git", &r.path)
            .args(["am", "-q", "-3", "--keep-cr", patch])
            .output()
            .unwrap();
        let am_tree = if am.status.success() {
            let tree = r.git(&["rev-parse", "HEAD^{tree}"]);
            r.git(&["checkout", "-q", "-f", "--detach", &target]);
            Some(tree)
        } else {
            r.git(&["am", "--abort"]);
            None
        };
        let ours = r.patchew(
            &r.path,
            &[
                "apply", "--mbox", patch, "--base", &target, "--no-ci", "--no-tag", "--json",
            ],
        );
        let report: Option<serde_json::Value> = ours
            .status
            .success()
            .then(|| serde_json::from_slice(&ours.stdout).expect("JSON report"));
        let our_tree = report.as_ref().map(|rep| {
            r.git(&[
                "rev-parse",
                &format!("{}^{{tree}}", rep["head"].as_str().unwrap()),
            ])
        });
        match (&am_tree, &our_tree, &report) {
            (Some(a), Some(o), Some(rep)) if a == o => {
                if rep["commits"][0]["commit"].is_null() {
                    tally.already_applied += 1;
                } else if rep["commits"][0]["three_way"] == true {
                    tally.three_way += 1;
                } else {
                    tally.direct += 1;
                }
            }
            (None, None, _) if ours.status.code() == Some(1) => tally.conflict += 1,
            _ => tally.mismatch.push(format!(
                "case {i} (seed {seed}): git am -3 {}, git-patchew {}\nbase: {:?}\nours: {:?}\ntheirs: {:?}",
                if am.status.success() {
                    "applied"
                } else {
                    "failed"
                },
                if ours.status.success() {
                    "applied".to_owned()
                } else {
                    format!("failed: {}", stderr(&ours).trim())
                },
                text(&cases[i].base),
                text(&cases[i].ours),
                text(&cases[i].theirs),
            )),
        }
    }
    tally
}

#[test]
fn generated_cases_give_git_am_3s_tree_or_fail_with_it() {
    let started = Instant::now();
    // Two repositories side by side: the work is mostly process start-up, on 2 cores.
    let tallies: Vec<Tally> = std::thread::scope(|s| {
        let runs: Vec<_> = [(0x5eed_0001, 130), (0x5eed_0002, 130)]
            .into_iter()
            .map(|(seed, n)| s.spawn(move || run_cases(seed, n)))
            .collect();
        runs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut total = Tally::default();
    for t in tallies {
        total.direct += t.direct;
        total.three_way += t.three_way;
        total.already_applied += t.already_applied;
        total.conflict += t.conflict;
        total.mismatch.extend(t.mismatch);
    }
    let cases = total.direct
        + total.three_way
        + total.already_applied
        + total.conflict
        + total.mismatch.len();
    println!(
        "{cases} generated cases in {:.1?}: {} applied as is, {} clean through the 3-way merge, {} already applied, {} conflicts (both fail), {} mismatches",
        started.elapsed(),
        total.direct,
        total.three_way,
        total.already_applied,
        total.conflict,
        total.mismatch.len()
    );
    assert!(cases >= 200);
    assert!(
        total.mismatch.is_empty(),
        "results differ from git am -3:\n{}",
        total.mismatch.join("\n---\n")
    );
    // The generator must exercise both outcomes of the merge, not just one.
    assert!(total.three_way >= 20 && total.conflict >= 20, "{total:?}");
}

#[test]
fn directory_becomes_file_in_a_patch_that_needs_the_fallback() {
    // The whole patch goes through the merge (its a.txt hunk no longer applies), and
    // the creation of `dir` must still wait for the deletions under `dir/`.
    let r = TestRepo::new();
    r.write("a.txt", numbered(20));
    r.write("dir/x", "x\n");
    r.write("dir/sub/y", "y\n");
    r.write("file", "f\n");
    let base = r.commit("base");
    r.write("a.txt", replace_line(&numbered(20), 5, "five"));
    std::fs::remove_dir_all(r.path.join("dir")).unwrap();
    r.write("dir", "now a file\n");
    r.remove("file");
    r.write("file/inner", "now a directory\n");
    r.commit("dir and file swap kinds");
    let mbox = r.git_bytes(&["format-patch", "--stdout", "-1", "HEAD"]);
    r.git(&["checkout", "-q", "--detach", &base]);
    r.write("a.txt", replace_line(&numbered(20), 8, "eight here"));
    let target = r.commit("ours");

    let am = git_am_3(&r, &target, &mbox).expect("git am -3 applies it");
    let out = patchew_apply(&r, &r.path, &mbox, &target, &["--no-tag"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(vec![stdout(&out).trim().to_owned()], am);
}

/// A history of `n` commits that each set `f` to its own version of 10 lines
/// (line 6 is `value <i>`), made in one `git fast-import`: enough objects that many
/// 4-digit prefixes are shared. Returns the objects by 4-digit prefix, each as
/// (id, type).
fn many_objects(
    r: &TestRepo,
    n: usize,
) -> std::collections::BTreeMap<String, Vec<(String, String)>> {
    let mut stream = String::new();
    for i in 1..=n {
        let content = version(i);
        stream.push_str(&format!(
            "commit refs/heads/main\ncommitter C O Mitter <committer@example.com> 1700000000 +0000\ndata 2\nv{}\nM 100644 inline f\ndata {}\n{content}\n",
            i % 10,
            content.len()
        ));
    }
    let out = r.git_with_input(&r.path, &["fast-import", "--quiet"], stream.as_bytes());
    assert!(out.status.success(), "{}", stderr(&out));
    objects_by_prefix(r)
}

fn objects_by_prefix(r: &TestRepo) -> std::collections::BTreeMap<String, Vec<(String, String)>> {
    let mut groups = std::collections::BTreeMap::<String, Vec<(String, String)>>::new();
    let all = r.git(&[
        "cat-file",
        "--batch-all-objects",
        "--batch-check=%(objectname) %(objecttype)",
    ]);
    for line in all.lines() {
        let (id, kind) = line.split_once(' ').unwrap();
        groups
            .entry(id[..4].to_owned())
            .or_default()
            .push((id.to_owned(), kind.to_owned()));
    }
    groups
}

fn version(i: usize) -> String {
    format!("1\n2\n3\n4\n5\nvalue {i}\n7\n8\n9\n10\n")
}

/// A mail changing line 3 of the blob `blob` (one of [`many_objects`]'s versions of
/// `f`), its `index` line abbreviated to 4 digits. On the tip its hunk fails (line 6
/// differs), and the merge with the preimage is clean.
fn mail_on_blob(r: &TestRepo, blob: &str, branch: &str) -> Vec<u8> {
    let content = r.git(&["cat-file", "-p", blob]) + "\n";
    let i: usize = content.lines().nth(5).unwrap()["value ".len()..]
        .parse()
        .unwrap();
    let n: usize = r.git(&["rev-list", "--count", "main"]).parse().unwrap();
    r.git(&[
        "checkout",
        "-q",
        "-f",
        "-B",
        branch,
        &format!("main~{}", n - i),
    ]);
    assert_eq!(std::fs::read_to_string(r.path.join("f")).unwrap(), content);
    r.write("f", content.replace("3\n", "three\n"));
    r.commit("change three");
    let mail = String::from_utf8(r.git_bytes(&["format-patch", "--stdout", "-1", "HEAD"])).unwrap();
    let full = format!("index {}", &blob[..7]);
    assert!(mail.contains(&full), "{mail}");
    mail.replace(&full, &format!("index {}", &blob[..4]))
        .into_bytes()
}

#[test]
fn a_short_preimage_id_shared_with_other_objects_resolves_among_blobs() {
    let r = TestRepo::new();
    let groups = many_objects(&r, 3000);
    let tip = r.git(&["rev-parse", "main"]);
    let is_blob = |o: &(String, String)| o.1 == "blob";
    // A prefix shared by one blob and other objects (commits or trees): git am -3
    // takes the blob. The mail's own new objects must not spoil the choice.
    let shared: Vec<String> = groups
        .values()
        .filter(|g| g.len() > 1 && g.iter().filter(|o| is_blob(o)).count() == 1)
        .map(|g| g.iter().find(|o| is_blob(o)).unwrap().0.clone())
        .filter(|b| b != &r.git(&["rev-parse", "main:f"]))
        .collect();
    let (blob, mbox) = shared
        .iter()
        .enumerate()
        .find_map(|(k, blob)| {
            let mbox = mail_on_blob(&r, blob, &format!("try{k}"));
            let group = &objects_by_prefix(&r)[&blob[..4]];
            (group.iter().filter(|o| is_blob(o)).count() == 1).then(|| (blob.clone(), mbox))
        })
        .expect("a prefix shared by a blob and non-blobs only");
    assert!(
        r.git_with_input(&r.path, &["rev-parse", "--verify", "-q", &blob[..4]], b"")
            .status
            .code()
            != Some(0),
        "the prefix alone is ambiguous"
    );

    let am = git_am_3(&r, &tip, &mbox).expect("git am -3 resolves the prefix among blobs");
    let out = patchew_apply(&r, &r.path, &mbox, &tip, &["--no-tag"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(vec![stdout(&out).trim().to_owned()], am);
}

#[test]
fn a_short_preimage_id_shared_by_two_blobs_is_called_ambiguous() {
    let r = TestRepo::new();
    let groups = many_objects(&r, 3000);
    let tip = r.git(&["rev-parse", "main"]);
    let blob = groups
        .values()
        .find_map(|g| {
            let blobs: Vec<&String> = g.iter().filter(|o| o.1 == "blob").map(|o| &o.0).collect();
            (blobs.len() > 1).then(|| blobs[0].clone())
        })
        .expect("two blobs with the same 4-digit prefix");
    let mbox = mail_on_blob(&r, &blob, "patch");

    let am = git_am_3(&r, &tip, &mbox).expect_err("git am -3 cannot pick a blob either");
    assert!(am.contains("sha1 information is lacking"), "{am}");
    let out = patchew_apply(&r, &r.path, &mbox, &tip, &["--no-tag"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = one_error_line(&out);
    assert!(
        err.contains(&format!("preimage blob {} is ambiguous", &blob[..4])),
        "{err}"
    );
}
