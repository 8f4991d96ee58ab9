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

/// Keys up to this long are kept inline.
const INLINE: usize = 46;

pub(super) type ScopeKey = super::short_bytes::InlineBytes<INLINE>;

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
