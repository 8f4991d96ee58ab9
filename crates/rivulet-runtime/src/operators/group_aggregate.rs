//! `GroupAggregate`: an unbounded `GROUP BY` producing a changelog, as
//! Flink's `GroupAggregate` with mini-batches: each batch's rows are folded
//! into the accumulators of their keys (kept in keyed state), then every key
//! the batch touched emits its new result — `+I` the first time, `-U` of the
//! old result and `+U` of the new one after that, nothing when the result did
//! not change. Rows carry their kind in [`ROW_KIND_COLUMN`]. Input must be
//! hash-partitioned on the key (or, without a key, run at parallelism 1),
//! and insert-only.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{ArrayRef, Int8Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use serde::{Deserialize, Serialize};

use super::accumulators::{Accumulator, result_column};
use super::aggregate_calls::{AggregateCall, BoundCalls};
use super::grouping::{
    KeyValue, Partial, group_key, key_bytes, key_column, keys_of, subtask_state,
};
use super::{Operator, SubtaskContext, name_or};
use crate::changelog::{ROW_KIND_COLUMN, RowKind};
use crate::error::{Result, RuntimeError};
use crate::state::keyed::{KeyedState, StateId};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupAggregateSpec {
    #[serde(default)]
    pub name: Option<String>,
    /// The grouping key column (BIGINT, INT or STRING), if any.
    #[serde(default)]
    pub key: Option<String>,
    pub aggregates: Vec<AggregateCall>,
    /// Flink's `state.backend.type`: `hashmap` (the default) or `rocksdb`.
    #[serde(default)]
    pub state_backend: Option<String>,
}

/// The accumulators of one key.
const ACCUMULATORS: StateId = StateId(1);

impl GroupAggregateSpec {
    pub fn name(&self) -> String {
        name_or(&self.name, "GroupAggregate")
    }

    /// `[key], aggregates…, $row_kind`.
    pub fn output_schema(&self, input: &SchemaRef) -> Result<SchemaRef> {
        let name = self.name();
        if input.index_of(ROW_KIND_COLUMN).is_ok() {
            return Err(RuntimeError::InvalidJobGraph(format!(
                "{name}: aggregating an update stream is not supported yet"
            )));
        }
        let mut fields: Vec<Field> = group_key(input, self.key.as_deref(), &name)?
            .map(|(_, field)| field)
            .into_iter()
            .collect();
        fields.extend_from_slice(BoundCalls::bind(input, &self.aggregates, &name)?.fields());
        fields.push(Field::new(ROW_KIND_COLUMN, DataType::Int8, false));
        Ok(Arc::new(Schema::new(fields)))
    }

    pub(super) fn create(
        &self,
        input: &SchemaRef,
        context: &SubtaskContext,
    ) -> Result<GroupAggregate> {
        let name = self.name();
        let output = self.output_schema(input)?;
        Ok(GroupAggregate {
            key: group_key(input, self.key.as_deref(), &name)?.map(|(index, _)| index),
            calls: BoundCalls::bind(input, &self.aggregates, &name)?,
            output,
            max_parallelism: context.max_parallelism,
            state: subtask_state(self.state_backend.as_deref(), context)?,
            name,
        })
    }
}

pub struct GroupAggregate {
    name: String,
    key: Option<usize>,
    calls: BoundCalls,
    output: SchemaRef,
    max_parallelism: u32,
    state: KeyedState,
}

/// An emitted row: its kind, key and results.
type Change = (RowKind, KeyValue, Vec<Accumulator>);

impl GroupAggregate {
    fn failed(&self, message: impl std::fmt::Display) -> RuntimeError {
        RuntimeError::Operator {
            operator: self.name.clone(),
            message: message.to_string(),
        }
    }

    /// The batch's rows summed per key, keys in the order they first came.
    fn partials(&self, batch: &RecordBatch) -> Result<Vec<(KeyValue, Partial)>> {
        let (keys, groups) = keys_of(batch, self.key, self.max_parallelism, &self.name)?;
        let inputs = self.calls.inputs(batch)?;
        let mut order: Vec<(KeyValue, Partial)> = Vec::new();
        let mut index: HashMap<&KeyValue, usize> = HashMap::new();
        for (row, key) in keys.iter().enumerate() {
            let at = *index.entry(key).or_insert_with(|| {
                order.push((
                    key.clone(),
                    Partial {
                        key_group: groups[row],
                        accumulators: self.calls.start(),
                    },
                ));
                order.len() - 1
            });
            self.calls.add(&mut order[at].1.accumulators, &inputs, row);
        }
        Ok(order)
    }

    fn emit(&self, changes: &[Change]) -> Result<RecordBatch> {
        let mut columns: Vec<ArrayRef> = Vec::new();
        let mut next = 0;
        if self.key.is_some() {
            let keys = changes.iter().map(|(_, k, _)| k);
            columns.push(key_column(keys, self.output.field(0).data_type())?);
            next = 1;
        }
        let results = self.output.fields().len() - 1;
        for (i, field) in self.output.fields()[next..results].iter().enumerate() {
            let values: Vec<Accumulator> = changes.iter().map(|(_, _, a)| a[i].clone()).collect();
            columns.push(result_column(&values, field.data_type()));
        }
        columns.push(Arc::new(Int8Array::from_iter_values(
            changes.iter().map(|(kind, ..)| *kind as i8),
        )));
        RecordBatch::try_new(self.output.clone(), columns).map_err(|e| self.failed(e))
    }
}

