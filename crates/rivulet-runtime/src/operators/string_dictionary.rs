//! The values of one string column of stored rows that repeat, each kept
//! once and numbered, so a stored row holds the number instead.
//!
//! Stored rows often repeat a few values: a channel name, a URL, a country.
//! Nexmark's bids carry one of about ten thousand 63-byte URLs, and q19 and
//! q20 keep millions of bids. A numbered value costs a row a byte or three.
//!
//! A column whose values rarely repeat (a comment, a random `extra`) would
//! only fill the dictionary, so it is judged on its first values: when
//! fewer than a third of the lookups until then found their value, it
//! takes no more. It also stops taking at [`MAX_VALUES`] values or
//! [`MAX_BYTES`] bytes.
//!
//! Values it does not number are coded in an [`AlphabetCode`] of the bytes
//! of those it did, made when it stops taking them.
//!
//! A value, once numbered, keeps its number; a value that was not numbered
//! when it was first looked up never is (the dictionary only stops taking,
//! never starts again); and a value too long to number is never coded
//! ([`StringDictionary::code_for`]). So equal values always encode alike,
//! which the rows a join counts by their bytes need. Where rows are never
//! found by their bytes, a dictionary that found its column rarely repeats
//! stops looking values up at all ([`StringDictionary::skipping_rare`]):
//! hashing each `extra` string only to miss cost q20 a few percent.

use super::alphabet_code::AlphabetCode;
use foldhash::fast::FixedState;
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// Values numbered before the dictionary judges whether its column repeats.
pub(super) const PROBATION: usize = 4096;

/// The most values one dictionary numbers.
const MAX_VALUES: usize = 1 << 16;

/// The most bytes of values one dictionary holds.
const MAX_BYTES: usize = 8 << 20;

/// A longer value is never numbered: its own bytes dwarf its length's.
const MAX_VALUE_LEN: usize = 1024;

#[derive(Debug, Default)]
pub(super) struct StringDictionary {
    /// Every numbered value, one after another.
    bytes: Vec<u8>,
    /// Where each value ends in `bytes`; value `n` starts where `n - 1` ends.
    ends: Vec<u32>,
    /// The numbers, found by their value's hash.
    index: HashTable<u32>,
    hasher: FixedState,
    /// Lookups that found their value.
    hits: u64,
    /// Whether values not yet numbered get no number.
    closed: bool,
    /// Whether it stops looking values up once its column rarely repeats.
    skips_rare: bool,
    /// Whether it has stopped.
    skipping: bool,
    /// Once closed, the code for values without a number, if their bytes
    /// are few enough.
    code: Option<AlphabetCode>,
    /// Whether values without a number stay as they are, never coded.
    uncoded: bool,
}

/// Value `number` of `bytes` ended by `ends`.
fn value_of<'a>(bytes: &'a [u8], ends: &[u32], number: u32) -> Option<&'a [u8]> {
    let number = number as usize;
    let end = *ends.get(number)? as usize;
    let start = match number {
        0 => 0,
        _ => ends[number - 1] as usize,
    };
    bytes.get(start..end)
}

impl StringDictionary {
    /// A dictionary that stops looking values up once it finds its column
    /// rarely repeats: a value it numbered may then be stored otherwise,
    /// so only for rows never found by their bytes.
    pub(super) fn skipping_rare() -> StringDictionary {
        StringDictionary {
            skips_rare: true,
            ..StringDictionary::default()
        }
    }

    /// A dictionary whose values without a number are stored as they are,
    /// not in an [`AlphabetCode`].
    pub(super) fn leaving_uncoded(self) -> StringDictionary {
        StringDictionary {
            uncoded: true,
            ..self
        }
    }

