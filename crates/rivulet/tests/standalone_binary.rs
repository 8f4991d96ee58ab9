//! The `rivulet standalone` process: it starts, serves, prints what `print`
//! sinks write on its stdout, and exits with 0 on `DELETE /cluster`.

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
    for (name, text) in [
        ("plain", script("", 1)),
        ("named", script("seen", 1)),
        ("parallel", script("par", 2)),
        ("changes", changes.to_string()),
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
}

/// Nexmark q15 (examples/nexmark), an unbounded GROUP BY with FILTER and
/// COUNT(DISTINCT), printed as a changelog: its last value per day equals a
/// reference computed in plain Rust over the same events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nexmark_q15_prints_a_changelog_ending_at_the_reference() {
    const EVENTS: u64 = 20_000;
    let (mut child, base, lines) = start_standalone(&["--no-demo"]);
    let printed = Printed::collect(lines);
    let example = |name: &str| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/nexmark")
            .join(name);
        std::fs::read_to_string(path).unwrap()
    };
    let script = format!(
        "{}\n{}\n{}",
        example("source-connector.sql"),
        example("views.sql"),
        example("q15.sql")
    )
    .replace("${events}", &EVENTS.to_string())
    .replace(
        "${sink}",
        "'connector' = 'print', 'print-identifier' = 'q15'",
    );
    let dir = tempfile::tempdir().unwrap();
    run_script(&base, dir.path(), "q15", &script);
    shut_down(&reqwest::Client::new(), &base, &mut child).await;
    let printed = printed.finish();

    // The reference: per day, counts over the bids.
    let options = [("events.num".to_string(), EVENTS.to_string())].into();
    let spec = rivulet::nexmark_json::spec(&options).unwrap();
    let mut days: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
    let mut distinct: std::collections::BTreeMap<(String, usize), std::collections::BTreeSet<u64>> =
        Default::default();
    for event in spec.all_events() {
        let nexmark::event::Event::Bid(bid) = event else {
            continue;
        };
        let day = chrono::DateTime::from_timestamp_millis(bid.date_time as i64)
            .unwrap()
            .format("%Y-%m-%d")
            .to_string();
        let price = bid.price as i64;
        let rank = if price < 10_000 {
            1
        } else if price < 1_000_000 {
            2
        } else {
            3
        };
        let counts = days.entry(day.clone()).or_insert_with(|| vec![0; 4]);
        counts[0] += 1;
        counts[rank] += 1;
        for (slot, value) in [(0, bid.bidder as u64), (rank, bid.bidder as u64)] {
            distinct
                .entry((day.clone(), slot))
                .or_default()
                .insert(value);
        }
        for (slot, value) in [(4, bid.auction as u64), (4 + rank, bid.auction as u64)] {
            distinct
                .entry((day.clone(), slot))
                .or_default()
                .insert(value);
        }
    }
    let mut last: std::collections::BTreeMap<String, String> = Default::default();
    for line in printed.iter().filter_map(|l| l.strip_prefix("q15> ")) {
        if line.starts_with("+I[") || line.starts_with("+U[") {
            let row = line[3..line.len() - 1].to_string();
            last.insert(row.split(", ").next().unwrap().to_string(), row);
        }
    }
    assert!(!days.is_empty());
    for (day, counts) in &days {
        let set = |slot| distinct.get(&(day.clone(), slot)).map_or(0, |s| s.len());
        let expected = format!(
            "{day}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}",
            counts[0],
            counts[1],
            counts[2],
            counts[3],
            set(0),
            set(1),
            set(2),
            set(3),
            set(4),
            set(5),
            set(6),
            set(7)
        );
        assert_eq!(last.get(day), Some(&expected), "{printed:?}");
    }
}
