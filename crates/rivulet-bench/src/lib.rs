//! Benchmarks only: `benches/sql_throughput` measures SQL jobs' rows per
//! second on an in-process cluster and the format decoders alone. This
//! library is empty; see `docs/benchmarks.md` for the commands and figures.
