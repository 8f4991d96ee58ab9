//! SQL throughput at parallelism 1, the figures of issue 3: rows per second
//! of wall time and per CPU-second for
//!
//! - `datagen`: datagen → projection and filter → blackhole,
//! - `csv`: csv file → filter → csv file,
//! - `json`: Nexmark JSON lines → q0's projection → parquet,
//! - `json-blackhole`: the same into a blackhole (Flink's q0 setup),
//! - `csv-parse`, `json-parse`: the decoders alone on the same files.
//!
//! `cargo bench --bench sql_throughput [-- CASE...]`; `RIVULET_BENCH_ROWS`
//! sets the row count (10 000 000 by default). Inputs are generated once into
//! `<target>/bench-data/` (or `RIVULET_BENCH_DATA`) and reused; each is
//! read once, unmeasured, before its cases, so that they find it in the
//! page cache rather than paying for the disk.

mod data;
mod jobs;
mod parsers;

use std::path::PathBuf;

use rivulet_bench::cluster::Bench;

const CASES: &[&str] = &[
    "datagen",
    "csv",
    "json",
    "json-blackhole",
    "csv-parse",
    "json-parse",
];

fn rows() -> u64 {
    rivulet_bench::count_from_env("RIVULET_BENCH_ROWS", 10_000_000)
}

/// A fresh, empty output directory for `case`.
fn output_dir(case: &str) -> PathBuf {
    let dir = data::cache_dir().join("out").join(case);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The bytes of the files in `dir`, then removes it.
fn output_size(dir: &PathBuf) -> String {
    let bytes: u64 = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    let _ = std::fs::remove_dir_all(dir);
    format!("{:.1} MB written", bytes as f64 / 1e6)
}

fn main() {
    let wanted = rivulet_bench::named_on_command_line(CASES);
    let selected = |case: &str| wanted.is_empty() || wanted.iter().any(|w| w == case);
    let rows = rows();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let bench = runtime.block_on(Bench::start());
    println!("{rows} rows, parallelism 1");
    if selected("datagen") {
        let script = jobs::datagen_script(rows);
        runtime.block_on(bench.run("datagen", &script, rows, "about 50% pass the filter"));
    }
    if selected("csv") || selected("csv-parse") {
        let input = data::bids_csv(rows);
        rivulet_bench::warm_page_cache(&input);
        if selected("csv") {
            let output = output_dir("csv");
            let script = jobs::csv_script(&input, &output);
            runtime.block_on(bench.run("csv", &script, rows, "about 10% pass the filter"));
            println!("{:>16} {}", "", output_size(&output));
        }
        if selected("csv-parse") {
            parsers::read_bytes("csv-read", &input, rows);
            parsers::csv(&input);
        }
    }
    let json = ["json", "json-blackhole", "json-parse"];
    if json.iter().any(|c| selected(c)) {
        let input = data::nexmark_json(rows);
        rivulet_bench::warm_page_cache(&input);
        if selected("json") {
            let output = output_dir("json");
            let script = jobs::json_script(&input, &output);
            runtime.block_on(bench.run("json", &script, rows, "q0: 92% bids written"));
            println!("{:>16} {}", "", output_size(&output));
        }
        if selected("json-blackhole") {
            let script = jobs::json_blackhole_script(&input);
            runtime.block_on(bench.run("json-blackhole", &script, rows, "q0 into blackhole"));
        }
        if selected("json-parse") {
            parsers::read_bytes("json-read", &input, rows);
            parsers::json(&input);
        }
    }
    runtime.block_on(bench.stop());
}
