//! `GIT binary patch` hunks: `literal N` / `delta N` followed by base85 lines of zlib
//! data, ended by an empty line.

use std::io::Read;

use super::base85::{self, Base85Error};
use super::{BinaryData, ParseError, MAX_CONTENT_SIZE};

/// deflate cannot expand data by more than about 1032:1; a claimed size beyond that for
/// the data at hand is a lie we can refuse before inflating anything.
const MAX_DEFLATE_RATIO: usize = 1032;

/// Parses the hunk starting at `lines[start]`. Ok(None) when that line does not start a
/// binary hunk; otherwise the data and the index of the first line after the hunk.
/// `first_line_no` is the 1-based patch line number of `lines[0]`.
pub(crate) fn parse_hunk(
    lines: &[&[u8]],
    start: usize,
    first_line_no: usize,
) -> Result<Option<(BinaryData, usize)>, ParseError> {
    let Some(header) = lines.get(start) else {
        return Ok(None);
    };
    let header = strip_newline(header);
    let (is_delta, size_text) = if let Some(rest) = header.strip_prefix(b"delta ") {
        (true, rest)
    } else if let Some(rest) = header.strip_prefix(b"literal ") {
        (false, rest)
    } else {
        return Ok(None);
    };
    let line_no = |i: usize| first_line_no + i;
    let size = parse_size(size_text)
        .ok_or_else(|| ParseError::at(line_no(start), "binary hunk size is not a number"))?;
    if size > MAX_CONTENT_SIZE {
        return Err(ParseError::at(
            line_no(start),
            format!("binary hunk of {size} bytes exceeds the size limit"),
        ));
    }
    let mut compressed = Vec::new();
    let mut i = start + 1;
    while let Some(line) = lines.get(i) {
        i += 1;
        let text = strip_newline(line);
        if text.is_empty() {
            break;
        }
        decode_line(text, &mut compressed).map_err(|reason| {
            ParseError::at(line_no(i - 1), format!("corrupt binary patch: {reason}"))
        })?;
    }
    let data = inflate_exact(&compressed, size).map_err(|reason| {
        ParseError::at(line_no(start), format!("corrupt binary patch: {reason}"))
    })?;
    let data = if is_delta {
        BinaryData::Delta(data)
    } else {
        BinaryData::Literal(data)
    };
    Ok(Some((data, i)))
}

fn strip_newline(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\n").unwrap_or(line)
}

/// Leading decimal digits, as strtoul reads them; None without digits or on overflow.
fn parse_size(text: &[u8]) -> Option<usize> {
    let digits = text.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    text[..digits].iter().try_fold(0usize, |acc, &d| {
        acc.checked_mul(10)?.checked_add(usize::from(d - b'0'))
    })
}

