//! Jobs from submission to their end: output data, partitioning, cancel,
//! failure, waiting for slots, losing a TaskManager.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{TestCluster, read_parts};

fn counting_job(parallelism: u32, rows: u64, keys: u64, out: &str) -> Value {
    json!({
        "name": format!("count-p{parallelism}"),
        "parallelism": parallelism,
        "vertices": [
            {"id": "src", "operators": [{"type": "generator", "count": rows, "keys": keys, "batchSize": 64}]},
            {"id": "count", "operators": [
                {"type": "keyed_count", "key": "key"},
                {"type": "file_sink", "name": "out", "path": out}
            ]}
        ],
        "edges": [{"from": "src", "to": "count", "strategy": "hash", "key": "key"}]
    })
}

fn unbounded_job(parallelism: u32) -> Value {
    json!({
        "name": "endless",
        "parallelism": parallelism,
        "vertices": [
            {"id": "src", "operators": [{"type": "generator", "rate": 2000}]},
            {"id": "sink", "operators": [{"type": "discard_sink"}]}
        ],
        "edges": [{"from": "src", "to": "sink", "strategy": "rebalance"}]
    })
}

async fn bounded_output_is_exact(parallelism: u32) {
    let cluster = TestCluster::start(&[("taskmanager.numberOfTaskSlots", "4")]).await;
    let out = tempfile::tempdir().unwrap();
    let (rows, keys) = (1000u64, 7u64);
    let job = cluster
        .submit(&counting_job(
            parallelism,
            rows,
            keys,
            out.path().to_str().unwrap(),
        ))
        .await;
    cluster
        .wait_for_status(&job, "FINISHED", Duration::from_secs(20))
        .await;

    let parts = read_parts(out.path());
    assert_eq!(
        parts.len(),
        parallelism as usize,
        "one finished part file per subtask"
    );
    let mut produced: Vec<(i64, i64)> = Vec::new();
    let mut owner: BTreeMap<i64, std::path::PathBuf> = BTreeMap::new();
    for (path, lines) in &parts {
        for line in lines {
            let (key, count) = line.split_once(',').expect("key,count");
            let (key, count): (i64, i64) = (key.parse().unwrap(), count.parse().unwrap());
            produced.push((key, count));
            let first = owner.entry(key).or_insert_with(|| path.clone());
            assert_eq!(first, path, "key {key} reached two subtasks");
        }
    }
    produced.sort();
    let mut expected = Vec::new();
    for key in 0..keys as i64 {
        let occurrences = (0..rows as i64)
            .filter(|id| id % keys as i64 == key)
            .count() as i64;
        expected.extend((1..=occurrences).map(|c| (key, c)));
    }
    assert_eq!(produced, expected);

    let details = cluster.get(&format!("/jobs/{job}")).await;
    assert_eq!(details["state"], "FINISHED");
    assert_eq!(details["vertices"][0]["metrics"]["write-records"], rows);
    assert_eq!(details["vertices"][1]["metrics"]["read-records"], rows);
    assert_eq!(details["vertices"][1]["parallelism"], parallelism);
    assert!(details["end-time"].as_i64().unwrap() >= details["start-time"].as_i64().unwrap());
    let overview = cluster.get("/overview").await;
    assert_eq!(
        overview["slots-available"], 4,
        "a finished job frees its slots"
    );
    assert_eq!(overview["jobs-finished"], 1);
    let result = cluster.get(&format!("/jobs/{job}/execution-result")).await;
    assert_eq!(result["status"]["id"], "COMPLETED");
    assert_eq!(
        result["job-execution-result"]["application-status"],
        "SUCCEEDED"
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounded_job_output_is_exact_at_parallelism_1() {
    bounded_output_is_exact(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounded_job_output_is_exact_at_parallelism_4_and_keys_stay_in_one_subtask() {
    bounded_output_is_exact(4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_running_job_stops_every_task_within_a_second() {
    let cluster = TestCluster::start(&[("taskmanager.numberOfTaskSlots", "2")]).await;
    let job = cluster.submit(&unbounded_job(2)).await;
    cluster.wait_for_all_running(&job).await;

    let started = Instant::now();
    let (status, body) = cluster
        .call("PATCH", &format!("/jobs/{job}?mode=cancel"))
        .await;
    assert_eq!((status, body), (202, json!({})));
    cluster
        .wait_for_status(&job, "CANCELED", Duration::from_secs(1))
        .await;
    assert!(started.elapsed() < Duration::from_secs(1));

    let details = cluster.get(&format!("/jobs/{job}")).await;
    for vertex in details["vertices"].as_array().unwrap() {
        assert_eq!(vertex["status"], "CANCELED");
        assert_eq!(vertex["tasks"]["CANCELED"], 2);
    }
    assert!(details["timestamps"]["CANCELLING"].as_i64().unwrap() > 0);
    cluster.wait_for_overview("slots-available", 2).await;
    // Cancelling again is fine; the job stays listed as Flink's archive keeps it.
    assert_eq!(cluster.call("PATCH", &format!("/jobs/{job}")).await.0, 202);
    let jobs = cluster.get("/jobs").await;
    assert_eq!(jobs["jobs"][0]["status"], "CANCELED");
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_operator_fails_the_job_with_its_cause_in_the_exception_history() {
    let cluster = TestCluster::start(&[]).await;
    let blocker = tempfile::NamedTempFile::new().unwrap();
    // The sink's directory lies under a regular file, so opening it fails.
    let bad_dir = blocker.path().join("out");
    let job = cluster
        .submit(&counting_job(1, 100, 3, bad_dir.to_str().unwrap()))
        .await;
    cluster
        .wait_for_status(&job, "FAILED", Duration::from_secs(10))
        .await;

    let exceptions = cluster.get(&format!("/jobs/{job}/exceptions")).await;
    let entries = exceptions["exceptionHistory"]["entries"]
        .as_array()
        .unwrap();
    assert_eq!(entries.len(), 1);
    let root = &entries[0];
    assert_eq!(root["exceptionName"], "rivulet.runtime.IoError");
    assert!(
        root["stacktrace"]
            .as_str()
            .unwrap()
            .contains(bad_dir.to_str().unwrap())
    );
    assert!(root["taskName"].as_str().unwrap().contains("Sink: out"));
    assert!(root["timestamp"].as_i64().unwrap() > 0);

    let result = cluster.get(&format!("/jobs/{job}/execution-result")).await;
    assert_eq!(
        result["job-execution-result"]["application-status"],
        "FAILED"
    );
    assert_eq!(
        result["job-execution-result"]["failure-cause"]["class"],
        "rivulet.runtime.IoError"
    );
    let details = cluster.get(&format!("/jobs/{job}")).await;
    assert!(details["timestamps"]["FAILING"].as_i64().unwrap() > 0);
    cluster.wait_for_overview("jobs-failed", 1).await;
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_larger_than_the_free_slots_waits_and_runs_when_slots_free_up() {
    let cluster = TestCluster::start(&[("taskmanager.numberOfTaskSlots", "2")]).await;
    let first = cluster.submit(&unbounded_job(2)).await;
    cluster.wait_for_all_running(&first).await;
    let out = tempfile::tempdir().unwrap();
    let second = cluster
        .submit(&counting_job(2, 200, 5, out.path().to_str().unwrap()))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let waiting = cluster.get(&format!("/jobs/{second}")).await;
    assert_eq!(waiting["status-counts"]["SCHEDULED"], 2, "{waiting}");
    let overview = cluster.get("/jobs/overview").await;
    let listed: Vec<&Value> = overview["jobs"].as_array().unwrap().iter().collect();
    let second_overview = listed.iter().find(|j| j["jid"] == second.as_str()).unwrap();
    assert_eq!(second_overview["tasks"]["scheduled"], 4);

    cluster.call("PATCH", &format!("/jobs/{first}")).await;
    cluster
        .wait_for_status(&second, "FINISHED", Duration::from_secs(10))
        .await;
    let lines: usize = read_parts(out.path()).values().map(Vec::len).sum();
    assert_eq!(lines, 200);
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_manager_that_stops_heartbeating_is_dropped_and_its_tasks_fail() {
    let cluster = TestCluster::start(&[
        ("heartbeat.interval", "50"),
        ("heartbeat.timeout", "400"),
        ("minicluster.number-of-taskmanagers", "2"),
    ])
    .await;
    let job = cluster.submit(&unbounded_job(1)).await;
    cluster.wait_for_all_running(&job).await;
    let tms: HashSet<String> = cluster.get("/taskmanagers").await["taskmanagers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(tms.len(), 2);
    let inner = cluster.cluster.as_ref().unwrap();
    let ids = inner.cluster.task_manager_ids().await;
    assert!(inner.cluster.crash_task_manager(0).await);

    cluster
        .wait_for_status(&job, "FAILED", Duration::from_secs(5))
        .await;
    let exceptions = cluster.get(&format!("/jobs/{job}/exceptions")).await;
    let message = exceptions["exceptionHistory"]["entries"][0]["stacktrace"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains(&format!(
            "Heartbeat of TaskManager with id {} timed out",
            ids[0]
        )),
        "{message}"
    );
    let remaining = cluster.get("/taskmanagers").await;
    assert_eq!(remaining["taskmanagers"].as_array().unwrap().len(), 1);
    assert_eq!(remaining["taskmanagers"][0]["id"], ids[1].as_str());
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subtask_views_report_attempts_times_and_locations() {
    let cluster = TestCluster::start(&[("taskmanager.numberOfTaskSlots", "2")]).await;
    let job = cluster.submit(&unbounded_job(2)).await;
    cluster.wait_for_all_running(&job).await;
    let details = cluster.get(&format!("/jobs/{job}")).await;
    let vertex = details["vertices"][0]["id"].as_str().unwrap().to_string();
    let base = format!("/jobs/{job}/vertices/{vertex}");

    let subtask = cluster.get(&format!("{base}/subtasks/1")).await;
    assert_eq!(subtask["subtask"], 1);
    assert_eq!(subtask["status"], "RUNNING");
    let attempt = cluster.get(&format!("{base}/subtasks/1/attempts/0")).await;
    assert_eq!(attempt["attempt"], 0);
    let tm = cluster.get("/taskmanagers").await["taskmanagers"][0]["id"].clone();
    assert_eq!(subtask["taskmanager-id"], tm);

    let times = cluster.get(&format!("{base}/subtasktimes")).await;
    let stamps = &times["subtasks"][0]["timestamps"];
    for state in [
        "CREATED",
        "SCHEDULED",
        "DEPLOYING",
        "INITIALIZING",
        "RUNNING",
    ] {
        assert!(
            stamps[state].as_i64().unwrap() > 0,
            "{state} not reached: {stamps}"
        );
    }
    assert!(stamps["CREATED"].as_i64() <= stamps["RUNNING"].as_i64());
    assert_eq!(stamps["FINISHED"], 0);

    let per_tm = cluster.get(&format!("{base}/taskmanagers")).await;
    assert_eq!(per_tm["taskmanagers"][0]["status-counts"]["RUNNING"], 2);
    let tm_details = cluster
        .get(&format!("/taskmanagers/{}", tm.as_str().unwrap()))
        .await;
    assert_eq!(tm_details["allocatedSlots"].as_array().unwrap().len(), 2);
    assert_eq!(tm_details["assignedTasks"], 4);
    assert_eq!(tm_details["freeSlots"], 0);

    let plan = cluster.get(&format!("/jobs/{job}/plan")).await;
    let sink = &plan["plan"]["nodes"][0];
    assert_eq!(sink["inputs"][0]["ship_strategy"], "REBALANCE");
    assert_eq!(sink["inputs"][0]["id"], vertex.as_str());
    let config = cluster.get(&format!("/jobs/{job}/config")).await;
    assert_eq!(config["execution-config"]["job-parallelism"], 2);
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_archive_keeps_the_newest_jobs_up_to_jobstore_max_capacity() {
    let cluster = TestCluster::start(&[("jobstore.max-capacity", "2")]).await;
    let small = json!({"vertices": [{"id": "s", "operators": [{"type": "generator", "count": 10}, {"type": "discard_sink"}]}]});
    let mut jobs = Vec::new();
    for _ in 0..3 {
        let job = cluster.submit(&small).await;
        cluster
            .wait_for_status(&job, "FINISHED", Duration::from_secs(10))
            .await;
        jobs.push(job);
    }
    let listed: Vec<String> = cluster.get("/jobs").await["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, jobs[1..].to_vec());
    assert_eq!(
        cluster.call("GET", &format!("/jobs/{}", jobs[0])).await.0,
        404
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_in_effect_is_shown_and_used() {
    let cluster = TestCluster::start(&[
        ("parallelism.default", "3"),
        ("taskmanager.numberOfTaskSlots", "3"),
        ("my.custom.key", "kept"),
    ])
    .await;
    let entries = cluster.get("/jobmanager/config").await;
    let value = |key: &str| {
        entries
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["key"] == key)
            .map(|e| e["value"].as_str().unwrap().to_string())
    };
    assert_eq!(value("parallelism.default").as_deref(), Some("3"));
    assert_eq!(value("my.custom.key").as_deref(), Some("kept"));
    assert_eq!(
        value("heartbeat.timeout").as_deref(),
        Some("50000"),
        "defaults in effect are listed"
    );
    let job = cluster
        .submit(&json!({"vertices": [{"id": "s", "operators": [{"type": "generator", "rate": 10}, {"type": "discard_sink"}]}]}))
        .await;
    let details = cluster.get(&format!("/jobs/{job}")).await;
    assert_eq!(details["vertices"][0]["parallelism"], 3);
    assert_eq!(
        cluster.get("/taskmanagers").await["taskmanagers"][0]["slotsNumber"],
        3
    );
    cluster.stop().await;
}
