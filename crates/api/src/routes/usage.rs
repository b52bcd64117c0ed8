//! `GET /v1/usage`: a tenant's metered usage, aggregated by the database.

use super::Tag;
use crate::problem::ApiResult;
use crate::security::TenantCaller;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi};
use std::sync::Arc;
use tollgate_core::Scope;
use tollgate_meter::usage::{self, Grouping, Report, ReportQuery};

/// Bucket size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum Granularity {
    /// One bucket per hour.
    Hour,
    /// One bucket per day (UTC).
    Day,
}

/// Grouping inside each bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum UsageGroup {
    /// By credential: API keys (`key:<id>`) and OAuth2 clients (`client:<id>`).
    Key,
    /// By credential, as `key`.
    Client,
    /// By operation (`ocr`).
    Operation,
}

/// One bucket of a report.
#[derive(Debug, Object)]
pub struct UsageRow {
    /// Start of the bucket.
    pub start: DateTime<Utc>,
    /// Tenant (in operator reports; the caller's own otherwise).
    pub tenant_id: String,
    /// The group (`key:<id>`, `client:<id>`, an operation), when grouped.
    #[oai(skip_serializing_if_is_none)]
    pub group: Option<String>,
    /// Units (pages) in the bucket.
    pub units: i64,
    /// Metered calls in the bucket.
    pub calls: i64,
}

/// A usage report.
#[derive(Debug, Object)]
pub struct UsageReport {
    /// Start (inclusive), rounded down to the granularity.
    pub from: DateTime<Utc>,
    /// End (exclusive).
    pub to: DateTime<Utc>,
    /// `hour` or `day`.
    pub granularity: Granularity,
    /// The unit counted: `page`.
    pub unit: String,
    /// Buckets in time order.
    pub buckets: Vec<UsageRow>,
    /// Units over the whole range.
    pub total_units: i64,
    /// Calls over the whole range.
    pub total_calls: i64,
}

impl ReportQueryParams {
    /// The service's query for these parameters.
    pub fn query(self) -> ReportQuery {
        ReportQuery {
            from: self.from,
            to: self.to,
            granularity: self.granularity.map(|g| match g {
                Granularity::Hour => usage::Granularity::Hour,
                Granularity::Day => usage::Granularity::Day,
            }),
            grouping: match self.group_by {
                None => Grouping::None,
                Some(UsageGroup::Key | UsageGroup::Client) => Grouping::Credential,
                Some(UsageGroup::Operation) => Grouping::Operation,
            },
        }
    }
}

/// The query parameters of a usage report.
#[derive(Debug, Clone, Copy)]
pub struct ReportQueryParams {
    /// Start.
    pub from: Option<DateTime<Utc>>,
    /// End, exclusive.
    pub to: Option<DateTime<Utc>>,
    /// Bucket size.
    pub granularity: Option<Granularity>,
    /// Grouping.
    pub group_by: Option<UsageGroup>,
}

impl From<Report> for UsageReport {
    fn from(r: Report) -> Self {
        Self {
            from: r.from,
            to: r.to,
            granularity: match r.granularity {
                usage::Granularity::Hour => Granularity::Hour,
                usage::Granularity::Day => Granularity::Day,
            },
            unit: tollgate_meter::UNIT.to_owned(),
            buckets: r
                .rows
                .into_iter()
                .map(|row| UsageRow {
                    start: row.start,
                    tenant_id: row.tenant.to_string(),
                    group: row.group,
                    units: row.units,
                    calls: row.calls,
                })
                .collect(),
            total_units: r.total_units,
            total_calls: r.total_calls,
        }
    }
}

/// Usage operations.
pub struct UsageApi;

#[OpenApi]
impl UsageApi {
    /// The tenant's metered usage over time.
    ///
    /// Units and calls per hour or day in `[from, to)`, optionally grouped by credential or
    /// operation. Only successful metered calls are counted; a retried call with the same
    /// `Idempotency-Key` counts once.
    ///
    /// **Permissions**: scope `usage:read`, or a portal session (any role).
    #[oai(
        path = "/v1/usage",
        method = "get",
        tag = "Tag::Usage",
        operation_id = "getUsage"
    )]
    async fn usage(
        &self,
        state: Data<&Arc<AppState>>,
        auth: TenantCaller,
        /// Start (RFC 3339); default 30 days (hourly: 2 days) before `to`.
        from: Query<Option<DateTime<Utc>>>,
        /// End (RFC 3339), exclusive; default now.
        to: Query<Option<DateTime<Utc>>>,
        /// `hour` or `day` (default).
        granularity: Query<Option<Granularity>>,
        /// `key`, `client` or `operation`.
        group_by: Query<Option<UsageGroup>>,
    ) -> ApiResult<Json<UsageReport>> {
        let tenant = state.tenant_of(auth, Scope::UsageRead).await?;
        let params = ReportQueryParams {
            from: from.0,
            to: to.0,
            granularity: granularity.0,
            group_by: group_by.0,
        };
        Ok(Json(
            state.usage.tenant(tenant, params.query()).await?.into(),
        ))
    }
}
