//! `prerequisite-patch-id:` lines: our patch ids against `git patch-id --stable`,
//! and the warning for a prerequisite that the base lacks, on mails from
//! `git format-patch --base`.

use crate::support;

use git_patchew::apply::prerequisite::commit_patch_id;
use git_patchew::repo::{Oid, Repo};
use support::git::{stderr, TestRepo};

/// `git show C | git patch-id --stable`: the oracle.
fn git_patch_id(r: &TestRepo, commit: &str) -> String {
    let show = r.git_bytes(&["show", commit]);
    let out = r.git_with_input(&r.path, &["patch-id", "--stable"], &show);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    text.split(' ').next().unwrap_or_default().to_owned()
}

fn our_patch_id(r: &TestRepo, commit: &str) -> String {
    let repo = Repo::discover(&r.path).unwrap();
    let info = repo.commit_info(Oid::from_hex(commit).unwrap()).unwrap();
    commit_patch_id(&repo, info.tree, &info.parents)
        .unwrap()
        .map(|id| id.to_string())
        .unwrap_or_default()
}

fn numbered(n: usize) -> String {
    (1..=n).map(|i| format!("line {i}\n")).collect()
}

#[test]
fn patch_ids_are_those_of_git_patch_id_and_format_patch() {
    let r = TestRepo::new();
    r.write("long.txt", numbered(60));
    r.write("gone.txt", "bye\n");
    r.write("run.sh", "echo hi\n");
    r.write("sub/deep.c", "int a;\n\tint b;\n");
    r.write("tail.txt", "no newline");
    let root = r.commit("root");
    let mut commits = vec![("root commit", root)];

    // Hunks far apart, and changes 4 and 7 lines apart (shared or split context).
    let edited = numbered(60)
        .replace("line 2\n", "line two\n")
        .replace("line 6\n", "line six\n")
        .replace("line 13\n", "")
        .replace("line 40\n", "line 40\nextra\n")
        .replace("line 60\n", "sixty\n");
    r.write("long.txt", edited);
    commits.push(("hunks", r.commit("hunks")));

    r.write("new.txt", "fresh\nfile\n");
    r.remove("gone.txt");
    commits.push(("add, delete", r.commit("add, delete")));

    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        r.path.join("run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    commits.push(("mode change", r.commit("chmod")));
    assert_eq!(
        r.git(&["ls-tree", "HEAD", "run.sh"]).split(' ').next(),
        Some("100755")
    );

    r.write("sub/deep.c", "int a;\n    int  b;\nint c;\n");
    commits.push(("white space", r.commit("white space")));

    r.write("tail.txt", "still no newline, changed");
    commits.push(("no final newline", r.commit("no newline")));

    r.write("data.bin", b"\x00\x01\x02binary\x00");
    commits.push(("binary", r.commit("binary")));

    r.write("empty.txt", "");
    commits.push(("empty file", r.commit("empty")));

    // git's two routes to a patch id disagree on a binary file (git show's text has
    // abbreviated blob ids), a mode change and an empty new file (no ---/+++ lines
    // in git show's text): the text route is the oracle for changes of text only,
    // format-patch (the source of prerequisite-patch-id lines) for all.
    let text_only = |w: &&str| !["binary", "mode change", "empty file"].contains(w);
    for (what, commit) in commits.iter().filter(|(w, _)| text_only(w)) {
        let want = git_patch_id(&r, commit);
        assert_eq!(want.len(), 40, "{what}: git gave {want:?}");
        assert_eq!(our_patch_id(&r, commit), want, "{what}");
    }
    // format-patch --base lists the patch id of every commit between the base and
    // the series: all of them, the binary one included.
    let tip = r.commit("series on top");
    let mbox = r.git(&[
        "format-patch",
        "--stdout",
        &format!("--base={}", commits[0].1),
        "-1",
        &tip,
    ]);
    let mut listed: Vec<&str> = mbox
        .lines()
        .filter_map(|l| l.strip_prefix("prerequisite-patch-id: "))
        .collect();
    let mut ours: Vec<String> = commits[1..]
        .iter()
        .map(|(_, c)| our_patch_id(&r, c))
        .collect();
    listed.sort_unstable();
    ours.sort_unstable();
    assert_eq!(listed.len(), commits.len() - 1, "{mbox}");
    assert_eq!(ours, listed);
}

/// main: base; `prereq` adds a helper; the series (one patch, on `prereq`) changes
/// another file. Returns (repo, base, prereq commit, mbox from format-patch --base).
fn project() -> (TestRepo, String, String, String) {
    let r = TestRepo::new();
    r.write("lib.c", "int lib(void);\n");
    r.write("main.c", "int main(void) { return 0; }\n");
    let base = r.commit("base");
    r.write("lib.c", "int lib(void);\nint helper(void);\n");
    let prereq = r.commit("add helper");
    r.write("main.c", "int main(void) { return helper(); }\n");
    r.commit("use helper");
    let mbox = r.git(&[
        "format-patch",
        "--stdout",
        &format!("--base={base}"),
        "-1",
        "HEAD",
    ]);
    r.git(&["reset", "-q", "--hard", &base]);
    (r, base, prereq, mbox)
}

fn apply(r: &TestRepo, mbox: &str, extra: &[&str]) -> serde_json::Value {
    let path = r.scratch("s.mbox");
    std::fs::write(&path, mbox).unwrap();
    let mut args = vec![
        "apply",
        "--no-ci",
        "--no-tag",
        "--json",
        "--mbox",
        path.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = r.patchew(&r.path, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_prerequisite_missing_from_the_base_is_a_warning_naming_it() {
    let (r, base, prereq, mbox) = project();
    let id = git_patch_id(&r, &prereq);
    assert!(
        mbox.contains(&format!("prerequisite-patch-id: {id}\n")),
        "format-patch --base writes git patch-id --stable's id: {mbox}"
    );
    // Applied on its base-commit: the helper is not there.
    let report = apply(&r, &mbox, &[]);
    assert_eq!(report["base"], base.as_str());
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains(&format!("prerequisite-patch-id {id} is not in the history")),
        "{warnings}"
    );
}

#[test]
fn a_prerequisite_present_under_another_commit_id_is_found_by_patch_id() {
    let (r, base, prereq, mbox) = project();
    // The same change, picked into another branch: another commit, same patch id.
    r.git(&["checkout", "-q", "-b", "other", &base]);
    r.write("other.txt", "x\n");
    r.commit("unrelated");
    r.git(&["cherry-pick", &prereq]);
    let picked = r.git(&["rev-parse", "HEAD"]);
    assert_ne!(picked, prereq);
    assert_eq!(git_patch_id(&r, &picked), git_patch_id(&r, &prereq));
    r.git(&["checkout", "-q", "main"]);

    let report = apply(&r, &mbox, &["--base", "other"]);
    assert_eq!(report["base"], picked.as_str());
    let warnings = report["warnings"].to_string();
    assert!(!warnings.contains("prerequisite"), "{warnings}");
}
