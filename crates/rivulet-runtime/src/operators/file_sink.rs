//! A sink that writes CSV part files into a directory. Each subtask writes
//! `.part-<subtask>-0.csv.inprogress` and renames it to `part-<subtask>-0.csv`
//! when its input ends, so a finished file is a complete one. Values are
//! written as Flink's csv format writes them ([`CsvEncoding`]).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use arrow_array::RecordBatch;
use serde::{Deserialize, Serialize};

use super::{Operator, SubtaskContext, name_or};
use crate::error::{Result, RuntimeError};
use crate::formats::csv_encode::CsvEncoding;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileSinkSpec {
    #[serde(default)]
    pub name: Option<String>,
    /// The output directory; created when missing.
    pub path: String,
    /// Only `csv` for now.
    #[serde(default = "default_format")]
    pub format: String,
}

fn default_format() -> String {
    "csv".into()
}

impl FileSinkSpec {
    pub fn name(&self) -> String {
        name_or(&self.name, "file")
    }

    pub fn validate(&self) -> Result<()> {
        if self.format != "csv" {
            return Err(RuntimeError::InvalidJobGraph(format!(
                "file_sink format '{}' is not supported; use 'csv'",
                self.format
            )));
        }
        if self.path.trim().is_empty() {
            return Err(RuntimeError::InvalidJobGraph(
                "file_sink 'path' must not be empty".into(),
            ));
        }
        Ok(())
    }

    pub(super) fn create(&self, context: &SubtaskContext) -> FileSink {
        let dir = PathBuf::from(&self.path);
        let final_name = format!("part-{}-0.csv", context.subtask_index);
        FileSink {
            in_progress: dir.join(format!(".{final_name}.inprogress")),
            finished: dir.join(final_name),
            dir,
            writer: None,
            name: self.name(),
        }
    }
}

pub struct FileSink {
    dir: PathBuf,
    in_progress: PathBuf,
    finished: PathBuf,
    writer: Option<BufWriter<File>>,
    name: String,
}

impl FileSink {
    fn io_error(&self, path: &std::path::Path, source: std::io::Error) -> RuntimeError {
        RuntimeError::Io {
            operator: self.name.clone(),
            path: path.display().to_string(),
            source,
        }
    }
}

impl Operator for FileSink {
    fn open(&mut self) -> Result<()> {
        std::fs::create_dir_all(&self.dir).map_err(|e| self.io_error(&self.dir, e))?;
        let file =
            File::create(&self.in_progress).map_err(|e| self.io_error(&self.in_progress, e))?;
        self.writer = Some(BufWriter::new(file));
        Ok(())
    }

    fn process_batch(&mut self, batch: RecordBatch, _out: &mut Vec<RecordBatch>) -> Result<()> {
        let Some(writer) = self.writer.as_mut() else {
            return Err(RuntimeError::Operator {
                operator: self.name.clone(),
                message: "written before it was opened".into(),
            });
        };
        let mut text = String::new();
        CsvEncoding::default()
            .write_batch(&batch, &mut text)
            .map_err(|message| RuntimeError::Operator {
                operator: self.name.clone(),
                message,
            })?;
        writer
            .write_all(text.as_bytes())
            .map_err(|source| RuntimeError::Io {
                operator: self.name.clone(),
                path: self.in_progress.display().to_string(),
                source,
            })
    }

    fn finish(&mut self, _out: &mut Vec<RecordBatch>) -> Result<()> {
        if let Some(mut writer) = self.writer.take() {
            writer
                .flush()
                .map_err(|e| self.io_error(&self.in_progress, e))?;
        }
        std::fs::rename(&self.in_progress, &self.finished)
            .map_err(|e| self.io_error(&self.finished, e))
    }
}
