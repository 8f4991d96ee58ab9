//! Flink's `DATE_FORMAT` and `TO_TIMESTAMP`, on whole Arrow columns.
//!
//! - `DATE_FORMAT(timestamp, pattern)`: the timestamp as text in a Java
//!   pattern. A string argument is read first as `yyyy-MM-dd HH:mm:ss` the
//!   lenient way Flink reads it (text after the seconds is ignored); one that
//!   does not read gives NULL. `TIMESTAMP_LTZ` values are shown in UTC, the
//!   session time zone Rivulet has.
//! - `TO_TIMESTAMP(text[, pattern])`: a `TIMESTAMP(3)`; without a pattern
//!   `yyyy-MM-dd[ HH:mm:ss[.fraction]]`. Text that does not read gives NULL.
//!
//! A pattern Java would reject fails the query, as it fails Flink's job.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::cast::AsArray;
use arrow_array::temporal_conversions::{
    timestamp_ms_to_datetime, timestamp_ns_to_datetime, timestamp_s_to_datetime,
    timestamp_us_to_datetime,
};
use arrow_array::types::{
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use arrow_array::{Array, ArrayRef, StringArray, TimestampMillisecondArray, new_null_array};
use arrow_schema::{DataType, TimeUnit};
use chrono::NaiveDateTime;
use datafusion::common::{DataFusionError, Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::java_datetime::{
    JavaPattern, parse_default_timestamp, parse_leading_timestamp, parse_sql_fallback,
};

/// Compiled patterns of one call, so a constant pattern is translated once.
#[derive(Default)]
struct Patterns<'a> {
    compiled: HashMap<&'a str, JavaPattern>,
}

impl<'a> Patterns<'a> {
    fn get(&mut self, function: &str, pattern: &'a str) -> Result<&JavaPattern> {
        if !self.compiled.contains_key(pattern) {
            self.compiled
                .insert(pattern, compile_pattern(function, pattern)?);
        }
        self.compiled
            .get(pattern)
            .ok_or_else(|| DataFusionError::Internal("pattern cache lost an entry".into()))
    }
}

/// `pattern` translated for `function`, or the error that fails its query.
fn compile_pattern(function: &str, pattern: &str) -> Result<JavaPattern> {
    JavaPattern::new(pattern).map_err(|e| {
        DataFusionError::Execution(format!("{function}: invalid pattern '{pattern}': {e}"))
    })
}

fn is_string(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
    )
}

