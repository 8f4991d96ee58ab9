//! `WindowAggregate`: aggregates per key and event-time window, emitted once
//! when the watermark passes the window's end, as Flink's window aggregation
//! after a window table function (`TUMBLE`, …) does.
//!
//! Its input carries each row's window as two columns (`window_start`,
//! `window_end`), so the operator does not care how windows were assigned.
//! Accumulators live in keyed state under the row's key and a namespace
//! naming the window ([`super::stored_accumulators`]: numbers written bare
//! and updated where they lie); an event-time timer at `window_end - 1` fires the
//! window. A row whose window has already fired is late and dropped, as
//! Flink drops it. Input must be hash-partitioned on the key (or, without a
//! key, run at parallelism 1).
//!
//! HOP windows may come as slices instead ([`HopSlices`]): each row once,
//! in the tumbling window of the slide that holds it, and the windows
//! assembled from the slices they cover when they fire. With the state in
//! memory the operator keeps a table of keys per slice and merges a
//! window's tables when it fires ([`super::slice_tables`]); on disk a key's
//! slices are one value of its state ([`super::slice_list`]), fired key by
//! key by timers.
//!
//! Processing-time windows (`processing_time`: a window table function over
//! `PROCTIME()`) fire when the wall clock reaches a window's end, by
//! processing-time timers; the windows still open when the input ends fire
//! then.
//!
//! Session windows (`merge_sessions`): each row comes with its own session
//! `[time, time + gap)`, and the sessions of a key that overlap or touch are
//! merged, accumulators and all, as Flink's merging window set merges them.
//! A key's open sessions and their accumulators are one value of its state,
//! updated where it lies. A session's timers are set lazily: a new session
//! sets one at its end; one that grows keeps the timer it had, which, when
//! it fires before the session's new end, sets the next one there. (With
//! `COUNT(DISTINCT …)`, whose values are map state per session, sessions
//! are kept per namespace instead, and a merged session's timer replaces
//! those of the sessions it absorbed.) A row whose session merges with none
//! and has already ended is late.

use hashbrown::HashMap;
use std::ops::Range;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, TimestampMillisecondArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use serde::{Deserialize, Serialize};

use super::accumulators::{Accumulator, result_column};
use super::aggregate_calls::{AggregateCall, BoundCalls, column_of};
use super::event_time::{epoch_millis, millis_type};
use super::grouping::{
    KeyValue, Partial, RowKeys, group_key, key_column, key_from_bytes, row_keys_of, subtask_state,
};
use super::slice_list::{self, Slot};
use super::slice_tables::SliceTables;
use super::stored_accumulators::AccumulatorCodec;
use super::window_slices::HopSlices;
use super::{Operator, SubtaskContext, name_or};
use crate::error::{Result, RuntimeError};
use crate::state::keyed::{KeyedState, StateId};
use crate::state::timers::{TimeDomain, Timer, TimerRef, TimerService};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WindowAggregateSpec {
    #[serde(default)]
    pub name: Option<String>,
    /// The grouping key column (BIGINT, INT or STRING), if any.
    #[serde(default)]
    pub key: Option<String>,
    pub window_start: String,
    pub window_end: String,
    pub aggregates: Vec<AggregateCall>,
    /// Whether the input's windows are sessions to merge per key.
    #[serde(default)]
    pub merge_sessions: bool,
    /// Flink's `state.backend.type`: `hashmap` (the default) or `rocksdb`.
    #[serde(default)]
    pub state_backend: Option<String>,
    /// Whether the windows are of processing time, fired by the wall clock.
    #[serde(default)]
    pub processing_time: bool,
    /// The input's window columns hold HOP slices, of which these windows
    /// are assembled (event time only, no sessions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hop_slices: Option<HopSlices>,
}

/// The accumulators of one key and window.
const ACCUMULATORS: StateId = StateId(1);
/// A key's open sessions, `(start, end)`.
const SESSIONS: StateId = StateId(2);
/// A key's open HOP slices and their accumulators ([`slice_list`]).
const SLICES: StateId = StateId(3);
/// A key's open sessions, each's end and accumulators ([`slice_list`]).
const SESSION_LIST: StateId = StateId(4);

/// The most fired windows' rows a batch of output holds.
const FIRED_BATCH_ROWS: usize = 8192;

impl WindowAggregateSpec {
    pub fn name(&self) -> String {
        name_or(&self.name, "WindowAggregate")
    }

    /// `[key], window_start, window_end, aggregates…`.
    pub fn output_schema(&self, input: &SchemaRef) -> Result<SchemaRef> {
        let name = self.name();
        if input.index_of(crate::changelog::ROW_KIND_COLUMN).is_ok() {
            return Err(RuntimeError::InvalidJobGraph(format!(
                "{name}: a window aggregation over an update stream is not supported yet"
            )));
        }
        let mut fields: Vec<Field> = group_key(input, self.key.as_deref(), &name)?
            .map(|(_, field)| field)
            .into_iter()
            .collect();
        for column in [&self.window_start, &self.window_end] {
            let field = input.field(column_of(input, column, &name)?);
            if !matches!(field.data_type(), DataType::Timestamp(_, _)) {
                return Err(RuntimeError::InvalidJobGraph(format!(
                    "{name}: the window column '{column}' is not a TIMESTAMP"
                )));
            }
            fields.push(Field::new(column, millis_type(), false));
        }
        let calls = BoundCalls::bind(input, &self.aggregates, &name)?;
        if let Some(slices) = self.hop_slices {
            let problem = if self.merge_sessions || self.processing_time {
                Err("HOP slices are of event-time windows that do not merge".to_string())
            } else {
                slices.check(&calls)
            };
            problem
                .map_err(|message| RuntimeError::InvalidJobGraph(format!("{name}: {message}")))?;
        }
        fields.extend_from_slice(calls.fields());
        Ok(Arc::new(Schema::new(fields)))
    }

