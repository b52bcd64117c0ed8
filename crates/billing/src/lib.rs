//! Tollgate's billing: what a plan costs, and what a tenant owes for a period — usage summed
//! by the database, rated by the pure [`tollgate_core::pricing`]. Prices change from the next
//! period; the draft invoice of the current period is computed live.

use std::sync::Arc;
use tollgate_core::plan::Period;
use tollgate_core::pricing::{Price, Rating};
use tollgate_core::{Clock, Code, DomainError, RequestCtx, TenantId};
use tollgate_store::audit::NewAuditEvent;
use tollgate_store::Store;

/// An invoice not finalized yet: the current period's, rated from the usage recorded so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    /// The tenant.
    pub tenant: TenantId,
    /// The period (`YYYY-MM`).
    pub period: String,
    /// The tenant's plan.
    pub plan: String,
    /// The price it is rated with (the plan's price in that period).
    pub price: Price,
    /// Units recorded in the period.
    pub units: u64,
    /// The lines and total.
    pub rating: Rating,
}

/// When a new price applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceSet {
    /// The plan.
    pub plan: String,
    /// The first period (`YYYY-MM`) it applies to.
    pub effective_period: String,
    /// The price.
    pub price: Price,
}

/// The billing service.
#[derive(Clone)]
pub struct Billing {
    store: Store,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Billing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Billing")
    }
}

fn stored(json: &str) -> Result<Price, DomainError> {
    serde_json::from_str(json).map_err(|e| DomainError::internal(format!("a stored price: {e}")))
}

impl Billing {
    /// Billing over `store`.
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// Sets the price of the plan named `plan`. It applies from the next period when the
    /// plan already has a price this period (so no period is rated with two prices), or from
    /// this period when it has none yet. Audited on the platform chain.
    pub async fn set_price(
        &self,
        plan: &str,
        price: Price,
        actor: &str,
        ctx: &RequestCtx,
    ) -> Result<PriceSet, DomainError> {
        price.validate()?;
        let row = self.store.plan_by_name(plan.trim()).await?;
        let now = self.clock.now();
        let current = Period::of(now);
        let priced_now = self
            .store
            .plan_price(row.id, &current.key())
            .await?
            .is_some();
        let effective = if priced_now { current.next() } else { current }.key();
        let json = serde_json::to_string(&price).map_err(DomainError::internal)?;
        self.store
            .set_plan_price(row.id, &effective, &json, now)
            .await?;
        let detail = serde_json::json!({ "effective_period": effective, "price": price });
        self.store
            .append_audit(
                NewAuditEvent::new(actor, "plan.price_set", ctx, now)
                    .target(Some(format!("plan:{}", row.name)))
                    .detail(detail),
            )
            .await?;
        Ok(PriceSet {
            plan: row.name,
            effective_period: effective,
            price,
        })
    }

    /// The current period's draft invoice of `tenant`: its usage so far, rated with its
    /// plan's price in the period (404 `no_price` when the plan has none: nothing is billed).
    pub async fn upcoming(&self, tenant: TenantId) -> Result<Draft, DomainError> {
        let period = Period::of(self.clock.now()).key();
        let no_price = || {
            DomainError::invalid(
                Code::NoPrice,
                "the tenant's plan has no price: nothing is billed",
            )
        };
        let plan = self.store.tenant_plan(tenant).await?.ok_or_else(no_price)?;
        let price = self
            .store
            .plan_price(plan.id, &period)
            .await?
            .ok_or_else(no_price)?;
        let price = stored(&price.price)?;
        let units = self.store.usage_units(tenant, &period).await?;
        let units = u64::try_from(units).unwrap_or(0);
        let rating = price.rate(units)?;
        Ok(Draft {
            tenant,
            period,
            plan: plan.name,
            price,
            units,
            rating,
        })
    }
}
