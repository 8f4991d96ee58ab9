//! `POST /jobs`: a multipart submission as the Flink CLI sends it.
//!
//! The `request` part is JSON naming the job file (`executionPlanFileName`,
//! or `jobGraphFileName` from Flink 1.x clients); the file parts follow. The
//! job file is Rivulet's JSON job graph (docs/job-graph.md).

use std::collections::HashMap;

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use rivulet_rest_api::jobs::{JobSubmitRequest, JobSubmitResponse};
use rivulet_runtime::job_graph::JobGraphSpec;

use crate::RestState;
use crate::error::{RestError, RestResult};
use crate::headers::json_response;

pub(crate) fn multipart_error(error: axum::extract::multipart::MultipartError) -> RestError {
    RestError::new(error.status(), error.body_text())
}

pub async fn submit(State(state): State<RestState>, mut multipart: Multipart) -> RestResult {
    let mut request: Option<JobSubmitRequest> = None;
    let mut files: HashMap<String, Vec<u8>> = HashMap::new();
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let bytes = field.bytes().await.map_err(multipart_error)?;
        match file_name {
            Some(file_name) => {
                files.insert(file_name, bytes.to_vec());
            }
            None if name == "request" => {
                request = Some(
                    serde_json::from_slice(&bytes)
                        .map_err(|_| RestError::bad_body("JobSubmitRequestBody"))?,
                );
            }
            None => {}
        }
    }
    let request = request.ok_or_else(|| {
        RestError::bad_request("Request did not contain a 'request' part (JobSubmitRequestBody).")
    })?;
    let file_name = request
        .execution_plan_file_name
        .or(request.job_graph_file_name)
        .ok_or_else(|| {
            RestError::bad_request(
                "The request names no job graph file: set executionPlanFileName (or jobGraphFileName).",
            )
        })?;
    let bytes = files.get(&file_name).ok_or_else(|| {
        RestError::bad_request(format!(
            "The job graph file '{file_name}' was not among the uploaded files [{}].",
            files.keys().cloned().collect::<Vec<_>>().join(", ")
        ))
    })?;
    if bytes.starts_with(&[0xAC, 0xED]) {
        return Err(RestError::bad_request(
            "The job graph file is a serialized Java JobGraph. Rivulet runs jobs described in its JSON job graph format (see docs/job-graph.md).",
        ));
    }
    let spec = if is_sql_script(&file_name, bytes) {
        let script = std::str::from_utf8(bytes).map_err(|_| {
            RestError::bad_request(format!("The SQL script '{file_name}' is not UTF-8 text."))
        })?;
        plan_sql(&state, script).await?
    } else {
        serde_json::from_slice::<JobGraphSpec>(bytes).map_err(|e| {
            RestError::bad_request(format!(
                "Could not parse the job graph file '{file_name}': {e}"
            ))
        })?
    };
    let job_id = state.dispatcher.submit_job_spec(spec).await?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &JobSubmitResponse {
            job_url: format!("/jobs/{job_id}"),
        },
    ))
}

/// A job file is a SQL script if it is named `*.sql` or does not start like JSON.
fn is_sql_script(file_name: &str, bytes: &[u8]) -> bool {
    file_name.to_ascii_lowercase().ends_with(".sql")
        || bytes
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_none_or(|b| *b != b'{')
}

/// The cluster's `parallelism.default`.
pub(crate) fn default_parallelism(state: &RestState) -> Result<u32, RestError> {
    let parallelism = state
        .config
        .get_i64(&rivulet_common::config::options::PARALLELISM_DEFAULT)
        .map_err(RestError::internal)?;
    Ok(u32::try_from(parallelism.max(1)).unwrap_or(u32::MAX))
}

/// Plans a Flink SQL script with the cluster's default parallelism.
pub async fn plan_sql(state: &RestState, script: &str) -> Result<JobGraphSpec, RestError> {
    let options = rivulet_sql::PlanOptions {
        default_parallelism: default_parallelism(state)?,
        ..Default::default()
    };
    rivulet_sql::plan_script(script, &options)
        .await
        .map_err(|e| RestError::bad_request(e.to_string()))
}
