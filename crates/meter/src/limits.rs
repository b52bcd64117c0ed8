//! A tenant's plan and its credentials' limit overrides, cached per process for
//! [`MeterConfig::limits_ttl`](crate::MeterConfig::limits_ttl).

use crate::spend::Spend;
use crate::{Meter, MeterError};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tollgate_core::plan::{Period, Plan, RateLimit};
use tollgate_core::TenantId;
use tollgate_store::plans::LimitOverride;

/// Cached tenants beyond this are dropped all at once (the cache refills from the database).
const CACHE_MAX: usize = 100_000;

/// A tenant's plan, its credentials' overrides and its money this period.
#[derive(Debug, Clone)]
pub struct TenantLimits {
    /// The plan.
    pub plan: Plan,
    overrides: HashMap<String, RateLimit>,
    /// The billing period (`YYYY-MM`) these were loaded for.
    pub period: String,
    /// The same period, for comparing without formatting.
    pub(crate) of: Period,
    /// The plan's price and the tenant's spend cap and credit (`None`: no price, nothing
    /// is billed).
    pub spend: Option<Spend>,
    /// Whether the tenant is suspended for an unpaid invoice (metered calls are refused).
    pub suspended: bool,
}

impl TenantLimits {
    fn new(
        plan: Plan,
        overrides: Vec<LimitOverride>,
        of: Period,
        spend: Option<Spend>,
        suspended: bool,
    ) -> Self {
        let overrides = overrides
            .iter()
            .map(|o| (o.principal_id.clone(), o.to_limit()))
            .collect();
        Self {
            plan,
            overrides,
            period: of.key(),
            of,
            spend,
            suspended,
        }
    }

    /// The unit limit of the period's reservation: the plan's hard cap, the spend cap's unit
    /// count, or the lower of the two; `None` when neither applies.
    pub(crate) fn unit_limit(&self) -> Option<i64> {
        let hard = (!self.plan.overage).then_some(self.plan.monthly_units);
        let cap = self.spend.as_ref().and_then(|s| s.cap_units);
        match (hard, cap) {
            (Some(h), Some(c)) => Some(h.min(c)),
            (h, c) => h.or(c),
        }
    }

    /// Whether a refusal at the reservation is the spend cap's (rather than the plan's).
    pub(crate) fn capped_by_spend(&self) -> bool {
        let hard = (!self.plan.overage).then_some(self.plan.monthly_units);
        match self.spend.as_ref().and_then(|s| s.cap_units) {
            Some(c) => hard.is_none_or(|h| c < h),
            None => false,
        }
    }

    /// The tenant's own bucket: the plan's rate.
    pub(crate) fn tenant_limit(&self) -> RateLimit {
        RateLimit {
            rate: self.plan.rate,
            burst: self.plan.burst,
        }
    }

    /// The credential's bucket: the plan's, tightened by its override.
    pub(crate) fn principal_limit(&self, id: &str) -> RateLimit {
        self.tenant_limit()
            .tightened(self.overrides.get(id).copied())
    }
}

impl Meter {
    /// The tenant's plan, overrides and spend state (cached for `limits_ttl`, and never
    /// across the end of a period).
    pub async fn limits(&self, tenant: TenantId) -> Result<Arc<TenantLimits>, MeterError> {
        let now = self.clock.now();
        let period = Period::of(now);
        if let Ok(cache) = self.limits.lock() {
            if let Some((at, l)) = cache.get(&tenant) {
                if at.elapsed() < self.config.limits_ttl && l.of == period {
                    return Ok(l.clone());
                }
            }
        }
        // Boxed: the queries' future is large, and in line it would make every call's future
        // (copied as it moves up the stack on each request) as large.
        Box::pin(self.limits_uncached(tenant, period, now)).await
    }

    /// [`Self::limits`] when the cache has no current entry for `tenant`.
    async fn limits_uncached(
        &self,
        tenant: TenantId,
        period: Period,
        now: DateTime<Utc>,
    ) -> Result<Arc<TenantLimits>, MeterError> {
        // One load per tenant at a time: when its entry expires, the requests in flight for
        // the tenant wait for one set of queries instead of each running its own.
        let loaded = self
            .limit_loads
            .load(&(tenant, period), || self.load_limits(tenant, period, now))
            .await;
        let l = loaded.value?;
        if let Ok(mut cache) = self.limits.lock() {
            // Not after `forget_limits` since the load started (checked under the cache's
            // lock, which `forget_limits` takes after moving the epoch on).
            if self.limit_loads.current(loaded.epoch) {
                if cache.len() > CACHE_MAX {
                    cache.clear();
                }
                cache.insert(tenant, (Instant::now(), l.clone()));
            }
        }
        Ok(l)
    }

    async fn load_limits(
        &self,
        tenant: TenantId,
        period: Period,
        now: DateTime<Utc>,
    ) -> Result<Arc<TenantLimits>, MeterError> {
        let (plan, overrides) = self.store.tenant_limits(tenant).await?;
        let settings = self.store.billing_settings(tenant).await?;
        let suspended = settings.as_ref().is_some_and(|s| s.suspended_at.is_some());
        let spend =
            crate::spend::load(&self.store, tenant, &period.key(), settings.as_ref(), now).await?;
        Ok(Arc::new(TenantLimits::new(
            plan, overrides, period, spend, suspended,
        )))
    }

    /// Loads of a tenant's limits this meter has run against the database.
    pub fn limit_loads(&self) -> u64 {
        self.limit_loads.runs()
    }

    /// Forgets cached limits (after this process changed a plan or an override).
    pub fn forget_limits(&self, tenant: Option<TenantId>) {
        // A load of the tenant's limits already running is not joined by later ones, nor
        // cached: it may predate the change.
        self.limit_loads
            .forget(|(t, _)| tenant.is_none_or(|only| only == *t));
        if let Ok(mut cache) = self.limits.lock() {
            match tenant {
                Some(t) => {
                    cache.remove(&t);
                }
                None => cache.clear(),
            }
        }
    }
}