    pub(super) fn create(
        &self,
        input: &SchemaRef,
        context: &SubtaskContext,
    ) -> Result<WindowAggregate> {
        let name = self.name();
        let output = self.output_schema(input)?;
        let calls = BoundCalls::bind(input, &self.aggregates, &name)?;
        let state = subtask_state(self.state_backend.as_deref(), context)?;
        Ok(WindowAggregate {
            key: group_key(input, self.key.as_deref(), &name)?.map(|(index, _)| index),
            window_start: column_of(input, &self.window_start, &name)?,
            window_end: column_of(input, &self.window_end, &name)?,
            codec: AccumulatorCodec::for_template(calls.start_stored()),
            calls,
            scratch: Vec::new(),
            encoded: Vec::new(),
            output,
            max_parallelism: context.max_parallelism,
            slice_tables: self
                .hop_slices
                .filter(|_| state.store().updates_in_place())
                .map(SliceTables::new),
            state,
            timers: TimerService::new(),
            watermark: i64::MIN,
            merge_sessions: self.merge_sessions,
            slices: self.hop_slices,
            domain: if self.processing_time {
                TimeDomain::ProcessingTime
            } else {
                TimeDomain::EventTime
            },
            name,
        })
    }
}

pub struct WindowAggregate {
    name: String,
    key: Option<usize>,
    window_start: usize,
    window_end: usize,
    calls: BoundCalls,
    /// How the calls' accumulators are written to state.
    codec: AccumulatorCodec,
    /// Accumulators read from state, reused from window to window.
    scratch: Vec<Accumulator>,
    /// Accumulators written for state, reused likewise.
    encoded: Vec<u8>,
    output: SchemaRef,
    max_parallelism: u32,
    state: KeyedState,
    timers: TimerService,
    watermark: i64,
    merge_sessions: bool,
    /// Rows come in HOP slices, and windows are assembled of them.
    slices: Option<HopSlices>,
    /// The slices themselves, when the state is in memory: a table of keys
    /// per slice rather than each key's slices in keyed state.
    slice_tables: Option<SliceTables>,
    /// What fires its windows: the watermark, or the wall clock.
    domain: TimeDomain,
}

/// A window as a state namespace: start and end, big-endian. On the stack:
/// a window aggregation builds one for every state access.
/// The timer of a key's window `window` (its namespace) ending at `end`:
/// due at the window's last millisecond.
fn window_timer<'a>(key_group: u32, key: &'a [u8], window: &'a [u8], end: i64) -> TimerRef<'a> {
    TimerRef {
        timestamp: end - 1,
        key_group,
        key,
        namespace: window,
    }
}

fn namespace(start: i64, end: i64) -> [u8; 16] {
    let mut bytes = [0; 16];
    bytes[..8].copy_from_slice(&start.to_be_bytes());
    bytes[8..].copy_from_slice(&end.to_be_bytes());
    bytes
}

fn window_of(namespace: &[u8]) -> Option<(i64, i64)> {
    let start = i64::from_be_bytes(namespace.get(..8)?.try_into().ok()?);
    let end = i64::from_be_bytes(namespace.get(8..16)?.try_into().ok()?);
    Some((start, end))
}

/// Writes to `encoded` the accumulators `stored` (none: a new window or
/// slice) with `partial` folded in.
fn fold_partial(
    calls: &BoundCalls,
    codec: &AccumulatorCodec,
    stored: Option<&[u8]>,
    partial: Vec<Accumulator>,
    scratch: &mut Vec<Accumulator>,
    encoded: &mut Vec<u8>,
) -> Result<()> {
    encoded.clear();
    match stored {
        None => codec.encode(&partial, encoded),
        Some(stored) => {
            codec.decode(stored, scratch)?;
            calls.merge(scratch, partial);
            codec.encode(scratch, encoded)
        }
    }
}

/// The end of the open session `entry` of `list` ([`SESSION_LIST`]).
fn session_end(list: &[u8], entry: &slice_list::SliceEntry) -> Result<i64> {
    list.get(entry.accumulators.start..entry.accumulators.start + 8)
        .and_then(|bytes| bytes.try_into().ok())
        .map(i64::from_be_bytes)
        .ok_or_else(codec_error_of_list)
}

/// The accumulators of the open session `entry` of `list`.
fn session_accumulators<'a>(list: &'a [u8], entry: &slice_list::SliceEntry) -> Result<&'a [u8]> {
    list.get(entry.accumulators.start + 8..entry.accumulators.end)
        .ok_or_else(codec_error_of_list)
}

/// The first open session of `list` ([`SESSION_LIST`]) that overlaps or
/// touches `[start, end)`, with its end.
fn overlapping(list: &[u8], start: i64, end: i64) -> Result<Option<(slice_list::SliceEntry, i64)>> {
    for entry in slice_list::entries(list) {
        let entry = entry?;
        if entry.start > end {
            break;
        }
        let entry_end = session_end(list, &entry)?;
        if start <= entry_end {
            return Ok(Some((entry, entry_end)));
        }
    }
    Ok(None)
}

fn codec_error_of_list() -> RuntimeError {
    RuntimeError::State("a key's open sessions are not as they were written".into())
}

/// A key (its bytes) and a window (start, end).
type WindowKey<'k> = (&'k [u8], i64, i64);

impl WindowAggregate {
    fn failed(&self, message: impl std::fmt::Display) -> RuntimeError {
        RuntimeError::Operator {
            operator: self.name.clone(),
            message: message.to_string(),
        }
    }

