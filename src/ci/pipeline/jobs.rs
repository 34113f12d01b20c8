//! Jobs as GitLab sees them after `extends:` and `!reference`, and what `rules:`
//! (or `only:`/`except:`) make of each in a tag push pipeline.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::expr::{self, Gates, Origin, Scope, Truth, Val};
use super::include::exists_in;
use super::yaml::{deep_merge, resolve_references, Map};
use super::{Problem, Tree, Vars};
use crate::ci::node::Node;

/// Top-level keys that are not jobs.
const GLOBAL_KEYWORDS: &[&str] = &[
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "types",
    "spec",
];

/// GitLab's documented limit for `extends:`: eleven levels of inheritance.
const MAX_EXTENDS_DEPTH: usize = 11;

pub(crate) fn is_job_name(name: &str, value: &Node) -> bool {
    !name.starts_with('.') && !GLOBAL_KEYWORDS.contains(&name) && matches!(value, Node::Map(_))
}

/// Every entry with `extends:` merged over its parents, then `!reference` resolved,
/// in GitLab's order (includes, then extends, then references).
pub(crate) fn resolve(config: &Map) -> Result<Map, Problem> {
    let mut done: HashMap<String, Node> = HashMap::new();
    let mut out = Map::default();
    for (key, value) in config.iter() {
        let Some(name) = key.as_str() else {
            out.insert(key.clone(), value.clone());
            continue;
        };
        let resolved = if matches!(value, Node::Map(_)) && !GLOBAL_KEYWORDS.contains(&name) {
            extended(config, name, &mut done, &mut Vec::new())?
        } else {
            value.clone()
        };
        out.insert(key.clone(), resolved);
    }
    let mut referenced = Map::default();
    for (key, value) in out.iter() {
        let resolved = resolve_references(value, &out)
            .map_err(|e| Problem::Refused(format!("`{}`: {e}", key.as_str().unwrap_or("?"))))?;
        referenced.insert(key.clone(), resolved);
    }
    Ok(referenced)
}

fn extended(
    config: &Map,
    name: &str,
    done: &mut HashMap<String, Node>,
    chain: &mut Vec<String>,
) -> Result<Node, Problem> {
    if let Some(n) = done.get(name) {
        return Ok(n.clone());
    }
    if chain.iter().any(|c| c == name) {
        return Err(Problem::Refused(format!(
            "`extends:` of `{name}` is circular ({} -> {name})",
            chain.join(" -> ")
        )));
    }
    if chain.len() >= MAX_EXTENDS_DEPTH {
        return Err(Problem::Refused(format!(
            "`extends:` of `{}` nests deeper than GitLab's {MAX_EXTENDS_DEPTH} levels",
            chain[0]
        )));
    }
    let job = config.get(name).ok_or_else(|| {
        Problem::Refused(format!(
            "`{}` extends `{name}`, which does not exist",
            chain.last().map_or("?", String::as_str)
        ))
    })?;
    let parents = parent_names(job);
    let result = if parents.is_empty() {
        job.clone()
    } else {
        chain.push(name.to_owned());
        let mut base = Node::Map(Vec::new());
        for parent in &parents {
            let p = extended(config, parent, done, chain)?;
            base = deep_merge(&base, &p);
        }
        chain.pop();
        deep_merge(&base, job)
    };
    done.insert(name.to_owned(), result.clone());
    Ok(result)
}

