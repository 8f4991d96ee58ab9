//! The TaskExecutor: runs subtasks in its slots and reports their states.
//!
//! The actor owns the table of running tasks. Each task runs on the data-plane
//! runtime (apart from the control plane and the REST server), inside a guard
//! task that turns a panic into a FAILED report. A background loop heartbeats
//! to the ResourceManager and registers again if it was dropped.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rivulet_common::{ExecutionAttemptId, JobId};
use rivulet_runtime::channel::LocalChannels;
use rivulet_runtime::metrics::{IoMetricsSnapshot, TaskIoMetrics};
use rivulet_runtime::task::{TaskOutcome, TaskPhase, run_task};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::error::ClusterError;
use crate::gateways::{
    FailureInfo, JobMasterGateway, ResourceManagerGateway, SlotReport, TaskDeployment,
    TaskExecutorGateway, TaskExecutorRegistration, TaskStateUpdate,
};
use crate::status::ExecutionState;
use crate::system_info;

/// Static facts of one TaskExecutor.
#[derive(Debug, Clone)]
pub struct TaskExecutorConfig {
    pub resource_id: String,
    pub address: String,
    pub host: String,
    pub slots: u32,
    pub heartbeat_interval: Duration,
}

enum Message {
    Submit {
        deployment: TaskDeployment,
        job_master: Arc<dyn JobMasterGateway>,
        reply: oneshot::Sender<Result<(), ClusterError>>,
    },
    Cancel(ExecutionAttemptId),
    Metrics {
        ids: Vec<ExecutionAttemptId>,
        reply: oneshot::Sender<Vec<(ExecutionAttemptId, IoMetricsSnapshot)>>,
    },
    ReleaseJob(JobId),
    SlotReport(oneshot::Sender<Vec<SlotReport>>),
    Disconnect(String),
    TaskEnded(ExecutionAttemptId),
}

struct RunningTask {
    job_id: JobId,
    slot_index: u32,
    cancel: CancellationToken,
    metrics: Arc<TaskIoMetrics>,
}

/// The gateway of an in-process TaskExecutor.
#[derive(Clone)]
pub struct TaskExecutorHandle {
    resource_id: Arc<str>,
    sender: mpsc::UnboundedSender<Message>,
}

impl TaskExecutorHandle {
    fn send(&self, message: Message) -> Result<(), ClusterError> {
        self.sender
            .send(message)
            .map_err(|_| ClusterError::unreachable(&format!("TaskExecutor {}", self.resource_id)))
    }
}

#[async_trait]
impl TaskExecutorGateway for TaskExecutorHandle {
    fn resource_id(&self) -> &str {
        &self.resource_id
    }

    async fn submit_task(
        &self,
        deployment: TaskDeployment,
        job_master: Arc<dyn JobMasterGateway>,
    ) -> Result<(), ClusterError> {
        let (reply, answer) = oneshot::channel();
        self.send(Message::Submit {
            deployment,
            job_master,
            reply,
        })?;
        answer
            .await
            .map_err(|_| ClusterError::unreachable("TaskExecutor"))?
    }

    async fn cancel_task(&self, execution_id: ExecutionAttemptId) -> Result<(), ClusterError> {
        self.send(Message::Cancel(execution_id))
    }

    async fn task_metrics(
        &self,
        ids: Vec<ExecutionAttemptId>,
    ) -> Result<Vec<(ExecutionAttemptId, IoMetricsSnapshot)>, ClusterError> {
        let (reply, answer) = oneshot::channel();
        self.send(Message::Metrics { ids, reply })?;
        answer
            .await
            .map_err(|_| ClusterError::unreachable("TaskExecutor"))
    }

    async fn release_job(&self, job_id: JobId) -> Result<(), ClusterError> {
        self.send(Message::ReleaseJob(job_id))
    }

    async fn slot_report(&self) -> Result<Vec<SlotReport>, ClusterError> {
        let (reply, answer) = oneshot::channel();
        self.send(Message::SlotReport(reply))?;
        answer
            .await
            .map_err(|_| ClusterError::unreachable("TaskExecutor"))
    }

    async fn disconnect(&self, reason: String) {
        let _ = self.send(Message::Disconnect(reason));
    }
}

/// A running TaskExecutor: its gateway and the means to stop it.
pub struct TaskExecutor {
    pub handle: TaskExecutorHandle,
    actor: tokio::task::JoinHandle<()>,
    heartbeats: tokio::task::JoinHandle<()>,
    stop: CancellationToken,
}

