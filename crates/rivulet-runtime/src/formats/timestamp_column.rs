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
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

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
            None => match plain_timestamp(text.as_bytes()) {
                Some(time) => self.in_unit(time.and_utc()),
                None => string_to_datetime(&Utc, text)
                    .ok()
                    .and_then(|t| self.in_unit(t)),
            },
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

/// `yyyy-MM-dd HH:mm:ss[.fraction]` (or with `T` between date and time),
/// read directly: the form nearly every file has. Anything else (a zone,
/// another layout, a field out of range) is `None`, left to arrow's parser,
/// which reads it (or not) as it always does.
fn plain_timestamp(text: &[u8]) -> Option<NaiveDateTime> {
    fn number(digits: &[u8]) -> Option<u32> {
        digits.iter().try_fold(0u32, |value, &d| {
            d.is_ascii_digit().then(|| value * 10 + u32::from(d - b'0'))
        })
    }
    let (date_time, fraction) = match text.get(19) {
        None if text.len() == 19 => (text, &[][..]),
        Some(b'.') if (21..=29).contains(&text.len()) => (&text[..19], &text[20..]),
        _ => return None,
    };
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(at, byte)| date_time[at] != byte)
        || !matches!(date_time[10], b' ' | b'T')
    {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(number(&date_time[0..4])?).ok()?,
        number(&date_time[5..7])?,
        number(&date_time[8..10])?,
    )?;
    let nanos = number(fraction)? * 10u32.pow(9 - fraction.len() as u32);
    date.and_hms_nano_opt(
        number(&date_time[11..13])?,
        number(&date_time[14..16])?,
        number(&date_time[17..19])?,
        nanos,
    )
}

fn array<T: ArrowTimestampType>(
    values: ScalarBuffer<i64>,
    nulls: Option<NullBuffer>,
    zone: Option<Arc<str>>,
) -> ArrayRef {
    Arc::new(PrimitiveArray::<T>::new(values, nulls).with_timezone_opt(zone))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_timestamps_read_as_arrow_reads_them() {
        let texts = [
            "2024-01-01 00:00:00",
            "2024-02-29T23:59:59.5",
            "2024-12-31 12:34:56.123",
            "1999-07-04 01:02:03.123456789",
            "1969-12-31 23:59:59.999",
            // Left to arrow: other layouts, zones, impossible dates.
            "2024-02-30 00:00:00",
            "2024-01-01 24:00:00",
            "2024-01-01 00:00:00Z",
            "2024-01-01 00:00:00.",
            "2024-1-01 00:00:00",
            "2024-01-01",
            "2024-01-01 00:00:00.1234567890",
        ];
        for text in texts {
            let ours = plain_timestamp(text.as_bytes()).map(|t| t.and_utc());
            let arrows = string_to_datetime(&Utc, text).ok();
            if let Some(ours) = ours {
                assert_eq!(Some(ours), arrows, "{text}");
            }
        }
        assert!(plain_timestamp(b"2024-12-31 12:34:56.123").is_some());
        assert!(plain_timestamp(b"2024-02-30 00:00:00").is_none());
    }
}
