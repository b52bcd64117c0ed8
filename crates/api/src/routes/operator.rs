//! The operator's API: plans, tenants' plans, and usage across tenants. Callers need the
//! `operator` scope on a credential of the platform tenant, which only the operator's CLI
//! mints (`tollgate operator key-create`).

use super::Tag;
use crate::problem::ApiResult;
use crate::routes::usage::{Granularity, ReportQueryParams, UsageGroup, UsageReport};
use crate::security::ApiCaller;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::sync::Arc;
use tollgate_core::plan::Plan;
use tollgate_core::Code;
use tollgate_core::{DomainError, Scope, TenantId};
use tollgate_store::plans::PlanRow;

/// A plan.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct PlanBody {
    /// Unique name.
    pub name: String,
    /// Sustained requests per second (per tenant, and per credential).
    pub rate: f64,
    /// Requests that may arrive at once on top of the rate.
    pub burst: u32,
    /// Requests of a tenant in flight at once (default 4).
    #[oai(default = "default_concurrent")]
    pub max_concurrent: u32,
    /// Units (pages) included per calendar month.
    pub monthly_units: i64,
    /// Past the included units: serve and count overage (`true`) or refuse (`false`).
    #[oai(default)]
    pub overage: bool,
    /// Largest image in bytes (default 20 MiB).
    #[oai(default = "default_bytes")]
    pub max_image_bytes: u64,
    /// Largest image in pixels (default 40 million).
    #[oai(default = "default_pixels")]
    pub max_pixels: u64,
    /// Most pages of one PDF, 1 to 1000 (default 50); each page is a unit.
    #[oai(default = "default_pdf_pages")]
    pub max_pdf_pages: u32,
    /// Days the tenants' audit events are kept (1 to 36500); omitted, they are kept forever.
    #[oai(skip_serializing_if_is_none)]
    pub audit_retention_days: Option<u32>,
}

fn default_concurrent() -> u32 {
    Plan::default_plan().max_concurrent
}

fn default_bytes() -> u64 {
    Plan::default_plan().max_image_bytes
}

fn default_pixels() -> u64 {
    Plan::default_plan().max_pixels
}

fn default_pdf_pages() -> u32 {
    Plan::default_plan().max_pdf_pages
}

impl PlanBody {
    fn to_plan(&self) -> Plan {
        Plan {
            name: self.name.clone(),
            rate: self.rate,
            burst: self.burst,
            max_concurrent: self.max_concurrent,
            monthly_units: self.monthly_units,
            overage: self.overage,
            max_image_bytes: self.max_image_bytes,
            max_pixels: self.max_pixels,
            max_pdf_pages: self.max_pdf_pages,
            audit_retention_days: self.audit_retention_days,
        }
    }

    fn from_row(row: &PlanRow) -> Self {
        let p = row.to_plan();
        Self {
            name: p.name,
            rate: p.rate,
            burst: p.burst,
            max_concurrent: p.max_concurrent,
            monthly_units: p.monthly_units,
            overage: p.overage,
            max_image_bytes: p.max_image_bytes,
            max_pixels: p.max_pixels,
            max_pdf_pages: p.max_pdf_pages,
            audit_retention_days: p.audit_retention_days,
        }
    }
}

/// A tenant's plan assignment.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct TenantPlan {
    /// The plan's name.
    pub plan: String,
}

/// Created.
#[derive(ApiResponse)]
pub enum PlanCreated {
    /// The plan.
    #[oai(status = 201)]
    Created(Json<PlanBody>),
}

/// Operator operations.
pub struct OperatorApi;

impl AppState {
    /// The operator: a credential of the platform tenant with the `operator` scope. The
    /// scope alone is not enough (principals outside the platform never hold it, and this
    /// checks the tenant again).
    pub(crate) async fn operator(&self, caller: &ApiCaller) -> ApiResult<String> {
        let p = self.principal_with(caller, Scope::Operator).await?;
        if !p.tenant_id.is_platform() {
            return Err(crate::problem::ApiError::insufficient_scope(
                Scope::Operator.as_str(),
            ));
        }
        Ok(p.actor())
    }
}

