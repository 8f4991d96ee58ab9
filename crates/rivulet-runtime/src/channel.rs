//! Bounded channels between subtasks in one process.
//!
//! Every consumer subtask has one bounded queue that all its producers write into;
//! each element is tagged with the producer's input-channel index. A full queue
//! makes producers wait, which is back-pressure. [`LocalChannels`] is the registry
//! through which producers and consumers find a queue, whichever is deployed first.
//! A TaskManager in another process will reach the same queues over TCP.

use std::collections::HashMap;
use std::sync::Mutex;

use rivulet_common::{JobId, JobVertexId};
use tokio::sync::mpsc;

use crate::element::ChannelElement;

/// Identifies the input queue of one consumer subtask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChannelKey {
    pub job_id: JobId,
    pub vertex_id: JobVertexId,
    pub subtask: u32,
}

pub type ElementSender = mpsc::Sender<ChannelElement>;
pub type ElementReceiver = mpsc::Receiver<ChannelElement>;

struct QueueEntry {
    sender: ElementSender,
    receiver: Option<ElementReceiver>,
}

/// The in-process registry of consumer queues.
pub struct LocalChannels {
    queues: Mutex<HashMap<ChannelKey, QueueEntry>>,
    capacity: usize,
}

impl LocalChannels {
    /// `capacity` is the number of elements a consumer queue holds before its
    /// producers are back-pressured.
    pub fn new(capacity: usize) -> Self {
        LocalChannels {
            queues: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    fn with_entry<R>(&self, key: ChannelKey, f: impl FnOnce(&mut QueueEntry) -> R) -> R {
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        let entry = queues.entry(key).or_insert_with(|| {
            let (sender, receiver) = mpsc::channel(self.capacity);
            QueueEntry {
                sender,
                receiver: Some(receiver),
            }
        });
        f(entry)
    }

    /// A handle to write into the consumer's queue.
    pub fn sender(&self, key: ChannelKey) -> ElementSender {
        self.with_entry(key, |e| e.sender.clone())
    }

    /// The consumer's end of its queue; `None` if it was already taken.
    pub fn take_receiver(&self, key: ChannelKey) -> Option<ElementReceiver> {
        self.with_entry(key, |e| e.receiver.take())
    }

    /// Forgets every queue of a job once it reached a terminal state.
    pub fn release_job(&self, job_id: JobId) {
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        queues.retain(|key, _| key.job_id != job_id);
    }
}
