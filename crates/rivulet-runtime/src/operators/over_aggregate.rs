//! `OverAggregate`: Flink's event-time OVER aggregation,
//! `agg(x) OVER (PARTITION BY k ORDER BY ts ROWS|RANGE BETWEEN … PRECEDING
//! AND CURRENT ROW)`: every row comes out once, with the aggregates over its
//! frame, as Flink's `RowTimeRowsBoundedPrecedingFunction` and its siblings
//! compute them.
//!
//! Rows wait in keyed state until the watermark passes their time (an
//! event-time timer per key and time), then are taken in time order, rows
//! of equal time in the order they came. A ROWS frame holds the row and the
//! `preceding` rows before it; a RANGE frame every row whose time is at most
//! `preceding` milliseconds before the row's, its peers of equal time
//! included, so peers share their results. Unbounded frames keep only
//! accumulators; bounded ones keep the rows a later frame can still reach.
//! A row whose time the watermark has already passed is late and dropped,
//! as Flink drops it. The output is insert-only: the input's columns but
//! the key, then the aggregates.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_row::{RowConverter, SortField};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use serde::{Deserialize, Serialize};

use super::accumulators::{Accumulator, result_column};
use super::aggregate_calls::{AggregateCall, BoundCalls, column_of};
use super::event_time::epoch_millis;
use super::grouping::{group_key, row_keys_of, subtask_state};
use super::{Operator, SubtaskContext, name_or};
use crate::changelog::ROW_KIND_COLUMN;
use crate::error::{Result, RuntimeError};
use crate::state::keyed::{KeyedState, StateId};
use crate::state::timers::{TimeDomain, Timer, TimerService};

/// Which rows before the current one its frame holds (`None`: all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverFrame {
    /// `ROWS BETWEEN n PRECEDING AND CURRENT ROW`.
    Rows { preceding: Option<u64> },
    /// `RANGE BETWEEN INTERVAL … PRECEDING AND CURRENT ROW`, in millis.
    Range { preceding_millis: Option<u64> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OverAggregateSpec {
    #[serde(default)]
    pub name: Option<String>,
    /// The partition key column; left out of the output.
    pub key: String,
    /// The TIMESTAMP column the rows are ordered by.
    pub time: String,
    pub frame: OverFrame,
    pub aggregates: Vec<AggregateCall>,
    /// Flink's `state.backend.type`: `hashmap` (the default) or `rocksdb`.
    #[serde(default)]
    pub state_backend: Option<String>,
}

/// Rows waiting for the watermark, under their time as namespace.
const PENDING: StateId = StateId(1);
/// A bounded frame's rows a later row can still reach: `(time, row)`.
const RETAINED: StateId = StateId(2);
/// An unbounded frame's accumulators.
const ACCUMULATORS: StateId = StateId(3);

impl OverAggregateSpec {
    pub fn name(&self) -> String {
        name_or(&self.name, "OverAggregate")
    }

    /// The key's and the time's column indices, checked.
    fn columns(&self, input: &SchemaRef) -> Result<(usize, usize)> {
        let name = self.name();
        if input.index_of(ROW_KIND_COLUMN).is_ok() {
            return Err(RuntimeError::InvalidJobGraph(format!(
                "{name}: an OVER aggregation over an update stream is not supported yet"
            )));
        }
        let key = group_key(input, Some(&self.key), &name)?
            .map(|(index, _)| index)
            .ok_or_else(|| RuntimeError::InvalidJobGraph(format!("{name}: no partition key")))?;
        let time = column_of(input, &self.time, &name)?;
        if !matches!(input.field(time).data_type(), DataType::Timestamp(_, _)) {
            return Err(RuntimeError::InvalidJobGraph(format!(
                "{name}: OVER windows' ordering in stream mode must be defined on a time attribute, not '{}'",
                self.time
            )));
        }
        Ok((key, time))
    }

    /// The input's columns but the key: what is stored and emitted of a row.
    fn payload(input: &SchemaRef, key: usize) -> SchemaRef {
        let fields: Vec<Field> = input
            .fields()
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != key)
            .map(|(_, f)| f.as_ref().clone())
            .collect();
        Arc::new(Schema::new(fields))
    }

    /// The input's columns but the key, then the aggregates.
    pub fn output_schema(&self, input: &SchemaRef) -> Result<SchemaRef> {
        let (key, _) = self.columns(input)?;
        let payload = Self::payload(input, key);
        let calls = BoundCalls::bind(&payload, &self.aggregates, &self.name())?;
        let mut fields: Vec<Field> = payload
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.extend_from_slice(calls.fields());
        Ok(Arc::new(Schema::new(fields)))
    }

    pub(super) fn create(
        &self,
        input: &SchemaRef,
        context: &SubtaskContext,
    ) -> Result<OverAggregate> {
        let name = self.name();
        let (key, time) = self.columns(input)?;
        let payload = Self::payload(input, key);
        let rows = RowConverter::new(
            payload
                .fields()
                .iter()
                .map(|f| SortField::new(f.data_type().clone()))
                .collect(),
        )
        .map_err(|source| {
            RuntimeError::InvalidJobGraph(format!("{name}: cannot store its rows: {source}"))
        })?;
        Ok(OverAggregate {
            key,
            time,
            frame: self.frame,
            calls: BoundCalls::bind(&payload, &self.aggregates, &name)?,
            payload,
            rows,
            output: self.output_schema(input)?,
            max_parallelism: context.max_parallelism,
            state: subtask_state(self.state_backend.as_deref(), context)?,
            timers: TimerService::new(),
            watermark: i64::MIN,
            name,
        })
    }
}

