//! One side's stored rows of a regular inner join of insert-only inputs,
//! kept by the join itself when its state is in memory: per key group, a
//! log of the rows in the order they came, each linked back to its key's
//! row before it, and a table of the keys with where their last row is.
//!
//! Such a join never takes a row back (no `-U` or `-D` comes) and never
//! counts partners (no side is outer), so it never looks a stored row up:
//! it only appends a key's rows and reads them all to join them. Nexmark
//! q4, q9 and q20 keep 9.2 million bids this way.
//!
//! - In keyed state each key had a growing buffer of its own and a slot of
//!   80 bytes in the backend's table: the buffers' spare room and the
//!   allocator's partly used pages of every size they grew through were
//!   over a quarter of q9's and q20's memory, the slots another 170 MB of
//!   q9's. Here a row costs its bytes, a byte or two of length and the
//!   distance back to its key's row before it (three bytes, mostly), in
//!   chunks that only fill; a key costs a 16-byte entry of a
//!   [`KeyTables`] (a BIGINT key mostly takes four bytes).
//! - Reading a key's rows follows the links, a row at a time. The joins
//!   above mostly read the side that has a row or none per key (an
//!   auction's), as the other side's rows come after their partner.
//!
//! A row of the log is `back (LEB128) | length (LEB128) | row`, where
//! `back` is how far before it its key's previous row starts (0 for the
//! key's first). An address is `chunk × CHUNK + offset`: a row starts within
//! the first [`CHUNK`] bytes of its chunk, and a row longer than that has a
//! chunk of its own. Rows are the join's, not keyed state: a snapshot
//! (with checkpoints, to come) writes them out by key group, as the
//! expiring buckets' ([`super::expiring_buckets`]).

use super::key_tables::KeyTables;
use crate::error::{Result, RuntimeError};
use crate::leb128;

/// How many bytes a chunk of the log holds (one row may take more).
const CHUNK: usize = 64 * 1024;

/// How many bytes a key group's first chunk starts with: it doubles to
/// [`CHUNK`], so that a small input costs little.
const FIRST_CHUNK: usize = 256;

/// The rows of one side: the logs by key group, and where each key's last
/// row starts.
#[derive(Debug, Default)]
pub(super) struct ListedRows {
    logs: Vec<Vec<Vec<u8>>>,
    last_rows: KeyTables<u64>,
    /// The bytes of each group's log that no key reaches any more: rows a
    /// key let go of ([`ListedRows::retain`]).
    unreached: Vec<usize>,
}

/// Where a key with no row yet has its last one: never a row's address.
const NO_ROW: u64 = u64::MAX;

