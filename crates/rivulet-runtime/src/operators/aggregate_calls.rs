//! The aggregate calls of an aggregating operator bound to its input: which
//! column each reads and as what kind of number, their result fields, and
//! folding rows and partial results into accumulators. Shared by
//! `WindowAggregate` and `GroupAggregate`.

use arrow_array::RecordBatch;
use arrow_schema::{Field, SchemaRef};
use serde::{Deserialize, Serialize};

use super::accumulators::{Accumulator, AggregateFunction, NumberKind, Values};
use super::grouping::{KeyValue, can_group_by, key_values};
use crate::error::{Result, RuntimeError};
use crate::state::keyed::{KeyedState, StateId};

/// The map state of the values of call `index`: the distinct ones of
/// `COUNT(DISTINCT)`, and how often each is held over a changelog.
pub(super) fn distinct_values(index: usize) -> StateId {
    StateId(100 + index as u16)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AggregateCall {
    pub function: AggregateFunction,
    /// The column aggregated; absent for `COUNT(*)`.
    #[serde(default)]
    pub input: Option<String>,
    pub output: String,
    /// LISTAGG's separator (`,` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub separator: Option<String>,
}

/// The index of `name` in `input`, or the operator's job-graph error.
pub(super) fn column_of(input: &SchemaRef, name: &str, operator: &str) -> Result<usize> {
    input
        .index_of(name)
        .map_err(|_| RuntimeError::InvalidJobGraph(format!("{operator}: no input column '{name}'")))
}

/// One call: its function, the input column it reads and the kind of number.
#[derive(Debug, Clone)]
pub(super) struct Bound {
    pub function: AggregateFunction,
    pub column: Option<usize>,
    pub kind: Option<NumberKind>,
    /// LISTAGG's separator.
    pub separator: String,
}

impl Bound {
    /// Folds a partial accumulator into a stored one.
    fn merge(&self, into: &mut Accumulator, other: Accumulator) {
        match (self.function, into, other) {
            (
                AggregateFunction::ListAgg,
                Accumulator::Text(list),
                Accumulator::Text(Some(later)),
            ) => append_listed(list, &later, &self.separator),
            (function, into, other) => function.merge(into, other),
        }
    }
}

/// LISTAGG: `value` after the values listed so far, as Flink lists them in
/// the order they come.
fn append_listed(list: &mut Option<String>, value: &str, separator: &str) {
    match list {
        None => *list = Some(value.to_string()),
        Some(listed) => {
            listed.push_str(separator);
            listed.push_str(value);
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct BoundCalls {
    pub(super) calls: Vec<Bound>,
    fields: Vec<Field>,
}

impl BoundCalls {
    pub fn bind(input: &SchemaRef, calls: &[AggregateCall], operator: &str) -> Result<Self> {
        let mut bound = Vec::with_capacity(calls.len());
        let mut fields = Vec::with_capacity(calls.len());
        for call in calls {
            let column = match &call.input {
                Some(name) => Some(column_of(input, name, operator)?),
                None => None,
            };
            let kind = match column {
                None => None,
                Some(index) => {
                    let data_type = input.field(index).data_type();
                    match (NumberKind::of(data_type), call.function) {
                        (_, AggregateFunction::CountDistinct) if !can_group_by(data_type) => {
                            return Err(RuntimeError::InvalidJobGraph(format!(
                                "{operator}: COUNT(DISTINCT …) of type {data_type} is not supported yet"
                            )));
                        }
                        (kind, AggregateFunction::Count | AggregateFunction::CountDistinct) => kind,
                        (kind, AggregateFunction::ListAgg) if kind != Some(NumberKind::Text) => {
                            return Err(RuntimeError::InvalidJobGraph(format!(
                                "{operator}: LISTAGG lists STRING values, not '{}' of type {data_type}",
                                call.input.as_deref().unwrap_or_default()
                            )));
                        }
                        (
                            Some(NumberKind::Text),
                            AggregateFunction::Sum | AggregateFunction::Avg,
                        ) => {
                            return Err(RuntimeError::InvalidJobGraph(format!(
                                "{operator}: cannot sum or average '{}' of type {data_type}",
                                call.input.as_deref().unwrap_or_default()
                            )));
                        }
                        (Some(kind), _) => Some(kind),
                        (None, _) => {
                            return Err(RuntimeError::InvalidJobGraph(format!(
                                "{operator}: cannot aggregate '{}' of type {data_type}",
                                call.input.as_deref().unwrap_or_default()
                            )));
                        }
                    }
                }
            };
            // COUNT is never NULL; the others are NULL over no values.
            let nullable = !matches!(
                call.function,
                AggregateFunction::Count
                    | AggregateFunction::CountStar
                    | AggregateFunction::CountDistinct
            );
            fields.push(Field::new(
                &call.output,
                call.function.result_type(kind),
                nullable,
            ));
            bound.push(Bound {
                function: call.function,
                column,
                kind,
                separator: call.separator.clone().unwrap_or_else(|| ",".into()),
            });
        }
        Ok(BoundCalls {
            calls: bound,
            fields,
        })
    }

    /// The result columns, in call order.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// Empty accumulators, one per call.
    pub fn start(&self) -> Vec<Accumulator> {
        self.calls
            .iter()
            .map(|c| c.function.start(c.kind))
            .collect()
    }

    /// Each call's input values in `batch` (none for `COUNT(*)`).
    pub fn inputs(&self, batch: &RecordBatch) -> Result<Vec<Option<Values>>> {
        self.calls
            .iter()
            .map(|c| match (c.column, c.function) {
                (None, _) => Ok(None),
                (Some(i), AggregateFunction::CountDistinct) => {
                    key_values(batch.column(i), "COUNT(DISTINCT)").map(|v| Some(Values::Keys(v)))
                }
                (Some(i), _) => Values::of(batch.column(i)).map(Some),
            })
            .collect()
    }

    /// Adds row `row` of `inputs` to `accumulators`.
    pub fn add(&self, accumulators: &mut [Accumulator], inputs: &[Option<Values>], row: usize) {
        for ((call, accumulator), input) in self.calls.iter().zip(accumulators).zip(inputs) {
            match (call.function, accumulator, input) {
                (
                    AggregateFunction::ListAgg,
                    Accumulator::Text(list),
                    Some(Values::Keys(values)),
                ) => {
                    if let KeyValue::Text(value) = &values[row] {
                        append_listed(list, value, &call.separator);
                    }
                }
                (function, accumulator, input) => function.add(accumulator, input.as_ref(), row),
            }
        }
    }

    /// Folds partial accumulators into stored ones.
    pub fn merge(&self, into: &mut [Accumulator], partial: Vec<Accumulator>) {
        for ((call, into), other) in self.calls.iter().zip(into).zip(partial) {
            call.merge(into, other);
        }
    }

    /// Empty accumulators as keyed state stores them: a distinct count
    /// instead of the set of values.
    pub fn start_stored(&self) -> Vec<Accumulator> {
        self.calls
            .iter()
            .map(|c| match c.function {
                AggregateFunction::CountDistinct => Accumulator::DistinctCount(0),
                function => function.start(c.kind),
            })
            .collect()
    }

    /// Folds a batch's partial accumulators into stored ones of the current
    /// key and `namespace`: each distinct value not yet in map state is put
    /// there and counted.
    pub fn merge_stored(
        &self,
        into: &mut [Accumulator],
        partial: Vec<Accumulator>,
        state: &mut KeyedState,
        namespace: &[u8],
    ) -> Result<()> {
        for (index, ((call, into), other)) in self.calls.iter().zip(into).zip(partial).enumerate() {
            match (into, other) {
                (Accumulator::DistinctCount(count), Accumulator::Distinct(values)) => {
                    let id = distinct_values(index);
                    for value in values {
                        if state
                            .map_get::<KeyValue, u8>(id, namespace, &value)?
                            .is_none()
                        {
                            state.map_put(id, namespace, &value, &1u8)?;
                            *count += 1;
                        }
                    }
                }
                (into, other) => call.merge(into, other),
            }
        }
        Ok(())
    }

    /// Moves the distinct values stored under `namespace` into partial
    /// accumulators (when windows merge), leaving none in state.
    pub fn take_stored_values(
        &self,
        partial: &mut [Accumulator],
        state: &mut KeyedState,
        namespace: &[u8],
    ) -> Result<()> {
        for (index, accumulator) in partial.iter_mut().enumerate() {
            if let Accumulator::Distinct(values) = accumulator {
                let id = distinct_values(index);
                let stored: Vec<(KeyValue, u8)> = state.map_entries(id, namespace)?;
                values.extend(stored.into_iter().map(|(value, _)| value));
                state.map_clear(id, namespace)?;
            }
        }
        Ok(())
    }

    /// Drops the distinct values stored under `namespace` (a fired window).
    pub fn clear_stored_values(&self, state: &mut KeyedState, namespace: &[u8]) -> Result<()> {
        for (index, call) in self.calls.iter().enumerate() {
            if call.function == AggregateFunction::CountDistinct {
                state.map_clear(distinct_values(index), namespace)?;
            }
        }
        Ok(())
    }
}
