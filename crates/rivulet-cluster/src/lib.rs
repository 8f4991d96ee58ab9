//! The control plane of Rivulet, in Flink's shape.
//!
//! Each stateful component is an actor: one tokio task that owns its state and
//! serves messages from a channel, reached through a cheap, clonable gateway.
//!
//! - [`dispatcher`]: accepts jobs, starts one [`job_master`] per job, keeps the
//!   archive of finished jobs, answers job lists and shuts the cluster down.
//! - [`job_master`]: owns a job's [`execution_graph`], asks the
//!   [`resource_manager`] for slots, deploys subtasks to TaskExecutors and turns
//!   their state reports into the job's state.
//! - [`resource_manager`]: registers TaskExecutors, watches their heartbeats and
//!   hands out slots.
//! - [`task_executor`]: runs subtasks in its slots on the data-plane runtime.
//!
//! The gateways a remote process will implement over the network are traits in
//! [`gateways`]; nothing above them knows whether a peer is local.

mod actor;
pub mod cluster;
pub mod dispatcher;
pub mod error;
pub mod execution_graph;
pub mod gateways;
pub mod job_master;
pub mod resource_manager;
pub mod snapshot;
pub mod status;
pub mod system_info;
pub mod task_executor;

pub use cluster::{LocalCluster, LocalClusterOptions};
pub use error::ClusterError;