impl ListedRows {
    /// Appends `rows` (in order) to the rows of `key`, of key group
    /// `group`.
    pub(super) fn append<'a>(
        &mut self,
        group: u32,
        key: &[u8],
        rows: impl IntoIterator<Item = &'a [u8]>,
    ) {
        let index = group as usize;
        if self.logs.len() <= index {
            self.logs.resize_with(index + 1, Vec::new);
        }
        let log = &mut self.logs[index];
        let last = self.last_rows.value_mut(group, key, || NO_ROW);
        for row in rows {
            *last = push_row(log, *last, row);
        }
    }

    /// The rows of `key`, of key group `group`, in the order they came;
    /// an error for a log that is not such rows.
    pub(super) fn rows(&self, group: u32, key: &[u8]) -> Result<Vec<&[u8]>> {
        let (Some(&last), Some(log)) = (
            self.last_rows.value(group, key),
            self.logs.get(group as usize),
        ) else {
            return Ok(Vec::new());
        };
        Ok(chain(log, last)?.into_iter().map(|(_, row)| row).collect())
    }

    /// Keeps only those rows of `key`, of key group `group`, that `keep`
    /// says (one flag per row, in the order they came); the others are let
    /// go. Nothing changes when `keep` is not one flag per row.
    ///
    /// The kept rows are listed again after every other row, the old ones
    /// left unreached; once more of a group's log is unreached than
    /// reached, the group's rows are copied into a new log.
    pub(super) fn retain(&mut self, group: u32, key: &[u8], keep: &[bool]) -> Result<()> {
        let index = group as usize;
        let (true, Some(log)) = (
            self.last_rows.value(group, key).is_some(),
            self.logs.get_mut(index),
        ) else {
            return Ok(());
        };
        let last = self.last_rows.value_mut(group, key, || NO_ROW);
        let rows = chain(log, *last)?;
        if rows.len() != keep.len() || !keep.contains(&false) {
            return Ok(());
        }
        let let_go: usize = rows.iter().map(|(back, row)| listed_len(*back, row)).sum();
        let kept: Vec<Vec<u8>> = (rows.iter().zip(keep))
            .filter(|(_, keep)| **keep)
            .map(|((_, row), _)| row.to_vec())
            .collect();
        *last = NO_ROW;
        for row in &kept {
            *last = push_row(log, *last, row);
        }
        if self.unreached.len() <= index {
            self.unreached.resize(index + 1, 0);
        }
        self.unreached[index] += let_go;
        let unreached = self.unreached[index];
        let held: usize = log.iter().map(Vec::len).sum();
        if unreached > CHUNK && 2 * unreached > held {
            self.compact(group)?;
        }
        Ok(())
    }

    /// Copies every key's rows of group `group` into a new log, in the
    /// order they came, leaving out the unreached ones.
    fn compact(&mut self, group: u32) -> Result<()> {
        let index = group as usize;
        let Some(old) = self.logs.get_mut(index).map(std::mem::take) else {
            return Ok(());
        };
        let mut log = Vec::new();
        for last in self.last_rows.group_values_mut(group) {
            let rows = chain(&old, *last)?;
            *last = NO_ROW;
            for (_, row) in rows {
                *last = push_row(&mut log, *last, row);
            }
        }
        self.logs[index] = log;
        if let Some(unreached) = self.unreached.get_mut(index) {
            *unreached = 0;
        }
        Ok(())
    }

    /// How many keys have rows.
    #[cfg(test)]
    pub(super) fn keys(&self) -> usize {
        self.last_rows.values().count()
    }

    /// How many rows the keys reach.
    #[cfg(test)]
    pub(super) fn reached_rows(&mut self) -> usize {
        let mut count = 0;
        for (group, log) in self.logs.iter().enumerate() {
            for last in self.last_rows.group_values_mut(group as u32) {
                count += chain(log, *last).map_or(0, |rows| rows.len());
            }
        }
        count
    }

    /// How many bytes the logs hold.
    #[cfg(test)]
    pub(super) fn bytes(&self) -> usize {
        self.logs.iter().flatten().map(Vec::len).sum()
    }
}

/// Appends `row` to `log`, linked back to the row at `previous`
/// ([`NO_ROW`] for none); where it starts.
fn push_row(log: &mut Vec<Vec<u8>>, previous: u64, row: &[u8]) -> u64 {
    let length = leb128::len(row.len() as u64);
    // The back distance takes at most ten bytes; room for it is kept
    // before its value is known.
    let needed = leb128::len(u64::MAX) + length + row.len();
    let chunk = room_for(log, needed);
    let offset = log[chunk].len();
    let address = (chunk * CHUNK + offset) as u64;
    let back = match previous {
        NO_ROW => 0,
        previous => address - previous,
    };
    let bytes = &mut log[chunk];
    leb128::push(bytes, back);
    leb128::push(bytes, row.len() as u64);
    bytes.extend_from_slice(row);
    address
}

