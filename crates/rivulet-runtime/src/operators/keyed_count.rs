//! A keyed running count: for every input row it emits `(key, count)` where
//! `count` is how many rows with that key this subtask has seen so far, as a
//! rolling `keyBy(...).sum(...)` does in Flink. Its input must be hash-partitioned
//! on the key so each key lives in exactly one subtask.

use hashbrown::HashMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use serde::{Deserialize, Serialize};

use super::{Operator, name_or};
use crate::error::{Result, RuntimeError};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyedCountSpec {
    #[serde(default)]
    pub name: Option<String>,
    /// The column to group by (BIGINT or STRING).
    pub key: String,
}

impl KeyedCountSpec {
    pub fn name(&self) -> String {
        name_or(&self.name, "keyed-count")
    }

    fn key_field(&self, input: &SchemaRef) -> Result<(usize, Field)> {
        let index = input.index_of(&self.key).map_err(|_| {
            RuntimeError::InvalidJobGraph(format!(
                "keyed_count key column '{}' is not in the input columns [{}]",
                self.key,
                column_names(input)
            ))
        })?;
        let field = input.field(index).clone();
        match field.data_type() {
            DataType::Int64 | DataType::Utf8 => Ok((index, field)),
            other => Err(RuntimeError::InvalidJobGraph(format!(
                "keyed_count key column '{}' has type {other}; BIGINT or STRING is supported",
                self.key
            ))),
        }
    }

    pub fn output_schema(&self, input: &SchemaRef) -> Result<SchemaRef> {
        let (_, field) = self.key_field(input)?;
        Ok(Arc::new(Schema::new(vec![
            field,
            Field::new("count", DataType::Int64, false),
        ])))
    }

    pub(super) fn create(&self, input: &SchemaRef) -> Result<KeyedCount> {
        let (key_index, _) = self.key_field(input)?;
        Ok(KeyedCount {
            key_index,
            output_schema: self.output_schema(input)?,
            int_counts: HashMap::new(),
            text_counts: HashMap::new(),
            name: self.name(),
        })
    }
}

pub(crate) fn column_names(schema: &SchemaRef) -> String {
    schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub struct KeyedCount {
    key_index: usize,
    output_schema: SchemaRef,
    int_counts: HashMap<i64, i64>,
    text_counts: HashMap<String, i64>,
    name: String,
}

fn bump<K: std::hash::Hash + Eq>(counts: &mut HashMap<K, i64>, key: K) -> i64 {
    let count = counts.entry(key).or_insert(0);
    *count += 1;
    *count
}

impl Operator for KeyedCount {
    fn process_batch(&mut self, batch: RecordBatch, out: &mut Vec<RecordBatch>) -> Result<()> {
        let keys = batch.column(self.key_index).clone();
        let counts: Vec<i64> = match keys.data_type() {
            DataType::Int64 => {
                let keys = keys.as_primitive::<Int64Type>();
                keys.iter()
                    .map(|k| bump(&mut self.int_counts, k.unwrap_or(i64::MIN)))
                    .collect()
            }
            _ => {
                let keys = keys.as_string::<i32>();
                keys.iter()
                    .map(|k| bump(&mut self.text_counts, k.unwrap_or("").to_string()))
                    .collect()
            }
        };
        let key_column: ArrayRef = match keys.data_type() {
            DataType::Utf8 => Arc::new(StringArray::from(keys.as_string::<i32>().clone())),
            _ => keys,
        };
        let output = RecordBatch::try_new(
            self.output_schema.clone(),
            vec![key_column, Arc::new(Int64Array::from(counts))],
        )
        .map_err(|source| RuntimeError::Arrow {
            operator: self.name.clone(),
            source,
        })?;
        out.push(output);
        Ok(())
    }
}
