//! Message-id -> mbox bytes, from the configured sources in order.
//!
//! Every source is tried until one gives a non-empty mbox; each failure is kept, so
//! that the caller can say what was skipped and why, and so that the final error, when
//! nothing worked, names every URL or path tried. A server error or timeout at one
//! source does not stop the search: another archive may well have the thread.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::http::{encode_component, maybe_gunzip, GzipError, HttpClient, HttpError};
use crate::input::msgid::MessageId;

/// Where an mbox may come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A Patchew server's web mbox, `{server}/{project}/{msgid}/mbox`: the patches
    /// only, with collected trailers; 404 while the series is incomplete.
    Patchew {
        server: String,
        project: String,
    },
    /// A public-inbox archive (e.g. `https://lore.kernel.org/qemu-devel`): the whole
    /// thread, `{url}/{msgid}/t.mbox.gz`.
    Inbox {
        url: String,
    },
    /// A local mbox, gzipped or not.
    File(PathBuf),
    Stdin,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Patchew { server, project } => write!(f, "Patchew {server} ({project})"),
            Source::Inbox { url } => write!(f, "public-inbox {url}"),
            Source::File(path) => write!(f, "file {}", path.display()),
            Source::Stdin => f.write_str("standard input"),
        }
    }
}

/// An mbox and where it came from.
#[derive(Debug)]
pub struct Fetched {
    pub mbox: Vec<u8>,
    /// The URL or path that gave it.
    pub origin: String,
    /// The sources tried before, and why they gave nothing (worth a warning).
    pub skipped: Vec<SourceFailure>,
}

/// Why one source gave nothing.
#[derive(Debug, thiserror::Error)]
pub enum SourceFailure {
    #[error("not found at {url}")]
    NotFound { url: String },
    #[error(transparent)]
    Http(HttpError),
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{origin}: {source}")]
    Gzip { origin: String, source: GzipError },
    #[error("{origin} is larger than {limit} bytes")]
    TooLarge { origin: String, limit: u64 },
    #[error("{origin} is empty")]
    Empty { origin: String },
    #[error("{source_name}: no message-id to look up")]
    NoMessageId { source_name: String },
    /// Named in `patchew.sources` but missing its keys: never asked.
    #[error("{source_name}: not asked, {missing} not set")]
    Unconfigured {
        source_name: String,
        missing: String,
    },
}

/// Nothing worked: every failure, in the order the sources were tried.
#[derive(Debug, thiserror::Error)]
#[error("no mbox found{}{}", msgid.as_ref().map(|m| format!(" for <{m}>")).unwrap_or_default(), list_failures(tried))]
pub struct SourceError {
    pub msgid: Option<String>,
    pub tried: Vec<SourceFailure>,
}

impl SourceError {
    /// A server failed or could not be reached (rather than answering "not here").
    pub fn server_failed(&self) -> bool {
        self.tried
            .iter()
            .any(|f| matches!(f, SourceFailure::Http(_)))
    }

    /// Every source was asked and none has the series.
    pub fn found_nowhere(&self) -> bool {
        !self.tried.is_empty()
            && self.tried.iter().all(|f| {
                matches!(
                    f,
                    SourceFailure::NotFound { .. }
                        | SourceFailure::NoMessageId { .. }
                        | SourceFailure::Unconfigured { .. }
                )
            })
    }
}

fn list_failures(tried: &[SourceFailure]) -> String {
    match tried {
        [] => return ": no source configured".into(),
        [only] => return format!(": {only}"),
        _ => {}
    }
    tried.iter().map(|f| format!("\n  - {f}")).collect()
}

/// `{server}/{project}/{msgid}/mbox`, with the id in Patchew's stored form.
pub fn patchew_mbox_url(server: &str, project: &str, msgid: &MessageId) -> String {
    format!(
        "{}/{}/{}/mbox",
        server.trim_end_matches('/'),
        encode_component(project),
        encode_component(&msgid.patchew_stored())
    )
}

/// `{inbox}/{msgid}/t.mbox.gz`: the whole thread, gzipped.
pub fn inbox_thread_url(inbox: &str, msgid: &MessageId) -> String {
    format!(
        "{}/{}/t.mbox.gz",
        inbox.trim_end_matches('/'),
        encode_component(msgid.as_str())
    )
}

/// The first mbox any of `sources` has for `msgid`, reading standard input for
/// [`Source::Stdin`].
pub fn fetch_mbox(
    msgid: Option<&MessageId>,
    sources: &[Source],
    http: &HttpClient,
) -> Result<Fetched, SourceError> {
    fetch_mbox_with(msgid, sources, http, &mut std::io::stdin().lock())
}

/// [`fetch_mbox`] with standard input given, for tests and embedding.
pub fn fetch_mbox_with(
    msgid: Option<&MessageId>,
    sources: &[Source],
    http: &HttpClient,
    stdin: &mut dyn Read,
) -> Result<Fetched, SourceError> {
    let limit = http.config().max_body;
    let mut skipped = Vec::new();
    for source in sources {
        let (origin, result) = match (source, msgid) {
            (Source::Patchew { .. } | Source::Inbox { .. }, None) => {
                skipped.push(SourceFailure::NoMessageId {
                    source_name: source.to_string(),
                });
                continue;
            }
            (Source::Patchew { server, project }, Some(msgid)) => {
                from_url(http, patchew_mbox_url(server, project, msgid))
            }
            (Source::Inbox { url }, Some(msgid)) => from_url(http, inbox_thread_url(url, msgid)),
            (Source::File(path), _) => (path.display().to_string(), from_file(path, limit)),
            (Source::Stdin, _) => (
                "standard input".to_owned(),
                from_reader(stdin, "standard input", limit),
            ),
        };
        match result.and_then(|mbox| non_empty(mbox, &origin)) {
            Ok(mbox) => {
                return Ok(Fetched {
                    mbox,
                    origin,
                    skipped,
                })
            }
            Err(failure) => skipped.push(failure),
        }
    }
    Err(SourceError {
        msgid: msgid.map(MessageId::to_string),
        tried: skipped,
    })
}

