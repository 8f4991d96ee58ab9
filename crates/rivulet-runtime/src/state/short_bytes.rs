//! A timer's key or namespace: bytes kept inline when short.
//!
//! Operators register timers by the million (a window's timer for every key
//! it holds, a join's sweep for every key that lists rows), and a timer's
//! key (a BIGINT key is at most 11 bytes) and namespace (a window's is 16)
//! are mostly short: kept inline, registering a timer allocates nothing,
//! where two vectors were allocated and freed for every one.

use std::hash::{Hash, Hasher};
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes up to this long are kept inline (the enum is then as large as a
/// `Vec`).
const INLINE: usize = 22;

#[derive(Clone)]
pub enum ShortBytes {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl ShortBytes {
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            ShortBytes::Inline { len, bytes } => &bytes[..usize::from(*len)],
            ShortBytes::Heap(bytes) => bytes,
        }
    }
}

impl Default for ShortBytes {
    fn default() -> ShortBytes {
        ShortBytes::from(&[][..])
    }
}

impl From<&[u8]> for ShortBytes {
    fn from(bytes: &[u8]) -> ShortBytes {
        match u8::try_from(bytes.len()) {
            Ok(len) if bytes.len() <= INLINE => {
                let mut inline = [0; INLINE];
                inline[..bytes.len()].copy_from_slice(bytes);
                ShortBytes::Inline { len, bytes: inline }
            }
            _ => ShortBytes::Heap(bytes.into()),
        }
    }
}

impl From<Vec<u8>> for ShortBytes {
    fn from(bytes: Vec<u8>) -> ShortBytes {
        if bytes.len() <= INLINE {
            ShortBytes::from(bytes.as_slice())
        } else {
            ShortBytes::Heap(bytes.into_boxed_slice())
        }
    }
}

impl Deref for ShortBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

// Hashed, compared and ordered as its bytes, as the `Vec<u8>` it replaces:
// a borrowed timer (`TimerRef`) finds its timer in a hash set.
impl Hash for ShortBytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl PartialEq for ShortBytes {
    fn eq(&self, other: &ShortBytes) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for ShortBytes {}

impl PartialOrd for ShortBytes {
    fn partial_cmp(&self, other: &ShortBytes) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ShortBytes {
    fn cmp(&self, other: &ShortBytes) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl std::fmt::Debug for ShortBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_bytes().fmt(f)
    }
}

// Written as a sequence of bytes, as a `Vec<u8>` is, so snapshots read the same.
impl Serialize for ShortBytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.as_bytes().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ShortBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ShortBytes, D::Error> {
        Vec::<u8>::deserialize(deserializer).map(ShortBytes::from)
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