pub struct OverAggregate {
    name: String,
    key: usize,
    time: usize,
    frame: OverFrame,
    /// Bound to the payload's columns.
    calls: BoundCalls,
    payload: SchemaRef,
    rows: RowConverter,
    output: SchemaRef,
    max_parallelism: u32,
    state: KeyedState,
    timers: TimerService,
    watermark: i64,
}

/// A row with its time, as a bounded frame keeps it.
type Timed = (i64, Vec<u8>);

impl OverAggregate {
    fn failed(&self, message: impl std::fmt::Display) -> RuntimeError {
        RuntimeError::Operator {
            operator: self.name.clone(),
            message: message.to_string(),
        }
    }

    /// How many rows before the current one a bounded frame reaches, or for
    /// RANGE how many millis; `None` for an unbounded frame.
    fn bound(&self) -> Option<u64> {
        match self.frame {
            OverFrame::Rows { preceding } => preceding,
            OverFrame::Range { preceding_millis } => preceding_millis,
        }
    }

    /// `rows` (payload bytes) as a batch of the payload's columns.
    fn batch_of<'r>(&self, rows: impl Iterator<Item = &'r [u8]>) -> Result<RecordBatch> {
        let parser = self.rows.parser();
        let columns = self
            .rows
            .convert_rows(rows.map(|bytes| parser.parse(bytes)))
            .map_err(|e| self.failed(e))?;
        RecordBatch::try_new(self.payload.clone(), columns).map_err(|e| self.failed(e))
    }

    /// The results of the rows of the current key at `time`, in the order
    /// they came, with the state a later time needs.
    fn fire(&mut self, time: i64, arrived: &[Vec<u8>]) -> Result<Vec<Vec<Accumulator>>> {
        match self.bound() {
            None => self.fire_unbounded(arrived),
            Some(bound) => self.fire_bounded(time, bound, arrived),
        }
    }

    fn fire_unbounded(&mut self, arrived: &[Vec<u8>]) -> Result<Vec<Vec<Accumulator>>> {
        let mut accumulators: Vec<Accumulator> = self
            .state
            .value(ACCUMULATORS, &[])?
            .unwrap_or_else(|| self.calls.start());
        let batch = self.batch_of(arrived.iter().map(Vec::as_slice))?;
        let inputs = self.calls.inputs(&batch)?;
        let mut results = Vec::with_capacity(arrived.len());
        for row in 0..arrived.len() {
            self.calls.add(&mut accumulators, &inputs, row);
            results.push(accumulators.clone());
        }
        if matches!(self.frame, OverFrame::Range { .. }) {
            // Peers of equal time share the frame that holds them all.
            results.fill(accumulators.clone());
        }
        self.state.set_value(ACCUMULATORS, &[], &accumulators)?;
        Ok(results)
    }

    fn fire_bounded(
        &mut self,
        time: i64,
        bound: u64,
        arrived: &[Vec<u8>],
    ) -> Result<Vec<Vec<Accumulator>>> {
        let mut frame: Vec<Timed> = self.state.value(RETAINED, &[])?.unwrap_or_default();
        let retained = frame.len();
        frame.extend(arrived.iter().map(|row| (time, row.clone())));
        let batch = self.batch_of(frame.iter().map(|(_, row)| row.as_slice()))?;
        let inputs = self.calls.inputs(&batch)?;
        let over = |range: std::ops::Range<usize>| {
            let mut accumulators = self.calls.start();
            for row in range {
                self.calls.add(&mut accumulators, &inputs, row);
            }
            accumulators
        };
        let results: Vec<Vec<Accumulator>> = match self.frame {
            OverFrame::Rows { .. } => (retained..frame.len())
                .map(|row| over(row.saturating_sub(bound as usize)..row + 1))
                .collect(),
            OverFrame::Range { .. } => {
                let earliest = time.saturating_sub(bound as i64);
                let first = frame.partition_point(|(t, _)| *t < earliest);
                vec![over(first..frame.len()); frame.len() - retained]
            }
        };
        // What a later row's frame can still reach.
        let keep_from = match self.frame {
            OverFrame::Rows { .. } => frame.len().saturating_sub(bound as usize),
            OverFrame::Range { .. } => {
                let earliest = time.saturating_sub(bound as i64);
                frame.partition_point(|(t, _)| *t < earliest)
            }
        };
        frame.drain(..keep_from);
        self.state.set_value(RETAINED, &[], &frame)?;
        Ok(results)
    }

    fn emit(&self, rows: &[Vec<u8>], results: &[Vec<Accumulator>]) -> Result<RecordBatch> {
        let mut columns: Vec<ArrayRef> = self
            .batch_of(rows.iter().map(Vec::as_slice))?
            .columns()
            .to_vec();
        let first_result = self.payload.fields().len();
        for (i, field) in self.output.fields()[first_result..].iter().enumerate() {
            let values: Vec<Accumulator> = results.iter().map(|r| r[i].clone()).collect();
            columns.push(result_column(&values, field.data_type()));
        }
        RecordBatch::try_new(self.output.clone(), columns).map_err(|e| self.failed(e))
    }
}

