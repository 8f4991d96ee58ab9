//! Flink's job and execution states, with their upper-case wire names.

use serde::{Deserialize, Serialize};

/// Flink's `JobStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum JobStatus {
    Initializing,
    Created,
    Running,
    Failing,
    Failed,
    Cancelling,
    Canceled,
    Finished,
    Restarting,
    Suspended,
    Reconciling,
}

impl JobStatus {
    pub const ALL: [JobStatus; 11] = [
        JobStatus::Initializing,
        JobStatus::Created,
        JobStatus::Running,
        JobStatus::Failing,
        JobStatus::Failed,
        JobStatus::Cancelling,
        JobStatus::Canceled,
        JobStatus::Finished,
        JobStatus::Restarting,
        JobStatus::Suspended,
        JobStatus::Reconciling,
    ];

    /// Terminal for the whole cluster: the job will never run again.
    pub fn is_globally_terminal(self) -> bool {
        matches!(
            self,
            JobStatus::Failed | JobStatus::Canceled | JobStatus::Finished
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            JobStatus::Initializing => "INITIALIZING",
            JobStatus::Created => "CREATED",
            JobStatus::Running => "RUNNING",
            JobStatus::Failing => "FAILING",
            JobStatus::Failed => "FAILED",
            JobStatus::Cancelling => "CANCELLING",
            JobStatus::Canceled => "CANCELED",
            JobStatus::Finished => "FINISHED",
            JobStatus::Restarting => "RESTARTING",
            JobStatus::Suspended => "SUSPENDED",
            JobStatus::Reconciling => "RECONCILING",
        }
    }

    pub fn index(self) -> usize {
        JobStatus::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }
}

impl std::fmt::Display for JobStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Flink's `ExecutionState` of one subtask attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ExecutionState {
    Created,
    Scheduled,
    Deploying,
    Running,
    Finished,
    Canceling,
    Canceled,
    Failed,
    Reconciling,
    Initializing,
}

impl ExecutionState {
    pub const ALL: [ExecutionState; 10] = [
        ExecutionState::Created,
        ExecutionState::Scheduled,
        ExecutionState::Deploying,
        ExecutionState::Running,
        ExecutionState::Finished,
        ExecutionState::Canceling,
        ExecutionState::Canceled,
        ExecutionState::Failed,
        ExecutionState::Reconciling,
        ExecutionState::Initializing,
    ];

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ExecutionState::Finished | ExecutionState::Canceled | ExecutionState::Failed
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            ExecutionState::Created => "CREATED",
            ExecutionState::Scheduled => "SCHEDULED",
            ExecutionState::Deploying => "DEPLOYING",
            ExecutionState::Running => "RUNNING",
            ExecutionState::Finished => "FINISHED",
            ExecutionState::Canceling => "CANCELING",
            ExecutionState::Canceled => "CANCELED",
            ExecutionState::Failed => "FAILED",
            ExecutionState::Reconciling => "RECONCILING",
            ExecutionState::Initializing => "INITIALIZING",
        }
    }

    pub fn index(self) -> usize {
        ExecutionState::ALL
            .iter()
            .position(|s| *s == self)
            .unwrap_or(0)
    }

    /// Flink's aggregate state of a job vertex from the states of its subtasks.
    pub fn aggregate(states: &[ExecutionState]) -> ExecutionState {
        let count = |s: ExecutionState| states.iter().filter(|x| **x == s).count();
        if !states.is_empty() && count(ExecutionState::Finished) == states.len() {
            ExecutionState::Finished
        } else if count(ExecutionState::Canceling) > 0 {
            ExecutionState::Canceling
        } else if count(ExecutionState::Canceled) > 0 {
            ExecutionState::Canceled
        } else if count(ExecutionState::Failed) > 0 {
            ExecutionState::Failed
        } else if count(ExecutionState::Running) > 0 || count(ExecutionState::Finished) > 0 {
            ExecutionState::Running
        } else if count(ExecutionState::Initializing) > 0 {
            ExecutionState::Initializing
        } else if count(ExecutionState::Deploying) > 0 {
            ExecutionState::Deploying
        } else if count(ExecutionState::Scheduled) > 0 {
            ExecutionState::Scheduled
        } else {
            ExecutionState::Created
        }
    }
}

impl std::fmt::Display for ExecutionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
