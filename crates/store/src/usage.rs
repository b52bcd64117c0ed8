//! Usage events: written in batches (one multi-row insert that skips duplicates), summed for
//! quotas and aggregated for reports.

use crate::entity::usage_event;
use crate::{map_db_err, Store};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter,
    QuerySelect, Statement,
};
use std::time::{Duration, Instant};
use tollgate_core::{DomainError, TenantId};

pub use usage_event::Model as UsageEvent;

/// How to group a usage report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// No grouping beyond time.
    None,
    /// By API key (`key:<id>`) or client (`client:<id>`): the credential.
    Principal,
    /// By operation (`ocr`).
    Operation,
}

/// One row of a usage report.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct UsageBucket {
    /// Start of the bucket, Unix seconds.
    pub bucket: i64,
    /// Tenant (operator reports span tenants).
    pub tenant_id: uuid::Uuid,
    /// The group's value (empty when not grouped).
    pub grp: String,
    /// Units in the bucket.
    pub units: i64,
    /// Metered calls in the bucket.
    pub calls: i64,
}

/// A failure of a statement sent through the pool directly, as sea-orm would report it (a
/// lost or exhausted connection is the database being unavailable).
fn sqlx_err(e: sqlx::Error) -> DomainError {
    use sea_orm::{DbErr, RuntimeErr};
    let conn =
        connection_lost(&e) || matches!(e, sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed);
    let e = RuntimeErr::SqlxError(e);
    map_db_err(if conn {
        DbErr::Conn(e)
    } else {
        DbErr::Query(e)
    })
}

/// Rows per SQLite insert: 12 columns each, under SQLite's 32766 bind parameters.
const SQLITE_ROWS_PER_INSERT: usize = 2_000;

/// A batch of usage events inserted as one array per column (PostgreSQL).
const INSERT_UNNEST: &str = "INSERT INTO usage_events (tenant_id, event_id, principal_kind, \
     principal_id, operation, units, status, latency_ms, fingerprint, period, hour_epoch, \
     created_at) \
     SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], \
     $6::int8[], $7::int4[], $8::int4[], $9::text[], $10::text[], $11::int8[], \
     $12::timestamptz[]) \
     ON CONFLICT (tenant_id, event_id) DO NOTHING RETURNING tenant_id, event_id";

/// The columns of a batch of usage events, one vector each.
/// A batch as one array per column, borrowing the events' strings.
struct UsageColumns<'a> {
    tenant_id: Vec<uuid::Uuid>,
    event_id: Vec<&'a str>,
    principal_kind: Vec<&'a str>,
    principal_id: Vec<&'a str>,
    operation: Vec<&'a str>,
    units: Vec<i64>,
    status: Vec<i32>,
    latency_ms: Vec<i32>,
    fingerprint: Vec<Option<&'a str>>,
    period: Vec<&'a str>,
    hour_epoch: Vec<i64>,
    created_at: Vec<chrono::DateTime<chrono::Utc>>,
}

impl<'a> UsageColumns<'a> {
    fn of(events: &'a [UsageEvent]) -> Self {
        Self {
            tenant_id: events.iter().map(|e| e.tenant_id).collect(),
            event_id: events.iter().map(|e| e.event_id.as_str()).collect(),
            principal_kind: events.iter().map(|e| e.principal_kind.as_str()).collect(),
            principal_id: events.iter().map(|e| e.principal_id.as_str()).collect(),
            operation: events.iter().map(|e| e.operation.as_str()).collect(),
            units: events.iter().map(|e| e.units).collect(),
            status: events.iter().map(|e| e.status).collect(),
            latency_ms: events.iter().map(|e| e.latency_ms).collect(),
            fingerprint: events.iter().map(|e| e.fingerprint.as_deref()).collect(),
            period: events.iter().map(|e| e.period.as_str()).collect(),
            hour_epoch: events.iter().map(|e| e.hour_epoch).collect(),
            created_at: events.iter().map(|e| e.created_at).collect(),
        }
    }
}

#[derive(Debug, FromQueryResult)]
struct Sum {
    total: i64,
}

