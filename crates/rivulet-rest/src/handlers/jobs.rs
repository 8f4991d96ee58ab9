//! `/jobs` and the per-job endpoints that read the execution graph.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use rivulet_cluster::job_master::SnapshotDetail;
use rivulet_rest_api::EmptyResponse;
use rivulet_rest_api::jobs::{
    ExecutionConfigInfo, JobAccumulatorsInfo, JobClientHeartbeatRequest, JobConfigInfo,
    JobExceptionHistory, JobExceptionsInfoWithHistory, JobExecutionResultResponse, JobIdWithStatus,
    JobIdsWithStatusOverview, JobPlanInfo, JobStatusInfo, MultipleJobsDetails, QueueStatus,
};

use super::ok;
use crate::RestState;
use crate::convert;
use crate::error::{RestError, RestResult};
use crate::headers::json_response;
use crate::params;

pub async fn list(State(state): State<RestState>) -> RestResult {
    let jobs = state.dispatcher.list_jobs().await?;
    Ok(ok(&JobIdsWithStatusOverview {
        jobs: jobs
            .into_iter()
            .map(|(id, status)| JobIdWithStatus {
                id: id.to_string(),
                status: status.name().into(),
            })
            .collect(),
    }))
}

pub async fn overview(State(state): State<RestState>) -> RestResult {
    let jobs = state.dispatcher.jobs_overview().await?;
    Ok(ok(&MultipleJobsDetails {
        jobs: jobs.iter().map(convert::job_details).collect(),
    }))
}

pub async fn details(State(state): State<RestState>, Path(job): Path<String>) -> RestResult {
    let job = state
        .dispatcher
        .job_snapshot(params::job_id(&job)?, SnapshotDetail::WithLiveMetrics)
        .await?;
    Ok(ok(&convert::job_details_info(&job)))
}

pub async fn status(State(state): State<RestState>, Path(job): Path<String>) -> RestResult {
    let status = state.dispatcher.job_status(params::job_id(&job)?).await?;
    Ok(ok(&JobStatusInfo {
        status: status.name().into(),
    }))
}

pub async fn plan(State(state): State<RestState>, Path(job): Path<String>) -> RestResult {
    let job = state
        .dispatcher
        .job_snapshot(params::job_id(&job)?, SnapshotDetail::StateOnly)
        .await?;
    Ok(ok(&JobPlanInfo {
        plan: convert::plan(&job),
    }))
}

pub async fn config(State(state): State<RestState>, Path(job): Path<String>) -> RestResult {
    let job = state
        .dispatcher
        .job_snapshot(params::job_id(&job)?, SnapshotDetail::StateOnly)
        .await?;
    Ok(ok(&JobConfigInfo {
        jid: job.job_id.to_string(),
        name: job.name.clone(),
        execution_config: ExecutionConfigInfo {
            // Rivulet does not restart failed jobs yet.
            restart_strategy: "Restart deactivated.".into(),
            job_parallelism: job.parallelism,
            object_reuse_mode: false,
            user_config: job.user_config.clone(),
        },
    }))
}

/// `PATCH /jobs/{id}?mode=cancel`: cancels asynchronously, as Flink does.
pub async fn cancel(
    State(state): State<RestState>,
    Path(job): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> RestResult {
    let job_id = params::job_id(&job)?;
    match query.get("mode").map(|m| m.to_ascii_lowercase()).as_deref() {
        None | Some("cancel") | Some("") => {}
        Some("stop") => {
            return Err(RestError::new(
                StatusCode::PERMANENT_REDIRECT,
                "The termination mode \"stop\" has been removed. For an ungraceful shutdown, please use \"cancel\" instead. For a graceful shutdown, please use \"jobs/:jobId/stop\" instead.",
            ));
        }
        Some(other) => {
            return Err(RestError::bad_request(format!(
                "Bad request, could not parse parameters: Cannot resolve query parameter (mode) from value \"{other}\"."
            )));
        }
    }
    match state.dispatcher.cancel_job(job_id).await {
        Ok(()) => Ok(json_response(StatusCode::ACCEPTED, &EmptyResponse {})),
        Err(rivulet_cluster::ClusterError::JobNotFound(_)) => {
            Err(RestError::not_found("Job could not be found."))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn execution_result(
    State(state): State<RestState>,
    Path(job): Path<String>,
) -> RestResult {
    let job_id = params::job_id(&job)?;
    let status = state.dispatcher.job_status(job_id).await?;
    if !status.is_globally_terminal() {
        return Ok(ok(&JobExecutionResultResponse {
            status: QueueStatus {
                id: "IN_PROGRESS".into(),
            },
            job_execution_result: None,
        }));
    }
    let job = state
        .dispatcher
        .job_snapshot(job_id, SnapshotDetail::StateOnly)
        .await?;
    Ok(ok(&JobExecutionResultResponse {
        status: QueueStatus {
            id: "COMPLETED".into(),
        },
        job_execution_result: Some(convert::job_result(&job)),
    }))
}

pub async fn exceptions(
    State(state): State<RestState>,
    Path(job): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> RestResult {
    let job_id = params::job_id(&job)?;
    let max: usize = params::query(&query, "maxExceptions")?.unwrap_or(20);
    let job = state
        .dispatcher
        .job_snapshot(job_id, SnapshotDetail::StateOnly)
        .await?;
    // Newest first, as Flink lists its history.
    let entries: Vec<_> = job
        .exceptions
        .iter()
        .rev()
        .map(convert::exception_entry)
        .collect();
    let truncated = entries.len() > max;
    Ok(ok(&JobExceptionsInfoWithHistory {
        exception_history: JobExceptionHistory {
            entries: entries.into_iter().take(max).collect(),
            truncated,
        },
    }))
}

pub async fn accumulators(
    State(state): State<RestState>,
    Path(job): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> RestResult {
    let job_id = params::job_id(&job)?;
    let _include_serialized: Option<bool> = params::query(&query, "includeSerializedValue")?;
    // Rivulet's operators register no accumulators: the lists are really empty.
    state.dispatcher.job_status(job_id).await?;
    Ok(ok(&JobAccumulatorsInfo {
        job_accumulators: Vec::new(),
        user_task_accumulators: Vec::new(),
        serialized_user_task_accumulators: BTreeMap::new(),
    }))
}

pub async fn jobmanager_config(
    State(state): State<RestState>,
    Path(job): Path<String>,
) -> RestResult {
    state.dispatcher.job_status(params::job_id(&job)?).await?;
    Ok(ok(&super::cluster::configuration_entries(&state)))
}

pub async fn jobmanager_environment(
    State(state): State<RestState>,
    Path(job): Path<String>,
) -> RestResult {
    state.dispatcher.job_status(params::job_id(&job)?).await?;
    Ok(ok(&super::cluster::environment()))
}

/// `PATCH /jobs/{id}/clientHeartbeat` with `{"expiredTimestamp": ...}`.
pub async fn client_heartbeat(
    State(state): State<RestState>,
    Path(job): Path<String>,
    body: Bytes,
) -> RestResult {
    let job_id = params::job_id(&job)?;
    let request: JobClientHeartbeatRequest = if body.is_empty() {
        JobClientHeartbeatRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|_| RestError::bad_body("JobClientHeartbeatRequestBody"))?
    };
    let expires_at = request
        .expired_timestamp
        .ok_or_else(|| RestError::bad_request("expiredTimestamp is required"))?;
    state
        .dispatcher
        .client_heartbeat(job_id, expires_at)
        .await?;
    Ok(json_response(StatusCode::ACCEPTED, &EmptyResponse {}))
}
