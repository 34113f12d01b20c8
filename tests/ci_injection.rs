//! `.gitlab-ci.yml` shapes modelled on real projects: the include is added without
//! touching a byte, proven, verified, and refused where it cannot be proven.

use git_patchew::ci::{inject, verify, CiError, IncludeUrl, Injection};

const URL: &str = "https://hub.example/patchew/patchew-ci.yml";
const ENTRY: &str = "- remote: 'https://hub.example/patchew/patchew-ci.yml'";

fn url() -> IncludeUrl {
    IncludeUrl::parse(URL).unwrap()
}

fn injected(name: &str, old: &str) -> String {
    match inject(old.as_bytes(), &url()) {
        Ok(Injection::Injected(new)) => String::from_utf8(new).unwrap(),
        other => panic!("{name}: {other:?}"),
    }
}

/// Greedy subsequence test: every item of `old` is in `new`, in order.
fn is_subsequence<T: PartialEq>(old: &[T], new: &[T]) -> bool {
    let mut rest = new.iter();
    old.iter().all(|item| rest.any(|n| n == item))
}

/// Injects, then checks everything a caller relies on; returns the new file.
fn check(name: &str, old: &str, whole_lines_only: bool) -> String {
    let new = injected(name, old);
    assert!(
        is_subsequence(old.as_bytes(), new.as_bytes()),
        "{name}: an old byte went missing\n{new}"
    );
    if whole_lines_only {
        // `lines()` so that a newline added after an unterminated last line is fine.
        let (old_lines, new_lines): (Vec<_>, Vec<_>) =
            (old.lines().collect(), new.lines().collect());
        assert!(
            is_subsequence(&old_lines, &new_lines),
            "{name}: an old line changed\n{new}"
        );
    }
    assert!(new.contains(&format!("remote: '{URL}'")), "{name}:\n{new}");
    verify(old.as_bytes(), new.as_bytes(), &url()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        inject(new.as_bytes(), &url()),
        Ok(Injection::AlreadyPresent),
        "{name}: not idempotent"
    );
    new
}

/// The `include` list as GitLab would read it, for files without duplicate keys.
fn include_list(new: &str) -> Vec<serde_yaml::Value> {
    let docs: Vec<serde_yaml::Value> = serde_yaml::Deserializer::from_str(new)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    docs.last().unwrap()["include"]
        .as_sequence()
        .unwrap()
        .clone()
}

fn ours() -> serde_yaml::Value {
    serde_yaml::from_str(&format!("remote: '{URL}'")).unwrap()
}

const QEMU: &str = r#"# This file contains the set of jobs run by the QEMU project:
# https://gitlab.com/qemu-project/qemu/-/pipelines

variables:
  RUNNER_TAG: ""

include:
  - local: '/.gitlab-ci.d/base.yml'
  - local: '/.gitlab-ci.d/stages.yml'
  - local: '/.gitlab-ci.d/opensbi.yml'
  - local: '/.gitlab-ci.d/containers.yml'
  - local: '/.gitlab-ci.d/crossbuilds.yml'
  - local: '/.gitlab-ci.d/buildtest.yml'
  - local: '/.gitlab-ci.d/static_checks.yml'

.native_build_job_template: &native_build_job_definition
  extends: .base_job_template
  stage: build
  image: $CI_REGISTRY_IMAGE/qemu/$IMAGE:$QEMU_CI_CONTAINER_TAG
  cache:
    paths:
      - ccache
    key: "$CI_JOB_NAME"
    when: always
  before_script:
    - source scripts/ci/gitlab-ci-section
    - section_start setup "Pre-script setup"
    - JOBS=$(expr $(nproc) + 1)
    - section_end setup
  script:
    - mkdir build
    - cd build
    - ../configure --enable-werror --disable-docs $CONFIGURE_ARGS ||
          { cat config.log meson-logs/meson-log.txt && exit 1; }

