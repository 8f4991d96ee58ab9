//! Flink's functions that take one field of a date-time: `YEAR`, `QUARTER`,
//! `MONTH`, `DAYOFYEAR`, `DAYOFMONTH`, `DAYOFWEEK` (1 = Sunday … 7 =
//! Saturday, as Flink counts), `HOUR`, `MINUTE` and `SECOND`, each a BIGINT
//! from a TIMESTAMP, a TIMESTAMP_LTZ (in UTC, the session time zone Rivulet
//! has) or, for the date fields, a DATE. NULL in, NULL out.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::temporal_conversions::date32_to_datetime;
use arrow_array::types::Date32Type;
use arrow_array::{ArrayRef, Int64Array};
use arrow_schema::DataType;
use chrono::{Datelike, NaiveDateTime, Timelike};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::shaped_like;
use super::temporal::date_times;

/// Which field a function takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum TimeField {
    Year,
    Quarter,
    Month,
    DayOfYear,
    DayOfMonth,
    DayOfWeek,
    Hour,
    Minute,
    Second,
}

impl TimeField {
    pub(super) const ALL: [TimeField; 9] = [
        TimeField::Year,
        TimeField::Quarter,
        TimeField::Month,
        TimeField::DayOfYear,
        TimeField::DayOfMonth,
        TimeField::DayOfWeek,
        TimeField::Hour,
        TimeField::Minute,
        TimeField::Second,
    ];

    fn name(self) -> &'static str {
        match self {
            TimeField::Year => "year",
            TimeField::Quarter => "quarter",
            TimeField::Month => "month",
            TimeField::DayOfYear => "dayofyear",
            TimeField::DayOfMonth => "dayofmonth",
            TimeField::DayOfWeek => "dayofweek",
            TimeField::Hour => "hour",
            TimeField::Minute => "minute",
            TimeField::Second => "second",
        }
    }

    fn is_time_of_day(self) -> bool {
        matches!(
            self,
            TimeField::Hour | TimeField::Minute | TimeField::Second
        )
    }

    fn of(self, time: NaiveDateTime) -> i64 {
        let value = match self {
            TimeField::Year => return i64::from(time.year()),
            TimeField::Quarter => time.month0() / 3 + 1,
            TimeField::Month => time.month(),
            TimeField::DayOfYear => time.ordinal(),
            TimeField::DayOfMonth => time.day(),
            TimeField::DayOfWeek => time.weekday().number_from_sunday(),
            TimeField::Hour => time.hour(),
            TimeField::Minute => time.minute(),
            TimeField::Second => time.second(),
        };
        i64::from(value)
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct TimeFieldFunction {
    field: TimeField,
    signature: Signature,
}

impl TimeFieldFunction {
    pub(super) fn new(field: TimeField) -> Self {
        TimeFieldFunction {
            field,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for TimeFieldFunction {
    fn name(&self) -> &str {
        self.field.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.field.name().to_uppercase();
        match arg_types {
            [DataType::Timestamp(..)] => Ok(arg_types.to_vec()),
            [DataType::Date32] if !self.field.is_time_of_day() => Ok(arg_types.to_vec()),
            [DataType::Null] => Ok(vec![DataType::Date32]),
            [other] => plan_err!("{name} cannot take a value of type {other}"),
            _ => plan_err!("{name} takes 1 argument: {name}(timestamp)"),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let times: Vec<Option<NaiveDateTime>> = match arrays[0].data_type() {
            DataType::Date32 => arrays[0]
                .as_primitive::<Date32Type>()
                .iter()
                .map(|days| days.and_then(date32_to_datetime))
                .collect(),
            _ => date_times(&arrays[0])?,
        };
        let values: Int64Array = times
            .into_iter()
            .map(|t| t.map(|t| self.field.of(t)))
            .collect();
        shaped_like(&args.args, Arc::new(values) as ArrayRef)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_counted_as_flink_counts_them() {
        // 2024-02-29 was a Thursday.
        let time = chrono::NaiveDate::from_ymd_opt(2024, 2, 29)
            .unwrap()
            .and_hms_opt(23, 5, 9)
            .unwrap();
        let fields: Vec<i64> = TimeField::ALL.iter().map(|f| f.of(time)).collect();
        assert_eq!(fields, [2024, 1, 2, 60, 29, 5, 23, 5, 9]);
    }
}
