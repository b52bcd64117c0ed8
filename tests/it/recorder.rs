//! The usage recorder's writers keep their database connections between batches. What that
//! must not cost: an event lost or a caller failed when the database ends those connections,
//! a batch over SQLite's bind-parameter limit written in part (even when its last statement
//! fails), or a pooled SQLite connection that commits without syncing.

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

/// A SQLite database in a new temporary folder: its URL, and the folder to remove.
fn temp_sqlite() -> Result<(String, std::path::PathBuf)> {
    let dir = std::env::temp_dir().join(format!("tollgate-rec-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    Ok((
        format!("sqlite://{}?mode=rwc", dir.join("t.db").display()),
        dir,
    ))
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
    let (sqlite, dir) = temp_sqlite()?;
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

/// SQLite: a batch that fails in its third statement (a trigger refuses one event of the
/// third 2,000-row chunk) leaves no row of the first two: the batch is one transaction. The
/// database refused the statement, so the batch is not "maybe written" and its callers' units
/// go back. Written again once the trigger is gone, it is written whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_batch_that_fails_in_its_third_statement_writes_nothing() -> Result<()> {
    let (sqlite, dir) = temp_sqlite()?;
    let store = Store::connect(&sqlite).await?;
    store.migrate().await?;
    let tenant = TenantId::new();
    let batch: Vec<UsageEvent> = (0..5_000).map(|_| event(tenant)).collect();
    let poisoned = &batch[4_500].event_id;
    store
        .conn()
        .execute_unprepared(&format!(
            "CREATE TRIGGER refuse_one BEFORE INSERT ON usage_events \
             WHEN NEW.event_id = '{poisoned}' BEGIN SELECT RAISE(ABORT, 'injected'); END"
        ))
        .await?;
    let failed = store
        .usage_writer()
        .write(&batch)
        .await
        .err()
        .ok_or_else(|| anyhow::anyhow!("the trigger did not refuse the batch"))?;
    assert!(
        failed.error.to_string().contains("injected"),
        "{:?}",
        failed.error
    );
    assert!(!failed.maybe_written, "the database refused it");
    assert_eq!(store.usage_events(tenant).await?.len(), 0, "no chunk kept");

    store
        .conn()
        .execute_unprepared("DROP TRIGGER refuse_one")
        .await?;
    let written = store
        .usage_writer()
        .write(&batch)
        .await
        .map_err(|f| anyhow::anyhow!("{:?}", f.error))?;
    assert_eq!(written.inserted.len(), 5_000);
    assert_eq!(store.usage_events(tenant).await?.len(), 5_000);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sqlite_connection_syncs_its_commits_and_waits_for_the_lock() -> Result<()> {
    let (sqlite, dir) = temp_sqlite()?;
    let store = Store::connect(&sqlite).await?;
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

/// A TCP proxy in front of PostgreSQL that can lose the server's answers. After
/// [`LossyProxy::lose_answers`], a connection opened before the call still delivers what its
/// client sends, then drops the server's next answer and closes: the statement ran (and, in
/// autocommit, committed) and its client never hears so, as in a network cut or a failover
/// after the commit. Connections opened later pass everything, unless [`LossyProxy::refuse`]
/// was called: then each new connection is closed as soon as it is accepted.
///
/// "Committed" holds because PostgreSQL buffers an extended-protocol answer (about 8 KiB)
/// until `Sync`, which comes after the commit: an answer larger than that (an INSERT
/// returning more than about 100 keys) could reach the proxy before the commit.
struct LossyProxy {
    addr: std::net::SocketAddr,
    epoch: std::sync::Arc<std::sync::atomic::AtomicU64>,
    lost: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    refusing: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl LossyProxy {
    async fn start(upstream: std::net::SocketAddr) -> Result<Self> {
        use std::sync::atomic::{AtomicU64, AtomicUsize};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let epoch = std::sync::Arc::new(AtomicU64::new(0));
        let lost = std::sync::Arc::new(AtomicUsize::new(0));
        let refusing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (e, l, r) = (epoch.clone(), lost.clone(), refusing.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if r.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let born = e.load(Ordering::SeqCst);
                let (e, l) = (e.clone(), l.clone());
                tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    let (mut from_client, mut to_client) = client.into_split();
                    let (mut from_server, mut to_server) = server.into_split();
                    let up = tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut from_client, &mut to_server).await;
                    });
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match from_server.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        if e.load(Ordering::SeqCst) > born {
                            l.fetch_add(1, Ordering::SeqCst);
                            break;
                        }
                        if to_client.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    // Both directions close: the client reads end-of-stream mid-answer.
                    up.abort();
                });
            }
        });
        Ok(Self {
            addr,
            epoch,
            lost,
            refusing,
        })
    }

    /// The database's URL with this proxy in its place.
    fn url(&self, database_url: &str) -> Result<String> {
        let mut url = reqwest::Url::parse(database_url)?;
        url.set_ip_host(self.addr.ip())
            .map_err(|()| anyhow::anyhow!("not a host URL"))?;
        url.set_port(Some(self.addr.port()))
            .map_err(|()| anyhow::anyhow!("not a host URL"))?;
        Ok(url.to_string())
    }

    /// From now on, every connection already open loses the server's next answer.
    fn lose_answers(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
    }

    /// From now on, every new connection is closed at once (the database is unreachable).
    fn refuse(&self) {
        self.refusing.store(true, Ordering::SeqCst);
    }
}

