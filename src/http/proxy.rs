//! Which proxy a request goes through, by the rules git (through curl) follows.
//!
//! - `http.proxy` (git's own key), when set, is the proxy for every URL; set to the
//!   empty string it means "no proxy", whatever the environment says.
//! - Otherwise `https_proxy` or `HTTPS_PROXY` for `https://` URLs, `http_proxy` (lower
//!   case only, as curl: `HTTP_PROXY` can be set by a CGI server's `Proxy:` header)
//!   for `http://` URLs, then `all_proxy` or `ALL_PROXY`.
//! - Never a proxy for a host that `no_proxy` (or `NO_PROXY`) lists, whichever of the
//!   above named it (curl checks the list for `CURLOPT_PROXY` too).
//!
//! `no_proxy` follows curl's documented rules: a comma-separated list; a lone `*`
//! matches every host; a name matches that host and every host under it
//! (`example.com` and `.example.com` both match `example.com` and
//! `www.example.com`, never `notexample.com`); an IP address matches itself and may
//! carry a CIDR suffix (`10.0.0.0/8`); IPv6 addresses are written without brackets.
//! One addition to curl: `host:port` matches that host only on that port. As in
//! curl, loopback hosts are proxied like any other unless listed.

use std::net::IpAddr;

use crate::proxy_env::ProxyEnv;

/// The proxy URL for `url` (still with any credentials it holds), or `None` for a
/// direct connection. `configured` is `http.proxy` as written, if set.
pub fn proxy_for<'a>(url: &str, configured: Option<&'a str>, env: &'a ProxyEnv) -> Option<&'a str> {
    let (scheme, host, port) = scheme_host_port(url)?;
    let proxy = match configured {
        Some(value) => Some(value.trim()),
        None if scheme == "https" => env.first(&["https_proxy", "HTTPS_PROXY"]),
        None => env.get("http_proxy").filter(|v| !v.trim().is_empty()),
    }
    .or_else(|| match configured {
        Some(_) => None,
        None => env.first(&["all_proxy", "ALL_PROXY"]),
    })
    .filter(|p| !p.is_empty())?;
    let no_proxy = env.first(&["no_proxy", "NO_PROXY"]).unwrap_or("");
    if no_proxy_matches(no_proxy, &host, port) {
        return None;
    }
    Some(proxy)
}

/// Whether `host` (lower case, IPv6 without brackets) on `port` is in the list.
pub fn no_proxy_matches(list: &str, host: &str, port: u16) -> bool {
    let host = host.trim_end_matches('.');
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .any(|entry| entry_matches(entry, host, port))
}

fn entry_matches(entry: &str, host: &str, port: u16) -> bool {
    if entry == "*" {
        return true;
    }
    let entry = entry.to_ascii_lowercase();
    let (name, wanted_port) = split_entry_port(&entry);
    if wanted_port.is_some_and(|p| p != port) {
        return false;
    }
    if let Ok(host_ip) = host.parse::<IpAddr>() {
        return ip_matches(name, host_ip);
    }
    let name = name.trim_start_matches('.').trim_end_matches('.');
    !name.is_empty()
        && (host == name
            || host
                .strip_suffix(name)
                .is_some_and(|head| head.ends_with('.')))
}

