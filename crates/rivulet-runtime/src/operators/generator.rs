//! A generator source: a sequence of rows `(id BIGINT, key BIGINT)` with
//! `key = id % keys`, optionally bounded by `count` and paced by `rate`
//! (rows per second over all subtasks). Parallel subtasks split the sequence:
//! subtask `i` of `p` emits the ids `i, i + p, i + 2p, …`.

use std::sync::Arc;

use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use serde::{Deserialize, Serialize};

use super::pacing::{Allowance, RowBudget};
use super::{SourceFunction, SourcePoll, SubtaskContext, name_or};
use crate::error::{Result, RuntimeError};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeneratorSpec {
    #[serde(default)]
    pub name: Option<String>,
    /// Total rows over all subtasks; unbounded when absent.
    #[serde(default)]
    pub count: Option<u64>,
    /// Rows per second over all subtasks; as fast as possible when absent.
    #[serde(default)]
    pub rate: Option<f64>,
    /// Number of distinct keys.
    #[serde(default = "default_keys")]
    pub keys: u64,
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
}

fn default_keys() -> u64 {
    100
}

fn default_batch_size() -> usize {
    1024
}

impl GeneratorSpec {
    pub fn name(&self) -> String {
        name_or(&self.name, "generator")
    }

    pub fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("key", DataType::Int64, false),
        ]))
    }

    pub fn validate(&self) -> Result<()> {
        if self.keys == 0 {
            return Err(RuntimeError::InvalidJobGraph(
                "generator 'keys' must be at least 1".into(),
            ));
        }
        if self.batch_size == 0 {
            return Err(RuntimeError::InvalidJobGraph(
                "generator 'batchSize' must be at least 1".into(),
            ));
        }
        if let Some(rate) = self.rate
            && !(rate.is_finite() && rate > 0.0)
        {
            return Err(RuntimeError::InvalidJobGraph(format!(
                "generator 'rate' must be a positive number, got {rate}"
            )));
        }
        Ok(())
    }

    pub(super) fn create(&self, context: &SubtaskContext) -> Generator {
        let p = context.parallelism.max(1) as u64;
        let i = context.subtask_index as u64;
        let rows_for_subtask = self.count.map(|count| {
            if count > i {
                (count - i).div_ceil(p)
            } else {
                0
            }
        });
        Generator {
            first_id: i,
            stride: p,
            keys: self.keys,
            budget: RowBudget::new(rows_for_subtask, self.rate.map(|r| r / p as f64)),
            batch_size: self.batch_size,
            emitted: 0,
            schema: Self::schema(),
        }
    }
}

pub struct Generator {
    first_id: u64,
    stride: u64,
    keys: u64,
    budget: RowBudget,
    batch_size: usize,
    emitted: u64,
    schema: SchemaRef,
}

impl SourceFunction for Generator {
    fn poll_next(&mut self) -> Result<SourcePoll> {
        let rows = match self.budget.next(self.emitted, self.batch_size as u64) {
            Allowance::End => return Ok(SourcePoll::End),
            Allowance::Wait(wait) => return Ok(SourcePoll::Idle(wait)),
            Allowance::Rows(rows) => rows,
        };
        let ids: Vec<i64> = (self.emitted..self.emitted + rows)
            .map(|n| (self.first_id + n * self.stride) as i64)
            .collect();
        let keys: Vec<i64> = ids.iter().map(|id| id % self.keys as i64).collect();
        self.emitted += rows;
        let batch = RecordBatch::try_new(
            self.schema.clone(),
            vec![
                Arc::new(Int64Array::from(ids)),
                Arc::new(Int64Array::from(keys)),
            ],
        )
        .map_err(|source| RuntimeError::Arrow {
            operator: "generator".into(),
            source,
        })?;
        Ok(SourcePoll::Batch(batch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;

    fn drain(spec: &GeneratorSpec, subtask: u32, parallelism: u32) -> Vec<i64> {
        let context = SubtaskContext {
            task_name: "t".into(),
            subtask_index: subtask,
            parallelism,
            max_parallelism: 128,
        };
        let mut generator = spec.create(&context);
        let mut ids = Vec::new();
        loop {
            match generator.poll_next().unwrap() {
                SourcePoll::Batch(b) => {
                    ids.extend(b.column(0).as_primitive::<Int64Type>().values())
                }
                SourcePoll::Idle(_) => continue,
                SourcePoll::End => return ids,
            }
        }
    }

    #[test]
    fn parallel_subtasks_split_the_sequence_without_overlap() {
        let spec: GeneratorSpec =
            serde_json::from_str(r#"{"count": 1003, "batchSize": 100}"#).unwrap();
        let mut all: Vec<i64> = (0..4).flat_map(|i| drain(&spec, i, 4)).collect();
        all.sort();
        assert_eq!(all, (0..1003).collect::<Vec<i64>>());
    }
}
