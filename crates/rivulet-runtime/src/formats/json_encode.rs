//! Rows as Flink's `json` format writes them: one object per line keyed by
//! column name, NULL as `null`, DECIMAL as a number, DATE, TIME and
//! timestamps as strings in SQL form (`json.timestamp-format.standard` =
//! 'SQL'), ROW as a nested object, MAP (with string keys) as an object,
//! BYTES as base64.

use arrow_array::{Array, RecordBatch};
use arrow_schema::Fields;
use base64::Engine;

use super::cell::{Cell, cell_at, write_separated};
use super::text::{iso_date, java_double, java_float, sql_time, sql_timestamp};

/// Appends every row of `batch` as a JSON line.
pub fn write_batch(batch: &RecordBatch, out: &mut String) -> Result<(), String> {
    let fields = batch.schema_ref().fields().clone();
    for row in 0..batch.num_rows() {
        write_object(&fields, batch.columns(), row, out)?;
        out.push('\n');
    }
    Ok(())
}

fn write_object(
    fields: &Fields,
    columns: &[arrow_array::ArrayRef],
    row: usize,
    out: &mut String,
) -> Result<(), String> {
    out.push('{');
    write_separated(out, fields.len().min(columns.len()), ",", |i, out| {
        write_string(fields[i].name(), out);
        out.push(':');
        write_value(columns[i].as_ref(), row, out)
    })?;
    out.push('}');
    Ok(())
}

fn write_string(text: &str, out: &mut String) {
    // Serialising a str cannot fail; fall back to an empty string regardless.
    out.push_str(&serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into()));
}

/// A number Java prints as `NaN` or `Infinity` is not JSON; Jackson quotes it.
fn write_number(text: String, out: &mut String) {
    if text.chars().any(|c| c.is_ascii_alphabetic() && c != 'E') {
        write_string(&text, out);
    } else {
        out.push_str(&text);
    }
}

fn write_value(array: &dyn Array, row: usize, out: &mut String) -> Result<(), String> {
    let mut text = String::new();
    match cell_at(array, row)? {
        Cell::Null => out.push_str("null"),
        Cell::Boolean(b) => out.push_str(if b { "true" } else { "false" }),
        Cell::Integer(i) => out.push_str(&i.to_string()),
        Cell::Unsigned(u) => out.push_str(&u.to_string()),
        Cell::Float(f) => write_number(java_float(f), out),
        Cell::Double(d) => write_number(java_double(d), out),
        Cell::Decimal(d) => out.push_str(&d),
        Cell::Text(t) => write_string(t, out),
        Cell::Bytes(bytes) => write_string(
            &base64::engine::general_purpose::STANDARD.encode(bytes),
            out,
        ),
        Cell::Date(d) => {
            iso_date(&d, &mut text);
            write_string(&text, out);
        }
        Cell::Time(t) => {
            sql_time(&t, &mut text);
            write_string(&text, out);
        }
        Cell::Timestamp { value, local_zone } => {
            sql_timestamp(&value, local_zone, &mut text);
            write_string(&text, out);
        }
        Cell::List(elements) => {
            out.push('[');
            write_separated(out, elements.len(), ",", |i, out| {
                write_value(elements.as_ref(), i, out)
            })?;
            out.push(']');
        }
        Cell::Row(fields, at) => write_object(fields.fields(), fields.columns(), at, out)?,
        Cell::Map(keys, values) => {
            out.push('{');
            write_separated(out, keys.len(), ",", |i, out| {
                match cell_at(keys.as_ref(), i)? {
                    Cell::Text(key) => write_string(key, out),
                    _ => return Err("the json format writes MAP keys of type STRING only".into()),
                }
                out.push(':');
                write_value(values.as_ref(), i, out)
            })?;
            out.push('}');
        }
    }
    Ok(())
}
