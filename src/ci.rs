//! `.gitlab-ci.yml` injection of the Patchew report include, its proof and warnings.
//! Pure text and YAML; the tree work is in `apply`.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncludeUrl(String);

#[derive(Debug, thiserror::Error)]
pub enum CiError {
    #[error("bad include URL {0:?}")]
    BadUrl(String),
}

impl IncludeUrl {
    pub fn parse(_url: &str) -> Result<Self, CiError> {
        todo!("issue 11")
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub enum Injection {
    /// The new file content, proven to differ from the old only by our include.
    Injected(Vec<u8>),
    /// The file already carries exactly our include.
    AlreadyPresent,
}

/// Adds `- remote: '<url>'` to the file's `include:`, textually, then proves it.
pub fn inject(_old: &[u8], _url: &IncludeUrl) -> Result<Injection, CiError> {
    todo!("issue 11")
}

/// For the pre-push hook: `tip` holds the include exactly once and equals `parent`
/// (the first parent's file) plus that include.
pub fn verify(_parent: &[u8], _tip: &[u8], _url: &IncludeUrl) -> Result<(), CiError> {
    todo!("issue 11")
}

/// Reasons GitLab may run no tag pipeline, or stop before `.post`.
pub fn pipeline_warnings(_file: &[u8]) -> Vec<String> {
    Vec::new()
}
