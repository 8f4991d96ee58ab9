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
    let printed = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let collector = {
        let printed = printed.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                printed.lock().unwrap().push(line);
            }
        })
    };
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
        let file = dir.path().join(format!("{name}.sql"));
        std::fs::write(&file, text).unwrap();
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
    shut_down(&reqwest::Client::new(), &base, &mut child).await;
    collector.join().unwrap();

    let rows = [
        "+I[1, null, 2024-01-01T10:00, 0.5]",
        "+I[2, even, 2024-01-02T10:00, 1.0]",
        "+I[3, null, 2024-01-03T10:00, 1.5]",
        "+I[4, even, 2024-01-04T10:00, 2.0]",
    ];
    let printed = printed.lock().unwrap().clone();
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
