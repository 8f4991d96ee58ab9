//! `Join`: Flink's regular join of two inputs on equal keys — INNER, LEFT,
//! RIGHT or FULL OUTER — with no time bound: every row is kept on its
//! side, and a row that arrives is joined with every row of the other side
//! stored under its key. Both inputs come hash partitioned
//! on their key column (input 0 is the left side, input 1 the right); a
//! NULL key (or a NULL part of a composite key) never matches.
//!
//! An inner join of insert-only inputs gives insert-only output. An outer
//! join also emits a row of its preserved side that has no partner, padded
//! with NULLs; when the first partner arrives, the padded row is retracted
//! (`-D`) before the joined rows are inserted, as Flink's join does, so its
//! output is a changelog (rows carry their kind in [`ROW_KIND_COLUMN`]).
//!
//! An input may itself be a changelog (an unbounded aggregation's result,
//! say): `+I` and `+U` rows join and are stored as above, `-U` and `-D`
//! rows take back one stored copy of the same row and retract what it
//! joined, as Flink's `StreamingJoinOperator` does: an inner join's result
//! rows keep the kind of the row that made them, an outer side's are `+I`
//! and `-D`, and an outer row whose last partner is taken back is shown
//! padded again.
//!
//! A semi join (`LeftSemi`, `RightSemi`: what an inner join becomes when
//! only one side's columns are read and the other side's keys are unique)
//! emits a row of its kept side once, when it first has a partner; its
//! output is insert-only.
//!
//! An interval join (an inner join whose condition bounds the right row's
//! time against the left row's) and a window join (joined on both sides'
//! window bounds) join the same way, and a stored row leaves state once the
//! watermark shows that no row still to come can match it (`expiry`), as
//! Flink's interval and window joins clean their state; a row that arrives
//! after that point is joined with what is stored but not stored itself. An
//! outer window join shows a row without a partner, padded, only when it
//! leaves state, so its output is insert-only, as Flink's window join's.
//!
//! Rows are stored as [`RowCodec`] lays them out. An inner join reading
//! no changelog, with no TTL, in memory, lists each key's rows one after
//! another, in a log per key group (a regular join) or in buckets by when
//! they go (an interval or window join), and leaves out a column that
//! copies the key (see [`Storage`]); other joins keep each row in keyed
//! state with how often it came and, for outer joins, how many partners
//! it has. With `table.exec.state.ttl`
//! a stored row expires that long after it was written: it is no longer
//! joined, and it is dropped when next read, as Flink's state TTL
//! (`OnCreateAndWrite`, never returning expired state).

use std::collections::HashSet;
use std::ops::Range;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use arrow_array::{Array, ArrayRef, Int8Array, Int64Array, RecordBatch, UInt32Array};
use arrow_row::Rows;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use serde::{Deserialize, Serialize};

use super::aggregate_calls::column_of;
use super::event_time::epoch_millis;
use super::expiring_buckets::ExpiringBuckets;
use super::grouping::{can_group_by, row_keys_of, subtask_state};
use super::join_partners::Partners;
use super::join_top_one::{JoinTopOne, TopOneAfter};
use super::listed_rows::ListedRows;
use super::row_keys::RowKeys;
use super::stored_rows::{EncodedRows, Lookup, RowCodec};
use super::{Operator, SubtaskContext, name_or};
use crate::changelog::{ROW_KIND_COLUMN, RowKind, row_kinds};
use crate::error::{Result, RuntimeError};
use crate::state::bytes::BytesRef;
use crate::state::keyed::{KeyedState, StateId};
use crate::state::timers::{TimeDomain, Timer, TimerService};

/// Which rows without a partner a join keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinKind {
    Inner,
    Left,
    Right,
    Full,
    LeftSemi,
    RightSemi,
}

impl JoinKind {
    /// Whether rows of `side` (0 left, 1 right) are kept without a partner.
    fn preserves(self, side: usize) -> bool {
        matches!(
            (self, side),
            (JoinKind::Left | JoinKind::Full, 0) | (JoinKind::Right | JoinKind::Full, 1)
        )
    }

    /// The side a semi join emits rows of (0 left, 1 right).
    fn semi_side(self) -> Option<usize> {
        match self {
            JoinKind::LeftSemi => Some(0),
            JoinKind::RightSemi => Some(1),
            _ => None,
        }
    }

    /// Whether its output carries retractions: an outer join's.
    pub fn updates(self) -> bool {
        matches!(self, JoinKind::Left | JoinKind::Right | JoinKind::Full)
    }

    /// Whether it emits the columns of `side`.
    fn emits(self, side: usize) -> bool {
        self.semi_side().is_none_or(|kept| kept == side)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JoinSpec {
    #[serde(default)]
    pub name: Option<String>,
    pub kind: JoinKind,
    /// The columns of the left input (0) and of the right input (1).
    pub left: Schema,
    pub right: Schema,
    /// Each input's key column: BIGINT, INT, STRING or a ROW of them.
    pub left_key: String,
    pub right_key: String,
    /// `table.exec.state.ttl` in milliseconds; absent or 0 keeps rows forever.
    #[serde(default)]
    pub state_ttl_millis: Option<u64>,
    /// Flink's `state.backend.type`: `hashmap` (the default) or `rocksdb`.
    #[serde(default)]
    pub state_backend: Option<String>,
    /// For an interval or window join: when stored rows leave state.
    #[serde(default)]
    pub expiry: Option<JoinExpiry>,
    /// The column of each input (left, right) that its key column copies,
    /// when the key is one plain column (the planner adds the key as a
    /// column of its own). A join that lists its rows leaves that column
    /// out of what it stores and shows the key of the arriving row in its
    /// place: equal keys are what joined them.
    #[serde(default)]
    pub key_copies: [Option<String>; 2],
    /// The Top-1 of its key every joined row goes to, when the planner
    /// found one: the join then keeps only the rows it can show (see
    /// [`super::join_top_one`]).
    #[serde(default)]
    pub top_one: Option<JoinTopOne>,
}

/// When an interval or window join's stored rows leave state: a row of
/// each side at its time column plus that side's reach, once the
/// watermark is there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JoinExpiry {
    pub left_time: String,
    pub right_time: String,
    pub left_reach_millis: i64,
    pub right_reach_millis: i64,
    /// An outer window join: rows without a partner are shown, padded,
    /// when they leave state rather than when they come.
    #[serde(default)]
    pub padded_at_expiry: bool,
}

/// The stored rows of each side: row bytes → [`Stored`].
const ROWS: [StateId; 2] = [StateId(1), StateId(2)];
// StateId(5) and StateId(6) were a regular inner join's listed rows, now
// the join's own (see `super::listed_rows`).

/// How a join keeps its stored rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Storage {
    /// As map entries of their key, row bytes → [`Stored`], each with a
    /// timer if it expires: what an outer or semi join, a join reading a
    /// changelog, one with a TTL, or any join on disk needs.
    Entries,
    /// In buckets by when they can be dropped, each a table of keys and
    /// their rows (see [`super::expiring_buckets`]): an inner interval or
    /// window join's, in memory.
    Expiring,
    /// Listed per key for good, in a log of each key group (see
    /// [`super::listed_rows`]): a regular inner join's of insert-only
    /// inputs, in memory, as nothing it does looks a stored row up.
    Kept,
}

/// The most joined rows a listed join emits in one batch (more when one
/// run of a key's rows makes more).
const JOINED_BATCH_ROWS: usize = 8192;

/// A stored row's bookkeeping.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Stored {
    /// How many times the row came.
    count: u32,
    /// How many rows of the other side it joined (outer joins only).
    partners: u32,
    /// When it was last written, in epoch milliseconds (for the TTL).
    written: i64,
}

impl JoinSpec {
    pub fn name(&self) -> String {
        name_or(&self.name, "Join")
    }

    fn inputs(&self) -> [(&Schema, &str); 2] {
        [(&self.left, &self.left_key), (&self.right, &self.right_key)]
    }

    /// The key column's index in each input, checked.
    fn key_indices(&self) -> Result<[usize; 2]> {
        let name = self.name();
        let mut indices = [0; 2];
        for (side, (schema, key)) in self.inputs().into_iter().enumerate() {
            let schema = Arc::new(schema.clone());
            let index = column_of(&schema, key, &name)?;
            let data_type = schema.field(index).data_type();
            if !can_group_by(data_type) {
                return Err(RuntimeError::InvalidJobGraph(format!(
                    "{name}: cannot join on '{key}' of type {data_type}"
                )));
            }
            indices[side] = index;
        }
        if self.reads_changelog() && (self.expiry.is_some() || self.kind.semi_side().is_some()) {
            return Err(RuntimeError::InvalidJobGraph(format!(
                "{name}: only a regular inner or outer join can read an updating input (a changelog)"
            )));
        }
        Ok(indices)
    }

    /// The row kind column of each input that is a changelog.
    fn row_kind_columns(&self) -> [Option<usize>; 2] {
        self.inputs()
            .map(|(schema, _)| schema.index_of(ROW_KIND_COLUMN).ok())
    }

    /// Whether either input is a changelog.
    fn reads_changelog(&self) -> bool {
        self.row_kind_columns().iter().any(Option::is_some)
    }

    /// The key column of input `side`, by name.
    pub fn input_key(&self, side: usize) -> Option<&str> {
        self.inputs().get(side).map(|(_, key)| *key)
    }

    /// The input schema of `side`.
    pub fn input_schema(&self, side: usize) -> Option<&Schema> {
        self.inputs().get(side).map(|(schema, _)| *schema)
    }

    /// Each input's columns but its key and its row kind, as they come out.
    fn payload_fields(&self, side: usize, key: usize) -> Vec<Field> {
        let schema = self.inputs()[side].0;
        // A side that can be padded with NULLs is nullable.
        let padded = self.kind.preserves(1 - side);
        schema
            .fields()
            .iter()
            .enumerate()
            .filter(|(i, f)| *i != key && f.name() != ROW_KIND_COLUMN)
            .map(|(_, f)| f.as_ref().clone().with_nullable(f.is_nullable() || padded))
            .collect()
    }

    /// Where among the payload columns of `side` (see
    /// [`JoinSpec::payload_fields`]) the column its key copies is, when it
    /// has the key's type on both sides (`keys`), so that the other side's
    /// key can stand in for it. Not when it is the only one: a stored row
    /// of no columns would be no row at all.
    fn key_copy(&self, side: usize, keys: [usize; 2]) -> Option<usize> {
        let copied = self.key_copies[side].as_deref()?;
        let key_type = |side: usize| self.inputs()[side].0.field(keys[side]).data_type();
        let payload = self.payload_fields(side, keys[side]);
        if payload.len() < 2 {
            return None;
        }
        let at = payload.iter().position(|f| f.name() == copied)?;
        let copy_type = payload[at].data_type();
        (copy_type == key_type(0) && copy_type == key_type(1)).then_some(at)
    }

