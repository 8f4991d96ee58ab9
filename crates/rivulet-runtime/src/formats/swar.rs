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

/// The high bit set in exactly the bytes of `word` below 0x20 (control
/// characters).
pub const fn control_bytes(word: u64) -> u64 {
    // A byte is below 0x20 when its top three bits are all zero.
    zero_bytes(word & broadcast(0xe0))
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
    fn every_byte_is_classified_exactly() {
        for byte in 0..=255u8 {
            for position in 0..8 {
                let mut bytes = [b'a'; 8];
                bytes[position] = byte;
                let word = u64::from_le_bytes(bytes);
                let expect = |hit: bool| if hit { Some(position) } else { None };
                assert_eq!(first_flagged(zero_bytes(word)), expect(byte == 0));
                assert_eq!(first_flagged(control_bytes(word)), expect(byte < 0x20));
                let quote = equal_bytes(word, broadcast(b'"'));
                assert_eq!(first_flagged(quote), expect(byte == b'"'));
                // Exact in every byte, not only the first.
                assert_eq!(quote.count_ones(), u32::from(byte == b'"'));
            }
        }
    }
}