/// The rows of `log` that lead to the row at `last`, each with how far
/// back its key's previous row is, in the order they came.
fn chain(log: &[Vec<u8>], last: u64) -> Result<Vec<(u64, &[u8])>> {
    let mut rows = Vec::new();
    let mut at = (last != NO_ROW).then_some(last);
    while let Some(address) = at {
        let (back, row) = read_row(log, address).ok_or_else(corrupt)?;
        rows.push((back, row));
        at = match back {
            0 => None,
            back => Some(address.checked_sub(back).ok_or_else(corrupt)?),
        };
    }
    rows.reverse();
    Ok(rows)
}

/// How many bytes of its log a row takes, `back` from its key's previous.
fn listed_len(back: u64, row: &[u8]) -> usize {
    leb128::len(back) + leb128::len(row.len() as u64) + row.len()
}

/// The chunk `needed` bytes go into: the last while it has room or can
/// grow to it, a new one otherwise.
fn room_for(log: &mut Vec<Vec<u8>>, needed: usize) -> usize {
    if let Some(last) = log.last_mut() {
        // Only a row starting in the first CHUNK bytes has an address: no
        // row goes after a long row in its chunk.
        let wanted = last.len() + needed;
        if wanted <= last.capacity() && last.len() < CHUNK {
            return log.len() - 1;
        }
        if wanted <= CHUNK {
            let grown = (last.capacity() * 2).clamp(wanted, CHUNK);
            last.reserve_exact(grown - last.len());
            return log.len() - 1;
        }
    }
    let size = if log.is_empty() { FIRST_CHUNK } else { CHUNK };
    log.push(Vec::with_capacity(size.max(needed)));
    log.len() - 1
}

/// The row at `address`, and how far back its key's previous row is;
/// `None` when the log has no such row.
fn read_row(log: &[Vec<u8>], address: u64) -> Option<(u64, &[u8])> {
    let address = usize::try_from(address).ok()?;
    let chunk = log.get(address / CHUNK)?;
    let mut at = address % CHUNK;
    let back = leb128::read(chunk, &mut at).ok()?;
    let row = leb128::read_prefixed(chunk, &mut at)?;
    Some((back, row))
}

