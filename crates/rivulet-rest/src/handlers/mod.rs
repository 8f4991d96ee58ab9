//! Request handlers, one module per resource.

pub mod cluster;
pub mod jars;
pub mod jobs;
pub mod submit;
pub mod taskmanagers;
pub mod vertices;

use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use crate::headers::json_response;

pub fn ok<T: Serialize>(body: &T) -> Response {
    json_response(StatusCode::OK, body)
}
