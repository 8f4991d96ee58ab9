//! Grouping keys of the aggregating operators: a row's key value (stored
//! with its state, written back out when a result is emitted) and its key
//! group, computed exactly as the hash partitioner routes the row.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::DataType;
use serde::{Deserialize, Serialize};

use crate::error::{Result, RuntimeError};
use crate::key_groups::key_group_for_hash;
use crate::partition::key_hashes;

/// A grouping key as stored.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum KeyValue {
    Null,
    Integer(i64),
    Text(String),
}

/// Whether a column can group rows (BIGINT, INT or STRING).
pub fn can_group_by(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Int64 | DataType::Int32 | DataType::Utf8
    )
}

/// Every row's key and key group; without a key column, one group of all rows.
pub fn keys_of(
    batch: &RecordBatch,
    key: Option<usize>,
    max_parallelism: u32,
    operator: &str,
) -> Result<(Vec<KeyValue>, Vec<u32>)> {
    let rows = batch.num_rows();
    let Some(index) = key else {
        return Ok((vec![KeyValue::Null; rows], vec![0; rows]));
    };
    let column = batch.column(index);
    let groups = key_hashes(column.as_ref())?
        .into_iter()
        .map(|h| key_group_for_hash(h, max_parallelism))
        .collect();
    Ok((key_values(column, operator)?, groups))
}

/// A BIGINT, INT or STRING column's values as keys.
pub fn key_values(column: &ArrayRef, operator: &str) -> Result<Vec<KeyValue>> {
    Ok(match column.data_type() {
        DataType::Utf8 => column
            .as_string::<i32>()
            .iter()
            .map(|v| v.map_or(KeyValue::Null, |v| KeyValue::Text(v.to_string())))
            .collect(),
        _ => {
            let integers =
                arrow_cast::cast(column, &DataType::Int64).map_err(|e| RuntimeError::Operator {
                    operator: operator.to_string(),
                    message: e.to_string(),
                })?;
            integers
                .as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.map_or(KeyValue::Null, KeyValue::Integer))
                .collect()
        }
    })
}

/// The keys as a column of `data_type`.
pub fn key_column<'a>(keys: impl Iterator<Item = &'a KeyValue>, data_type: &DataType) -> ArrayRef {
    match data_type {
        DataType::Utf8 => Arc::new(
            keys.map(|k| match k {
                KeyValue::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect::<StringArray>(),
        ),
        DataType::Int32 => Arc::new(
            keys.map(|k| match k {
                KeyValue::Integer(v) => i32::try_from(*v).ok(),
                _ => None,
            })
            .collect::<Int32Array>(),
        ),
        _ => Arc::new(
            keys.map(|k| match k {
                KeyValue::Integer(v) => Some(*v),
                _ => None,
            })
            .collect::<Int64Array>(),
        ),
    }
}
