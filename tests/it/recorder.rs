//! The usage recorder's writers keep their database connections between batches. What that
//! must not cost: an event lost or a caller failed when the database ends those connections,
//! a batch over SQLite's bind-parameter limit written in part, or a pooled SQLite connection
//! that commits without syncing.

use crate::harness::{fresh_pg_database, pg_admin_url};
use anyhow::Result;
use sea_orm::sqlx;
use sea_orm::{ConnectionTrait, Database};
use std::sync::atomic::Ordering;
use tokio_util::sync::CancellationToken;
use tollgate_core::TenantId;
use tollgate_meter::recorder::{Recorder, RecorderConfig};
use tollgate_store::usage::UsageEvent;
use tollgate_store::Store;

fn event(tenant: TenantId) -> UsageEvent {
    // PostgreSQL keeps microseconds: so must the event, to compare it with its row.
    let now = chrono::Utc::now();
    let now = chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
    UsageEvent {
        tenant_id: tenant.0,
        event_id: format!("evt_{}", uuid::Uuid::now_v7().simple()),
        principal_kind: "key".into(),
        principal_id: "key_test".into(),
        operation: "ocr".into(),
        units: 1,
        status: 200,
        latency_ms: 3,
        fingerprint: None,
        period: tollgate_core::plan::Period::of(now).key(),
        hour_epoch: now.timestamp() - now.timestamp().rem_euclid(3600),
        created_at: now,
    }
}

/// Records `n` events from 8 concurrent callers; every one must be answered "written".
async fn record_all(recorder: &Recorder, tenant: TenantId, n: usize) -> Result<()> {
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let recorder = recorder.clone();
            tokio::spawn(async move {
                for _ in (t..n).step_by(8) {
                    assert!(recorder.record(event(tenant)).await?);
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_ended_by_the_database_fail_no_caller() -> Result<()> {
    let url = fresh_pg_database().await?;
    let db = url.rsplit('/').next().unwrap_or_default().to_owned();
    let store = Store::connect(&url).await?;
    let cancel = CancellationToken::new();
    let (recorder, task) =
        Recorder::start(store.clone(), RecorderConfig::default(), cancel.clone());
    let tenant = TenantId::new();
    record_all(&recorder, tenant, 200).await?;
    // Every session on the database ends, the writers' held connections among them (as in a
    // failover or an operator's pg_terminate_backend), and is gone before the next batch.
    let admin = Database::connect(pg_admin_url()).await?;
    let sessions = |sql: &'static str| {
        let (admin, db) = (&admin, db.clone());
        async move {
            let row = admin
                .query_one(sea_orm::Statement::from_sql_and_values(
                    sea_orm::DbBackend::Postgres,
                    sql,
                    [db.into()],
                ))
                .await?;
            anyhow::Ok(row.map(|r| r.try_get_by_index::<i64>(0)).transpose()?)
        }
    };
    let ended = sessions(
        "SELECT COUNT(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = $1",
    )
    .await?;
    assert!(
        ended.is_some_and(|n| n >= 2),
        "the two writers' sessions (and the pool's) were ended: {ended:?}"
    );
    for _ in 0..100 {
        let left = sessions("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1").await?;
        if left == Some(0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let retried_before = recorder.stats().retried.load(Ordering::Relaxed);
    assert_eq!(retried_before, 0);
    // The next batches go out on dead connections: each is written again on a fresh one, and
    // every caller is told "written", once.
    record_all(&recorder, tenant, 200).await?;
    assert!(
        recorder.stats().retried.load(Ordering::Relaxed) >= 1,
        "a batch met a dead connection and was written again"
    );
    assert_eq!(store.usage_events(tenant).await?.len(), 400);
    cancel.cancel();
    task.await?;
    Ok(())
}

/// Both backends: a batch of 4,500 events (three SQLite statements in one transaction) is
/// written whole; written again with 10 new events, only those 10 are inserted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_over_the_parameter_limit_is_written_whole() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("tollgate-rec-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let sqlite = format!("sqlite://{}?mode=rwc", dir.join("t.db").display());
    for url in [fresh_pg_database().await?, sqlite] {
        let store = Store::connect(&url).await?;
        store.migrate().await?;
        let tenant = TenantId::new();
        let old: Vec<UsageEvent> = (0..4_500).map(|_| event(tenant)).collect();
        let inserted = store.insert_usage_events(old.clone()).await?;
        assert_eq!(inserted.len(), 4_500, "{url}");
        let new: Vec<UsageEvent> = (0..10).map(|_| event(tenant)).collect();
        let mut again = old;
        again.extend(new.clone());
        let mut inserted = store.insert_usage_events(again).await?;
        inserted.sort();
        let mut want: Vec<(uuid::Uuid, String)> = new
            .iter()
            .map(|e| (e.tenant_id, e.event_id.clone()))
            .collect();
        want.sort();
        assert_eq!(inserted, want, "{url}");
        let rows = store.usage_events(tenant).await?;
        assert_eq!(rows.len(), 4_510, "{url}");
        // Stored as every other query reads them.
        assert_eq!(
            rows.iter().find(|r| r.event_id == new[0].event_id),
            Some(&new[0])
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sqlite_connection_syncs_its_commits_and_waits_for_the_lock() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("tollgate-rec-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let store =
        Store::connect(&format!("sqlite://{}?mode=rwc", dir.join("t.db").display())).await?;
    let pool = store.conn().get_sqlite_connection_pool();
    // All four of the pool's connections at once, so none is the one set up first.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(pool.acquire().await?);
    }
    for conn in &mut held {
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut **conn)
            .await?;
        let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(&mut **conn)
            .await?;
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut **conn)
            .await?;
        assert_eq!(
            (sync, busy, journal.as_str()),
            (2, 10_000, "wal"),
            "FULL, 10 s, WAL"
        );
    }
    drop(held);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
