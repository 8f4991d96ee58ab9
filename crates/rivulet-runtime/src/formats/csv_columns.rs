//! The columns a csv source builds: each field's text parsed as it is read
//! into a column of its type, with the parsers arrow's string casts use, so
//! a batch needs no intermediate string arrays. Types without a parser here
//! (DECIMAL, TIME, …) are kept as text and cast once per batch.

use arrow_array::builder::StringBuilder;
use arrow_array::types::{
    Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
};
use arrow_array::{ArrayRef, StringArray};
use arrow_cast::parse::Parser;
use arrow_schema::DataType;

use super::scalar_column::{PrimitiveColumn, ScalarColumn};

/// A text that does not read as its column's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreadable;

pub enum CsvColumn {
    /// STRING and types cast from text once per batch, with the type.
    Text(StringBuilder, DataType),
    /// Parsed as it is read.
    Scalar(ScalarColumn),
}

fn parse_into<T: Parser>(builder: &mut PrimitiveColumn<T>, text: &str) -> Result<(), Unreadable> {
    builder.append_value(T::parse(text).ok_or(Unreadable)?);
    Ok(())
}

impl CsvColumn {
    pub fn new(data_type: &DataType, capacity: usize) -> Self {
        match ScalarColumn::new(data_type, capacity) {
            Some(column) => CsvColumn::Scalar(column),
            None => CsvColumn::Text(
                StringBuilder::with_capacity(capacity, capacity * 16),
                data_type.clone(),
            ),
        }
    }

    /// Appends a field's value: `None` is NULL.
    pub fn append(&mut self, text: Option<&str>) -> Result<(), Unreadable> {
        let Some(text) = text else {
            self.append_null();
            return Ok(());
        };
        let column = match self {
            CsvColumn::Text(builder, _) => {
                builder.append_value(text);
                return Ok(());
            }
            CsvColumn::Scalar(column) => column,
        };
        match column {
            // Java's `Boolean.parseBoolean`: anything but "true" is false.
            ScalarColumn::Boolean(b) => b.append_value(text.eq_ignore_ascii_case("true")),
            ScalarColumn::Int8(b) => parse_into::<Int8Type>(b, text)?,
            ScalarColumn::Int16(b) => parse_into::<Int16Type>(b, text)?,
            ScalarColumn::Int32(b) => parse_into::<Int32Type>(b, text)?,
            ScalarColumn::Int64(b) => parse_into::<Int64Type>(b, text)?,
            ScalarColumn::Float32(b) => parse_into::<Float32Type>(b, text)?,
            ScalarColumn::Float64(b) => parse_into::<Float64Type>(b, text)?,
            ScalarColumn::Date32(b) => parse_into::<Date32Type>(b, text)?,
            ScalarColumn::Timestamp(c) => c.append_text(text).map_err(|_| Unreadable)?,
        }
        Ok(())
    }

    pub fn append_null(&mut self) {
        match self {
            CsvColumn::Text(builder, _) => builder.append_null(),
            CsvColumn::Scalar(column) => column.append_null(),
        }
    }

    /// The column's values; text columns of another type come back as text,
    /// with that type, for the caller to cast.
    pub fn finish(&mut self) -> Finished {
        match self {
            CsvColumn::Text(builder, data_type) => {
                Finished::Text(builder.finish(), data_type.clone())
            }
            CsvColumn::Scalar(column) => Finished::Values(column.finish()),
        }
    }
}

pub enum Finished {
    Values(ArrayRef),
    Text(StringArray, DataType),
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

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
