//! Annotated series tags: what `git cat-file tag` shows, and the pre-push hook's
//! check of an annotation against the commit it is pushed for. C git is the oracle.

use crate::support;

use std::path::PathBuf;

use support::git::{path_with_binary, stderr, TestRepo};

const INCLUDE: &str = "https://ci.example.org/patchew-ci.yml";
const CI_YML: &str = "build:\n  script:\n    - make\n";

/// A project with a CI file, a ci-hub remote with our hook, and a v2 one-patch
/// series applied from a `git format-patch` mail; returns (project, hub, tag name,
/// message-id, base commit).
struct Applied {
    r: TestRepo,
    hub: PathBuf,
    tag: String,
    msgid: String,
    base: String,
}

fn apply_one_patch() -> Applied {
    let r = TestRepo::new();
    r.write(".gitlab-ci.yml", CI_YML);
    r.write("src.c", "int main(void) { return 0; }\n");
    let base = r.commit("base");
    r.write("src.c", "int main(void) { return 1; }\n");
    r.git(&["commit", "-qam", "return one"]);
    let mbox = r.git_bytes(&["format-patch", "-v2", "--stdout", "--thread", "-1", "HEAD"]);
    r.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let msgid = String::from_utf8_lossy(&mbox)
        .lines()
        .find_map(|l| {
            l.strip_prefix("Message-ID: <")?
                .strip_suffix('>')
                .map(str::to_owned)
        })
        .expect("format-patch --thread writes a Message-ID");
    let mbox_path = r.scratch("p.mbox");
    std::fs::write(&mbox_path, mbox).unwrap();

    let hub = r.scratch("hub.git");
    r.git(&["init", "-q", "--bare", hub.to_str().unwrap()]);
    r.git(&["remote", "add", "ci-hub", hub.to_str().unwrap()]);
    r.git(&["config", "patchew.ciInclude", INCLUDE]);
    r.git(&["config", "patchew.server", "https://patchew.example.org"]);
    r.git(&["config", "patchew.project", "Proj"]);
    let out = r.patchew_on_path(&["install-hook"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = r.patchew_on_path(&["apply", "--mbox", mbox_path.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tag = report["tag"].as_str().expect("tagged").to_owned();
    Applied {
        r,
        hub,
        tag,
        msgid,
        base,
    }
}

fn push(r: &TestRepo, tag: &str) -> std::process::Output {
    r.command("git", &r.path)
        .env("PATH", path_with_binary())
        .args([
            "push",
            "ci-hub",
            &format!("+refs/tags/{tag}:refs/tags/{tag}"),
        ])
        .output()
        .unwrap()
}

#[test]
fn cat_file_shows_the_story_of_the_series() {
    let a = apply_one_patch();
    let r = &a.r;
    assert_eq!(r.git(&["cat-file", "-t", &a.tag]), "tag");
    let shown = r.git(&["cat-file", "tag", &a.tag]);
    let head = r.git(&["rev-parse", &format!("{}^{{commit}}", a.tag)]);
    assert!(
        shown.contains(&format!("object {head}\ntype commit\n")),
        "{shown}"
    );
    assert!(shown.contains(&format!("\ntag {}\n", a.tag)), "{shown}");
    assert!(
        shown.contains("\ntagger C O Mitter <committer@example.com> 1700000500 +0000\n"),
        "{shown}"
    );
    let message = shown.split_once("\n\n").expect("header and message").1;
    assert!(
        !a.msgid.contains(['_', '/']),
        "the Url line below assumes so"
    );
    let want = format!(
        "patchew: return one\n\n\
         Patchew-Message-Id: <{id}>\n\
         Patchew-Version: 2\n\
         Patchew-Base: {base} (mainline)\n\
         Patchew-Url: https://patchew.example.org/Proj/{id}/\n\
         Patchew-Tool: git-patchew {version}",
        id = a.msgid,
        base = a.base,
        version = env!("CARGO_PKG_VERSION"),
    );
    assert_eq!(message, want);
    // The tag holds the series on its base: the base is the tip's grandparent
    // (the patch, then the CI include in a commit of its own).
    assert_eq!(r.git(&["rev-parse", &format!("{head}~2")]), a.base);
    let fsck = r
        .command("git", &r.path)
        .args(["fsck", "--strict"])
        .output()
        .unwrap();
    assert!(fsck.status.success(), "{}", stderr(&fsck));
}

#[test]
fn hook_takes_our_annotation_and_old_lightweight_tags() {
    let a = apply_one_patch();
    let out = push(&a.r, &a.tag);
    assert!(out.status.success(), "{}", stderr(&out));
    // A tag made by an older version: lightweight, on the same commit.
    let head = a.r.git(&["rev-parse", &format!("{}^{{commit}}", a.tag)]);
    a.r.git(&["tag", "-f", &a.tag, &head]);
    assert_eq!(a.r.git(&["cat-file", "-t", &a.tag]), "commit");
    let out = push(&a.r, &a.tag);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        a.r.git_in(&a.hub, &["rev-parse", &format!("refs/tags/{}", a.tag)]),
        head
    );
}

#[test]
fn hook_refuses_annotations_that_are_not_ours_or_not_this_commits() {
    let a = apply_one_patch();
    let r = &a.r;
    let head = r.git(&["rev-parse", &format!("{}^{{commit}}", a.tag)]);
    let ours = r.git(&["cat-file", "tag", &a.tag]);
    let message = ours.split_once("\n\n").unwrap().1.to_owned();
    let other_id = message.replace(&format!("<{}>", a.msgid), "<someone-else@example.org>");
    // The tag's base is not on the tagged commit's first-parent line.
    let unrelated = r.git(&[
        "commit-tree",
        "-m",
        "unrelated",
        &format!("{head}^{{tree}}"),
    ]);
    let other_base = message.replace(&a.base, &unrelated);
    let cases = [
        (
            "a stranger's message",
            "release notes\n".to_owned(),
            "not git-patchew's",
        ),
        (
            "another message-id",
            other_id,
            "is not the message-id its name says",
        ),
        ("a base elsewhere", other_base, "is not an ancestor"),
    ];
    for (what, msg, why) in cases {
        r.git(&["tag", "-f", "-a", "-m", &msg, &a.tag, &head]);
        let out = push(r, &a.tag);
        let err = stderr(&out);
        assert!(!out.status.success(), "{what}: accepted");
        assert!(
            err.contains(&format!("refusing refs/tags/{}", a.tag)) && err.contains(why),
            "{what}: {err}"
        );
        let hub_has = r
            .command("git", &a.hub)
            .args([
                "rev-parse",
                "-q",
                "--verify",
                &format!("refs/tags/{}", a.tag),
            ])
            .output()
            .unwrap();
        assert!(!hub_has.status.success(), "{what}: arrived");
    }
    // Our message under another tag's name: the object names another tag.
    let other = format!("{}x", a.tag);
    r.git(&["tag", "-f", "-a", "-m", &message, &other, &head]);
    r.git(&[
        "update-ref",
        &format!("refs/tags/{}", a.tag),
        &r.git(&["rev-parse", &other]),
    ]);
    let out = push(r, &a.tag);
    assert!(
        !out.status.success() && stderr(&out).contains("calls itself"),
        "{}",
        stderr(&out)
    );
}

/// The `Patchew-Base:` line of the tag of `mbox` applied with `extra` arguments
/// (as `git cat-file tag` shows it), and the tagged commit's parent; the tag is
/// deleted again so the next case can make it.
fn base_line(r: &TestRepo, mbox: &str, extra: &[&str]) -> (String, String, String) {
    let path = r.scratch("case.mbox");
    std::fs::write(&path, mbox).unwrap();
    let mut args = vec![
        "apply",
        "--no-ci",
        "--json",
        "--mbox",
        path.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = r.patchew_on_path(&args);
    assert!(out.status.success(), "{extra:?}: {}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tag = report["tag"].as_str().expect("tagged").to_owned();
    let shown = r.git(&["cat-file", "tag", &tag]);
    let line = shown
        .lines()
        .find(|l| l.starts_with("Patchew-Base: "))
        .unwrap_or_else(|| panic!("no Patchew-Base line: {shown}"))
        .to_owned();
    let parent = r.git(&["rev-parse", &format!("{tag}^{{commit}}~1")]);
    r.git(&["tag", "-d", &tag]);
    (line, parent, report["warnings"].to_string())
}

/// Issue #18: the tag records the base and what chose it, for each way a base is
/// chosen: the mail's `base-commit:` (as `git format-patch --base` writes it), the
/// command line's `--base`, and a `Based-on:` line (the based-on series' tag, made
/// lightweight by C git as older versions made them). The commit it names is the
/// parent of the series' one patch, as C git sees it.
#[test]
fn the_base_line_says_what_chose_the_base() {
    let r = TestRepo::new();
    r.write("src.c", "int main(void) { return 0; }\n");
    r.write("doc.txt", "doc\n");
    let old = r.commit("base");
    // The series, written on `old`; main moves on meanwhile.
    r.write("src.c", "int main(void) { return 1; }\n");
    let patch = r.commit("return one");
    let with_base_commit = r.git(&[
        "format-patch",
        "--stdout",
        "--thread",
        "--base",
        &old,
        "-1",
        &patch,
    ]);
    assert!(
        with_base_commit.contains(&format!("\nbase-commit: {old}\n")),
        "{with_base_commit}"
    );
    r.git(&["reset", "-q", "--hard", &old]);
    r.write("doc.txt", "doc, later\n");
    let later = r.commit("main moves on");
    // A series this one could be based on, tagged as git-patchew tags it.
    r.git(&["checkout", "-q", "--detach", &old]);
    r.write("other.txt", "other\n");
    let dep = r.commit("the series it is based on");
    r.git(&["tag", "patchew/dep._5F1._2Fx@example.org", &dep]);
    r.git(&["checkout", "-q", "main"]);

    let (line, parent, _) = base_line(&r, &with_base_commit, &[]);
    assert_eq!(line, format!("Patchew-Base: {old} (base-commit)"));
    assert_eq!(parent, old);

    let (line, parent, _) = base_line(&r, &with_base_commit, &["--base", "main"]);
    assert_eq!(line, format!("Patchew-Base: {later} (--base)"));
    assert_eq!(parent, later);

    let with_cover = r.git(&[
        "format-patch",
        "--stdout",
        "--thread",
        "--cover-letter",
        "-1",
        &patch,
    ]);
    let based_on = with_cover.replace("*** BLURB HERE ***\n", "Based-on: <dep_1/x@example.org>\n");
    assert_ne!(based_on, with_cover, "the cover letter has git's blurb");
    let (line, parent, _) = base_line(&r, &based_on, &[]);
    assert_eq!(
        line,
        format!("Patchew-Base: {dep} (Based-on <dep_1/x@example.org>)")
    );
    assert_eq!(parent, dep);

    // Without the based-on series' tag (and no ci-hub to fetch it from), the series
    // goes on mainline, as before issue #18, and the tag says so.
    r.git(&["tag", "-d", "patchew/dep._5F1._2Fx@example.org"]);
    let (line, parent, warnings) = base_line(&r, &based_on, &[]);
    assert_eq!(line, format!("Patchew-Base: {later} (mainline)"));
    assert_eq!(parent, later);
    assert!(
        warnings.contains("the series is based on <dep_1/x@example.org>"),
        "{warnings}"
    );
}
