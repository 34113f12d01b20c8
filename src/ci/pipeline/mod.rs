//! The tag pipeline verdict: what GitLab would make of a `patchew/...` tag push of a
//! commit, computed from its tree alone.
//!
//! The tree is read through [`Tree`] (the `repo` module implements it over gix), files
//! outside it through a [`Fetcher`] (HTTP and GitLab behind it, none offline);
//! everything here is plain data in, [`Prediction`] out. The steps are GitLab's:
//! includes are followed ([`include`]), the files deep-merged, `extends:` and
//! `!reference` resolved ([`jobs`]), `parallel:` jobs expanded ([`parallel`]), then
//! `workflow:rules` and each job's `rules:`
//! evaluated ([`expr`]) with the variables a tag push pipeline on the ci-hub has
//! ([`Hub`]). Whatever is not known is "maybe", and a verdict that depends on it is
//! [`Verdict::Unknown`], never a guess.

mod expr;
mod include;
mod jobs;
mod parallel;
mod remote;
mod yaml;

pub use self::remote::{Cached, External, FetchError, Fetcher, OWN_INCLUDE, OWN_JOBS};

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use self::expr::{Gates, Origin, Scope, Val};
use self::yaml::{deep_merge, Map};
use crate::ci::node::Node;
use crate::ci::CI_FILE;
use crate::repo::RepoError;

/// Read access to one commit's tree.
pub trait Tree {
    /// The content of the file at `path` (relative, `/`-separated), if it is one.
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, RepoError>;
    /// Every file path of the tree.
    fn paths(&self) -> Result<Vec<String>, RepoError>;
}

/// What the ci-hub and the push add to a tag pipeline.
#[derive(Debug, Clone, Default)]
pub struct Hub {
    /// `CI_COMMIT_TAG`: the tag that is pushed, without `refs/tags/`.
    pub tag: String,
    /// The ci-hub project's path, `namespace/name` (`patchew.ciProject`), if known.
    pub project: Option<String>,
    /// Variables the ci-hub sets: `patchew.ciVariables`, `ci.variable=` push options,
    /// `--variable`; a later one wins.
    pub variables: Vec<(String, String)>,
    /// `ci.skip` is among the push options.
    pub skip: bool,
    /// The URL of our own report include: its jobs are the ones we ship
    /// ([`OWN_INCLUDE`]), neither fetched nor unreadable nor the project's.
    pub own_include: Option<String>,
}

impl Hub {
    /// Takes `ci.variable="NAME=VALUE"` and `ci.skip` from git push options.
    pub fn add_push_options<S: AsRef<str>>(&mut self, options: &[S]) {
        for option in options {
            let option = option.as_ref().trim();
            if option == "ci.skip" {
                self.skip = true;
            } else if let Some(assignment) = option.strip_prefix("ci.variable=") {
                let assignment = assignment.trim_matches('"');
                if let Some((name, value)) = assignment.split_once('=') {
                    self.variables
                        .push((name.trim().to_owned(), value.to_owned()));
                }
            }
        }
    }

    /// Parses `NAME=VALUE` words (`patchew.ciVariables`, `--variable`).
    pub fn parse_assignments(text: &str) -> Result<Vec<(String, String)>, AssignmentError> {
        text.split_whitespace().map(parse_assignment).collect()
    }
}

/// A word that is not a `NAME=VALUE` GitLab would take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssignmentError {
    #[error("{0:?} is not NAME=VALUE")]
    NoEquals(String),
    #[error("{0:?} is not a variable name")]
    BadName(String),
}

