//! Snappy's raw format, written a block at a time so that data that does
//! not compress is stored rather than searched.
//!
//! A snappy stream is the varint of the uncompressed length and then
//! elements, literals and copies; the encoder compresses its input in
//! independent 64 KiB blocks, each with a hash table of its own, and no
//! copy reaches back into an earlier block. So a stream may hold blocks the
//! encoder compressed next to blocks stored as one literal each, and every
//! snappy decoder reads it.
//!
//! Looking for repeats in data that has none costs as much as finding them.
//! In the JSON → parquet benchmark (issue 3, case c) snappy took a sixth of
//! the time, most of it on Nexmark's random `extra` strings, which it
//! shrinks by 1.5%. As LevelDB keeps a block uncompressed when compression
//! saves less than an eighth of it, [`compress`] stores the rest of its
//! input as literals once a block saves less than that. The parquet writer
//! calls it once per page, so every page tries again.

use snap::raw::{Encoder, max_compress_len};

use crate::leb128;

/// The encoder's block: what it compresses with one hash table.
const BLOCK: usize = 1 << 16;

/// The longest a stream's own varint can be (the input is at most 4 GiB).
const MAX_VARINT: usize = 5;

/// The most bytes [`compress`] writes for `len` input bytes.
pub fn max_len(len: usize) -> usize {
    let full = len / BLOCK;
    let rest = len % BLOCK;
    let rest_most = if rest > 0 { max_compress_len(rest) } else { 0 };
    MAX_VARINT + full * max_compress_len(BLOCK) + rest_most
}

/// Whether a block of `input` bytes compressed to `output` bytes saved
/// too little to be worth compressing what follows.
fn saved_too_little(input: usize, output: usize) -> bool {
    output > input - input / 8
}

/// Writes `input` as a snappy stream into `out` (at least [`max_len`] of
/// `input` long); the stream's length.
pub fn compress(encoder: &mut Encoder, input: &[u8], out: &mut [u8]) -> Result<usize, String> {
    let too_big = || format!("{} bytes are too many for snappy", input.len());
    let total = u32::try_from(input.len()).map_err(|_| too_big())?;
    if out.len() < max_len(input.len()) {
        return Err(format!(
            "{} bytes of room for a snappy stream of {} bytes",
            out.len(),
            input.len()
        ));
    }
    let mut at = leb128::write(out, u64::from(total));
    let mut storing = false;
    for block in input.chunks(BLOCK) {
        if storing {
            at += put_literal(&mut out[at..], block);
            continue;
        }
        // The encoder starts its output with the block's own length; it
        // is written over the end of what is there and put back, so the
        // block's elements follow straight on.
        let own = leb128::len(block.len() as u64);
        let mut kept = [0u8; MAX_VARINT];
        kept[..own].copy_from_slice(&out[at - own..at]);
        let written = encoder
            .compress(block, &mut out[at - own..])
            .map_err(|e| e.to_string())?;
        out[at - own..at].copy_from_slice(&kept[..own]);
        let elements = written - own;
        at += elements;
        storing = saved_too_little(block.len(), elements);
    }
    Ok(at)
}

/// Writes `bytes` (at most a block) as one literal element; its length.
fn put_literal(out: &mut [u8], bytes: &[u8]) -> usize {
    // The tag holds the length less one: up to 59 in itself, longer ones
    // in the one or two little-endian bytes after it (tags 60 and 61).
    let stored = bytes.len() - 1;
    let head = if stored < 60 {
        out[0] = (stored as u8) << 2;
        1
    } else if stored < 1 << 8 {
        out[0] = 60 << 2;
        out[1] = stored as u8;
        2
    } else {
        out[0] = 61 << 2;
        out[1..3].copy_from_slice(&(stored as u16).to_le_bytes());
        3
    };
    out[head..head + bytes.len()].copy_from_slice(bytes);
    head + bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(input: &[u8]) -> Vec<u8> {
        let mut out = vec![0; max_len(input.len())];
        let len = compress(&mut Encoder::new(), input, &mut out).unwrap();
        out.truncate(len);
        out
    }

    fn decompressed(stream: &[u8]) -> Vec<u8> {
        snap::raw::Decoder::new().decompress_vec(stream).unwrap()
    }

    /// Bytes from a xorshift generator: nothing for snappy to find.
    fn random(len: usize, mut state: u64) -> Vec<u8> {
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect()
    }

    #[test]
    fn compressible_input_is_what_the_encoder_writes() {
        for len in [
            0,
            1,
            59,
            60,
            61,
            300,
            BLOCK - 1,
            BLOCK,
            BLOCK + 1,
            5 * BLOCK + 17,
        ] {
            let input: Vec<u8> = (0..len).map(|i| (i % 251 / 7) as u8).collect();
            let ours = stream(&input);
            let theirs = Encoder::new().compress_vec(&input).unwrap();
            assert_eq!(ours, theirs, "{len} bytes");
            assert_eq!(decompressed(&ours), input);
        }
    }

    #[test]
    fn incompressible_blocks_are_stored_and_read_back() {
        for len in [1, 59, 60, 61, 256, 257, BLOCK, BLOCK + 1, 3 * BLOCK + 100] {
            let input = random(len, 0x9e37_79b9_7f4a_7c15);
            let ours = stream(&input);
            assert_eq!(decompressed(&ours), input, "{len} bytes");
            // Past the first block, which the encoder tried, each block is
            // one literal: at most three bytes of tag over its length.
            let blocks = len.div_ceil(BLOCK);
            let first = Encoder::new()
                .compress_vec(&input[..len.min(BLOCK)])
                .unwrap();
            let varint = leb128::len(len as u64);
            let first_elements = first.len() - leb128::len(len.min(BLOCK) as u64);
            assert!(
                ours.len() <= varint + first_elements + 3 * (blocks - 1) + (len - len.min(BLOCK)),
                "{len} bytes: {} written",
                ours.len()
            );
        }
    }

    #[test]
    fn a_block_that_compresses_after_one_that_did_not_is_stored() {
        let mut input = random(BLOCK, 7);
        input.extend(std::iter::repeat_n(b'a', 2 * BLOCK));
        let ours = stream(&input);
        assert_eq!(decompressed(&ours), input);
        // Stored, the two repetitive blocks take their whole length.
        assert!(ours.len() > 3 * BLOCK, "{} written", ours.len());
    }

    #[test]
    fn too_little_room_is_an_error() {
        let input = random(1000, 3);
        let mut out = vec![0; max_len(input.len()) - 1];
        assert!(compress(&mut Encoder::new(), &input, &mut out).is_err());
    }
}
