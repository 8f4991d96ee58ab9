//! Cluster-wide bodies: `/config`, `/overview`, `/jobmanager/config`,
//! `/jobmanager/environment`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DashboardConfiguration {
    #[serde(rename = "refresh-interval")]
    pub refresh_interval: i64,
    #[serde(rename = "timezone-name")]
    pub timezone_name: String,
    #[serde(rename = "timezone-offset")]
    pub timezone_offset: i64,
    #[serde(rename = "flink-version")]
    pub flink_version: String,
    #[serde(rename = "flink-revision")]
    pub flink_revision: String,
    pub features: DashboardFeatures,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DashboardFeatures {
    #[serde(rename = "web-submit")]
    pub web_submit: bool,
    #[serde(rename = "web-cancel")]
    pub web_cancel: bool,
    #[serde(rename = "web-rescale")]
    pub web_rescale: bool,
    #[serde(rename = "web-history")]
    pub web_history: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClusterOverview {
    pub taskmanagers: usize,
    #[serde(rename = "slots-total")]
    pub slots_total: usize,
    #[serde(rename = "slots-available")]
    pub slots_available: usize,
    #[serde(rename = "jobs-running")]
    pub jobs_running: usize,
    #[serde(rename = "jobs-finished")]
    pub jobs_finished: usize,
    #[serde(rename = "jobs-cancelled")]
    pub jobs_cancelled: usize,
    #[serde(rename = "jobs-failed")]
    pub jobs_failed: usize,
    #[serde(rename = "flink-version")]
    pub flink_version: String,
    #[serde(rename = "flink-commit")]
    pub flink_commit: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConfigurationEntry {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnvironmentInfo {
    pub jvm: RuntimeInfo,
    pub classpath: Vec<String>,
}

/// Flink calls it `jvm`; Rivulet reports its own process here.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuntimeInfo {
    pub version: String,
    pub arch: String,
    pub options: Vec<String>,
}
