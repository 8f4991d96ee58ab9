//! The key of a scope in the in-memory state backend, kept inline when
//! short.
//!
//! Most scope keys are short: key group, state id, a BIGINT or a short
//! string key, an empty or 8-byte namespace, with their lengths: 20 – 40
//! bytes. Kept in the hash table's slot itself, a lookup compares bytes
//! already in the cache line it probed; a key on the heap was a second
//! cache miss for every probe that matched (the comparison was 13% of
//! Nexmark q7's profile, whose scopes are its bids' many prices). Longer
//! keys go on the heap.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

/// Keys up to this long are kept inline.
const INLINE: usize = 46;

#[derive(Clone)]
pub(super) enum ScopeKey {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl ScopeKey {
    pub(super) fn as_bytes(&self) -> &[u8] {
        match self {
            ScopeKey::Inline { len, bytes } => &bytes[..usize::from(*len)],
            ScopeKey::Heap(bytes) => bytes,
        }
    }
}

impl From<&[u8]> for ScopeKey {
    fn from(key: &[u8]) -> ScopeKey {
        match u8::try_from(key.len()) {
            Ok(len) if key.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..key.len()].copy_from_slice(key);
                ScopeKey::Inline { len, bytes }
            }
            _ => ScopeKey::Heap(key.into()),
        }
    }
}

impl Borrow<[u8]> for ScopeKey {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

// Hashed and compared as its bytes, so that a table of scope keys is
// searched with a plain byte slice.
impl Hash for ScopeKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl PartialEq for ScopeKey {
    fn eq(&self, other: &ScopeKey) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for ScopeKey {}

impl std::fmt::Debug for ScopeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ScopeKey").field(&self.as_bytes()).finish()
    }
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn short_and_long_keys_hash_and_compare_as_their_bytes() {
        let hasher = foldhash::fast::FixedState::with_seed(7);
        for len in [0, 1, 20, INLINE, INLINE + 1, 300] {
            let bytes: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let key = ScopeKey::from(bytes.as_slice());
            assert_eq!(matches!(key, ScopeKey::Inline { .. }), len <= INLINE);
            assert_eq!(key.as_bytes(), bytes.as_slice());
            assert_eq!(hasher.hash_one(&key), hasher.hash_one(bytes.as_slice()));
            assert_eq!(key, ScopeKey::from(bytes.as_slice()));
        }
        assert_ne!(ScopeKey::from(&b"ab"[..]), ScopeKey::from(&b"ab\0"[..]));
    }
}
