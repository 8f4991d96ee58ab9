//! Value, list and map state of the current key, per namespace (a window,
//! or the empty namespace), over any [`StateStore`].
//!
//! Stored key: `key group (2) | state id (2) | key length (4) | key |
//! namespace length (4) | namespace [| map key]`, so the entries of one key
//! and namespace share a prefix, and a key group is one key range. Values
//! are encoded with postcard.

use std::cell::RefCell;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{EntryVisitor, StateStore, ValueUpdate, key_group_prefix, state_error};
use crate::error::{Result, RuntimeError};
use crate::key_groups::KeyGroupRange;

/// Names one piece of state of an operator (e.g. "count", "window-contents").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StateId(pub u16);

pub struct KeyedState {
    store: Box<dyn StateStore>,
    /// The key groups this subtask owns; a key outside is a routing bug.
    owned: KeyGroupRange,
    current: Option<(u32, Vec<u8>)>,
    /// The stored key of a read, built here: operators read state for
    /// every row, and a read needs the key only while it looks.
    read_key: RefCell<Vec<u8>>,
}

impl KeyedState {
    pub fn new(store: Box<dyn StateStore>, owned: KeyGroupRange) -> KeyedState {
        KeyedState {
            store,
            owned,
            current: None,
            read_key: RefCell::new(Vec::new()),
        }
    }

    /// Makes `key` (in `key_group`) the key later calls read and write.
    pub fn set_current_key(&mut self, key_group: u32, key: &[u8]) -> Result<()> {
        if !self.owned.contains(key_group) {
            return Err(RuntimeError::State(format!(
                "key group {key_group} is not in this subtask's range {}-{}",
                self.owned.start, self.owned.end
            )));
        }
        // The key's buffer is reused from row to row, not allocated anew.
        match &mut self.current {
            Some((group, current)) => {
                *group = key_group;
                current.clear();
                current.extend_from_slice(key);
            }
            None => self.current = Some((key_group, key.to_vec())),
        }
        Ok(())
    }

    /// Deletes all of this subtask's state, of every key.
    pub fn clear_all(&mut self) -> Result<()> {
        self.store.clear_key_groups(self.owned)
    }

    pub fn store(&self) -> &dyn StateStore {
        self.store.as_ref()
    }

