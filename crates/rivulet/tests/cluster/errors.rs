//! Bad input gets Flink's error shape and status, and changes nothing.

use serde_json::{Value, json};

use crate::support::TestCluster;

fn assert_error(answer: &(u16, Value), status: u16, needle: &str) {
    assert_eq!(answer.0, status, "{answer:?}");
    let errors = answer.1["errors"].as_array().expect("an errors array");
    assert!(
        errors
            .iter()
            .any(|e| e.as_str().unwrap_or_default().contains(needle)),
        "no error mentions {needle:?}: {answer:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_unknown_ids_and_paths() {
    let cluster = TestCluster::start(&[]).await;
    let unknown = "00000000000000000000000000000000";
    assert_error(
        &cluster.call("GET", "/jobs/not-a-job-id").await,
        400,
        "Cannot resolve path parameter (jobid) from value \"not-a-job-id\"",
    );
    assert_error(
        &cluster.call("GET", &format!("/jobs/{unknown}")).await,
        404,
        "not found",
    );
    assert_error(
        &cluster
            .call("GET", &format!("/v1/jobs/{unknown}/plan"))
            .await,
        404,
        "not found",
    );
    assert_error(
        &cluster.call("PATCH", &format!("/jobs/{unknown}")).await,
        404,
        "Job could not be found.",
    );
    assert_error(
        &cluster
            .call("GET", &format!("/jobs/{unknown}/execution-result"))
            .await,
        404,
        "not found",
    );
    assert_error(
        &cluster.call("GET", "/this/path/does/not/exist").await,
        404,
        "Not found: /this/path/does/not/exist",
    );
    assert_error(&cluster.call("GET", "/v2/overview").await, 404, "Not found");
    assert_error(
        &cluster.call("DELETE", "/overview").await,
        404,
        "Not found: /overview",
    );
    assert_error(
        &cluster.call("POST", "/jobs/overview").await,
        404,
        "Not found: /jobs/overview",
    );
    assert_error(
        &cluster.call("GET", "/taskmanagers/nonexistent-tm").await,
        500,
        "No TaskExecutor registered under nonexistent-tm",
    );

    let job = cluster
        .submit(&json!({"vertices": [{"id": "s", "operators": [{"type": "generator", "rate": 10}, {"type": "discard_sink"}]}]}))
        .await;
    assert_error(
        &cluster
            .call("GET", &format!("/jobs/{job}/vertices/xyz"))
            .await,
        400,
        "Cannot resolve path parameter (vertexid) from value \"xyz\"",
    );
    assert_error(
        &cluster
            .call("GET", &format!("/jobs/{job}/vertices/{unknown}"))
            .await,
        404,
        "JobVertex",
    );
    let vertex = cluster.get(&format!("/jobs/{job}")).await["vertices"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_error(
        &cluster
            .call("GET", &format!("/jobs/{job}/vertices/{vertex}/subtasks/7"))
            .await,
        404,
        "Invalid subtask index",
    );
    assert_error(
        &cluster
            .call(
                "GET",
                &format!("/jobs/{job}/vertices/{vertex}/subtasks/0/attempts/3"),
            )
            .await,
        404,
        "attempt",
    );
    assert_error(
        &cluster
            .call("GET", &format!("/jobs/{job}/exceptions?maxExceptions=lots"))
            .await,
        400,
        "(maxExceptions)",
    );
    assert_error(
        &cluster
            .call("PATCH", &format!("/jobs/{job}?mode=stop"))
            .await,
        308,
        "\"stop\" has been removed",
    );
    assert_error(
        &cluster
            .call("PATCH", &format!("/jobs/{job}?mode=sideways"))
            .await,
        400,
        "(mode)",
    );
    assert_eq!(
        cluster.status(&job).await,
        "RUNNING",
        "bad requests changed nothing"
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_submissions_are_rejected_and_leave_nothing_behind() {
    let cluster = TestCluster::start(&[]).await;
    let request = r#"{"executionPlanFileName":"job.json"}"#;
    let missing_vertex = json!({
        "vertices": [{"id": "src", "operators": [{"type": "generator", "count": 5}]}],
        "edges": [{"from": "src", "to": "ghost", "strategy": "forward"}]
    });
    assert_error(
        &cluster
            .submit_raw(serde_json::to_vec(&missing_vertex).unwrap(), request)
            .await,
        400,
        "'ghost'",
    );
    assert_error(
        &cluster.submit_raw(b"{not json".to_vec(), request).await,
        400,
        "Could not parse the job graph file",
    );
    assert_error(
        &cluster.submit_raw(vec![0xAC, 0xED, 0, 5], request).await,
        400,
        "serialized Java JobGraph",
    );
    assert_error(
        &cluster.submit_raw(b"{}".to_vec(), "{broken").await,
        400,
        "Request did not match expected format JobSubmitRequestBody.",
    );
    assert_error(
        &cluster
            .submit_raw(b"{}".to_vec(), r#"{"executionPlanFileName":"other.bin"}"#)
            .await,
        400,
        "'other.bin' was not among",
    );
    let unknown_operator = json!({"vertices": [{"id": "s", "operators": [{"type": "teleport"}]}]});
    assert_error(
        &cluster
            .submit_raw(serde_json::to_vec(&unknown_operator).unwrap(), request)
            .await,
        400,
        "teleport",
    );
    let keyed_without_hash = json!({
        "vertices": [
            {"id": "src", "operators": [{"type": "generator", "count": 5}]},
            {"id": "count", "operators": [{"type": "keyed_count", "key": "key"}, {"type": "discard_sink"}]}
        ],
        "edges": [{"from": "src", "to": "count", "strategy": "rebalance"}]
    });
    assert_error(
        &cluster
            .submit_raw(serde_json::to_vec(&keyed_without_hash).unwrap(), request)
            .await,
        400,
        "must be a hash edge",
    );
    // The legacy 1.x field name works too.
    let ok = json!({"vertices": [{"id": "s", "operators": [{"type": "generator", "count": 3}, {"type": "discard_sink"}]}]});
    let (status, _) = cluster
        .submit_raw(
            serde_json::to_vec(&ok).unwrap(),
            r#"{"jobGraphFileName":"job.json"}"#,
        )
        .await;
    assert_eq!(status, 202);
    let jobs = cluster.get("/jobs").await;
    assert_eq!(
        jobs["jobs"].as_array().unwrap().len(),
        1,
        "only the valid job exists: {jobs}"
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flink_transport_rules_hold() {
    let cluster = TestCluster::start(&[("rest.server.max-content-length", "1000")]).await;
    // The Flink CLI sends GET requests with a `{}` body.
    let response = cluster
        .client
        .get(cluster.url("/v1/overview"))
        .header("content-type", "application/json; charset=UTF-8")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    assert_eq!(
        response.headers()["content-type"],
        "application/json; charset=UTF-8"
    );
    let missing = cluster
        .client
        .get(cluster.url("/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.headers()["access-control-allow-origin"], "*");
    assert_eq!(
        missing.headers()["content-type"],
        "application/json; charset=UTF-8"
    );

    let big = vec![b' '; 5000];
    let (status, body) = cluster
        .submit_raw(big, r#"{"executionPlanFileName":"job.json"}"#)
        .await;
    assert_eq!(status, 413, "{body}");
    assert!(body["errors"].is_array());
    assert_eq!(
        cluster.get("/jobs").await["jobs"].as_array().unwrap().len(),
        0
    );

    let heartbeat = cluster
        .client
        .patch(cluster.url("/jobs/00000000000000000000000000000000/clientHeartbeat"))
        .body(r#"{"expiredTimestamp": 1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(heartbeat.status(), 404);
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attached_client_that_stops_heartbeating_gets_its_job_cancelled() {
    let cluster = TestCluster::start(&[]).await;
    let job = cluster
        .submit(&json!({"vertices": [{"id": "s", "operators": [{"type": "generator", "rate": 10}, {"type": "discard_sink"}]}]}))
        .await;
    let expires = rivulet_common::clock::now_millis() + 300;
    let answer = cluster
        .client
        .patch(cluster.url(&format!("/jobs/{job}/clientHeartbeat")))
        .body(format!(r#"{{"expiredTimestamp": {expires}}}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);
    cluster
        .wait_for_status(&job, "CANCELED", std::time::Duration::from_secs(5))
        .await;
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_multipart_submission_works_like_the_flink_cli_sends_it() {
    use reqwest::multipart::{Form, Part};
    let cluster = TestCluster::start(&[]).await;
    let job = serde_json::to_vec(&json!({
        "vertices": [{"id": "s", "operators": [{"type": "generator", "count": 5}, {"type": "discard_sink"}]}]
    }))
    .unwrap();
    // A streamed part has no known length, so the whole body goes chunked.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        job.chunks(7).map(|c| Ok(c.to_vec())).collect();
    let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    let form = Form::new()
        .part(
            "request",
            Part::text(r#"{"executionPlanFileName":"plan.bin","jobJarFileNames":[]}"#),
        )
        .part("file_0", Part::stream(body).file_name("plan.bin"));
    let response = cluster
        .client
        .post(cluster.url("/v1/jobs"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let url: Value = response.json().await.unwrap();
    let job_id = url["jobUrl"]
        .as_str()
        .unwrap()
        .trim_start_matches("/jobs/")
        .to_string();
    cluster
        .wait_for_status(&job_id, "FINISHED", std::time::Duration::from_secs(10))
        .await;
    cluster.stop().await;
}