/// Why a data line of a binary hunk does not decode.
#[derive(Debug, thiserror::Error)]
enum LineError {
    #[error("empty data line")]
    Empty,
    #[error("data line length is not a multiple of 5")]
    Length,
    #[error("bad length character")]
    LengthCharacter,
    #[error("length character does not match the line")]
    LengthMismatch,
    #[error(transparent)]
    Base85(#[from] Base85Error),
}

/// One data line: a length character (`A`-`Z` = 1-26, `a`-`z` = 27-52) then base85.
fn decode_line(text: &[u8], out: &mut Vec<u8>) -> Result<(), LineError> {
    let (&len_char, encoded) = text.split_first().ok_or(LineError::Empty)?;
    if encoded.len() < 5 || encoded.len() % 5 != 0 {
        return Err(LineError::Length);
    }
    let len = match len_char {
        b'A'..=b'Z' => usize::from(len_char - b'A') + 1,
        b'a'..=b'z' => usize::from(len_char - b'a') + 27,
        _ => return Err(LineError::LengthCharacter),
    };
    let capacity = encoded.len() / 5 * 4;
    // The last group may carry 1 to 4 bytes, so the length must land in it.
    if len > capacity || len + 4 <= capacity {
        return Err(LineError::LengthMismatch);
    }
    out.extend_from_slice(&base85::decode(encoded, len)?);
    Ok(())
}

/// Why a binary hunk's zlib data does not give the bytes it claims.
#[derive(Debug, thiserror::Error)]
enum InflateError {
    #[error("claims {size} bytes but holds only {compressed} compressed bytes")]
    TooSmall { size: usize, compressed: usize },
    #[error("zlib data is invalid: {0}")]
    Zlib(#[source] std::io::Error),
    #[error("inflates to {got} bytes, expected {size}")]
    WrongSize { got: usize, size: usize },
}

/// Inflates zlib data that must produce exactly `size` bytes, never holding more than
/// `size + 1` bytes however the stream behaves.
fn inflate_exact(compressed: &[u8], size: usize) -> Result<Vec<u8>, InflateError> {
    let ceiling = compressed
        .len()
        .saturating_mul(MAX_DEFLATE_RATIO)
        .saturating_add(64);
    if size > ceiling {
        return Err(InflateError::TooSmall {
            size,
            compressed: compressed.len(),
        });
    }
    let mut out = Vec::new();
    let limit = u64::try_from(size).unwrap_or(u64::MAX).saturating_add(1);
    flate2::read::ZlibDecoder::new(compressed)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(InflateError::Zlib)?;
    if out.len() != size {
        return Err(InflateError::WrongSize {
            got: out.len(),
            size,
        });
    }
    Ok(out)
}

/// Builds a `literal`/`delta` hunk as git writes it (for tests).
#[cfg(test)]
pub(crate) fn encode_hunk(kind: &str, data: &[u8]) -> String {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(data).unwrap();
    let compressed = z.finish().unwrap();
    let mut out = format!("{kind} {}\n", data.len());
    for chunk in compressed.chunks(52) {
        let len_char = if chunk.len() <= 26 {
            b'A' + chunk.len() as u8 - 1
        } else {
            b'a' + chunk.len() as u8 - 27
        };
        out.push(len_char as char);
        out.push_str(std::str::from_utf8(&base85::encode(chunk)).unwrap());
        out.push('\n');
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<&[u8]> {
        text.as_bytes().split_inclusive(|&c| c == b'\n').collect()
    }

    #[test]
    fn parses_literal() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 % 251) as u8).collect();
        let text = encode_hunk("literal", &data);
        let lines = split(&text);
        let (parsed, next) = parse_hunk(&lines, 0, 1).unwrap().unwrap();
        assert!(matches!(parsed, BinaryData::Literal(ref d) if *d == data));
        assert_eq!(next, lines.len());
    }

    #[test]
    fn parses_git_written_literal() {
        // `git diff --binary` of a file holding "\0\x01\x02" (from git 2.47).
        let lines = split("literal 3\nKcmZQzWC8#H2LJ>B\n\n");
        let (parsed, _) = parse_hunk(&lines, 0, 1).unwrap().unwrap();
        assert!(matches!(parsed, BinaryData::Literal(ref d) if d == &[0, 1, 2]));
    }

    #[test]
    fn not_a_hunk_is_none() {
        assert!(parse_hunk(&split("hello\n"), 0, 1).unwrap().is_none());
        assert!(parse_hunk(&[], 0, 1).unwrap().is_none());
    }

    #[test]
    fn refuses_lying_sizes() {
        let text = encode_hunk("literal", b"abc").replace("literal 3", "literal 1000000000");
        let err = parse_hunk(&split(&text), 0, 10).unwrap_err();
        assert_eq!(err.line(), 10);
        let text = encode_hunk("literal", b"abc").replace("literal 3", "literal 4");
        assert!(parse_hunk(&split(&text), 0, 1).is_err());
        let text = encode_hunk("literal", b"abc").replace("literal 3", "literal 2");
        assert!(parse_hunk(&split(&text), 0, 1).is_err());
        let text =
            encode_hunk("literal", b"abc").replace("literal 3", "literal 99999999999999999999999");
        assert!(parse_hunk(&split(&text), 0, 1).is_err());
    }

    #[test]
    fn refuses_corrupt_lines() {
        assert!(parse_hunk(&split("literal 3\nZcmZQzWC8#H2LJ>B\n\n"), 0, 1).is_err());
        assert!(parse_hunk(&split("literal 3\nKcmZQzWC8#H2LJ>\n\n"), 0, 1).is_err());
        assert!(parse_hunk(&split("literal 3\n\n"), 0, 1).is_err());
        assert!(parse_hunk(&split("literal 3\nK\"mZQzWC8#H2LJ>B\n\n"), 0, 1).is_err());
    }
}
