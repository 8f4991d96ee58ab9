//! Byte searches eight bytes at a time in a `u64` ("SIMD within a
//! register"), for the short runs between a text format's separators,
//! where setting up a vector search (`memchr`) costs more than it saves.

const LOW_SEVEN: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// `byte` in every byte of a word.
pub const fn broadcast(byte: u8) -> u64 {
    0x0101_0101_0101_0101 * byte as u64
}

/// The high bit set in exactly the bytes of `word` that are zero.
pub const fn zero_bytes(word: u64) -> u64 {
    !(((word & LOW_SEVEN).wrapping_add(LOW_SEVEN)) | word | LOW_SEVEN)
}

/// Bytes of `word` equal to the byte `pattern` broadcasts.
pub const fn equal_bytes(word: u64, pattern: u64) -> u64 {
    zero_bytes(word ^ pattern)
}

/// The index of the lowest byte flagged in `mask` (one of [`zero_bytes`]'
/// results), if any.
pub const fn first_flagged(mask: u64) -> Option<usize> {
    if mask == 0 {
        None
    } else {
        Some((mask.trailing_zeros() / 8) as usize)
    }
}

/// How many of `word`'s bytes, from the first, are ASCII digits, and the
/// number they write (0 when there are none). Lines hold many short
/// numbers; reading one this way costs a few multiplications instead of a
/// branch per digit.
pub const fn leading_digits(word: u64) -> (usize, u64) {
    // Digits become 0–9; every other byte becomes 10 or more.
    let values = word ^ broadcast(b'0');
    // Adding 0x76 sets the high bit of a byte of 10 to 0x7f; bytes of 0x80
    // and up have it already. A carry out of a byte only reaches later
    // bytes, past the first that is not a digit.
    let not_digits = (values.wrapping_add(broadcast(0x76)) | values) & broadcast(0x80);
    let count = (not_digits.trailing_zeros() / 8) as usize;
    if count == 0 {
        return (0, 0);
    }
    // The digits moved to the top, zeros (leading zeros) below them.
    let digits = values << (8 * (8 - count));
    // Pairs, then fours, then all eight, the first byte the most significant.
    let pairs = (digits * 10 + (digits >> 8)) & 0x00ff_00ff_00ff_00ff;
    let fours = (pairs * 100 + (pairs >> 16)) & 0x0000_ffff_0000_ffff;
    let eight = (fours * 10_000 + (fours >> 32)) & 0xffff_ffff;
    (count, eight)
}

/// The word of the eight bytes at the start of `bytes`, if it has eight.
pub fn word_at(bytes: &[u8]) -> Option<u64> {
    bytes
        .first_chunk::<8>()
        .map(|chunk| u64::from_le_bytes(*chunk))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_digits_read_as_the_text_says() {
        let cases: &[(&[u8; 8], usize, u64)] = &[
            (b"12345678", 8, 12_345_678),
            (b"1000,\"bi", 4, 1000),
            (b"0}......", 1, 0),
            (b"x1234567", 0, 0),
            (b"9999999:", 7, 9_999_999),
            (b"00000012", 8, 12),
            (b"7\xff\xff\xff\xff\xff\xff\xff", 1, 7),
            (b"12/:0000", 2, 12),
        ];
        for &(text, count, value) in cases {
            let word = u64::from_le_bytes(*text);
            assert_eq!(leading_digits(word), (count, value), "{text:?}");
        }
        // Every byte after one digit.
        for byte in 0..=255u8 {
            let word = u64::from_le_bytes([b'5', byte, b'x', b'x', b'x', b'x', b'x', b'x']);
            let expected = if byte.is_ascii_digit() {
                (2, 50 + u64::from(byte - b'0'))
            } else {
                (1, 5)
            };
            assert_eq!(leading_digits(word), expected, "{byte:#x}");
        }
    }

    #[test]
    fn every_byte_is_classified_exactly() {
        for byte in 0..=255u8 {
            for position in 0..8 {
                let mut bytes = [b'a'; 8];
                bytes[position] = byte;
                let word = u64::from_le_bytes(bytes);
                let expect = |hit: bool| if hit { Some(position) } else { None };
                assert_eq!(first_flagged(zero_bytes(word)), expect(byte == 0));
                let quote = equal_bytes(word, broadcast(b'"'));
                assert_eq!(first_flagged(quote), expect(byte == b'"'));
                // Exact in every byte, not only the first.
                assert_eq!(quote.count_ones(), u32::from(byte == b'"'));
            }
        }
    }
}
