//! The API tokens of the two servers (Patchew's and the ci-hub's GitLab), and where
//! Patchew's is found. They belong to the HTTP layer: only it sends them.

use std::fmt;
use std::path::{Path, PathBuf};

/// Whose token it is, for the errors that name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Patchew,
    GitLab,
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::Patchew => "Patchew",
            Service::GitLab => "GitLab",
        })
    }
}

/// An API token. Debug and Display print `***` so that it cannot leak into
/// logs or error messages by accident; [`Token::expose`] is the only way to read it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(
        "the {service} token from {origin} is empty or holds white space or control characters"
    )]
    Malformed { service: Service, origin: String },
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Token {
    /// Refuses empty tokens and any white space or control character, which would
    /// otherwise let a token smuggle extra header lines into a request.
    pub fn new(service: Service, value: &str, origin: &str) -> Result<Self, TokenError> {
        let value = value.trim();
        if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(TokenError::Malformed {
                service,
                origin: origin.to_owned(),
            });
        }
        Ok(Token(value.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The token for `server_url`: `$PATCHEW_TOKEN`, else `config_value` (git config
/// `patchew.token`, read by the caller), else `~/.patchew.token`.
pub fn lookup_token(
    server_url: &str,
    config_value: Option<&str>,
) -> Result<Option<Token>, TokenError> {
    let env = std::env::var("PATCHEW_TOKEN").ok();
    let home = std::env::var_os("HOME").map(PathBuf::from);
    lookup_token_in(env.as_deref(), config_value, home.as_deref(), server_url)
}

/// [`lookup_token`] with its inputs explicit, for tests and callers that sandbox HOME.
pub fn lookup_token_in(
    env_value: Option<&str>,
    config_value: Option<&str>,
    home: Option<&Path>,
    server_url: &str,
) -> Result<Option<Token>, TokenError> {
    if let Some(v) = given(env_value) {
        return Token::new(Service::Patchew, v, "$PATCHEW_TOKEN").map(Some);
    }
    if let Some(v) = given(config_value) {
        return Token::new(Service::Patchew, v, "git config patchew.token").map(Some);
    }
    let Some(home) = home else { return Ok(None) };
    let path = home.join(".patchew.token");
    match std::fs::read_to_string(&path) {
        Ok(contents) => Ok(token_from_file(&contents, server_url)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(TokenError::Unreadable { path, source }),
    }
}

/// An empty variable or key is how people unset things; treat it as absent.
fn given(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.trim().is_empty())
}

/// Parses patchew-cli's token file: one `<server-url> <token>` per line. Like
/// patchew-cli, lines that are not exactly two words are skipped; unlike it, the
/// server URLs match whatever trailing slashes either side has.
pub fn token_from_file(contents: &str, server_url: &str) -> Option<Token> {
    let wanted = server_url.trim().trim_end_matches('/');
    contents.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        let (Some(server), Some(token), None) = (words.next(), words.next(), words.next()) else {
            return None;
        };
        if server.trim_end_matches('/') != wanted {
            return None;
        }
        Token::new(Service::Patchew, token, "~/.patchew.token").ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_never_prints() {
        let t = Token::new(Service::Patchew, "s3cret", "test").unwrap();
        assert_eq!(format!("{t} {t:?} {:?}", Some(&t)), "*** *** Some(***)");
        assert_eq!(t.expose(), "s3cret");
    }

    #[test]
    fn token_refuses_header_injection() {
        assert!(Token::new(Service::Patchew, "a\r\nX-Evil: 1", "test").is_err());
        assert!(Token::new(Service::Patchew, "  ", "test").is_err());
        assert_eq!(
            Token::new(Service::Patchew, " abc \n", "test")
                .unwrap()
                .expose(),
            "abc"
        );
    }

    #[test]
    fn file_matches_server_ignoring_trailing_slash() {
        let file = "https://other.org/ tok1\n\
                    garbage line with words\n\
                    https://patchew.org/ tok2\n\
                    https://patchew.org tok3\n";
        assert_eq!(
            token_from_file(file, "https://patchew.org")
                .unwrap()
                .expose(),
            "tok2"
        );
        assert_eq!(
            token_from_file(file, "https://other.org").unwrap().expose(),
            "tok1"
        );
        assert!(token_from_file(file, "https://nowhere.org").is_none());
    }

    #[test]
    fn lookup_order_env_config_file() {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(
            home.path().join(".patchew.token"),
            "http://srv/ from-file\n",
        )
        .unwrap();
        let h = Some(home.path());
        let look = |env, cfg| lookup_token_in(env, cfg, h, "http://srv").unwrap().unwrap();
        assert_eq!(
            look(Some("from-env"), Some("from-cfg")).expose(),
            "from-env"
        );
        assert_eq!(look(None, Some("from-cfg")).expose(), "from-cfg");
        assert_eq!(look(Some(""), None).expose(), "from-file");
        assert!(lookup_token_in(None, None, h, "http://elsewhere")
            .unwrap()
            .is_none());
    }

    #[test]
    fn missing_home_or_file_is_no_token() {
        let home = tempfile::tempdir().unwrap();
        assert!(lookup_token_in(None, None, Some(home.path()), "http://s")
            .unwrap()
            .is_none());
        assert!(lookup_token_in(None, None, None, "http://s")
            .unwrap()
            .is_none());
    }

    #[test]
    fn malformed_env_token_is_an_error_not_a_fallback() {
        let err = lookup_token_in(Some("a b"), Some("good"), None, "http://s").unwrap_err();
        assert!(err.to_string().contains("PATCHEW_TOKEN"), "{err}");
        assert!(!err.to_string().contains("a b"));
    }
}
