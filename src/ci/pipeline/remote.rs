//! Includes that live outside the commit's tree (`remote:`, `project:`, `template:`),
//! and our own report include, whose content this program ships.
//!
//! The pipeline code knows no network: it names what it needs as an [`External`] and
//! asks a [`Fetcher`] the caller hands in (the http and gitlab modules implement it).
//! Whatever the fetcher cannot give stays "unknown", with the fetcher's reason.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

/// The report jobs this project ships (contrib/patchew-ci.yml), wherever they are
/// hosted: the include the tool injects is read from here, never fetched, so that
/// its jobs, stages and rules count as what they are even offline.
pub const OWN_INCLUDE: &str = include_str!("../../../contrib/patchew-ci.yml");

/// The names of the jobs in [`OWN_INCLUDE`].
pub const OWN_JOBS: [&str; 3] = [
    "patchew-report-running",
    "patchew-report-success",
    "patchew-report-failure",
];

/// One file an include entry names outside the tree.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum External {
    /// `remote: URL`: an anonymous GET.
    Remote { url: String },
    /// `project: P` + `file: F` (+ `ref: R`; none: the project's default branch), on
    /// the ci-hub's GitLab.
    Project {
        project: String,
        file: String,
        reference: Option<String>,
    },
    /// `template: NAME.gitlab-ci.yml`, one of GitLab's own templates.
    Template { name: String },
}

impl External {
    /// How reasons name it: ``remote `URL` ``, ``project `p` (file f, ref r)``...
    pub fn describe(&self) -> String {
        match self {
            External::Remote { url } => format!("remote `{url}`"),
            External::Project {
                project,
                file,
                reference,
            } => match reference {
                Some(r) => format!("project `{project}` (file {file}, ref {r})"),
                None => format!("project `{project}` (file {file})"),
            },
            External::Template { name } => format!("template `{name}`"),
        }
    }

    /// The key of GitLab's templates API (`/templates/gitlab_ci_ymls/:key`): the
    /// template's name without `.gitlab-ci.yml`.
    pub fn template_key(name: &str) -> &str {
        name.strip_suffix(".gitlab-ci.yml").unwrap_or(name)
    }
}

/// Reads includes that are not in the tree. `Err` is the reason, in a few words,
/// without secrets (it ends up in warnings).
pub trait Fetcher {
    fn fetch(&self, include: &External) -> Result<Vec<u8>, FetchError>;
}

/// Why an include outside the tree could not be read: the fetcher's own error,
/// shared, as [`Cached`] hands the same answer out again.
#[derive(Debug, Clone, thiserror::Error)]
#[error(transparent)]
pub struct FetchError(Arc<dyn std::error::Error + Send + Sync>);

impl FetchError {
    /// Any error, or a reason given as text.
    pub fn new(reason: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        FetchError(Arc::from(reason.into()))
    }
}

/// A fetcher that asks `inner` once per include (URL and ref) and remembers the
/// answer, failures too: one run never waits twice for the same file.
pub struct Cached<F> {
    inner: F,
    answers: RefCell<HashMap<External, Result<Vec<u8>, FetchError>>>,
}

impl<F: Fetcher> Cached<F> {
    pub fn new(inner: F) -> Self {
        Cached {
            inner,
            answers: RefCell::new(HashMap::new()),
        }
    }
}

impl<F: Fetcher> Fetcher for Cached<F> {
    fn fetch(&self, include: &External) -> Result<Vec<u8>, FetchError> {
        if let Some(answer) = self.answers.borrow().get(include) {
            return answer.clone();
        }
        let answer = self.inner.fetch(include);
        self.answers
            .borrow_mut()
            .insert(include.clone(), answer.clone());
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    struct Counting(Cell<usize>);

    impl Fetcher for Counting {
        fn fetch(&self, include: &External) -> Result<Vec<u8>, FetchError> {
            self.0.set(self.0.get() + 1);
            match include {
                External::Remote { url } if url.ends_with("ok.yml") => Ok(b"a: 1\n".to_vec()),
                _ => Err(FetchError::new("refused")),
            }
        }
    }

    #[test]
    fn each_include_is_asked_once_per_url_and_ref() {
        let cached = Cached::new(Counting(Cell::new(0)));
        let ok = External::Remote {
            url: "https://h/ok.yml".into(),
        };
        let project = |r: Option<&str>| External::Project {
            project: "g/p".into(),
            file: "ci.yml".into(),
            reference: r.map(str::to_owned),
        };
        for _ in 0..3 {
            assert_eq!(cached.fetch(&ok).unwrap(), b"a: 1\n");
            let refused = cached.fetch(&project(Some("v1"))).unwrap_err();
            assert_eq!(refused.to_string(), "refused");
        }
        assert_eq!(cached.inner.0.get(), 2);
        // Another ref is another file.
        let _ = cached.fetch(&project(Some("v2")));
        let _ = cached.fetch(&project(None));
        assert_eq!(cached.inner.0.get(), 4);
    }

    #[test]
    fn the_shipped_report_jobs_are_the_three_we_know() {
        let doc = super::super::include::parse_ci("ours", OWN_INCLUDE.as_bytes(), None).unwrap();
        let names: Vec<&str> = doc
            .entries()
            .unwrap()
            .iter()
            .filter_map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(names, OWN_JOBS);
        assert!(External::template_key("Jobs/SAST.gitlab-ci.yml") == "Jobs/SAST");
    }
}