fn from_url(http: &HttpClient, url: String) -> (String, Result<Vec<u8>, SourceFailure>) {
    let result = http.get_maybe_gzipped(&url).map_err(|e| {
        if e.is_not_found() {
            SourceFailure::NotFound { url: e.url.clone() }
        } else {
            SourceFailure::Http(e)
        }
    });
    (crate::http::redact_url(&url), result)
}

fn from_file(path: &Path, limit: u64) -> Result<Vec<u8>, SourceFailure> {
    let read_error = |source| SourceFailure::Read {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(read_error)?;
    from_reader(&mut file, &path.display().to_string(), limit).map_err(|e| match e {
        SourceFailure::Read { source, .. } => read_error(source),
        other => other,
    })
}

/// Reads at most `limit` bytes, then gunzips (sniffing the magic number, so both
/// `x.mbox.gz` and a gzipped pipe work) within the same limit.
fn from_reader(reader: &mut dyn Read, origin: &str, limit: u64) -> Result<Vec<u8>, SourceFailure> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| SourceFailure::Read {
            path: PathBuf::from(origin),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(SourceFailure::TooLarge {
            origin: origin.to_owned(),
            limit,
        });
    }
    maybe_gunzip(bytes, limit).map_err(|source| SourceFailure::Gzip {
        origin: origin.to_owned(),
        source,
    })
}

fn non_empty(mbox: Vec<u8>, origin: &str) -> Result<Vec<u8>, SourceFailure> {
    if mbox.iter().all(u8::is_ascii_whitespace) {
        return Err(SourceFailure::Empty {
            origin: origin.to_owned(),
        });
    }
    Ok(mbox)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn id(s: &str) -> MessageId {
        MessageId::parse(s).unwrap()
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn urls_keep_hostile_ids_in_one_segment() {
        let msgid = id("<a_b/c?d#e%f@x.org>");
        assert_eq!(
            patchew_mbox_url("https://patchew.org/", "QEMU", &msgid),
            "https://patchew.org/QEMU/a._5Fb._2Fc%3Fd%23e%25f@x.org/mbox"
        );
        assert_eq!(
            inbox_thread_url("https://lore.kernel.org/qemu-devel/", &msgid),
            "https://lore.kernel.org/qemu-devel/a_b%2Fc%3Fd%23e%25f@x.org/t.mbox.gz"
        );
    }

    #[test]
    fn files_plain_and_gzipped() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("s.mbox");
        let packed = dir.path().join("s.mbox.gz");
        std::fs::write(&plain, b"From x\n").unwrap();
        std::fs::write(&packed, gzip(b"From y\n")).unwrap();
        let http = HttpClient::default();
        let get = |p: &Path| {
            fetch_mbox_with(
                Some(&id("m@x")),
                &[Source::File(p.into())],
                &http,
                &mut std::io::empty(),
            )
        };
        assert_eq!(get(&plain).unwrap().mbox, b"From x\n");
        assert_eq!(get(&packed).unwrap().mbox, b"From y\n");
    }

    #[test]
    fn missing_and_empty_fall_through_to_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.mbox");
        std::fs::write(&empty, b"\n").unwrap();
        let sources = [
            Source::File(dir.path().join("absent.mbox")),
            Source::File(empty.clone()),
            Source::Stdin,
        ];
        let mut stdin = &b"From z\n"[..];
        let got = fetch_mbox_with(
            Some(&id("m@x")),
            &sources,
            &HttpClient::default(),
            &mut stdin,
        )
        .unwrap();
        assert_eq!(got.mbox, b"From z\n");
        assert_eq!(got.origin, "standard input");
        assert_eq!(got.skipped.len(), 2);
        assert!(got.skipped[1].to_string().contains("empty.mbox is empty"));
    }

    #[test]
    fn nothing_found_lists_every_attempt() {
        let dir = tempfile::tempdir().unwrap();
        let sources = [Source::File(dir.path().join("a")), Source::Stdin];
        let err = fetch_mbox_with(
            Some(&id("m@x")),
            &sources,
            &HttpClient::default(),
            &mut std::io::empty(),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("no mbox found for <m@x>\n  - cannot read "),
            "{text}"
        );
        assert!(text.contains("\n  - standard input is empty"), "{text}");
        let none = fetch_mbox_with(
            Some(&id("m@x")),
            &[],
            &HttpClient::default(),
            &mut std::io::empty(),
        );
        assert!(none
            .unwrap_err()
            .to_string()
            .contains("no source configured"));
    }

    #[test]
    fn oversized_input_is_refused() {
        let http = HttpClient::new(crate::http::HttpConfig {
            max_body: 100,
            ..Default::default()
        });
        let mut big = &[b'x'; 101][..];
        let err = fetch_mbox_with(Some(&id("m@x")), &[Source::Stdin], &http, &mut big).unwrap_err();
        assert!(matches!(
            err.tried[0],
            SourceFailure::TooLarge { limit: 100, .. }
        ));
        let mut bomb = &gzip(&[0u8; 4096])[..];
        let err =
            fetch_mbox_with(Some(&id("m@x")), &[Source::Stdin], &http, &mut bomb).unwrap_err();
        assert!(err.to_string().contains("zip bomb"), "{err}");
    }
}