    /// The number of `value`: the one it has, or a new one while the
    /// dictionary takes values; `None` when it stays unnumbered.
    pub(super) fn number(&mut self, value: &[u8]) -> Option<u32> {
        if self.skipping {
            return None;
        }
        let hash = self.hasher.hash_one(value);
        let (bytes, ends) = (&self.bytes, &self.ends);
        let found = self
            .index
            .find(hash, |&n| value_of(bytes, ends, n) == Some(value));
        if let Some(&number) = found {
            self.hits += 1;
            return Some(number);
        }
        if self.closed || value.len() > MAX_VALUE_LEN {
            return None;
        }
        let number = self.ends.len() as u32;
        self.bytes.extend_from_slice(value);
        self.ends.push(self.bytes.len() as u32);
        let (bytes, ends, hasher) = (&self.bytes, &self.ends, &self.hasher);
        self.index.insert_unique(hash, number, |&n| {
            hasher.hash_one(value_of(bytes, ends, n).unwrap_or_default())
        });
        let numbered = self.ends.len();
        let repeats_rarely = numbered == PROBATION && self.hits < numbered as u64 / 2;
        if repeats_rarely || numbered >= MAX_VALUES || self.bytes.len() >= MAX_BYTES {
            self.closed = true;
            self.skipping = repeats_rarely && self.skips_rare;
            if !self.uncoded {
                self.code = AlphabetCode::of_sample(&self.bytes);
            }
        }
        Some(number)
    }

    /// The code for `value`, which has no number, once the dictionary
    /// takes no more values (if the values it took have few enough bytes).
    /// A value too long to number never has one: stored whole before the
    /// dictionary closed, it must be stored whole after.
    pub(super) fn code_for(&self, value: &[u8]) -> Option<&AlphabetCode> {
        self.code.as_ref().filter(|_| value.len() <= MAX_VALUE_LEN)
    }

    /// The code of values without a number, once it takes no more.
    pub(super) fn code(&self) -> Option<&AlphabetCode> {
        self.code.as_ref()
    }

    /// The value numbered `number`; `None` for a number never given.
    pub(super) fn value(&self, number: u32) -> Option<&[u8]> {
        value_of(&self.bytes, &self.ends, number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_values_keep_their_number() {
        let mut dictionary = StringDictionary::default();
        let a = dictionary.number(b"https://a").unwrap();
        let b = dictionary.number(b"https://b").unwrap();
        assert_ne!(a, b);
        assert_eq!(dictionary.number(b"https://a"), Some(a));
        assert_eq!(dictionary.value(a), Some(&b"https://a"[..]));
        assert_eq!(dictionary.value(b), Some(&b"https://b"[..]));
        assert_eq!(dictionary.number(b""), Some(2));
        assert_eq!(dictionary.value(2), Some(&b""[..]));
        assert_eq!(dictionary.value(3), None);
        let long = vec![b'x'; MAX_VALUE_LEN + 1];
        assert_eq!(dictionary.number(&long), None);
    }

    #[test]
    fn a_column_that_rarely_repeats_stops_taking_values() {
        let mut dictionary = StringDictionary::default();
        for n in 0..PROBATION {
            assert_eq!(dictionary.number(n.to_string().as_bytes()), Some(n as u32));
        }
        assert_eq!(dictionary.number(b"new"), None);
        assert!(dictionary.code().is_some());
        let mut uncoded = StringDictionary::default().leaving_uncoded();
        for n in 0..PROBATION {
            uncoded.number(n.to_string().as_bytes());
        }
        assert_eq!(uncoded.number(b"new"), None);
        assert!(uncoded.code().is_none());
        assert!(uncoded.code_for(b"12").is_none());
        let mut skipping = StringDictionary::skipping_rare();
        for n in 0..PROBATION {
            skipping.number(n.to_string().as_bytes());
        }
        assert_eq!(skipping.number(b"17"), None);
        assert_eq!(skipping.value(17), Some(&b"17"[..]));
        // What it numbered keeps its number; what it refused stays refused.
        assert_eq!(dictionary.number(b"17"), Some(17));
        assert_eq!(dictionary.number(b"new"), None);
    }

    #[test]
    fn a_column_that_repeats_keeps_taking_values_up_to_its_limit() {
        let mut dictionary = StringDictionary::default();
        for n in 0..MAX_VALUES {
            let value = n.to_string();
            assert_eq!(dictionary.number(value.as_bytes()), Some(n as u32));
            assert_eq!(dictionary.number(value.as_bytes()), Some(n as u32));
        }
        assert_eq!(dictionary.number(b"one too many"), None);
        assert_eq!(dictionary.value(MAX_VALUES as u32 - 1), Some(&b"65535"[..]));
    }
}
