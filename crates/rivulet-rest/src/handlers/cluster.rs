//! `/config`, `/overview`, `/jobmanager/*` and `DELETE /cluster`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use rivulet_common::config::options;
use rivulet_rest_api::EmptyResponse;
use rivulet_rest_api::cluster::{
    ClusterOverview, ConfigurationEntry, DashboardConfiguration, DashboardFeatures,
    EnvironmentInfo, RuntimeInfo,
};

use super::ok;
use crate::error::{RestError, RestResult};
use crate::headers::json_response;
use crate::{FLINK_API_VERSION, RIVULET_VERSION, RestState};

pub async fn dashboard_config(State(state): State<RestState>) -> RestResult {
    let config = &state.config;
    let flag = |option| config.get_bool(option).map_err(RestError::internal);
    Ok(ok(&DashboardConfiguration {
        refresh_interval: config
            .get_duration_millis(&options::WEB_REFRESH_INTERVAL)
            .map_err(RestError::internal)? as i64,
        // Rivulet keeps every time in UTC epoch milliseconds.
        timezone_name: "Coordinated Universal Time".into(),
        timezone_offset: 0,
        flink_version: FLINK_API_VERSION.into(),
        flink_revision: RIVULET_VERSION.into(),
        features: DashboardFeatures {
            web_submit: flag(&options::WEB_SUBMIT_ENABLE)?,
            web_cancel: flag(&options::WEB_CANCEL_ENABLE)?,
            web_rescale: flag(&options::WEB_RESCALE_ENABLE)?,
            web_history: false,
        },
    }))
}

pub async fn overview(State(state): State<RestState>) -> RestResult {
    let resources = state.resource_manager.overview();
    let jobs = state.dispatcher.job_counts();
    Ok(ok(&ClusterOverview {
        taskmanagers: resources.task_managers,
        slots_total: resources.slots_total,
        slots_available: resources.slots_available,
        jobs_running: jobs.running,
        jobs_finished: jobs.finished,
        jobs_cancelled: jobs.cancelled,
        jobs_failed: jobs.failed,
        flink_version: FLINK_API_VERSION.into(),
        flink_commit: RIVULET_VERSION.into(),
    }))
}

pub fn configuration_entries(state: &RestState) -> Vec<ConfigurationEntry> {
    state
        .config
        .effective_entries()
        .into_iter()
        .map(|(key, value)| ConfigurationEntry { key, value })
        .collect()
}

pub async fn jobmanager_config(State(state): State<RestState>) -> Response {
    ok(&configuration_entries(&state))
}

pub fn environment() -> EnvironmentInfo {
    EnvironmentInfo {
        jvm: RuntimeInfo {
            version: format!("Rivulet {} (native, no JVM)", env!("CARGO_PKG_VERSION")),
            arch: std::env::consts::ARCH.into(),
            options: std::env::args().skip(1).collect(),
        },
        classpath: std::env::current_exe()
            .map(|p| vec![p.display().to_string()])
            .unwrap_or_default(),
    }
}

pub async fn jobmanager_environment() -> Response {
    ok(&environment())
}

pub async fn shutdown_cluster(State(state): State<RestState>) -> RestResult {
    state.dispatcher.shutdown_cluster().await?;
    Ok(json_response(StatusCode::OK, &EmptyResponse {}))
}
