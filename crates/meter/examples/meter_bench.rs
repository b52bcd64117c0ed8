//! Metering throughput, each next to its baseline in the same run:
//!
//! - `ingest <database url>`: usage events/s the recorder (group commit, the production path:
//!   `Recorder::record` from many concurrent callers, each waiting for its event to be
//!   durable) sustains into the database, against the bare insert of the same rows with no
//!   recorder: on PostgreSQL a `COPY … FROM STDIN` (CSV) in one transaction, on SQLite the
//!   store's insert of all rows in one call (2,000-row `INSERT`s in one transaction). Every event is counted back from the table.
//! - `commit <database url>`: the wait for a durable event that a request sees, with 32 callers
//!   each recording one event at a time (a closed loop, like `wrk -c32` on a metered route):
//!   events/s and the wait's p50 and p99.
//! - `limiter <redis url>`: admissions/s through [`Leases::acquire`] (two buckets and the
//!   quota top-up of a metered call's gate) when each call costs a script call (leases of one
//!   token) and when leases grow to the rate.
//!
//! ```sh
//! cargo run --release -p tollgate-meter --example meter_bench -- ingest postgres://…/db
//! cargo run --release -p tollgate-meter --example meter_bench -- ingest 'sqlite:///tmp/x.db?mode=rwc'
//! cargo run --release -p tollgate-meter --example meter_bench -- limiter redis://127.0.0.1:6379
//! ```

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a bench binary fails loudly"
)]

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tollgate_core::plan::RateLimit;
use tollgate_core::TenantId;
use tollgate_meter::lease::{Leases, QuotaAsk};
use tollgate_meter::limiter::Bucket;
use tollgate_meter::recorder::{Recorder, RecorderConfig};
use tollgate_store::usage::UsageEvent;
use tollgate_store::Store;

/// Concurrent callers: as many requests as a busy server holds waiting for their commit.
const TASKS: usize = 2048;

fn event(tenant: TenantId, n: usize) -> UsageEvent {
    let now = chrono::Utc::now();
    UsageEvent {
        tenant_id: tenant.0,
        event_id: format!("evt_{}_{n}", uuid::Uuid::now_v7().simple()),
        principal_kind: "key".into(),
        principal_id: "key_0123456789abcdef".into(),
        operation: "ocr".into(),
        units: 1,
        status: 200,
        latency_ms: 12,
        fingerprint: None,
        period: tollgate_core::plan::Period::of(now).key(),
        hour_epoch: now.timestamp() - now.timestamp() % 3600,
        created_at: now,
    }
}

