//! The JobMaster: runs one job.
//!
//! It owns the job's [`ExecutionGraph`], asks the ResourceManager for the slots
//! the job needs (all vertices share slots, so the largest parallelism), deploys
//! every subtask to the TaskExecutor of its slot, and turns the tasks' state
//! reports into the job's status: FINISHED when all finished, FAILING then
//! FAILED when one fails (the others are cancelled), CANCELLING then CANCELED
//! when cancelled. Requests that need TaskExecutors (live metrics) are answered
//! from spawned tasks so the actor never waits on a peer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rivulet_common::clock::now_millis;
use rivulet_common::{ExecutionAttemptId, JobId};
use rivulet_runtime::job_graph::JobGraph;
use rivulet_runtime::metrics::IoMetricsSnapshot;
use rivulet_runtime::task::{OutputDescriptor, TaskDescriptor};
use tokio::sync::{mpsc, oneshot};

use crate::error::ClusterError;
use crate::execution_graph::{ExecutionGraph, ExecutionPosition};
use crate::gateways::{JobMasterGateway, TaskDeployment, TaskExecutorGateway, TaskStateUpdate};
use crate::resource_manager::{ResourceManagerHandle, SlotGrant};
use crate::snapshot::{ExceptionEntry, JobOverview, JobSnapshot, TaskLocation};
use crate::status::{ExecutionState, JobStatus};

/// How much a job snapshot must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotDetail {
    /// States, timestamps, plan and exceptions; metrics only of ended tasks.
    StateOnly,
    /// Also the current I/O metrics of running tasks, asked of their TaskExecutors.
    WithLiveMetrics,
}

/// Who hears about a job's status (the Dispatcher).
pub trait JobStatusListener: Send + Sync {
    fn job_status_changed(&self, job_id: JobId, status: JobStatus);
    /// The job reached a globally terminal state; this is its final snapshot.
    fn job_reached_terminal(&self, snapshot: JobSnapshot);
}

enum Message {
    Start,
    SlotsGranted(Result<Vec<SlotGrant>, ClusterError>),
    TaskState(TaskStateUpdate),
    DeployFailed(ExecutionAttemptId, ClusterError),
    TaskManagerLost(String, String),
    Cancel(oneshot::Sender<Result<(), ClusterError>>),
    Snapshot(SnapshotDetail, oneshot::Sender<JobSnapshot>),
    Overview(oneshot::Sender<JobOverview>),
    Stop,
}

/// The gateway of a JobMaster.
#[derive(Clone)]
pub struct JobMasterHandle {
    sender: mpsc::UnboundedSender<Message>,
}

impl JobMasterGateway for JobMasterHandle {
    fn update_task_execution_state(&self, update: TaskStateUpdate) {
        let _ = self.sender.send(Message::TaskState(update));
    }

    fn task_manager_lost(&self, resource_id: String, reason: String) {
        let _ = self
            .sender
            .send(Message::TaskManagerLost(resource_id, reason));
    }
}

impl JobMasterHandle {
    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Message,
    ) -> Result<T, ClusterError> {
        crate::actor::ask(&self.sender, "JobMaster", make).await
    }

    pub async fn cancel(&self) -> Result<(), ClusterError> {
        self.ask(Message::Cancel).await?
    }

    pub async fn snapshot(&self, detail: SnapshotDetail) -> Result<JobSnapshot, ClusterError> {
        self.ask(|reply| Message::Snapshot(detail, reply)).await
    }

    pub async fn overview(&self) -> Result<JobOverview, ClusterError> {
        self.ask(Message::Overview).await
    }

    /// Ends the actor once the Dispatcher has archived the job.
    pub fn stop(&self) {
        let _ = self.sender.send(Message::Stop);
    }
}

/// Settings a JobMaster takes from the cluster configuration.
#[derive(Debug, Clone, Copy)]
pub struct JobMasterSettings {
    pub slot_request_timeout: Duration,
}