    /// The batch's rows summed per key and window, late rows left out.
    fn partials<'k>(
        &self,
        batch: &RecordBatch,
        keys: &'k RowKeys,
        groups: &[u32],
    ) -> Result<HashMap<WindowKey<'k>, Partial>> {
        let starts = epoch_millis(batch.column(self.window_start)).map_err(|e| self.failed(e))?;
        let ends = epoch_millis(batch.column(self.window_end)).map_err(|e| self.failed(e))?;
        let inputs = self.calls.inputs(batch)?;
        let mut partials: HashMap<WindowKey, Partial> = HashMap::new();
        for (row, &key_group) in groups.iter().enumerate() {
            if starts.is_null(row) || ends.is_null(row) {
                continue;
            }
            let (start, end) = (starts.value(row), ends.value(row));
            // Late: the window fired when the watermark reached its last
            // millisecond (a slice's last window). (A session may still
            // merge into an open one.)
            let last_end = self.slices.map_or(end, |s| s.last_window_end(start));
            if last_end - 1 <= self.watermark
                && !self.merge_sessions
                && self.domain == TimeDomain::EventTime
            {
                continue;
            }
            let partial = partials
                .entry((keys.key(row), start, end))
                .or_insert_with(|| Partial {
                    key_group,
                    accumulators: self.calls.start(),
                });
            self.calls.add(&mut partial.accumulators, &inputs, row);
        }
        Ok(partials)
    }

    /// The output row of each fired window.
    fn emit(&self, fired: &[Fired]) -> Result<RecordBatch> {
        fired_batch(&self.output, self.key.is_some(), fired, &self.name)
    }
}

/// The output rows of `fired` windows, in a batch of `output`'s columns
/// (the key first, when `keyed`), for the operator `name`.
fn fired_batch(
    output: &SchemaRef,
    keyed: bool,
    fired: &[Fired],
    name: &str,
) -> Result<RecordBatch> {
    let mut columns: Vec<ArrayRef> = Vec::new();
    let mut next = 0;
    if keyed {
        let keys = fired.iter().map(|(k, ..)| k);
        columns.push(key_column(keys, output.field(0).data_type())?);
        next = 1;
    }
    columns.push(Arc::new(TimestampMillisecondArray::from_iter_values(
        fired.iter().map(|(_, start, ..)| *start),
    )));
    columns.push(Arc::new(TimestampMillisecondArray::from_iter_values(
        fired.iter().map(|(_, _, end, _)| *end),
    )));
    next += 2;
    for (i, field) in output.fields().iter().skip(next).enumerate() {
        let values: Vec<Accumulator> = fired.iter().map(|(.., a)| a[i].clone()).collect();
        columns.push(result_column(&values, field.data_type()));
    }
    RecordBatch::try_new(output.clone(), columns).map_err(|e| RuntimeError::Operator {
        operator: name.to_string(),
        message: e.to_string(),
    })
}

impl WindowAggregate {
    fn timer(&self, key_group: u32, key: &[u8], start: i64, end: i64) -> Timer {
        window_timer(key_group, key, &namespace(start, end), end).to_timer()
    }

    /// The timer of a new window, or of the first window a new slice is in
    /// that has not fired yet. A window of slices that fires sets the timer
    /// of the next one while the key has slices in it (see [`Self::fire`]),
    /// as Flink's slicing windows do: one timer per key at a time, not one
    /// per window a slice is in.
    fn register_timers(&mut self, key_group: u32, key: &[u8], start: i64, end: i64) {
        let Some(slices) = self.slices else {
            let timer = self.timer(key_group, key, start, end);
            self.timers.register(self.domain, timer);
            return;
        };
        let watermark = self.watermark;
        let first = slices
            .windows_of_slice(start)
            .find(|(_, window_end)| window_end - 1 > watermark);
        if let Some((window_start, window_end)) = first {
            let timer = self.timer(key_group, key, window_start, window_end);
            self.timers.register(self.domain, timer);
        }
    }

    /// The stored accumulators of the current key in `window`, taken out of
    /// state.
    fn take_accumulators(&mut self, window: &[u8]) -> Result<Option<Vec<Accumulator>>> {
        let codec = &self.codec;
        let mut taken = None;
        self.state
            .update_raw_value(ACCUMULATORS, window, &mut |value| {
                if let Some(bytes) = value.as_deref() {
                    let mut accumulators = Vec::new();
                    codec.decode(bytes, &mut accumulators)?;
                    taken = Some(accumulators);
                }
                *value = None;
                Ok(())
            })?;
        Ok(taken)
    }

    /// The stored accumulators of the current key in `window`.
    fn read_accumulators(&self, window: &[u8]) -> Result<Option<Vec<Accumulator>>> {
        let mut read = None;
        self.state
            .read_raw_value(ACCUMULATORS, window, &mut |value| {
                if let Some(bytes) = value {
                    let mut accumulators = Vec::new();
                    self.codec.decode(bytes, &mut accumulators)?;
                    read = Some(accumulators);
                }
                Ok(())
            })?;
        Ok(read)
    }

    /// Folds `partial` into the current key's accumulators of `window`
    /// where they lie; whether the window is new.
    fn add_in_place(&mut self, window: &[u8], partial: Vec<Accumulator>) -> Result<bool> {
        let (calls, codec) = (&self.calls, &self.codec);
        let (scratch, encoded) = (&mut self.scratch, &mut self.encoded);
        let mut partial = Some(partial);
        let mut new_window = false;
        self.state
            .update_raw_value(ACCUMULATORS, window, &mut |value| {
                let Some(partial) = partial.take() else {
                    return Ok(());
                };
                new_window = value.is_none();
                fold_partial(calls, codec, value.as_deref(), partial, scratch, encoded)?;
                let value = value.get_or_insert_with(Vec::new);
                value.clear();
                value.extend_from_slice(encoded);
                Ok(())
            })?;
        Ok(new_window)
    }

    /// Folds `partial`, whose distinct values go to map state, into the
    /// current key's accumulators of `window`; whether the window is new.
    fn add_with_distinct_values(
        &mut self,
        window: &[u8],
        partial: Vec<Accumulator>,
    ) -> Result<bool> {
        // Read, not taken: a failed merge leaves them as they were.
        let stored = self.read_accumulators(window)?;
        let new_window = stored.is_none();
        let mut merged = stored.unwrap_or_else(|| self.calls.start_stored());
        self.calls
            .merge_stored(&mut merged, partial, &mut self.state, window)?;
        let mut encoded = Vec::new();
        self.codec.encode(&merged, &mut encoded)?;
        self.state.set_raw_value(ACCUMULATORS, window, encoded)?;
        Ok(new_window)
    }

