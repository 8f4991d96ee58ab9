//! Turning cluster snapshots into Flink's wire types.

use std::collections::BTreeMap;

use base64::Engine;
use rivulet_cluster::snapshot::{AttemptSnapshot, JobOverview, JobSnapshot, VertexSnapshot};
use rivulet_cluster::status::{ExecutionState, JobStatus};
use rivulet_rest_api::jobs::{
    JobDetails, JobDetailsInfo, JobResult, JobVertexSummary, Plan, PlanInput, PlanNode,
    RootExceptionInfo, SerializedThrowable,
};
use rivulet_rest_api::stats::StatsSummary;
use rivulet_rest_api::vertices::{AggregatedSubtasks, IoMetricsInfo, SubtaskAttemptInfo};
use rivulet_runtime::job_graph::{JobGraph, JobType, ShipStrategy};
use rivulet_runtime::metrics::IoMetricsSnapshot;

pub fn job_type_name(job_type: JobType) -> String {
    match job_type {
        JobType::Streaming => "STREAMING".into(),
        JobType::Batch => "BATCH".into(),
    }
}

/// Upper-case state names mapped to the counts in `counts`.
pub fn upper_state_counts(counts: &[usize; 10]) -> BTreeMap<String, usize> {
    ExecutionState::ALL
        .iter()
        .map(|s| (s.name().to_string(), counts[s.index()]))
        .collect()
}

pub fn job_details(job: &JobOverview) -> JobDetails {
    let mut tasks: BTreeMap<String, usize> = ExecutionState::ALL
        .iter()
        .map(|s| (s.name().to_lowercase(), job.task_counts[s.index()]))
        .collect();
    tasks.insert("total".into(), job.total_tasks);
    JobDetails {
        jid: job.job_id.to_string(),
        name: job.name.clone(),
        job_type: job_type_name(job.job_type),
        scheduler_type: "Default".into(),
        start_time: job.start_time,
        end_time: job.end_time,
        duration: job.duration(),
        state: job.status.name().into(),
        last_modification: job.last_modification,
        tasks,
        pending_operators: 0,
    }
}

pub fn io_metrics(metrics: &IoMetricsSnapshot) -> IoMetricsInfo {
    IoMetricsInfo {
        read_bytes: metrics.read_bytes,
        read_bytes_complete: true,
        write_bytes: metrics.write_bytes,
        write_bytes_complete: true,
        read_records: metrics.read_records,
        read_records_complete: true,
        write_records: metrics.write_records,
        write_records_complete: true,
        accumulated_backpressured_time: metrics.backpressured_millis,
        accumulated_idle_time: metrics.idle_millis,
        accumulated_busy_time: metrics.busy_millis,
    }
}

/// All vertices of a job share one slot sharing group; its id is derived
/// from the job id so it is stable.
fn slot_sharing_group_id(job: &JobSnapshot) -> String {
    format!(
        "{:032x}",
        job.job_id.0.as_u128().rotate_left(64) ^ 0x5107_5a4e_0000_0000
    )
}

/// One node of Flink's plan JSON: the chain's operator names as the
/// description, one input per incoming edge.
fn plan_node(
    id: String,
    parallelism: u32,
    operator_names: &[String],
    inputs: Vec<PlanInput>,
) -> PlanNode {
    let mut description = String::new();
    for (i, name) in operator_names.iter().enumerate() {
        if i > 0 {
            description.push_str("+- ");
        }
        description.push_str(name);
        description.push_str("<br/>");
    }
    PlanNode {
        id,
        operator: String::new(),
        parallelism,
        operator_strategy: String::new(),
        description,
        optimizer_properties: BTreeMap::new(),
        inputs,
    }
}

fn plan_input(num: usize, source: String, strategy: ShipStrategy) -> PlanInput {
    PlanInput {
        num,
        id: source,
        ship_strategy: strategy.flink_name().into(),
        exchange: "pipelined_bounded".into(),
    }
}