/// Runs `per_task` operations in each of `TASKS` tasks; returns operations per second.
async fn drive<F, Fut>(per_task: usize, op: F) -> f64
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let start = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let op = op.clone();
            tokio::spawn(async move {
                for i in 0..per_task {
                    op(t * per_task + i).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    (TASKS * per_task) as f64 / start.elapsed().as_secs_f64()
}

/// The median of `v` (sorted in place).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Events recorded for `tenant`.
async fn count(store: &Store, tenant: TenantId) -> usize {
    store.usage_events(tenant).await.unwrap().len()
}

/// The bare insert of `rows` events: COPY (PostgreSQL) or the store's multi-row inserts in one
/// transaction (SQLite). Returns rows/s.
async fn bare(store: &Store, tenant: TenantId, rows: usize) -> f64 {
    let events: Vec<UsageEvent> = (0..rows).map(|n| event(tenant, n)).collect();
    let start = Instant::now();
    if store.is_sqlite() {
        // The store's own insert, all rows in one call: multi-row statements of 2,000 rows
        // (24,000 parameters, under SQLite's 32,766) in one transaction.
        let inserted = store.insert_usage_events(events).await.unwrap();
        assert_eq!(inserted.len(), rows);
    } else {
        use sqlx::postgres::PgPoolCopyExt;
        use std::fmt::Write;
        let mut csv = String::with_capacity(rows * 160);
        for e in &events {
            let _ = writeln!(
                csv,
                "{},{},{},{},{},{},{},{},,{},{},{}",
                e.tenant_id,
                e.event_id,
                e.principal_kind,
                e.principal_id,
                e.operation,
                e.units,
                e.status,
                e.latency_ms,
                e.period,
                e.hour_epoch,
                e.created_at.to_rfc3339()
            );
        }
        let pool = store.conn().get_postgres_connection_pool();
        let mut copy = pool
            .copy_in_raw(
                "COPY usage_events (tenant_id, event_id, principal_kind, principal_id, \
                 operation, units, status, latency_ms, fingerprint, period, hour_epoch, \
                 created_at) FROM STDIN (FORMAT csv)",
            )
            .await
            .unwrap();
        copy.send(csv.into_bytes()).await.unwrap();
        assert_eq!(copy.finish().await.unwrap(), rows as u64);
    }
    let rate = rows as f64 / start.elapsed().as_secs_f64();
    assert_eq!(
        count(store, tenant).await,
        rows,
        "every bare row is in the table"
    );
    rate
}

async fn ingest(url: &str) {
    let store = Store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    let backend = if store.is_sqlite() {
        "SQLite, the store's 2,000-row INSERTs in one transaction, one call"
    } else {
        "PostgreSQL, COPY (CSV) in one transaction"
    };
    let per_task = 50;
    let rows = TASKS * per_task;
    let (mut bares, mut recorded) = (Vec::new(), Vec::new());
    for round in 1..=5 {
        let base = bare(&store, TenantId::new(), rows).await;
        let tenant = TenantId::new();
        let cancel = CancellationToken::new();
        let (recorder, task) =
            Recorder::start(store.clone(), RecorderConfig::default(), cancel.clone());
        let rate = drive(per_task, move |n| {
            let recorder = recorder.clone();
            async move {
                assert!(recorder.record(event(tenant, n)).await.unwrap());
            }
        })
        .await;
        cancel.cancel();
        task.await.unwrap();
        assert_eq!(
            count(&store, tenant).await,
            rows,
            "every recorded event is in the table"
        );
        println!(
            "ingest round {round}: bare {base:.0} rows/s, recorder {rate:.0} events/s ({TASKS} callers), ratio {:.2}",
            rate / base
        );
        bares.push(base);
        recorded.push(rate);
    }
    let (b, r) = (median(&mut bares), median(&mut recorded));
    println!(
        "ingest medians ({rows} events a round): bare ({backend}) {b:.0}/s, recorder {r:.0}/s, ratio {:.2}",
        r / b
    );
}

/// A closed loop like `wrk -c32` on a metered route, without HTTP: `callers` tasks each record
/// an event, wait for it to be durable, and record the next, for `secs` seconds. Returns
/// events/s and the p50 and p99 of the wait, in milliseconds.
async fn closed_loop(recorder: &Recorder, callers: usize, secs: f64) -> (f64, f64, f64) {
    let tenant = TenantId::new();
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|t| {
            let recorder = recorder.clone();
            tokio::spawn(async move {
                let mut waits = Vec::new();
                let mut n = t << 32;
                while Instant::now() < until {
                    let at = Instant::now();
                    assert!(recorder.record(event(tenant, n)).await.unwrap());
                    waits.push(at.elapsed().as_secs_f64() * 1e3);
                    n += 1;
                }
                waits
            })
        })
        .collect();
    let mut waits = Vec::new();
    for t in tasks {
        waits.extend(t.await.unwrap());
    }
    let rate = waits.len() as f64 / start.elapsed().as_secs_f64();
    waits.sort_by(f64::total_cmp);
    let at = |q: f64| waits[((waits.len() - 1) as f64 * q) as usize];
    (rate, at(0.5), at(0.99))
}

/// The commit wait a request sees: `closed_loop` with 32 callers through the recorder as the
/// server configures it, 5 rounds of 3 s, medians.
async fn commit(url: &str, writers: Option<usize>) {
    let store = Store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    let (mut rates, mut p50s, mut p99s) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=5 {
        let cancel = CancellationToken::new();
        let mut config = RecorderConfig::default();
        config.writers = writers.unwrap_or(config.writers);
        let (recorder, task) = Recorder::start(store.clone(), config, cancel.clone());
        let (rate, p50, p99) = closed_loop(&recorder, 32, 3.0).await;
        let stats = recorder.stats();
        let batches = stats.batches.load(Ordering::Relaxed).max(1) as f64;
        println!(
            "  {:.1} events a statement, {:.3} ms a statement",
            stats.events.load(Ordering::Relaxed) as f64 / batches,
            stats.write_micros.load(Ordering::Relaxed) as f64 / batches / 1e3
        );
        cancel.cancel();
        task.await.unwrap();
        println!("commit round {round}: {rate:.0} events/s, wait p50 {p50:.3} ms, p99 {p99:.3} ms (32 callers)");
        rates.push(rate);
        p50s.push(p50);
        p99s.push(p99);
    }
    println!(
        "commit medians: {:.0} events/s, wait p50 {:.3} ms, p99 {:.3} ms (32 callers)",
        median(&mut rates),
        median(&mut p50s),
        median(&mut p99s)
    );
}

async fn limiter(url: &str) {
    let conn = tollgate_store::redis_conn::connect(url, Default::default())
        .await
        .unwrap();
    // The quota counters are seeded from recorded usage: an empty database of the bench's own.
    let dir = std::env::temp_dir().join(format!("meter-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::connect(&format!("sqlite://{}/limiter.db?mode=rwc", dir.display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let prefix = format!("bench-{}", uuid::Uuid::new_v4().simple());
    let leases = Arc::new(Leases::new(conn, store, &prefix));
    let period = tollgate_core::plan::Period::of(chrono::Utc::now()).key();
    let tenants: Arc<Vec<TenantId>> = Arc::new((0..16).map(|_| TenantId::new()).collect());
    // Leases of one token (a burst of 7 caps them at 7 / 4 = 1): a script call per check.
    // Then leases sized to the rate (up to a tenth of a second of it).
    for (name, burst) in [("one script call per check", 7), ("leases", 1_000_000_000)] {
        let limit = RateLimit { rate: 1e9, burst };
        for round in 1..=3 {
            let (l, tenants, period) = (leases.clone(), tenants.clone(), period.clone());
            let rate = drive(40, move |n| {
                let (l, tenants, period) = (l.clone(), tenants.clone(), period.clone());
                async move {
                    let tenant = tenants[n % 16];
                    let buckets = [
                        Bucket {
                            name: "tenant",
                            key: format!("{{{}}}:t", tenant.0),
                            limit,
                        },
                        Bucket {
                            name: "key",
                            key: format!("{{{}}}:p:{}", tenant.0, n % 256),
                            limit,
                        },
                    ];
                    let ask = QuotaAsk {
                        tenant,
                        period: &period,
                        units: 0,
                        limit: i64::MAX / 2,
                        hard: false,
                    };
                    let got = l.acquire(&buckets, Some(ask)).await.unwrap();
                    assert!(got.decisions.iter().all(|d| d.allowed));
                }
            })
            .await;
            println!("limiter, {name}, round {round}: {rate:.0} checks/s");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    match (args.get(1).map(String::as_str), args.get(2)) {
        (Some("ingest"), Some(url)) => ingest(url).await,
        (Some("commit"), Some(url)) => commit(url, args.get(3).map(|w| w.parse().unwrap())).await,
        (Some("limiter"), Some(url)) => limiter(url).await,
        _ => panic!(
            "usage: meter_bench ingest <database url> | commit <database url> [writers] | limiter <redis url>"
        ),
    }
}
