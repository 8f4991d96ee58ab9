//! Vertex and subtask bodies.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::stats::StatsSummary;

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct IoMetricsInfo {
    #[serde(rename = "read-bytes")]
    pub read_bytes: u64,
    #[serde(rename = "read-bytes-complete")]
    pub read_bytes_complete: bool,
    #[serde(rename = "write-bytes")]
    pub write_bytes: u64,
    #[serde(rename = "write-bytes-complete")]
    pub write_bytes_complete: bool,
    #[serde(rename = "read-records")]
    pub read_records: u64,
    #[serde(rename = "read-records-complete")]
    pub read_records_complete: bool,
    #[serde(rename = "write-records")]
    pub write_records: u64,
    #[serde(rename = "write-records-complete")]
    pub write_records_complete: bool,
    #[serde(rename = "accumulated-backpressured-time")]
    pub accumulated_backpressured_time: u64,
    #[serde(rename = "accumulated-idle-time")]
    pub accumulated_idle_time: u64,
    #[serde(rename = "accumulated-busy-time")]
    pub accumulated_busy_time: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubtaskAttemptInfo {
    pub subtask: u32,
    pub status: String,
    pub attempt: u32,
    pub endpoint: String,
    #[serde(rename = "start-time")]
    pub start_time: i64,
    #[serde(rename = "end-time")]
    pub end_time: i64,
    pub duration: i64,
    pub metrics: IoMetricsInfo,
    #[serde(rename = "taskmanager-id")]
    pub taskmanager_id: String,
    #[serde(rename = "status-duration")]
    pub status_duration: BTreeMap<String, i64>,
    /// Flink sends the start time a second time under this name.
    #[serde(rename = "start_time")]
    pub start_time_again: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AggregatedSubtasks {
    pub metrics: BTreeMap<String, StatsSummary>,
    #[serde(rename = "status-duration")]
    pub status_duration: BTreeMap<String, StatsSummary>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobVertexDetailsInfo {
    pub id: String,
    pub name: String,
    pub parallelism: u32,
    #[serde(rename = "maxParallelism")]
    pub max_parallelism: u32,
    pub now: i64,
    pub subtasks: Vec<SubtaskAttemptInfo>,
    pub aggregated: AggregatedSubtasks,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubtasksTimesInfo {
    pub id: String,
    pub name: String,
    pub now: i64,
    pub subtasks: Vec<SubtaskTimes>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubtaskTimes {
    pub subtask: u32,
    pub endpoint: String,
    pub duration: i64,
    pub timestamps: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobVertexTaskManagersInfo {
    pub id: String,
    pub name: String,
    pub now: i64,
    pub taskmanagers: Vec<VertexTaskManagerInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VertexTaskManagerInfo {
    pub endpoint: String,
    pub status: String,
    #[serde(rename = "start-time")]
    pub start_time: i64,
    #[serde(rename = "end-time")]
    pub end_time: i64,
    pub duration: i64,
    pub metrics: IoMetricsInfo,
    #[serde(rename = "status-counts")]
    pub status_counts: BTreeMap<String, usize>,
    #[serde(rename = "taskmanager-id")]
    pub taskmanager_id: String,
    pub aggregated: AggregatedSubtasks,
}
