//! Following `include:` the way GitLab expands it: strings, lists, `local:` with or
//! without a leading `/`, `*` and `**` wildcards, nested includes and `rules:` on
//! entries. `remote:`, `project:` and `template:` files are asked of the caller's
//! [`Fetcher`]; our own report include is the file this program ships; what cannot
//! be read (`component:`, a fetch that fails, no fetcher) is only named.

use std::collections::HashSet;

use super::expr::{self, Gates, Truth};
use super::remote::{External, Fetcher, OWN_INCLUDE};
use super::yaml::normalise;
use super::{Problem, Tree, Vars};
use crate::ci::node::{parse_documents, Node};

/// GitLab's documented limit: at most 150 includes per pipeline, nested ones
/// counted (docs.gitlab.com, "CI/CD YAML syntax reference", `include`). A file
/// included twice is read once, as GitLab ignores duplicates, so a cycle ends too;
/// and since every level needs a new file, this bounds the nesting depth as well.
pub(crate) const MAX_INCLUDES: usize = 150;

/// Entries (duplicates included) we look at before giving up: each may cost a walk
/// over the tree's paths.
const MAX_ENTRIES: usize = 10 * MAX_INCLUDES;

/// One CI file, parsed, in the order GitLab merges them.
pub(crate) struct Source {
    pub(crate) path: String,
    pub(crate) doc: Node,
    /// Our report include: its `patchew-*` jobs are ours, not the project's.
    pub(crate) ours: bool,
}

/// Where the `local:` includes of a file point: GitLab reads them from the project
/// the file comes from.
#[derive(Debug, Clone)]
enum Context {
    Tree,
    Project {
        project: String,
        reference: Option<String>,
    },
    /// A remote file or a template: GitLab reads their nested includes "without
    /// context", and has no project to read a `local:` one from.
    Anonymous,
}

/// One file an include entry names.
enum Target {
    Tree(String),
    External(External),
    /// Our report include, at this URL.
    Own(String),
}

impl Target {
    /// What makes two includes the same file for GitLab's duplicate rule.
    fn key(&self) -> String {
        match self {
            Target::Tree(path) => path.clone(),
            Target::External(e) => format!("{e:?}"),
            Target::Own(url) => format!("own {url}"),
        }
    }
}

pub(crate) struct Expanded {
    /// Included files first (depth first, in entry order), each including file after
    /// its includes; the top file last.
    pub(crate) files: Vec<Source>,
    /// Includes the tree cannot answer, as `kind value`.
    pub(crate) unreadable: Vec<String>,
    /// Include entries whose `rules:` we cannot decide.
    pub(crate) undecided: Vec<String>,
}

pub(crate) fn expand(
    tree: &dyn Tree,
    top: &str,
    top_doc: Node,
    vars: &Vars,
    own_include: Option<&str>,
    fetcher: Option<&dyn Fetcher>,
) -> Result<Expanded, Problem> {
    let mut walk = Walk {
        tree,
        vars,
        own_include,
        fetcher,
        seen: HashSet::from([format!("{top}\0{:?}", None::<Node>)]),
        count: 0,
        entries: 0,
        paths: None,
        out: Expanded {
            files: Vec::new(),
            unreadable: Vec::new(),
            undecided: Vec::new(),
        },
    };
    walk.file(top.to_owned(), top_doc, &Context::Tree)?;
    Ok(walk.out)
}

struct Walk<'a> {
    tree: &'a dyn Tree,
    vars: &'a Vars,
    own_include: Option<&'a str>,
    fetcher: Option<&'a dyn Fetcher>,
    seen: HashSet<String>,
    count: usize,
    entries: usize,
    /// Every path of the tree, listed on the first wildcard.
    paths: Option<Vec<String>>,
    out: Expanded,
}

