//! The YAML operations GitLab applies to CI files: `<<:` merge keys as Ruby's Psych
//! resolves them, the deep merge of included files, and `!reference` tags.

use std::collections::HashMap;

use crate::ci::node::Node;

/// A mapping with unique keys in first-seen order, indexed for large files.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Map {
    entries: Vec<(Node, Node)>,
    index: HashMap<String, usize>,
}

impl Map {
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        self.index.get(key).map(|&i| &self.entries[i].1)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&Node, &Node)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// Sets `key`, keeping its first position, as a Ruby hash does.
    pub(crate) fn insert(&mut self, key: Node, value: Node) {
        let found = match key.as_str() {
            Some(k) => self.index.get(k).copied(),
            None => self
                .entries
                .iter()
                .position(|(existing, _)| *existing == key),
        };
        match found {
            Some(i) => self.entries[i].1 = value,
            None => {
                if let Some(k) = key.as_str() {
                    self.index.insert(k.to_owned(), self.entries.len());
                }
                self.entries.push((key, value));
            }
        }
    }

    pub(crate) fn into_node(self) -> Node {
        Node::Map(self.entries)
    }

    pub(crate) fn from_node(node: &Node) -> Map {
        let mut map = Map::default();
        if let Some(entries) = node.entries() {
            for (k, v) in entries {
                map.insert(k.clone(), v.clone());
            }
        }
        map
    }
}

/// Resolves `<<:` keys everywhere, and makes mapping keys unique. Psych walks a
/// mapping's entries in order: a plain key sets its value, a `<<:` merges its
/// mapping (or the mappings of its list, the first of them winning) over what is
/// there so far, so a later entry always wins.
pub(crate) fn normalise(node: &Node) -> Node {
    match node {
        Node::Map(entries) => {
            let mut map = Map::default();
            for (k, v) in entries {
                let v = normalise(v);
                if k.as_str() == Some("<<") {
                    match v {
                        Node::Map(merged) => {
                            for (mk, mv) in merged {
                                map.insert(mk, mv);
                            }
                        }
                        Node::Seq(items) => {
                            let mut combined = Map::default();
                            for item in items.into_iter().rev() {
                                if let Node::Map(merged) = item {
                                    for (mk, mv) in merged {
                                        combined.insert(mk, mv);
                                    }
                                }
                            }
                            for (mk, mv) in combined.entries {
                                map.insert(mk, mv);
                            }
                        }
                        other => map.insert(k.clone(), other),
                    }
                } else {
                    map.insert(k.clone(), v);
                }
            }
            map.into_node()
        }
        Node::Seq(items) => Node::Seq(items.iter().map(normalise).collect()),
        Node::Tagged(tag, inner) => Node::Tagged(tag.clone(), Box::new(normalise(inner))),
        other => other.clone(),
    }
}

/// GitLab's deep merge: mappings merge key by key, anything else is replaced.
pub(crate) fn deep_merge(base: &Node, over: &Node) -> Node {
    match (base, over) {
        (Node::Map(_), Node::Map(over_entries)) => {
            let mut map = Map::from_node(base);
            for (k, v) in over_entries {
                let merged = match k.as_str().and_then(|key| map.get(key)) {
                    Some(old @ Node::Map(_)) if matches!(v, Node::Map(_)) => deep_merge(old, v),
                    _ => v.clone(),
                };
                map.insert(k.clone(), merged);
            }
            map.into_node()
        }
        _ => over.clone(),
    }
}

/// A `!reference` that GitLab refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ReferenceError {
    #[error("!reference tags nest deeper than GitLab's limit of {MAX_REFERENCE_DEPTH}")]
    TooDeep,
    #[error("a !reference tag must hold a list of keys")]
    NotKeys,
    #[error("!reference [{}]: no such job or key", .0.join(", "))]
    NoJob(Vec<String>),
    #[error("!reference [{}]: no such key", .0.join(", "))]
    NoKey(Vec<String>),
}

/// GitLab resolves `!reference` tags at most this deep (its documented nesting limit).
const MAX_REFERENCE_DEPTH: usize = 10;

