//! The `rivulet` binary's library half: starting a standalone cluster (a
//! JobManager with its REST endpoint and N TaskManagers in one process), and
//! the demo job a new user sees on the first run. The binary and the
//! integration tests start clusters through the same [`standalone::start`].
//! [`client`] is the command line's REST client (`run`, `list`, `cancel`, `info`);
//! [`nexmark_json`] writes the Nexmark event stream as a JSON-lines file.

/// mimalloc for every process that runs a cluster (the binary, the
/// benchmarks, the tests): batches allocate and free large column buffers
/// at a high rate, and glibc's malloc hands those back to the kernel and
/// faults them in again (page faults and zeroing showed in the profiles of
/// the file sources); mimalloc keeps them for reuse.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod client;
pub mod demo;
pub mod nexmark_json;
pub mod standalone;
