//! Reading Flink's `csv` format: records split by `csv.field-delimiter`,
//! `"` quoting, lines starting with `#` skipped with `csv.allow-comments`,
//! `csv.null-literal` read as NULL. An empty field is NULL except in a
//! STRING column. A record with the wrong number of fields or a value that
//! does not read fails the job, or with `csv.ignore-parse-errors` gives
//! NULL for what is missing or unreadable, as Flink does.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch, StringArray};
use arrow_schema::{DataType, SchemaRef};

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

/// Per output column the records' texts, and each record's line number.
type Texts = (Vec<Vec<Option<String>>>, Vec<u64>);

pub struct CsvFileReader {
    records: csv::StringRecordsIntoIter<BufReader<File>>,
    path: String,
    /// The table's column count, for Flink's row-length check.
    arity: usize,
    /// For each output column, its index in a record.
    projection: Vec<usize>,
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
        let file = File::open(path).map_err(|e| e.to_string())?;
        let records = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(decoding.field_delimiter as u8)
            .comment(decoding.allow_comments.then_some(b'#'))
            .from_reader(BufReader::new(file))
            .into_records();
        Ok(CsvFileReader {
            records,
            path: path.display().to_string(),
            arity,
            projection,
            output,
            decoding,
            batch_size: batch_size.max(1),
        })
    }

    fn fail(&self, line: u64, message: impl std::fmt::Display) -> String {
        format!(
            "Failed to deserialize CSV row in {} at line {line}: {message}",
            self.path
        )
    }

    /// The next up to `batch_size` records as text, with their line numbers.
    fn next_texts(&mut self) -> Result<Texts, String> {
        let mut columns = vec![Vec::new(); self.projection.len()];
        let mut lines = Vec::new();
        while lines.len() < self.batch_size {
            let Some(record) = self.records.next() else {
                break;
            };
            let record = match record {
                Ok(record) => record,
                Err(e) if self.decoding.ignore_parse_errors => {
                    tracing::debug!("skipping an unreadable csv record: {e}");
                    continue;
                }
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    return Err(self.fail(line, e));
                }
            };
            let line = record.position().map_or(0, |p| p.line());
            if record.len() != self.arity && !self.decoding.ignore_parse_errors {
                return Err(self.fail(
                    line,
                    format!(
                        "Row length mismatch. {} fields expected but was {}.",
                        self.arity,
                        record.len()
                    ),
                ));
            }
            for (column, index) in columns.iter_mut().zip(&self.projection) {
                let value = record
                    .get(*index)
                    .filter(|v| self.decoding.null_literal.as_deref() != Some(*v));
                column.push(value.map(str::to_string));
            }
            lines.push(line);
        }
        Ok((columns, lines))
    }

    fn convert(
        &self,
        texts: Vec<Option<String>>,
        data_type: &DataType,
        name: &str,
        lines: &[u64],
    ) -> Result<ArrayRef, String> {
        if matches!(
            data_type,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        ) {
            let strings = Arc::new(StringArray::from(texts)) as ArrayRef;
            return arrow_cast::cast(&strings, data_type).map_err(|e| e.to_string());
        }
        // Numbers and the like are trimmed, and empty means NULL.
        let trimmed: Vec<Option<String>> = texts
            .into_iter()
            .map(|t| t.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()))
            .collect();
        if *data_type == DataType::Boolean {
            // Java's Boolean.parseBoolean: anything but "true" is false.
            let values: BooleanArray = trimmed
                .iter()
                .map(|t| t.as_ref().map(|t| t.eq_ignore_ascii_case("true")))
                .collect();
            return Ok(Arc::new(values));
        }
        let strings = Arc::new(StringArray::from(trimmed)) as ArrayRef;
        let options = arrow_cast::CastOptions {
            safe: true,
            ..Default::default()
        };
        let values = arrow_cast::cast_with_options(&strings, data_type, &options)
            .map_err(|e| e.to_string())?;
        // A text that did not become a value is an error unless errors are ignored.
        let unreadable = (0..strings.len()).find(|&r| strings.is_valid(r) && values.is_null(r));
        if let (Some(row), false) = (unreadable, self.decoding.ignore_parse_errors) {
            let text = strings
                .as_any()
                .downcast_ref::<StringArray>()
                .map_or("", |s| s.value(row));
            return Err(self.fail(
                lines.get(row).copied().unwrap_or_default(),
                format!("cannot read '{text}' as {data_type} for field '{name}'"),
            ));
        }
        Ok(values)
    }
}

impl Iterator for CsvFileReader {
    type Item = Result<RecordBatch, String>;

    fn next(&mut self) -> Option<Self::Item> {
        let (columns, lines) = match self.next_texts() {
            Ok(read) => read,
            Err(e) => return Some(Err(e)),
        };
        if lines.is_empty() {
            return None;
        }
        let output = self.output.clone();
        let arrays = columns
            .into_iter()
            .zip(output.fields())
            .map(|(texts, field)| self.convert(texts, field.data_type(), field.name(), &lines))
            .collect::<Result<Vec<_>, String>>();
        Some(arrays.and_then(|arrays| {
            let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(lines.len()));
            RecordBatch::try_new_with_options(output, arrays, &options).map_err(|e| e.to_string())
        }))
    }
}