impl Walk<'_> {
    /// Depth first: a file's includes are merged before it. The recursion is bounded
    /// by [`MAX_INCLUDES`], as every level needs a file not read before.
    fn file(&mut self, path: String, doc: Node, context: &Context) -> Result<(), Problem> {
        for entry in include_entries(&doc) {
            self.entries += 1;
            if self.entries > MAX_ENTRIES {
                return Err(Problem::Unknown(format!(
                    "the CI files hold more than {MAX_ENTRIES} include entries; not followed"
                )));
            }
            let inputs = entry.get("inputs").cloned();
            for target in self.entry(&path, &entry, context)? {
                // GitLab ignores a file included again with the same inputs.
                if !self.seen.insert(format!("{}\0{inputs:?}", target.key())) {
                    continue;
                }
                self.count += 1;
                if self.count > MAX_INCLUDES {
                    return Err(Problem::Unknown(format!(
                        "the CI files include more than {MAX_INCLUDES} files, GitLab's default limit"
                    )));
                }
                match target {
                    Target::Tree(included) => {
                        let doc = self.read(&included, inputs.as_ref())?;
                        self.file(included, doc, &Context::Tree)?;
                    }
                    Target::Own(url) => {
                        let path = format!("the Patchew report include `{url}`");
                        let doc = parse_ci(&path, OWN_INCLUDE.as_bytes(), inputs.as_ref())?;
                        self.out.files.push(Source {
                            path,
                            doc,
                            ours: true,
                        });
                    }
                    Target::External(external) => {
                        self.external(external, inputs.as_ref())?;
                    }
                }
            }
        }
        self.out.files.push(Source {
            path,
            doc,
            ours: false,
        });
        Ok(())
    }

    /// A file outside the tree, through the fetcher; named as unreadable (with the
    /// fetcher's reason) when it cannot be had.
    fn external(&mut self, external: External, inputs: Option<&Node>) -> Result<(), Problem> {
        let name = external.describe();
        let bytes = match self.fetcher.map(|f| f.fetch(&external)) {
            Some(Ok(bytes)) => bytes,
            Some(Err(reason)) => {
                self.out.unreadable.push(format!("{name} ({reason})"));
                return Ok(());
            }
            None => {
                self.out.unreadable.push(name);
                return Ok(());
            }
        };
        let doc = parse_ci(&name, &bytes, inputs)?;
        // Our report jobs hosted at a URL the settings do not name (or an older
        // version of them): they are ours all the same, not a project's job
        // taking their names.
        if matches!(external, External::Remote { .. }) && is_report_include(&doc) {
            self.out.files.push(Source {
                path: name,
                doc,
                ours: true,
            });
            return Ok(());
        }
        let context = match external {
            External::Project {
                project, reference, ..
            } => Context::Project { project, reference },
            _ => Context::Anonymous,
        };
        self.file(name, doc, &context)
    }

    /// The files one include entry names.
    fn entry(
        &mut self,
        from: &str,
        entry: &Node,
        context: &Context,
    ) -> Result<Vec<Target>, Problem> {
        let entry = match entry {
            Node::Str(s) if s.starts_with("https://") || s.starts_with("http://") => {
                Node::Map(vec![(Node::Str("remote".into()), Node::Str(s.clone()))])
            }
            Node::Str(s) => Node::Map(vec![(Node::Str("local".into()), Node::Str(s.clone()))]),
            other => other.clone(),
        };
        if let Some(rules) = entry.get("rules") {
            match self.include_rules(rules) {
                Truth::No => return Ok(Vec::new()),
                Truth::Yes => {}
                Truth::Maybe => {
                    self.out.undecided.push(describe(&entry));
                }
            }
        }
        if let Some(remote) = entry.get("remote") {
            let Some(url) = remote.as_str().and_then(|r| self.expand_variables(r)) else {
                self.out.unreadable.push(describe(&entry));
                return Ok(Vec::new());
            };
            if Some(url.as_str()) == self.own_include {
                return Ok(vec![Target::Own(url)]);
            }
            return Ok(vec![Target::External(External::Remote { url })]);
        }
        if entry.get("project").is_some() {
            return Ok(self.project_entry(&entry));
        }
        if let Some(template) = entry.get("template") {
            return Ok(match template.as_str() {
                Some(name) => vec![Target::External(External::Template {
                    name: name.to_owned(),
                })],
                None => {
                    self.out.unreadable.push(describe(&entry));
                    Vec::new()
                }
            });
        }
        let Some(local) = entry.get("local") else {
            self.out.unreadable.push(describe(&entry));
            return Ok(Vec::new());
        };
        let Some(local) = local.as_str().and_then(|l| self.expand_variables(l)) else {
            self.out.unreadable.push(describe(&entry));
            return Ok(Vec::new());
        };
        let pattern = local.trim_start_matches('/').to_owned();
        match context {
            Context::Tree => {}
            Context::Project { project, reference } if !pattern.contains('*') => {
                return Ok(vec![Target::External(External::Project {
                    project: project.clone(),
                    file: pattern,
                    reference: reference.clone(),
                })]);
            }
            _ => {
                self.out
                    .unreadable
                    .push(format!("{} (included by {from})", describe(&entry)));
                return Ok(Vec::new());
            }
        }
        let found = if pattern.contains('*') {
            let re = wildcard_regex(&pattern);
            let mut hits: Vec<String> = self
                .paths()?
                .iter()
                .filter(|p| re.as_ref().is_some_and(|re| re.is_match(p)))
                .filter(|p| p.ends_with(".yml") || p.ends_with(".yaml"))
                .cloned()
                .collect();
            hits.sort();
            if hits.is_empty() {
                return Err(Problem::Refused(format!(
                    "{from}: include `{local}` matches no file"
                )));
            }
            hits
        } else {
            if !(pattern.ends_with(".yml") || pattern.ends_with(".yaml")) {
                return Err(Problem::Refused(format!(
                    "{from}: included file `{local}` does not have a .yml or .yaml extension"
                )));
            }
            vec![pattern]
        };
        Ok(found.into_iter().map(Target::Tree).collect())
    }

    /// `project:` with `file:` (one or a list) and `ref:`, variables expanded.
    fn project_entry(&mut self, entry: &Node) -> Vec<Target> {
        let text = |key: &str| entry.get(key).and_then(Node::as_str);
        let project = text("project").and_then(|p| self.expand_variables(p));
        let reference = match entry.get("ref") {
            None => Some(None),
            Some(r) => r.as_str().and_then(|r| self.expand_variables(r)).map(Some),
        };
        let files: Option<Vec<String>> = match entry.get("file") {
            Some(Node::Str(f)) => Some(vec![f.clone()]),
            Some(Node::Seq(items)) => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect(),
            _ => None,
        };
        let (Some(project), Some(reference), Some(files)) = (project, reference, files) else {
            self.out.unreadable.push(describe(entry));
            return Vec::new();
        };
        let mut out = Vec::new();
        for file in files {
            match self.expand_variables(&file) {
                Some(file) => out.push(Target::External(External::Project {
                    project: project.trim_matches('/').to_owned(),
                    file: file.trim_start_matches('/').to_owned(),
                    reference: reference.clone(),
                })),
                None => self.out.unreadable.push(describe(entry)),
            }
        }
        out
    }

    fn include_rules(&mut self, rules: &Node) -> Truth {
        let Node::Seq(rules) = rules else {
            return Truth::Maybe;
        };
        for rule in rules {
            let mut truth = match rule.get("if").and_then(Node::as_str) {
                Some(e) => expr::evaluate(e, self.vars, &mut Gates::new()),
                None if rule.get("if").is_some() => Truth::Maybe,
                None => Truth::Yes,
            };
            if let Some(exists) = rule.get("exists") {
                truth = truth.and(self.exists(exists));
            }
            if truth == Truth::No {
                continue;
            }
            let never = rule.get("when").and_then(Node::as_str) == Some("never");
            return match (truth, never) {
                (Truth::Yes, true) => Truth::No,
                (Truth::Yes, false) => Truth::Yes,
                _ => Truth::Maybe,
            };
        }
        Truth::No
    }

    /// `exists:` against the tree (listed once); what we cannot read is "maybe".
    fn exists(&mut self, exists: &Node) -> Truth {
        let tree = self.tree;
        match self.paths() {
            Ok(paths) => exists_in(Some(paths), tree, exists),
            Err(_) => Truth::Maybe,
        }
    }

    fn paths(&mut self) -> Result<&Vec<String>, Problem> {
        if self.paths.is_none() {
            self.paths = Some(self.tree.paths().map_err(Problem::Tree)?);
        }
        Ok(self.paths.as_ref().expect("just listed"))
    }

    fn read(&self, path: &str, inputs: Option<&Node>) -> Result<Node, Problem> {
        let bytes = self
            .tree
            .read(path)
            .map_err(Problem::Tree)?
            .ok_or_else(|| Problem::Refused(format!("included file `{path}` does not exist")))?;
        parse_ci(path, &bytes, inputs)
    }

    /// `$NAME` and `${NAME}` with values we know; `None` when one is not known.
    fn expand_variables(&self, text: &str) -> Option<String> {
        if !text.contains('$') {
            return Some(text.to_owned());
        }
        static VARIABLE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
        let re = VARIABLE
            .get_or_init(|| regex::Regex::new(r"\$\{?([A-Za-z0-9_]+)\}?").expect("valid pattern"));
        let mut unknown = false;
        let out = re.replace_all(text, |c: &regex::Captures| {
            match expr::Scope::value(self.vars, &c[1]).0 {
                expr::Val::Str(s) => s,
                expr::Val::Unset => String::new(),
                _ => {
                    unknown = true;
                    String::new()
                }
            }
        });
        (!unknown).then(|| out.into_owned())
    }
}

