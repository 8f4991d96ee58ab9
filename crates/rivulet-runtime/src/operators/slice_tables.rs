//! HOP slices kept by the window aggregation itself, a table of keys per
//! slice, when its state is in memory (the `hashmap` backend).
//!
//! Kept in keyed state, a key's slices are one value and the key has a
//! timer: each window fires key by key, a state search and a timer for
//! every key in every window. Nexmark q5 fires 2.96 M (auction, window)
//! rows per 10 M events, and each search found its key cold, the key last
//! fired a slide of event time and thousands of rows before (about 370 ns a
//! fired row in all). Here a slice is a table of the keys that have rows in
//! it, with their accumulators, as Flink's window buffer combines rows in
//! memory: when the watermark passes a window's end, the tables of its
//! slices are merged in order, key by key, and a slice's table is dropped
//! when its last window has fired. No key has a timer.
//!
//! The windows and their results are the ones of [`super::window_slices`]:
//! a window fires once, when the watermark reaches its last millisecond,
//! with every key that has rows in one of its slices.
//!
//! The tables are the operator's, not keyed state: a snapshot (with
//! checkpoints, to come) has to write them out by key group, which each
//! key's bytes give, as Flink's window buffer is flushed to state before a
//! checkpoint. On the disk backend the slices stay in keyed state, bounded
//! by the disk rather than by memory.

use std::collections::BTreeMap;

use foldhash::fast::FixedState;
use hashbrown::HashMap;

use super::accumulators::Accumulator;
use super::aggregate_calls::BoundCalls;
use super::window_slices::HopSlices;
use crate::error::Result;

/// One slice: each key (its bytes) with its accumulators. The hasher has a
/// fixed seed, so windows list their keys in the same order run after run.
type SliceTable = HashMap<Box<[u8]>, Vec<Accumulator>, FixedState>;

#[derive(Debug)]
pub(super) struct SliceTables {
    hop: HopSlices,
    /// By the slice's start.
    slices: BTreeMap<i64, SliceTable>,
    /// The end of the last window fired: no window ending by it fires again.
    fired_through: i64,
}

impl SliceTables {
    pub(super) fn new(hop: HopSlices) -> SliceTables {
        SliceTables {
            hop,
            slices: BTreeMap::new(),
            fired_through: i64::MIN,
        }
    }

    /// Folds `partial` into `key`'s accumulators of the slice starting at
    /// `start`.
    pub(super) fn add(
        &mut self,
        calls: &BoundCalls,
        key: &[u8],
        start: i64,
        partial: Vec<Accumulator>,
    ) {
        let table = self
            .slices
            .entry(start)
            .or_insert_with(|| SliceTable::with_hasher(FixedState::default()));
        match table.get_mut(key) {
            Some(accumulators) => calls.merge(accumulators, partial),
            None => {
                table.insert(key.into(), partial);
            }
        }
    }

    /// Fires, earliest first, every window whose last millisecond the
    /// `watermark` has reached and that holds a slice: `each` gets the
    /// window's start and end and, key by key, its merged accumulators.
    /// A window the watermark passed while it held no slice has passed for
    /// good: a row that comes later for it (not late for a later window of
    /// its slice) is in the later windows only, as a timer set then would
    /// have it.
    pub(super) fn fire(
        &mut self,
        calls: &BoundCalls,
        watermark: i64,
        mut each: impl FnMut(&[u8], (i64, i64), Vec<Accumulator>) -> Result<()>,
    ) -> Result<()> {
        let HopSlices {
            slide_millis: slide,
            size_millis: size,
        } = self.hop;
        while let Some(&first) = self.slices.keys().next() {
            // The first slice's earliest window that has not passed; no
            // window ends before it, as no slice starts before this one. A
            // window that would end past the end of time never fires.
            let Some(first_end) = first.checked_add(slide) else {
                break;
            };
            let end = first_end.max(self.fired_through.saturating_add(slide));
            if end - 1 > watermark {
                break;
            }
            let start = end.checked_sub(size).unwrap_or(i64::MIN);
            let slices = self.slices.range(start..end).map(|(_, table)| table);
            for (key, accumulators) in merged(calls, slices) {
                each(key, (start, end), accumulators)?;
            }
            self.fired_through = end;
            // A slice no window still to fire holds is dropped.
            let needed_from = end.saturating_sub(size - slide);
            while let Some(entry) = self.slices.first_entry() {
                if *entry.key() >= needed_from {
                    break;
                }
                entry.remove();
            }
        }
        // Every window ending by the watermark's next millisecond has passed.
        let passed = watermark
            .saturating_add(1)
            .div_euclid(slide)
            .checked_mul(slide);
        if let Some(passed) = passed {
            self.fired_through = self.fired_through.max(passed);
        }
        Ok(())
    }

    /// Whether no slice is held.
    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.slices.is_empty()
    }
}

/// Each key of `slices` with its accumulators merged over them, in the
/// order the keys first come.
fn merged<'a>(
    calls: &BoundCalls,
    slices: impl Iterator<Item = &'a SliceTable>,
) -> Vec<(&'a [u8], Vec<Accumulator>)> {
    let mut at: HashMap<&[u8], usize, FixedState> = HashMap::with_hasher(FixedState::default());
    let mut windows: Vec<(&[u8], Vec<Accumulator>)> = Vec::new();
    for table in slices {
        for (key, accumulators) in table {
            match at.get(&**key) {
                Some(&index) => calls.merge(&mut windows[index].1, accumulators.iter().cloned()),
                None => {
                    at.insert(key, windows.len());
                    windows.push((key, accumulators.clone()));
                }
            }
        }
    }
    windows
}
