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

#[derive(Debug, FromQueryResult)]
struct Sum {
    total: i64,
}

impl Store {
    /// Inserts events, skipping those whose (tenant, event id) exists; returns the keys of the
    /// rows actually inserted.
    pub async fn insert_usage_events(
        &self,
        events: Vec<UsageEvent>,
    ) -> Result<Vec<(uuid::Uuid, String)>, DomainError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let models = events.into_iter().map(usage_event::ActiveModel::from);
        let result = usage_event::Entity::insert_many(models)
            .on_conflict(
                OnConflict::columns([usage_event::Column::TenantId, usage_event::Column::EventId])
                    .do_nothing()
                    .to_owned(),
            )
            .do_nothing()
            .exec_with_returning_keys(self.conn())
            .await
            .map_err(map_db_err)?;
        Ok(match result {
            TryInsertResult::Inserted(keys) => keys,
            TryInsertResult::Empty | TryInsertResult::Conflicted => Vec::new(),
        })
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
