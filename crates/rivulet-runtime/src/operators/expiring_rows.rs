//! The stored rows of one key and side of an inner interval or window
//! join, as they came, each with the time it leaves state, in one buffer:
//! `expires (i64 LE) | row length (u32 LE) | row`.
//!
//! Kept as map entries (row → count), every stored row was a hash of its
//! bytes and a search of its key's entries, twice (stored, then removed by
//! a timer of its own): in Nexmark q7, whose bids are keyed by price, those
//! searches were cache misses and most of the join's time. Listed, a row is
//! appended to its key's buffer; a key has one timer, and when it fires
//! every row that has expired is dropped at once. A row kept past its time
//! (a later row of the list expired first, or the timer is not yet due) is
//! passed over when rows are joined, so the join sees the rows a timer per
//! row would have left.

/// The bytes before a row: when it expires and its length.
const HEADER: usize = 12;

/// Appends `row`, expiring at `expires`, to `buffer`.
pub fn append(buffer: &mut Vec<u8>, expires: i64, row: &[u8]) -> Result<(), String> {
    let length =
        u32::try_from(row.len()).map_err(|_| "a stored row of 4 GiB or more".to_string())?;
    buffer.reserve(HEADER + row.len());
    buffer.extend_from_slice(&expires.to_le_bytes());
    buffer.extend_from_slice(&length.to_le_bytes());
    buffer.extend_from_slice(row);
    Ok(())
}

/// Every row of `buffer` with when it expires, in the order they came; an
/// error for bytes that are not such a list.
pub fn entries(buffer: &[u8]) -> impl Iterator<Item = Result<(i64, &[u8]), String>> {
    let mut rest = buffer;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let entry = split_entry(rest);
        rest = match &entry {
            Ok((_, _, after)) => after,
            Err(_) => &[],
        };
        Some(entry.map(|(expires, row, _)| (expires, row)))
    })
}

/// The first entry of `bytes`: when it expires, its row and what follows.
fn split_entry(bytes: &[u8]) -> Result<(i64, &[u8], &[u8]), String> {
    let corrupt = || "stored join rows are corrupt".to_string();
    let header = bytes.get(..HEADER).ok_or_else(corrupt)?;
    let (expires, length) = header.split_at(8);
    let expires = i64::from_le_bytes(expires.try_into().map_err(|_| corrupt())?);
    let length = u32::from_le_bytes(length.try_into().map_err(|_| corrupt())?) as usize;
    let end = HEADER.checked_add(length).ok_or_else(corrupt)?;
    let row = bytes.get(HEADER..end).ok_or_else(corrupt)?;
    Ok((expires, row, &bytes[end..]))
}

/// Drops the rows that have expired at `watermark` (those expiring at or
/// before it); when the earliest of the rows kept expires.
pub fn drop_expired(buffer: &mut Vec<u8>, watermark: i64) -> Result<Option<i64>, String> {
    let mut kept = Vec::with_capacity(buffer.len());
    let mut earliest: Option<i64> = None;
    for entry in entries(buffer) {
        let (expires, row) = entry?;
        if expires > watermark {
            append(&mut kept, expires, row)?;
            earliest = Some(earliest.map_or(expires, |e| e.min(expires)));
        }
    }
    *buffer = kept;
    Ok(earliest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(buffer: &[u8]) -> Vec<(i64, Vec<u8>)> {
        entries(buffer)
            .map(|e| e.map(|(t, r)| (t, r.to_vec())))
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn rows_come_back_in_order_and_leave_once_expired() {
        let mut buffer = Vec::new();
        for (expires, row) in [(30, &b"c"[..]), (10, b"a"), (20, b""), (10, b"a")] {
            append(&mut buffer, expires, row).unwrap();
        }
        assert_eq!(
            rows(&buffer),
            [
                (30, b"c".to_vec()),
                (10, b"a".to_vec()),
                (20, vec![]),
                (10, b"a".to_vec())
            ]
        );
        // Expired at 10: the rows expiring at 10; the earliest left is 20.
        assert_eq!(drop_expired(&mut buffer, 10).unwrap(), Some(20));
        assert_eq!(rows(&buffer), [(30, b"c".to_vec()), (20, vec![])]);
        assert_eq!(drop_expired(&mut buffer, 30).unwrap(), None);
        assert!(buffer.is_empty());
    }

    #[test]
    fn a_cut_or_padded_buffer_is_an_error_not_a_panic() {
        let mut buffer = Vec::new();
        append(&mut buffer, 5, b"row").unwrap();
        for cut in 1..buffer.len() {
            assert!(entries(&buffer[..cut]).any(|e| e.is_err()), "cut at {cut}");
        }
        let mut padded = buffer.clone();
        padded.push(0);
        assert!(entries(&padded).any(|e| e.is_err()));
        assert!(drop_expired(&mut padded, 0).is_err());
    }
}
