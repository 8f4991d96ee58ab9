//! Reading Flink's `csv` format: records split by `csv.field-delimiter`,
//! `"` quoting, lines starting with `#` skipped with `csv.allow-comments`,
//! `csv.null-literal` read as NULL. An empty field is NULL except in a
//! STRING column. A record with the wrong number of fields or a value that
//! does not read fails the job, or with `csv.ignore-parse-errors` gives
//! NULL for what is missing or unreadable, as Flink does.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, SchemaRef};

use super::csv_columns::{CsvColumn, Finished};
use super::csv_records::CsvRecords;

/// What a csv source reads besides its schema.
#[derive(Debug, Clone, Default)]
pub struct CsvDecoding {
    pub field_delimiter: char,
    pub allow_comments: bool,
    pub ignore_parse_errors: bool,
    pub null_literal: Option<String>,
}

/// Whether a csv source can read columns of this type (Rivulet reads no
/// ARRAY or ROW from csv yet).
pub fn readable(data_type: &DataType) -> bool {
    !data_type.is_nested()
}

fn is_text(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

pub struct CsvFileReader {
    records: CsvRecords,
    path: String,
    /// The table's column count, for Flink's row-length check.
    arity: usize,
    /// For each output column, its index in a record.
    projection: Vec<usize>,
    /// For each output column, whether its text is trimmed (all but STRING).
    trimmed: Vec<bool>,
    output: SchemaRef,
    decoding: CsvDecoding,
    batch_size: usize,
}

impl CsvFileReader {
    pub fn open(
        path: &Path,
        arity: usize,
        projection: Vec<usize>,
        output: SchemaRef,
        decoding: CsvDecoding,
        batch_size: usize,
    ) -> Result<Self, String> {
        let records = CsvRecords::open(
            path,
            decoding.field_delimiter as u8,
            decoding.allow_comments,
        )?;
        let trimmed = output
            .fields()
            .iter()
            .map(|f| !is_text(f.data_type()))
            .collect();
        Ok(CsvFileReader {
            records,
            path: path.display().to_string(),
            arity,
            projection,
            trimmed,
            output,
            decoding,
            batch_size: batch_size.max(1),
        })
    }

    /// The next up to `batch_size` records, each field parsed into its
    /// column (STRING columns as they are, others trimmed with empty as
    /// NULL), with each record's line number.
    fn next_rows(&mut self) -> Result<(Vec<CsvColumn>, Vec<u64>), String> {
        let mut columns: Vec<CsvColumn> = self
            .output
            .fields()
            .iter()
            .map(|field| CsvColumn::new(field.data_type(), self.batch_size))
            .collect();
        let mut lines = Vec::with_capacity(self.batch_size);
        while lines.len() < self.batch_size {
            let record = match self.records.next_record() {
                Ok(Some(record)) => record,
                Ok(None) => break,
                Err(e) if e.skippable && self.decoding.ignore_parse_errors => {
                    tracing::debug!("skipping an unreadable csv record: {}", e.message);
                    continue;
                }
                Err(e) => return Err(fail(&self.path, e.line, e.message)),
            };
            let line = record.line;
            if record.len() != self.arity && !self.decoding.ignore_parse_errors {
                return Err(fail(
                    &self.path,
                    line,
                    format!(
                        "Row length mismatch. {} fields expected but was {}.",
                        self.arity,
                        record.len()
                    ),
                ));
            }
            let null_literal = self.decoding.null_literal.as_deref();
            for (((column, index), trimmed), field) in columns
                .iter_mut()
                .zip(&self.projection)
                .zip(&self.trimmed)
                .zip(self.output.fields())
            {
                let value = record
                    .get(*index)
                    .filter(|v| null_literal != Some(*v))
                    .map(|v| if *trimmed { v.trim() } else { v })
                    .filter(|v| !*trimmed || !v.is_empty());
                if column.append(value).is_err() {
                    if !self.decoding.ignore_parse_errors {
                        return Err(fail(
                            &self.path,
                            line,
                            format!(
                                "cannot read '{}' as {} for field '{}'",
                                value.unwrap_or_default(),
                                field.data_type(),
                                field.name()
                            ),
                        ));
                    }
                    column.append_null();
                }
            }
            lines.push(line);
        }
        Ok((columns, lines))
    }

    fn convert(
        &self,
        strings: StringArray,
        data_type: &DataType,
        name: &str,
        lines: &[u64],
    ) -> Result<ArrayRef, String> {
        if is_text(data_type) {
            let strings = Arc::new(strings) as ArrayRef;
            if strings.data_type() == data_type {
                return Ok(strings);
            }
            return arrow_cast::cast(&strings, data_type).map_err(|e| e.to_string());
        }
        // Values and the like were trimmed, and empty read as NULL.
        let strings = Arc::new(strings) as ArrayRef;
        let options = arrow_cast::CastOptions {
            safe: true,
            ..Default::default()
        };
        let values = arrow_cast::cast_with_options(&strings, data_type, &options)
            .map_err(|e| e.to_string())?;
        // A text that did not become a value is an error unless errors are
        // ignored; equal NULL counts mean every text read.
        let unreadable = (values.null_count() != strings.null_count())
            .then(|| (0..strings.len()).find(|&r| strings.is_valid(r) && values.is_null(r)))
            .flatten();
        if let (Some(row), false) = (unreadable, self.decoding.ignore_parse_errors) {
            let text = strings
                .as_any()
                .downcast_ref::<StringArray>()
                .map_or("", |s| s.value(row));
            return Err(fail(
                &self.path,
                lines.get(row).copied().unwrap_or_default(),
                format!("cannot read '{text}' as {data_type} for field '{name}'"),
            ));
        }
        Ok(values)
    }
}

fn fail(path: &str, line: u64, message: impl std::fmt::Display) -> String {
    format!("Failed to deserialize CSV row in {path} at line {line}: {message}")
}

impl Iterator for CsvFileReader {
    type Item = Result<RecordBatch, String>;

    fn next(&mut self) -> Option<Self::Item> {
        let (mut columns, lines) = match self.next_rows() {
            Ok(read) => read,
            Err(e) => return Some(Err(e)),
        };
        if lines.is_empty() {
            return None;
        }
        let output = self.output.clone();
        let arrays = columns
            .iter_mut()
            .zip(output.fields())
            .map(|(column, field)| match column.finish() {
                Finished::Values(values) => Ok(values),
                Finished::Text(texts, data_type) => {
                    self.convert(texts, &data_type, field.name(), &lines)
                }
            })
            .collect::<Result<Vec<_>, String>>();
        Some(arrays.and_then(|arrays| {
            let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(lines.len()));
            RecordBatch::try_new_with_options(output, arrays, &options).map_err(|e| e.to_string())
        }))
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int32Type;
    use arrow_schema::{Field, Schema};

    use super::*;

    #[test]
    fn texts_are_trimmed_for_numbers_kept_for_strings_and_null_literals_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.csv");
        std::fs::write(&path, " 1 , a ,TRUE\n,N/A,no\n3,,\n").unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int32, true),
            Field::new("name", DataType::Utf8View, true),
            Field::new("flag", DataType::Boolean, true),
        ]));
        let decoding = CsvDecoding {
            field_delimiter: ',',
            null_literal: Some("N/A".into()),
            ..Default::default()
        };
        let reader = CsvFileReader::open(&path, 3, vec![0, 1, 2], schema, decoding, 2).unwrap();
        let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>().unwrap();
        assert_eq!(batches.len(), 2);
        let batch = arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap();
        let ids: Vec<Option<i32>> = batch.column(0).as_primitive::<Int32Type>().iter().collect();
        assert_eq!(ids, [Some(1), None, Some(3)]);
        let names: Vec<Option<&str>> = batch.column(1).as_string_view().iter().collect();
        assert_eq!(names, [Some(" a "), None, Some("")]);
        let flags: Vec<Option<bool>> = batch.column(2).as_boolean().iter().collect();
        assert_eq!(flags, [Some(true), Some(false), None]);
    }
}
