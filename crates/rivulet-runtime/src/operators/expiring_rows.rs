//! The stored rows of one key and side of an inner interval or window
//! join, as they came, each with the time it leaves state, in one buffer:
//! `next sweep (i64 LE)`, then for each row `expires (i64 LE) | row length
//! (u32 LE) | row`.
//!
//! Kept as map entries (row → count), every stored row was a hash of its
//! bytes and a search of its key's entries, twice (stored, then removed by
//! a timer of its own): in Nexmark q7, whose bids are keyed by price, those
//! searches were cache misses and most of the join's time. Listed, a row is
//! appended to its key's buffer. The buffer records when its earliest
//! pending sweep is due; a row due to be swept before that sets an earlier
//! sweep, so one row far ahead in time does not hold the others back. A
//! sweep drops every row that has expired at once. A row kept past its time
//! (its sweep is not yet due) is passed over when rows are joined, so the
//! join sees the rows a timer per row would have left.

/// The bytes of the next sweep's time, at the head of a buffer.
const DUE: usize = 8;
/// The bytes before a row: when it expires and its length.
const HEADER: usize = 12;

/// When the earliest pending sweep of `buffer` is due; `None` for an
/// empty buffer (no rows, no sweep).
fn due(buffer: &[u8]) -> Result<Option<i64>, String> {
    if buffer.is_empty() {
        return Ok(None);
    }
    let due = buffer.get(..DUE).ok_or_else(corrupt)?;
    Ok(Some(i64::from_le_bytes(
        due.try_into().map_err(|_| corrupt())?,
    )))
}

fn set_due(buffer: &mut [u8], due: i64) {
    buffer[..DUE].copy_from_slice(&due.to_le_bytes());
}

fn corrupt() -> String {
    "stored join rows are corrupt".to_string()
}

/// Appends `row`, expiring at `expires` and to be swept at `sweep`, to
/// `buffer`; when a sweep is to be set for it: for the first row, or one
/// due before the buffer's pending sweep. Nothing changes on an error.
pub fn append(
    buffer: &mut Vec<u8>,
    expires: i64,
    sweep: i64,
    row: &[u8],
) -> Result<Option<i64>, String> {
    let length =
        u32::try_from(row.len()).map_err(|_| "a stored row of 4 GiB or more".to_string())?;
    let pending = due(buffer)?;
    if pending.is_none() {
        buffer.extend_from_slice(&sweep.to_le_bytes());
    }
    buffer.reserve(HEADER + row.len());
    buffer.extend_from_slice(&expires.to_le_bytes());
    buffer.extend_from_slice(&length.to_le_bytes());
    buffer.extend_from_slice(row);
    match pending {
        Some(pending) if pending <= sweep => Ok(None),
        _ => {
            set_due(buffer, sweep);
            Ok(Some(sweep))
        }
    }
}

