//! One value of an Arrow column as a Flink value, for the encoders to render.

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, MapArray, StructArray};
use arrow_schema::{DataType, TimeUnit};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// A value as Flink types it; nested values point back into their arrays.
pub enum Cell<'a> {
    Null,
    Boolean(bool),
    Integer(i64),
    Unsigned(u64),
    Float(f32),
    Double(f64),
    /// A DECIMAL in plain notation, scale digits after the point.
    Decimal(String),
    Text(&'a str),
    Bytes(&'a [u8]),
    Date(NaiveDate),
    Time(NaiveTime),
    /// A TIMESTAMP, or with `local_zone` a TIMESTAMP_LTZ shown in UTC.
    Timestamp {
        value: NaiveDateTime,
        local_zone: bool,
    },
    /// An ARRAY's elements.
    List(ArrayRef),
    /// A ROW: the struct column and the row in it.
    Row(&'a StructArray, usize),
    /// A MAP's entries: keys and values of this row.
    Map(ArrayRef, ArrayRef),
}

fn out_of_range(data_type: &DataType) -> String {
    format!("a {data_type} value is out of the range Flink can show")
}

/// The value at `row` of `array`; an error names a type no format can encode.
pub fn cell_at(array: &dyn Array, row: usize) -> Result<Cell<'_>, String> {
    if array.is_null(row) {
        return Ok(Cell::Null);
    }
    let data_type = array.data_type();
    let datetime = |value: Option<NaiveDateTime>, local_zone: bool| {
        value
            .map(|value| Cell::Timestamp { value, local_zone })
            .ok_or_else(|| out_of_range(data_type))
    };
    Ok(match data_type {
        DataType::Boolean => Cell::Boolean(array.as_boolean().value(row)),
        DataType::Int8 => Cell::Integer(array.as_primitive::<Int8Type>().value(row).into()),
        DataType::Int16 => Cell::Integer(array.as_primitive::<Int16Type>().value(row).into()),
        DataType::Int32 => Cell::Integer(array.as_primitive::<Int32Type>().value(row).into()),
        DataType::Int64 => Cell::Integer(array.as_primitive::<Int64Type>().value(row)),
        DataType::UInt8 => Cell::Unsigned(array.as_primitive::<UInt8Type>().value(row).into()),
        DataType::UInt16 => Cell::Unsigned(array.as_primitive::<UInt16Type>().value(row).into()),
        DataType::UInt32 => Cell::Unsigned(array.as_primitive::<UInt32Type>().value(row).into()),
        DataType::UInt64 => Cell::Unsigned(array.as_primitive::<UInt64Type>().value(row)),
        DataType::Float32 => Cell::Float(array.as_primitive::<Float32Type>().value(row)),
        DataType::Float64 => Cell::Double(array.as_primitive::<Float64Type>().value(row)),
        DataType::Decimal128(..) => {
            Cell::Decimal(array.as_primitive::<Decimal128Type>().value_as_string(row))
        }
        DataType::Decimal256(..) => {
            Cell::Decimal(array.as_primitive::<Decimal256Type>().value_as_string(row))
        }
        DataType::Utf8 => Cell::Text(array.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => Cell::Text(array.as_string::<i64>().value(row)),
        DataType::Utf8View => Cell::Text(array.as_string_view().value(row)),
        DataType::Binary => Cell::Bytes(array.as_binary::<i32>().value(row)),
        DataType::LargeBinary => Cell::Bytes(array.as_binary::<i64>().value(row)),
        DataType::Date32 => Cell::Date(
            array
                .as_primitive::<Date32Type>()
                .value_as_date(row)
                .ok_or_else(|| out_of_range(data_type))?,
        ),
        DataType::Time32(TimeUnit::Second) => time(
            array.as_primitive::<Time32SecondType>().value_as_time(row),
            data_type,
        )?,
        DataType::Time32(TimeUnit::Millisecond) => time(
            array
                .as_primitive::<Time32MillisecondType>()
                .value_as_time(row),
            data_type,
        )?,
        DataType::Time64(TimeUnit::Microsecond) => time(
            array
                .as_primitive::<Time64MicrosecondType>()
                .value_as_time(row),
            data_type,
        )?,
        DataType::Time64(TimeUnit::Nanosecond) => time(
            array
                .as_primitive::<Time64NanosecondType>()
                .value_as_time(row),
            data_type,
        )?,
        DataType::Timestamp(unit, zone) => {
            let local_zone = zone.is_some();
            let value = match unit {
                TimeUnit::Second => array
                    .as_primitive::<TimestampSecondType>()
                    .value_as_datetime(row),
                TimeUnit::Millisecond => array
                    .as_primitive::<TimestampMillisecondType>()
                    .value_as_datetime(row),
                TimeUnit::Microsecond => array
                    .as_primitive::<TimestampMicrosecondType>()
                    .value_as_datetime(row),
                TimeUnit::Nanosecond => array
                    .as_primitive::<TimestampNanosecondType>()
                    .value_as_datetime(row),
            };
            datetime(value, local_zone)?
        }
        DataType::List(_) => Cell::List(array.as_list::<i32>().value(row)),
        DataType::LargeList(_) => Cell::List(array.as_list::<i64>().value(row)),
        DataType::Struct(_) => Cell::Row(array.as_struct(), row),
        DataType::Map(..) => {
            let map: &MapArray = array.as_map();
            let entries = map.value(row);
            Cell::Map(entries.column(0).clone(), entries.column(1).clone())
        }
        other => return Err(format!("values of type {other} cannot be written")),
    })
}

fn time(value: Option<NaiveTime>, data_type: &DataType) -> Result<Cell<'static>, String> {
    value.map(Cell::Time).ok_or_else(|| out_of_range(data_type))
}

/// Writes `count` items with `separator` between them, as every text format
/// joins fields, list elements and map entries.
pub fn write_separated(
    out: &mut String,
    count: usize,
    separator: &str,
    mut item: impl FnMut(usize, &mut String) -> Result<(), String>,
) -> Result<(), String> {
    for i in 0..count {
        if i > 0 {
            out.push_str(separator);
        }
        item(i, out)?;
    }
    Ok(())
}

impl Cell<'_> {
    /// Writes a boolean, number or string as Java's `toString` shows it,
    /// which every text format shares; false for any other cell.
    pub fn write_scalar(&self, out: &mut String) -> bool {
        match self {
            Cell::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
            Cell::Integer(i) => out.push_str(&i.to_string()),
            Cell::Unsigned(u) => out.push_str(&u.to_string()),
            Cell::Float(f) => out.push_str(&super::text::java_float(*f)),
            Cell::Double(d) => out.push_str(&super::text::java_double(*d)),
            Cell::Decimal(d) => out.push_str(d),
            Cell::Text(t) => out.push_str(t),
            _ => return false,
        }
        true
    }
}
