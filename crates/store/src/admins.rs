//! Tenant admins repository.

use crate::entity::admin;
use crate::{conflict_as, map_db_err, Store};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use tollgate_core::{AdminId, DomainError, Role, TenantId};

pub use admin::Model as Admin;

impl Store {
    /// Creates an admin; emails are unique across the platform (they are the login name).
    pub async fn create_admin(
        &self,
        tenant: TenantId,
        email: &str,
        password_hash: &str,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<Admin, DomainError> {
        admin::ActiveModel {
            id: Set(AdminId::new().0),
            tenant_id: Set(tenant.0),
            email: Set(email.to_owned()),
            password_hash: Set(password_hash.to_owned()),
            role: Set(role.as_str().to_owned()),
            created_at: Set(now),
        }
        .insert(self.conn())
        .await
        .map_err(conflict_as(
            "email_taken",
            "an admin with this email already exists",
        ))
    }

    /// Finds an admin by login email, across tenants (login decides the tenant).
    pub async fn admin_by_email(&self, email: &str) -> Result<Option<Admin>, DomainError> {
        admin::Entity::find()
            .filter(admin::Column::Email.eq(email))
            .one(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// One admin of `tenant`.
    pub async fn admin(&self, tenant: TenantId, id: AdminId) -> Result<Admin, DomainError> {
        admin::Entity::find_by_id(id.0)
            .filter(admin::Column::TenantId.eq(tenant.0))
            .one(self.conn())
            .await
            .map_err(map_db_err)?
            .ok_or(DomainError::NotFound("member"))
    }

    /// Every admin of `tenant`.
    pub async fn list_admins(&self, tenant: TenantId) -> Result<Vec<Admin>, DomainError> {
        admin::Entity::find()
            .filter(admin::Column::TenantId.eq(tenant.0))
            .order_by_asc(admin::Column::CreatedAt)
            .all(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// Number of owners of `tenant`; a tenant must keep at least one.
    pub async fn count_owners(&self, tenant: TenantId) -> Result<u64, DomainError> {
        admin::Entity::find()
            .filter(admin::Column::TenantId.eq(tenant.0))
            .filter(admin::Column::Role.eq(Role::Owner.as_str()))
            .count(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// Changes an admin's role.
    pub async fn set_admin_role(
        &self,
        tenant: TenantId,
        id: AdminId,
        role: Role,
    ) -> Result<(), DomainError> {
        let res = admin::Entity::update_many()
            .col_expr(admin::Column::Role, Expr::value(role.as_str()))
            .filter(admin::Column::Id.eq(id.0))
            .filter(admin::Column::TenantId.eq(tenant.0))
            .exec(self.conn())
            .await
            .map_err(map_db_err)?;
        found(res.rows_affected, "member")
    }

    /// Replaces an admin's password hash (parameter upgrade or password change).
    pub async fn set_admin_password_hash(
        &self,
        tenant: TenantId,
        id: AdminId,
        hash: &str,
    ) -> Result<(), DomainError> {
        let res = admin::Entity::update_many()
            .col_expr(admin::Column::PasswordHash, Expr::value(hash))
            .filter(admin::Column::Id.eq(id.0))
            .filter(admin::Column::TenantId.eq(tenant.0))
            .exec(self.conn())
            .await
            .map_err(map_db_err)?;
        found(res.rows_affected, "member")
    }

    /// Deletes an admin (their sessions go with them).
    pub async fn delete_admin(&self, tenant: TenantId, id: AdminId) -> Result<(), DomainError> {
        let res = admin::Entity::delete_many()
            .filter(admin::Column::Id.eq(id.0))
            .filter(admin::Column::TenantId.eq(tenant.0))
            .exec(self.conn())
            .await
            .map_err(map_db_err)?;
        found(res.rows_affected, "member")
    }
}

/// Turns "no row touched" into a 404 for `what`.
pub(crate) fn found(rows: u64, what: &'static str) -> Result<(), DomainError> {
    if rows == 0 {
        Err(DomainError::NotFound(what))
    } else {
        Ok(())
    }
}
