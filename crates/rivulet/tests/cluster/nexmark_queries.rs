//! The Nexmark queries shipped in `examples/nexmark/`, run on a bounded
//! event stream at parallelism 1 and 4 and compared with references
//! computed here in plain Rust over the same events: same rows, same values.

use std::collections::BTreeMap;
use std::time::Duration;

use nexmark::event::{Auction, Bid, Event, Person};

use crate::support::{TestCluster, nexmark_example, read_parts};

const EVENTS: u64 = 50_000;

/// How a column is compared: values as text, timestamps as epoch millis,
/// DECIMAL(_, 3) as thousandths.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Time,
    Thousandths,
}

fn millis(text: &str) -> String {
    let time = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .unwrap_or_else(|e| panic!("'{text}': {e}"));
    time.and_utc().timestamp_millis().to_string()
}

fn thousandths(text: &str) -> String {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let fraction = format!("{fraction:0<3}");
    (whole.parse::<i128>().unwrap() * 1000 + fraction[..3].parse::<i128>().unwrap()).to_string()
}

/// A csv line of the sink as comparable cells.
fn cells(line: &str, kinds: &[Kind]) -> Vec<String> {
    let values: Vec<&str> = line.split(',').collect();
    assert_eq!(values.len(), kinds.len(), "{line}");
    values
        .iter()
        .zip(kinds)
        .map(|(value, kind)| match (kind, value.is_empty()) {
            (_, true) | (Kind::Text, _) => value.to_string(),
            (Kind::Time, false) => millis(value),
            (Kind::Thousandths, false) => thousandths(value),
        })
        .collect()
}

async fn run_query(cluster: &TestCluster, query: &str, parallelism: u32) -> Vec<String> {
    run_query_with(cluster, query, parallelism, &[]).await
}

/// The sink's lines of `query` over the bounded stream, its other `${…}`
/// parameters given by `parameters`.
async fn run_query_with(
    cluster: &TestCluster,
    query: &str,
    parallelism: u32,
    parameters: &[(&str, &str)],
) -> Vec<String> {
    let output = tempfile::tempdir().unwrap();
    let sink = format!(
        "'connector' = 'filesystem', 'path' = '{}', 'format' = 'csv'",
        output.path().display()
    );
    let mut script = format!(
        "SET 'parallelism.default' = '{parallelism}';\n{}\n{}\n{}",
        nexmark_example("source-connector.sql"),
        nexmark_example("views.sql"),
        nexmark_example(&format!("{query}.sql"))
    )
    .replace("${events}", &EVENTS.to_string())
    .replace("${sink}", &sink);
    for (name, value) in parameters {
        script = script.replace(&format!("${{{name}}}"), value);
    }
    let job = cluster.submit_script(&script).await;
    cluster
        .wait_for_status(&job, "FINISHED", Duration::from_secs(60))
        .await;
    read_parts(output.path()).into_values().flatten().collect()
}

/// The events of the bounded stream, by kind.
#[derive(Default)]
struct Events {
    persons: Vec<Person>,
    auctions: Vec<Auction>,
    bids: Vec<Bid>,
}

fn events() -> Events {
    let options = BTreeMap::from([("events.num".to_string(), EVENTS.to_string())]);
    let spec = rivulet::nexmark_json::spec(&options).unwrap();
    let mut events = Events::default();
    for event in spec.all_events() {
        match event {
            Event::Person(person) => events.persons.push(person),
            Event::Auction(auction) => events.auctions.push(auction),
            Event::Bid(bid) => events.bids.push(bid),
        }
    }
    events
}

