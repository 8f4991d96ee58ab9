//! The elements that flow through a job. Control elements travel in-band with
//! the data, so every subtask sees them in order with the batches around them.

use arrow_array::RecordBatch;

/// A checkpoint barrier, injected at the sources and aligned at every input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointBarrier {
    pub checkpoint_id: i64,
    pub timestamp: i64,
}

/// One element of a stream.
#[derive(Debug, Clone)]
pub enum StreamElement {
    Batch(RecordBatch),
    /// Event time has advanced to this many milliseconds since the epoch.
    Watermark(i64),
    Barrier(CheckpointBarrier),
    /// The producer is idle (Flink's `WatermarkStatus.IDLE`): leave its channel
    /// out of the watermark until it sends a batch or a watermark again.
    Idle,
    /// The producer will send nothing more.
    EndOfData,
}

/// The watermark that closes every event-time window: the end of input.
pub const MAX_WATERMARK: i64 = i64::MAX;

/// An element tagged with the index of the input channel it came through, so a
/// consumer with many producers can track watermarks and end-of-data per channel.
#[derive(Debug, Clone)]
pub struct ChannelElement {
    pub channel: usize,
    pub element: StreamElement,
}
