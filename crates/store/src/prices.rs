//! Plan prices, by the first billing period each applies to. The store keeps a price as the
//! JSON of `tollgate_core::pricing::Price`; billing reads and checks it.

use crate::entity::{plan, plan_price, tenant};
use crate::{map_db_err, Store};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use tollgate_core::{DomainError, TenantId};

pub use plan_price::Model as PlanPriceRow;

impl Store {
    /// Sets `plan`'s price from `effective` (`YYYY-MM`) on, replacing a price set for that
    /// same period.
    pub async fn set_plan_price(
        &self,
        conn: &impl ConnectionTrait,
        plan: uuid::Uuid,
        effective: &str,
        price_json: &str,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        plan_price::Entity::insert(plan_price::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            plan_id: Set(plan),
            effective_period: Set(effective.to_owned()),
            price: Set(price_json.to_owned()),
            created_at: Set(now),
        })
        .on_conflict(
            OnConflict::columns([
                plan_price::Column::PlanId,
                plan_price::Column::EffectivePeriod,
            ])
            .update_columns([plan_price::Column::Price, plan_price::Column::CreatedAt])
            .to_owned(),
        )
        .exec_without_returning(conn)
        .await
        .map_err(map_db_err)?;
        Ok(())
    }

    /// The price `plan` has in `period` (`YYYY-MM`): the one set for the latest period not
    /// after it.
    pub async fn plan_price(
        &self,
        plan: uuid::Uuid,
        period: &str,
    ) -> Result<Option<PlanPriceRow>, DomainError> {
        self.plan_price_in(self.conn(), plan, period).await
    }

    /// [`plan_price`](Self::plan_price) through `conn` (the caller's transaction).
    pub async fn plan_price_in(
        &self,
        conn: &impl ConnectionTrait,
        plan: uuid::Uuid,
        period: &str,
    ) -> Result<Option<PlanPriceRow>, DomainError> {
        plan_price::Entity::find()
            .filter(plan_price::Column::PlanId.eq(plan))
            .filter(plan_price::Column::EffectivePeriod.lte(period))
            .order_by_desc(plan_price::Column::EffectivePeriod)
            .one(conn)
            .await
            .map_err(map_db_err)
    }

    /// The plan `tenant` is on, if one was set (otherwise the built-in default, which has no
    /// price).
    pub async fn tenant_plan(
        &self,
        tenant: TenantId,
    ) -> Result<Option<crate::plans::PlanRow>, DomainError> {
        let Some(plan_id) = tenant::Entity::find_by_id(tenant.0)
            .one(self.conn())
            .await
            .map_err(map_db_err)?
            .ok_or(DomainError::NotFound("tenant"))?
            .plan_id
        else {
            return Ok(None);
        };
        plan::Entity::find_by_id(plan_id)
            .one(self.conn())
            .await
            .map_err(map_db_err)
    }
}
