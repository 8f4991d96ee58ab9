//! One side's stored rows of an inner interval or window join, kept by
//! the join itself when its state is in memory: in buckets by when they
//! can be dropped, each a table of the keys with rows in it.
//!
//! Kept in keyed state, every key had a list of its rows and a timer to
//! sweep it. Nexmark q7 keys its 9.2 million bids by price, so almost
//! every bid made a key of its own: a search of a table of every live key
//! (cold: the key came once), a new entry, a timer, and a sweep that read
//! the list again to drop it — about 0.7 µs a bid, over 40% of the query.
//! Here a row goes into the bucket of the time it can go (its expiry,
//! rounded up to an eighth of the side's reach, a second at least), whose
//! table holds only the keys of that step, and a bucket is dropped whole
//! once the watermark passes its time. No key has a timer.
//!
//! Finding a key's rows searches each live bucket: the reach over the step
//! (about nine; the step is a second at least), plus the watermark's lag
//! behind the rows over the step (q7's watermark, emitted every 200 ms of
//! processing time, trails its bids by up to 30 s of event time: 35
//! buckets in all). So that a watermark far behind does not make a search
//! of hundreds, there are at most [`MAX_BUCKETS`]: past that a row goes
//! into the first bucket that goes after its time, or the last bucket is
//! put off to its time. A row is then kept longer, never dropped early. Rows kept past their expiry until
//! their bucket goes are passed over, so a join sees the rows a timer per
//! row would have left.
//!
//! A key's rows in a bucket are one buffer, each row `expires (i64 LE) |
//! length (LEB128) | row` (after its expiry, as [`super::listed_rows`]
//! lists rows), in the order they came. The buckets are the
//! operator's, not keyed state: a snapshot (with checkpoints, to come) has
//! to write them out by key group, which each key's bytes give, as the
//! window aggregation's slice tables ([`super::slice_tables`]).

use std::collections::BTreeMap;
use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use hashbrown::HashTable;

use super::listed_rows;
use crate::error::Result;
use crate::leb128;

/// A key's bytes and its rows in one bucket.
type Entry = (Box<[u8]>, Vec<u8>);

/// The most buckets a side keeps (see the module docs).
const MAX_BUCKETS: usize = 64;

/// The rows of one side, by the time their bucket is dropped.
#[derive(Debug, Default)]
pub(super) struct ExpiringBuckets {
    buckets: BTreeMap<i64, HashTable<Entry>>,
    /// With a fixed seed: rows come back in the same order run after run.
    hasher: FixedState,
}

/// A key, hashed once for the searches of every bucket.
#[derive(Debug, Clone, Copy)]
pub(super) struct HashedKey<'a> {
    hash: u64,
    bytes: &'a [u8],
}

impl ExpiringBuckets {
    pub(super) fn hashed<'a>(&self, key: &'a [u8]) -> HashedKey<'a> {
        HashedKey {
            hash: self.hasher.hash_one(key),
            bytes: key,
        }
    }

    /// Keeps `row` of `key`, which expires at `expires`, until the
    /// watermark reaches `dropped_at` (at or after `expires`), or later.
    pub(super) fn append(&mut self, key: HashedKey, (expires, dropped_at): (i64, i64), row: &[u8]) {
        let hasher = self.hasher.clone();
        let table = self.bucket_at(dropped_at);
        let entry = table.entry(
            key.hash,
            |(stored, _)| **stored == *key.bytes,
            |(stored, _)| hasher.hash_one(&**stored),
        );
        let rows = &mut entry
            .or_insert_with(|| (key.bytes.into(), Vec::new()))
            .into_mut()
            .1;
        rows.extend_from_slice(&expires.to_le_bytes());
        leb128::push(rows, row.len() as u64);
        rows.extend_from_slice(row);
    }

    /// The bucket that goes at `dropped_at`, or, with [`MAX_BUCKETS`]
    /// already, the first that goes after it, or the last put off to it.
    fn bucket_at(&mut self, dropped_at: i64) -> &mut HashTable<Entry> {
        if self.buckets.len() < MAX_BUCKETS {
            return self.buckets.entry(dropped_at).or_default();
        }
        let at = match self.buckets.range(dropped_at..).next() {
            Some((&at_or_later, _)) => at_or_later,
            None => {
                if let Some((_, last)) = self.buckets.pop_last() {
                    self.buckets.insert(dropped_at, last);
                }
                dropped_at
            }
        };
        self.buckets.entry(at).or_default()
    }

    /// Each row of `key` that expires after `watermark`, bucket by bucket.
    pub(super) fn live_rows(
        &self,
        key: HashedKey,
        watermark: i64,
        mut each: impl FnMut(&[u8]),
    ) -> Result<()> {
        for table in self.buckets.values() {
            let Some((_, rows)) = table.find(key.hash, |(stored, _)| **stored == *key.bytes) else {
                continue;
            };
            for entry in entries(rows) {
                let (expires, row) = entry?;
                if expires > watermark {
                    each(row);
                }
            }
        }
        Ok(())
    }

    /// Drops the buckets the watermark has reached: all their rows have
    /// expired.
    pub(super) fn drop_through(&mut self, watermark: i64) {
        while let Some(entry) = self.buckets.first_entry() {
            if *entry.key() > watermark {
                break;
            }
            entry.remove();
        }
    }

    pub(super) fn clear(&mut self) {
        self.buckets.clear();
    }

    /// How many keys have rows, counted once per bucket they are in.
    #[cfg(test)]
    pub(super) fn keys(&self) -> usize {
        self.buckets.values().map(HashTable::len).sum()
    }
}

