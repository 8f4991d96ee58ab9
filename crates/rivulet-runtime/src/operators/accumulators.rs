//! Aggregate functions as accumulators kept in keyed state: `COUNT(*)`,
//! `COUNT(x)`, `COUNT(DISTINCT x)` (x BIGINT, INT or STRING), `SUM`,
//! `MIN`, `MAX` and `AVG` over BIGINT/INT and DOUBLE columns, and `MIN`
//! and `MAX` over STRING (compared as Java compares strings), `FIRST_VALUE`
//! and `LAST_VALUE` (the first and last non-NULL value to arrive), with SQL's NULL handling (NULL inputs are skipped; SUM/MIN/MAX/AVG
//! of no values is NULL, COUNT of none is 0). As in Flink, the average of
//! whole numbers is a whole number (the sum divided by the count, truncated).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{ArrowPrimitiveType, Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, Float64Array, Int64Array, PrimitiveArray, StringArray};
use arrow_schema::DataType;
use serde::{Deserialize, Serialize};

use super::grouping::{KeyValue, key_values};
use crate::error::{Result, RuntimeError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggregateFunction {
    CountStar,
    Count,
    CountDistinct,
    Sum,
    Min,
    Max,
    Avg,
    /// The first non-NULL value to arrive, as Flink's `FIRST_VALUE`.
    FirstValue,
    /// The last non-NULL value to arrive, as Flink's `LAST_VALUE`.
    LastValue,
    /// The non-NULL strings in the order they came, between separators, as
    /// Flink's `LISTAGG` (the separator is the call's).
    ListAgg,
}

/// One aggregate's running value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Accumulator {
    Count(i64),
    Integer(Option<i64>),
    Double(Option<f64>),
    IntegerAverage {
        sum: i64,
        count: i64,
    },
    DoubleAverage {
        sum: f64,
        count: i64,
    },
    /// The distinct values of one batch, before they reach keyed state.
    Distinct(BTreeSet<KeyValue>),
    /// How many distinct values keyed state holds (the values themselves
    /// are map state entries, so a batch reads and writes only its own).
    DistinctCount(i64),
    /// MIN or MAX of a STRING.
    Text(Option<String>),
    /// A SUM that can take values back: NULL again once none is held.
    IntegerSum {
        sum: i64,
        count: i64,
    },
    DoubleSum {
        sum: f64,
        count: i64,
    },
    /// A batch's changes to how often each value is held, for MIN, MAX and
    /// COUNT(DISTINCT) over a changelog ([`super::retraction`]).
    Deltas(BTreeMap<KeyValue, i64>),
}

/// Whether an aggregate reads integers, doubles or (MIN and MAX only)
/// strings, from its input column type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberKind {
    Integer,
    Double,
    Text,
}

impl NumberKind {
    pub fn of(data_type: &DataType) -> Option<NumberKind> {
        match data_type {
            DataType::Int64 | DataType::Int32 => Some(NumberKind::Integer),
            DataType::Float64 => Some(NumberKind::Double),
            DataType::Utf8 => Some(NumberKind::Text),
            _ => None,
        }
    }
}

