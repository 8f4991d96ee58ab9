//! Job bodies: lists, details, plan, config, status, result, exceptions,
//! accumulators, submission.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::vertices::IoMetricsInfo;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobIdsWithStatusOverview {
    pub jobs: Vec<JobIdWithStatus>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobIdWithStatus {
    pub id: String,
    pub status: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MultipleJobsDetails {
    pub jobs: Vec<JobDetails>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobDetails {
    pub jid: String,
    pub name: String,
    #[serde(rename = "jobType")]
    pub job_type: String,
    #[serde(rename = "schedulerType")]
    pub scheduler_type: String,
    #[serde(rename = "start-time")]
    pub start_time: i64,
    #[serde(rename = "end-time")]
    pub end_time: i64,
    pub duration: i64,
    pub state: String,
    #[serde(rename = "last-modification")]
    pub last_modification: i64,
    /// Lower-case execution state → number of subtasks, plus `total`.
    pub tasks: BTreeMap<String, usize>,
    #[serde(rename = "pending-operators")]
    pub pending_operators: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobDetailsInfo {
    pub jid: String,
    #[serde(rename = "application-id")]
    pub application_id: String,
    pub name: String,
    #[serde(rename = "isStoppable")]
    pub is_stoppable: bool,
    pub state: String,
    #[serde(rename = "job-type")]
    pub job_type: String,
    #[serde(rename = "schedulerType")]
    pub scheduler_type: String,
    #[serde(rename = "start-time")]
    pub start_time: i64,
    #[serde(rename = "end-time")]
    pub end_time: i64,
    pub duration: i64,
    #[serde(rename = "maxParallelism")]
    pub max_parallelism: i64,
    pub now: i64,
    /// Upper-case job status → epoch millis it was entered (0 if never).
    pub timestamps: BTreeMap<String, i64>,
    pub vertices: Vec<JobVertexSummary>,
    /// Upper-case execution state → number of vertices in it.
    #[serde(rename = "status-counts")]
    pub status_counts: BTreeMap<String, usize>,
    pub plan: Plan,
    #[serde(rename = "pending-operators")]
    pub pending_operators: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobVertexSummary {
    pub id: String,
    #[serde(rename = "slotSharingGroupId")]
    pub slot_sharing_group_id: String,
    pub name: String,
    #[serde(rename = "maxParallelism")]
    pub max_parallelism: u32,
    pub parallelism: u32,
    pub status: String,
    #[serde(rename = "start-time")]
    pub start_time: i64,
    #[serde(rename = "end-time")]
    pub end_time: i64,
    pub duration: i64,
    pub tasks: BTreeMap<String, usize>,
    pub metrics: IoMetricsInfo,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobPlanInfo {
    pub plan: Plan,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub jid: String,
    pub name: String,
    #[serde(rename = "type")]
    pub job_type: String,
    pub nodes: Vec<PlanNode>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanNode {
    pub id: String,
    pub operator: String,
    pub parallelism: u32,
    pub operator_strategy: String,
    pub description: String,
    pub optimizer_properties: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub inputs: Vec<PlanInput>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanInput {
    pub num: usize,
    pub id: String,
    pub ship_strategy: String,
    pub exchange: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobStatusInfo {
    pub status: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobConfigInfo {
    pub jid: String,
    pub name: String,
    #[serde(rename = "execution-config")]
    pub execution_config: ExecutionConfigInfo,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExecutionConfigInfo {
    #[serde(rename = "restart-strategy")]
    pub restart_strategy: String,
    #[serde(rename = "job-parallelism")]
    pub job_parallelism: u32,
    #[serde(rename = "object-reuse-mode")]
    pub object_reuse_mode: bool,
    #[serde(rename = "user-config")]
    pub user_config: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueueStatus {
    pub id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobExecutionResultResponse {
    pub status: QueueStatus,
    #[serde(
        rename = "job-execution-result",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub job_execution_result: Option<JobResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobResult {
    pub id: String,
    pub name: String,
    #[serde(rename = "application-status")]
    pub application_status: String,
    #[serde(rename = "accumulator-results")]
    pub accumulator_results: BTreeMap<String, String>,
    #[serde(rename = "net-runtime")]
    pub net_runtime: i64,
    #[serde(rename = "application-id")]
    pub application_id: String,
    #[serde(rename = "start-time")]
    pub start_time: i64,
    #[serde(rename = "end-time")]
    pub end_time: i64,
    #[serde(
        rename = "failure-cause",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub failure_cause: Option<SerializedThrowable>,
}

/// How Flink serializes an exception: the class, the stack trace, and (in
/// Java) the serialized object, which Rivulet fills with the trace text.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SerializedThrowable {
    pub class: String,
    #[serde(rename = "stack-trace")]
    pub stack_trace: String,
    #[serde(rename = "serialized-throwable")]
    pub serialized_throwable: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobExceptionsInfoWithHistory {
    pub exception_history: JobExceptionHistory,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobExceptionHistory {
    pub entries: Vec<RootExceptionInfo>,
    pub truncated: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RootExceptionInfo {
    pub exception_name: String,
    pub stacktrace: String,
    pub timestamp: i64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub task_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub task_manager_id: Option<String>,
    pub failure_labels: BTreeMap<String, String>,
    pub concurrent_exceptions: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobAccumulatorsInfo {
    #[serde(rename = "job-accumulators")]
    pub job_accumulators: Vec<serde_json::Value>,
    #[serde(rename = "user-task-accumulators")]
    pub user_task_accumulators: Vec<serde_json::Value>,
    #[serde(rename = "serialized-user-task-accumulators")]
    pub serialized_user_task_accumulators: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobSubmitResponse {
    pub job_url: String,
}

/// The `request` part of a multipart `POST /jobs`. Flink 2.x names the job
/// file `executionPlanFileName`, 1.x `jobGraphFileName`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobSubmitRequest {
    #[serde(default)]
    pub execution_plan_file_name: Option<String>,
    #[serde(default)]
    pub job_graph_file_name: Option<String>,
    #[serde(default)]
    pub job_jar_file_names: Vec<String>,
    #[serde(default)]
    pub job_artifact_file_names: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobClientHeartbeatRequest {
    #[serde(default)]
    pub expired_timestamp: Option<i64>,
}
