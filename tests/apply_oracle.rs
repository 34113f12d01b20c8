//! `git patchew apply` against C git: for series made with `git format-patch`, the
//! commits we write must be the very commits `git am --keep-cr --empty=drop` writes
//! (same ids, so same tree, author, date, message and parents), and each tree must
//! be the tree of the commit the patch was made from.

use crate::support;

use support::git::{stderr, TestRepo};

/// Builds history covering what a mailed patch can carry; returns (base, tip).
fn varied_history(r: &TestRepo) -> (String, String) {
    let numbered: String = (1..=60).map(|i| format!("line {i}\n")).collect();
    r.write("text.txt", &numbered);
    r.write("gone.txt", "to be deleted\n");
    r.write("moved.txt", "moved without change\n");
    r.write("edited-move.txt", &numbered);
    r.write("copy-src.txt", &numbered);
    r.write("script.sh", "#!/bin/sh\necho hi\n");
    r.write("exec-edit.sh", "#!/bin/sh\necho one\n");
    r.write("no-newline.txt", "a\nb\nno newline");
    r.write("crlf.txt", "one\r\ntwo\r\nthree\r\nfour\r\n");
    r.write("big.bin", pseudo_random_bytes(20_000, 7));
    r.write("old.bin", [0u8, 1, 2, 3, 255, 0, 0]);
    r.write("to-link.txt", "becomes a symlink\n");
    r.write("dir/only.txt", "last file of dir\n");
    r.write("sp ace/fi le.txt", "spaces\n");
    let base = r.commit("base");

    let edited = numbered
        .replace("line 3\n", "line three\n")
        .replace("line 50\n", "line fifty\n");
    r.write("text.txt", &edited);
    r.commit("two hunks");

    r.write("new.txt", "fresh\n");
    r.remove("gone.txt");
    r.commit("add and delete");

    r.git(&["mv", "moved.txt", "renamed.txt"]);
    r.commit("pure rename");

    std::fs::create_dir_all(r.path.join("sub")).unwrap();
    r.git(&["mv", "edited-move.txt", "sub/edited-moved.txt"]);
    r.write(
        "sub/edited-moved.txt",
        numbered.replace("line 30\n", "line thirty\n"),
    );
    r.commit("rename with edit");

    r.write("copy-dst.txt", numbered.replace("line 1\n", "first\n"));
    r.commit("copy with edit");

    r.git(&["update-index", "--chmod=+x", "script.sh"]);
    r.git(&["commit", "-q", "-m", "mode only"]);

    r.write("exec-edit.sh", "#!/bin/sh\necho two\n");
    r.git(&["add", "exec-edit.sh"]);
    r.git(&["update-index", "--chmod=+x", "exec-edit.sh"]);
    r.git(&["commit", "-q", "-m", "mode and content"]);

    std::os::unix::fs::symlink("text.txt", r.path.join("link")).unwrap();
    r.commit("add symlink");
    r.remove("link");
    std::os::unix::fs::symlink("dir/only.txt", r.path.join("link")).unwrap();
    r.commit("retarget symlink");

    r.write("new.bin", pseudo_random_bytes(3000, 3));
    let mut big = pseudo_random_bytes(20_000, 7);
    big[10_000..10_010].copy_from_slice(b"0123456789");
    r.write("big.bin", big);
    r.commit("binary literal and delta");

    r.write("crlf.txt", "one\r\n2\r\nthree\r\nfour\r\nfive\r\n");
    r.write("new-crlf.txt", "x\r\ny\r\n");
    r.commit("crlf edits");

    r.write("ünïcödé/ñame.txt", "unicode\n");
    r.write("sp ace/fi le.txt", "spaces edited\n");
    r.commit("unicode and spaces");

    r.write("no-newline.txt", "a\nB\nstill no newline");
    r.commit("no newline at end");

    r.git(&["commit", "-q", "--allow-empty", "-m", "empty commit"]);

    r.remove("old.bin");
    r.remove("dir/only.txt");
    r.commit("delete binary and last file of a dir");

    r.remove("to-link.txt");
    std::os::unix::fs::symlink("new.txt", r.path.join("to-link.txt")).unwrap();
    r.commit("file becomes symlink");

    let tip = r.git(&["rev-parse", "HEAD"]);
    (base, tip)
}

