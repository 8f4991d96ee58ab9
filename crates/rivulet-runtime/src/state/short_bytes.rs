//! Bytes kept inline when short ([`InlineBytes`]), on the heap otherwise;
//! hashed, compared, ordered and serialized as the bytes themselves.
//!
//! - A timer's key and namespace ([`ShortBytes`]): operators register
//!   timers by the million (a window's timer for every key it holds, a
//!   join's sweep for every key that lists rows), and a timer's key (a
//!   BIGINT key is at most 11 bytes) and namespace (a window's is 16) are
//!   mostly short: kept inline, registering a timer allocates nothing, where
//!   two vectors were allocated and freed for every one.
//! - The in-memory backend's scope keys ([`super::scope_key`]).

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Up to `N` bytes (at most 255) inline, more on the heap.
#[derive(Clone)]
pub enum InlineBytes<const N: usize> {
    Inline { len: u8, bytes: [u8; N] },
    Heap(Box<[u8]>),
}

/// A timer's key or namespace: up to 22 bytes inline, so that it is as
/// large as the `Vec` it replaces.
pub type ShortBytes = InlineBytes<22>;

impl<const N: usize> InlineBytes<N> {
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            InlineBytes::Inline { len, bytes } => &bytes[..usize::from(*len)],
            InlineBytes::Heap(bytes) => bytes,
        }
    }
}

impl<const N: usize> Default for InlineBytes<N> {
    fn default() -> Self {
        Self::from(&[][..])
    }
}

impl<const N: usize> From<&[u8]> for InlineBytes<N> {
    fn from(bytes: &[u8]) -> Self {
        match u8::try_from(bytes.len()) {
            Ok(len) if bytes.len() <= N => {
                let mut inline = [0; N];
                inline[..bytes.len()].copy_from_slice(bytes);
                InlineBytes::Inline { len, bytes: inline }
            }
            _ => InlineBytes::Heap(bytes.into()),
        }
    }
}

impl<const N: usize> From<Vec<u8>> for InlineBytes<N> {
    fn from(bytes: Vec<u8>) -> Self {
        if bytes.len() <= N {
            Self::from(bytes.as_slice())
        } else {
            InlineBytes::Heap(bytes.into_boxed_slice())
        }
    }
}

impl<const N: usize> Deref for InlineBytes<N> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

// A table of them is searched with a plain byte slice.
impl<const N: usize> Borrow<[u8]> for InlineBytes<N> {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

// Hashed, compared and ordered as its bytes, as a `Vec<u8>` or a byte slice:
// a borrowed timer (`TimerRef`) finds its timer in a hash set, a byte slice
// its scope in the state table.
impl<const N: usize> Hash for InlineBytes<N> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl<const N: usize> PartialEq for InlineBytes<N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl<const N: usize> Eq for InlineBytes<N> {}

impl<const N: usize> PartialOrd for InlineBytes<N> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<const N: usize> Ord for InlineBytes<N> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl<const N: usize> std::fmt::Debug for InlineBytes<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_bytes().fmt(f)
    }
}

// Written as a sequence of bytes, as a `Vec<u8>` is, so snapshots read the same.
impl<const N: usize> Serialize for InlineBytes<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.as_bytes().serialize(serializer)
    }
}

impl<'de, const N: usize> Deserialize<'de> for InlineBytes<N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<u8>::deserialize(deserializer).map(Self::from)
    }
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn short_and_long_bytes_behave_as_the_vectors_they_replace() {
        let hasher = foldhash::fast::FixedState::with_seed(3);
        let mut all = Vec::new();
        const INLINE: usize = 22;
        for len in [0, 1, 16, INLINE, INLINE + 1, 200] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let short = ShortBytes::from(bytes.as_slice());
            assert_eq!(matches!(short, ShortBytes::Inline { .. }), len <= INLINE);
            assert_eq!(&*short, bytes.as_slice());
            assert_eq!(ShortBytes::from(bytes.clone()), short);
            assert_eq!(hasher.hash_one(&short), hasher.hash_one(bytes.as_slice()));
            let written = postcard::to_stdvec(&short).unwrap();
            assert_eq!(written, postcard::to_stdvec(&bytes).unwrap());
            assert_eq!(postcard::from_bytes::<ShortBytes>(&written).unwrap(), short);
            all.push((short, bytes));
        }
        all.sort_by(|a, b| a.0.cmp(&b.0));
        assert!(all.windows(2).all(|w| w[0].1 <= w[1].1), "ordered as bytes");
    }
}