impl Operator for GroupAggregate {
    fn process_batch(&mut self, batch: RecordBatch, out: &mut Vec<RecordBatch>) -> Result<()> {
        let mut changes: Vec<Change> = Vec::new();
        for (key, partial) in self.partials(&batch)? {
            self.state
                .set_current_key(partial.key_group, &key_bytes(&key, &self.name)?)?;
            let stored: Option<Vec<Accumulator>> = self.state.value(ACCUMULATORS, &[])?;
            let mut merged = stored.clone().unwrap_or_else(|| self.calls.start_stored());
            self.calls
                .merge_stored(&mut merged, partial.accumulators, &mut self.state, &[])?;
            match stored {
                None => changes.push((RowKind::Insert, key, merged.clone())),
                // An unchanged result is not sent again, as Flink does not.
                Some(old) if old == merged => {}
                Some(old) => {
                    changes.push((RowKind::UpdateBefore, key.clone(), old));
                    changes.push((RowKind::UpdateAfter, key, merged.clone()));
                }
            }
            self.state.set_value(ACCUMULATORS, &[], &merged)?;
        }
        if !changes.is_empty() {
            out.push(self.emit(&changes)?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Int8Type, Int64Type};
    use arrow_array::{Array, StringArray};

    use super::*;
    use crate::operators::accumulators::AggregateFunction;

    fn input_schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, true),
            Field::new("v", DataType::Int64, true),
        ]))
    }

    fn batch(rows: &[(&str, Option<i64>)]) -> RecordBatch {
        RecordBatch::try_new(
            input_schema(),
            vec![
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
                Arc::new(arrow_array::Int64Array::from_iter(rows.iter().map(|r| r.1))),
            ],
        )
        .unwrap()
    }

    fn rows(out: &[RecordBatch]) -> Vec<String> {
        let mut lines = Vec::new();
        for batch in out {
            for row in 0..batch.num_rows() {
                let kind = batch.column(3).as_primitive::<Int8Type>().value(row);
                let count = batch.column(1).as_primitive::<Int64Type>().value(row);
                let max = batch.column(2).as_primitive::<Int64Type>();
                let max = max.is_valid(row).then(|| max.value(row));
                lines.push(format!(
                    "{}[{}, {count}, {max:?}]",
                    RowKind::from_byte(kind).unwrap().short_string(),
                    batch.column(0).as_string::<i32>().value(row),
                ));
            }
        }
        lines
    }

    #[test]
    fn each_key_inserts_then_retracts_and_updates_and_stays_quiet_when_unchanged() {
        let spec = GroupAggregateSpec {
            name: None,
            key: Some("k".into()),
            aggregates: vec![
                AggregateCall {
                    function: AggregateFunction::CountStar,
                    input: None,
                    output: "n".into(),
                },
                AggregateCall {
                    function: AggregateFunction::Max,
                    input: Some("v".into()),
                    output: "top".into(),
                },
            ],
            state_backend: None,
        };
        let context = SubtaskContext::alone();
        let mut operator = spec.create(&input_schema(), &context).unwrap();
        let mut out = Vec::new();
        operator
            .process_batch(
                batch(&[("a", Some(1)), ("b", None), ("a", Some(5))]),
                &mut out,
            )
            .unwrap();
        assert_eq!(rows(&out), ["+I[a, 2, Some(5)]", "+I[b, 1, None]"]);
        out.clear();
        operator
            .process_batch(batch(&[("b", Some(3)), ("a", Some(2))]), &mut out)
            .unwrap();
        assert_eq!(
            rows(&out),
            [
                "-U[b, 1, None]",
                "+U[b, 2, Some(3)]",
                "-U[a, 2, Some(5)]",
                "+U[a, 3, Some(5)]"
            ]
        );
        // MIN/MAX that do not move still change the count; a batch that
        // changes nothing emits nothing.
        out.clear();
        operator.process_batch(batch(&[]), &mut out).unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn distinct_values_are_counted_once_across_batches_and_backends() {
        for backend in ["hashmap", "rocksdb"] {
            let spec = GroupAggregateSpec {
                name: None,
                key: Some("k".into()),
                aggregates: vec![AggregateCall {
                    function: AggregateFunction::CountDistinct,
                    input: Some("v".into()),
                    output: "distinct".into(),
                }],
                state_backend: Some(backend.into()),
            };
            let context = SubtaskContext::alone();
            let mut operator = spec.create(&input_schema(), &context).unwrap();
            let mut counts = Vec::new();
            for rows in [
                &[("a", Some(1)), ("a", Some(1)), ("a", None)][..],
                &[("a", Some(2)), ("a", Some(1))],
                &[("a", Some(1))],
                &[("a", Some(3))],
            ] {
                let mut out = Vec::new();
                operator.process_batch(batch(rows), &mut out).unwrap();
                for batch in &out {
                    let values = batch.column(1).as_primitive::<Int64Type>();
                    counts.extend(values.iter().flatten());
                }
            }
            // +I 1; -U 1, +U 2; (unchanged: nothing); -U 2, +U 3.
            assert_eq!(counts, [1, 1, 2, 2, 3], "{backend}");
        }
    }
}
