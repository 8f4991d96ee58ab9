//! Aggregates over a changelog: accumulators that can take rows back, as
//! Flink's retracting aggregate functions do when a `GROUP BY` reads an
//! updating result (`-U` and `-D` rows subtract what `+I` and `+U` rows
//! added).
//!
//! `COUNT`, `SUM` and `AVG` subtract directly (`SUM` counts its values, so
//! that it is NULL again once every value is taken back). `MIN`, `MAX` and
//! `COUNT(DISTINCT)` keep how often each value is held, as map state of the
//! key (Flink's `MaxWithRetractAggFunction` keeps the same map): a batch
//! brings the changes to those counts, and when the current extreme is
//! taken back the next one is found among the values still held.
//! `FIRST_VALUE`, `LAST_VALUE` and `LISTAGG` cannot be taken back this way
//! and are refused at planning.

use std::collections::BTreeMap;

use super::accumulators::{Accumulator, AggregateFunction, NumberKind, Values, value_of};
use super::aggregate_calls::{BoundCalls, distinct_values};
use super::grouping::KeyValue;
use crate::error::{Result, RuntimeError};
use crate::state::keyed::KeyedState;

/// Whether a call can read an updating input, or the reason it cannot.
pub(super) fn check_retractable(
    function: AggregateFunction,
    kind: Option<NumberKind>,
    operator: &str,
) -> Result<()> {
    let (refused, verb) = match (function, kind) {
        (AggregateFunction::FirstValue | AggregateFunction::LastValue, _) => {
            ("FIRST_VALUE and LAST_VALUE", "are")
        }
        (AggregateFunction::ListAgg, _) => ("LISTAGG", "is"),
        (AggregateFunction::Min | AggregateFunction::Max, Some(NumberKind::Double)) => {
            ("MIN and MAX of a DOUBLE", "are")
        }
        _ => return Ok(()),
    };
    Err(RuntimeError::InvalidJobGraph(format!(
        "{operator}: {refused} over an updating input (a changelog) {verb} not supported yet"
    )))
}

/// Whether the call keeps its values' counts in map state.
fn keeps_value_counts(function: AggregateFunction) -> bool {
    matches!(
        function,
        AggregateFunction::Min | AggregateFunction::Max | AggregateFunction::CountDistinct
    )
}

/// The value of row `row` as a map-state key, `None` for NULL.
fn value_at(values: &Values, row: usize) -> Option<KeyValue> {
    match values {
        Values::Integer(v) => value_of(v, row).map(KeyValue::Integer),
        Values::Keys(v) => Some(v[row].clone()).filter(|k| *k != KeyValue::Null),
        // Refused by `check_retractable`.
        Values::Double(_) | Values::Presence(_) => None,
    }
}

impl BoundCalls {
    /// A batch's empty changes, one per call, and the count of rows last.
    pub fn start_retracting(&self) -> Vec<Accumulator> {
        let mut changes: Vec<Accumulator> = self
            .calls
            .iter()
            .map(|c| match (c.function, c.kind) {
                (function, _) if keeps_value_counts(function) => {
                    Accumulator::Deltas(BTreeMap::new())
                }
                (AggregateFunction::Sum, Some(NumberKind::Double)) => {
                    Accumulator::DoubleSum { sum: 0.0, count: 0 }
                }
                (AggregateFunction::Sum, _) => Accumulator::IntegerSum { sum: 0, count: 0 },
                (function, kind) => function.start(kind),
            })
            .collect();
        changes.push(Accumulator::Count(0));
        changes
    }

    /// Stored accumulators of a key seen for the first time, the count of
    /// its rows last.
    pub fn start_stored_retracting(&self) -> Vec<Accumulator> {
        let mut stored: Vec<Accumulator> = self
            .calls
            .iter()
            .zip(self.start_retracting())
            .map(|(call, start)| match call.function {
                AggregateFunction::CountDistinct => Accumulator::DistinctCount(0),
                AggregateFunction::Min | AggregateFunction::Max => call.function.start(call.kind),
                _ => start,
            })
            .collect();
        stored.push(Accumulator::Count(0));
        stored
    }

    /// Adds row `row` of `inputs` to `changes` (`sign` 1), or takes it
    /// back (`sign` -1).
    pub fn add_signed(
        &self,
        changes: &mut [Accumulator],
        inputs: &[Option<Values>],
        row: usize,
        sign: i64,
    ) {
        for ((call, change), input) in self.calls.iter().zip(changes.iter_mut()).zip(inputs) {
            match (change, input) {
                (Accumulator::Count(count), None) => *count += sign,
                (Accumulator::Count(count), Some(values)) => {
                    if !values.is_null(row) {
                        *count += sign;
                    }
                }
                (Accumulator::Deltas(deltas), Some(values)) => {
                    if let Some(value) = value_at(values, row) {
                        *deltas.entry(value).or_insert(0) += sign;
                    }
                }
                (
                    Accumulator::IntegerSum { sum, count }
                    | Accumulator::IntegerAverage { sum, count },
                    Some(Values::Integer(values)),
                ) => {
                    if let Some(value) = value_of(values, row) {
                        *sum = sum.wrapping_add(value.wrapping_mul(sign));
                        *count += sign;
                    }
                }
                (
                    Accumulator::DoubleSum { sum, count }
                    | Accumulator::DoubleAverage { sum, count },
                    Some(Values::Double(values)),
                ) => {
                    if let Some(value) = value_of(values, row) {
                        *sum += value * sign as f64;
                        *count += sign;
                    }
                }
                // `start_retracting` makes no other pairs for a bound call.
                _ => debug_assert!(false, "{:?} cannot take rows back", call.function),
            }
        }
        if let Some(Accumulator::Count(rows)) = changes.last_mut() {
            *rows += sign;
        }
    }

