//! git's delta format (as in packs and `GIT binary patch` `delta` hunks): two varint
//! sizes, then copy-from-base and insert-literal instructions.

use super::MAX_CONTENT_SIZE;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum DeltaError {
    #[error("delta header is truncated")]
    Truncated,
    #[error("delta expects a {expected}-byte original, the file has {actual} bytes")]
    BaseSize { expected: u64, actual: usize },
    #[error("delta result of {0} bytes exceeds the size limit")]
    TooLarge(u64),
    #[error("delta copies outside the original")]
    CopyOutOfBounds,
    #[error("delta instruction goes past its end")]
    InsertOutOfBounds,
    #[error("delta produces more than its stated size")]
    Overrun,
    #[error("delta produces less than its stated size")]
    Underrun,
    #[error("delta uses reserved opcode 0")]
    ReservedOpcode,
}

/// Reads a little-endian base-128 size; None on truncation or more than 64 bits.
fn read_size(data: &[u8], pos: &mut usize) -> Option<u64> {
    let mut size: u64 = 0;
    let mut shift = 0u32;
    loop {
        let byte = *data.get(*pos)?;
        *pos += 1;
        if shift >= 64 {
            return None;
        }
        size |= u64::from(byte & 0x7f).checked_shl(shift)?;
        shift += 7;
        if byte & 0x80 == 0 {
            return Some(size);
        }
    }
}

pub(crate) fn apply(base: &[u8], delta: &[u8]) -> Result<Vec<u8>, DeltaError> {
    let mut pos = 0;
    let base_size = read_size(delta, &mut pos).ok_or(DeltaError::Truncated)?;
    if base_size != base.len() as u64 {
        return Err(DeltaError::BaseSize {
            expected: base_size,
            actual: base.len(),
        });
    }
    let result_size = read_size(delta, &mut pos).ok_or(DeltaError::Truncated)?;
    let result_size = usize::try_from(result_size)
        .ok()
        .filter(|&s| s <= MAX_CONTENT_SIZE)
        .ok_or(DeltaError::TooLarge(result_size))?;
    // Reserve only what the actual data can justify; the claim alone is not trusted.
    let mut out = Vec::with_capacity(result_size.min(base.len().saturating_add(delta.len())));
    while let Some(&cmd) = delta.get(pos) {
        pos += 1;
        let piece = if cmd & 0x80 != 0 {
            let (offset, size) = read_copy_args(cmd, delta, &mut pos)?;
            let end = offset
                .checked_add(size)
                .ok_or(DeltaError::CopyOutOfBounds)?;
            base.get(offset..end).ok_or(DeltaError::CopyOutOfBounds)?
        } else if cmd != 0 {
            let end = pos + usize::from(cmd);
            let literal = delta.get(pos..end).ok_or(DeltaError::InsertOutOfBounds)?;
            pos = end;
            literal
        } else {
            return Err(DeltaError::ReservedOpcode);
        };
        if piece.len() > result_size - out.len() {
            return Err(DeltaError::Overrun);
        }
        out.extend_from_slice(piece);
    }
    if out.len() != result_size {
        return Err(DeltaError::Underrun);
    }
    Ok(out)
}

/// Offset and size of a copy instruction: bits 0-3 of `cmd` select offset bytes, bits
/// 4-6 size bytes; a size of 0 means 0x10000.
fn read_copy_args(cmd: u8, delta: &[u8], pos: &mut usize) -> Result<(usize, usize), DeltaError> {
    let mut value = [0usize; 2];
    for bit in 0..7 {
        if cmd & (1 << bit) == 0 {
            continue;
        }
        let byte = *delta.get(*pos).ok_or(DeltaError::InsertOutOfBounds)?;
        *pos += 1;
        let (slot, shift) = if bit < 4 {
            (0, bit * 8)
        } else {
            (1, (bit - 4) * 8)
        };
        value[slot] |= usize::from(byte) << shift;
    }
    let size = if value[1] == 0 { 0x10000 } else { value[1] };
    Ok((value[0], size))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut n: u64, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    fn header(base: u64, result: u64) -> Vec<u8> {
        let mut d = Vec::new();
        varint(base, &mut d);
        varint(result, &mut d);
        d
    }

    #[test]
    fn copies_and_inserts() {
        let base = b"hello, world";
        let mut d = header(12, 11);
        d.extend_from_slice(&[0x90, 5]); // copy offset 0 size 5
        d.extend_from_slice(&[2, b' ', b'w']); // insert " w"
        d.extend_from_slice(&[0x91, 8, 4]); // copy offset 8 size 4 -> "orld"
        assert_eq!(apply(base, &d).unwrap(), b"hello world");
    }

    #[test]
    fn copy_size_zero_means_64k() {
        let base = vec![7u8; 0x10000];
        let mut d = header(0x10000, 0x10000);
        d.push(0x80);
        assert_eq!(apply(&base, &d).unwrap(), base);
    }

    #[test]
    fn rejects_bad_deltas() {
        let base = b"abc";
        assert_eq!(
            apply(base, &header(4, 1)),
            Err(DeltaError::BaseSize {
                expected: 4,
                actual: 3
            })
        );
        assert_eq!(apply(base, &[3]), Err(DeltaError::Truncated));
        assert_eq!(
            apply(base, &header(3, 4 << 30)),
            Err(DeltaError::TooLarge(4 << 30))
        );
        let mut d = header(3, 2);
        d.extend_from_slice(&[0x91, 2, 2]);
        assert_eq!(apply(base, &d), Err(DeltaError::CopyOutOfBounds));
        let mut d = header(3, 2);
        d.extend_from_slice(&[5, b'x']);
        assert_eq!(apply(base, &d), Err(DeltaError::InsertOutOfBounds));
        let mut d = header(3, 1);
        d.extend_from_slice(&[2, b'x', b'y']);
        assert_eq!(apply(base, &d), Err(DeltaError::Overrun));
        let mut d = header(3, 3);
        d.extend_from_slice(&[1, b'x']);
        assert_eq!(apply(base, &d), Err(DeltaError::Underrun));
        let mut d = header(3, 3);
        d.push(0);
        assert_eq!(apply(base, &d), Err(DeltaError::ReservedOpcode));
        let mut huge = vec![0xffu8; 11];
        huge.push(1);
        assert_eq!(apply(base, &huge), Err(DeltaError::Truncated));
        let mut d = header(3, 0);
        d.extend_from_slice(&[0x9f, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(apply(base, &d), Err(DeltaError::CopyOutOfBounds));
    }
}