/// The reference rows of the queries over several kinds of event or over
/// windows, as comparable cells.
fn windowed_reference(query: &str, events: &Events) -> Vec<Vec<String>> {
    let text = |v: &dyn ToString| v.to_string();
    let category_10: BTreeMap<u64, &Auction> = events
        .auctions
        .iter()
        .filter(|a| a.category == 10)
        .map(|a| (a.id as u64, a))
        .collect();
    match query {
        "q3" => {
            let sellers: BTreeMap<u64, &Person> = events
                .persons
                .iter()
                .filter(|p| ["or", "id", "ca"].contains(&p.state.as_str()))
                .map(|p| (p.id as u64, p))
                .collect();
            category_10
                .values()
                .filter_map(|a| {
                    let p = sellers.get(&(a.seller as u64))?;
                    Some(vec![
                        p.name.clone(),
                        p.city.clone(),
                        p.state.clone(),
                        text(&a.id),
                    ])
                })
                .collect()
        }
        "q20" => events
            .bids
            .iter()
            .filter_map(|b| {
                let a = category_10.get(&(b.auction as u64))?;
                Some(vec![
                    text(&b.auction),
                    text(&b.bidder),
                    text(&b.price),
                    b.channel.clone(),
                    b.url.clone(),
                    text(&b.date_time),
                    b.extra.clone(),
                    a.item_name.clone(),
                    a.description.clone(),
                    text(&a.initial_bid),
                    text(&a.reserve),
                    text(&a.date_time),
                    text(&a.expires),
                    text(&a.seller),
                    text(&a.category),
                    a.extra.clone(),
                ])
            })
            .collect(),
        "q7" => {
            // Each 10-second window's highest price; a bid joins a window whose
            // end is at most 10 s after it (and not before it).
            let mut highest: BTreeMap<u64, u64> = BTreeMap::new();
            for b in &events.bids {
                let end = (b.date_time / 10_000 + 1) * 10_000;
                let top = highest.entry(end).or_default();
                *top = (*top).max(b.price as u64);
            }
            let mut rows = Vec::new();
            for b in &events.bids {
                for (end, top) in highest.range(b.date_time..=b.date_time + 10_000) {
                    if *top == b.price as u64 && end - 10_000 <= b.date_time {
                        rows.push(vec![
                            text(&b.auction),
                            text(&b.price),
                            text(&b.bidder),
                            text(&b.date_time),
                            b.extra.clone(),
                        ]);
                    }
                }
            }
            rows
        }
        "q5" => {
            // Bids per auction in each 10-second window starting every 2
            // seconds, then the auctions with the most bids per window.
            let mut counts: BTreeMap<(u64, u64), u64> = BTreeMap::new();
            for b in &events.bids {
                let mut start = b.date_time / 2_000 * 2_000;
                while start + 10_000 > b.date_time {
                    *counts.entry((start, b.auction as u64)).or_default() += 1;
                    match start.checked_sub(2_000) {
                        Some(earlier) => start = earlier,
                        None => break,
                    }
                }
            }
            let mut most: BTreeMap<u64, u64> = BTreeMap::new();
            for ((start, _), count) in &counts {
                let top = most.entry(*start).or_default();
                *top = (*top).max(*count);
            }
            counts
                .iter()
                .filter(|((start, _), count)| most[start] == **count)
                .map(|((_, auction), count)| vec![text(auction), text(count)])
                .collect()
        }
        "q8" => {
            let window = |time: u64| time / 10_000 * 10_000;
            let sellers: std::collections::BTreeSet<(u64, u64)> = events
                .auctions
                .iter()
                .map(|a| (a.seller as u64, window(a.date_time)))
                .collect();
            let people: std::collections::BTreeSet<(u64, String, u64)> = events
                .persons
                .iter()
                .map(|p| (p.id as u64, p.name.clone(), window(p.date_time)))
                .collect();
            people
                .into_iter()
                .filter(|(id, _, start)| sellers.contains(&(*id, *start)))
                .map(|(id, name, start)| vec![text(&id), name, text(&start)])
                .collect()
        }
        "q11" => {
            // Per bidder, bids in time order; a bid within 10 s of the
            // session's end (inclusive, as windows touching merge) extends it.
            let mut times: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
            for b in &events.bids {
                times.entry(b.bidder as u64).or_default().push(b.date_time);
            }
            let mut rows = Vec::new();
            for (bidder, mut times) in times {
                times.sort();
                let mut session: Option<(u64, u64, u64)> = None;
                for time in times {
                    session = match session {
                        Some((start, end, count)) if time <= end => {
                            Some((start, end.max(time + 10_000), count + 1))
                        }
                        other => {
                            if let Some((start, end, count)) = other {
                                rows.push(vec![
                                    text(&bidder),
                                    text(&count),
                                    text(&start),
                                    text(&end),
                                ]);
                            }
                            Some((time, time + 10_000, 1))
                        }
                    };
                }
                if let Some((start, end, count)) = session {
                    rows.push(vec![text(&bidder), text(&count), text(&start), text(&end)]);
                }
            }
            rows
        }
        other => panic!("no reference for {other}"),
    }
}

/// q21's channel id: fixed for the known channels, else the URL's
/// `channel_id` parameter (`(&|^)channel_id=([^&]*)`), if it has one.
fn channel_id(bid: &Bid) -> Option<String> {
    let known = ["apple", "google", "facebook", "baidu"];
    if let Some(id) = known.iter().position(|c| bid.channel.to_lowercase() == *c) {
        return Some(id.to_string());
    }
    let url = &bid.url;
    let start = if url.starts_with("channel_id=") {
        Some(0)
    } else {
        url.find("&channel_id=").map(|at| at + 1)
    }?;
    let value = &url[start + "channel_id=".len()..];
    Some(value.split('&').next().unwrap_or("").to_string())
}