/// Starts the JobMaster of `graph`, submitted at `submitted_at`.
pub fn start_job_master(
    graph: JobGraph,
    submitted_at: i64,
    resource_manager: ResourceManagerHandle,
    listener: Arc<dyn JobStatusListener>,
    settings: JobMasterSettings,
) -> JobMasterHandle {
    let (sender, mailbox) = mpsc::unbounded_channel();
    let handle = JobMasterHandle { sender };
    let actor = JobMasterActor {
        graph: ExecutionGraph::new(Arc::new(graph), submitted_at),
        resource_manager,
        listener,
        me: handle.clone(),
        settings,
        task_executors: HashMap::new(),
        awaiting_slots: false,
        finalized: false,
    };
    let _ = handle.sender.send(Message::Start);
    tokio::spawn(actor.run(mailbox));
    handle
}

struct JobMasterActor {
    graph: ExecutionGraph,
    resource_manager: ResourceManagerHandle,
    listener: Arc<dyn JobStatusListener>,
    me: JobMasterHandle,
    settings: JobMasterSettings,
    task_executors: HashMap<ExecutionAttemptId, Arc<dyn TaskExecutorGateway>>,
    awaiting_slots: bool,
    finalized: bool,
}

impl JobMasterActor {
    fn job_id(&self) -> JobId {
        self.graph.job_graph().job_id
    }

    async fn run(mut self, mut mailbox: mpsc::UnboundedReceiver<Message>) {
        while let Some(message) = mailbox.recv().await {
            if matches!(message, Message::Stop) {
                break;
            }
            self.handle(message);
        }
    }

    fn handle(&mut self, message: Message) {
        match message {
            Message::Start => self.start(),
            Message::SlotsGranted(result) => self.slots_granted(result),
            Message::TaskState(update) => self.task_state(update),
            Message::DeployFailed(id, error) => self.fail_execution(
                id,
                "rivulet.cluster.DeploymentError",
                format!("Could not deploy task: {error}"),
            ),
            Message::TaskManagerLost(resource_id, reason) => {
                self.task_manager_lost(&resource_id, reason)
            }
            Message::Cancel(reply) => {
                let _ = reply.send(self.cancel());
            }
            Message::Snapshot(SnapshotDetail::StateOnly, reply) => {
                let _ = reply.send(self.graph.snapshot(&HashMap::new()));
            }
            Message::Snapshot(SnapshotDetail::WithLiveMetrics, reply) => self.snapshot(reply),
            Message::Overview(reply) => {
                let _ = reply.send(self.graph.overview());
            }
            Message::Stop => {}
        }
    }

    fn set_status(&mut self, status: JobStatus) {
        if self.graph.status() != status {
            self.graph.transition(status);
            self.listener.job_status_changed(self.job_id(), status);
        }
    }

    fn start(&mut self) {
        self.set_status(JobStatus::Created);
        self.set_status(JobStatus::Running);
        for (_, id, _) in self.graph.current_executions() {
            self.graph.set_state(id, ExecutionState::Scheduled);
        }
        let job_id = self.job_id();
        let wanted = self.graph.job_graph().required_slots();
        let answer = self
            .resource_manager
            .request_slots(job_id, wanted, Arc::new(self.me.clone()));
        self.awaiting_slots = true;
        let timeout = self.settings.slot_request_timeout;
        let me = self.me.clone();
        let resource_manager = self.resource_manager.clone();
        tokio::spawn(async move {
            let result = match tokio::time::timeout(timeout, answer).await {
                Ok(Ok(result)) => result,
                Ok(Err(_)) => Err(ClusterError::unreachable("ResourceManager")),
                Err(_) => {
                    resource_manager.cancel_slot_request(job_id);
                    Err(ClusterError::NoResources {
                        job_id,
                        reason: format!(
                            "Could not acquire the minimum required resources: {wanted} slots within slot.request.timeout of {} ms.",
                            timeout.as_millis()
                        ),
                    })
                }
            };
            let _ = me.sender.send(Message::SlotsGranted(result));
        });
    }