/// `host:port` into its parts; an IPv6 address (more than one colon) has no port.
fn split_entry_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(inner) = entry.strip_prefix('[') {
        if let Some((ip, rest)) = inner.split_once(']') {
            return (ip, rest.strip_prefix(':').and_then(|p| p.parse().ok()));
        }
    }
    match entry.split_once(':') {
        Some((name, port)) if !port.contains(':') => match port.parse() {
            Ok(port) => (name, Some(port)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

/// An address, or an address with `/bits`, against the host's address.
fn ip_matches(entry: &str, host: IpAddr) -> bool {
    let (address, bits) = match entry.split_once('/') {
        Some((address, bits)) => match bits.parse::<u32>() {
            Ok(bits) => (address, Some(bits)),
            Err(_) => return false,
        },
        None => (entry, None),
    };
    let Ok(address) = address.parse::<IpAddr>() else {
        return false;
    };
    match (address, host) {
        (IpAddr::V4(a), IpAddr::V4(h)) => {
            prefix_equal(u128::from(u32::from(a)), u128::from(u32::from(h)), 32, bits)
        }
        (IpAddr::V6(a), IpAddr::V6(h)) => prefix_equal(u128::from(a), u128::from(h), 128, bits),
        _ => false,
    }
}

fn prefix_equal(a: u128, b: u128, width: u32, bits: Option<u32>) -> bool {
    let bits = bits.unwrap_or(width).min(width);
    if bits == 0 {
        return true;
    }
    let shift = width - bits;
    (a >> shift) == (b >> shift)
}

/// Scheme, lower-case host (IPv6 without brackets) and port (the scheme's default if
/// none is written) of an `http(s)://` URL.
fn scheme_host_port(url: &str) -> Option<(String, String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let default_port = if scheme == "https" { 443 } else { 80 };
    let (host, port) = if let Some(inner) = host_port.strip_prefix('[') {
        let (ip, rest) = inner.split_once(']')?;
        (ip, rest.strip_prefix(':'))
    } else {
        match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    let port = match port {
        Some(p) if !p.is_empty() => p.parse().ok()?,
        _ => default_port,
    };
    Some((scheme, host.to_ascii_lowercase(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> ProxyEnv {
        ProxyEnv::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn scheme_picks_the_variable_as_curl_does() {
        let e = env(&[
            ("https_proxy", "http://s:1"),
            ("HTTP_PROXY", "http://upper:1"),
            ("all_proxy", "http://a:1"),
        ]);
        assert_eq!(proxy_for("https://h/x", None, &e), Some("http://s:1"));
        // HTTP_PROXY is never read; all_proxy then serves http.
        assert_eq!(proxy_for("http://h/x", None, &e), Some("http://a:1"));
        let e = env(&[("HTTPS_PROXY", "http://S:2"), ("http_proxy", "http://p:2")]);
        assert_eq!(proxy_for("HTTPS://h", None, &e), Some("http://S:2"));
        assert_eq!(proxy_for("http://h", None, &e), Some("http://p:2"));
        assert_eq!(proxy_for("http://h", None, &env(&[])), None);
    }

    #[test]
    fn http_proxy_config_wins_and_empty_means_direct() {
        let e = env(&[("https_proxy", "http://env:1")]);
        assert_eq!(
            proxy_for("https://h", Some("http://cfg:3"), &e),
            Some("http://cfg:3")
        );
        assert_eq!(
            proxy_for("http://h", Some("http://cfg:3"), &e),
            Some("http://cfg:3")
        );
        assert_eq!(proxy_for("https://h", Some(""), &e), None);
    }

    #[test]
    fn no_proxy_applies_to_configured_and_environment_proxies() {
        let e = env(&[("https_proxy", "http://env:1"), ("NO_PROXY", "h, other")]);
        assert_eq!(proxy_for("https://h/x", None, &e), None);
        assert_eq!(proxy_for("https://h/x", Some("http://cfg:3"), &e), None);
        assert_eq!(proxy_for("https://x.h/x", None, &e), None);
        assert_eq!(proxy_for("https://xh/x", None, &e), Some("http://env:1"));
    }

    #[test]
    fn no_proxy_names_match_the_host_and_its_subdomains() {
        for (list, host, port, expected) in [
            ("*", "anything", 80, true),
            ("example.com", "example.com", 80, true),
            ("example.com", "www.example.com", 443, true),
            ("example.com", "notexample.com", 80, false),
            ("example.com", "example.com.org", 80, false),
            (".example.com", "example.com", 80, true),
            (".example.com", "a.b.example.com", 80, true),
            ("EXAMPLE.com", "example.com", 80, true),
            ("a, b ,example.com", "example.com", 80, true),
            ("example.com:8080", "example.com", 8080, true),
            ("example.com:8080", "example.com", 80, false),
            ("localhost", "127.0.0.1", 80, false),
            ("127.0.0.2", "127.0.0.2", 1234, true),
            ("127.0.0.1", "127.0.0.2", 1234, false),
            ("127.0.0.0/8", "127.0.0.2", 1, true),
            ("10.0.0.0/8", "127.0.0.2", 1, false),
            ("::1", "::1", 80, true),
            ("[::1]:80", "::1", 80, true),
            ("fe80::/16", "fe80::1", 80, true),
            ("", "example.com", 80, false),
            ("*.example.com", "www.example.com", 80, false),
        ] {
            assert_eq!(
                no_proxy_matches(list, host, port),
                expected,
                "{list:?} vs {host}:{port}"
            );
        }
    }

    #[test]
    fn hosts_and_ports_are_read_from_urls() {
        assert_eq!(
            scheme_host_port("https://u:p@Host.Example:8443/x?y"),
            Some(("https".into(), "host.example".into(), 8443))
        );
        assert_eq!(
            scheme_host_port("http://[::1]/x"),
            Some(("http".into(), "::1".into(), 80))
        );
    }
}
