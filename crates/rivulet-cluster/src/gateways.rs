//! The gateways that cross process boundaries once TaskManagers run remotely.
//!
//! In one process each is a channel handle to an actor; a remote peer will
//! implement the same trait over the network. Calls that only report
//! (task state updates) are fire-and-forget, so no actor ever waits on another
//! that might be waiting on it.

use std::sync::Arc;

use async_trait::async_trait;
use rivulet_common::{ExecutionAttemptId, JobId};
use rivulet_runtime::metrics::IoMetricsSnapshot;
use rivulet_runtime::task::TaskDescriptor;

use crate::error::ClusterError;
use crate::status::ExecutionState;
use crate::system_info::HardwareDescription;

/// One subtask attempt to run in a slot.
#[derive(Debug, Clone)]
pub struct TaskDeployment {
    pub execution_id: ExecutionAttemptId,
    pub attempt: u32,
    pub slot_index: u32,
    pub descriptor: TaskDescriptor,
}

/// A failure as the exception history shows it.
#[derive(Debug, Clone)]
pub struct FailureInfo {
    pub exception_name: String,
    pub message: String,
}

/// A task's state change, reported by a TaskExecutor to the JobMaster.
#[derive(Debug, Clone)]
pub struct TaskStateUpdate {
    pub execution_id: ExecutionAttemptId,
    pub state: ExecutionState,
    pub failure: Option<FailureInfo>,
    /// Final I/O metrics, sent with the terminal state.
    pub metrics: Option<IoMetricsSnapshot>,
}

/// What a slot on a TaskExecutor is doing.
#[derive(Debug, Clone)]
pub struct SlotReport {
    pub slot_index: u32,
    pub job_id: JobId,
    pub running_tasks: usize,
}

#[async_trait]
pub trait TaskExecutorGateway: Send + Sync {
    fn resource_id(&self) -> &str;

    async fn submit_task(
        &self,
        deployment: TaskDeployment,
        job_master: Arc<dyn JobMasterGateway>,
    ) -> Result<(), ClusterError>;

    async fn cancel_task(&self, execution_id: ExecutionAttemptId) -> Result<(), ClusterError>;

    /// Current I/O metrics of the given attempts that are still running here.
    async fn task_metrics(
        &self,
        execution_ids: Vec<ExecutionAttemptId>,
    ) -> Result<Vec<(ExecutionAttemptId, IoMetricsSnapshot)>, ClusterError>;

    /// The job ended: drop whatever this TaskExecutor still holds for it.
    async fn release_job(&self, job_id: JobId) -> Result<(), ClusterError>;

    async fn slot_report(&self) -> Result<Vec<SlotReport>, ClusterError>;

    /// The ResourceManager dropped this TaskExecutor: cancel everything.
    async fn disconnect(&self, reason: String);
}

/// What a TaskExecutor tells the ResourceManager when it registers.
#[derive(Clone)]
pub struct TaskExecutorRegistration {
    pub resource_id: String,
    /// Flink's RPC `path` of the TaskExecutor.
    pub address: String,
    pub host: String,
    /// The port for data exchange, -1 when data moves only in-process.
    pub data_port: i64,
    pub slots: u32,
    pub hardware: HardwareDescription,
    pub gateway: Arc<dyn TaskExecutorGateway>,
}

#[async_trait]
pub trait ResourceManagerGateway: Send + Sync {
    async fn register_task_executor(
        &self,
        registration: TaskExecutorRegistration,
    ) -> Result<(), ClusterError>;

    /// Fails with [`ClusterError::TaskManagerNotFound`] if the TaskExecutor
    /// was dropped and must register again.
    async fn heartbeat_from_task_executor(&self, resource_id: &str) -> Result<(), ClusterError>;
}

pub trait JobMasterGateway: Send + Sync {
    fn update_task_execution_state(&self, update: TaskStateUpdate);

    /// A TaskManager holding this job's slots is gone.
    fn task_manager_lost(&self, resource_id: String, reason: String);
}