/// `NAME=VALUE`, NAME being a variable name GitLab accepts.
pub fn parse_assignment(word: &str) -> Result<(String, String), AssignmentError> {
    let (name, value) = word
        .split_once('=')
        .ok_or_else(|| AssignmentError::NoEquals(word.to_owned()))?;
    let valid = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        return Err(AssignmentError::BadName(name.to_owned()));
    }
    Ok((name.to_owned(), value.to_owned()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The pipeline is created and reaches `.post`: the report jobs run.
    Runs,
    /// GitLab creates no pipeline (or one that fails before any job).
    None,
    /// A blocking manual job stops the pipeline before `.post`.
    Blocked,
    Unknown,
}

impl Verdict {
    /// The words every message uses.
    pub fn words(self) -> &'static str {
        match self {
            Verdict::Runs => "report jobs will run",
            Verdict::None => "no pipeline",
            Verdict::Blocked => "blocked before the report",
            Verdict::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Job {
    pub name: String,
    pub stage: String,
    /// `on_success`, `manual`, `never`...; `unknown` when the rules cannot tell.
    pub when: String,
    pub allow_failure: bool,
}

/// The `"pipeline"` object of `--json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pipeline {
    pub verdict: Verdict,
    pub reasons: Vec<String>,
    pub jobs: Vec<Job>,
}

impl Pipeline {
    /// One line: `tag pipeline: <words>: <reasons>`.
    pub fn summary(&self) -> String {
        let mut s = format!("tag pipeline: {}", self.verdict.words());
        if !self.reasons.is_empty() {
            s.push_str(": ");
            s.push_str(&self.reasons.join("; "));
        }
        s
    }
}

#[derive(Debug, Clone)]
pub struct Prediction {
    pub pipeline: Pipeline,
    /// Jobs of the series' CI files whose names are reserved for our report jobs, as
    /// `` `name` (file) ``.
    pub reserved: Vec<String>,
    /// Includes that could not be read (`component`, or a `project`, `template` or
    /// `remote` the fetcher could not give, with its reason in parentheses).
    pub unreadable: Vec<String>,
}

impl Prediction {
    /// Why the series must be refused: its CI files define a job named like ours,
    /// which would replace our report job (GitLab merges the project's files over
    /// included ones).
    pub fn reserved_problem(&self) -> Option<String> {
        (!self.reserved.is_empty()).then(|| {
            format!(
                "the series' CI files define {}: job names starting with `{RESERVED_PREFIX}` are reserved for the Patchew report jobs",
                self.reserved.join(", ")
            )
        })
    }

    /// What `apply` warns about: the verdict unless the report jobs will run, and the
    /// includes we could not follow.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.pipeline.verdict != Verdict::Runs {
            out.push(self.pipeline.summary());
        } else if !self.unreadable.is_empty() {
            out.push(unreadable_reason(&self.unreadable));
        }
        out
    }
}

/// Job names of our include: a job of the same name in the project's files would
/// replace ours (GitLab merges the project's file over included ones).
pub const RESERVED_PREFIX: &str = "patchew-";

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("cannot read the tree: {0}")]
    Tree(#[source] RepoError),
}

/// Why the evaluation stopped early.
#[derive(Debug)]
pub(crate) enum Problem {
    /// GitLab would refuse the configuration: no pipeline runs.
    Refused(String),
    /// We stop following (our limits): the verdict is unknown.
    Unknown(String),
    Tree(RepoError),
}

/// The variables of a tag push pipeline on the ci-hub, and the files' globals.
pub(crate) struct Vars {
    hub: BTreeMap<String, String>,
    tag: String,
    project: Option<(String, String)>,
    file: BTreeMap<String, Val>,
}

impl Vars {
    fn new(hub: &Hub) -> Vars {
        let project = hub.project.as_deref().and_then(|p| {
            let p = p.trim_matches('/');
            let (namespace, name) = p.rsplit_once('/')?;
            (!namespace.is_empty() && !name.is_empty())
                .then(|| (namespace.to_owned(), name.to_owned()))
        });
        Vars {
            hub: hub.variables.iter().cloned().collect(),
            tag: hub.tag.clone(),
            project,
            file: BTreeMap::new(),
        }
    }

    pub(crate) fn hub_sets(&self, name: &str) -> bool {
        self.hub.contains_key(name)
    }