.ccache_vars: &ccache_vars
  variables:
    CCACHE_DIR: ccache
    CCACHE_MAXSIZE: 500M

build-system-alpine:
  <<: *native_build_job_definition
  <<: *ccache_vars
  needs:
    - job: amd64-alpine-container
  script:
    - !reference [.native_build_job_template, script]
    - make -j"$JOBS" check
  artifacts:
    expire_in: 2 days
    paths:
      - build
"#;

#[test]
fn qemu_local_list_anchors_merges_and_references() {
    let new = check("qemu", QEMU, true);
    assert!(new.contains(&format!(
        "  - local: '/.gitlab-ci.d/static_checks.yml'\n  {ENTRY}\n\n.native"
    )));
    assert!(
        serde_yaml::from_str::<serde_yaml::Value>(&new).is_err(),
        "serde_yaml::Value refuses several `<<:`; the proof must not"
    );
}

const LIBVIRT: &str = r#"variables:
  GIT_DEPTH: 100

stages:
  - containers
  - builds
  - sanity_checks

.script_variables: &script_variables |
  export MAKEFLAGS="-j$(getconf _NPROCESSORS_ONLN)"
  export CCACHE_BASEDIR="$(pwd)"

include:
  - '/ci/gitlab.yml'
  - local: '/ci/integration.yml'
    rules:
      - if: '$CI_PROJECT_NAMESPACE == "libvirt"'
        when: on_success
workflow:
  rules:
    - if: '$CI_PIPELINE_SOURCE == "merge_request_event"'
    - if: '$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS'
      when: never
    - if: '$CI_COMMIT_BRANCH'
"#;

#[test]
fn libvirt_include_with_nested_rules() {
    let new = check("libvirt", LIBVIRT, true);
    let list = include_list(&new);
    assert_eq!(list.len(), 3);
    assert_eq!(list[2], ours());
    assert_eq!(list[1]["rules"][0]["when"], "on_success");
}

const GNOME: &str = "include:
    project: 'GNOME/citemplates'
    ref: 'master'
    file:
        - 'templates/default-rules.yml'
        - 'flatpak/flatpak_ci_initiative.yml'

stages:
    - check
    - build

build-fedora:
    image: fedora:latest
    stage: build
    script:
        - meson setup _build
        - ninja -C _build
";

#[test]
fn gnome_map_include_four_spaces() {
    let new = check("gnome", GNOME, true);
    let list = include_list(&new);
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["project"], "GNOME/citemplates");
    assert_eq!(list[1], ours());
}

const MESA: &str = r#"workflow:
  rules:
    # do not duplicate pipelines on merge pipelines
    - if: $CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS && $CI_PIPELINE_SOURCE == "push"
      when: never
    # merge pipeline
    - if: &is-merge-attempt $GITLAB_USER_LOGIN == "marge-bot" && $CI_PIPELINE_SOURCE == "merge_request_event"
      variables:
        MESA_CI_PERFORMANCE_ENABLED: 1
    # post-merge pipeline
    - if: &is-post-merge $CI_PROJECT_NAMESPACE == "mesa" && $CI_COMMIT_BRANCH
    # any other pipeline
    - if: $CI_COMMIT_BRANCH

include:
  - project: 'freedesktop/ci-templates'
    ref: ed7b3d6d
    file:
      - '/templates/ci-fairy.yml'
  - local: '.gitlab-ci/image-tags.yml'
  - local: '.gitlab-ci/lava/lava-gitlab-ci.yml'

stages:
  - sanity
  - build-x86_64

sanity:
  stage: sanity
  rules:
    - if: *is-merge-attempt
      when: on_success
  script:
    - ci-fairy check-commits --junit-xml=check-commits.xml
"#;

#[test]
fn mesa_workflow_rules_and_warnings() {
    check("mesa", MESA, true);
    // What a tag pipeline of this file does is checked in tests/ci_verdict.rs.
}

