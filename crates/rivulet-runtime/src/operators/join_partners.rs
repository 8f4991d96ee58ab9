//! The partners a regular inner join found under each key while it joins
//! one batch, found in state once per key and decoded once per batch.
//!
//! Rows of a hot key come together: in Nexmark q9, 92% of the bids of a
//! batch bid on an auction an earlier bid of the same batch bid on. Each of
//! them read its key's rows of the other side from state, copied the
//! auction's row out, and decoded it into the output again. While a batch
//! of one side is joined, the other side's stored rows do not change (an
//! inner join without a TTL writes only the arriving side's rows, and never
//! counts partners), so what a key found the first time holds for the rest
//! of the batch: its rows are kept here once, and every joined row refers
//! to them by index.

use std::ops::Range;

use hashbrown::HashMap;

/// Each key's partners, for one batch.
#[derive(Debug, Default)]
pub(super) struct Partners {
    /// Per key (its bytes): where its partners are in `entries`.
    by_key: HashMap<Box<[u8]>, Range<usize>>,
    /// A partner: the index of its row in `rows` and how often it came.
    entries: Vec<(usize, u32)>,
    /// The stored rows found, each once, as their bytes.
    rows: Vec<Vec<u8>>,
}

impl Partners {
    /// Forgets the batch's keys and rows.
    pub(super) fn clear(&mut self) {
        self.by_key.clear();
        self.entries.clear();
        self.rows.clear();
    }

    /// Where the partners found under `key` in this batch are among
    /// [`Partners::entries`], if it was looked up.
    pub(super) fn of(&self, key: &[u8]) -> Option<Range<usize>> {
        self.by_key.get(key).cloned()
    }

    /// Keeps `found` (each stored row and how often it came) as `key`'s
    /// partners; where they are among [`Partners::entries`].
    pub(super) fn keep(
        &mut self,
        key: &[u8],
        found: impl IntoIterator<Item = (Vec<u8>, u32)>,
    ) -> Range<usize> {
        let start = self.entries.len();
        for (row, count) in found {
            self.entries.push((self.rows.len(), count));
            self.rows.push(row);
        }
        let range = start..self.entries.len();
        self.by_key.insert(key.into(), range.clone());
        range
    }

    /// The partners at `range`: each one's row index and how often it came.
    pub(super) fn entries(&self, range: Range<usize>) -> &[(usize, u32)] {
        self.entries.get(range).unwrap_or_default()
    }

    /// The rows kept, by index.
    pub(super) fn rows(&self) -> &[Vec<u8>] {
        &self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_answers_its_own_rows_until_cleared() {
        let mut partners = Partners::default();
        assert!(partners.of(b"a").is_none());
        let kept = partners.keep(b"a", [(b"r1".to_vec(), 1), (b"r2".to_vec(), 3)]);
        assert_eq!(partners.entries(kept), [(0, 1), (1, 3)]);
        let none = partners.keep(b"b", []);
        assert_eq!(partners.entries(none), []);
        partners.keep(b"c", [(b"r3".to_vec(), 2)]);
        let entries = |key: &[u8]| {
            partners
                .of(key)
                .map(|range| partners.entries(range).to_vec())
        };
        assert_eq!(entries(b"a"), Some(vec![(0, 1), (1, 3)]));
        assert_eq!(entries(b"b"), Some(vec![]));
        assert_eq!(entries(b"c"), Some(vec![(2, 2)]));
        assert_eq!(
            partners.rows(),
            [b"r1".to_vec(), b"r2".to_vec(), b"r3".to_vec()]
        );
        partners.clear();
        assert!(partners.of(b"a").is_none());
        assert!(partners.rows().is_empty());
    }
}
