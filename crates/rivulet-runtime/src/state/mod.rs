//! Keyed state: what stateful operators remember per key, kept in key
//! groups so that it can be snapshotted and restored by key-group range
//! (checkpoints, and rescaling to another parallelism).
//!
//! - [`StateStore`] is the byte-level store a backend implements: point
//!   reads and writes, prefix scans, and snapshot/restore of a
//!   [`KeyGroupRange`].
//!   [`memory::MemoryStateStore`] is Flink's `hashmap` backend;
//!   [`disk::DiskStateStore`] keeps state on local disk for state larger
//!   than memory (Flink's `rocksdb`).
//! - [`keyed::KeyedState`] is what an operator uses: value, list and map
//!   state under a current key and a namespace (e.g. a window).
//! - [`timers::TimerService`] holds event-time and processing-time timers
//!   per key and namespace, snapshotted by key-group range as well.
//!
//! Every stored key starts with its key group (big-endian), so one key-group
//! range is one contiguous key range in every backend.

pub mod bytes;
pub mod disk;
pub mod keyed;
pub mod memory;
mod packed_entries;
mod scope_key;
pub mod short_bytes;
mod stored_value;
pub mod timers;

use serde::{Deserialize, Serialize};

use crate::error::{Result, RuntimeError};
use crate::key_groups::KeyGroupRange;

/// What [`StateStore::visit_prefix`] calls with each entry: what follows
/// the prefix in its key, and its value.
pub type EntryVisitor<'a> = dyn FnMut(&[u8], &[u8]) -> Result<()> + 'a;

/// What [`StateStore::read`] calls with the value under a key.
pub type ValueReader<'a> = dyn FnMut(Option<&[u8]>) -> Result<()> + 'a;

/// What [`StateStore::update`] calls with the value under a key.
pub type ValueUpdate<'a> = dyn FnMut(&mut Option<Vec<u8>>) -> Result<()> + 'a;

/// The byte-level store behind keyed state.
pub trait StateStore: Send {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Calls `read` with the value under `key` (`None`: absent), lent where
    /// the store keeps it: state decoded on every row (a window's
    /// accumulators, read for each of its slices) need not be copied first.
    fn read(&self, key: &[u8], read: &mut ValueReader) -> Result<()> {
        read(self.get(key)?.as_deref())
    }
    fn put(&mut self, key: &[u8], value: Vec<u8>) -> Result<()>;
    fn delete(&mut self, key: &[u8]) -> Result<()>;
    /// Lets `update` change the value under `key` (`None`: absent) where it
    /// lies, and keeps what it leaves (`None` deletes). An operator that
    /// rewrites a little of a large value (a Top-N's kept rows) then neither
    /// copies it out nor allocates a new one. `update` makes every check
    /// that can fail before it changes anything; a store may keep or drop
    /// what a failed update left.
    fn update(&mut self, key: &[u8], update: &mut ValueUpdate) -> Result<()> {
        update_by_copy(self, key, update)
    }
    /// Whether [`Self::update`] changes a value where it lies, rather than
    /// reading it and writing it back whole.
    fn updates_in_place(&self) -> bool {
        false
    }
    /// Every entry whose key starts with `prefix`, in no particular order.
    fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;
    /// Calls `visit` with each entry whose key starts with `prefix`: what
    /// follows the prefix in its key, and its value, lent where the store
    /// keeps them (a join reads its partner rows for every arriving row).
    fn visit_prefix(&self, prefix: &[u8], visit: &mut EntryVisitor) -> Result<()> {
        visit_by_copy(self, prefix, visit)
    }
    /// Every entry of the key groups in `range`, in key order.
    fn scan_key_groups(&self, range: KeyGroupRange) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;

    /// Deletes every entry of the key groups in `range`.
    fn clear_key_groups(&mut self, range: KeyGroupRange) -> Result<()> {
        for (key, _) in self.scan_key_groups(range)? {
            self.delete(&key)?;
        }
        Ok(())
    }

