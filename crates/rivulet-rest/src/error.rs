//! Errors as Flink answers them: a status code and `{"errors": [...]}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rivulet_cluster::ClusterError;

use crate::headers::json_response;

/// An error answer.
#[derive(Debug, Clone)]
pub struct RestError {
    pub status: StatusCode,
    pub errors: Vec<String>,
}

impl RestError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        RestError {
            status,
            errors: vec![message.into()],
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// Flink's shape for unexpected server-side exceptions.
    pub fn internal(message: impl std::fmt::Display) -> Self {
        RestError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            errors: vec![
                "Internal server error.".into(),
                format!("<Exception on server side:\n{message}\nEnd of exception on server side>"),
            ],
        }
    }

    /// Flink's message for a body that does not parse.
    pub fn bad_body(body_class: &str) -> Self {
        Self::bad_request(format!(
            "Request did not match expected format {body_class}."
        ))
    }
}

impl From<ClusterError> for RestError {
    fn from(error: ClusterError) -> Self {
        let message = error.to_string();
        match error {
            ClusterError::JobNotFound(_)
            | ClusterError::VertexNotFound(_)
            | ClusterError::SubtaskNotFound(_)
            | ClusterError::AttemptNotFound { .. } => RestError::not_found(message),
            ClusterError::InvalidJobGraph(_) => RestError::bad_request(message),
            ClusterError::DuplicateJob(_) | ClusterError::AlreadyTerminal(_) => {
                RestError::new(StatusCode::CONFLICT, message)
            }
            ClusterError::ShuttingDown => RestError::new(StatusCode::SERVICE_UNAVAILABLE, message),
            ClusterError::TaskManagerNotFound(_)
            | ClusterError::Configuration(_)
            | ClusterError::Unreachable { .. }
            | ClusterError::NoResources { .. } => RestError::internal(message),
        }
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        json_response(
            self.status,
            &rivulet_rest_api::ErrorResponse {
                errors: self.errors,
            },
        )
    }
}

pub type RestResult<T = Response> = Result<T, RestError>;
