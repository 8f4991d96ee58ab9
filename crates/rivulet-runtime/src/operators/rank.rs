//! `Rank`: Flink's Top-N over an insert-only input, what
//! `ROW_NUMBER() OVER (PARTITION BY k ORDER BY s) … WHERE rn <= N` plans to,
//! and deduplication (`rn = 1`) with it. Per key the first N rows in the
//! order are kept in keyed state; each arriving row that ranks within them
//! is put in its place and the last one falls out.
//!
//! The output is a changelog of ranks: rank `i`'s row is inserted (`+I`)
//! when the key first has `i` rows, and when the row at rank `i` changes the
//! old one is retracted (`-U`) and the new one shown (`+U`) with the same
//! rank number, as Flink's `AppendOnlyTopNFunction` emits with the rank
//! number in the output. Rows that compare equal keep their arrival order
//! (a newer row ranks after an older one).

use std::sync::Arc;

use arrow_array::{ArrayRef, Int8Array, RecordBatch, UInt64Array};
use arrow_row::{RowConverter, SortField};
use arrow_schema::{DataType, Field, Schema, SchemaRef, SortOptions};
use serde::{Deserialize, Serialize};

use super::aggregate_calls::column_of;
use super::grouping::{group_key, key_bytes, keys_of, subtask_state};
use super::{Operator, SubtaskContext, name_or};
use crate::changelog::{ROW_KIND_COLUMN, RowKind};
use crate::error::{Result, RuntimeError};
use crate::state::keyed::{KeyedState, StateId};

/// One column of the order, as SQL's `ORDER BY` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SortKey {
    pub column: String,
    #[serde(default)]
    pub descending: bool,
    #[serde(default)]
    pub nulls_first: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RankSpec {
    #[serde(default)]
    pub name: Option<String>,
    /// The partition key column (BIGINT, INT, STRING or a ROW of them); it
    /// is left out of the output.
    pub key: String,
    pub order: Vec<SortKey>,
    /// How many rows per key are kept (N of Top-N).
    pub limit: u64,
    /// The name of the rank number column the output ends with.
    pub rank_column: String,
    /// Whether a row ranks before the kept rows it ties with: Flink's
    /// deduplication keeping the last row by event time replaces on ties;
    /// its Top-N keeps the first.
    #[serde(default)]
    pub newer_first_on_ties: bool,
    /// Flink's `state.backend.type`: `hashmap` (the default) or `rocksdb`.
    #[serde(default)]
    pub state_backend: Option<String>,
}

/// The kept rows of one key, best first: each row's sort key and its bytes.
const TOP_ROWS: StateId = StateId(1);

type Ranked = Vec<(Vec<u8>, Vec<u8>)>;

impl RankSpec {
    pub fn name(&self) -> String {
        name_or(&self.name, "Rank")
    }

    fn key_index(&self, input: &SchemaRef) -> Result<usize> {
        let name = self.name();
        if input.index_of(ROW_KIND_COLUMN).is_ok() {
            return Err(RuntimeError::InvalidJobGraph(format!(
                "{name}: ranking an update stream is not supported yet"
            )));
        }
        if self.limit == 0 {
            return Err(RuntimeError::InvalidJobGraph(format!(
                "{name}: a Top-N keeps at least one row"
            )));
        }
        group_key(input, Some(&self.key), &name)?
            .map(|(index, _)| index)
            .ok_or_else(|| RuntimeError::InvalidJobGraph(format!("{name}: no partition key")))
    }

    /// The input's columns but the key, the rank number, the row kind.
    pub fn output_schema(&self, input: &SchemaRef) -> Result<SchemaRef> {
        let key = self.key_index(input)?;
        let mut fields: Vec<Field> = payload(input, key);
        fields.push(Field::new(&self.rank_column, DataType::UInt64, false));
        fields.push(Field::new(ROW_KIND_COLUMN, DataType::Int8, false));
        Ok(Arc::new(Schema::new(fields)))
    }