/// The plan of a running or finished job. Flink lists sinks first.
pub fn plan(job: &JobSnapshot) -> Plan {
    let nodes = job
        .vertices
        .iter()
        .rev()
        .map(|vertex| {
            let inputs = job
                .edges
                .iter()
                .filter(|e| e.target == vertex.id)
                .enumerate()
                .map(|(num, edge)| plan_input(num, edge.source.to_string(), edge.strategy))
                .collect();
            plan_node(
                vertex.id.to_string(),
                vertex.parallelism,
                &vertex.operator_names,
                inputs,
            )
        })
        .collect();
    Plan {
        jid: job.job_id.to_string(),
        name: job.name.clone(),
        job_type: job_type_name(job.job_type),
        nodes,
    }
}

/// The plan of a job graph that has not been submitted (`/jars/{id}/plan`).
pub fn plan_of_graph(graph: &JobGraph) -> Plan {
    let nodes = graph
        .vertices
        .iter()
        .enumerate()
        .rev()
        .map(|(index, vertex)| {
            let inputs = graph
                .inputs_of(index)
                .enumerate()
                .map(|(num, edge)| {
                    plan_input(
                        num,
                        graph.vertices[edge.source].id.to_string(),
                        edge.strategy,
                    )
                })
                .collect();
            let names: Vec<String> = vertex.operators.iter().map(|o| o.display_name()).collect();
            plan_node(vertex.id.to_string(), vertex.parallelism, &names, inputs)
        })
        .collect();
    Plan {
        jid: graph.job_id.to_string(),
        name: graph.name.clone(),
        job_type: job_type_name(graph.job_type),
        nodes,
    }
}

pub fn vertex_summary(job: &JobSnapshot, vertex: &VertexSnapshot) -> JobVertexSummary {
    let start = vertex.start_time();
    let end = vertex.end_time();
    JobVertexSummary {
        id: vertex.id.to_string(),
        slot_sharing_group_id: slot_sharing_group_id(job),
        name: vertex.name.clone(),
        max_parallelism: vertex.max_parallelism,
        parallelism: vertex.parallelism,
        status: vertex.state().name().into(),
        start_time: start,
        end_time: end,
        duration: duration(start, end, job.now),
        tasks: upper_state_counts(&vertex.task_counts()),
        metrics: io_metrics(&vertex.metrics()),
    }
}

pub fn duration(start: i64, end: i64, now: i64) -> i64 {
    if start <= 0 {
        -1
    } else if end > 0 {
        end - start
    } else {
        now - start
    }
}

pub fn job_details_info(job: &JobSnapshot) -> JobDetailsInfo {
    JobDetailsInfo {
        jid: job.job_id.to_string(),
        application_id: job.job_id.to_string(),
        name: job.name.clone(),
        is_stoppable: false,
        state: job.status.name().into(),
        job_type: job_type_name(job.job_type),
        scheduler_type: "Default".into(),
        start_time: job.start_time(),
        end_time: job.end_time(),
        duration: job.duration(),
        max_parallelism: job.max_parallelism,
        now: job.now,
        timestamps: JobStatus::ALL
            .iter()
            .map(|s| (s.name().to_string(), job.timestamp(*s)))
            .collect(),
        vertices: job
            .vertices
            .iter()
            .map(|v| vertex_summary(job, v))
            .collect(),
        status_counts: upper_state_counts(&job.vertex_state_counts()),
        plan: plan(job),
        pending_operators: 0,
    }
}

pub fn attempt_info(subtask: u32, attempt: &AttemptSnapshot) -> SubtaskAttemptInfo {
    let location = attempt.location.clone();
    SubtaskAttemptInfo {
        subtask,
        status: attempt.state.name().into(),
        attempt: attempt.attempt,
        endpoint: location
            .as_ref()
            .map(|l| l.endpoint.clone())
            .unwrap_or_else(|| "(unassigned)".into()),
        start_time: attempt.start_time(),
        end_time: attempt.end_time(),
        duration: attempt.duration(),
        metrics: io_metrics(&attempt.metrics),
        taskmanager_id: location
            .map(|l| l.resource_id)
            .unwrap_or_else(|| "(unassigned)".into()),
        status_duration: attempt
            .status_durations()
            .into_iter()
            .map(|(s, d)| (s.name().to_string(), d))
            .collect(),
        start_time_again: attempt.start_time(),
    }
}

