//! Usage events: written in batches (one multi-row insert that skips duplicates), summed for
//! quotas and aggregated for reports.

use crate::entity::usage_event;
use crate::{map_db_err, Store};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter,
    QuerySelect, Statement, TryInsertResult,
};
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
    let conn = matches!(
        e,
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed
    );
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
struct UsageColumns {
    tenant_id: Vec<uuid::Uuid>,
    event_id: Vec<String>,
    principal_kind: Vec<String>,
    principal_id: Vec<String>,
    operation: Vec<String>,
    units: Vec<i64>,
    status: Vec<i32>,
    latency_ms: Vec<i32>,
    fingerprint: Vec<Option<String>>,
    period: Vec<String>,
    hour_epoch: Vec<i64>,
    created_at: Vec<chrono::DateTime<chrono::Utc>>,
}

impl UsageColumns {
    fn with_capacity(n: usize) -> Self {
        Self {
            tenant_id: Vec::with_capacity(n),
            event_id: Vec::with_capacity(n),
            principal_kind: Vec::with_capacity(n),
            principal_id: Vec::with_capacity(n),
            operation: Vec::with_capacity(n),
            units: Vec::with_capacity(n),
            status: Vec::with_capacity(n),
            latency_ms: Vec::with_capacity(n),
            fingerprint: Vec::with_capacity(n),
            period: Vec::with_capacity(n),
            hour_epoch: Vec::with_capacity(n),
            created_at: Vec::with_capacity(n),
        }
    }
}

#[derive(Debug, FromQueryResult)]
struct Sum {
    total: i64,
}

impl Store {
    /// Inserts events, skipping those whose (tenant, event id) exists; returns the keys of the
    /// rows actually inserted. On PostgreSQL the batch goes as one array per column through
    /// `UNNEST`: one statement text (prepared once per connection) whatever the batch size,
    /// and no limit on the number of bind parameters.
    pub async fn insert_usage_events(
        &self,
        events: Vec<UsageEvent>,
    ) -> Result<Vec<(uuid::Uuid, String)>, DomainError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        if self.conn().get_database_backend() == DbBackend::Postgres {
            return self.insert_usage_events_pg(events).await;
        }
        // SQLite: multi-row inserts, each under its bind-parameter limit (32766).
        let mut keys = Vec::with_capacity(events.len());
        let mut events = events.into_iter().peekable();
        while events.peek().is_some() {
            let models = events
                .by_ref()
                .take(SQLITE_ROWS_PER_INSERT)
                .map(usage_event::ActiveModel::from);
            let result = usage_event::Entity::insert_many(models)
                .on_conflict(
                    OnConflict::columns([
                        usage_event::Column::TenantId,
                        usage_event::Column::EventId,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .do_nothing()
                .exec_with_returning_keys(self.conn())
                .await
                .map_err(map_db_err)?;
            if let TryInsertResult::Inserted(k) = result {
                keys.extend(k);
            }
        }
        Ok(keys)
    }

    async fn insert_usage_events_pg(
        &self,
        events: Vec<UsageEvent>,
    ) -> Result<Vec<(uuid::Uuid, String)>, DomainError> {
        let n = events.len();
        let mut c = UsageColumns::with_capacity(n);
        for e in events {
            c.tenant_id.push(e.tenant_id);
            c.event_id.push(e.event_id);
            c.principal_kind.push(e.principal_kind);
            c.principal_id.push(e.principal_id);
            c.operation.push(e.operation);
            c.units.push(e.units);
            c.status.push(e.status);
            c.latency_ms.push(e.latency_ms);
            c.fingerprint.push(e.fingerprint);
            c.period.push(e.period);
            c.hour_epoch.push(e.hour_epoch);
            c.created_at.push(e.created_at);
        }
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
            .fetch_all(self.conn().get_postgres_connection_pool())
            .await
            .map_err(sqlx_err)
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