/// Each row of a key's buffer with when it expires; an error for bytes
/// that are not such a buffer (after which nothing follows).
fn entries(rows: &[u8]) -> impl Iterator<Item = Result<(i64, &[u8])>> {
    let mut at = 0;
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || at == rows.len() {
            return None;
        }
        let entry = (|| {
            let expires = rows.get(at..at.checked_add(8)?)?;
            let expires = i64::from_le_bytes(expires.try_into().ok()?);
            let mut next = at + 8;
            let row = leb128::read_prefixed(rows, &mut next)?;
            at = next;
            Some((expires, row))
        })();
        failed = entry.is_none();
        Some(entry.ok_or_else(listed_rows::corrupt))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(buckets: &ExpiringBuckets, key: &[u8], watermark: i64) -> Vec<Vec<u8>> {
        let mut rows = Vec::new();
        let key = buckets.hashed(key);
        buckets
            .live_rows(key, watermark, |row| rows.push(row.to_vec()))
            .unwrap();
        rows
    }

    #[test]
    fn a_keys_rows_come_back_until_they_expire_and_go_with_their_bucket() {
        let mut buckets = ExpiringBuckets::default();
        for (key, expires, dropped_at, row) in [
            (&b"a"[..], 15, 20, &b"a15"[..]),
            (b"a", 5, 10, b"a5"),
            (b"b", 8, 10, b""),
            (b"a", 9, 10, b"a9"),
        ] {
            buckets.append(buckets.hashed(key), (expires, dropped_at), row);
        }
        assert_eq!(buckets.keys(), 3, "a in two buckets, b in one");
        // Bucket by bucket, in the order they came within one.
        assert_eq!(
            live(&buckets, b"a", 0),
            [b"a5".to_vec(), b"a9".to_vec(), b"a15".to_vec()]
        );
        assert_eq!(live(&buckets, b"b", 0), [Vec::<u8>::new()]);
        assert!(live(&buckets, b"c", 0).is_empty());
        // Expired rows are passed over before their bucket goes.
        assert_eq!(live(&buckets, b"a", 8), [b"a9".to_vec(), b"a15".to_vec()]);
        buckets.drop_through(9);
        assert_eq!(buckets.keys(), 3, "the bucket at 10 stays until 10");
        buckets.drop_through(10);
        assert_eq!(buckets.keys(), 1);
        assert_eq!(live(&buckets, b"a", 10), [b"a15".to_vec()]);
        assert!(live(&buckets, b"b", 0).is_empty());
        buckets.clear();
        assert_eq!(buckets.keys(), 0);
    }

    #[test]
    fn past_the_most_buckets_rows_go_later_never_earlier() {
        let mut buckets = ExpiringBuckets::default();
        // A bucket a millisecond, as a side of no reach makes.
        for time in 0..100 {
            let key = buckets.hashed(b"k");
            buckets.append(key, (time, time), &time.to_le_bytes());
        }
        assert_eq!(buckets.buckets.len(), MAX_BUCKETS);
        // Every row is there until it expires, and found in each bucket.
        assert_eq!(live(&buckets, b"k", -1).len(), 100);
        assert_eq!(live(&buckets, b"k", 49).len(), 50);
        // No bucket goes before the last row in it has expired.
        for (&dropped_at, table) in &buckets.buckets {
            for (_, rows) in table.iter() {
                for entry in entries(rows) {
                    assert!(entry.unwrap().0 <= dropped_at);
                }
            }
        }
        buckets.drop_through(98);
        assert_eq!(live(&buckets, b"k", 98).len(), 1);
        buckets.drop_through(99);
        assert_eq!(buckets.buckets.len(), 0);
    }

    #[test]
    fn a_cut_buffer_is_an_error_not_a_panic() {
        let mut rows = Vec::new();
        rows.extend_from_slice(&7i64.to_le_bytes());
        leb128::push(&mut rows, 3);
        rows.extend_from_slice(b"row");
        assert_eq!(
            entries(&rows).collect::<Result<Vec<_>>>().unwrap(),
            [(7, &b"row"[..])]
        );
        for cut in 1..rows.len() {
            assert!(entries(&rows[..cut]).any(|e| e.is_err()), "cut at {cut}");
        }
    }
}
