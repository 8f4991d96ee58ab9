//! A TIMESTAMP or TIMESTAMP_LTZ column built from text, as arrow reads
//! timestamps from strings (`string_to_datetime`): in the column's time zone,
//! or UTC when it has none. The csv and JSON sources share it.

use std::sync::Arc;

use arrow_array::builder::BooleanBuilder;
use arrow_array::timezone::Tz;
use arrow_array::types::{
    ArrowTimestampType, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use arrow_array::{ArrayRef, PrimitiveArray};
use arrow_buffer::{NullBuffer, ScalarBuffer};
use arrow_cast::parse::string_to_datetime;
use arrow_schema::TimeUnit;
use chrono::{DateTime, TimeZone, Utc};

/// A text that does not read as a timestamp of the column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotATimestamp;

pub struct TimestampColumn {
    unit: TimeUnit,
    zone: Option<Arc<str>>,
    parsed_zone: Option<Tz>,
    values: Vec<i64>,
    valid: BooleanBuilder,
}

impl TimestampColumn {
    /// `None` when the zone is not one arrow knows.
    pub fn new(unit: TimeUnit, zone: &Option<Arc<str>>, capacity: usize) -> Option<Self> {
        let parsed_zone = match zone {
            Some(zone) => Some(zone.parse::<Tz>().ok()?),
            None => None,
        };
        Some(TimestampColumn {
            unit,
            zone: zone.clone(),
            parsed_zone,
            values: Vec::with_capacity(capacity),
            valid: BooleanBuilder::with_capacity(capacity),
        })
    }

    fn in_unit<Z: TimeZone>(&self, time: DateTime<Z>) -> Option<i64> {
        match self.unit {
            TimeUnit::Second => Some(time.timestamp()),
            TimeUnit::Millisecond => Some(time.timestamp_millis()),
            TimeUnit::Microsecond => Some(time.timestamp_micros()),
            TimeUnit::Nanosecond => time.timestamp_nanos_opt(),
        }
    }

    pub fn append_text(&mut self, text: &str) -> Result<(), NotATimestamp> {
        let value = match &self.parsed_zone {
            None => string_to_datetime(&Utc, text)
                .ok()
                .and_then(|t| self.in_unit(t)),
            Some(zone) => string_to_datetime(zone, text)
                .ok()
                .and_then(|t| self.in_unit(t)),
        };
        self.append_value(value.ok_or(NotATimestamp)?);
        Ok(())
    }

    /// A value already in the column's unit.
    pub fn append_value(&mut self, value: i64) {
        self.values.push(value);
        self.valid.append_value(true);
    }

    pub fn append_null(&mut self) {
        self.values.push(0);
        self.valid.append_value(false);
    }

    pub fn finish(&mut self) -> ArrayRef {
        let values = ScalarBuffer::from(std::mem::take(&mut self.values));
        let valid = self.valid.finish();
        let nulls = Some(NullBuffer::new(valid.values().clone())).filter(|n| n.null_count() > 0);
        let zone = self.zone.clone();
        match self.unit {
            TimeUnit::Second => array::<TimestampSecondType>(values, nulls, zone),
            TimeUnit::Millisecond => array::<TimestampMillisecondType>(values, nulls, zone),
            TimeUnit::Microsecond => array::<TimestampMicrosecondType>(values, nulls, zone),
            TimeUnit::Nanosecond => array::<TimestampNanosecondType>(values, nulls, zone),
        }
    }
}

fn array<T: ArrowTimestampType>(
    values: ScalarBuffer<i64>,
    nulls: Option<NullBuffer>,
    zone: Option<Arc<str>>,
) -> ArrayRef {
    Arc::new(PrimitiveArray::<T>::new(values, nulls).with_timezone_opt(zone))
}
