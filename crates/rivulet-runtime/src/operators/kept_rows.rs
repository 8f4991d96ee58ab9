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

/// Where pair number `index` of `bytes` starts (the end, past the last).
fn offset_of_pair(bytes: &[u8], index: usize) -> Result<usize> {
    let mut rest = bytes;
    for _ in 0..index {
        if rest.is_empty() {
            break;
        }
        take_part(&mut rest)?;
        take_part(&mut rest)?;
    }
    Ok(bytes.len() - rest.len())
}

/// Puts `(sort_key, row)` into the stored buffer `bytes` as pair number
/// `place`, moving the pairs after it, and keeps the first `limit` pairs
/// (all with `None`): one move of the kept tail, and no new buffer unless
/// the rows kept grow.
pub(super) fn insert(
    bytes: &mut Vec<u8>,
    place: usize,
    (sort_key, row): (&[u8], &[u8]),
    limit: Option<usize>,
) -> Result<()> {
    if let Some(limit) = limit.filter(|limit| place >= *limit) {
        // It ranks below every row kept.
        let end = offset_of_pair(bytes, limit)?;
        bytes.truncate(end);
        return Ok(());
    }
    let at = offset_of_pair(bytes, place)?;
    // The pairs from `place` on that stay, after the new one.
    let tail_end = match limit {
        Some(limit) => offset_of_pair(bytes, limit - 1)?,
        None => bytes.len(),
    };
    let inserted = 8 + sort_key.len() + row.len();
    let new_len = tail_end + inserted;
    if new_len > bytes.len() {
        let grow = new_len - bytes.len();
        // A Top-N of a few rows is sized to them (a Top-1 replaced by a
        // longer row must not keep twice its size); a list of every row
        // grows as vectors do.
        if limit.is_some() {
            bytes.reserve_exact(grow);
        }
        bytes.resize(new_len, 0);
    }
    bytes.copy_within(at..tail_end, at + inserted);
    bytes.truncate(new_len);
    let mut out = at;
    for part in [sort_key, row] {
        // A part is one row's bytes, far below 4 GiB.
        bytes[out..out + 4].copy_from_slice(&(part.len() as u32).to_le_bytes());
        bytes[out + 4..out + 4 + part.len()].copy_from_slice(part);
        out += 4 + part.len();
    }
    Ok(())
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
    fn inserting_in_place_is_writing_the_pairs_anew() {
        let pairs: Vec<(&[u8], &[u8])> = vec![(b"a", b"row a"), (b"c", b"row c"), (b"d", b"")];
        for place in 0..=pairs.len() {
            for limit in [None, Some(1), Some(3), Some(9)] {
                let mut bytes = write(pairs.iter().copied());
                insert(&mut bytes, place, (b"new", b"row new"), limit).unwrap();
                let mut expected = pairs.clone();
                expected.insert(place, (b"new", b"row new"));
                expected.truncate(limit.unwrap_or(usize::MAX));
                assert_eq!(bytes, write(expected), "place {place}, limit {limit:?}");
            }
        }
        let mut cut = write(pairs.iter().copied());
        cut.truncate(6);
        assert!(insert(&mut cut, 2, (b"k", b"r"), None).is_err());
    }

    #[test]
    fn a_cut_buffer_is_an_error_not_a_panic() {
        let bytes = write([(&b"key"[..], &b"row"[..])]);
        for end in 1..bytes.len() {
            assert!(read(&bytes[..end]).is_err(), "cut at {end}");
        }
    }
}
