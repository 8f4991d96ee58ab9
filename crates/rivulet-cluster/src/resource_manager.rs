//! The ResourceManager: the registry of TaskExecutors and their slots.
//!
//! TaskExecutors register and heartbeat; one that stays silent longer than
//! `heartbeat.timeout` is dropped, and the JobMasters holding its slots are told
//! so their tasks fail. JobMasters ask for all the slots a job needs at once; a
//! request that cannot be met waits in line until slots free up.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rivulet_common::JobId;
use rivulet_common::clock::now_millis;
use tokio::sync::{mpsc, oneshot, watch};

use crate::error::ClusterError;
use crate::gateways::{
    JobMasterGateway, ResourceManagerGateway, TaskExecutorGateway, TaskExecutorRegistration,
};
use crate::snapshot::{ResourceOverview, SlotSnapshot, TaskManagerSnapshot};
use crate::system_info;

/// A slot handed to a job.
#[derive(Clone)]
pub struct SlotGrant {
    pub resource_id: String,
    pub slot_index: u32,
    pub endpoint: String,
    pub gateway: Arc<dyn TaskExecutorGateway>,
}

type SlotReply = oneshot::Sender<Result<Vec<SlotGrant>, ClusterError>>;

enum Message {
    Register(TaskExecutorRegistration, oneshot::Sender<()>),
    Heartbeat(String, oneshot::Sender<Result<(), ClusterError>>),
    RequestSlots {
        job_id: JobId,
        count: u32,
        job_master: Arc<dyn JobMasterGateway>,
        reply: SlotReply,
    },
    CancelRequest(JobId),
    ReleaseSlots(JobId),
    Overview(oneshot::Sender<ResourceOverview>),
    TaskManagers(oneshot::Sender<Vec<(TaskManagerSnapshot, Arc<dyn TaskExecutorGateway>)>>),
    CheckHeartbeats,
}

struct Registered {
    registration: TaskExecutorRegistration,
    registered_order: u64,
    last_heartbeat: i64,
    last_heartbeat_at: Instant,
    /// Which job holds each slot.
    slots: Vec<Option<JobId>>,
}

struct PendingRequest {
    job_id: JobId,
    count: u32,
    job_master: Arc<dyn JobMasterGateway>,
    reply: SlotReply,
}

/// The gateway of the ResourceManager.
#[derive(Clone)]
pub struct ResourceManagerHandle {
    sender: mpsc::UnboundedSender<Message>,
    /// The slot counts, republished by the actor after every change so the
    /// hottest read (`/overview`) needs no round trip.
    overview: watch::Receiver<ResourceOverview>,
}

