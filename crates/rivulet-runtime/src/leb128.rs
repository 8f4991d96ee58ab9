//! Unsigned LEB128 varints: seven bits a byte, least significant first,
//! the top bit set on every byte but the last. Snappy's stream length,
//! parquet's thrift headers and RLE runs, stored rows' integers and
//! strings, a Top-N's kept pairs and row keys all use this one encoding.

/// How many bytes `value` takes.
pub(crate) fn len(value: u64) -> usize {
    // One byte for zero.
    (u64::BITS - value.leading_zeros()).max(1).div_ceil(7) as usize
}

/// Writes `value` at the start of `out` (at least [`len`] of it long);
/// how many bytes it took.
pub(crate) fn write(out: &mut [u8], mut value: u64) -> usize {
    let mut at = 0;
    while value >= 0x80 {
        out[at] = (value as u8) | 0x80;
        value >>= 7;
        at += 1;
    }
    out[at] = value as u8;
    at + 1
}

/// Appends `value` to `out`.
pub(crate) fn push(out: &mut Vec<u8>, mut value: u64) {
    // Byte by byte: a copy of a few bytes would be a call to memcpy.
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Why [`read`] found no varint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// The bytes end before its last byte.
    CutShort,
    /// It goes on past what a `u64` holds.
    TooLong,
}

/// The varint at `bytes[*at..]`, moving `at` past it.
#[inline]
pub(crate) fn read(bytes: &[u8], at: &mut usize) -> Result<u64, ReadError> {
    // Most varints are one byte: lengths of short strings, small numbers.
    if let Some(&byte) = bytes.get(*at).filter(|byte| **byte < 0x80) {
        *at += 1;
        return Ok(u64::from(byte));
    }
    read_longer(bytes, at)
}

/// The bytes at `bytes[*at..]` after their length (a varint), moving `at`
/// past them; `None`, leaving `at`, when they are not there. Stored rows'
/// lists and a Top-N's kept pairs are such parts one after another.
#[inline]
pub(crate) fn read_prefixed<'a>(bytes: &'a [u8], at: &mut usize) -> Option<&'a [u8]> {
    let mut next = *at;
    let length = usize::try_from(read(bytes, &mut next).ok()?).ok()?;
    let part = bytes.get(next..next.checked_add(length)?)?;
    *at = next + length;
    Some(part)
}

fn read_longer(bytes: &[u8], at: &mut usize) -> Result<u64, ReadError> {
    // Up to eight bytes from one little-endian word: the first byte
    // without its top bit ends the varint, and the 7-bit groups below
    // it are packed together in three steps.
    if let Some(word) = bytes.get(*at..*at + 8) {
        let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
        let ends = !word & 0x8080_8080_8080_8080;
        if ends != 0 {
            let bytes_taken = ends.trailing_zeros() / 8 + 1;
            let kept = match bytes_taken {
                8 => word,
                _ => word & ((1 << (8 * bytes_taken)) - 1),
            };
            let mut value = kept & 0x7f7f_7f7f_7f7f_7f7f;
            value = (value & 0x007f_007f_007f_007f) | ((value & 0x7f00_7f00_7f00_7f00) >> 1);
            value = (value & 0x0000_3fff_0000_3fff) | ((value & 0x3fff_0000_3fff_0000) >> 2);
            value = (value & 0x0000_0000_0fff_ffff) | ((value & 0x0fff_ffff_0000_0000) >> 4);
            *at += bytes_taken as usize;
            return Ok(value);
        }
    }
    let mut value = 0u64;
    for shift in (0..u64::BITS).step_by(7) {
        let byte = *bytes.get(*at).ok_or(ReadError::CutShort)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(ReadError::TooLong)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The most bytes a `u64` takes.
    const MAX_LEN: usize = 10;

    #[test]
    fn values_take_the_bytes_they_are_written_in_and_read_back() {
        let mut out = [0u8; MAX_LEN];
        for value in [
            0,
            1,
            0x7f,
            0x80,
            0x3fff,
            0x4000,
            65_536,
            1 << 55,
            (1 << 56) - 1,
            1 << 56,
            1_700_000_000_000,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let written = write(&mut out, value);
            assert_eq!(len(value), written, "{value}");
            let mut at = 0;
            assert_eq!(read(&out, &mut at), Ok(value));
            assert_eq!(at, written);
            // Also where fewer than eight bytes are left, and after others.
            let mut at = 0;
            assert_eq!(read(&out[..written], &mut at), Ok(value));
            assert_eq!(at, written);
            let mut padded = vec![5, 9];
            padded.extend_from_slice(&out[..written]);
            padded.extend_from_slice(&[0xff; 9]);
            let mut at = 2;
            assert_eq!(read(&padded, &mut at), Ok(value));
            assert_eq!(at, 2 + written);
            let mut pushed = vec![7];
            push(&mut pushed, value);
            assert_eq!(pushed[1..], out[..written]);
        }
        let mut at = 0;
        assert_eq!(read(&[0x80, 0x80], &mut at), Err(ReadError::CutShort));
        let mut at = 0;
        assert_eq!(read(&[0xff; 11], &mut at), Err(ReadError::TooLong));
        let prefixed = [9, 2, b'a', b'b', 0, 3, b'c'];
        let mut at = 1;
        assert_eq!(read_prefixed(&prefixed, &mut at), Some(&b"ab"[..]));
        assert_eq!(read_prefixed(&prefixed, &mut at), Some(&b""[..]));
        assert_eq!((read_prefixed(&prefixed, &mut at), at), (None, 5));
        let mut three_hundred = Vec::new();
        push(&mut three_hundred, 300);
        assert_eq!(three_hundred, [0xAC, 0x02]);
    }
}
