//! Flink's `hashmap` backend: keyed state in an in-memory hash table.
//!
//! Operators read and write one key's state per row, so the store is a hash
//! table of *scopes* (a stored key up to the end of its namespace, see
//! [`super::scope_len`]): a point read or write is one hash probe, where an
//! ordered map of every entry paid a comparison of long shared prefixes at
//! each of its levels. A scope holds its value (value and list state) and,
//! for map state, its map entries (packed in one buffer, see
//! [`super::packed_entries`]), so a map lookup is a second, local search,
//! and the prefix scans that map state makes (one scope) visit just that
//! scope. Scans
//! across scopes (snapshots of a key-group range) walk the whole table and
//! sort, as they are rare.

use hashbrown::HashMap;

use super::packed_entries::PackedEntries;
use super::scope_key::ScopeKey;
use super::stored_value::StoredValue;
use super::{
    EntryVisitor, StateStore, ValueReader, ValueUpdate, key_group_of, scope_len, visit_by_copy,
};
use crate::error::Result;
use crate::key_groups::KeyGroupRange;

#[derive(Debug, Default)]
pub struct MemoryStateStore {
    /// The scopes of each key group, by key group (see the module docs).
    groups: Vec<Scopes>,
    /// What short values are updated in ([`StoredValue::update`]).
    scratch: Vec<u8>,
}

type Scopes = HashMap<ScopeKey, Scope>;

/// The entries of one scope: the one stored under the scope's own key, and
/// those whose keys go on past it (map state's entries), by what follows.
///
/// Keyed state gives value state and each map state scopes of their own
/// (the state's id is in the scope), so a scope holds a value or map
/// entries, both only in a store used otherwise; that rare case is boxed,
/// so that a slot is as large as a value (four million scopes in Nexmark
/// q4, eight bytes less each).
#[derive(Debug)]
enum Scope {
    Value(Option<StoredValue>),
    Items(PackedEntries),
    Both(Box<(StoredValue, PackedEntries)>),
}

impl Default for Scope {
    fn default() -> Self {
        Scope::Value(None)
    }
}

impl Scope {
    /// The scope of `value` and `items` (none when empty).
    fn of(value: Option<StoredValue>, items: Option<PackedEntries>) -> Scope {
        match (value, items.filter(|items| !items.is_empty())) {
            (value, None) => Scope::Value(value),
            (None, Some(items)) => Scope::Items(items),
            (Some(value), Some(items)) => Scope::Both(Box::new((value, items))),
        }
    }

    /// The scope taken apart into its value and its map entries.
    fn parts(self) -> (Option<StoredValue>, Option<PackedEntries>) {
        match self {
            Scope::Value(value) => (value, None),
            Scope::Items(items) => (None, Some(items)),
            Scope::Both(both) => {
                let (value, items) = *both;
                (Some(value), Some(items))
            }
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Scope::Value(value) => value.is_none(),
            Scope::Items(items) => items.is_empty(),
            Scope::Both(_) => false,
        }
    }

    fn value(&self) -> Option<&StoredValue> {
        match self {
            Scope::Value(value) => value.as_ref(),
            Scope::Items(_) => None,
            Scope::Both(both) => Some(&both.0),
        }
    }

    /// The map entries, if the scope has any.
    fn items(&self) -> Option<&PackedEntries> {
        match self {
            Scope::Value(_) => None,
            Scope::Items(items) => Some(items),
            Scope::Both(both) => Some(&both.1),
        }
    }

    /// Runs `change` on the scope's value (its own, in the slot, as most
    /// scopes are only a value).
    fn with_value<R>(&mut self, change: impl FnOnce(&mut Option<StoredValue>) -> R) -> R {
        if let Scope::Value(value) = self {
            return change(value);
        }
        let (mut value, items) = std::mem::take(self).parts();
        let changed = change(&mut value);
        *self = Scope::of(value, items);
        changed
    }

    /// Runs `change` on the scope's map entries.
    fn with_items<R>(&mut self, change: impl FnOnce(&mut PackedEntries) -> R) -> R {
        if let Scope::Items(items) = self {
            let changed = change(items);
            if items.is_empty() {
                *self = Scope::Value(None);
            }
            return changed;
        }
        let (value, items) = std::mem::take(self).parts();
        let mut items = items.unwrap_or_default();
        let changed = change(&mut items);
        *self = Scope::of(value, Some(items));
        changed
    }