    /// The left columns, the right columns (keys left out; a semi join
    /// only its kept side's), and for an outer join the row kind.
    pub fn output_schema(&self) -> Result<SchemaRef> {
        let keys = self.key_indices()?;
        let mut fields = Vec::new();
        for (side, key) in keys.into_iter().enumerate() {
            if self.kind.emits(side) {
                fields.extend(self.payload_fields(side, key));
            }
        }
        if self.updates() {
            fields.push(Field::new(ROW_KIND_COLUMN, DataType::Int8, false));
        }
        Ok(Arc::new(Schema::new(fields)))
    }

    /// Whether a Top-1 after it can be handed to it ([`JoinSpec::top_one`]):
    /// a regular inner join of insert-only inputs without a TTL. Over a
    /// changelog, or with rows leaving state, the Top-1's first row could
    /// move down.
    pub fn can_feed_a_top_one(&self) -> bool {
        self.kind == JoinKind::Inner
            && !self.reads_changelog()
            && self.expiry.is_none()
            && self.state_ttl_millis.is_none_or(|ttl| ttl == 0)
    }

    fn padded_at_expiry(&self) -> bool {
        self.expiry.as_ref().is_some_and(|e| e.padded_at_expiry)
    }

    /// Whether its output is a changelog: an outer join's, but for an outer
    /// window join's, which shows padded rows only once they are final; and
    /// any join's that reads a changelog.
    pub fn updates(&self) -> bool {
        (self.kind.updates() && !self.padded_at_expiry()) || self.reads_changelog()
    }

    pub(super) fn create(&self, context: &SubtaskContext) -> Result<Join> {
        let name = self.name();
        let keys = self.key_indices()?;
        let expiry = match &self.expiry {
            None => None,
            Some(expiry) => {
                let mut times = [0; 2];
                for (side, column) in [&expiry.left_time, &expiry.right_time]
                    .into_iter()
                    .enumerate()
                {
                    let schema = Arc::new(self.inputs()[side].0.clone());
                    let index = column_of(&schema, column, &name)?;
                    if !matches!(schema.field(index).data_type(), DataType::Timestamp(..)) {
                        return Err(RuntimeError::InvalidJobGraph(format!(
                            "{name}: the join's time '{column}' is not a TIMESTAMP"
                        )));
                    }
                    times[side] = index;
                }
                Some((times, [expiry.left_reach_millis, expiry.right_reach_millis]))
            }
        };
        let output = self.output_schema()?;
        let top_one = match &self.top_one {
            None => None,
            Some(_) if !self.can_feed_a_top_one() => {
                return Err(RuntimeError::InvalidJobGraph(format!(
                    "{name}: only a regular inner join of insert-only inputs, without a TTL, \
                     can keep only what a Top-1 after it shows"
                )));
            }
            Some(spec) => Some(TopOneAfter::new(
                spec,
                &name,
                &output,
                [&self.left, &self.right],
            )?),
        };
        let left_width = match self.kind.emits(0) {
            true => self.payload_fields(0, keys[0]).len(),
            false => 0,
        };
        let state = subtask_state(self.state_backend.as_deref(), context)?;
        let ttl_millis = self.state_ttl_millis.filter(|ttl| *ttl > 0);
        // A store that reads and writes a value whole (on disk) would do so
        // with a regular join's whole list of a key for every row; an
        // interval or window join's rows on disk stay in keyed state too.
        let listed = self.kind == JoinKind::Inner
            && state.store().updates_in_place()
            && ttl_millis.is_none()
            && !self.reads_changelog();
        let storage = match (listed, expiry.is_some()) {
            (false, _) => Storage::Entries,
            (true, true) => Storage::Expiring,
            (true, false) => Storage::Kept,
        };
        let key_copies = match storage {
            Storage::Entries => [None, None],
            Storage::Expiring | Storage::Kept => [0, 1].map(|side| self.key_copy(side, keys)),
        };
        let codec = |side: usize| {
            let mut fields = self.payload_fields(side, keys[side]);
            if let Some(copy) = key_copies[side] {
                fields.remove(copy);
            }
            // Map entries are found by their rows' bytes.
            let lookup = match storage {
                Storage::Entries => Lookup::ByBytes,
                Storage::Expiring | Storage::Kept => Lookup::Never,
            };
            RowCodec::of_fields(&fields, lookup).map_err(|source| {
                RuntimeError::InvalidJobGraph(format!("{name}: cannot store its rows: {source}"))
            })
        };
        let codecs = [codec(0)?, codec(1)?];
        // Only an inner join without a TTL leaves the other side's stored
        // rows as they are while it joins a batch.
        // (An interval or window join's keys mostly come once a batch:
        // finding them in the batch cost q7 more than it saved.)
        let batch_partners =
            (self.kind == JoinKind::Inner && ttl_millis.is_none() && storage != Storage::Expiring)
                .then(Partners::default);
        Ok(Join {
            storage,
            batch_partners,
            listing: Vec::new(),
            listed: Default::default(),
            top_one,
            left_width,
            deferred: Vec::new(),
            let_go_keys: HashSet::new(),
            buckets: Default::default(),
            expiry,
            padded_at_expiry: self.padded_at_expiry(),
            updates: self.updates(),
            timers: TimerService::new(),
            watermark: i64::MIN,
            kind: self.kind,
            keys,
            row_kinds: self.row_kind_columns(),
            codecs,
            key_copies,
            output,
            ttl_millis,
            max_parallelism: context.max_parallelism,
            state,
            name,
        })
    }
}

pub struct Join {
    name: String,
    kind: JoinKind,
    /// How stored rows are kept: listed per key by an inner join reading
    /// no changelog, with no TTL, in memory; as map entries otherwise.
    storage: Storage,
    /// The partners each key found in the batch being joined, when they
    /// cannot change during it (see [`super::join_partners`]).
    batch_partners: Option<Partners>,
    /// A listed join's rows of a run to list (their index in the batch and
    /// when they expire): kept from run to run, as most runs (q7's, keyed
    /// by price) are one row.
    listing: Vec<(usize, i64)>,
    /// A regular inner join's rows of each side, in memory.
    listed: [ListedRows; 2],
    /// The Top-1 every joined row goes to, if the planner found one.
    top_one: Option<TopOneAfter>,
    /// How many of the output's columns are the left side's.
    left_width: usize,
    /// The rows of the Top-1's ranked side to list once the rows they
    /// joined have been emitted (by their index in the batch), if they may
    /// still be shown then.
    deferred: Vec<usize>,
    /// The keys whose stored rows of the ranked side a batch of the other
    /// side has already sorted out ([`Join::let_go_of_passed`]).
    let_go_keys: HashSet<Box<[u8]>>,
    /// An interval or window join's rows of each side, in memory.
    buckets: [ExpiringBuckets; 2],
    /// An interval or window join's time column per side, and how long
    /// after its time a stored row of each side stays.
    expiry: Option<([usize; 2], [i64; 2])>,
    padded_at_expiry: bool,
    /// Whether its output carries row kinds.
    updates: bool,
    /// When each stored row of an interval or window join leaves state,
    /// where its rows are map entries (see [`Storage`]).
    timers: TimerService,
    watermark: i64,
    keys: [usize; 2],
    /// Each input's row kind column, if it is a changelog.
    row_kinds: [Option<usize>; 2],
    /// The codec of each side's stored rows: its payload columns but the
    /// key's copy, if it leaves that out.
    codecs: [RowCodec; 2],
    /// Where the column each side's key copies is among its payload
    /// columns, when stored rows leave it out (see [`JoinSpec::key_copies`]).
    key_copies: [Option<usize>; 2],
    output: SchemaRef,
    ttl_millis: Option<u64>,
    max_parallelism: u32,
    state: KeyedState,
}

/// Where one side's part of an output row comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// Padded with NULLs.
    Padded,
    /// The row at this index of the batch being joined: taken from the
    /// batch's columns, not decoded back from its bytes.
    Arrived(usize),
    /// A stored row, as its bytes.
    Stored(Vec<u8>),
    /// A stored row found earlier in the batch, by its index among the
    /// batch's [`Partners`] rows.
    Found(usize),
}

/// One output row: its kind and its left and right parts.
type Joined = (RowKind, Part, Part);

/// `side`'s part of a joined row.
fn part(side: usize, (_, left, right): &Joined) -> &Part {
    if side == 0 { left } else { right }
}

/// The batch rows `parts` show, when every one is a row of the batch.
fn arrived_indices<'a>(parts: impl Iterator<Item = &'a Part>) -> Option<UInt32Array> {
    parts
        .map(|p| match p {
            Part::Arrived(index) => u32::try_from(*index).ok(),
            _ => None,
        })
        .collect()
}

/// When row `index` of a batch expires, by its time (`times`, a column of
/// the batch) and how long its side's rows stay (`reach`): a row without a
/// time already has.
fn expires_at((times, reach): &(Int64Array, i64), index: usize) -> i64 {
    if times.is_null(index) {
        i64::MIN
    } else {
        times.value(index).saturating_add(*reach)
    }
}

/// The shortest time between the buckets of a listed join's rows: a side
/// of a short reach (none, a window join's) would make one a millisecond,
/// and a row of the other side searches every bucket between the watermark
/// and the latest rows, which can be tens of seconds of event time apart.
const MIN_DROP_STEP_MILLIS: i64 = 1_000;

