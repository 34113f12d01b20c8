//! C git is the oracle for the `patch` module: build a repository with the git CLI, take
//! each commit's `git format-patch --binary` mail, parse its patch part, apply every
//! file patch to the parent's blob and compare with the commit's blob, paths and modes
//! as `git diff --raw` reports them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use git_patchew::apply::patch::{self, ApplyError, FileMode, FilePatch, Operation};

/// Runs git in `dir` with a clean configuration; panics with stderr on failure.
fn git(dir: &Path, args: &[&str]) -> Vec<u8> {
    git_with_input(dir, args, None)
}

fn git_with_input(dir: &Path, args: &[&str], input: Option<&[u8]>) -> Vec<u8> {
    let output = try_git(dir, args, input);
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn try_git(dir: &Path, args: &[&str], input: Option<&[u8]>) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "A U Thor")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_COMMITTER_NAME", "C O Mitter")
        .env("GIT_COMMITTER_EMAIL", "committer@example.com")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("git runs");
    let mut stdin = child.stdin.take().expect("stdin");
    if let Some(input) = input {
        stdin.write_all(input).expect("write stdin");
    }
    drop(stdin);
    child.wait_with_output().expect("git finishes")
}

struct Repo {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().to_path_buf();
        git(&path, &["init", "-q", "-b", "main"]);
        git(&path, &["config", "core.autocrlf", "false"]);
        Repo { _dir: dir, path }
    }

    fn write(&self, name: &str, content: impl AsRef<[u8]>) {
        let file = self.path.join(name);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        let _ = std::fs::remove_file(&file);
        std::fs::write(file, content).unwrap();
    }

    fn symlink(&self, name: &str, target: &str) {
        let file = self.path.join(name);
        let _ = std::fs::remove_file(&file);
        std::os::unix::fs::symlink(target, file).unwrap();
    }

    fn chmod(&self, name: &str, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(self.path.join(name), std::fs::Permissions::from_mode(mode))
            .unwrap();
    }

    fn remove(&self, name: &str) {
        git(&self.path, &["rm", "-q", name]);
    }

    fn rename(&self, from: &str, to: &str) {
        if let Some(parent) = self.path.join(to).parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        git(&self.path, &["mv", from, to]);
    }

    fn commit(&self, message: &str) -> String {
        git(&self.path, &["add", "-A"]);
        git(
            &self.path,
            &["commit", "-q", "--allow-empty", "-m", message],
        );
        self.rev("HEAD")
    }

    fn rev(&self, rev: &str) -> String {
        String::from_utf8(git(&self.path, &["rev-parse", rev]))
            .unwrap()
            .trim()
            .to_owned()
    }

    fn blob(&self, id: &str) -> Vec<u8> {
        git(&self.path, &["cat-file", "blob", id])
    }

    /// The patch part of the commit's mail, as mailinfo would hand it over: from the
    /// `---` separator (diffstat included) to the end (signature included).
    fn mail_patch(&self, commit: &str) -> Vec<u8> {
        let mail = git(
            &self.path,
            &[
                "format-patch",
                "-1",
                "--stdout",
                "--binary",
                "-M",
                "-C",
                "--find-copies-harder",
                commit,
            ],
        );
        let start = find(&mail, b"\n---\n").expect("mail has a --- separator") + 1;
        mail[start..].to_vec()
    }

    fn raw_diff(&self, commit: &str) -> Vec<RawEntry> {
        let parent = format!("{commit}^");
        let raw = git(
            &self.path,
            &[
                "diff",
                "--raw",
                "-z",
                "--no-abbrev",
                "-M",
                "-C",
                "--find-copies-harder",
                &parent,
                commit,
            ],
        );
        parse_raw(&raw)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[derive(Debug)]
struct RawEntry {
    old_mode: u32,
    new_mode: u32,
    old_id: String,
    new_id: String,
    status: u8,
    old_path: Vec<u8>,
    new_path: Vec<u8>,
}

fn parse_raw(raw: &[u8]) -> Vec<RawEntry> {
    let mut fields = raw.split(|&c| c == 0).filter(|f| !f.is_empty());
    let mut entries = Vec::new();
    while let Some(meta) = fields.next() {
        let meta = String::from_utf8(meta.to_vec()).unwrap();
        let parts: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
        let status = parts[4].as_bytes()[0];
        let old_path = fields.next().unwrap().to_vec();
        let new_path = if status == b'R' || status == b'C' {
            fields.next().unwrap().to_vec()
        } else {
            old_path.clone()
        };
        entries.push(RawEntry {
            old_mode: u32::from_str_radix(parts[0], 8).unwrap(),
            new_mode: u32::from_str_radix(parts[1], 8).unwrap(),
            old_id: parts[2].to_owned(),
            new_id: parts[3].to_owned(),
            status,
            old_path,
            new_path,
        });
    }
    entries
}

fn numbered(range: std::ops::Range<usize>) -> String {
    range.map(|i| format!("line {i}\n")).collect()
}

fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u8
        })
        .collect()
}

