//! The `rivulet standalone` process: it starts, serves, prints what `print`
//! sinks write on its stdout, and exits with 0 on `DELETE /cluster`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

type StdoutLines = std::io::Lines<BufReader<std::process::ChildStdout>>;

/// Starts `rivulet standalone` on an ephemeral port; answers the process,
/// its REST base URL (from its first line) and the rest of its stdout.
fn start_standalone(args: &[&str]) -> (std::process::Child, String, StdoutLines) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rivulet"))
        .arg("standalone")
        .args(args)
        .args(["-D", "rest.port=0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("rivulet starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a line").expect("text");
    let base = first
        .strip_prefix("Rivulet REST endpoint: ")
        .unwrap_or_else(|| panic!("unexpected first line {first}"))
        .to_string();
    (child, base, lines)
}

/// `DELETE /cluster` answers `{}` and the process exits with 0 within 10 s.
async fn shut_down(client: &reqwest::Client, base: &str, child: &mut std::process::Child) {
    let answer = client
        .delete(format!("{base}/cluster"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), "{}");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("rivulet did not exit after DELETE /cluster");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "exit status {status}");
}

/// Collects the process's further stdout lines on a thread of their own.
struct Printed {
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    collector: std::thread::JoinHandle<()>,
}

impl Printed {
    fn collect(lines: StdoutLines) -> Printed {
        let printed = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let collector = {
            let printed = printed.clone();
            std::thread::spawn(move || {
                for line in lines.map_while(Result::ok) {
                    printed.lock().unwrap().push(line);
                }
            })
        };
        Printed {
            lines: printed,
            collector,
        }
    }

    /// Every line, once the process has ended.
    fn finish(self) -> Vec<String> {
        self.collector.join().unwrap();
        self.lines.lock().unwrap().clone()
    }
}

