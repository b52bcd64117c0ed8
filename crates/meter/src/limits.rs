//! A tenant's plan and its credentials' limit overrides, cached per process for
//! [`MeterConfig::limits_ttl`](crate::MeterConfig::limits_ttl).

use crate::{Meter, MeterError};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tollgate_core::plan::{Plan, RateLimit};
use tollgate_core::TenantId;
use tollgate_store::plans::LimitOverride;

/// Cached tenants beyond this are dropped all at once (the cache refills from the database).
const CACHE_MAX: usize = 100_000;

/// A tenant's plan and its credentials' overrides.
#[derive(Debug, Clone)]
pub struct TenantLimits {
    /// The plan.
    pub plan: Plan,
    overrides: HashMap<String, RateLimit>,
}

impl TenantLimits {
    fn new(plan: Plan, overrides: Vec<LimitOverride>) -> Self {
        let overrides = overrides
            .iter()
            .map(|o| (o.principal_id.clone(), o.to_limit()))
            .collect();
        Self { plan, overrides }
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
    /// The tenant's plan and overrides (cached for `limits_ttl`).
    pub async fn limits(&self, tenant: TenantId) -> Result<Arc<TenantLimits>, MeterError> {
        if let Ok(cache) = self.limits.lock() {
            if let Some((at, l)) = cache.get(&tenant) {
                if at.elapsed() < self.config.limits_ttl {
                    return Ok(l.clone());
                }
            }
        }
        let (plan, overrides) = self.store.tenant_limits(tenant).await?;
        let l = Arc::new(TenantLimits::new(plan, overrides));
        if let Ok(mut cache) = self.limits.lock() {
            if cache.len() > CACHE_MAX {
                cache.clear();
            }
            cache.insert(tenant, (Instant::now(), l.clone()));
        }
        Ok(l)
    }

    /// Forgets cached limits (after this process changed a plan or an override).
    pub fn forget_limits(&self, tenant: Option<TenantId>) {
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
