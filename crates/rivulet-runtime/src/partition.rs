//! Splitting a batch over the consumer subtasks of an edge.
//!
//! Hash partitioning follows Flink exactly: the key's Java hash code is
//! murmur-hashed into one of `max_parallelism` key groups, and the key group
//! belongs to the subtask of its contiguous range.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type};
use arrow_array::{Array, RecordBatch, UInt32Array};
use arrow_schema::DataType;
use arrow_select::take::take_record_batch;

use crate::error::{Result, RuntimeError};
use crate::key_groups::{
    java_long_hash, java_string_hash, key_group_for_hash, operator_index_for_key_group,
};

/// The Java hash code of every key in `column` (0 for NULL), as Flink
/// hashes a BIGINT, INT or STRING key. A composite key (a ROW of such
/// fields, for `GROUP BY a, b`) hashes as Java's `Arrays.hashCode` over its
/// fields' hash codes.
pub fn key_hashes(column: &dyn Array) -> Result<Vec<i32>> {
    Ok(match column.data_type() {
        DataType::Struct(_) => {
            let mut hashes = vec![1i32; column.len()];
            for field in column.as_struct().columns() {
                for (hash, field_hash) in hashes.iter_mut().zip(key_hashes(field.as_ref())?) {
                    *hash = hash.wrapping_mul(31).wrapping_add(field_hash);
                }
            }
            hashes
        }
        DataType::Int64 => column
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.map(java_long_hash).unwrap_or(0))
            .collect(),
        DataType::Int32 => column
            .as_primitive::<Int32Type>()
            .iter()
            .map(|v| v.unwrap_or(0))
            .collect(),
        DataType::Utf8 => column
            .as_string::<i32>()
            .iter()
            .map(|v| v.map(java_string_hash).unwrap_or(0))
            .collect(),
        // A TIMESTAMP hashes as its epoch long, a DATE and the smaller
        // integers as their int.
        DataType::Timestamp(_, _) => key_hashes(&cast(column, &DataType::Int64)?)?,
        DataType::Date32 | DataType::Int16 | DataType::Int8 => {
            key_hashes(&cast(column, &DataType::Int32)?)?
        }
        other => {
            return Err(RuntimeError::Operator {
                operator: "hash partitioner".into(),
                message: format!("cannot hash keys of type {other}"),
            });
        }
    })
}

fn cast(column: &dyn Array, to: &DataType) -> Result<arrow_array::ArrayRef> {
    arrow_cast::cast(column, to).map_err(|source| RuntimeError::Arrow {
        operator: "hash partitioner".into(),
        source,
    })
}

/// The target subtask of every row of `batch`, keyed on `key_column`.
pub fn hash_targets(
    batch: &RecordBatch,
    key_column: usize,
    parallelism: u32,
    max_parallelism: u32,
) -> Result<Vec<u32>> {
    Ok(key_hashes(batch.column(key_column).as_ref())?
        .into_iter()
        .map(|h| {
            let group = key_group_for_hash(h, max_parallelism);
            operator_index_for_key_group(max_parallelism, parallelism, group)
        })
        .collect())
}

/// Splits `batch` into one batch per target subtask (empty ones are omitted).
pub fn split_by_targets(
    batch: &RecordBatch,
    targets: &[u32],
    parallelism: u32,
) -> Result<Vec<(u32, RecordBatch)>> {
    let mut rows_per_target: Vec<Vec<u32>> = vec![Vec::new(); parallelism as usize];
    for (row, target) in targets.iter().enumerate() {
        rows_per_target[*target as usize].push(row as u32);
    }
    let mut parts = Vec::new();
    for (target, rows) in rows_per_target.into_iter().enumerate() {
        if rows.is_empty() {
            continue;
        }
        let part = if rows.len() == batch.num_rows() {
            batch.clone()
        } else {
            let indices: Arc<dyn Array> = Arc::new(UInt32Array::from(rows));
            take_record_batch(batch, indices.as_ref()).map_err(|source| RuntimeError::Arrow {
                operator: "hash partitioner".into(),
                source,
            })?
        };
        parts.push((target as u32, part));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Int64Array;
    use arrow_schema::{Field, Schema};

    #[test]
    fn every_row_lands_in_exactly_one_part_and_keys_stay_together() {
        let schema = Arc::new(Schema::new(vec![Field::new("k", DataType::Int64, false)]));
        let keys: Vec<i64> = (0..1000).map(|i| i % 37).collect();
        let batch = RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(keys))]).unwrap();
        let targets = hash_targets(&batch, 0, 4, 128).unwrap();
        let parts = split_by_targets(&batch, &targets, 4).unwrap();
        let total: usize = parts.iter().map(|(_, b)| b.num_rows()).sum();
        assert_eq!(total, 1000);
        let mut owner = std::collections::HashMap::new();
        for (target, part) in &parts {
            for key in part.column(0).as_primitive::<Int64Type>().values() {
                assert_eq!(*owner.entry(*key).or_insert(*target), *target);
            }
        }
        assert!(parts.len() > 1);
    }

    #[test]
    fn a_composite_key_hashes_as_java_arrays_hash_its_fields() {
        use arrow_array::{StringArray, StructArray};
        let fields = [
            Arc::new(Field::new("a", DataType::Int32, true)),
            Arc::new(Field::new("b", DataType::Utf8, true)),
        ];
        let key = StructArray::from(vec![
            (
                fields[0].clone(),
                Arc::new(arrow_array::Int32Array::from(vec![7])) as _,
            ),
            (
                fields[1].clone(),
                Arc::new(StringArray::from(vec!["ab"])) as _,
            ),
        ]);
        // Arrays.hashCode(new int[] {7, "ab".hashCode()}) = (31 + 7) * 31 + 3105.
        assert_eq!(key_hashes(&key).unwrap(), [(31 + 7) * 31 + 3105]);
    }
}
