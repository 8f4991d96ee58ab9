//! Event time seen from outside: the input watermarks a running job reports
//! at `/jobs/{id}/vertices/{vid}/watermarks`, generated from the table's
//! `WATERMARK` declaration.

use std::time::Duration;

use serde_json::Value;

use crate::support::TestCluster;

/// Nexmark's default base time, 2024-01-01 00:00:00 UTC, in epoch millis.
const BASE_TIME: i64 = 1_704_067_200_000;

/// Nexmark events paced at 500 a second, a 4-second bounded out-of-orderness,
/// and a sink of parallelism 2, so the sink is a vertex of its own with inputs.
const SCRIPT: &str = "SET 'pipeline.auto-watermark-interval' = '50 ms';
CREATE TABLE nexmark (
  event_type INT,
  bid ROW<auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR,
          dateTime TIMESTAMP(3), extra VARCHAR>,
  dateTime AS bid.dateTime,
  WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND
) WITH ('connector' = 'nexmark', 'events.num' = '100000000', 'first-event.rate' = '500',
        'next-event.rate' = '500', 'rate.limited' = 'true', 'bid.proportion' = '50');
CREATE TABLE out (price BIGINT) WITH ('connector' = 'print', 'sink.parallelism' = '2');
INSERT INTO out SELECT bid.price FROM nexmark WHERE event_type = 99;";

/// Each subtask's reported watermark, in subtask order.
fn watermarks(answer: &Value) -> Vec<i64> {
    let entries = answer.as_array().expect("an array of metrics");
    entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            assert_eq!(entry["id"], format!("{index}.currentInputWatermark"));
            entry["value"].as_str().unwrap().parse().unwrap()
        })
        .collect()
}

#[tokio::test]
async fn a_running_job_reports_each_sink_subtasks_input_watermark() {
    let cluster = TestCluster::start(&[("taskmanager.numberOfTaskSlots", "4")]).await;
    let job = cluster.submit_script(SCRIPT).await;
    cluster.wait_for_all_running(&job).await;
    let plan = cluster.get(&format!("/jobs/{job}/plan")).await;
    let nodes = plan["plan"]["nodes"].as_array().unwrap().clone();
    assert_eq!(nodes.len(), 2, "{plan}");
    let names: Vec<&str> = nodes
        .iter()
        .map(|n| n["description"].as_str().unwrap())
        .collect();
    assert!(
        names.iter().any(|n| n.contains("WatermarkAssigner")),
        "the assigner is chained to the source: {names:?}"
    );
    let (source, sink) = if nodes[0]["inputs"].is_null() {
        (&nodes[0], &nodes[1])
    } else {
        (&nodes[1], &nodes[0])
    };

    // A source has no input, so no input watermark: Flink answers [].
    let path = |vertex: &Value| {
        format!(
            "/jobs/{job}/vertices/{}/watermarks",
            vertex["id"].as_str().unwrap()
        )
    };
    assert_eq!(cluster.get(&path(source)).await, Value::Array(vec![]));

    // Both sink subtasks see the source's watermark: event time minus 4 s.
    let mut first = Vec::new();
    for _ in 0..100 {
        first = watermarks(&cluster.get(&path(sink)).await);
        if first.len() == 2 && first.iter().all(|w| *w > i64::MIN) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(first.len(), 2, "{first:?}");
    for watermark in &first {
        assert!(
            (BASE_TIME - 4_000..BASE_TIME + 3_600_000).contains(watermark),
            "{first:?}"
        );
    }
    // And it advances while events keep coming.
    let mut later = first.clone();
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        later = watermarks(&cluster.get(&path(sink)).await);
        if later.iter().zip(&first).all(|(l, f)| l > f) {
            break;
        }
    }
    assert!(
        later.iter().zip(&first).all(|(l, f)| l > f),
        "{first:?} then {later:?}"
    );

    let (status, _) = cluster
        .call("PATCH", &format!("/jobs/{job}?mode=cancel"))
        .await;
    assert_eq!(status, 202);
    cluster
        .wait_for_status(&job, "CANCELED", Duration::from_secs(10))
        .await;
    cluster.stop().await;
}
