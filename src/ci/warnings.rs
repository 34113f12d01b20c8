//! Why GitLab might create no pipeline for a ci-hub tag, or stop before `.post`.
//!
//! Rules are evaluated for a tag push with three-valued logic: what a tag pipeline
//! surely sets (`CI_COMMIT_TAG`, `CI_PIPELINE_SOURCE == "push"`), surely leaves unset
//! (`CI_COMMIT_BRANCH`, merge-request variables), and project variables, taken at the
//! file's own `variables:` default (unset if it has none) and remembered as gates the
//! ci-hub admin could open. Anything not known is "maybe" and never warned about.

use std::collections::{BTreeSet, HashSet};

use super::node::{parse_documents, Node};
use super::target_document;

/// Reasons GitLab may run no tag pipeline, or stop before `.post`: one sentence each.
pub fn pipeline_warnings(file: &[u8]) -> Vec<String> {
    let docs = match parse_documents(file) {
        Ok(docs) => docs,
        Err(e) => return vec![format!("the file is not valid YAML: {e}")],
    };
    let doc = match target_document(&docs) {
        Ok(index) => &docs[index],
        Err(e) => return vec![e.to_string()],
    };
    let ctx = TagPipeline { doc };
    let mut out = Vec::new();
    workflow_warnings(&ctx, &mut out);
    include_warnings(doc, &mut out);
    let mut any_job_may_run = false;
    let mut job_count = 0;
    for (name, job) in jobs(doc) {
        job_count += 1;
        any_job_may_run |= job_warnings(&ctx, name, job, &mut out);
    }
    if job_count > 0 && !any_job_may_run {
        out.push(
            "no job of this file runs on a tag, so GitLab creates no pipeline and `.post` never runs"
                .into(),
        );
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Truth {
    Yes,
    No,
    Maybe,
}

impl Truth {
    fn not(self) -> Truth {
        match self {
            Truth::Yes => Truth::No,
            Truth::No => Truth::Yes,
            Truth::Maybe => Truth::Maybe,
        }
    }
    fn and(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::No, _) | (_, Truth::No) => Truth::No,
            (Truth::Yes, Truth::Yes) => Truth::Yes,
            _ => Truth::Maybe,
        }
    }
    fn or(self, other: Truth) -> Truth {
        self.not().and(other.not()).not()
    }
    fn from_bool(b: bool) -> Truth {
        if b {
            Truth::Yes
        } else {
            Truth::No
        }
    }
}

/// A variable's value in a tag pipeline, as far as we can know it.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Unset,
    Str(String),
    /// Set and non-empty, value unknown (the tag name, the server host...).
    SetUnknown,
    Regex,
}

struct TagPipeline<'a> {
    doc: &'a Node,
}

