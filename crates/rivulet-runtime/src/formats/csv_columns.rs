//! The columns a csv source builds: each field's text parsed as it is read
//! into a column of its type, with the parsers arrow's string casts use, so
//! a batch needs no intermediate string arrays. Types without a parser here
//! (DECIMAL, TIME, …) are kept as text and cast once per batch.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float32Builder, Float64Builder, Int8Builder, Int16Builder,
    Int32Builder, Int64Builder, PrimitiveBuilder, StringBuilder,
};
use arrow_array::types::{
    Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
};
use arrow_array::{ArrayRef, StringArray};
use arrow_cast::parse::Parser;
use arrow_schema::DataType;

use super::timestamp_column::TimestampColumn;

/// A text that does not read as its column's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreadable;

pub enum CsvColumn {
    /// STRING and types cast from text once per batch, with the type.
    Text(StringBuilder, DataType),
    /// Java's `Boolean.parseBoolean`: anything but "true" is false.
    Boolean(BooleanBuilder),
    Int8(Int8Builder),
    Int16(Int16Builder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    Float32(Float32Builder),
    Float64(Float64Builder),
    Date32(Date32Builder),
    Timestamp(TimestampColumn),
}

fn parse_into<T: Parser>(builder: &mut PrimitiveBuilder<T>, text: &str) -> Result<(), Unreadable> {
    builder.append_value(T::parse(text).ok_or(Unreadable)?);
    Ok(())
}

impl CsvColumn {
    pub fn new(data_type: &DataType, capacity: usize) -> Self {
        match data_type {
            DataType::Boolean => CsvColumn::Boolean(BooleanBuilder::with_capacity(capacity)),
            DataType::Int8 => CsvColumn::Int8(Int8Builder::with_capacity(capacity)),
            DataType::Int16 => CsvColumn::Int16(Int16Builder::with_capacity(capacity)),
            DataType::Int32 => CsvColumn::Int32(Int32Builder::with_capacity(capacity)),
            DataType::Int64 => CsvColumn::Int64(Int64Builder::with_capacity(capacity)),
            DataType::Float32 => CsvColumn::Float32(Float32Builder::with_capacity(capacity)),
            DataType::Float64 => CsvColumn::Float64(Float64Builder::with_capacity(capacity)),
            DataType::Date32 => CsvColumn::Date32(Date32Builder::with_capacity(capacity)),
            DataType::Timestamp(unit, zone) => match TimestampColumn::new(*unit, zone, capacity) {
                Some(column) => CsvColumn::Timestamp(column),
                None => Self::text(data_type, capacity),
            },
            _ => Self::text(data_type, capacity),
        }
    }

    fn text(data_type: &DataType, capacity: usize) -> Self {
        CsvColumn::Text(
            StringBuilder::with_capacity(capacity, capacity * 16),
            data_type.clone(),
        )
    }

    /// Appends a field's value: `None` is NULL.
    pub fn append(&mut self, text: Option<&str>) -> Result<(), Unreadable> {
        let Some(text) = text else {
            self.append_null();
            return Ok(());
        };
        match self {
            CsvColumn::Text(builder, _) => builder.append_value(text),
            CsvColumn::Boolean(builder) => builder.append_value(text.eq_ignore_ascii_case("true")),
            CsvColumn::Int8(builder) => parse_into::<Int8Type>(builder, text)?,
            CsvColumn::Int16(builder) => parse_into::<Int16Type>(builder, text)?,
            CsvColumn::Int32(builder) => parse_into::<Int32Type>(builder, text)?,
            CsvColumn::Int64(builder) => parse_into::<Int64Type>(builder, text)?,
            CsvColumn::Float32(builder) => parse_into::<Float32Type>(builder, text)?,
            CsvColumn::Float64(builder) => parse_into::<Float64Type>(builder, text)?,
            CsvColumn::Date32(builder) => parse_into::<Date32Type>(builder, text)?,
            CsvColumn::Timestamp(column) => column.append_text(text).map_err(|_| Unreadable)?,
        }
        Ok(())
    }

