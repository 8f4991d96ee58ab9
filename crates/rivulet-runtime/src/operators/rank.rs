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
//!
//! Over an updating input (a changelog, such as an unbounded aggregation's
//! result) a Top-N keeps every row of a key, not only the first N, as
//! Flink's `RetractableTopNFunction` does: a `-U` or `-D` row takes its
//! copy out of the order, the rows after it move up a rank (`-U`/`+U` per
//! rank that changes) and the last rank is deleted (`-D`) when the key has
//! fewer than N rows left.
//!
//! When nothing downstream reads retractions (`update_before` off, as
//! Flink's planner decides for a sink that takes only `+U`, such as
//! `blackhole`) the `-U` rows are left out and each rank that changes shows
//! only its new row, as `AppendOnlyTopNFunction` does without
//! `generateUpdateBefore`. A deduplication (`rn = 1`) then never shows a
//! kept row again, so it keeps only each key's sort key, not its row.
//!
//! A window Top-N (`window_end` set: the partition key holds a window's
//! bounds) ranks the same way but emits nothing as rows come: when the
//! watermark passes the window's end, the kept rows are inserted with their
//! rank numbers and forgotten, as Flink's `WindowRank` does, so its output
//! is insert-only. A row whose window has already been emitted is late and
//! dropped.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Int8Array, RecordBatch, UInt32Array, UInt64Array};
use arrow_row::{RowConverter, SortField};
use arrow_schema::{DataType, Field, Schema, SchemaRef, SortOptions};
use serde::{Deserialize, Serialize};

use super::aggregate_calls::column_of;
use super::decoded_rows::{DecodedRows, Room};
use super::event_time::epoch_millis;
use super::grouping::{group_key, row_keys_of, subtask_state};
use super::kept_rows;
use super::key_tables::KeyTables;
use super::stored_rows::{ColumnsToStore, Lookup, RowCodec};
use super::{Operator, SubtaskContext, name_or};
use crate::changelog::{ROW_KIND_COLUMN, RowKind, row_kinds};
use crate::error::{Result, RuntimeError};
use crate::state::keyed::{KeyedState, StateId};
use crate::state::timers::{TimeDomain, Timer, TimerService};

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
    /// For a window Top-N: the TIMESTAMP column holding each row's window
    /// end, when the window's rows are emitted.
    #[serde(default)]
    pub window_end: Option<String>,
    /// Whether a rank whose row changes shows the old row (`-U`) before the
    /// new one (`+U`); Flink's `generateUpdateBefore`. Always so over a
    /// changelog.
    #[serde(default = "shows_update_before")]
    pub update_before: bool,
}

fn shows_update_before() -> bool {
    true
}

/// The kept rows of one key, best first: each row's sort key and its bytes,
/// in [`kept_rows`]' layout.
const TOP_ROWS: StateId = StateId(1);

impl RankSpec {
    pub fn name(&self) -> String {
        name_or(&self.name, "Rank")
    }

