//! A whole cluster in one process: a ResourceManager, a Dispatcher and N
//! TaskExecutors, with the data plane on its own runtime so busy jobs never
//! slow the control plane or the REST server.

use std::sync::Arc;
use std::time::Duration;

use rivulet_common::Configuration;
use rivulet_common::config::options;
use rivulet_runtime::channel::LocalChannels;
use tokio::sync::{Mutex, watch};

use crate::dispatcher::{DispatcherHandle, DispatcherSettings};
use crate::error::ClusterError;
use crate::job_master::JobMasterSettings;
use crate::resource_manager::ResourceManagerHandle;
use crate::task_executor::{TaskExecutor, TaskExecutorConfig};

/// What the local cluster is made of, read from the configuration.
#[derive(Debug, Clone)]
pub struct LocalClusterOptions {
    pub task_managers: usize,
    pub slots_per_task_manager: u32,
    pub heartbeat_interval: Duration,
    pub heartbeat_timeout: Duration,
    pub slot_request_timeout: Duration,
    pub archive_capacity: usize,
    pub channel_capacity: usize,
    pub data_plane_threads: usize,
    pub default_parallelism: u32,
}

fn config_error(e: rivulet_common::CommonError) -> ClusterError {
    ClusterError::Configuration(e.to_string())
}

impl LocalClusterOptions {
    pub fn from_config(config: &Configuration) -> Result<Self, ClusterError> {
        let positive = |option: &rivulet_common::ConfigOption| -> Result<i64, ClusterError> {
            let value = config.get_i64(option).map_err(config_error)?;
            if value < 1 {
                return Err(ClusterError::Configuration(format!(
                    "{} must be at least 1, got {value}",
                    option.key
                )));
            }
            Ok(value)
        };
        let millis = |option| {
            config
                .get_duration_millis(option)
                .map(Duration::from_millis)
                .map_err(config_error)
        };
        Ok(LocalClusterOptions {
            task_managers: positive(&options::NUMBER_OF_TASKMANAGERS)? as usize,
            slots_per_task_manager: positive(&options::TASK_SLOTS)? as u32,
            heartbeat_interval: millis(&options::HEARTBEAT_INTERVAL)?,
            heartbeat_timeout: millis(&options::HEARTBEAT_TIMEOUT)?,
            slot_request_timeout: millis(&options::SLOT_REQUEST_TIMEOUT)?,
            archive_capacity: positive(&options::JOBSTORE_MAX_CAPACITY)? as usize,
            channel_capacity: 4 * positive(&options::NETWORK_BUFFERS_PER_CHANNEL)? as usize,
            default_parallelism: positive(&options::PARALLELISM_DEFAULT)? as u32,
            data_plane_threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
        })
    }
}

/// The data-plane runtime, owned by a thread of its own so it can be dropped
/// from async code.
struct DataPlane {
    handle: tokio::runtime::Handle,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl DataPlane {
    fn start(threads: usize) -> Result<DataPlane, ClusterError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name("rivulet-task")
            .enable_all()
            .build()
            .map_err(|e| ClusterError::Unreachable {
                component: "data plane".into(),
                reason: e.to_string(),
            })?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("rivulet-data-plane".into())
            .spawn(move || {
                let _ = stopped.recv();
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
            .map_err(|e| ClusterError::Unreachable {
                component: "data plane".into(),
                reason: e.to_string(),
            })?;
        Ok(DataPlane {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for DataPlane {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A running local cluster.
pub struct LocalCluster {
    pub dispatcher: DispatcherHandle,
    pub resource_manager: ResourceManagerHandle,
    pub config: Arc<Configuration>,
    task_executors: Mutex<Vec<TaskExecutor>>,
    shutdown_requested: watch::Receiver<bool>,
    data_plane: Option<DataPlane>,
}

impl LocalCluster {
    pub async fn start(config: Configuration) -> Result<LocalCluster, ClusterError> {
        config.validate().map_err(config_error)?;
        let options = LocalClusterOptions::from_config(&config)?;
        let data_plane = DataPlane::start(options.data_plane_threads)?;
        let resource_manager = ResourceManagerHandle::start(options.heartbeat_timeout);
        let (shutdown, shutdown_requested) = watch::channel(false);
        let dispatcher = DispatcherHandle::start(
            resource_manager.clone(),
            DispatcherSettings {
                archive_capacity: options.archive_capacity,
                default_parallelism: options.default_parallelism,
                job_master: JobMasterSettings {
                    slot_request_timeout: options.slot_request_timeout,
                },
            },
            shutdown,
        );
        // TaskExecutors in one process exchange data through one registry.
        let channels = Arc::new(LocalChannels::new(options.channel_capacity));
        let mut task_executors = Vec::new();
        for index in 0..options.task_managers {
            let suffix: u32 = rand::random::<u32>() & 0xff_ffff;
            let resource_id = format!("127.0.0.1-taskmanager_{index}-{suffix:06x}");
            let te = TaskExecutor::start(
                TaskExecutorConfig {
                    address: format!("local://rivulet/user/rpc/taskmanager_{index}"),
                    resource_id,
                    host: "127.0.0.1".into(),
                    slots: options.slots_per_task_manager,
                    heartbeat_interval: options.heartbeat_interval,
                },
                Arc::new(resource_manager.clone()),
                channels.clone(),
                data_plane.handle.clone(),
            )
            .await?;
            task_executors.push(te);
        }
        Ok(LocalCluster {
            dispatcher,
            resource_manager,
            config: Arc::new(config),
            task_executors: Mutex::new(task_executors),
            shutdown_requested,
            data_plane: Some(data_plane),
        })
    }

    /// Resolves once `DELETE /cluster` (or another shutdown request) stopped all jobs.
    pub async fn wait_for_shutdown_request(&self) {
        let mut watcher = self.shutdown_requested.clone();
        let _ = watcher.wait_for(|requested| *requested).await;
    }

    /// Cancels all jobs, waits for them (up to 10 s) and stops every component.
    pub async fn shutdown(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(10), self.dispatcher.shutdown_and_wait())
            .await;
        let task_executors = std::mem::take(&mut *self.task_executors.lock().await);
        for te in task_executors {
            te.stop().await;
        }
        if let Some(data_plane) = self.data_plane.take() {
            // Joining the data-plane thread blocks; do it off the async workers.
            let _ = tokio::task::spawn_blocking(move || drop(data_plane)).await;
        }
    }

    /// The ids of the TaskManagers still running, in start order.
    pub async fn task_manager_ids(&self) -> Vec<String> {
        use crate::gateways::TaskExecutorGateway;
        self.task_executors
            .lock()
            .await
            .iter()
            .map(|t| t.handle.resource_id().to_string())
            .collect()
    }

    /// Kills TaskManager `index` as a crash would: it stops heartbeating and
    /// its tasks die without a word. Returns false if there is no such one.
    pub async fn crash_task_manager(&self, index: usize) -> bool {
        let mut task_executors = self.task_executors.lock().await;
        if index >= task_executors.len() {
            return false;
        }
        task_executors.remove(index).crash();
        true
    }
}
