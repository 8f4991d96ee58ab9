//! A value per key, by key group, in tables an operator keeps itself when
//! its state is in memory: a regular inner join's listed rows (where each
//! key's last row is) and an append-only Top-N's kept rows.
//!
//! The in-memory backend's table serves every kind of state: a slot is a
//! scope key of up to 46 bytes inline (key group, state id, key and
//! namespace, with their lengths) and a value of up to 30 (80 bytes in
//! all), and a read or write goes through its key, its value taken out and
//! put back. These operators keep one value per key and no namespace: an
//! entry here is a key of up to seven bytes packed with its length into a
//! `u64` (a BIGINT key is four bytes of [`super::row_keys`]) and the value.
//! Longer keys are kept aside, by index.
//!
//! Like the join's expiring buckets ([`super::expiring_buckets`]), the
//! tables are the operator's, not keyed state: a snapshot (with
//! checkpoints, to come) writes them out by key group.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

/// The values of each key, by key group.
#[derive(Debug)]
pub(super) struct KeyTables<V> {
    groups: Vec<KeyTable<V>>,
    /// With a fixed seed, so that runs repeat.
    hasher: FixedState,
}

#[derive(Debug)]
struct KeyTable<V> {
    entries: HashTable<(PackedKey, V)>,
    /// The keys longer than a [`PackedKey`] holds.
    long_keys: Vec<Box<[u8]>>,
}

/// A key of up to seven bytes, little-endian, with its length in the top
/// byte; or, with [`LONG`] there, the index of a longer key among its
/// table's `long_keys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PackedKey(u64);

/// The top byte of a [`PackedKey`] that stands for a longer key.
const LONG: u64 = 0xff;

impl PackedKey {
    fn of_short(key: &[u8]) -> Option<PackedKey> {
        let mut bytes = [0; 8];
        bytes
            .get_mut(..key.len())
            .filter(|_| key.len() < 8)?
            .copy_from_slice(key);
        Some(PackedKey(
            u64::from_le_bytes(bytes) | (key.len() as u64) << 56,
        ))
    }

    fn long(index: usize) -> PackedKey {
        PackedKey(index as u64 | LONG << 56)
    }

    /// The key's bytes (a long key's from `long_keys`).
    fn bytes<'a>(&self, short: &'a mut [u8; 8], long_keys: &'a [Box<[u8]>]) -> &'a [u8] {
        let top = self.0 >> 56;
        let rest = self.0 & ((1 << 56) - 1);
        if top == LONG {
            return usize::try_from(rest)
                .ok()
                .and_then(|index| long_keys.get(index))
                .map_or(&[], |key| key);
        }
        *short = rest.to_le_bytes();
        &short[..top as usize]
    }

    /// Whether this is `key`, which packs to `packed` when short.
    fn is(self, packed: Option<PackedKey>, key: &[u8], long_keys: &[Box<[u8]>]) -> bool {
        match packed {
            Some(packed) => self == packed,
            None => self.0 >> 56 == LONG && self.bytes(&mut [0; 8], long_keys) == key,
        }
    }
}

impl<V> Default for KeyTables<V> {
    fn default() -> Self {
        KeyTables {
            groups: Vec::new(),
            hasher: FixedState::default(),
        }
    }
}

impl<V> Default for KeyTable<V> {
    fn default() -> Self {
        KeyTable {
            entries: HashTable::new(),
            long_keys: Vec::new(),
        }
    }
}

impl<V> KeyTables<V> {
    /// The value of `key`, of key group `group`: `new()` when the key had
    /// none.
    pub(super) fn value_mut(&mut self, group: u32, key: &[u8], new: impl FnOnce() -> V) -> &mut V {
        let index = group as usize;
        if self.groups.len() <= index {
            self.groups.resize_with(index + 1, KeyTable::default);
        }
        let KeyTable { entries, long_keys } = &mut self.groups[index];
        let hasher = &self.hasher;
        let packed = PackedKey::of_short(key);
        let entry = entries.entry(
            hasher.hash_one(key),
            |(stored, _)| stored.is(packed, key, long_keys),
            |(stored, _)| hasher.hash_one(stored.bytes(&mut [0; 8], long_keys)),
        );
        match entry {
            Entry::Occupied(found) => &mut found.into_mut().1,
            Entry::Vacant(vacant) => {
                let stored = packed.unwrap_or_else(|| {
                    long_keys.push(key.into());
                    PackedKey::long(long_keys.len() - 1)
                });
                &mut vacant.insert((stored, new())).into_mut().1
            }
        }
    }

    /// The value of `key`, of key group `group`, if it has one.
    pub(super) fn value(&self, group: u32, key: &[u8]) -> Option<&V> {
        let KeyTable { entries, long_keys } = self.groups.get(group as usize)?;
        let packed = PackedKey::of_short(key);
        let found = entries.find(self.hasher.hash_one(key), |(stored, _)| {
            stored.is(packed, key, long_keys)
        });
        found.map(|(_, value)| value)
    }

    /// Every value of key group `group`, in no particular order.
    pub(super) fn group_values_mut(&mut self, group: u32) -> impl Iterator<Item = &mut V> {
        let table = self.groups.get_mut(group as usize);
        table
            .into_iter()
            .flat_map(|table| table.entries.iter_mut().map(|(_, value)| value))
    }

    /// Every value, in no particular order.
    #[cfg(test)]
    pub(super) fn values(&self) -> impl Iterator<Item = &V> {
        let entries = self.groups.iter().flat_map(|group| group.entries.iter());
        entries.map(|(_, value)| value)
    }

    /// How many long keys group `group` keeps aside.
    #[cfg(test)]
    fn long_keys(&self, group: u32) -> usize {
        self.groups
            .get(group as usize)
            .map_or(0, |group| group.long_keys.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_short_and_long_each_have_their_own_value() {
        let mut tables = KeyTables::<u32>::default();
        // Keys of seven bytes are packed, longer ones kept aside; none is
        // taken for another, nor a key for the same bytes in another group.
        let keys: [&[u8]; 7] = [
            b"",
            b"\0",
            b"a",
            b"1234567",
            b"12345678",
            b"123456789",
            b"1234567\0",
        ];
        for (value, key) in keys.iter().enumerate() {
            *tables.value_mut(4, key, || 100) += value as u32;
            *tables.value_mut(0, key, || 200) += value as u32;
        }
        // Enough keys that the tables grow and move their entries.
        for n in 0..5_000u32 {
            let key = [&n.to_le_bytes()[..], &[9; 6]].concat();
            *tables.value_mut(4, &key, || 0) = n;
        }
        for (value, key) in keys.iter().enumerate() {
            assert_eq!(tables.value(4, key), Some(&(100 + value as u32)));
            assert_eq!(tables.value(0, key), Some(&(200 + value as u32)));
        }
        for n in 0..5_000u32 {
            let key = [&n.to_le_bytes()[..], &[9; 6]].concat();
            assert_eq!(tables.value(4, &key), Some(&n));
        }
        assert_eq!(tables.value(4, b"b"), None);
        assert_eq!(tables.value(9, b"a"), None);
        assert_eq!(tables.long_keys(4), 3 + 5_000);
        assert_eq!(tables.values().count(), 2 * keys.len() + 5_000);
    }
}
