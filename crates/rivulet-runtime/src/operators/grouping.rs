//! Grouping keys of the aggregating operators: a row's key value (stored
//! with its state, written back out when a result is emitted) and its key
//! group, computed exactly as the hash partitioner routes the row; the
//! key column's checks and the subtask's keyed state both aggregates open.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, SchemaRef};
use serde::{Deserialize, Serialize};

use super::SubtaskContext;
use super::accumulators::Accumulator;
use super::aggregate_calls::column_of;
use crate::error::{Result, RuntimeError};
use crate::key_groups::{KeyGroupRange, key_group_for_hash};
use crate::partition::key_hashes;
use crate::state::StateBackendKind;
use crate::state::keyed::KeyedState;

/// A grouping key as stored.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum KeyValue {
    Null,
    Integer(i64),
    Text(String),
}

/// One key's partial aggregate within a batch.
pub struct Partial {
    pub key_group: u32,
    pub accumulators: Vec<Accumulator>,
}

/// The key as the bytes keyed state stores it under.
pub fn key_bytes(key: &KeyValue, operator: &str) -> Result<Vec<u8>> {
    postcard::to_stdvec(key).map_err(|e| RuntimeError::Operator {
        operator: operator.to_string(),
        message: e.to_string(),
    })
}

/// The grouping key column's index and field, checked to be one rows can
/// be grouped by; `None` without a key.
pub fn group_key(
    input: &SchemaRef,
    key: Option<&str>,
    operator: &str,
) -> Result<Option<(usize, Field)>> {
    let Some(key) = key else {
        return Ok(None);
    };
    let index = column_of(input, key, operator)?;
    let field = input.field(index);
    if !can_group_by(field.data_type()) {
        return Err(RuntimeError::InvalidJobGraph(format!(
            "{operator}: cannot group by '{key}' of type {}",
            field.data_type()
        )));
    }
    Ok(Some((index, field.clone())))
}

/// The keyed state of this subtask's key groups, in the store
/// `state.backend.type` names (`hashmap` when absent).
pub fn subtask_state(backend: Option<&str>, context: &SubtaskContext) -> Result<KeyedState> {
    let backend = StateBackendKind::from_config(backend.unwrap_or("hashmap"))?;
    let owned = KeyGroupRange::for_subtask(
        context.max_parallelism,
        context.parallelism,
        context.subtask_index,
    );
    Ok(KeyedState::new(backend.open_store()?, owned))
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
