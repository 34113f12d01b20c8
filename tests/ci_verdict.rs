//! The tag pipeline verdict on CI trees held in memory: what each blocker gives,
//! includes across files, and hostile files that must end in a clear verdict.
//! tests/ci_gitlab_local.rs compares the predicted jobs with gitlab-ci-local.

use std::collections::BTreeMap;

use git_patchew::ci::pipeline::{predict, Hub, Prediction, Tree, Verdict};
use git_patchew::repo::RepoError;

struct Files(BTreeMap<String, Vec<u8>>);

impl Tree for Files {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, RepoError> {
        Ok(self.0.get(path).cloned())
    }
    fn paths(&self) -> Result<Vec<String>, RepoError> {
        Ok(self.0.keys().cloned().collect())
    }
}

fn files(list: &[(&str, &str)]) -> Files {
    Files(
        list.iter()
            .map(|(p, c)| ((*p).to_owned(), c.as_bytes().to_vec()))
            .collect(),
    )
}

fn hub(vars: &[(&str, &str)]) -> Hub {
    Hub {
        tag: "patchew/20240101.1-a@example.org".into(),
        project: Some("patchew/project".into()),
        variables: vars
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
        ..Hub::default()
    }
}

fn top(file: &str) -> Prediction {
    predict(&files(&[(".gitlab-ci.yml", file)]), &hub(&[])).unwrap()
}

#[track_caller]
fn assert_verdict(p: &Prediction, verdict: Verdict, needles: &[&str]) {
    let text = p.pipeline.summary();
    assert_eq!(p.pipeline.verdict, verdict, "{text}");
    for n in needles {
        assert!(text.contains(n), "{n:?} not in {text}");
    }
}

#[test]
fn each_blocker_gives_its_verdict_and_names_the_cause() {
    let job = "build:\n  script: [make]\n";
    let none = [
        (
            format!("workflow:\n  rules:\n    - if: $CI_COMMIT_TAG\n      when: never\n    - when: always\n{job}"),
            vec!["workflow:rules", "if: $CI_COMMIT_TAG"],
        ),
        (
            format!("workflow:\n  rules:\n    - if: $CI_COMMIT_BRANCH\n{job}"),
            vec!["workflow:rules"],
        ),
        (
            format!("workflow:\n  rules:\n    - if: '$QEMU_CI == \"1\"'\n{job}"),
            vec!["workflow:rules", "QEMU_CI (now unset", "\"1\""],
        ),
        (
            "build:\n  script: [make]\n  only: [branches, merge_requests]\n".into(),
            vec!["`build`", "only: branches, merge_requests"],
        ),
        (
            "build:\n  script: [make]\n  only:\n    refs: [main]\n".into(),
            vec!["`build`", "only: main"],
        ),
        (
            "build:\n  script: [make]\n  except: [tags]\n".into(),
            vec!["`build`", "except: tags"],
        ),
        (
            "build:\n  script: [make]\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n".into(),
            vec!["`build`", "when: never"],
        ),
        (
            "build:\n  script: [make]\n  rules:\n    - if: '$QEMU_CI != \"1\" && $QEMU_CI != \"2\"'\n      when: never\n    - when: on_success\n".into(),
            vec!["`build`", "QEMU_CI (now unset; the rule compares it with \"1\", \"2\")"],
        ),
        (
            ".base:\n  only: [branches]\nbuild:\n  extends: .base\n  script: [make]\n".into(),
            vec!["using the rules of `.base`", "only: branches"],
        ),
        (
            "stages: [a]\nreport:\n  stage: .post\n  script: [x]\n".into(),
            vec![".pre/.post"],
        ),
    ];
    for (file, needles) in &none {
        assert_verdict(&top(file), Verdict::None, needles);
    }
    let blocked = [
        (
            "deploy:\n  script: [make]\n  rules:\n    - if: $CI_COMMIT_TAG\n      when: manual\n",
            vec!["`deploy`", "manual"],
        ),
        (
            "deploy:\n  script: [make]\n  when: manual\n  allow_failure: false\n",
            vec!["`deploy`", "manual"],
        ),
        // In `.pre` too: every later stage waits for it.
        (
            "gate:\n  stage: .pre\n  script: [x]\n  when: manual\n  allow_failure: false\nbuild:\n  script: [make]\n",
            vec!["`gate`"],
        ),
    ];
    for (file, needles) in &blocked {
        assert_verdict(&top(file), Verdict::Blocked, needles);
    }
    for file in [
        "stages: [build]\nbuild:\n  stage: build\n  script: [make]\n",
        "workflow:\n  rules:\n    - if: $CI_COMMIT_TAG\n    - if: $CI_COMMIT_BRANCH\nbuild:\n  script: [make]\n",
        "workflow:\n  rules:\n    - if: $CI_COMMIT_TAG =~ /^v/\n      when: never\n    - when: always\nbuild:\n  script: [make]\n",
        "variables:\n  QEMU_CI: '1'\nbuild:\n  script: [make]\n  rules:\n    - if: '$QEMU_CI != \"1\"'\n      when: never\n    - when: on_success\n",
        "build:\n  script: [make]\n  only: [tags, branches]\n",
        "build:\n  script: [make]\n  only: ['/^patchew\\//']\n",
        // A job-level manual job may be skipped: it does not block.
        "manual:\n  script: [make]\n  when: manual\nbuild:\n  script: [make]\n",
        "manual:\n  script: [make]\n  rules:\n    - when: manual\n      allow_failure: true\n",
        ".rules:\n  tags:\n    - if: $CI_COMMIT_TAG\nbuild:\n  script: [make]\n  rules:\n    - !reference [.rules, tags]\n",
    ] {
        assert_verdict(&top(file), Verdict::Runs, &[]);
    }
}

