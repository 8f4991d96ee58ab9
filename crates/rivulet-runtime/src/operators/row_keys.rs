//! A batch's grouping keys as the bytes keyed state stores them under, all
//! in one buffer.
//!
//! An operator keys every row it reads (a join, an aggregation, a Top-N).
//! Building a [`KeyValue`] per row allocated its string or its parts, and
//! encoding it into a vector of its own allocated again; here each row's
//! key is written straight from the columns, as postcard writes a
//! [`KeyValue`]: the variant's index as a
//! varint, a whole number zigzagged into a varint, a string or the parts of
//! a composite key after their length as a varint.

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef, Int64Array, StringArray};
use arrow_schema::DataType;

use crate::error::{Result, RuntimeError};
use crate::leb128;

#[cfg(doc)]
use super::grouping::KeyValue;

/// `KeyValue`'s variants, as postcard numbers them.
const NULL: u8 = 0;
const INTEGER: u8 = 1;
const TEXT: u8 = 2;
const COMPOSITE: u8 = 3;

/// Every row's key bytes, and whether it is NULL or has a NULL part.
#[derive(Debug, Default)]
pub struct RowKeys {
    bytes: Vec<u8>,
    /// Where each row's key ends in `bytes`.
    ends: Vec<usize>,
    has_null: Vec<bool>,
}

/// A key column, read as keys are read.
enum KeyColumn<'a> {
    Integer(Int64Array),
    Text(&'a StringArray),
    Composite(Vec<KeyColumn<'a>>),
}

impl<'a> KeyColumn<'a> {
    fn of(column: &'a ArrayRef, operator: &str) -> Result<KeyColumn<'a>> {
        Ok(match column.data_type() {
            DataType::Struct(_) => KeyColumn::Composite(
                column
                    .as_struct()
                    .columns()
                    .iter()
                    .map(|field| KeyColumn::of(field, operator))
                    .collect::<Result<_>>()?,
            ),
            DataType::Utf8 => KeyColumn::Text(column.as_string::<i32>()),
            // Whole numbers, DATEs and TIMESTAMPs are keyed by their number.
            _ => {
                let integers = arrow_cast::cast(column, &DataType::Int64).map_err(|e| {
                    RuntimeError::Operator {
                        operator: operator.to_string(),
                        message: e.to_string(),
                    }
                })?;
                KeyColumn::Integer(integers.as_primitive::<Int64Type>().clone())
            }
        })
    }

    /// Writes row `row`'s key; whether it is or has a NULL.
    fn write(&self, row: usize, out: &mut Vec<u8>) -> bool {
        match self {
            KeyColumn::Integer(values) if values.is_null(row) => null(out),
            KeyColumn::Integer(values) => {
                let value = values.value(row);
                out.push(INTEGER);
                leb128::push(out, ((value << 1) ^ (value >> 63)) as u64);
                false
            }
            KeyColumn::Text(values) if values.is_null(row) => null(out),
            KeyColumn::Text(values) => {
                let value = values.value(row).as_bytes();
                out.push(TEXT);
                leb128::push(out, value.len() as u64);
                out.extend_from_slice(value);
                false
            }
            KeyColumn::Composite(parts) => {
                out.push(COMPOSITE);
                leb128::push(out, parts.len() as u64);
                let mut has_null = false;
                for part in parts {
                    has_null |= part.write(row, out);
                }
                has_null
            }
        }
    }
}

fn null(out: &mut Vec<u8>) -> bool {
    out.push(NULL);
    true
}

impl RowKeys {
    /// The keys of a BIGINT, INT, DATE, TIMESTAMP or STRING column, or of
    /// a ROW of them (a composite key).
    pub fn of(column: &ArrayRef, operator: &str) -> Result<RowKeys> {
        let keys = KeyColumn::of(column, operator)?;
        let rows = column.len();
        let mut out = RowKeys {
            bytes: Vec::with_capacity(rows * 10),
            ends: Vec::with_capacity(rows),
            has_null: Vec::with_capacity(rows),
        };
        for row in 0..rows {
            let has_null = keys.write(row, &mut out.bytes);
            out.ends.push(out.bytes.len());
            out.has_null.push(has_null);
        }
        Ok(out)
    }

    /// `rows` keys of a key-less operator: each the NULL key.
    pub fn none(rows: usize) -> RowKeys {
        RowKeys {
            bytes: vec![NULL; rows],
            ends: (1..=rows).collect(),
            has_null: vec![true; rows],
        }
    }

    /// Row `row`'s key bytes.
    pub fn key(&self, row: usize) -> &[u8] {
        let start = if row == 0 { 0 } else { self.ends[row - 1] };
        &self.bytes[start..self.ends[row]]
    }

    /// Whether row `row`'s key is NULL or has a NULL part: it equals nothing.
    pub fn has_null(&self, row: usize) -> bool {
        self.has_null[row]
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Date32Array, Int32Array, StructArray, TimestampMillisecondArray};
    use arrow_schema::{Field, Fields};

    use super::super::grouping::{key_bytes, key_values};
    use super::*;

    /// Each row's bytes are those of its `KeyValue`, encoded by postcard.
    fn assert_as_postcard_writes(column: ArrayRef) {
        let keys = RowKeys::of(&column, "test").unwrap();
        let values = key_values(&column, "test").unwrap();
        assert_eq!(values.len(), column.len());
        for (row, value) in values.iter().enumerate() {
            assert_eq!(
                keys.key(row),
                key_bytes(value, "test").unwrap(),
                "row {row}"
            );
            assert_eq!(keys.has_null(row), value.has_null(), "row {row}");
        }
    }

    #[test]
    fn keys_are_the_bytes_postcard_writes_for_them() {
        let integers: Vec<Option<i64>> = [0, 1, -1, 63, -64, 64, 127, 128, 300, -300]
            .into_iter()
            .chain([i64::MAX, i64::MIN, 1 << 35, -(1 << 49)])
            .map(Some)
            .chain([None])
            .collect();
        let longs: ArrayRef = Arc::new(Int64Array::from(integers.clone()));
        assert_as_postcard_writes(longs.clone());
        assert_as_postcard_writes(Arc::new(Int32Array::from(vec![
            Some(i32::MIN),
            None,
            Some(7),
        ])));
        assert_as_postcard_writes(Arc::new(Date32Array::from(vec![Some(-3), None])));
        assert_as_postcard_writes(Arc::new(TimestampMillisecondArray::from(vec![
            Some(1_704_067_200_000),
            None,
        ])));
        let long_text = "é".repeat(100);
        let texts: ArrayRef = Arc::new(StringArray::from(vec![
            Some(""),
            None,
            Some("or"),
            Some(long_text.as_str()),
            Some("日本"),
            Some("x"),
            Some("y"),
            Some("z"),
            Some("w"),
            Some("v"),
            Some("u"),
            Some("t"),
            Some("s"),
            Some("r"),
            Some("q"),
        ]));
        assert_as_postcard_writes(texts.clone());
        let composite: ArrayRef = Arc::new(StructArray::new(
            Fields::from(vec![
                Field::new("a", DataType::Int64, true),
                Field::new("b", DataType::Utf8, true),
            ]),
            vec![longs, texts],
            None,
        ));
        assert_as_postcard_writes(composite);
    }

    #[test]
    fn a_keyless_operator_keys_every_row_by_null() {
        let keys = RowKeys::none(3);
        let null = key_bytes(&super::super::grouping::KeyValue::Null, "test").unwrap();
        for row in 0..3 {
            assert_eq!(keys.key(row), null);
            assert!(keys.has_null(row));
        }
    }
}
