//! A series based on several series: applied on the merge of their tags, which must
//! give the tree that `git merge` of the tags followed by `git am` gives. C git is
//! the oracle; the base tags are made by C git too (lightweight, as older versions
//! of git-patchew made them).

use crate::support;

use std::process::Output;

use support::git::{stderr, TestRepo};

/// A project with three files, and three applied "series" tagged on side commits:
/// `a@x` and `b@x` change different files, `clash@x` changes what `a@x` changes.
fn project() -> TestRepo {
    let r = TestRepo::new();
    r.write("a.c", "a 1\na 2\na 3\n");
    r.write("b.c", "b 1\nb 2\nb 3\n");
    r.write("c.c", "c 1\n");
    r.commit("base");
    for (tag, file, content) in [
        ("a@x", "a.c", "a 1\na two\na 3\n"),
        ("b@x", "b.c", "b 1\nb 2\nb three\n"),
        ("clash@x", "a.c", "a 1\na deux\na 3\n"),
    ] {
        r.git(&["checkout", "-q", "--detach", "main"]);
        r.write(file, content);
        r.commit(&format!("series {tag}"));
        r.git(&["tag", &format!("patchew/{tag}")]);
    }
    r.git(&["checkout", "-q", "main"]);
    r
}

/// On the merge of the tags of `bases` (by C git), a patch that needs all of them;
/// returns the mbox with a cover letter naming `based_on`, and the mbox of the
/// patch alone (what `git am` takes).
fn series(r: &TestRepo, bases: &[&str], based_on: &[&str]) -> (String, String) {
    r.git(&[
        "checkout",
        "-q",
        "--detach",
        &format!("patchew/{}", bases[0]),
    ]);
    for b in &bases[1..] {
        r.git(&["merge", "-q", "--no-edit", &format!("patchew/{b}")]);
    }
    let a = std::fs::read_to_string(r.path.join("a.c")).unwrap();
    r.write("a.c", a.replace("a 3", "a three"));
    r.write("c.c", "c 1\nc 2\n");
    r.commit("use both bases\n\nBody.");
    let patch = r.git(&["format-patch", "--stdout", "-1", "HEAD"]);
    let with_cover = r.git(&[
        "format-patch",
        "--stdout",
        "--thread",
        "--cover-letter",
        "-1",
        "HEAD",
    ]);
    let lines: String = based_on
        .iter()
        .map(|b| format!("Based-on: <{b}>\n"))
        .collect();
    r.git(&["checkout", "-q", "main"]);
    (with_cover.replace("*** BLURB HERE ***\n", &lines), patch)
}

fn apply(r: &TestRepo, mbox: &str) -> Output {
    let path = r.scratch("series.mbox");
    std::fs::write(&path, mbox).unwrap();
    r.patchew(
        &r.path,
        &[
            "apply",
            "--no-ci",
            "--json",
            "--mbox",
            path.to_str().unwrap(),
        ],
    )
}

/// C git's result: merge the base tags in order, then `git am` the patch.
fn git_merge_then_am(r: &TestRepo, bases: &[&str], patch: &str) -> String {
    r.git(&[
        "checkout",
        "-q",
        "--detach",
        &format!("patchew/{}", bases[0]),
    ]);
    for b in &bases[1..] {
        r.git(&["merge", "-q", "--no-edit", &format!("patchew/{b}")]);
    }
    let out = r.git_with_input(&r.path, &["am", "-q"], patch.as_bytes());
    assert!(out.status.success(), "{}", stderr(&out));
    let tree = r.git(&["rev-parse", "HEAD^{tree}"]);
    r.git(&["checkout", "-q", "main"]);
    tree
}

fn series_tags(r: &TestRepo) -> Vec<String> {
    r.git(&["for-each-ref", "--format=%(refname)", "refs/tags/patchew/"])
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn two_bases_give_the_tree_of_git_merge_then_git_am() {
    let r = project();
    for order in [["a@x", "b@x"], ["b@x", "a@x"]] {
        let (mbox, patch) = series(&r, &order, &order);
        let out = apply(&r, &mbox);
        assert!(out.status.success(), "{order:?}: {}", stderr(&out));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let head = report["head"].as_str().unwrap();
        let base = report["base"].as_str().unwrap();
        assert_eq!(
            r.git(&["rev-parse", &format!("{head}^{{tree}}")]),
            git_merge_then_am(&r, &order, &patch),
            "{order:?}"
        );
        // The base is a merge commit of the two tags, in line order, naming each.
        let parents = r.git(&["rev-parse", &format!("{base}^1"), &format!("{base}^2")]);
        let want: Vec<String> = order
            .iter()
            .map(|b| r.git(&["rev-parse", &format!("patchew/{b}^{{commit}}")]))
            .collect();
        assert_eq!(parents.lines().collect::<Vec<_>>(), want, "{order:?}");
        let message = r.git(&["log", "-1", "--format=%B", base]);
        for b in order {
            assert!(message.contains(&format!("Based-on: <{b}>")), "{message}");
        }
        assert_eq!(r.git(&["rev-parse", &format!("{head}~1")]), base);
        let tag = format!("refs/tags/{}", report["tag"].as_str().unwrap());
        let story = r.git(&["cat-file", "tag", &tag]);
        let want_line = format!(
            "Patchew-Base: {base} (Based-on <{}>, <{}>)",
            order[0], order[1]
        );
        assert!(story.contains(&want_line), "{story}");
        r.git(&["tag", "-d", report["tag"].as_str().unwrap()]);
    }
    let fsck = r
        .command("git", &r.path)
        .args(["fsck", "--strict"])
        .output()
        .unwrap();
    assert!(fsck.status.success(), "{}", stderr(&fsck));
}

#[test]
fn conflicting_bases_fail_naming_them_and_write_no_ref() {
    let r = project();
    let (mbox, _) = series(&r, &["a@x"], &["a@x", "clash@x"]);
    // C git agrees that the two bases conflict.
    r.git(&["checkout", "-q", "--detach", "patchew/a@x"]);
    let merged = r
        .command("git", &r.path)
        .args(["merge", "-q", "--no-edit", "patchew/clash@x"])
        .output()
        .unwrap();
    assert!(!merged.status.success());
    r.git(&["merge", "--abort"]);
    r.git(&["checkout", "-q", "main"]);
    let before = series_tags(&r);

    let out = apply(&r, &mbox);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("<a@x>") && err.contains("<clash@x>") && err.contains("a.c"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert_eq!(series_tags(&r), before);
}

#[test]
fn a_missing_base_fails_naming_it_and_writes_no_ref() {
    let r = project();
    let (mbox, _) = series(&r, &["a@x"], &["a@x", "nowhere@x"]);
    // Looked for on a hub that is down, named by a URL with credentials in it.
    let hub = support::refused_url().replace("http://", "http://applier:s3cret@");
    r.git(&["config", "patchew.remote", &format!("{hub}/hub.git")]);
    let before = series_tags(&r);
    let out = apply(&r, &mbox);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("refs/tags/patchew/nowhere@x"), "{err}");
    assert!(
        !err.contains("s3cret") && err.contains("http://127.0.0.1:"),
        "{err}"
    );
    assert!(
        !err.contains("refs/tags/patchew/a@x"),
        "only the missing one: {err}"
    );
    assert_eq!(series_tags(&r), before);
}