fn pseudo_random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Applies `mbox` with git am (oracle) and with git-patchew in a bare clone; returns
/// both lists of new commits, oldest first.
fn both_ways(
    r: &TestRepo,
    base: &str,
    mbox: &[u8],
    am_args: &[&str],
) -> (Vec<String>, Vec<String>) {
    let mbox_path = r.scratch("series.mbox");
    std::fs::write(&mbox_path, mbox).unwrap();
    let mbox_arg = mbox_path.to_str().unwrap();

    let am_dir = r.clone_to("am", &[]);
    r.git_in(&am_dir, &["checkout", "-q", "--detach", base]);
    let mut args = vec!["am", "-q"];
    args.extend_from_slice(am_args);
    args.push(mbox_arg);
    r.git_in(&am_dir, &args);
    let am_commits = rev_list(r, &am_dir, base);

    let bare = r.clone_to("bare.git", &["--bare"]);
    let out = r.patchew(
        &bare,
        &[
            "apply", "--mbox", mbox_arg, "--base", base, "--no-ci", "--no-tag", "--json",
        ],
    );
    assert!(
        out.status.success(),
        "git patchew apply failed: {}",
        stderr(&out)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let ours: Vec<String> = report["commits"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["commit"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(report["head"].as_str(), ours.last().map(String::as_str));
    r.git_in(&bare, &["fsck", "--strict", "--no-dangling"]);
    (am_commits, ours)
}

fn rev_list(r: &TestRepo, dir: &std::path::Path, base: &str) -> Vec<String> {
    r.git_in(dir, &["rev-list", "--reverse", &format!("{base}..HEAD")])
        .lines()
        .map(str::to_owned)
        .collect()
}

fn tree_of(r: &TestRepo, dir: &std::path::Path, commit: &str) -> String {
    r.git_in(dir, &["rev-parse", &format!("{commit}^{{tree}}")])
}

#[test]
fn series_gives_the_commits_git_am_gives() {
    let r = TestRepo::new();
    let (base, tip) = varied_history(&r);
    let mbox = r.git_bytes(&[
        "format-patch",
        "--stdout",
        "--binary",
        "-M",
        "-C",
        "-C",
        &format!("{base}..{tip}"),
    ]);
    let (am, ours) = both_ways(&r, &base, &mbox, &["--keep-cr", "--empty=drop"]);
    assert_eq!(ours, am, "commit ids differ from git am's");

    // And each tree is the tree of the commit the patch came from.
    let originals: Vec<String> = rev_list(&r, &r.path, &base)
        .into_iter()
        .filter(|c| {
            r.git(&["rev-parse", &format!("{c}^{{tree}}")])
                != r.git(&["rev-parse", &format!("{c}~1^{{tree}}")])
        })
        .collect();
    let bare = r.scratch("bare.git");
    let trees: Vec<String> = ours.iter().map(|c| tree_of(&r, &bare, c)).collect();
    let want: Vec<String> = originals.iter().map(|c| tree_of(&r, &r.path, c)).collect();
    assert_eq!(trees, want);
}

#[test]
fn single_patch_with_cover_letter_series() {
    let r = TestRepo::new();
    r.write("a.txt", "a\n");
    let base = r.commit("base");
    r.write("a.txt", "a\nb\n");
    r.commit("subsystem: add b\n\nA body that explains\nwhy b is needed.\n\nSigned-off-by: A U Thor <author@example.com>");
    r.write("a.txt", "a\nb\nc\n");
    r.commit("subsystem: add c");
    let mbox = r.git_bytes(&[
        "format-patch",
        "--stdout",
        "--cover-letter",
        "-v3",
        &format!("{base}..HEAD"),
    ]);
    let (am, ours) = both_ways(&r, &base, &mbox, &["--keep-cr", "--empty=drop"]);
    assert_eq!(ours, am);
    assert_eq!(ours.len(), 2, "the cover letter is not a patch");
}

#[test]
fn crlf_mailbox_keeps_crlf_files_right_where_git_am_breaks_them() {
    let r = TestRepo::new();
    r.write("dos.txt", "alpha\r\nbeta\r\ngamma\r\n");
    r.write("unix.txt", "alpha\nbeta\n");
    let base = r.commit("base");
    r.write("dos.txt", "alpha\r\nBETA\r\ngamma\r\ndelta\r\n");
    r.write("unix.txt", "alpha\nBETA\n");
    let tip = r.commit("edit both");
    let mbox = r.git_bytes(&["format-patch", "--stdout", "-1", &tip]);
    // A mailer that stores the whole mailbox with CRLF line ends.
    let crlf: Vec<u8> = String::from_utf8(mbox)
        .unwrap()
        .replace("\r\n", "\n")
        .replace('\n', "\r\n")
        .into_bytes();
    let mbox_path = r.scratch("crlf.mbox");
    std::fs::write(&mbox_path, &crlf).unwrap();

    let bare = r.clone_to("bare.git", &["--bare"]);
    let out = r.patchew(
        &bare,
        &[
            "apply",
            "--mbox",
            mbox_path.to_str().unwrap(),
            "--base",
            &base,
            "--no-ci",
            "--no-tag",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let head = support::git::stdout(&out).trim().to_owned();
    assert_eq!(tree_of(&r, &bare, &head), tree_of(&r, &r.path, &tip));
}

#[test]
fn failing_hunk_names_patch_file_and_hunk_and_writes_no_ref() {
    let r = TestRepo::new();
    r.write("f.txt", "one\ntwo\nthree\n");
    let base = r.commit("base");
    r.write("f.txt", "one\n2\nthree\n");
    r.commit("change two");
    let mbox = r.git_bytes(&["format-patch", "--stdout", "-1", "HEAD"]);
    // A base where the context is gone.
    r.git(&["checkout", "-q", "-b", "other", &base]);
    r.write("f.txt", "uno\ndos\ntres\n");
    let other = r.commit("rewrite");
    let mbox_path = r.scratch("p.mbox");
    std::fs::write(&mbox_path, mbox).unwrap();
    let refs_before = r.git(&["for-each-ref"]);
    let out = r.patchew(
        &r.path,
        &[
            "apply",
            "--mbox",
            mbox_path.to_str().unwrap(),
            "--base",
            &other,
            "--no-ci",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("patch 1/1") && err.contains("change two") && err.contains("f.txt"),
        "{err}"
    );
    assert!(
        err.contains("@@ -1,3 +1,3 @@") || err.contains("hunk"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one-line error: {err}");
    assert_eq!(r.git(&["for-each-ref"]), refs_before, "no ref may change");
}

#[test]
fn malformed_input_exits_2() {
    let r = TestRepo::new();
    r.write("f.txt", "x\n");
    r.commit("base");
    let p = r.scratch("junk.mbox");
    std::fs::write(&p, "").unwrap();
    let out = r.patchew(
        &r.path,
        &["apply", "--mbox", p.to_str().unwrap(), "--no-ci"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn the_mode_on_an_index_line_does_not_change_ours() {
    // The sender's file was executable, ours is not: git apply warns and keeps ours.
    let r = TestRepo::new();
    r.write("tool.py", "print(1)\n");
    let base = r.commit("base");
    r.git(&["update-index", "--chmod=+x", "tool.py"]);
    r.git(&["commit", "-q", "-m", "executable"]);
    r.write("tool.py", "print(2)\n");
    r.git(&["commit", "-qam", "print two"]);
    let mbox = r.git_bytes(&["format-patch", "--stdout", "-1"]);
    assert!(
        String::from_utf8_lossy(&mbox).contains(" 100755\n"),
        "an index line with a mode"
    );
    let (am, ours) = both_ways(&r, &base, &mbox, &["--keep-cr"]);
    assert_eq!(ours, am);
    let bare = r.scratch("bare.git");
    assert!(r
        .git_in(&bare, &["ls-tree", &ours[0], "tool.py"])
        .starts_with("100644 "));
}

#[test]
fn directory_becomes_file_and_file_becomes_directory() {
    // git format-patch puts `new file dir` before `deleted file dir/x` (the blob `dir`
    // sorts before the tree `dir/`), and `deleted file f` before `new file f/x`: the
    // creation must not trip over the directory or file the same patch removes.
    let r = TestRepo::new();
    r.write("dir/x", "x\n");
    r.write("dir/sub/y", "y\n");
    r.write("file", "f\n");
    r.write("keep/a", "a\n");
    let base = r.commit("base");
    std::fs::remove_dir_all(r.path.join("dir")).unwrap();
    r.write("dir", "now a file\n");
    r.commit("directory becomes a file");
    r.remove("file");
    r.write("file/inner", "now a directory\n");
    r.commit("file becomes a directory");
    let mbox = r.git_bytes(&["format-patch", "--stdout", &format!("{base}..HEAD")]);
    let (am, ours) = both_ways(&r, &base, &mbox, &["--keep-cr"]);
    assert_eq!(ours.len(), 2);
    assert_eq!(ours, am, "commit ids differ from git am's");
}
