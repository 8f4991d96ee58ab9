//! Grouping keys of the aggregating operators: a row's key value (stored
//! with its state, written back out when a result is emitted) and its key
//! group, computed exactly as the hash partitioner routes the row; the
//! key column's checks and the subtask's keyed state both aggregates open.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray, StructArray};
use arrow_schema::{DataType, Field, SchemaRef};
use serde::{Deserialize, Serialize};

use super::SubtaskContext;
use super::accumulators::Accumulator;
use super::aggregate_calls::column_of;
pub use super::row_keys::RowKeys;
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
    /// The fields of a composite key (`GROUP BY a, b`), in order.
    Composite(Vec<KeyValue>),
}

impl KeyValue {
    /// Whether it is NULL or has a NULL part: such a key equals nothing.
    pub fn has_null(&self) -> bool {
        match self {
            KeyValue::Null => true,
            KeyValue::Composite(parts) => parts.iter().any(KeyValue::has_null),
            KeyValue::Integer(_) | KeyValue::Text(_) => false,
        }
    }
}

/// One key's partial aggregate within a batch.
pub struct Partial {
    pub key_group: u32,
    pub accumulators: Vec<Accumulator>,
}

/// The key as the bytes keyed state stores it under ([`RowKeys`] writes
/// them from the columns; this is their reference).
#[cfg(test)]
pub fn key_bytes(key: &KeyValue, operator: &str) -> Result<Vec<u8>> {
    postcard::to_stdvec(key).map_err(|e| RuntimeError::Operator {
        operator: operator.to_string(),
        message: e.to_string(),
    })
}

/// The key whose bytes are `bytes` ([`RowKeys`]).
pub fn key_from_bytes(bytes: &[u8], operator: &str) -> Result<KeyValue> {
    postcard::from_bytes(bytes).map_err(|e| RuntimeError::Operator {
        operator: operator.to_string(),
        message: format!("a stored key: {e}"),
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

/// Whether a column can group rows: a whole number, DATE, TIMESTAMP or
/// STRING, or a ROW of them (a composite key).
pub fn can_group_by(data_type: &DataType) -> bool {
    match data_type {
        DataType::Int64
        | DataType::Int32
        | DataType::Int16
        | DataType::Int8
        | DataType::Date32
        | DataType::Timestamp(_, _)
        | DataType::Utf8 => true,
        DataType::Struct(fields) => fields
            .iter()
            .all(|f| !matches!(f.data_type(), DataType::Struct(_)) && can_group_by(f.data_type())),
        _ => false,
    }
}

/// Every row's key bytes ([`RowKeys`]) and key group; without a key
/// column, one group of all rows.
pub fn row_keys_of(
    batch: &RecordBatch,
    key: Option<usize>,
    max_parallelism: u32,
    operator: &str,
) -> Result<(RowKeys, Vec<u32>)> {
    let rows = batch.num_rows();
    let Some(index) = key else {
        return Ok((RowKeys::none(rows), vec![0; rows]));
    };
    let column = batch.column(index);
    let groups = key_hashes(column.as_ref())?
        .into_iter()
        .map(|h| key_group_for_hash(h, max_parallelism))
        .collect();
    Ok((RowKeys::of(column, operator)?, groups))
}

/// A BIGINT, INT or STRING column's values as keys, or a ROW's as
/// composite keys.
pub fn key_values(column: &ArrayRef, operator: &str) -> Result<Vec<KeyValue>> {
    Ok(match column.data_type() {
        DataType::Struct(_) => {
            let mut keys = vec![Vec::new(); column.len()];
            for field in column.as_struct().columns() {
                for (key, value) in keys.iter_mut().zip(key_values(field, operator)?) {
                    key.push(value);
                }
            }
            keys.into_iter().map(KeyValue::Composite).collect()
        }
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
pub fn key_column<'a>(
    keys: impl Iterator<Item = &'a KeyValue>,
    data_type: &DataType,
) -> Result<ArrayRef> {
    key_column_of(&keys.collect::<Vec<_>>(), data_type)
}

fn key_column_of(keys: &[&KeyValue], data_type: &DataType) -> Result<ArrayRef> {
    let keys = keys.iter().copied();
    Ok(match data_type {
        DataType::Struct(fields) => {
            let keys: Vec<&KeyValue> = keys.collect();
            let columns = fields
                .iter()
                .enumerate()
                .map(|(i, field)| {
                    let values: Vec<&KeyValue> = keys
                        .iter()
                        .map(|k| match k {
                            KeyValue::Composite(values) => values.get(i).unwrap_or(&KeyValue::Null),
                            _ => &KeyValue::Null,
                        })
                        .collect();
                    key_column_of(&values, field.data_type())
                })
                .collect::<Result<Vec<_>>>()?;
            let keys = StructArray::try_new(fields.clone(), columns, None).map_err(|source| {
                RuntimeError::Arrow {
                    operator: "grouping key".into(),
                    source,
                }
            })?;
            Arc::new(keys)
        }
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
        other => {
            let integers: ArrayRef = Arc::new(
                keys.map(|k| match k {
                    KeyValue::Integer(v) => Some(*v),
                    _ => None,
                })
                .collect::<Int64Array>(),
            );
            // DATE, TIMESTAMP and the smaller integers are stored as their number.
            match other {
                DataType::Int64 => integers,
                _ => arrow_cast::cast(&integers, other).map_err(|source| RuntimeError::Arrow {
                    operator: "grouping key".into(),
                    source,
                })?,
            }
        }
    })
}
