//! The stored rows of one key and side of a regular inner join of
//! insert-only inputs, as they came, in one buffer: for each row `row
//! length (LEB128) | row`.
//!
//! Such a join never takes a row back (no `-U` or `-D` comes) and never
//! counts partners (no side is outer), so it never looks a stored row up:
//! it only reads a key's rows to join them. Kept as map entries (row →
//! count), each row paid an eight-byte entry header, its count and a slot
//! of its key's hash index: Nexmark q4 and q20 keep 9.2 million bids of
//! 18 – 190 bytes, and those were 20 – 30 bytes more each. Listed, a row
//! costs its bytes and a byte or two of length, and storing it is an
//! append. A row that comes twice is listed twice, where map entries (and
//! Flink's join state) keep one copy and a count: an input of many equal
//! rows per key takes more memory this way.

use crate::leb128;

/// A full buffer grows by an eighth (at least 64 bytes and what the row
/// needs), not to twice its size: a key's rows only ever grow, and a
/// doubled buffer is a quarter empty on average.
const GROWTH_DIVISOR: usize = 8;

/// Appends `row` to `buffer`.
pub fn append(buffer: &mut Vec<u8>, row: &[u8]) {
    let needed = leb128::len(row.len() as u64) + row.len();
    if buffer.capacity() - buffer.len() < needed {
        let growth = (buffer.len() / GROWTH_DIVISOR).max(64).max(needed);
        buffer.reserve_exact(growth);
    }
    leb128::push(buffer, row.len() as u64);
    buffer.extend_from_slice(row);
}

/// Every row of `buffer`, in the order they came; an error for bytes that
/// are not such a list (after which nothing follows).
pub fn rows(buffer: &[u8]) -> impl Iterator<Item = Result<&[u8], String>> {
    let mut at = 0;
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || at == buffer.len() {
            return None;
        }
        let row = leb128::read_prefixed(buffer, &mut at);
        failed = row.is_none();
        Some(row.ok_or_else(corrupt))
    })
}

/// What reading bytes that are not such a list answers.
pub(super) fn corrupt() -> String {
    "stored join rows are corrupt".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(buffer: &[u8]) -> Vec<Vec<u8>> {
        rows(buffer)
            .map(|row| row.map(<[u8]>::to_vec))
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn rows_come_back_in_the_order_they_came_each_after_its_length() {
        let long = vec![7; 300];
        let mut buffer = Vec::new();
        for row in [&b"a"[..], b"", &long, b"a"] {
            append(&mut buffer, row);
        }
        assert_eq!(
            listed(&buffer),
            [b"a".to_vec(), vec![], long, b"a".to_vec()]
        );
        // One byte of length for a short row, two for 300 bytes.
        assert_eq!(buffer.len(), (1 + 1) + 1 + (2 + 300) + (1 + 1));
        assert!(listed(&[]).is_empty());
    }

    #[test]
    fn a_buffer_grows_by_an_eighth_not_twice() {
        let mut buffer = Vec::new();
        for _ in 0..100_000 {
            append(&mut buffer, &[1; 20]);
        }
        assert_eq!(buffer.len(), 2_100_000);
        assert!(buffer.capacity() <= buffer.len() + buffer.len() / GROWTH_DIVISOR + 21);
    }

    #[test]
    fn a_cut_or_padded_buffer_is_an_error_not_a_panic() {
        let mut buffer = Vec::new();
        append(&mut buffer, &[5; 200]);
        for cut in 1..buffer.len() {
            assert!(rows(&buffer[..cut]).any(|r| r.is_err()), "cut at {cut}");
        }
        let mut padded = buffer.clone();
        padded.push(3);
        let read: Vec<_> = rows(&padded).collect();
        assert_eq!(read.len(), 2);
        assert!(read[1].is_err());
        // A length past what the platform can address is corrupt too.
        assert!(rows(&[0xff; 11]).any(|r| r.is_err()));
    }
}