    fn slots_granted(&mut self, result: Result<Vec<SlotGrant>, ClusterError>) {
        self.awaiting_slots = false;
        let grants = match result {
            Ok(grants) => grants,
            Err(error) => {
                if self.graph.status() == JobStatus::Running {
                    self.graph.record_exception(ExceptionEntry {
                        exception_name: "rivulet.cluster.NoResourceAvailableException".into(),
                        stacktrace: error.to_string(),
                        timestamp: now_millis(),
                        task_name: None,
                        location: None,
                    });
                    self.set_status(JobStatus::Failing);
                    self.cancel_all_executions();
                    self.check_terminal();
                }
                return;
            }
        };
        if self.graph.status() != JobStatus::Running {
            self.resource_manager.release_slots(self.job_id());
            return;
        }
        let graph = self.graph.job_graph().clone();
        for (position, id, state) in self.graph.current_executions() {
            if state != ExecutionState::Scheduled {
                continue;
            }
            let Some(grant) = grants.get(position.subtask) else {
                self.fail_execution(
                    id,
                    "rivulet.cluster.DeploymentError",
                    "no slot was granted for this subtask".into(),
                );
                continue;
            };
            self.graph.set_state(id, ExecutionState::Deploying);
            self.graph.set_location(
                id,
                TaskLocation {
                    resource_id: grant.resource_id.clone(),
                    endpoint: grant.endpoint.clone(),
                },
            );
            self.task_executors.insert(id, grant.gateway.clone());
            let deployment = TaskDeployment {
                execution_id: id,
                attempt: 0,
                slot_index: grant.slot_index,
                descriptor: task_descriptor(&graph, position),
            };
            let gateway = grant.gateway.clone();
            let me = self.me.clone();
            tokio::spawn(async move {
                if let Err(error) = gateway.submit_task(deployment, Arc::new(me.clone())).await {
                    let _ = me.sender.send(Message::DeployFailed(id, error));
                }
            });
        }
    }

    fn task_state(&mut self, update: TaskStateUpdate) {
        if let Some(metrics) = update.metrics
            && self
                .graph
                .state_of(update.execution_id)
                .is_some_and(|s| !s.is_terminal())
        {
            self.graph.set_final_metrics(update.execution_id, metrics);
        }
        // A task failing while it is cancelled is cancelled (`set_state`).
        let cancelling =
            self.graph.state_of(update.execution_id) == Some(ExecutionState::Canceling);
        if update.state == ExecutionState::Failed && !cancelling {
            let failure = update
                .failure
                .unwrap_or_else(|| crate::gateways::FailureInfo {
                    exception_name: "rivulet.runtime.TaskFailure".into(),
                    message: "the task failed without a cause".into(),
                });
            self.fail_execution(
                update.execution_id,
                &failure.exception_name,
                failure.message,
            );
            return;
        }
        if self.graph.set_state(update.execution_id, update.state) {
            self.check_terminal();
        }
    }

    /// Marks one execution FAILED; the first failure fails the job.
    fn fail_execution(&mut self, id: ExecutionAttemptId, exception_name: &str, message: String) {
        if !self.graph.set_state(id, ExecutionState::Failed) {
            return;
        }
        self.graph.set_failure(id, message.clone());
        if matches!(self.graph.status(), JobStatus::Running | JobStatus::Created) {
            let task_name = self.graph.position_of(id).map(|p| self.graph.task_name(p));
            self.graph.record_exception(ExceptionEntry {
                exception_name: exception_name.to_string(),
                stacktrace: format!("{exception_name}: {message}"),
                timestamp: now_millis(),
                task_name,
                location: self.graph.location_of(id),
            });
            self.set_status(JobStatus::Failing);
            self.cancel_all_executions();
        }
        self.check_terminal();
    }

    fn task_manager_lost(&mut self, resource_id: &str, reason: String) {
        let lost: Vec<ExecutionAttemptId> = self
            .graph
            .current_executions()
            .into_iter()
            .filter(|(_, id, state)| {
                !state.is_terminal()
                    && self
                        .graph
                        .location_of(*id)
                        .is_some_and(|l| l.resource_id == resource_id)
            })
            .map(|(_, id, _)| id)
            .collect();
        for id in lost {
            self.fail_execution(
                id,
                "rivulet.cluster.TaskManagerLostException",
                reason.clone(),
            );
        }
    }

    fn cancel(&mut self) -> Result<(), ClusterError> {
        match self.graph.status() {
            JobStatus::Canceled | JobStatus::Cancelling => Ok(()),
            status if status.is_globally_terminal() => Err(ClusterError::AlreadyTerminal(status)),
            _ => {
                self.set_status(JobStatus::Cancelling);
                self.cancel_all_executions();
                self.check_terminal();
                Ok(())
            }
        }
    }