/// A batch written by a [`UsageWriter`].
#[derive(Debug)]
pub struct Written {
    /// The keys of the rows this write inserted (not those that already existed).
    pub inserted: Vec<(uuid::Uuid, String)>,
    /// An attempt whose statement went out failed on its connection and the batch was
    /// written again on a fresh one. That attempt may have committed before its answer was
    /// lost (an attempt that could not get a connection does not count), so a row that was
    /// not inserted by the retry may be this batch's own: callers whose event ids are unique
    /// by construction count such rows as written.
    pub retried: bool,
}

/// A batch that could not be written.
#[derive(Debug)]
pub struct WriteFailed {
    /// Why (the last attempt's error).
    pub error: DomainError,
    /// An attempt lost its connection after its statement may have reached the database:
    /// the rows may be there. Callers must not act as if nothing was written (not refund).
    pub maybe_written: bool,
}

enum Held {
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
}

/// Attempts at a batch whose connection keeps failing, and the pauses between them.
const RETRY_PAUSES: [Duration; 2] = [Duration::from_millis(50), Duration::from_millis(250)];
/// An attempt that has not answered by then is taken as a lost connection: a connection
/// that died silently (a dropped NAT entry) would otherwise hold the batch for the kernel's
/// TCP timeout.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection unused for this long goes back to the pool, and the next batch takes one
/// the pool has checked (and retires when idle or old).
const IDLE_RECHECK: Duration = Duration::from_secs(30);

/// Writes batches of usage events on one connection it keeps between batches, so a busy
/// writer's batch costs its statement and nothing else: no pool checkout and none of the
/// liveness round trips the pool makes when a connection is taken (`test_before_acquire`)
/// and given back. A lost connection is dropped and the batch written again on a fresh one
/// (see [`Written::retried`] and [`WriteFailed::maybe_written`]).
pub struct UsageWriter {
    store: Store,
    held: Option<(Held, Instant)>,
}

impl std::fmt::Debug for UsageWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsageWriter")
            .field("connected", &self.held.is_some())
            .finish()
    }
}

/// Whether `e` means the connection is gone (not that the statement was refused): an I/O,
/// TLS or protocol failure, the SQLite worker gone, or the server ending the session
/// (SQLSTATE classes 08 and 57P).
fn connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}

impl UsageWriter {
    /// Inserts `events`, skipping those whose (tenant, event id) exists.
    pub async fn write(&mut self, events: &[UsageEvent]) -> Result<Written, WriteFailed> {
        let mut maybe_written = false;
        let mut pauses = RETRY_PAUSES.iter();
        loop {
            let mut sent = false;
            let attempt =
                tokio::time::timeout(ATTEMPT_TIMEOUT, self.attempt(events, &mut sent)).await;
            let e = match attempt {
                Ok(Ok(inserted)) => {
                    return Ok(Written {
                        inserted,
                        retried: maybe_written,
                    })
                }
                Ok(Err(e)) => e,
                Err(_) => sqlx::Error::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the usage insert did not answer in time",
                )),
            };
            // Whatever state the failure left the connection in, the next attempt starts on a
            // fresh one.
            self.drop_connection();
            let lost = connection_lost(&e);
            // Only an attempt whose statement went out may have committed: one that could
            // not get a connection wrote nothing. One that went out may have committed unless
            // the database refused it (an error it answered, other than ending the session):
            // a lost connection, a timeout, or rows returned after the commit that could not
            // be read.
            maybe_written |= sent && (lost || !matches!(e, sqlx::Error::Database(_)));
            match pauses.next() {
                Some(pause) if lost => {
                    tracing::warn!(error = %e, "usage writer lost its connection; writing the batch again");
                    tokio::time::sleep(*pause).await;
                }
                _ => {
                    return Err(WriteFailed {
                        error: sqlx_err(e),
                        maybe_written,
                    })
                }
            }
        }
    }

    fn drop_connection(&mut self) {
        match self.held.take() {
            Some((Held::Postgres(mut c), _)) => c.close_on_drop(),
            Some((Held::Sqlite(mut c), _)) => c.close_on_drop(),
            None => {}
        }
    }

    /// One attempt; `sent` is set once the statement is handed to the connection.
    async fn attempt(
        &mut self,
        events: &[UsageEvent],
        sent: &mut bool,
    ) -> Result<Vec<(uuid::Uuid, String)>, sqlx::Error> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        if self
            .held
            .as_ref()
            .is_some_and(|(_, used)| used.elapsed() > IDLE_RECHECK)
        {
            self.held = None; // back to the pool, as any connection is
        }
        if self.held.is_none() {
            let db = self.store.conn();
            let conn = if db.get_database_backend() == DbBackend::Postgres {
                Held::Postgres(db.get_postgres_connection_pool().acquire().await?)
            } else {
                Held::Sqlite(db.get_sqlite_connection_pool().acquire().await?)
            };
            self.held = Some((conn, Instant::now()));
        }
        let Some((conn, used)) = self.held.as_mut() else {
            return Err(sqlx::Error::PoolClosed);
        };
        *used = Instant::now();
        *sent = true;
        match conn {
            Held::Postgres(conn) => insert_pg(conn, events).await,
            Held::Sqlite(conn) => insert_sqlite(conn, events).await,
        }
    }
}