    /// A copy of the state of `range`.
    fn snapshot(&self, range: KeyGroupRange) -> Result<StateSnapshot> {
        Ok(StateSnapshot {
            key_groups: range,
            entries: self.scan_key_groups(range)?,
        })
    }

    /// Adds the entries of `snapshot` that fall into `owned`: a subtask
    /// restores from every old snapshot that overlaps its new range.
    fn restore(&mut self, snapshot: &StateSnapshot, owned: KeyGroupRange) -> Result<()> {
        for (key, value) in &snapshot.entries {
            if key_group_of(key).is_some_and(|kg| owned.contains(kg)) {
                self.put(key, value.clone())?;
            }
        }
        Ok(())
    }
}

/// The state of a key-group range at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateSnapshot {
    pub key_groups: KeyGroupRange,
    pub entries: Vec<(Vec<u8>, Vec<u8>)>,
}

impl StateSnapshot {
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        postcard::to_stdvec(self).map_err(state_error)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<StateSnapshot> {
        postcard::from_bytes(bytes).map_err(state_error)
    }
}

/// Which store keyed state lives in: Flink's `state.backend.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateBackendKind {
    /// `hashmap`: on the heap.
    Memory,
    /// `rocksdb` (Flink's name, kept so configurations carry over): an
    /// embedded LSM tree on local disk.
    Disk,
}

impl StateBackendKind {
    pub fn from_config(value: &str) -> Result<StateBackendKind> {
        match value.trim().to_ascii_lowercase().as_str() {
            "hashmap" => Ok(StateBackendKind::Memory),
            "rocksdb" => Ok(StateBackendKind::Disk),
            other => Err(RuntimeError::State(format!(
                "Unknown state backend '{other}' (state.backend.type): Rivulet has 'hashmap' (in memory) and 'rocksdb' (on local disk)."
            ))),
        }
    }
}

impl StateBackendKind {
    /// A fresh, empty store of this kind for one operator of one subtask;
    /// an on-disk one lives in its own directory under the system's
    /// temporary directory and is removed when the store is dropped.
    pub fn open_store(self) -> Result<Box<dyn StateStore>> {
        match self {
            StateBackendKind::Memory => Ok(Box::new(memory::MemoryStateStore::new())),
            StateBackendKind::Disk => {
                static OPENED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
                let number = OPENED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let dir = std::env::temp_dir()
                    .join(format!("rivulet-state-{}-{number}", std::process::id()));
                Ok(Box::new(disk::DiskStateStore::open(&dir)?))
            }
        }
    }
}

/// [`StateStore::update`] as a read, the update, and a write.
pub(crate) fn update_by_copy<S: StateStore + ?Sized>(
    store: &mut S,
    key: &[u8],
    update: &mut ValueUpdate,
) -> Result<()> {
    let before = store.get(key)?;
    let mut value = before.clone();
    update(&mut value)?;
    // A read that changed nothing writes nothing (a distinct value seen
    // before, a row forgotten that was never stored).
    match value {
        _ if value == before => Ok(()),
        Some(value) => store.put(key, value),
        None => store.delete(key),
    }
}

/// [`StateStore::visit_prefix`] over the copies [`StateStore::scan_prefix`]
/// makes.
pub(crate) fn visit_by_copy<S: StateStore + ?Sized>(
    store: &S,
    prefix: &[u8],
    visit: &mut EntryVisitor,
) -> Result<()> {
    for (key, value) in store.scan_prefix(prefix)? {
        visit(&key[prefix.len()..], &value)?;
    }
    Ok(())
}

pub(crate) fn state_error(error: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::State(error.to_string())
}

/// The first two bytes of every stored key.
pub(crate) fn key_group_prefix(key_group: u32) -> [u8; 2] {
    (key_group as u16).to_be_bytes()
}

pub(crate) fn key_group_of(key: &[u8]) -> Option<u32> {
    Some(u16::from_be_bytes([*key.first()?, *key.get(1)?]) as u32)
}