/// `exists:` paths or `{paths: [...]}`: true when one matches a file of the tree.
pub(crate) fn exists_in(listed: Option<&[String]>, tree: &dyn Tree, exists: &Node) -> Truth {
    let patterns: Vec<&str> = match exists {
        Node::Seq(items) => items.iter().filter_map(Node::as_str).collect(),
        Node::Str(s) => vec![s.as_str()],
        Node::Map(_) => match exists.get("paths") {
            Some(Node::Seq(items)) if exists.get("project").is_none() => {
                items.iter().filter_map(Node::as_str).collect()
            }
            _ => return Truth::Maybe,
        },
        _ => return Truth::Maybe,
    };
    let owned;
    let paths: &[String] = match listed {
        Some(p) => p,
        None => match tree.paths() {
            Ok(p) => {
                owned = p;
                &owned
            }
            Err(_) => return Truth::Maybe,
        },
    };
    for pattern in patterns {
        if pattern.contains('$') {
            return Truth::Maybe;
        }
        let Some(re) = wildcard_regex(pattern.trim_start_matches('/')) else {
            return Truth::Maybe;
        };
        if paths.iter().any(|p| re.is_match(p)) {
            return Truth::Yes;
        }
    }
    Truth::No
}

/// GitLab's wildcard grammar (`Repository#search_files_by_wildcard_path`): the path
/// is regex-escaped, then `**/` is any run of directories or none, `**` anything,
/// `*` anything but `/`; other characters are literal.
pub(crate) fn wildcard_regex(pattern: &str) -> Option<regex::Regex> {
    let escaped = regex::escape(pattern)
        .replace(r"\*\*/", "(.*?/)?")
        .replace(r"\*\*", ".*?")
        .replace(r"\*", "([^/])*?");
    regex::RegexBuilder::new(&format!("^{escaped}$"))
        .size_limit(1 << 20)
        .build()
        .ok()
}

