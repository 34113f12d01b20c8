//! The proxy variables of the environment (`http_proxy`, `https_proxy`, `all_proxy`,
//! `no_proxy`, and the upper-case forms), taken out of the process environment once.
//!
//! Why take them out: minreq (with its `proxy` feature) reads `https_proxy`,
//! `http_proxy` and `all_proxy` by itself for every request that has no explicit
//! proxy, ignores `no_proxy`, and cannot be told "connect directly". So `main()`
//! calls [`capture`] before anything else runs (still single-threaded), which keeps
//! the values here and removes them from the environment: then minreq finds nothing,
//! `http` chooses the proxy itself (curl's rules, `http::proxy`), and `transport`
//! hands the variables back to the `git push`/`git fetch` children, so git honours
//! them exactly as it would without us.

use std::ffi::OsString;
use std::sync::OnceLock;

/// Every name curl (and so git) reads for proxies. Only these are taken.
pub const NAMES: &[&str] = &[
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

/// The proxy variables as they were when the process started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyEnv {
    /// Name and value of each variable that was set, in [`NAMES`] order.
    vars: Vec<(&'static str, OsString)>,
}

impl ProxyEnv {
    /// From name/value pairs (a test's, or the process environment's).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let pairs: Vec<(&str, &str)> = pairs.into_iter().collect();
        let vars = NAMES
            .iter()
            .filter_map(|name| {
                let (_, value) = pairs.iter().find(|(n, _)| n == name)?;
                Some((*name, OsString::from(*value)))
            })
            .collect();
        ProxyEnv { vars }
    }

    fn from_process() -> Self {
        let vars = NAMES
            .iter()
            .filter_map(|name| Some((*name, std::env::var_os(name)?)))
            .collect();
        ProxyEnv { vars }
    }

    /// The value of `name`; a value that is not UTF-8 counts as unset (it could not
    /// name a host anyway).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.to_str())
    }

    /// The first of `names` that is set and not empty (curl skips empty ones).
    pub fn first(&self, names: &[&str]) -> Option<&str> {
        names
            .iter()
            .filter_map(|n| self.get(n))
            .find(|v| !v.trim().is_empty())
    }

    /// The variables to hand to a child process, as they were.
    pub fn variables(&self) -> impl Iterator<Item = (&'static str, &OsString)> {
        self.vars.iter().map(|(n, v)| (*n, v))
    }
}

static CAPTURED: OnceLock<ProxyEnv> = OnceLock::new();

/// Takes the proxy variables out of the process environment and keeps them for
/// [`get`]. Call it first thing in `main()`, while the process has one thread:
/// changing the environment while another thread reads it is undefined behaviour
/// on some platforms. A second call changes nothing.
pub fn capture() {
    if CAPTURED.get().is_some() {
        return;
    }
    let env = ProxyEnv::from_process();
    for (name, _) in &env.vars {
        std::env::remove_var(name);
    }
    let _ = CAPTURED.set(env);
}

/// Gives a child process (git, a hook, a user's command) the proxy variables back,
/// as they were when we started: it expects the environment its user set.
pub fn give_back(cmd: &mut std::process::Command) -> &mut std::process::Command {
    cmd.envs(get().variables())
}

/// The captured variables; without a [`capture`] (a library user, a unit test) the
/// environment as it is now, read once and left in place.
pub fn get() -> &'static ProxyEnv {
    CAPTURED.get_or_init(ProxyEnv::from_process)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_proxy_names_and_skips_empty_values() {
        let env = ProxyEnv::from_pairs([
            ("PATH", "/bin"),
            ("https_proxy", ""),
            ("HTTPS_PROXY", "http://p:1"),
        ]);
        assert_eq!(env.variables().count(), 2);
        assert_eq!(env.get("PATH"), None);
        assert_eq!(
            env.first(&["https_proxy", "HTTPS_PROXY"]),
            Some("http://p:1")
        );
        assert_eq!(env.first(&["all_proxy"]), None);
    }
}