#[test]
fn hub_variables_and_push_options_open_gates() {
    let file = "build:\n  script: [make]\n  rules:\n    - if: '$GATE == \"on\"'\n";
    let tree = files(&[(".gitlab-ci.yml", file)]);
    assert_verdict(
        &predict(&tree, &hub(&[])).unwrap(),
        Verdict::None,
        &["GATE"],
    );
    assert_verdict(
        &predict(&tree, &hub(&[("GATE", "on")])).unwrap(),
        Verdict::Runs,
        &[],
    );
    let mut h = hub(&[]);
    h.add_push_options(&["ci.variable=\"GATE=on\""]);
    assert_verdict(&predict(&tree, &h).unwrap(), Verdict::Runs, &[]);
    h.add_push_options(&["ci.skip"]);
    assert_verdict(&predict(&tree, &h).unwrap(), Verdict::None, &["ci.skip"]);
    // An unknown namespace is "maybe", never a guess.
    let ns = "build:\n  script: [make]\n  rules:\n    - if: '$CI_PROJECT_NAMESPACE == \"upstream\"'\n      when: never\n    - when: on_success\n";
    let tree = files(&[(".gitlab-ci.yml", ns)]);
    let mut h = hub(&[]);
    h.project = None;
    assert_verdict(&predict(&tree, &h).unwrap(), Verdict::Unknown, &["`build`"]);
    assert_verdict(&predict(&tree, &hub(&[])).unwrap(), Verdict::Runs, &[]);
}

