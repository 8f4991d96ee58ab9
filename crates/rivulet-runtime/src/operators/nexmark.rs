//! The `nexmark` source: the Nexmark benchmark's event stream (persons,
//! auctions, bids) as Arrow batches, in the layout of Flink's Nexmark source
//! table: `event_type` (0 person, 1 auction, 2 bid) and one non-null nested
//! row, `person`, `auction` or `bid`. Events come from the `nexmark` crate's
//! deterministic generator; its base time is an option (default 2024-01-01
//! 00:00:00 UTC) so that runs are reproducible. Subtask `i` of `p` produces
//! events `i, i + p, i + 2p, …`, so every event is produced exactly once.

use std::sync::Arc;

use arrow_array::builder::{
    Int32Builder, Int64Builder, StringBuilder, TimestampMillisecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch, StructArray};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use nexmark::config::NexmarkConfig;
use nexmark::event::Event;
use serde::{Deserialize, Serialize};

use super::pacing::{Allowance, RowBudget};
use super::{SourceFunction, SourcePoll, SubtaskContext, name_or};
use crate::error::{Result, RuntimeError};

/// 2024-01-01 00:00:00 UTC in epoch millis.
pub const DEFAULT_BASE_TIME: i64 = 1_704_067_200_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NexmarkSpec {
    #[serde(default)]
    pub name: Option<String>,
    /// The columns to produce, a subset of [`nexmark_schema`] by name.
    pub schema: Schema,
    /// `events.num`: events over all subtasks; unbounded when absent.
    #[serde(default)]
    pub events: Option<u64>,
    /// `first-event.rate` and `next-event.rate`: events per second of event
    /// time, which spaces the events' timestamps.
    pub first_event_rate: u64,
    pub next_event_rate: u64,
    /// `rate.limited`: also emit at `first-event.rate` in wall-clock time.
    #[serde(default)]
    pub rate_limited: bool,
    pub person_proportion: u64,
    pub auction_proportion: u64,
    pub bid_proportion: u64,
    /// Event time of the first event, epoch millis.
    pub base_time: i64,
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
}

fn default_batch_size() -> usize {
    4096
}

fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, None)
}

fn person_fields() -> Fields {
    Fields::from(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("emailAddress", DataType::Utf8, true),
        Field::new("creditCard", DataType::Utf8, true),
        Field::new("city", DataType::Utf8, true),
        Field::new("state", DataType::Utf8, true),
        Field::new("dateTime", timestamp(), true),
        Field::new("extra", DataType::Utf8, true),
    ])
}

fn auction_fields() -> Fields {
    Fields::from(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("itemName", DataType::Utf8, true),
        Field::new("description", DataType::Utf8, true),
        Field::new("initialBid", DataType::Int64, true),
        Field::new("reserve", DataType::Int64, true),
        Field::new("dateTime", timestamp(), true),
        Field::new("expires", timestamp(), true),
        Field::new("seller", DataType::Int64, true),
        Field::new("category", DataType::Int64, true),
        Field::new("extra", DataType::Utf8, true),
    ])
}

fn bid_fields() -> Fields {
    Fields::from(vec![
        Field::new("auction", DataType::Int64, true),
        Field::new("bidder", DataType::Int64, true),
        Field::new("price", DataType::Int64, true),
        Field::new("channel", DataType::Utf8, true),
        Field::new("url", DataType::Utf8, true),
        Field::new("dateTime", timestamp(), true),
        Field::new("extra", DataType::Utf8, true),
    ])
}

/// The physical columns of Flink's Nexmark source table.
pub fn nexmark_schema() -> Schema {
    Schema::new(vec![
        Field::new("event_type", DataType::Int32, true),
        Field::new("person", DataType::Struct(person_fields()), true),
        Field::new("auction", DataType::Struct(auction_fields()), true),
        Field::new("bid", DataType::Struct(bid_fields()), true),
    ])
}

/// Whether `declared` has the shape of `expected`, nullability aside.
fn same_shape(declared: &DataType, expected: &DataType) -> bool {
    match (declared, expected) {
        (DataType::Struct(d), DataType::Struct(e)) => {
            d.len() == e.len()
                && d.iter()
                    .zip(e.iter())
                    .all(|(d, e)| d.name() == e.name() && same_shape(d.data_type(), e.data_type()))
        }
        _ => declared == expected,
    }
}

