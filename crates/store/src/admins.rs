//! Tenant admins repository.

use crate::entity::{admin, session, tenant};
use crate::{conflict_as, map_db_err, Store};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use tollgate_core::Code;
use tollgate_core::{AdminId, DomainError, Role, TenantId};

pub use admin::Model as Admin;

/// A change to a member that must leave the tenant with an owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberChange {
    /// Remove the member.
    Remove,
    /// Give the member this role.
    SetRole(Role),
}

async fn member_in(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: AdminId,
) -> Result<Option<Admin>, DomainError> {
    admin::Entity::find_by_id(id.0)
        .filter(admin::Column::TenantId.eq(tenant.0))
        .one(db)
        .await
        .map_err(map_db_err)
}

/// Inserts an admin row (linked to an identity provider's (issuer, subject), if given).
#[expect(clippy::too_many_arguments, reason = "one column each")]
pub(crate) async fn insert_admin(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    email: &str,
    password_hash: &str,
    role: Role,
    one_time: bool,
    oidc_identity: Option<(&str, &str)>,
    now: DateTime<Utc>,
) -> Result<Admin, DomainError> {
    admin::ActiveModel {
        id: Set(AdminId::new().0),
        tenant_id: Set(tenant.0),
        email: Set(email.to_owned()),
        password_hash: Set(password_hash.to_owned()),
        role: Set(role.as_str().to_owned()),
        created_at: Set(now),
        must_change_password: Set(one_time),
        password_epoch: Set(0),
        oidc_issuer: Set(oidc_identity.map(|(issuer, _)| issuer.to_owned())),
        oidc_subject: Set(oidc_identity.map(|(_, subject)| subject.to_owned())),
    }
    .insert(db)
    .await
    .map_err(conflict_as(
        Code::EmailTaken,
        "an admin with this email already exists",
    ))
}

impl Store {
    /// Creates an admin; emails are unique across the platform (they are the login name).
    /// `one_time` marks a generated password the admin must replace at first sign-in.
    pub async fn create_admin(
        &self,
        tenant: TenantId,
        email: &str,
        password_hash: &str,
        role: Role,
        one_time: bool,
        now: DateTime<Utc>,
    ) -> Result<Admin, DomainError> {
        insert_admin(
            self.conn(),
            tenant,
            email,
            password_hash,
            role,
            one_time,
            None,
            now,
        )
        .await
    }