#[test]
fn spec_header_document() {
    let old = "spec:\n  inputs:\n    stage:\n      default: test\n---\ninclude:\n  - local: a.yml\n\njob:\n  stage: $[[ inputs.stage ]]\n  script: [echo hi]\n";
    let new = check("spec", old, true);
    assert!(new.starts_with("spec:\n  inputs:\n    stage:\n      default: test\n---\ninclude:\n  - local: a.yml\n  - remote:"));
    let old = "spec:\n  inputs: {}\n---\n# jobs\njob:\n  script: [echo hi]\n";
    let new = check("spec, no include", old, true);
    assert!(new.contains("---\n# jobs\ninclude:\n  - remote:"), "{new}");
}

#[test]
fn leading_document_marker_and_end_marker() {
    check(
        "---",
        "---\nstages: [build]\nbuild:\n  script: [make]\n...\n",
        true,
    );
    check(
        "--- comment",
        "--- # CI\ninclude: [a.yml]\nbuild:\n  script: [make]\n",
        false,
    );
}

#[test]
fn crlf_file_gets_crlf_lines() {
    for (name, old) in [
        ("list", QEMU),
        ("absent", GNOME.split_once("\n\n").unwrap().1),
    ] {
        let old = old.replace('\n', "\r\n");
        let new = check(name, &old, true);
        assert_eq!(
            new.matches('\n').count(),
            new.matches("\r\n").count(),
            "{name}"
        );
    }
    let old = "include: 'a.yml'\r\njob:\r\n  script: [x]\r\n";
    let new = check("crlf string", old, false);
    assert_eq!(
        new,
        format!("include:\r\n- 'a.yml'\r\n{ENTRY}\r\njob:\r\n  script: [x]\r\n")
    );
}

#[test]
fn missing_final_newline() {
    let new = check(
        "include last",
        "job:\n  script: [x]\ninclude:\n  - local: a.yml",
        true,
    );
    assert_eq!(
        new,
        format!("job:\n  script: [x]\ninclude:\n  - local: a.yml\n  {ENTRY}")
    );
    check("absent", "job:\n  script: [x]", true);
    check("null include", "job:\n  script: [x]\ninclude:", true);
    check("string", "job:\n  script: [x]\ninclude: a.yml", false);
}

#[test]
fn flow_lists() {
    let new = check(
        "flow",
        "include: ['a.yml', {local: b.yml}]  # two\njob: {script: [x]}\n",
        false,
    );
    assert!(new.starts_with("include: [{remote: 'https"), "{new}");
    assert_eq!(include_list(&new).len(), 3);
    let new = check("empty flow", "include: []\njob: {script: [x]}\n", false);
    assert_eq!(include_list(&new), vec![ours()]);
    let new = check(
        "multi-line flow",
        "include:\n  [ # first\n    a.yml,\n    b.yml\n  ]\njob: {script: [x]}\n",
        false,
    );
    assert_eq!(include_list(&new).len(), 3);
    check(
        "anchored flow",
        "include: &inc [a.yml]\njob: {script: [x]}\n",
        false,
    );
}

#[test]
fn string_and_map_includes_become_lists() {
    let new = check(
        "string",
        "include: '/templates/base.yml'  # shared\n\njob:\n  script: [x]\n",
        false,
    );
    assert_eq!(include_list(&new)[0], "/templates/base.yml");
    let new = check(
        "flow map",
        "include: {local: a.yml}\njob:\n  script: [x]\n",
        false,
    );
    assert_eq!(include_list(&new)[0]["local"], "a.yml");
    let new = check(
        "block map",
        "include:\n  # why\n  local: a.yml\n  rules:\n    - if: $X\njob:\n  script: [x]\n",
        true,
    );
    assert_eq!(include_list(&new)[0]["rules"][0]["if"], "$X");
    check(
        "scalar on next line",
        "include:\n  a.yml\njob:\n  script: [x]\n",
        true,
    );
}