    pub(super) fn create(&self, input: &SchemaRef, context: &SubtaskContext) -> Result<Rank> {
        let name = self.name();
        let key = self.key_index(input)?;
        let mut order = Vec::with_capacity(self.order.len());
        let mut sort_fields = Vec::with_capacity(self.order.len());
        for sort in &self.order {
            let index = column_of(input, &sort.column, &name)?;
            let options = SortOptions {
                descending: sort.descending,
                nulls_first: sort.nulls_first,
            };
            sort_fields.push(SortField::new_with_options(
                input.field(index).data_type().clone(),
                options,
            ));
            order.push(index);
        }
        let converter_error = |source| {
            RuntimeError::InvalidJobGraph(format!("{name}: cannot store its rows: {source}"))
        };
        let sort_keys = RowConverter::new(sort_fields).map_err(converter_error)?;
        let rows = RowConverter::new(
            payload(input, key)
                .iter()
                .map(|f| SortField::new(f.data_type().clone()))
                .collect(),
        )
        .map_err(converter_error)?;
        Ok(Rank {
            key,
            order,
            newer_first_on_ties: self.newer_first_on_ties,
            limit: usize::try_from(self.limit).unwrap_or(usize::MAX),
            sort_keys,
            rows,
            output: self.output_schema(input)?,
            max_parallelism: context.max_parallelism,
            state: subtask_state(self.state_backend.as_deref(), context)?,
            name,
        })
    }
}

/// The input's fields but the key.
fn payload(input: &SchemaRef, key: usize) -> Vec<Field> {
    input
        .fields()
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != key)
        .map(|(_, f)| f.as_ref().clone())
        .collect()
}

pub struct Rank {
    name: String,
    key: usize,
    order: Vec<usize>,
    newer_first_on_ties: bool,
    limit: usize,
    sort_keys: RowConverter,
    rows: RowConverter,
    output: SchemaRef,
    max_parallelism: u32,
    state: KeyedState,
}

/// An emitted row: its kind, its bytes and its rank number.
type Change = (RowKind, Vec<u8>, u64);

impl Rank {
    fn failed(&self, message: impl std::fmt::Display) -> RuntimeError {
        RuntimeError::Operator {
            operator: self.name.clone(),
            message: message.to_string(),
        }
    }

    /// Puts one row in its place among the kept rows of the current key.
    fn rank_row(&mut self, sort_key: Vec<u8>, row: Vec<u8>, out: &mut Vec<Change>) -> Result<()> {
        let mut top: Ranked = self.state.value(TOP_ROWS, &[])?.unwrap_or_default();
        let place = if self.newer_first_on_ties {
            top.partition_point(|(kept, _)| *kept < sort_key)
        } else {
            // After every row that does not sort after it: arrival order breaks ties.
            top.partition_point(|(kept, _)| *kept <= sort_key)
        };
        if place >= self.limit {
            return Ok(());
        }
        let kept_before = top.len();
        top.insert(place, (sort_key, row));
        // Every rank from `place` on now holds the row that was one rank
        // above it; the rank past the old last one is new.
        let changed = top.len().min(self.limit);
        for rank in place..changed {
            let number = rank as u64 + 1;
            if rank < kept_before {
                out.push((RowKind::UpdateBefore, top[rank + 1].1.clone(), number));
                out.push((RowKind::UpdateAfter, top[rank].1.clone(), number));
            } else {
                out.push((RowKind::Insert, top[rank].1.clone(), number));
            }
        }
        top.truncate(self.limit);
        self.state.set_value(TOP_ROWS, &[], &top)
    }

    fn emit(&self, changes: &[Change]) -> Result<RecordBatch> {
        let parser = self.rows.parser();
        let mut columns: Vec<ArrayRef> = self
            .rows
            .convert_rows(changes.iter().map(|(_, row, _)| parser.parse(row)))
            .map_err(|e| self.failed(e))?;
        columns.push(Arc::new(UInt64Array::from_iter_values(
            changes.iter().map(|(_, _, rank)| *rank),
        )));
        columns.push(Arc::new(Int8Array::from_iter_values(
            changes.iter().map(|(kind, ..)| *kind as i8),
        )));
        RecordBatch::try_new(self.output.clone(), columns).map_err(|e| self.failed(e))
    }
}

