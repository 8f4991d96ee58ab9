//! Read-only copies of cluster state handed out by the gateways: what a job,
//! a vertex, a subtask attempt or a TaskManager looks like at one instant.
//! The REST layer turns these into Flink's wire types; it never sees the live
//! actors' state.

use std::collections::BTreeMap;

use rivulet_common::{ExecutionAttemptId, JobId, JobVertexId};
use rivulet_runtime::job_graph::{JobType, ShipStrategy};
use rivulet_runtime::metrics::IoMetricsSnapshot;

use crate::status::{ExecutionState, JobStatus};

/// A job's state at one instant (Flink's `ArchivedExecutionGraph`).
#[derive(Debug, Clone)]
pub struct JobSnapshot {
    pub job_id: JobId,
    pub name: String,
    pub job_type: JobType,
    pub status: JobStatus,
    /// Epoch millis at which each [`JobStatus`] was entered (0 = never), by `JobStatus::index`.
    pub status_timestamps: [i64; 11],
    pub parallelism: u32,
    pub max_parallelism: i64,
    pub user_config: BTreeMap<String, String>,
    pub vertices: Vec<VertexSnapshot>,
    pub edges: Vec<EdgeSnapshot>,
    pub exceptions: Vec<ExceptionEntry>,
    /// Epoch millis of the snapshot.
    pub now: i64,
}

impl JobSnapshot {
    pub fn timestamp(&self, status: JobStatus) -> i64 {
        self.status_timestamps[status.index()]
    }

    /// Submission time: when the job entered INITIALIZING.
    pub fn start_time(&self) -> i64 {
        start_time(&self.status_timestamps)
    }

    /// When the job reached its terminal state, or -1.
    pub fn end_time(&self) -> i64 {
        end_time(self.status, &self.status_timestamps)
    }

    pub fn duration(&self) -> i64 {
        let end = self.end_time();
        (if end > 0 { end } else { self.now }) - self.start_time()
    }

    /// The latest status change.
    pub fn last_modification(&self) -> i64 {
        last_modification(&self.status_timestamps)
    }

    /// How many subtasks are in each execution state, by `ExecutionState::index`.
    pub fn task_counts(&self) -> [usize; 10] {
        let mut counts = [0; 10];
        for vertex in &self.vertices {
            for subtask in &vertex.subtasks {
                counts[subtask.current().state.index()] += 1;
            }
        }
        counts
    }

    /// How many vertices are in each aggregate state.
    pub fn vertex_state_counts(&self) -> [usize; 10] {
        let mut counts = [0; 10];
        for vertex in &self.vertices {
            counts[vertex.state().index()] += 1;
        }
        counts
    }
}

/// The lightweight summary behind `/jobs/overview` (Flink's `JobDetails`).
#[derive(Debug, Clone)]
pub struct JobOverview {
    pub job_id: JobId,
    pub name: String,
    pub job_type: JobType,
    pub status: JobStatus,
    pub start_time: i64,
    pub end_time: i64,
    pub last_modification: i64,
    pub task_counts: [usize; 10],
    pub total_tasks: usize,
    pub now: i64,
}

fn start_time(status_timestamps: &[i64; 11]) -> i64 {
    status_timestamps[JobStatus::Initializing.index()]
}

fn end_time(status: JobStatus, status_timestamps: &[i64; 11]) -> i64 {
    if status.is_globally_terminal() {
        status_timestamps[status.index()]
    } else {
        -1
    }
}

fn last_modification(status_timestamps: &[i64; 11]) -> i64 {
    status_timestamps.iter().copied().max().unwrap_or(0)
}

/// What a job overview is made of, however it was gathered.
pub struct OverviewParts {
    pub job_id: JobId,
    pub name: String,
    pub job_type: JobType,
    pub status: JobStatus,
    pub status_timestamps: [i64; 11],
    pub task_counts: [usize; 10],
    pub now: i64,
}

impl JobOverview {
    pub fn new(parts: OverviewParts) -> JobOverview {
        JobOverview {
            job_id: parts.job_id,
            name: parts.name,
            job_type: parts.job_type,
            status: parts.status,
            start_time: start_time(&parts.status_timestamps),
            end_time: end_time(parts.status, &parts.status_timestamps),
            last_modification: last_modification(&parts.status_timestamps),
            task_counts: parts.task_counts,
            total_tasks: parts.task_counts.iter().sum(),
            now: parts.now,
        }
    }

    pub fn from_snapshot(job: &JobSnapshot) -> JobOverview {
        JobOverview::new(OverviewParts {
            job_id: job.job_id,
            name: job.name.clone(),
            job_type: job.job_type,
            status: job.status,
            status_timestamps: job.status_timestamps,
            task_counts: job.task_counts(),
            now: job.now,
        })
    }

    pub fn duration(&self) -> i64 {
        (if self.end_time > 0 {
            self.end_time
        } else {
            self.now
        }) - self.start_time
    }
}

#[derive(Debug, Clone)]
pub struct VertexSnapshot {
    pub id: JobVertexId,
    pub name: String,
    pub parallelism: u32,
    pub max_parallelism: u32,
    /// Display names of the chained operators, in order.
    pub operator_names: Vec<String>,
    pub subtasks: Vec<SubtaskSnapshot>,
}

impl VertexSnapshot {
    pub fn state(&self) -> ExecutionState {
        let states: Vec<ExecutionState> = self.subtasks.iter().map(|s| s.current().state).collect();
        ExecutionState::aggregate(&states)
    }

