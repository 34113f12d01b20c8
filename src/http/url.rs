//! Just enough URL handling for our requests: encoding strangers' strings into paths,
//! keeping credentials out of messages, and resolving redirect targets (with the
//! `url` crate).

/// Percent-encodes `s` so that it is exactly one path segment or one query value:
/// only RFC 3986 unreserved characters and `@` stay literal.
///
/// A segment made only of dots would be read as `.` or `..` by servers and proxies that
/// normalise paths, so its dots are encoded too.
pub fn encode_component(s: &str) -> String {
    let all_dots = !s.is_empty() && s.bytes().all(|b| b == b'.');
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let literal = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'~' | b'@')
            || (b == b'.' && !all_dots);
        if literal {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The URL with any `user:password@` removed, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match split_userinfo(url) {
        Some((clean, _)) => clean,
        None => url.to_owned(),
    }
}

/// Splits `scheme://user:pass@host/...` into the URL without credentials and the raw
/// (still percent-encoded) `user:pass`.
pub(crate) fn split_userinfo(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let at = rest[..authority_end].rfind('@')?;
    let clean = format!("{scheme}://{}", &rest[at + 1..]);
    Some((clean, rest[..at].to_owned()))
}

/// `scheme://host[:port]`, lower-cased, with the default port made explicit, so that
/// two URLs compare equal exactly when a browser would call them the same origin.
pub(crate) fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host_port = host_port.to_ascii_lowercase();
    let has_port = host_port
        .rsplit_once(':')
        .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let default_port = if scheme == "https" { "443" } else { "80" };
    Some(if has_port {
        format!("{scheme}://{host_port}")
    } else {
        format!("{scheme}://{host_port}:{default_port}")
    })
}

/// Whether the URL's host is this machine or a private network: an address literal
/// or a name that resolves here to a loopback, private, link-local, shared (CGNAT),
/// unique-local or unspecified address. A name that does not resolve is not local:
/// a direct request fails by itself, and a proxy sees its own network.
pub fn is_local_target(url: &str) -> bool {
    use std::net::{IpAddr, ToSocketAddrs};
    let Some(origin) = origin(url) else {
        return false;
    };
    let Some((_, host_port)) = origin.split_once("://") else {
        return false;
    };
    let Some((host, port)) = host_port.rsplit_once(':') else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let Ok(port) = port.parse::<u16>() else {
        return false;
    };
    let local = |ip: IpAddr| match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| v4.is_loopback() || v4.is_private() || v4.is_link_local())
        }
    };
    if let Ok(ip) = host.parse::<IpAddr>() {
        return local(ip);
    }
    (host, port)
        .to_socket_addrs()
        .is_ok_and(|mut addrs| addrs.any(|a| local(a.ip())))
}

pub(crate) fn is_https(url: &str) -> bool {
    url.get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
}