/// `rivulet run <script>` against the cluster at `base`, to success.
fn run_script(base: &str, dir: &std::path::Path, name: &str, script: &str) {
    let file = dir.join(format!("{name}.sql"));
    std::fs::write(&file, script).unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_rivulet"))
        .args([
            "run",
            file.to_str().unwrap(),
            "-m",
            base.trim_start_matches("http://"),
        ])
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_cluster_shuts_the_process_down_with_exit_code_zero() {
    let (mut child, base, _lines) = start_standalone(&["--demo"]);
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        let overview: serde_json::Value = client
            .get(format!("{base}/overview"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if overview["jobs-running"] == 1 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the demo job never ran: {overview}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    shut_down(&client, &base, &mut child).await;
}

/// The `print` connector writes to the TaskManager's stdout in Flink's row
/// format, prefixed by `print-identifier` and, when parallel, the subtask.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn print_sinks_write_flinks_row_format_to_stdout() {
    let (mut child, base, lines) = start_standalone(&["--no-demo", "--slots", "2"]);
    let printed = Printed::collect(lines);
    let dir = tempfile::tempdir().unwrap();
    let script = |identifier: &str, parallelism: u32| {
        let identifier = if identifier.is_empty() {
            String::new()
        } else {
            format!(", 'print-identifier' = '{identifier}'")
        };
        format!(
            "SET 'parallelism.default' = '{parallelism}';
CREATE TABLE s (n INT, t TIMESTAMP(3)) WITH ('connector' = 'datagen',
  'fields.n.kind' = 'sequence', 'fields.n.start' = '1', 'fields.n.end' = '4');
CREATE TABLE p (n INT, word STRING, t TIMESTAMP(3), d DOUBLE) WITH ('connector' = 'print'{identifier});
INSERT INTO p SELECT n, IF(n % 2 = 0, 'even', CAST(NULL AS STRING)),
  TO_TIMESTAMP('2024-01-0' || CAST(n AS STRING) || ' 10:00:00'), n / 2.0 FROM s;"
        )
    };
    // An unbounded GROUP BY prints its changelog: +I, then -U/+U pairs.
    let changes = "CREATE TABLE s (n INT) WITH ('connector' = 'datagen', 'rows-per-second' = '4',
  'fields.n.kind' = 'sequence', 'fields.n.start' = '1', 'fields.n.end' = '6');
CREATE TABLE c (parity STRING, cnt BIGINT, top INT) WITH ('connector' = 'print', 'print-identifier' = 'chg');
INSERT INTO c SELECT IF(n % 2 = 0, 'even', 'odd'), COUNT(*), MAX(n) FROM s GROUP BY IF(n % 2 = 0, 'even', 'odd');";
    // A left outer join at parallelism 2: rows without a partner print padded
    // with NULLs and are retracted (-D) when a partner comes.
    let outer = "SET 'parallelism.default' = '2';
CREATE TABLE s (n INT) WITH ('connector' = 'datagen', 'rows-per-second' = '20',
  'fields.n.kind' = 'sequence', 'fields.n.start' = '1', 'fields.n.end' = '6');
CREATE TABLE t (m INT) WITH ('connector' = 'datagen', 'rows-per-second' = '20',
  'fields.m.kind' = 'sequence', 'fields.m.start' = '1', 'fields.m.end' = '3');
CREATE TABLE o (n INT, m INT) WITH ('connector' = 'print', 'print-identifier' = 'outer');
INSERT INTO o SELECT n, m FROM s LEFT JOIN t ON s.n = t.m * 2;";
    // A GROUP BY over a GROUP BY at parallelism 2 reads a changelog: how
    // many buckets hold each count. Every bucket ends with two rows, so the
    // count of one is taken back to no bucket and deleted (-D).
    let nested = "SET 'parallelism.default' = '2';
CREATE TABLE s (n INT) WITH ('connector' = 'datagen', 'rows-per-second' = '4',
  'fields.n.kind' = 'sequence', 'fields.n.start' = '1', 'fields.n.end' = '6');
CREATE TABLE g (cnt BIGINT, buckets BIGINT) WITH ('connector' = 'print', 'print-identifier' = 'nested');
INSERT INTO g SELECT cnt, COUNT(*) FROM (SELECT n % 3 AS b, COUNT(*) AS cnt FROM s GROUP BY n % 3) GROUP BY cnt;";
    // A join of that changelog at parallelism 2: each bucket's count as it
    // grows is joined with the sizes it reaches, and what an old count
    // joined is taken back (-D from the outer side, -U from the inner).
    let joined = |identifier: &str, join: &str| {
        format!(
            "SET 'parallelism.default' = '2';
CREATE TABLE s (n INT) WITH ('connector' = 'datagen', 'rows-per-second' = '20',
  'fields.n.kind' = 'sequence', 'fields.n.start' = '1', 'fields.n.end' = '6');
CREATE TABLE t (m INT) WITH ('connector' = 'datagen', 'rows-per-second' = '20',
  'fields.m.kind' = 'sequence', 'fields.m.start' = '2', 'fields.m.end' = '3');
CREATE TABLE j (b INT, cnt BIGINT, m INT) WITH ('connector' = 'print', 'print-identifier' = '{identifier}');
INSERT INTO j SELECT g.b, g.cnt, t.m
FROM (SELECT n % 3 AS b, COUNT(*) AS cnt FROM s GROUP BY n % 3) AS g {join} t ON g.cnt = t.m;"
        )
    };
    // A Top-N of that changelog: the two largest buckets as they grow.
    let top = "SET 'parallelism.default' = '2';
CREATE TABLE s (n INT) WITH ('connector' = 'datagen', 'rows-per-second' = '20',
  'fields.n.kind' = 'sequence', 'fields.n.start' = '1', 'fields.n.end' = '7');
CREATE TABLE r (b INT, cnt BIGINT, rn BIGINT) WITH ('connector' = 'print', 'print-identifier' = 'top');
INSERT INTO r SELECT b, cnt, rn FROM (
  SELECT b, cnt, ROW_NUMBER() OVER (ORDER BY cnt DESC, b) AS rn
  FROM (SELECT n % 3 AS b, COUNT(*) AS cnt FROM s GROUP BY n % 3))
WHERE rn <= 2;";
    for (name, text) in [
        ("top_of_changes", top.to_string()),
        ("left_of_changes", joined("left", "LEFT JOIN")),
        ("inner_of_changes", joined("inner", "JOIN")),
        ("plain", script("", 1)),
        ("named", script("seen", 1)),
        ("parallel", script("par", 2)),
        ("changes", changes.to_string()),
        ("outer", outer.to_string()),
        ("nested", nested.to_string()),
    ] {
        run_script(&base, dir.path(), name, &text);
    }
    shut_down(&reqwest::Client::new(), &base, &mut child).await;
    let printed = printed.finish();

    let rows = [
        "+I[1, null, 2024-01-01T10:00, 0.5]",
        "+I[2, even, 2024-01-02T10:00, 1.0]",
        "+I[3, null, 2024-01-03T10:00, 1.5]",
        "+I[4, even, 2024-01-04T10:00, 2.0]",
    ];
    let mut plain: Vec<&str> = printed
        .iter()
        .filter(|l| l.starts_with("+I["))
        .map(String::as_str)
        .collect();
    plain.sort();
    assert_eq!(plain, rows, "{printed:?}");
    let mut named: Vec<&str> = printed
        .iter()
        .filter_map(|l| l.strip_prefix("seen> "))
        .collect();
    named.sort();
    assert_eq!(named, rows, "{printed:?}");
    let mut parallel: Vec<&str> = printed
        .iter()
        .filter_map(|l| {
            l.strip_prefix("par:1> ")
                .or_else(|| l.strip_prefix("par:2> "))
        })
        .collect();
    parallel.sort();
    assert_eq!(parallel, rows, "{printed:?}");

    // Per key: first +I, then -U of the value last shown and +U of the new one.
    let changes: Vec<&str> = printed
        .iter()
        .filter_map(|l| l.strip_prefix("chg> "))
        .collect();
    assert!(changes.iter().any(|l| l.starts_with("-U[")), "{changes:?}");
    let mut shown: std::collections::HashMap<String, String> = Default::default();
    for line in &changes {
        let (kind, row) = line.split_at(2);
        let key = row
            .trim_start_matches('[')
            .split(',')
            .next()
            .unwrap()
            .to_string();
        match kind {
            "+I" => assert!(shown.insert(key, row.to_string()).is_none(), "{changes:?}"),
            "-U" => assert_eq!(shown.remove(&key).as_deref(), Some(row), "{changes:?}"),
            "+U" => assert!(shown.insert(key, row.to_string()).is_none(), "{changes:?}"),
            other => panic!("row kind {other} in {changes:?}"),
        }
    }
    assert_eq!(shown["odd"], "[odd, 3, 5]", "{changes:?}");
    assert_eq!(shown["even"], "[even, 3, 6]", "{changes:?}");

    // The join's changelog, applied, leaves each n with its partner or NULL.
    let rows = applied_changelog(&printed, "outer");
    assert_eq!(
        rows,
        [
            "[1, null]",
            "[2, 1]",
            "[3, null]",
            "[4, 2]",
            "[5, null]",
            "[6, 3]"
        ],
        "{printed:?}"
    );
    // Each bucket of n % 3 ends with two rows, joined with m = 2; the
    // count of one it had first was joined (padded, for the left join) and
    // taken back.
    let ended = ["[0, 2, 2]", "[1, 2, 2]", "[2, 2, 2]"];
    assert_eq!(applied_changelog(&printed, "left"), ended, "{printed:?}");
    assert_eq!(applied_changelog(&printed, "inner"), ended, "{printed:?}");
    // n % 3 = 1 ends with three rows (1, 4, 7), 0 and 2 with two each.
    assert_eq!(
        applied_changelog(&printed, "top"),
        ["[0, 2, 2]", "[1, 3, 1]"],
        "{printed:?}"
    );
    let left_kinds: Vec<&str> = printed
        .iter()
        .filter_map(|l| l.strip_prefix("left:").and_then(|l| l.get(3..5)))
        .collect();
    assert!(left_kinds.contains(&"-D"), "{printed:?}");
    let inner_kinds: Vec<&str> = printed
        .iter()
        .filter_map(|l| l.strip_prefix("inner:").and_then(|l| l.get(3..5)))
        .collect();
    assert!(
        inner_kinds
            .iter()
            .all(|k| *k == "+U" || *k == "+I" || *k == "-U"),
        "an inner join passes the aggregation's kinds on: {printed:?}"
    );
    let nested: Vec<&str> = printed
        .iter()
        .filter_map(|l| l.strip_prefix("nested:").and_then(|l| l.get(3..)))
        .collect();
    assert!(nested.iter().any(|l| l.starts_with("-D[1, ")), "{nested:?}");
    assert_eq!(
        applied_changelog(&printed, "nested"),
        ["[2, 3]"],
        "{nested:?}"
    );
}

/// The rows left when the changelog printed under `identifier` (by one
/// subtask or two) is applied: `+I`/`+U` add a row, `-U`/`-D` take one back.
fn applied_changelog(printed: &[String], identifier: &str) -> Vec<String> {
    let mut rows: Vec<String> = Vec::new();
    let prefixes = [
        format!("{identifier}> "),
        format!("{identifier}:1> "),
        format!("{identifier}:2> "),
    ];
    for line in printed.iter().filter_map(|l| {
        prefixes
            .iter()
            .find_map(|prefix| l.strip_prefix(prefix.as_str()))
    }) {
        let (kind, row) = line.split_at(2);
        match kind {
            "+I" | "+U" => rows.push(row.to_string()),
            "-D" | "-U" => {
                let at = rows.iter().position(|r| r == row);
                rows.remove(at.unwrap_or_else(|| panic!("{row} retracted unshown: {printed:?}")));
            }
            other => panic!("row kind {other} in {printed:?}"),
        }
    }
    rows.sort();
    rows
}

/// The bids of the first `events` Nexmark events.
fn nexmark_bids(events: u64) -> Vec<nexmark::event::Bid> {
    let options = [("events.num".to_string(), events.to_string())].into();
    let spec = rivulet::nexmark_json::spec(&options).unwrap();
    spec.all_events()
        .filter_map(|event| match event {
            nexmark::event::Event::Bid(bid) => Some(bid),
            _ => None,
        })
        .collect()
}

/// A bid's day and minute as `DATE_FORMAT` writes them, and its price rank
/// (1 below 10 000, 2 below 1 000 000, else 3).
fn day_minute_rank(bid: &nexmark::event::Bid) -> (String, String, usize) {
    let time = chrono::DateTime::from_timestamp_millis(bid.date_time as i64).unwrap();
    let rank = match bid.price {
        p if p < 10_000 => 1,
        p if p < 1_000_000 => 2,
        _ => 3,
    };
    (
        time.format("%Y-%m-%d").to_string(),
        time.format("%H:%M").to_string(),
        rank,
    )
}

/// Per group: bids in all and per rank, and the distinct bidders and
/// auctions in all and per rank: q15's and q16's statistics.
#[derive(Default)]
struct RankStatistics {
    bids: [usize; 4],
    bidders: [std::collections::BTreeSet<u64>; 4],
    auctions: [std::collections::BTreeSet<u64>; 4],
}

impl RankStatistics {
    fn add(&mut self, bid: &nexmark::event::Bid, rank: usize) {
        for slot in [0, rank] {
            self.bids[slot] += 1;
            self.bidders[slot].insert(bid.bidder as u64);
            self.auctions[slot].insert(bid.auction as u64);
        }
    }

    fn columns(&self) -> Vec<String> {
        let counts = self.bids.iter().copied();
        let bidders = self.bidders.iter().map(|s| s.len());
        let auctions = self.auctions.iter().map(|s| s.len());
        counts
            .chain(bidders)
            .chain(auctions)
            .map(|n| n.to_string())
            .collect()
    }
}

/// The final row per group of q15, q16 or q17 over `bids`, as `print`
/// shows a row's values.
fn nexmark_reference(query: &str, bids: &[nexmark::event::Bid]) -> BTreeMap<String, String> {
    let mut rows = BTreeMap::new();
    match query {
        "q15" | "q16" => {
            let mut groups: BTreeMap<(String, String), (RankStatistics, String)> = BTreeMap::new();
            for bid in bids {
                let (day, minute, rank) = day_minute_rank(bid);
                let channel = if query == "q16" {
                    bid.channel.clone()
                } else {
                    String::new()
                };
                let (statistics, last_minute) = groups.entry((channel, day)).or_default();
                statistics.add(bid, rank);
                *last_minute = minute.max(last_minute.clone());
            }
            for ((channel, day), (statistics, minute)) in groups {
                let (key, lead) = match query {
                    "q16" => (format!("{channel}, {day}"), vec![channel, day, minute]),
                    _ => (day.clone(), vec![day]),
                };
                rows.insert(key, [lead, statistics.columns()].concat().join(", "));
            }
        }
        "q17" => {
            let mut groups: BTreeMap<(u64, String), ([usize; 4], Vec<i64>)> = BTreeMap::new();
            for bid in bids {
                let (day, _, rank) = day_minute_rank(bid);
                let (counts, prices) = groups.entry((bid.auction as u64, day)).or_default();
                counts[0] += 1;
                counts[rank] += 1;
                prices.push(bid.price as i64);
            }
            for ((auction, day), (counts, prices)) in groups {
                let sum: i64 = prices.iter().sum();
                let values = [
                    auction.to_string(),
                    day.clone(),
                    counts.map(|c| c.to_string()).join(", "),
                    prices.iter().min().unwrap().to_string(),
                    prices.iter().max().unwrap().to_string(),
                    (sum / prices.len() as i64).to_string(),
                    sum.to_string(),
                ];
                rows.insert(format!("{auction}, {day}"), values.join(", "));
            }
        }
        "q18" => {
            // The last bid by time of each bidder on each auction; of bids
            // at the same time, the later one.
            let mut last: BTreeMap<(u64, u64), &nexmark::event::Bid> = BTreeMap::new();
            for bid in bids {
                let key = (bid.auction as u64, bid.bidder as u64);
                match last.get(&key) {
                    Some(kept) if kept.date_time > bid.date_time => {}
                    _ => {
                        last.insert(key, bid);
                    }
                }
            }
            for ((auction, bidder), bid) in last {
                rows.insert(format!("{auction}, {bidder}"), bid_row(bid).join(", "));
            }
        }
        "q19" => {
            // Per auction, its bids by price, highest first; equal prices in
            // the order they came.
            let mut auctions: BTreeMap<u64, Vec<&nexmark::event::Bid>> = BTreeMap::new();
            for bid in bids {
                auctions.entry(bid.auction as u64).or_default().push(bid);
            }
            for (auction, mut ranked) in auctions {
                ranked.sort_by_key(|b| std::cmp::Reverse(b.price));
                for (rank, bid) in ranked.iter().take(10).enumerate() {
                    let mut row = bid_row(bid);
                    row.push((rank + 1).to_string());
                    rows.insert(format!("{auction}, {}", rank + 1), row.join(", "));
                }
            }
        }
        other => panic!("no reference for {other}"),
    }
    rows
}

/// The auctions and bids of the first `events` Nexmark events.
fn auctions_and_bids(events: u64) -> (Vec<nexmark::event::Auction>, Vec<nexmark::event::Bid>) {
    let options = [("events.num".to_string(), events.to_string())].into();
    let spec = rivulet::nexmark_json::spec(&options).unwrap();
    let mut auctions = Vec::new();
    let mut bids = Vec::new();
    for event in spec.all_events() {
        match event {
            nexmark::event::Event::Auction(auction) => auctions.push(auction),
            nexmark::event::Event::Bid(bid) => bids.push(bid),
            _ => {}
        }
    }
    (auctions, bids)
}

/// The bids on auction `a` made while it was open.
fn open_bids<'b>(
    a: &nexmark::event::Auction,
    bids: &'b [nexmark::event::Bid],
) -> impl Iterator<Item = &'b nexmark::event::Bid> {
    let (id, opened, expires) = (a.id, a.date_time, a.expires);
    bids.iter()
        .filter(move |b| b.auction == id && opened <= b.date_time && b.date_time <= expires)
}

