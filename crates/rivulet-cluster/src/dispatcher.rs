//! The Dispatcher: the cluster's front desk for jobs.
//!
//! It accepts job graphs and starts a JobMaster for each, keeps every job's
//! latest status (for `/jobs` and `/overview`), moves finished jobs into a
//! bounded archive (`jobstore.max-capacity`), tracks attached clients'
//! heartbeats, and shuts the cluster down on request. Lookups that need a
//! JobMaster's answer return its handle, so the caller waits, not the actor.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use rivulet_common::JobId;
use rivulet_common::clock::now_millis;
use rivulet_runtime::job_graph::{JobGraph, JobGraphSpec};
use tokio::sync::{mpsc, oneshot, watch};

use crate::error::ClusterError;
use crate::job_master::{
    JobMasterHandle, JobMasterSettings, JobStatusListener, SnapshotDetail, start_job_master,
};
use crate::resource_manager::ResourceManagerHandle;
use crate::snapshot::{JobCounts, JobOverview, JobSnapshot};
use crate::status::JobStatus;

/// Where a job's state can be read.
enum JobLocation {
    Active(JobMasterHandle),
    Archived(Arc<JobSnapshot>),
}

enum Message {
    SubmitSpec(
        Box<JobGraphSpec>,
        oneshot::Sender<Result<JobId, ClusterError>>,
    ),
    ListJobs(oneshot::Sender<Vec<(JobId, JobStatus)>>),
    Status(JobId, oneshot::Sender<Option<JobStatus>>),
    Locate(JobId, oneshot::Sender<Option<JobLocation>>),
    LocateAll(oneshot::Sender<Vec<(JobId, JobLocation)>>),
    StatusChanged(JobId, JobStatus),
    Terminated(Box<JobSnapshot>),
    ClientHeartbeat(JobId, i64, oneshot::Sender<Result<(), ClusterError>>),
    CheckClientHeartbeats,
    Shutdown(oneshot::Sender<()>),
}

/// Settings the Dispatcher takes from the cluster configuration.
#[derive(Debug, Clone, Copy)]
pub struct DispatcherSettings {
    pub archive_capacity: usize,
    /// `parallelism.default`, for vertices and jobs that set none.
    pub default_parallelism: u32,
    pub job_master: JobMasterSettings,
}

/// The gateway of the Dispatcher.
#[derive(Clone)]
pub struct DispatcherHandle {
    sender: mpsc::UnboundedSender<Message>,
    /// Job counts, republished by the actor after every status change.
    counts: watch::Receiver<JobCounts>,
}

struct Listener(mpsc::UnboundedSender<Message>);

impl JobStatusListener for Listener {
    fn job_status_changed(&self, job_id: JobId, status: JobStatus) {
        let _ = self.0.send(Message::StatusChanged(job_id, status));
    }

    fn job_reached_terminal(&self, snapshot: JobSnapshot) {
        let _ = self.0.send(Message::Terminated(Box::new(snapshot)));
    }
}