/// Builds the history every oracle test walks; returns the repo and the commits after
/// the root, with what each one exercises.
fn build_history() -> (Repo, Vec<(String, &'static str)>) {
    let repo = Repo::new();
    let big_binary = pseudo_random(64 * 1024, 7);
    repo.write("big.txt", numbered(1..301));
    repo.write("del.txt", numbered(1..5));
    repo.write("tomove.txt", numbered(100..140));
    repo.write("tomove2.txt", numbered(200..240));
    repo.write("tocopy.txt", numbered(300..340));
    repo.write("script.sh", "#!/bin/sh\necho hi\n");
    repo.write("script2.sh", "#!/bin/sh\necho ho\n");
    repo.symlink("link", "big.txt");
    repo.write("t\u{e9}st.txt", "caf\u{e9}\nna\u{ef}ve\n");
    repo.write("with space.txt", numbered(1..10));
    repo.write("quo\"te.txt", "q\n");
    repo.write("noeol.txt", "first\nsecond\nlast");
    repo.write("eol.txt", "a\nb\n");
    repo.write("crlf.txt", numbered(1..40).replace('\n', "\r\n"));
    repo.write("big.bin", &big_binary);
    repo.write("small.bin", b"\x00\x01\x02binary\x00");
    repo.write("empty-to-delete", "");
    repo.commit("root");

    let mut commits = Vec::new();
    let mut record = |repo: &Repo, what: &'static str| commits.push((repo.commit(what), what));

    let big = numbered(1..301)
        .replace("line 10\n", "line ten\n")
        .replace("line 150\n", "line 150\nadded a\nadded b\n")
        .replace("line 297\n", "");
    repo.write("big.txt", &big);
    record(&repo, "edits with several hunks");

    repo.write("new.txt", "brand new\nfile\n");
    repo.remove("del.txt");
    repo.write("empty-new", "");
    record(&repo, "add and delete files, an empty one too");

    repo.remove("empty-to-delete");
    record(&repo, "delete an empty file");

    repo.rename("tomove.txt", "moved.txt");
    record(&repo, "pure rename");

    repo.rename("tomove2.txt", "dir/new name.txt");
    let renamed = numbered(200..240).replace("line 220\n", "line twenty\n");
    repo.write("dir/new name.txt", renamed);
    record(&repo, "rename with edit into a name with a space");

    repo.write(
        "copied.txt",
        numbered(300..340).replace("line 330\n", "line thirty\n"),
    );
    record(&repo, "copy with edit");

    repo.write("copied-pure.txt", numbered(300..340));
    record(&repo, "pure copy");

    repo.chmod("script.sh", 0o755);
    record(&repo, "mode only");

    repo.chmod("script2.sh", 0o755);
    repo.write("script2.sh", "#!/bin/sh\necho ho ho\n");
    record(&repo, "mode and content");

    repo.symlink("link", "new.txt");
    repo.symlink("newlink", "dir/new name.txt");
    record(&repo, "symlink retarget and creation");

    repo.write("t\u{e9}st.txt", "caf\u{e9}\nna\u{ef}ve\nr\u{e9}sum\u{e9}\n");
    repo.write(
        "with space.txt",
        numbered(1..10).replace("line 5\n", "line five\n"),
    );
    repo.write("quo\"te.txt", "q\nquote\n");
    record(&repo, "unicode, space and quote names");

    repo.write("new.bin", pseudo_random(3000, 9));
    let mut changed = big_binary.clone();
    changed[30_000..30_010].copy_from_slice(b"0123456789");
    repo.write("big.bin", &changed);
    record(&repo, "binary literal and delta");

    repo.remove("small.bin");
    record(&repo, "binary deletion");

    repo.write("noeol.txt", "first\nsecond\nlast changed");
    repo.write("eol.txt", "a\nb");
    record(&repo, "no newline at end of file");

    repo.write("noeol.txt", "first\nsecond\nlast changed\n");
    repo.write("eol.txt", "a\nB\nc");
    record(&repo, "newline added and changed without one");

    repo.write(
        "crlf.txt",
        numbered(1..40)
            .replace("line 20\n", "line twenty\nline 20b\n")
            .replace('\n', "\r\n"),
    );
    record(&repo, "crlf edit");

    repo.write(
        "big.txt",
        big.replace("line 1\n", "line one\n")
            .replace("line 300\n", "line 300\nline 301\n"),
    );
    record(&repo, "first and last lines");

    repo.rename("moved.txt", "moved back.txt");
    repo.chmod("moved back.txt", 0o755);
    record(&repo, "rename with mode change");

    (repo, commits)
}

fn expected_operation(status: u8) -> Operation {
    match status {
        b'A' => Operation::Create,
        b'D' => Operation::Delete,
        b'R' => Operation::Rename,
        b'C' => Operation::Copy,
        _ => Operation::Modify,
    }
}

fn check_file_patch(repo: &Repo, what: &str, fp: &FilePatch, raw: &RawEntry) {
    let context = format!("{what}: {:?}", fp.path());
    assert_eq!(fp.operation, expected_operation(raw.status), "{context}");
    if raw.status != b'A' {
        assert_eq!(
            fp.old_path.as_deref().map(|p| p.to_vec()),
            Some(raw.old_path.clone()),
            "{context}"
        );
    }
    if raw.status != b'D' {
        assert_eq!(
            fp.new_path.as_deref().map(|p| p.to_vec()),
            Some(raw.new_path.clone()),
            "{context}"
        );
    }
    if let Some(old_mode) = fp.old_mode {
        assert_eq!(old_mode.as_octal(), raw.old_mode, "{context}");
    }
    if raw.status != b'D' {
        let unchanged = if raw.status == b'A' {
            FileMode::Regular
        } else {
            FileMode::from_octal(raw.old_mode).unwrap()
        };
        assert_eq!(
            fp.new_mode.unwrap_or(unchanged).as_octal(),
            raw.new_mode,
            "{context}"
        );
    }
    let old = if raw.status == b'A' {
        Vec::new()
    } else {
        repo.blob(&raw.old_id)
    };
    let expected = if raw.status == b'D' {
        Vec::new()
    } else {
        repo.blob(&raw.new_id)
    };
    let applied = fp
        .apply_with_report(&old)
        .unwrap_or_else(|e| panic!("{context}: {e}"));
    assert_eq!(applied.content.into_vec(), expected, "{context}");
    assert!(applied.cr_tolerant_hunks.is_empty(), "{context}");
    if fp.is_binary() {
        assert_eq!(
            fp.new_oid.as_deref(),
            Some(raw.new_id.as_str()),
            "binary patches carry full ids"
        );
    }
}

#[test]
fn every_commit_applies_like_git() {
    let (repo, commits) = build_history();
    for (commit, what) in &commits {
        let text = repo.mail_patch(commit);
        let patches = patch::parse(&text)
            .unwrap_or_else(|e| panic!("{what}: {e}\n{}", String::from_utf8_lossy(&text)));
        let raw = repo.raw_diff(commit);
        assert_eq!(patches.len(), raw.len(), "{what}: {patches:#?}\n{raw:#?}");
        for (fp, entry) in patches.iter().zip(&raw) {
            if std::env::var_os("ORACLE_DEBUG").is_some() {
                let kind = match &fp.body {
                    patch::Body::None => "none".to_owned(),
                    patch::Body::Text(h) => format!("{} hunks", h.len()),
                    patch::Body::Binary(b) => format!("{:?}", std::mem::discriminant(&b.forward)),
                };
                eprintln!(
                    "{what}: {} {:?} {:?}->{:?} {kind}",
                    entry.status as char, fp.operation, fp.old_path, fp.new_path
                );
            }
            check_file_patch(&repo, what, fp, entry);
        }
    }
}

#[test]
fn quoted_and_spaced_names_are_decoded() {
    let (repo, commits) = build_history();
    let (commit, _) = commits
        .iter()
        .find(|(_, what)| what.starts_with("unicode"))
        .unwrap();
    let text = repo.mail_patch(commit);
    assert!(find(
        &text,
        br#"diff --git "a/t\303\251st.txt" "b/t\303\251st.txt""#
    )
    .is_some());
    let paths: Vec<String> = patch::parse(&text)
        .unwrap()
        .iter()
        .map(|p| p.path().to_string())
        .collect();
    assert!(paths.contains(&"t\u{e9}st.txt".to_owned()), "{paths:?}");
    assert!(paths.contains(&"with space.txt".to_owned()), "{paths:?}");
    assert!(paths.contains(&"quo\"te.txt".to_owned()), "{paths:?}");
}

/// Applies `text` to `old` at `path` with C git's `git apply` in a scratch directory.
fn git_apply(path: &str, old: &[u8], text: &[u8]) -> Result<Vec<u8>, String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(path), old).unwrap();
    let output = try_git(dir.path(), &["apply", "-"], Some(text));
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    Ok(std::fs::read(dir.path().join(path)).unwrap())
}