/// When a listed row expiring at `expires`, of a side whose rows stay
/// `reach` ms after their time, is dropped: then, rounded up to an eighth
/// of the reach (a second at least), so that rows go a bucket of many at
/// a time (see [`super::expiring_buckets`]).
fn drop_time(reach: i64, expires: i64) -> i64 {
    let step = (reach / 8).max(MIN_DROP_STEP_MILLIS);
    let late = expires.rem_euclid(step);
    if late == 0 {
        expires
    } else {
        expires.saturating_add(step - late)
    }
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Join {
    fn failed(&self, message: impl std::fmt::Display) -> RuntimeError {
        RuntimeError::Operator {
            operator: self.name.clone(),
            message: message.to_string(),
        }
    }

    /// The columns of `batch` (from input `side`) a joined row shows: all
    /// but the key and the row kind.
    fn payload(&self, side: usize, batch: &RecordBatch) -> Vec<ArrayRef> {
        batch
            .columns()
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != self.keys[side] && Some(*i) != self.row_kinds[side])
            .map(|(_, c)| c.clone())
            .collect()
    }

    /// An output row of `kind` with `row` on `side` and `other` on the
    /// other side.
    fn pair(kind: RowKind, side: usize, row: Part, other: Part) -> Joined {
        if side == 0 {
            (kind, row, other)
        } else {
            (kind, other, row)
        }
    }

    /// `count` output rows of `kind` showing the stored `row` of `side`
    /// padded with NULLs.
    fn push_padded(out: &mut Vec<Joined>, count: u32, kind: RowKind, side: usize, row: &[u8]) {
        Self::push_pairs(
            out,
            count,
            kind,
            side,
            Part::Stored(row.to_vec()),
            Part::Padded,
        );
    }

    /// `count` output rows of `kind` joining the row `arrived` of the batch,
    /// of `side`, with the stored `partner` of the other side.
    fn push_joined(
        out: &mut Vec<Joined>,
        count: u32,
        kind: RowKind,
        side: usize,
        arrived: usize,
        partner: Vec<u8>,
    ) {
        let partner = Part::Stored(partner);
        Self::push_pairs(out, count, kind, side, Part::Arrived(arrived), partner);
    }

    /// `count` output rows of `kind` with `row` on `side` and `other` on the
    /// other side: a stored row counts how often it came.
    fn push_pairs(
        out: &mut Vec<Joined>,
        count: u32,
        kind: RowKind,
        side: usize,
        row: Part,
        other: Part,
    ) {
        for _ in 1..count {
            out.push(Self::pair(kind, side, row.clone(), other.clone()));
        }
        // The last (mostly the only) one takes the parts themselves.
        if count > 0 {
            out.push(Self::pair(kind, side, row, other));
        }
    }

    /// The other side's live rows under the current key; expired ones are
    /// dropped from state.
    fn partners(&mut self, other: usize, now: i64) -> Result<Vec<(Vec<u8>, Stored)>> {
        // One copy of each row, lent by the store, which the joined rows
        // then take.
        let mut stored = Vec::new();
        self.state
            .visit_byte_map(ROWS[other], &[], |row, entry: Stored| {
                stored.push((row.to_vec(), entry));
                Ok(())
            })?;
        let Some(ttl) = self.ttl_millis else {
            return Ok(stored);
        };
        let mut live = Vec::new();
        for (row, entry) in stored {
            if now.saturating_sub(entry.written) >= ttl as i64 {
                self.state.map_remove(ROWS[other], &[], &BytesRef(&row))?;
            } else {
                live.push((row, entry));
            }
        }
        Ok(live)
    }

    /// The listed rows of the other side than `side` under `key` (of key
    /// group `group`) that have not expired.
    fn listed_partners(&self, side: usize, (group, key): (u32, &[u8])) -> Result<Vec<Vec<u8>>> {
        if self.storage == Storage::Kept {
            let rows = self.listed[1 - side].rows(group, key)?;
            return Ok(rows.into_iter().map(<[u8]>::to_vec).collect());
        }
        let mut partners = Vec::new();
        let other = &self.buckets[1 - side];
        other.live_rows(other.hashed(key), self.watermark, |row| {
            partners.push(row.to_vec());
        })?;
        Ok(partners)
    }

    /// Where the listed rows of the other side than `side` under `key` (of
    /// key group `group`) are among the batch's [`Partners`]: read the
    /// first time the batch meets the key.
    fn found_listed_partners(
        &mut self,
        side: usize,
        (group, key): (u32, &[u8]),
    ) -> Result<Range<usize>> {
        if let Some(range) = self.batch_partners.as_ref().and_then(|found| found.of(key)) {
            return Ok(range);
        }
        let rows = self.listed_partners(side, (group, key))?;
        Ok(match self.batch_partners.as_mut() {
            Some(found) => found.keep(key, rows.into_iter().map(|row| (row, 1))),
            None => 0..0,
        })
    }

    /// Joins a batch of `side` (its keys, key groups, encoded rows, kinds,
    /// and when each row expires) as a listed join does: each row with the
    /// other side's listed rows of its key that have not expired, then
    /// listed itself unless it has. Rows of one key that follow each other
    /// (a window join's rows of one window, mostly) read the other side's
    /// list once and are added to their own in one update: joining a batch
    /// of one side changes only that side's lists.
    ///
    /// Starts at row `from`, and stops after the run that makes `out` hold
    /// a batch's rows ([`JOINED_BATCH_ROWS`]): answers where to go on
    /// (the batch's length when it is done). Rows of a Top-1's ranked side
    /// that `hopeful` says cannot come first are neither joined nor listed.
    fn join_listed_batch(
        &mut self,
        side: usize,
        (keys, groups): (&RowKeys, &[u32]),
        (rows, kinds, hopeful): (&EncodedRows, &[RowKind], Option<&[bool]>),
        expiries: impl Fn(usize) -> i64,
        (from, out): (usize, &mut Vec<Joined>),
    ) -> Result<usize> {
        let hopeful = |index: usize| hopeful.is_none_or(|hopeful| hopeful[index]);
        let count = groups.len();
        let mut start = from;
        while start < count && out.len() < JOINED_BATCH_ROWS {
            // An inner join's row without a key can never match.
            if keys.has_null(start) {
                start += 1;
                continue;
            }
            let key = keys.key(start);
            let end = (start + 1..count)
                .find(|&row| keys.has_null(row) || keys.key(row) != key)
                .unwrap_or(count);
            let group = groups[start];
            if !(start..end).any(hopeful) {
                start = end;
                continue;
            }
            let (mut partners, found) = if self.batch_partners.is_some() {
                (
                    Vec::new(),
                    Some(self.found_listed_partners(side, (group, key))?),
                )
            } else {
                (self.listed_partners(side, (group, key))?, None)
            };
            let had_partners =
                !partners.is_empty() || found.as_ref().is_some_and(|r| !r.is_empty());
            let mut listing = std::mem::take(&mut self.listing);
            listing.clear();
            for (index, &kind) in kinds.iter().enumerate().take(end).skip(start) {
                if !hopeful(index) {
                    continue;
                }
                if let (Some(range), Some(batch_partners)) = (&found, &self.batch_partners) {
                    for &(row, _) in batch_partners.entries(range.clone()) {
                        let partner = Part::Found(row);
                        Self::push_pairs(out, 1, kind, side, Part::Arrived(index), partner);
                    }
                }
                // The run's last row takes the partners read, the others copies.
                let joined = if index + 1 == end {
                    std::mem::take(&mut partners)
                } else {
                    partners.clone()
                };
                for partner in joined {
                    Self::push_joined(out, 1, kind, side, index, partner);
                }
                // A row no row still to come can match is not listed.
                let expires = expiries(index);
                if expires > self.watermark {
                    listing.push((index, expires));
                }
            }
            let ranked = self.top_one.as_ref().map(TopOneAfter::ranked_side) == Some(side);
            if ranked && had_partners {
                // Whether they still may come first is known once the rows
                // they joined are chosen from. (Rows without partners
                // changed no best: what `hopeful` said holds.)
                self.deferred
                    .extend(listing.iter().map(|&(index, _)| index));
            } else {
                self.list_rows(side, (group, key), rows, &listing);
            }
            self.listing = listing;
            start = end;
        }
        Ok(start)
    }

    /// Joins a batch of `side` row by row (its keys, key groups, encoded
    /// rows and kinds, the times its rows expire by, if they do, and the
    /// time they are written at).
    fn join_each_row(
        &mut self,
        side: usize,
        (keys, groups): (&RowKeys, &[u32]),
        (rows, kinds): (&EncodedRows, &[RowKind]),
        (expiries, now): (Option<&(Int64Array, i64)>, i64),
        joined: &mut Vec<Joined>,
    ) -> Result<()> {
        for index in 0..groups.len() {
            let row = rows.row(index);
            let kind = kinds[index];
            let retracts = kind.retracts();
            if keys.has_null(index) {
                // It can never match; an outer join shows it padded, once,
                // and takes that back with it.
                if self.kind.preserves(side) {
                    let shown = if retracts {
                        RowKind::Delete
                    } else {
                        RowKind::Insert
                    };
                    joined.push(Self::pair(shown, side, Part::Arrived(index), Part::Padded));
                }
                continue;
            }
            let key = keys.key(index);
            self.state.set_current_key(groups[index], key)?;
            if retracts {
                // Only a regular join reads a changelog: no expiry to mind.
                self.retract_row(side, (row, index), kind, now, joined)?;
                continue;
            }
            let expires = expiries.map(|expiries| expires_at(expiries, index));
            // A row no row still to come can match is not stored.
            let keep = expires.is_none_or(|at| at > self.watermark);
            if let (true, Some(timestamp)) = (keep, expires) {
                let mut namespace = vec![side as u8];
                namespace.extend_from_slice(row);
                let timer = Timer {
                    timestamp,
                    key_group: groups[index],
                    key: key.into(),
                    namespace: namespace.into(),
                };
                self.timers.register(TimeDomain::EventTime, timer);
            }
            let partner_rows = self.join_row((side, key), index, kind, now, joined)?;
            if keep {
                self.store_row(side, row, partner_rows, now)?;
            }
        }
        Ok(())
    }

    /// Lists the rows of `side` at `listing` (their index among `rows` and
    /// when they expire) under `key` (of key group `group`).
    fn list_rows(
        &mut self,
        side: usize,
        (group, key): (u32, &[u8]),
        rows: &EncodedRows,
        listing: &[(usize, i64)],
    ) {
        if listing.is_empty() {
            return;
        }
        if self.storage == Storage::Kept {
            let listed = listing.iter().map(|&(index, _)| rows.row(index));
            self.listed[side].append(group, key, listed);
            return;
        }
        let reach = self.reach(side);
        let buckets = &mut self.buckets[side];
        let key = buckets.hashed(key);
        for &(index, expires) in listing {
            buckets.append(key, (expires, drop_time(reach, expires)), rows.row(index));
        }
    }

    /// Lists the deferred rows of the Top-1's ranked side, `side`, that
    /// may still be shown now that the rows they joined are emitted (their
    /// keys, key groups, encoded rows and order keys).
    fn list_deferred(
        &mut self,
        side: usize,
        (keys, groups): (&RowKeys, &[u32]),
        rows: &EncodedRows,
        sort_keys: Option<&Rows>,
    ) {
        let (Some(top_one), Some(sort_keys)) = (&self.top_one, sort_keys) else {
            return;
        };
        for &index in &self.deferred {
            let key = (groups[index], keys.key(index));
            if top_one.may_come_first(key, sort_keys.row(index).as_ref()) {
                self.listed[side].append(key.0, key.1, std::iter::once(rows.row(index)));
            }
        }
        self.deferred.clear();
    }

    /// How long after its time a stored row of `side` stays.
    fn reach(&self, side: usize) -> i64 {
        self.expiry.map_or(0, |(_, reach)| reach[side])
    }

    /// Semi-joins the row `arrived` of the batch, of `side`, under the
    /// current key: a row of the kept side is emitted once, when it first
    /// has a partner. Answers how many partner rows it has.
    fn semi_join_row(
        &mut self,
        kept: usize,
        side: usize,
        arrived: usize,
        now: i64,
        out: &mut Vec<Joined>,
    ) -> Result<u32> {
        let other = 1 - side;
        let partners = self.partners(other, now)?;
        let partner_rows: u32 = partners.iter().map(|(_, entry)| entry.count).sum();
        if side == kept {
            if partner_rows > 0 {
                out.push(Self::pair(
                    RowKind::Insert,
                    side,
                    Part::Arrived(arrived),
                    Part::Padded,
                ));
            }
            return Ok(partner_rows);
        }
        for (partner, mut entry) in partners {
            if entry.partners == 0 {
                Self::push_padded(out, entry.count, RowKind::Insert, other, &partner);
            }
            entry.partners += 1;
            self.state
                .map_put(ROWS[other], &[], &BytesRef(&partner), &entry)?;
        }
        Ok(partner_rows)
    }

    /// Joins the row `arrived` of the batch, of `side` (an insert or an
    /// update's new value, as `kind` says), under the current key; how many
    /// partner rows it has.
    fn join_row(
        &mut self,
        (side, key): (usize, &[u8]),
        arrived: usize,
        kind: RowKind,
        now: i64,
        out: &mut Vec<Joined>,
    ) -> Result<u32> {
        if let Some(kept) = self.kind.semi_side() {
            return self.semi_join_row(kept, side, arrived, now, out);
        }
        let other = 1 - side;
        if self.batch_partners.is_some() {
            return self.join_found(side, key, arrived, kind, out);
        }
        // Only where neither side is outer does a result keep its row's
        // kind; an outer join speaks in inserts and deletes.
        let joined_kind = if self.kind.preserves(side) || self.kind.preserves(other) {
            RowKind::Insert
        } else {
            kind
        };
        let partners = self.partners(other, now)?;
        let mut partner_rows = 0;
        for (partner, mut entry) in partners {
            partner_rows += entry.count;
            if self.kind.preserves(other) {
                if entry.partners == 0 && !self.padded_at_expiry {
                    // Its padded rows were shown; take them back first.
                    Self::push_padded(out, entry.count, RowKind::Delete, other, &partner);
                }
                entry.partners += 1;
                self.state
                    .map_put(ROWS[other], &[], &BytesRef(&partner), &entry)?;
            }
            Self::push_joined(out, entry.count, joined_kind, side, arrived, partner);
        }
        if partner_rows == 0 && self.kind.preserves(side) && !self.padded_at_expiry {
            out.push(Self::pair(
                RowKind::Insert,
                side,
                Part::Arrived(arrived),
                Part::Padded,
            ));
        }
        Ok(partner_rows)
    }

    /// Joins as [`Join::join_row`] does an inner join's row, with the
    /// partners its key found earlier in the batch, or finds them.
    fn join_found(
        &mut self,
        side: usize,
        key: &[u8],
        arrived: usize,
        kind: RowKind,
        out: &mut Vec<Joined>,
    ) -> Result<u32> {
        let range = match self.batch_partners.as_ref().and_then(|found| found.of(key)) {
            Some(range) => range,
            None => {
                // No TTL: when a row was written is not read.
                let stored = self.partners(1 - side, 0)?;
                let stored = stored.into_iter().map(|(row, e)| (row, e.count));
                match self.batch_partners.as_mut() {
                    Some(found) => found.keep(key, stored),
                    None => 0..0,
                }
            }
        };
        let found = self
            .batch_partners
            .as_ref()
            .map(|found| found.entries(range));
        let mut partner_rows = 0;
        for &(row, count) in found.unwrap_or_default() {
            partner_rows += count;
            let partner = Part::Found(row);
            Self::push_pairs(out, count, kind, side, Part::Arrived(arrived), partner);
        }
        Ok(partner_rows)
    }

    /// Takes back the `-U` or `-D` row (`kind`) `arrived` of the batch, of
    /// `side` and with the bytes `row`, under the current key: what it
    /// joined is retracted, an outer partner left without partners is
    /// shown padded again, and one stored copy of the row is forgotten.
    fn retract_row(
        &mut self,
        side: usize,
        (row, arrived): (&[u8], usize),
        kind: RowKind,
        now: i64,
        out: &mut Vec<Joined>,
    ) -> Result<()> {
        let other = 1 - side;
        let outer = self.kind.preserves(side);
        let retracted = if outer { RowKind::Delete } else { kind };
        let partners = self.partners(other, now)?;
        if partners.is_empty() && outer {
            out.push(Self::pair(
                RowKind::Delete,
                side,
                Part::Arrived(arrived),
                Part::Padded,
            ));
        }
        for (partner, mut entry) in partners {
            Self::push_joined(out, entry.count, retracted, side, arrived, partner.clone());
            if self.kind.preserves(other) {
                entry.partners = entry.partners.saturating_sub(1);
                if entry.partners == 0 {
                    Self::push_padded(out, entry.count, RowKind::Insert, other, &partner);
                }
                self.state
                    .map_put(ROWS[other], &[], &BytesRef(&partner), &entry)?;
            }
        }
        self.unstore_row(side, row)
    }

    /// Forgets one stored copy of a row of `side`; a row never stored (its
    /// insert expired, or never came) is nothing to forget.
    fn unstore_row(&mut self, side: usize, row: &[u8]) -> Result<()> {
        self.state
            .map_update(ROWS[side], &[], &BytesRef(row), |stored: Option<Stored>| {
                stored.filter(|entry| entry.count > 1).map(|entry| Stored {
                    count: entry.count - 1,
                    ..entry
                })
            })
    }

    /// Stores an arrived row of `side` that has `partner_rows` partners.
    fn store_row(&mut self, side: usize, row: &[u8], partner_rows: u32, now: i64) -> Result<()> {
        self.state
            .map_update(ROWS[side], &[], &BytesRef(row), |stored: Option<Stored>| {
                let entry = stored.unwrap_or_default();
                Some(Stored {
                    count: entry.count + 1,
                    partners: entry.partners.max(partner_rows),
                    written: now,
                })
            })
    }

    /// The columns of one side of `joined`, NULL where a row is padded:
    /// stored rows decoded, arrived ones taken from `arrived`, the payload
    /// columns of the batch being joined when it is of this side. Stored
    /// rows that leave out the key's copy come back without that column
    /// ([`Join::emit`] puts it in).
    fn side_columns(
        &self,
        side: usize,
        joined: &[Joined],
        arrived: Option<&[ArrayRef]>,
    ) -> Result<Vec<ArrayRef>> {
        let parts: Vec<&Part> = joined.iter().map(|j| part(side, j)).collect();
        let mut rows: Vec<&[u8]> = parts
            .iter()
            .filter_map(|p| match p {
                Part::Stored(bytes) => Some(bytes.as_slice()),
                _ => None,
            })
            .collect();
        let stored = rows.len();
        // The rows found in the batch follow the other stored ones.
        if parts.iter().any(|p| matches!(p, Part::Found(_))) {
            let found = self.batch_partners.as_ref().map(Partners::rows);
            rows.extend(found.unwrap_or_default().iter().map(Vec::as_slice));
        }
        let decoded = self.codecs[side]
            .decode(rows.iter().copied())
            .map_err(|e| self.failed(e))?;
        if stored == parts.len() {
            return Ok(decoded);
        }
        let found_at = |index: usize| stored + index;
        let decoded_rows: Option<UInt32Array> = parts
            .iter()
            .scan(0, |next_stored, p| {
                Some(match p {
                    Part::Stored(_) => {
                        *next_stored += 1;
                        u32::try_from(*next_stored - 1).ok()
                    }
                    Part::Found(index) => u32::try_from(found_at(*index)).ok(),
                    Part::Arrived(_) | Part::Padded => None,
                })
            })
            .collect();
        if let Some(indices) = decoded_rows {
            // All of them stored: a take of the decoded rows, each found
            // row decoded once however often it joined.
            return decoded
                .iter()
                .map(|c| {
                    arrow_select::take::take(c.as_ref(), &indices, None).map_err(|e| self.failed(e))
                })
                .collect();
        }
        if let (Some(indices), Some(arrived)) = (arrived_indices(parts.iter().copied()), arrived) {
            // All of them from the batch: a take of its columns.
            return arrived
                .iter()
                .map(|c| {
                    arrow_select::take::take(c.as_ref(), &indices, None).map_err(|e| self.failed(e))
                })
                .collect();
        }
        // Sources to interleave: 0 the decoded rows, 1 the batch, 2 a NULL.
        let mut next_stored = 0;
        let mut sources = Vec::with_capacity(parts.len());
        for p in &parts {
            sources.push(match p {
                Part::Stored(_) => {
                    next_stored += 1;
                    (0, next_stored - 1)
                }
                Part::Found(index) => (0, found_at(*index)),
                Part::Arrived(index) if arrived.is_some() => (1, *index),
                Part::Arrived(_) => return Err(self.failed("a joined row of a batch not at hand")),
                Part::Padded => (2, 0),
            });
        }
        decoded
            .iter()
            .enumerate()
            .map(|(column, decoded)| {
                let data_type = decoded.data_type();
                let from_batch = match arrived.and_then(|a| a.get(column)) {
                    // Decoded rows can come back as another type than the
                    // input's (a dictionary as its values): one type to interleave.
                    Some(c) if c.data_type() != data_type => {
                        arrow_cast::cast(c, data_type).map_err(|e| self.failed(e))?
                    }
                    Some(c) => c.clone(),
                    None => arrow_array::new_empty_array(data_type),
                };
                let null = arrow_array::new_null_array(data_type, 1);
                arrow_select::interleave::interleave(
                    &[decoded.as_ref(), from_batch.as_ref(), null.as_ref()],
                    &sources,
                )
                .map_err(|e| self.failed(e))
            })
            .collect()
    }

    /// The column a stored side's rows left out as a copy of their key, for
    /// each row of `joined`: the key of the row of the batch it joined
    /// (`keys`, the batch's key column, of the other side).
    fn key_copy_column(&self, side: usize, joined: &[Joined], keys: &ArrayRef) -> Result<ArrayRef> {
        let indices = arrived_indices(joined.iter().map(|j| part(1 - side, j)))
            .ok_or_else(|| self.failed("a stored row joined no row of a batch"))?;
        arrow_select::take::take(keys.as_ref(), &indices, None).map_err(|e| self.failed(e))
    }

    /// Emits the batch of `joined` to `out` (see [`Join::emit`]): with a
    /// Top-1 after the join, only its rows that Top-1 takes (the keys and
    /// key groups of the arrived rows say whose they are).
    fn emit_to(
        &mut self,
        joined: &[Joined],
        arrived: (usize, &[ArrayRef], &ArrayRef),
        (keys, groups): (&RowKeys, &[u32]),
        out: &mut Vec<RecordBatch>,
    ) -> Result<()> {
        let Some(top_one) = &self.top_one else {
            out.push(self.emit(joined, Some(arrived))?);
            return Ok(());
        };
        // The columns the Top-1's choice reads first, then the rows it
        // shows whole.
        let (read, sides) = self.emit_wanted(joined, arrived, top_one.read_columns())?;
        let name = &self.name;
        let failed = |message: String| RuntimeError::Operator {
            operator: name.clone(),
            message,
        };
        let key_of = |row: usize| match joined.get(row).map(|j| part(arrived.0, j)) {
            Some(Part::Arrived(index)) => Ok((groups[*index], keys.key(*index))),
            _ => Err(failed("a joined row of no arrived row".into())),
        };
        let Some(top_one) = self.top_one.as_mut() else {
            return Ok(());
        };
        let (firsts, sort_keys) = top_one.choose_firsts(&read, key_of, failed)?;
        out.extend(self.emit_kept(joined, arrived, sides, &firsts)?);
        if self.storage == Storage::Kept {
            self.let_go_of_passed(joined, arrived.0, (keys, groups), &sort_keys)?;
        }
        Ok(())
    }

    /// Lets go of the stored rows of the Top-1's ranked side that rows of
    /// the other side, `side`, joined in `joined` (whose order keys are
    /// `sort_keys`) and that can no longer come first: a row that came
    /// before its partner is behind the best its partner made. Each key
    /// once a batch, as the batch's [`Partners`] keep its rows as they
    /// were.
    fn let_go_of_passed(
        &mut self,
        joined: &[Joined],
        side: usize,
        (keys, groups): (&RowKeys, &[u32]),
        sort_keys: &Rows,
    ) -> Result<()> {
        let Some(top_one) = &self.top_one else {
            return Ok(());
        };
        let ranked = top_one.ranked_side();
        if ranked == side {
            return Ok(());
        }
        let mut start = 0;
        while start < joined.len() {
            let Part::Arrived(index) = *part(side, &joined[start]) else {
                return Err(self.failed("a joined row of no arrived row"));
            };
            let end = (start..joined.len())
                .find(|&row| *part(side, &joined[row]) != Part::Arrived(index))
                .unwrap_or(joined.len());
            let key = (groups[index], keys.key(index));
            if self.let_go_keys.insert(key.1.into()) {
                let keep: Vec<bool> = (start..end)
                    .map(|row| top_one.may_come_first(key, sort_keys.row(row).as_ref()))
                    .collect();
                self.listed[ranked].retain(key.0, key.1, &keep)?;
            }
            start = end;
        }
        Ok(())
    }

    /// The batch of `joined`, whose arrived rows are of the batch of the
    /// side `arrived` names, with its payload columns and its key column.
    fn emit(
        &self,
        joined: &[Joined],
        arrived: Option<(usize, &[ArrayRef], &ArrayRef)>,
    ) -> Result<RecordBatch> {
        let mut columns = Vec::new();
        for side in 0..2 {
            if self.kind.emits(side) {
                columns.extend(self.side_output(side, joined, arrived)?);
            }
        }
        if self.updates {
            columns.push(Arc::new(Int8Array::from_iter_values(
                joined.iter().map(|(kind, ..)| *kind as i8),
            )));
        }
        let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(joined.len()));
        RecordBatch::try_new_with_options(self.output.clone(), columns, &options)
            .map_err(|e| self.failed(e))
    }

    /// The columns of `side` in the batch of `joined` (see [`Join::emit`]).
    fn side_output(
        &self,
        side: usize,
        joined: &[Joined],
        arrived: Option<(usize, &[ArrayRef], &ArrayRef)>,
    ) -> Result<Vec<ArrayRef>> {
        let of_side = arrived.filter(|(of, ..)| *of == side);
        let mut side_columns = self.side_columns(side, joined, of_side.map(|(_, c, _)| c))?;
        match (self.key_copies[side], arrived) {
            (Some(at), Some((of, _, keys))) if of != side && at <= side_columns.len() => {
                side_columns.insert(at, self.key_copy_column(side, joined, keys)?);
            }
            (Some(_), _) if of_side.is_none() => {
                return Err(self.failed("stored rows without their key's copy to show"));
            }
            _ => {}
        }
        Ok(side_columns)
    }

    /// Only the output columns at `wanted` of the batch of `joined`, as
    /// `schema`: the side whose rows all arrived takes only those of its
    /// columns from the batch, not all (an auction's long strings for each
    /// of its bids), as a Top-1 after the join reads a few columns of many
    /// rows it does not show. Also the whole columns of each side it built
    /// them from (see [`Join::emit_kept`]).
    fn emit_wanted(
        &self,
        joined: &[Joined],
        arrived: (usize, &[ArrayRef], &ArrayRef),
        (wanted, schema): (&[usize], &SchemaRef),
    ) -> Result<(RecordBatch, SideColumns)> {
        let (of, payload, _) = arrived;
        let arrived_rows = arrived_indices(joined.iter().map(|j| part(of, j)));
        let mut sides: [Option<Vec<ArrayRef>>; 2] = Default::default();
        let mut columns = Vec::with_capacity(wanted.len());
        for &at in wanted {
            let (side, column) = match at.checked_sub(self.left_width) {
                None => (0, at),
                Some(column) => (1, column),
            };
            let array = match (&arrived_rows, payload.get(column)) {
                (Some(indices), Some(array)) if side == of => {
                    arrow_select::take::take(array.as_ref(), indices, None)
                        .map_err(|e| self.failed(e))?
                }
                _ => {
                    if sides[side].is_none() {
                        sides[side] = Some(self.side_output(side, joined, Some(arrived))?);
                    }
                    let side_columns = sides[side].as_deref().unwrap_or_default();
                    let array = side_columns.get(column);
                    array
                        .cloned()
                        .ok_or_else(|| self.failed("no such joined column"))?
                }
            };
            columns.push(array);
        }
        let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(joined.len()));
        let batch = RecordBatch::try_new_with_options(schema.clone(), columns, &options)
            .map_err(|e| self.failed(e))?;
        Ok((batch, sides))
    }

    /// The batch of the rows of `joined` that `kept` says (see
    /// [`Join::emit`]): a side whose whole columns were built already
    /// (`sides`, for every row of `joined`) keeps those rows of them, the
    /// other takes them from the arrived batch.
    fn emit_kept(
        &self,
        joined: &[Joined],
        arrived: (usize, &[ArrayRef], &ArrayRef),
        sides: SideColumns,
        kept: &[bool],
    ) -> Result<Option<RecordBatch>> {
        let shown: Vec<Joined> = (joined.iter().zip(kept))
            .filter(|(_, kept)| **kept)
            .map(|(row, _)| row.clone())
            .collect();
        if shown.is_empty() {
            return Ok(None);
        }
        // No row kind column: a join that feeds a Top-1 reads no changelog.
        let mask = arrow_array::BooleanArray::from(kept.to_vec());
        let mut columns = Vec::new();
        for (side, built) in sides.into_iter().enumerate() {
            if !self.kind.emits(side) {
                continue;
            }
            match built {
                Some(built) => {
                    for column in built {
                        let kept = arrow_select::filter::filter(column.as_ref(), &mask);
                        columns.push(kept.map_err(|e| self.failed(e))?);
                    }
                }
                None => columns.extend(self.side_output(side, &shown, Some(arrived))?),
            }
        }
        let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(shown.len()));
        RecordBatch::try_new_with_options(self.output.clone(), columns, &options)
            .map(Some)
            .map_err(|e| self.failed(e))
    }
}

