//! The HTTP server of Flink's JobManager REST API.
//!
//! A thin adapter over the cluster gateways: each handler parses its request
//! (ids, query parameters, bodies) with Flink's error messages, calls a gateway,
//! and maps the answer to the wire types of `rivulet-rest-api`. Routing follows
//! Flink: every route answers with and without the `/v1` prefix, literal path
//! segments win over parameters, and an unknown path or method is a 404 in
//! Flink's `{"errors": [...]}` shape.

mod convert;
mod error;
mod handlers;
mod headers;
mod params;
mod router;

use std::net::SocketAddr;
use std::sync::Arc;

use rivulet_cluster::dispatcher::DispatcherHandle;
use rivulet_cluster::resource_manager::ResourceManagerHandle;
use rivulet_common::Configuration;
use tokio::net::TcpListener;

pub use error::RestError;

/// The Flink version whose REST API Rivulet speaks; clients use it to pick features.
pub const FLINK_API_VERSION: &str = "2.3.0";
/// Rivulet's own version, reported as Flink's revision/commit.
pub const RIVULET_VERSION: &str = concat!("rivulet-", env!("CARGO_PKG_VERSION"));

/// What the handlers reach: the gateways and the configuration in effect.
#[derive(Clone)]
pub struct RestState {
    pub dispatcher: DispatcherHandle,
    pub resource_manager: ResourceManagerHandle,
    pub config: Arc<Configuration>,
}

/// A running REST server.
pub struct RestServer {
    pub local_addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl RestServer {
    /// Binds `address` (port 0 picks a free port) and serves until dropped or
    /// [`stop`](Self::stop)ped.
    pub async fn start(state: RestState, address: SocketAddr) -> std::io::Result<RestServer> {
        let listener = TcpListener::bind(address).await?;
        let local_addr = listener.local_addr()?;
        let app = router::build(state);
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "REST server stopped");
            }
        });
        tracing::info!(%local_addr, "REST endpoint listening");
        Ok(RestServer { local_addr, task })
    }

    pub fn stop(self) {
        self.task.abort();
    }
}