fn multi_hunk_patch() -> (Repo, Vec<u8>, Vec<u8>) {
    let repo = Repo::new();
    repo.write("f.txt", numbered(1..201));
    repo.commit("root");
    repo.write(
        "f.txt",
        numbered(1..201)
            .replace("line 20\n", "line twenty\n")
            .replace("line 100\n", "line hundred\n")
            .replace("line 180\n", "line 180\nextra\n"),
    );
    let commit = repo.commit("three hunks");
    let text = repo.mail_patch(&commit);
    let old = numbered(1..201).into_bytes();
    (repo, text, old)
}

#[test]
fn offsets_match_git_apply() {
    let (_repo, text, old) = multi_hunk_patch();
    let fp = &patch::parse(&text).unwrap()[0];
    let variants: Vec<Vec<u8>> = vec![
        [b"inserted 1\ninserted 2\ninserted 3\n".as_slice(), &old].concat(),
        old[b"line 1\nline 2\n".len()..].to_vec(),
        String::from_utf8(old.clone())
            .unwrap()
            .replace("line 60\n", "line 60\nx\ny\nz\nw\n")
            .replace("line 150\n", "")
            .into_bytes(),
    ];
    for target in variants {
        let ours = fp.apply(&target).expect("applies with offsets");
        let theirs = git_apply("f.txt", &target, &text).expect("git applies");
        assert_eq!(ours, theirs);
    }
}