impl NexmarkSpec {
    pub fn name(&self) -> String {
        name_or(&self.name, "nexmark")
    }

    pub fn validate(&self) -> Result<()> {
        let canonical = nexmark_schema();
        for field in self.schema.fields() {
            let expected = canonical.field_with_name(field.name()).map_err(|_| {
                RuntimeError::InvalidJobGraph(format!(
                    "the nexmark connector has no column '{}'; its columns are event_type, person, auction and bid",
                    field.name()
                ))
            })?;
            if !same_shape(field.data_type(), expected.data_type()) {
                return Err(RuntimeError::InvalidJobGraph(format!(
                    "nexmark column '{}' must be declared as {}",
                    field.name(),
                    expected.data_type()
                )));
            }
        }
        if self.person_proportion + self.auction_proportion + self.bid_proportion == 0 {
            return Err(RuntimeError::InvalidJobGraph(
                "the nexmark proportions of persons, auctions and bids add up to 0".into(),
            ));
        }
        if self.first_event_rate == 0 || self.next_event_rate == 0 {
            return Err(RuntimeError::InvalidJobGraph(
                "the nexmark event rates must be positive".into(),
            ));
        }
        Ok(())
    }

    pub fn output_schema(&self) -> SchemaRef {
        Arc::new(self.schema.clone())
    }

    fn config(&self) -> NexmarkConfig {
        NexmarkConfig {
            first_rate: self.first_event_rate as usize,
            next_rate: self.next_event_rate as usize,
            person_proportion: self.person_proportion as usize,
            auction_proportion: self.auction_proportion as usize,
            bid_proportion: self.bid_proportion as usize,
            base_time: self.base_time.max(0) as u64,
            ..NexmarkConfig::default()
        }
    }

    /// Every event of the stream in order, as one subtask at parallelism 1
    /// produces them (bounded by `events.num` when set).
    pub fn all_events(&self) -> impl Iterator<Item = Event> + use<> {
        let total = self.events.unwrap_or(u64::MAX);
        nexmark::EventGenerator::new(self.config())
            .take(usize::try_from(total).unwrap_or(usize::MAX))
    }

    pub(super) fn create(&self, context: &SubtaskContext) -> NexmarkSource {
        let index = context.subtask_index as u64;
        let parallelism = context.parallelism.max(1) as u64;
        // Subtask i owns the events i, i + p, … below the total.
        let share = self
            .events
            .map(|total| total / parallelism + u64::from(index < total % parallelism));
        let rate = self
            .rate_limited
            .then(|| self.first_event_rate as f64 / parallelism as f64);
        NexmarkSource {
            events: nexmark::EventGenerator::new(self.config())
                .with_offset(index)
                .with_step(parallelism),
            schema: self.output_schema(),
            budget: RowBudget::new(share, rate),
            emitted: 0,
            batch_size: self.batch_size.max(1),
        }
    }
}

pub struct NexmarkSource {
    events: nexmark::EventGenerator,
    schema: SchemaRef,
    budget: RowBudget,
    emitted: u64,
    batch_size: usize,
}

impl SourceFunction for NexmarkSource {
    fn poll_next(&mut self) -> Result<SourcePoll> {
        let rows = match self.budget.next(self.emitted, self.batch_size as u64) {
            Allowance::End => return Ok(SourcePoll::End),
            Allowance::Wait(wait) => return Ok(SourcePoll::Idle(wait)),
            Allowance::Rows(rows) => rows as usize,
        };
        let events: Vec<Event> = self.events.by_ref().take(rows).collect();
        self.emitted += events.len() as u64;
        Ok(SourcePoll::Batch(to_batch(&events, &self.schema)?))
    }
}

