//! A scope's map entries (see [`super::memory`]) packed one after another
//! in one buffer, found by a search in order while there are a few and
//! through a hash table of their offsets once there are more.
//!
//! A regular join keeps every row of a side as a map entry of its key's
//! scope: nine million bids in Nexmark q9. As a vector per key and one per
//! value, each entry cost two allocations and two vector headers besides its
//! bytes (three times the bytes a bid has), and ending the job freed them
//! one by one; packed, an entry costs its bytes and an eight-byte header,
//! and a scope is freed at once.
//!
//! An entry is `key length (u32 LE) | value length (u32 LE) | key | value`.
//! A removed entry stays where it is, marked in its key length's top bit,
//! until removed entries fill half the buffer, when the live ones are moved
//! together. A value overwritten by one of the same length is written in
//! place; by one of another length, the entry is removed and written anew.

use std::hash::BuildHasher;
use std::sync::OnceLock;

use foldhash::fast::FixedState;
use hashbrown::HashTable;

use super::{ValueUpdate, state_error};
use crate::error::Result;

/// The bytes before an entry's key: its key's and its value's lengths.
const HEADER: usize = 8;

/// The top bit of a key's length marks its entry removed.
const REMOVED: u32 = 1 << 31;

/// Past this many live entries a scope's keys are found through a hash
/// table; below, a search in order touches fewer cache lines.
const FEW: usize = 8;

/// A full buffer grows by a quarter (at least 64 bytes and what the new
/// entry needs), not to twice its size: a join's scopes only ever grow, and
/// doubled buffers were a quarter empty on average (q9 and q20 peaked
/// 0.4 – 0.6 GB higher). Each byte is copied about four times on the way,
/// which measured the same as the doubling.
const GROWTH_DIVISOR: usize = 4;

/// A scope's map entries: none (most scopes hold only a value, and a
/// scope's size is a slot of the store's table), or their buffer.
#[derive(Debug, Default)]
pub(super) struct PackedEntries(Option<Box<Packed>>);

impl PackedEntries {
    pub(super) fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(|packed| packed.live == 0)
    }

    pub(super) fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.0.as_ref()?.get(key)
    }

    /// Every entry as `(key, value)`, in no particular order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.0.iter().flat_map(|packed| packed.iter())
    }

    /// Sets the value of `key`.
    pub(super) fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.0.get_or_insert_default().insert(key, value)
    }

    /// Lets `update` change the value of `key` (`None`: no entry), found
    /// once: a row stored by a join is one search, not a read then a write.
    pub(super) fn update(&mut self, key: &[u8], update: &mut ValueUpdate) -> Result<()> {
        let packed = self.0.get_or_insert_default();
        let updated = packed.update(key, update);
        if packed.live == 0 {
            self.0 = None;
        }
        updated
    }

    /// Removes the entry of `key`, if there is one.
    pub(super) fn remove(&mut self, key: &[u8]) {
        if let Some(packed) = &mut self.0 {
            packed.remove(key);
            if packed.live == 0 {
                self.0 = None;
            }
        }
    }
}

#[derive(Debug, Default)]
struct Packed {
    bytes: Vec<u8>,
    live: usize,
    removed_bytes: usize,
    /// The offsets of the live entries, hashed by key, once there are many.
    index: Option<Box<HashTable<usize>>>,
}

/// Keys are rows of the data: hashed with a seed chosen at random once per
/// process, so that no input can be built to make its keys collide.
fn hash(key: &[u8]) -> u64 {
    static SEED: OnceLock<FixedState> = OnceLock::new();
    SEED.get_or_init(|| FixedState::with_seed(rand::random()))
        .hash_one(key)
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

/// The entry at `at` of `bytes`: whether it is removed, and where its key
/// and its value lie.
fn entry_at(bytes: &[u8], at: usize) -> (bool, std::ops::Range<usize>, std::ops::Range<usize>) {
    let key_len = read_u32(bytes, at);
    let value_len = read_u32(bytes, at + 4) as usize;
    let key_start = at + HEADER;
    let key_end = key_start + (key_len & !REMOVED) as usize;
    (
        key_len & REMOVED != 0,
        key_start..key_end,
        key_end..key_end + value_len,
    )
}

fn key_at(bytes: &[u8], at: usize) -> &[u8] {
    &bytes[entry_at(bytes, at).1]
}

fn hash_key_at(bytes: &[u8], at: usize) -> u64 {
    hash(key_at(bytes, at))
}

/// The offsets of the live entries of `bytes`, in the order they lie.
fn live_offsets(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < bytes.len() {
            let (removed, _, value) = entry_at(bytes, at);
            let this = at;
            at = value.end;
            if !removed {
                return Some(this);
            }
        }
        None
    })
}

/// A key's hash, computed only where a scope has an index to search.
#[derive(Clone, Copy)]
struct KeyHash(Option<u64>);

