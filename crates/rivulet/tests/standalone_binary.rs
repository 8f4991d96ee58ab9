//! The `rivulet standalone` process: it starts, serves, and exits with 0 on
//! `DELETE /cluster`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_cluster_shuts_the_process_down_with_exit_code_zero() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rivulet"))
        .args(["standalone", "--demo", "-D", "rest.port=0"])
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