    /// Applies a batch's changes to the stored accumulators of the current
    /// key: the counts of values held move in map state, and an extreme
    /// taken back is found again among the values still held.
    pub fn merge_retracting(
        &self,
        stored: &mut [Accumulator],
        changes: Vec<Accumulator>,
        state: &mut KeyedState,
    ) -> Result<()> {
        for (index, (into, change)) in stored.iter_mut().zip(changes).enumerate() {
            let call = self.calls.get(index);
            match (into, change) {
                (Accumulator::Count(a), Accumulator::Count(b)) => *a += b,
                (
                    Accumulator::IntegerSum { sum, count },
                    Accumulator::IntegerSum { sum: s, count: c },
                )
                | (
                    Accumulator::IntegerAverage { sum, count },
                    Accumulator::IntegerAverage { sum: s, count: c },
                ) => {
                    *sum = sum.wrapping_add(s);
                    *count += c;
                }
                (
                    Accumulator::DoubleSum { sum, count },
                    Accumulator::DoubleSum { sum: s, count: c },
                )
                | (
                    Accumulator::DoubleAverage { sum, count },
                    Accumulator::DoubleAverage { sum: s, count: c },
                ) => {
                    *sum += s;
                    *count += c;
                    if *count == 0 {
                        // No value is held: no rounding left over either.
                        *sum = 0.0;
                    }
                }
                (into, Accumulator::Deltas(deltas)) => {
                    let function = call.map(|c| c.function).ok_or_else(|| {
                        RuntimeError::InvalidJobGraph("a change without its call".into())
                    })?;
                    apply_deltas(function, into, deltas, state, index)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Drops what map state holds for the current key (its last row was
    /// taken back).
    pub fn clear_value_counts(&self, state: &mut KeyedState) -> Result<()> {
        for (index, call) in self.calls.iter().enumerate() {
            if keeps_value_counts(call.function) {
                state.map_clear(distinct_values(index), &[])?;
            }
        }
        Ok(())
    }
}

/// Moves the counts of values held by call `index` and brings its stored
/// result (a distinct count, or the extreme) up to date.
fn apply_deltas(
    function: AggregateFunction,
    into: &mut Accumulator,
    deltas: BTreeMap<KeyValue, i64>,
    state: &mut KeyedState,
    index: usize,
) -> Result<()> {
    let id = distinct_values(index);
    let mut extreme_gone = false;
    for (value, delta) in deltas {
        if delta == 0 {
            continue;
        }
        let (mut held, mut now) = (0, 0);
        state.map_update(id, &[], &value, |stored: Option<i64>| {
            held = stored.unwrap_or(0);
            now = held + delta;
            (now > 0).then_some(now)
        })?;
        match &mut *into {
            Accumulator::DistinctCount(count) => {
                if held <= 0 && now > 0 {
                    *count += 1;
                } else if held > 0 && now <= 0 {
                    *count -= 1;
                }
            }
            extreme => {
                if now > 0 && held <= 0 && beats(function, &value, extreme) {
                    set_extreme(extreme, Some(value));
                } else if now <= 0 && held > 0 && is_extreme(extreme, &value) {
                    extreme_gone = true;
                }
            }
        }
    }
    if extreme_gone {
        let held: Vec<(KeyValue, i64)> = state.map_entries(id, &[])?;
        let values = held.into_iter().map(|(value, _)| value);
        let next = match function {
            AggregateFunction::Min => values.min(),
            _ => values.max(),
        };
        set_extreme(into, next);
    }
    Ok(())
}

/// The stored extreme as a key value, to compare with held values.
fn extreme_of(extreme: &Accumulator) -> Option<KeyValue> {
    match extreme {
        Accumulator::Integer(Some(v)) => Some(KeyValue::Integer(*v)),
        Accumulator::Text(Some(v)) => Some(KeyValue::Text(v.clone())),
        _ => None,
    }
}

fn is_extreme(extreme: &Accumulator, value: &KeyValue) -> bool {
    extreme_of(extreme).as_ref() == Some(value)
}

/// Whether `value` becomes the new MIN (or MAX) over the stored one.
fn beats(function: AggregateFunction, value: &KeyValue, extreme: &Accumulator) -> bool {
    match extreme_of(extreme) {
        None => true,
        Some(current) if function == AggregateFunction::Min => *value < current,
        Some(current) => *value > current,
    }
}

fn set_extreme(extreme: &mut Accumulator, value: Option<KeyValue>) {
    match extreme {
        Accumulator::Integer(v) => {
            *v = match value {
                Some(KeyValue::Integer(i)) => Some(i),
                _ => None,
            }
        }
        Accumulator::Text(v) => {
            *v = match value {
                Some(KeyValue::Text(t)) => Some(t),
                _ => None,
            }
        }
        _ => {}
    }
}