/// Builds the declared columns for `events`.
pub fn to_batch(events: &[Event], schema: &SchemaRef) -> Result<RecordBatch> {
    let arrow = |source| RuntimeError::Arrow {
        operator: "nexmark".into(),
        source,
    };
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let column: ArrayRef = match (field.name().as_str(), field.data_type()) {
            ("event_type", _) => {
                let mut b = Int32Builder::with_capacity(events.len());
                for event in events {
                    b.append_value(match event {
                        Event::Person(_) => 0,
                        Event::Auction(_) => 1,
                        Event::Bid(_) => 2,
                    });
                }
                Arc::new(b.finish())
            }
            (kind, DataType::Struct(fields)) => {
                Arc::new(nested(kind, fields, events).map_err(arrow)?)
            }
            (other, _) => {
                return Err(RuntimeError::InvalidJobGraph(format!(
                    "the nexmark connector has no column '{other}'"
                )));
            }
        };
        columns.push(column);
    }
    RecordBatch::try_new(schema.clone(), columns).map_err(arrow)
}

/// Column builders for one nested row, filled field by field.
struct Columns {
    longs: Vec<Int64Builder>,
    strings: Vec<StringBuilder>,
    times: Vec<TimestampMillisecondBuilder>,
}

impl Columns {
    fn new(longs: usize, strings: usize, times: usize, rows: usize) -> Columns {
        Columns {
            longs: (0..longs)
                .map(|_| Int64Builder::with_capacity(rows))
                .collect(),
            strings: (0..strings)
                .map(|_| StringBuilder::with_capacity(rows, rows * 16))
                .collect(),
            times: (0..times)
                .map(|_| TimestampMillisecondBuilder::with_capacity(rows))
                .collect(),
        }
    }

    fn nulls(&mut self) {
        self.longs.iter_mut().for_each(|b| b.append_null());
        self.strings.iter_mut().for_each(|b| b.append_null());
        self.times.iter_mut().for_each(|b| b.append_null());
    }
}

fn nested(
    kind: &str,
    fields: &Fields,
    events: &[Event],
) -> std::result::Result<StructArray, arrow_schema::ArrowError> {
    let rows = events.len();
    let mut valid = Vec::with_capacity(rows);
    // (longs, strings, times) per kind, in the order the arrays are assembled below.
    let mut c = match kind {
        "person" => Columns::new(1, 6, 1, rows),
        "auction" => Columns::new(5, 3, 2, rows),
        _ => Columns::new(3, 3, 1, rows),
    };
    for event in events {
        match (kind, event) {
            ("person", Event::Person(p)) => {
                c.longs[0].append_value(p.id as i64);
                for (b, v) in c.strings.iter_mut().zip([
                    &p.name,
                    &p.email_address,
                    &p.credit_card,
                    &p.city,
                    &p.state,
                    &p.extra,
                ]) {
                    b.append_value(v);
                }
                c.times[0].append_value(p.date_time as i64);
                valid.push(true);
            }
            ("auction", Event::Auction(a)) => {
                for (b, v) in
                    c.longs
                        .iter_mut()
                        .zip([a.id, a.initial_bid, a.reserve, a.seller, a.category])
                {
                    b.append_value(v as i64);
                }
                for (b, v) in c
                    .strings
                    .iter_mut()
                    .zip([&a.item_name, &a.description, &a.extra])
                {
                    b.append_value(v);
                }
                c.times[0].append_value(a.date_time as i64);
                c.times[1].append_value(a.expires as i64);
                valid.push(true);
            }
            ("bid", Event::Bid(b)) => {
                for (builder, v) in c.longs.iter_mut().zip([b.auction, b.bidder, b.price]) {
                    builder.append_value(v as i64);
                }
                for (builder, v) in c.strings.iter_mut().zip([&b.channel, &b.url, &b.extra]) {
                    builder.append_value(v);
                }
                c.times[0].append_value(b.date_time as i64);
                valid.push(true);
            }
            _ => {
                c.nulls();
                valid.push(false);
            }
        }
    }
    let mut longs = c
        .longs
        .into_iter()
        .map(|mut b| Arc::new(b.finish()) as ArrayRef);
    let mut strings = c
        .strings
        .into_iter()
        .map(|mut b| Arc::new(b.finish()) as ArrayRef);
    let mut times = c
        .times
        .into_iter()
        .map(|mut b| Arc::new(b.finish()) as ArrayRef);
    let mut next = |data_type: &DataType| -> Option<ArrayRef> {
        match data_type {
            DataType::Int64 => longs.next(),
            DataType::Utf8 => strings.next(),
            _ => times.next(),
        }
    };
    // The declared fields are in the canonical order (checked by validate),
    // and within each type the builders follow that order too.
    let arrays: Vec<ArrayRef> = fields
        .iter()
        .map(|f| {
            next(f.data_type()).ok_or_else(|| {
                arrow_schema::ArrowError::SchemaError(format!(
                    "nexmark {kind} has no field {}",
                    f.name()
                ))
            })
        })
        .collect::<std::result::Result<_, _>>()?;
    StructArray::try_new(fields.clone(), arrays, Some(valid.into()))
}

