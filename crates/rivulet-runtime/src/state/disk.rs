//! Keyed state on local disk, for state larger than memory: Flink's
//! `rocksdb` backend, here on fjall, a log-structured merge tree in pure
//! Rust (write-optimised like RocksDB, ordered keys for key-group range
//! scans, no C++ toolchain). Its durability is the checkpoint's job, so the
//! store lives in a temporary directory that is removed when it is dropped.

use std::path::Path;

use fjall::{Database, Keyspace, KeyspaceCreateOptions};

use super::{StateStore, key_group_bounds, state_error};
use crate::error::Result;
use crate::key_groups::KeyGroupRange;

pub struct DiskStateStore {
    // Kept for the keyspace's lifetime; dropping it removes the directory.
    _database: Database,
    entries: Keyspace,
}

impl DiskStateStore {
    /// Opens a fresh store in `dir` (created; removed again on drop).
    pub fn open(dir: &Path) -> Result<DiskStateStore> {
        let database = Database::builder(dir)
            .temporary(true)
            .manual_journal_persist(true)
            .open()
            .map_err(state_error)?;
        let entries = database
            .keyspace("keyed-state", KeyspaceCreateOptions::default)
            .map_err(state_error)?;
        Ok(DiskStateStore {
            _database: database,
            entries,
        })
    }

    fn collect(&self, iter: fjall::Iter) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        iter.map(|guard| {
            let (k, v) = guard.into_inner().map_err(state_error)?;
            Ok((k.to_vec(), v.to_vec()))
        })
        .collect()
    }
}

impl StateStore for DiskStateStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self
            .entries
            .get(key)
            .map_err(state_error)?
            .map(|v| v.to_vec()))
    }

    fn put(&mut self, key: &[u8], value: Vec<u8>) -> Result<()> {
        self.entries.insert(key, value).map_err(state_error)
    }

    fn delete(&mut self, key: &[u8]) -> Result<()> {
        self.entries.remove(key).map_err(state_error)
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.collect(self.entries.prefix(prefix))
    }

    fn scan_key_groups(&self, range: KeyGroupRange) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let (start, end) = key_group_bounds(range);
        match end {
            Some(end) => self.collect(self.entries.range(start..end)),
            None => self.collect(self.entries.range(start..)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_and_restores_key_group_ranges() {
        let root = tempfile::tempdir().unwrap();
        let mut n = 0;
        crate::state::tests::snapshot_and_restore_by_key_group_range(|| {
            n += 1;
            Box::new(DiskStateStore::open(&root.path().join(n.to_string())).unwrap())
        });
    }

    #[test]
    fn the_directory_goes_with_the_store() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("state");
        let mut store = DiskStateStore::open(&dir).unwrap();
        store.put(&[0, 1, 9], vec![7]).unwrap();
        assert_eq!(store.get(&[0, 1, 9]).unwrap(), Some(vec![7]));
        assert!(dir.exists());
        drop(store);
        assert!(!dir.exists());
    }
}
