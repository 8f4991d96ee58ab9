//! Event-time and processing-time timers per key and namespace, as Flink's
//! `InternalTimerService` keeps them: one timer per (time, key, namespace),
//! fired in time order when the watermark (or the clock) passes it, and
//! snapshotted by key-group range with the keyed state.
//!
//! Timers are kept per timestamp: an ordered map of times, each with a hash
//! set of its timers. Many timers share a time (every key's timer for one
//! window end, every row of one millisecond), so registering one is an
//! integer search and a hash probe, where an ordered set of whole timers
//! compared their key and namespace bytes down its levels. Timers of one
//! time fire in no particular order, as Flink's heap fires them; the set's
//! hasher has a fixed seed, so that order is the same run after run.

use std::collections::BTreeMap;

use foldhash::fast::FixedState;
use hashbrown::HashSet;
use serde::{Deserialize, Serialize};

use super::short_bytes::ShortBytes;
use crate::key_groups::KeyGroupRange;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timer {
    /// Epoch millis; the first field, so timers order by time.
    pub timestamp: i64,
    pub key_group: u32,
    pub key: ShortBytes,
    pub namespace: ShortBytes,
}

/// A timer's fields, borrowed: enough to find and delete a timer without
/// building one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimerRef<'a> {
    pub timestamp: i64,
    pub key_group: u32,
    pub key: &'a [u8],
    pub namespace: &'a [u8],
}

impl TimerRef<'_> {
    pub fn to_timer(self) -> Timer {
        Timer {
            timestamp: self.timestamp,
            key_group: self.key_group,
            key: self.key.into(),
            namespace: self.namespace.into(),
        }
    }
}

impl Timer {
    pub fn borrowed(&self) -> TimerRef<'_> {
        TimerRef {
            timestamp: self.timestamp,
            key_group: self.key_group,
            key: &self.key,
            namespace: &self.namespace,
        }
    }
}

// Both hash their fields in the same order, a byte slice as `ShortBytes`
// hashes, so a `TimerRef` finds its `Timer` in a hash set.
impl hashbrown::Equivalent<Timer> for TimerRef<'_> {
    fn equivalent(&self, timer: &Timer) -> bool {
        *self == timer.borrowed()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeDomain {
    EventTime,
    ProcessingTime,
}

/// The timers of one time: most times have a single one (a session's end,
/// a row's own time), kept without a set to allocate and free.
#[derive(Debug)]
enum TimersAt {
    One(Timer),
    Many(HashSet<Timer, FixedState>),
}

impl TimersAt {
    fn insert(&mut self, timer: Timer) {
        // An empty set allocates nothing until it holds a timer.
        let empty = TimersAt::Many(HashSet::with_hasher(FixedState::default()));
        match std::mem::replace(self, empty) {
            TimersAt::One(only) if only == timer => *self = TimersAt::One(only),
            TimersAt::One(only) => {
                if let TimersAt::Many(set) = self {
                    set.insert(only);
                    set.insert(timer);
                }
            }
            TimersAt::Many(mut set) => {
                set.insert(timer);
                *self = TimersAt::Many(set);
            }
        }
    }

    /// Removes `timer`; whether none is left at this time.
    fn remove(&mut self, timer: TimerRef) -> bool {
        match self {
            TimersAt::One(only) => only.borrowed() == timer,
            TimersAt::Many(set) => {
                set.remove(&timer);
                set.is_empty()
            }
        }
    }

    fn iter(&self) -> Box<dyn Iterator<Item = &Timer> + '_> {
        match self {
            TimersAt::One(only) => Box::new(std::iter::once(only)),
            TimersAt::Many(set) => Box::new(set.iter()),
        }
    }

    fn drain_into(self, fired: &mut Vec<Timer>) {
        match self {
            TimersAt::One(only) => fired.push(only),
            TimersAt::Many(set) => fired.extend(set),
        }
    }
}

/// The timers of one time domain, by time.
#[derive(Debug, Default)]
struct TimerQueue {
    by_time: BTreeMap<i64, TimersAt>,
}

impl TimerQueue {
    fn insert(&mut self, timer: Timer) {
        match self.by_time.entry(timer.timestamp) {
            std::collections::btree_map::Entry::Vacant(entry) => {
                entry.insert(TimersAt::One(timer));
            }
            std::collections::btree_map::Entry::Occupied(mut entry) => {
                entry.get_mut().insert(timer)
            }
        }
    }

    fn remove(&mut self, timer: TimerRef) {
        if let Some(timers) = self.by_time.get_mut(&timer.timestamp)
            && timers.remove(timer)
        {
            self.by_time.remove(&timer.timestamp);
        }
    }

    /// Removes and answers every timer at or before `time`, earlier times first.
    fn pop_until(&mut self, time: i64) -> Vec<Timer> {
        let mut fired = Vec::new();
        while let Some(entry) = self.by_time.first_entry() {
            if *entry.key() > time {
                break;
            }
            entry.remove().drain_into(&mut fired);
        }
        fired
    }

    fn first_time(&self) -> Option<i64> {
        self.by_time.keys().next().copied()
    }

    /// The timers in `range`, sorted, so a snapshot's bytes do not depend
    /// on the sets' order.
    fn in_range(&self, range: KeyGroupRange) -> Vec<Timer> {
        let mut timers: Vec<Timer> = self
            .by_time
            .values()
            .flat_map(TimersAt::iter)
            .filter(|t| range.contains(t.key_group))
            .cloned()
            .collect();
        timers.sort_unstable();
        timers
    }
}

#[derive(Debug, Default)]
pub struct TimerService {
    event_time: TimerQueue,
    processing_time: TimerQueue,
}

