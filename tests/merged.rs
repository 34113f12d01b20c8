//! The patch ids `src/merged.rs` computes from a series' mails are the ones C git's
//! `git patch-id --stable` computes from the same mails (the oracle), except for a
//! change of mode alone, where format-patch's own id (which the commits' ids follow)
//! differs from it; and they find the commits the mails came from.

use crate::support;

use support::git::TestRepo;

/// Commits of every kind of change, mailed by `git format-patch`.
fn mailed_series(r: &TestRepo) -> (String, Vec<String>) {
    r.write("a.txt", "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\n");
    r.write("gone.txt", "bye\n");
    r.write("tail.txt", "no newline at the end");
    r.commit("base");
    let start = r.git(&["rev-parse", "HEAD"]);
    r.write("a.txt", "one\n2\nthree\nfour\nfive\nsix\nseven\nEIGHT\n");
    r.commit("two hunks");
    r.write("new dir/b.txt", "\tindented  line \n");
    r.commit("a file with a space in its path");
    r.remove("gone.txt");
    r.commit("a deletion");
    r.write("tail.txt", "still no newline");
    r.commit("no newline at the end");
    r.git(&["update-index", "--chmod=+x", "a.txt"]);
    r.git(&["commit", "-qm", "mode only"]);
    r.write(
        "a.txt",
        "zero\none\n2\nthree\nfour\nfive\nsix\nseven\nEIGHT\n",
    );
    r.git(&["update-index", "--chmod=-x", "a.txt"]);
    r.commit("mode and content");
    let mbox = r.git(&["format-patch", "--stdout", &format!("{start}..HEAD")]);
    let commits = r
        .git(&["rev-list", "--reverse", &format!("{start}..HEAD")])
        .lines()
        .map(str::to_owned)
        .collect();
    (mbox, commits)
}

#[test]
fn mail_patch_ids_are_gits() {
    let r = TestRepo::new();
    let (mbox, commits) = mailed_series(&r);
    let ours = git_patchew::apply::merged::series_patch_ids(mbox.as_bytes(), None)
        .expect("every patch has an id");
    let oracle = r.git_with_input(&r.path, &["patch-id", "--stable"], mbox.as_bytes());
    assert!(oracle.status.success());
    let gits: Vec<String> = String::from_utf8(oracle.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split(' ').next().unwrap().to_owned())
        .collect();
    assert_eq!(ours.len(), commits.len());
    assert_eq!(gits.len(), commits.len());
    let mode_only = 4;
    for (i, (a, b)) in ours.iter().zip(&gits).enumerate() {
        assert_eq!(a == b, i != mode_only, "patch {}: {a} {b}", i + 1);
    }
    // The same ids from the commits, as the search through mainline computes them.
    let repo = git_patchew::repo::Repo::discover(&r.path).unwrap();
    let head = repo.try_resolve_commit("HEAD").unwrap();
    let found = git_patchew::apply::merged::find_all(&repo, head, &ours).unwrap();
    let found: Vec<String> = found
        .expect("every patch is in HEAD's history")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(found, commits);
}