    fn predefined(&self, name: &str) -> Val {
        let project = |f: fn(&(String, String)) -> String| {
            self.project
                .as_ref()
                .map_or(Val::SetUnknown, |p| Val::Str(f(p)))
        };
        match name {
            "CI_COMMIT_TAG" | "CI_COMMIT_REF_NAME" => Val::Str(self.tag.clone()),
            "CI_COMMIT_REF_SLUG" => Val::Str(slug(&self.tag)),
            "CI_PIPELINE_SOURCE" => Val::Str("push".into()),
            "CI" | "GITLAB_CI" => Val::Str("true".into()),
            "CI_SERVER" => Val::Str("yes".into()),
            "CI_COMMIT_BRANCH"
            | "CI_OPEN_MERGE_REQUESTS"
            | "CI_PIPELINE_TRIGGERED"
            | "CI_TRIGGER_SHORT_TOKEN"
            | "CI_PIPELINE_SCHEDULE_DESCRIPTION" => Val::Unset,
            n if n.starts_with("CI_MERGE_REQUEST_")
                || n.starts_with("CI_EXTERNAL_PULL_REQUEST_") =>
            {
                Val::Unset
            }
            "CI_PROJECT_NAMESPACE" => project(|p| p.0.clone()),
            "CI_PROJECT_NAME" => project(|p| p.1.clone()),
            "CI_PROJECT_PATH" => project(|p| format!("{}/{}", p.0, p.1)),
            "CI_PROJECT_ROOT_NAMESPACE" => {
                project(|p| p.0.split('/').next().unwrap_or_default().to_owned())
            }
            "CI_COMMIT_SHA"
            | "CI_COMMIT_SHORT_SHA"
            | "CI_DEFAULT_BRANCH"
            | "CI_PIPELINE_ID"
            | "CI_PIPELINE_IID"
            | "CI_PIPELINE_URL"
            | "CI_PROJECT_ID"
            | "CI_PROJECT_URL"
            | "CI_PROJECT_DIR"
            | "CI_PROJECT_PATH_SLUG"
            | "CI_SERVER_HOST"
            | "CI_SERVER_URL"
            | "CI_SERVER_FQDN"
            | "CI_SERVER_NAME"
            | "CI_SERVER_VERSION"
            | "CI_COMMIT_AUTHOR"
            | "CI_COMMIT_MESSAGE"
            | "CI_COMMIT_TITLE"
            | "CI_COMMIT_TIMESTAMP"
            | "CI_CONFIG_PATH"
            | "CI_PROJECT_VISIBILITY"
            | "CI_COMMIT_REF_PROTECTED"
            | "GITLAB_USER_LOGIN"
            | "GITLAB_USER_ID"
            | "GITLAB_USER_EMAIL"
            | "GITLAB_USER_NAME" => Val::SetUnknown,
            _ => Val::Unknown,
        }
    }
}

impl Scope for Vars {
    fn value(&self, name: &str) -> (Val, Origin) {
        if let Some(v) = self.hub.get(name) {
            return (Val::Str(v.clone()), Origin::Hub);
        }
        if let Some(v) = self.file.get(name) {
            return (v.clone(), Origin::File);
        }
        if name.starts_with("CI_") || name.starts_with("GITLAB_") || name == "CI" {
            return (self.predefined(name), Origin::Predefined);
        }
        (Val::Unset, Origin::Hub)
    }
}

/// `CI_COMMIT_REF_SLUG`: lower case, runs of other characters as `-`, at most 63.
fn slug(name: &str) -> String {
    let lowered: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let cut: String = lowered.chars().take(63).collect();
    cut.trim_matches('-').to_owned()
}

/// Predicts the tag pipeline of the tree, offline: includes outside the tree (but
/// ours) are unknown.
pub fn predict(tree: &dyn Tree, hub: &Hub) -> Result<Prediction, PipelineError> {
    predict_with(tree, hub, None)
}

/// Predicts the tag pipeline of the tree; `fetcher`, if given, reads the
/// `remote:`, `project:` and `template:` includes.
pub fn predict_with(
    tree: &dyn Tree,
    hub: &Hub,
    fetcher: Option<&dyn Fetcher>,
) -> Result<Prediction, PipelineError> {
    let mut vars = Vars::new(hub);
    let mut reserved = Vec::new();
    let mut unreadable = Vec::new();
    let found = evaluate(
        tree,
        hub,
        fetcher,
        &mut vars,
        &mut reserved,
        &mut unreadable,
    );
    let pipeline = match found {
        Ok(p) => p,
        Err(Problem::Tree(e)) => return Err(PipelineError::Tree(e)),
        Err(Problem::Refused(why)) => Pipeline {
            verdict: Verdict::None,
            reasons: vec![format!("GitLab refuses this CI configuration: {why}")],
            jobs: Vec::new(),
        },
        Err(Problem::Unknown(why)) => Pipeline {
            verdict: Verdict::Unknown,
            reasons: vec![why],
            jobs: Vec::new(),
        },
    };
    unreadable.sort();
    unreadable.dedup();
    Ok(Prediction {
        pipeline,
        reserved,
        unreadable,
    })
}