/// The lengths of an entry, checked to fit its header.
fn entry_lengths(key: &[u8], value: &[u8]) -> Result<(u32, u32)> {
    let (Ok(key_len), Ok(value_len)) = (u32::try_from(key.len()), u32::try_from(value.len()))
    else {
        return Err(state_error("a map entry of 4 GiB or more cannot be kept"));
    };
    if key_len & REMOVED != 0 {
        return Err(state_error("a map key of 2 GiB or more cannot be kept"));
    }
    Ok((key_len, value_len))
}

impl Packed {
    fn hash_of(&self, key: &[u8]) -> KeyHash {
        KeyHash(self.index.as_ref().map(|_| hash(key)))
    }

    /// Where the live entry of `key` starts.
    fn find(&self, key: &[u8], hashed: KeyHash) -> Option<usize> {
        let bytes = &self.bytes;
        match (&self.index, hashed.0) {
            (Some(index), Some(hash)) => index.find(hash, |&at| key_at(bytes, at) == key).copied(),
            _ => live_offsets(bytes).find(|&at| key_at(bytes, at) == key),
        }
    }

    fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.find(key, self.hash_of(key))
            .map(|at| &self.bytes[entry_at(&self.bytes, at).2])
    }

    /// Every live entry as `(key, value)`, in the order they lie.
    fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        let bytes = &self.bytes;
        live_offsets(bytes).map(move |at| {
            let (_, key, value) = entry_at(bytes, at);
            (&bytes[key], &bytes[value])
        })
    }

    fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        let hashed = self.hash_of(key);
        match self.find(key, hashed) {
            None => self.add(key, value, hashed),
            Some(old) => self.replace(old, key, value, hashed),
        }
    }

    fn update(&mut self, key: &[u8], update: &mut ValueUpdate) -> Result<()> {
        let hashed = self.hash_of(key);
        let found = self.find(key, hashed);
        let mut value = found.map(|at| self.bytes[entry_at(&self.bytes, at).2].to_vec());
        update(&mut value)?;
        match (found, value) {
            (None, None) => Ok(()),
            (None, Some(value)) => self.add(key, &value, hashed),
            (Some(old), Some(value)) => self.replace(old, key, &value, hashed),
            (Some(old), None) => {
                self.remove_at(old, hashed);
                Ok(())
            }
        }
    }

    /// Adds an entry for `key`, which has none.
    fn add(&mut self, key: &[u8], value: &[u8], hashed: KeyHash) -> Result<()> {
        let (key_len, value_len) = entry_lengths(key, value)?;
        let at = self.append(key_len, value_len, key, value);
        self.live += 1;
        let bytes = &self.bytes;
        if let Some(index) = &mut self.index {
            let hash = hashed.0.unwrap_or_else(|| hash(key));
            index.insert_unique(hash, at, |&at| hash_key_at(bytes, at));
        } else if self.live > FEW {
            self.build_index();
        }
        Ok(())
    }

    /// Sets the value of the entry of `key` at `old`.
    fn replace(&mut self, old: usize, key: &[u8], value: &[u8], hashed: KeyHash) -> Result<()> {
        let (key_len, value_len) = entry_lengths(key, value)?;
        let (_, _, old_value) = entry_at(&self.bytes, old);
        if old_value.len() == value.len() {
            self.bytes[old_value].copy_from_slice(value);
            return Ok(());
        }
        self.mark_removed(old);
        let at = self.append(key_len, value_len, key, value);
        if let Some(index) = &mut self.index
            && let Some(slot) =
                index.find_mut(hashed.0.unwrap_or_else(|| hash(key)), |&slot| slot == old)
        {
            *slot = at;
        }
        self.compact_if_mostly_removed();
        Ok(())
    }

    fn remove(&mut self, key: &[u8]) {
        let hashed = self.hash_of(key);
        if let Some(at) = self.find(key, hashed) {
            self.remove_at(at, hashed);
        }
    }

    /// Removes the live entry at `at`, whose key hashes to `hashed`.
    fn remove_at(&mut self, at: usize, hashed: KeyHash) {
        if let Some(index) = &mut self.index {
            let hash = hashed.0.unwrap_or_else(|| hash_key_at(&self.bytes, at));
            if let Ok(slot) = index.find_entry(hash, |&slot| slot == at) {
                slot.remove();
            }
        }
        self.mark_removed(at);
        self.live -= 1;
        self.compact_if_mostly_removed();
    }

    fn append(&mut self, key_len: u32, value_len: u32, key: &[u8], value: &[u8]) -> usize {
        let at = self.bytes.len();
        let needed = HEADER + key.len() + value.len();
        if self.bytes.capacity() - at < needed {
            let grown = needed.max(at / GROWTH_DIVISOR).max(64);
            self.bytes.reserve_exact(grown);
        }
        self.bytes.extend_from_slice(&key_len.to_le_bytes());
        self.bytes.extend_from_slice(&value_len.to_le_bytes());
        self.bytes.extend_from_slice(key);
        self.bytes.extend_from_slice(value);
        at
    }

    fn mark_removed(&mut self, at: usize) {
        let (_, _, value) = entry_at(&self.bytes, at);
        let key_len = read_u32(&self.bytes, at) | REMOVED;
        self.bytes[at..at + 4].copy_from_slice(&key_len.to_le_bytes());
        self.removed_bytes += value.end - at;
    }

    fn build_index(&mut self) {
        let bytes = &self.bytes;
        let mut index = HashTable::with_capacity(self.live);
        for at in live_offsets(bytes) {
            index.insert_unique(hash_key_at(bytes, at), at, |&at| hash_key_at(bytes, at));
        }
        self.index = Some(Box::new(index));
    }

    /// Moves the live entries together once removed ones are half the
    /// buffer, so a scope whose values keep changing length stays bounded.
    fn compact_if_mostly_removed(&mut self) {
        if self.removed_bytes * 2 <= self.bytes.len() {
            return;
        }
        let mut packed = Vec::with_capacity(self.bytes.len() - self.removed_bytes);
        for at in live_offsets(&self.bytes) {
            let (_, _, value) = entry_at(&self.bytes, at);
            packed.extend_from_slice(&self.bytes[at..value.end]);
        }
        self.bytes = packed;
        self.removed_bytes = 0;
        if self.index.is_some() {
            self.build_index();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn sorted(entries: &Packed) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut all: Vec<_> = entries
            .iter()
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .collect();
        all.sort();
        all
    }

    #[test]
    fn reads_as_a_map_through_inserts_overwrites_and_removes() {
        // Few entries and many, values of changing length, removals that
        // trigger compaction: after every step it answers as a BTreeMap.
        let mut packed = Packed::default();
        let mut expected = BTreeMap::new();
        for round in 0..4u8 {
            for i in 0..40u8 {
                let key = vec![i; usize::from(i % 5)];
                let value = vec![round; usize::from((i + round) % 7)];
                packed.insert(&key, &value).unwrap();
                expected.insert(key, value);
            }
            for i in (0..40u8).filter(|i| (i + round) % 3 == 0) {
                let key = vec![i; usize::from(i % 5)];
                packed.remove(&key);
                expected.remove(&key);
            }
            // Updates that grow, shrink, create and delete entries.
            for i in (0..60u8).filter(|i| (i + round) % 4 != 0) {
                let key = vec![i; usize::from(i % 5)];
                let mut seen = None;
                packed
                    .update(&key, &mut |value| {
                        seen = value.clone();
                        *value = match (i + round) % 4 {
                            1 => None,
                            2 => Some(vec![i; usize::from(round) + 3]),
                            _ => value.as_ref().map(|v| [v.as_slice(), &[i]].concat()),
                        };
                        Ok(())
                    })
                    .unwrap();
                assert_eq!(seen.as_ref(), expected.get(&key), "round {round} key {i}");
                match (i + round) % 4 {
                    1 => {
                        expected.remove(&key);
                    }
                    2 => {
                        expected.insert(key, vec![i; usize::from(round) + 3]);
                    }
                    _ => {
                        if let Some(v) = expected.get_mut(&key) {
                            v.push(i);
                        }
                    }
                }
            }
            let wanted: Vec<_> = expected.clone().into_iter().collect();
            assert_eq!(sorted(&packed), wanted, "round {round}");
            for (key, value) in &expected {
                assert_eq!(packed.get(key), Some(value.as_slice()));
            }
            assert_eq!(packed.get(b"absent"), None);
            // Removed entries never outweigh the live ones for long.
            assert!(packed.removed_bytes * 2 <= packed.bytes.len());
        }
    }

    #[test]
    fn a_failed_update_changes_nothing() {
        let mut entries = PackedEntries::default();
        entries.insert(b"k", b"v").unwrap();
        let failed = entries.update(b"k", &mut |value| {
            *value = None;
            Err(state_error("no"))
        });
        assert!(failed.is_err());
        assert_eq!(entries.get(b"k"), Some(&b"v"[..]));
        let failed = entries.update(b"new", &mut |_| Err(state_error("no")));
        assert!(failed.is_err());
        assert_eq!(entries.iter().count(), 1);
    }

    #[test]
    fn same_length_values_are_overwritten_in_place() {
        let mut packed = Packed::default();
        packed.insert(b"k", b"one").unwrap();
        let len = packed.bytes.len();
        packed.insert(b"k", b"two").unwrap();
        assert_eq!(packed.bytes.len(), len);
        assert_eq!(packed.get(b"k"), Some(&b"two"[..]));
    }

    #[test]
    fn removing_every_entry_frees_the_buffer() {
        let mut entries = PackedEntries::default();
        for i in 0..20u8 {
            entries.insert(&[i], &[i]).unwrap();
        }
        assert_eq!(entries.iter().count(), 20);
        for i in 0..20u8 {
            entries.remove(&[i]);
        }
        assert!(entries.is_empty());
        assert!(entries.0.is_none());
    }
}
