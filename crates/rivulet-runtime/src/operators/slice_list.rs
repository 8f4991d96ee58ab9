//! A key's open HOP slices ([`super::window_slices`]) as one value of keyed
//! state: `(slice start i64 BE | length u32 BE | accumulators)*`, earliest
//! slice first. A key's open sessions are kept the same way, each session's
//! end before its accumulators.
//!
//! A window is the merge of the slices it covers. With a namespace per
//! slice, firing a window searched the state table once per slice (five
//! times for Nexmark q5's windows of ten seconds sliding by two); with the
//! slices of a key together, it is one search, and a row's slice is found
//! in the same value.

use std::ops::Range;

use crate::error::{Result, RuntimeError};

/// Bytes before an entry's accumulators: its slice start and their length.
const HEADER: usize = 12;

/// One slice of the list: where its entry lies, and its accumulators.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SliceEntry {
    pub start: i64,
    pub entry: Range<usize>,
    pub accumulators: Range<usize>,
}

fn corrupt() -> RuntimeError {
    RuntimeError::State("a key's HOP slices are not as they were written".into())
}

/// The entry at byte `at` of `list`.
fn entry_at(list: &[u8], at: usize) -> Result<SliceEntry> {
    let header: &[u8; HEADER] = list
        .get(at..at + HEADER)
        .and_then(|h| h.try_into().ok())
        .ok_or_else(corrupt)?;
    let (start, len) = header.split_at(8);
    let start = i64::from_be_bytes(start.try_into().map_err(|_| corrupt())?);
    let len = u32::from_be_bytes(len.try_into().map_err(|_| corrupt())?) as usize;
    let end = at + HEADER + len;
    if end > list.len() {
        return Err(corrupt());
    }
    Ok(SliceEntry {
        start,
        entry: at..end,
        accumulators: at + HEADER..end,
    })
}

/// The slices of `list`, earliest first.
pub(super) fn entries(list: &[u8]) -> impl Iterator<Item = Result<SliceEntry>> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        if at >= list.len() {
            return None;
        }
        let entry = entry_at(list, at);
        // A corrupt list ends the walk after its error.
        at = entry.as_ref().map_or(list.len(), |e| e.entry.end);
        Some(entry)
    })
}

/// Where the slice starting at `start` is, or where it would go.
pub(super) enum Slot {
    Found(SliceEntry),
    Missing { at: usize },
}

pub(super) fn find(list: &[u8], start: i64) -> Result<Slot> {
    for entry in entries(list) {
        let entry = entry?;
        if entry.start == start {
            return Ok(Slot::Found(entry));
        }
        if entry.start > start {
            return Ok(Slot::Missing {
                at: entry.entry.start,
            });
        }
    }
    Ok(Slot::Missing { at: list.len() })
}

/// Writes `accumulators` as the slice of `slot` (found or to be added).
pub(super) fn put(list: &mut Vec<u8>, slot: Slot, start: i64, accumulators: &[u8]) -> Result<()> {
    match slot {
        Slot::Found(entry) if entry.accumulators.len() == accumulators.len() => {
            list[entry.accumulators].copy_from_slice(accumulators);
            Ok(())
        }
        Slot::Found(entry) => replace(list, entry.entry, start, accumulators),
        Slot::Missing { at } => replace(list, at..at, start, accumulators),
    }
}

/// Replaces the entries in the bytes `entries` of `list` (whole entries,
/// or an empty range where the new one belongs) with one slice starting
/// at `start`. The list is unchanged when it fails.
pub(super) fn replace(
    list: &mut Vec<u8>,
    entries: Range<usize>,
    start: i64,
    accumulators: &[u8],
) -> Result<()> {
    let len = u32::try_from(accumulators.len()).map_err(|_| corrupt())?;
    if entries.start > entries.end || entries.end > list.len() {
        return Err(corrupt());
    }
    let header = start.to_be_bytes().into_iter().chain(len.to_be_bytes());
    list.splice(entries, header.chain(accumulators.iter().copied()));
    Ok(())
}

/// Removes `entry` from `list`.
pub(super) fn remove(list: &mut Vec<u8>, entry: &SliceEntry) {
    list.drain(entry.entry.clone());
}

/// Drops the slices that start at or before `start`.
pub(super) fn drop_through(list: &mut Vec<u8>, start: i64) -> Result<()> {
    let mut cut = 0;
    for entry in entries(list) {
        let entry = entry?;
        if entry.start > start {
            break;
        }
        cut = entry.entry.end;
    }
    list.drain(..cut);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starts(list: &[u8]) -> Vec<(i64, Vec<u8>)> {
        entries(list)
            .map(|e| {
                let e = e.unwrap();
                (e.start, list[e.accumulators].to_vec())
            })
            .collect()
    }

    #[test]
    fn slices_stay_in_order_and_are_replaced_and_dropped() {
        let mut list = Vec::new();
        for (start, bytes) in [(4, &[4u8][..]), (0, &[0, 0]), (2, &[2]), (-2, &[])] {
            let slot = find(&list, start).unwrap();
            assert!(matches!(slot, Slot::Missing { .. }));
            put(&mut list, slot, start, bytes).unwrap();
        }
        assert_eq!(
            starts(&list),
            [(-2, vec![]), (0, vec![0, 0]), (2, vec![2]), (4, vec![4])]
        );
        // Same width in place, another width moved.
        let slot = find(&list, 2).unwrap();
        put(&mut list, slot, 2, &[7]).unwrap();
        let slot = find(&list, 0).unwrap();
        put(&mut list, slot, 0, &[1, 2, 3]).unwrap();
        assert_eq!(
            starts(&list),
            [(-2, vec![]), (0, vec![1, 2, 3]), (2, vec![7]), (4, vec![4])]
        );
        let Slot::Found(two) = find(&list, 2).unwrap() else {
            panic!("slice 2 is there");
        };
        remove(&mut list, &two);
        assert_eq!(
            starts(&list),
            [(-2, vec![]), (0, vec![1, 2, 3]), (4, vec![4])]
        );
        drop_through(&mut list, 1).unwrap();
        assert_eq!(starts(&list), [(4, vec![4])]);
        drop_through(&mut list, 4).unwrap();
        assert!(list.is_empty());
    }

    #[test]
    fn entries_lying_together_are_replaced_by_one() {
        let mut list = Vec::new();
        for start in [0, 2, 4, 6] {
            let at = list.len();
            put(&mut list, Slot::Missing { at }, start, &[start as u8]).unwrap();
        }
        let found: Vec<SliceEntry> = entries(&list).map(Result::unwrap).collect();
        let together = found[1].entry.start..found[2].entry.end;
        replace(&mut list, together, 1, &[9, 9]).unwrap();
        assert_eq!(starts(&list), [(0, vec![0]), (1, vec![9, 9]), (6, vec![6])]);
        // An empty range inserts; a range past the end changes nothing.
        let at = list.len();
        replace(&mut list, at..at, 8, &[]).unwrap();
        let before = list.clone();
        assert!(replace(&mut list, 0..at + 100, 0, &[]).is_err());
        assert_eq!(list, before);
        assert_eq!(starts(&list).last(), Some(&(8, vec![])));
    }

    #[test]
    fn a_cut_list_is_an_error_not_a_panic() {
        let mut list = Vec::new();
        put(&mut list, Slot::Missing { at: 0 }, 5, &[1, 2, 3]).unwrap();
        list.pop();
        assert!(entries(&list).any(|e| e.is_err()));
        assert!(find(&list, 9).is_err());
        assert!(drop_through(&mut list, 9).is_err());
        assert!(find(&list[..3], 9).is_err());
    }
}