    fn key_index(&self, input: &SchemaRef) -> Result<usize> {
        let name = self.name();
        if input.index_of(ROW_KIND_COLUMN).is_ok() && self.window_end.is_some() {
            return Err(RuntimeError::InvalidJobGraph(format!(
                "{name}: a window Top-N of an update stream is not supported"
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

    /// The window end column of a window Top-N, checked to be a TIMESTAMP.
    fn window_end_index(&self, input: &SchemaRef) -> Result<Option<usize>> {
        let Some(column) = &self.window_end else {
            return Ok(None);
        };
        let index = column_of(input, column, &self.name())?;
        if !matches!(input.field(index).data_type(), DataType::Timestamp(_, _)) {
            return Err(RuntimeError::InvalidJobGraph(format!(
                "{}: the window column '{column}' is not a TIMESTAMP",
                self.name()
            )));
        }
        Ok(Some(index))
    }

    /// The input's columns but the key, the rank number, and (but for a
    /// window Top-N) the row kind.
    pub fn output_schema(&self, input: &SchemaRef) -> Result<SchemaRef> {
        let key = self.key_index(input)?;
        let mut fields: Vec<Field> = payload(input, key);
        fields.push(Field::new(&self.rank_column, DataType::UInt64, false));
        if self.window_end_index(input)?.is_none() {
            fields.push(Field::new(ROW_KIND_COLUMN, DataType::Int8, false));
        }
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
        let converter_error = |source: &dyn std::fmt::Display| {
            RuntimeError::InvalidJobGraph(format!("{name}: cannot store its rows: {source}"))
        };
        let sort_keys = RowConverter::new(sort_fields).map_err(|e| converter_error(&e))?;
        let row_kind = input.index_of(ROW_KIND_COLUMN).ok();
        // A retracted row is found among the kept ones by its bytes.
        let lookup = match row_kind {
            Some(_) => Lookup::ByBytes,
            None => Lookup::Never,
        };
        let rows =
            RowCodec::of_fields(&payload(input, key), lookup).map_err(|e| converter_error(&e))?;
        // A Top-N of more than one row reads a kept row back each time one
        // ranks above it (Nexmark q19: 2.1 rows a bid, against 0.7 kept):
        // its strings are kept as they are. Coded, they took 8% of q19's
        // instructions to write and read, for a fifth less memory.
        let rows = match self.limit {
            0 | 1 => rows,
            _ => rows.leaving_values_uncoded(),
        };
        let window_end = self.window_end_index(input)?;
        let update_before = self.update_before || row_kind.is_some();
        let state = subtask_state(self.state_backend.as_deref(), context)?;
        // Only a Top-N of an insert-only input, over no windows, keeps one
        // value per key and nothing else.
        let owns_its_table =
            state.store().updates_in_place() && row_kind.is_none() && window_end.is_none();
        Ok(Rank {
            key,
            row_kind,
            window_end,
            update_before,
            keeps_rows: update_before || self.limit > 1 || window_end.is_some(),
            timers: TimerService::new(),
            watermark: i64::MIN,
            order,
            newer_first_on_ties: self.newer_first_on_ties,
            limit: usize::try_from(self.limit).unwrap_or(usize::MAX),
            sort_keys,
            rows,
            row_scratch: Vec::new(),
            room: Room::default(),
            output: self.output_schema(input)?,
            max_parallelism: context.max_parallelism,
            tops: owns_its_table.then(KeyTables::default),
            state,
            name,
        })
    }
}

/// The input's fields but the key and the row kind.
fn payload(input: &SchemaRef, key: usize) -> Vec<Field> {
    input
        .fields()
        .iter()
        .enumerate()
        .filter(|(i, f)| *i != key && f.name() != ROW_KIND_COLUMN)
        .map(|(_, f)| f.as_ref().clone())
        .collect()
}

pub struct Rank {
    name: String,
    key: usize,
    /// The input's row kind column, when it is a changelog: then every row
    /// of a key is kept, as a retraction can bring any of them up.
    row_kind: Option<usize>,
    /// A window Top-N's window end column.
    window_end: Option<usize>,
    /// Whether a changed rank shows its old row (`-U`).
    update_before: bool,
    /// Whether the kept rows' bytes are ever read again: not by a
    /// deduplication that shows no `-U`, which keeps sort keys only.
    keeps_rows: bool,
    /// A window Top-N's timers: one per key at its window's end.
    timers: TimerService,
    watermark: i64,
    order: Vec<usize>,
    newer_first_on_ties: bool,
    limit: usize,
    sort_keys: RowConverter,
    rows: RowCodec,
    /// The arriving row being kept, encoded.
    row_scratch: Vec<u8>,
    /// Room for the next batch of changes, as large as the last.
    room: Room,
    output: SchemaRef,
    max_parallelism: u32,
    /// Each key's kept rows, in the Top-N's own table (see
    /// [`super::key_tables`]), when it is in memory, of an insert-only
    /// input, over no windows; in keyed state otherwise.
    tops: Option<KeyTables<Vec<u8>>>,
    state: KeyedState,
}

/// The rows a batch emits, in order: each one's kind, rank number and
/// values.
struct Changes {
    kinds: Vec<i8>,
    ranks: Vec<u64>,
    rows: ChangedRows,
}

enum ChangedRows {
    /// Decoded (a kept row) or copied (an arriving one) into the output's
    /// columns as they come (see [`super::decoded_rows`]).
    Decoded(DecodedRows),
    /// A Top-N that keeps no rows shows only arriving rows: their indices
    /// in the batch.
    Arrived(Vec<u32>),
}

impl Changes {
    /// No changes yet, with `room` for them.
    fn new(codec: &RowCodec, keeps_rows: bool, room: &Room) -> Changes {
        let rows = if keeps_rows {
            ChangedRows::Decoded(DecodedRows::new(codec, room))
        } else {
            ChangedRows::Arrived(Vec::new())
        };
        Changes {
            kinds: Vec::with_capacity(room.rows()),
            ranks: Vec::with_capacity(room.rows()),
            rows,
        }
    }

    fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    fn push(&mut self, kind: RowKind, rank: u64) {
        self.kinds.push(kind as i8);
        self.ranks.push(rank);
    }

    /// A kept row, as stored by `codec`.
    fn kept(&mut self, codec: &RowCodec, kind: RowKind, row: &[u8], rank: u64) -> Result<()> {
        match &mut self.rows {
            ChangedRows::Decoded(decoded) => decoded.push(codec, row)?,
            ChangedRows::Arrived(_) => {
                return Err(RuntimeError::State(
                    "a Top-N that keeps no rows shows a kept one".into(),
                ));
            }
        }
        self.push(kind, rank);
        Ok(())
    }

    /// Row `index` of the batch being ranked, whose payload `columns` are
    /// being stored by `codec` (`None` when it keeps no rows).
    fn arrived(
        &mut self,
        (codec, columns): (&RowCodec, Option<&ColumnsToStore>),
        (kind, index, rank): (RowKind, usize, u64),
    ) -> Result<()> {
        match (&mut self.rows, columns) {
            (ChangedRows::Decoded(decoded), Some(columns)) => {
                decoded.push_arrived(codec, columns, index)?;
            }
            (ChangedRows::Arrived(indices), _) => indices.push(index as u32),
            (ChangedRows::Decoded(_), None) => {
                return Err(RuntimeError::State(
                    "a Top-N that keeps rows shows a row it did not read".into(),
                ));
            }
        }
        self.push(kind, rank);
        Ok(())
    }
}

/// What enters the next rank as rows move down: the arriving row, then
/// each row that left the rank before.
#[derive(Clone, Copy)]
enum Entering<'a> {
    Arrived,
    Kept(&'a [u8]),
}

/// The changes of the batch's row `arrived` coming in at `place` among the
/// kept rows (`kept`, stored pairs): every rank from `place` on (below
/// `limit`) now holds the row that was one rank above it, and the rank past
/// the old last one is new. With `update_before` each changed rank first
/// shows the row that leaves it.
fn show_ranks_moved(
    kept: &[u8],
    (place, limit): (usize, usize),
    arrived: ((&RowCodec, Option<&ColumnsToStore>), usize),
    update_before: bool,
    out: &mut Changes,
) -> Result<()> {
    let ((codec, columns), index) = arrived;
    let show = |out: &mut Changes, kind, entering, number| match entering {
        Entering::Arrived => out.arrived((codec, columns), (kind, index, number)),
        Entering::Kept(row) => out.kept(codec, kind, row, number),
    };
    let mut pairs = kept_rows::pairs(kept).skip(place);
    let mut entering = Entering::Arrived;
    for rank in place..limit {
        let number = rank as u64 + 1;
        let Some((_, leaving)) = pairs.next().transpose()? else {
            return show(out, RowKind::Insert, entering, number);
        };
        if update_before {
            out.kept(codec, RowKind::UpdateBefore, leaving, number)?;
        }
        show(out, RowKind::UpdateAfter, entering, number)?;
        entering = Entering::Kept(leaving);
    }
    Ok(())
}

/// `row` of the batch's `columns`, encoded into `out` (emptied first);
/// nothing for a Top-N that keeps no rows (`None`).
fn encode_arrived(
    codec: &mut RowCodec,
    (columns, row): (Option<&ColumnsToStore>, usize),
    out: &mut Vec<u8>,
) {
    out.clear();
    if let Some(columns) = columns {
        codec.encode_row(columns, row, out);
    }
}

impl Rank {
    fn failed(&self, message: impl std::fmt::Display) -> RuntimeError {
        RuntimeError::Operator {
            operator: self.name.clone(),
            message: message.to_string(),
        }
    }

    /// Puts one row in its place among the kept rows of `key` (of key
    /// group `group`, the current key for rows in keyed state). The changes
    /// go to `out`; a window Top-N emits none as rows come (`None`) and
    /// keeps each window's rows under its own `namespace`.
    fn rank_row(
        &mut self,
        (group, key): (u32, &[u8]),
        namespace: &[u8],
        sort_key: &[u8],
        (columns, arrived): (Option<&ColumnsToStore>, usize),
        mut out: Option<&mut Changes>,
    ) -> Result<()> {
        let (limit, newer_first_on_ties) = (self.limit, self.newer_first_on_ties);
        let update_before = self.update_before;
        let keeps_all = self.row_kind.is_some();
        // The kept rows change where they lie: read in place, and the row
        // put among them with one move of those after it.
        let mut rank = |stored: &mut Option<Vec<u8>>| -> Result<()> {
            let bytes = stored.as_deref().unwrap_or_default();
            // Without newer first, after every row that does not sort
            // after it: arrival order breaks ties.
            let ranked = if keeps_all { usize::MAX } else { limit };
            let place = kept_rows::place(bytes, sort_key, !newer_first_on_ties, ranked)?;
            if place >= limit && !keeps_all {
                // Most rows of a key with many rank below them all.
                return Ok(());
            }
            if let Some(out) = out.as_deref_mut() {
                let arriving = ((&self.rows, columns), arrived);
                show_ranks_moved(bytes, (place, limit), arriving, update_before, out)?;
            }
            // Only now is the row encoded: most rows of a key with many
            // never are.
            let row = &mut self.row_scratch;
            encode_arrived(&mut self.rows, (columns, arrived), row);
            let bytes = stored.get_or_insert_with(Vec::new);
            kept_rows::insert(bytes, place, (sort_key, row), (!keeps_all).then_some(limit))
        };
        let Some(tops) = &mut self.tops else {
            return self.state.update_raw_value(TOP_ROWS, namespace, &mut rank);
        };
        let kept = tops.value_mut(group, key, Vec::new);
        let mut stored = (!kept.is_empty()).then(|| std::mem::take(kept));
        let ranked = rank(&mut stored);
        *kept = stored.unwrap_or_default();
        ranked
    }

    /// Takes one kept copy of a retracted row out of the current key's
    /// order: the ranks from its place on show the row after them, and the
    /// last shown rank is deleted when no row is left to move up to it.
    fn retract_row(&mut self, sort_key: &[u8], row: &[u8], out: &mut Changes) -> Result<()> {
        let Some(stored) = self.state.raw_value(TOP_ROWS, &[])? else {
            return Ok(());
        };
        let mut top = kept_rows::read(&stored)?;
        let first_equal = top.partition_point(|(kept, _)| *kept < sort_key);
        let Some(place) = top[first_equal..]
            .iter()
            .take_while(|(kept, _)| *kept == sort_key)
            .position(|(_, kept)| *kept == row)
            .map(|at| first_equal + at)
        else {
            // A retraction of a row that never came: nothing to take back.
            return Ok(());
        };
        let shown_before = top.len().min(self.limit);
        let removed = top.remove(place);
        // The row each rank showed: the removed one, then the one that
        // moved up from the rank below.
        let mut was_here = removed.1;
        for rank in place..shown_before {
            let number = rank as u64 + 1;
            match top.get(rank) {
                Some((_, new)) => {
                    out.kept(&self.rows, RowKind::UpdateBefore, was_here, number)?;
                    out.kept(&self.rows, RowKind::UpdateAfter, new, number)?;
                    was_here = new;
                }
                None => out.kept(&self.rows, RowKind::Delete, was_here, number)?,
            }
        }
        if top.is_empty() {
            return self.state.clear(TOP_ROWS, &[]);
        }
        let bytes = kept_rows::write(top);
        self.state.set_raw_value(TOP_ROWS, &[], bytes)
    }

    /// The batch of `changes`; `arrived` holds the payload columns of the
    /// batch their arrived rows come from.
    fn emit(&mut self, changes: Changes, arrived: Option<&[ArrayRef]>) -> Result<RecordBatch> {
        let mut columns = match changes.rows {
            ChangedRows::Decoded(decoded) => {
                self.room = decoded.room_for_next();
                decoded.finish(&self.rows)?
            }
            ChangedRows::Arrived(indices) => {
                let indices = UInt32Array::from(indices);
                let fields = self.output.fields().iter();
                arrived
                    .unwrap_or_default()
                    .iter()
                    .zip(fields)
                    .map(|(column, field)| {
                        let taken = arrow_select::take::take(column, &indices, None)?;
                        // Stored rows read back as the output's types (a
                        // dictionary as its values): the arrived ones too.
                        match taken.data_type() == field.data_type() {
                            true => Ok(taken),
                            false => arrow_cast::cast(&taken, field.data_type()),
                        }
                    })
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| self.failed(e))?
            }
        };
        columns.push(Arc::new(UInt64Array::from(changes.ranks)));
        if self.window_end.is_none() {
            columns.push(Arc::new(Int8Array::from(changes.kinds)));
        }
        RecordBatch::try_new(self.output.clone(), columns).map_err(|e| self.failed(e))
    }
}

impl Operator for Rank {
    fn process_batch(&mut self, batch: RecordBatch, out: &mut Vec<RecordBatch>) -> Result<()> {
        let (keys, groups) = row_keys_of(&batch, Some(self.key), self.max_parallelism, &self.name)?;
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
            .filter(|(i, _)| *i != self.key && Some(*i) != self.row_kind)
            .map(|(_, c)| c.clone())
            .collect();
        let kinds = row_kinds(&batch, self.row_kind).map_err(|e| self.failed(e))?;
        let columns = if self.keeps_rows {
            let columns = self.rows.columns_to_store(&payload);
            Some(columns.map_err(|e| self.failed(e))?)
        } else {
            None
        };
        let window_ends = match self.window_end {
            Some(column) => Some(epoch_millis(batch.column(column)).map_err(|e| self.failed(e))?),
            None => None,
        };
        let mut changes = Changes::new(&self.rows, self.keeps_rows, &self.room);
        for index in 0..batch.num_rows() {
            // A window Top-N fires once at its window's end; later rows are late.
            let fires_at = match &window_ends {
                Some(ends) if ends.is_null(index) => continue,
                Some(ends) if ends.value(index) - 1 <= self.watermark => continue,
                Some(ends) => Some(ends.value(index) - 1),
                None => None,
            };
            let key = keys.key(index);
            if self.tops.is_none() {
                self.state.set_current_key(groups[index], key)?;
            }
            if kinds[index].retracts() {
                let mut row = Vec::new();
                encode_arrived(&mut self.rows, (columns.as_ref(), index), &mut row);
                self.retract_row(sort_keys.row(index).as_ref(), &row, &mut changes)?;
                continue;
            }
            let namespace = fires_at.map_or_else(Vec::new, |at| at.to_be_bytes().to_vec());
            let out = fires_at.is_none().then_some(&mut changes);
            self.rank_row(
                (groups[index], key),
                &namespace,
                sort_keys.row(index).as_ref(),
                (columns.as_ref(), index),
                out,
            )?;
            if let Some(timestamp) = fires_at {
                let timer = Timer {
                    timestamp,
                    key_group: groups[index],
                    key: key.into(),
                    namespace: namespace.into(),
                };
                self.timers.register(TimeDomain::EventTime, timer);
            }
        }
        if !changes.is_empty() {
            out.push(self.emit(changes, Some(&payload))?);
        }
        Ok(())
    }

    fn process_watermark(&mut self, watermark: i64, out: &mut Vec<RecordBatch>) -> Result<()> {
        self.watermark = self.watermark.max(watermark);
        let mut fired = Changes::new(&self.rows, true, &self.room);
        for timer in self.timers.advance(TimeDomain::EventTime, watermark) {
            self.state.set_current_key(timer.key_group, &timer.key)?;
            let stored = self.state.raw_value(TOP_ROWS, &timer.namespace)?;
            self.state.clear(TOP_ROWS, &timer.namespace)?;
            let top = match &stored {
                Some(bytes) => kept_rows::read(bytes)?,
                None => Vec::new(),
            };
            for (rank, (_, row)) in top.into_iter().enumerate() {
                fired.kept(&self.rows, RowKind::Insert, row, rank as u64 + 1)?;
            }
        }
        if !fired.is_empty() {
            out.push(self.emit(fired, None)?);
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

    /// The first `limit` rows of each `k` by `price`, highest first.
    fn spec(limit: u64, backend: Option<&str>, window_end: Option<&str>) -> RankSpec {
        RankSpec {
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
            state_backend: backend.map(str::to_string),
            window_end: window_end.map(str::to_string),
            update_before: true,
        }
    }

    fn top(limit: u64) -> Rank {
        let context = SubtaskContext::alone();
        spec(limit, None, None).create(&input(), &context).unwrap()
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
    fn a_top_n_of_more_than_one_row_keeps_its_strings_as_they_are() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, false),
            Field::new("price", DataType::Int64, true),
            Field::new("extra", DataType::Utf8, true),
        ]));
        // Letters that rarely repeat: past its first values the column's
        // dictionary takes no more and would code them in 4 bits a letter.
        let letters = |n: usize| -> String {
            format!("{n:08}")
                .bytes()
                .map(|d| char::from(d - b'0' + b'a'))
                .collect()
        };
        let kept = |limit: u64| {
            let mut rank = spec(limit, None, None)
                .create(&schema, &SubtaskContext::alone())
                .unwrap();
            let rows = 5000;
            let batch = RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(StringArray::from_iter_values(
                        (0..rows).map(|n| n.to_string()),
                    )),
                    Arc::new(Int64Array::from_iter_values(0..rows as i64)),
                    Arc::new(StringArray::from_iter_values((0..rows).map(letters))),
                ],
            )
            .unwrap();
            rank.process_batch(batch, &mut Vec::new()).unwrap();
            let tops = rank.tops.as_ref().unwrap();
            let raw = letters(rows - 1);
            tops.values()
                .filter(|bytes| bytes.windows(raw.len()).any(|w| w == raw.as_bytes()))
                .count()
        };
        assert_eq!(kept(2), 1, "a Top-2 keeps the last string whole");
        assert_eq!(kept(1), 0, "a Top-1 keeps it coded");
    }

