//! Plans, written once for every caller: the operator CLI and the operator API create plans
//! and move tenants between them through this service, which validates, stores and audits
//! (on the platform chain for plans, on the tenant's chain for its plan).

use std::sync::Arc;
use tollgate_core::plan::Plan;
use tollgate_core::{Clock, DomainError, RequestCtx, TenantId};
use tollgate_store::audit::NewAuditEvent;
use tollgate_store::plans::PlanRow;
use tollgate_store::Store;

/// The plan operations.
#[derive(Clone)]
pub struct Plans {
    store: Store,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Plans {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Plans")
    }
}

/// A plan as audit rows and JSON answers show it.
pub fn plan_json(p: &Plan) -> serde_json::Value {
    serde_json::json!({
        "name": p.name, "rate": p.rate, "burst": p.burst, "max_concurrent": p.max_concurrent,
        "monthly_units": p.monthly_units, "overage": p.overage,
        "max_image_bytes": p.max_image_bytes, "max_pixels": p.max_pixels,
        "max_pdf_pages": p.max_pdf_pages,
        "audit_retention_days": p.audit_retention_days,
    })
}

impl Plans {
    /// Plans in `store`.
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// The plan `tenant` is on now (the built-in default when none), this period's key
    /// (`YYYY-MM`) and the units recorded in it.
    pub async fn standing(&self, tenant: TenantId) -> Result<(Plan, String, i64), DomainError> {
        let (plan, _) = self.store.tenant_limits(tenant).await?;
        let period = tollgate_core::plan::Period::of(self.clock.now()).key();
        let units = self.store.usage_units(tenant, &period).await?;
        Ok((plan, period, units))
    }

    async fn audit(
        &self,
        tenant: Option<TenantId>,
        (actor, ctx): (&str, &RequestCtx),
        action: &'static str,
        target: String,
        detail: serde_json::Value,
    ) -> Result<(), DomainError> {
        let event = NewAuditEvent::new(actor, action, ctx, self.clock.now())
            .tenant(tenant)
            .target(Some(target))
            .detail(detail);
        self.store.append_audit(event).await.map(|_| ())
    }

    /// Creates a plan (names are unique: 409 `plan_exists`; the name is trimmed).
    pub async fn create(
        &self,
        mut plan: Plan,
        actor: &str,
        ctx: &RequestCtx,
    ) -> Result<PlanRow, DomainError> {
        plan.name = plan.name.trim().to_owned();
        let row = self.store.create_plan(&plan, self.clock.now()).await?;
        let target = format!("plan:{}", row.name);
        self.audit(
            None,
            (actor, ctx),
            "plan.created",
            target,
            plan_json(&row.to_plan()),
        )
        .await?;
        Ok(row)
    }

    /// Every plan, oldest first.
    pub async fn list(&self) -> Result<Vec<PlanRow>, DomainError> {
        self.store.list_plans().await
    }

    /// Puts `tenant` on the plan named `plan` (404 when there is none). Instances pick it up
    /// within their limits cache's lifetime; the caller's own meter should forget its cache.
    pub async fn assign(
        &self,
        tenant: TenantId,
        plan: &str,
        actor: &str,
        ctx: &RequestCtx,
    ) -> Result<PlanRow, DomainError> {
        let row = self
            .store
            .set_tenant_plan(tenant, plan.trim(), self.clock.now())
            .await?;
        let detail = serde_json::json!({ "plan": row.name });
        self.audit(
            Some(tenant),
            (actor, ctx),
            "tenant.plan_changed",
            format!("tenant:{}", tenant.0),
            detail,
        )
        .await?;
        Ok(row)
    }
}