#[test]
fn unreadable_includes_are_named_once() {
    let file = "include:\n  - project: 'freedesktop/ci-templates'\n    file: '/templates/ci-fairy.yml'\n  - component: gitlab.gnome.org/GNOME/citemplates/release-service@master\n  - template: Jobs/SAST.gitlab-ci.yml\n  - remote: https://example.org/x.yml\nbuild:\n  script: [make]\n";
    let p = top(file);
    assert_eq!(p.pipeline.verdict, Verdict::Runs);
    let warnings = p.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    for n in [
        "freedesktop/ci-templates",
        "gitlab.gnome.org",
        "Jobs/SAST",
        "example.org/x.yml",
    ] {
        assert!(warnings[0].contains(n), "{n} not in {warnings:?}");
    }
    // Where they could matter, the verdict is unknown.
    let p = top("include:\n  - project: 'a/b'\n    file: x.yml\nbuild:\n  script: [make]\n  only: [branches]\n");
    assert_verdict(&p, Verdict::Unknown, &["project `a/b` (file x.yml)"]);
    // Our own include is neither unreadable nor a job.
    let mut h = hub(&[]);
    h.own_include = Some("https://hub.example/patchew-ci.yml".into());
    let tree = files(&[(
        ".gitlab-ci.yml",
        "include:\n  - remote: https://hub.example/patchew-ci.yml\nbuild:\n  script: [make]\n",
    )]);
    let p = predict(&tree, &h).unwrap();
    assert!(p.warnings().is_empty(), "{:?}", p.warnings());
}

#[test]
fn includes_are_followed_across_files() {
    // A file is merged over its own includes, the top file over everything.
    let tree = files(&[
        (".gitlab-ci.yml", "include:\n  - local: ci/main.yml\n  - local: /ci/later.yml\n    rules:\n      - if: $CI_COMMIT_BRANCH\n.tpl:\n  rules:\n    - if: '$FROM_A == \"yes\"'\n      when: on_success\nbuild:\n  extends: .tpl\n"),
        ("ci/main.yml", "include: '/ci/parts/**/*.yml'\n.tpl:\n  script: [make]\n  rules:\n    - if: $CI_COMMIT_TAG\n      when: manual\n"),
        ("ci/parts/a.yml", "variables:\n  FROM_A: 'yes'\n"),
        ("ci/parts/deep/b.yml", "test:\n  extends: .tpl\n  stage: test\n"),
        // Skipped by its include rule: would make `build` manual and blocking.
        ("ci/later.yml", "build:\n  when: manual\n  allow_failure: false\n"),
    ]);
    let p = predict(&tree, &hub(&[])).unwrap();
    assert_verdict(&p, Verdict::Runs, &[]);
    let jobs: Vec<(&str, &str, &str)> = p
        .pipeline
        .jobs
        .iter()
        .map(|j| (j.name.as_str(), j.stage.as_str(), j.when.as_str()))
        .collect();
    assert_eq!(
        jobs,
        [
            ("test", "test", "on_success"),
            ("build", "test", "on_success")
        ]
    );
    // Without the top file's override, main.yml's manual rule wins over b.yml.
    let mut without = tree.0.clone();
    without.insert(
        ".gitlab-ci.yml".into(),
        b"include: ci/main.yml\nbuild:\n  extends: .tpl\n".to_vec(),
    );
    let p = predict(&Files(without), &hub(&[])).unwrap();
    assert_verdict(&p, Verdict::Blocked, &["`.tpl` (ci/main.yml)"]);

    // A job named like ours, in any followed file, is reported.
    let tree = files(&[
        (
            ".gitlab-ci.yml",
            "include: ci/x.yml\nbuild:\n  script: [make]\n",
        ),
        (
            "ci/x.yml",
            "patchew-report-success:\n  script: [echo hijacked]\n",
        ),
    ]);
    let p = predict(&tree, &hub(&[])).unwrap();
    let problem = p.reserved_problem().unwrap();
    assert!(
        problem.contains("`patchew-report-success` (ci/x.yml)"),
        "{problem}"
    );
}