    #[test]
    fn a_top_n_of_a_changelog_moves_the_rows_after_a_retracted_one_up() {
        use RowKind::*;
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, false),
            Field::new("price", DataType::Int64, true),
            Field::new(ROW_KIND_COLUMN, DataType::Int8, false),
        ]));
        let batch = |rows: &[(RowKind, i64)]| {
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(StringArray::from_iter_values(rows.iter().map(|_| "a"))),
                    Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1))),
                    Arc::new(Int8Array::from_iter_values(rows.iter().map(|r| r.0 as i8))),
                ],
            )
            .unwrap()
        };
        for backend in ["hashmap", "rocksdb"] {
            let mut spec = spec(2, Some(backend), None);
            let mut rank = spec.create(&schema, &SubtaskContext::alone()).unwrap();
            assert_eq!(rank.output.fields().len(), 3, "price, rank, row kind");
            let mut out = Vec::new();
            // 3 is kept past the first two: it moves up when 9 goes.
            rank.process_batch(batch(&[(Insert, 5), (Insert, 9), (Insert, 3)]), &mut out)
                .unwrap();
            rank.process_batch(batch(&[(UpdateBefore, 9), (UpdateAfter, 4)]), &mut out)
                .unwrap();
            rank.process_batch(batch(&[(Delete, 5), (Delete, 4), (Delete, 7)]), &mut out)
                .unwrap();
            assert_eq!(
                changes(&out),
                [
                    "+I 5 1", "-U 5 1", "+U 9 1", "+I 5 2", // 3 ranks third: not shown
                    "-U 9 1", "+U 5 1", "-U 5 2", "+U 3 2", // 9 taken back
                    "-U 3 2", "+U 4 2", // 4 comes before 3
                    "-U 5 1", "+U 4 1", "-U 4 2", "+U 3 2", // 5 taken back
                    "-U 4 1", "+U 3 1", "-D 3 2", // 4 taken back; 7 was never there
                ],
                "{backend}"
            );
            spec.window_end = Some("price".into());
            assert!(spec.create(&schema, &SubtaskContext::alone()).is_err());
        }
    }

    #[test]
    fn without_update_before_each_changed_rank_shows_only_its_new_row() {
        // Keys a to c, prices that climb, fall and tie, over batch edges.
        let rows: Vec<(&str, i64)> = (0..300)
            .map(|i| (["a", "b", "c"][i % 3], ((i * 37) % 23) as i64))
            .collect();
        for limit in [1, 2, 3] {
            for backend in ["hashmap", "rocksdb"] {
                let run = |update_before: bool| {
                    let spec = RankSpec {
                        update_before,
                        ..spec(limit, Some(backend), None)
                    };
                    let mut rank = spec.create(&input(), &SubtaskContext::alone()).unwrap();
                    let mut out = Vec::new();
                    for chunk in rows.chunks(7) {
                        rank.process_batch(batch(chunk), &mut out).unwrap();
                    }
                    changes(&out)
                };
                let with_before = run(true);
                let expected: Vec<String> = with_before
                    .iter()
                    .filter(|change| !change.starts_with("-U"))
                    .cloned()
                    .collect();
                assert!(expected.len() < with_before.len(), "limit {limit}");
                assert_eq!(run(false), expected, "limit {limit} {backend}");
            }
        }
    }

    #[test]
    fn a_deduplication_without_update_before_keeps_no_rows() {
        let spec = RankSpec {
            update_before: false,
            ..spec(1, None, None)
        };
        let mut rank = spec.create(&input(), &SubtaskContext::alone()).unwrap();
        let mut out = Vec::new();
        rank.process_batch(batch(&[("a", 5), ("a", 9), ("a", 7)]), &mut out)
            .unwrap();
        assert_eq!(changes(&out), ["+I 5 1", "+U 9 1"]);
        let (keys, groups) =
            row_keys_of(&batch(&[("a", 0)]), Some(0), rank.max_parallelism, "test").unwrap();
        let tops = rank.tops.as_ref().expect("in its own table");
        let stored = tops.value(groups[0], keys.key(0)).unwrap();
        let kept = kept_rows::read(stored).unwrap();
        assert_eq!(kept.len(), 1);
        assert!(kept[0].1.is_empty(), "only the sort key is kept");
    }

    #[test]
    fn equal_rows_keep_their_arrival_order() {
        let mut rank = top(1);
        let mut out = Vec::new();
        rank.process_batch(batch(&[("a", 3), ("a", 3)]), &mut out)
            .unwrap();
        assert_eq!(changes(&out), ["+I 3 1"], "the first of equals stays first");
    }

    #[test]
    fn a_window_top_n_emits_each_windows_rows_once_when_it_ends() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, false),
            Field::new("price", DataType::Int64, true),
            Field::new("wend", crate::operators::event_time::millis_type(), false),
        ]));
        let batch = |rows: &[(&str, i64, i64)]| {
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
                    Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1))),
                    Arc::new(arrow_array::TimestampMillisecondArray::from_iter_values(
                        rows.iter().map(|r| r.2),
                    )),
                ],
            )
            .unwrap()
        };
        for backend in ["hashmap", "rocksdb"] {
            let spec = spec(2, Some(backend), Some("wend"));
            let mut rank = spec.create(&schema, &SubtaskContext::alone()).unwrap();
            assert!(
                rank.output.index_of(ROW_KIND_COLUMN).is_err(),
                "insert-only"
            );
            let shown = |out: &[RecordBatch]| {
                let mut rows = Vec::new();
                for batch in out {
                    let prices = batch.column(0).as_primitive::<Int64Type>();
                    let ranks = batch.column(2).as_primitive::<UInt64Type>();
                    for row in 0..batch.num_rows() {
                        rows.push(format!("{} {}", prices.value(row), ranks.value(row)));
                    }
                }
                rows
            };
            let mut out = Vec::new();
            let rows = [
                ("a", 5, 10),
                ("a", 7, 10),
                ("a", 1, 10),
                ("b", 3, 10),
                ("a", 9, 20),
            ];
            rank.process_batch(batch(&rows), &mut out).unwrap();
            assert!(out.is_empty(), "{backend}: nothing before the window ends");
            rank.process_watermark(9, &mut out).unwrap();
            let mut fired = shown(&out);
            fired.sort();
            assert_eq!(fired, ["3 1", "5 2", "7 1"], "{backend}");
            out.clear();
            // Window 10 has been emitted: a row of it is late.
            rank.process_batch(batch(&[("a", 100, 10)]), &mut out)
                .unwrap();
            rank.process_watermark(i64::MAX, &mut out).unwrap();
            assert_eq!(shown(&out), ["9 1"], "{backend}: only window 20 is left");
        }
    }
}
