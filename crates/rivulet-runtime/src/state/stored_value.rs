//! A scope's own value in the in-memory backend: in the table's slot when
//! short, on the heap otherwise.
//!
//! Many keyed values are a few bytes: a deduplication's sort key, a
//! count, a window's accumulators. On the heap each was an allocation of
//! its own (32 bytes for a 17-byte value, in mimalloc's size classes) and a
//! second cache miss for every read. In the slot they cost the slot eight
//! bytes more than the `Vec` did. Nexmark q18 keeps 2.9 million of them.
//!
//! Updates take the value as a `Vec`: a short one is copied into a buffer
//! kept for the purpose and back, so no update allocates; a long one is
//! lent as it is and updated in place, as before.

use super::ValueUpdate;
use crate::error::Result;

/// Values up to this long are kept inline: the slot is then as large as a
/// `Vec` and its tag.
const INLINE: usize = 30;

#[derive(Debug)]
pub(super) enum StoredValue {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Vec<u8>),
}

impl StoredValue {
    pub(super) fn as_bytes(&self) -> &[u8] {
        match self {
            StoredValue::Inline { len, bytes } => &bytes[..usize::from(*len)],
            StoredValue::Heap(bytes) => bytes,
        }
    }

    /// `bytes` inline, when they are short enough.
    fn inline(bytes: &[u8]) -> Option<StoredValue> {
        let len = u8::try_from(bytes.len())
            .ok()
            .filter(|_| bytes.len() <= INLINE)?;
        let mut inline = [0; INLINE];
        inline[..bytes.len()].copy_from_slice(bytes);
        Some(StoredValue::Inline { len, bytes: inline })
    }

    pub(super) fn from_vec(bytes: Vec<u8>) -> StoredValue {
        StoredValue::inline(&bytes).unwrap_or(StoredValue::Heap(bytes))
    }

    /// Runs `update` on the value in `slot` (none, short or long); a short
    /// one goes through `scratch` (see the module docs).
    pub(super) fn update(
        slot: &mut Option<StoredValue>,
        scratch: &mut Vec<u8>,
        update: &mut ValueUpdate,
    ) -> Result<()> {
        if let Some(StoredValue::Heap(bytes)) = slot {
            let mut value = Some(std::mem::take(bytes));
            let updated = update(&mut value);
            // A long value that shrinks stays where it is: no move back and
            // forth for a value about the inline length.
            *slot = value.map(StoredValue::Heap);
            return updated;
        }
        let mut value = slot.as_ref().map(|stored| {
            scratch.clear();
            scratch.extend_from_slice(stored.as_bytes());
            std::mem::take(scratch)
        });
        let updated = update(&mut value);
        *slot = value.map(|bytes| match StoredValue::inline(&bytes) {
            Some(inline) => {
                // The buffer goes back for the next update.
                *scratch = bytes;
                inline
            }
            None => StoredValue::Heap(bytes),
        });
        updated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(slot: &mut Option<StoredValue>, scratch: &mut Vec<u8>, to: Option<Vec<u8>>) {
        StoredValue::update(slot, scratch, &mut |value| {
            *value = to.clone();
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn values_of_every_length_update_to_every_length() {
        let lengths = [0, 1, INLINE - 1, INLINE, INLINE + 1, 300];
        let value = |len: usize| (0..len).map(|i| i as u8 ^ 0x5a).collect::<Vec<u8>>();
        for from in lengths.iter().map(|&l| Some(value(l))).chain([None]) {
            for to in lengths.iter().map(|&l| Some(value(l))).chain([None]) {
                let mut scratch = Vec::new();
                let mut slot = from.clone().map(StoredValue::from_vec);
                // What the update is lent is the stored value.
                StoredValue::update(&mut slot, &mut scratch, &mut |lent| {
                    assert_eq!(*lent, from);
                    Ok(())
                })
                .unwrap();
                run(&mut slot, &mut scratch, to.clone());
                assert_eq!(slot.as_ref().map(|s| s.as_bytes().to_vec()), to);
                let inline = matches!(slot, Some(StoredValue::Inline { .. }));
                let short = to.as_ref().is_some_and(|t| t.len() <= INLINE);
                let was_long = from.as_ref().is_some_and(|f| f.len() > INLINE);
                assert_eq!(inline, short && !was_long, "{from:?} to {to:?}");
            }
        }
    }

    #[test]
    fn a_short_value_updated_leaves_its_buffer_for_the_next() {
        let mut scratch = Vec::new();
        let mut slot = Some(StoredValue::from_vec(vec![1, 2, 3]));
        // Each update writes the value anew in the buffer it is lent, and
        // notes where that buffer is.
        let set = |slot: &mut Option<StoredValue>, scratch: &mut Vec<u8>, to: &[u8]| {
            let mut lent_at = None;
            StoredValue::update(slot, scratch, &mut |value| {
                let value = value.get_or_insert_with(Vec::new);
                value.clear();
                value.extend_from_slice(to);
                lent_at = Some(value.as_ptr());
                Ok(())
            })
            .unwrap();
            lent_at
        };
        let first = set(&mut slot, &mut scratch, &[4, 5, 6, 7]);
        let second = set(&mut slot, &mut scratch, &[8]);
        assert_eq!(first, second, "the same buffer, lent again");
        assert!(scratch.capacity() >= 4);
        assert_eq!(slot.as_ref().map(StoredValue::as_bytes), Some(&[8][..]));
    }

    #[test]
    fn a_short_value_is_as_large_as_a_vec_and_its_tag() {
        assert_eq!(size_of::<Option<StoredValue>>(), 32);
    }
}
