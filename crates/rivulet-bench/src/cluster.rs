//! An in-process standalone cluster (REST on an ephemeral port) and running
//! a SQL job on it the way a client does: the script is POSTed to `/jobs` as
//! a multipart upload, then `/jobs/<id>/status` is polled until FINISHED.

use std::time::Duration;

use reqwest::multipart::{Form, Part};
use rivulet::standalone::{self, Standalone};
use rivulet_common::Configuration;
use serde_json::Value;

use crate::measure::{Figures, Stopwatch};

pub struct Bench {
    cluster: Standalone,
    client: reqwest::Client,
    base: String,
}

impl Bench {
    pub async fn start() -> Bench {
        let mut config = Configuration::new();
        config.set("rest.port", "0");
        config.set("parallelism.default", "1");
        let cluster = standalone::start(config).await.unwrap();
        Bench {
            base: format!("http://{}", cluster.rest_address()),
            client: reqwest::Client::new(),
            cluster,
        }
    }

    pub async fn stop(self) {
        self.cluster.shutdown().await;
    }

    async fn get(&self, path: &str) -> Value {
        let response = self.client.get(format!("{}{path}", self.base)).send();
        response.await.unwrap().json().await.unwrap()
    }

    /// Runs `script` to its end; `rows` is what the figures count.
    pub async fn run(&self, case: &str, script: &str, rows: u64, note: &str) -> Figures {
        let form = Form::new()
            .part(
                "request",
                Part::text(r#"{"executionPlanFileName":"job.sql"}"#),
            )
            .part(
                "file_0",
                Part::bytes(script.as_bytes().to_vec()).file_name("job.sql"),
            );
        let watch = Stopwatch::start();
        let response = self
            .client
            .post(format!("{}/jobs", self.base))
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 202, "{case}: submission answered {body}");
        let job = body["jobUrl"].as_str().unwrap().to_string();
        loop {
            let status = self.get(&format!("{job}/status")).await;
            match status["status"].as_str().unwrap_or_default() {
                "FINISHED" => break,
                "FAILED" | "CANCELED" => {
                    let exceptions = self.get(&format!("{job}/exceptions")).await;
                    panic!("{case}: job ended {status}: {exceptions}");
                }
                _ => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
        watch.stop(case, rows, note)
    }
}
