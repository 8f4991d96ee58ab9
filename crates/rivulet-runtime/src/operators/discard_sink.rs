//! A sink that drops every row (Flink's `DiscardingSink`, SQL's `blackhole`).

use arrow_array::RecordBatch;
use serde::{Deserialize, Serialize};

use super::{Operator, name_or};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DiscardSinkSpec {
    #[serde(default)]
    pub name: Option<String>,
}

impl DiscardSinkSpec {
    pub fn name(&self) -> String {
        name_or(&self.name, "discard")
    }
}

pub struct DiscardSink;

impl Operator for DiscardSink {
    fn process_batch(&mut self, _batch: RecordBatch, _out: &mut Vec<RecordBatch>) -> Result<()> {
        Ok(())
    }
}
