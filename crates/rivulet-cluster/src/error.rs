//! The error type of the cluster crate.

use rivulet_common::{JobId, JobVertexId};

use crate::status::JobStatus;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ClusterError {
    #[error("Job {0} not found")]
    JobNotFound(JobId),
    #[error("JobVertex {0} not found")]
    VertexNotFound(JobVertexId),
    #[error("Invalid subtask index for vertex {0}")]
    SubtaskNotFound(JobVertexId),
    #[error("Invalid attempt number {attempt} for subtask {subtask} of vertex {vertex}")]
    AttemptNotFound {
        vertex: JobVertexId,
        subtask: u32,
        attempt: u32,
    },
    #[error("No TaskExecutor registered under {0}.")]
    TaskManagerNotFound(String),
    #[error("{0}")]
    InvalidJobGraph(String),
    #[error("Invalid configuration: {0}")]
    Configuration(String),
    #[error("Job has already been submitted: {0}")]
    DuplicateJob(JobId),
    #[error(
        "Job cancellation failed because the job has already reached another terminal state ({0})."
    )]
    AlreadyTerminal(JobStatus),
    #[error("The cluster is shutting down")]
    ShuttingDown,
    #[error("{component} is not reachable: {reason}")]
    Unreachable { component: String, reason: String },
    #[error("Slot request for job {job_id} could not be fulfilled: {reason}")]
    NoResources { job_id: JobId, reason: String },
}

impl ClusterError {
    pub fn unreachable(component: &str) -> Self {
        ClusterError::Unreachable {
            component: component.into(),
            reason: "its actor has stopped".into(),
        }
    }
}
