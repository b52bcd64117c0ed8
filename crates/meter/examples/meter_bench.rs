//! Metering throughput, each next to its baseline in the same run:
//!
//! - `ingest <database url>`: usage events/s the recorder (group commit, the production path:
//!   `Recorder::record` from many concurrent callers, each waiting for its event to be
//!   durable) sustains into the database, against the bare insert of the same rows with no
//!   recorder: on PostgreSQL a `COPY … FROM STDIN` (CSV) in one transaction, on SQLite one
//!   prepared `INSERT` per row in one transaction. Every event is counted back from the table.
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

/// Events recorded for `tenant`.
async fn count(store: &Store, tenant: TenantId) -> usize {
    store.usage_events(tenant).await.unwrap().len()
}

/// The bare insert of `rows` events: COPY (PostgreSQL) or prepared inserts in one
/// transaction (SQLite). Returns rows/s.
async fn bare(store: &Store, tenant: TenantId, rows: usize) -> f64 {
    let events: Vec<UsageEvent> = (0..rows).map(|n| event(tenant, n)).collect();
    let start = Instant::now();
    if store.is_sqlite() {
        let mut tx = store
            .conn()
            .get_sqlite_connection_pool()
            .begin()
            .await
            .unwrap();
        for e in &events {
            sqlx::query(
                "INSERT INTO usage_events (tenant_id, event_id, principal_kind, principal_id, \
                 operation, units, status, latency_ms, fingerprint, period, hour_epoch, \
                 created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(e.tenant_id)
            .bind(&e.event_id)
            .bind(&e.principal_kind)
            .bind(&e.principal_id)
            .bind(&e.operation)
            .bind(e.units)
            .bind(e.status)
            .bind(e.latency_ms)
            .bind(&e.fingerprint)
            .bind(&e.period)
            .bind(e.hour_epoch)
            .bind(e.created_at)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
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
        "SQLite, one prepared INSERT per row in one transaction"
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
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (b, r) = (median(&mut bares), median(&mut recorded));
    println!(
        "ingest medians ({rows} events a round): bare ({backend}) {b:.0}/s, recorder {r:.0}/s, ratio {:.2}",
        r / b
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
        (Some("limiter"), Some(url)) => limiter(url).await,
        _ => panic!("usage: meter_bench ingest <database url> | limiter <redis url>"),
    }
}
