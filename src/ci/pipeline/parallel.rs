//! `parallel:`: the jobs GitLab makes of one entry, named as GitLab names them.
//!
//! `parallel: N` makes `name 1/N` ... `name N/N`; `parallel:matrix` makes one job per
//! combination of each item's values, the first variable varying slowest, named
//! `name: [v1, v2]` (GitLab's `Normalizer::ParallelStrategy` and `MatrixStrategy`,
//! and "parallel:matrix" in the CI/CD YAML reference). Each gets `CI_NODE_INDEX` and
//! `CI_NODE_TOTAL`, and a matrix job its variables, which its rules may read.

use crate::ci::node::Node;

/// GitLab's limit for `parallel: N` and for the jobs of one matrix.
const MAX_JOBS: usize = 200;

/// `NAME=VALUE` pairs.
type Variables = Vec<(String, String)>;

/// The jobs made of `name`, each with the variables `parallel:` gives it. A job
/// without `parallel:` (or with one GitLab would refuse) is itself, unchanged.
pub(crate) fn expand(name: &str, job: &Node) -> Vec<(String, Variables)> {
    let made = match job.get("parallel") {
        Some(Node::Int(n)) if (1..=MAX_JOBS as i128).contains(n) => numbered(name, *n as usize),
        Some(p @ Node::Map(_)) => p.get("matrix").and_then(|m| matrix(name, m)),
        _ => None,
    };
    made.unwrap_or_else(|| vec![(name.to_owned(), Vec::new())])
}

fn numbered(name: &str, total: usize) -> Option<Vec<(String, Variables)>> {
    Some(
        (1..=total)
            .map(|i| (format!("{name} {i}/{total}"), node_vars(i, total)))
            .collect(),
    )
}

fn node_vars(index: usize, total: usize) -> Variables {
    vec![
        ("CI_NODE_INDEX".to_owned(), index.to_string()),
        ("CI_NODE_TOTAL".to_owned(), total.to_string()),
    ]
}

/// Every combination of every item, in GitLab's order; `None` for a shape GitLab
/// refuses (not a list of mappings of scalars or lists of scalars, too many jobs).
fn matrix(name: &str, matrix: &Node) -> Option<Vec<(String, Variables)>> {
    let Node::Seq(items) = matrix else {
        return None;
    };
    let mut combinations: Vec<Variables> = Vec::new();
    for item in items {
        let mut rows: Vec<Variables> = vec![Vec::new()];
        for (key, values) in item.entries()? {
            let key = key.as_str()?;
            let values: Vec<String> = match values {
                Node::Seq(list) => list.iter().map(scalar).collect::<Option<_>>()?,
                one => vec![scalar(one)?],
            };
            rows = rows
                .into_iter()
                .flat_map(|row| {
                    values.iter().map(move |v| {
                        let mut row = row.clone();
                        row.push((key.to_owned(), v.clone()));
                        row
                    })
                })
                .collect();
            if rows.len() > MAX_JOBS {
                return None;
            }
        }
        combinations.extend(rows);
        if combinations.len() > MAX_JOBS {
            return None;
        }
    }
    let total = combinations.len();
    Some(
        combinations
            .into_iter()
            .enumerate()
            .map(|(i, vars)| {
                let values: Vec<&str> = vars.iter().map(|(_, v)| v.as_str()).collect();
                let label = format!("{name}: [{}]", values.join(", "));
                let mut all = node_vars(i + 1, total);
                all.extend(vars);
                (label, all)
            })
            .collect(),
    )
}

fn scalar(node: &Node) -> Option<String> {
    match node {
        Node::Str(s) => Some(s.clone()),
        Node::Int(i) => Some(i.to_string()),
        Node::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ci::node::parse_documents;

    fn names(yaml: &str) -> Vec<String> {
        let doc = parse_documents(yaml.as_bytes()).unwrap().remove(0);
        expand("job", &doc).into_iter().map(|(n, _)| n).collect()
    }

    #[test]
    fn numbered_and_matrix_names() {
        assert_eq!(names("parallel: 3\n"), ["job 1/3", "job 2/3", "job 3/3"]);
        assert_eq!(
            names("parallel:\n  matrix:\n    - A: [x, y]\n      B: [1, 2]\n    - A: z\n"),
            [
                "job: [x, 1]",
                "job: [x, 2]",
                "job: [y, 1]",
                "job: [y, 2]",
                "job: [z]"
            ]
        );
        assert_eq!(names("script: [x]\n"), ["job"]);
        assert_eq!(names("parallel: 201\n"), ["job"]);
        assert_eq!(names("parallel:\n  matrix: 3\n"), ["job"]);
    }
}
