//! The usage recorder: group commit. Callers hand over an event and wait; a background task
//! collects events for at most a few milliseconds (or a few hundred events), writes them in
//! one multi-row insert that skips duplicates, and only then answers each caller — so a
//! response is sent only after its event is durable, and thousands of events cost one
//! statement. On shutdown the task writes whatever is queued before it stops.

use crate::MeterError;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tollgate_store::usage::UsageEvent;
use tollgate_store::Store;

/// Batch limits.
#[derive(Debug, Clone, Copy)]
pub struct RecorderConfig {
    /// Most events per statement.
    pub max_batch: usize,
    /// Longest wait for more events after the first.
    pub max_delay: Duration,
    /// Events that may wait for the writer.
    pub queue: usize,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        Self {
            max_batch: 500,
            max_delay: Duration::from_millis(2),
            queue: 20_000,
        }
    }
}

struct Pending {
    event: UsageEvent,
    done: oneshot::Sender<Result<bool, MeterError>>,
}

/// Hands events to the writer task.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<Pending>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Recorder")
    }
}

impl Recorder {
    /// Starts the writer; it stops (after writing what is queued) when `cancel` fires.
    pub fn start(
        store: Store,
        config: RecorderConfig,
        cancel: CancellationToken,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(config.queue.max(1));
        let task = tokio::spawn(run(store, config, rx, cancel));
        (Self { tx }, task)
    }

    /// Records `event` durably; `Ok(false)` when an event with its id was already recorded.
    pub async fn record(&self, event: UsageEvent) -> Result<bool, MeterError> {
        let (done, answer) = oneshot::channel();
        self.tx
            .send(Pending { event, done })
            .await
            .map_err(|_| MeterError::Unavailable("the usage recorder has stopped".into()))?;
        answer
            .await
            .map_err(|_| MeterError::Unavailable("the usage recorder has stopped".into()))?
    }
}

async fn run(
    store: Store,
    config: RecorderConfig,
    mut rx: mpsc::Receiver<Pending>,
    cancel: CancellationToken,
) {
    loop {
        let first = tokio::select! {
            biased;
            p = rx.recv() => p,
            () = cancel.cancelled() => None,
        };
        let Some(first) = first else { break };
        let mut batch = vec![first];
        let deadline = tokio::time::sleep(config.max_delay);
        tokio::pin!(deadline);
        while batch.len() < config.max_batch {
            tokio::select! {
                p = rx.recv() => match p {
                    Some(p) => batch.push(p),
                    None => break,
                },
                () = &mut deadline => break,
            }
        }
        write(&store, batch).await;
    }
    // Shutdown: no new events are taken; whatever is queued is written.
    rx.close();
    let mut rest = Vec::new();
    while let Some(p) = rx.recv().await {
        rest.push(p);
        if rest.len() >= config.max_batch {
            write(&store, std::mem::take(&mut rest)).await;
        }
    }
    write(&store, rest).await;
}

async fn write(store: &Store, batch: Vec<Pending>) {
    if batch.is_empty() {
        return;
    }
    // The same id twice in one batch (a client retrying at once): the first is the event,
    // the others are duplicates.
    let mut seen = std::collections::HashSet::new();
    let first: Vec<bool> = batch
        .iter()
        .map(|p| seen.insert((p.event.tenant_id, p.event.event_id.clone())))
        .collect();
    let events: Vec<UsageEvent> = batch
        .iter()
        .zip(&first)
        .filter(|(_, f)| **f)
        .map(|(p, _)| p.event.clone())
        .collect();
    match store.insert_usage_events(events).await {
        Ok(inserted) => {
            let inserted: std::collections::HashSet<(uuid::Uuid, String)> =
                inserted.into_iter().collect();
            for (p, first) in batch.into_iter().zip(first) {
                let key = (p.event.tenant_id, p.event.event_id.clone());
                let _ = p.done.send(Ok(first && inserted.contains(&key)));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, events = batch.len(), "usage events could not be written");
            for p in batch {
                let _ = p.done.send(Err(MeterError::Unavailable(
                    "usage could not be recorded".into(),
                )));
            }
        }
    }
}