impl DispatcherHandle {
    /// Starts the Dispatcher. `shutdown` is set to true once a cluster
    /// shutdown was requested and every job has stopped.
    pub fn start(
        resource_manager: ResourceManagerHandle,
        settings: DispatcherSettings,
        shutdown: watch::Sender<bool>,
    ) -> DispatcherHandle {
        let (sender, mailbox) = mpsc::unbounded_channel();
        let (counts_sender, counts) = watch::channel(JobCounts::default());
        let actor = DispatcherActor {
            counts: counts_sender,
            active: HashMap::new(),
            order: Vec::new(),
            statuses: HashMap::new(),
            archive: VecDeque::new(),
            client_heartbeats: HashMap::new(),
            resource_manager,
            settings,
            listener: Arc::new(Listener(sender.clone())),
            shutdown,
            shutting_down: false,
            shutdown_waiters: Vec::new(),
        };
        tokio::spawn(actor.run(mailbox));
        let ticker = sender.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_secs(1));
            loop {
                interval.tick().await;
                if ticker.send(Message::CheckClientHeartbeats).is_err() {
                    return;
                }
            }
        });
        DispatcherHandle { sender, counts }
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Message,
    ) -> Result<T, ClusterError> {
        crate::actor::ask(&self.sender, "Dispatcher", make).await
    }

    /// Checks a submitted job graph and submits it. An invalid graph is
    /// rejected with the reason and leaves nothing behind.
    pub async fn submit_job_spec(&self, spec: JobGraphSpec) -> Result<JobId, ClusterError> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Message::SubmitSpec(Box::new(spec), reply))
            .map_err(|_| ClusterError::unreachable("Dispatcher"))?;
        answer
            .await
            .map_err(|_| ClusterError::unreachable("Dispatcher"))?
    }

    /// Every known job with its status, in submission order.
    pub async fn list_jobs(&self) -> Result<Vec<(JobId, JobStatus)>, ClusterError> {
        self.ask(Message::ListJobs).await
    }

    /// Jobs per state group, as `/overview` reports them.
    pub fn job_counts(&self) -> JobCounts {
        *self.counts.borrow()
    }

    async fn locate(&self, job_id: JobId) -> Result<JobLocation, ClusterError> {
        self.ask(|reply| Message::Locate(job_id, reply))
            .await?
            .ok_or(ClusterError::JobNotFound(job_id))
    }

    /// The job's current snapshot, with live task metrics if `detail` asks.
    pub async fn job_snapshot(
        &self,
        job_id: JobId,
        detail: SnapshotDetail,
    ) -> Result<JobSnapshot, ClusterError> {
        for _ in 0..3 {
            match self.locate(job_id).await? {
                JobLocation::Archived(snapshot) => return Ok((*snapshot).clone()),
                JobLocation::Active(job_master) => match job_master.snapshot(detail).await {
                    Ok(snapshot) => return Ok(snapshot),
                    // The job ended between the lookup and the call: look again.
                    Err(ClusterError::Unreachable { .. }) => continue,
                    Err(e) => return Err(e),
                },
            }
        }
        Err(ClusterError::unreachable("JobMaster"))
    }

    pub async fn job_status(&self, job_id: JobId) -> Result<JobStatus, ClusterError> {
        self.ask(|reply| Message::Status(job_id, reply))
            .await?
            .ok_or(ClusterError::JobNotFound(job_id))
    }

    /// The overview of every job, in submission order.
    pub async fn jobs_overview(&self) -> Result<Vec<JobOverview>, ClusterError> {
        let located = self.ask(Message::LocateAll).await?;
        let answers =
            futures::future::join_all(located.into_iter().map(|(job_id, location)| async move {
                match location {
                    JobLocation::Archived(snapshot) => Some(JobOverview::from_snapshot(&snapshot)),
                    JobLocation::Active(job_master) => match job_master.overview().await {
                        Ok(overview) => Some(overview),
                        Err(_) => self
                            .job_snapshot(job_id, SnapshotDetail::StateOnly)
                            .await
                            .ok()
                            .map(|s| JobOverview::from_snapshot(&s)),
                    },
                }
            }))
            .await;
        Ok(answers.into_iter().flatten().collect())
    }

    pub async fn cancel_job(&self, job_id: JobId) -> Result<(), ClusterError> {
        for _ in 0..3 {
            match self.locate(job_id).await? {
                JobLocation::Archived(snapshot) => {
                    return match snapshot.status {
                        JobStatus::Canceled => Ok(()),
                        status => Err(ClusterError::AlreadyTerminal(status)),
                    };
                }
                JobLocation::Active(job_master) => match job_master.cancel().await {
                    Err(ClusterError::Unreachable { .. }) => continue,
                    other => return other,
                },
            }
        }
        Err(ClusterError::unreachable("JobMaster"))
    }

    /// Records an attached client's heartbeat: it promises to call again
    /// before `expires_at` (epoch millis).
    pub async fn client_heartbeat(
        &self,
        job_id: JobId,
        expires_at: i64,
    ) -> Result<(), ClusterError> {
        self.ask(|reply| Message::ClientHeartbeat(job_id, expires_at, reply))
            .await?
    }

    /// Cancels every job and, once they stopped, signals the cluster to exit.
    /// Returns once the shutdown has begun.
    pub async fn shutdown_cluster(&self) -> Result<(), ClusterError> {
        let (reply, _done) = oneshot::channel();
        self.sender
            .send(Message::Shutdown(reply))
            .map_err(|_| ClusterError::unreachable("Dispatcher"))
    }

    /// Like [`shutdown_cluster`](Self::shutdown_cluster), but waits until all jobs stopped.
    pub async fn shutdown_and_wait(&self) -> Result<(), ClusterError> {
        self.ask(Message::Shutdown).await
    }
}

struct DispatcherActor {
    counts: watch::Sender<JobCounts>,
    active: HashMap<JobId, JobMasterHandle>,
    order: Vec<JobId>,
    statuses: HashMap<JobId, JobStatus>,
    archive: VecDeque<Arc<JobSnapshot>>,
    client_heartbeats: HashMap<JobId, i64>,
    resource_manager: ResourceManagerHandle,
    settings: DispatcherSettings,
    listener: Arc<Listener>,
    shutdown: watch::Sender<bool>,
    shutting_down: bool,
    shutdown_waiters: Vec<oneshot::Sender<()>>,
}

impl DispatcherActor {
    async fn run(mut self, mut mailbox: mpsc::UnboundedReceiver<Message>) {
        while let Some(message) = mailbox.recv().await {
            self.handle(message);
            crate::actor::publish(&self.counts, self.counts());
        }
    }

    fn counts(&self) -> JobCounts {
        let mut counts = JobCounts::default();
        for status in self.statuses.values() {
            match status {
                JobStatus::Finished => counts.finished += 1,
                JobStatus::Canceled => counts.cancelled += 1,
                JobStatus::Failed => counts.failed += 1,
                _ => counts.running += 1,
            }
        }
        counts
    }