/// Resolves a `Location` header against the URL that answered with it, as RFC 3986
/// section 5 says (the `url` crate does it: `?query`-only, `../` and `//host`
/// references, and a `://` inside a query is no scheme). The fragment goes: a request
/// never carries one.
pub(crate) fn resolve_location(base: &str, location: &str) -> Option<String> {
    let mut next = url::Url::parse(base).ok()?.join(location.trim()).ok()?;
    next.set_fragment(None);
    Some(next.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_segments_stay_one_segment() {
        assert_eq!(encode_component("a/b?c#d%e@f"), "a%2Fb%3Fc%23d%25e@f");
        assert_eq!(encode_component("a._5Fb@x.org"), "a._5Fb@x.org");
        assert_eq!(encode_component(".."), "%2E%2E");
        assert_eq!(encode_component("a b&c=d+é"), "a%20b%26c%3Dd%2B%C3%A9");
    }

    #[test]
    fn credentials_are_removed() {
        assert_eq!(
            redact_url("https://user:s3cret@host:8080/p?q=a@b"),
            "https://host:8080/p?q=a@b"
        );
        assert_eq!(redact_url("https://host/p/a@b/"), "https://host/p/a@b/");
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn origins_compare_like_browsers() {
        assert_eq!(origin("HTTPS://Host/x"), origin("https://host:443/y"));
        assert_ne!(origin("https://host/x"), origin("http://host/x"));
        assert_ne!(origin("http://host:1/x"), origin("http://host:2/x"));
    }

    #[test]
    fn local_targets_are_recognised() {
        for local in [
            "http://127.0.0.1:9/x.yml",
            "http://localhost/x.yml",
            "https://[::1]/x.yml",
            "http://10.1.2.3/x.yml",
            "http://192.168.0.1:8080/x.yml",
            "http://169.254.169.254/latest/x.yml",
            "http://[fd00::1]/x.yml",
            "http://100.64.0.1/x.yml",
        ] {
            assert!(is_local_target(local), "{local}");
        }
        for public in ["https://8.8.8.8/x.yml", "https://[2001:db8::1]/x.yml"] {
            assert!(!is_local_target(public), "{public}");
        }
    }

    #[test]
    fn locations_resolve() {
        let base = "http://h:1/a/b/c?x=1";
        assert_eq!(resolve_location(base, "/z").unwrap(), "http://h:1/z");
        assert_eq!(resolve_location(base, "d").unwrap(), "http://h:1/a/b/d");
        assert_eq!(resolve_location(base, "//o/p").unwrap(), "http://o/p");
        assert_eq!(
            resolve_location(base, "https://o/p").unwrap(),
            "https://o/p"
        );
    }

    #[test]
    fn a_url_in_the_query_of_a_location_does_not_make_it_absolute() {
        assert_eq!(
            resolve_location("https://h/a/b", "/login?next=https://x/y").unwrap(),
            "https://h/login?next=https://x/y"
        );
        assert_eq!(
            resolve_location("https://h/a/b", "c?u=http://x").unwrap(),
            "https://h/a/c?u=http://x"
        );
    }

    /// RFC 3986, section 5.4.1's normal examples, and some of 5.4.2's abnormal ones.
    /// `url` writes the empty path of `//g` as `/`, which HTTP takes for the same.
    #[test]
    fn references_resolve_as_rfc_3986_says() {
        let base = "http://a/b/c/d;p?q";
        let cases = [
            ("g:h", "g:h"),
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g", "http://g/"),
            ("?y", "http://a/b/c/d;p?y"),
            ("g?y", "http://a/b/c/g?y"),
            ("#s", "http://a/b/c/d;p?q"),
            ("g#s", "http://a/b/c/g"),
            (";x", "http://a/b/c/;x"),
            ("", "http://a/b/c/d;p?q"),
            (".", "http://a/b/c/"),
            ("./", "http://a/b/c/"),
            ("..", "http://a/b/"),
            ("../", "http://a/b/"),
            ("../g", "http://a/b/g"),
            ("../..", "http://a/"),
            ("../../g", "http://a/g"),
            ("../../../g", "http://a/g"),
            ("../../../../g", "http://a/g"),
            ("/./g", "http://a/g"),
            ("/../g", "http://a/g"),
            ("g.", "http://a/b/c/g."),
            ("..g", "http://a/b/c/..g"),
            ("./../g", "http://a/b/g"),
            ("g;x=1/../y", "http://a/b/c/y"),
            ("g?y/./x", "http://a/b/c/g?y/./x"),
        ];
        for (reference, want) in cases {
            assert_eq!(
                resolve_location(base, reference).unwrap(),
                want,
                "{reference}"
            );
        }
    }

    #[test]
    fn a_location_that_is_no_url_is_refused() {
        assert_eq!(resolve_location("http://h/", "http://[::1"), None);
        assert_eq!(resolve_location("not a base", "/x"), None);
    }
}
