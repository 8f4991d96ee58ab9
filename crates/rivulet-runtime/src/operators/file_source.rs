//! The `filesystem` connector as a source: CSV or JSON-lines files, one file
//! or every visible file of a directory, split across subtasks (file `j` goes
//! to subtask `j % parallelism`), read as Arrow batches of the table's schema.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, Schema, SchemaRef};
use serde::{Deserialize, Serialize};

use super::{SourceFunction, SourcePoll, SubtaskContext, name_or};
use crate::error::{Result, RuntimeError};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileSourceSpec {
    #[serde(default)]
    pub name: Option<String>,
    /// A file, or a directory whose visible files are read.
    pub path: String,
    /// `csv` or `json` (JSON lines).
    pub format: String,
    /// The file's columns, in order.
    pub schema: Schema,
    /// The columns the query reads (indices into `schema`); all when absent.
    #[serde(default)]
    pub projection: Option<Vec<usize>>,
    /// Flink's `csv.field-delimiter`.
    #[serde(default = "default_delimiter")]
    pub field_delimiter: char,
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
}

fn default_delimiter() -> char {
    ','
}

fn default_batch_size() -> usize {
    8192
}

type BatchReader = Box<dyn Iterator<Item = std::result::Result<RecordBatch, ArrowError>> + Send>;

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
        self.output_schema()?;
        if !matches!(self.format.as_str(), "csv" | "json") {
            return Err(RuntimeError::InvalidJobGraph(format!(
                "filesystem source format '{}' is not supported; use 'csv' or 'json'",
                self.format
            )));
        }
        if !self.field_delimiter.is_ascii() {
            return Err(RuntimeError::InvalidJobGraph(
                "csv.field-delimiter must be a single ASCII character".into(),
            ));
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
            schema: Arc::new(self.schema.clone()),
            output: self.output_schema()?,
            pending: mine,
            current: None,
        })
    }
}

pub struct FileSource {
    spec: FileSourceSpec,
    schema: SchemaRef,
    output: SchemaRef,
    /// Files still to read, last first.
    pending: Vec<PathBuf>,
    current: Option<(PathBuf, BatchReader)>,
}

impl FileSource {
    fn open(&self, path: &PathBuf) -> Result<BatchReader> {
        let file = File::open(path).map_err(|source| RuntimeError::Io {
            operator: self.spec.name(),
            path: path.display().to_string(),
            source,
        })?;
        let arrow = |source| RuntimeError::Arrow {
            operator: self.spec.name(),
            source,
        };
        Ok(match self.spec.format.as_str() {
            "csv" => {
                let mut builder = arrow_csv::ReaderBuilder::new(self.schema.clone());
                if let Some(projection) = &self.spec.projection {
                    builder = builder.with_projection(projection.clone());
                }
                Box::new(
                    builder
                        .with_header(false)
                        .with_delimiter(self.spec.field_delimiter as u8)
                        .with_batch_size(self.spec.batch_size)
                        .build(file)
                        .map_err(arrow)?,
                )
            }
            _ => Box::new(
                arrow_json::ReaderBuilder::new(self.output.clone())
                    .with_batch_size(self.spec.batch_size)
                    .build(BufReader::new(file))
                    .map_err(arrow)?,
            ),
        })
    }
}

impl SourceFunction for FileSource {
    fn poll_next(&mut self) -> Result<SourcePoll> {
        loop {
            if let Some((path, reader)) = self.current.as_mut() {
                match reader.next() {
                    Some(Ok(batch)) => return Ok(SourcePoll::Batch(batch)),
                    Some(Err(e)) => {
                        return Err(RuntimeError::Operator {
                            operator: self.spec.name(),
                            message: format!(
                                "cannot parse {} as {}: {e}",
                                path.display(),
                                self.spec.format
                            ),
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