    fn cancel_all_executions(&mut self) {
        if self.awaiting_slots {
            self.resource_manager.cancel_slot_request(self.job_id());
        }
        for (_, id, state) in self.graph.current_executions() {
            match state {
                ExecutionState::Created | ExecutionState::Scheduled => {
                    self.graph.set_state(id, ExecutionState::Canceled);
                }
                s if s.is_terminal() || s == ExecutionState::Canceling => {}
                _ => {
                    self.graph.set_state(id, ExecutionState::Canceling);
                    if let Some(gateway) = self.task_executors.get(&id).cloned() {
                        tokio::spawn(async move {
                            let _ = gateway.cancel_task(id).await;
                        });
                    }
                }
            }
        }
    }

    fn check_terminal(&mut self) {
        if self.finalized {
            return;
        }
        let Some(status) = self.graph.terminal_status() else {
            return;
        };
        self.finalized = true;
        self.set_status(status);
        let job_id = self.job_id();
        self.resource_manager.release_slots(job_id);
        let mut released: Vec<Arc<dyn TaskExecutorGateway>> = Vec::new();
        for gateway in self.task_executors.values() {
            if !released
                .iter()
                .any(|g| g.resource_id() == gateway.resource_id())
            {
                released.push(gateway.clone());
            }
        }
        tokio::spawn(async move {
            for gateway in released {
                let _ = gateway.release_job(job_id).await;
            }
        });
        self.listener
            .job_reached_terminal(self.graph.snapshot(&HashMap::new()));
    }

    fn snapshot(&self, reply: oneshot::Sender<JobSnapshot>) {
        let mut snapshot = self.graph.snapshot(&HashMap::new());
        let mut wanted: HashMap<String, (Arc<dyn TaskExecutorGateway>, Vec<ExecutionAttemptId>)> =
            HashMap::new();
        for (_, id, state) in self.graph.current_executions() {
            if state.is_terminal() {
                continue;
            }
            if let Some(gateway) = self.task_executors.get(&id) {
                wanted
                    .entry(gateway.resource_id().to_string())
                    .or_insert_with(|| (gateway.clone(), Vec::new()))
                    .1
                    .push(id);
            }
        }
        if wanted.is_empty() {
            let _ = reply.send(snapshot);
            return;
        }
        tokio::spawn(async move {
            let requests = wanted
                .into_values()
                .map(|(gateway, ids)| async move { gateway.task_metrics(ids).await });
            let answers =
                tokio::time::timeout(Duration::from_secs(2), futures::future::join_all(requests))
                    .await
                    .unwrap_or_default();
            let live: HashMap<ExecutionAttemptId, IoMetricsSnapshot> =
                answers.into_iter().flatten().flatten().collect();
            for vertex in snapshot.vertices.iter_mut() {
                for subtask in vertex.subtasks.iter_mut() {
                    for attempt in subtask.attempts.iter_mut() {
                        if let Some(metrics) = live.get(&attempt.execution_id) {
                            attempt.metrics = *metrics;
                        }
                    }
                }
            }
            let _ = reply.send(snapshot);
        });
    }
}

/// Builds what a TaskExecutor needs to run subtask `position`.
fn task_descriptor(graph: &JobGraph, position: ExecutionPosition) -> TaskDescriptor {
    let vertex = &graph.vertices[position.vertex];
    let (input_offsets, num_input_channels) = graph.input_channel_offsets(position.vertex);
    let outputs = graph
        .edges
        .iter()
        .filter(|e| e.source == position.vertex)
        .map(|edge| {
            let target = &graph.vertices[edge.target];
            let (offsets, _) = graph.input_channel_offsets(edge.target);
            let slot = graph
                .inputs_of(edge.target)
                .position(|e| std::ptr::eq(e, edge))
                .unwrap_or(0);
            OutputDescriptor {
                target_vertex: target.id,
                target_parallelism: target.parallelism,
                target_max_parallelism: target.max_parallelism,
                strategy: edge.strategy,
                key_column: edge.key_column,
                channel_offset: offsets.get(slot).copied().unwrap_or(0),
            }
        })
        .collect();
    TaskDescriptor {
        job_id: graph.job_id,
        vertex_id: vertex.id,
        task_name: vertex.name.clone(),
        subtask_index: position.subtask as u32,
        parallelism: vertex.parallelism,
        max_parallelism: vertex.max_parallelism,
        operators: vertex.operators.clone(),
        input_schema: vertex.input_schema.clone(),
        num_input_channels,
        input_offsets,
        outputs,
    }
}
