//! The usage recorder: group commit that adapts to the queue. Callers hand over an event and
//! wait; each writer task takes whatever is queued (up to `max_batch`) — the events that
//! arrived while the previous batches were being written, so a batch is one event when the
//! server is quiet and thousands when it is busy, with no timer adding latency — writes them
//! in one statement that skips duplicates (PostgreSQL: arrays through `UNNEST`), on a
//! connection each writer keeps (no pool checkout or liveness ping per batch), and only
//! then answers each caller. So a response is sent only after its event
//! is durable, and hundreds of events cost one statement. On shutdown whatever is queued is
//! written before the recorder stops.

use crate::MeterError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Mutex};
use tokio_util::sync::CancellationToken;
use tollgate_store::usage::{UsageEvent, UsageWriter, WriteFailed, Written};
use tollgate_store::Store;

/// Batch limits.
#[derive(Debug, Clone, Copy)]
pub struct RecorderConfig {
    /// Most events per statement.
    pub max_batch: usize,
    /// Batches written side by side (PostgreSQL; SQLite always has one writer).
    pub writers: usize,
    /// Events that may wait for the writer.
    pub queue: usize,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        Self {
            max_batch: 2_000,
            // Two: one batch forms while the other commits. More only make the batches
            // smaller: with 32 callers in `scripts/bench-meter`, 2 writers served 15.5-16.7k
            // metered calls/s and 4 served 13.0-13.3k.
            writers: 2,
            queue: 20_000,
        }
    }
}

struct Pending {
    event: UsageEvent,
    done: oneshot::Sender<Result<bool, MeterError>>,
}

/// What the writers have done so far: how well events group into statements, and how long a
/// statement takes.
#[derive(Debug, Default)]
pub struct RecorderStats {
    /// Batches written (a statement each, unless one had to be written again).
    pub batches: AtomicU64,
    /// Events written.
    pub events: AtomicU64,
    /// Batches written again after their connection was lost.
    pub retried: AtomicU64,
    /// Time spent in the statements, in microseconds, summed over the writers.
    pub write_micros: AtomicU64,
}

/// Hands events to the writer task.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<Pending>,
    stats: Arc<RecorderStats>,
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
        let stats = Arc::new(RecorderStats::default());
        let task = tokio::spawn(run(store, config, rx, cancel, stats.clone()));
        (Self { tx, stats }, task)
    }

    /// Counters of the writers' work.
    pub fn stats(&self) -> &RecorderStats {
        &self.stats
    }

    /// Whether the writer has stopped (nothing more can be recorded).
    pub fn is_stopped(&self) -> bool {
        self.tx.is_closed()
    }

    /// Records `event` durably; `Ok(false)` when an event with its id was already recorded.
    /// Event ids must be unique by construction (the server makes them): when a batch is
    /// written again after its connection failed, an event found already there is taken as
    /// written by the first attempt.
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
    rx: mpsc::Receiver<Pending>,
    cancel: CancellationToken,
    stats: Arc<RecorderStats>,
) {
    let rx = Arc::new(Mutex::new(rx));
    // SQLite takes one writer at a time: more writers would only queue on its lock (and
    // back off while waiting, which showed as a 300 ms p99 in `scripts/bench-meter`).
    let writers = if store.is_sqlite() {
        1
    } else {
        config.writers.max(1)
    };
    let writers: Vec<_> = (0..writers)
        .map(|_| {
            tokio::spawn(writer(
                store.clone(),
                config.max_batch,
                rx.clone(),
                cancel.clone(),
                stats.clone(),
            ))
        })
        .collect();
    for w in writers {
        let _ = w.await;
    }
    // Shutdown: no new events are taken; whatever is queued is written.
    let mut out = store.usage_writer();
    let mut rx = rx.lock().await;
    rx.close();
    let mut rest = Vec::new();
    while let Some(p) = rx.recv().await {
        rest.push(p);
        if rest.len() >= config.max_batch {
            write(&mut out, std::mem::take(&mut rest), &stats).await;
        }
    }
    write(&mut out, rest, &stats).await;
    tracing::info!(
        events = stats.events.load(Ordering::Relaxed),
        batches = stats.batches.load(Ordering::Relaxed),
        retried = stats.retried.load(Ordering::Relaxed),
        write_ms = stats.write_micros.load(Ordering::Relaxed) / 1000,
        "usage recorder stopped"
    );
}