/// q4's final rows: per category, the average of its auctions' winning
/// prices (whole numbers, truncated as Flink's AVG of a BIGINT).
fn average_winning_prices(events: u64) -> BTreeMap<String, String> {
    let (auctions, bids) = auctions_and_bids(events);
    let mut per_category: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    for a in &auctions {
        if let Some(highest) = open_bids(a, &bids).map(|b| b.price).max() {
            let (sum, count) = per_category.entry(a.category as u64).or_default();
            *sum += highest as u64;
            *count += 1;
        }
    }
    per_category
        .into_iter()
        .map(|(category, (sum, count))| {
            (category.to_string(), format!("{category}, {}", sum / count))
        })
        .collect()
}

/// q9's final rows: each auction with its highest bid made while it was
/// open, the earliest of equal ones (then the first to come).
fn winning_bids(events: u64) -> BTreeMap<String, String> {
    let (auctions, bids) = auctions_and_bids(events);
    let mut rows = BTreeMap::new();
    for a in &auctions {
        let mut winner: Option<&nexmark::event::Bid> = None;
        for bid in open_bids(a, &bids) {
            let better = match winner {
                None => true,
                Some(w) => {
                    (bid.price, std::cmp::Reverse(bid.date_time))
                        > (w.price, std::cmp::Reverse(w.date_time))
                }
            };
            if better {
                winner = Some(bid);
            }
        }
        let Some(b) = winner else { continue };
        let row = [
            a.id.to_string(),
            a.item_name.clone(),
            a.description.clone(),
            a.initial_bid.to_string(),
            a.reserve.to_string(),
            java_time(a.date_time),
            java_time(a.expires),
            a.seller.to_string(),
            a.category.to_string(),
            a.extra.clone(),
            b.auction.to_string(),
            b.bidder.to_string(),
            b.price.to_string(),
            java_time(b.date_time),
            b.extra.clone(),
        ];
        rows.insert(a.id.to_string(), row.join(", "));
    }
    rows
}