#[OpenApi]
impl OperatorApi {
    /// Create a plan.
    ///
    /// **Permissions**: scope `operator`.
    #[oai(
        path = "/v1/operator/plans",
        method = "post",
        tag = "Tag::Operator",
        operation_id = "createPlan"
    )]
    async fn create_plan(
        &self,
        state: Data<&Arc<AppState>>,
        req: &poem::Request,
        auth: ApiCaller,
        body: Json<PlanBody>,
    ) -> ApiResult<PlanCreated> {
        let actor = state.operator(&auth).await?;
        let row = state
            .plans
            .create(body.0.to_plan(), &actor, &super::ctx(req))
            .await?;
        Ok(PlanCreated::Created(Json(PlanBody::from_row(&row))))
    }

    /// List plans.
    ///
    /// **Permissions**: scope `operator`.
    #[oai(
        path = "/v1/operator/plans",
        method = "get",
        tag = "Tag::Operator",
        operation_id = "listPlans"
    )]
    async fn list_plans(
        &self,
        state: Data<&Arc<AppState>>,
        auth: ApiCaller,
    ) -> ApiResult<Json<Vec<PlanBody>>> {
        state.operator(&auth).await?;
        Ok(Json(
            state
                .plans
                .list()
                .await?
                .iter()
                .map(PlanBody::from_row)
                .collect(),
        ))
    }

    /// Put a tenant on a plan; it applies from the tenant's next request.
    ///
    /// **Permissions**: scope `operator`.
    #[oai(
        path = "/v1/operator/tenants/:tenant_id/plan",
        method = "put",
        tag = "Tag::Operator",
        operation_id = "setTenantPlan"
    )]
    async fn set_plan(
        &self,
        state: Data<&Arc<AppState>>,
        req: &poem::Request,
        auth: ApiCaller,
        tenant_id: Path<String>,
        body: Json<TenantPlan>,
    ) -> ApiResult<Json<TenantPlan>> {
        let actor = state.operator(&auth).await?;
        let tenant: TenantId = tenant_id
            .0
            .parse()
            .map_err(|_| DomainError::NotFound("tenant"))?;
        let row = state
            .plans
            .assign(tenant, &body.0.plan, &actor, &super::ctx(req))
            .await?;
        // From the tenant's next request on this instance.
        state.meter.forget_limits(Some(tenant));
        Ok(Json(TenantPlan { plan: row.name }))
    }

    /// Usage across tenants (or of one).
    ///
    /// **Permissions**: scope `operator`.
    #[oai(
        path = "/v1/operator/usage",
        method = "get",
        tag = "Tag::Operator",
        operation_id = "getOperatorUsage"
    )]
    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per query parameter, as poem-openapi declares them"
    )]
    async fn usage(
        &self,
        state: Data<&Arc<AppState>>,
        auth: ApiCaller,
        /// Only this tenant.
        tenant_id: Query<Option<String>>,
        /// Start (RFC 3339).
        from: Query<Option<DateTime<Utc>>>,
        /// End (RFC 3339), exclusive.
        to: Query<Option<DateTime<Utc>>>,
        /// `hour` or `day`.
        granularity: Query<Option<Granularity>>,
        /// `key`, `client` or `operation`.
        group_by: Query<Option<UsageGroup>>,
    ) -> ApiResult<Json<UsageReport>> {
        state.operator(&auth).await?;
        let query = ReportQueryParams {
            from: from.0,
            to: to.0,
            granularity: granularity.0,
            group_by: group_by.0,
        }
        .query();
        let report = match tenant_id.0 {
            Some(t) => {
                let tenant = t.parse::<TenantId>().map_err(|_| {
                    DomainError::invalid(Code::InvalidTenant, "tenant_id is not a tenant id")
                })?;
                state.usage.tenant(tenant, query).await?
            }
            None => state.usage.all_tenants(query).await?,
        };
        Ok(Json(report.into()))
    }
}