impl ResourceManagerHandle {
    /// Starts the actor; `heartbeat_timeout` drops silent TaskExecutors.
    pub fn start(heartbeat_timeout: Duration) -> ResourceManagerHandle {
        let (sender, mailbox) = mpsc::unbounded_channel();
        let (overview_sender, overview) = watch::channel(ResourceOverview::default());
        let actor = ResourceManagerActor {
            overview: overview_sender,
            task_executors: HashMap::new(),
            pending: VecDeque::new(),
            job_masters: HashMap::new(),
            heartbeat_timeout,
            next_order: 0,
        };
        tokio::spawn(actor.run(mailbox));
        let ticker = sender.clone();
        let check_every =
            (heartbeat_timeout / 4).clamp(Duration::from_millis(20), Duration::from_secs(5));
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(check_every);
            loop {
                interval.tick().await;
                if ticker.send(Message::CheckHeartbeats).is_err() {
                    return;
                }
            }
        });
        ResourceManagerHandle { sender, overview }
    }

    fn send(&self, message: Message) -> Result<(), ClusterError> {
        self.sender
            .send(message)
            .map_err(|_| ClusterError::unreachable("ResourceManager"))
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Message,
    ) -> Result<T, ClusterError> {
        crate::actor::ask(&self.sender, "ResourceManager", make).await
    }

    /// Asks for `count` slots for a job; the answer comes once they are free.
    pub fn request_slots(
        &self,
        job_id: JobId,
        count: u32,
        job_master: Arc<dyn JobMasterGateway>,
    ) -> oneshot::Receiver<Result<Vec<SlotGrant>, ClusterError>> {
        let (reply, answer) = oneshot::channel();
        let message = Message::RequestSlots {
            job_id,
            count,
            job_master,
            reply,
        };
        if let Err(Message::RequestSlots { reply, .. }) = self.sender.send(message).map_err(|e| e.0)
        {
            let _ = reply.send(Err(ClusterError::unreachable("ResourceManager")));
        }
        answer
    }

    pub fn cancel_slot_request(&self, job_id: JobId) {
        let _ = self.send(Message::CancelRequest(job_id));
    }

    pub fn release_slots(&self, job_id: JobId) {
        let _ = self.send(Message::ReleaseSlots(job_id));
    }

    /// Current TaskManager and slot counts.
    pub fn overview(&self) -> ResourceOverview {
        *self.overview.borrow()
    }

    /// The counts as the actor sees them after every message sent before.
    pub async fn overview_in_order(&self) -> Result<ResourceOverview, ClusterError> {
        self.ask(Message::Overview).await
    }

    /// Every registered TaskManager, with the tasks each slot runs.
    pub async fn task_managers(&self) -> Result<Vec<TaskManagerSnapshot>, ClusterError> {
        let listed = self.ask(Message::TaskManagers).await?;
        let reports =
            futures::future::join_all(listed.iter().map(|(_, gateway)| gateway.slot_report()))
                .await;
        Ok(listed
            .into_iter()
            .zip(reports)
            .map(|((mut snapshot, _), report)| {
                for slot in snapshot.allocated.iter_mut() {
                    slot.assigned_tasks = report
                        .as_ref()
                        .map(|r| {
                            r.iter()
                                .filter(|s| s.slot_index == slot.index)
                                .map(|s| s.running_tasks)
                                .sum()
                        })
                        .unwrap_or(0);
                }
                snapshot
            })
            .collect())
    }

    pub async fn task_manager(
        &self,
        resource_id: &str,
    ) -> Result<TaskManagerSnapshot, ClusterError> {
        self.task_managers()
            .await?
            .into_iter()
            .find(|tm| tm.resource_id == resource_id)
            .ok_or_else(|| ClusterError::TaskManagerNotFound(resource_id.to_string()))
    }
}

#[async_trait]
impl ResourceManagerGateway for ResourceManagerHandle {
    async fn register_task_executor(
        &self,
        registration: TaskExecutorRegistration,
    ) -> Result<(), ClusterError> {
        self.ask(|reply| Message::Register(registration, reply))
            .await
    }

    async fn heartbeat_from_task_executor(&self, resource_id: &str) -> Result<(), ClusterError> {
        self.ask(|reply| Message::Heartbeat(resource_id.to_string(), reply))
            .await?
    }
}

struct ResourceManagerActor {
    overview: watch::Sender<ResourceOverview>,
    task_executors: HashMap<String, Registered>,
    pending: VecDeque<PendingRequest>,
    job_masters: HashMap<JobId, Arc<dyn JobMasterGateway>>,
    heartbeat_timeout: Duration,
    next_order: u64,
}

impl ResourceManagerActor {
    async fn run(mut self, mut mailbox: mpsc::UnboundedReceiver<Message>) {
        while let Some(message) = mailbox.recv().await {
            self.handle(message);
            crate::actor::publish(&self.overview, self.overview());
        }
    }

    fn handle(&mut self, message: Message) {
        match message {
            Message::Register(registration, reply) => {
                let id = registration.resource_id.clone();
                tracing::info!(tm = %id, slots = registration.slots, "TaskExecutor registered");
                self.next_order += 1;
                self.task_executors.insert(
                    id,
                    Registered {
                        slots: vec![None; registration.slots as usize],
                        registration,
                        registered_order: self.next_order,
                        last_heartbeat: now_millis(),
                        last_heartbeat_at: Instant::now(),
                    },
                );
                let _ = reply.send(());
                self.serve_pending();
            }
            Message::Heartbeat(id, reply) => {
                let answer = match self.task_executors.get_mut(&id) {
                    Some(tm) => {
                        tm.last_heartbeat = now_millis();
                        tm.last_heartbeat_at = Instant::now();
                        Ok(())
                    }
                    None => Err(ClusterError::TaskManagerNotFound(id)),
                };
                let _ = reply.send(answer);
            }
            Message::RequestSlots {
                job_id,
                count,
                job_master,
                reply,
            } => {
                self.pending.push_back(PendingRequest {
                    job_id,
                    count,
                    job_master,
                    reply,
                });
                self.serve_pending();
            }
            Message::CancelRequest(job_id) => {
                self.pending.retain(|p| p.job_id != job_id);
            }
            Message::ReleaseSlots(job_id) => {
                for tm in self.task_executors.values_mut() {
                    for slot in tm.slots.iter_mut() {
                        if *slot == Some(job_id) {
                            *slot = None;
                        }
                    }
                }
                self.job_masters.remove(&job_id);
                self.serve_pending();
            }
            Message::Overview(reply) => {
                let _ = reply.send(self.overview());
            }
            Message::TaskManagers(reply) => {
                let _ = reply.send(self.snapshots());
            }
            Message::CheckHeartbeats => self.check_heartbeats(),
        }
    }