#[cfg(test)]
mod tests {
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Int32Type, Int64Type};

    use super::*;

    fn spec(events: u64) -> NexmarkSpec {
        NexmarkSpec {
            name: None,
            schema: nexmark_schema(),
            events: Some(events),
            first_event_rate: 10_000,
            next_event_rate: 10_000,
            rate_limited: false,
            person_proportion: 1,
            auction_proportion: 3,
            bid_proportion: 46,
            base_time: DEFAULT_BASE_TIME,
            batch_size: 64,
        }
    }

    fn drain(spec: &NexmarkSpec, index: u32, parallelism: u32) -> Vec<RecordBatch> {
        let context = SubtaskContext {
            task_name: "t".into(),
            subtask_index: index,
            parallelism,
            max_parallelism: 128,
        };
        let mut source = spec.create(&context);
        let mut batches = Vec::new();
        while let SourcePoll::Batch(b) = source.poll_next().unwrap() {
            batches.push(b);
        }
        batches
    }

    /// (event_type, the id of the person/auction or the price of the bid, time)
    fn rows(batches: &[RecordBatch]) -> Vec<(i32, i64, i64)> {
        let mut out = Vec::new();
        for batch in batches {
            let types = batch.column(0).as_primitive::<Int32Type>();
            for row in 0..batch.num_rows() {
                let t = types.value(row);
                let nested = batch.column(1 + t as usize).as_struct();
                let (value_col, time_col) = match t {
                    0 => (0, 6),
                    1 => (0, 5),
                    _ => (2, 5),
                };
                let value = nested
                    .column(value_col)
                    .as_primitive::<Int64Type>()
                    .value(row);
                let time = nested
                    .column(time_col)
                    .as_primitive::<arrow_array::types::TimestampMillisecondType>()
                    .value(row);
                assert!(nested.is_valid(row));
                for other in (1..4).filter(|c| *c != 1 + t as usize) {
                    assert!(batch.column(other).is_null(row), "only one row is set");
                }
                out.push((t, value, time));
            }
        }
        out
    }

    #[test]
    fn the_stream_is_deterministic_and_in_flinks_proportions() {
        let spec = spec(1000);
        spec.validate().unwrap();
        let first = rows(&drain(&spec, 0, 1));
        assert_eq!(first, rows(&drain(&spec, 0, 1)), "same events every run");
        assert_eq!(first.len(), 1000);
        let count = |t| first.iter().filter(|r| r.0 == t).count();
        assert_eq!((count(0), count(1), count(2)), (20, 60, 920));
        assert!(
            first
                .iter()
                .all(|r| r.2 >= DEFAULT_BASE_TIME && r.2 < DEFAULT_BASE_TIME + 60_000)
        );
    }

    #[test]
    fn parallel_subtasks_produce_every_event_exactly_once() {
        let spec = spec(1001);
        let mut whole = rows(&drain(&spec, 0, 1));
        let mut split: Vec<(i32, i64, i64)> =
            (0..3).flat_map(|i| rows(&drain(&spec, i, 3))).collect();
        whole.sort();
        split.sort();
        assert_eq!(whole, split);
    }

    #[test]
    fn declared_columns_must_match_the_nexmark_layout() {
        let mut bad = spec(1);
        bad.schema = Schema::new(vec![Field::new("bids", DataType::Int32, true)]);
        assert!(bad.validate().is_err());
        bad.schema = Schema::new(vec![Field::new("event_type", DataType::Int64, true)]);
        assert!(bad.validate().is_err());
        let mut projected = spec(10);
        projected.schema = Schema::new(vec![nexmark_schema().field(3).clone()]);
        projected.validate().unwrap();
        let batches = drain(&projected, 0, 1);
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 10);
        assert_eq!(batches[0].num_columns(), 1);
    }
}
