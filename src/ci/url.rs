//! The URL of the remote include, checked against what GitLab accepts.

use super::CiError;

/// A URL GitLab will fetch as a `remote:` include, safe to write into YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncludeUrl(String);

impl IncludeUrl {
    /// Accepts `https://host[:port]/path.yml` (or `.yaml`); plain `http://` only for
    /// 127.0.0.1 / localhost, which tests and gitlab-ci-local use.
    pub fn parse(url: &str) -> Result<Self, CiError> {
        let bad = |why| Err(CiError::BadUrl(url.to_owned(), why));
        // Printable ASCII only: nothing can end the YAML scalar or the line.
        if url.is_empty() || !url.bytes().all(|b| b.is_ascii_graphic()) {
            return bad("only printable ASCII without spaces is allowed");
        }
        if url.contains(['?', '#']) {
            return bad("GitLab refuses a query string or fragment");
        }
        // GitLab expands CI variables in include paths.
        if url.contains('$') {
            return bad("`$` would be expanded by GitLab");
        }
        let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        if authority.is_empty() {
            return bad("no host");
        }
        // Remote includes are fetched anonymously and the URL lands in a public repo.
        if authority.contains('@') {
            return bad("credentials in the URL would be published");
        }
        match scheme {
            "https" => {}
            "http" if is_loopback(authority) => {}
            "http" => return bad("plain http is only allowed for 127.0.0.1 and localhost"),
            _ => return bad("must start with https://"),
        }
        let file = path.rsplit('/').next().unwrap_or_default();
        let named = |ext| file.strip_suffix(ext).is_some_and(|stem| !stem.is_empty());
        if !(named(".yml") || named(".yaml")) {
            return bad("GitLab needs a file name ending in .yml or .yaml");
        }
        Ok(IncludeUrl(url.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URL as a YAML single-quoted scalar; the only escape there is `''`.
    pub fn yaml_quoted(&self) -> String {
        format!("'{}'", self.0.replace('\'', "''"))
    }
}

fn is_loopback(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().map(|h| format!("[{h}]")),
        None => authority.split(':').next().map(str::to_owned),
    };
    matches!(host.as_deref(), Some("127.0.0.1" | "localhost" | "[::1]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_gitlab_urls() {
        for ok in [
            "https://hub.example/ci/patchew-ci.yml",
            "https://hub.example:8443/a/b.yaml",
            "http://127.0.0.1:8080/x.yml",
            "http://localhost/x.yml",
            "http://[::1]:9/x.yml",
            "https://h/it's.yml",
        ] {
            assert!(IncludeUrl::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_what_gitlab_or_yaml_would_not_take() {
        for bad in [
            "",
            "ftp://h/x.yml",
            "hub.example/x.yml",
            "http://hub.example/x.yml",
            "http://127.0.0.1.evil/x.yml",
            "https://h/x.yml?ref=1",
            "https://h/x.yml#a",
            "https://h/x.json",
            "https://h/.yml",
            "https://h/",
            "https:///x.yml",
            "https://user:pw@h/x.yml",
            "https://h/a b.yml",
            "https://h/a\n.yml",
            "https://h/$X.yml",
            "https://h/é.yml",
        ] {
            assert!(IncludeUrl::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn quotes_for_yaml() {
        let u = IncludeUrl::parse("https://h/it's.yml").unwrap();
        assert_eq!(u.yaml_quoted(), "'https://h/it''s.yml'");
    }
}