impl TagPipeline<'_> {
    fn variable(&self, name: &str, gates: &mut BTreeSet<String>) -> Val {
        match name {
            "CI_PIPELINE_SOURCE" => Val::Str("push".into()),
            "CI_COMMIT_BRANCH" | "CI_OPEN_MERGE_REQUESTS" => Val::Unset,
            n if n.starts_with("CI_MERGE_REQUEST_")
                || n.starts_with("CI_EXTERNAL_PULL_REQUEST_") =>
            {
                Val::Unset
            }
            n if n.starts_with("CI_") || n.starts_with("GITLAB_") => Val::SetUnknown,
            project_variable => {
                gates.insert(project_variable.to_owned());
                match self.file_default(project_variable) {
                    Some(value) if !value.is_empty() => Val::Str(value),
                    _ => Val::Unset,
                }
            }
        }
    }

    fn file_default(&self, name: &str) -> Option<String> {
        let value = self.doc.get("variables")?.get(name)?;
        let value = value.get("value").unwrap_or(value);
        match value {
            Node::Str(s) => Some(s.clone()),
            Node::Int(i) => Some(i.to_string()),
            Node::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

/// How a list of `rules` can end for a tag pipeline.
struct RulesVerdict {
    /// The `when` of every rule that may decide, then `never` if possibly none matches.
    outcomes: Vec<(String, bool)>,
    gates: BTreeSet<String>,
    understood: bool,
}

impl RulesVerdict {
    fn never_runs(&self) -> bool {
        self.understood && self.outcomes.iter().all(|(when, _)| when == "never")
    }
    fn may_block_manually(&self) -> bool {
        self.understood
            && self
                .outcomes
                .iter()
                .any(|(when, allow_failure)| when == "manual" && !allow_failure)
    }
    fn gate_suffix(&self) -> String {
        if self.gates.is_empty() {
            String::new()
        } else {
            let names: Vec<_> = self.gates.iter().map(String::as_str).collect();
            format!(" unless the ci-hub project sets {}", names.join(", "))
        }
    }
}

fn evaluate_rules(ctx: &TagPipeline, rules: &Node, job_allows_failure: bool) -> RulesVerdict {
    let mut verdict = RulesVerdict {
        outcomes: Vec::new(),
        gates: BTreeSet::new(),
        understood: true,
    };
    let Node::Seq(rules) = rules else {
        verdict.understood = false;
        return verdict;
    };
    for rule in rules {
        let Node::Map(_) = rule else {
            // `!reference [...]` and friends: we cannot tell what they say.
            verdict.understood = false;
            return verdict;
        };
        let mut truth = match rule.get("if").and_then(Node::as_str) {
            Some(expr) => evaluate(ctx, expr, &mut verdict.gates),
            None => Truth::Yes,
        };
        // `changes` is always true for a tag push; `exists` depends on the tree.
        if rule.get("exists").is_some() {
            truth = truth.and(Truth::Maybe);
        }
        if truth == Truth::No {
            continue;
        }
        let when = rule
            .get("when")
            .and_then(Node::as_str)
            .unwrap_or("on_success");
        let allows_failure = match rule.get("allow_failure") {
            Some(Node::Bool(b)) => *b,
            _ => job_allows_failure,
        };
        verdict.outcomes.push((when.to_owned(), allows_failure));
        if truth == Truth::Yes {
            return verdict;
        }
    }
    verdict.outcomes.push(("never".into(), true));
    verdict
}

fn workflow_warnings(ctx: &TagPipeline, out: &mut Vec<String>) {
    let Some(rules) = ctx.doc.get("workflow").and_then(|w| w.get("rules")) else {
        return;
    };
    let verdict = evaluate_rules(ctx, rules, false);
    if verdict.never_runs() {
        out.push(format!(
            "workflow:rules create no pipeline for a tag push{}",
            verdict.gate_suffix()
        ));
    }
}

fn include_warnings(doc: &Node, out: &mut Vec<String>) {
    let entries: Vec<&Node> = match doc.get("include") {
        Some(Node::Seq(items)) => items.iter().collect(),
        Some(single) => vec![single],
        None => return,
    };
    for entry in entries {
        if let Some(project) = entry.get("project").and_then(Node::as_str) {
            out.push(format!(
                "include: project `{project}` is looked up on the ci-hub's GitLab instance and must exist there"
            ));
        }
        if let Some(component) = entry.get("component").and_then(Node::as_str) {
            let host = component.split('/').next().unwrap_or_default();
            if host != "$CI_SERVER_FQDN" {
                out.push(format!(
                    "include: component `{component}` must be reachable from the ci-hub's GitLab instance (it names host `{host}`)"
                ));
            }
        }
        if let Some(template) = entry.get("template").and_then(Node::as_str) {
            out.push(format!(
                "include: template `{template}` comes from the ci-hub's GitLab instance, whose version may differ"
            ));
        }
    }
}

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

fn jobs(doc: &Node) -> impl Iterator<Item = (&str, &Node)> {
    doc.entries()
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| {
            let name = k.as_str()?;
            let is_job = !name.starts_with('.')
                && !GLOBAL_KEYWORDS.contains(&name)
                && name != "<<"
                && matches!(v, Node::Map(_));
            is_job.then_some((name, v))
        })
}

/// A job keyword, following `<<:` merges and `extends:` the way GitLab does for the
/// top-level keys that matter here.
fn job_key<'a>(doc: &'a Node, job: &'a Node, key: &str) -> Option<&'a Node> {
    job_key_in(doc, job, key, 0, &mut HashSet::new())
}

/// Each job is visited once per lookup: a stranger's file may make every job extend
/// every other, and a walk without memory would take exponential time.
fn job_key_in<'a>(
    doc: &'a Node,
    job: &'a Node,
    key: &str,
    depth: usize,
    seen: &mut HashSet<&'a str>,
) -> Option<&'a Node> {
    if let Some(v) = job.get_merged(key) {
        return Some(v);
    }
    if depth > 10 {
        return None;
    }
    let parents: Vec<&str> = match job.get_merged("extends")? {
        Node::Str(s) => vec![s.as_str()],
        Node::Seq(items) => items.iter().filter_map(Node::as_str).collect(),
        _ => return None,
    };
    // Later parents win, as in GitLab's deep merge.
    parents.iter().rev().find_map(|name| {
        if !seen.insert(name) {
            return None;
        }
        job_key_in(doc, doc.get(name)?, key, depth + 1, seen)
    })
}

