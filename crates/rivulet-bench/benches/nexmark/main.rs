//! The Nexmark queries of `examples/nexmark/` at parallelism 1 into a
//! blackhole, the figures of issue 4: events per second of wall time and per
//! CPU-second, and peak resident memory, over both sources — the `nexmark`
//! connector, and the JSON-lines file `rivulet nexmark-json` writes (Flink's
//! figures come from such a file).
//!
//! `cargo bench -p rivulet-bench --bench nexmark [-- QUERY... [connector|file]]`;
//! `RIVULET_BENCH_EVENTS` sets the events (10 000 000 by default), and
//! `RIVULET_BENCH_STATE_BACKEND` the keyed state's `state.backend.type`
//! (`hashmap` by default, or `rocksdb`: on local disk). Each query
//! runs in a process of its own, so each peak is that query's alone, and
//! on one core, as the figures are per query on one core
//! (`RIVULET_BENCH_CORES` gives it more; see [`rivulet_bench::cores`]). The
//! file is generated once into `<target>/bench-data/` and reused; it is
//! read, unmeasured, before each query, so that the query finds it in the
//! page cache rather than paying for the disk.

use std::path::{Path, PathBuf};
use std::process::Command;

use rivulet_bench::cluster::Bench;
use rivulet_bench::measure::peak_resident_bytes;

const QUERIES: &[&str] = &[
    "q0", "q1", "q2", "q3", "q4", "q5", "q7", "q8", "q9", "q10", "q11", "q12", "q14", "q15", "q16",
    "q17", "q18", "q19", "q20", "q21", "q22",
];
const SOURCES: &[&str] = &["connector", "file"];
/// Set in the child process that runs one case.
const CHILD: &str = "RIVULET_NEXMARK_CASE";

fn events() -> u64 {
    rivulet_bench::count_from_env("RIVULET_BENCH_EVENTS", 10_000_000)
}

/// How many cores each query runs on.
fn cores() -> usize {
    rivulet_bench::count_from_env("RIVULET_BENCH_CORES", 1) as usize
}

fn example(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/nexmark")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The connector's events as JSON lines, written once per event count.
fn events_file(events: u64) -> PathBuf {
    let dir = rivulet_bench::data_dir(env!("CARGO_TARGET_TMPDIR"));
    rivulet_bench::nexmark_events_file(&dir, events)
}

fn script(query: &str, source: &str, events: u64) -> String {
    let table = match source {
        "connector" => example("source-connector.sql").replace("${events}", &events.to_string()),
        _ => example("source-file.sql").replace("${path}", events_file(events).to_str().unwrap()),
    };
    let backend = std::env::var("RIVULET_BENCH_STATE_BACKEND").unwrap_or("hashmap".into());
    format!(
        "SET 'state.backend.type' = '{backend}';\n{table}\n{}\n{}",
        example("views.sql"),
        example(&format!("{query}.sql"))
    )
    .replace("${sink}", "'connector' = 'blackhole'")
}

/// Runs one case in this process and prints its line.
fn run_case(query: &str, source: &str) {
    let events = events();
    let script = script(query, source, events);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let bench = runtime.block_on(Bench::start());
    let case = format!("{query} {source}");
    runtime.block_on(bench.run(&case, &script, events, "events"));
    runtime.block_on(bench.stop());
    println!(
        "{:>16} peak {:.0} MB resident",
        "",
        peak_resident_bytes() as f64 / 1e6
    );
}

fn main() {
    if let Ok(case) = std::env::var(CHILD) {
        let (query, source) = case.split_once(' ').expect("QUERY SOURCE");
        // Before the runtimes start their threads, which inherit it.
        rivulet_bench::cores::confine_to_first(cores()).expect("the bench's cores");
        run_case(query, source);
        return;
    }
    // Arguments name queries and sources.
    let wanted = rivulet_bench::named_on_command_line(&[QUERIES, SOURCES].concat());
    let chosen = |all: &[&'static str]| -> Vec<&'static str> {
        let named: Vec<&'static str> = all
            .iter()
            .copied()
            .filter(|q| wanted.iter().any(|w| w == q))
            .collect();
        if named.is_empty() {
            all.to_vec()
        } else {
            named
        }
    };
    let events = events();
    let cores = cores();
    println!(
        "{events} Nexmark events, parallelism 1, blackhole sink, each query on {cores} core(s)"
    );
    if chosen(SOURCES).contains(&"file") {
        events_file(events);
    }
    let me = std::env::current_exe().unwrap();
    for source in chosen(SOURCES) {
        for query in chosen(QUERIES) {
            // Each query, as a query before it may have pushed it out.
            if source == "file" {
                rivulet_bench::warm_page_cache(&events_file(events));
            }
            let status = Command::new(&me)
                .env(CHILD, format!("{query} {source}"))
                .status()
                .unwrap();
            assert!(status.success(), "{query} over the {source} failed");
        }
    }
}