/// PostgreSQL: the batch as one array per column through `UNNEST`: one statement text
/// (prepared once per connection) whatever the batch size, and no limit on the number of
/// bind parameters.
async fn insert_pg(
    conn: &mut sqlx::PgConnection,
    events: &[UsageEvent],
) -> Result<Vec<(uuid::Uuid, String)>, sqlx::Error> {
    let c = UsageColumns::of(events);
    sqlx::query_as::<_, (uuid::Uuid, String)>(INSERT_UNNEST)
        .bind(c.tenant_id)
        .bind(c.event_id)
        .bind(c.principal_kind)
        .bind(c.principal_id)
        .bind(c.operation)
        .bind(c.units)
        .bind(c.status)
        .bind(c.latency_ms)
        .bind(c.fingerprint)
        .bind(c.period)
        .bind(c.hour_epoch)
        .bind(c.created_at)
        .fetch_all(conn)
        .await
}

/// SQLite: multi-row inserts, each under the bind-parameter limit (32766); several in one
/// transaction, so a batch is one commit. Values are bound as the same Rust types the entity
/// uses, so they are stored as every other query reads them.
async fn insert_sqlite(
    conn: &mut sqlx::SqliteConnection,
    events: &[UsageEvent],
) -> Result<Vec<(uuid::Uuid, String)>, sqlx::Error> {
    use sqlx::Connection;
    if events.len() <= SQLITE_ROWS_PER_INSERT {
        return insert_sqlite_rows(conn, events).await;
    }
    let mut tx = conn.begin().await?;
    let mut keys = Vec::with_capacity(events.len());
    for chunk in events.chunks(SQLITE_ROWS_PER_INSERT) {
        keys.extend(insert_sqlite_rows(&mut tx, chunk).await?);
    }
    tx.commit().await?;
    Ok(keys)
}

async fn insert_sqlite_rows(
    conn: &mut sqlx::SqliteConnection,
    events: &[UsageEvent],
) -> Result<Vec<(uuid::Uuid, String)>, sqlx::Error> {
    let row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    let mut sql = String::with_capacity(200 + events.len() * (row.len() + 2));
    sql.push_str(
        "INSERT INTO usage_events (tenant_id, event_id, principal_kind, principal_id, \
         operation, units, status, latency_ms, fingerprint, period, hour_epoch, created_at) \
         VALUES ",
    );
    for i in 0..events.len() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(row);
    }
    sql.push_str(" ON CONFLICT (tenant_id, event_id) DO NOTHING RETURNING tenant_id, event_id");
    // Prepared statements are kept per text, so only for the small batches a server forms all
    // the time: a 2,000-row statement holds 24,000 parameters.
    let mut query = sqlx::query_as::<_, (uuid::Uuid, String)>(&sql).persistent(events.len() <= 64);
    for e in events {
        query = query
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
            .bind(e.created_at);
    }
    query.fetch_all(conn).await
}

impl Store {
    /// A writer of usage-event batches on a connection of its own (see [`UsageWriter`]).
    pub fn usage_writer(&self) -> UsageWriter {
        UsageWriter {
            store: self.clone(),
            held: None,
        }
    }

