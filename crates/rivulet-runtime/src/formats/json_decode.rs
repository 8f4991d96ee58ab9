//! Reading Flink's `json` format: one JSON object per line, fields matched
//! by name, a missing field NULL (or, with `json.fail-on-missing-field`, an
//! error). A line that does not read fails the job naming the file and line,
//! or with `json.ignore-parse-errors` is skipped, as Flink skips it.
//!
//! Lines are decoded a batch at a time; only when a batch fails is it
//! decoded again line by line, to find and name (or skip) the bad lines.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use arrow_array::RecordBatch;
use arrow_json::reader::Decoder;
use arrow_schema::{DataType, Fields, SchemaRef};

/// What a json source reads besides its schema.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonDecoding {
    pub ignore_parse_errors: bool,
    pub fail_on_missing_field: bool,
}

pub struct JsonLinesReader {
    lines: std::io::Lines<BufReader<File>>,
    line_number: u64,
    path: String,
    schema: SchemaRef,
    decoding: JsonDecoding,
    batch_size: usize,
}

impl JsonLinesReader {
    pub fn open(
        path: &Path,
        schema: SchemaRef,
        decoding: JsonDecoding,
        batch_size: usize,
    ) -> Result<Self, String> {
        let file = File::open(path).map_err(|e| e.to_string())?;
        Ok(JsonLinesReader {
            lines: BufReader::new(file).lines(),
            line_number: 0,
            path: path.display().to_string(),
            schema,
            decoding,
            batch_size: batch_size.max(1),
        })
    }

    fn decoder(&self) -> Result<Decoder, String> {
        // One more row than a chunk holds, so a chunk is never cut short.
        arrow_json::ReaderBuilder::new(self.schema.clone())
            .with_batch_size(self.batch_size + 1)
            .build_decoder()
            .map_err(|e| e.to_string())
    }

    fn fail(&self, line: &str, number: u64, cause: impl std::fmt::Display) -> String {
        format!(
            "Failed to deserialize JSON '{line}' in {} at line {number}: {cause}",
            self.path
        )
    }

    /// A line that is not JSON, or lacks a field when fields are required.
    fn check(&self, line: &str) -> Result<(), String> {
        if self.decoding.fail_on_missing_field {
            let value: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
            missing_field(self.schema.fields(), &value)
        } else {
            serde_json::from_str::<serde::de::IgnoredAny>(line)
                .map(drop)
                .map_err(|e| e.to_string())
        }
    }

    /// The next chunk of lines that are JSON, with their line numbers.
    fn next_chunk(&mut self) -> Result<Vec<(u64, String)>, String> {
        let mut chunk = Vec::new();
        while chunk.len() < self.batch_size {
            let Some(line) = self.lines.next() else {
                break;
            };
            self.line_number += 1;
            let line = line.map_err(|e| format!("{}: {e}", self.path))?;
            if line.trim().is_empty() {
                continue;
            }
            match self.check(&line) {
                Ok(()) => chunk.push((self.line_number, line)),
                Err(_) if self.decoding.ignore_parse_errors => {}
                Err(cause) => return Err(self.fail(&line, self.line_number, cause)),
            }
        }
        Ok(chunk)
    }

    fn decode(&self, lines: &[(u64, String)]) -> Result<Option<RecordBatch>, String> {
        let mut decoder = self.decoder()?;
        for (_, line) in lines {
            decoder.decode(line.as_bytes()).map_err(|e| e.to_string())?;
            decoder.decode(b"\n").map_err(|e| e.to_string())?;
        }
        decoder.flush().map_err(|e| e.to_string())
    }

    /// Decodes `lines` one at a time, skipping or naming the ones that fail.
    fn decode_each(&self, lines: &[(u64, String)]) -> Result<Option<RecordBatch>, String> {
        let mut batches = Vec::new();
        for entry in lines {
            match self.decode(std::slice::from_ref(entry)) {
                Ok(batch) => batches.extend(batch),
                Err(_) if self.decoding.ignore_parse_errors => {}
                Err(cause) => return Err(self.fail(&entry.1, entry.0, cause)),
            }
        }
        if batches.is_empty() {
            return Ok(None);
        }
        arrow_select::concat::concat_batches(&self.schema, &batches)
            .map(Some)
            .map_err(|e| e.to_string())
    }
}

/// Flink's missing-field error for the first field `value` lacks, nested
/// rows included.
fn missing_field(fields: &Fields, value: &serde_json::Value) -> Result<(), String> {
    let Some(object) = value.as_object() else {
        return Ok(());
    };
    for field in fields {
        match object.get(field.name()) {
            None => {
                return Err(format!(
                    "Could not find field with name '{}'.",
                    field.name()
                ));
            }
            Some(nested) => {
                if let DataType::Struct(children) = field.data_type() {
                    missing_field(children, nested)?;
                }
            }
        }
    }
    Ok(())
}

impl Iterator for JsonLinesReader {
    type Item = Result<RecordBatch, String>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let chunk = match self.next_chunk() {
                Ok(chunk) => chunk,
                Err(e) => return Some(Err(e)),
            };
            if chunk.is_empty() {
                return None;
            }
            let decoded = self.decode(&chunk).or_else(|_| self.decode_each(&chunk));
            match decoded {
                Ok(Some(batch)) => return Some(Ok(batch)),
                // Every line of the chunk was skipped; read on.
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}
