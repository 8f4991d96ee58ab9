//! A regular inner join whose every row goes to a Top-1 of its key: Nexmark
//! q9's auctions joined with their bids, of which `ROW_NUMBER() OVER
//! (PARTITION BY id ORDER BY price DESC, dateTime) <= 1` keeps the highest.
//! The join is told the Top-1's order (the columns of one side, the
//! *ranked* side) and keeps, per key, the best order key of the rows it
//! has emitted: the Top-1's first row.
//!
//! Over insert-only inputs that first row only ever moves up, and a Top-1
//! (ROW_NUMBER, ties kept in arrival order) replaces it only with a row
//! that sorts strictly before it. So a row of the ranked side that does not
//! sort before its key's best can never be shown: every row it joins, now
//! or with a partner still to come, sorts with it. The join
//! - emits only the joined rows that pass its condition and sort before
//!   their key's best, which they then become (the Top-1 would drop the
//!   rest), and
//! - joins and stores a row of the ranked side only if it still sorts
//!   before its key's best once its batch has been joined: one that joined
//!   a partner is the best or behind it, and one behind it waits for
//!   nothing.
//!
//! Flink's join stores every bid (9.2 million of q9's 10 million events);
//! this one mostly the bids that came before their auction or outside its
//! time and above its best so far.
//!
//! A stored row of the ranked side that came before its partner is let go
//! once that partner has been joined and the row is behind the best it
//! made: in q9 many bids reach the join before their auction, which comes
//! through another task.
//!
//! The join applies the rest of its condition itself (the planner moves it
//! from the Calc after the join), as the Top-1's first row is the best of
//! the rows that pass it. To choose, it builds only the columns the
//! condition and the order read; only the rows shown are built whole. The best of each key belongs to the join's state
//! as its stored rows do: a snapshot (with checkpoints, to come) writes
//! them out by key group together.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_row::{RowConverter, Rows, SortField};
use arrow_schema::{Schema, SchemaRef, SortOptions};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::utils::{collect_columns, reassign_expr_columns};
use serde::{Deserialize, Serialize};

use super::aggregate_calls::column_of;
use super::calc::compile_filter_expression;
use super::key_tables::KeyTables;
use super::rank::SortKey;
use crate::error::{Result, RuntimeError};

/// The Top-1 a join's rows all go to (see the module doc).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JoinTopOne {
    /// The side (0 left, 1 right) whose columns order the Top-1.
    pub side: usize,
    /// The Top-1's order: columns of the join's output from that side.
    pub order: Vec<SortKey>,
    /// The rest of the join's condition, beyond its keys, over the join's
    /// output columns.
    #[serde(default)]
    pub condition: Option<String>,
}

/// The best order key of each key's emitted rows, and how to tell a row's.
pub(super) struct TopOneAfter {
    side: usize,
    /// The join's output columns the condition and the order read, and
    /// their schema.
    read: Vec<usize>,
    read_schema: SchemaRef,
    /// The order columns among those read, and among the ranked side's
    /// input columns.
    in_read: Vec<usize>,
    in_input: Vec<usize>,
    sort_keys: RowConverter,
    condition: Option<Arc<dyn PhysicalExpr>>,
    /// Each key's best order key; empty (no order key is) until a row of
    /// the key is emitted.
    best: KeyTables<Box<[u8]>>,
}

impl TopOneAfter {
    /// The Top-1 of `spec` after the join `name`, whose output is `output`
    /// and whose inputs are `inputs`.
    pub(super) fn new(
        spec: &JoinTopOne,
        name: &str,
        output: &SchemaRef,
        inputs: [&Schema; 2],
    ) -> Result<TopOneAfter> {
        let invalid = |message: String| RuntimeError::InvalidJobGraph(format!("{name}: {message}"));
        let input = inputs
            .get(spec.side)
            .ok_or_else(|| invalid(format!("a join has no side {}", spec.side)))?;
        let input = Arc::new((*input).clone());
        if spec.order.is_empty() {
            return Err(invalid("a Top-1 after the join orders by nothing".into()));
        }
        let (mut in_output, mut in_input, mut fields) = (Vec::new(), Vec::new(), Vec::new());
        for sort in &spec.order {
            let at_output = column_of(output, &sort.column, name)?;
            let at_input = column_of(&input, &sort.column, name)?;
            let data_type = output.field(at_output).data_type();
            if data_type != input.field(at_input).data_type() {
                return Err(invalid(format!(
                    "the Top-1's order column '{}' is not of side {}",
                    sort.column, spec.side
                )));
            }
            let options = SortOptions {
                descending: sort.descending,
                nulls_first: sort.nulls_first,
            };
            fields.push(SortField::new_with_options(data_type.clone(), options));
            in_output.push(at_output);
            in_input.push(at_input);
        }
        let sort_keys = RowConverter::new(fields).map_err(|e| invalid(e.to_string()))?;
        let condition = match &spec.condition {
            Some(sql) => Some(compile_filter_expression(name, sql, output)?),
            None => None,
        };
        // Only the columns read are built for the rows not shown.
        let mut read: Vec<usize> = in_output.clone();
        if let Some(condition) = &condition {
            read.extend(collect_columns(condition).iter().map(Column::index));
        }
        read.sort_unstable();
        read.dedup();
        let read_schema = Arc::new(output.project(&read).map_err(|e| invalid(e.to_string()))?);
        let condition = match condition {
            Some(condition) => Some(
                reassign_expr_columns(condition, &read_schema)
                    .map_err(|e| invalid(e.to_string()))?,
            ),
            None => None,
        };
        let in_read = in_output
            .iter()
            .map(|at| read.iter().position(|r| r == at).unwrap_or_default())
            .collect();
        Ok(TopOneAfter {
            side: spec.side,
            read,
            read_schema,
            in_read,
            in_input,
            sort_keys,
            condition,
            best: KeyTables::default(),
        })
    }

