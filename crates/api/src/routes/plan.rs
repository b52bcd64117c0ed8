//! The tenant's own plan and where it stands this period: what the portal's dashboard shows
//! next to the usage chart.

use super::Tag;
use crate::problem::ApiResult;
use crate::security::TenantCaller;
use crate::state::AppState;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use std::sync::Arc;
use tollgate_core::Scope;

/// The tenant's plan and this period's units.
#[derive(Debug, Object)]
pub struct PlanStanding {
    /// Plan name (`default` for a tenant never given one).
    pub name: String,
    /// Sustained requests per second, for the tenant as a whole.
    pub rate_per_second: f64,
    /// Requests that may arrive at once on top of the rate.
    pub burst: u32,
    /// Requests in flight at once.
    pub max_concurrent: u32,
    /// Units (pages) included per calendar month.
    pub monthly_units: i64,
    /// Past the included units: `true` keeps serving (overage is billed), `false` refuses
    /// (429 `quota_exhausted`).
    pub overage: bool,
    /// The period these figures are for, `YYYY-MM` (UTC).
    pub period: String,
    /// Units recorded this period.
    pub period_units: i64,
}

/// Plan operations.
pub struct PlanApi;

#[OpenApi]
impl PlanApi {
    /// The tenant's plan (its limits) and the units recorded this period.
    ///
    /// A credential's own tighter limits (`tollgate limit set`) are not shown here; its
    /// answers carry them in `RateLimit-Policy`.
    ///
    /// **Permissions**: scope `usage:read`, or a portal session (any role).
    #[oai(
        path = "/v1/plan",
        method = "get",
        tag = "Tag::Usage",
        operation_id = "getPlan"
    )]
    async fn plan(
        &self,
        state: Data<&Arc<AppState>>,
        auth: TenantCaller,
    ) -> ApiResult<Json<PlanStanding>> {
        let tenant = state.tenant_of(auth, Scope::UsageRead).await?;
        let (plan, period, period_units) = state.plans.standing(tenant).await?;
        Ok(Json(PlanStanding {
            name: plan.name,
            rate_per_second: plan.rate,
            burst: plan.burst,
            max_concurrent: plan.max_concurrent,
            monthly_units: plan.monthly_units,
            overage: plan.overage,
            period,
            period_units,
        }))
    }
}
