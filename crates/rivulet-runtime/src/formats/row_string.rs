//! Rows as Flink's `print` connector shows them: `Row.toString` of the
//! external Java values, `+I[1, 2024-01-01T12:00, [a, b], {k=v}]`.

use arrow_array::cast::AsArray;
use arrow_array::types::Int8Type;
use arrow_array::{Array, ArrayRef, RecordBatch};

use crate::changelog::{ROW_KIND_COLUMN, RowKind};

use super::cell::{Cell, cell_at, write_separated};
use super::text::{iso_date, java_instant, java_local_date_time, java_local_time};

/// Appends every row of `batch` as a line `{prefix}+I[...]`; the row kind
/// of a changelog row (see [`crate::changelog`]) picks the `+I`/`-U`/`+U`/`-D`
/// and is not shown as a field.
pub fn write_rows(batch: &RecordBatch, prefix: &str, out: &mut String) -> Result<(), String> {
    let kind_column = batch.schema_ref().index_of(ROW_KIND_COLUMN).ok();
    let kinds = match kind_column {
        None => None,
        Some(index) => Some(
            batch
                .column(index)
                .as_primitive_opt::<Int8Type>()
                .ok_or("a changelog without row kinds")?,
        ),
    };
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != kind_column)
        .map(|(_, c)| c.clone())
        .collect();
    for row in 0..batch.num_rows() {
        let kind = match kinds {
            None => RowKind::Insert,
            Some(kinds) => RowKind::from_byte(kinds.value(row)).ok_or("an unknown row kind")?,
        };
        out.push_str(prefix);
        out.push_str(kind.short_string());
        out.push('[');
        write_fields(&columns, row, out)?;
        out.push_str("]\n");
    }
    Ok(())
}

fn write_fields(columns: &[ArrayRef], row: usize, out: &mut String) -> Result<(), String> {
    write_separated(out, columns.len(), ", ", |i, out| {
        write_value(columns[i].as_ref(), row, out)
    })
}

fn write_all(array: &dyn Array, separator: &str, out: &mut String) -> Result<(), String> {
    write_separated(out, array.len(), separator, |i, out| {
        write_value(array, i, out)
    })
}

fn write_value(array: &dyn Array, row: usize, out: &mut String) -> Result<(), String> {
    let cell = cell_at(array, row)?;
    if cell.write_scalar(out) {
        return Ok(());
    }
    match cell {
        Cell::Null => out.push_str("null"),
        Cell::Boolean(_)
        | Cell::Integer(_)
        | Cell::Unsigned(_)
        | Cell::Float(_)
        | Cell::Double(_)
        | Cell::Decimal(_)
        | Cell::Text(_) => {}
        // byte[] prints through Arrays.toString: signed bytes.
        Cell::Bytes(bytes) => {
            let shown: Vec<String> = bytes.iter().map(|b| (*b as i8).to_string()).collect();
            out.push_str(&format!("[{}]", shown.join(", ")));
        }
        Cell::Date(d) => iso_date(&d, out),
        Cell::Time(t) => java_local_time(&t, out),
        Cell::Timestamp {
            value,
            local_zone: false,
        } => java_local_date_time(&value, out),
        Cell::Timestamp {
            value,
            local_zone: true,
        } => java_instant(&value, out),
        Cell::List(elements) => {
            out.push('[');
            write_all(elements.as_ref(), ", ", out)?;
            out.push(']');
        }
        Cell::Row(fields, at) => {
            out.push_str("+I[");
            write_fields(fields.columns(), at, out)?;
            out.push(']');
        }
        Cell::Map(keys, values) => {
            out.push('{');
            write_separated(out, keys.len(), ", ", |i, out| {
                write_value(keys.as_ref(), i, out)?;
                out.push('=');
                write_value(values.as_ref(), i, out)
            })?;
            out.push('}');
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::builder::{Int32Builder, MapBuilder, StringBuilder};
    use arrow_array::{
        Float64Array, ListArray, StructArray, TimestampMillisecondArray, types::Int32Type,
    };
    use arrow_schema::{DataType, Field};

    use super::*;

    #[test]
    fn rows_print_as_flink_row_to_string() {
        let mut map = MapBuilder::new(None, StringBuilder::new(), Int32Builder::new());
        map.keys().append_value("k");
        map.values().append_value(1);
        map.append(true).unwrap();
        let row = StructArray::from(vec![(
            Arc::new(Field::new("x", DataType::Int32, true)),
            Arc::new(arrow_array::Int32Array::from(vec![7])) as ArrayRef,
        )]);
        let columns: Vec<(&str, ArrayRef)> = vec![
            ("d", Arc::new(Float64Array::from(vec![1e10]))),
            (
                "ts",
                Arc::new(TimestampMillisecondArray::from(vec![1_704_110_400_000])),
            ),
            (
                "ltz",
                Arc::new(
                    TimestampMillisecondArray::from(vec![1_704_110_400_000]).with_timezone("UTC"),
                ),
            ),
            (
                "a",
                Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
                    Some(vec![Some(1), None]),
                ])),
            ),
            ("r", Arc::new(row)),
            ("m", Arc::new(map.finish())),
            ("n", Arc::new(Float64Array::from(vec![None]))),
        ];
        let batch = RecordBatch::try_from_iter(columns).unwrap();
        let mut text = String::new();
        write_rows(&batch, "", &mut text).unwrap();
        assert_eq!(
            text.trim_end_matches('\n'),
            "+I[1.0E10, 2024-01-01T12:00, 2024-01-01T12:00:00Z, [1, null], +I[7], {k=1}, null]"
        );
    }
}
