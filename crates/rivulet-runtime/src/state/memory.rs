//! Flink's `hashmap` backend: keyed state in an ordered in-memory map.

use std::collections::BTreeMap;
use std::ops::Bound;

use super::{StateStore, key_group_bounds};
use crate::error::Result;
use crate::key_groups::KeyGroupRange;

#[derive(Debug, Default)]
pub struct MemoryStateStore {
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl MemoryStateStore {
    pub fn new() -> MemoryStateStore {
        MemoryStateStore::default()
    }
}

impl StateStore for MemoryStateStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.entries.get(key).cloned())
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<()> {
        self.entries.insert(key, value);
        Ok(())
    }

    fn delete(&mut self, key: &[u8]) -> Result<()> {
        self.entries.remove(key);
        Ok(())
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        Ok(self
            .entries
            .range::<[u8], _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn scan_key_groups(&self, range: KeyGroupRange) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let (start, end) = key_group_bounds(range);
        let upper = match &end {
            Some(end) => Bound::Excluded(end.as_slice()),
            None => Bound::Unbounded,
        };
        Ok(self
            .entries
            .range::<[u8], _>((Bound::Included(start.as_slice()), upper))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_and_restores_key_group_ranges() {
        crate::state::tests::snapshot_and_restore_by_key_group_range(|| {
            Box::new(MemoryStateStore::new())
        });
    }
}