#[test]
fn spec_headers_and_merge_keys() {
    let file = "spec:\n  inputs:\n    stage:\n      default: test\n---\n.r: &r\n  rules:\n    - if: $CI_COMMIT_TAG\n      when: manual\n.a: &a\n  allow_failure: true\nbuild:\n  <<: *r\n  <<: *a\n  script: [x]\n";
    assert_verdict(&top(file), Verdict::Runs, &[]);
    let blocking = file.replace("allow_failure: true", "allow_failure: false");
    assert_verdict(&top(&blocking), Verdict::Blocked, &["`build`"]);
}

#[test]
fn broken_configurations_give_no_pipeline() {
    for (tree, needle) in [
        (
            files(&[(
                ".gitlab-ci.yml",
                "include: missing.yml\nb:\n  script: [x]\n",
            )]),
            "missing.yml",
        ),
        (
            files(&[(".gitlab-ci.yml", "include: 'ci/*.yml'\nb:\n  script: [x]\n")]),
            "matches no file",
        ),
        (
            files(&[(".gitlab-ci.yml", "b:\n  extends: .nope\n  script: [x]\n")]),
            ".nope",
        ),
        (files(&[(".gitlab-ci.yml", "b: [\n")]), "not valid YAML"),
        (
            files(&[(".gitlab-ci.yml", "b:\n  script: !reference [.x, y]\n")]),
            ".x",
        ),
    ] {
        let p = predict(&tree, &hub(&[])).unwrap();
        assert_verdict(&p, Verdict::None, &["GitLab refuses", needle]);
    }
    let p = predict(&files(&[]), &hub(&[])).unwrap();
    assert_verdict(&p, Verdict::None, &[".gitlab-ci.yml"]);
}

#[test]
fn hostile_files_end_in_a_clear_verdict() {
    // An include cycle: each file is read once, as GitLab ignores duplicates.
    let tree = files(&[
        (".gitlab-ci.yml", "include: a.yml\nb:\n  script: [x]\n"),
        ("a.yml", "include: [b.yml, .gitlab-ci.yml, a.yml]\n"),
        ("b.yml", "include: a.yml\n"),
    ]);
    assert_verdict(&predict(&tree, &hub(&[])).unwrap(), Verdict::Runs, &[]);

    // 10,000 includes of distinct files, and a chain nested 10,000 deep.
    let mut many = vec![(".gitlab-ci.yml".to_owned(), String::new())];
    let mut top_file = String::from("include:\n");
    for i in 0..10_000 {
        top_file.push_str(&format!("  - f{i}.yml\n"));
        many.push((format!("f{i}.yml"), format!("j{i}:\n  script: [x]\n")));
    }
    many[0].1 = top_file;
    let chain: Vec<(String, String)> = (0..10_000)
        .map(|i| (format!("c{i}.yml"), format!("include: c{}.yml\n", i + 1)))
        .chain([(".gitlab-ci.yml".to_owned(), "include: c0.yml\n".to_owned())])
        .collect();
    let wide_glob = vec![(
        ".gitlab-ci.yml".to_owned(),
        "include: '**/*.yml'\n".to_owned(),
    )]
    .into_iter()
    .chain((0..10_000).map(|i| (format!("d{}/g{i}.yml", i % 97), "{}\n".to_owned())))
    .collect::<Vec<_>>();
    // The same glob 10,000 times: each entry would walk the whole tree.
    let repeated = vec![(
        ".gitlab-ci.yml".to_owned(),
        format!("include:\n{}", "  - 'x/**/*.yml'\n".repeat(10_000)),
    )]
    .into_iter()
    .chain((0..10_000).map(|i| (format!("x/{i}.yml"), "{}\n".to_owned())))
    .collect::<Vec<_>>();
    for (name, list) in [
        ("many", many),
        ("chain", chain),
        ("glob", wide_glob),
        ("repeated", repeated),
    ] {
        let tree = Files(list.into_iter().map(|(p, c)| (p, c.into_bytes())).collect());
        let p = predict(&tree, &hub(&[])).unwrap();
        assert_verdict(&p, Verdict::Unknown, &["150"]);
        assert!(!name.is_empty());
    }

    // extends cycles, and extends deeper than GitLab's 11 levels.
    assert_verdict(
        &top(".a:\n  extends: .b\n.b:\n  extends: .a\nj:\n  extends: .a\n  script: [x]\n"),
        Verdict::None,
        &["circular"],
    );
    let mut deep = String::new();
    for i in 0..20 {
        deep.push_str(&format!(".t{i}:\n  extends: .t{}\n", i + 1));
    }
    deep.push_str(".t20:\n  script: [x]\nj:\n  extends: .t0\n");
    assert_verdict(&top(&deep), Verdict::None, &["11 levels"]);

    // Every hidden job extends every later one: must stay fast (memoised), not
    // explode; 10 levels are within GitLab's limit.
    let names: Vec<String> = (0..10).map(|i| format!(".h{i}")).collect();
    let mut all = String::new();
    for (i, name) in names.iter().enumerate() {
        all.push_str(&format!(
            "{name}:\n  extends: [{}]\n",
            names[i + 1..].join(", ")
        ));
    }
    all.push_str(&format!(
        "job:\n  extends: [{}]\n  script: [x]\n",
        names.join(", ")
    ));
    assert_verdict(&top(&all), Verdict::Runs, &[]);

    // A !reference that refers to itself.
    assert_verdict(
        &top(".a:\n  s: !reference [.a, s]\nj:\n  script: !reference [.a, s]\n"),
        Verdict::None,
        &["!reference"],
    );
    // Expressions nested 10,000 deep and huge patterns are "maybe", not a crash.
    let deep_expr = format!("{}$X{}", "(".repeat(10_000), ")".repeat(10_000));
    let p = top(&format!(
        "j:\n  script: [x]\n  rules:\n    - if: '{deep_expr}'\n"
    ));
    assert_verdict(&p, Verdict::Unknown, &["`j`"]);
    let p = top("j:\n  script: [x]\n  rules:\n    - if: '$CI_COMMIT_TAG =~ /(a{1000}){1000}/'\n");
    assert_verdict(&p, Verdict::Unknown, &["`j`"]);
}