/// Epoch milliseconds as `print` shows a TIMESTAMP(3): as Java's
/// `LocalDateTime` prints itself (seconds and millis only when not zero).
fn java_time(epoch_millis: u64) -> String {
    let time = chrono::DateTime::from_timestamp_millis(epoch_millis as i64)
        .unwrap()
        .naive_utc();
    let mut shown = time.format("%Y-%m-%dT%H:%M").to_string();
    let millis = epoch_millis % 1000;
    if time.and_utc().timestamp() % 60 != 0 || millis != 0 {
        shown.push_str(&time.format(":%S").to_string());
    }
    if millis != 0 {
        shown.push_str(&format!(".{millis:03}"));
    }
    shown
}

/// A bid's columns as `print` shows them.
fn bid_row(bid: &nexmark::event::Bid) -> Vec<String> {
    vec![
        bid.auction.to_string(),
        bid.bidder.to_string(),
        bid.price.to_string(),
        bid.channel.clone(),
        bid.url.clone(),
        java_time(bid.date_time),
        bid.extra.clone(),
    ]
}

/// The last row `print` showed per group (the values `key_columns` picks)
/// under `identifier`: the group's final value in a changelog.
fn last_printed(
    printed: &[String],
    identifier: &str,
    key_columns: &[usize],
) -> BTreeMap<String, String> {
    // `id> ` from one subtask, `id:n> ` from subtask n of several.
    let row_of = |line: &str| -> Option<String> {
        let (prefix, row) = line.split_once("> ")?;
        let subtask = prefix.strip_prefix(identifier)?;
        (subtask.is_empty() || subtask.starts_with(':')).then(|| row.to_string())
    };
    let mut last = BTreeMap::new();
    for line in printed.iter().filter_map(|l| row_of(l)) {
        if line.starts_with("+I[") || line.starts_with("+U[") {
            let row = line[3..line.len() - 1].to_string();
            let values: Vec<&str> = row.split(", ").collect();
            let key: Vec<&str> = key_columns
                .iter()
                .filter_map(|&i| values.get(i).copied())
                .collect();
            last.insert(key.join(", "), row);
        }
    }
    last
}