    /// [`Store::create_admin`] in the caller's transaction (with its audit row).
    #[expect(clippy::too_many_arguments, reason = "one column each")]
    pub async fn create_admin_in(
        &self,
        txn: &DatabaseTransaction,
        tenant: TenantId,
        email: &str,
        password_hash: &str,
        role: Role,
        one_time: bool,
        now: DateTime<Utc>,
    ) -> Result<Admin, DomainError> {
        insert_admin(txn, tenant, email, password_hash, role, one_time, None, now).await
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

    /// Applies `change` to member `id` on behalf of owner `actor`, in one transaction that
    /// first writes the tenant's row — a row lock on PostgreSQL, the write lock on SQLite — so
    /// two changes to one tenant's members run one after the other, each seeing the other's
    /// result: the actor must still be an owner, and the tenant must keep one. Returns the
    /// member as it was.
    pub async fn change_member_keeping_an_owner(
        &self,
        tenant: TenantId,
        actor: AdminId,
        id: AdminId,
        change: MemberChange,
    ) -> Result<Admin, DomainError> {
        let owner = Role::Owner.as_str();
        let txn = self.conn().begin().await.map_err(map_db_err)?;
        let locked = tenant::Entity::update_many()
            .col_expr(tenant::Column::Name, Expr::col(tenant::Column::Name).into())
            .filter(tenant::Column::Id.eq(tenant.0))
            .exec(&txn)
            .await
            .map_err(map_db_err)?;
        found(locked.rows_affected, "tenant")?;
        let still_owner = member_in(&txn, tenant, actor)
            .await?
            .is_some_and(|a| a.role == owner);
        if !still_owner {
            return Err(DomainError::Forbidden("requires the owner role".into()));
        }
        let member = member_in(&txn, tenant, id)
            .await?
            .ok_or(DomainError::NotFound("member"))?;
        let loses_owner = member.role == owner
            && match change {
                MemberChange::Remove => true,
                MemberChange::SetRole(role) => role != Role::Owner,
            };
        if loses_owner {
            let owners = admin::Entity::find()
                .filter(admin::Column::TenantId.eq(tenant.0))
                .filter(admin::Column::Role.eq(owner))
                .count(&txn)
                .await
                .map_err(map_db_err)?;
            if owners <= 1 {
                return Err(DomainError::conflict(
                    Code::LastOwner,
                    "a tenant must keep at least one owner",
                ));
            }
        }
        match change {
            MemberChange::Remove => {
                admin::Entity::delete_many()
                    .filter(admin::Column::Id.eq(id.0))
                    .filter(admin::Column::TenantId.eq(tenant.0))
                    .exec(&txn)
                    .await
                    .map_err(map_db_err)?;
            }
            MemberChange::SetRole(role) => {
                admin::Entity::update_many()
                    .col_expr(admin::Column::Role, Expr::value(role.as_str()))
                    .filter(admin::Column::Id.eq(id.0))
                    .filter(admin::Column::TenantId.eq(tenant.0))
                    .exec(&txn)
                    .await
                    .map_err(map_db_err)?;
            }
        }
        txn.commit().await.map_err(map_db_err)?;
        Ok(member)
    }

    /// Replaces an admin's password hash by its re-hash under current parameters, only if it
    /// is still `old` (a password changed meanwhile is not overwritten by the old one's).
    pub async fn rehash_admin_password(
        &self,
        tenant: TenantId,
        id: AdminId,
        old: &str,
        hash: &str,
    ) -> Result<(), DomainError> {
        admin::Entity::update_many()
            .col_expr(admin::Column::PasswordHash, Expr::value(hash))
            .filter(admin::Column::Id.eq(id.0))
            .filter(admin::Column::TenantId.eq(tenant.0))
            .filter(admin::Column::PasswordHash.eq(old))
            .exec(self.conn())
            .await
            .map_err(map_db_err)?;
        Ok(())
    }

    /// Sets an admin's own new password in `txn` (the caller's audited transaction), only if
    /// the stored hash is still `old` (the one the current password was checked against: 409
    /// `password_changed` otherwise, so of two changes at once one wins). Clears the
    /// one-time flag and moves the password epoch on, which ends every other session of the
    /// admin (and any sign-in checked against the old password); `keep_session` moves with it.
    pub async fn change_admin_password_in(
        &self,
        txn: &DatabaseTransaction,
        tenant: TenantId,
        id: AdminId,
        old: &str,
        hash: &str,
        keep_session: &str,
    ) -> Result<(), DomainError> {
        let res = admin::Entity::update_many()
            .col_expr(admin::Column::PasswordHash, Expr::value(hash))
            .col_expr(admin::Column::MustChangePassword, Expr::value(false))
            .col_expr(
                admin::Column::PasswordEpoch,
                Expr::col(admin::Column::PasswordEpoch).add(1),
            )
            .filter(admin::Column::Id.eq(id.0))
            .filter(admin::Column::TenantId.eq(tenant.0))
            .filter(admin::Column::PasswordHash.eq(old))
            .exec(txn)
            .await
            .map_err(map_db_err)?;
        if res.rows_affected == 0 {
            return Err(DomainError::conflict(
                Code::PasswordChanged,
                "the password was changed meanwhile: sign in again",
            ));
        }
        let epoch = admin::Entity::find_by_id(id.0)
            .one(txn)
            .await
            .map_err(map_db_err)?
            .map(|a| a.password_epoch)
            .ok_or(DomainError::NotFound("member"))?;
        session::Entity::update_many()
            .col_expr(session::Column::PasswordEpoch, Expr::value(epoch))
            .filter(session::Column::IdHash.eq(keep_session))
            .filter(session::Column::AdminId.eq(id.0))
            .exec(txn)
            .await
            .map_err(map_db_err)?;
        session::Entity::delete_many()
            .filter(session::Column::AdminId.eq(id.0))
            .filter(session::Column::TenantId.eq(tenant.0))
            .filter(session::Column::IdHash.ne(keep_session))
            .exec(txn)
            .await
            .map_err(map_db_err)?;
        Ok(())
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