fn parent_names(job: &Node) -> Vec<String> {
    match job.get("extends") {
        Some(Node::Str(s)) => vec![s.clone()],
        Some(Node::Seq(items)) => items
            .iter()
            .filter_map(Node::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// The entry whose `rules:` (or `only:`/`except:`) a job uses, before `extends:`:
/// the job itself, or the nearest parent, later parents first as they win.
pub(crate) fn rules_origin(raw: &Map, name: &str) -> String {
    let mut seen = HashSet::new();
    origin_in(raw, name, &mut seen).unwrap_or_else(|| name.to_owned())
}

fn origin_in(raw: &Map, name: &str, seen: &mut HashSet<String>) -> Option<String> {
    if !seen.insert(name.to_owned()) || seen.len() > 1000 {
        return None;
    }
    let job = raw.get(name)?;
    if ["rules", "only", "except"]
        .iter()
        .any(|k| job.get(k).is_some())
    {
        return Some(name.to_owned());
    }
    parent_names(job)
        .iter()
        .rev()
        .find_map(|p| origin_in(raw, p, seen))
}

/// One way a job can end up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub(crate) when: String,
    pub(crate) allow_failure: bool,
}

/// What the rules make of a job: every outcome still possible, in rule order.
#[derive(Debug, Clone)]
pub(crate) struct Decision {
    pub(crate) outcomes: Vec<Outcome>,
    /// The rule that decides, as written (`if:` text), when one surely matches.
    pub(crate) rule: Option<String>,
    /// The ci-hub variables that decided: those of the deciding rule, or of every
    /// rule when none matched.
    pub(crate) gates: Gates,
    /// `variables:` of the rule that surely decides.
    pub(crate) variables: Option<Node>,
}

impl Decision {
    pub(crate) fn certain(&self) -> Option<&Outcome> {
        match self.outcomes.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }
}

/// The variables a job sees: the ci-hub's first, then the job's, then the files'
/// global ones, then GitLab's predefined ones.
pub(crate) struct JobScope<'a> {
    pub(crate) vars: &'a Vars,
    pub(crate) job: BTreeMap<String, Val>,
}

impl Scope for JobScope<'_> {
    fn value(&self, name: &str) -> (Val, Origin) {
        if self.vars.hub_sets(name) {
            return self.vars.value(name);
        }
        match self.job.get(name) {
            Some(v) => (v.clone(), Origin::File),
            None => self.vars.value(name),
        }
    }
}

pub(crate) fn yaml_variables(node: Option<&Node>) -> BTreeMap<String, Val> {
    let mut out = BTreeMap::new();
    for (k, v) in node.and_then(Node::entries).unwrap_or_default() {
        let Some(name) = k.as_str() else { continue };
        let v = match v {
            Node::Map(_) => v.get("value").unwrap_or(&Node::Null),
            other => other,
        };
        let val = match v {
            Node::Str(s) if s.contains('$') => Val::Unknown,
            Node::Str(s) if s.is_empty() => Val::Str(String::new()),
            Node::Str(s) => Val::Str(s.clone()),
            Node::Int(i) => Val::Str(i.to_string()),
            Node::Bool(b) => Val::Str(b.to_string()),
            Node::Null => Val::Str(String::new()),
            _ => Val::Unknown,
        };
        out.insert(name.to_owned(), val);
    }
    out
}