    /// Inserts events, skipping those whose (tenant, event id) exists; returns the keys of the
    /// rows this call inserted (after a retry on a lost connection, not those its failed
    /// attempt committed). One batch through a [`UsageWriter`] of its own.
    pub async fn insert_usage_events(
        &self,
        events: Vec<UsageEvent>,
    ) -> Result<Vec<(uuid::Uuid, String)>, DomainError> {
        match self.usage_writer().write(&events).await {
            Ok(written) => Ok(written.inserted),
            Err(failed) => Err(failed.error),
        }
    }

    /// Units recorded for the tenant in a billing period. `SUM` over a `bigint` is a
    /// `numeric` in PostgreSQL (an integer in SQLite) and `NULL` over no rows, so the database
    /// casts and coalesces: both backends answer a plain `BIGINT`.
    pub async fn usage_units(&self, tenant: TenantId, period: &str) -> Result<i64, DomainError> {
        let sum = usage_event::Entity::find()
            .select_only()
            .column_as(
                Expr::cust("CAST(COALESCE(SUM(units), 0) AS BIGINT)"),
                "total",
            )
            .filter(usage_event::Column::TenantId.eq(tenant.0))
            .filter(usage_event::Column::Period.eq(period))
            .into_model::<Sum>()
            .one(self.conn())
            .await
            .map_err(map_db_err)?;
        Ok(sum.map_or(0, |s| s.total))
    }

    /// Every event of the tenant (tests and exports), oldest first.
    pub async fn usage_events(&self, tenant: TenantId) -> Result<Vec<UsageEvent>, DomainError> {
        use sea_orm::QueryOrder;
        usage_event::Entity::find()
            .filter(usage_event::Column::TenantId.eq(tenant.0))
            .order_by_asc(usage_event::Column::CreatedAt)
            .all(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// Units and calls of one tenant per time bucket (`bucket_secs`: 3600 or 86400) in
    /// `[from, to)` (Unix seconds), optionally grouped. Aggregated by the database.
    pub async fn usage_report(
        &self,
        tenant: TenantId,
        from: i64,
        to: i64,
        bucket_secs: i64,
        group: GroupBy,
    ) -> Result<Vec<UsageBucket>, DomainError> {
        self.report(Some(tenant), from, to, bucket_secs, group)
            .await
    }

    /// [`usage_report`](Self::usage_report) over every tenant: the operator's view, and only
    /// the operator's (no tenant-facing caller has a path here).
    pub async fn usage_report_all_tenants(
        &self,
        from: i64,
        to: i64,
        bucket_secs: i64,
        group: GroupBy,
    ) -> Result<Vec<UsageBucket>, DomainError> {
        self.report(None, from, to, bucket_secs, group).await
    }

    async fn report(
        &self,
        tenant: Option<TenantId>,
        from: i64,
        to: i64,
        bucket_secs: i64,
        group: GroupBy,
    ) -> Result<Vec<UsageBucket>, DomainError> {
        let backend = self.conn().get_database_backend();
        let grp = match group {
            GroupBy::None => "''",
            GroupBy::Operation => "operation",
            GroupBy::Principal => "principal_kind || ':' || principal_id",
        };
        let bucket_secs = if bucket_secs == 86_400 { 86_400 } else { 3_600 };
        let (p, tenant_filter) = match backend {
            DbBackend::Postgres => (["$1", "$2"], "tenant_id = $3"),
            _ => (["?", "?"], "tenant_id = ?"),
        };
        let mut values: Vec<sea_orm::Value> = vec![from.into(), to.into()];
        let filter = match tenant {
            Some(t) => {
                values.push(t.0.into());
                format!("AND {tenant_filter}")
            }
            None => String::new(),
        };
        let sql = format!(
            "SELECT (hour_epoch - (hour_epoch % {bucket_secs})) AS bucket, tenant_id, {grp} AS grp, \
             CAST(SUM(units) AS BIGINT) AS units, CAST(COUNT(*) AS BIGINT) AS calls \
             FROM usage_events WHERE hour_epoch >= {} AND hour_epoch < {} {filter} \
             GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
            p[0], p[1]
        );
        UsageBucket::find_by_statement(Statement::from_sql_and_values(backend, sql, values))
            .all(self.conn())
            .await
            .map_err(map_db_err)
    }
}