    /// When the first subtask was deployed, or -1.
    pub fn start_time(&self) -> i64 {
        self.subtasks
            .iter()
            .map(|s| s.current().start_time())
            .filter(|t| *t > 0)
            .min()
            .unwrap_or(-1)
    }

    /// When the last subtask ended, or -1 while any is still going.
    pub fn end_time(&self) -> i64 {
        let ends: Vec<i64> = self
            .subtasks
            .iter()
            .map(|s| s.current().end_time())
            .collect();
        if ends.iter().all(|e| *e > 0) {
            ends.into_iter().max().unwrap_or(-1)
        } else {
            -1
        }
    }

    pub fn metrics(&self) -> IoMetricsSnapshot {
        self.subtasks
            .iter()
            .map(|s| s.current().metrics)
            .fold(IoMetricsSnapshot::default(), IoMetricsSnapshot::merged)
    }

    /// Subtask counts per state.
    pub fn task_counts(&self) -> [usize; 10] {
        let mut counts = [0; 10];
        for subtask in &self.subtasks {
            counts[subtask.current().state.index()] += 1;
        }
        counts
    }
}

#[derive(Debug, Clone)]
pub struct SubtaskSnapshot {
    pub index: u32,
    /// All attempts, oldest first; the last one is current.
    pub attempts: Vec<AttemptSnapshot>,
}

impl SubtaskSnapshot {
    pub fn current(&self) -> &AttemptSnapshot {
        // A subtask always has at least its first attempt.
        &self.attempts[self.attempts.len() - 1]
    }

    pub fn attempt(&self, number: u32) -> Option<&AttemptSnapshot> {
        self.attempts.iter().find(|a| a.attempt == number)
    }
}

#[derive(Debug, Clone)]
pub struct AttemptSnapshot {
    pub attempt: u32,
    pub execution_id: ExecutionAttemptId,
    pub state: ExecutionState,
    /// Epoch millis at which each [`ExecutionState`] was entered (0 = never).
    pub state_timestamps: [i64; 10],
    pub location: Option<TaskLocation>,
    pub metrics: IoMetricsSnapshot,
    pub failure: Option<String>,
    pub now: i64,
}

impl AttemptSnapshot {
    pub fn timestamp(&self, state: ExecutionState) -> i64 {
        self.state_timestamps[state.index()]
    }

    /// Flink reports the DEPLOYING time as a subtask's start, -1 before it.
    pub fn start_time(&self) -> i64 {
        let deploying = self.timestamp(ExecutionState::Deploying);
        if deploying > 0 { deploying } else { -1 }
    }

    pub fn end_time(&self) -> i64 {
        if self.state.is_terminal() {
            self.timestamp(self.state)
        } else {
            -1
        }
    }

    pub fn duration(&self) -> i64 {
        let start = self.start_time();
        if start < 0 {
            return -1;
        }
        let end = self.end_time();
        (if end > 0 { end } else { self.now }) - start
    }

    /// Milliseconds spent in each of the states a task passes through before
    /// it ends (CREATED … RUNNING), as `status-duration` reports them.
    pub fn status_durations(&self) -> Vec<(ExecutionState, i64)> {
        let path = [
            ExecutionState::Created,
            ExecutionState::Scheduled,
            ExecutionState::Deploying,
            ExecutionState::Initializing,
            ExecutionState::Running,
        ];
        let end = if self.state.is_terminal() {
            self.timestamp(self.state)
        } else {
            self.now
        };
        path.iter()
            .enumerate()
            .map(|(i, state)| {
                let entered = self.timestamp(*state);
                if entered == 0 {
                    return (*state, -1);
                }
                let left = path[i + 1..]
                    .iter()
                    .map(|s| self.timestamp(*s))
                    .find(|t| *t > 0)
                    .unwrap_or(end);
                (*state, (left - entered).max(0))
            })
            .collect()
    }
}

/// Where an attempt runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskLocation {
    pub resource_id: String,
    /// `host:dataPort`, as Flink's `endpoint`.
    pub endpoint: String,
}

#[derive(Debug, Clone)]
pub struct EdgeSnapshot {
    pub source: JobVertexId,
    pub target: JobVertexId,
    pub strategy: ShipStrategy,
}

/// One entry of the exception history.
#[derive(Debug, Clone)]
pub struct ExceptionEntry {
    pub exception_name: String,
    pub stacktrace: String,
    pub timestamp: i64,
    pub task_name: Option<String>,
    pub location: Option<TaskLocation>,
}

/// Slot and TaskManager counts behind `/overview`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResourceOverview {
    pub task_managers: usize,
    pub slots_total: usize,
    pub slots_available: usize,
}

/// Job counts behind `/overview`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobCounts {
    pub running: usize,
    pub finished: usize,
    pub cancelled: usize,
    pub failed: usize,
}

/// One allocated slot on a TaskManager.
#[derive(Debug, Clone)]
pub struct SlotSnapshot {
    pub index: u32,
    pub job_id: JobId,
    pub assigned_tasks: usize,
}

/// A TaskManager as `/taskmanagers` shows it.
#[derive(Debug, Clone)]
pub struct TaskManagerSnapshot {
    pub resource_id: String,
    pub address: String,
    pub data_port: i64,
    pub last_heartbeat: i64,
    pub slots: u32,
    pub free_slots: u32,
    pub allocated: Vec<SlotSnapshot>,
    pub hardware: crate::system_info::HardwareDescription,
    pub memory: crate::system_info::ProcessMemory,
}

impl TaskManagerSnapshot {
    pub fn assigned_tasks(&self) -> usize {
        self.allocated.iter().map(|s| s.assigned_tasks).sum()
    }
}
