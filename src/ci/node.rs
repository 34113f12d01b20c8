//! A YAML tree for comparing CI files, parsed by serde_yaml.
//!
//! `serde_yaml::Value` refuses duplicate mapping keys, yet GitLab (Ruby's Psych) accepts
//! them and real files rely on that for several `<<:` merge keys in one mapping. A
//! mapping here is the list of its entries in file order, duplicates included, so no
//! scratch rewrite of the file is needed and the comparison is stricter than one on a
//! de-duplicated copy. Aliases arrive already expanded; tags such as `!reference` are
//! kept.

use serde::de::{self, Deserialize, Deserializer, EnumAccess, MapAccess, SeqAccess, Visitor};
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Int(i128),
    /// Kept as bits so that `.nan` equals itself when comparing two parses.
    Float(u64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
    Tagged(String, Box<Node>),
}

impl Node {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn entries(&self) -> Option<&[(Node, Node)]> {
        match self {
            Node::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The value of the last entry named `key` (GitLab, like Psych, lets the last win).
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        self.entries()?
            .iter()
            .rev()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// Like [`Node::get`], but also looks into the mappings merged with `<<:`, the way
    /// GitLab resolves a job's keys.
    pub(crate) fn get_merged(&self, key: &str) -> Option<&Node> {
        if let Some(v) = self.get(key) {
            return Some(v);
        }
        let merges = self
            .entries()?
            .iter()
            .filter(|(k, _)| k.as_str() == Some("<<"));
        for (_, merged) in merges {
            let sources: Vec<&Node> = match merged {
                Node::Seq(items) => items.iter().collect(),
                other => vec![other],
            };
            if let Some(v) = sources.into_iter().find_map(|m| m.get(key)) {
                return Some(v);
            }
        }
        None
    }
}

/// Every document of a YAML stream.
pub(crate) fn parse_documents(bytes: &[u8]) -> Result<Vec<Node>, serde_yaml::Error> {
    serde_yaml::Deserializer::from_slice(bytes)
        .map(Node::deserialize)
        .collect()
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML node")
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Int(v.into()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
        i128::try_from(v)
            .map(Node::Int)
            .map_err(|_| E::custom("integer too large"))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v.to_bits()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Node::Map(entries))
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Node, A::Error> {
        use de::VariantAccess;
        let (tag, contents): (String, _) = data.variant()?;
        Ok(Node::Tagged(tag, Box::new(contents.newtype_variant()?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_duplicate_merge_keys_and_tags() {
        let docs = parse_documents(
            b".a: &a {x: 1}\n.b: &b {y: 2}\njob:\n  <<: *a\n  <<: *b\n  script: !reference [.a, x]\n",
        )
        .unwrap();
        let job = docs[0].get("job").unwrap();
        assert_eq!(job.entries().unwrap().len(), 3);
        assert_eq!(job.get_merged("y"), Some(&Node::Int(2)));
        assert!(matches!(job.get("script"), Some(Node::Tagged(t, _)) if t == "reference"));
    }

    #[test]
    fn spec_header_gives_two_documents() {
        let docs = parse_documents(b"spec:\n  inputs: {}\n---\njob: {script: [x]}\n").unwrap();
        assert_eq!(docs.len(), 2);
    }
}