/// A job as evaluated, with what the reasons need.
struct Evaluated {
    job: Job,
    /// The job's name in the files: `job.name` unless `parallel:` expanded it.
    base: String,
    decision: jobs::Decision,
    /// The entry whose rules decide, and the file that defines it.
    rules_from: String,
    file: String,
}

fn evaluate(
    tree: &dyn Tree,
    hub: &Hub,
    fetcher: Option<&dyn Fetcher>,
    vars: &mut Vars,
    reserved: &mut Vec<String>,
    unreadable: &mut Vec<String>,
) -> Result<Pipeline, Problem> {
    let Some(bytes) = tree.read(CI_FILE).map_err(Problem::Tree)? else {
        return Ok(Pipeline {
            verdict: Verdict::None,
            reasons: vec![format!("the tree has no {CI_FILE}")],
            jobs: Vec::new(),
        });
    };
    let top = include::parse_ci(CI_FILE, &bytes, None)?;
    let expanded = include::expand(
        tree,
        CI_FILE,
        top,
        vars,
        hub.own_include.as_deref(),
        fetcher,
    )?;
    unreadable.clone_from(&expanded.unreadable);

    // Where each entry was last defined, and the raw merged configuration.
    let mut defined_in: BTreeMap<String, String> = BTreeMap::new();
    let mut merged = Node::Map(Vec::new());
    for source in &expanded.files {
        for (k, v) in source.doc.entries().unwrap_or_default() {
            if let Some(name) = k.as_str() {
                defined_in.insert(name.to_owned(), source.path.clone());
                let project_job = !source.ours && jobs::is_job_name(name, v);
                if name.starts_with(RESERVED_PREFIX) && project_job {
                    reserved.push(format!("`{name}` ({})", source.path));
                }
            }
        }
        merged = deep_merge(&merged, &source.doc);
    }
    let raw = Map::from_node(&merged);
    vars.file = jobs::yaml_variables(raw.get("variables"));
    let config = jobs::resolve(&raw)?;

    let mut reasons = Vec::new();
    if hub.skip {
        reasons.push("the push option ci.skip tells GitLab to create no pipeline".to_owned());
        return Ok(Pipeline {
            verdict: Verdict::None,
            reasons,
            jobs: Vec::new(),
        });
    }

    let paths = if needs_paths(&config) {
        Some(tree.paths().map_err(Problem::Tree)?)
    } else {
        None
    };
    // workflow:rules first: the variables of the rule that lets the pipeline run
    // override the files' global ones for every job.
    let workflow = config
        .get("workflow")
        .and_then(|w| w.get("rules"))
        .map(|rules| {
            let no_job = Node::Map(Vec::new());
            let mut decision = jobs::decide_rules(rules, &no_job, vars, tree, paths.as_deref());
            for o in &mut decision.outcomes {
                if o.when == "on_success" {
                    o.when = "always".into();
                }
            }
            decision
        });
    if let Some(decision) = &workflow {
        if decision.certain().is_some_and(|o| o.when != "never") {
            let set = jobs::yaml_variables(decision.variables.as_ref());
            vars.file.extend(set);
        }
    }
    let evaluated = evaluate_jobs(
        &raw,
        &config,
        &defined_in,
        vars,
        tree,
        paths.as_deref(),
        &hub.tag,
    );
    check_stages(&config, &evaluated)?;
    let jobs_out: Vec<Job> = evaluated.iter().map(|e| e.job.clone()).collect();
    let done = |verdict, reasons| {
        Ok(Pipeline {
            verdict,
            reasons,
            jobs: jobs_out.clone(),
        })
    };

    if let Some(decision) = &workflow {
        let file = defined_in.get("workflow").cloned().unwrap_or_default();
        match decision.certain().map(|o| o.when.as_str()) {
            Some("never") => {
                return done(
                    Verdict::None,
                    vec![format!(
                        "workflow:rules of {file} create no pipeline for a tag push{}",
                        decided_by(decision)
                    )],
                )
            }
            Some(_) => {}
            None => reasons.push(format!(
                "workflow:rules of {file} may create no pipeline for a tag push{}",
                decided_by(decision)
            )),
        }
    }
    let workflow_unsure = !reasons.is_empty();
    let (refused, unsure) = missing_needs(&config, &evaluated);
    if let Some(why) = refused.first() {
        let verdict = if workflow_unsure {
            Verdict::Unknown
        } else {
            Verdict::None
        };
        reasons.push(format!("GitLab refuses to create the pipeline: {why}"));
        return done(verdict, reasons);
    }
    reasons.extend(unsure);

    let stage_jobs: Vec<&Evaluated> = evaluated
        .iter()
        .filter(|e| e.job.stage != ".pre" && e.job.stage != ".post")
        .collect();
    let may_run = |e: &Evaluated| e.decision.outcomes.iter().any(|o| o.when != "never");
    let surely_runs = |e: &Evaluated| e.decision.certain().is_some_and(|o| o.when != "never");
    if !stage_jobs.iter().any(|e| may_run(e)) {
        let mut reasons = vec![no_job_reason(&stage_jobs, evaluated.len())];
        if !expanded.unreadable.is_empty() {
            reasons.push(unreadable_reason(&expanded.unreadable));
            return done(Verdict::Unknown, reasons);
        }
        return done(Verdict::None, reasons);
    }
    if !stage_jobs.iter().any(|e| surely_runs(e)) {
        let undecided: Vec<&&Evaluated> = stage_jobs.iter().filter(|e| may_run(e)).collect();
        reasons.push(format!(
            "whether any job runs on a tag push is undecided: {}",
            describe_jobs(&undecided)
        ));
    }
    let blocking = |o: &jobs::Outcome| o.when == "manual" && !o.allow_failure;
    // A blocking manual job in `.pre` holds back every later stage too.
    let before_post: Vec<&Evaluated> = evaluated
        .iter()
        .filter(|e| e.job.stage != ".post")
        .collect();
    let blockers: Vec<&&Evaluated> = before_post
        .iter()
        .filter(|e| e.decision.certain().is_some_and(blocking))
        .collect();
    if !blockers.is_empty() && !workflow_unsure {
        return done(Verdict::Blocked, vec![blocked_reason(&blockers)]);
    }
    let maybe_blockers: Vec<&&Evaluated> = before_post
        .iter()
        .filter(|e| e.decision.certain().is_none() && e.decision.outcomes.iter().any(blocking))
        .collect();
    if !maybe_blockers.is_empty() {
        reasons.push(format!(
            "a blocking manual job may stop the pipeline before .post: {}",
            describe_jobs(&maybe_blockers)
        ));
    }
    if !expanded.undecided.is_empty() {
        reasons.push(format!(
            "the rules of these includes are undecided: {}",
            expanded.undecided.join(", ")
        ));
    }
    if !reasons.is_empty() {
        if !expanded.unreadable.is_empty() {
            reasons.push(unreadable_reason(&expanded.unreadable));
        }
        return done(Verdict::Unknown, reasons);
    }
    let mut reasons = vec![format!(
        "{} of {} jobs run on a tag push and none blocks before .post",
        stage_jobs.iter().filter(|e| surely_runs(e)).count(),
        stage_jobs.len()
    )];
    if !expanded.unreadable.is_empty() {
        reasons.push(unreadable_reason(&expanded.unreadable));
    }
    done(Verdict::Runs, reasons)
}