    fn overview(&self) -> ResourceOverview {
        let slots_total = self.task_executors.values().map(|t| t.slots.len()).sum();
        let slots_available = self
            .task_executors
            .values()
            .map(|t| t.slots.iter().filter(|s| s.is_none()).count())
            .sum();
        ResourceOverview {
            task_managers: self.task_executors.len(),
            slots_total,
            slots_available,
        }
    }

    fn ordered(&self) -> Vec<&Registered> {
        let mut tms: Vec<&Registered> = self.task_executors.values().collect();
        tms.sort_by_key(|t| t.registered_order);
        tms
    }

    fn snapshots(&self) -> Vec<(TaskManagerSnapshot, Arc<dyn TaskExecutorGateway>)> {
        let memory = system_info::process_memory();
        let free_memory = system_info::hardware().free_memory;
        self.ordered()
            .into_iter()
            .map(|tm| {
                let reg = &tm.registration;
                let allocated = tm
                    .slots
                    .iter()
                    .enumerate()
                    .filter_map(|(i, job)| {
                        job.map(|job_id| SlotSnapshot {
                            index: i as u32,
                            job_id,
                            assigned_tasks: 0,
                        })
                    })
                    .collect();
                let snapshot = TaskManagerSnapshot {
                    resource_id: reg.resource_id.clone(),
                    address: reg.address.clone(),
                    data_port: reg.data_port,
                    last_heartbeat: tm.last_heartbeat,
                    slots: reg.slots,
                    free_slots: tm.slots.iter().filter(|s| s.is_none()).count() as u32,
                    allocated,
                    hardware: system_info::HardwareDescription {
                        free_memory,
                        ..reg.hardware
                    },
                    memory,
                };
                (snapshot, reg.gateway.clone())
            })
            .collect()
    }

    /// Grants waiting requests in order while the oldest one fits.
    fn serve_pending(&mut self) {
        while let Some(request) = self.pending.front() {
            if request.reply.is_closed() {
                self.pending.pop_front();
                continue;
            }
            if (self.overview().slots_available as u32) < request.count {
                return;
            }
            let Some(request) = self.pending.pop_front() else {
                return;
            };
            let grants = self.allocate(request.job_id, request.count);
            self.job_masters.insert(request.job_id, request.job_master);
            if let Err(Ok(grants)) = request.reply.send(Ok(grants)) {
                // The JobMaster stopped waiting: give the slots back.
                let job_id = request.job_id;
                drop(grants);
                self.handle(Message::ReleaseSlots(job_id));
            }
        }
    }

    fn allocate(&mut self, job_id: JobId, count: u32) -> Vec<SlotGrant> {
        let mut order: Vec<(u64, String)> = self
            .task_executors
            .iter()
            .map(|(id, t)| (t.registered_order, id.clone()))
            .collect();
        order.sort();
        let mut grants = Vec::new();
        for (_, id) in order {
            let Some(tm) = self.task_executors.get_mut(&id) else {
                continue;
            };
            for (index, slot) in tm.slots.iter_mut().enumerate() {
                if grants.len() as u32 == count {
                    return grants;
                }
                if slot.is_none() {
                    *slot = Some(job_id);
                    let reg = &tm.registration;
                    grants.push(SlotGrant {
                        resource_id: reg.resource_id.clone(),
                        slot_index: index as u32,
                        endpoint: format!("{}:{}", reg.host, reg.data_port),
                        gateway: reg.gateway.clone(),
                    });
                }
            }
        }
        grants
    }

