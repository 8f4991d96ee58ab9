//! Where the plain run of a JSON string ends: its closing quote, an escape,
//! or a raw control character (which JSON does not allow there). Strings are most
//! of a JSON line's bytes (a Nexmark bid's URL and extra field alone are
//! 160 of its 330), so they are searched sixteen bytes at a time with one
//! vector comparison per kind of stop: SSE2, which every x86_64 has, or a
//! portable loop elsewhere.

/// The offset of the first stop in `bytes`, if there is one.
pub fn first_stop(bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    while let Some(chunk) = bytes.get(at..at + 16).and_then(|c| c.first_chunk::<16>()) {
        let stops = stops16(chunk);
        if stops != 0 {
            return Some(at + stops.trailing_zeros() as usize);
        }
        at += 16;
    }
    let rest = bytes.get(at..)?;
    rest.iter()
        .position(|&b| is_stop(b))
        .map(|offset| at + offset)
}

fn is_stop(byte: u8) -> bool {
    byte == b'"' || byte == b'\\' || byte < 0x20
}

/// The stops among `chunk`'s bytes as bits, the first byte lowest.
#[cfg(target_arch = "x86_64")]
#[inline]
fn stops16(chunk: &[u8; 16]) -> u32 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    // SAFETY: the load reads the sixteen bytes of `chunk` and needs no
    // alignment; SSE2, which the rest need, is part of every x86_64 target.
    unsafe {
        let bytes = _mm_loadu_si128(chunk.as_ptr().cast());
        let quotes = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'"' as i8));
        let escapes = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'\\' as i8));
        // A byte below 0x20 is its own minimum with 0x1f.
        let controls = _mm_cmpeq_epi8(_mm_min_epu8(bytes, _mm_set1_epi8(0x1f)), bytes);
        let stops = _mm_or_si128(_mm_or_si128(quotes, escapes), controls);
        _mm_movemask_epi8(stops) as u32
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn stops16(chunk: &[u8; 16]) -> u32 {
    chunk
        .iter()
        .enumerate()
        .fold(0, |stops, (i, &b)| stops | (u32::from(is_stop(b)) << i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stop_is_found_at_every_place_and_length() {
        for length in 0..48 {
            for place in 0..=length {
                for stop in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                    let mut bytes = vec![b'a'; length];
                    // Bytes that stop nothing, around the one that might.
                    for (i, b) in bytes.iter_mut().enumerate() {
                        *b = [b'a', 0x20, 0x7f, 0xc3, b'/', b'!'][i % 6];
                    }
                    if place < length {
                        bytes[place] = stop;
                    }
                    let expected = bytes
                        .iter()
                        .position(|&b| matches!(b, b'"' | b'\\' | 0x00..=0x1f));
                    assert_eq!(first_stop(&bytes), expected, "{length} {place} {stop:#x}");
                }
            }
        }
    }
}
