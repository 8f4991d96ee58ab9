//! Byte strings as keyed state stores them: serialised whole (a length and
//! the bytes, copied at once), where serde would visit a `Vec<u8>` one
//! number at a time. Operators keep arrow rows this way (a join's rows are
//! its map keys). The encoding is the one postcard gives a `Vec<u8>`, so
//! either reads what the other wrote.

use serde::de::{Error, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Borrowed bytes to store.
#[derive(Debug, Clone, Copy)]
pub struct BytesRef<'a>(pub &'a [u8]);

impl Serialize for BytesRef<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

/// Stored bytes, read back.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoredBytes(pub Vec<u8>);

impl<'de> Deserialize<'de> for StoredBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_byte_buf(BytesVisitor)
            .map(StoredBytes)
    }
}

struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = Vec<u8>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a byte string")
    }

    fn visit_bytes<E: Error>(self, bytes: &[u8]) -> Result<Vec<u8>, E> {
        Ok(bytes.to_vec())
    }

    fn visit_byte_buf<E: Error>(self, bytes: Vec<u8>) -> Result<Vec<u8>, E> {
        Ok(bytes)
    }

    // Formats that write bytes as a sequence give them back as one.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
        let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(byte) = seq.next_element()? {
            bytes.push(byte);
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_whole_as_postcard_stores_a_vector_of_bytes() {
        for bytes in [vec![], vec![0u8, 255, 7], vec![9u8; 300]] {
            let whole = postcard::to_stdvec(&BytesRef(&bytes)).unwrap();
            assert_eq!(whole, postcard::to_stdvec(&bytes).unwrap());
            let read: StoredBytes = postcard::from_bytes(&whole).unwrap();
            assert_eq!(read.0, bytes);
        }
        // A map entry's key and value, as the join stores them.
        let entry = postcard::to_stdvec(&(BytesRef(b"row"), 3u32)).unwrap();
        let (row, count): (StoredBytes, u32) = postcard::from_bytes(&entry).unwrap();
        assert_eq!((row.0.as_slice(), count), (&b"row"[..], 3));
    }
}
