//! The `nexmark` connector's options, with the names of the Flink Nexmark
//! benchmark's source (`events.num`, `first-event.rate`, `next-event.rate`,
//! `person.proportion`, `auction.proportion`, `bid.proportion`), plus
//! `rate.limited` and `base-time` (the event time of the first event,
//! `yyyy-MM-dd HH:mm:ss` in UTC or epoch milliseconds; default
//! 2024-01-01 00:00:00, so runs are reproducible).

use std::collections::BTreeMap;

use arrow_schema::Schema;
use rivulet_runtime::operators::{DEFAULT_BASE_TIME, NexmarkSpec};

use crate::connectors::{check_options, number};

const OPTIONS: &[&str] = &[
    "auction.proportion",
    "base-time",
    "bid.proportion",
    "events.num",
    "first-event.rate",
    "next-event.rate",
    "person.proportion",
    "rate.limited",
];

pub fn source(
    options: &BTreeMap<String, String>,
    projected: &Schema,
    name: String,
) -> Result<NexmarkSpec, String> {
    check_options("nexmark", options, |k| OPTIONS.contains(&k), OPTIONS)?;
    let first_event_rate = number(options, "first-event.rate")?.unwrap_or(10_000);
    let rate_limited = match options
        .get("rate.limited")
        .map(|v| v.trim().to_ascii_lowercase())
    {
        None => false,
        Some(v) if v == "true" => true,
        Some(v) if v == "false" => false,
        Some(v) => {
            return Err(format!(
                "Could not parse value '{v}' for key 'rate.limited'."
            ));
        }
    };
    let base_time = match options.get("base-time") {
        None => DEFAULT_BASE_TIME,
        Some(text) => parse_base_time(text)?,
    };
    Ok(NexmarkSpec {
        name: Some(name),
        schema: projected.clone(),
        events: number(options, "events.num")?,
        first_event_rate,
        next_event_rate: number(options, "next-event.rate")?.unwrap_or(first_event_rate),
        rate_limited,
        person_proportion: number(options, "person.proportion")?.unwrap_or(1),
        auction_proportion: number(options, "auction.proportion")?.unwrap_or(3),
        bid_proportion: number(options, "bid.proportion")?.unwrap_or(46),
        base_time,
        batch_size: 4096,
    })
}

fn parse_base_time(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(millis) = text.parse::<i64>() {
        return Ok(millis);
    }
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .map(|t| t.and_utc().timestamp_millis())
        .map_err(|_| {
            format!(
                "Could not parse value '{text}' for key 'base-time': expected 'yyyy-MM-dd HH:mm:ss' (UTC) or epoch milliseconds."
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_time_takes_a_utc_date_time_or_millis() {
        assert_eq!(
            parse_base_time("2024-01-01 00:00:00"),
            Ok(DEFAULT_BASE_TIME)
        );
        assert_eq!(parse_base_time("42"), Ok(42));
        assert!(parse_base_time("yesterday").is_err());
    }
}