    fn prefix(&self, state: StateId, namespace: &[u8]) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.write_prefix(state, namespace, &mut out)?;
        Ok(out)
    }

    fn write_prefix(&self, state: StateId, namespace: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let Some((key_group, key)) = &self.current else {
            return Err(RuntimeError::State(
                "keyed state used without a current key".into(),
            ));
        };
        out.reserve(12 + key.len() + namespace.len());
        out.extend_from_slice(&key_group_prefix(*key_group));
        out.extend_from_slice(&state.0.to_be_bytes());
        out.extend_from_slice(&(key.len() as u32).to_be_bytes());
        out.extend_from_slice(key);
        out.extend_from_slice(&(namespace.len() as u32).to_be_bytes());
        out.extend_from_slice(namespace);
        Ok(())
    }

    /// Appends the stored key of the current key, `namespace` and (for map
    /// state) `user_key` to `out`.
    fn write_key<K: Serialize>(
        &self,
        state: StateId,
        namespace: &[u8],
        user_key: Option<&K>,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        self.write_prefix(state, namespace, out)?;
        if let Some(user_key) = user_key {
            let written = std::mem::take(out);
            *out = postcard::to_extend(user_key, written).map_err(state_error)?;
        }
        Ok(())
    }

    /// Calls `read` with the stored bytes under a key [`Self::write_key`]
    /// builds (in the reused read buffer), lent by the store. `read` must
    /// not use this keyed state: the buffer is borrowed meanwhile.
    fn read_with<K: Serialize>(
        &self,
        state: StateId,
        namespace: &[u8],
        user_key: Option<&K>,
        read: &mut super::ValueReader,
    ) -> Result<()> {
        let mut key = self.read_key.borrow_mut();
        key.clear();
        self.write_key(state, namespace, user_key, &mut key)?;
        self.store.read(&key, read)
    }

    /// The value under a key [`Self::write_key`] builds, decoded from the
    /// bytes the store lends.
    fn read_decoded<K: Serialize, T: DeserializeOwned>(
        &self,
        state: StateId,
        namespace: &[u8],
        user_key: Option<&K>,
    ) -> Result<Option<T>> {
        let mut decoded = None;
        self.read_with(state, namespace, user_key, &mut |bytes| {
            decoded = bytes.map(decode).transpose()?;
            Ok(())
        })?;
        Ok(decoded)
    }

    pub fn value<T: DeserializeOwned>(
        &self,
        state: StateId,
        namespace: &[u8],
    ) -> Result<Option<T>> {
        self.read_decoded::<(), T>(state, namespace, None)
    }

    pub fn set_value<T: Serialize>(
        &mut self,
        state: StateId,
        namespace: &[u8],
        value: &T,
    ) -> Result<()> {
        let key = self.prefix(state, namespace)?;
        self.store.put(&key, encode(value)?)
    }

    /// Value state kept as the caller's own bytes, not encoded: for an
    /// operator that reads a layout of its own in place.
    pub fn raw_value(&self, state: StateId, namespace: &[u8]) -> Result<Option<Vec<u8>>> {
        let mut value = None;
        self.read_raw_value(state, namespace, &mut |bytes| {
            value = bytes.map(<[u8]>::to_vec);
            Ok(())
        })?;
        Ok(value)
    }

    /// Calls `read` with the raw value state of the current key in
    /// `namespace` (`None`: none), lent by the store. `read` must not use
    /// this keyed state: its key buffer is borrowed meanwhile.
    pub fn read_raw_value(
        &self,
        state: StateId,
        namespace: &[u8],
        read: &mut super::ValueReader,
    ) -> Result<()> {
        self.read_with::<()>(state, namespace, None, read)
    }

    pub fn set_raw_value(
        &mut self,
        state: StateId,
        namespace: &[u8],
        bytes: Vec<u8>,
    ) -> Result<()> {
        let key = self.prefix(state, namespace)?;
        self.store.put(&key, bytes)
    }

    /// Lets `update` change the raw value state of the current key in
    /// `namespace` where it lies; see [`StateStore::update`].
    pub fn update_raw_value(
        &mut self,
        state: StateId,
        namespace: &[u8],
        update: &mut ValueUpdate,
    ) -> Result<()> {
        let key = self.prefix(state, namespace)?;
        self.store.update(&key, update)
    }

    /// Clears value or list state of the current key in `namespace`.
    pub fn clear(&mut self, state: StateId, namespace: &[u8]) -> Result<()> {
        let key = self.prefix(state, namespace)?;
        self.store.delete(&key)
    }

    pub fn list<T: DeserializeOwned>(&self, state: StateId, namespace: &[u8]) -> Result<Vec<T>> {
        Ok(self.value(state, namespace)?.unwrap_or_default())
    }

    pub fn add_to_list<T: Serialize + DeserializeOwned>(
        &mut self,
        state: StateId,
        namespace: &[u8],
        element: T,
    ) -> Result<()> {
        let mut list: Vec<T> = self.list(state, namespace)?;
        list.push(element);
        self.set_value(state, namespace, &list)
    }

    /// Runs `write` with the store and the stored key of `user_key`,
    /// built in the reused buffer: a key grown from empty was reallocated
    /// and copied on its way to a row's length (a tenth of Nexmark q7).
    fn with_map_key<K: Serialize, R>(
        &mut self,
        state: StateId,
        namespace: &[u8],
        user_key: &K,
        write: impl FnOnce(&mut dyn StateStore, &[u8]) -> Result<R>,
    ) -> Result<R> {
        let mut key = std::mem::take(self.read_key.get_mut());
        key.clear();
        let written = self
            .write_key(state, namespace, Some(user_key), &mut key)
            .and_then(|()| write(self.store.as_mut(), &key));
        *self.read_key.get_mut() = key;
        written
    }

    pub fn map_get<K: Serialize, V: DeserializeOwned>(
        &self,
        state: StateId,
        namespace: &[u8],
        user_key: &K,
    ) -> Result<Option<V>> {
        self.read_decoded(state, namespace, Some(user_key))
    }

    pub fn map_put<K: Serialize, V: Serialize>(
        &mut self,
        state: StateId,
        namespace: &[u8],
        user_key: &K,
        value: &V,
    ) -> Result<()> {
        let value = encode(value)?;
        self.with_map_key(state, namespace, user_key, |store, key| {
            store.put(key, value)
        })
    }

    /// Sets the current key's map entry of `user_key` in `namespace` to what
    /// `update` makes of it (`None`: no entry), reading and writing it with
    /// one search of the store where the store can.
    pub fn map_update<K: Serialize, V: Serialize + DeserializeOwned>(
        &mut self,
        state: StateId,
        namespace: &[u8],
        user_key: &K,
        update: impl FnOnce(Option<V>) -> Option<V>,
    ) -> Result<()> {
        let mut update = Some(update);
        self.with_map_key(state, namespace, user_key, |store, key| {
            store.update(key, &mut |value| {
                let update = update
                    .take()
                    .ok_or_else(|| state_error("a map entry was updated twice"))?;
                let old = value.as_deref().map(decode).transpose()?;
                *value = update(old).map(|new| encode(&new)).transpose()?;
                Ok(())
            })
        })
    }

    pub fn map_remove<K: Serialize>(
        &mut self,
        state: StateId,
        namespace: &[u8],
        user_key: &K,
    ) -> Result<()> {
        self.with_map_key(state, namespace, user_key, |store, key| store.delete(key))
    }

    /// Calls `visit` with each entry of the current key's map in
    /// `namespace`: its key as stored and its value, lent by the store.
    fn visit_map(&self, state: StateId, namespace: &[u8], visit: &mut EntryVisitor) -> Result<()> {
        let prefix = self.prefix(state, namespace)?;
        self.store.visit_prefix(&prefix, &mut |key, value| {
            // The value state of the namespace itself shares the prefix;
            // map keys follow it directly.
            if key.is_empty() {
                return Ok(());
            }
            visit(key, value)
        })
    }

    /// Every entry of the current key's map in `namespace`.
    pub fn map_entries<K: DeserializeOwned, V: DeserializeOwned>(
        &self,
        state: StateId,
        namespace: &[u8],
    ) -> Result<Vec<(K, V)>> {
        let mut entries = Vec::new();
        self.visit_map(state, namespace, &mut |key, value| {
            entries.push((decode(key)?, decode(value)?));
            Ok(())
        })?;
        Ok(entries)
    }

    /// Calls `visit` with each entry of the current key's map in
    /// `namespace` whose keys are byte strings ([`super::bytes::BytesRef`]):
    /// the key's bytes as stored, not copied, and the value.
    pub fn visit_byte_map<V: DeserializeOwned>(
        &self,
        state: StateId,
        namespace: &[u8],
        mut visit: impl FnMut(&[u8], V) -> Result<()>,
    ) -> Result<()> {
        self.visit_map(state, namespace, &mut |key, value| {
            let key: &[u8] = postcard::from_bytes(key).map_err(state_error)?;
            visit(key, decode(value)?)
        })
    }

    pub fn map_clear(&mut self, state: StateId, namespace: &[u8]) -> Result<()> {
        let prefix = self.prefix(state, namespace)?;
        for (key, _) in self.store.scan_prefix(&prefix)? {
            self.store.delete(&key)?;
        }
        Ok(())
    }
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    postcard::to_stdvec(value).map_err(state_error)
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    postcard::from_bytes(bytes).map_err(state_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key_groups::{java_string_hash, key_group_for_hash};
    use crate::state::disk::DiskStateStore;
    use crate::state::memory::MemoryStateStore;

    const COUNT: StateId = StateId(1);
    const SEEN: StateId = StateId(2);
    const PRICES: StateId = StateId(3);

    fn exercise(store: Box<dyn StateStore>) {
        let mut state = KeyedState::new(store, KeyGroupRange::new(0, 127));
        assert!(
            state.value::<i64>(COUNT, b"").is_err(),
            "no current key yet"
        );
        for key in ["alice", "bob"] {
            let kg = key_group_for_hash(java_string_hash(key), 128);
            state.set_current_key(kg, key.as_bytes()).unwrap();
            let count: i64 = state.value(COUNT, b"").unwrap().unwrap_or(0);
            state
                .set_value(COUNT, b"", &(count + key.len() as i64))
                .unwrap();
            state.add_to_list(SEEN, b"w1", key.to_string()).unwrap();
            state.add_to_list(SEEN, b"w1", "again".to_string()).unwrap();
            state.map_put(PRICES, b"w1", &"x", &1.5f64).unwrap();
            state.map_put(PRICES, b"w1", &"y", &2.5f64).unwrap();
            state.map_put(PRICES, b"w10", &"z", &9.0f64).unwrap();
        }
        let kg = key_group_for_hash(java_string_hash("alice"), 128);
        state.set_current_key(kg, b"alice").unwrap();
        assert_eq!(state.value::<i64>(COUNT, b"").unwrap(), Some(5));
        assert_eq!(
            state.list::<String>(SEEN, b"w1").unwrap(),
            ["alice", "again"]
        );
        assert!(
            state.list::<String>(SEEN, b"w2").unwrap().is_empty(),
            "namespaces are apart"
        );
        let mut prices: Vec<(String, f64)> = state.map_entries(PRICES, b"w1").unwrap();
        prices.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(prices, [("x".to_string(), 1.5), ("y".to_string(), 2.5)]);
        state.map_remove(PRICES, b"w1", &"x").unwrap();
        assert_eq!(state.map_get::<_, f64>(PRICES, b"w1", &"x").unwrap(), None);
        // Map entries updated: made, changed, deleted; a missing one left so.
        let mut seen = Vec::new();
        for update in [Some(1.0), Some(4.0), None, None] {
            state
                .map_update(PRICES, b"w1", &"u", |old: Option<f64>| {
                    seen.push(old);
                    update
                })
                .unwrap();
        }
        assert_eq!(seen, [None, Some(1.0), Some(4.0), None]);
        assert_eq!(state.map_get::<_, f64>(PRICES, b"w1", &"u").unwrap(), None);
        state
            .map_update(PRICES, b"w1", &"y", |old: Option<f64>| old.map(|p| p * 2.0))
            .unwrap();
        assert_eq!(
            state.map_get::<_, f64>(PRICES, b"w1", &"y").unwrap(),
            Some(5.0)
        );
        state
            .map_update(PRICES, b"w1", &"y", |_: Option<f64>| Some(2.5))
            .unwrap();
        state.map_clear(PRICES, b"w1").unwrap();
        assert!(
            state
                .map_entries::<String, f64>(PRICES, b"w1")
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            state
                .map_entries::<String, f64>(PRICES, b"w10")
                .unwrap()
                .len(),
            1
        );
        state.clear(COUNT, b"").unwrap();
        assert_eq!(state.value::<i64>(COUNT, b"").unwrap(), None);
        // Raw values changed where they lie: made, grown, failed, deleted.
        let mut grow = |value: &mut Option<Vec<u8>>| {
            value.get_or_insert_with(Vec::new).push(7);
            Ok(())
        };
        state.update_raw_value(COUNT, b"raw", &mut grow).unwrap();
        state.update_raw_value(COUNT, b"raw", &mut grow).unwrap();
        assert_eq!(state.raw_value(COUNT, b"raw").unwrap(), Some(vec![7, 7]));
        let failed = state.update_raw_value(COUNT, b"raw", &mut |_| {
            Err(RuntimeError::State("refused".into()))
        });
        assert!(failed.is_err());
        assert_eq!(state.raw_value(COUNT, b"raw").unwrap(), Some(vec![7, 7]));
        state
            .update_raw_value(COUNT, b"raw", &mut |value| {
                *value = None;
                Ok(())
            })
            .unwrap();
        assert_eq!(state.raw_value(COUNT, b"raw").unwrap(), None);
        let bob = key_group_for_hash(java_string_hash("bob"), 128);
        state.set_current_key(bob, b"bob").unwrap();
        assert_eq!(
            state.value::<i64>(COUNT, b"").unwrap(),
            Some(3),
            "keys are apart"
        );
    }

    #[test]
    fn value_list_and_map_state_in_memory() {
        exercise(Box::new(MemoryStateStore::new()));
    }

    #[test]
    fn value_list_and_map_state_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        exercise(Box::new(
            DiskStateStore::open(&dir.path().join("s")).unwrap(),
        ));
    }

    #[test]
    fn a_key_outside_the_subtasks_range_is_refused() {
        let mut state =
            KeyedState::new(Box::new(MemoryStateStore::new()), KeyGroupRange::new(0, 42));
        assert!(state.set_current_key(43, b"k").is_err());
    }
}
