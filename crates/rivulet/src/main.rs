//! `rivulet`: a stream processing cluster that speaks Flink's REST API.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use rivulet::client::{self, ListFilter, RestClient, RunOptions};
use rivulet_common::Configuration;
use rivulet_rest_api::jars::JarRequest;

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
    /// Submit a SQL script, a job package (.jar) or a JSON job graph to a cluster.
    Run(RunArgs),
    /// List the jobs of a cluster.
    List(ListArgs),
    /// Cancel a job.
    Cancel(CancelArgs),
    /// Show the plan of a SQL script or package without running it.
    Info(InfoArgs),
    /// Write the `nexmark` connector's events as JSON lines in the layout of
    /// Flink's Nexmark source table.
    NexmarkJson(NexmarkJsonArgs),
}

#[derive(clap::Args)]
struct NexmarkJsonArgs {
    /// How many events (the connector's `events.num`).
    #[arg(long, default_value_t = 10_000_000)]
    events: u64,
    /// The file to write (standard output when absent).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Another connector option, e.g. --option base-time='2024-06-01 00:00:00' (repeatable).
    #[arg(long = "option", value_name = "KEY=VALUE")]
    options: Vec<String>,
}

/// Where the JobManager's REST endpoint is, as Flink's `-m`.
#[derive(clap::Args)]
struct Target {
    /// The JobManager to talk to (host:port).
    #[arg(short = 'm', long = "jobmanager", default_value = "localhost:8081")]
    jobmanager: String,
}

impl Target {
    fn client(&self) -> RestClient {
        RestClient::new(&self.jobmanager)
    }
}

/// What a job is made of: its file and the values that shape it.
#[derive(clap::Args)]
struct JobInputs {
    /// A Flink SQL script, a .jar of scripts, or (for `run`) a .json job graph.
    file: PathBuf,
    /// Parallelism of the job (wins over the script's SET).
    #[arg(short = 'p', long)]
    parallelism: Option<u32>,
    /// A value for a `${name}` parameter of the script (repeatable).
    #[arg(long = "arg", value_name = "NAME=VALUE")]
    args: Vec<String>,
    /// The script to run from a package that holds several (Flink's entry-class).
    #[arg(short = 'c', long = "entry")]
    entry: Option<String>,
}

#[derive(clap::Args)]
struct RunArgs {
    #[command(flatten)]
    job: JobInputs,
    /// Return once the job is submitted instead of waiting for its result.
    #[arg(short = 'd', long)]
    detached: bool,
    #[command(flatten)]
    target: Target,
}

#[derive(clap::Args)]
struct ListArgs {
    /// Show running and restarting jobs only.
    #[arg(short = 'r', long)]
    running: bool,
    /// Show scheduled jobs only.
    #[arg(short = 's', long)]
    scheduled: bool,
    /// Show all jobs, terminated ones included.
    #[arg(short = 'a', long)]
    all: bool,
    #[command(flatten)]
    target: Target,
}

#[derive(clap::Args)]
struct CancelArgs {
    /// The id of the job to cancel.
    job_id: String,
    #[command(flatten)]
    target: Target,
}

#[derive(clap::Args)]
struct InfoArgs {
    #[command(flatten)]
    job: JobInputs,
    #[command(flatten)]
    target: Target,
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

fn main() {
    match run_cli() {
        Ok(code) => std::process::exit(code),
        Err(error) => {
            // The chain of causes, without a backtrace: this is for users.
            eprintln!("Error: {error:#}");
            std::process::exit(1);
        }
    }
}

/// Runs the command; answers the process exit code.
fn run_cli() -> anyhow::Result<i32> {
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
    let code = match cli.command {
        Command::Standalone(args) => runtime.block_on(standalone(args)).map(|()| 0),
        Command::Run(args) => {
            let client = args.target.client();
            let options = RunOptions {
                file: args.job.file,
                parallelism: args.job.parallelism,
                detached: args.detached,
                args: args.job.args,
                entry: args.job.entry,
            };
            runtime.block_on(client::run(&client, options))
        }
        Command::List(args) => {
            let only = args.running || args.scheduled;
            let filter = ListFilter {
                running: args.all || args.running || !only,
                scheduled: args.all || args.scheduled || !only,
                terminated: args.all,
            };
            runtime
                .block_on(client::list(&args.target.client(), filter))
                .map(|()| 0)
        }
        Command::Cancel(args) => runtime
            .block_on(client::cancel(&args.target.client(), &args.job_id))
            .map(|()| 0),
        Command::NexmarkJson(args) => nexmark_json(args).map(|()| 0),
        Command::Info(args) => {
            let request = JarRequest {
                entry_class: args.job.entry,
                program_args_list: Some(args.job.args),
                parallelism: args.job.parallelism.map(i64::from),
                ..JarRequest::default()
            };
            runtime
                .block_on(client::info(&args.target.client(), &args.job.file, request))
                .map(|()| 0)
        }
    }?;
    Ok(code)
}

fn nexmark_json(args: NexmarkJsonArgs) -> anyhow::Result<()> {
    let mut options = std::collections::BTreeMap::new();
    for option in &args.options {
        let (key, value) = option
            .split_once('=')
            .with_context(|| format!("--option {option}: expected KEY=VALUE"))?;
        options.insert(key.trim().to_string(), value.trim().to_string());
    }
    options.insert("events.num".into(), args.events.to_string());
    let spec = rivulet::nexmark_json::spec(&options).map_err(anyhow::Error::msg)?;
    let written = match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
            rivulet::nexmark_json::write_events(&spec, &mut out)
                .with_context(|| format!("cannot write {}", path.display()))?
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            rivulet::nexmark_json::write_events(&spec, &mut out)?
        }
    };
    if let Some(path) = &args.output {
        eprintln!("{written} events written to {}", path.display());
    }
    Ok(())
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