/// GitLab refuses a configuration whose job names a stage that `stages:` lacks.
fn check_stages(config: &Map, evaluated: &[Evaluated]) -> Result<(), Problem> {
    let declared: Vec<String> = match config.get("stages") {
        Some(Node::Seq(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        Some(_) => return Ok(()),
        None => ["build", "test", "deploy"].map(str::to_owned).to_vec(),
    };
    for e in evaluated {
        let stage = &e.job.stage;
        let known = stage == ".pre" || stage == ".post" || declared.contains(stage);
        if !known && !stage.contains('$') && stage != "unknown" {
            return Err(Problem::Refused(format!(
                "job `{}` ({}): its stage `{stage}` is not in `stages:`",
                e.job.name, e.file
            )));
        }
    }
    Ok(())
}

/// `needs:` that name a job left out of the pipeline: GitLab then creates no
/// pipeline at all. Returns the sure cases and the possible ones.
fn missing_needs(config: &Map, evaluated: &[Evaluated]) -> (Vec<String>, Vec<String>) {
    // `needs:` names a `parallel:` job by its name in the files: all its copies.
    let mut by_name: BTreeMap<&str, Vec<&Evaluated>> = BTreeMap::new();
    for e in evaluated {
        by_name.entry(e.base.as_str()).or_default().push(e);
    }
    let runs = |e: &Evaluated| e.decision.outcomes.iter().any(|o| o.when != "never");
    let surely_runs = |e: &Evaluated| e.decision.certain().is_some_and(|o| o.when != "never");
    let never = |e: &Evaluated| e.decision.certain().is_some_and(|o| o.when == "never");
    let (mut sure, mut maybe) = (Vec::new(), Vec::new());
    for e in evaluated.iter().filter(|e| runs(e)) {
        let needs = match config.get(&e.base).and_then(|j| j.get("needs")) {
            Some(Node::Seq(items)) => items.clone(),
            _ => continue,
        };
        for need in &needs {
            let (name, optional) = match need {
                Node::Str(n) => (n.as_str(), false),
                Node::Map(_) => match need.get("job").and_then(Node::as_str) {
                    Some(n) if need.get("project").is_none() && need.get("pipeline").is_none() => {
                        (n, matches!(need.get("optional"), Some(Node::Bool(true))))
                    }
                    _ => continue,
                },
                _ => continue,
            };
            let Some(copies) = by_name.get(name) else {
                continue;
            };
            let needed = copies[0];
            if optional || !copies.iter().all(|c| never(c)) {
                continue;
            }
            let text = format!(
                "job `{}` needs `{name}`, which is not in a tag pipeline{}",
                e.job.name,
                decided_by(&needed.decision)
            );
            if surely_runs(e) {
                sure.push(text);
            } else {
                maybe.push(text);
            }
        }
    }
    (sure, maybe)
}

fn needs_paths(config: &Map) -> bool {
    fn has_exists(n: &Node, depth: usize) -> bool {
        depth < 64
            && match n {
                Node::Map(entries) => entries
                    .iter()
                    .any(|(k, v)| k.as_str() == Some("exists") || has_exists(v, depth + 1)),
                Node::Seq(items) => items.iter().any(|i| has_exists(i, depth + 1)),
                _ => false,
            }
    }
    config.iter().any(|(_, v)| has_exists(v, 0))
}

fn evaluate_jobs(
    raw: &Map,
    config: &Map,
    defined_in: &BTreeMap<String, String>,
    vars: &Vars,
    tree: &dyn Tree,
    paths: Option<&[String]>,
    tag: &str,
) -> Vec<Evaluated> {
    let mut out = Vec::new();
    for (key, job) in config.iter() {
        let Some(name) = key.as_str() else { continue };
        if !jobs::is_job_name(name, job) {
            continue;
        }
        let stage = match job.get("stage") {
            Some(Node::Str(s)) => s.clone(),
            Some(_) => "unknown".into(),
            None => "test".into(),
        };
        let rules_from = jobs::rules_origin(raw, name);
        let file = defined_in
            .get(&rules_from)
            .cloned()
            .unwrap_or_else(|| CI_FILE.to_owned());
        // `parallel:` makes several jobs, each with its own variables, which its
        // rules may read.
        for (expanded, extra) in parallel::expand(name, job) {
            let mut own = jobs::yaml_variables(job.get("variables"));
            own.extend(extra.into_iter().map(|(n, v)| (n, Val::Str(v))));
            let scope = jobs::JobScope { vars, job: own };
            let decision = match job.get("rules") {
                Some(rules) => jobs::decide_rules(rules, job, &scope, tree, paths),
                None => jobs::decide_only_except(job, &scope, tag),
            };
            let (when, allow_failure) = match decision.certain() {
                Some(o) => (o.when.clone(), o.allow_failure),
                None => (
                    "unknown".to_owned(),
                    decision.outcomes.iter().all(|o| o.allow_failure),
                ),
            };
            out.push(Evaluated {
                job: Job {
                    name: expanded,
                    stage: stage.clone(),
                    when,
                    allow_failure,
                },
                base: name.to_owned(),
                decision,
                rules_from: rules_from.clone(),
                file: file.clone(),
            });
        }
    }
    out
}

/// ` (decided by QEMU_CI: unset, compared with "1", "2")`, or nothing.
fn decided_by(decision: &jobs::Decision) -> String {
    let mut parts = Vec::new();
    if let Some(rule) = &decision.rule {
        parts.push(format!("`{rule}`"));
    }
    let gates = describe_gates(&decision.gates);
    if !gates.is_empty() {
        parts.push(format!("ci-hub variables {gates}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join("; "))
    }
}

fn describe_gates(gates: &Gates) -> String {
    gates
        .iter()
        .map(|(name, (val, literals))| {
            let now = match val {
                Val::Unset => "unset".to_owned(),
                Val::Str(s) => format!("{s:?}"),
                _ => "unknown".to_owned(),
            };
            if literals.is_empty() {
                format!("{name} (now {now})")
            } else {
                let lits: Vec<String> = literals.iter().map(|l| format!("{l:?}")).collect();
                format!(
                    "{name} (now {now}; the rule compares it with {})",
                    lits.join(", ")
                )
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Groups jobs by the entry whose rules decide them, so that QEMU's 80 jobs sharing
/// one template make one sentence.
fn grouped<'a>(jobs: &[&'a Evaluated]) -> Vec<(String, Vec<&'a Evaluated>)> {
    let mut groups: BTreeMap<(String, String), Vec<&Evaluated>> = BTreeMap::new();
    for e in jobs {
        groups
            .entry((e.file.clone(), e.rules_from.clone()))
            .or_default()
            .push(e);
    }
    let mut out: Vec<(String, Vec<&Evaluated>)> = groups
        .into_iter()
        .map(|((file, from), members)| {
            let names = if members.len() == 1 && members[0].job.name == from {
                format!("job `{from}` ({file})")
            } else {
                format!(
                    "{} job{} using the rules of `{from}` ({file})",
                    members.len(),
                    if members.len() == 1 { "" } else { "s" }
                )
            };
            (names, members)
        })
        .collect();
    out.sort_by_key(|(_, members)| std::cmp::Reverse(members.len()));
    out
}

fn no_job_reason(stage_jobs: &[&Evaluated], total: usize) -> String {
    if stage_jobs.is_empty() {
        return if total == 0 {
            "the CI files define no job".into()
        } else {
            "all jobs are in .pre/.post, and GitLab creates no pipeline of those alone".into()
        };
    }
    let groups = grouped(stage_jobs);
    let parts: Vec<String> = groups
        .iter()
        .take(3)
        .map(|(names, members)| format!("{names}: when: never{}", decided_by(&members[0].decision)))
        .collect();
    let more = groups.len().saturating_sub(3);
    format!(
        "no job runs on a tag push, so GitLab creates no pipeline: {}{}",
        parts.join("; "),
        if more > 0 {
            format!("; and {more} more groups")
        } else {
            String::new()
        }
    )
}

fn blocked_reason(blockers: &[&&Evaluated]) -> String {
    let list: Vec<&Evaluated> = blockers.iter().map(|e| **e).collect();
    let groups = grouped(&list);
    let (names, members) = &groups[0];
    format!(
        "{} manual job{} not allowed to fail stop the pipeline before .post, first `{}`: {names}{}",
        blockers.len(),
        if blockers.len() == 1 { "" } else { "s" },
        members[0].job.name,
        decided_by(&members[0].decision)
    )
}

fn describe_jobs(list: &[&&Evaluated]) -> String {
    let list: Vec<&Evaluated> = list.iter().map(|e| **e).collect();
    grouped(&list)
        .iter()
        .take(3)
        .map(|(names, members)| format!("{names}{}", decided_by(&members[0].decision)))
        .collect::<Vec<_>>()
        .join("; ")
}

fn unreadable_reason(unreadable: &[String]) -> String {
    let unique: BTreeSet<&String> = unreadable.iter().collect();
    format!(
        "includes that cannot be read, whose jobs and rules are not known here: {}",
        unique.into_iter().cloned().collect::<Vec<_>>().join(", ")
    )
}
