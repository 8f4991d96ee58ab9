//! The route table. Every route is served at `/v1<path>` and at `<path>`;
//! axum's router already prefers literal segments over parameters, so
//! `/jobs/overview` never reaches the job-id handlers.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::routing::{get, patch, post};
use rivulet_common::config::options;

use crate::RestState;
use crate::error::RestError;
use crate::handlers::{cluster, jars, jobs, submit, taskmanagers, vertices};
use crate::headers::flink_headers;

/// Flink's web submission routes, present only with `web.submit.enable`.
fn jar_routes() -> Router<RestState> {
    Router::new()
        .route("/jars", get(jars::list))
        .route("/jars/upload", post(jars::upload))
        .route("/jars/{jarid}", axum::routing::delete(jars::delete))
        .route("/jars/{jarid}/plan", get(jars::plan).post(jars::plan))
        .route("/jars/{jarid}/run", post(jars::run))
}

fn api(web_submit: bool) -> Router<RestState> {
    let routes = if web_submit {
        jar_routes()
    } else {
        Router::new()
    };
    routes
        .route("/config", get(cluster::dashboard_config))
        .route("/overview", get(cluster::overview))
        .route("/cluster", axum::routing::delete(cluster::shutdown_cluster))
        .route("/jobmanager/config", get(cluster::jobmanager_config))
        .route(
            "/jobmanager/environment",
            get(cluster::jobmanager_environment),
        )
        .route("/jobs", get(jobs::list).post(submit::submit))
        .route("/jobs/overview", get(jobs::overview))
        .route("/jobs/{jobid}", get(jobs::details).patch(jobs::cancel))
        .route("/jobs/{jobid}/status", get(jobs::status))
        .route("/jobs/{jobid}/plan", get(jobs::plan))
        .route("/jobs/{jobid}/config", get(jobs::config))
        .route(
            "/jobs/{jobid}/execution-result",
            get(jobs::execution_result),
        )
        .route("/jobs/{jobid}/exceptions", get(jobs::exceptions))
        .route("/jobs/{jobid}/accumulators", get(jobs::accumulators))
        .route(
            "/jobs/{jobid}/jobmanager/config",
            get(jobs::jobmanager_config),
        )
        .route(
            "/jobs/{jobid}/jobmanager/environment",
            get(jobs::jobmanager_environment),
        )
        .route(
            "/jobs/{jobid}/clientHeartbeat",
            patch(jobs::client_heartbeat),
        )
        .route("/jobs/{jobid}/vertices/{vertexid}", get(vertices::details))
        .route(
            "/jobs/{jobid}/vertices/{vertexid}/subtasktimes",
            get(vertices::subtask_times),
        )
        .route(
            "/jobs/{jobid}/vertices/{vertexid}/watermarks",
            get(vertices::watermarks),
        )
        .route(
            "/jobs/{jobid}/vertices/{vertexid}/taskmanagers",
            get(vertices::task_managers),
        )
        .route(
            "/jobs/{jobid}/vertices/{vertexid}/subtasks/{subtaskindex}",
            get(vertices::subtask_current),
        )
        .route(
            "/jobs/{jobid}/vertices/{vertexid}/subtasks/{subtaskindex}/attempts/{attempt}",
            get(vertices::subtask_attempt),
        )
        .route("/taskmanagers", get(taskmanagers::list))
        .route("/taskmanagers/{taskmanagerid}", get(taskmanagers::details))
        .method_not_allowed_fallback(not_found)
}

async fn not_found(request: Request) -> RestError {
    RestError::not_found(format!("Not found: {}", request.uri().path()))
}

pub fn build(state: RestState) -> Router {
    let limit = state
        .config
        .get_i64(&options::REST_MAX_CONTENT_LENGTH)
        .ok()
        .filter(|l| *l > 0)
        .unwrap_or(104_857_600) as usize;
    let web_submit = state.jars.is_some();
    Router::new()
        .merge(api(web_submit))
        .nest("/v1", api(web_submit))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(flink_headers))
        .with_state(state)
}
