//! `WatermarkAssigner`: event time from a table's `WATERMARK FOR col AS
//! expr`, chained right after the table's source as in Flink's plans.
//!
//! Each row's watermark candidate is the expression's value (`ts - INTERVAL
//! '5' SECOND` for bounded out-of-orderness); the assigner keeps the largest
//! and offers it downstream every `pipeline.auto-watermark-interval`, when it
//! has grown (after every batch when the interval is 0). With
//! `table.exec.source.idle-timeout` set, a subtask that has seen no rows for
//! that long declares itself idle, so downstream operators stop waiting for
//! its watermark until it sends again. Rows pass through unchanged: lateness
//! is judged by the operators that keep event-time state.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::RecordBatch;
use arrow_schema::{DataType, SchemaRef};
use datafusion::physical_expr::PhysicalExpr;
use serde::{Deserialize, Serialize};

use super::event_time::epoch_millis;
use super::{EventTimeSignal, Operator, name_or};
use crate::error::{Result, RuntimeError};

/// Flink's default `pipeline.auto-watermark-interval`: 200 ms.
pub const DEFAULT_WATERMARK_INTERVAL_MILLIS: u64 = 200;

fn default_interval() -> u64 {
    DEFAULT_WATERMARK_INTERVAL_MILLIS
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WatermarkAssignerSpec {
    #[serde(default)]
    pub name: Option<String>,
    /// SQL over the input columns: each row's watermark candidate, a TIMESTAMP.
    pub expression: String,
    /// Flink's `pipeline.auto-watermark-interval`; 0 offers a watermark after every batch.
    #[serde(default = "default_interval")]
    pub interval_millis: u64,
    /// Flink's `table.exec.source.idle-timeout`; 0 never declares the subtask idle.
    #[serde(default)]
    pub idle_timeout_millis: u64,
}

impl WatermarkAssignerSpec {
    pub fn name(&self) -> String {
        name_or(&self.name, "WatermarkAssigner")
    }

    /// Checks that the expression compiles over `input` to a timestamp.
    pub fn validate_input(&self, input: &SchemaRef) -> Result<()> {
        self.create(input).map(drop)
    }

    pub(super) fn create(&self, input: &SchemaRef) -> Result<WatermarkAssigner> {
        let expression = super::calc::compile_expression(&self.name(), &self.expression, input)?;
        let data_type = expression.data_type(input).map_err(|e| self.failed(e))?;
        if !matches!(data_type, DataType::Timestamp(_, _)) {
            return Err(self.failed(format!(
                "the watermark expression '{}' is of type {data_type}, not a TIMESTAMP",
                self.expression
            )));
        }
        let now = Instant::now();
        Ok(WatermarkAssigner {
            name: self.name(),
            expression,
            interval: Duration::from_millis(self.interval_millis),
            idle_timeout: (self.idle_timeout_millis > 0)
                .then(|| Duration::from_millis(self.idle_timeout_millis)),
            largest: i64::MIN,
            offered: i64::MIN,
            next_offer: now,
            last_row: now,
            idle: false,
        })
    }

    fn failed(&self, message: impl std::fmt::Display) -> RuntimeError {
        RuntimeError::Operator {
            operator: self.name(),
            message: message.to_string(),
        }
    }
}

pub struct WatermarkAssigner {
    name: String,
    expression: Arc<dyn PhysicalExpr>,
    interval: Duration,
    idle_timeout: Option<Duration>,
    /// The largest candidate seen, in epoch milliseconds.
    largest: i64,
    /// The last watermark offered downstream.
    offered: i64,
    next_offer: Instant,
    last_row: Instant,
    idle: bool,
}

impl WatermarkAssigner {
    /// The largest non-NULL candidate of a batch, in epoch milliseconds.
    fn largest_candidate(&self, batch: &RecordBatch) -> Result<Option<i64>> {
        let failed = |e: &dyn std::fmt::Display| RuntimeError::Operator {
            operator: self.name.clone(),
            message: e.to_string(),
        };
        let values = self
            .expression
            .evaluate(batch)
            .and_then(|v| v.into_array(batch.num_rows()))
            .map_err(|e| failed(&e))?;
        let millis = epoch_millis(&values).map_err(|e| failed(&e))?;
        Ok(millis.iter().flatten().max())
    }
}

impl Operator for WatermarkAssigner {
    fn process_batch(&mut self, batch: RecordBatch, out: &mut Vec<RecordBatch>) -> Result<()> {
        if batch.num_rows() > 0 {
            if let Some(largest) = self.largest_candidate(&batch)? {
                self.largest = self.largest.max(largest);
            }
            self.last_row = Instant::now();
            self.idle = false;
        }
        out.push(batch);
        Ok(())
    }

    fn poll_event_time(&mut self, now: Instant) -> Option<EventTimeSignal> {
        if self.largest > self.offered && now >= self.next_offer {
            self.offered = self.largest;
            self.next_offer = now + self.interval;
            return Some(EventTimeSignal::Watermark(self.offered));
        }
        let timeout = self.idle_timeout?;
        if !self.idle && now.duration_since(self.last_row) >= timeout {
            self.idle = true;
            return Some(EventTimeSignal::Idle);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::TimestampMillisecondArray;
    use arrow_schema::{Field, Schema, TimeUnit};

    use super::*;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            true,
        )]))
    }

    fn batch(times: Vec<Option<i64>>) -> RecordBatch {
        RecordBatch::try_new(
            schema(),
            vec![Arc::new(TimestampMillisecondArray::from(times))],
        )
        .unwrap()
    }

    fn assigner(interval_millis: u64, idle_timeout_millis: u64) -> WatermarkAssigner {
        WatermarkAssignerSpec {
            name: None,
            expression: "ts - INTERVAL '5' SECOND".into(),
            interval_millis,
            idle_timeout_millis,
        }
        .create(&schema())
        .unwrap()
    }

    #[test]
    fn the_watermark_is_the_largest_candidate_offered_once_per_interval() {
        let mut assigner = assigner(200, 0);
        let start = Instant::now();
        let mut out = Vec::new();
        assigner
            .process_batch(batch(vec![Some(10_000), None, Some(30_000)]), &mut out)
            .unwrap();
        assert_eq!(out.len(), 1, "rows pass through");
        assert_eq!(
            assigner.poll_event_time(start),
            Some(EventTimeSignal::Watermark(25_000))
        );
        // An out-of-order row does not move it back; a later one waits for the interval.
        assigner
            .process_batch(batch(vec![Some(20_000), Some(40_000)]), &mut out)
            .unwrap();
        assert_eq!(assigner.poll_event_time(start), None);
        let later = start + Duration::from_millis(200);
        assert_eq!(
            assigner.poll_event_time(later),
            Some(EventTimeSignal::Watermark(35_000))
        );
        assert_eq!(assigner.poll_event_time(later), None, "nothing new");
    }

    #[test]
    fn a_subtask_without_rows_for_the_idle_timeout_declares_itself_idle_once() {
        let mut assigner = assigner(0, 50);
        let start = Instant::now();
        assert_eq!(assigner.poll_event_time(start), None);
        let later = start + Duration::from_millis(60);
        assert_eq!(assigner.poll_event_time(later), Some(EventTimeSignal::Idle));
        assert_eq!(assigner.poll_event_time(later), None);
        // A row makes it active again.
        let mut out = Vec::new();
        assigner
            .process_batch(batch(vec![Some(7_000)]), &mut out)
            .unwrap();
        assert_eq!(
            assigner.poll_event_time(Instant::now()),
            Some(EventTimeSignal::Watermark(2_000))
        );
    }

    #[test]
    fn an_expression_that_is_not_a_timestamp_is_refused() {
        let spec = WatermarkAssignerSpec {
            name: None,
            expression: "1".into(),
            interval_millis: 200,
            idle_timeout_millis: 0,
        };
        let error = spec.create(&schema()).err().unwrap().to_string();
        assert!(error.contains("not a TIMESTAMP"), "{error}");
    }
}