    fn handle(&mut self, message: Message) {
        match message {
            Message::SubmitSpec(spec, reply) => {
                let graph = JobGraph::from_spec(*spec, self.settings.default_parallelism)
                    .map_err(|e| ClusterError::InvalidJobGraph(e.to_string()));
                let _ = reply.send(graph.and_then(|graph| self.submit(graph)));
            }
            Message::ListJobs(reply) => {
                let jobs = self
                    .order
                    .iter()
                    .filter_map(|id| self.statuses.get(id).map(|s| (*id, *s)))
                    .collect();
                let _ = reply.send(jobs);
            }
            Message::Status(job_id, reply) => {
                let _ = reply.send(self.statuses.get(&job_id).copied());
            }
            Message::Locate(job_id, reply) => {
                let _ = reply.send(self.location(job_id));
            }
            Message::LocateAll(reply) => {
                let all = self
                    .order
                    .iter()
                    .filter_map(|id| self.location(*id).map(|l| (*id, l)))
                    .collect();
                let _ = reply.send(all);
            }
            Message::StatusChanged(job_id, status) => {
                if let Some(known) = self.statuses.get_mut(&job_id) {
                    *known = status;
                }
            }
            Message::Terminated(snapshot) => self.archive_job(*snapshot),
            Message::ClientHeartbeat(job_id, expires_at, reply) => {
                let answer = if self.active.contains_key(&job_id) {
                    self.client_heartbeats.insert(job_id, expires_at);
                    Ok(())
                } else if self.statuses.contains_key(&job_id) {
                    Ok(())
                } else {
                    Err(ClusterError::JobNotFound(job_id))
                };
                let _ = reply.send(answer);
            }
            Message::CheckClientHeartbeats => self.check_client_heartbeats(),
            Message::Shutdown(reply) => {
                self.shutting_down = true;
                self.shutdown_waiters.push(reply);
                for job_master in self.active.values() {
                    let job_master = job_master.clone();
                    tokio::spawn(async move {
                        let _ = job_master.cancel().await;
                    });
                }
                self.maybe_finish_shutdown();
            }
        }
    }

    fn location(&self, job_id: JobId) -> Option<JobLocation> {
        if let Some(job_master) = self.active.get(&job_id) {
            return Some(JobLocation::Active(job_master.clone()));
        }
        self.archive
            .iter()
            .find(|s| s.job_id == job_id)
            .map(|s| JobLocation::Archived(s.clone()))
    }

    fn submit(&mut self, graph: JobGraph) -> Result<JobId, ClusterError> {
        if self.shutting_down {
            return Err(ClusterError::ShuttingDown);
        }
        let job_id = graph.job_id;
        if self.statuses.contains_key(&job_id) {
            return Err(ClusterError::DuplicateJob(job_id));
        }
        tracing::info!(job = %job_id, name = %graph.name, "job submitted");
        let job_master = start_job_master(
            graph,
            now_millis(),
            self.resource_manager.clone(),
            self.listener.clone(),
            self.settings.job_master,
        );
        self.active.insert(job_id, job_master);
        self.order.push(job_id);
        self.statuses.insert(job_id, JobStatus::Initializing);
        Ok(job_id)
    }

    fn archive_job(&mut self, snapshot: JobSnapshot) {
        let job_id = snapshot.job_id;
        tracing::info!(job = %job_id, status = %snapshot.status, "job reached a terminal state");
        self.statuses.insert(job_id, snapshot.status);
        self.client_heartbeats.remove(&job_id);
        self.archive.push_back(Arc::new(snapshot));
        if let Some(job_master) = self.active.remove(&job_id) {
            job_master.stop();
        }
        while self.archive.len() > self.settings.archive_capacity {
            if let Some(dropped) = self.archive.pop_front() {
                self.statuses.remove(&dropped.job_id);
                self.order.retain(|id| *id != dropped.job_id);
            }
        }
        self.maybe_finish_shutdown();
    }

    fn check_client_heartbeats(&mut self) {
        let now = now_millis();
        let expired: Vec<JobId> = self
            .client_heartbeats
            .iter()
            .filter(|(_, expires_at)| **expires_at < now)
            .map(|(id, _)| *id)
            .collect();
        for job_id in expired {
            self.client_heartbeats.remove(&job_id);
            if let Some(job_master) = self.active.get(&job_id).cloned() {
                tracing::warn!(job = %job_id, "the attached client stopped heartbeating; cancelling the job");
                tokio::spawn(async move {
                    let _ = job_master.cancel().await;
                });
            }
        }
    }

    fn maybe_finish_shutdown(&mut self) {
        if self.shutting_down && self.active.is_empty() {
            let _ = self.shutdown.send(true);
            for waiter in self.shutdown_waiters.drain(..) {
                let _ = waiter.send(());
            }
        }
    }
}