/// The length of a stored key's scope: the key group, state id, key and
/// namespace that [`keyed`] writes first (`kg (2) | state (2) | key length
/// (4) | key | namespace length (4) | namespace`), before a map entry's own
/// key. `None` when `key` does not hold a whole scope.
pub(crate) fn scope_len(key: &[u8]) -> Option<usize> {
    let length_at = |at: usize| -> Option<usize> {
        let bytes = key.get(at..at + 4)?.first_chunk::<4>()?;
        usize::try_from(u32::from_be_bytes(*bytes)).ok()
    };
    let namespace_at = 8usize.checked_add(length_at(4)?)?;
    let end = namespace_at
        .checked_add(4)?
        .checked_add(length_at(namespace_at)?)?;
    (end <= key.len()).then_some(end)
}

/// The key range `[start, end)` holding the key groups of `range`.
pub(crate) fn key_group_bounds(range: KeyGroupRange) -> (Vec<u8>, Option<Vec<u8>>) {
    let start = key_group_prefix(range.start).to_vec();
    let end = (range.end < u16::MAX as u32).then(|| key_group_prefix(range.end + 1).to_vec());
    (start, end)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The contract every backend keeps: range snapshots hold exactly their
    /// key groups, and restoring into a new owner keeps only its part.
    pub fn snapshot_and_restore_by_key_group_range(mut make: impl FnMut() -> Box<dyn StateStore>) {
        let mut store = make();
        for key_group in 0..128u32 {
            let mut key = key_group_prefix(key_group).to_vec();
            key.extend_from_slice(b"k");
            store.put(&key, key_group.to_le_bytes().to_vec()).unwrap();
        }
        let first = store.snapshot(KeyGroupRange::new(0, 63)).unwrap();
        let second = store.snapshot(KeyGroupRange::new(64, 127)).unwrap();
        assert_eq!(first.entries.len(), 64);
        assert_eq!(second.entries.len(), 64);
        assert!(
            first
                .entries
                .iter()
                .all(|(k, _)| key_group_of(k).unwrap() < 64)
        );

        // Rescale 2 → 3: the middle subtask takes groups from both snapshots.
        let middle = KeyGroupRange::for_subtask(128, 3, 1);
        let mut restored = make();
        for snapshot in [&first, &second] {
            let bytes = snapshot.to_bytes().unwrap();
            let snapshot = StateSnapshot::from_bytes(&bytes).unwrap();
            restored.restore(&snapshot, middle).unwrap();
        }
        let all = restored
            .scan_key_groups(KeyGroupRange::new(0, 127))
            .unwrap();
        let groups: Vec<u32> = all.iter().map(|(k, _)| key_group_of(k).unwrap()).collect();
        assert_eq!(groups, (middle.start..=middle.end).collect::<Vec<_>>());
        let value = restored
            .get(&[key_group_prefix(50).as_slice(), b"k"].concat())
            .unwrap();
        assert_eq!(value, Some(50u32.to_le_bytes().to_vec()));
    }

    #[test]
    fn each_backend_opens_a_fresh_store_and_keeps_the_contract() {
        for kind in [StateBackendKind::Memory, StateBackendKind::Disk] {
            snapshot_and_restore_by_key_group_range(|| kind.open_store().unwrap());
            let mut first = kind.open_store().unwrap();
            first.put(&[0, 1, 7], vec![1]).unwrap();
            let second = kind.open_store().unwrap();
            assert_eq!(
                second.get(&[0, 1, 7]).unwrap(),
                None,
                "stores do not share entries"
            );
        }
    }

    #[test]
    fn backends_are_named_as_flink_names_them() {
        assert_eq!(
            StateBackendKind::from_config("HashMap").unwrap(),
            StateBackendKind::Memory
        );
        assert_eq!(
            StateBackendKind::from_config("rocksdb").unwrap(),
            StateBackendKind::Disk
        );
        assert!(StateBackendKind::from_config("forst").is_err());
    }
}
