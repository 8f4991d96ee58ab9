//! `rivulet run`: submit a SQL script, a job package or a JSON job graph,
//! and (unless detached) wait for the result with a progress line.
//!
//! Scripts and packages go through Flink's web submission (`/jars/upload`,
//! `/jars/{id}/run`, then the upload is deleted), so program arguments are
//! filled in by the cluster exactly as for a jar run from the dashboard. A
//! JSON job graph goes to `POST /jobs` as the Flink CLI sends its job graph.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::bail;
use rivulet_rest_api::jars::{JarRequest, JarRunResponse};
use rivulet_rest_api::jobs::{JobExecutionResultResponse, JobSubmitResponse};
use serde_json::Value;

use super::RestClient;
use super::upload::{UploadedPackage, read_job_file};

pub struct RunOptions {
    pub file: PathBuf,
    pub parallelism: Option<u32>,
    pub detached: bool,
    /// `name=value` values for the script's `${name}` parameters.
    pub args: Vec<String>,
    /// The script to run from a package with several.
    pub entry: Option<String>,
}

/// Runs the job; the exit code is 0 when it finished (or was submitted
/// detached) and 1 when it failed or was cancelled.
pub async fn run(client: &RestClient, options: RunOptions) -> anyhow::Result<i32> {
    let job_id = submit(client, &options).await?;
    println!("Job has been submitted with JobID {job_id}");
    if options.detached {
        return Ok(0);
    }
    let result = wait_for_result(client, &job_id).await?;
    let Some(result) = result.job_execution_result else {
        bail!("the JobManager reported the job complete without a result");
    };
    if result.application_status == "SUCCEEDED" {
        println!("Program execution finished");
        println!("Job with JobID {job_id} has finished.");
        println!("Job Runtime: {} ms", result.net_runtime);
        return Ok(0);
    }
    println!("The program finished with the following exception:\n");
    match result.failure_cause {
        Some(cause) => println!("{}", cause.stack_trace.trim_end()),
        None => println!("Job {job_id} ended {}.", result.application_status),
    }
    Ok(1)
}

async fn submit(client: &RestClient, options: &RunOptions) -> anyhow::Result<String> {
    let (file_name, bytes) = read_job_file(&options.file)?;
    if file_name.to_ascii_lowercase().ends_with(".json") {
        if !options.args.is_empty() || options.entry.is_some() || options.parallelism.is_some() {
            bail!("a JSON job graph takes no --arg, --entry or -p; set them in the file");
        }
        let request = r#"{"executionPlanFileName":"job.json","jobJarFileNames":[],"jobArtifactFileNames":[]}"#;
        let answer: JobSubmitResponse = client
            .post_multipart(
                "/jobs",
                &[("request", request.to_string())],
                vec![("file_0", "job.json".to_string(), bytes)],
            )
            .await?;
        return Ok(answer.job_url.trim_start_matches("/jobs/").to_string());
    }
    let package = UploadedPackage::upload(client, &file_name, bytes).await?;
    let request = JarRequest {
        entry_class: options.entry.clone(),
        program_args_list: Some(options.args.clone()),
        parallelism: options.parallelism.map(i64::from),
        ..JarRequest::default()
    };
    let answer: anyhow::Result<JarRunResponse> = client
        .post(&format!("/jars/{}/run", package.id), &request)
        .await;
    // The upload was only the vehicle; it goes whether the run worked or not.
    package.discard(client).await;
    Ok(answer?.jobid)
}

/// Polls `execution-result` with Flink's back-off (50 ms doubling to 2 s)
/// and shows progress from the job's details in between.
async fn wait_for_result(
    client: &RestClient,
    job_id: &str,
) -> anyhow::Result<JobExecutionResultResponse> {
    let started = Instant::now();
    let mut progress = Progress::new();
    let mut delay = Duration::from_millis(50);
    loop {
        let result: JobExecutionResultResponse = client
            .get(&format!("/jobs/{job_id}/execution-result"))
            .await?;
        if result.status.id == "COMPLETED" {
            progress.finish();
            return Ok(result);
        }
        if let Ok(details) = client.get::<Value>(&format!("/jobs/{job_id}")).await {
            progress.show(&progress_line(&details, started.elapsed()));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

/// `RUNNING  3/3 tasks  1234567 records from sources  4.2 s`
fn progress_line(details: &Value, elapsed: Duration) -> String {
    let state = details["state"].as_str().unwrap_or("?");
    let vertices = details["vertices"].as_array().cloned().unwrap_or_default();
    let total: u64 = vertices
        .iter()
        .filter_map(|v| v["parallelism"].as_u64())
        .sum();
    let running: u64 = vertices
        .iter()
        .filter_map(|v| v["tasks"]["RUNNING"].as_u64())
        .sum();
    // Vertices that are no plan node's consumer are the sources.
    let consumers: Vec<&str> = details["plan"]["nodes"]
        .as_array()
        .map(|nodes| {
            nodes
                .iter()
                .filter(|n| n["inputs"].as_array().is_some_and(|i| !i.is_empty()))
                .filter_map(|n| n["id"].as_str())
                .collect()
        })
        .unwrap_or_default();
    let from_sources: u64 = vertices
        .iter()
        .filter(|v| !consumers.contains(&v["id"].as_str().unwrap_or_default()))
        .filter_map(|v| v["metrics"]["write-records"].as_u64())
        .sum();
    format!(
        "{state}  {running}/{total} tasks running  {from_sources} records from sources  {:.1} s",
        elapsed.as_secs_f64()
    )
}

/// One line rewritten in place on a terminal; on a pipe, a line whenever
/// it changes, at most once a second.
struct Progress {
    terminal: bool,
    shown: bool,
    last: Option<Instant>,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            terminal: std::io::stderr().is_terminal(),
            shown: false,
            last: None,
        }
    }

    fn show(&mut self, line: &str) {
        let mut err = std::io::stderr();
        if self.terminal {
            let _ = write!(err, "\r\x1b[2K{line}");
        } else if self
            .last
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(1))
        {
            let _ = writeln!(err, "{line}");
            self.last = Some(Instant::now());
        }
        let _ = err.flush();
        self.shown = true;
    }

    fn finish(&mut self) {
        if self.terminal && self.shown {
            let _ = writeln!(std::io::stderr());
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn progress_counts_records_leaving_the_sources_only() {
        let details = json!({
            "state": "RUNNING",
            "vertices": [
                {"id": "a", "parallelism": 2, "tasks": {"RUNNING": 2}, "metrics": {"write-records": 100}},
                {"id": "b", "parallelism": 1, "tasks": {"RUNNING": 0}, "metrics": {"write-records": 7}}
            ],
            "plan": {"nodes": [{"id": "b", "inputs": [{"id": "a"}]}, {"id": "a"}]}
        });
        assert_eq!(
            progress_line(&details, Duration::from_millis(1500)),
            "RUNNING  2/3 tasks running  100 records from sources  1.5 s"
        );
    }
}