/// Replaces every `!reference [job, key, ...]` with what it names in `config`. A
/// reference in a list whose target is a list is spliced in, as GitLab flattens
/// `script` and `rules` lists. A reference that names nothing, or nests too deep,
/// is an error in GitLab.
pub(crate) fn resolve_references(node: &Node, config: &Map) -> Result<Node, ReferenceError> {
    resolve_in(node, config, 0)
}

fn resolve_in(node: &Node, config: &Map, depth: usize) -> Result<Node, ReferenceError> {
    match node {
        Node::Tagged(tag, inner) if tag == "reference" => {
            if depth >= MAX_REFERENCE_DEPTH {
                return Err(ReferenceError::TooDeep);
            }
            let target = lookup(inner, config)?;
            resolve_in(&target, config, depth + 1)
        }
        Node::Map(entries) => {
            let mut out = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                out.push((k.clone(), resolve_in(v, config, depth)?));
            }
            Ok(Node::Map(out))
        }
        Node::Seq(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let is_reference = matches!(item, Node::Tagged(t, _) if t == "reference");
                match resolve_in(item, config, depth)? {
                    Node::Seq(spliced) if is_reference => out.extend(spliced),
                    resolved => out.push(resolved),
                }
            }
            Ok(Node::Seq(out))
        }
        other => Ok(other.clone()),
    }
}

fn lookup(path: &Node, config: &Map) -> Result<Node, ReferenceError> {
    let Node::Seq(keys) = path else {
        return Err(ReferenceError::NotKeys);
    };
    let names: Vec<&str> = keys.iter().filter_map(Node::as_str).collect();
    if names.len() != keys.len() || names.is_empty() {
        return Err(ReferenceError::NotKeys);
    }
    let owned = || names.iter().map(|n| n.to_string()).collect();
    let mut current = config
        .get(names[0])
        .ok_or_else(|| ReferenceError::NoJob(owned()))?;
    for key in &names[1..] {
        current = current
            .get(key)
            .ok_or_else(|| ReferenceError::NoKey(owned()))?;
    }
    Ok(current.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ci::node::parse_documents;

    fn doc(text: &str) -> Node {
        normalise(&parse_documents(text.as_bytes()).unwrap().remove(0))
    }

    #[test]
    fn merge_keys_follow_psych() {
        let d = doc(".a: &a {x: 1, y: 1}\n.b: &b {y: 2}\nj1:\n  <<: *a\n  <<: *b\n  x: 3\nj2:\n  x: 3\n  <<: *a\nj3:\n  <<: [*b, *a]\n");
        let get = |job: &str, key: &str| d.get(job).and_then(|j| j.get(key)).cloned();
        assert_eq!(get("j1", "x"), Some(Node::Int(3)));
        assert_eq!(get("j1", "y"), Some(Node::Int(2)));
        // A merge after a plain key overrides it, as in Psych.
        assert_eq!(get("j2", "x"), Some(Node::Int(1)));
        // In a list of merges the first wins.
        assert_eq!(get("j3", "y"), Some(Node::Int(2)));
    }

    #[test]
    fn deep_merge_merges_maps_and_replaces_lists() {
        let merged = deep_merge(
            &doc("j: {variables: {A: 1, B: 1}, script: [a, b]}"),
            &doc("j: {variables: {B: 2}, script: [c]}"),
        );
        let j = merged.get("j").unwrap();
        assert_eq!(j.get("variables").unwrap().get("A"), Some(&Node::Int(1)));
        assert_eq!(j.get("variables").unwrap().get("B"), Some(&Node::Int(2)));
        assert_eq!(
            j.get("script"),
            Some(&Node::Seq(vec![Node::Str("c".into())]))
        );
    }

    #[test]
    fn references_resolve_and_splice() {
        let config = Map::from_node(&doc(
            ".r: {rules: [{if: $A}], s: [x, y]}\nj:\n  script: [a, !reference [.r, s], b]\n  rules: !reference [.r, rules]\n",
        ));
        let j = resolve_references(config.get("j").unwrap(), &config).unwrap();
        assert_eq!(j.get("script").unwrap(), &doc("[a, x, y, b]"));
        assert!(matches!(j.get("rules"), Some(Node::Seq(r)) if r.len() == 1));
        let missing = doc("j: {script: !reference [.nope, s]}");
        assert!(resolve_references(&missing, &config).is_err());
    }
}
