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
//!
//! Only a batch's largest candidate matters, so an expression that adds or
//! subtracts constants (as bounded out-of-orderness is written) has what is
//! under them evaluated on every row, and itself only on the row where that
//! is largest: the interval arithmetic is per row and costly.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, SchemaRef};
use datafusion::logical_expr::Operator as BinaryOperator;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{BinaryExpr, Literal};
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
        // Only a TIMESTAMP under the shifts orders rows as time does.
        let growing_with = growing_with(&expression).filter(|inner| {
            inner
                .data_type(input)
                .is_ok_and(|t| matches!(t, DataType::Timestamp(_, _)))
        });
        Ok(WatermarkAssigner {
            name: self.name(),
            growing_with,
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

/// What `expression` grows with, if it adds or subtracts constants: the
/// expression under them (`ts` of `ts - INTERVAL '5' SECOND`, or a computed
/// column's CASE written out). Its largest value over rows is then its value
/// on a row where what it grows with is largest.
fn growing_with(expression: &Arc<dyn PhysicalExpr>) -> Option<Arc<dyn PhysicalExpr>> {
    let any: &dyn std::any::Any = expression.as_ref();
    let binary = any.downcast_ref::<BinaryExpr>()?;
    let right: &dyn std::any::Any = binary.right().as_ref();
    let constant = right.downcast_ref::<Literal>().is_some();
    let shifts = matches!(binary.op(), BinaryOperator::Plus | BinaryOperator::Minus);
    (constant && shifts)
        .then(|| growing_with(binary.left()).unwrap_or_else(|| binary.left().clone()))
}

pub struct WatermarkAssigner {
    name: String,
    expression: Arc<dyn PhysicalExpr>,
    /// What the expression grows with ([`growing_with`]), if anything.
    growing_with: Option<Arc<dyn PhysicalExpr>>,
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
        let rows = match &self.growing_with {
            Some(inner) => {
                let inner = inner
                    .evaluate(batch)
                    .and_then(|v| v.into_array(batch.num_rows()))
                    .map_err(|e| failed(&e))?;
                let times = epoch_millis(&inner).map_err(|e| failed(&e))?;
                let latest = (0..times.len())
                    .filter(|&row| times.is_valid(row))
                    .max_by_key(|&row| times.value(row));
                match latest {
                    Some(row) => batch.slice(row, 1),
                    // Every time is NULL: so is every candidate.
                    None => return Ok(None),
                }
            }
            None => batch.clone(),
        };
        let values = self
            .expression
            .evaluate(&rows)
            .and_then(|v| v.into_array(rows.num_rows()))
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
    fn the_largest_candidate_from_the_latest_row_is_the_largest_of_all_rows() {
        let expressions = [
            // The expression itself: evaluated on every row anyway.
            ("ts", false),
            ("ts - INTERVAL '5' SECOND", true),
            ("ts + INTERVAL '1' MONTH - INTERVAL '1' SECOND", true),
            // Not growing with `ts`: every row is evaluated.
            (
                "CASE WHEN ts > TIMESTAMP '1970-01-01 00:00:20' THEN ts - INTERVAL '1' DAY ELSE ts END",
                false,
            ),
        ];
        let batches = [
            vec![Some(10_000), None, Some(30_000), Some(30_000), Some(-5)],
            vec![None, None],
            vec![Some(2_678_400_000), Some(86_400_000 * 59)],
            vec![Some(25_000), Some(21_000), Some(19_000)],
        ];
        for (expression, shortcut) in expressions {
            let spec = WatermarkAssignerSpec {
                name: None,
                expression: expression.into(),
                interval_millis: 0,
                idle_timeout_millis: 0,
            };
            let fast = spec.create(&schema()).unwrap();
            assert_eq!(fast.growing_with.is_some(), shortcut, "{expression}");
            let mut every_row = spec.create(&schema()).unwrap();
            every_row.growing_with = None;
            for times in &batches {
                let batch = batch(times.clone());
                assert_eq!(
                    fast.largest_candidate(&batch).unwrap(),
                    every_row.largest_candidate(&batch).unwrap(),
                    "{expression} over {times:?}"
                );
            }
        }
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