    /// Folds `partial` into the current key's slice starting at `start`;
    /// whether the slice is new.
    fn add_to_slice(&mut self, start: i64, partial: Vec<Accumulator>) -> Result<bool> {
        let (calls, codec) = (&self.calls, &self.codec);
        let (scratch, encoded) = (&mut self.scratch, &mut self.encoded);
        let mut partial = Some(partial);
        let mut new_slice = false;
        self.state.update_raw_value(SLICES, &[], &mut |value| {
            let Some(partial) = partial.take() else {
                return Ok(());
            };
            let list = value.get_or_insert_with(Vec::new);
            let slot = slice_list::find(list, start)?;
            let stored = match &slot {
                Slot::Found(entry) => Some(&list[entry.accumulators.clone()]),
                Slot::Missing { .. } => None,
            };
            new_slice = stored.is_none();
            fold_partial(calls, codec, stored, partial, scratch, encoded)?;
            slice_list::put(list, slot, start, encoded)
        })?;
        Ok(new_slice)
    }

    /// The window of `slices` starting at `start` of the current key,
    /// assembled from its slices, the first of which it drops: no later
    /// window holds it.
    fn assemble(&mut self, slices: HopSlices, start: i64) -> Result<Assembled> {
        let end = start + slices.size_millis;
        let (calls, codec, scratch) = (&self.calls, &self.codec, &mut self.scratch);
        let mut window: Option<Vec<Accumulator>> = None;
        let mut next_window_has_slices = false;
        self.state.update_raw_value(SLICES, &[], &mut |value| {
            let Some(list) = value else {
                return Ok(());
            };
            for entry in slice_list::entries(list) {
                let entry = entry?;
                if entry.start >= end {
                    break;
                }
                if entry.start < start {
                    continue;
                }
                codec.decode(&list[entry.accumulators], scratch)?;
                match &mut window {
                    None => window = Some(scratch.clone()),
                    Some(merged) => calls.merge(merged, scratch.drain(..)),
                }
            }
            slice_list::drop_through(list, start)?;
            if let Some(first) = slice_list::entries(list).next() {
                next_window_has_slices = first?.start < end + slices.slide_millis;
            }
            if list.is_empty() {
                *value = None;
            }
            Ok(())
        })?;
        Ok(Assembled {
            window,
            next_window_has_slices,
        })
    }

    /// Whether sessions are kept in one value per key ([`SESSION_LIST`]):
    /// unless distinct values are kept in map state per session.
    fn sessions_listed(&self) -> bool {
        self.merge_sessions && !self.calls.has_distinct()
    }

    /// Merges the session `[start, end)` of `partial` into the current
    /// key's open sessions, with those it overlaps or touches; the session
    /// if it is new (merged with none), to set its timer. A session that
    /// merges with none and has already ended is late: dropped.
    fn add_to_sessions(
        &mut self,
        (start, end): (i64, i64),
        partial: Vec<Accumulator>,
    ) -> Result<Option<(i64, i64)>> {
        let (calls, codec) = (&self.calls, &self.codec);
        let (scratch, encoded) = (&mut self.scratch, &mut self.encoded);
        let watermark = self.watermark;
        let mut partial = Some(partial);
        let mut new_session = None;
        self.state
            .update_raw_value(SESSION_LIST, &[], &mut |value| {
                let Some(mut merged) = partial.take() else {
                    return Ok(());
                };
                // Everything that can fail is done before the list changes.
                let list: &[u8] = value.as_deref().unwrap_or_default();
                let (mut start, mut end) = (start, end);
                // The bytes of the sessions it merges with (sessions never
                // touch, and are in order of start: they lie together), and
                // where a session merging with none goes.
                let mut absorbed: Option<Range<usize>> = None;
                let mut insert_at = list.len();
                for entry in slice_list::entries(list) {
                    let entry = entry?;
                    let entry_end = session_end(list, &entry)?;
                    if entry.start > end {
                        insert_at = entry.entry.start;
                        break;
                    }
                    if start <= entry_end {
                        codec.decode(session_accumulators(list, &entry)?, scratch)?;
                        calls.merge(&mut merged, scratch.drain(..));
                        (start, end) = (start.min(entry.start), end.max(entry_end));
                        absorbed = Some(match absorbed {
                            None => entry.entry,
                            Some(first) => first.start..entry.entry.end,
                        });
                    }
                }
                if absorbed.is_none() && end - 1 <= watermark {
                    return Ok(());
                }
                encoded.clear();
                encoded.extend_from_slice(&end.to_be_bytes());
                codec.encode(&merged, encoded)?;
                if absorbed.is_none() {
                    new_session = Some((start, end));
                }
                let replaced = absorbed.unwrap_or(insert_at..insert_at);
                let list = value.get_or_insert_with(Vec::new);
                slice_list::replace(list, replaced, start, encoded)
            })?;
        Ok(new_session)
    }

    /// The timer of the session window `[start, end)` of the current key
    /// fired at `time`: the open session that holds that window, with its
    /// accumulators, taken out of state when it has ended by `time`; when
    /// it has grown past `time`, its timer is set again at its new end.
    fn fire_session(
        &mut self,
        timer: &Timer,
        (start, end): (i64, i64),
        time: i64,
    ) -> Result<Option<(i64, i64, Vec<Accumulator>)>> {
        let codec = &self.codec;
        let mut holding = None;
        let mut ended = None;
        self.state
            .update_raw_value(SESSION_LIST, &[], &mut |value| {
                let Some(list) = value else {
                    return Ok(());
                };
                // Sessions are disjoint: one at most holds the window.
                let Some((entry, session_end)) = overlapping(list, start, end)?
                    .filter(|(entry, session_end)| entry.start <= start && end <= *session_end)
                else {
                    return Ok(());
                };
                if session_end - 1 > time {
                    holding = Some((entry.start, session_end));
                    return Ok(());
                }
                let mut accumulators = Vec::new();
                codec.decode(session_accumulators(list, &entry)?, &mut accumulators)?;
                slice_list::remove(list, &entry);
                if list.is_empty() {
                    *value = None;
                }
                ended = Some((entry.start, session_end, accumulators));
                Ok(())
            })?;
        if let Some((start, end)) = holding {
            let timer = self.timer(timer.key_group, &timer.key, start, end);
            self.timers.register(self.domain, timer);
        }
        Ok(ended)
    }