#[test]
fn failing_hunk_is_named_and_git_agrees() {
    let (_repo, text, old) = multi_hunk_patch();
    let fp = &patch::parse(&text).unwrap()[0];
    let broken = String::from_utf8(old)
        .unwrap()
        .replace("line 99\n", "line 99 changed\n")
        .into_bytes();
    assert!(git_apply("f.txt", &broken, &text).is_err());
    let err = fp.apply(&broken).unwrap_err();
    let ApplyError::HunkFailed {
        hunk,
        ref header,
        header_line,
        ..
    } = err
    else {
        panic!("unexpected {err}");
    };
    assert_eq!(hunk, 2);
    assert!(header.starts_with("@@ -97,7 +97,7 @@"), "{header}");
    let line_text = text.split(|&c| c == b'\n').nth(header_line - 1).unwrap();
    assert!(line_text.starts_with(header.as_bytes()));
    let message = err.to_string();
    assert!(
        message.contains("hunk #2")
            && message.contains("@@ -97,7 +97,7 @@")
            && !message.ends_with('.'),
        "{message}"
    );
}

#[test]
fn crlf_file_from_normalised_mail_keeps_its_crs() {
    let (repo, commits) = build_history();
    let (commit, _) = commits
        .iter()
        .find(|(_, what)| *what == "crlf edit")
        .unwrap();
    let text = repo.mail_patch(commit);
    assert!(find(&text, b"\r\n").is_some(), "the mail carries CRs");
    // A CRLF mbox normalised to LF: every CR of the patch text is gone.
    let stripped: Vec<u8> = String::from_utf8(text)
        .unwrap()
        .replace("\r\n", "\n")
        .into_bytes();
    let patches = patch::parse(&stripped).unwrap();
    let raw = repo.raw_diff(commit);
    assert_eq!(patches.len(), 1);
    let old = repo.blob(&raw[0].old_id);
    let applied = patches[0].apply_with_report(&old).unwrap();
    assert_eq!(applied.content.into_vec(), repo.blob(&raw[0].new_id));
    assert_eq!(applied.cr_tolerant_hunks, vec![1]);
    // git am's behaviour for comparison: C git refuses the stripped patch.
    assert!(git_apply("crlf.txt", &old, &stripped).is_err());
}