/// Evaluates `rules:` the way GitLab's `Build::Rules` does: the first matching
/// rule decides; `when` defaults to the job's own, `allow_failure` to the job's own,
/// else true only for a job whose own `when` is `manual`.
pub(crate) fn decide_rules(
    rules: &Node,
    job: &Node,
    scope: &dyn Scope,
    tree: &dyn Tree,
    paths: Option<&[String]>,
) -> Decision {
    let default_when = job
        .get("when")
        .and_then(Node::as_str)
        .unwrap_or("on_success");
    let job_allow = explicit_allow_failure(job);
    let default_allow = job_allow.unwrap_or(default_when == "manual");
    let mut decision = Decision {
        outcomes: Vec::new(),
        rule: None,
        gates: Gates::new(),
        variables: None,
    };
    let Node::Seq(rules) = rules else {
        decision.outcomes.push(unknown_outcome());
        return decision;
    };
    let mut all_gates = Gates::new();
    let mut opening_gates = Gates::new();
    for rule in flatten(rules) {
        if !matches!(rule, Node::Map(_)) {
            decision.outcomes.push(unknown_outcome());
            continue;
        }
        let mut gates = Gates::new();
        let mut truth = match rule.get("if") {
            Some(Node::Str(e)) => expr::evaluate(e, scope, &mut gates),
            Some(_) => Truth::Maybe,
            None => Truth::Yes,
        };
        if let Some(exists) = rule.get("exists") {
            truth = truth.and(exists_in(paths, tree, exists));
        }
        // `changes:` is always true in a pipeline for a new tag: there is no diff.
        let outcome = Outcome {
            when: rule
                .get("when")
                .and_then(Node::as_str)
                .unwrap_or(default_when)
                .to_owned(),
            allow_failure: explicit_allow_failure(rule).unwrap_or(default_allow),
        };
        // A rule names its ci-hub variables only when setting them could make it
        // match; and only a rule that lets the job run can open it.
        let hub_can_match = truth != Truth::No
            || match rule.get("if") {
                Some(Node::Str(e)) => {
                    expr::evaluate(e, &HubUnknown(scope), &mut Gates::new()) != Truth::No
                }
                _ => false,
            };
        if hub_can_match {
            if outcome.when != "never" {
                merge_gates(&mut opening_gates, &gates);
            }
            merge_gates(&mut all_gates, &gates);
        }
        if truth == Truth::No {
            continue;
        }
        let never = outcome.when == "never";
        if !decision.outcomes.contains(&outcome) {
            decision.outcomes.push(outcome);
        }
        if truth == Truth::Yes {
            if decision.outcomes.len() == 1 {
                decision.rule = Some(rule_text(rule));
                decision.variables = rule.get("variables").cloned();
                decision.gates = gates;
                if never {
                    merge_gates(&mut decision.gates, &opening_gates);
                }
            } else {
                decision.gates = all_gates;
            }
            return decision;
        }
    }
    let never = Outcome {
        when: "never".into(),
        allow_failure: default_allow,
    };
    if !decision.outcomes.contains(&never) {
        decision.outcomes.push(never);
    }
    decision.gates = if decision.outcomes.len() == 1 {
        opening_gates
    } else {
        all_gates
    };
    decision
}

/// The variables of a scope, with every one only the ci-hub could set unknown.
struct HubUnknown<'a>(&'a dyn Scope);

impl Scope for HubUnknown<'_> {
    fn value(&self, name: &str) -> (Val, Origin) {
        match self.0.value(name) {
            (_, Origin::Hub) => (Val::Unknown, Origin::Hub),
            known => known,
        }
    }
}

fn merge_gates(into: &mut Gates, from: &Gates) {
    for (name, (val, literals)) in from {
        let entry = into
            .entry(name.clone())
            .or_insert_with(|| (val.clone(), Vec::new()));
        for l in literals {
            if !entry.1.contains(l) {
                entry.1.push(l.clone());
            }
        }
    }
}

fn unknown_outcome() -> Outcome {
    Outcome {
        when: "unknown".into(),
        allow_failure: false,
    }
}

/// Lists inside `rules` (from `!reference`) count as their items.
fn flatten(rules: &[Node]) -> Vec<&Node> {
    let mut out = Vec::new();
    let mut stack: Vec<&Node> = rules.iter().rev().collect();
    while let Some(n) = stack.pop() {
        match n {
            Node::Seq(items) if out.len() + stack.len() < 10_000 => {
                stack.extend(items.iter().rev())
            }
            other => out.push(other),
        }
    }
    out
}

fn rule_text(rule: &Node) -> String {
    match rule.get("if").and_then(Node::as_str) {
        Some(e) => format!("if: {e}"),
        None => "the rule without if:".into(),
    }
}

pub(crate) fn explicit_allow_failure(node: &Node) -> Option<bool> {
    match node.get("allow_failure")? {
        Node::Bool(b) => Some(*b),
        // `exit_codes:` allows only some failures: a manual job still blocks.
        Node::Map(_) => Some(false),
        _ => None,
    }
}