#[test]
fn needs_on_excluded_jobs_and_unknown_stages_stop_gitlab() {
    let file = "stages: [a, b]\nx:\n  stage: a\n  script: [x]\n  rules:\n    - if: $GATE\ny:\n  stage: b\n  script: [y]\n  needs: [x]\n";
    assert_verdict(&top(file), Verdict::None, &["`y` needs `x`", "GATE"]);
    let optional = file.replace("needs: [x]", "needs: [{job: x, optional: true}]");
    assert_verdict(&top(&optional), Verdict::Runs, &[]);
    let tree = files(&[(".gitlab-ci.yml", file)]);
    assert_verdict(
        &predict(&tree, &hub(&[("GATE", "1")])).unwrap(),
        Verdict::Runs,
        &[],
    );
    assert_verdict(
        &top("stages: [a]\nx:\n  stage: b\n  script: [x]\n"),
        Verdict::None,
        &["`x`", "stage `b`"],
    );
    // Without `stages:`, GitLab's default ones.
    assert_verdict(
        &top("x:\n  stage: deploy\n  script: [x]\n"),
        Verdict::Runs,
        &[],
    );
}

#[test]
fn include_and_job_rules_see_which_files_exist() {
    let top_file = "include:\n  - local: ci/gate.yml\n    rules:\n      - exists: ['**/Makefile']\nbuild:\n  script: [make]\n  rules:\n    - exists: [configure]\n";
    let gate = "build:\n  when: manual\n  allow_failure: false\n";
    let with = files(&[
        (".gitlab-ci.yml", top_file),
        ("ci/gate.yml", gate),
        ("src/Makefile", ""),
        ("configure", ""),
    ]);
    assert_verdict(
        &predict(&with, &hub(&[])).unwrap(),
        Verdict::Blocked,
        &["`build`"],
    );
    let without = files(&[
        (".gitlab-ci.yml", top_file),
        ("ci/gate.yml", gate),
        ("configure", ""),
    ]);
    assert_verdict(&predict(&without, &hub(&[])).unwrap(), Verdict::Runs, &[]);
    let no_configure = files(&[(".gitlab-ci.yml", top_file), ("ci/gate.yml", gate)]);
    assert_verdict(
        &predict(&no_configure, &hub(&[])).unwrap(),
        Verdict::None,
        &["`build`"],
    );
}