/// Summary statistics over a set of attempts, as `aggregated` reports them.
pub fn aggregated<'a>(
    attempts: impl Iterator<Item = &'a AttemptSnapshot> + Clone,
) -> AggregatedSubtasks {
    let metric = |f: fn(&IoMetricsSnapshot) -> i64| {
        let values: Vec<i64> = attempts.clone().map(|a| f(&a.metrics)).collect();
        StatsSummary::of(&values)
    };
    let mut metrics = BTreeMap::new();
    metrics.insert("read-bytes".into(), metric(|m| m.read_bytes as i64));
    metrics.insert("write-bytes".into(), metric(|m| m.write_bytes as i64));
    metrics.insert("read-records".into(), metric(|m| m.read_records as i64));
    metrics.insert("write-records".into(), metric(|m| m.write_records as i64));
    metrics.insert(
        "accumulated-backpressured-time".into(),
        metric(|m| m.backpressured_millis as i64),
    );
    metrics.insert(
        "accumulated-idle-time".into(),
        metric(|m| m.idle_millis as i64),
    );
    metrics.insert(
        "accumulated-busy-time".into(),
        metric(|m| m.busy_millis as i64),
    );
    let mut per_state: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for attempt in attempts {
        for (state, millis) in attempt.status_durations() {
            if millis >= 0 {
                per_state
                    .entry(state.name().to_string())
                    .or_default()
                    .push(millis);
            }
        }
    }
    AggregatedSubtasks {
        metrics,
        status_duration: per_state
            .into_iter()
            .map(|(state, values)| (state, StatsSummary::of(&values)))
            .collect(),
    }
}

pub fn serialized_throwable(class: &str, stack_trace: &str) -> SerializedThrowable {
    SerializedThrowable {
        class: class.into(),
        stack_trace: stack_trace.into(),
        serialized_throwable: base64::engine::general_purpose::STANDARD.encode(stack_trace),
    }
}

pub fn job_result(job: &JobSnapshot) -> JobResult {
    let application_status = match job.status {
        JobStatus::Finished => "SUCCEEDED",
        JobStatus::Canceled => "CANCELED",
        JobStatus::Failed => "FAILED",
        _ => "UNKNOWN",
    };
    let failure_cause = (job.status == JobStatus::Failed).then(|| {
        job.exceptions
            .first()
            .map(|e| serialized_throwable(&e.exception_name, &e.stacktrace))
            .unwrap_or_else(|| serialized_throwable("rivulet.cluster.JobFailure", "the job failed"))
    });
    JobResult {
        id: job.job_id.to_string(),
        name: job.name.clone(),
        application_status: application_status.into(),
        accumulator_results: BTreeMap::new(),
        net_runtime: job.duration(),
        application_id: job.job_id.to_string(),
        start_time: job.start_time(),
        end_time: job.end_time(),
        failure_cause,
    }
}

pub fn exception_entry(entry: &rivulet_cluster::snapshot::ExceptionEntry) -> RootExceptionInfo {
    RootExceptionInfo {
        exception_name: entry.exception_name.clone(),
        stacktrace: entry.stacktrace.clone(),
        timestamp: entry.timestamp,
        task_name: entry.task_name.clone(),
        endpoint: entry.location.as_ref().map(|l| l.endpoint.clone()),
        task_manager_id: entry.location.as_ref().map(|l| l.resource_id.clone()),
        failure_labels: BTreeMap::new(),
        concurrent_exceptions: Vec::new(),
    }
}
