//! The error type of the runtime crate.

use arrow_schema::ArrowError;

/// Errors of job graphs and running tasks.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The job graph cannot run as described; the message says why.
    #[error("Invalid job graph: {0}")]
    InvalidJobGraph(String),
    /// An operator failed while processing data.
    #[error("{operator} failed: {message}")]
    Operator { operator: String, message: String },
    #[error("Arrow error in {operator}: {source}")]
    Arrow {
        operator: String,
        source: ArrowError,
    },
    #[error("I/O error in {operator} on {path}: {source}")]
    Io {
        operator: String,
        path: String,
        source: std::io::Error,
    },
    /// Keyed state or timers could not be read, written, snapshotted or restored.
    #[error("State error: {0}")]
    State(String),
    /// A downstream or upstream channel closed while the task still needed it.
    #[error("Channel to {0} closed unexpectedly")]
    ChannelClosed(String),
}

pub type Result<T, E = RuntimeError> = std::result::Result<T, E>;
