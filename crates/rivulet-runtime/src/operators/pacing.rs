//! How many rows a bounded, rate-limited source subtask may emit next.

use std::time::{Duration, Instant};

/// What a source may do now.
pub enum Allowance {
    /// Emit up to this many rows.
    Rows(u64),
    /// Nothing yet; ask again after this long.
    Wait(Duration),
    /// The subtask's share of rows is done.
    End,
}

/// Tracks a subtask's share of rows (`total`, unbounded if `None`) and its
/// pace (`rate` rows per second, unpaced if `None`).
pub struct RowBudget {
    total: Option<u64>,
    rate: Option<f64>,
    started: Option<Instant>,
}

impl RowBudget {
    pub fn new(total: Option<u64>, rate: Option<f64>) -> Self {
        RowBudget {
            total,
            rate,
            started: None,
        }
    }

    /// The rows allowed after `emitted` rows, at most `batch_size`.
    pub fn next(&mut self, emitted: u64, batch_size: u64) -> Allowance {
        let started = *self.started.get_or_insert_with(Instant::now);
        let mut rows = batch_size;
        if let Some(total) = self.total {
            if emitted >= total {
                return Allowance::End;
            }
            rows = rows.min(total - emitted);
        }
        if let Some(rate) = self.rate {
            let allowed = (started.elapsed().as_secs_f64() * rate) as u64 + 1;
            if allowed <= emitted {
                let wait = Duration::from_secs_f64(emitted as f64 / rate)
                    .saturating_sub(started.elapsed())
                    .clamp(Duration::from_millis(1), Duration::from_millis(100));
                return Allowance::Wait(wait);
            }
            rows = rows.min(allowed - emitted);
        }
        Allowance::Rows(rows)
    }
}
