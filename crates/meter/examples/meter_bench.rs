//! Metering throughput, each next to its baseline in the same run:
//!
//! - `ingest`: usage events/s the recorder (group commit) sustains into the database, against
//!   one INSERT per event (no batching) with the same concurrency.
//! - `limiter`: GCRA checks/s against Redis (one script call per check, two buckets), for
//!   comparison with `redis-benchmark -t set` on the same machine (run by `scripts/bench-meter`).
//!
//! ```sh
//! cargo run --release -p tollgate-meter --example meter_bench -- ingest postgres://…/db
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
use tollgate_meter::limiter::{Bucket, RateLimiter, RedisLimiter};
use tollgate_meter::recorder::{Recorder, RecorderConfig};
use tollgate_store::usage::UsageEvent;
use tollgate_store::Store;

const TASKS: usize = 256;

fn event(tenant: TenantId, n: usize) -> UsageEvent {
    let now = chrono::Utc::now();
    UsageEvent {
        tenant_id: tenant.0,
        event_id: format!("bench-{}-{n}", uuid::Uuid::new_v4().simple()),
        principal_kind: "key".into(),
        principal_id: "bench".into(),
        operation: "bench".into(),
        units: 1,
        status: 200,
        latency_ms: 1,
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

async fn ingest(url: &str) {
    let store = Store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    let tenant = TenantId::new();
    let rounds = 5;
    for round in 1..=rounds {
        let single = {
            let store = store.clone();
            drive(20, move |n| {
                let store = store.clone();
                async move {
                    assert_eq!(
                        store
                            .insert_usage_events(vec![event(tenant, n)])
                            .await
                            .unwrap()
                            .len(),
                        1
                    );
                }
            })
            .await
        };
        let cancel = CancellationToken::new();
        let (recorder, task) =
            Recorder::start(store.clone(), RecorderConfig::default(), cancel.clone());
        let batched = drive(200, move |n| {
            let recorder = recorder.clone();
            async move {
                assert!(recorder.record(event(tenant, n)).await.unwrap());
            }
        })
        .await;
        cancel.cancel();
        task.await.unwrap();
        println!("ingest round {round}: one INSERT per event {single:.0}/s, group commit {batched:.0}/s, ratio {:.1}", batched / single);
    }
}

async fn limiter(url: &str) {
    let client = redis::Client::open(url).unwrap();
    let conn = client.get_connection_manager().await.unwrap();
    let prefix = format!("bench-{}", uuid::Uuid::new_v4().simple());
    let limiter = Arc::new(RedisLimiter::new(conn, &prefix));
    let limit = RateLimit {
        rate: 1e9,
        burst: 1_000_000_000,
    };
    for round in 1..=5 {
        let l = limiter.clone();
        let rate = drive(400, move |n| {
            let l = l.clone();
            async move {
                let buckets = [
                    Bucket {
                        name: "tenant",
                        key: format!("t:{}", n % 16),
                        limit,
                    },
                    Bucket {
                        name: "key",
                        key: format!("p:{}", n % 256),
                        limit,
                    },
                ];
                assert!(l.check(&buckets).await.unwrap().iter().all(|d| d.allowed));
            }
        })
        .await;
        println!("limiter round {round}: {rate:.0} checks/s");
        tokio::time::sleep(Duration::from_millis(200)).await;
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
