//! Event-time and processing-time timers per key and namespace, as Flink's
//! `InternalTimerService` keeps them: one timer per (time, key, namespace),
//! fired in time order when the watermark (or the clock) passes it, and
//! snapshotted by key-group range with the keyed state.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::key_groups::KeyGroupRange;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timer {
    /// Epoch millis; the first field, so timers order by time.
    pub timestamp: i64,
    pub key_group: u32,
    pub key: Vec<u8>,
    pub namespace: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeDomain {
    EventTime,
    ProcessingTime,
}

#[derive(Debug, Default)]
pub struct TimerService {
    event_time: BTreeSet<Timer>,
    processing_time: BTreeSet<Timer>,
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

    fn timers(&mut self, domain: TimeDomain) -> &mut BTreeSet<Timer> {
        match domain {
            TimeDomain::EventTime => &mut self.event_time,
            TimeDomain::ProcessingTime => &mut self.processing_time,
        }
    }

    /// Registers a timer; registering the same one twice keeps one.
    pub fn register(&mut self, domain: TimeDomain, timer: Timer) {
        self.timers(domain).insert(timer);
    }

    pub fn delete(&mut self, domain: TimeDomain, timer: &Timer) {
        self.timers(domain).remove(timer);
    }

    /// Removes and answers, in time order, every timer at or before `time`
    /// (the new watermark, or the current processing time).
    pub fn advance(&mut self, domain: TimeDomain, time: i64) -> Vec<Timer> {
        let timers = self.timers(domain);
        let mut fired = Vec::new();
        while timers.first().is_some_and(|t| t.timestamp <= time) {
            if let Some(timer) = timers.pop_first() {
                fired.push(timer);
            }
        }
        fired
    }

    /// The earliest pending timer, e.g. to schedule the next processing-time wake-up.
    pub fn next(&self, domain: TimeDomain) -> Option<i64> {
        match domain {
            TimeDomain::EventTime => self.event_time.first(),
            TimeDomain::ProcessingTime => self.processing_time.first(),
        }
        .map(|t| t.timestamp)
    }

    pub fn snapshot(&self, range: KeyGroupRange) -> TimerSnapshot {
        let of = |timers: &BTreeSet<Timer>| {
            timers
                .iter()
                .filter(|t| range.contains(t.key_group))
                .cloned()
                .collect()
        };
        TimerSnapshot {
            key_groups: range,
            event_time: of(&self.event_time),
            processing_time: of(&self.processing_time),
        }
    }

    /// Adds the timers of `snapshot` that fall into `owned`.
    pub fn restore(&mut self, snapshot: &TimerSnapshot, owned: KeyGroupRange) {
        let mine = |t: &&Timer| owned.contains(t.key_group);
        self.event_time
            .extend(snapshot.event_time.iter().filter(mine).cloned());
        self.processing_time
            .extend(snapshot.processing_time.iter().filter(mine).cloned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timer(timestamp: i64, key_group: u32, key: &str) -> Timer {
        Timer {
            timestamp,
            key_group,
            key: key.as_bytes().to_vec(),
            namespace: Vec::new(),
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
        service.delete(TimeDomain::EventTime, &timer(20, 3, "c"));
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
