//! The two moves every actor handle makes: ask the actor and await its reply,
//! and publish a small piece of state for lock-free reads.

use tokio::sync::{mpsc, oneshot, watch};

use crate::error::ClusterError;

/// Sends the message built around a reply channel and awaits the reply.
pub async fn ask<M, T>(
    sender: &mpsc::UnboundedSender<M>,
    component: &str,
    make: impl FnOnce(oneshot::Sender<T>) -> M,
) -> Result<T, ClusterError> {
    let (reply, answer) = oneshot::channel();
    sender
        .send(make(reply))
        .map_err(|_| ClusterError::unreachable(component))?;
    answer
        .await
        .map_err(|_| ClusterError::unreachable(component))
}

/// Publishes `current` if it differs from what readers last saw.
pub fn publish<T: PartialEq>(published: &watch::Sender<T>, current: T) {
    published.send_if_modified(|seen| {
        let changed = *seen != current;
        if changed {
            *seen = current;
        }
        changed
    });
}
