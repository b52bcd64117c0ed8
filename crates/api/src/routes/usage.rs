//! `GET /v1/usage`: a tenant's metered usage, aggregated by the database.

use super::Tag;
use crate::problem::ApiResult;
use crate::security::{ApiCaller, ApiKeyAuth, BearerAuth, SessionCookie};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi, SecurityScheme};
use std::sync::Arc;
use tollgate_core::{DomainError, Scope, TenantId};
use tollgate_store::usage::{GroupBy, UsageBucket};

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

/// A tenant's API caller with `usage:read`, or a signed-in tenant admin.
#[derive(SecurityScheme)]
pub enum UsageCaller {
    /// `Authorization: Bearer`.
    Bearer(BearerAuth),
    /// `X-API-Key`.
    ApiKey(ApiKeyAuth),
    /// Portal session.
    Session(SessionCookie),
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

/// Checks and rounds a reporting range; `from` defaults to 30 days (hourly: 2 days) before
/// `to`, which defaults to now.
pub fn range(
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    granularity: Granularity,
    now: DateTime<Utc>,
) -> Result<(i64, i64, i64), DomainError> {
    let step = match granularity {
        Granularity::Hour => 3600,
        Granularity::Day => 86_400,
    };
    let to = to.unwrap_or(now).timestamp();
    let from = from.map_or(
        to - if step == 3600 {
            2 * 86_400
        } else {
            30 * 86_400
        },
        |f| f.timestamp(),
    );
    let max = if step == 3600 { 31 } else { 366 };
    if from >= to {
        return Err(DomainError::invalid(
            "invalid_range",
            "`from` must be before `to`",
        ));
    }
    let from = from - from.rem_euclid(step);
    if to - from > max * 86_400 {
        return Err(DomainError::invalid(
            "invalid_range",
            format!("a report spans at most {max} days at this granularity"),
        ));
    }
    Ok((from, to, step))
}

/// Runs a report.
pub async fn report(
    state: &AppState,
    tenant: Option<TenantId>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    granularity: Option<Granularity>,
    group_by: Option<UsageGroup>,
) -> ApiResult<UsageReport> {
    let granularity = granularity.unwrap_or(Granularity::Day);
    let (from, to, step) = range(from, to, granularity, state.auth.clock.now())?;
    let group = match group_by {
        None => GroupBy::None,
        Some(UsageGroup::Key | UsageGroup::Client) => GroupBy::Principal,
        Some(UsageGroup::Operation) => GroupBy::Operation,
    };
    let rows = state
        .store
        .usage_report(tenant, from, to, step, group)
        .await?;
    let at = |secs: i64| DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or_default();
    let (total_units, total_calls) = rows
        .iter()
        .fold((0, 0), |(u, c), r| (u + r.units, c + r.calls));
    Ok(UsageReport {
        from: at(from),
        to: at(to),
        granularity,
        unit: tollgate_meter::UNIT.to_owned(),
        buckets: rows
            .into_iter()
            .map(|r: UsageBucket| UsageRow {
                start: at(r.bucket),
                tenant_id: r.tenant_id.to_string(),
                group: (group != GroupBy::None).then_some(r.grp),
                units: r.units,
                calls: r.calls,
            })
            .collect(),
        total_units,
        total_calls,
    })
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
        auth: UsageCaller,
        /// Start (RFC 3339); default 30 days (hourly: 2 days) before `to`.
        from: Query<Option<DateTime<Utc>>>,
        /// End (RFC 3339), exclusive; default now.
        to: Query<Option<DateTime<Utc>>>,
        /// `hour` or `day` (default).
        granularity: Query<Option<Granularity>>,
        /// `key`, `client` or `operation`.
        group_by: Query<Option<UsageGroup>>,
    ) -> ApiResult<Json<UsageReport>> {
        let tenant = match auth {
            UsageCaller::Session(cookie) => state.admin(&cookie, None, false).await?.tenant_id,
            UsageCaller::Bearer(b) => {
                state
                    .principal_with(&ApiCaller::Bearer(b), Scope::UsageRead)
                    .await?
                    .tenant_id
            }
            UsageCaller::ApiKey(k) => {
                state
                    .principal_with(&ApiCaller::ApiKey(k), Scope::UsageRead)
                    .await?
                    .tenant_id
            }
        };
        Ok(Json(
            report(
                &state,
                Some(tenant),
                from.0,
                to.0,
                granularity.0,
                group_by.0,
            )
            .await?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn ranges_are_rounded_and_bounded() {
        let now = DateTime::<Utc>::from_timestamp(1_800_000_123, 0).unwrap();
        let (from, to, step) = range(None, None, Granularity::Hour, now).unwrap();
        assert_eq!((to, step), (1_800_000_123, 3600));
        assert_eq!(from % 3600, 0);
        assert!(range(Some(now), Some(now), Granularity::Day, now).is_err());
        assert!(range(
            Some(now - Duration::days(40)),
            Some(now),
            Granularity::Hour,
            now
        )
        .is_err());
        assert!(range(
            Some(now - Duration::days(40)),
            Some(now),
            Granularity::Day,
            now
        )
        .is_ok());
    }
}