/// The timestamps of a column as local date-times (UTC for `TIMESTAMP_LTZ`).
pub(super) fn date_times(array: &ArrayRef) -> Result<Vec<Option<NaiveDateTime>>> {
    fn convert<T: arrow_array::types::ArrowPrimitiveType<Native = i64>>(
        array: &ArrayRef,
        to: fn(i64) -> Option<NaiveDateTime>,
    ) -> Vec<Option<NaiveDateTime>> {
        array
            .as_primitive::<T>()
            .iter()
            .map(|v| v.and_then(to))
            .collect()
    }
    Ok(match array.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => {
            convert::<TimestampSecondType>(array, timestamp_s_to_datetime)
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            convert::<TimestampMillisecondType>(array, timestamp_ms_to_datetime)
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            convert::<TimestampMicrosecondType>(array, timestamp_us_to_datetime)
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            convert::<TimestampNanosecondType>(array, timestamp_ns_to_datetime)
        }
        DataType::Utf8 => array
            .as_string::<i32>()
            .iter()
            .map(|v| v.and_then(parse_leading_timestamp))
            .collect(),
        other => return exec_err!("DATE_FORMAT cannot format {other}"),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct DateFormat {
    signature: Signature,
}

impl DateFormat {
    pub(super) fn new() -> Self {
        DateFormat {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for DateFormat {
    fn name(&self) -> &str {
        "date_format"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [value, pattern] = arg_types else {
            return plan_err!("DATE_FORMAT takes 2 arguments: DATE_FORMAT(timestamp, pattern)");
        };
        let value = match value {
            DataType::Timestamp(..) => value.clone(),
            DataType::Date32 | DataType::Date64 => DataType::Timestamp(TimeUnit::Millisecond, None),
            v if is_string(v) => DataType::Utf8,
            other => {
                return plan_err!("DATE_FORMAT formats a TIMESTAMP or a STRING, not {other}");
            }
        };
        if !is_string(pattern) {
            return plan_err!("DATE_FORMAT's pattern must be a STRING, not {pattern}");
        }
        Ok(vec![value, DataType::Utf8])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if let (ColumnarValue::Array(values), ColumnarValue::Scalar(pattern)) =
            (&args.args[0], &args.args[1])
        {
            return format_with_constant_pattern(values, pattern).map(ColumnarValue::Array);
        }
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let values = date_times(&arrays[0])?;
        let patterns = arrays[1].as_string::<i32>();
        let mut compiled = Patterns::default();
        let mut text = String::new();
        let mut formatted = Vec::with_capacity(values.len());
        for (row, value) in values.iter().enumerate() {
            let (Some(value), false) = (value, patterns.is_null(row)) else {
                formatted.push(None);
                continue;
            };
            let pattern = compiled.get("DATE_FORMAT", patterns.value(row))?;
            text.clear();
            pattern.format_into(value, &mut text).map_err(|_| {
                DataFusionError::Execution(format!(
                    "DATE_FORMAT cannot format {value} with '{}'",
                    patterns.value(row)
                ))
            })?;
            formatted.push(Some(text.clone()));
        }
        super::shaped_like(
            &args.args,
            Arc::new(StringArray::from(formatted)) as ArrayRef,
        )
    }
}

/// `DATE_FORMAT` of a column with one pattern for every row: the pattern
/// is compiled once, and a value in the same unit as the row before (the
/// same day for `yyyy-MM-dd`) takes that row's text without formatting.
fn format_with_constant_pattern(values: &ArrayRef, pattern: &ScalarValue) -> Result<ArrayRef> {
    let Some(pattern) = pattern.try_as_str() else {
        return exec_err!(
            "DATE_FORMAT takes a STRING pattern, not {}",
            pattern.data_type()
        );
    };
    let rows = values.len();
    let Some(pattern) = pattern else {
        return Ok(new_null_array(&DataType::Utf8, rows));
    };
    let times = Times::of(values)?;
    // Compiled at the first value: NULLs alone format to NULL whatever the
    // pattern, as Flink never formats them.
    let mut compiled: Option<(JavaPattern, Option<i64>)> = None;
    let mut builder = StringBuilder::with_capacity(rows, rows * pattern.len());
    let mut text = String::new();
    let mut last_unit = None;
    for row in 0..rows {
        let Some(seconds) = times.seconds(row) else {
            builder.append_null();
            continue;
        };
        let (compiled, resolution) = match &mut compiled {
            Some(compiled) => compiled,
            None => {
                let pattern = compile_pattern("DATE_FORMAT", pattern)?;
                let resolution = pattern.resolution_seconds();
                compiled.insert((pattern, resolution))
            }
        };
        let unit = resolution.map(|resolution| seconds.div_euclid(resolution));
        if unit.is_none() || unit != last_unit {
            // A value in the unit of one that was a date-time is one too
            // (chrono's range ends at whole days).
            let Some(value) = times.date_time(row) else {
                builder.append_null();
                continue;
            };
            text.clear();
            compiled.format_into(&value, &mut text).map_err(|_| {
                DataFusionError::Execution(format!(
                    "DATE_FORMAT cannot format {value} with '{pattern}'"
                ))
            })?;
            last_unit = unit;
        }
        builder.append_value(&text);
    }
    Ok(Arc::new(builder.finish()) as ArrayRef)
}

/// The values `DATE_FORMAT` formats: a TIMESTAMP column read where it lies,
/// each value made a date-time only when it is formatted (q17 formats a
/// day ten million times, and all but a few take the text before them), or
/// the date-times read from strings.
enum Times<'a> {
    Raw {
        nulls: Option<&'a arrow_buffer::NullBuffer>,
        values: &'a [i64],
        per_second: i64,
        to_date_time: fn(i64) -> Option<NaiveDateTime>,
    },
    Read(Vec<Option<NaiveDateTime>>),
}

impl<'a> Times<'a> {
    fn of(array: &'a ArrayRef) -> Result<Times<'a>> {
        fn raw<T: arrow_array::types::ArrowPrimitiveType<Native = i64>>(
            array: &ArrayRef,
            per_second: i64,
            to_date_time: fn(i64) -> Option<NaiveDateTime>,
        ) -> Times<'_> {
            let array = array.as_primitive::<T>();
            Times::Raw {
                nulls: array.nulls(),
                values: array.values(),
                per_second,
                to_date_time,
            }
        }
        Ok(match array.data_type() {
            DataType::Timestamp(TimeUnit::Second, _) => {
                raw::<TimestampSecondType>(array, 1, timestamp_s_to_datetime)
            }
            DataType::Timestamp(TimeUnit::Millisecond, _) => {
                raw::<TimestampMillisecondType>(array, 1_000, timestamp_ms_to_datetime)
            }
            DataType::Timestamp(TimeUnit::Microsecond, _) => {
                raw::<TimestampMicrosecondType>(array, 1_000_000, timestamp_us_to_datetime)
            }
            DataType::Timestamp(TimeUnit::Nanosecond, _) => {
                raw::<TimestampNanosecondType>(array, 1_000_000_000, timestamp_ns_to_datetime)
            }
            _ => Times::Read(date_times(array)?),
        })
    }

    /// Row `row`'s seconds since the epoch, `None` for NULL.
    fn seconds(&self, row: usize) -> Option<i64> {
        match self {
            Times::Raw {
                nulls,
                values,
                per_second,
                ..
            } => nulls
                .is_none_or(|nulls| nulls.is_valid(row))
                .then(|| values[row].div_euclid(*per_second)),
            Times::Read(times) => times[row].map(|time| time.and_utc().timestamp()),
        }
    }

    /// Row `row` as a date-time, `None` for NULL or out of chrono's range.
    fn date_time(&self, row: usize) -> Option<NaiveDateTime> {
        match self {
            Times::Raw {
                values,
                to_date_time,
                ..
            } => to_date_time(values[row]),
            Times::Read(times) => times[row],
        }
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct ToTimestamp {
    signature: Signature,
}

impl ToTimestamp {
    pub(super) fn new() -> Self {
        ToTimestamp {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for ToTimestamp {
    fn name(&self) -> &str {
        "to_timestamp"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if !(1..=2).contains(&arg_types.len()) {
            return plan_err!("TO_TIMESTAMP takes 1 or 2 arguments: TO_TIMESTAMP(text[, pattern])");
        }
        if let Some(other) = arg_types.iter().find(|t| !is_string(t)) {
            return plan_err!("TO_TIMESTAMP reads a STRING, not {other}");
        }
        Ok(vec![DataType::Utf8; arg_types.len()])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Timestamp(TimeUnit::Millisecond, None))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let texts = arrays[0].as_string::<i32>();
        let patterns = arrays.get(1).map(|p| p.as_string::<i32>());
        let mut compiled = Patterns::default();
        let mut millis = Vec::with_capacity(texts.len());
        for row in 0..texts.len() {
            if texts.is_null(row) {
                millis.push(None);
                continue;
            }
            let text = texts.value(row);
            let parsed = match patterns {
                None => parse_default_timestamp(text),
                Some(p) if p.is_null(row) => None,
                Some(p) => compiled
                    .get("TO_TIMESTAMP", p.value(row))?
                    .parse(text)
                    .or_else(|| parse_sql_fallback(text)),
            };
            // TIMESTAMP(3): a finer fraction is cut to milliseconds.
            millis.push(parsed.map(|t| t.and_utc().timestamp_millis()));
        }
        super::shaped_like(
            &args.args,
            Arc::new(TimestampMillisecondArray::from(millis)) as ArrayRef,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> ScalarValue {
        ScalarValue::Utf8(Some(text.into()))
    }

    #[test]
    fn a_constant_pattern_formats_each_value_and_is_checked_only_on_one() {
        let times: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![
            Some(1_704_067_199_999),
            None,
            Some(1_704_067_200_000),
        ]));
        let days = format_with_constant_pattern(&times, &pattern("yyyy-MM-dd")).unwrap();
        let days: Vec<_> = days.as_string::<i32>().iter().collect();
        assert_eq!(days, [Some("2023-12-31"), None, Some("2024-01-01")]);
        // As in Flink, a pattern Java rejects fails only a call that formats.
        let nulls: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![None, None]));
        let formatted = format_with_constant_pattern(&nulls, &pattern("yyyy-qq")).unwrap();
        assert_eq!(formatted.null_count(), 2);
        assert!(format_with_constant_pattern(&times, &pattern("yyyy-qq")).is_err());
    }

    #[test]
    fn values_of_a_unit_take_its_text_as_formatting_each_would_give() {
        // Runs within a day, across midnight (before the epoch too), NULLs
        // between, and values beyond what a date-time holds.
        let millis = [
            Some(-86_400_001),
            Some(-86_400_000),
            None,
            Some(-1),
            Some(0),
            Some(86_399_999),
            Some(86_400_000),
            None,
            Some(86_400_001),
            Some(i64::MAX),
            Some(1_704_067_200_000),
        ];
        let times: ArrayRef = Arc::new(TimestampMillisecondArray::from(millis.to_vec()));
        for text in ["yyyy-MM-dd", "yyyy-MM-dd HH:mm:ss.SSS", "HH", "yyyy"] {
            let formatted = format_with_constant_pattern(&times, &pattern(text)).unwrap();
            let compiled = compile_pattern("DATE_FORMAT", text).unwrap();
            let each: Vec<Option<String>> = millis
                .iter()
                .map(|value| {
                    let time = value.and_then(timestamp_ms_to_datetime)?;
                    let mut out = String::new();
                    compiled.format_into(&time, &mut out).unwrap();
                    Some(out)
                })
                .collect();
            let formatted: Vec<Option<String>> = formatted
                .as_string::<i32>()
                .iter()
                .map(|v| v.map(String::from))
                .collect();
            assert_eq!(formatted, each, "{text}");
        }
    }
}
