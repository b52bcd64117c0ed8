//! Usage reports: a tenant's metered units and calls per hour or day, optionally grouped by
//! credential or operation, aggregated by the database. A tenant's report takes its
//! `TenantId`; the report over every tenant is a function of its own, for the operator only.

use chrono::{DateTime, Utc};
use std::sync::Arc;
use tollgate_core::Code;
use tollgate_core::{Clock, DomainError, TenantId};
use tollgate_store::usage::{GroupBy, UsageBucket};
use tollgate_store::Store;

/// Bucket size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    /// One bucket per hour.
    Hour,
    /// One bucket per day (UTC).
    Day,
}

impl Granularity {
    fn secs(self) -> i64 {
        match self {
            Granularity::Hour => 3600,
            Granularity::Day => 86_400,
        }
    }
}

/// Grouping inside each bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// One row per bucket.
    None,
    /// By credential: `key:<id>` or `client:<id>`.
    Credential,
    /// By operation (`ocr`).
    Operation,
}

/// What to report.
#[derive(Debug, Clone, Copy)]
pub struct ReportQuery {
    /// Start; default 30 days (hourly: 2 days) before `to`.
    pub from: Option<DateTime<Utc>>,
    /// End, exclusive; default now.
    pub to: Option<DateTime<Utc>>,
    /// Bucket size (default: day).
    pub granularity: Option<Granularity>,
    /// Grouping (default: none).
    pub grouping: Grouping,
}

/// One bucket of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    /// Start of the bucket.
    pub start: DateTime<Utc>,
    /// The tenant.
    pub tenant: TenantId,
    /// The group's value, when grouped.
    pub group: Option<String>,
    /// Units in the bucket.
    pub units: i64,
    /// Metered calls in the bucket.
    pub calls: i64,
}

/// A usage report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Start (inclusive), rounded down to the granularity.
    pub from: DateTime<Utc>,
    /// End (exclusive).
    pub to: DateTime<Utc>,
    /// Bucket size.
    pub granularity: Granularity,
    /// Buckets in time order.
    pub rows: Vec<ReportRow>,
    /// Units over the whole range.
    pub total_units: i64,
    /// Calls over the whole range.
    pub total_calls: i64,
}

/// Checks and rounds a reporting range (Unix seconds): `from` defaults to 30 days (hourly: 2
/// days) before `to`, which defaults to `now`; a report spans at most 366 days (hourly: 31).
pub fn range(
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    granularity: Granularity,
    now: DateTime<Utc>,
) -> Result<(i64, i64), DomainError> {
    let step = granularity.secs();
    let hourly = granularity == Granularity::Hour;
    let to = to.unwrap_or(now).timestamp();
    let from = from.map_or(to - if hourly { 2 } else { 30 } * 86_400, |f| f.timestamp());
    let max_days = if hourly { 31 } else { 366 };
    if from >= to {
        return Err(DomainError::invalid(
            Code::InvalidRange,
            "`from` must be before `to`",
        ));
    }
    let from = from - from.rem_euclid(step);
    if to - from > max_days * 86_400 {
        return Err(DomainError::invalid(
            Code::InvalidRange,
            format!("a report spans at most {max_days} days at this granularity"),
        ));
    }
    Ok((from, to))
}

/// Runs usage reports.
#[derive(Clone)]
pub struct UsageReports {
    store: Store,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for UsageReports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UsageReports")
    }
}

impl UsageReports {
    /// Reports over `store`, with `clock` for the default range.
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// One tenant's usage.
    pub async fn tenant(&self, tenant: TenantId, q: ReportQuery) -> Result<Report, DomainError> {
        self.run(Some(tenant), q).await
    }

    /// Every tenant's usage, tenant by tenant: the operator's view only.
    pub async fn all_tenants(&self, q: ReportQuery) -> Result<Report, DomainError> {
        self.run(None, q).await
    }

    async fn run(&self, tenant: Option<TenantId>, q: ReportQuery) -> Result<Report, DomainError> {
        let granularity = q.granularity.unwrap_or(Granularity::Day);
        let (from, to) = range(q.from, q.to, granularity, self.clock.now())?;
        let group = match q.grouping {
            Grouping::None => GroupBy::None,
            Grouping::Credential => GroupBy::Principal,
            Grouping::Operation => GroupBy::Operation,
        };
        let step = granularity.secs();
        let rows = match tenant {
            Some(t) => self.store.usage_report(t, from, to, step, group).await?,
            None => {
                self.store
                    .usage_report_all_tenants(from, to, step, group)
                    .await?
            }
        };
        let at = |secs: i64| DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or_default();
        let (total_units, total_calls) = rows
            .iter()
            .fold((0, 0), |(u, c), r| (u + r.units, c + r.calls));
        Ok(Report {
            from: at(from),
            to: at(to),
            granularity,
            rows: rows
                .into_iter()
                .map(|r: UsageBucket| ReportRow {
                    start: at(r.bucket),
                    tenant: TenantId(r.tenant_id),
                    group: (group != GroupBy::None).then_some(r.grp),
                    units: r.units,
                    calls: r.calls,
                })
                .collect(),
            total_units,
            total_calls,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn ranges_are_rounded_and_bounded() {
        let now = DateTime::<Utc>::from_timestamp(1_800_000_123, 0).unwrap();
        let (from, to) = range(None, None, Granularity::Hour, now).unwrap();
        assert_eq!(to, 1_800_000_123);
        assert_eq!(from % 3600, 0);
        assert!(range(Some(now), Some(now), Granularity::Day, now).is_err());
        let forty_days = Some(now - Duration::days(40));
        assert!(range(forty_days, Some(now), Granularity::Hour, now).is_err());
        assert!(range(forty_days, Some(now), Granularity::Day, now).is_ok());
    }
}
