//! `/jobs/{id}/vertices/{vid}` and its subtask views.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use rivulet_cluster::ClusterError;
use rivulet_cluster::job_master::SnapshotDetail;
use rivulet_cluster::snapshot::{JobSnapshot, VertexSnapshot};
use rivulet_cluster::status::ExecutionState;
use rivulet_rest_api::metrics::Metric;
use rivulet_rest_api::vertices::{
    JobVertexDetailsInfo, JobVertexTaskManagersInfo, SubtaskTimes, SubtasksTimesInfo,
    VertexTaskManagerInfo,
};

use super::ok;
use crate::RestState;
use crate::convert;
use crate::error::RestResult;
use crate::params;

async fn load(state: &RestState, job: &str, vertex: &str) -> RestResult<(JobSnapshot, usize)> {
    let job_id = params::job_id(job)?;
    let vertex_id = params::vertex_id(vertex)?;
    let job = state
        .dispatcher
        .job_snapshot(job_id, SnapshotDetail::WithLiveMetrics)
        .await?;
    let index = job
        .vertices
        .iter()
        .position(|v| v.id == vertex_id)
        .ok_or(ClusterError::VertexNotFound(vertex_id))?;
    Ok((job, index))
}

pub async fn details(
    State(state): State<RestState>,
    Path((job, vertex)): Path<(String, String)>,
) -> RestResult {
    let (job, index) = load(&state, &job, &vertex).await?;
    let vertex = &job.vertices[index];
    Ok(ok(&JobVertexDetailsInfo {
        id: vertex.id.to_string(),
        name: vertex.name.clone(),
        parallelism: vertex.parallelism,
        max_parallelism: vertex.max_parallelism,
        now: job.now,
        subtasks: vertex
            .subtasks
            .iter()
            .map(|s| convert::attempt_info(s.index, s.current()))
            .collect(),
        aggregated: convert::aggregated(vertex.subtasks.iter().map(|s| s.current())),
    }))
}

fn subtask(vertex: &VertexSnapshot, index: &str) -> RestResult<usize> {
    let index = params::subtask_index(index)? as usize;
    if index >= vertex.subtasks.len() {
        return Err(ClusterError::SubtaskNotFound(vertex.id).into());
    }
    Ok(index)
}

pub async fn subtask_current(
    State(state): State<RestState>,
    Path((job, vertex, index)): Path<(String, String, String)>,
) -> RestResult {
    let (job, v) = load(&state, &job, &vertex).await?;
    let vertex = &job.vertices[v];
    let s = subtask(vertex, &index)?;
    let subtask = &vertex.subtasks[s];
    Ok(ok(&convert::attempt_info(subtask.index, subtask.current())))
}

pub async fn subtask_attempt(
    State(state): State<RestState>,
    Path((job, vertex, index, attempt)): Path<(String, String, String, String)>,
) -> RestResult {
    let (job, v) = load(&state, &job, &vertex).await?;
    let vertex = &job.vertices[v];
    let s = subtask(vertex, &index)?;
    let number = params::attempt(&attempt)?;
    let subtask = &vertex.subtasks[s];
    let attempt = subtask
        .attempt(number)
        .ok_or(ClusterError::AttemptNotFound {
            vertex: vertex.id,
            subtask: subtask.index,
            attempt: number,
        })?;
    Ok(ok(&convert::attempt_info(subtask.index, attempt)))
}

pub async fn subtask_times(
    State(state): State<RestState>,
    Path((job, vertex)): Path<(String, String)>,
) -> RestResult {
    let (job, v) = load(&state, &job, &vertex).await?;
    let vertex = &job.vertices[v];
    Ok(ok(&SubtasksTimesInfo {
        id: vertex.id.to_string(),
        name: vertex.name.clone(),
        now: job.now,
        subtasks: vertex
            .subtasks
            .iter()
            .map(|s| {
                let current = s.current();
                SubtaskTimes {
                    subtask: s.index,
                    endpoint: current
                        .location
                        .as_ref()
                        .map(|l| l.endpoint.clone())
                        .unwrap_or_else(|| "(unassigned)".into()),
                    duration: current.duration(),
                    timestamps: ExecutionState::ALL
                        .iter()
                        .map(|st| (st.name().to_string(), current.timestamp(*st)))
                        .collect(),
                }
            })
            .collect(),
    }))
}

pub async fn task_managers(
    State(state): State<RestState>,
    Path((job, vertex)): Path<(String, String)>,
) -> RestResult {
    let (job, v) = load(&state, &job, &vertex).await?;
    let vertex = &job.vertices[v];
    let mut by_location: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, subtask) in vertex.subtasks.iter().enumerate() {
        if let Some(location) = &subtask.current().location {
            by_location
                .entry((location.resource_id.clone(), location.endpoint.clone()))
                .or_default()
                .push(i);
        }
    }
    let taskmanagers = by_location
        .into_iter()
        .map(|((resource_id, endpoint), indices)| {
            let attempts: Vec<_> = indices
                .iter()
                .map(|i| vertex.subtasks[*i].current())
                .collect();
            let states: Vec<ExecutionState> = attempts.iter().map(|a| a.state).collect();
            let mut counts = [0usize; 10];
            for state in &states {
                counts[state.index()] += 1;
            }
            let start = attempts
                .iter()
                .map(|a| a.start_time())
                .filter(|t| *t > 0)
                .min()
                .unwrap_or(-1);
            let ends: Vec<i64> = attempts.iter().map(|a| a.end_time()).collect();
            let end = if ends.iter().all(|e| *e > 0) {
                ends.into_iter().max().unwrap_or(-1)
            } else {
                -1
            };
            let metrics = attempts.iter().map(|a| a.metrics).fold(
                Default::default(),
                rivulet_runtime::metrics::IoMetricsSnapshot::merged,
            );
            VertexTaskManagerInfo {
                endpoint,
                status: ExecutionState::aggregate(&states).name().into(),
                start_time: start,
                end_time: end,
                duration: convert::duration(start, end, job.now),
                metrics: convert::io_metrics(&metrics),
                status_counts: convert::upper_state_counts(&counts),
                taskmanager_id: resource_id,
                aggregated: convert::aggregated(attempts.iter().copied()),
            }
        })
        .collect();
    Ok(ok(&JobVertexTaskManagersInfo {
        id: vertex.id.to_string(),
        name: vertex.name.clone(),
        now: job.now,
        taskmanagers,
    }))
}

/// `GET /jobs/{jobid}/vertices/{vertexid}/watermarks`: each subtask's current
/// input watermark (`i64::MIN` before the first). A source vertex has no
/// input and so no input watermark: Flink answers `[]` for it.
pub async fn watermarks(
    State(state): State<RestState>,
    Path((job, vertex)): Path<(String, String)>,
) -> RestResult {
    let (job, index) = load(&state, &job, &vertex).await?;
    let vertex = &job.vertices[index];
    let has_input = job.edges.iter().any(|edge| edge.target == vertex.id);
    let metrics: Vec<Metric> = match has_input {
        false => Vec::new(),
        true => vertex
            .subtasks
            .iter()
            .map(|subtask| Metric {
                id: format!("{}.currentInputWatermark", subtask.index),
                value: Some(subtask.current().metrics.input_watermark.to_string()),
            })
            .collect(),
    };
    Ok(ok(&metrics))
}
