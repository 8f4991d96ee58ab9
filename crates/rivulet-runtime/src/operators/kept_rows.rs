//! The rows a Top-N keeps for one key, as its value state stores them: one
//! flat buffer of `(sort key, row)` pairs, best first, each part after its
//! length (LEB128: a byte or two, where a `u32` took four; q19 keeps 4.8
//! million rows).
//!
//! A Top-N reads its key's rows for every row that arrives, and most
//! arrivals rank below them and change nothing. Read as borrowed slices of
//! the stored bytes, they cost no allocation; encoded with serde, every
//! row's bytes were decoded one at a time into a vector of their own (a
//! third of q19's time).

use crate::error::{Result, RuntimeError};
use crate::leb128;

/// The `(sort key, row)` pairs of a stored buffer, borrowed from it.
pub(super) fn read(bytes: &[u8]) -> Result<Vec<(&[u8], &[u8])>> {
    pairs(bytes).collect()
}

/// The `(sort key, row)` pairs of a stored buffer one by one, borrowed
/// from it: an error for bytes that are not such pairs, after which
/// nothing follows.
pub(super) fn pairs(bytes: &[u8]) -> impl Iterator<Item = Result<(&[u8], &[u8])>> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        // The buffer ends only between pairs.
        if rest.is_empty() {
            return None;
        }
        let pair = take_part(&mut rest).and_then(|key| Ok((key, take_part(&mut rest)?)));
        if pair.is_err() {
            rest = &[];
        }
        Some(pair)
    })
}

/// How many pairs of `bytes` come before a row of `sort_key`: those with a
/// smaller key, and with `after_ties` those with an equal one too. Stops
/// at `limit` pairs.
pub(super) fn place(
    bytes: &[u8],
    sort_key: &[u8],
    after_ties: bool,
    limit: usize,
) -> Result<usize> {
    let mut rest = bytes;
    let mut place = 0;
    while !rest.is_empty() && place < limit {
        let kept = take_part(&mut rest)?;
        let order = match (kept.first_chunk::<8>(), sort_key.first_chunk::<8>()) {
            // Most keys differ in their first eight bytes: one comparison
            // of two words, not a call to memcmp.
            (Some(kept_start), Some(start)) if kept_start != start => {
                u64::from_be_bytes(*kept_start).cmp(&u64::from_be_bytes(*start))
            }
            _ => kept.cmp(sort_key),
        };
        if order.is_gt() || (order.is_eq() && !after_ties) {
            break;
        }
        take_part(&mut rest)?;
        place += 1;
    }
    Ok(place)
}

/// The part at the start of `rest`, which moves past it.
#[inline(always)]
fn take_part<'a>(rest: &mut &'a [u8]) -> Result<&'a [u8]> {
    let mut at = 0;
    let part =
        leb128::read_prefixed(rest, &mut at).ok_or_else(|| corrupt("a part is cut short"))?;
    *rest = &rest[at..];
    Ok(part)
}

/// What `part` takes with its length.
fn part_len(part: &[u8]) -> usize {
    leb128::len(part.len() as u64) + part.len()
}

/// Writes `part` after its length at the start of `out`; the bytes taken.
fn write_part(out: &mut [u8], part: &[u8]) -> usize {
    let at = leb128::write(out, part.len() as u64);
    out[at..at + part.len()].copy_from_slice(part);
    at + part.len()
}

/// The buffer holding `pairs`, in their order.
pub(super) fn write<'a>(pairs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>) -> Vec<u8> {
    let mut out = Vec::new();
    for (sort_key, row) in pairs {
        for part in [sort_key, row] {
            leb128::push(&mut out, part.len() as u64);
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
    let inserted = part_len(sort_key) + part_len(row);
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
    let key_end = at + write_part(&mut bytes[at..], sort_key);
    write_part(&mut bytes[key_end..], row);
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
        let long: Vec<(&[u8], &[u8])> = vec![(b"aaaaaaaa1", b"r"), (b"aaaaaaab0", b"s")];
        let bytes = write(long.iter().copied());
        for (key, expected) in [(&b"aaaaaaaa0"[..], 0), (b"aaaaaaaa2", 1), (b"aaaaaaab", 1)] {
            assert_eq!(place(&bytes, key, true, 9).unwrap(), expected);
        }
        for (key, after_ties, limit, expected) in [
            (&b"c"[..], false, 9, 1),
            (b"c", true, 9, 2),
            (b"b", true, 9, 1),
            (b"z", true, 9, 3),
            (b"z", true, 2, 2),
            (b"", false, 9, 0),
        ] {
            let bytes = write(pairs.iter().copied());
            assert_eq!(place(&bytes, key, after_ties, limit).unwrap(), expected);
        }
        let mut cut = write(pairs.iter().copied());
        cut.truncate(4);
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