/// The reference rows of `query` over the bids, as comparable cells.
fn reference(query: &str, bids: &[Bid]) -> Vec<Vec<String>> {
    let text = |v: &dyn ToString| v.to_string();
    bids.iter()
        .filter_map(|b| match query {
            "q0" => Some(vec![
                text(&b.auction),
                text(&b.bidder),
                text(&b.price),
                text(&b.date_time),
                b.extra.clone(),
            ]),
            "q1" => Some(vec![
                text(&b.auction),
                text(&b.bidder),
                text(&(b.price as i128 * 908)),
                text(&b.date_time),
                b.extra.clone(),
            ]),
            "q2" => (b.auction % 123 == 0).then(|| vec![text(&b.auction), text(&b.price)]),
            "q10" => {
                let time = chrono::DateTime::from_timestamp_millis(b.date_time as i64).unwrap();
                Some(vec![
                    text(&b.auction),
                    text(&b.bidder),
                    text(&b.price),
                    text(&b.date_time),
                    b.extra.clone(),
                    time.format("%Y-%m-%d").to_string(),
                    time.format("%H:%M").to_string(),
                ])
            }
            "q14" => {
                let euros = b.price as i128 * 908;
                let hour = (b.date_time / 3_600_000) % 24;
                let part = match hour {
                    8..=18 => "dayTime",
                    0..=6 | 20..=23 => "nightTime",
                    _ => "otherTime",
                };
                (euros > 1_000_000_000 && euros < 50_000_000_000).then(|| {
                    vec![
                        text(&b.auction),
                        text(&b.bidder),
                        text(&euros),
                        part.to_string(),
                        text(&b.date_time),
                        b.extra.clone(),
                        text(&b.extra.matches('c').count()),
                    ]
                })
            }
            "q21" => channel_id(b).map(|id| {
                vec![
                    text(&b.auction),
                    text(&b.bidder),
                    text(&b.price),
                    b.channel.clone(),
                    id,
                ]
            }),
            "q22" => {
                let dir = |i: usize| b.url.split('/').nth(i).unwrap_or("").to_string();
                Some(vec![
                    text(&b.auction),
                    text(&b.bidder),
                    text(&b.price),
                    b.channel.clone(),
                    dir(3),
                    dir(4),
                    dir(5),
                ])
            }
            other => panic!("no reference for {other}"),
        })
        .collect()
}

#[tokio::test]
async fn append_only_nexmark_queries_match_their_references_at_parallelism_1_and_4() {
    use Kind::*;
    let queries: &[(&str, &[Kind])] = &[
        ("q0", &[Text, Text, Text, Time, Text]),
        ("q1", &[Text, Text, Thousandths, Time, Text]),
        ("q2", &[Text, Text]),
        ("q3", &[Text, Text, Text, Text]),
        ("q5", &[Text, Text]),
        ("q7", &[Text, Text, Text, Time, Text]),
        ("q8", &[Text, Text, Time]),
        ("q10", &[Text, Text, Text, Time, Text, Text, Text]),
        ("q11", &[Text, Text, Time, Time]),
        ("q14", &[Text, Text, Thousandths, Text, Time, Text, Text]),
        ("q21", &[Text, Text, Text, Text, Text]),
        ("q22", &[Text, Text, Text, Text, Text, Text, Text]),
        (
            "q20",
            &[
                Text, Text, Text, Text, Text, Time, Text, Text, Text, Text, Text, Time, Time, Text,
                Text, Text,
            ],
        ),
    ];
    let events = events();
    let cluster = TestCluster::start(&[("taskmanager.numberOfTaskSlots", "4")]).await;
    for (query, kinds) in queries {
        let mut expected = match *query {
            "q3" | "q5" | "q7" | "q8" | "q11" | "q20" => windowed_reference(query, &events),
            _ => reference(query, &events.bids),
        };
        expected.sort();
        assert!(!expected.is_empty(), "{query} selects some bids");
        for parallelism in [1, 4] {
            let mut rows: Vec<Vec<String>> = run_query(&cluster, query, parallelism)
                .await
                .iter()
                .map(|line| cells(line, kinds))
                .collect();
            rows.sort();
            assert_eq!(rows.len(), expected.len(), "{query} at p={parallelism}");
            assert!(rows == expected, "{query} at p={parallelism}: rows differ");
        }
    }
    cluster.stop().await;
}