/// A column's values as an aggregate reads them, row by row: the batch's
/// own arrays wherever they can be read in place (q17 reads one column for
/// four calls and three more for its `FILTER`ed counts; copying each into
/// a vector of its own was a twentieth of its time).
pub enum Values<'a> {
    /// Whether each row is NULL, all `COUNT(x)` reads, of any type.
    Presence(&'a dyn Array),
    /// BIGINT, or INT widened once.
    Integer(Cow<'a, Int64Array>),
    Double(&'a Float64Array),
    /// Values compared as keys, for DISTINCT; shared by the calls that
    /// read one column.
    Keys(Arc<Vec<KeyValue>>),
}

/// Row `row` of `values`, `None` for NULL.
#[inline]
pub(super) fn value_of<T: ArrowPrimitiveType>(
    values: &PrimitiveArray<T>,
    row: usize,
) -> Option<T::Native> {
    values.is_valid(row).then(|| values.value(row))
}

impl<'a> Values<'a> {
    pub fn of(column: &'a ArrayRef) -> Result<Values<'a>> {
        Ok(match column.data_type() {
            DataType::Int64 => Values::Integer(Cow::Borrowed(column.as_primitive::<Int64Type>())),
            DataType::Int32 => Values::Integer(Cow::Owned(
                column
                    .as_primitive::<Int32Type>()
                    .unary::<_, Int64Type>(i64::from),
            )),
            DataType::Float64 => Values::Double(column.as_primitive::<Float64Type>()),
            DataType::Utf8 => Values::Keys(Arc::new(key_values(column, "aggregate")?)),
            other => {
                return Err(RuntimeError::Operator {
                    operator: "aggregate".into(),
                    message: format!("cannot aggregate values of type {other}"),
                });
            }
        })
    }

    pub(super) fn is_null(&self, row: usize) -> bool {
        match self {
            Values::Presence(v) => v.is_null(row),
            Values::Integer(v) => v.is_null(row),
            Values::Double(v) => v.is_null(row),
            Values::Keys(v) => v[row] == KeyValue::Null,
        }
    }
}

impl AggregateFunction {
    /// The empty accumulator for input of `kind` (`None` for `COUNT(*)`).
    pub fn start(self, kind: Option<NumberKind>) -> Accumulator {
        match (self, kind) {
            (AggregateFunction::CountStar | AggregateFunction::Count, _) => Accumulator::Count(0),
            (AggregateFunction::CountDistinct, _) => Accumulator::Distinct(BTreeSet::new()),
            (AggregateFunction::Avg, Some(NumberKind::Double)) => {
                Accumulator::DoubleAverage { sum: 0.0, count: 0 }
            }
            (AggregateFunction::Avg, _) => Accumulator::IntegerAverage { sum: 0, count: 0 },
            (_, Some(NumberKind::Text)) => Accumulator::Text(None),
            (_, Some(NumberKind::Double)) => Accumulator::Double(None),
            _ => Accumulator::Integer(None),
        }
    }

    /// The SQL type of the result for input of `kind`.
    pub fn result_type(self, kind: Option<NumberKind>) -> DataType {
        match self.start(kind) {
            Accumulator::Count(_)
            | Accumulator::Integer(_)
            | Accumulator::IntegerAverage { .. }
            | Accumulator::Distinct(_)
            | Accumulator::DistinctCount(_)
            | Accumulator::IntegerSum { .. }
            | Accumulator::Deltas(_) => DataType::Int64,
            Accumulator::Double(_)
            | Accumulator::DoubleAverage { .. }
            | Accumulator::DoubleSum { .. } => DataType::Float64,
            Accumulator::Text(_) => DataType::Utf8,
        }
    }

    /// Adds row `row` of `input` (absent for `COUNT(*)`).
    pub fn add(self, accumulator: &mut Accumulator, input: Option<&Values>, row: usize) {
        match (accumulator, input) {
            (Accumulator::Count(count), None) => *count += 1,
            (Accumulator::Count(count), Some(values)) if !values.is_null(row) => *count += 1,
            (Accumulator::Distinct(seen), Some(Values::Keys(values)))
                if values[row] != KeyValue::Null =>
            {
                seen.insert(values[row].clone());
            }
            (Accumulator::IntegerAverage { sum, count }, Some(Values::Integer(values))) => {
                if let Some(value) = value_of(values, row) {
                    *sum = sum.wrapping_add(value);
                    *count += 1;
                }
            }
            (Accumulator::DoubleAverage { sum, count }, Some(Values::Double(values))) => {
                if let Some(value) = value_of(values, row) {
                    *sum += value;
                    *count += 1;
                }
            }
            (Accumulator::Integer(total), Some(Values::Integer(values))) => {
                if let Some(value) = value_of(values, row) {
                    *total = Some(match *total {
                        None => value,
                        Some(total) => self.combine_integer(total, value),
                    });
                }
            }
            (Accumulator::Double(total), Some(Values::Double(values))) => {
                if let Some(value) = value_of(values, row) {
                    *total = Some(match *total {
                        None => value,
                        Some(total) => self.combine_double(total, value),
                    });
                }
            }
            (Accumulator::Text(extreme), Some(Values::Keys(values))) => {
                if let KeyValue::Text(value) = &values[row] {
                    self.combine_text(extreme, value);
                }
            }
            _ => {}
        }
    }

    /// MIN or MAX of a stored string and `value`. Java compares strings by
    /// UTF-16 code units; for text within the Basic Multilingual Plane that
    /// is the order of Rust's byte comparison.
    fn combine_text(self, extreme: &mut Option<String>, value: &str) {
        let replace = match extreme.as_deref() {
            None => true,
            Some(current) => match self {
                AggregateFunction::Min => value < current,
                AggregateFunction::FirstValue => false,
                AggregateFunction::LastValue => true,
                _ => value > current,
            },
        };
        if replace {
            *extreme = Some(value.to_string());
        }
    }

    /// Whether merging partial results gives the same answer however the
    /// rows were split between them (not for the order-minded FIRST_VALUE,
    /// LAST_VALUE and LISTAGG, nor for COUNT(DISTINCT), whose values live
    /// in state).
    pub fn merges_in_any_order(self) -> bool {
        matches!(
            self,
            AggregateFunction::CountStar
                | AggregateFunction::Count
                | AggregateFunction::Sum
                | AggregateFunction::Min
                | AggregateFunction::Max
                | AggregateFunction::Avg
        )
    }

    /// Folds a partial accumulator into a stored one.
    pub fn merge(self, into: &mut Accumulator, other: Accumulator) {
        match (into, other) {
            (Accumulator::Count(a), Accumulator::Count(b)) => *a += b,
            (Accumulator::Distinct(a), Accumulator::Distinct(b)) => a.extend(b),
            (
                Accumulator::IntegerAverage { sum, count },
                Accumulator::IntegerAverage { sum: s, count: c },
            ) => {
                *sum = sum.wrapping_add(s);
                *count += c;
            }
            (
                Accumulator::DoubleAverage { sum, count },
                Accumulator::DoubleAverage { sum: s, count: c },
            ) => {
                *sum += s;
                *count += c;
            }
            (Accumulator::Integer(a), Accumulator::Integer(b)) => {
                *a = match (*a, b) {
                    (Some(x), Some(y)) => Some(self.combine_integer(x, y)),
                    (x, y) => x.or(y),
                }
            }
            (Accumulator::Double(a), Accumulator::Double(b)) => {
                *a = match (*a, b) {
                    (Some(x), Some(y)) => Some(self.combine_double(x, y)),
                    (x, y) => x.or(y),
                }
            }
            (Accumulator::Text(a), Accumulator::Text(Some(b))) => self.combine_text(a, &b),
            _ => {}
        }
    }

    fn combine_integer(self, a: i64, b: i64) -> i64 {
        match self {
            // Java's long arithmetic wraps, as Flink's SUM does.
            AggregateFunction::Sum => a.wrapping_add(b),
            AggregateFunction::Min => a.min(b),
            AggregateFunction::Max => a.max(b),
            // `a` came first.
            AggregateFunction::FirstValue => a,
            AggregateFunction::LastValue => b,
            AggregateFunction::Count
            | AggregateFunction::CountStar
            | AggregateFunction::CountDistinct
            | AggregateFunction::Avg
            // LISTAGG reads strings only (checked when bound).
            | AggregateFunction::ListAgg => a + b,
        }
    }

    fn combine_double(self, a: f64, b: f64) -> f64 {
        match self {
            AggregateFunction::Sum => a + b,
            AggregateFunction::Min => a.min(b),
            AggregateFunction::Max => a.max(b),
            AggregateFunction::FirstValue => a,
            AggregateFunction::LastValue => b,
            AggregateFunction::Count
            | AggregateFunction::CountStar
            | AggregateFunction::CountDistinct
            | AggregateFunction::Avg
            // LISTAGG reads strings only (checked when bound).
            | AggregateFunction::ListAgg => a + b,
        }
    }
}

/// The results of one aggregate over many groups, as a column.
pub fn result_column(values: &[Accumulator], data_type: &DataType) -> ArrayRef {
    match data_type {
        DataType::Utf8 => Arc::new(
            values
                .iter()
                .map(|a| match a {
                    Accumulator::Text(v) => v.as_deref(),
                    _ => None,
                })
                .collect::<StringArray>(),
        ),
        DataType::Float64 => Arc::new(
            values
                .iter()
                .map(|a| match a {
                    Accumulator::Double(v) => *v,
                    Accumulator::DoubleAverage { sum, count } => {
                        (*count > 0).then(|| sum / *count as f64)
                    }
                    Accumulator::DoubleSum { sum, count } => (*count > 0).then_some(*sum),
                    _ => None,
                })
                .collect::<Float64Array>(),
        ),
        _ => Arc::new(
            values
                .iter()
                .map(|a| match a {
                    Accumulator::Count(c) => Some(*c),
                    Accumulator::Integer(v) => *v,
                    Accumulator::Distinct(seen) => Some(seen.len() as i64),
                    Accumulator::DistinctCount(count) => Some(*count),
                    // Java's long division truncates toward zero, as Rust's does.
                    Accumulator::IntegerAverage { sum, count } => {
                        (*count > 0).then(|| sum.wrapping_div(*count))
                    }
                    Accumulator::IntegerSum { sum, count } => (*count > 0).then_some(*sum),
                    Accumulator::Double(_)
                    | Accumulator::DoubleAverage { .. }
                    | Accumulator::DoubleSum { .. }
                    | Accumulator::Deltas(_)
                    | Accumulator::Text(_) => None,
                })
                .collect::<Int64Array>(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_are_skipped_and_partials_merge() {
        let input = Values::Integer(Cow::Owned(Int64Array::from(vec![Some(3), None, Some(-1)])));
        let mut partials = Vec::new();
        for function in [
            AggregateFunction::CountStar,
            AggregateFunction::Count,
            AggregateFunction::Sum,
            AggregateFunction::Min,
            AggregateFunction::Max,
        ] {
            let mut accumulator = function.start(Some(NumberKind::Integer));
            for row in 0..3 {
                let values = (function != AggregateFunction::CountStar).then_some(&input);
                function.add(&mut accumulator, values, row);
            }
            partials.push((function, accumulator));
        }
        let results: Vec<Accumulator> = partials.iter().map(|(_, a)| a.clone()).collect();
        assert_eq!(
            results,
            [
                Accumulator::Count(3),
                Accumulator::Count(2),
                Accumulator::Integer(Some(2)),
                Accumulator::Integer(Some(-1)),
                Accumulator::Integer(Some(3)),
            ]
        );
        let mut sum = AggregateFunction::Sum.start(Some(NumberKind::Integer));
        AggregateFunction::Sum.merge(&mut sum, Accumulator::Integer(Some(5)));
        AggregateFunction::Sum.merge(&mut sum, Accumulator::Integer(None));
        AggregateFunction::Sum.merge(&mut sum, Accumulator::Integer(Some(7)));
        assert_eq!(sum, Accumulator::Integer(Some(12)));
        // No values: NULL, and an empty count is 0.
        let empty = AggregateFunction::Max.start(Some(NumberKind::Double));
        let column = result_column(&[empty], &DataType::Float64);
        assert!(column.is_null(0));
    }

    #[test]
    fn first_and_last_values_skip_nulls_and_keep_arrival_order() {
        let input = Values::Integer(Cow::Owned(Int64Array::from(vec![
            None,
            Some(4),
            Some(2),
            None,
        ])));
        for (function, expected) in [
            (AggregateFunction::FirstValue, 4),
            (AggregateFunction::LastValue, 2),
        ] {
            let mut older = function.start(Some(NumberKind::Integer));
            let mut newer = function.start(Some(NumberKind::Integer));
            function.add(&mut older, Some(&input), 0);
            function.add(&mut older, Some(&input), 1);
            function.add(&mut newer, Some(&input), 2);
            function.add(&mut newer, Some(&input), 3);
            function.merge(&mut older, newer);
            assert_eq!(older, Accumulator::Integer(Some(expected)), "{function:?}");
        }
    }

    #[test]
    fn strings_have_a_min_and_a_max() {
        let input = Values::Keys(Arc::new(vec![
            KeyValue::Text("b".into()),
            KeyValue::Null,
            KeyValue::Text("a".into()),
            KeyValue::Text("c".into()),
        ]));
        let mut results = Vec::new();
        for function in [AggregateFunction::Min, AggregateFunction::Max] {
            let mut first = function.start(Some(NumberKind::Text));
            let mut second = function.start(Some(NumberKind::Text));
            for row in 0..2 {
                function.add(&mut first, Some(&input), row);
                function.add(&mut second, Some(&input), row + 2);
            }
            function.merge(&mut first, second);
            results.push(first);
        }
        let column = result_column(&results, &DataType::Utf8);
        let texts: Vec<Option<&str>> = column.as_string::<i32>().iter().collect();
        assert_eq!(texts, [Some("a"), Some("c")]);
    }

    #[test]
    fn averages_of_whole_numbers_truncate_as_java_divides() {
        let input = Values::Integer(Cow::Owned(Int64Array::from(vec![Some(-4), Some(-3), None])));
        let mut average = AggregateFunction::Avg.start(Some(NumberKind::Integer));
        for row in 0..3 {
            AggregateFunction::Avg.add(&mut average, Some(&input), row);
        }
        let column = result_column(&[average], &DataType::Int64);
        assert_eq!(column.as_primitive::<Int64Type>().value(0), -3, "-7 / 2");
        let doubles = Float64Array::from(vec![Some(1.0), Some(2.0)]);
        let doubles = Values::Double(&doubles);
        let mut average = AggregateFunction::Avg.start(Some(NumberKind::Double));
        AggregateFunction::Avg.add(&mut average, Some(&doubles), 0);
        let mut other = AggregateFunction::Avg.start(Some(NumberKind::Double));
        AggregateFunction::Avg.add(&mut other, Some(&doubles), 1);
        AggregateFunction::Avg.merge(&mut average, other);
        let column = result_column(&[average], &DataType::Float64);
        assert_eq!(column.as_primitive::<Float64Type>().value(0), 1.5);
        let empty = AggregateFunction::Avg.start(Some(NumberKind::Integer));
        assert!(result_column(&[empty], &DataType::Int64).is_null(0));
    }
}