/// One writer: takes the next event and whatever else is already queued (no timer: events
/// that arrive while a batch is being written form the next batch), and writes them. Several
/// writers let batches commit side by side.
async fn writer(
    store: Store,
    max_batch: usize,
    rx: Arc<Mutex<mpsc::Receiver<Pending>>>,
    cancel: CancellationToken,
    stats: Arc<RecorderStats>,
) {
    let mut out = store.usage_writer();
    loop {
        let batch = {
            let mut rx = rx.lock().await;
            let first = tokio::select! {
                biased;
                p = rx.recv() => p,
                () = cancel.cancelled() => None,
            };
            let Some(first) = first else { return };
            let mut batch = vec![first];
            while batch.len() < max_batch {
                match rx.try_recv() {
                    Ok(p) => batch.push(p),
                    Err(_) => break,
                }
            }
            batch
        };
        write(&mut out, batch, &stats).await;
    }
}

async fn write(out: &mut UsageWriter, batch: Vec<Pending>, stats: &RecorderStats) {
    if batch.is_empty() {
        return;
    }
    let started = std::time::Instant::now();
    let (events, dones): (Vec<UsageEvent>, Vec<_>) =
        batch.into_iter().map(|p| (p.event, p.done)).unzip();
    // The same id twice in one batch (a client retrying at once): the first is the event,
    // the others are duplicates.
    let keys: Vec<(uuid::Uuid, String)> = events
        .iter()
        .map(|e| (e.tenant_id, e.event_id.clone()))
        .collect();
    let mut seen = std::collections::HashSet::with_capacity(keys.len());
    let first: Vec<bool> = keys.iter().map(|k| seen.insert(k)).collect();
    let unique = seen.len();
    let events: Vec<UsageEvent> = events
        .into_iter()
        .zip(&first)
        .filter_map(|(e, f)| f.then_some(e))
        .collect();
    let n = dones.len();
    let written = out.write(&events).await;
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    stats.write_micros.fetch_add(micros, Ordering::Relaxed);
    if let Ok(w) = &written {
        stats.batches.fetch_add(1, Ordering::Relaxed);
        // Events, not callers: a duplicate in the batch is answered "not new".
        stats.events.fetch_add(unique as u64, Ordering::Relaxed);
        if w.retried {
            stats.retried.fetch_add(1, Ordering::Relaxed);
        }
    }
    match written {
        Ok(Written { inserted, retried }) => {
            // Usually every event is new (ids are the server's); only otherwise is each one
            // looked up among the rows inserted. After a retry, an event the retry found
            // already there was written by the first attempt (the ids are the server's, never
            // reused), so it counts as written.
            let all = retried || inserted.len() == unique;
            let inserted: std::collections::HashSet<(uuid::Uuid, String)> = if all {
                Default::default()
            } else {
                inserted.into_iter().collect()
            };
            for ((done, first), key) in dones.into_iter().zip(first).zip(&keys) {
                let _ = done.send(Ok(first && (all || inserted.contains(key))));
            }
        }
        Err(WriteFailed {
            error,
            maybe_written,
        }) => {
            tracing::error!(error = %error, events = n, maybe_written, "usage events could not be written");
            for done in dones {
                let _ = done.send(Err(if maybe_written {
                    MeterError::UsageOutcomeUnknown
                } else {
                    MeterError::Database("usage events could not be written".into())
                }));
            }
        }
    }
}