#[test]
fn comments_blank_lines_and_indentation() {
    let old = "stages: [build]\n\ninclude:\n  # the basics\n  - local: a.yml\n\n  # - local: b.yml\n  - local: c.yml   # trailing\n  # trailing comment\n\nbuild:\n  script: [make]\n";
    let new = check("comments", old, true);
    assert!(
        new.contains(&format!(
            "  - local: c.yml   # trailing\n  {ENTRY}\n  # trailing comment\n"
        )),
        "{new}"
    );
    let new = check(
        "4 spaces",
        "include:\n    - local: a.yml\n    - local: b.yml\nbuild:\n    script: [make]\n",
        true,
    );
    assert!(
        new.contains(&format!("    - local: b.yml\n    {ENTRY}\nbuild")),
        "{new}"
    );
    let new = check(
        "indentless",
        "include:\n- local: a.yml\n- local: b.yml\nbuild:\n  script: [make]\n",
        true,
    );
    assert!(
        new.contains(&format!("- local: b.yml\n{ENTRY}\nbuild")),
        "{new}"
    );
    let new = check(
        "absent, 4 spaces",
        "# CI\n\nbuild:\n    script:\n        - make\n",
        true,
    );
    assert_eq!(
        new,
        format!("# CI\n\ninclude:\n    {ENTRY}\nbuild:\n    script:\n        - make\n")
    );
    let new = check(
        "at the end",
        "build:\n  script: [make]\ninclude:\n  - local: a.yml\n\n# bye\n",
        true,
    );
    assert!(new.ends_with(&format!("  - local: a.yml\n  {ENTRY}\n\n# bye\n")));
    check(
        "anchored list",
        "include: &inc\n  - local: a.yml\nbuild:\n  script: [make]\n",
        true,
    );
    check("block scalar item", "include:\n  - local: a.yml\n    inputs:\n      text: |\n        multi\n        line\nbuild:\n  script: [make]\n", true);
    check(
        "quoted key",
        "\"include\":\n  - a.yml\nbuild:\n  script: [make]\n",
        true,
    );
}

#[test]
fn url_needing_quotes_stays_one_scalar() {
    let url = IncludeUrl::parse("https://h/it's: #odd - [x].yml").err();
    assert!(url.is_some(), "spaces are refused");
    let url = IncludeUrl::parse("https://h/it's:#/[x]{y}&*!|>%@.yml");
    assert!(url.is_err(), "`#` is refused");
    let url = IncludeUrl::parse("https://h/it's:[x]{y}&*!|>%,'.yml").unwrap();
    let Injection::Injected(new) = inject(b"build:\n  script: [make]\n", &url).unwrap() else {
        panic!()
    };
    let v: serde_yaml::Value = serde_yaml::from_slice(&new).unwrap();
    assert_eq!(v["include"][0]["remote"], url.as_str());
    verify(b"build:\n  script: [make]\n", &new, &url).unwrap();
    let Injection::Injected(new) =
        inject(b"include: [a.yml]\nbuild:\n  script: [make]\n", &url).unwrap()
    else {
        panic!()
    };
    let v: serde_yaml::Value = serde_yaml::from_slice(&new).unwrap();
    assert_eq!(v["include"][0]["remote"], url.as_str());
}

#[test]
fn bad_urls_refused() {
    for bad in [
        "http://hub.example/x.yml",
        "https://hub.example/x.yml?ref=main",
        "https://hub.example/x.yml#frag",
        "https://hub.example/x.txt",
        "https://hub.example/x.yml\n- remote: evil.yml",
        "https://hub.example/x'\n.yml",
        "file:///etc/x.yml",
    ] {
        assert!(
            matches!(IncludeUrl::parse(bad), Err(CiError::BadUrl(..))),
            "{bad:?}"
        );
    }
    assert!(IncludeUrl::parse("http://127.0.0.1:8000/patchew-ci.yml").is_ok());
}