    /// Merges the session `[start, end)` of the current key with the open
    /// sessions it overlaps or touches: their accumulators are folded into
    /// `accumulators` and their state and timers dropped. The merged
    /// session, or `None` when it merged with none and has already ended.
    fn merge_session(
        &mut self,
        key_group: u32,
        key: &[u8],
        (mut start, mut end): (i64, i64),
        accumulators: &mut [Accumulator],
    ) -> Result<Option<(i64, i64)>> {
        let mut open: Vec<(i64, i64)> = self.state.value(SESSIONS, &[])?.unwrap_or_default();
        let mut merged_any = false;
        while let Some(at) = open.iter().position(|&(s, e)| s <= end && start <= e) {
            let (s, e) = open.swap_remove(at);
            let window = namespace(s, e);
            let stored = self.take_accumulators(&window)?;
            self.timers
                .delete(self.domain, window_timer(key_group, key, &window, e));
            if let Some(absorbed) = stored {
                // Distinct values go back into the partial, to be stored again
                // under the merged session.
                self.calls
                    .take_stored_values(accumulators, &mut self.state, &window)?;
                self.calls.merge(accumulators, absorbed);
            }
            (start, end) = (start.min(s), end.max(e));
            merged_any = true;
        }
        if !merged_any && end - 1 <= self.watermark {
            return Ok(None);
        }
        open.push((start, end));
        self.state.set_value(SESSIONS, &[], &open)?;
        Ok(Some((start, end)))
    }

    /// Forgets a fired session of the current key.
    fn close_session(&mut self, start: i64, end: i64) -> Result<()> {
        let mut open: Vec<(i64, i64)> = self.state.value(SESSIONS, &[])?.unwrap_or_default();
        open.retain(|&session| session != (start, end));
        if open.is_empty() {
            self.state.clear(SESSIONS, &[])
        } else {
            self.state.set_value(SESSIONS, &[], &open)
        }
    }
}

impl Operator for WindowAggregate {
    fn process_batch(&mut self, batch: RecordBatch, _out: &mut Vec<RecordBatch>) -> Result<()> {
        let (keys, groups) = row_keys_of(&batch, self.key, self.max_parallelism, &self.name)?;
        for ((key, start, end), mut partial) in self.partials(&batch, &keys, &groups)? {
            if let Some(tables) = self.slice_tables.as_mut() {
                tables.add(&self.calls, key, start, partial.accumulators);
                continue;
            }
            self.state.set_current_key(partial.key_group, key)?;
            if self.sessions_listed() {
                let session = (start, end);
                if let Some(new) = self.add_to_sessions(session, partial.accumulators)? {
                    self.register_timers(partial.key_group, key, new.0, new.1);
                }
                continue;
            }
            let (start, end) = if self.merge_sessions {
                let session = (start, end);
                let merged =
                    self.merge_session(partial.key_group, key, session, &mut partial.accumulators)?;
                match merged {
                    Some(merged) => merged,
                    None => continue,
                }
            } else {
                (start, end)
            };
            // A window's timer is registered with its first accumulators and
            // deleted when it fires with them, so a stored window has one.
            let new_window = if self.slices.is_some() {
                self.add_to_slice(start, partial.accumulators)?
            } else if self.calls.has_distinct() {
                self.add_with_distinct_values(&namespace(start, end), partial.accumulators)?
            } else {
                self.add_in_place(&namespace(start, end), partial.accumulators)?
            };
            if new_window {
                self.register_timers(partial.key_group, key, start, end);
            }
        }
        Ok(())
    }

    fn process_watermark(&mut self, watermark: i64, out: &mut Vec<RecordBatch>) -> Result<()> {
        self.watermark = self.watermark.max(watermark);
        if let Some(tables) = self.slice_tables.as_mut() {
            let (calls, name) = (&self.calls, &self.name);
            let (output, keyed) = (&self.output, self.key.is_some());
            // A watermark can fire many windows at once: a batch at a time,
            // so that what is fired and not yet a batch stays small.
            let mut fired = Vec::new();
            tables.fire(calls, watermark, |key, (start, end), accumulators| {
                fired.push((key_from_bytes(key, name)?, start, end, accumulators));
                if fired.len() == FIRED_BATCH_ROWS {
                    out.push(fired_batch(output, keyed, &fired, name)?);
                    fired.clear();
                }
                Ok(())
            })?;
            if !fired.is_empty() {
                out.push(self.emit(&fired)?);
            }
            return Ok(());
        }
        self.fire_until(TimeDomain::EventTime, watermark, self.watermark, out)
    }

    fn next_processing_timer(&self) -> Option<i64> {
        self.timers.next(TimeDomain::ProcessingTime)
    }

    fn process_time(&mut self, now: i64, out: &mut Vec<RecordBatch>) -> Result<()> {
        self.fire_until(TimeDomain::ProcessingTime, now, now, out)
    }

    /// At the end of input the processing-time windows still open fire (the
    /// event-time ones fired at the final watermark).
    fn finish(&mut self, out: &mut Vec<RecordBatch>) -> Result<()> {
        self.fire_until(TimeDomain::ProcessingTime, i64::MAX, i64::MAX, out)
    }
}

/// A fired window: its key, start and end, and its accumulators.
type Fired = (KeyValue, i64, i64, Vec<Accumulator>);

/// A window assembled from its slices, and whether the key has slices in
/// the window after it.
struct Assembled {
    window: Option<Vec<Accumulator>>,
    next_window_has_slices: bool,
}