/// The address of the test PostgreSQL server.
async fn pg_addr() -> Result<std::net::SocketAddr> {
    let url = reqwest::Url::parse(&pg_admin_url())?;
    let host = url.host_str().unwrap_or("127.0.0.1").to_owned();
    let port = url.port().unwrap_or(5432);
    let addr = tokio::net::lookup_host(format!("{host}:{port}"))
        .await?
        .next();
    addr.ok_or_else(|| anyhow::anyhow!("{host}:{port} does not resolve"))
}

/// The insert commits and its answer is lost on the way back. The writer's retry on a fresh
/// connection finds every row already there and inserts none; the batch is still reported
/// written (the ids are the server's, so those rows are this batch's), each caller hears
/// "written" once, and every event is one row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_insert_committed_whose_answer_was_lost_is_written_once() -> Result<()> {
    let direct = fresh_pg_database().await?;
    let proxy = LossyProxy::start(pg_addr().await?).await?;
    let store = Store::connect(&proxy.url(&direct)?).await?;
    let tenant = TenantId::new();

    // One writer: its held connection has run the insert once (the statement is prepared,
    // so the next one is a single round trip that executes and commits before answering).
    let mut writer = store.usage_writer();
    let first: Vec<UsageEvent> = (0..50).map(|_| event(tenant)).collect();
    let w = writer
        .write(&first)
        .await
        .map_err(|f| anyhow::anyhow!("{:?}", f.error))?;
    assert_eq!((w.inserted.len(), w.retried), (50, false));
    proxy.lose_answers();
    let second: Vec<UsageEvent> = (0..50).map(|_| event(tenant)).collect();
    let w = writer
        .write(&second)
        .await
        .map_err(|f| anyhow::anyhow!("{:?}", f.error))?;
    assert_eq!(
        (w.inserted.len(), w.retried),
        (0, true),
        "the first attempt committed all 50; the retry inserted none and says it retried"
    );
    assert!(proxy.lost.load(Ordering::SeqCst) >= 1);
    let direct_store = Store::connect(&direct).await?;
    assert_eq!(direct_store.usage_events(tenant).await?.len(), 100);

    // The recorder's callers, the same way: every one told "written", once.
    let cancel = CancellationToken::new();
    let (recorder, task) =
        Recorder::start(store.clone(), RecorderConfig::default(), cancel.clone());
    record_all(&recorder, tenant, 200).await?;
    let lost_before = proxy.lost.load(Ordering::SeqCst);
    proxy.lose_answers();
    record_all(&recorder, tenant, 200).await?;
    assert!(proxy.lost.load(Ordering::SeqCst) > lost_before);
    assert!(recorder.stats().retried.load(Ordering::Relaxed) >= 1);
    assert_eq!(recorder.stats().events.load(Ordering::Relaxed), 400);
    assert_eq!(direct_store.usage_events(tenant).await?.len(), 500);
    cancel.cancel();
    task.await?;
    Ok(())
}

/// A batch that never reached the database (no connection could be had) is not "maybe
/// written": its callers' units can be given back. One whose statement went out before the
/// connection was lost is, and its rows are indeed there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_batch_that_was_sent_may_have_been_written() -> Result<()> {
    let direct = fresh_pg_database().await?;
    let direct_store = Store::connect(&direct).await?;
    let tenant = TenantId::new();
    let batch = |n| (0..n).map(|_| event(tenant)).collect::<Vec<UsageEvent>>();

    // Never sent: a fresh writer, every connection dead and no new one accepted.
    let proxy = LossyProxy::start(pg_addr().await?).await?;
    let store = Store::connect(&proxy.url(&direct)?).await?;
    // Refused first: no connection the pool opens in between can be a healthy one.
    proxy.refuse();
    proxy.lose_answers();
    let failed = store
        .usage_writer()
        .write(&batch(10))
        .await
        .err()
        .ok_or_else(|| anyhow::anyhow!("written through a database that cannot be reached"))?;
    assert!(
        !failed.maybe_written,
        "nothing was sent: {:?}",
        failed.error
    );
    assert_eq!(direct_store.usage_events(tenant).await?.len(), 0);

    // Sent, committed, answer lost, and no connection for the retries: maybe written.
    let proxy = LossyProxy::start(pg_addr().await?).await?;
    let store = Store::connect(&proxy.url(&direct)?).await?;
    let mut writer = store.usage_writer();
    let w = writer
        .write(&batch(10))
        .await
        .map_err(|f| anyhow::anyhow!("{:?}", f.error))?;
    assert_eq!(w.inserted.len(), 10);
    proxy.refuse();
    proxy.lose_answers();
    let failed = writer
        .write(&batch(10))
        .await
        .err()
        .ok_or_else(|| anyhow::anyhow!("written through a database that cannot be reached"))?;
    assert!(
        failed.maybe_written,
        "the statement went out: {:?}",
        failed.error
    );
    assert_eq!(direct_store.usage_events(tenant).await?.len(), 20);
    Ok(())
}
