//! Benchmark support: [`cluster`] runs SQL jobs on an in-process cluster and
//! [`measure`] takes wall time, CPU time and peak memory. The benchmarks are
//! `benches/sql_throughput` (SQL jobs and the format decoders, issue 3) and
//! `benches/nexmark` (the Nexmark queries); `docs/benchmarks.md` has the
//! commands and figures.

pub mod cluster;
pub mod measure;

use std::path::PathBuf;

/// Where generated inputs and job outputs live: `RIVULET_BENCH_DATA`, else
/// `bench-data/` beside the bench's `target_tmpdir` (`CARGO_TARGET_TMPDIR`).
pub fn data_dir(target_tmpdir: &str) -> PathBuf {
    if let Ok(dir) = std::env::var("RIVULET_BENCH_DATA") {
        return PathBuf::from(dir);
    }
    let tmp = PathBuf::from(target_tmpdir);
    tmp.parent().unwrap_or(&tmp).join("bench-data")
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