impl TaskExecutor {
    /// Starts the actor and registers with the ResourceManager.
    pub async fn start(
        config: TaskExecutorConfig,
        resource_manager: Arc<dyn ResourceManagerGateway>,
        channels: Arc<LocalChannels>,
        data_plane: tokio::runtime::Handle,
    ) -> Result<TaskExecutor, ClusterError> {
        let (sender, mailbox) = mpsc::unbounded_channel();
        let handle = TaskExecutorHandle {
            resource_id: Arc::from(config.resource_id.as_str()),
            sender: sender.clone(),
        };
        let stop = CancellationToken::new();
        let actor = TaskExecutorActor {
            tasks: HashMap::new(),
            cancelled_early: HashSet::new(),
            channels,
            data_plane,
            mailbox_sender: sender,
            stop: stop.clone(),
        };
        let actor = tokio::spawn(actor.run(mailbox));
        let registration = TaskExecutorRegistration {
            resource_id: config.resource_id.clone(),
            address: config.address.clone(),
            host: config.host.clone(),
            data_port: -1,
            slots: config.slots,
            hardware: system_info::hardware(),
            gateway: Arc::new(handle.clone()),
        };
        resource_manager
            .register_task_executor(registration.clone())
            .await?;
        let heartbeats = tokio::spawn(heartbeat_loop(
            registration,
            resource_manager,
            config.heartbeat_interval,
            stop.clone(),
        ));
        Ok(TaskExecutor {
            handle,
            actor,
            heartbeats,
            stop,
        })
    }

    /// Stops heartbeating and cancels every task; used at shutdown.
    pub async fn stop(self) {
        self.handle
            .disconnect("The TaskExecutor is shutting down.".into())
            .await;
        self.stop.cancel();
        let _ = self.heartbeats.await;
        let _ = self.actor.await;
    }

    /// Simulates a crash: heartbeats and the actor stop at once and running
    /// tasks are cancelled without telling anybody, as if the process died.
    pub fn crash(self) {
        self.stop.cancel();
        self.heartbeats.abort();
    }
}

async fn heartbeat_loop(
    registration: TaskExecutorRegistration,
    resource_manager: Arc<dyn ResourceManagerGateway>,
    interval: Duration,
    stop: CancellationToken,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticker.tick() => {}
        }
        match resource_manager
            .heartbeat_from_task_executor(&registration.resource_id)
            .await
        {
            Ok(()) => {}
            Err(ClusterError::TaskManagerNotFound(_)) => {
                tracing::warn!(tm = %registration.resource_id, "dropped by the ResourceManager; registering again");
                if let Err(e) = resource_manager
                    .register_task_executor(registration.clone())
                    .await
                {
                    tracing::warn!(error = %e, "registration failed");
                }
            }
            Err(e) => tracing::warn!(error = %e, "heartbeat to the ResourceManager failed"),
        }
    }
}

struct TaskExecutorActor {
    tasks: HashMap<ExecutionAttemptId, RunningTask>,
    cancelled_early: HashSet<ExecutionAttemptId>,
    channels: Arc<LocalChannels>,
    data_plane: tokio::runtime::Handle,
    mailbox_sender: mpsc::UnboundedSender<Message>,
    stop: CancellationToken,
}

impl TaskExecutorActor {
    async fn run(mut self, mut mailbox: mpsc::UnboundedReceiver<Message>) {
        loop {
            let message = tokio::select! {
                _ = self.stop.cancelled() => break,
                message = mailbox.recv() => match message {
                    Some(m) => m,
                    None => break,
                },
            };
            self.handle(message);
        }
        for task in self.tasks.values() {
            task.cancel.cancel();
        }
    }

