//! Unsigned LEB128 varints: seven bits a byte, least significant first,
//! the top bit set on every byte but the last. Snappy's stream length,
//! parquet's thrift headers and RLE runs, stored rows' string lengths and
//! row keys all use this one encoding.

/// The most bytes a `u64` takes.
pub(crate) const MAX_LEN: usize = 10;

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
pub(crate) fn push(out: &mut Vec<u8>, value: u64) {
    let mut bytes = [0u8; MAX_LEN];
    let written = write(&mut bytes, value);
    out.extend_from_slice(&bytes[..written]);
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
pub(crate) fn read(bytes: &[u8], at: &mut usize) -> Result<u64, ReadError> {
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
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let written = write(&mut out, value);
            assert_eq!(len(value), written, "{value}");
            let mut at = 0;
            assert_eq!(read(&out, &mut at), Ok(value));
            assert_eq!(at, written);
            let mut pushed = vec![7];
            push(&mut pushed, value);
            assert_eq!(pushed[1..], out[..written]);
        }
        let mut at = 0;
        assert_eq!(read(&[0x80, 0x80], &mut at), Err(ReadError::CutShort));
        let mut at = 0;
        assert_eq!(read(&[0xff; 11], &mut at), Err(ReadError::TooLong));
        let mut three_hundred = Vec::new();
        push(&mut three_hundred, 300);
        assert_eq!(three_hundred, [0xAC, 0x02]);
    }
}
