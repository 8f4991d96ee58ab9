//! The min/max statistics of a parquet column chunk the page writer
//! ([`super::parquet_pages`]) keeps, and how they go into the file:
//! parquet-rs's rules, so that files of both writers carry the same.

use parquet::data_type::ByteArray;
use parquet::file::statistics::{Statistics, ValueStatistics};

/// Statistics keep at most this many bytes of a string, as parquet-rs's.
const STATISTICS_TRUNCATE_LENGTH: usize = 64;

/// The smallest and largest value of a column chunk so far.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Bounds {
    Int32(Option<(i32, i32)>),
    Int64(Option<(i64, i64)>),
    Float(Option<(f32, f32)>),
    Double(Option<(f64, f64)>),
    Bytes(Option<(Vec<u8>, Vec<u8>)>),
}

impl Bounds {
    /// Parquet's statistics for a chunk with these bounds and `nulls` NULLs.
    /// Floats keep parquet's rules (NaN left out, a zero minimum written as
    /// -0.0 and a zero maximum as +0.0); strings are cut to 64 bytes, the
    /// maximum then raised so that it still bounds the values.
    pub(super) fn statistics(self, nulls: u64, signed: bool) -> Statistics {
        fn exact<T>(bounds: Option<(T, T)>, nulls: u64, signed: bool) -> ValueStatistics<T> {
            let (min, max) = bounds.unzip();
            ValueStatistics::new(min, max, None, Some(nulls), false)
                .with_backwards_compatible_min_max(signed)
        }
        // parquet's rule for float bounds: a zero minimum is -0.0, a zero
        // maximum +0.0.
        macro_rules! signed_zeros {
            ($bounds:expr) => {
                $bounds.map(|(lo, hi)| {
                    (
                        if lo == 0.0 { -0.0 } else { lo },
                        if hi == 0.0 { 0.0 } else { hi },
                    )
                })
            };
        }
        match self {
            Bounds::Int32(b) => Statistics::Int32(exact(b, nulls, signed)),
            Bounds::Int64(b) => Statistics::Int64(exact(b, nulls, signed)),
            Bounds::Float(b) => Statistics::Float(exact(signed_zeros!(b), nulls, signed)),
            Bounds::Double(b) => Statistics::Double(exact(signed_zeros!(b), nulls, signed)),
            Bounds::Bytes(None) => Statistics::ByteArray(exact(None, nulls, signed)),
            Bounds::Bytes(Some((min, max))) => {
                let (min, min_exact) = truncated_min(min);
                let (max, max_exact) = truncated_max(max);
                let statistics = ValueStatistics::new(
                    Some(ByteArray::from(min)),
                    Some(ByteArray::from(max)),
                    None,
                    Some(nulls),
                    false,
                )
                .with_backwards_compatible_min_max(signed)
                .with_min_is_exact(min_exact)
                .with_max_is_exact(max_exact);
                Statistics::ByteArray(statistics)
            }
        }
    }
}

/// The longest prefix of at most 64 bytes ending on a character boundary:
/// still no greater than the value. Whether it is the whole value.
fn truncated_min(value: Vec<u8>) -> (Vec<u8>, bool) {
    if value.len() <= STATISTICS_TRUNCATE_LENGTH {
        return (value, true);
    }
    let cut = char_boundary_at_most(&value, STATISTICS_TRUNCATE_LENGTH);
    (value[..cut].to_vec(), false)
}

/// A value of at most 64 bytes no smaller than `value`: a prefix whose last
/// character that can be raised is raised (and what follows dropped); the
/// whole value when no character can be. Whether it is the whole value.
fn truncated_max(value: Vec<u8>) -> (Vec<u8>, bool) {
    if value.len() <= STATISTICS_TRUNCATE_LENGTH {
        return (value, true);
    }
    let cut = char_boundary_at_most(&value, STATISTICS_TRUNCATE_LENGTH);
    // Values are UTF-8 (a STRING column); anything else is kept whole.
    let Ok(prefix) = std::str::from_utf8(&value[..cut]) else {
        return (value, true);
    };
    for (at, c) in prefix.char_indices().rev() {
        // The next character of the same encoded length sorts after `c`
        // byte for byte, and so after every value starting with the prefix.
        let raised = char::from_u32(u32::from(c) + 1).filter(|r| r.len_utf8() == c.len_utf8());
        if let Some(raised) = raised {
            let mut bound = prefix.as_bytes()[..at].to_vec();
            let mut encoded = [0u8; 4];
            bound.extend_from_slice(raised.encode_utf8(&mut encoded).as_bytes());
            return (bound, false);
        }
    }
    (value, true)
}

/// The largest character boundary of `bytes` (UTF-8) at or before `at`.
fn char_boundary_at_most(bytes: &[u8], at: usize) -> usize {
    // A UTF-8 continuation byte is 0b10xx_xxxx.
    (0..=at)
        .rev()
        .find(|&i| i == bytes.len() || bytes.get(i).is_some_and(|b| b & 0xC0 != 0x80))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_bounds_are_cut_to_64_bytes_and_still_bound_the_values() {
        let long = "a".repeat(70);
        assert_eq!(
            truncated_min(long.clone().into_bytes()),
            (vec![b'a'; 64], false)
        );
        let (max, exact) = truncated_max(long.clone().into_bytes());
        assert!(!exact);
        assert_eq!(max, [vec![b'a'; 63], vec![b'b']].concat());
        assert!(max.as_slice() > long.as_bytes());
        // A character cut in two is left out of the prefix.
        let euro = format!("{}€€", "x".repeat(62));
        assert_eq!(
            truncated_min(euro.clone().into_bytes()).0,
            "x".repeat(62).into_bytes()
        );
        // The last character raisable in place is raised: DEL (0x7f) is not.
        let del = format!("{}a{}", "x".repeat(60), "\u{7f}".repeat(10));
        let (max, _) = truncated_max(del.clone().into_bytes());
        assert_eq!(max, format!("{}b", "x".repeat(60)).into_bytes());
        assert!(max.as_slice() > del.as_bytes());
        // Nothing raisable: the value is kept whole.
        let none = "\u{7f}".repeat(70);
        assert_eq!(
            truncated_max(none.clone().into_bytes()),
            (none.into_bytes(), true)
        );
        let short = b"short".to_vec();
        assert_eq!(truncated_max(short.clone()), (short, true));
    }
}