    fn handle(&mut self, message: Message) {
        match message {
            Message::Submit {
                deployment,
                job_master,
                reply,
            } => {
                self.submit(deployment, job_master);
                let _ = reply.send(Ok(()));
            }
            Message::Cancel(id) => match self.tasks.get(&id) {
                Some(task) => task.cancel.cancel(),
                // The cancel overtook the submission: remember it.
                None => {
                    self.cancelled_early.insert(id);
                }
            },
            Message::Metrics { ids, reply } => {
                let metrics = ids
                    .into_iter()
                    .filter_map(|id| self.tasks.get(&id).map(|t| (id, t.metrics.snapshot())))
                    .collect();
                let _ = reply.send(metrics);
            }
            Message::ReleaseJob(job_id) => {
                for task in self.tasks.values().filter(|t| t.job_id == job_id) {
                    task.cancel.cancel();
                }
                self.channels.release_job(job_id);
            }
            Message::SlotReport(reply) => {
                let mut slots: HashMap<u32, SlotReport> = HashMap::new();
                for task in self.tasks.values() {
                    slots
                        .entry(task.slot_index)
                        .or_insert(SlotReport {
                            slot_index: task.slot_index,
                            job_id: task.job_id,
                            running_tasks: 0,
                        })
                        .running_tasks += 1;
                }
                let _ = reply.send(slots.into_values().collect());
            }
            Message::Disconnect(reason) => {
                tracing::info!(%reason, "cancelling all tasks");
                for task in self.tasks.values() {
                    task.cancel.cancel();
                }
            }
            Message::TaskEnded(id) => {
                self.tasks.remove(&id);
            }
        }
    }

    fn submit(&mut self, deployment: TaskDeployment, job_master: Arc<dyn JobMasterGateway>) {
        let execution_id = deployment.execution_id;
        if self.cancelled_early.remove(&execution_id) {
            job_master.update_task_execution_state(TaskStateUpdate {
                execution_id,
                state: ExecutionState::Canceled,
                failure: None,
                metrics: None,
            });
            return;
        }
        let cancel = self.stop.child_token();
        let metrics = Arc::new(TaskIoMetrics::default());
        self.tasks.insert(
            execution_id,
            RunningTask {
                job_id: deployment.descriptor.job_id,
                slot_index: deployment.slot_index,
                cancel: cancel.clone(),
                metrics: metrics.clone(),
            },
        );
        let channels = self.channels.clone();
        let mailbox = self.mailbox_sender.clone();
        let crash = self.stop.clone();
        let task_name = format!(
            "{} ({}/{})",
            deployment.descriptor.task_name,
            deployment.descriptor.subtask_index + 1,
            deployment.descriptor.parallelism
        );
        let reporter = job_master.clone();
        let run = run_task(
            deployment.descriptor,
            channels,
            metrics.clone(),
            cancel,
            move |phase| {
                let state = match phase {
                    TaskPhase::Initializing => ExecutionState::Initializing,
                    TaskPhase::Running => ExecutionState::Running,
                };
                reporter.update_task_execution_state(TaskStateUpdate {
                    execution_id,
                    state,
                    failure: None,
                    metrics: None,
                });
            },
        );
        let data_plane = self.data_plane.clone();
        self.data_plane.spawn(async move {
            let outcome = data_plane.spawn(run).await;
            let (state, failure) = match outcome {
                Ok(Ok(TaskOutcome::Finished)) => (ExecutionState::Finished, None),
                Ok(Ok(TaskOutcome::Canceled)) => (ExecutionState::Canceled, None),
                Ok(Err(error)) => (
                    ExecutionState::Failed,
                    Some(FailureInfo {
                        exception_name: error_kind(&error).into(),
                        message: format!("{task_name}: {error}"),
                    }),
                ),
                Err(join_error) => (
                    ExecutionState::Failed,
                    Some(FailureInfo {
                        exception_name: "rivulet.TaskPanic".into(),
                        message: format!("{task_name} panicked: {join_error}"),
                    }),
                ),
            };
            // A crashed TaskExecutor reports nothing: its peers learn of it
            // through the missing heartbeats.
            if !crash.is_cancelled() {
                job_master.update_task_execution_state(TaskStateUpdate {
                    execution_id,
                    state,
                    failure,
                    metrics: Some(metrics.snapshot()),
                });
            }
            let _ = mailbox.send(Message::TaskEnded(execution_id));
        });
    }
}

fn error_kind(error: &rivulet_runtime::RuntimeError) -> &'static str {
    use rivulet_runtime::RuntimeError::*;
    match error {
        InvalidJobGraph(_) => "rivulet.runtime.InvalidJobGraph",
        Operator { .. } => "rivulet.runtime.OperatorError",
        Arrow { .. } => "rivulet.runtime.ArrowError",
        Io { .. } => "rivulet.runtime.IoError",
        ChannelClosed(_) => "rivulet.runtime.ChannelClosed",
        State(_) => "rivulet.runtime.StateError",
    }
}
