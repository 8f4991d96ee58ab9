//! The `filesystem` connector as a source: csv, JSON-lines or parquet files,
//! one file or every visible file of a directory, split across subtasks
//! (file `j` goes to subtask `j % parallelism`), read as Arrow batches of the
//! table's schema by the readers in [`crate::formats`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{Schema, SchemaRef};
use serde::{Deserialize, Serialize};

use super::{SourceFunction, SourcePoll, SubtaskContext, name_or};
use crate::error::{Result, RuntimeError};
use crate::formats::csv_decode::{self, CsvDecoding, CsvFileReader};
use crate::formats::json_decode::{JsonDecoding, JsonLinesReader};
use crate::formats::parquet::ParquetFileReader;

/// The formats a filesystem source reads.
pub const SOURCE_FORMATS: &[&str] = &["csv", "json", "parquet"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileSourceSpec {
    #[serde(default)]
    pub name: Option<String>,
    /// A file, or a directory whose visible files are read.
    pub path: String,
    /// `csv`, `json` (JSON lines) or `parquet`.
    pub format: String,
    /// The file's columns, in order.
    pub schema: Schema,
    /// The columns the query reads (indices into `schema`); all when absent.
    #[serde(default)]
    pub projection: Option<Vec<usize>>,
    /// Flink's `csv.field-delimiter`.
    #[serde(default = "default_delimiter")]
    pub field_delimiter: char,
    /// Flink's `csv.allow-comments`: lines starting with `#` are skipped.
    #[serde(default)]
    pub allow_comments: bool,
    /// Flink's `csv.null-literal`: this text reads as NULL.
    #[serde(default)]
    pub null_literal: Option<String>,
    /// Flink's `csv.ignore-parse-errors` / `json.ignore-parse-errors`.
    #[serde(default)]
    pub ignore_parse_errors: bool,
    /// Flink's `json.fail-on-missing-field`.
    #[serde(default)]
    pub fail_on_missing_field: bool,
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
}

fn default_delimiter() -> char {
    ','
}

fn default_batch_size() -> usize {
    8192
}

type BatchReader = Box<dyn Iterator<Item = std::result::Result<RecordBatch, String>> + Send>;

impl FileSourceSpec {
    pub fn name(&self) -> String {
        name_or(&self.name, "filesystem")
    }

    /// The columns this source emits.
    pub fn output_schema(&self) -> Result<SchemaRef> {
        match &self.projection {
            None => Ok(Arc::new(self.schema.clone())),
            Some(indices) => self
                .schema
                .project(indices)
                .map(Arc::new)
                .map_err(|source| RuntimeError::Arrow {
                    operator: self.name(),
                    source,
                }),
        }
    }

    pub fn validate(&self) -> Result<()> {
        let output = self.output_schema()?;
        if !SOURCE_FORMATS.contains(&self.format.as_str()) {
            return Err(RuntimeError::InvalidJobGraph(format!(
                "filesystem source format '{}' is not supported; use one of {}",
                self.format,
                SOURCE_FORMATS.join(", ")
            )));
        }
        if !self.field_delimiter.is_ascii() {
            return Err(RuntimeError::InvalidJobGraph(
                "csv.field-delimiter must be a single ASCII character".into(),
            ));
        }
        let unreadable = output
            .fields()
            .iter()
            .find(|f| !csv_decode::readable(f.data_type()));
        if let (Some(field), "csv") = (unreadable, self.format.as_str()) {
            return Err(RuntimeError::InvalidJobGraph(format!(
                "the csv source cannot read column '{}' of type {}",
                field.name(),
                field.data_type()
            )));
        }
        Ok(())
    }

    /// The files this source reads, in a stable order.
    pub fn files(&self) -> Result<Vec<PathBuf>> {
        let path = PathBuf::from(&self.path);
        let io = |source| RuntimeError::Io {
            operator: self.name(),
            path: self.path.clone(),
            source,
        };
        if !path.is_dir() {
            return Ok(vec![path]);
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| !n.starts_with('.') && !n.starts_with('_'))
            })
            .collect();
        files.sort();
        Ok(files)
    }

    pub(super) fn create(&self, context: &SubtaskContext) -> Result<FileSource> {
        let parallelism = context.parallelism.max(1) as usize;
        let mine = self
            .files()?
            .into_iter()
            .enumerate()
            .filter(|(j, _)| j % parallelism == context.subtask_index as usize)
            .map(|(_, f)| f)
            .rev()
            .collect();
        Ok(FileSource {
            spec: self.clone(),
            output: self.output_schema()?,
            pending: mine,
            current: None,
        })
    }
}

pub struct FileSource {
    spec: FileSourceSpec,
    output: SchemaRef,
    /// Files still to read, last first.
    pending: Vec<PathBuf>,
    current: Option<(PathBuf, BatchReader)>,
}

impl FileSource {
    fn open(&self, path: &Path) -> Result<BatchReader> {
        let spec = &self.spec;
        let opened: std::result::Result<BatchReader, String> = match spec.format.as_str() {
            "csv" => {
                let projection = spec
                    .projection
                    .clone()
                    .unwrap_or_else(|| (0..spec.schema.fields().len()).collect());
                let decoding = CsvDecoding {
                    field_delimiter: spec.field_delimiter,
                    allow_comments: spec.allow_comments,
                    ignore_parse_errors: spec.ignore_parse_errors,
                    null_literal: spec.null_literal.clone(),
                };
                CsvFileReader::open(
                    path,
                    spec.schema.fields().len(),
                    projection,
                    self.output.clone(),
                    decoding,
                    spec.batch_size,
                )
                .map(|r| Box::new(r) as BatchReader)
            }
            "parquet" => ParquetFileReader::open(path, self.output.clone(), spec.batch_size)
                .map(|r| Box::new(r) as BatchReader),
            _ => {
                let decoding = JsonDecoding {
                    ignore_parse_errors: spec.ignore_parse_errors,
                    fail_on_missing_field: spec.fail_on_missing_field,
                };
                JsonLinesReader::open(path, self.output.clone(), decoding, spec.batch_size)
                    .map(|r| Box::new(r) as BatchReader)
            }
        };
        opened.map_err(|message| RuntimeError::Operator {
            operator: spec.name(),
            message: format!(
                "cannot read {} as {}: {message}",
                path.display(),
                spec.format
            ),
        })
    }
}

impl SourceFunction for FileSource {
    fn poll_next(&mut self) -> Result<SourcePoll> {
        loop {
            if let Some((_, reader)) = self.current.as_mut() {
                match reader.next() {
                    Some(Ok(batch)) => return Ok(SourcePoll::Batch(batch)),
                    // Readers name the file (and line) in their errors.
                    Some(Err(message)) => {
                        return Err(RuntimeError::Operator {
                            operator: self.spec.name(),
                            message,
                        });
                    }
                    None => self.current = None,
                }
            }
            let Some(next) = self.pending.pop() else {
                return Ok(SourcePoll::End);
            };
            let reader = self.open(&next)?;
            self.current = Some((next, reader));
        }
    }
}
