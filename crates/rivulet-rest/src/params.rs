//! Path and query parameters, parsed with Flink's error messages.

use std::str::FromStr;

use rivulet_common::{JobId, JobVertexId};

use crate::error::RestError;

fn cannot_resolve(kind: &str, name: &str, value: &str) -> RestError {
    RestError::bad_request(format!(
        "Bad request, could not parse parameters: Cannot resolve {kind} parameter ({name}) from value \"{value}\"."
    ))
}

pub fn path<T: FromStr>(name: &str, value: &str) -> Result<T, RestError> {
    value
        .parse()
        .map_err(|_| cannot_resolve("path", name, value))
}

pub fn job_id(value: &str) -> Result<JobId, RestError> {
    path("jobid", value)
}

pub fn vertex_id(value: &str) -> Result<JobVertexId, RestError> {
    path("vertexid", value)
}

pub fn subtask_index(value: &str) -> Result<u32, RestError> {
    path("subtaskindex", value)
}

pub fn attempt(value: &str) -> Result<u32, RestError> {
    path("attempt", value)
}

/// An optional query parameter; repeated values arrive joined by commas.
pub fn query<T: FromStr>(
    query: &std::collections::HashMap<String, String>,
    name: &str,
) -> Result<Option<T>, RestError> {
    match query.get(name) {
        None => Ok(None),
        Some(value) if value.is_empty() => Ok(None),
        Some(value) => value
            .parse()
            .map(Some)
            .map_err(|_| cannot_resolve("query", name, value)),
    }
}