/// The whole columns of each side of a batch of joined rows, for the
/// sides built.
type SideColumns = [Option<Vec<ArrayRef>>; 2];

impl Operator for Join {
    fn process_batch(&mut self, _batch: RecordBatch, _out: &mut Vec<RecordBatch>) -> Result<()> {
        Err(self.failed("a join needs to know which input a batch comes from"))
    }

    fn process_input(
        &mut self,
        input: usize,
        batch: RecordBatch,
        out: &mut Vec<RecordBatch>,
    ) -> Result<()> {
        if input > 1 {
            return Err(self.failed(format!("a join has two inputs, not input {input}")));
        }
        let side = input;
        if let Some(found) = self.batch_partners.as_mut() {
            found.clear();
        }
        self.let_go_keys.clear();
        // Indices of an earlier batch (one that failed part way) are not
        // this batch's.
        self.deferred.clear();
        let (keys, groups) = row_keys_of(
            &batch,
            Some(self.keys[side]),
            self.max_parallelism,
            &self.name,
        )?;
        let payload = self.payload(side, &batch);
        let mut stored = payload.clone();
        if let Some(copy) = self.key_copies[side].filter(|&copy| copy < stored.len()) {
            stored.remove(copy);
        }
        let rows = self.codecs[side]
            .encode(&stored)
            .map_err(|e| self.failed(e))?;
        // Only the TTL reads when a row was written; without one every
        // row is stored as written at 0, five bytes shorter in state.
        let now = if self.ttl_millis.is_some() {
            now_millis()
        } else {
            0
        };
        // An interval or window join's rows leave state at their time plus
        // their reach.
        let expiries = match self.expiry {
            Some((times, reach)) => {
                let times = epoch_millis(batch.column(times[side])).map_err(|e| self.failed(e))?;
                Some((times, reach[side]))
            }
            None => None,
        };
        let kinds = row_kinds(&batch, self.row_kinds[side]).map_err(|e| self.failed(e))?;
        let key_column = batch.column(self.keys[side]);
        let mut joined = Vec::new();
        if self.storage == Storage::Entries {
            self.join_each_row(
                side,
                (&keys, &groups),
                (&rows, &kinds),
                (expiries.as_ref(), now),
                &mut joined,
            )?;
            if !joined.is_empty() {
                let arrived = (side, payload.as_slice(), key_column);
                self.emit_to(&joined, arrived, (&keys, &groups), out)?;
            }
            return Ok(());
        }
        // Rows kept for good expire after every watermark. A row can join
        // thousands (q5's window maximum every count of its window): the
        // joined rows go out a batch at a time.
        let expires = |index| expiries.as_ref().map_or(i64::MAX, |e| expires_at(e, index));
        // The order keys of the Top-1's ranked side say which of its rows
        // to list.
        let sort_keys = match &self.top_one {
            Some(top_one) if top_one.ranked_side() == side => {
                Some(top_one.arriving_sort_keys(&batch, |e| self.failed(e))?)
            }
            _ => None,
        };
        // Those of its rows that are behind their key's best already need
        // not be joined.
        let hopeful: Option<Vec<bool>> = match (&self.top_one, &sort_keys) {
            (Some(top_one), Some(sort_keys)) => Some(
                (0..groups.len())
                    .map(|index| {
                        keys.has_null(index)
                            || top_one.may_come_first(
                                (groups[index], keys.key(index)),
                                sort_keys.row(index).as_ref(),
                            )
                    })
                    .collect(),
            ),
            _ => None,
        };
        let mut from = 0;
        while from < groups.len() {
            let batch_rows = (&keys, groups.as_slice());
            let at = (from, &mut joined);
            let arrived = (&rows, kinds.as_slice(), hopeful.as_deref());
            from = self.join_listed_batch(side, batch_rows, arrived, expires, at)?;
            if !joined.is_empty() {
                let arrived = (side, payload.as_slice(), key_column);
                self.emit_to(&joined, arrived, batch_rows, out)?;
                joined.clear();
            }
            self.list_deferred(side, batch_rows, &rows, sort_keys.as_ref());
        }
        Ok(())
    }