/// The document holding the configuration: the only one, or the one after a
/// `spec:` header, whose `$[[ inputs.NAME ]]` are then replaced with the include
/// entry's `inputs:` or the header's defaults; merge keys resolved.
pub(crate) fn parse_ci(path: &str, bytes: &[u8], given: Option<&Node>) -> Result<Node, Problem> {
    let docs = parse_documents(bytes)
        .map_err(|e| Problem::Refused(format!("{path} is not valid YAML: {e}")))?;
    let doc = match docs.as_slice() {
        [] => Node::Null,
        [one] => one.clone(),
        [header, body] if header.get("spec").is_some() => {
            let inputs = input_values(header, given);
            interpolate(body, &inputs, 0)
        }
        _ => {
            return Err(Problem::Refused(format!(
                "{path} holds {} YAML documents and no `spec:` header",
                docs.len()
            )))
        }
    };
    match normalise(&doc) {
        Node::Null => Ok(Node::Map(Vec::new())),
        map @ Node::Map(_) => Ok(map),
        _ => Err(Problem::Refused(format!(
            "{path}: its top level is not a mapping"
        ))),
    }
}

/// Each input's value: given by the include entry, else the spec's default.
fn input_values(header: &Node, given: Option<&Node>) -> Vec<(String, Node)> {
    let mut out: Vec<(String, Node)> = Vec::new();
    let specs = header.get("spec").and_then(|s| s.get("inputs"));
    for (k, v) in specs.and_then(Node::entries).unwrap_or_default() {
        if let (Some(name), Some(default)) = (k.as_str(), v.get("default")) {
            out.push((name.to_owned(), default.clone()));
        }
    }
    for (k, v) in given.and_then(Node::entries).unwrap_or_default() {
        if let Some(name) = k.as_str() {
            out.retain(|(n, _)| n != name);
            out.push((name.to_owned(), v.clone()));
        }
    }
    out
}