    fn check_heartbeats(&mut self) {
        let timeout = self.heartbeat_timeout;
        let expired: Vec<String> = self
            .task_executors
            .iter()
            .filter(|(_, t)| t.last_heartbeat_at.elapsed() > timeout)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            let Some(tm) = self.task_executors.remove(&id) else {
                continue;
            };
            let reason = format!("Heartbeat of TaskManager with id {id} timed out.");
            tracing::warn!(tm = %id, "{reason}");
            let gateway = tm.registration.gateway.clone();
            let disconnect_reason = reason.clone();
            tokio::spawn(async move { gateway.disconnect(disconnect_reason).await });
            let mut jobs: Vec<JobId> = tm.slots.iter().flatten().copied().collect();
            jobs.dedup();
            for job in jobs {
                if let Some(job_master) = self.job_masters.get(&job) {
                    job_master.task_manager_lost(id.clone(), reason.clone());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateways::{SlotReport, TaskDeployment, TaskStateUpdate};
    use rivulet_common::ExecutionAttemptId;
    use rivulet_runtime::metrics::IoMetricsSnapshot;
    use std::sync::Mutex;

    struct SilentTaskExecutor;

    #[async_trait]
    impl TaskExecutorGateway for SilentTaskExecutor {
        fn resource_id(&self) -> &str {
            "silent"
        }
        async fn submit_task(
            &self,
            _: TaskDeployment,
            _: Arc<dyn JobMasterGateway>,
        ) -> Result<(), ClusterError> {
            Ok(())
        }
        async fn cancel_task(&self, _: ExecutionAttemptId) -> Result<(), ClusterError> {
            Ok(())
        }
        async fn task_metrics(
            &self,
            _: Vec<ExecutionAttemptId>,
        ) -> Result<Vec<(ExecutionAttemptId, IoMetricsSnapshot)>, ClusterError> {
            Ok(vec![])
        }
        async fn release_job(&self, _: JobId) -> Result<(), ClusterError> {
            Ok(())
        }
        async fn slot_report(&self) -> Result<Vec<SlotReport>, ClusterError> {
            Ok(vec![])
        }
        async fn disconnect(&self, _: String) {}
    }

    #[derive(Default)]
    struct RecordingJobMaster {
        lost: Mutex<Vec<(String, String)>>,
    }

    impl JobMasterGateway for RecordingJobMaster {
        fn update_task_execution_state(&self, _: TaskStateUpdate) {}
        fn task_manager_lost(&self, resource_id: String, reason: String) {
            self.lost.lock().unwrap().push((resource_id, reason));
        }
    }

    fn registration(id: &str, slots: u32) -> TaskExecutorRegistration {
        TaskExecutorRegistration {
            resource_id: id.into(),
            address: format!("local://{id}"),
            host: "127.0.0.1".into(),
            data_port: -1,
            slots,
            hardware: Default::default(),
            gateway: Arc::new(SilentTaskExecutor),
        }
    }

    #[tokio::test]
    async fn a_silent_task_executor_is_dropped_and_its_jobs_are_told() {
        let rm = ResourceManagerHandle::start(Duration::from_millis(150));
        rm.register_task_executor(registration("tm-1", 2))
            .await
            .unwrap();
        let job_master = Arc::new(RecordingJobMaster::default());
        let grants = rm
            .request_slots(JobId::random(), 2, job_master.clone())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(grants.len(), 2);
        assert_eq!(rm.overview_in_order().await.unwrap().slots_available, 0);

        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(rm.overview_in_order().await.unwrap().task_managers, 0);
        let lost = job_master.lost.lock().unwrap().clone();
        assert_eq!(lost.len(), 1);
        assert!(
            lost[0]
                .1
                .contains("Heartbeat of TaskManager with id tm-1 timed out")
        );
        assert!(matches!(
            rm.heartbeat_from_task_executor("tm-1").await,
            Err(ClusterError::TaskManagerNotFound(_))
        ));
    }

    #[tokio::test]
    async fn a_request_larger_than_the_free_slots_waits_for_released_slots() {
        let rm = ResourceManagerHandle::start(Duration::from_secs(60));
        rm.register_task_executor(registration("tm-1", 2))
            .await
            .unwrap();
        let first = JobId::random();
        let job_master = Arc::new(RecordingJobMaster::default());
        rm.request_slots(first, 2, job_master.clone())
            .await
            .unwrap()
            .unwrap();
        let mut waiting = rm.request_slots(JobId::random(), 1, job_master);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(waiting.try_recv().is_err());
        rm.release_slots(first);
        let grants = waiting.await.unwrap().unwrap();
        assert_eq!(grants.len(), 1);
    }
}
