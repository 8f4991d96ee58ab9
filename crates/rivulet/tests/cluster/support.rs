//! Starting clusters and talking to them like a client would.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::multipart::{Form, Part};
use rivulet::standalone::{self, Standalone};
use rivulet_common::Configuration;
use rivulet_runtime::formats::csv_encode::CsvEncoding;
use rivulet_runtime::formats::parquet;
use serde_json::Value;

pub struct TestCluster {
    pub base: String,
    pub client: reqwest::Client,
    pub cluster: Option<Standalone>,
}

impl TestCluster {
    /// Starts a standalone cluster on an ephemeral port with `settings`.
    pub async fn start(settings: &[(&str, &str)]) -> TestCluster {
        let mut config = Configuration::new();
        config.set("rest.port", "0");
        for (k, v) in settings {
            config.set(*k, *v);
        }
        let cluster = standalone::start(config).await.expect("cluster starts");
        TestCluster {
            base: format!("http://{}", cluster.rest_address()),
            client: reqwest::Client::new(),
            cluster: Some(cluster),
        }
    }

    pub async fn stop(mut self) {
        if let Some(cluster) = self.cluster.take() {
            cluster.shutdown().await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends a request and returns (status, JSON body).
    pub async fn call(&self, method: &str, path: &str) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let response = self
            .client
            .request(method, self.url(path))
            .send()
            .await
            .expect("request is answered");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    /// Sends a request with a JSON body and returns (status, JSON body).
    pub async fn send_json(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let response = self
            .client
            .request(method, self.url(path))
            .json(body)
            .send()
            .await
            .expect("request is answered");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Uploads a job package as the web UI does: one multipart `jarfile` part.
    pub async fn upload(&self, file_name: &str, bytes: Vec<u8>) -> (u16, Value) {
        let form = Form::new().part(
            "jarfile",
            Part::bytes(bytes)
                .file_name(file_name.to_string())
                .mime_str("application/x-java-archive")
                .unwrap(),
        );
        let response = self
            .client
            .post(self.url("/jars/upload"))
            .multipart(form)
            .send()
            .await
            .expect("upload is answered");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call("GET", path).await;
        assert_eq!(status, 200, "GET {path} answered {body}");
        body
    }

    /// Submits a job graph the way the Flink CLI does: multipart, chunked.
    pub async fn submit_raw(&self, job_file: Vec<u8>, request_json: &str) -> (u16, Value) {
        let form = Form::new()
            .part(
                "request",
                Part::text(request_json.to_string())
                    .mime_str("text/plain; charset=UTF-8")
                    .unwrap(),
            )
            .part(
                "file_0",
                Part::stream(job_file)
                    .file_name("job.json")
                    .mime_str("application/octet-stream")
                    .unwrap(),
            );
        let response = self
            .client
            .post(self.url("/v1/jobs"))
            .multipart(form)
            .send()
            .await
            .expect("submission is answered");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn submit(&self, job: &Value) -> String {
        let (status, body) = self
            .submit_raw(
                serde_json::to_vec(job).unwrap(),
                r#"{"executionPlanFileName":"job.json","jobJarFileNames":[],"jobArtifactFileNames":[]}"#,
            )
            .await;
        assert_eq!(status, 202, "submission answered {body}");
        let url = body["jobUrl"].as_str().expect("jobUrl").to_string();
        url.trim_start_matches("/jobs/").to_string()
    }

    /// Submits a SQL script as the job file; the new job's id (the script
    /// must be accepted).
    pub async fn submit_script(&self, script: &str) -> String {
        let (status, body) = self
            .submit_raw(
                script.as_bytes().to_vec(),
                r#"{"executionPlanFileName":"job.json"}"#,
            )
            .await;
        assert_eq!(status, 202, "script answered {body}");
        let url = body["jobUrl"].as_str().expect("jobUrl").to_string();
        url.trim_start_matches("/jobs/").to_string()
    }

    pub async fn status(&self, job: &str) -> String {
        self.get(&format!("/jobs/{job}/status")).await["status"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Polls until the job is in `wanted`, failing after `timeout`.
    pub async fn wait_for_status(&self, job: &str, wanted: &str, timeout: Duration) {
        let started = Instant::now();
        loop {
            let status = self.status(job).await;
            if status == wanted {
                return;
            }
            if matches!(status.as_str(), "FINISHED" | "FAILED" | "CANCELED") {
                let exceptions = self.get(&format!("/jobs/{job}/exceptions")).await;
                panic!("job {job} ended {status}, not {wanted}: {exceptions}");
            }
            assert!(
                started.elapsed() < timeout,
                "job {job} is {status}, not {wanted}, after {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Polls `/overview` until `field` equals `value` (state settles across
    /// actors within milliseconds), failing after two seconds.
    pub async fn wait_for_overview(&self, field: &str, value: u64) -> Value {
        let started = Instant::now();
        loop {
            let overview = self.get("/overview").await;
            if overview[field] == value {
                return overview;
            }
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "{field} never became {value}: {overview}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Polls until every subtask of the job is RUNNING.
    pub async fn wait_for_all_running(&self, job: &str) {
        let started = Instant::now();
        loop {
            let details = self.get(&format!("/jobs/{job}")).await;
            let all = details["vertices"]
                .as_array()
                .unwrap()
                .iter()
                .all(|v| v["status"] == "RUNNING");
            if all {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "tasks never all ran: {details}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Reads every finished part file in `dir` into lines, per file: csv and
/// json part files as they are, parquet ones as csv lines.
pub fn read_parts(dir: &Path) -> HashMap<PathBuf, Vec<String>> {
    std::fs::read_dir(dir)
        .expect("output directory exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("part-"))
        })
        .map(|p| {
            let text = if p.extension().is_some_and(|e| e == "parquet") {
                parquet_as_csv(&p)
            } else {
                std::fs::read_to_string(&p).expect("readable part file")
            };
            (p, text.lines().map(str::to_string).collect())
        })
        .collect()
}

fn parquet_as_csv(path: &Path) -> String {
    let encoding = CsvEncoding::default();
    let mut text = String::new();
    for batch in parquet::read_file(path).expect("readable parquet part file") {
        encoding
            .write_batch(&batch, &mut text)
            .expect("parquet rows encode as csv");
    }
    text
}

/// A file of `examples/nexmark/`.
pub fn nexmark_example(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/nexmark")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