/// Pushes the job's warnings; returns whether the job may run on a tag pipeline.
fn job_warnings(ctx: &TagPipeline, name: &str, job: &Node, out: &mut Vec<String>) -> bool {
    let key = |k: &str| job_key(ctx.doc, job, k);
    let allows_failure = matches!(key("allow_failure"), Some(Node::Bool(true)));
    if let Some(rules) = key("rules") {
        let verdict = evaluate_rules(ctx, rules, allows_failure);
        if verdict.never_runs() {
            out.push(format!(
                "job `{name}`: its rules keep it out of tag pipelines{}",
                verdict.gate_suffix()
            ));
            return false;
        }
        if verdict.may_block_manually() {
            out.push(format!(
                "job `{name}` is a blocking manual job on tags (`when: manual` in rules without `allow_failure: true`): the pipeline stops before `.post`"
            ));
        }
        return true;
    }
    if let Some(refs) = key("only").and_then(refs_of) {
        if !refs.iter().any(|r| ref_may_match_tag(r)) {
            out.push(format!(
                "job `{name}` runs only for {} (`only:`), never for tags",
                refs.join(", ")
            ));
            return false;
        }
    }
    if let Some(refs) = key("except").and_then(refs_of) {
        if refs.iter().any(|r| *r == "tags" || *r == "pushes") {
            out.push(format!(
                "job `{name}` is excluded from tag pipelines (`except:`)"
            ));
            return false;
        }
    }
    // A job-level `when: manual` defaults to `allow_failure: true` in GitLab; only an
    // explicit `false` makes it block.
    let manual = key("when").and_then(Node::as_str) == Some("manual");
    if manual && matches!(key("allow_failure"), Some(Node::Bool(false))) {
        out.push(format!(
            "job `{name}` is a blocking manual job (`when: manual`, `allow_failure: false`): the pipeline stops before `.post`"
        ));
    }
    true
}

/// The ref names of `only:`/`except:`, in either its list or its `refs:` form.
fn refs_of(value: &Node) -> Option<Vec<&str>> {
    let list = match value {
        Node::Map(_) => value.get("refs")?,
        other => other,
    };
    match list {
        Node::Seq(items) => Some(items.iter().filter_map(Node::as_str).collect()),
        Node::Str(s) => Some(vec![s.as_str()]),
        _ => None,
    }
}

fn ref_may_match_tag(r: &str) -> bool {
    r == "tags" || r == "pushes" || r == "api" || r.starts_with('/')
}

// ---- GitLab `rules:if` expressions -------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Var(String),
    Str(String),
    Regex,
    Null,
    Op(&'static str),
    Open,
    Close,
}

fn tokenize(expr: &str) -> Option<Vec<Token>> {
    let b = expr.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let rest = &expr[i..];
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if let Some(op) = ["==", "!=", "=~", "!~", "&&", "||"]
            .into_iter()
            .find(|op| rest.starts_with(op))
        {
            tokens.push(Token::Op(op));
            i += 2;
        } else if c == b'(' || c == b')' {
            tokens.push(if c == b'(' { Token::Open } else { Token::Close });
            i += 1;
        } else if c == b'$' {
            let braced = rest.starts_with("${");
            let start = i + if braced { 2 } else { 1 };
            let len = expr[start..]
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .unwrap_or(expr.len() - start);
            tokens.push(Token::Var(expr[start..start + len].to_owned()));
            i = start + len;
            if braced {
                // `${name` must close right after the name, or this is no expression
                // we understand (and `i` must not land inside a multi-byte char).
                if !expr[i..].starts_with('}') {
                    return None;
                }
                i += 1;
            }
        } else if c == b'"' || c == b'\'' {
            let close = expr[i + 1..].find(c as char)?;
            tokens.push(Token::Str(expr[i + 1..i + 1 + close].to_owned()));
            i += close + 2;
        } else if c == b'/' {
            let close = expr[i + 1..].find('/')?;
            tokens.push(Token::Regex);
            i += close + 2;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
        } else if rest.starts_with("null")
            && !rest[4..].starts_with(|ch: char| ch.is_ascii_alphanumeric() || ch == '_')
        {
            tokens.push(Token::Null);
            i += 4;
        } else {
            return None;
        }
    }
    Some(tokens)
}

fn evaluate(ctx: &TagPipeline, expr: &str, gates: &mut BTreeSet<String>) -> Truth {
    let Some(tokens) = tokenize(expr) else {
        return Truth::Maybe;
    };
    let mut parser = Parser {
        ctx,
        tokens: &tokens,
        pos: 0,
        gates,
    };
    match parser.or() {
        Some(t) if parser.pos == tokens.len() => t,
        _ => Truth::Maybe,
    }
}

struct Parser<'a, 'g> {
    ctx: &'a TagPipeline<'a>,
    tokens: &'a [Token],
    pos: usize,
    gates: &'g mut BTreeSet<String>,
}

impl Parser<'_, '_> {
    fn next_is(&mut self, token: &Token) -> bool {
        let hit = self.tokens.get(self.pos) == Some(token);
        self.pos += usize::from(hit);
        hit
    }

