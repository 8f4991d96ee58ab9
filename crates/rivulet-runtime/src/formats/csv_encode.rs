//! Rows as Flink's `csv` format writes them: one line per row, a field
//! quoted only when it holds the delimiter, a quote or a line break; NULL
//! as the empty field (or `csv.null-literal`); timestamps in SQL form; an
//! ARRAY's elements and a ROW's fields joined by `;`
//! (`csv.array-element-delimiter`). Flink's csv format has no MAP.

use arrow_array::{Array, RecordBatch};
use base64::Engine;

use super::cell::{Cell, cell_at, write_separated};
use super::text::{iso_date, sql_time, sql_timestamp};

/// How fields are separated and NULL is written.
#[derive(Debug, Clone)]
pub struct CsvEncoding {
    pub field_delimiter: char,
    pub null_literal: Option<String>,
}

impl Default for CsvEncoding {
    fn default() -> Self {
        CsvEncoding {
            field_delimiter: ',',
            null_literal: None,
        }
    }
}

/// Flink's `csv.array-element-delimiter` default.
const ARRAY_ELEMENT_DELIMITER: &str = ";";

impl CsvEncoding {
    /// Appends every row of `batch` as a line.
    pub fn write_batch(&self, batch: &RecordBatch, out: &mut String) -> Result<(), String> {
        let mut field = String::new();
        for row in 0..batch.num_rows() {
            for (i, column) in batch.columns().iter().enumerate() {
                if i > 0 {
                    out.push(self.field_delimiter);
                }
                if column.is_null(row) {
                    out.push_str(self.null_literal.as_deref().unwrap_or(""));
                    continue;
                }
                field.clear();
                write_value(column.as_ref(), row, &mut field)?;
                self.write_quoted(&field, out);
            }
            out.push('\n');
        }
        Ok(())
    }

    fn write_quoted(&self, field: &str, out: &mut String) {
        let needs_quotes = field
            .chars()
            .any(|c| c == self.field_delimiter || c == '"' || c == '\n' || c == '\r');
        if needs_quotes {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
}

fn write_value(array: &dyn Array, row: usize, out: &mut String) -> Result<(), String> {
    let cell = cell_at(array, row)?;
    if cell.write_scalar(out) {
        return Ok(());
    }
    match cell {
        Cell::Null => {}
        Cell::Boolean(_)
        | Cell::Integer(_)
        | Cell::Unsigned(_)
        | Cell::Float(_)
        | Cell::Double(_)
        | Cell::Decimal(_)
        | Cell::Text(_) => {}
        Cell::Bytes(bytes) => {
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
        }
        Cell::Date(d) => iso_date(&d, out),
        Cell::Time(t) => sql_time(&t, out),
        Cell::Timestamp { value, local_zone } => sql_timestamp(&value, local_zone, out),
        Cell::List(elements) => {
            write_separated(out, elements.len(), ARRAY_ELEMENT_DELIMITER, |i, out| {
                write_value(elements.as_ref(), i, out)
            })?;
        }
        Cell::Row(fields, at) => {
            let columns = fields.columns();
            write_separated(out, columns.len(), ARRAY_ELEMENT_DELIMITER, |i, out| {
                write_value(columns[i].as_ref(), at, out)
            })?;
        }
        Cell::Map(..) => return Err("the csv format cannot write MAP values".into()),
    }
    Ok(())
}
