//! I/O metrics of one subtask, counted where they happen: records and bytes read
//! from and written to the network channels, and the time spent idle (waiting for
//! input), back-pressured (waiting for room downstream) and busy (the rest),
//! and the subtask's current input watermark.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Live counters, shared between the running task and whoever reports on it.
#[derive(Debug, Default)]
pub struct TaskIoMetrics {
    records_in: AtomicU64,
    records_out: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    idle_nanos: AtomicU64,
    backpressured_nanos: AtomicU64,
    /// The input watermark with its sign bit flipped, so that the zero an
    /// atomic starts at reads as `i64::MIN`, Flink's "no watermark yet".
    input_watermark: AtomicU64,
    /// When the current wait began (nanos since `origin`, plus one; 0 = none),
    /// so a wait in progress counts before it ends.
    idle_since: AtomicU64,
    backpressured_since: AtomicU64,
    origin: OnceLock<Instant>,
    running_since: OnceLock<Instant>,
    ran_for: OnceLock<Duration>,
}

/// A point-in-time copy of [`TaskIoMetrics`], in Flink's units (milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IoMetricsSnapshot {
    pub read_bytes: u64,
    pub write_bytes: u64,
    pub read_records: u64,
    pub write_records: u64,
    pub backpressured_millis: u64,
    pub idle_millis: u64,
    pub busy_millis: f64,
    /// Flink's `currentInputWatermark`: `i64::MIN` until there is one.
    pub input_watermark: i64,
}

impl Default for IoMetricsSnapshot {
    fn default() -> Self {
        IoMetricsSnapshot {
            read_bytes: 0,
            write_bytes: 0,
            read_records: 0,
            write_records: 0,
            backpressured_millis: 0,
            idle_millis: 0,
            busy_millis: 0.0,
            input_watermark: i64::MIN,
        }
    }
}

const SIGN: u64 = 1 << 63;

impl IoMetricsSnapshot {
    /// Sums two snapshots (used to aggregate subtasks of a vertex).
    pub fn merged(self, other: IoMetricsSnapshot) -> IoMetricsSnapshot {
        IoMetricsSnapshot {
            read_bytes: self.read_bytes + other.read_bytes,
            write_bytes: self.write_bytes + other.write_bytes,
            read_records: self.read_records + other.read_records,
            write_records: self.write_records + other.write_records,
            backpressured_millis: self.backpressured_millis + other.backpressured_millis,
            idle_millis: self.idle_millis + other.idle_millis,
            busy_millis: self.busy_millis + other.busy_millis,
            input_watermark: self.input_watermark.min(other.input_watermark),
        }
    }
}

impl TaskIoMetrics {
    pub fn mark_running(&self) {
        let _ = self.running_since.set(Instant::now());
    }

    /// Freezes the wall time so busy time stops growing after the task ended.
    pub fn mark_ended(&self) {
        self.end_idle();
        self.end_backpressure();
        if let Some(start) = self.running_since.get() {
            let _ = self.ran_for.set(start.elapsed());
        }
    }

    pub fn add_input(&self, records: u64, bytes: u64) {
        self.records_in.fetch_add(records, Ordering::Relaxed);
        self.bytes_in.fetch_add(bytes, Ordering::Relaxed);
    }

    pub fn set_input_watermark(&self, watermark: i64) {
        self.input_watermark
            .store(watermark as u64 ^ SIGN, Ordering::Relaxed);
    }

    pub fn add_output(&self, records: u64, bytes: u64) {
        self.records_out.fetch_add(records, Ordering::Relaxed);
        self.bytes_out.fetch_add(bytes, Ordering::Relaxed);
    }

    fn clock(&self) -> u64 {
        self.origin.get_or_init(Instant::now).elapsed().as_nanos() as u64 + 1
    }

    fn begin(&self, since: &AtomicU64) {
        since.store(self.clock(), Ordering::Relaxed);
    }

    fn end(&self, since: &AtomicU64, total: &AtomicU64) {
        let began = since.swap(0, Ordering::Relaxed);
        if began > 0 {
            total.fetch_add(self.clock().saturating_sub(began), Ordering::Relaxed);
        }
    }

    fn ongoing(&self, since: &AtomicU64) -> u64 {
        match since.load(Ordering::Relaxed) {
            0 => 0,
            began => self.clock().saturating_sub(began),
        }
    }

    /// The task starts waiting for input.
    pub fn begin_idle(&self) {
        self.begin(&self.idle_since);
    }

    pub fn end_idle(&self) {
        self.end(&self.idle_since, &self.idle_nanos);
    }

    /// The task starts waiting for room downstream.
    pub fn begin_backpressure(&self) {
        self.begin(&self.backpressured_since);
    }

    pub fn end_backpressure(&self) {
        self.end(&self.backpressured_since, &self.backpressured_nanos);
    }

    pub fn snapshot(&self) -> IoMetricsSnapshot {
        let idle = self.idle_nanos.load(Ordering::Relaxed) + self.ongoing(&self.idle_since);
        let backpressured = self.backpressured_nanos.load(Ordering::Relaxed)
            + self.ongoing(&self.backpressured_since);
        let wall = match (self.ran_for.get(), self.running_since.get()) {
            (Some(total), _) => total.as_nanos() as u64,
            (None, Some(start)) => start.elapsed().as_nanos() as u64,
            (None, None) => 0,
        };
        let busy = wall.saturating_sub(idle + backpressured);
        IoMetricsSnapshot {
            read_bytes: self.bytes_in.load(Ordering::Relaxed),
            write_bytes: self.bytes_out.load(Ordering::Relaxed),
            read_records: self.records_in.load(Ordering::Relaxed),
            write_records: self.records_out.load(Ordering::Relaxed),
            backpressured_millis: backpressured / 1_000_000,
            idle_millis: idle / 1_000_000,
            busy_millis: (busy / 1_000) as f64 / 1_000.0,
            input_watermark: (self.input_watermark.load(Ordering::Relaxed) ^ SIGN) as i64,
        }
    }
}