    /// Every entry as `(full key, value)`, in no particular order.
    fn entries<'a>(&'a self, scope: &'a [u8]) -> impl Iterator<Item = (Vec<u8>, Vec<u8>)> + 'a {
        let own = self
            .value()
            .map(|v| (scope.to_vec(), v.as_bytes().to_vec()));
        let items = self
            .items()
            .into_iter()
            .flat_map(PackedEntries::iter)
            .map(move |(rest, v)| ([scope, rest].concat(), v.to_vec()));
        own.into_iter().chain(items)
    }
}

/// An update of a key whose scope is not stored: a new scope only for what
/// the update makes.
fn new_scope(store: &mut MemoryStateStore, key: &[u8], update: &mut ValueUpdate) -> Result<()> {
    let mut value = None;
    update(&mut value)?;
    value.map_or(Ok(()), |value| store.put(key, value))
}

fn group_index(scope: &[u8]) -> usize {
    key_group_of(scope).map_or(0, |group| group as usize)
}

/// A key's scope and what follows it; a key not in keyed state's layout
/// is a scope of its own.
fn split(key: &[u8]) -> (&[u8], &[u8]) {
    key.split_at(scope_len(key).unwrap_or(key.len()))
}

impl MemoryStateStore {
    pub fn new() -> MemoryStateStore {
        MemoryStateStore::default()
    }

    /// The table of `scope`'s key group (the first, for a key too short to
    /// name one), when there is one.
    fn scopes(&self, scope: &[u8]) -> Option<&Scopes> {
        self.groups.get(group_index(scope))
    }

    fn scopes_mut(&mut self, scope: &[u8]) -> Option<&mut Scopes> {
        self.groups.get_mut(group_index(scope))
    }

    /// The table of `scope`'s key group, made when it is the first.
    fn scopes_made(&mut self, scope: &[u8]) -> &mut Scopes {
        let index = group_index(scope);
        if self.groups.len() <= index {
            self.groups.resize_with(index + 1, Scopes::default);
        }
        &mut self.groups[index]
    }

    fn all_scopes(&self) -> impl Iterator<Item = (&ScopeKey, &Scope)> {
        self.groups.iter().flatten()
    }

    /// Every entry whose key `wanted` takes, in key order.
    fn scan_all(&self, wanted: impl Fn(&[u8]) -> bool) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut found: Vec<(Vec<u8>, Vec<u8>)> = self
            .all_scopes()
            .flat_map(|(scope, entries)| entries.entries(scope.as_bytes()))
            .filter(|(key, _)| wanted(key))
            .collect();
        found.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        found
    }
}