    pub fn append_null(&mut self) {
        match self {
            CsvColumn::Text(builder, _) => builder.append_null(),
            CsvColumn::Boolean(builder) => builder.append_null(),
            CsvColumn::Int8(builder) => builder.append_null(),
            CsvColumn::Int16(builder) => builder.append_null(),
            CsvColumn::Int32(builder) => builder.append_null(),
            CsvColumn::Int64(builder) => builder.append_null(),
            CsvColumn::Float32(builder) => builder.append_null(),
            CsvColumn::Float64(builder) => builder.append_null(),
            CsvColumn::Date32(builder) => builder.append_null(),
            CsvColumn::Timestamp(column) => column.append_null(),
        }
    }

    /// The column's values; text columns of another type come back as text,
    /// with that type, for the caller to cast.
    pub fn finish(&mut self) -> Finished {
        let array: ArrayRef = match self {
            CsvColumn::Text(builder, data_type) => {
                return Finished::Text(builder.finish(), data_type.clone());
            }
            CsvColumn::Boolean(builder) => Arc::new(builder.finish()),
            CsvColumn::Int8(builder) => Arc::new(builder.finish()),
            CsvColumn::Int16(builder) => Arc::new(builder.finish()),
            CsvColumn::Int32(builder) => Arc::new(builder.finish()),
            CsvColumn::Int64(builder) => Arc::new(builder.finish()),
            CsvColumn::Float32(builder) => Arc::new(builder.finish()),
            CsvColumn::Float64(builder) => Arc::new(builder.finish()),
            CsvColumn::Date32(builder) => Arc::new(builder.finish()),
            CsvColumn::Timestamp(column) => column.finish(),
        };
        Finished::Values(array)
    }
}

pub enum Finished {
    Values(ArrayRef),
    Text(StringArray, DataType),
}

#[cfg(test)]
mod tests {
    use arrow_array::Array;
    use arrow_schema::TimeUnit;

    use super::*;

    /// Every typed column reads a text as arrow's cast from text does.
    #[test]
    fn typed_columns_read_what_the_string_cast_reads() {
        let cases: &[(DataType, &[&str])] = &[
            (DataType::Int8, &["1", "-128", "128", "+5", "1.5", "x"]),
            (DataType::Int32, &["2147483647", "2147483648", "-7", "1e3"]),
            (
                DataType::Int64,
                &["9223372036854775807", "-0", "00012", " 4"],
            ),
            (
                DataType::Float64,
                &["0.1", "1e308", "NaN", "inf", "-2.5E-3", "x"],
            ),
            (
                DataType::Float32,
                &["3.4028235e38", "1.17549435e-38", "0.1"],
            ),
            (
                DataType::Date32,
                &["2024-02-29", "2023-02-29", "1970-01-01", "x"],
            ),
            (
                DataType::Timestamp(TimeUnit::Millisecond, None),
                &[
                    "2024-01-01 00:00:00.123",
                    "2024-01-01T10:00:00",
                    "2024-01-01",
                    "x",
                ],
            ),
            (
                DataType::Timestamp(TimeUnit::Microsecond, Some("+02:00".into())),
                &["2024-01-01 00:00:00.123456", "2024-01-01T10:00:00Z"],
            ),
        ];
        for (data_type, texts) in cases {
            let mut column = CsvColumn::new(data_type, 8);
            let mut readable = Vec::new();
            for text in texts.iter() {
                if column.append(Some(text)).is_ok() {
                    readable.push(Some(*text));
                }
            }
            column.append(None).unwrap();
            readable.push(None);
            let Finished::Values(values) = column.finish() else {
                panic!("{data_type} is built as text");
            };
            let strings: ArrayRef = Arc::new(StringArray::from(readable.clone()));
            let cast = arrow_cast::cast(&strings, data_type).unwrap();
            assert_eq!(&values, &cast, "{data_type}: {readable:?}");
            // And what it refused, the cast refuses too.
            for text in texts.iter().filter(|t| !readable.contains(&Some(**t))) {
                let strings: ArrayRef = Arc::new(StringArray::from(vec![*text]));
                let cast = arrow_cast::cast(&strings, data_type).unwrap();
                assert!(cast.is_null(0), "{data_type}: '{text}'");
            }
        }
    }
}
