//! git's base85 (the alphabet of `GIT binary patch` lines; not Ascii85).

const ALPHABET: &[u8; 85] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~";

/// Value + 1 of each character (0 = not in the alphabet), built at compile time so
/// decoding large binary patches stays one table lookup per character.
const DECODE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        table[ALPHABET[i] as usize] = i as u8 + 1;
        i += 1;
    }
    table
};

fn digit_value(c: u8) -> Option<u32> {
    DECODE[usize::from(c)].checked_sub(1).map(u32::from)
}

/// Why base85 text does not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Base85Error {
    #[error("base85 line length does not match its byte count")]
    Length,
    #[error("invalid base85 character")]
    Character,
    #[error("base85 group overflows 32 bits")]
    Overflow,
}

/// Decodes `len` bytes from `text`, which must hold exactly `ceil(len / 4) * 5`
/// characters (callers check the line shape first).
pub(crate) fn decode(text: &[u8], len: usize) -> Result<Vec<u8>, Base85Error> {
    if text.len() != len.div_ceil(4) * 5 {
        return Err(Base85Error::Length);
    }
    let mut out = Vec::with_capacity(len);
    for group in text.chunks_exact(5) {
        let mut acc: u64 = 0;
        for &c in group {
            acc = acc * 85 + u64::from(digit_value(c).ok_or(Base85Error::Character)?);
        }
        let word = u32::try_from(acc).map_err(|_| Base85Error::Overflow)?;
        let take = (len - out.len()).min(4);
        out.extend_from_slice(&word.to_be_bytes()[..take]);
    }
    Ok(out)
}

/// Encodes as git does (used by tests to build binary hunks).
#[cfg(test)]
pub(crate) fn encode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in data.chunks(4) {
        let mut word = [0u8; 4];
        word[..chunk.len()].copy_from_slice(chunk);
        let mut acc = u32::from_be_bytes(word);
        let mut group = [0u8; 5];
        for slot in group.iter_mut().rev() {
            *slot = ALPHABET[(acc % 85) as usize];
            acc /= 85;
        }
        out.extend_from_slice(&group);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_all_lengths() {
        let data: Vec<u8> = (0..=255u8).collect();
        for len in 0..40 {
            let encoded = encode(&data[..len]);
            assert_eq!(decode(&encoded, len).unwrap(), &data[..len]);
        }
        assert_eq!(decode(&encode(&[0xff; 4]), 4).unwrap(), vec![0xff; 4]);
    }

    #[test]
    fn rejects_bad_input() {
        assert!(decode(b"0000", 4).is_err());
        assert!(decode(b"0000\"", 4).is_err());
        // "|NsC0" is above 2^32 - 1.
        assert!(decode(b"~~~~~", 4).is_err());
    }
}