    fn process_watermark(&mut self, watermark: i64, out: &mut Vec<RecordBatch>) -> Result<()> {
        self.watermark = self.watermark.max(watermark);
        let pads = self.padded_at_expiry && (self.kind.preserves(0) || self.kind.preserves(1));
        if watermark == i64::MAX && self.expiry.is_some() && !pads {
            // The final watermark: every stored row has expired, and none
            // is shown for it. Forget them at once, not one timer at a time
            // (Nexmark q7 holds all of its 9 million bids until then).
            self.timers.clear(TimeDomain::EventTime);
            for buckets in &mut self.buckets {
                buckets.clear();
            }
            return self.state.clear_all();
        }
        if self.storage == Storage::Expiring {
            for buckets in &mut self.buckets {
                buckets.drop_through(watermark);
            }
            return Ok(());
        }
        let mut padded = Vec::new();
        for timer in self.timers.advance(TimeDomain::EventTime, watermark) {
            let Some((&side, row)) = timer.namespace.split_first() else {
                continue;
            };
            let side = usize::from(side);
            self.state.set_current_key(timer.key_group, &timer.key)?;
            if self.padded_at_expiry && self.kind.preserves(side) {
                let stored: Option<Stored> = self.state.map_get(ROWS[side], &[], &BytesRef(row))?;
                if let Some(entry) = stored.filter(|e| e.partners == 0) {
                    Self::push_padded(&mut padded, entry.count, RowKind::Insert, side, row);
                }
            }
            self.state.map_remove(ROWS[side], &[], &BytesRef(row))?;
        }
        if !padded.is_empty() {
            out.push(self.emit(&padded, None)?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Int8Type, Int64Type};
    use arrow_array::{Array, Int64Array, StringArray};

    use super::*;

    fn spec(kind: JoinKind, ttl: Option<u64>) -> JoinSpec {
        JoinSpec {
            name: None,
            kind,
            left: Schema::new(vec![
                Field::new("id", DataType::Int64, true),
                Field::new("name", DataType::Utf8, true),
            ]),
            right: Schema::new(vec![
                Field::new("owner", DataType::Int64, true),
                Field::new("price", DataType::Int64, true),
            ]),
            left_key: "id".into(),
            right_key: "owner".into(),
            state_ttl_millis: ttl,
            state_backend: None,
            expiry: None,
            key_copies: [None, None],
            top_one: None,
        }
    }

    fn context() -> SubtaskContext {
        SubtaskContext::alone()
    }

    fn left(rows: &[(Option<i64>, &str)]) -> RecordBatch {
        let schema = Arc::new(spec(JoinKind::Inner, None).left);
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from_iter(rows.iter().map(|r| r.0))),
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
            ],
        )
        .unwrap()
    }

    fn right(rows: &[(i64, i64)]) -> RecordBatch {
        let schema = Arc::new(spec(JoinKind::Inner, None).right);
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0))),
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1))),
            ],
        )
        .unwrap()
    }

    /// Output rows as `kind name price`, `_` for NULL.
    fn rows(out: &[RecordBatch]) -> Vec<String> {
        let mut rows = Vec::new();
        for batch in out {
            let names = batch.column(0).as_string::<i32>();
            let prices = batch.column(1).as_primitive::<Int64Type>();
            let kinds = batch
                .column_by_name(ROW_KIND_COLUMN)
                .map(|c| c.as_primitive::<Int8Type>().clone());
            for row in 0..batch.num_rows() {
                let kind = kinds
                    .as_ref()
                    .and_then(|k| RowKind::from_byte(k.value(row)))
                    .unwrap_or(RowKind::Insert);
                let name = if names.is_valid(row) {
                    names.value(row)
                } else {
                    "_"
                };
                let price = prices.is_valid(row).then(|| prices.value(row).to_string());
                rows.push(format!(
                    "{} {name} {}",
                    kind.short_string(),
                    price.as_deref().unwrap_or("_")
                ));
            }
        }
        rows
    }

    #[test]
    fn an_inner_join_matches_rows_whichever_side_comes_first() {
        let mut join = spec(JoinKind::Inner, None).create(&context()).unwrap();
        let mut out = Vec::new();
        join.process_input(1, right(&[(1, 10)]), &mut out).unwrap();
        join.process_input(
            0,
            left(&[(Some(1), "a"), (Some(2), "b"), (None, "n")]),
            &mut out,
        )
        .unwrap();
        join.process_input(1, right(&[(1, 11), (2, 20), (3, 30)]), &mut out)
            .unwrap();
        let mut joined = rows(&out);
        joined.sort();
        assert_eq!(joined, ["+I a 10", "+I a 11", "+I b 20"]);
        assert_eq!(join.output.fields().len(), 2, "keys are left out");
    }

    #[test]
    fn rows_of_a_key_repeated_in_a_batch_join_every_partner_each_time() {
        // In memory the rows are listed; on disk they are map entries.
        for (backend, storage) in [("hashmap", Storage::Kept), ("rocksdb", Storage::Entries)] {
            let mut spec = spec(JoinKind::Inner, None);
            spec.state_backend = Some(backend.into());
            let mut join = spec.create(&context()).unwrap();
            assert_eq!(join.storage, storage);
            join_every_partner_each_time(&mut join);
        }
    }

    #[test]
    fn a_join_ranked_by_a_top_one_shows_and_keeps_only_rows_that_can_come_first() {
        for (backend, storage) in [("hashmap", Storage::Kept), ("rocksdb", Storage::Entries)] {
            let mut spec = spec(JoinKind::Inner, None);
            spec.state_backend = Some(backend.into());
            spec.top_one = Some(JoinTopOne {
                side: 1,
                order: vec![super::super::SortKey {
                    column: "price".into(),
                    descending: true,
                    nulls_first: false,
                }],
                condition: Some("price < 100".into()),
            });
            let mut join = spec.create(&context()).unwrap();
            assert_eq!(join.storage, storage);
            let mut out = Vec::new();
            // Before any partner: all kept.
            join.process_input(1, right(&[(1, 50), (1, 200), (2, 30)]), &mut out)
                .unwrap();
            // 200 fails the condition; 50 is key 1's first.
            join.process_input(0, left(&[(Some(1), "a")]), &mut out)
                .unwrap();
            // 40 is behind 50, 60 before it (then tied by the next 60), and
            // 300 fails the condition but may pass with another partner.
            let bids = right(&[(1, 40), (1, 60), (1, 300), (1, 60)]);
            join.process_input(1, bids, &mut out).unwrap();
            // A second row of key 1 joins no bid before 60; key 2's first.
            join.process_input(0, left(&[(Some(1), "b"), (Some(2), "c")]), &mut out)
                .unwrap();
            assert_eq!(rows(&out), ["+I a 50", "+I a 60", "+I c 30"], "{backend}");
            assert_eq!(join.top_one.as_ref().map(TopOneAfter::keys), Some(2));
            if storage == Storage::Kept {
                // 200 and 300, which may pass with another partner; not
                // 40 nor either 60, nor 50 and 30 once they were shown.
                assert_eq!(join.listed[1].reached_rows(), 2);
            }
        }
    }

    fn join_every_partner_each_time(join: &mut Join) {
        let mut out = Vec::new();
        // Key 1 has two stored rows, one of them twice; key 2 one; key 3 none.
        let stored = [
            (Some(1), "a"),
            (Some(1), "b"),
            (Some(1), "a"),
            (Some(2), "c"),
        ];
        join.process_input(0, left(&stored), &mut out).unwrap();
        let arriving = [
            (1, 10),
            (3, 30),
            (2, 20),
            (1, 11),
            (1, 12),
            (3, 31),
            (2, 21),
        ];
        join.process_input(1, right(&arriving), &mut out).unwrap();
        // And again in the next batch, after a new row of key 2.
        join.process_input(0, left(&[(Some(2), "d")]), &mut out)
            .unwrap();
        join.process_input(1, right(&[(2, 22), (1, 13), (2, 23)]), &mut out)
            .unwrap();
        // Every pair of rows with equal keys, whichever came first.
        let left_rows = [&stored[..], &[(Some(2), "d")]].concat();
        let right_rows = [&arriving[..], &[(2, 22), (1, 13), (2, 23)]].concat();
        let mut expected = Vec::new();
        for (id, name) in &left_rows {
            for (owner, price) in &right_rows {
                if *id == Some(*owner) {
                    expected.push(format!("+I {name} {price}"));
                }
            }
        }
        let (mut joined, mut expected) = (rows(&out), expected);
        joined.sort();
        expected.sort();
        assert_eq!(joined, expected);
        assert_eq!(joined.len(), 20);
    }

    /// A join on `k`, a copy of the left `id` and the right `owner`, as
    /// the planner adds a key; with `copies` the join knows it.
    fn copied_key_spec(backend: &str, copies: bool) -> JoinSpec {
        let side = |copied: &str, value: Field| {
            Schema::new(vec![
                Field::new(copied, DataType::Int64, true),
                value,
                Field::new("k", DataType::Int64, true),
            ])
        };
        let mut spec = spec(JoinKind::Inner, None);
        spec.left = side("id", Field::new("name", DataType::Utf8, true));
        spec.right = side("owner", Field::new("price", DataType::Int64, true));
        spec.left_key = "k".into();
        spec.right_key = "k".into();
        spec.state_backend = Some(backend.into());
        if copies {
            spec.key_copies = [Some("id".into()), Some("owner".into())];
        }
        spec
    }

    /// Rows `(key, name)` of the left side of a [`copied_key_spec`], or
    /// `(key, price)` of the right side, `k` a copy of the key.
    fn copied_key_batch(spec: &JoinSpec, side: usize, rows: &[(i64, &str)]) -> RecordBatch {
        let keys = Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0)));
        let (schema, value): (&Schema, ArrayRef) = if side == 0 {
            let names = StringArray::from_iter_values(rows.iter().map(|r| r.1));
            (&spec.left, Arc::new(names))
        } else {
            let prices = rows.iter().map(|r| r.1.parse::<i64>().unwrap());
            (&spec.right, Arc::new(Int64Array::from_iter_values(prices)))
        };
        RecordBatch::try_new(Arc::new(schema.clone()), vec![keys.clone(), value, keys]).unwrap()
    }

    /// Output rows of a [`copied_key_spec`] as `id name owner price`,
    /// sorted, and the bytes its state holds.
    fn copied_key_join(spec: &JoinSpec) -> (Vec<String>, usize) {
        let mut join = spec.create(&context()).unwrap();
        let mut out = Vec::new();
        for (side, rows) in [
            (0, &[(1, "a"), (2, "b")][..]),
            (1, &[(1, "10"), (3, "30"), (1, "11")]),
            (0, &[(3, "c"), (1, "d")]),
        ] {
            let batch = copied_key_batch(spec, side, rows);
            join.process_input(side, batch, &mut out).unwrap();
        }
        let mut rows = Vec::new();
        for batch in &out {
            let [id, name, owner, price] = [0, 1, 2, 3].map(|c| batch.column(c));
            for row in 0..batch.num_rows() {
                rows.push(format!(
                    "{} {} {} {}",
                    id.as_primitive::<Int64Type>().value(row),
                    name.as_string::<i32>().value(row),
                    owner.as_primitive::<Int64Type>().value(row),
                    price.as_primitive::<Int64Type>().value(row),
                ));
            }
        }
        rows.sort();
        let stored = join.state.store().scan_prefix(&[]).unwrap();
        let in_state: usize = stored.iter().map(|(_, value)| value.len()).sum();
        (
            rows,
            in_state + join.listed.iter().map(ListedRows::bytes).sum::<usize>(),
        )
    }

    #[test]
    fn a_listed_join_stores_rows_without_the_keys_copy_and_shows_it_from_the_key() {
        let (plain, plain_bytes) = copied_key_join(&copied_key_spec("hashmap", false));
        let joined = ["1 a 1 10", "1 a 1 11", "1 d 1 10", "1 d 1 11", "3 c 3 30"];
        assert_eq!(plain, joined);
        let spec = copied_key_spec("hashmap", true);
        assert_eq!(
            spec.create(&context()).unwrap().key_copies,
            [Some(0), Some(0)]
        );
        let (rows, bytes) = copied_key_join(&spec);
        assert_eq!(rows, joined);
        // Seven stored rows, each a byte shorter (the key, stored as its
        // difference from the first key).
        assert_eq!(bytes + 7, plain_bytes);
        // On disk rows are map entries, stored whole.
        let spec = copied_key_spec("rocksdb", true);
        assert_eq!(spec.create(&context()).unwrap().key_copies, [None, None]);
        assert_eq!(copied_key_join(&spec).0, joined);
    }

    #[test]
    fn a_side_of_only_the_keys_copy_stores_it_and_joins() {
        // `SELECT b.price FROM a JOIN b ON a.x = b.x`: the left side is its
        // key's copy and nothing else.
        let mut spec = copied_key_spec("hashmap", true);
        spec.kind = JoinKind::Inner;
        spec.left = Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("k", DataType::Int64, true),
        ]);
        let mut join = spec.create(&context()).unwrap();
        assert_eq!(join.key_copies, [None, Some(0)]);
        let keys = |values: &[i64]| -> ArrayRef {
            Arc::new(Int64Array::from_iter_values(values.iter().copied()))
        };
        let left = RecordBatch::try_new(
            Arc::new(spec.left.clone()),
            vec![keys(&[1, 2, 1]), keys(&[1, 2, 1])],
        )
        .unwrap();
        let mut out = Vec::new();
        join.process_input(0, left, &mut out).unwrap();
        join.process_input(
            1,
            copied_key_batch(&spec, 1, &[(1, "10"), (3, "30")]),
            &mut out,
        )
        .unwrap();
        let ids: Vec<i64> = out
            .iter()
            .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
            .collect();
        assert_eq!(ids, [1, 1], "the right row meets both left rows of key 1");
    }

    #[test]
    fn a_batch_that_joins_more_rows_than_a_batch_holds_emits_several() {
        let mut join = spec(JoinKind::Inner, None).create(&context()).unwrap();
        assert_eq!(join.storage, Storage::Kept);
        let mut out = Vec::new();
        let stored: Vec<(Option<i64>, &str)> = (0..6_000)
            .map(|i| (Some(i % 2 + 1), if i % 2 == 0 { "a" } else { "b" }))
            .collect();
        join.process_input(0, left(&stored), &mut out).unwrap();
        // Four runs of 3000 joined rows each: the batch is full after the
        // third run, which ends it.
        join.process_input(1, right(&[(1, 10), (2, 20), (1, 11), (2, 21)]), &mut out)
            .unwrap();
        let sizes: Vec<usize> = out.iter().map(RecordBatch::num_rows).collect();
        assert_eq!(sizes, [9_000, 3_000]);
        let mut joined = rows(&out);
        joined.dedup();
        assert_eq!(joined, ["+I a 10", "+I b 20", "+I a 11", "+I b 21"]);
    }

    #[test]
    fn an_outer_join_retracts_a_padded_row_when_its_partner_comes() {
        let mut join = spec(JoinKind::Full, None).create(&context()).unwrap();
        let mut out = Vec::new();
        join.process_input(0, left(&[(Some(1), "a"), (None, "n")]), &mut out)
            .unwrap();
        join.process_input(1, right(&[(1, 10), (2, 20)]), &mut out)
            .unwrap();
        join.process_input(1, right(&[(1, 11)]), &mut out).unwrap();
        join.process_input(0, left(&[(Some(2), "b")]), &mut out)
            .unwrap();
        assert_eq!(
            rows(&out),
            [
                "+I a _", "+I n _", "-D a _", "+I a 10", "+I _ 20", "+I a 11", "-D _ 20",
                "+I b 20",
            ]
        );
    }

    /// A left input that is a changelog: `(kind, id, name)` rows.
    fn changelog_left(rows: &[(RowKind, i64, &str)]) -> RecordBatch {
        let mut schema = spec(JoinKind::Inner, None).left;
        schema = Schema::new(
            schema
                .fields()
                .iter()
                .map(|f| f.as_ref().clone())
                .chain([Field::new(ROW_KIND_COLUMN, DataType::Int8, false)])
                .collect::<Vec<_>>(),
        );
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1))),
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.2))),
                Arc::new(Int8Array::from_iter_values(rows.iter().map(|r| r.0 as i8))),
            ],
        )
        .unwrap()
    }

    /// A join of `kind` whose left input is a changelog.
    fn changelog_join(kind: JoinKind) -> Join {
        let mut spec = spec(kind, None);
        spec.left = changelog_left(&[]).schema().as_ref().clone();
        assert!(spec.updates());
        spec.create(&context()).unwrap()
    }

    #[test]
    fn an_inner_join_of_a_changelog_passes_each_rows_kind_on() {
        use RowKind::*;
        let mut join = changelog_join(JoinKind::Inner);
        let mut out = Vec::new();
        join.process_input(1, right(&[(1, 10), (1, 11)]), &mut out)
            .unwrap();
        join.process_input(
            0,
            changelog_left(&[(Insert, 1, "a"), (Insert, 2, "x")]),
            &mut out,
        )
        .unwrap();
        join.process_input(
            0,
            changelog_left(&[(UpdateBefore, 1, "a"), (UpdateAfter, 1, "b")]),
            &mut out,
        )
        .unwrap();
        // The taken back row is gone: a new partner meets only "b".
        join.process_input(1, right(&[(1, 12)]), &mut out).unwrap();
        join.process_input(0, changelog_left(&[(Delete, 1, "b")]), &mut out)
            .unwrap();
        join.process_input(1, right(&[(1, 13)]), &mut out).unwrap();
        let mut joined = rows(&out);
        joined[..2].sort();
        joined[2..4].sort();
        joined[4..6].sort();
        joined[7..].sort();
        assert_eq!(
            joined,
            [
                "+I a 10", "+I a 11", "-U a 10", "-U a 11", "+U b 10", "+U b 11", "+I b 12",
                "-D b 10", "-D b 11", "-D b 12",
            ]
        );
    }

    #[test]
    fn an_outer_join_of_a_changelog_pads_again_what_loses_its_last_partner() {
        use RowKind::*;
        let mut join = changelog_join(JoinKind::Full);
        let mut out = Vec::new();
        join.process_input(1, right(&[(1, 10)]), &mut out).unwrap();
        join.process_input(
            0,
            changelog_left(&[(Insert, 1, "a"), (Insert, 1, "a")]),
            &mut out,
        )
        .unwrap();
        join.process_input(0, changelog_left(&[(UpdateBefore, 1, "a")]), &mut out)
            .unwrap();
        join.process_input(0, changelog_left(&[(Delete, 1, "a")]), &mut out)
            .unwrap();
        join.process_input(
            0,
            changelog_left(&[(Insert, 2, "c"), (Delete, 2, "c")]),
            &mut out,
        )
        .unwrap();
        assert_eq!(
            rows(&out),
            [
                "+I _ 10", "-D _ 10", "+I a 10", "+I a 10", "-D a 10", "-D a 10", "+I _ 10",
                "+I c _", "-D c _",
            ]
        );
        assert_eq!(
            join.state.store().scan_prefix(&[]).unwrap().len(),
            1,
            "only the right row is still stored"
        );
    }

    #[test]
    fn a_semi_join_emits_each_kept_row_once_when_it_first_has_a_partner() {
        let mut join = spec(JoinKind::LeftSemi, None).create(&context()).unwrap();
        let mut out = Vec::new();
        join.process_input(0, left(&[(Some(1), "a")]), &mut out)
            .unwrap();
        join.process_input(1, right(&[(1, 10), (1, 11)]), &mut out)
            .unwrap();
        join.process_input(0, left(&[(Some(1), "b"), (Some(2), "c")]), &mut out)
            .unwrap();
        let names: Vec<&str> = out
            .iter()
            .flat_map(|b| {
                b.column(0)
                    .as_string::<i32>()
                    .iter()
                    .flatten()
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(out[0].num_columns(), 1, "only the left columns");
    }

    #[test]
    fn rows_older_than_the_state_ttl_no_longer_join() {
        let mut join = spec(JoinKind::Inner, Some(1)).create(&context()).unwrap();
        let mut out = Vec::new();
        join.process_input(0, left(&[(Some(1), "a")]), &mut out)
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        join.process_input(1, right(&[(1, 10)]), &mut out).unwrap();
        assert!(rows(&out).is_empty());
    }

    /// A join of two sides of a key and a time (`lk`, `lt` and `rk`, `rt`)
    /// whose rows leave state at their time plus a side's reach.
    fn timed_join(kind: JoinKind, reach: [i64; 2], padded_at_expiry: bool) -> JoinSpec {
        let side = |key: &str, time: &str| {
            Schema::new(vec![
                Field::new(key, DataType::Int64, false),
                Field::new(time, crate::operators::event_time::millis_type(), false),
            ])
        };
        JoinSpec {
            name: None,
            kind,
            left: side("lk", "lt"),
            right: side("rk", "rt"),
            left_key: "lk".into(),
            right_key: "rk".into(),
            state_ttl_millis: None,
            state_backend: None,
            expiry: Some(JoinExpiry {
                left_time: "lt".into(),
                right_time: "rt".into(),
                left_reach_millis: reach[0],
                right_reach_millis: reach[1],
                padded_at_expiry,
            }),
            key_copies: [None, None],
            top_one: None,
        }
    }

    /// One row of `side` of a [`timed_join`].
    fn timed_row(spec: &JoinSpec, side: usize, key: i64, time: i64) -> RecordBatch {
        timed_rows(spec, side, &[(key, time)])
    }

    /// Rows `(key, time)` of `side` of a [`timed_join`].
    fn timed_rows(spec: &JoinSpec, side: usize, rows: &[(i64, i64)]) -> RecordBatch {
        let schema = if side == 0 { &spec.left } else { &spec.right };
        RecordBatch::try_new(
            Arc::new(schema.clone()),
            vec![
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0))),
                Arc::new(arrow_array::TimestampMillisecondArray::from_iter_values(
                    rows.iter().map(|r| r.1),
                )),
            ],
        )
        .unwrap()
    }

    #[test]
    fn rows_of_one_key_after_one_another_join_as_each_row_alone_would() {
        // A listed join reads the other side once for a run of rows of one
        // key and lists the run at once; every pair of equal keys must
        // still come once, whichever of its rows came second.
        let spec = timed_join(JoinKind::Inner, [1000, 1000], false);
        let mut join = spec.create(&context()).unwrap();
        assert_eq!(join.storage, Storage::Expiring);
        let batches: [(usize, &[(i64, i64)]); 3] = [
            (
                0,
                &[
                    (1, 10),
                    (1, 11),
                    (2, 12),
                    (1, 13),
                    (1, 14),
                    (3, 15),
                    (3, 16),
                ],
            ),
            (1, &[(1, 20), (3, 21), (3, 22), (1, 23), (2, 24), (2, 25)]),
            (0, &[(1, 30), (1, 31), (2, 32), (4, 33)]),
        ];
        let mut out = Vec::new();
        for (side, rows) in batches {
            join.process_input(side, timed_rows(&spec, side, rows), &mut out)
                .unwrap();
        }
        let millis = |b: &RecordBatch, name: &str| {
            let column = b.column_by_name(name).unwrap();
            column
                .as_primitive::<arrow_array::types::TimestampMillisecondType>()
                .values()
                .to_vec()
        };
        let mut pairs: Vec<(i64, i64)> = out
            .iter()
            .flat_map(|b| millis(b, "lt").into_iter().zip(millis(b, "rt")))
            .collect();
        pairs.sort_unstable();
        let (lefts, rights): (Vec<_>, Vec<_>) = batches.iter().partition(|(side, _)| *side == 0);
        let mut expected = Vec::new();
        for left in lefts.iter().flat_map(|(_, rows)| rows.iter()) {
            for right in rights.iter().flat_map(|(_, rows)| rows.iter()) {
                if left.0 == right.0 {
                    expected.push((left.1, right.1));
                }
            }
        }
        expected.sort_unstable();
        assert_eq!(pairs, expected);
        assert_eq!(pairs.len(), 6 * 2 + 2 * 2 + 2 * 2);
    }

    /// The stored rows' entries: in keyed state, and keys listed or in
    /// buckets.
    fn stored_keys(join: &Join) -> usize {
        let in_state = join.state.store().scan_prefix(&[]).unwrap().len();
        in_state
            + join.listed.iter().map(ListedRows::keys).sum::<usize>()
            + join
                .buckets
                .iter()
                .map(ExpiringBuckets::keys)
                .sum::<usize>()
    }

    #[test]
    fn an_interval_join_forgets_rows_no_row_to_come_can_match() {
        // The right row's time is 0 to 10 ms after the left row's: a left
        // row can match until 10 ms after it, a right one from then.
        let spec = timed_join(JoinKind::Inner, [10, 0], false);
        let mut join = spec.create(&context()).unwrap();
        let batch = |side: usize, time: i64| timed_row(&spec, side, 1, time);
        let joined = |join: &mut Join, side: usize, time: i64| {
            let mut out = Vec::new();
            join.process_input(side, batch(side, time), &mut out)
                .unwrap();
            out.iter().map(RecordBatch::num_rows).sum::<usize>()
        };
        assert_eq!(joined(&mut join, 0, 100), 0);
        assert_eq!(stored_keys(&join), 1);
        join.process_watermark(105, &mut Vec::new()).unwrap();
        assert_eq!(joined(&mut join, 1, 108), 1, "left 100 is still stored");
        // Left 100 can match right rows up to 110, right 108 left rows from
        // 98: once the watermark passes 110 neither joins, and both are
        // gone when their bucket goes (at the next whole second).
        join.process_watermark(111, &mut Vec::new()).unwrap();
        assert_eq!(joined(&mut join, 0, 115), 0, "right 108 has expired");
        assert_eq!(joined(&mut join, 1, 112), 1, "left 115, not left 100");
        join.process_watermark(1_000, &mut Vec::new()).unwrap();
        assert_eq!(stored_keys(&join), 0, "state is empty");
        assert_eq!(joined(&mut join, 1, 1_005), 0);
        // A left row that no right row to come can match still joins what
        // is stored, but is not kept.
        assert_eq!(joined(&mut join, 0, 990), 1);
        assert_eq!(joined(&mut join, 1, 1_006), 0);
    }

    #[test]
    fn a_listed_row_kept_past_its_time_joins_nothing() {
        // Left rows go a second at a time (an eighth of their 80 ms reach
        // is less): the row at 3 expires at 83 but stays until its bucket
        // goes at 1000.
        let spec = timed_join(JoinKind::Inner, [80, 0], false);
        let mut join = spec.create(&context()).unwrap();
        assert_eq!(join.storage, Storage::Expiring);
        let mut out = Vec::new();
        for time in [3, 10] {
            join.process_input(0, timed_row(&spec, 0, 1, time), &mut out)
                .unwrap();
        }
        join.process_watermark(85, &mut out).unwrap();
        assert_eq!(stored_keys(&join), 1, "both left rows are still listed");
        join.process_input(1, timed_row(&spec, 1, 1, 86), &mut out)
            .unwrap();
        // Only the row at 10 (expiring at 90) joins the right row at 86.
        let times: Vec<i64> = out
            .iter()
            .flat_map(|b| {
                let lt = b.column_by_name("lt").unwrap();
                lt.as_primitive::<arrow_array::types::TimestampMillisecondType>()
                    .values()
                    .to_vec()
            })
            .collect();
        assert_eq!(times, [10]);
        join.process_watermark(999, &mut out).unwrap();
        assert_eq!(stored_keys(&join), 2, "both sides' buckets go at 1000");
        join.process_watermark(1_000, &mut out).unwrap();
        assert_eq!(stored_keys(&join), 0, "every row is gone");
        assert_eq!(join.timers.next(TimeDomain::EventTime), None);
    }

    #[test]
    fn the_final_watermark_forgets_every_row_of_an_inner_interval_join_on_both_backends() {
        for backend in ["hashmap", "rocksdb"] {
            let mut spec = timed_join(JoinKind::Inner, [10, 0], false);
            spec.state_backend = Some(backend.into());
            let mut join = spec.create(&context()).unwrap();
            // On disk a list would be rewritten whole for every row.
            assert_eq!(join.storage == Storage::Expiring, backend == "hashmap");
            let mut out = Vec::new();
            for (side, key, time) in [(0, 1, 100), (0, 2, 100), (1, 3, 5_000), (1, 1, 105)] {
                let batch = timed_row(&spec, side, key, time);
                join.process_input(side, batch, &mut out).unwrap();
            }
            assert_eq!(out.iter().map(RecordBatch::num_rows).sum::<usize>(), 1);
            assert_eq!(stored_keys(&join), 4);
            join.process_watermark(i64::MAX, &mut out).unwrap();
            assert_eq!(stored_keys(&join), 0, "{backend}");
            assert_eq!(join.timers.next(TimeDomain::EventTime), None, "{backend}");
            assert_eq!(out.iter().map(RecordBatch::num_rows).sum::<usize>(), 1);
        }
    }

    #[test]
    fn an_outer_window_join_pads_a_row_without_partner_when_its_window_ends() {
        // Both sides' times are their window's end; a window's rows are all
        // there once the watermark is at its last millisecond.
        let spec = timed_join(JoinKind::Left, [-1, -1], true);
        assert!(!spec.updates(), "insert-only");
        let mut join = spec.create(&context()).unwrap();
        let batch = |side: usize, key: i64| timed_row(&spec, side, key, 10);
        // (left window end, right window end or None) per output row.
        let shown = |out: &[RecordBatch]| -> Vec<(i64, Option<i64>)> {
            let mut rows = Vec::new();
            for batch in out {
                assert_eq!(batch.num_columns(), 2, "no row kind column");
                let left = epoch_millis(batch.column(0)).unwrap();
                let right = epoch_millis(batch.column(1)).unwrap();
                for row in 0..batch.num_rows() {
                    rows.push((
                        left.value(row),
                        right.is_valid(row).then(|| right.value(row)),
                    ));
                }
            }
            rows
        };
        let mut out = Vec::new();
        join.process_input(0, batch(0, 1), &mut out).unwrap();
        assert!(
            out.is_empty(),
            "a row without partner waits for its window's end"
        );
        join.process_input(0, batch(0, 2), &mut out).unwrap();
        join.process_input(1, batch(1, 2), &mut out).unwrap();
        assert_eq!(shown(&out), [(10, Some(10))]);
        out.clear();
        join.process_watermark(9, &mut out).unwrap();
        assert_eq!(
            shown(&out),
            [(10, None)],
            "only the row that had no partner"
        );
        assert_eq!(join.state.store().scan_prefix(&[]).unwrap().len(), 0);
    }
}