    /// The side whose columns order the Top-1.
    pub(super) fn ranked_side(&self) -> usize {
        self.side
    }

    /// The join's output columns the choice of first rows reads
    /// ([`TopOneAfter::choose_firsts`]), and their schema.
    pub(super) fn read_columns(&self) -> (&[usize], &SchemaRef) {
        (&self.read, &self.read_schema)
    }

    /// Which rows of `joined` (the join's output, of its columns
    /// [`TopOneAfter::read_columns`]) pass the condition and sort before
    /// their key's best, in order, each then the best; and the order keys
    /// of all of them. `key_of(row)` is the key group and key of a row.
    pub(super) fn choose_firsts<'k>(
        &mut self,
        joined: &RecordBatch,
        key_of: impl Fn(usize) -> Result<(u32, &'k [u8])>,
        failed: impl Fn(String) -> RuntimeError,
    ) -> Result<(Vec<bool>, Rows)> {
        let passed = match &self.condition {
            Some(condition) => {
                let value = condition
                    .evaluate(joined)
                    .and_then(|value| value.into_array(joined.num_rows()))
                    .map_err(|e| failed(e.to_string()))?;
                Some(value.as_boolean().clone())
            }
            None => None,
        };
        let sort_keys = self.sort_keys_of(joined, &self.in_read, &failed)?;
        let mut firsts = Vec::with_capacity(joined.num_rows());
        for row in 0..joined.num_rows() {
            // A NULL condition keeps no row, as in a filter.
            let passes = passed
                .as_ref()
                .is_none_or(|p| p.is_valid(row) && p.value(row));
            firsts.push(passes && self.comes_first(key_of(row)?, sort_keys.row(row).as_ref()));
        }
        Ok((firsts, sort_keys))
    }

    /// Whether `sort_key` sorts before the best of `key` (of key group
    /// `group`), which it then is.
    fn comes_first(&mut self, (group, key): (u32, &[u8]), sort_key: &[u8]) -> bool {
        let best = self.best.value_mut(group, key, Box::default);
        if !best.is_empty() && sort_key >= &**best {
            return false;
        }
        if best.len() == sort_key.len() {
            best.copy_from_slice(sort_key);
        } else {
            *best = sort_key.into();
        }
        true
    }

    /// The order keys of a batch of the ranked side.
    pub(super) fn arriving_sort_keys(
        &self,
        batch: &RecordBatch,
        failed: impl Fn(String) -> RuntimeError,
    ) -> Result<Rows> {
        self.sort_keys_of(batch, &self.in_input, &failed)
    }

    /// The order keys of `batch`, whose order columns are at `order`.
    fn sort_keys_of(
        &self,
        batch: &RecordBatch,
        order: &[usize],
        failed: &impl Fn(String) -> RuntimeError,
    ) -> Result<Rows> {
        let columns: Vec<_> = order.iter().map(|&at| batch.column(at).clone()).collect();
        self.sort_keys
            .convert_columns(&columns)
            .map_err(|e| failed(e.to_string()))
    }

    /// Whether a row of the ranked side whose order key is `sort_key` may
    /// still be shown: it sorts before the best of `key` (of key group
    /// `group`), or the key has none yet.
    pub(super) fn may_come_first(&self, (group, key): (u32, &[u8]), sort_key: &[u8]) -> bool {
        self.best
            .value(group, key)
            .is_none_or(|best| best.is_empty() || sort_key < &**best)
    }

    /// How many keys have a best row.
    #[cfg(test)]
    pub(super) fn keys(&self) -> usize {
        self.best.values().count()
    }
}
