//! Plans, tenants' plan assignment and per-credential limit overrides.

use crate::entity::{limit_override, plan, plan_assignment, tenant};
use crate::{conflict_as, map_db_err, Store};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use tollgate_core::plan::{Plan, RateLimit};
use tollgate_core::Code;
use tollgate_core::{DomainError, TenantId};

pub use limit_override::Model as LimitOverride;
pub use plan::Model as PlanRow;

impl PlanRow {
    /// The domain plan.
    pub fn to_plan(&self) -> Plan {
        Plan {
            name: self.name.clone(),
            rate: self.rate,
            burst: u32::try_from(self.burst).unwrap_or(1),
            max_concurrent: u32::try_from(self.max_concurrent).unwrap_or(1),
            monthly_units: self.monthly_units,
            overage: self.overage,
            max_image_bytes: u64::try_from(self.max_image_bytes).unwrap_or(0),
            max_pixels: u64::try_from(self.max_pixels).unwrap_or(0),
            max_pdf_pages: u32::try_from(self.max_pdf_pages).unwrap_or(1),
            audit_retention_days: self
                .audit_retention_days
                .and_then(|d| u32::try_from(d).ok()),
        }
    }
}

impl LimitOverride {
    /// The override as a rate limit (unset settings do not tighten anything).
    pub fn to_limit(&self) -> RateLimit {
        RateLimit {
            rate: self.rate.unwrap_or(f64::MAX),
            burst: self
                .burst
                .and_then(|b| u32::try_from(b).ok())
                .unwrap_or(u32::MAX),
        }
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

impl Store {
    /// Creates a plan; names are unique (409 `plan_exists`).
    pub async fn create_plan(&self, p: &Plan, now: DateTime<Utc>) -> Result<PlanRow, DomainError> {
        p.validate()?;
        plan::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            name: Set(p.name.clone()),
            rate: Set(p.rate),
            burst: Set(to_i32(p.burst)),
            max_concurrent: Set(to_i32(p.max_concurrent)),
            monthly_units: Set(p.monthly_units),
            overage: Set(p.overage),
            max_image_bytes: Set(to_i64(p.max_image_bytes)),
            max_pixels: Set(to_i64(p.max_pixels)),
            max_pdf_pages: Set(to_i32(p.max_pdf_pages)),
            audit_retention_days: Set(p.audit_retention_days.map(to_i32)),
            created_at: Set(now),
        }
        .insert(self.conn())
        .await
        .map_err(conflict_as(
            Code::PlanExists,
            "a plan with this name already exists",
        ))
    }

    /// Every plan, oldest first.
    pub async fn list_plans(&self) -> Result<Vec<PlanRow>, DomainError> {
        plan::Entity::find()
            .order_by_asc(plan::Column::CreatedAt)
            .all(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// A plan by name.
    pub async fn plan_by_name(&self, name: &str) -> Result<PlanRow, DomainError> {
        plan::Entity::find()
            .filter(plan::Column::Name.eq(name))
            .one(self.conn())
            .await
            .map_err(map_db_err)?
            .ok_or(DomainError::NotFound("plan"))
    }

    /// Puts a tenant on a plan (by name) from `at`, and records the assignment in the same
    /// transaction; returns the plan.
    pub async fn set_tenant_plan(
        &self,
        tenant_id: TenantId,
        name: &str,
        at: DateTime<Utc>,
    ) -> Result<PlanRow, DomainError> {
        let row = self.plan_by_name(name).await?;
        let t = self.tenant(tenant_id).await?;
        let txn = self.conn().begin().await.map_err(map_db_err)?;
        let mut active: tenant::ActiveModel = t.into();
        active.plan_id = Set(Some(row.id));
        active.update(&txn).await.map_err(map_db_err)?;
        plan_assignment::Entity::insert(plan_assignment::ActiveModel {
            tenant_id: Set(tenant_id.0),
            assigned_at: Set(at),
            plan_id: Set(row.id),
        })
        .on_conflict(
            OnConflict::columns([
                plan_assignment::Column::TenantId,
                plan_assignment::Column::AssignedAt,
            ])
            .update_column(plan_assignment::Column::PlanId)
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await
        .map_err(map_db_err)?;
        txn.commit().await.map_err(map_db_err)?;
        Ok(row)
    }

    /// The plan `tenant` was on at `at` (its last assignment before it); `None` before its
    /// first.
    pub async fn plan_in_force(
        &self,
        tenant: TenantId,
        at: DateTime<Utc>,
    ) -> Result<Option<PlanRow>, DomainError> {
        let Some(a) = plan_assignment::Entity::find()
            .filter(plan_assignment::Column::TenantId.eq(tenant.0))
            .filter(plan_assignment::Column::AssignedAt.lt(at))
            .order_by_desc(plan_assignment::Column::AssignedAt)
            .one(self.conn())
            .await
            .map_err(map_db_err)?
        else {
            return Ok(None);
        };
        plan::Entity::find_by_id(a.plan_id)
            .one(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// The tenant's plan (the built-in default when it has none) and its overrides, in one
    /// round trip per table.
    pub async fn tenant_limits(
        &self,
        tenant_id: TenantId,
    ) -> Result<(Plan, Vec<LimitOverride>), DomainError> {
        let t = self.tenant(tenant_id).await?;
        let plan = match t.plan_id {
            Some(id) => plan::Entity::find_by_id(id)
                .one(self.conn())
                .await
                .map_err(map_db_err)?
                .map_or_else(Plan::default_plan, |p| p.to_plan()),
            None => Plan::default_plan(),
        };
        let overrides = limit_override::Entity::find()
            .filter(limit_override::Column::TenantId.eq(tenant_id.0))
            .all(self.conn())
            .await
            .map_err(map_db_err)?;
        Ok((plan, overrides))
    }

    /// Sets (or replaces) the override of one of the tenant's credentials.
    pub async fn set_limit_override(
        &self,
        tenant_id: TenantId,
        principal_id: &str,
        rate: Option<f64>,
        burst: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        if rate.is_some_and(|r| !(r.is_finite() && r > 0.0)) || burst == Some(0) {
            return Err(DomainError::invalid(
                Code::InvalidLimit,
                "rate must be above 0 and burst at least 1",
            ));
        }
        limit_override::Entity::insert(limit_override::ActiveModel {
            principal_id: Set(principal_id.to_owned()),
            tenant_id: Set(tenant_id.0),
            rate: Set(rate),
            burst: Set(burst.map(to_i32)),
            created_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(limit_override::Column::PrincipalId)
                .update_columns([limit_override::Column::Rate, limit_override::Column::Burst])
                .to_owned(),
        )
        .exec(self.conn())
        .await
        .map_err(map_db_err)?;
        Ok(())
    }
}
