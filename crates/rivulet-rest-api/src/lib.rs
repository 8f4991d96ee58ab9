//! The wire types of Flink's JobManager REST API, with Flink's exact field
//! names (a mix of kebab-case, camelCase and snake_case, as Flink has them).
//! Shared by the server, and later by the client and the command line. This
//! crate knows nothing of the runtime or the cluster.

pub mod cluster;
pub mod jars;
pub mod jobs;
pub mod metrics;
pub mod stats;
pub mod taskmanagers;
pub mod vertices;

use serde::{Deserialize, Serialize};

/// Every error answer: `{"errors": [...]}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorResponse {
    pub errors: Vec<String>,
}

/// `{}`, the body of operations that return nothing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EmptyResponse {}
