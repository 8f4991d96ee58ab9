//! Holds each implemented response against what a real Flink 2.3 cluster
//! answered to the same request (`shared/flink-reference/responses/`): the
//! same status code, and for success bodies the same keys with the same JSON
//! types, recursively. A missing or renamed key fails the test.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::TestCluster;

/// Reference files of the endpoints Rivulet implements, in the order they
/// are replayed (the job is cancelled before the `_after_cancel` ones).
const WHILE_RUNNING: &[&str] = &[
    "GET_config",
    "GET_overview",
    "GET_v1_overview",
    "GET_v1_jobs_overview",
    "GET_jobs",
    "GET_jobs_overview",
    "GET_taskmanagers",
    "GET_taskmanagers_tmid",
    "GET_jobmanager_config",
    "GET_jobmanager_environment",
    "GET_jobs_jobid",
    "GET_jobs_jobid_status",
    "GET_jobs_jobid_plan",
    "GET_jobs_jobid_config",
    "GET_jobs_jobid_exceptions",
    "GET_jobs_jobid_exceptions_maxExceptions",
    "GET_jobs_jobid_accumulators",
    "GET_jobs_jobid_accumulators_includeSerialized",
    "GET_jobs_jobid_jobmanager_config",
    "GET_jobs_jobid_jobmanager_environment",
    "GET_jobs_jobid_execution-result_running",
    "GET_jobs_jobid_vertices_v0",
    "GET_jobs_jobid_vertices_v1",
    "GET_jobs_jobid_vertices_v0_subtasks_0",
    "GET_jobs_jobid_vertices_v0_subtasks_0_attempts_0",
    "GET_jobs_jobid_vertices_v1_subtasks_0",
    "GET_jobs_jobid_vertices_v0_subtasktimes",
    "GET_jobs_jobid_vertices_v1_subtasktimes",
    "GET_jobs_jobid_vertices_v0_taskmanagers",
    "GET_jobs_jobid_vertices_v0_watermarks",
    "GET_jobs_jobid_vertices_v1_watermarks",
    "GET_jobs_nonexistent",
    "GET_jobs_malformed",
    "GET_jobs_jobid_vertices_nonexistent",
    "GET_jobs_jobid_vertices_malformed",
    "GET_taskmanagers_nonexistent",
    "GET_unknown_path",
    "GET_v1_unknown_path",
    "GET_v2_overview",
    "DELETE_overview_method_not_allowed",
    "POST_jobs_overview_method_not_allowed",
];

const AFTER_CANCEL: &[&str] = &[
    "PATCH_jobs_jobid_cancel",
    "GET_jobs_jobid_status_after_cancel",
    "GET_jobs_jobid_execution-result_after_cancel",
];

const AFTER_FINISH: &[&str] = &["PATCH_jobs_jobid_cancel_on_finished"];

struct Reference {
    method: String,
    path: String,
    status: u16,
    body: Value,
}

fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/flink-reference/responses")
}

