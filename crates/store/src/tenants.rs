//! Tenants repository.

use crate::entity::tenant;
use crate::{map_db_err, Store};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, QueryOrder, Set};
use tollgate_core::{DomainError, TenantId};

pub use tenant::Model as Tenant;

impl Store {
    /// Creates a tenant.
    pub async fn create_tenant(
        &self,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<Tenant, DomainError> {
        tenant::ActiveModel {
            id: Set(TenantId::new().0),
            name: Set(name.to_owned()),
            created_at: Set(now),
            plan_id: Set(None),
        }
        .insert(self.conn())
        .await
        .map_err(map_db_err)
    }

    /// Looks a tenant up.
    pub async fn tenant(&self, id: TenantId) -> Result<Tenant, DomainError> {
        tenant::Entity::find_by_id(id.0)
            .one(self.conn())
            .await
            .map_err(map_db_err)?
            .ok_or(DomainError::NotFound("tenant"))
    }

    /// Every tenant, oldest first (operator view).
    pub async fn list_tenants(&self) -> Result<Vec<Tenant>, DomainError> {
        tenant::Entity::find()
            .order_by_asc(tenant::Column::CreatedAt)
            .all(self.conn())
            .await
            .map_err(map_db_err)
    }
}
