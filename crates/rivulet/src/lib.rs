//! The `rivulet` binary's library half: starting a standalone cluster (a
//! JobManager with its REST endpoint and N TaskManagers in one process), and
//! the demo job a new user sees on the first run. The binary and the
//! integration tests start clusters through the same [`standalone::start`].
//! [`client`] is the command line's REST client (`run`, `list`, `cancel`, `info`);
//! [`nexmark_json`] writes the Nexmark event stream as a JSON-lines file.

pub mod allocator;
pub use allocator::tune_allocator;

pub mod client;
pub mod demo;
pub mod nexmark_json;
pub mod standalone;
