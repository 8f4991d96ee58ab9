//! `rivulet`: a stream processing cluster that speaks Flink's REST API.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use rivulet_common::Configuration;

#[derive(Parser)]
#[command(
    name = "rivulet",
    version,
    about = "A stream processing cluster that speaks Apache Flink's REST API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a JobManager and TaskManagers in one process (REST on 127.0.0.1:8081).
    Standalone(StandaloneArgs),
}

#[derive(clap::Args)]
struct StandaloneArgs {
    /// A Flink-style config.yaml.
    #[arg(short, long)]
    config: Option<PathBuf>,
    /// Set a configuration option, e.g. -D rest.port=8082 (repeatable).
    #[arg(short = 'D', value_name = "KEY=VALUE")]
    dynamic: Vec<String>,
    /// Number of TaskManagers (minicluster.number-of-taskmanagers).
    #[arg(long)]
    taskmanagers: Option<u32>,
    /// Slots per TaskManager (taskmanager.numberOfTaskSlots).
    #[arg(long)]
    slots: Option<u32>,
    /// Start the demo job (the default when no other argument is given).
    #[arg(long, conflicts_with = "no_demo")]
    demo: bool,
    /// Do not start the demo job.
    #[arg(long)]
    no_demo: bool,
}

impl StandaloneArgs {
    fn is_bare(&self) -> bool {
        self.config.is_none()
            && self.dynamic.is_empty()
            && self.taskmanagers.is_none()
            && self.slots.is_none()
    }

    fn configuration(&self) -> anyhow::Result<Configuration> {
        let mut config = match &self.config {
            Some(path) => Configuration::from_yaml_file(path)?,
            None => Configuration::new(),
        };
        if let Some(n) = self.taskmanagers {
            config.set("minicluster.number-of-taskmanagers", n.to_string());
        }
        if let Some(n) = self.slots {
            config.set("taskmanager.numberOfTaskSlots", n.to_string());
        }
        for property in &self.dynamic {
            config.apply_dynamic_property(property)?;
        }
        config.validate()?;
        Ok(config)
    }
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("rivulet-control")
        .build()
        .context("could not start the control-plane runtime")?;
    match cli.command {
        Command::Standalone(args) => runtime.block_on(standalone(args)),
    }
}

async fn standalone(args: StandaloneArgs) -> anyhow::Result<()> {
    let with_demo = args.demo || (args.is_bare() && !args.no_demo);
    let config = args.configuration()?;
    let cluster = rivulet::standalone::start(config).await?;
    // Printed on stdout so scripts (and tests) can find an ephemeral port.
    println!("Rivulet REST endpoint: http://{}", cluster.rest_address());
    if with_demo {
        let job_id = cluster
            .cluster
            .dispatcher
            .submit_job_spec(rivulet::demo::demo_job()?)
            .await?;
        println!("Demo job submitted: {job_id}");
    }
    tokio::select! {
        _ = cluster.cluster.wait_for_shutdown_request() => {
            tracing::info!("cluster shutdown requested over REST");
        }
        _ = shutdown_signal() => {
            tracing::info!("signal received; shutting down");
        }
    }
    cluster.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
