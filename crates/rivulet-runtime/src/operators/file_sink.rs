//! The `filesystem` connector as a sink: each subtask writes one part file
//! in Flink's naming, `part-<uuid>-<subtask>-0.<format>`, first as a hidden
//! `.part-….inprogress` file renamed when its input ends, so a visible part
//! file is a complete one. Rows are encoded by [`crate::formats`]: csv and
//! json as lines, parquet as one file with the sink's schema.

use std::io::Write;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use serde::{Deserialize, Serialize};

use super::{Operator, SubtaskContext, name_or};
use crate::error::{Result, RuntimeError};
use crate::formats::csv_encode::CsvEncoding;
use crate::formats::part_file::PartFile;
use crate::formats::{json_encode, parquet};

/// The formats a filesystem sink writes.
pub const SINK_FORMATS: &[&str] = &["csv", "json", "parquet"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileSinkSpec {
    #[serde(default)]
    pub name: Option<String>,
    /// The output directory; created when missing.
    pub path: String,
    /// `csv`, `json` (JSON lines) or `parquet`.
    #[serde(default = "default_format")]
    pub format: String,
    /// Flink's `csv.field-delimiter`.
    #[serde(default = "default_delimiter")]
    pub field_delimiter: char,
    /// Flink's `csv.null-literal`: how NULL is written (empty by default).
    #[serde(default)]
    pub null_literal: Option<String>,
    /// Flink's `parquet.compression`: the codec parquet files are written
    /// with (`SNAPPY` by default).
    #[serde(default)]
    pub compression: Option<String>,
}

fn default_format() -> String {
    "csv".into()
}

fn default_delimiter() -> char {
    ','
}

impl FileSinkSpec {
    pub fn name(&self) -> String {
        name_or(&self.name, "file")
    }

    pub fn validate(&self) -> Result<()> {
        if !SINK_FORMATS.contains(&self.format.as_str()) {
            return Err(RuntimeError::InvalidJobGraph(format!(
                "file_sink format '{}' is not supported; use one of {}",
                self.format,
                SINK_FORMATS.join(", ")
            )));
        }
        if let Some(codec) = &self.compression {
            if self.format != "parquet" {
                return Err(RuntimeError::InvalidJobGraph(format!(
                    "file_sink 'compression' is for parquet, not {}",
                    self.format
                )));
            }
            parquet::compression(Some(codec)).map_err(RuntimeError::InvalidJobGraph)?;
        }
        if self.path.trim().is_empty() {
            return Err(RuntimeError::InvalidJobGraph(
                "file_sink 'path' must not be empty".into(),
            ));
        }
        Ok(())
    }

    pub(super) fn create(&self, context: &SubtaskContext, input: &SchemaRef) -> FileSink {
        let dir = PathBuf::from(&self.path);
        // Like Flink's part files: a random prefix per writer, then subtask and counter.
        let final_name = format!(
            "part-{}-{}-0.{}",
            uuid::Uuid::new_v4(),
            context.subtask_index,
            self.format
        );
        FileSink {
            in_progress: dir.join(format!(".{final_name}.inprogress")),
            finished: dir.join(final_name),
            dir,
            writer: None,
            spec: self.clone(),
            schema: input.clone(),
            name: self.name(),
        }
    }
}

/// An open part file.
enum PartWriter {
    /// csv or json: text lines, encoded a batch at a time.
    Lines(PartFile),
    Parquet(parquet::ParquetFileWriter<PartFile>),
}

pub struct FileSink {
    dir: PathBuf,
    in_progress: PathBuf,
    finished: PathBuf,
    writer: Option<PartWriter>,
    spec: FileSinkSpec,
    schema: SchemaRef,
    name: String,
}

impl FileSink {
    fn io_error(&self, path: &Path, source: std::io::Error) -> RuntimeError {
        RuntimeError::Io {
            operator: self.name.clone(),
            path: path.display().to_string(),
            source,
        }
    }

    fn failed(&self, message: impl Into<String>) -> RuntimeError {
        RuntimeError::Operator {
            operator: self.name.clone(),
            message: message.into(),
        }
    }
}

/// A batch as csv or json lines.
fn encode_lines(spec: &FileSinkSpec, batch: &RecordBatch) -> std::result::Result<String, String> {
    let mut text = String::new();
    match spec.format.as_str() {
        "json" => json_encode::write_batch(batch, &mut text)?,
        _ => CsvEncoding {
            field_delimiter: spec.field_delimiter,
            null_literal: spec.null_literal.clone(),
        }
        .write_batch(batch, &mut text)?,
    }
    Ok(text)
}

impl Operator for FileSink {
    fn open(&mut self) -> Result<()> {
        std::fs::create_dir_all(&self.dir).map_err(|e| self.io_error(&self.dir, e))?;
        let file =
            PartFile::create(&self.in_progress).map_err(|e| self.io_error(&self.in_progress, e))?;
        self.writer = Some(if self.spec.format == "parquet" {
            let compression = parquet::compression(self.spec.compression.as_deref())
                .map_err(|m| self.failed(m))?;
            PartWriter::Parquet(
                parquet::writer(file, &self.schema, compression).map_err(|m| self.failed(m))?,
            )
        } else {
            PartWriter::Lines(file)
        });
        Ok(())
    }

    fn process_batch(&mut self, batch: RecordBatch, _out: &mut Vec<RecordBatch>) -> Result<()> {
        let failed = |message: String| RuntimeError::Operator {
            operator: self.name.clone(),
            message,
        };
        match self.writer.as_mut() {
            Some(PartWriter::Lines(file)) => {
                let text = encode_lines(&self.spec, &batch).map_err(failed)?;
                file.write_all(text.as_bytes())
                    .map_err(|source| RuntimeError::Io {
                        operator: self.name.clone(),
                        path: self.in_progress.display().to_string(),
                        source,
                    })
            }
            Some(PartWriter::Parquet(writer)) => {
                // The file has the sink's schema; a batch has the same columns,
                // possibly under other names or nullability.
                let batch = RecordBatch::try_new(self.schema.clone(), batch.columns().to_vec())
                    .map_err(|e| failed(e.to_string()))?;
                writer.write(&batch).map_err(failed)
            }
            None => Err(failed("written before it was opened".into())),
        }
    }

    fn finish(&mut self, _out: &mut Vec<RecordBatch>) -> Result<()> {
        let file = match self.writer.take() {
            Some(PartWriter::Lines(file)) => Some(file),
            // The footer goes into the file before the file is finished.
            Some(PartWriter::Parquet(writer)) => {
                Some(writer.into_inner().map_err(|m| self.failed(m))?)
            }
            None => None,
        };
        if let Some(file) = file {
            file.finish()
                .map_err(|e| self.io_error(&self.in_progress, e))?;
        }
        std::fs::rename(&self.in_progress, &self.finished)
            .map_err(|e| self.io_error(&self.finished, e))
    }
}