impl Operator for Rank {
    fn process_batch(&mut self, batch: RecordBatch, out: &mut Vec<RecordBatch>) -> Result<()> {
        let (keys, groups) = keys_of(&batch, Some(self.key), self.max_parallelism, &self.name)?;
        let order: Vec<ArrayRef> = self
            .order
            .iter()
            .map(|&i| batch.column(i).clone())
            .collect();
        let sort_keys = self
            .sort_keys
            .convert_columns(&order)
            .map_err(|e| self.failed(e))?;
        let payload: Vec<ArrayRef> = batch
            .columns()
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != self.key)
            .map(|(_, c)| c.clone())
            .collect();
        let rows = self
            .rows
            .convert_columns(&payload)
            .map_err(|e| self.failed(e))?;
        let mut changes = Vec::new();
        for (index, key) in keys.iter().enumerate() {
            self.state
                .set_current_key(groups[index], &key_bytes(key, &self.name)?)?;
            let sort_key = sort_keys.row(index).as_ref().to_vec();
            let row = rows.row(index).as_ref().to_vec();
            self.rank_row(sort_key, row, &mut changes)?;
        }
        if !changes.is_empty() {
            out.push(self.emit(&changes)?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Int8Type, Int64Type, UInt64Type};
    use arrow_array::{Int64Array, StringArray};

    use super::*;

    fn input() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, false),
            Field::new("price", DataType::Int64, true),
        ]))
    }

    fn batch(rows: &[(&str, i64)]) -> RecordBatch {
        RecordBatch::try_new(
            input(),
            vec![
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1))),
            ],
        )
        .unwrap()
    }

    fn top(limit: u64) -> Rank {
        let spec = RankSpec {
            name: None,
            key: "k".into(),
            order: vec![SortKey {
                column: "price".into(),
                descending: true,
                nulls_first: false,
            }],
            limit,
            rank_column: "rn".into(),
            newer_first_on_ties: false,
            state_backend: None,
        };
        let context = SubtaskContext::alone();
        spec.create(&input(), &context).unwrap()
    }

    /// `kind price rank` per output row.
    fn changes(out: &[RecordBatch]) -> Vec<String> {
        let mut shown = Vec::new();
        for batch in out {
            let prices = batch.column(0).as_primitive::<Int64Type>();
            let ranks = batch.column(1).as_primitive::<UInt64Type>();
            let kinds = batch.column(2).as_primitive::<Int8Type>();
            for row in 0..batch.num_rows() {
                let kind = RowKind::from_byte(kinds.value(row)).unwrap().short_string();
                shown.push(format!("{kind} {} {}", prices.value(row), ranks.value(row)));
            }
        }
        shown
    }

    #[test]
    fn the_top_rows_per_key_update_by_rank() {
        let mut rank = top(2);
        let mut out = Vec::new();
        rank.process_batch(batch(&[("a", 5), ("b", 1)]), &mut out)
            .unwrap();
        rank.process_batch(batch(&[("a", 7), ("a", 1), ("a", 6)]), &mut out)
            .unwrap();
        assert_eq!(
            changes(&out),
            [
                "+I 5 1", "+I 1 1", // 7 takes rank 1; 5 moves to rank 2.
                "-U 5 1", "+U 7 1", "+I 5 2",
                // 1 ranks third: not kept. 6 takes rank 2.
                "-U 5 2", "+U 6 2",
            ]
        );
    }

    #[test]
    fn equal_rows_keep_their_arrival_order() {
        let mut rank = top(1);
        let mut out = Vec::new();
        rank.process_batch(batch(&[("a", 3), ("a", 3)]), &mut out)
            .unwrap();
        assert_eq!(changes(&out), ["+I 3 1"], "the first of equals stays first");
    }
}
