//! Shared foundations of Rivulet: the ids Flink's REST API exposes (job, vertex,
//! trigger, attempt), the configuration with Flink's option keys and defaults, and
//! the wall clock in epoch milliseconds. Nothing here knows about the runtime,
//! the cluster or HTTP.

pub mod clock;
pub mod config;
pub mod error;
pub mod ids;

pub use config::{ConfigOption, Configuration};
pub use error::CommonError;
pub use ids::{AbstractId, ExecutionAttemptId, JobId, JobVertexId, ResourceId, TriggerId};