/// Replaces `$[[ inputs.NAME ]]`: a string that is only that becomes the input's
/// value, typed; inside a longer string its text. Interpolations with functions
/// (`| expand_vars`...) or unknown inputs are left as written.
fn interpolate(node: &Node, inputs: &[(String, Node)], depth: usize) -> Node {
    if inputs.is_empty() || depth > 256 {
        return node.clone();
    }
    match node {
        Node::Str(s) if s.contains("$[[") => interpolate_str(s, inputs),
        Node::Map(entries) => Node::Map(
            entries
                .iter()
                .map(|(k, v)| {
                    (
                        interpolate(k, inputs, depth + 1),
                        interpolate(v, inputs, depth + 1),
                    )
                })
                .collect(),
        ),
        Node::Seq(items) => Node::Seq(
            items
                .iter()
                .map(|i| interpolate(i, inputs, depth + 1))
                .collect(),
        ),
        Node::Tagged(t, inner) => {
            Node::Tagged(t.clone(), Box::new(interpolate(inner, inputs, depth + 1)))
        }
        other => other.clone(),
    }
}

fn interpolate_str(s: &str, inputs: &[(String, Node)]) -> Node {
    static INPUT: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = INPUT.get_or_init(|| {
        regex::Regex::new(r"\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]").expect("valid pattern")
    });
    let value = |name: &str| inputs.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    if let Some(c) = re.captures(s) {
        if c.get(0).map(|m| m.as_str()) == Some(s) {
            if let Some(v) = value(&c[1]) {
                return v.clone();
            }
        }
    }
    let out = re.replace_all(s, |c: &regex::Captures| match value(&c[1]) {
        Some(Node::Str(v)) => v.clone(),
        Some(Node::Int(i)) => i.to_string(),
        Some(Node::Bool(b)) => b.to_string(),
        _ => c[0].to_owned(),
    });
    Node::Str(out.into_owned())
}

/// A file whose jobs are exactly the Patchew report jobs.
fn is_report_include(doc: &Node) -> bool {
    let ours = super::remote::OWN_JOBS;
    let jobs: Vec<&str> = doc
        .entries()
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| k.as_str().filter(|n| super::jobs::is_job_name(n, v)))
        .collect();
    jobs.len() == ours.len() && ours.iter().all(|o| jobs.contains(o))
}

fn include_entries(doc: &Node) -> Vec<Node> {
    match doc.get("include") {
        Some(Node::Seq(items)) => items.clone(),
        Some(Node::Null) | None => Vec::new(),
        Some(single) => vec![single.clone()],
    }
}

/// `project `p` (file f)`, `template `t``...: how the warning names an entry.
fn describe(entry: &Node) -> String {
    for kind in ["project", "template", "component", "remote", "local"] {
        if let Some(value) = entry.get(kind) {
            let value = value
                .as_str()
                .map_or_else(|| format!("{value:?}"), str::to_owned);
            let file = match entry.get("file") {
                Some(Node::Str(f)) => format!(" (file {f})"),
                Some(Node::Seq(files)) => format!(
                    " (files {})",
                    files
                        .iter()
                        .filter_map(Node::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                _ => String::new(),
            };
            return format!("{kind} `{value}`{file}");
        }
    }
    "an include entry of unknown kind".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_follow_gitlab() {
        let m = |p: &str, path: &str| wildcard_regex(p).unwrap().is_match(path);
        assert!(m(".gitlab-ci.d/*.yml", ".gitlab-ci.d/base.yml"));
        assert!(!m(".gitlab-ci.d/*.yml", ".gitlab-ci.d/sub/base.yml"));
        assert!(m("ci/**/*.yml", "ci/a.yml"));
        assert!(m("ci/**/*.yml", "ci/x/y/a.yml"));
        assert!(m("ci/**.yml", "ci/x/a.yml"));
        assert!(!m("ci/[ab].yml", "ci/a.yml"));
        assert!(m("ci/[ab].yml", "ci/[ab].yml"));
    }
}