/// Nexmark's queries with updating results (examples/nexmark): q4's
/// GROUP BY over the changelog of another GROUP BY, the unbounded GROUP BYs q15 (one key), q16 and q17 (two keys) with FILTER,
/// COUNT(DISTINCT), MIN, MAX, AVG and SUM, the deduplication q18 and the
/// Top-N q19, printed as changelogs by the real binary: the last row per
/// group (per rank for q19) equals a reference computed in plain Rust over
/// the same events. q9 (a join whose Top-1 it is told of) also runs at
/// parallelism 4, each subtask keeping the best of its own keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nexmark_changelog_queries_end_at_their_references() {
    const EVENTS: u64 = 20_000;
    // Each query and the columns of its group (for q19, the auction and the rank).
    let queries: [(&str, &[usize]); 7] = [
        ("q4", &[0]),
        ("q9", &[0]),
        ("q15", &[0]),
        ("q16", &[0, 1]),
        ("q17", &[0, 1]),
        ("q18", &[0, 1]),
        ("q19", &[0, 7]),
    ];
    let slots = ["--no-demo", "-D", "taskmanager.numberOfTaskSlots=4"];
    let (mut child, base, lines) = start_standalone(&slots);
    let printed = Printed::collect(lines);
    let example = |name: &str| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/nexmark")
            .join(name);
        std::fs::read_to_string(path).unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let runs = queries
        .iter()
        .map(|(query, _)| (*query, *query, ""))
        .chain([("q9", "q9p4", "SET 'parallelism.default' = '4';")]);
    for (query, identifier, settings) in runs {
        let script = format!(
            "{settings}\n{}\n{}\n{}",
            example("source-connector.sql"),
            example("views.sql"),
            example(&format!("{query}.sql"))
        )
        .replace("${events}", &EVENTS.to_string())
        .replace(
            "${sink}",
            &format!("'connector' = 'print', 'print-identifier' = '{identifier}'"),
        );
        run_script(&base, dir.path(), identifier, &script);
    }
    shut_down(&reqwest::Client::new(), &base, &mut child).await;
    let printed = printed.finish();

    // q9p4's rows come from several subtasks (`q9p4:n> `).
    let subtasks: std::collections::BTreeSet<&str> = printed
        .iter()
        .filter_map(|line| line.strip_prefix("q9p4:")?.split_once("> "))
        .map(|(subtask, _)| subtask)
        .collect();
    assert!(subtasks.len() > 1, "{subtasks:?}");
    let bids = nexmark_bids(EVENTS);
    let checks = queries.iter().map(|(query, keys)| (*query, *query, *keys));
    for (query, identifier, key_columns) in checks.chain([("q9", "q9p4", &[0][..])]) {
        let expected = match query {
            "q4" => average_winning_prices(EVENTS),
            "q9" => winning_bids(EVENTS),
            _ => nexmark_reference(query, &bids),
        };
        assert!(!expected.is_empty());
        let last = last_printed(&printed, identifier, key_columns);
        assert_eq!(last.len(), expected.len(), "{identifier}: groups");
        for (key, row) in &expected {
            assert_eq!(last.get(key), Some(row), "{identifier}: group {key}");
        }
    }
}