#[test]
fn patch_without_binary_data_says_so() {
    let (repo, commits) = build_history();
    let (commit, _) = commits
        .iter()
        .find(|(_, what)| what.starts_with("binary literal"))
        .unwrap();
    // Plain `git diff` omits binary data (format-patch adds it by default).
    let diff = git(&repo.path, &["diff", &format!("{commit}^"), commit]);
    assert!(find(&diff, b"Binary files a/big.bin and b/big.bin differ").is_some());
    let patches = patch::parse(&diff).unwrap();
    let big = patches.iter().find(|p| p.path() == "big.bin").unwrap();
    let err = big.apply(b"whatever").unwrap_err();
    assert!(matches!(err, ApplyError::BinaryWithoutData { .. }));
    assert!(err.to_string().contains("--binary"), "{err}");
}

#[test]
fn whole_mail_and_series_mbox_parse() {
    let (repo, commits) = build_history();
    let (first, _) = &commits[0];
    let mbox = git(
        &repo.path,
        &[
            "format-patch",
            "--stdout",
            "--binary",
            "-M",
            "-C",
            &format!("{first}^..HEAD"),
        ],
    );
    // The whole mbox is junk around diffs; every file patch of every commit is found.
    let patches = patch::parse(&mbox).unwrap();
    let expected: usize = commits.iter().map(|(c, _)| repo.raw_diff(c).len()).sum();
    assert_eq!(patches.len(), expected);
    // An empty commit's mail has no diff at all.
    let empty = repo.commit("empty");
    let mail = git(&repo.path, &["format-patch", "-1", "--stdout", &empty]);
    assert!(patch::parse(&mail).unwrap().is_empty());
}

#[test]
fn traditional_unified_diff_applies() {
    let dir = tempfile::tempdir().unwrap();
    let old = numbered(1..30);
    let new = old.replace("line 15\n", "line fifteen\n");
    std::fs::write(dir.path().join("old"), &old).unwrap();
    std::fs::write(dir.path().join("new"), &new).unwrap();
    let output = Command::new("diff")
        .args([
            "-u",
            "--label",
            "a/src/file.c",
            "--label",
            "b/src/file.c",
            "old",
            "new",
        ])
        .current_dir(dir.path())
        .output();
    let Ok(output) = output else { return };
    let patches = patch::parse(&output.stdout).unwrap();
    assert_eq!(patches.len(), 1);
    assert_eq!(patches[0].operation, Operation::Modify);
    assert_eq!(patches[0].path(), "src/file.c");
    assert_eq!(patches[0].apply(old.as_bytes()).unwrap(), new.as_bytes());
}
