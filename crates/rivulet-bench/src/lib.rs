//! Benchmark support: [`cluster`] runs SQL jobs on an in-process cluster and
//! [`measure`] takes wall time, CPU time and peak memory, and [`cores`]
//! confines a run to the cores it is measured on. The benchmarks are
//! `benches/sql_throughput` (SQL jobs and the format decoders, issue 3) and
//! `benches/nexmark` (the Nexmark queries); `docs/benchmarks.md` has the
//! commands and figures.

pub mod cluster;
pub mod cores;
pub mod measure;

use std::path::{Path, PathBuf};

/// Where generated inputs and job outputs live: `RIVULET_BENCH_DATA`, else
/// `bench-data/` beside the bench's `target_tmpdir` (`CARGO_TARGET_TMPDIR`).
pub fn data_dir(target_tmpdir: &str) -> PathBuf {
    if let Ok(dir) = std::env::var("RIVULET_BENCH_DATA") {
        return PathBuf::from(dir);
    }
    let tmp = PathBuf::from(target_tmpdir);
    tmp.parent().unwrap_or(&tmp).join("bench-data")
}

/// The `nexmark` connector's first `events` events as JSON lines in the
/// layout of Flink's Nexmark source table (`rivulet nexmark-json`), in
/// `dir`: the file Flink's figures come from. Written once per event count
/// (under a temporary name, renamed when complete) and reused.
pub fn nexmark_events_file(dir: &Path, events: u64) -> PathBuf {
    let path = dir.join(format!("nexmark-events-{events}.json"));
    if !path.exists() {
        std::fs::create_dir_all(dir).unwrap();
        let partial = path.with_extension("partial");
        let options = [("events.num".to_string(), events.to_string())].into();
        let spec = rivulet::nexmark_json::spec(&options).unwrap();
        let file = std::fs::File::create(&partial).unwrap();
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        rivulet::nexmark_json::write_events(&spec, &mut out).unwrap();
        drop(out);
        std::fs::rename(&partial, &path).unwrap();
    }
    path
}

/// Reads the input file `path` once, unmeasured, so that the measured run
/// after it finds it in the page cache rather than paying for the disk:
/// case (c) read from disk took 4.71 s of CPU against 3.56 s from the
/// cache, the difference all kernel time.
pub fn warm_page_cache(path: &Path) {
    let started = std::time::Instant::now();
    let read = std::fs::File::open(path)
        .and_then(|mut file| std::io::copy(&mut file, &mut std::io::sink()))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    println!(
        "(input {:.2} GB read once into the page cache in {:.2} s, not measured)",
        read as f64 / 1e9,
        started.elapsed().as_secs_f64()
    );
}

/// A count from the environment variable `name` (`_` separators allowed),
/// or `default`.
pub fn count_from_env(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) => value
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("{name} is a number, not '{value}'")),
        Err(_) => default,
    }
}

/// The names on the bench's command line (cargo passes `--bench`, which is
/// left out), each checked to be one of `known`.
pub fn named_on_command_line(known: &[&str]) -> Vec<String> {
    let named: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    for name in &named {
        assert!(
            known.contains(&name.as_str()),
            "unknown '{name}'; the names are {known:?}"
        );
    }
    named
}