/// What reading bytes that are not such rows answers.
pub(super) fn corrupt() -> RuntimeError {
    RuntimeError::State("stored join rows are corrupt".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(rows: &ListedRows, group: u32, key: &[u8]) -> Vec<Vec<u8>> {
        let found = rows.rows(group, key).unwrap();
        found.into_iter().map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn a_keys_rows_come_back_in_the_order_they_came() {
        let mut rows = ListedRows::default();
        let long = vec![7; 300];
        rows.append(3, b"a", [&b"a1"[..], b""]);
        rows.append(3, b"b", [&b"b1"[..]]);
        rows.append(0, b"a", [&b"other group"[..]]);
        rows.append(3, b"a", [&long[..], b"a1"]);
        assert_eq!(
            listed(&rows, 3, b"a"),
            [b"a1".to_vec(), vec![], long, b"a1".to_vec()]
        );
        assert_eq!(listed(&rows, 3, b"b"), [b"b1".to_vec()]);
        assert_eq!(listed(&rows, 0, b"a"), [b"other group".to_vec()]);
        assert!(listed(&rows, 3, b"c").is_empty());
        assert!(listed(&rows, 9, b"a").is_empty());
        assert_eq!(rows.keys(), 3);
        // A row costs its bytes, its length and its distance back: one
        // byte each here, but two for the 300-byte row's length and for
        // the distance back over it.
        assert_eq!(
            rows.bytes(),
            (2 + 2) + 2 + (2 + 2) + 13 + (3 + 300) + (3 + 2)
        );
    }

    #[test]
    fn rows_fill_chunks_and_a_long_row_takes_one_of_its_own() {
        let mut rows = ListedRows::default();
        let keys: Vec<[u8; 2]> = (0..100u16).map(u16::to_le_bytes).collect();
        let huge = vec![9; 3 * CHUNK];
        for round in 0..200u32 {
            for key in &keys {
                let row = [&key[..], &round.to_le_bytes(), &[5; 40]].concat();
                rows.append(1, key, [row.as_slice()]);
            }
            if round == 100 {
                rows.append(1, b"huge", [huge.as_slice()]);
            }
        }
        let log = &rows.logs[1];
        assert!(log.len() > 10);
        // Every chunk is (almost) full but the huge row's, the one it cut
        // short and the last.
        let huge_chunks: Vec<usize> = (0..log.len())
            .filter(|&index| log[index].len() == huge.len() + 4)
            .collect();
        assert_eq!(huge_chunks.len(), 1);
        let cut_short = huge_chunks[0] - 1;
        for (index, chunk) in log.iter().enumerate().take(log.len() - 1) {
            let full = chunk.capacity() == CHUNK && chunk.len() > CHUNK - 60;
            assert!(
                full || index == huge_chunks[0] || index == cut_short,
                "{index}"
            );
        }
        for key in &keys {
            let found = listed(&rows, 1, key);
            assert_eq!(found.len(), 200);
            for (round, row) in found.iter().enumerate() {
                assert_eq!(row[..2], key[..]);
                assert_eq!(row[2..6], (round as u32).to_le_bytes());
            }
        }
        assert_eq!(listed(&rows, 1, b"huge"), [huge]);
    }

    #[test]
    fn rows_let_go_leave_the_log_once_they_are_most_of_it() {
        let mut rows = ListedRows::default();
        let keys: Vec<[u8; 2]> = (0..50u16).map(u16::to_le_bytes).collect();
        let row = |key: &[u8], n: u32| [key, &n.to_le_bytes(), &[3; 60]].concat();
        for n in 0..100 {
            for key in &keys {
                rows.append(2, key, [row(key, n).as_slice()]);
            }
        }
        let full = rows.bytes();
        // Not one flag per row: nothing changes.
        rows.retain(2, &keys[0], &[false; 3]).unwrap();
        assert_eq!(listed(&rows, 2, &keys[0]).len(), 100);
        // Every key keeps its rows of even n; the first key keeps none.
        let evens: Vec<bool> = (0..100).map(|n| n % 2 == 0).collect();
        rows.retain(2, &keys[0], &[false; 100]).unwrap();
        for key in &keys[1..] {
            rows.retain(2, key, &evens).unwrap();
        }
        assert!(listed(&rows, 2, &keys[0]).is_empty());
        for key in &keys[1..] {
            let kept: Vec<Vec<u8>> = (0..100).step_by(2).map(|n| row(key, n)).collect();
            assert_eq!(listed(&rows, 2, key), kept);
        }
        // Listed again, the kept rows would make half as much again; the
        // group was copied into a new log whenever over half of it was
        // unreached.
        assert!(rows.bytes() < full, "{} of {full}", rows.bytes());
        assert!(2 * rows.unreached[2] <= rows.bytes());
        assert_eq!(rows.reached_rows(), 49 * 50);
        // Rows still come after the kept ones.
        rows.append(2, &keys[0], [&b"again"[..]]);
        rows.append(2, &keys[1], [&b"after"[..]]);
        assert_eq!(listed(&rows, 2, &keys[0]), [b"again".to_vec()]);
        assert_eq!(listed(&rows, 2, &keys[1]).last(), Some(&b"after".to_vec()));
    }

    #[test]
    fn a_corrupt_log_is_an_error_not_a_panic() {
        let mut rows = ListedRows::default();
        rows.append(0, b"k", [&b"first"[..], b"second"]);
        let log = &mut rows.logs[0][0];
        // The second row's link points before the log starts.
        log[7] = 0x7f;
        assert!(rows.rows(0, b"k").is_err());
        // A cut row.
        let mut rows = ListedRows::default();
        rows.append(0, b"k", [&b"first"[..]]);
        rows.logs[0][0].truncate(4);
        assert!(rows.rows(0, b"k").is_err());
    }
}