fn load(name: &str) -> Reference {
    let path = reference_dir().join(format!("{name}.txt"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reference {} is readable: {e}", path.display()));
    let (head, body) = text.split_once("\n\n").expect("header and body");
    let mut request = None;
    let mut status = None;
    for line in head.lines() {
        if let Some(r) = line.strip_prefix("request: ") {
            request = Some(r.to_string());
        }
        if let Some(s) = line.strip_prefix("status: ") {
            status = s.trim().parse().ok();
        }
    }
    let request = request.expect("request line");
    let (method, path) = request.split_once(' ').expect("method and path");
    Reference {
        method: method.into(),
        path: path.into(),
        status: status.expect("status line"),
        body: serde_json::from_str(body.trim()).unwrap_or(Value::Null),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Collects every place where `ours` lacks a key of `flink` or has another type.
fn compare(flink: &Value, ours: &Value, at: &str, problems: &mut Vec<String>) {
    if flink.is_null() {
        return;
    }
    if type_name(flink) != type_name(ours) {
        problems.push(format!(
            "{at}: Flink has {}, Rivulet has {}",
            type_name(flink),
            type_name(ours)
        ));
        return;
    }
    match (flink, ours) {
        (Value::Object(f), Value::Object(o)) => {
            for (key, value) in f {
                match o.get(key) {
                    None => problems.push(format!("{at}.{key}: missing")),
                    Some(mine) => compare(value, mine, &format!("{at}.{key}"), problems),
                }
            }
        }
        (Value::Array(f), Value::Array(o)) => {
            if let (Some(f), Some(o)) = (f.first(), o.first()) {
                compare(f, o, &format!("{at}[0]"), problems);
            }
        }
        _ => {}
    }
}

struct Ids {
    job: String,
    vertices: Vec<String>,
    taskmanager: String,
}

fn fill(path: &str, ids: &Ids) -> String {
    path.replace("{jobid}", &ids.job)
        .replace("{vertexid0}", &ids.vertices[0])
        .replace("{vertexid1}", &ids.vertices[1])
        .replace("{taskmanagerid}", &ids.taskmanager)
}

/// Holds one answer against the reference `name`.
fn check(name: &str, reference: &Reference, status: u16, body: &Value, problems: &mut Vec<String>) {
    if status != reference.status {
        problems.push(format!(
            "{name}: status {status}, Flink {}: {body}",
            reference.status
        ));
        return;
    }
    if status >= 400 {
        let ok = body["errors"]
            .as_array()
            .is_some_and(|e| !e.is_empty() && e.iter().all(Value::is_string));
        if !ok {
            problems.push(format!(
                "{name}: error body is not {{\"errors\": [strings]}}: {body}"
            ));
        }
        return;
    }
    compare(&reference.body, body, name, problems);
}

async fn replay(cluster: &TestCluster, names: &[&str], ids: &Ids, problems: &mut Vec<String>) {
    for name in names {
        let reference = load(name);
        let path = fill(&reference.path, ids);
        let (status, body) = cluster.call(&reference.method, &path).await;
        check(name, &reference, status, &body, problems);
    }
}

/// The `/jars` references in the order Flink's recording made them: list,
/// upload, list, plan, run, a bad upload, an unknown jar, delete twice.
async fn replay_jars(cluster: &TestCluster, problems: &mut Vec<String>) {
    // Two sources unioned into one sink: like Flink's reference job, the
    // first plan node has an input.
    let script = "CREATE TABLE a (n INT) WITH ('connector' = 'datagen', 'number-of-rows' = '10');
CREATE TABLE b (n INT) WITH ('connector' = 'datagen', 'number-of-rows' = '10');
CREATE TABLE snk (n INT) WITH ('connector' = 'blackhole');
INSERT INTO snk SELECT n FROM a UNION ALL SELECT n FROM b;";
    let mut upload_answer = Value::Null;
    let names = [
        "GET_jars_empty",
        "POST_jars_upload",
        "GET_jars",
        "GET_jars_jarid_plan",
        "POST_jars_jarid_plan",
        "POST_jars_jarid_run",
        "POST_jars_upload_not_a_jar",
        "POST_jars_unknown_run",
        "DELETE_jars_jarid",
        "DELETE_jars_jarid_again",
    ];
    for name in names {
        let reference = load(name);
        let jar_id = upload_answer["filename"]
            .as_str()
            .and_then(|f| f.rsplit('/').next())
            .unwrap_or("none")
            .to_string();
        let (status, body) = match name {
            "POST_jars_upload" => cluster.upload("job.sql", script.as_bytes().to_vec()).await,
            "POST_jars_upload_not_a_jar" => cluster.upload("job.txt", b"x".to_vec()).await,
            _ => {
                let path = reference
                    .path
                    .replace("{jarid}", &jar_id)
                    .replace("{unknown-jarid}", "0000_nonexistent.jar");
                cluster.call(&reference.method, &path).await
            }
        };
        if name == "POST_jars_upload" {
            upload_answer = body.clone();
        }
        check(name, &reference, status, &body, problems);
    }
}

/// The reference job: two vertices at parallelism 2 joined by a hash edge,
/// on one TaskManager with two slots.
fn reference_like_job() -> Value {
    json!({
        "name": "anchor-streaming-job",
        "parallelism": 2,
        "vertices": [
            {"id": "source", "operators": [{"type": "generator", "name": "datagen-source", "rate": 500}]},
            {"id": "count", "operators": [{"type": "keyed_count", "key": "key"}, {"type": "discard_sink", "name": "discard-sink"}]}
        ],
        "edges": [{"from": "source", "to": "count", "strategy": "hash", "key": "key"}]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn implemented_responses_have_flinks_keys_types_and_status_codes() {
    let cluster = TestCluster::start(&[("taskmanager.numberOfTaskSlots", "2")]).await;
    let job = cluster.submit(&reference_like_job()).await;
    cluster.wait_for_all_running(&job).await;
    let details = cluster.get(&format!("/jobs/{job}")).await;
    let ids = Ids {
        job: job.clone(),
        vertices: details["vertices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["id"].as_str().unwrap().to_string())
            .collect(),
        taskmanager: cluster.get("/taskmanagers").await["taskmanagers"][0]["id"]
            .as_str()
            .unwrap()
            .to_string(),
    };
    let mut problems = Vec::new();
    replay(&cluster, WHILE_RUNNING, &ids, &mut problems).await;
    // Cancelling is asynchronous, in Flink as here: the references after it
    // were recorded once the job was CANCELED.
    let (cancel, after_cancel) = AFTER_CANCEL.split_at(1);
    replay(&cluster, cancel, &ids, &mut problems).await;
    cluster
        .wait_for_status(&job, "CANCELED", Duration::from_secs(10))
        .await;
    replay(&cluster, after_cancel, &ids, &mut problems).await;

    let finished = cluster
        .submit(&json!({"parallelism": 2, "vertices": [{"id": "s", "operators": [{"type": "generator", "count": 10}, {"type": "discard_sink"}]}]}))
        .await;
    cluster
        .wait_for_status(&finished, "FINISHED", Duration::from_secs(10))
        .await;
    let finished_ids = Ids {
        job: finished,
        ..ids
    };
    replay(&cluster, AFTER_FINISH, &finished_ids, &mut problems).await;
    replay_jars(&cluster, &mut problems).await;

    assert!(
        problems.is_empty(),
        "differences from Flink 2.3:\n{}",
        problems.join("\n")
    );
    cluster.stop().await;
}

#[test]
fn the_comparison_catches_a_missing_or_retyped_key() {
    let flink = json!({"jobs": [{"jid": "a", "tasks": {"running": 1}}]});
    let mut problems = Vec::new();
    compare(
        &flink,
        &json!({"jobs": [{"id": "a", "tasks": {"running": "1"}}]}),
        "x",
        &mut problems,
    );
    assert_eq!(problems.len(), 2, "{problems:?}");
}
