//! The rows a Top-N keeps for one key, as its value state stores them: one
//! flat buffer of `(sort key, row)` pairs, best first, each part after its
//! length (`u32`, little-endian).
//!
//! A Top-N reads its key's rows for every row that arrives, and most
//! arrivals rank below them and change nothing. Read as borrowed slices of
//! the stored bytes, they cost no allocation; encoded with serde, every
//! row's bytes were decoded one at a time into a vector of their own (a
//! third of q19's time).

use crate::error::{Result, RuntimeError};

/// The `(sort key, row)` pairs of a stored buffer, borrowed from it.
pub(super) fn read(bytes: &[u8]) -> Result<Vec<(&[u8], &[u8])>> {
    let mut rest = bytes;
    let mut pairs = Vec::new();
    // The buffer ends only between pairs.
    while !rest.is_empty() {
        let sort_key = take_part(&mut rest)?;
        let row = take_part(&mut rest)?;
        pairs.push((sort_key, row));
    }
    Ok(pairs)
}

/// The part at the start of `rest`, which moves past it.
fn take_part<'a>(rest: &mut &'a [u8]) -> Result<&'a [u8]> {
    let (length, after) = rest
        .split_first_chunk::<4>()
        .ok_or_else(|| corrupt("a length is cut short"))?;
    let length = usize::try_from(u32::from_le_bytes(*length))
        .map_err(|_| corrupt("a length does not fit"))?;
    if after.len() < length {
        return Err(corrupt("a part is cut short"));
    }
    let (part, after) = after.split_at(length);
    *rest = after;
    Ok(part)
}

/// The buffer holding `pairs`, in their order.
pub(super) fn write<'a>(pairs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>) -> Vec<u8> {
    let mut out = Vec::new();
    for (sort_key, row) in pairs {
        for part in [sort_key, row] {
            // A part is one row's bytes, far below 4 GiB.
            out.extend_from_slice(&(part.len() as u32).to_le_bytes());
            out.extend_from_slice(part);
        }
    }
    out
}

fn corrupt(what: &str) -> RuntimeError {
    RuntimeError::State(format!("a Top-N's stored rows are corrupt: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_read_back_as_written() {
        let pairs: Vec<(&[u8], &[u8])> = vec![(b"k1", b"row one"), (b"", b"x"), (b"k3", b"")];
        let bytes = write(pairs.iter().copied());
        assert_eq!(read(&bytes).unwrap(), pairs);
        assert!(read(&write([])).unwrap().is_empty());
    }

    #[test]
    fn a_cut_buffer_is_an_error_not_a_panic() {
        let bytes = write([(&b"key"[..], &b"row"[..])]);
        for end in 1..bytes.len() {
            assert!(read(&bytes[..end]).is_err(), "cut at {end}");
        }
    }
}