/// The timers of a key-group range at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerSnapshot {
    pub key_groups: KeyGroupRange,
    pub event_time: Vec<Timer>,
    pub processing_time: Vec<Timer>,
}

impl TimerService {
    pub fn new() -> TimerService {
        TimerService::default()
    }

    fn timers(&mut self, domain: TimeDomain) -> &mut TimerQueue {
        match domain {
            TimeDomain::EventTime => &mut self.event_time,
            TimeDomain::ProcessingTime => &mut self.processing_time,
        }
    }

    /// Registers a timer; registering the same one twice keeps one.
    pub fn register(&mut self, domain: TimeDomain, timer: Timer) {
        self.timers(domain).insert(timer);
    }

    pub fn delete(&mut self, domain: TimeDomain, timer: TimerRef) {
        self.timers(domain).remove(timer);
    }

    /// Removes and answers, in time order, every timer at or before `time`
    /// (the new watermark, or the current processing time).
    pub fn advance(&mut self, domain: TimeDomain, time: i64) -> Vec<Timer> {
        self.timers(domain).pop_until(time)
    }

    /// Drops every timer of `domain`, unfired.
    pub fn clear(&mut self, domain: TimeDomain) {
        self.timers(domain).by_time.clear();
    }

    /// The earliest pending timer, e.g. to schedule the next processing-time wake-up.
    pub fn next(&self, domain: TimeDomain) -> Option<i64> {
        match domain {
            TimeDomain::EventTime => self.event_time.first_time(),
            TimeDomain::ProcessingTime => self.processing_time.first_time(),
        }
    }

    pub fn snapshot(&self, range: KeyGroupRange) -> TimerSnapshot {
        TimerSnapshot {
            key_groups: range,
            event_time: self.event_time.in_range(range),
            processing_time: self.processing_time.in_range(range),
        }
    }

    /// Adds the timers of `snapshot` that fall into `owned`.
    pub fn restore(&mut self, snapshot: &TimerSnapshot, owned: KeyGroupRange) {
        let mine = |t: &&Timer| owned.contains(t.key_group);
        for timer in snapshot.event_time.iter().filter(mine) {
            self.event_time.insert(timer.clone());
        }
        for timer in snapshot.processing_time.iter().filter(mine) {
            self.processing_time.insert(timer.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timer(timestamp: i64, key_group: u32, key: &str) -> Timer {
        Timer {
            timestamp,
            key_group,
            key: key.as_bytes().into(),
            namespace: ShortBytes::default(),
        }
    }

    #[test]
    fn timers_fire_in_time_order_once_the_watermark_passes_them() {
        let mut service = TimerService::new();
        service.register(TimeDomain::EventTime, timer(30, 1, "a"));
        service.register(TimeDomain::EventTime, timer(10, 2, "b"));
        service.register(TimeDomain::EventTime, timer(10, 2, "b"));
        service.register(TimeDomain::EventTime, timer(20, 3, "c"));
        service.register(TimeDomain::ProcessingTime, timer(15, 1, "a"));
        service.delete(TimeDomain::EventTime, timer(20, 3, "c").borrowed());
        assert_eq!(service.advance(TimeDomain::EventTime, 9), []);
        assert_eq!(
            service.advance(TimeDomain::EventTime, 29),
            [timer(10, 2, "b")]
        );
        assert_eq!(service.next(TimeDomain::EventTime), Some(30));
        assert_eq!(
            service.advance(TimeDomain::EventTime, i64::MAX),
            [timer(30, 1, "a")]
        );
        assert_eq!(
            service.advance(TimeDomain::ProcessingTime, 15),
            [timer(15, 1, "a")]
        );
    }

    #[test]
    fn timers_of_one_time_are_kept_deleted_and_fired_each_once() {
        let mut service = TimerService::new();
        service.register(TimeDomain::EventTime, timer(10, 1, "a"));
        // Deleting another timer of the same time leaves the one there.
        service.delete(TimeDomain::EventTime, timer(10, 2, "b").borrowed());
        service.register(TimeDomain::EventTime, timer(10, 2, "b"));
        service.register(TimeDomain::EventTime, timer(10, 3, "c"));
        service.register(TimeDomain::EventTime, timer(10, 1, "a"));
        service.delete(TimeDomain::EventTime, timer(10, 3, "c").borrowed());
        let mut fired = service.advance(TimeDomain::EventTime, 10);
        fired.sort();
        assert_eq!(fired, [timer(10, 1, "a"), timer(10, 2, "b")]);
        service.register(TimeDomain::EventTime, timer(20, 1, "a"));
        service.delete(TimeDomain::EventTime, timer(20, 1, "a").borrowed());
        assert_eq!(service.next(TimeDomain::EventTime), None);
    }

    #[test]
    fn timers_snapshot_and_restore_by_key_group_range() {
        let mut service = TimerService::new();
        for kg in 0..128 {
            service.register(TimeDomain::EventTime, timer(kg as i64, kg, "k"));
        }
        let low = service.snapshot(KeyGroupRange::new(0, 63));
        let high = service.snapshot(KeyGroupRange::new(64, 127));
        let owned = KeyGroupRange::for_subtask(128, 3, 2);
        let mut restored = TimerService::new();
        restored.restore(&low, owned);
        restored.restore(&high, owned);
        let fired = restored.advance(TimeDomain::EventTime, i64::MAX);
        let groups: Vec<u32> = fired.iter().map(|t| t.key_group).collect();
        assert_eq!(groups, (owned.start..=owned.end).collect::<Vec<_>>());
    }
}
