//! `GroupAggregate`: an unbounded `GROUP BY` producing a changelog, as
//! Flink's `GroupAggregate` with mini-batches: each batch's rows are folded
//! into the accumulators of their keys (kept in keyed state), then every key
//! the batch touched emits its new result — `+I` the first time, `-U` of the
//! old result and `+U` of the new one after that, nothing when the result did
//! not change. Rows carry their kind in [`ROW_KIND_COLUMN`]. Input must be
//! hash-partitioned on the key (or, without a key, run at parallelism 1).
//!
//! The input may itself be a changelog (a GROUP BY over a GROUP BY): its
//! `-U` and `-D` rows are taken back from the accumulators
//! ([`super::retraction`]), and a key whose rows are all taken back emits
//! `-D` of its last result and leaves state, as Flink's `GroupAggFunction`
//! does with its record counter.

use hashbrown::HashMap;
use std::sync::Arc;

use arrow_array::{ArrayRef, Int8Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use serde::{Deserialize, Serialize};

use super::accumulators::{Accumulator, result_column};
use super::aggregate_calls::{AggregateCall, BoundCalls};
use super::grouping::{
    KeyValue, Partial, RowKeys, group_key, key_column, key_from_bytes, row_keys_of, subtask_state,
};
use super::retraction::check_retractable;
use super::{Operator, SubtaskContext, name_or};
use crate::changelog::{ROW_KIND_COLUMN, RowKind, row_kinds};
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
        let mut fields: Vec<Field> = group_key(input, self.key.as_deref(), &name)?
            .map(|(_, field)| field)
            .into_iter()
            .collect();
        let calls = BoundCalls::bind(input, &self.aggregates, &name)?;
        if input.index_of(ROW_KIND_COLUMN).is_ok() {
            for call in &calls.calls {
                check_retractable(call.function, call.kind, &name)?;
            }
        }
        fields.extend_from_slice(calls.fields());
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
            row_kind: input.index_of(ROW_KIND_COLUMN).ok(),
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
    /// The input's row-kind column, when the input is a changelog.
    row_kind: Option<usize>,
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
    fn partials<'k>(
        &self,
        batch: &RecordBatch,
        keys: &'k RowKeys,
        groups: &[u32],
    ) -> Result<Vec<(&'k [u8], Partial)>> {
        let inputs = self.calls.inputs(batch)?;
        let signs = match self.row_kind {
            Some(column) => Some(row_signs(batch, column, &self.name)?),
            None => None,
        };
        let mut order: Vec<(&[u8], Partial)> = Vec::new();
        let mut index: HashMap<&[u8], usize> = HashMap::new();
        // Each row's partial, found first; the rows are added after.
        let mut at = Vec::with_capacity(batch.num_rows());
        for (row, &key_group) in groups.iter().enumerate() {
            let key = keys.key(row);
            let partial = *index.entry(key).or_insert_with(|| {
                order.push((
                    key,
                    Partial {
                        key_group,
                        accumulators: match signs {
                            Some(_) => self.calls.start_retracting(),
                            None => self.calls.start(),
                        },
                    },
                ));
                order.len() - 1
            });
            at.push(partial as u32);
        }
        match &signs {
            Some(signs) => {
                for (row, &partial) in at.iter().enumerate() {
                    let accumulators = &mut order[partial as usize].1.accumulators;
                    self.calls
                        .add_signed(accumulators, &inputs, row, signs[row]);
                }
            }
            None => {
                fn accumulators<'p>(
                    (_, partial): &'p mut (&[u8], Partial),
                ) -> &'p mut [Accumulator] {
                    &mut partial.accumulators
                }
                self.calls.add_rows(&mut order, accumulators, &at, &inputs);
            }
        }
        Ok(order)
    }

    /// Folds a changelog batch's changes of the current key into its stored
    /// accumulators; `None` when every row of the key has been taken back
    /// (its state is then cleared).
    fn merge_retracting(
        &mut self,
        stored: Option<&Vec<Accumulator>>,
        changes: Vec<Accumulator>,
    ) -> Result<Option<Vec<Accumulator>>> {
        let mut merged = stored
            .cloned()
            .unwrap_or_else(|| self.calls.start_stored_retracting());
        self.calls
            .merge_retracting(&mut merged, changes, &mut self.state)?;
        if let Some(Accumulator::Count(rows)) = merged.last()
            && *rows > 0
        {
            return Ok(Some(merged));
        }
        self.state.clear(ACCUMULATORS, &[])?;
        self.calls.clear_value_counts(&mut self.state)?;
        Ok(None)
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

/// Each row's sign: 1 for a row that adds (`+I`, `+U`), -1 for one that
/// takes back (`-U`, `-D`).
fn row_signs(batch: &RecordBatch, column: usize, operator: &str) -> Result<Vec<i64>> {
    let kinds = row_kinds(batch, Some(column)).map_err(|message| RuntimeError::Operator {
        operator: operator.to_string(),
        message,
    })?;
    Ok(kinds
        .into_iter()
        .map(|kind| if kind.retracts() { -1 } else { 1 })
        .collect())
}

impl Operator for GroupAggregate {
    fn process_batch(&mut self, batch: RecordBatch, out: &mut Vec<RecordBatch>) -> Result<()> {
        let mut changes: Vec<Change> = Vec::new();
        let results = self.calls.fields().len();
        let (keys, groups) = row_keys_of(&batch, self.key, self.max_parallelism, &self.name)?;
        for (key_bytes, partial) in self.partials(&batch, &keys, &groups)? {
            self.state.set_current_key(partial.key_group, key_bytes)?;
            // Encoded by postcard, whose varints keep a key's many small
            // counts smaller than the bare numbers a window stores.
            let stored: Option<Vec<Accumulator>> = self.state.value(ACCUMULATORS, &[])?;
            let merged = if self.row_kind.is_some() {
                match self.merge_retracting(stored.as_ref(), partial.accumulators)? {
                    Some(merged) => merged,
                    None => {
                        // Its last row was taken back: the result is deleted
                        // (a key never seen before emits nothing).
                        if let Some(old) = stored {
                            changes.push((
                                RowKind::Delete,
                                key_from_bytes(key_bytes, &self.name)?,
                                old,
                            ));
                        }
                        continue;
                    }
                }
            } else {
                let mut merged = stored.clone().unwrap_or_else(|| self.calls.start_stored());
                self.calls
                    .merge_stored(&mut merged, partial.accumulators, &mut self.state, &[])?;
                merged
            };
            // Stored first, so that the result moves into the changes.
            self.state.set_value(ACCUMULATORS, &[], &merged)?;
            match stored {
                None => changes.push((
                    RowKind::Insert,
                    key_from_bytes(key_bytes, &self.name)?,
                    merged,
                )),
                // An unchanged result is not sent again, as Flink does not.
                // (The count of rows a changelog input keeps last is no result.)
                Some(old) if old[..results] == merged[..results] => {}
                Some(old) => {
                    let key = key_from_bytes(key_bytes, &self.name)?;
                    changes.push((RowKind::UpdateBefore, key.clone(), old));
                    changes.push((RowKind::UpdateAfter, key, merged));
                }
            }
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
                    separator: None,
                },
                AggregateCall {
                    function: AggregateFunction::Max,
                    input: Some("v".into()),
                    output: "top".into(),
                    separator: None,
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
                    separator: None,
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

    #[test]
    fn distinct_calls_sharing_a_map_count_each_their_own_values() {
        // `w` is what `COUNT(DISTINCT v) FILTER (WHERE …)` reads: v or NULL.
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, true),
            Field::new("v", DataType::Int64, true),
            Field::new("w", DataType::Int64, true),
        ]));
        let distinct = |input: &str| AggregateCall {
            function: AggregateFunction::CountDistinct,
            input: Some(input.into()),
            output: format!("distinct_{input}"),
            separator: None,
        };
        for backend in ["hashmap", "rocksdb"] {
            let spec = GroupAggregateSpec {
                name: None,
                key: Some("k".into()),
                aggregates: vec![distinct("v"), distinct("w")],
                state_backend: Some(backend.into()),
            };
            let mut operator = spec.create(&schema, &SubtaskContext::alone()).unwrap();
            let mut last = Vec::new();
            for rows in [
                &[(1, None)][..],
                &[(2, Some(1))],
                &[(1, Some(1)), (2, None)],
                &[(3, Some(3))],
            ] {
                let batch = RecordBatch::try_new(
                    schema.clone(),
                    vec![
                        Arc::new(StringArray::from_iter_values(rows.iter().map(|_| "a"))),
                        Arc::new(arrow_array::Int64Array::from_iter_values(
                            rows.iter().map(|r| r.0),
                        )),
                        Arc::new(arrow_array::Int64Array::from_iter(rows.iter().map(|r| r.1))),
                    ],
                )
                .unwrap();
                let mut out = Vec::new();
                operator.process_batch(batch, &mut out).unwrap();
                let counts = |column: usize| -> Vec<i64> {
                    out.iter()
                        .flat_map(|b| b.column(column).as_primitive::<Int64Type>().iter())
                        .flatten()
                        .collect()
                };
                // The last row shown (the +I or +U), or none when unchanged.
                last.push(
                    counts(1)
                        .last()
                        .zip(counts(2).last())
                        .map(|(v, w)| (*v, *w)),
                );
            }
            // w's 1 is new to w though v met 1 first; a batch of values both
            // have met changes nothing.
            assert_eq!(
                last,
                [Some((1, 0)), Some((2, 1)), None, Some((3, 2))],
                "{backend}"
            );
        }
    }

    fn changelog_batch(rows: &[(RowKind, &str, i64)]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, true),
            Field::new("v", DataType::Int64, true),
            Field::new(ROW_KIND_COLUMN, DataType::Int8, false),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
                Arc::new(arrow_array::Int64Array::from_iter_values(
                    rows.iter().map(|r| r.2),
                )),
                Arc::new(Int8Array::from_iter_values(rows.iter().map(|r| r.0 as i8))),
            ],
        )
        .unwrap()
    }

    /// Every row as `kind[values…]`, the row kind column last.
    fn shown(out: &[RecordBatch]) -> Vec<String> {
        let mut lines = Vec::new();
        for batch in out {
            let kinds = batch.num_columns() - 1;
            for row in 0..batch.num_rows() {
                let kind = batch.column(kinds).as_primitive::<Int8Type>().value(row);
                let values: Vec<String> = (0..kinds)
                    .map(|c| arrow_cast::display::array_value_to_string(batch.column(c), row))
                    .collect::<std::result::Result<_, _>>()
                    .unwrap();
                let kind = RowKind::from_byte(kind).unwrap().short_string();
                lines.push(format!("{kind}[{}]", values.join(", ")));
            }
        }
        lines
    }

    #[test]
    fn a_changelog_input_is_taken_back_and_a_key_with_no_rows_left_is_deleted() {
        use AggregateFunction::*;
        use RowKind::*;
        let calls = [
            (CountStar, None),
            (Sum, Some("v")),
            (Max, Some("v")),
            (Min, Some("v")),
            (CountDistinct, Some("v")),
            (Avg, Some("v")),
        ];
        for backend in ["hashmap", "rocksdb"] {
            let spec = GroupAggregateSpec {
                name: None,
                key: Some("k".into()),
                aggregates: calls
                    .iter()
                    .enumerate()
                    .map(|(i, (function, input))| AggregateCall {
                        function: *function,
                        input: input.map(String::from),
                        output: format!("a{i}"),
                        separator: None,
                    })
                    .collect(),
                state_backend: Some(backend.into()),
            };
            let input = changelog_batch(&[]).schema();
            let mut operator = spec.create(&input, &SubtaskContext::alone()).unwrap();
            let mut run = |rows: &[(RowKind, &str, i64)]| {
                let mut out = Vec::new();
                operator
                    .process_batch(changelog_batch(rows), &mut out)
                    .unwrap();
                shown(&out)
            };
            assert_eq!(
                run(&[(Insert, "a", 5), (Insert, "a", 3), (Insert, "b", 7)]),
                ["+I[a, 2, 8, 5, 3, 2, 4]", "+I[b, 1, 7, 7, 7, 1, 7]"],
                "{backend}"
            );
            // The highest value is taken back: the next highest held is the MAX.
            assert_eq!(
                run(&[(UpdateBefore, "a", 5), (UpdateAfter, "a", 4)]),
                ["-U[a, 2, 8, 5, 3, 2, 4]", "+U[a, 2, 7, 4, 3, 2, 3]"],
                "{backend}"
            );
            // A row added and taken back in one batch changes nothing.
            assert_eq!(
                run(&[(Insert, "a", 3), (Delete, "a", 3)]),
                Vec::<String>::new(),
                "{backend}: unchanged"
            );
            assert_eq!(
                run(&[(Delete, "b", 7), (Delete, "z", 1)]),
                ["-D[b, 1, 7, 7, 7, 1, 7]"],
                "{backend}: b has no rows left; z was never seen"
            );
            assert_eq!(
                run(&[(Insert, "b", 2)]),
                ["+I[b, 1, 2, 2, 2, 1, 2]"],
                "{backend}: b starts again from nothing"
            );
            assert_eq!(
                run(&[(Delete, "a", 3), (Delete, "a", 4)]),
                ["-D[a, 2, 7, 4, 3, 2, 3]"],
                "{backend}"
            );
        }
    }

    #[test]
    fn first_and_last_values_of_a_changelog_are_refused() {
        let spec = GroupAggregateSpec {
            name: None,
            key: Some("k".into()),
            aggregates: vec![AggregateCall {
                function: AggregateFunction::LastValue,
                input: Some("v".into()),
                output: "last".into(),
                separator: None,
            }],
            state_backend: None,
        };
        let error = spec
            .output_schema(&changelog_batch(&[]).schema())
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("FIRST_VALUE and LAST_VALUE over an updating input"),
            "{error}"
        );
    }
}
