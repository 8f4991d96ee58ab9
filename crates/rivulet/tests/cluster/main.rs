//! Integration tests: real clusters on ephemeral ports, driven over HTTP.
//! One test binary (it links the whole stack), one module per concern.

mod support;

mod cli;
mod compatibility;
mod errors;
mod event_time;
mod jars;
mod lifecycle;
mod nexmark_file;
mod nexmark_queries;
mod sql_golden;
