//! Strings of a small alphabet, stored in fewer bits a byte: the code for
//! the stored strings of a column whose values rarely repeat.
//!
//! Such strings gain nothing from a dictionary, and short ones little from
//! LZ-style compression, which finds its repeats within one value. What
//! many still have is a small alphabet: letters, digits, a few marks.
//! A Nexmark bid's `extra` string is 67 lower-case letters on average; in
//! 5 bits a byte it takes 42 bytes.
//!
//! The alphabet is the bytes of a column's first values, if there are at
//! most 128 of them; a value with a byte outside it is not coded. Each
//! byte is its index in the alphabet, in as few bits as the alphabet
//! needs, least significant first. Every value is coded on its own, so one
//! stored row reads back without its neighbours, and decoding has no chain
//! from one byte to the next (as a Huffman code has): eight bytes come out
//! of one word.

/// What `codes` holds for a byte outside the alphabet (the only code with
/// its top bit set).
const OUTSIDE: u8 = u8::MAX;

/// The most bytes an alphabet has.
const MAX_ALPHABET: usize = 128;

#[derive(Debug)]
pub(super) struct AlphabetCode {
    /// The bits of one byte's code (1 to 7).
    width: u32,
    /// Each byte's code, [`OUTSIDE`] for bytes not in the alphabet.
    codes: [u8; 256],
    /// The byte of each code.
    bytes: [u8; MAX_ALPHABET],
}

impl AlphabetCode {
    /// The code of the bytes found in `sample`; `None` when there are more
    /// than 128 of them, as then one would save at most a bit a byte.
    pub(super) fn of_sample(sample: &[u8]) -> Option<AlphabetCode> {
        let mut seen = [false; 256];
        for byte in sample {
            seen[usize::from(*byte)] = true;
        }
        let mut codes = [OUTSIDE; 256];
        let mut bytes = [0u8; MAX_ALPHABET];
        let mut size = 0;
        for (byte, _) in seen.iter().enumerate().filter(|(_, seen)| **seen) {
            *bytes.get_mut(size)? = byte as u8;
            codes[byte] = size as u8;
            size += 1;
        }
        let width = usize::BITS - size.saturating_sub(1).leading_zeros();
        Some(AlphabetCode {
            width: width.max(1),
            codes,
            bytes,
        })
    }

    /// How many bytes a value of `len` bytes takes coded.
    pub(super) fn coded_len(&self, len: usize) -> usize {
        (len * self.width as usize).div_ceil(8)
    }

    /// Appends `value` coded to `out`; `false`, appending nothing, when a
    /// byte of it is outside the alphabet.
    pub(super) fn write(&self, value: &[u8], out: &mut Vec<u8>) -> bool {
        let width = self.width as usize;
        let start = out.len();
        // Each eight bytes' codes make `width` bytes, written as a word
        // whose high bytes the next word overwrites: eight bytes of room.
        out.resize(start + self.coded_len(value.len()) + 8, 0);
        // Every code ORed: only OUTSIDE has the top bit.
        let mut all_codes = 0u8;
        let mut pack = |eight: &[u8], at: usize| {
            let mut bits = 0u64;
            for (index, byte) in eight.iter().enumerate() {
                let code = self.codes[usize::from(*byte)];
                all_codes |= code;
                bits |= u64::from(code) << (index * width);
            }
            out[at..at + 8].copy_from_slice(&bits.to_le_bytes());
        };
        let mut eights = value.chunks_exact(8);
        let mut at = start;
        for eight in &mut eights {
            pack(eight, at);
            at += width;
        }
        pack(eights.remainder(), at);
        if all_codes & 0x80 != 0 {
            out.truncate(start);
            return false;
        }
        out.truncate(start + self.coded_len(value.len()));
        true
    }