impl StateStore for MemoryStateStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let (scope, rest) = split(key);
        let Some(entries) = self.scopes(scope).and_then(|scopes| scopes.get(scope)) else {
            return Ok(None);
        };
        Ok(if rest.is_empty() {
            entries.value().map(|v| v.as_bytes().to_vec())
        } else {
            entries
                .items()
                .and_then(|items| items.get(rest))
                .map(<[u8]>::to_vec)
        })
    }

    fn read(&self, key: &[u8], read: &mut ValueReader) -> Result<()> {
        let (scope, rest) = split(key);
        let entries = self.scopes(scope).and_then(|scopes| scopes.get(scope));
        read(entries.and_then(|entries| {
            if rest.is_empty() {
                entries.value().map(StoredValue::as_bytes)
            } else {
                entries.items().and_then(|items| items.get(rest))
            }
        }))
    }

    fn put(&mut self, key: &[u8], value: Vec<u8>) -> Result<()> {
        // The scope's key lives in the table's slot; what follows it is
        // copied into the scope's entry buffer.
        let (scope, rest) = split(key);
        let entries = self
            .scopes_made(scope)
            .entry(ScopeKey::from(scope))
            .or_default();
        if rest.is_empty() {
            entries.with_value(|stored| *stored = Some(StoredValue::from_vec(value)));
            Ok(())
        } else {
            entries.with_items(|items| items.insert(rest, &value))
        }
    }

    fn updates_in_place(&self) -> bool {
        true
    }

    fn update(&mut self, key: &[u8], update: &mut ValueUpdate) -> Result<()> {
        let (scope, rest) = split(key);
        // The table and the scratch buffer, borrowed apart.
        let Some(scopes) = self.groups.get_mut(group_index(scope)) else {
            return new_scope(self, key, update);
        };
        let Some(entries) = scopes.get_mut(scope) else {
            return new_scope(self, key, update);
        };
        let scratch = &mut self.scratch;
        let updated = if rest.is_empty() {
            entries.with_value(|value| StoredValue::update(value, scratch, update))
        } else {
            // A map entry, found once among the scope's packed entries.
            entries.with_items(|items| items.update(rest, update))
        };
        if entries.is_empty() {
            scopes.remove(scope);
        }
        updated
    }

    fn delete(&mut self, key: &[u8]) -> Result<()> {
        let (scope, rest) = split(key);
        let Some(scopes) = self.scopes_mut(scope) else {
            return Ok(());
        };
        if let Some(entries) = scopes.get_mut(scope) {
            if rest.is_empty() {
                entries.with_value(|value| *value = None);
            } else if entries.items().is_some() {
                entries.with_items(|items| items.remove(rest));
            }
            if entries.is_empty() {
                scopes.remove(scope);
            }
        }
        Ok(())
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        if scope_len(prefix) == Some(prefix.len()) {
            // A whole scope: only its own entries start with it, as every
            // length inside a scope is written before what it measures.
            return Ok(self
                .scopes(prefix)
                .and_then(|scopes| scopes.get(prefix))
                .map(|entries| entries.entries(prefix).collect())
                .unwrap_or_default());
        }
        Ok(self.scan_all(|key| key.starts_with(prefix)))
    }

    fn visit_prefix(&self, prefix: &[u8], visit: &mut EntryVisitor) -> Result<()> {
        if scope_len(prefix) != Some(prefix.len()) {
            return visit_by_copy(self, prefix, visit);
        }
        // A whole scope: its entries lent as they lie.
        let Some(entries) = self.scopes(prefix).and_then(|scopes| scopes.get(prefix)) else {
            return Ok(());
        };
        if let Some(value) = entries.value() {
            visit(&[], value.as_bytes())?;
        }
        for (rest, value) in entries.items().into_iter().flat_map(PackedEntries::iter) {
            visit(rest, value)?;
        }
        Ok(())
    }

    fn scan_key_groups(&self, range: KeyGroupRange) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        Ok(self.scan_all(|key| key_group_of(key).is_some_and(|kg| range.contains(kg))))
    }

    fn clear_key_groups(&mut self, range: KeyGroupRange) -> Result<()> {
        // A scope's entries are all of its key group, and a key group's
        // table holds only its scopes (but the first: keys too short to
        // name a group go there too). A dropped table gives its memory back.
        for (index, scopes) in self.groups.iter_mut().enumerate() {
            let group = u32::try_from(index).ok();
            if index > 0 && group.is_some_and(|group| range.contains(group)) {
                *scopes = Scopes::default();
            } else if index == 0 {
                scopes.retain(|scope, _| {
                    !key_group_of(scope.as_bytes()).is_some_and(|kg| range.contains(kg))
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key in keyed state's layout, and the same with a map key after it.
    fn scoped(kg: u16, key: &[u8], namespace: &[u8], item: &[u8]) -> Vec<u8> {
        let mut out = kg.to_be_bytes().to_vec();
        out.extend_from_slice(&7u16.to_be_bytes());
        out.extend_from_slice(&(key.len() as u32).to_be_bytes());
        out.extend_from_slice(key);
        out.extend_from_slice(&(namespace.len() as u32).to_be_bytes());
        out.extend_from_slice(namespace);
        out.extend_from_slice(item);
        out
    }

    #[test]
    fn scans_find_what_an_ordered_map_finds() {
        let mut store = MemoryStateStore::new();
        let mut ordered = std::collections::BTreeMap::new();
        for kg in [3u16, 1, 2] {
            for key in [&b"bob"[..], b"al", b"alice"] {
                for namespace in [&b""[..], b"w1", b"w10"] {
                    for item in [&b""[..], b"\x02z", b"\x01a", b"\x01"] {
                        let full = scoped(kg, key, namespace, item);
                        store.put(&full, full.clone()).unwrap();
                        ordered.insert(full.clone(), full);
                    }
                }
            }
        }
        let gone = scoped(2, b"al", b"w1", b"\x01a");
        store.delete(&gone).unwrap();
        ordered.remove(&gone);
        let expected = |prefix: &[u8]| -> Vec<(Vec<u8>, Vec<u8>)> {
            ordered
                .iter()
                .filter(|(k, _)| k.starts_with(prefix))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        let scope = scoped(2, b"al", b"w1", b"");
        for prefix in [&scope[..], &scope[..6], &scope[..2], &[]] {
            let mut found = store.scan_prefix(prefix).unwrap();
            found.sort();
            assert_eq!(found, expected(prefix));
        }
        let groups = store.scan_key_groups(KeyGroupRange::new(2, 3)).unwrap();
        assert_eq!(groups, [expected(&[0, 2]), expected(&[0, 3])].concat());
        assert_eq!(store.get(&gone).unwrap(), None);
        assert_eq!(store.get(&scope).unwrap(), Some(scope.clone()));
        // Lent reads see what copies see: values, map entries, absences.
        for key in ordered.keys().chain([&gone]) {
            let mut lent = None;
            store
                .read(key, &mut |value| {
                    lent = value.map(<[u8]>::to_vec);
                    Ok(())
                })
                .unwrap();
            assert_eq!(lent, store.get(key).unwrap());
            assert_eq!(lent.as_ref(), ordered.get(key));
        }
        // A scope whose every entry is deleted leaves nothing behind.
        for (key, _) in store.scan_prefix(&scope).unwrap() {
            store.delete(&key).unwrap();
        }
        assert!(store.scan_prefix(&scope).unwrap().is_empty());
        assert!(store.all_scopes().all(|(key, _)| key.as_bytes() != scope));
    }

    #[test]
    fn a_scope_with_many_map_entries_reads_as_one_with_few() {
        // Past a few entries a scope's keys are hashed; reads,
        // overwrites and deletes answer the same on either side of that.
        let mut store = MemoryStateStore::new();
        let item = |i: u8| scoped(1, b"k", b"", &[1, i]);
        for count in [3u8, 30] {
            for i in 0..count {
                store.put(&item(i), vec![i]).unwrap();
                store.put(&item(i), vec![i, i]).unwrap();
            }
            for i in (0..count).step_by(2) {
                store.delete(&item(i)).unwrap();
            }
            for i in 0..count {
                let expected = (i % 2 == 1).then(|| vec![i, i]);
                assert_eq!(
                    store.get(&item(i)).unwrap(),
                    expected,
                    "{count} items, item {i}"
                );
            }
            let scope = scoped(1, b"k", b"", b"");
            assert_eq!(
                store.scan_prefix(&scope).unwrap().len(),
                usize::from(count / 2)
            );
            for i in 0..count {
                store.delete(&item(i)).unwrap();
            }
            assert!(
                store.all_scopes().next().is_none(),
                "{count} items all deleted"
            );
        }
    }

    #[test]
    fn clearing_key_groups_leaves_the_others_and_keys_of_no_group() {
        let mut store = MemoryStateStore::new();
        let short = vec![9u8];
        for kg in 0..4u16 {
            store.put(&scoped(kg, b"k", b"", b""), vec![1]).unwrap();
            store
                .put(&scoped(kg, b"k", b"", b"\x01m"), vec![2])
                .unwrap();
        }
        store.put(&short, vec![3]).unwrap();
        let left = |store: &MemoryStateStore| {
            let mut keys: Vec<Option<u32>> = store
                .scan_all(|_| true)
                .into_iter()
                .map(|(key, _)| {
                    if key.len() > 2 {
                        key_group_of(&key)
                    } else {
                        None
                    }
                })
                .collect();
            keys.dedup();
            keys
        };
        store.clear_key_groups(KeyGroupRange::new(1, 2)).unwrap();
        // In key order: the one-byte key sorts last.
        assert_eq!(left(&store), [Some(0), Some(3), None]);
        store.clear_key_groups(KeyGroupRange::new(0, 0)).unwrap();
        assert_eq!(left(&store), [Some(3), None]);
        assert_eq!(store.get(&short).unwrap(), Some(vec![3]));
    }

    #[test]
    fn a_scope_is_as_large_as_a_value() {
        assert_eq!(size_of::<Scope>(), size_of::<Option<StoredValue>>());
    }

    #[test]
    fn snapshots_and_restores_key_group_ranges() {
        crate::state::tests::snapshot_and_restore_by_key_group_range(|| {
            Box::new(MemoryStateStore::new())
        });
    }
}
