//! The aggregate calls of an aggregating operator bound to its input: which
//! column each reads and as what kind of number, their result fields, and
//! folding rows and partial results into accumulators. Shared by
//! `WindowAggregate` and `GroupAggregate`.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{Field, SchemaRef};
use foldhash::fast::RandomState;
use serde::{Deserialize, Serialize};

use super::accumulators::{Accumulator, AggregateFunction, NumberKind, Values};
use super::grouping::{KeyValue, can_group_by, key_values};
use crate::error::{Result, RuntimeError};
use crate::state::keyed::{KeyedState, StateId};

/// The map state of the values of call `index` over a changelog: how often
/// each is held (the retracting `COUNT(DISTINCT)`, `MIN` and `MAX`).
pub(super) fn distinct_values(index: usize) -> StateId {
    StateId(100 + index as u16)
}

/// How many `COUNT(DISTINCT)` calls share one map of [`shared_distinct_values`].
const CALLS_PER_DISTINCT_MAP: usize = 64;

/// The map state the `COUNT(DISTINCT)` calls of an insert-only input share,
/// 64 calls to a map: each value any of them has met, and a bit per call
/// saying which have. As Flink shares one map between the distinct calls of
/// a column with a bit per `FILTER`, a row costs a lookup per value, not
/// per call: q16's eight distinct counts over two columns make two. (A
/// `FILTER`ed call reads its own `CASE` column, so calls are not told apart
/// by column: the bits alone say whose a value is.)
fn shared_distinct_values(map: usize) -> StateId {
    StateId(1000 + map as u16)
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
    /// Adds row `row` of `input` (absent for `COUNT(*)`).
    #[inline]
    fn add(&self, accumulator: &mut Accumulator, input: Option<&Values>, row: usize) {
        match (self.function, accumulator, input) {
            (AggregateFunction::ListAgg, Accumulator::Text(list), Some(Values::Keys(values))) => {
                if let KeyValue::Text(value) = &values[row] {
                    append_listed(list, value, &self.separator);
                }
            }
            (function, accumulator, input) => function.add(accumulator, input, row),
        }
    }

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
    /// The indices of the `COUNT(DISTINCT)` calls: the one at position `p`
    /// has bit `p % 64` of shared map `p / 64`.
    distinct_calls: Vec<usize>,
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
        let distinct_calls = bound
            .iter()
            .enumerate()
            .filter(|(_, call)| call.function == AggregateFunction::CountDistinct)
            .map(|(index, _)| index)
            .collect();
        Ok(BoundCalls {
            calls: bound,
            fields,
            distinct_calls,
        })
    }

    /// The shared map and bit of `COUNT(DISTINCT)` call `index`.
    fn distinct_slot(&self, index: usize) -> Option<(usize, u64)> {
        let position = self.distinct_calls.iter().position(|&i| i == index)?;
        let bit = 1u64 << (position % CALLS_PER_DISTINCT_MAP);
        Some((position / CALLS_PER_DISTINCT_MAP, bit))
    }

    /// The calls whose bits are set in `bits` of shared map `map`.
    fn calls_of_bits(&self, map: usize, bits: u64) -> impl Iterator<Item = usize> + '_ {
        let first = map * CALLS_PER_DISTINCT_MAP;
        let calls = self.distinct_calls.get(first..).unwrap_or_default();
        calls
            .iter()
            .take(CALLS_PER_DISTINCT_MAP)
            .enumerate()
            .filter(move |(bit, _)| bits & (1u64 << bit) != 0)
            .map(|(_, &index)| index)
    }

    /// How many shared maps the `COUNT(DISTINCT)` calls use.
    fn distinct_maps(&self) -> usize {
        self.distinct_calls.len().div_ceil(CALLS_PER_DISTINCT_MAP)
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

    /// Each call's input values in `batch` (none for `COUNT(*)`). The
    /// `COUNT(DISTINCT)` calls of one column (q15's four of `bidder`, with
    /// different `FILTER`s) share its keys, made once.
    pub fn inputs<'b>(&self, batch: &'b RecordBatch) -> Result<Vec<Option<Values<'b>>>> {
        let mut keys_made: Vec<(usize, Arc<Vec<KeyValue>>)> = Vec::new();
        self.calls
            .iter()
            .map(|c| match (c.column, c.function) {
                (None, _) => Ok(None),
                (Some(i), AggregateFunction::Count) => {
                    Ok(Some(Values::Presence(batch.column(i).as_ref())))
                }
                (Some(i), AggregateFunction::CountDistinct) => {
                    if let Some((_, keys)) = keys_made.iter().find(|(column, _)| *column == i) {
                        return Ok(Some(Values::Keys(keys.clone())));
                    }
                    let keys = Arc::new(key_values(batch.column(i), "COUNT(DISTINCT)")?);
                    keys_made.push((i, keys.clone()));
                    Ok(Some(Values::Keys(keys)))
                }
                (Some(i), _) => Values::of(batch.column(i)).map(Some),
            })
            .collect()
    }

    /// Adds row `row` of `inputs` to `accumulators`.
    pub fn add(&self, accumulators: &mut [Accumulator], inputs: &[Option<Values>], row: usize) {
        for ((call, accumulator), input) in self.calls.iter().zip(accumulators).zip(inputs) {
            call.add(accumulator, input.as_ref(), row);
        }
    }

    /// Adds every row of `inputs` to the accumulators of its partial:
    /// row `r` to `accumulators(&mut partials[at[r]])`. A call at a time, so
    /// that each call's loop is its own (q17's eight calls a row cost a
    /// twentieth of its time taken a row at a time).
    pub fn add_rows<P>(
        &self,
        partials: &mut [P],
        accumulators: impl Fn(&mut P) -> &mut [Accumulator],
        at: &[u32],
        inputs: &[Option<Values>],
    ) {
        for (index, (call, input)) in self.calls.iter().zip(inputs).enumerate() {
            for (row, &partial) in at.iter().enumerate() {
                if let Some(accumulator) =
                    accumulators(&mut partials[partial as usize]).get_mut(index)
                {
                    call.add(accumulator, input.as_ref(), row);
                }
            }
        }
    }

    /// Whether a call counts distinct values (kept in map state).
    pub fn has_distinct(&self) -> bool {
        !self.distinct_calls.is_empty()
    }

    /// Folds partial accumulators into stored ones.
    pub fn merge(&self, into: &mut [Accumulator], partial: impl IntoIterator<Item = Accumulator>) {
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
    /// key and `namespace`: each distinct value a call has not yet met is
    /// marked in the shared map state and counted.
    pub fn merge_stored(
        &self,
        into: &mut [Accumulator],
        partial: Vec<Accumulator>,
        state: &mut KeyedState,
        namespace: &[u8],
    ) -> Result<()> {
        // The batch's distinct values, each with the bits of the calls that
        // met it (in no order: each is marked in state on its own), hashed:
        // in a tree their comparisons were a tenth of q15's time.
        let values: usize = partial
            .iter()
            .map(|accumulator| match accumulator {
                Accumulator::Distinct(values) => values.len(),
                _ => 0,
            })
            .sum();
        let mut met: HashMap<(usize, KeyValue), u64, RandomState> =
            HashMap::with_capacity_and_hasher(values, RandomState::default());
        for (index, ((call, into), other)) in
            self.calls.iter().zip(&mut *into).zip(partial).enumerate()
        {
            match (into, other, self.distinct_slot(index)) {
                (
                    Accumulator::DistinctCount(_),
                    Accumulator::Distinct(values),
                    Some((map, bit)),
                ) => {
                    for value in values {
                        *met.entry((map, value)).or_default() |= bit;
                    }
                }
                (into, other, _) => call.merge(into, other),
            }
        }
        for ((map, value), bits) in met {
            let id = shared_distinct_values(map);
            let mut newly = 0;
            state.map_update(id, namespace, &value, |held: Option<u64>| {
                let held = held.unwrap_or(0);
                newly = bits & !held;
                Some(held | bits)
            })?;
            for index in self.calls_of_bits(map, newly) {
                if let Some(Accumulator::DistinctCount(count)) = into.get_mut(index) {
                    *count += 1;
                }
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
        for map in 0..self.distinct_maps() {
            let id = shared_distinct_values(map);
            let stored: Vec<(KeyValue, u64)> = state.map_entries(id, namespace)?;
            for (value, bits) in stored {
                for index in self.calls_of_bits(map, bits) {
                    if let Some(Accumulator::Distinct(values)) = partial.get_mut(index) {
                        values.insert(value.clone());
                    }
                }
            }
            state.map_clear(id, namespace)?;
        }
        Ok(())
    }

    /// Drops the distinct values stored under `namespace` (a fired window).
    pub fn clear_stored_values(&self, state: &mut KeyedState, namespace: &[u8]) -> Result<()> {
        for map in 0..self.distinct_maps() {
            state.map_clear(shared_distinct_values(map), namespace)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{BooleanArray, Int32Array, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};

    use super::*;

    fn call(function: AggregateFunction, input: Option<&str>) -> AggregateCall {
        AggregateCall {
            function,
            input: input.map(String::from),
            output: format!("{function:?}"),
            separator: None,
        }
    }

    #[test]
    fn rows_added_a_call_at_a_time_fold_as_rows_added_one_by_one() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int32, true),
            Field::new("flag", DataType::Boolean, true),
            Field::new("s", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int32Array::from(vec![
                    Some(5),
                    None,
                    Some(-2),
                    Some(9),
                    Some(1),
                ])),
                Arc::new(BooleanArray::from(vec![
                    Some(true),
                    None,
                    Some(false),
                    None,
                    Some(true),
                ])),
                Arc::new(StringArray::from(vec![
                    Some("a"),
                    Some("b"),
                    None,
                    Some("c"),
                    Some("d"),
                ])),
            ],
        )
        .unwrap();
        let calls = [
            call(AggregateFunction::CountStar, None),
            // COUNT reads only whether a value is there, of any type.
            call(AggregateFunction::Count, Some("flag")),
            call(AggregateFunction::Sum, Some("n")),
            call(AggregateFunction::Min, Some("n")),
            call(AggregateFunction::FirstValue, Some("n")),
            call(AggregateFunction::LastValue, Some("s")),
            call(AggregateFunction::ListAgg, Some("s")),
        ];
        let bound = BoundCalls::bind(&schema, &calls, "test").unwrap();
        let inputs = bound.inputs(&batch).unwrap();
        // Rows 0, 2 and 4 go to the first partial, 1 and 3 to the second.
        let at = [0, 1, 0, 1, 0];
        let mut by_calls = vec![bound.start(), bound.start()];
        bound.add_rows(&mut by_calls, |p| p.as_mut_slice(), &at, &inputs);
        let mut by_rows = vec![bound.start(), bound.start()];
        for (row, &partial) in at.iter().enumerate() {
            bound.add(&mut by_rows[partial as usize], &inputs, row);
        }
        assert_eq!(by_calls, by_rows);
        assert_eq!(
            by_calls[0],
            [
                Accumulator::Count(3),
                Accumulator::Count(3),
                Accumulator::Integer(Some(4)),
                Accumulator::Integer(Some(-2)),
                Accumulator::Integer(Some(5)),
                Accumulator::Text(Some("d".into())),
                Accumulator::Text(Some("a,d".into())),
            ]
        );
        assert_eq!(by_calls[1][1], Accumulator::Count(0));
        assert_eq!(by_calls[1][6], Accumulator::Text(Some("b,c".into())));
    }
}