#[test]
fn already_present_forms() {
    let string_form = format!("include: '{URL}'\nbuild:\n  script: [make]\n");
    assert_eq!(
        inject(string_form.as_bytes(), &url()),
        Ok(Injection::AlreadyPresent)
    );
    let twice = format!("include:\n  {ENTRY}\n  {ENTRY}\nbuild:\n  script: [make]\n");
    assert_eq!(
        inject(twice.as_bytes(), &url()),
        Err(CiError::IncludeRepeated(2))
    );
}

/// A CI file and the test its error must pass.
type Case = (&'static str, fn(&CiError) -> bool);

#[test]
fn unusable_files_refused_clearly() {
    let cases: [Case; 7] = [
        ("job: [unclosed\n", |e| matches!(e, CiError::InvalidYaml(_))),
        ("a: 1\na: : :\n", |e| matches!(e, CiError::InvalidYaml(_))),
        ("- a\n- b\n", |e| matches!(e, CiError::NotAMapping(_))),
        ("just text\n", |e| matches!(e, CiError::NotAMapping(_))),
        ("", |e| matches!(e, CiError::NotAMapping(_))),
        ("{build: {script: [make]}}\n", |e| {
            matches!(e, CiError::Unsupported(_))
        }),
        ("a: 1\n---\nb: 2\n", |e| {
            matches!(e, CiError::Unsupported(_))
        }),
    ];
    for (old, expected) in cases {
        let err = inject(old.as_bytes(), &url()).unwrap_err();
        assert!(expected(&err), "{old:?}: {err:?}");
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn unprovable_edits_are_refused() {
    // A keep-chomping block scalar owns the blank line after it: adding our entry
    // there would change the text, and the proof notices.
    let old = "include:\n  - local: a.yml\n    inputs:\n      text: |+\n        hello\n\nbuild:\n  script: [make]\n";
    assert!(matches!(
        inject(old.as_bytes(), &url()),
        Err(CiError::ProofFailed(_))
    ));
    // An include that only arrives through a top-level merge key would be overridden.
    let old = ".base: &base\n  include: [a.yml]\n<<: *base\nbuild:\n  script: [make]\n";
    assert!(inject(old.as_bytes(), &url()).is_err());
}

#[test]
fn verify_tells_what_is_wrong() {
    let old = LIBVIRT;
    let good = injected("libvirt", old);
    let u = url();
    assert_eq!(verify(old.as_bytes(), good.as_bytes(), &u), Ok(()));
    assert_eq!(
        verify(old.as_bytes(), old.as_bytes(), &u),
        Err(CiError::IncludeMissing)
    );
    let other = IncludeUrl::parse("https://other.example/x.yml").unwrap();
    assert_eq!(
        verify(old.as_bytes(), good.as_bytes(), &other),
        Err(CiError::IncludeMissing)
    );
    let twice = good.replace(ENTRY, &format!("{ENTRY}\n  {ENTRY}"));
    assert_eq!(
        verify(old.as_bytes(), twice.as_bytes(), &u),
        Err(CiError::IncludeRepeated(2))
    );
    let smuggled = good.replace("GIT_DEPTH: 100", "GIT_DEPTH: 1");
    assert!(matches!(
        verify(old.as_bytes(), smuggled.as_bytes(), &u),
        Err(CiError::OtherChanges(_))
    ));
    let smuggled = good.replace("  - '/ci/gitlab.yml'\n", "");
    assert!(matches!(
        verify(old.as_bytes(), smuggled.as_bytes(), &u),
        Err(CiError::OtherChanges(_))
    ));
    let broken = format!("{good}\n  : [\n");
    assert!(matches!(
        verify(old.as_bytes(), broken.as_bytes(), &u),
        Err(CiError::InvalidYaml(_))
    ));
    // A series based on another Patchew tag: the parent already carries the include.
    assert_eq!(verify(good.as_bytes(), good.as_bytes(), &u), Ok(()));
    assert!(matches!(
        verify(good.as_bytes(), smuggled.as_bytes(), &u),
        Err(CiError::OtherChanges(_))
    ));
}
