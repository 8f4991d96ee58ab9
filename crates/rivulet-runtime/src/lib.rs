//! The data plane of Rivulet.
//!
//! It owns what a job *is* and how it *runs*, and nothing of how a cluster is
//! organised: the serializable [`job_graph::JobGraph`] (vertices holding operator
//! chains, edges with a partitioning strategy), the [`element::StreamElement`]s that
//! flow between subtasks (Arrow batches with watermarks, checkpoint barriers and
//! end-of-data in-band), the built-in [`operators`] and the file [`formats`] they read and write, the [`partition`]ing of
//! batches over channels, the bounded [`channel`]s that carry them (so a slow
//! consumer back-pressures its producers), and the [`task`] loop that runs one
//! subtask and measures its busy, idle and back-pressured time, with the
//! [`watermarks`] of its inputs. Keyed [`state`]
//! (value, list and map state, timers) lives in key groups so it can be
//! snapshotted and restored by key-group range.

pub mod changelog;
pub mod channel;
pub mod element;
pub mod error;
pub mod formats;
pub mod functions;
pub mod job_graph;
pub mod key_groups;
mod leb128;
pub mod metrics;
pub mod operators;
pub mod partition;
pub mod state;
pub mod task;
pub mod watermarks;

pub use error::RuntimeError;
