//! Starting and stopping a standalone cluster.

use std::net::{IpAddr, SocketAddr};

use anyhow::Context;
use rivulet_cluster::LocalCluster;
use rivulet_common::Configuration;
use rivulet_common::config::options;
use rivulet_rest::{RestServer, RestState};

/// A running standalone cluster and its REST endpoint.
pub struct Standalone {
    pub cluster: LocalCluster,
    pub rest: RestServer,
}

impl Standalone {
    pub fn rest_address(&self) -> SocketAddr {
        self.rest.local_addr
    }

    /// Cancels every job, stops the TaskManagers and the REST server.
    pub async fn shutdown(self) {
        self.cluster.shutdown().await;
        self.rest.stop();
    }
}

fn rest_bind_address(config: &Configuration) -> anyhow::Result<SocketAddr> {
    let bind = config.get_text(&options::REST_BIND_ADDRESS);
    let host = if bind.trim().is_empty() {
        config.get_text(&options::REST_ADDRESS)
    } else {
        bind
    };
    let host = if host == "localhost" {
        "127.0.0.1".to_string()
    } else {
        host
    };
    let ip: IpAddr = host
        .parse()
        .with_context(|| format!("rest.address '{host}' is not an IP address"))?;
    let port = config.get_i64(&options::REST_PORT)?;
    let port = u16::try_from(port).with_context(|| format!("rest.port {port} is out of range"))?;
    Ok(SocketAddr::new(ip, port))
}

/// Starts the cluster and then its REST endpoint.
pub async fn start(config: Configuration) -> anyhow::Result<Standalone> {
    // Every process that runs a cluster starts it here.
    crate::tune_allocator();
    let address = rest_bind_address(&config)?;
    let cluster = LocalCluster::start(config).await?;
    let state = RestState::new(
        cluster.dispatcher.clone(),
        cluster.resource_manager.clone(),
        cluster.config.clone(),
    );
    let rest = match RestServer::start(state, address).await {
        Ok(rest) => rest,
        Err(e) => {
            cluster.shutdown().await;
            return Err(e)
                .with_context(|| format!("could not bind the REST endpoint to {address}"));
        }
    };
    Ok(Standalone { cluster, rest })
}
