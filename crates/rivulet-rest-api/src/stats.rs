//! The summary statistics Flink attaches to aggregated subtask values
//! (`min`, `max`, `avg`, `sum`, `median`, `p25`, `p75`, `p95`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StatsSummary {
    pub min: i64,
    pub max: i64,
    pub avg: i64,
    pub sum: i64,
    pub median: i64,
    pub p25: i64,
    pub p75: i64,
    pub p95: i64,
}

impl StatsSummary {
    /// Summarises `values`; percentiles use the estimation Flink inherits from
    /// commons-math (`pos = p (n + 1)`, linear between neighbours).
    pub fn of(values: &[i64]) -> StatsSummary {
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        let n = sorted.len();
        if n == 0 {
            return StatsSummary {
                min: 0,
                max: 0,
                avg: 0,
                sum: 0,
                median: 0,
                p25: 0,
                p75: 0,
                p95: 0,
            };
        }
        let sum: i64 = sorted.iter().sum();
        let percentile = |p: f64| -> i64 {
            let position = p * (n as f64 + 1.0);
            if position < 1.0 {
                return sorted[0];
            }
            if position >= n as f64 {
                return sorted[n - 1];
            }
            let lower = sorted[position.floor() as usize - 1] as f64;
            let upper = sorted[position.floor() as usize] as f64;
            (lower + (position - position.floor()) * (upper - lower)) as i64
        };
        StatsSummary {
            min: sorted[0],
            max: sorted[n - 1],
            avg: sum / n as i64,
            sum,
            median: percentile(0.5),
            p25: percentile(0.25),
            p75: percentile(0.75),
            p95: percentile(0.95),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_flink_for_two_subtasks() {
        // Values from a real Flink 2.3 vertex (accumulated-busy-time of two subtasks).
        let s = StatsSummary::of(&[858, 757]);
        assert_eq!((s.min, s.max, s.sum, s.avg), (757, 858, 1615, 807));
        assert_eq!((s.p25, s.median, s.p75, s.p95), (757, 807, 858, 858));
    }
}