#[test]
fn workflow_rule_variables_reach_job_rules() {
    let file = "variables:\n  MODE: branch\nworkflow:\n  rules:\n    - if: $CI_COMMIT_TAG\n      variables:\n        MODE: tag\n    - when: always\nbuild:\n  script: [make]\n  rules:\n    - if: '$MODE == \"tag\"'\n";
    assert_verdict(&top(file), Verdict::Runs, &[]);
    let branch_only = file.replace("if: $CI_COMMIT_TAG", "if: $CI_COMMIT_BRANCH");
    assert_verdict(&top(&branch_only), Verdict::None, &["`build`"]);
}

#[test]
fn yaml_bombs_and_deep_nesting_are_refused_not_expanded() {
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    bomb.push_str("j:\n  script: *a9\n");
    assert_verdict(&top(&bomb), Verdict::None, &["not valid YAML"]);
    let deep = format!(
        "j:\n  script: {}x{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert_verdict(&top(&deep), Verdict::None, &["not valid YAML"]);
}

/// A fetcher serving files by their description, and counting the questions.
struct Served(BTreeMap<String, String>, std::cell::RefCell<Vec<String>>);

impl git_patchew::ci::pipeline::Fetcher for Served {
    fn fetch(
        &self,
        include: &git_patchew::ci::pipeline::External,
    ) -> Result<Vec<u8>, git_patchew::ci::pipeline::FetchError> {
        let name = include.describe();
        self.1.borrow_mut().push(name.clone());
        self.0
            .get(&name)
            .map(|c| c.as_bytes().to_vec())
            .ok_or_else(|| git_patchew::ci::pipeline::FetchError::new("HTTP 404"))
    }
}

#[test]
fn includes_outside_the_tree_follow_gitlabs_context_rules() {
    use git_patchew::ci::pipeline::predict_with;
    let tree = files(&[(
        ".gitlab-ci.yml",
        "include:\n  - project: $UPSTREAM\n    file: [a.yml, /b.yml]\n    ref: main\n  - remote: https://h.example/r.yml\n",
    )]);
    let served = Served(
        [
            // A project file's `local:` include is a file of that project.
            (
                "project `group/up` (file a.yml, ref main)",
                "include:\n  - local: /nested.yml\n",
            ),
            (
                "project `group/up` (file nested.yml, ref main)",
                "build:\n  script: [make]\n  rules:\n    - if: $CI_COMMIT_TAG\n      when: manual\n",
            ),
            ("project `group/up` (file b.yml, ref main)", "test:\n  script: [t]\n"),
            // A remote file has no project to read a `local:` include from.
            ("remote `https://h.example/r.yml`", "include: local.yml\n"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect(),
        Default::default(),
    );
    let p = predict_with(&tree, &hub(&[("UPSTREAM", "group/up")]), Some(&served)).unwrap();
    assert_verdict(
        &p,
        Verdict::Blocked,
        &["`build` (project `group/up` (file nested.yml, ref main))"],
    );
    assert_eq!(
        p.unreadable,
        ["local `local.yml` (included by remote `https://h.example/r.yml`)"]
    );
    let names: Vec<&str> = p.pipeline.jobs.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(names, ["build", "test"]);
    // The variable in `project:` was expanded before asking.
    assert!(served.1.borrow().iter().all(|n| !n.contains('$')));
}