/// Every row of `buffer` with when it expires, in the order they came; an
/// error for bytes that are not such a list.
pub fn entries(buffer: &[u8]) -> impl Iterator<Item = Result<(i64, &[u8]), String>> {
    let mut rest = buffer.get(DUE..).unwrap_or_default();
    let mut failed = !buffer.is_empty() && buffer.len() < DUE;
    std::iter::from_fn(move || {
        if failed {
            failed = false;
            return Some(Err(corrupt()));
        }
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
    let header = bytes.get(..HEADER).ok_or_else(corrupt)?;
    let (expires, length) = header.split_at(8);
    let expires = i64::from_le_bytes(expires.try_into().map_err(|_| corrupt())?);
    let length = u32::from_le_bytes(length.try_into().map_err(|_| corrupt())?) as usize;
    let end = HEADER.checked_add(length).ok_or_else(corrupt)?;
    let row = bytes.get(HEADER..end).ok_or_else(corrupt)?;
    Ok((expires, row, &bytes[end..]))
}

/// A sweep at `watermark`: drops the rows that have expired (at or before
/// it). When no sweep is left pending, sets one for the earliest row kept,
/// at `sweep_of` its expiry, and answers its time. An emptied buffer is
/// left empty. Nothing changes on an error.
pub fn sweep(
    buffer: &mut Vec<u8>,
    watermark: i64,
    sweep_of: impl Fn(i64) -> i64,
) -> Result<Option<i64>, String> {
    let Some(pending) = due(buffer)? else {
        return Ok(None);
    };
    let mut kept = Vec::with_capacity(buffer.len());
    kept.extend_from_slice(&pending.to_le_bytes());
    let mut earliest: Option<i64> = None;
    for entry in entries(buffer) {
        let (expires, row) = entry?;
        if expires > watermark {
            kept.extend_from_slice(&expires.to_le_bytes());
            kept.extend_from_slice(&(row.len() as u32).to_le_bytes());
            kept.extend_from_slice(row);
            earliest = Some(earliest.map_or(expires, |e| e.min(expires)));
        }
    }
    let Some(earliest) = earliest else {
        buffer.clear();
        return Ok(None);
    };
    *buffer = kept;
    if pending > watermark {
        // A later sweep is still pending (this one was set earlier).
        return Ok(None);
    }
    let next = sweep_of(earliest);
    set_due(buffer, next);
    Ok(Some(next))
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

    /// A sweep a tenth of time later than the expiry, rounded up.
    fn sweep_of(expires: i64) -> i64 {
        (expires.div_euclid(10) * 10).saturating_add(10)
    }

    #[test]
    fn rows_come_back_in_order_and_leave_once_expired() {
        let mut buffer = Vec::new();
        let mut set = Vec::new();
        for (expires, row) in [(30, &b"c"[..]), (10, b"a"), (20, b""), (10, b"a")] {
            set.push(append(&mut buffer, expires, sweep_of(expires), row).unwrap());
        }
        // The first row sets a sweep; the row due earlier sets another.
        assert_eq!(set, [Some(40), Some(20), None, None]);
        assert_eq!(
            rows(&buffer),
            [
                (30, b"c".to_vec()),
                (10, b"a".to_vec()),
                (20, vec![]),
                (10, b"a".to_vec())
            ]
        );
        // The sweep at 20 drops the rows expiring by then and sets the
        // next for the earliest left; the one set at 40 then finds that
        // one pending (50 > 40) and sets none.
        assert_eq!(sweep(&mut buffer, 20, sweep_of).unwrap(), Some(40));
        assert_eq!(rows(&buffer), [(30, b"c".to_vec())]);
        assert_eq!(append(&mut buffer, 45, sweep_of(45), b"d").unwrap(), None);
        assert_eq!(sweep(&mut buffer, 40, sweep_of).unwrap(), Some(50));
        assert_eq!(rows(&buffer), [(45, b"d".to_vec())]);
        assert_eq!(sweep(&mut buffer, 50, sweep_of).unwrap(), None);
        assert!(buffer.is_empty());
        assert_eq!(sweep(&mut buffer, 60, sweep_of).unwrap(), None);
    }

    #[test]
    fn a_row_far_ahead_does_not_hold_back_the_sweep_of_the_others() {
        let mut buffer = Vec::new();
        append(&mut buffer, i64::MAX, i64::MAX, b"far").unwrap();
        assert_eq!(
            append(&mut buffer, 5, sweep_of(5), b"near").unwrap(),
            Some(10)
        );
        assert_eq!(sweep(&mut buffer, 10, sweep_of).unwrap(), Some(i64::MAX));
        assert_eq!(rows(&buffer), [(i64::MAX, b"far".to_vec())]);
    }

    #[test]
    fn a_cut_or_padded_buffer_is_an_error_not_a_panic() {
        let mut buffer = Vec::new();
        append(&mut buffer, 5, 10, b"row").unwrap();
        // Cut anywhere but after the sweep's time (a list of no rows).
        for cut in (1..buffer.len()).filter(|&cut| cut != DUE) {
            assert!(entries(&buffer[..cut]).any(|e| e.is_err()), "cut at {cut}");
        }
        let mut padded = buffer.clone();
        padded.push(0);
        assert!(entries(&padded).any(|e| e.is_err()));
        let before = padded.clone();
        assert!(sweep(&mut padded, 0, sweep_of).is_err());
        assert_eq!(padded, before, "a failed sweep changes nothing");
    }
}