    fn or(&mut self) -> Option<Truth> {
        let mut t = self.and()?;
        while self.next_is(&Token::Op("||")) {
            t = t.or(self.and()?);
        }
        Some(t)
    }

    fn and(&mut self) -> Option<Truth> {
        let mut t = self.comparison()?;
        while self.next_is(&Token::Op("&&")) {
            t = t.and(self.comparison()?);
        }
        Some(t)
    }

    fn comparison(&mut self) -> Option<Truth> {
        if self.next_is(&Token::Open) {
            let t = self.or()?;
            return self.next_is(&Token::Close).then_some(t);
        }
        let left = self.operand()?;
        let op = match self.tokens.get(self.pos) {
            Some(Token::Op(op @ ("==" | "!=" | "=~" | "!~"))) => *op,
            _ => return Some(is_truthy(&left)),
        };
        self.pos += 1;
        let right = self.operand()?;
        Some(match op {
            "==" => equals(&left, &right),
            "!=" => equals(&left, &right).not(),
            "=~" => matches_regex(&left),
            _ => matches_regex(&left).not(),
        })
    }

    fn operand(&mut self) -> Option<Val> {
        let token = self.tokens.get(self.pos)?.clone();
        self.pos += 1;
        Some(match token {
            Token::Var(name) => self.ctx.variable(&name, self.gates),
            Token::Str(s) => Val::Str(s),
            Token::Null => Val::Unset,
            Token::Regex => Val::Regex,
            _ => return None,
        })
    }
}

fn is_truthy(v: &Val) -> Truth {
    match v {
        Val::Unset => Truth::No,
        Val::Str(s) => Truth::from_bool(!s.is_empty()),
        Val::SetUnknown => Truth::Yes,
        Val::Regex => Truth::Maybe,
    }
}

fn equals(a: &Val, b: &Val) -> Truth {
    match (a, b) {
        (Val::Unset, Val::Unset) => Truth::Yes,
        (Val::Str(x), Val::Str(y)) => Truth::from_bool(x == y),
        (Val::Unset, Val::Str(_)) | (Val::Str(_), Val::Unset) => Truth::No,
        (Val::SetUnknown, Val::Unset) | (Val::Unset, Val::SetUnknown) => Truth::No,
        _ => Truth::Maybe,
    }
}

/// Only "unset never matches" is certain without a regex engine.
fn matches_regex(v: &Val) -> Truth {
    match v {
        Val::Unset => Truth::No,
        _ => Truth::Maybe,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truth(expr: &str) -> Truth {
        let doc = parse_documents(b"variables:\n  ON: '1'\n").unwrap();
        let ctx = TagPipeline { doc: &doc[0] };
        evaluate(&ctx, expr, &mut BTreeSet::new())
    }

    #[test]
    fn odd_expressions_are_unknown_not_a_panic() {
        for expr in ["${é == \"x\"", "${CI_COMMIT_TAG", "$é", "nullx == $A"] {
            assert_eq!(truth(expr), Truth::Maybe, "{expr}");
        }
        assert_eq!(truth("${CI_COMMIT_TAG}"), Truth::Yes);
    }

    #[test]
    fn extends_everywhere_is_walked_once() {
        // Every hidden job extends every other: without memory, exponential.
        let n = 12;
        let names: Vec<String> = (0..n).map(|i| format!(".h{i}")).collect();
        let mut file = String::new();
        for name in &names {
            file.push_str(&format!("{name}:\n  extends: [{}]\n", names.join(", ")));
        }
        file.push_str(&format!(
            "job:\n  extends: [{}]\n  script: [x]\n",
            names.join(", ")
        ));
        let started = std::time::Instant::now();
        let warnings = pipeline_warnings(file.as_bytes());
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn evaluates_tag_pipeline_expressions() {
        assert_eq!(truth("$CI_COMMIT_TAG"), Truth::Yes);
        assert_eq!(truth("$CI_COMMIT_BRANCH"), Truth::No);
        assert_eq!(truth("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"), Truth::No);
        assert_eq!(
            truth("$CI_PIPELINE_SOURCE == 'merge_request_event'"),
            Truth::No
        );
        assert_eq!(
            truth("$CI_PIPELINE_SOURCE == \"push\" && $CI_COMMIT_TAG"),
            Truth::Yes
        );
        assert_eq!(truth("$CI_COMMIT_TAG =~ /^v/"), Truth::Maybe);
        assert_eq!(truth("$CI_MERGE_REQUEST_IID || ($ON == \"1\")"), Truth::Yes);
        assert_eq!(truth("$OFF != \"1\" && $OFF != \"2\""), Truth::Yes);
        assert_eq!(truth("$CI_COMMIT_TAG == null"), Truth::No);
        assert_eq!(truth("weird ~~ syntax"), Truth::Maybe);
    }
}
