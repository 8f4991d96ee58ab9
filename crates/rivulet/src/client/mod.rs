//! The command line as a REST client of a running cluster, as Flink's CLI
//! is: `run`, `list`, `cancel` and `info` talk to the JobManager at
//! `-m host:port` (default `localhost:8081`) over the same REST API any
//! other client uses, and print what Flink's CLI prints.

mod cancel;
mod http;
mod info;
mod list;
mod run;
mod upload;

pub use cancel::cancel;
pub use http::RestClient;
pub use info::info;
pub use list::{ListFilter, list};
pub use run::{RunOptions, run};
