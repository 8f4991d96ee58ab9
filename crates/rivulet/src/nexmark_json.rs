//! `rivulet nexmark-json`: the `nexmark` connector's event stream written as
//! JSON lines in the layout of Flink's Nexmark source table, so the Nexmark
//! queries can read the same events from a file through the `filesystem`
//! connector, and Rivulet and Flink can be compared on one input.
//!
//! Each line is `{"event_type":…,"person":…,"auction":…,"bid":…}` with
//! exactly one of the three rows not null, fields named as Flink's table
//! names them, timestamps as `yyyy-MM-dd HH:mm:ss.SSS` in UTC.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use nexmark::event::{Auction, Bid, Event, Person};
use rivulet_runtime::operators::{NexmarkSpec, nexmark_schema};

/// The stream the connector would produce with these options
/// (`events.num`, `first-event.rate`, proportions, `base-time`, …).
pub fn spec(options: &BTreeMap<String, String>) -> Result<NexmarkSpec, String> {
    rivulet_sql::nexmark::source(options, &nexmark_schema(), "nexmark".into())
}

/// Writes every event of `spec` to `out`, one line each; returns how many.
pub fn write_events(spec: &NexmarkSpec, out: &mut impl Write) -> std::io::Result<u64> {
    let mut line = String::with_capacity(512);
    let mut written = 0;
    for event in spec.all_events() {
        line.clear();
        event_line(&event, &mut line);
        line.push('\n');
        out.write_all(line.as_bytes())?;
        written += 1;
    }
    out.flush()?;
    Ok(written)
}

/// One event as its JSON line (without the newline).
pub fn event_line(event: &Event, out: &mut String) {
    let (kind, person, auction, bid) = match event {
        Event::Person(p) => (0, Some(p), None, None),
        Event::Auction(a) => (1, None, Some(a), None),
        Event::Bid(b) => (2, None, None, Some(b)),
    };
    let _ = write!(out, "{{\"event_type\":{kind},\"person\":");
    write_or_null(out, person, write_person);
    out.push_str(",\"auction\":");
    write_or_null(out, auction, write_auction);
    out.push_str(",\"bid\":");
    write_or_null(out, bid, write_bid);
    out.push('}');
}

fn write_or_null<T>(out: &mut String, row: Option<&T>, write: fn(&mut String, &T)) {
    match row {
        Some(row) => write(out, row),
        None => out.push_str("null"),
    }
}

fn write_person(out: &mut String, p: &Person) {
    let _ = write!(out, "{{\"id\":{},\"name\":", p.id);
    string(out, &p.name);
    out.push_str(",\"emailAddress\":");
    string(out, &p.email_address);
    out.push_str(",\"creditCard\":");
    string(out, &p.credit_card);
    out.push_str(",\"city\":");
    string(out, &p.city);
    out.push_str(",\"state\":");
    string(out, &p.state);
    out.push_str(",\"dateTime\":");
    timestamp(out, p.date_time);
    out.push_str(",\"extra\":");
    string(out, &p.extra);
    out.push('}');
}

fn write_auction(out: &mut String, a: &Auction) {
    let _ = write!(out, "{{\"id\":{},\"itemName\":", a.id);
    string(out, &a.item_name);
    out.push_str(",\"description\":");
    string(out, &a.description);
    let _ = write!(
        out,
        ",\"initialBid\":{},\"reserve\":{},\"dateTime\":",
        a.initial_bid, a.reserve
    );
    timestamp(out, a.date_time);
    out.push_str(",\"expires\":");
    timestamp(out, a.expires);
    let _ = write!(
        out,
        ",\"seller\":{},\"category\":{},\"extra\":",
        a.seller, a.category
    );
    string(out, &a.extra);
    out.push('}');
}

fn write_bid(out: &mut String, b: &Bid) {
    let _ = write!(
        out,
        "{{\"auction\":{},\"bidder\":{},\"price\":{},\"channel\":",
        b.auction, b.bidder, b.price
    );
    string(out, &b.channel);
    out.push_str(",\"url\":");
    string(out, &b.url);
    out.push_str(",\"dateTime\":");
    timestamp(out, b.date_time);
    out.push_str(",\"extra\":");
    string(out, &b.extra);
    out.push('}');
}

fn string(out: &mut String, text: &str) {
    // serde_json writes a &str as a quoted, escaped JSON string; it cannot fail.
    out.push_str(&serde_json::to_string(text).unwrap_or_else(|_| "null".into()));
}

/// `yyyy-MM-dd HH:mm:ss.SSS` of epoch milliseconds, in UTC.
fn timestamp(out: &mut String, millis: u64) {
    let time = i64::try_from(millis)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis);
    match time {
        Some(time) => {
            let _ = write!(out, "\"{}\"", time.format("%Y-%m-%d %H:%M:%S%.3f"));
        }
        None => out.push_str("null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_follow_flinks_nexmark_table_layout() {
        let options = BTreeMap::from([("events.num".to_string(), "50".to_string())]);
        let mut bytes = Vec::new();
        assert_eq!(
            write_events(&spec(&options).unwrap(), &mut bytes).unwrap(),
            50
        );
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 50);
        // Of every 50 events, 1 is a person, 3 are auctions and 46 are bids.
        let kinds = |k: i64| lines.iter().filter(|l| l["event_type"] == k).count();
        assert_eq!((kinds(0), kinds(1), kinds(2)), (1, 3, 46));
        let person = lines.iter().find(|l| l["event_type"] == 0).unwrap();
        assert!(person["auction"].is_null() && person["bid"].is_null());
        assert_eq!(person["person"]["dateTime"], "2024-01-01 00:00:00.000");
        let keys: Vec<&String> = person["person"].as_object().unwrap().keys().collect();
        assert!(keys.contains(&&"emailAddress".to_string()), "{keys:?}");
        let bid = &lines[49]["bid"];
        let time = bid["dateTime"].as_str().unwrap();
        assert_eq!(time.len(), "yyyy-MM-dd HH:mm:ss.SSS".len(), "{time}");
    }
}