/// `only:`/`except:` for a tag push; without either, a job runs for tags.
pub(crate) fn decide_only_except(job: &Node, scope: &dyn Scope, tag: &str) -> Decision {
    let when = job
        .get("when")
        .and_then(Node::as_str)
        .unwrap_or("on_success");
    let allow = explicit_allow_failure(job).unwrap_or(when == "manual");
    let mut gates = Gates::new();
    let included = match job.get("only") {
        None => Truth::Yes,
        Some(only) => policy(only, scope, tag, &mut gates),
    };
    let excluded = match job.get("except") {
        None => Truth::No,
        Some(except) => policy(except, scope, tag, &mut gates),
    };
    let runs = included.and(excluded.not());
    let run = Outcome {
        when: when.to_owned(),
        allow_failure: allow,
    };
    let never = Outcome {
        when: "never".into(),
        allow_failure: allow,
    };
    let outcomes = match runs {
        Truth::Yes => vec![run],
        Truth::No => vec![never],
        Truth::Maybe => vec![run, never],
    };
    let rule = ["only", "except"]
        .iter()
        .filter_map(|k| job.get(k).map(|p| format!("{k}: {}", policy_text(p))))
        .reduce(|a, b| format!("{a}, {b}"));
    Decision {
        outcomes,
        rule,
        gates,
        variables: None,
    }
}

/// `branches, main` or `variables` for a reason.
fn policy_text(p: &Node) -> String {
    let refs = match p {
        Node::Map(_) => p.get("refs"),
        other => Some(other),
    };
    match refs {
        Some(Node::Seq(items)) => items
            .iter()
            .filter_map(Node::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        Some(Node::Str(s)) => s.clone(),
        _ => "variables".into(),
    }
}

/// Whether an `only:`/`except:` policy matches the tag pipeline.
fn policy(p: &Node, scope: &dyn Scope, tag: &str, gates: &mut Gates) -> Truth {
    let (refs, variables) = match p {
        Node::Map(_) => {
            if p.get("kubernetes").is_some() {
                return Truth::Maybe;
            }
            (p.get("refs"), p.get("variables"))
        }
        other => (Some(other), None),
    };
    let refs_truth = match refs {
        None => Truth::Yes,
        Some(Node::Seq(items)) => items
            .iter()
            .map(|r| r.as_str().map_or(Truth::Maybe, |r| ref_matches(r, tag)))
            .fold(Truth::No, Truth::or),
        Some(Node::Str(r)) => ref_matches(r, tag),
        Some(_) => Truth::Maybe,
    };
    let vars_truth = match variables {
        None => Truth::Yes,
        Some(Node::Seq(items)) => items
            .iter()
            .map(|e| {
                e.as_str()
                    .map_or(Truth::Maybe, |e| expr::evaluate(e, scope, gates))
            })
            .fold(Truth::No, Truth::or),
        Some(_) => Truth::Maybe,
    };
    refs_truth.and(vars_truth)
}

fn ref_matches(r: &str, tag: &str) -> Truth {
    match r {
        "tags" | "pushes" => Truth::Yes,
        "branches"
        | "api"
        | "external"
        | "pipelines"
        | "schedules"
        | "triggers"
        | "web"
        | "merge_requests"
        | "external_pull_requests"
        | "chat" => Truth::No,
        pattern if pattern.starts_with('/') => {
            let (body, flags) = match pattern.rfind('/') {
                Some(end) if end > 0 => (&pattern[1..end], &pattern[end + 1..]),
                _ => return Truth::Maybe,
            };
            match regex::RegexBuilder::new(body)
                .case_insensitive(flags.contains('i'))
                .size_limit(1 << 20)
                .build()
            {
                Ok(re) => Truth::from_bool(re.is_match(tag)),
                Err(_) => Truth::Maybe,
            }
        }
        // `name@namespace/project` limits to a project: we only know the ref part.
        name if name.contains('@') => {
            if name.split('@').next() == Some(tag) {
                Truth::Maybe
            } else {
                Truth::No
            }
        }
        name => Truth::from_bool(name == tag),
    }
}
