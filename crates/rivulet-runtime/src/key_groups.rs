//! Flink's assignment of keys to key groups and of key groups to subtasks
//! (`KeyGroupRangeAssignment`), so keyed state taken at one parallelism can be
//! redistributed at another.

/// Flink's `MathUtils.murmurHash` of a 32-bit key hash.
pub fn murmur_hash(code: i32) -> i32 {
    let mut code = code.wrapping_mul(0xcc9e2d51_u32 as i32);
    code = code.rotate_left(15);
    code = code.wrapping_mul(0x1b873593);
    code = code.rotate_left(13);
    code = code.wrapping_mul(5).wrapping_add(0xe6546b64_u32 as i32);
    code ^= 4;
    code = bit_mix(code);
    if code >= 0 {
        code
    } else if code != i32::MIN {
        -code
    } else {
        0
    }
}

fn bit_mix(mut value: i32) -> i32 {
    value ^= ((value as u32) >> 16) as i32;
    value = value.wrapping_mul(0x85ebca6b_u32 as i32);
    value ^= ((value as u32) >> 13) as i32;
    value = value.wrapping_mul(0xc2b2ae35_u32 as i32);
    value ^= ((value as u32) >> 16) as i32;
    value
}

/// The key group of a key whose (Java-compatible) hash code is `key_hash`.
pub fn key_group_for_hash(key_hash: i32, max_parallelism: u32) -> u32 {
    (murmur_hash(key_hash) as u32) % max_parallelism
}

/// The subtask that owns `key_group` at `parallelism`.
pub fn operator_index_for_key_group(max_parallelism: u32, parallelism: u32, key_group: u32) -> u32 {
    ((key_group as u64 * parallelism as u64) / max_parallelism as u64) as u32
}

/// A contiguous, inclusive range of key groups: what one subtask owns, and
/// the unit in which keyed state is snapshotted and restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct KeyGroupRange {
    pub start: u32,
    /// Inclusive.
    pub end: u32,
}

impl KeyGroupRange {
    pub fn new(start: u32, end: u32) -> KeyGroupRange {
        KeyGroupRange { start, end }
    }

    /// The key groups subtask `index` of `parallelism` owns, as Flink's
    /// `computeKeyGroupRangeForOperatorIndex` assigns them.
    pub fn for_subtask(max_parallelism: u32, parallelism: u32, index: u32) -> KeyGroupRange {
        let (max, p, i) = (max_parallelism as u64, parallelism as u64, index as u64);
        let start = (i * max).div_ceil(p);
        let end = ((i + 1) * max - 1) / p;
        KeyGroupRange::new(start as u32, end as u32)
    }

    pub fn contains(&self, key_group: u32) -> bool {
        (self.start..=self.end).contains(&key_group)
    }
}

/// Java's `Long.hashCode`.
pub fn java_long_hash(value: i64) -> i32 {
    (value ^ ((value as u64) >> 32) as i64) as i32
}

/// Java's `String.hashCode` over UTF-16 code units.
pub fn java_string_hash(value: &str) -> i32 {
    value
        .encode_utf16()
        .fold(0i32, |h, unit| h.wrapping_mul(31).wrapping_add(unit as i32))
}

/// Flink's default max parallelism for an operator of `parallelism`:
/// `min(max(roundUpToPowerOfTwo(p + p / 2), 128), 32768)`.
pub fn default_max_parallelism(parallelism: u32) -> u32 {
    let wanted = (parallelism + parallelism / 2).max(1).next_power_of_two();
    wanted.clamp(128, 32768)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_hashes_match_the_jvm() {
        assert_eq!(java_string_hash("hello"), 99162322);
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_long_hash(1), 1);
        assert_eq!(java_long_hash(-1), 0);
        assert_eq!(java_long_hash(1 << 32), 1);
    }

    #[test]
    fn key_groups_are_contiguous_ranges_per_subtask() {
        let max = 128;
        for parallelism in [1, 3, 4, 7] {
            let owners: Vec<u32> = (0..max)
                .map(|kg| operator_index_for_key_group(max, parallelism, kg))
                .collect();
            assert!(owners.windows(2).all(|w| w[0] <= w[1]));
            assert_eq!(owners[0], 0);
            assert_eq!(*owners.last().unwrap(), parallelism - 1);
        }
    }

    #[test]
    fn subtask_ranges_match_flinks_assignment_and_cover_every_group_once() {
        // Flink: max parallelism 128 at parallelism 3 gives 0-42, 43-85, 86-127.
        assert_eq!(
            KeyGroupRange::for_subtask(128, 3, 0),
            KeyGroupRange::new(0, 42)
        );
        assert_eq!(
            KeyGroupRange::for_subtask(128, 3, 1),
            KeyGroupRange::new(43, 85)
        );
        assert_eq!(
            KeyGroupRange::for_subtask(128, 3, 2),
            KeyGroupRange::new(86, 127)
        );
        for parallelism in [1, 2, 5, 7, 128] {
            for key_group in 0..128 {
                let owner = operator_index_for_key_group(128, parallelism, key_group);
                let owning: Vec<u32> = (0..parallelism)
                    .filter(|i| {
                        KeyGroupRange::for_subtask(128, parallelism, *i).contains(key_group)
                    })
                    .collect();
                assert_eq!(owning, [owner], "p={parallelism} kg={key_group}");
            }
        }
    }

    #[test]
    fn murmur_hash_is_non_negative_and_spreads_keys() {
        let groups: std::collections::HashSet<u32> = (0..1000)
            .map(|k| key_group_for_hash(java_long_hash(k), 128))
            .collect();
        assert!(groups.len() > 120);
        assert!((i32::MIN..i32::MIN + 1000).all(|c| murmur_hash(c) >= 0));
    }

    #[test]
    fn default_max_parallelism_follows_flink() {
        assert_eq!(default_max_parallelism(1), 128);
        assert_eq!(default_max_parallelism(100), 256);
        assert_eq!(default_max_parallelism(100_000), 32768);
    }
}
