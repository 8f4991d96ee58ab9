//! `WindowTableFunction`: Flink's window table functions as an operator.
//! Every row gets the windows its time falls into, as three more columns —
//! `window_start`, `window_end` and `window_time` (end minus 1 ms, the
//! window's rowtime) — once per window:
//!
//! - `TUMBLE(size)`: the one window `[t - t mod size, … + size)`;
//! - `HOP(slide, size)`: every window of length `size` starting at a multiple
//!   of `slide` that holds `t` (`size / slide` of them);
//! - `CUMULATE(step, size)`: the windows starting at the tumbling window's
//!   start and ending at each multiple of `step` up to `size` that hold `t`.
//!
//! A row whose time is NULL belongs to no window and is dropped.

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, TimestampMillisecondArray, UInt32Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use datafusion::physical_expr::PhysicalExpr;
use serde::{Deserialize, Serialize};

use super::event_time::{epoch_millis, millis_type};
use super::{Operator, name_or};
use crate::error::{Result, RuntimeError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WindowKind {
    Tumble {
        size_millis: i64,
    },
    Hop {
        slide_millis: i64,
        size_millis: i64,
    },
    Cumulate {
        step_millis: i64,
        size_millis: i64,
    },
    /// Each row gets the session of its own `[time, time + gap)`; the window
    /// aggregation after it merges the sessions of a key that overlap.
    Session {
        gap_millis: i64,
    },
}

impl WindowKind {
    /// Appends the `(start, end)` of every window holding `time`.
    fn windows(self, time: i64, out: &mut Vec<(i64, i64)>) {
        match self {
            WindowKind::Tumble { size_millis: size } => {
                let start = time - time.rem_euclid(size);
                out.push((start, start + size));
            }
            WindowKind::Hop {
                slide_millis: slide,
                size_millis: size,
            } => {
                let mut start = time - time.rem_euclid(slide);
                while start > time - size {
                    out.push((start, start + size));
                    start -= slide;
                }
            }
            WindowKind::Session { gap_millis } => out.push((time, time + gap_millis)),
            WindowKind::Cumulate {
                step_millis: step,
                size_millis: size,
            } => {
                let start = time - time.rem_euclid(size);
                let mut end = start + step;
                while end <= start + size {
                    if end > time {
                        out.push((start, end));
                    }
                    end += step;
                }
            }
        }
    }

    fn check(self) -> std::result::Result<(), String> {
        match self {
            WindowKind::Tumble { size_millis } if size_millis > 0 => Ok(()),
            WindowKind::Hop {
                slide_millis,
                size_millis,
            } if slide_millis > 0 && size_millis > 0 && size_millis % slide_millis == 0 => Ok(()),
            WindowKind::Cumulate {
                step_millis,
                size_millis,
            } if step_millis > 0 && size_millis > 0 && size_millis % step_millis == 0 => Ok(()),
            WindowKind::Session { gap_millis } if gap_millis > 0 => Ok(()),
            WindowKind::Tumble { .. } => Err("TUMBLE's size must be positive".into()),
            WindowKind::Session { .. } => Err("SESSION's gap must be positive".into()),
            WindowKind::Hop { .. } => {
                Err("HOP's size must be a positive whole multiple of its slide".into())
            }
            WindowKind::Cumulate { .. } => {
                Err("CUMULATE's max size must be a positive whole multiple of its step".into())
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WindowTableFunctionSpec {
    #[serde(default)]
    pub name: Option<String>,
    /// SQL over the input columns: each row's time (the DESCRIPTOR column).
    pub time: String,
    pub window: WindowKind,
}

impl WindowTableFunctionSpec {
    pub fn name(&self) -> String {
        name_or(&self.name, "WindowTableFunction")
    }

    pub fn output_schema(&self, input: &SchemaRef) -> Result<SchemaRef> {
        Ok(self.create(input)?.output)
    }

    pub(super) fn create(&self, input: &SchemaRef) -> Result<WindowTableFunction> {
        let name = self.name();
        let failed = |message: String| RuntimeError::Operator {
            operator: name.clone(),
            message,
        };
        self.window.check().map_err(failed)?;
        let time = super::calc::compile_expression(&name, &self.time, input)?;
        let data_type = time.data_type(input).map_err(|e| failed(e.to_string()))?;
        if !matches!(data_type, DataType::Timestamp(_, _)) {
            return Err(failed(format!(
                "the time column '{}' is of type {data_type}, not a TIMESTAMP",
                self.time
            )));
        }
        let mut fields: Vec<Field> = input.fields().iter().map(|f| f.as_ref().clone()).collect();
        for column in ["window_start", "window_end", "window_time"] {
            fields.push(Field::new(column, millis_type(), false));
        }
        Ok(WindowTableFunction {
            name,
            time,
            window: self.window,
            output: Arc::new(Schema::new(fields)),
        })
    }
}

pub struct WindowTableFunction {
    name: String,
    time: Arc<dyn PhysicalExpr>,
    window: WindowKind,
    output: SchemaRef,
}

impl WindowTableFunction {
    fn failed(&self, message: impl std::fmt::Display) -> RuntimeError {
        RuntimeError::Operator {
            operator: self.name.clone(),
            message: message.to_string(),
        }
    }
}

impl Operator for WindowTableFunction {
    fn process_batch(&mut self, batch: RecordBatch, out: &mut Vec<RecordBatch>) -> Result<()> {
        let times = self
            .time
            .evaluate(&batch)
            .and_then(|v| v.into_array(batch.num_rows()))
            .map_err(|e| self.failed(e))?;
        let times = epoch_millis(&times).map_err(|e| self.failed(e))?;
        let mut rows = Vec::with_capacity(batch.num_rows());
        let mut windows = Vec::with_capacity(batch.num_rows());
        let mut found = Vec::new();
        for (row, time) in times.iter().enumerate() {
            let Some(time) = time else { continue };
            found.clear();
            self.window.windows(time, &mut found);
            for window in &found {
                rows.push(row as u32);
                windows.push(*window);
            }
        }
        if rows.is_empty() {
            return Ok(());
        }
        // Each row in one window (TUMBLE, or HOP's slices), none dropped:
        // the batch's columns are the output's as they are.
        let one_each = rows.len() == batch.num_rows()
            && rows.iter().enumerate().all(|(at, &row)| row as usize == at);
        let mut columns: Vec<ArrayRef> = if one_each {
            batch.columns().to_vec()
        } else {
            let indices = UInt32Array::from(rows);
            batch
                .columns()
                .iter()
                .map(|c| arrow_select::take::take(c.as_ref(), &indices, None))
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| self.failed(e))?
        };
        let starts = windows.iter().map(|w| w.0);
        let ends = windows.iter().map(|w| w.1);
        columns.push(Arc::new(TimestampMillisecondArray::from_iter_values(
            starts,
        )));
        columns.push(Arc::new(TimestampMillisecondArray::from_iter_values(
            ends.clone(),
        )));
        columns.push(Arc::new(TimestampMillisecondArray::from_iter_values(
            ends.map(|end| end - 1),
        )));
        out.push(RecordBatch::try_new(self.output.clone(), columns).map_err(|e| self.failed(e))?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn windows(kind: WindowKind, time: i64) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        kind.windows(time, &mut out);
        out.sort();
        out
    }

    #[test]
    fn each_kind_finds_the_windows_flink_assigns() {
        let tumble = WindowKind::Tumble { size_millis: 10 };
        assert_eq!(windows(tumble, 25), [(20, 30)]);
        assert_eq!(windows(tumble, -1), [(-10, 0)]);
        let hop = WindowKind::Hop {
            slide_millis: 5,
            size_millis: 10,
        };
        assert_eq!(windows(hop, 25), [(20, 30), (25, 35)]);
        assert_eq!(windows(hop, 24), [(15, 25), (20, 30)]);
        let cumulate = WindowKind::Cumulate {
            step_millis: 5,
            size_millis: 15,
        };
        assert_eq!(windows(cumulate, 31), [(30, 35), (30, 40), (30, 45)]);
        assert_eq!(windows(cumulate, 36), [(30, 40), (30, 45)]);
        assert_eq!(windows(cumulate, 44), [(30, 45)]);
        let bad = WindowKind::Hop {
            slide_millis: 3,
            size_millis: 10,
        };
        assert!(bad.check().is_err());
    }
}