impl Operator for OverAggregate {
    fn process_batch(&mut self, batch: RecordBatch, _out: &mut Vec<RecordBatch>) -> Result<()> {
        let (keys, groups) = row_keys_of(&batch, Some(self.key), self.max_parallelism, &self.name)?;
        let times = epoch_millis(batch.column(self.time)).map_err(|e| self.failed(e))?;
        let payload: Vec<ArrayRef> = batch
            .columns()
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != self.key)
            .map(|(_, c)| c.clone())
            .collect();
        let rows = self
            .rows
            .convert_columns(&payload)
            .map_err(|e| self.failed(e))?;
        for (index, &key_group) in groups.iter().enumerate() {
            // A row without a time, or one the watermark has passed, is dropped.
            if times.is_null(index) || times.value(index) <= self.watermark {
                continue;
            }
            let time = times.value(index);
            let key = keys.key(index);
            self.state.set_current_key(key_group, key)?;
            let namespace = time.to_be_bytes().to_vec();
            self.state
                .add_to_list(PENDING, &namespace, rows.row(index).as_ref().to_vec())?;
            let timer = Timer {
                timestamp: time,
                key_group,
                key: key.into(),
                namespace: namespace.into(),
            };
            self.timers.register(TimeDomain::EventTime, timer);
        }
        Ok(())
    }

    fn process_watermark(&mut self, watermark: i64, out: &mut Vec<RecordBatch>) -> Result<()> {
        self.watermark = self.watermark.max(watermark);
        let mut rows = Vec::new();
        let mut results = Vec::new();
        for timer in self.timers.advance(TimeDomain::EventTime, watermark) {
            self.state.set_current_key(timer.key_group, &timer.key)?;
            let arrived: Vec<Vec<u8>> = self.state.list(PENDING, &timer.namespace)?;
            self.state.clear(PENDING, &timer.namespace)?;
            if arrived.is_empty() {
                continue;
            }
            results.extend(self.fire(timer.timestamp, &arrived)?);
            rows.extend(arrived);
        }
        if !rows.is_empty() {
            out.push(self.emit(&rows, &results)?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;
    use arrow_array::{Int64Array, StringArray, TimestampMillisecondArray};

    use super::*;
    use crate::operators::accumulators::AggregateFunction;
    use crate::operators::event_time::millis_type;

    fn input() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, false),
            Field::new("v", DataType::Int64, true),
            Field::new("ts", millis_type(), false),
        ]))
    }

    fn batch(rows: &[(&str, i64, i64)]) -> RecordBatch {
        RecordBatch::try_new(
            input(),
            vec![
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1))),
                Arc::new(TimestampMillisecondArray::from_iter_values(
                    rows.iter().map(|r| r.2),
                )),
            ],
        )
        .unwrap()
    }

    /// `v@ts: sum count` per output row, of key `a` only.
    fn run(frame: OverFrame, backend: &str) -> Vec<String> {
        let call = |function, input: Option<&str>, output: &str| AggregateCall {
            function,
            input: input.map(String::from),
            output: output.into(),
            separator: None,
        };
        let spec = OverAggregateSpec {
            name: None,
            key: "k".into(),
            time: "ts".into(),
            frame,
            aggregates: vec![
                call(AggregateFunction::Sum, Some("v"), "total"),
                call(AggregateFunction::CountStar, None, "n"),
            ],
            state_backend: Some(backend.into()),
        };
        let mut over = spec.create(&input(), &SubtaskContext::alone()).unwrap();
        let mut out = Vec::new();
        // Out of order within the watermark's bound; b is another key.
        over.process_batch(
            batch(&[("a", 1, 10), ("a", 3, 30), ("b", 100, 10), ("a", 2, 20)]),
            &mut out,
        )
        .unwrap();
        assert!(out.is_empty(), "nothing before the watermark");
        over.process_watermark(20, &mut out).unwrap();
        // Late: the watermark passed 20. Two peers at 30.
        over.process_batch(batch(&[("a", 50, 15), ("a", 4, 30)]), &mut out)
            .unwrap();
        over.process_watermark(i64::MAX, &mut out).unwrap();
        let mut shown = Vec::new();
        for batch in &out {
            let keys = batch.schema().index_of("k");
            assert!(keys.is_err(), "the key is left out");
            let v = batch.column(0).as_primitive::<Int64Type>();
            let ts = epoch_millis(batch.column(1)).unwrap();
            let total = batch.column(2).as_primitive::<Int64Type>();
            let n = batch.column(3).as_primitive::<Int64Type>();
            for row in 0..batch.num_rows() {
                if v.value(row) < 100 {
                    shown.push(format!(
                        "{}@{}: {} {}",
                        v.value(row),
                        ts.value(row),
                        total.value(row),
                        n.value(row)
                    ));
                }
            }
        }
        shown
    }

    #[test]
    fn rows_frames_count_rows_and_range_frames_count_time_with_peers() {
        for backend in ["hashmap", "rocksdb"] {
            assert_eq!(
                run(OverFrame::Rows { preceding: Some(1) }, backend),
                ["1@10: 1 1", "2@20: 3 2", "3@30: 5 2", "4@30: 7 2"],
                "{backend}: ROWS 1 PRECEDING"
            );
            assert_eq!(
                run(OverFrame::Rows { preceding: None }, backend),
                ["1@10: 1 1", "2@20: 3 2", "3@30: 6 3", "4@30: 10 4"],
                "{backend}: ROWS UNBOUNDED PRECEDING"
            );
            assert_eq!(
                run(
                    OverFrame::Range {
                        preceding_millis: Some(10)
                    },
                    backend
                ),
                ["1@10: 1 1", "2@20: 3 2", "3@30: 9 3", "4@30: 9 3"],
                "{backend}: RANGE 10 ms PRECEDING, peers share"
            );
            assert_eq!(
                run(
                    OverFrame::Range {
                        preceding_millis: None
                    },
                    backend
                ),
                ["1@10: 1 1", "2@20: 3 2", "3@30: 10 4", "4@30: 10 4"],
                "{backend}: RANGE UNBOUNDED PRECEDING"
            );
        }
    }
}
