//! A TIMESTAMP or TIMESTAMP_LTZ column built from text, as arrow reads
//! timestamps from strings (`string_to_datetime`): in the column's time zone,
//! or UTC when it has none. The csv and JSON sources share it.

use std::sync::Arc;

use arrow_array::timezone::Tz;
use arrow_array::types::{
    ArrowTimestampType, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use arrow_array::{ArrayRef, PrimitiveArray};
use arrow_buffer::{NullBuffer, NullBufferBuilder, ScalarBuffer};
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
    last_read: LastRead,
    values: Vec<i64>,
    /// Keeps no bitmap until a NULL comes: most columns never have one.
    valid: NullBufferBuilder,
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
            last_read: LastRead::default(),
            values: Vec::with_capacity(capacity),
            valid: NullBufferBuilder::new(capacity),
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

    /// [`Self::in_unit`] of a UTC time given as seconds since the epoch and
    /// nanoseconds, computed as chrono computes it.
    fn parts_in_unit(&self, PlainTime { seconds, nanos }: PlainTime) -> Option<i64> {
        let nanos = i64::from(nanos);
        match self.unit {
            TimeUnit::Second => Some(seconds),
            TimeUnit::Millisecond => Some(seconds * 1_000 + nanos / 1_000_000),
            TimeUnit::Microsecond => Some(seconds * 1_000_000 + nanos / 1_000),
            // As chrono's `timestamp_nanos_opt`: so that the earliest
            // second that fits still does.
            TimeUnit::Nanosecond if seconds < 0 => (seconds + 1)
                .checked_mul(1_000_000_000)?
                .checked_add(nanos - 1_000_000_000),
            TimeUnit::Nanosecond => seconds.checked_mul(1_000_000_000)?.checked_add(nanos),
        }
    }

    pub fn append_text(&mut self, text: &str) -> Result<(), NotATimestamp> {
        let value = match &self.parsed_zone {
            None => match plain_timestamp(text.as_bytes(), &mut self.last_read) {
                Some(time) => self.parts_in_unit(time),
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
    #[inline(always)]
    pub fn append_value(&mut self, value: i64) {
        self.values.push(value);
        self.valid.append_non_null();
    }

    pub fn append_null(&mut self) {
        self.values.push(0);
        self.valid.append_null();
    }

    pub fn append_nulls(&mut self, count: usize) {
        self.values.resize(self.values.len() + count, 0);
        self.valid.append_n_nulls(count);
    }

    pub fn finish(&mut self) -> ArrayRef {
        // The next batch gets as much room as this one had.
        let room = self.values.capacity();
        let values = ScalarBuffer::from(std::mem::replace(
            &mut self.values,
            Vec::with_capacity(room),
        ));
        let nulls = self
            .valid
            .finish()
            .filter(|n: &NullBuffer| n.null_count() > 0);
        let zone = self.zone.clone();
        match self.unit {
            TimeUnit::Second => array::<TimestampSecondType>(values, nulls, zone),
            TimeUnit::Millisecond => array::<TimestampMillisecondType>(values, nulls, zone),
            TimeUnit::Microsecond => array::<TimestampMicrosecondType>(values, nulls, zone),
            TimeUnit::Nanosecond => array::<TimestampNanosecondType>(values, nulls, zone),
        }
    }
}

/// A UTC time: seconds since the epoch and the nanoseconds after them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PlainTime {
    seconds: i64,
    nanos: u32,
}

/// `yyyy-MM-dd HH:mm:ss[.fraction]` (or with `T` between date and time),
/// read directly: the form nearly every file has. Anything else (a zone,
/// another layout, a field out of range) is `None`, left to arrow's parser,
/// which reads it (or not) as it always does. The fields are checked as
/// chrono checks them (`NaiveDate::from_ymd_opt`, `and_hms_nano_opt`), and
/// the day counted from the civil date directly rather than through chrono.
fn plain_timestamp(text: &[u8], last: &mut LastRead) -> Option<PlainTime> {
    let (date_time, fraction) = match text.get(19) {
        None if text.len() == 19 => (text, &[][..]),
        Some(b'.') if (21..=29).contains(&text.len()) => (&text[..19], &text[20..]),
        _ => return None,
    };
    let date_time = date_time.first_chunk::<19>()?;
    let seconds = match last.second {
        Some((known, seconds)) if known == *date_time => seconds,
        _ => {
            let seconds = plain_seconds(date_time, &mut last.date)?;
            last.second = Some((*date_time, seconds));
            seconds
        }
    };
    // At most nine digits, so below a second (no leap second to allow).
    let nanos = number(fraction)? * 10u32.pow(9 - fraction.len() as u32);
    Some(PlainTime { seconds, nanos })
}

/// The seconds since the epoch of `yyyy-MM-dd HH:mm:ss` (or with `T`).
fn plain_seconds(date_time: &[u8; 19], last_date: &mut Option<([u8; 10], i64)>) -> Option<i64> {
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(at, byte)| date_time[at] != byte)
        || !matches!(date_time[10], b' ' | b'T')
    {
        return None;
    }
    let date = *date_time.first_chunk::<10>()?;
    let days = match last_date {
        Some((known, days)) if *known == date => *days,
        _ => {
            let days = plain_date(&date)?;
            *last_date = Some((date, days));
            days
        }
    };
    let (hour, minute, second) = (
        number(&date_time[11..13])?,
        number(&date_time[14..16])?,
        number(&date_time[17..19])?,
    );
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(days * 86_400 + i64::from(hour) * 3_600 + i64::from(minute) * 60 + i64::from(second))
}

/// The last date and second a column read (`yyyy-MM-dd` and `yyyy-MM-dd
/// HH:mm:ss`, already checked) as days and seconds since the epoch: the
/// timestamps of a file mostly share their second, or at least their date,
/// with the one before, which then need not be read again.
#[derive(Debug, Default)]
struct LastRead {
    date: Option<([u8; 10], i64)>,
    second: Option<([u8; 19], i64)>,
}

/// The day since the epoch of `yyyy-MM-dd` (the dashes already checked),
/// if it is a date.
fn plain_date(date: &[u8; 10]) -> Option<i64> {
    let year = number(&date[0..4])?;
    let month = number(&date[5..7])?;
    let day = number(&date[8..10])?;
    if !(1..=12).contains(&month) || !(1..=days_in_month(year, month)).contains(&day) {
        return None;
    }
    Some(days_from_civil(i64::from(year), month, day))
}

/// The value of ASCII digits (at most nine); `None` if any is not a digit.
fn number(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |value, &d| {
        let digit = d.wrapping_sub(b'0');
        (digit <= 9).then(|| value * 10 + u32::from(digit))
    })
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar
/// (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    // Months counted from March, so that February is last.
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
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
    use chrono::{Datelike, NaiveDate};

    use super::*;

    /// What arrow makes of `text`, in seconds and nanoseconds.
    fn arrows(text: &str) -> Option<PlainTime> {
        string_to_datetime(&Utc, text).ok().map(|t| PlainTime {
            seconds: t.timestamp(),
            nanos: t.timestamp_subsec_nanos(),
        })
    }

    #[test]
    fn plain_timestamps_read_as_arrow_reads_them() {
        let texts = [
            "2024-01-01 00:00:00",
            "2024-02-29T23:59:59.5",
            "2024-12-31 12:34:56.123",
            "1999-07-04 01:02:03.123456789",
            "1969-12-31 23:59:59.999",
            "0000-01-01 00:00:00",
            "9999-12-31 23:59:59.999999999",
            "1900-02-28 00:00:00",
            "2000-02-29 00:00:00",
            // Left to arrow: other layouts, zones, impossible dates.
            "1900-02-29 00:00:00",
            "2023-02-29 00:00:00",
            "2024-02-30 00:00:00",
            "2024-04-31 00:00:00",
            "2024-00-10 00:00:00",
            "2024-13-10 00:00:00",
            "2024-01-00 00:00:00",
            "2024-01-01 24:00:00",
            "2024-01-01 00:60:00",
            "2024-01-01 00:00:60",
            "2024-01-01 00:00:00Z",
            "2024-01-01 00:00:00.",
            "2024-1-01 00:00:00",
            "2024-01-01",
            "2024-01-01 00:00:00.1234567890",
            "2024-01-01 00:00:0/",
            "2024-01-01 00:00:0:",
        ];
        for text in texts {
            if let Some(ours) = plain_timestamp(text.as_bytes(), &mut LastRead::default()) {
                assert_eq!(Some(ours), arrows(text), "{text}");
            }
        }
        assert!(plain_timestamp(b"2024-12-31 12:34:56.123", &mut LastRead::default()).is_some());
        assert!(plain_timestamp(b"2024-02-30 00:00:00", &mut LastRead::default()).is_none());
        assert!(plain_timestamp(b"2023-02-29 00:00:00", &mut LastRead::default()).is_none());
    }

    #[test]
    fn every_day_of_four_centuries_reads_as_arrow_reads_it() {
        // Every date from 1600 to 2400 (leap rules of all kinds), then
        // random fields, some out of range.
        let mut day = NaiveDate::from_ymd_opt(1600, 1, 1).unwrap();
        let mut last = LastRead::default();
        while day.year() < 2401 {
            let text = format!("{} 13:14:15.016", day.format("%Y-%m-%d"));
            // Three times: then the second is the one remembered, then only
            // the date.
            assert_eq!(
                plain_timestamp(text.as_bytes(), &mut last),
                arrows(&text),
                "{text}"
            );
            let same_second = format!("{} 13:14:15.9", day.format("%Y-%m-%d"));
            assert_eq!(
                plain_timestamp(same_second.as_bytes(), &mut last),
                arrows(&same_second),
                "{same_second}"
            );
            let again = format!("{} 23:59:59", day.format("%Y-%m-%d"));
            assert_eq!(
                plain_timestamp(again.as_bytes(), &mut last),
                arrows(&again),
                "{again}"
            );
            day = day.succ_opt().unwrap();
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |below: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % below
        };
        for _ in 0..20_000 {
            let digits = next(10) as usize;
            let fraction: String = (0..digits)
                .map(|_| char::from(b'0' + next(10) as u8))
                .collect();
            let text = format!(
                "{:04}-{:02}-{:02}{}{:02}:{:02}:{:02}{}{fraction}",
                next(10_000),
                next(14),
                next(33),
                if next(2) == 0 { ' ' } else { 'T' },
                next(26),
                next(62),
                next(62),
                if digits == 0 { "" } else { "." },
            );
            // The remembered date of the line before must not leak into this one.
            if let Some(ours) = plain_timestamp(text.as_bytes(), &mut last) {
                assert_eq!(Some(ours), arrows(&text), "{text}");
            }
        }
    }

    #[test]
    fn columns_in_every_unit_hold_what_arrow_reads() {
        let texts = [
            "1969-12-31 23:59:59.987654321",
            "2024-06-01 01:02:03.5",
            // The edges of nanoseconds in an `i64`, and past them.
            "1677-09-21 00:12:43.145224192",
            "1677-09-21 00:12:43.145224191",
            "2262-04-11 23:47:16.854775807",
            "2262-04-11 23:47:16.854775808",
        ];
        for text in texts {
            check_every_unit(text);
        }
    }

    fn check_every_unit(text: &str) {
        let time = string_to_datetime(&Utc, text).unwrap();
        for unit in [
            TimeUnit::Second,
            TimeUnit::Millisecond,
            TimeUnit::Microsecond,
            TimeUnit::Nanosecond,
        ] {
            let mut column = TimestampColumn::new(unit, &None, 1).unwrap();
            let expected = column.in_unit(time);
            assert_eq!(column.append_text(text).ok(), expected.map(drop), "{text}");
            assert_eq!(column.values.first().copied(), expected, "{text} {unit:?}");
        }
    }
}