    /// Appends the `count` bytes coded at the start of `coded` to `out`;
    /// how many bytes of `coded` they took, `None` if more than it has.
    pub(super) fn read(&self, coded: &[u8], count: usize, out: &mut Vec<u8>) -> Option<usize> {
        // A count from corrupt bytes may be any number: checked, not
        // multiplied past the end of usize.
        let width = self.width as usize;
        let taken = count.checked_mul(width)?.div_ceil(8);
        if coded.len() < taken {
            return None;
        }
        let mask = (1u64 << width) - 1;
        // The codes of eight bytes are `width` whole bytes: each eight come
        // from one word (bits past the value's are loaded, never used).
        let word_at = |at: usize| match coded.get(at..at + 8) {
            Some(word) => u64::from_le_bytes(word.try_into().unwrap_or_default()),
            None => {
                let mut word = [0u8; 8];
                let tail = coded.get(at..).unwrap_or_default();
                let len = tail.len().min(8);
                word[..len].copy_from_slice(&tail[..len]);
                u64::from_le_bytes(word)
            }
        };
        let byte_of = |bits: u64| self.bytes[(bits & mask) as usize & (MAX_ALPHABET - 1)];
        let start = out.len();
        out.resize(start + count, 0);
        let mut eights = out[start..].chunks_exact_mut(8);
        let mut at = 0;
        for eight in &mut eights {
            let bits = word_at(at);
            for (index, slot) in eight.iter_mut().enumerate() {
                *slot = byte_of(bits >> (index * width));
            }
            at += width;
        }
        let bits = word_at(at);
        for (index, slot) in eights.into_remainder().iter_mut().enumerate() {
            *slot = byte_of(bits >> (index * width));
        }
        Some(taken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(code: &AlphabetCode, value: &[u8]) -> usize {
        let mut coded = vec![7u8];
        assert!(code.write(value, &mut coded));
        assert_eq!(coded.len() - 1, code.coded_len(value.len()));
        // Bytes after the value (the row's next columns) are not read.
        coded.extend_from_slice(&[0xff; 3]);
        let mut read = vec![1u8];
        let taken = code.read(&coded[1..], value.len(), &mut read);
        assert_eq!(read[1..], *value);
        assert_eq!(taken, Some(coded.len() - 4));
        taken.unwrap_or_default()
    }

    #[test]
    fn letters_take_five_bits_a_byte() {
        let letters = b"abcdefghijklmnopqrstuvwxyz_";
        let code = AlphabetCode::of_sample(letters).unwrap();
        assert_eq!(code.width, 5);
        let value = b"hjoyubtismifqznbzkhbawbkhfekucdhvodmfsbomsfwbczesrppfjkukjushjboiycp";
        assert_eq!(round_trip(&code, value), (value.len() * 5).div_ceil(8));
        for len in 0..20 {
            round_trip(&code, &letters[..len]);
        }
        // A byte outside the alphabet: not coded, nothing written.
        let mut out = vec![1];
        assert!(!code.write(b"abC", &mut out));
        assert_eq!(out, [1]);
    }

    #[test]
    fn alphabets_take_the_bits_their_size_needs() {
        for (size, width) in [(1, 1), (2, 1), (3, 2), (16, 4), (17, 5), (64, 6), (128, 7)] {
            let sample: Vec<u8> = (0..size as u8).map(|b| b.wrapping_mul(3)).collect();
            let code = AlphabetCode::of_sample(&sample).unwrap();
            assert_eq!(code.width, width, "{size} bytes");
            let value: Vec<u8> = sample.iter().rev().chain(&sample).copied().collect();
            round_trip(&code, &value);
        }
        let every_byte: Vec<u8> = (0..=255).collect();
        assert!(AlphabetCode::of_sample(&every_byte[..129]).is_none());
    }

    #[test]
    fn coded_bytes_cut_short_are_refused() {
        let code = AlphabetCode::of_sample(b"abcd").unwrap();
        let mut coded = Vec::new();
        code.write(b"abcdabcdd", &mut coded);
        assert_eq!(
            code.read(&coded[..coded.len() - 1], 9, &mut Vec::new()),
            None
        );
    }
}