/// q3 reads the source table in two places (the `person` and `auction`
/// views): as Flink with `table.optimizer.reuse-source-enabled`, the job
/// has one source, which feeds both (the test above checks q3's rows).
#[tokio::test]
async fn a_query_reading_one_table_in_two_places_has_one_source() {
    let cluster = TestCluster::start(&[("taskmanager.numberOfTaskSlots", "2")]).await;
    let script = format!(
        "{}\n{}\n{}",
        nexmark_example("source-connector.sql"),
        nexmark_example("views.sql"),
        nexmark_example("q3.sql")
    )
    .replace("${events}", "1000")
    .replace("${sink}", "'connector' = 'blackhole'");
    let job = cluster.submit_script(&script).await;
    let plan = cluster.get(&format!("/jobs/{job}/plan")).await;
    let descriptions: Vec<String> = plan["plan"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["description"].as_str().unwrap().to_string())
        .collect();
    let sources = descriptions
        .iter()
        .filter(|d| d.contains("Source:"))
        .count();
    assert_eq!(sources, 1, "{descriptions:?}");
    cluster
        .wait_for_status(&job, "FINISHED", Duration::from_secs(60))
        .await;
    cluster.stop().await;
}

/// q12's windows are of processing time: which window a bid falls in
/// depends on the clock, but every bid is counted in exactly one 10-second
/// window of its bidder, aligned to 10 seconds, near the time the job ran.
#[tokio::test]
async fn processing_time_windows_count_every_bid_once_near_the_wall_clock() {
    let events = events();
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for b in &events.bids {
        *expected.entry(b.bidder.to_string()).or_default() += 1;
    }
    let cluster = TestCluster::start(&[("taskmanager.numberOfTaskSlots", "4")]).await;
    let started = chrono::Utc::now().timestamp_millis();
    let rows = run_query(&cluster, "q12", 4).await;
    let finished = chrono::Utc::now().timestamp_millis();
    let mut counted: BTreeMap<String, u64> = BTreeMap::new();
    for line in &rows {
        let cells = cells(line, &[Kind::Text, Kind::Text, Kind::Time, Kind::Time]);
        let (start, end): (i64, i64) = (cells[2].parse().unwrap(), cells[3].parse().unwrap());
        assert_eq!((start % 10_000, end - start), (0, 10_000), "{line}");
        assert!(
            start <= finished && end >= started,
            "{line}: not near {started}..{finished}"
        );
        *counted.entry(cells[0].clone()).or_default() += cells[1].parse::<u64>().unwrap();
    }
    assert!(counted == expected, "bids per bidder differ");
    cluster.stop().await;
}

/// q13 looks each bid up in a side table read from a file: at parallelism
/// 1 and 4, every bid whose auction (modulo 10000) the table holds comes
/// out once with its value, and the others not at all (an inner lookup).
#[tokio::test]
async fn the_side_input_lookup_join_gives_each_bid_its_value() {
    let side = tempfile::tempdir().unwrap();
    let side_input = side.path().join("side_input.csv");
    // Even keys only: bids on odd auctions find nothing.
    let lines: String = (0..10_000)
        .step_by(2)
        .map(|key| format!("{key},v{key}\n"))
        .collect();
    std::fs::write(&side_input, lines).unwrap();
    let events = events();
    let mut expected: Vec<Vec<String>> = events
        .bids
        .iter()
        .filter(|b| b.auction % 2 == 0)
        .map(|b| {
            vec![
                b.auction.to_string(),
                b.bidder.to_string(),
                b.price.to_string(),
                b.date_time.to_string(),
                format!("v{}", b.auction % 10_000),
            ]
        })
        .collect();
    expected.sort();
    assert!(!expected.is_empty() && expected.len() < events.bids.len());
    let cluster = TestCluster::start(&[("taskmanager.numberOfTaskSlots", "4")]).await;
    let side_input = side_input.display().to_string();
    for parallelism in [1, 4] {
        let parameters = [("side_input", side_input.as_str())];
        let lines = run_query_with(&cluster, "q13", parallelism, &parameters).await;
        use Kind::*;
        let mut rows: Vec<Vec<String>> = lines
            .iter()
            .map(|line| cells(line, &[Text, Text, Text, Time, Text]))
            .collect();
        rows.sort();
        assert_eq!(rows.len(), expected.len(), "q13 at p={parallelism}");
        assert!(rows == expected, "q13 at p={parallelism}: rows differ");
    }
    cluster.stop().await;
}
