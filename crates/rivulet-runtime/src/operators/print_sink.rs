//! A sink that prints rows to the TaskManager's stdout in Flink's format:
//! `+I[v1, v2]` with values as Java shows them (see
//! [`crate::formats::row_string`]), prefixed by `identifier> ` and, when
//! parallel, by the 1-based subtask number (`identifier:2> ` or `2> `).

use std::io::Write;

use arrow_array::RecordBatch;
use serde::{Deserialize, Serialize};

use super::{Operator, SubtaskContext, name_or};
use crate::error::{Result, RuntimeError};
use crate::formats::row_string::write_rows;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrintSinkSpec {
    #[serde(default)]
    pub name: Option<String>,
    /// Flink's `print-identifier`.
    #[serde(default)]
    pub identifier: Option<String>,
}

impl PrintSinkSpec {
    pub fn name(&self) -> String {
        name_or(&self.name, "print")
    }

    pub(super) fn create(&self, context: &SubtaskContext) -> PrintSink {
        let subtask = context.subtask_index + 1;
        let prefix = match (&self.identifier, context.parallelism > 1) {
            (Some(id), true) => format!("{id}:{subtask}> "),
            (Some(id), false) => format!("{id}> "),
            (None, true) => format!("{subtask}> "),
            (None, false) => String::new(),
        };
        PrintSink {
            prefix,
            name: self.name(),
        }
    }
}

pub struct PrintSink {
    prefix: String,
    name: String,
}

impl Operator for PrintSink {
    fn process_batch(&mut self, batch: RecordBatch, _out: &mut Vec<RecordBatch>) -> Result<()> {
        let mut text = String::new();
        write_rows(&batch, &self.prefix, &mut text).map_err(|message| RuntimeError::Operator {
            operator: self.name.clone(),
            message,
        })?;
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
        lock.write_all(text.as_bytes())
            .and_then(|_| lock.flush())
            .map_err(|source| RuntimeError::Io {
                operator: self.name.clone(),
                path: "stdout".into(),
                source,
            })
    }
}