impl WindowAggregate {
    /// Fires every timer of `domain` up to `until`, at `time`, also those
    /// that firing sets on the way (the next window of slices, a grown
    /// session), so that all of them fire before the watermark goes on.
    fn fire_until(
        &mut self,
        domain: TimeDomain,
        until: i64,
        time: i64,
        out: &mut Vec<RecordBatch>,
    ) -> Result<()> {
        let mut fired = Vec::new();
        // One time at a time: a window's timer set on the way is later than
        // the one firing, so it is set before it fires, and fires once.
        while let Some(next) = self.timers.next(domain)
            && next <= until
        {
            let due = self.timers.advance(domain, next);
            self.fire(due, time, &mut fired, out)?;
        }
        if !fired.is_empty() {
            out.push(self.emit(&fired)?);
        }
        Ok(())
    }

    /// Gathers the windows of the `due` timers, fired at `time`, and
    /// forgets them; each time `fired` holds a batch's rows, they go to
    /// `out` as one.
    fn fire(
        &mut self,
        due: Vec<Timer>,
        time: i64,
        fired: &mut Vec<Fired>,
        out: &mut Vec<RecordBatch>,
    ) -> Result<()> {
        for timer in due {
            // Every key's window can end at once (a processing-time window
            // at the end of input): a batch at a time.
            if fired.len() >= FIRED_BATCH_ROWS {
                out.push(self.emit(fired)?);
                fired.clear();
            }
            let Some((start, end)) = window_of(&timer.namespace) else {
                continue;
            };
            self.state.set_current_key(timer.key_group, &timer.key)?;
            if self.sessions_listed() {
                if let Some((start, end, accumulators)) =
                    self.fire_session(&timer, (start, end), time)?
                {
                    let key = key_from_bytes(&timer.key, &self.name)?;
                    fired.push((key, start, end, accumulators));
                }
                continue;
            }
            let accumulators = match self.slices {
                Some(slices) => {
                    let assembled = self.assemble(slices, start)?;
                    if assembled.next_window_has_slices {
                        let (slide, key_group) = (slices.slide_millis, timer.key_group);
                        let next = self.timer(key_group, &timer.key, start + slide, end + slide);
                        self.timers.register(self.domain, next);
                    }
                    assembled.window
                }
                None => {
                    let stored = self.take_accumulators(&timer.namespace)?;
                    self.calls
                        .clear_stored_values(&mut self.state, &timer.namespace)?;
                    if self.merge_sessions {
                        self.close_session(start, end)?;
                    }
                    stored
                }
            };
            if let Some(accumulators) = accumulators {
                let key = key_from_bytes(&timer.key, &self.name)?;
                fired.push((key, start, end, accumulators));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::Int64Array;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Int64Type, TimestampMillisecondType};

    use super::*;
    use crate::operators::accumulators::AggregateFunction;

    fn input_schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("auction", DataType::Int64, true),
            Field::new("price", DataType::Int64, true),
            Field::new("window_start", millis_type(), false),
            Field::new("window_end", millis_type(), false),
        ]))
    }

    /// Rows of (auction, price, time) in 10-second tumbling windows.
    fn batch(rows: &[(i64, Option<i64>, i64)]) -> RecordBatch {
        let start = |t: i64| t - t.rem_euclid(10_000);
        RecordBatch::try_new(
            input_schema(),
            vec![
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0))),
                Arc::new(Int64Array::from_iter(rows.iter().map(|r| r.1))),
                Arc::new(TimestampMillisecondArray::from_iter_values(
                    rows.iter().map(|r| start(r.2)),
                )),
                Arc::new(TimestampMillisecondArray::from_iter_values(
                    rows.iter().map(|r| start(r.2) + 10_000),
                )),
            ],
        )
        .unwrap()
    }

    fn operator() -> WindowAggregate {
        operator_with(None, "hashmap")
    }

    /// The test's aggregation, its rows in `hop_slices` or not, its state
    /// on `backend`.
    fn operator_with(hop_slices: Option<HopSlices>, backend: &str) -> WindowAggregate {
        let spec = WindowAggregateSpec {
            name: None,
            key: Some("auction".into()),
            window_start: "window_start".into(),
            window_end: "window_end".into(),
            aggregates: vec![
                AggregateCall {
                    function: AggregateFunction::CountStar,
                    input: None,
                    output: "bids".into(),
                    separator: None,
                },
                AggregateCall {
                    function: AggregateFunction::Max,
                    input: Some("price".into()),
                    output: "top".into(),
                    separator: None,
                },
            ],
            merge_sessions: false,
            state_backend: Some(backend.into()),
            processing_time: false,
            hop_slices,
        };
        let context = SubtaskContext::alone();
        spec.create(&input_schema(), &context).unwrap()
    }

    /// (auction, window start, count, max) of every emitted row.
    fn rows(out: &[RecordBatch]) -> Vec<(i64, i64, i64, Option<i64>)> {
        let mut rows = Vec::new();
        for batch in out {
            for row in 0..batch.num_rows() {
                let top = batch.column(4).as_primitive::<Int64Type>();
                rows.push((
                    batch.column(0).as_primitive::<Int64Type>().value(row),
                    batch
                        .column(1)
                        .as_primitive::<TimestampMillisecondType>()
                        .value(row),
                    batch.column(3).as_primitive::<Int64Type>().value(row),
                    top.is_valid(row).then(|| top.value(row)),
                ));
            }
        }
        rows.sort();
        rows
    }

    #[test]
    fn windows_fire_once_when_the_watermark_passes_their_end() {
        let mut operator = operator();
        let mut out = Vec::new();
        operator
            .process_batch(
                batch(&[(1, Some(5), 1_000), (1, Some(9), 2_000), (2, None, 3_000)]),
                &mut out,
            )
            .unwrap();
        operator
            .process_batch(
                batch(&[(1, Some(7), 12_000), (1, Some(3), 4_000)]),
                &mut out,
            )
            .unwrap();
        assert!(out.is_empty(), "nothing before the watermark");
        operator.process_watermark(9_998, &mut out).unwrap();
        assert!(out.is_empty(), "the window [0, 10 s) ends at 9 999");
        operator.process_watermark(9_999, &mut out).unwrap();
        assert_eq!(rows(&out), [(1, 0, 3, Some(9)), (2, 0, 1, None)]);
        // A row for a fired window is late and dropped; the next window is not.
        out.clear();
        operator
            .process_batch(
                batch(&[(1, Some(100), 5_000), (1, Some(1), 15_000)]),
                &mut out,
            )
            .unwrap();
        operator.process_watermark(i64::MAX, &mut out).unwrap();
        assert_eq!(rows(&out), [(1, 10_000, 2, Some(7))]);
        operator.process_watermark(i64::MAX, &mut out).unwrap();
        assert_eq!(out.len(), 1, "every window fires once");
    }

    /// Rows of (auction, price) with explicit windows `(start, end)`.
    fn windowed(rows: &[(i64, i64, (i64, i64))]) -> RecordBatch {
        RecordBatch::try_new(
            input_schema(),
            vec![
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0))),
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1))),
                Arc::new(TimestampMillisecondArray::from_iter_values(
                    rows.iter().map(|r| r.2.0),
                )),
                Arc::new(TimestampMillisecondArray::from_iter_values(
                    rows.iter().map(|r| r.2.1),
                )),
            ],
        )
        .unwrap()
    }

    /// HOP(2 s, 6 s), the windows of the slicing tests.
    const HOP_2S_6S: HopSlices = HopSlices {
        slide_millis: 2_000,
        size_millis: 6_000,
    };

    /// A reproducible stream of numbers below a bound (xorshift).
    fn random_numbers(mut seed: u64) -> impl FnMut(i64) -> i64 {
        move |below| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % below as u64) as i64
        }
    }

    /// Gives the rows `(auction, price, time)` to two aggregations, the
    /// first each row in every window of `hop` its slice is in, the second
    /// each row in its slice, then `watermark` to both.
    fn feed_copied_and_sliced(
        hop: HopSlices,
        operators: [(&mut WindowAggregate, &mut Vec<RecordBatch>); 2],
        rows: &[(i64, i64, i64)],
        watermark: i64,
    ) {
        let mut windows = Vec::new();
        let mut slices = Vec::new();
        for &(auction, price, time) in rows {
            let start = time - time.rem_euclid(hop.slide_millis);
            slices.push((auction, price, (start, start + hop.slide_millis)));
            windows.extend(
                hop.windows_of_slice(start)
                    .map(|window| (auction, price, window)),
            );
        }
        for ((operator, out), batch) in operators.into_iter().zip([windows, slices]) {
            operator.process_batch(windowed(&batch), out).unwrap();
            operator.process_watermark(watermark, out).unwrap();
        }
    }

    #[test]
    fn hop_windows_assembled_from_slices_are_the_windows_of_copied_rows() {
        // HOP(2 s, 6 s): one operator reads every row once per window, the
        // other once, in its slice: in a table per slice (in memory) or in
        // each key's slices in keyed state (on disk). Random times, out of
        // order, watermarks between batches, so some rows are late for some
        // of their windows.
        let hop = HOP_2S_6S;
        for backend in ["hashmap", "rocksdb"] {
            let mut copied = operator();
            let mut sliced = operator_with(Some(hop), backend);
            assert_eq!(sliced.slice_tables.is_some(), backend == "hashmap");
            let mut random = random_numbers(0x5eed_u64);
            let (mut copied_out, mut sliced_out) = (Vec::new(), Vec::new());
            let mut watermark = 0;
            for _ in 0..40 {
                let arrivals: Vec<(i64, i64, i64)> = (0..50)
                    .map(|_| (random(4), random(1000), watermark + random(9_000) - 3_000))
                    .collect();
                watermark += random(2_500);
                feed_copied_and_sliced(
                    hop,
                    [
                        (&mut copied, &mut copied_out),
                        (&mut sliced, &mut sliced_out),
                    ],
                    &arrivals,
                    watermark,
                );
                assert_eq!(
                    rows(&sliced_out),
                    rows(&copied_out),
                    "{backend} at {watermark}"
                );
            }
            copied.process_watermark(i64::MAX, &mut copied_out).unwrap();
            sliced.process_watermark(i64::MAX, &mut sliced_out).unwrap();
            assert!(rows(&copied_out).len() > 100);
            assert_eq!(rows(&sliced_out), rows(&copied_out), "{backend}");
            // Every slice was dropped with its last window.
            assert_eq!(sliced.timers.next(TimeDomain::EventTime), None);
            let everything = crate::key_groups::KeyGroupRange::new(0, u32::MAX);
            let left = sliced.state.store().scan_key_groups(everything).unwrap();
            assert!(left.is_empty(), "slices left in state: {}", left.len());
            if let Some(tables) = &sliced.slice_tables {
                assert!(tables.is_empty(), "slices left in memory");
            }
        }
    }

    #[test]
    fn a_watermark_firing_more_windows_than_a_batch_holds_emits_them_in_full_batches() {
        let hop = HOP_2S_6S;
        // 5000 keys in one slice: three windows each, 15 000 rows at once,
        // from the slice tables (in memory) or each key's timers (on disk).
        for backend in ["hashmap", "rocksdb"] {
            let mut sliced = operator_with(Some(hop), backend);
            let keys = 5_000;
            let arrivals: Vec<(i64, i64, (i64, i64))> =
                (0..keys).map(|key| (key, key, (0, 2_000))).collect();
            let mut out = Vec::new();
            sliced.process_batch(windowed(&arrivals), &mut out).unwrap();
            sliced.process_watermark(i64::MAX, &mut out).unwrap();
            let sizes: Vec<usize> = out.iter().map(RecordBatch::num_rows).collect();
            assert_eq!(
                sizes,
                [FIRED_BATCH_ROWS, 3 * keys as usize - FIRED_BATCH_ROWS],
                "{backend}"
            );
            let mut expected: Vec<_> = (0..keys)
                .flat_map(|key| [-4_000, -2_000, 0].map(|start| (key, start, 1, Some(key))))
                .collect();
            expected.sort();
            assert_eq!(rows(&out), expected, "{backend}");
        }
    }

    #[test]
    fn a_row_for_windows_the_watermark_passed_empty_is_in_the_later_ones_only() {
        // HOP(2 s, 6 s). The watermark passes 10 s while only the slice at
        // 12 s holds rows; a row at 9 s then comes, late for the window
        // ending at 10 s but not for those ending at 12 and 14 s.
        let hop = HOP_2S_6S;
        for backend in ["hashmap", "rocksdb"] {
            let mut copied = operator();
            let mut sliced = operator_with(Some(hop), backend);
            let (mut copied_out, mut sliced_out) = (Vec::new(), Vec::new());
            let arrivals = [
                (vec![(1, 5, 12_500)], 10_000),
                (vec![(1, 7, 9_000)], 10_001),
            ];
            for (rows_of_batch, watermark) in arrivals {
                feed_copied_and_sliced(
                    hop,
                    [
                        (&mut copied, &mut copied_out),
                        (&mut sliced, &mut sliced_out),
                    ],
                    &rows_of_batch,
                    watermark,
                );
            }
            copied.process_watermark(i64::MAX, &mut copied_out).unwrap();
            sliced.process_watermark(i64::MAX, &mut sliced_out).unwrap();
            let fired = rows(&sliced_out);
            assert_eq!(fired, rows(&copied_out), "{backend}");
            // Windows by their start: [4 s, 10 s) never fires the row.
            let starts: Vec<i64> = fired.iter().map(|row| row.1).collect();
            assert!(!starts.contains(&4_000), "{backend}: {fired:?}");
            assert!(starts.contains(&6_000), "{backend}: {fired:?}");
        }
    }

    #[test]
    fn sessions_of_a_key_merge_when_they_overlap_and_fire_once() {
        let mut operator = operator();
        operator.merge_sessions = true;
        // Rows with their own 2-second sessions, as SESSION's operator gives them.
        let sessions = |rows: &[(i64, i64, i64)]| {
            let mut columns = batch(
                &rows
                    .iter()
                    .map(|r| (r.0, Some(r.1), r.2))
                    .collect::<Vec<_>>(),
            )
            .columns()
            .to_vec();
            columns[2] = Arc::new(TimestampMillisecondArray::from_iter_values(
                rows.iter().map(|r| r.2),
            ));
            columns[3] = Arc::new(TimestampMillisecondArray::from_iter_values(
                rows.iter().map(|r| r.2 + 2_000),
            ));
            RecordBatch::try_new(input_schema(), columns).unwrap()
        };
        let mut out = Vec::new();
        operator
            .process_batch(
                sessions(&[(1, 5, 1_000), (1, 9, 9_000), (2, 1, 1_500)]),
                &mut out,
            )
            .unwrap();
        // 2 500 joins [1 000, 3 000) and 7 500 joins [9 000, 11 000); 6 000
        // stretches the second back, and 4 000 then bridges the two.
        operator
            .process_batch(sessions(&[(1, 3, 2_500), (1, 4, 7_500)]), &mut out)
            .unwrap();
        operator
            .process_batch(sessions(&[(1, 8, 6_000)]), &mut out)
            .unwrap();
        operator
            .process_batch(sessions(&[(1, 2, 4_000)]), &mut out)
            .unwrap();
        operator.process_watermark(10_000, &mut out).unwrap();
        assert_eq!(rows(&out), [(2, 1_500, 1, Some(1))]);
        out.clear();
        operator.process_watermark(i64::MAX, &mut out).unwrap();
        assert_eq!(rows(&out), [(1, 1_000, 6, Some(9))]);
        // A session that merges with none and ended already is late.
        out.clear();
        operator
            .process_batch(sessions(&[(3, 1, 100)]), &mut out)
            .unwrap();
        operator.process_watermark(i64::MAX, &mut out).unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn sessions_that_grow_past_their_timers_fire_once_as_the_batch_merge_of_their_rows() {
        // Rows a little out of order, none late: the watermark trails the
        // latest time by more than the disorder. Sessions grow past the
        // timers they had, and merge; each must fire once, whole, as the
        // sessions of all of a key's rows merged at once.
        const GAP: i64 = 1_000;
        let mut operator = operator();
        operator.merge_sessions = true;
        let mut random = random_numbers(0x5e55_u64);
        let mut all: Vec<(i64, i64, i64)> = Vec::new();
        let mut out = Vec::new();
        let mut clock = 0;
        for _ in 0..60 {
            let rows: Vec<(i64, i64, i64)> = (0..20)
                .map(|_| (random(12), random(100), clock + random(400)))
                .collect();
            // Now and then a pause longer than the gap ends every session.
            clock += 150 + random(300) + if random(6) == 0 { 3 * GAP } else { 0 };
            all.extend(&rows);
            let columns = vec![
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0))) as ArrayRef,
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1))),
                Arc::new(TimestampMillisecondArray::from_iter_values(
                    rows.iter().map(|r| r.2),
                )),
                Arc::new(TimestampMillisecondArray::from_iter_values(
                    rows.iter().map(|r| r.2 + GAP),
                )),
            ];
            let batch = RecordBatch::try_new(input_schema(), columns).unwrap();
            operator.process_batch(batch, &mut out).unwrap();
            operator.process_watermark(clock - 1, &mut out).unwrap();
        }
        operator.process_watermark(i64::MAX, &mut out).unwrap();
        let mut expected = Vec::new();
        for key in 0..12 {
            let mut rows: Vec<(i64, i64)> = all
                .iter()
                .filter(|r| r.0 == key)
                .map(|r| (r.2, r.1))
                .collect();
            rows.sort();
            let mut session: Option<(i64, i64, i64, i64)> = None;
            for (time, price) in rows {
                session = match session {
                    Some((start, end, count, top)) if time <= end => {
                        Some((start, end.max(time + GAP), count + 1, top.max(price)))
                    }
                    other => {
                        if let Some((start, _, count, top)) = other {
                            expected.push((key, start, count, Some(top)));
                        }
                        Some((time, time + GAP, 1, price))
                    }
                };
            }
            if let Some((start, _, count, top)) = session {
                expected.push((key, start, count, Some(top)));
            }
        }
        expected.sort();
        assert_eq!(rows(&out), expected);
        assert!(
            expected.len() > 50,
            "sessions of several keys: {}",
            expected.len()
        );
    }
}
