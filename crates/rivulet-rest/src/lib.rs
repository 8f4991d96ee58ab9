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
mod jar_store;
mod params;
mod router;

use std::net::SocketAddr;
use std::sync::Arc;

use rivulet_cluster::dispatcher::DispatcherHandle;
use rivulet_cluster::resource_manager::ResourceManagerHandle;
use rivulet_common::Configuration;
use tokio::net::TcpListener;

pub use error::RestError;
use jar_store::JarStore;

/// The Flink version whose REST API Rivulet speaks; clients use it to pick features.
pub const FLINK_API_VERSION: &str = "2.3.0";
/// Rivulet's own version, reported as Flink's revision/commit.
pub const RIVULET_VERSION: &str = concat!("rivulet-", env!("CARGO_PKG_VERSION"));

/// What the handlers reach: the gateways, the configuration in effect, and
/// the directory of uploaded job packages.
#[derive(Clone)]
pub struct RestState {
    pub dispatcher: DispatcherHandle,
    pub resource_manager: ResourceManagerHandle,
    pub config: Arc<Configuration>,
    /// Present when `web.submit.enable` is true; the `/jars` routes exist only then.
    jars: Option<Arc<JarStore>>,
    /// `http://host:port` of this endpoint, known once it is bound.
    address: Arc<str>,
}

impl RestState {
    pub fn new(
        dispatcher: DispatcherHandle,
        resource_manager: ResourceManagerHandle,
        config: Arc<Configuration>,
    ) -> RestState {
        RestState {
            dispatcher,
            resource_manager,
            config,
            jars: None,
            address: Arc::from(""),
        }
    }
}

/// A running REST server.
pub struct RestServer {
    pub local_addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
    jars: Option<Arc<JarStore>>,
}

impl RestServer {
    /// Binds `address` (port 0 picks a free port) and serves until dropped or
    /// [`stop`](Self::stop)ped.
    pub async fn start(mut state: RestState, address: SocketAddr) -> std::io::Result<RestServer> {
        let listener = TcpListener::bind(address).await?;
        let local_addr = listener.local_addr()?;
        state.address = Arc::from(format!("http://{local_addr}"));
        let web_submit = state
            .config
            .get_bool(&rivulet_common::config::options::WEB_SUBMIT_ENABLE)
            .map_err(std::io::Error::other)?;
        if web_submit {
            state.jars = Some(Arc::new(JarStore::open(&state.config)?));
        }
        let jars = state.jars.clone();
        let app = router::build(state);
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "REST server stopped");
            }
        });
        tracing::info!(%local_addr, "REST endpoint listening");
        Ok(RestServer {
            local_addr,
            task,
            jars,
        })
    }

    pub fn stop(self) {
        self.task.abort();
        // Open connections may hold the router a little longer; the
        // temporary upload directory goes now.
        if let Some(jars) = &self.jars {
            jars.remove_temporary_dir();
        }
    }
}
