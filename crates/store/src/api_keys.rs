//! API keys repository.

use crate::admins::found;
use crate::entity::api_key;
use crate::{conflict_as, map_db_err, Store};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use tollgate_core::Code;
use tollgate_core::{DomainError, KeyId, TenantId};

pub use api_key::Model as ApiKey;

/// What is needed to store a new key.
#[derive(Debug)]
pub struct NewKey<'a> {
    /// Display name.
    pub name: &'a str,
    /// Non-secret prefix shown in listings.
    pub prefix: &'a str,
    /// Digest of the whole key.
    pub digest: &'a str,
    /// Space-separated scopes.
    pub scopes: &'a str,
    /// When the key stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Stores a new key for `tenant`.
    pub async fn create_key(
        &self,
        tenant: TenantId,
        new: NewKey<'_>,
        now: DateTime<Utc>,
    ) -> Result<ApiKey, DomainError> {
        api_key::ActiveModel {
            id: Set(KeyId::new().0),
            tenant_id: Set(tenant.0),
            name: Set(new.name.to_owned()),
            prefix: Set(new.prefix.to_owned()),
            digest: Set(new.digest.to_owned()),
            scopes: Set(new.scopes.to_owned()),
            created_at: Set(now),
            last_used_at: Set(None),
            expires_at: Set(new.expires_at),
            revoked_at: Set(None),
        }
        .insert(self.conn())
        .await
        .map_err(conflict_as(Code::KeyExists, "key collision; try again"))
    }

    /// Finds a key by digest, across tenants (the key decides the tenant).
    pub async fn key_by_digest(&self, digest: &str) -> Result<Option<ApiKey>, DomainError> {
        api_key::Entity::find()
            .filter(api_key::Column::Digest.eq(digest))
            .one(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// One key of `tenant`.
    pub async fn key(&self, tenant: TenantId, id: KeyId) -> Result<ApiKey, DomainError> {
        api_key::Entity::find_by_id(id.0)
            .filter(api_key::Column::TenantId.eq(tenant.0))
            .one(self.conn())
            .await
            .map_err(map_db_err)?
            .ok_or(DomainError::NotFound("key"))
    }

    /// Every key of `tenant`, revoked ones included (they show as revoked).
    pub async fn list_keys(&self, tenant: TenantId) -> Result<Vec<ApiKey>, DomainError> {
        api_key::Entity::find()
            .filter(api_key::Column::TenantId.eq(tenant.0))
            .order_by_asc(api_key::Column::CreatedAt)
            .all(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// Revokes a key now.
    pub async fn revoke_key(
        &self,
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        id: KeyId,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let res = api_key::Entity::update_many()
            .col_expr(api_key::Column::RevokedAt, Expr::value(now))
            .filter(api_key::Column::Id.eq(id.0))
            .filter(api_key::Column::TenantId.eq(tenant.0))
            .filter(api_key::Column::RevokedAt.is_null())
            .exec(conn)
            .await
            .map_err(map_db_err)?;
        found(res.rows_affected, "key")
    }

    /// Makes a key expire at `at` (rotation grace period); never extends an earlier expiry.
    pub async fn expire_key_at(
        &self,
        tenant: TenantId,
        id: KeyId,
        at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let key = self.key(tenant, id).await?;
        let at = key.expires_at.map_or(at, |current| current.min(at));
        api_key::Entity::update_many()
            .col_expr(api_key::Column::ExpiresAt, Expr::value(at))
            .filter(api_key::Column::Id.eq(id.0))
            .filter(api_key::Column::TenantId.eq(tenant.0))
            .exec(self.conn())
            .await
            .map_err(map_db_err)?;
        Ok(())
    }

    /// Every tenant's unrevoked keys that expire in `(after, until]`.
    pub async fn keys_expiring(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<ApiKey>, DomainError> {
        api_key::Entity::find()
            .filter(api_key::Column::RevokedAt.is_null())
            .filter(api_key::Column::ExpiresAt.gt(after))
            .filter(api_key::Column::ExpiresAt.lte(until))
            .order_by_asc(api_key::Column::ExpiresAt)
            .all(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// Records use of a key (coarse: callers throttle how often they call this).
    pub async fn touch_key(&self, id: KeyId, at: DateTime<Utc>) -> Result<(), DomainError> {
        api_key::Entity::update_many()
            .col_expr(api_key::Column::LastUsedAt, Expr::value(at))
            .filter(api_key::Column::Id.eq(id.0))
            .exec(self.conn())
            .await
            .map_err(map_db_err)?;
        Ok(())
    }
}
