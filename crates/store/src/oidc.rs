//! Tenants' OpenID Connect providers and the sign-ins under way with them.

use crate::entity::{admin, oidc_login, tenant_oidc};
use crate::{conflict_as, map_db_err, Store};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use tollgate_core::{AdminId, Code, DomainError, Role, TenantId};

pub use oidc_login::Model as OidcLogin;
pub use tenant_oidc::Model as TenantOidc;

impl Store {
    /// Sets `tenant`'s provider (replacing the one it had). Another tenant's domain is 409
    /// `oidc_domain_taken`.
    pub async fn set_tenant_oidc(&self, row: TenantOidc) -> Result<(), DomainError> {
        let model = tenant_oidc::ActiveModel {
            tenant_id: Set(row.tenant_id),
            issuer: Set(row.issuer),
            client_id: Set(row.client_id),
            client_secret_sealed: Set(row.client_secret_sealed),
            allowed_domain: Set(row.allowed_domain),
            default_role: Set(row.default_role),
            created_at: Set(row.created_at),
            updated_at: Set(row.updated_at),
        };
        use tenant_oidc::Column as C;
        tenant_oidc::Entity::insert(model)
            .on_conflict(
                OnConflict::column(C::TenantId)
                    .update_columns([
                        C::Issuer,
                        C::ClientId,
                        C::ClientSecretSealed,
                        C::AllowedDomain,
                        C::DefaultRole,
                        C::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec(self.conn())
            .await
            .map_err(conflict_as(
                Code::OidcDomainTaken,
                "another tenant signs in with this email domain",
            ))?;
        Ok(())
    }

    /// `tenant`'s provider, if it has one.
    pub async fn tenant_oidc(&self, tenant: TenantId) -> Result<Option<TenantOidc>, DomainError> {
        tenant_oidc::Entity::find_by_id(tenant.0)
            .one(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// The provider of the tenant whose people have emails at `domain` (lower-case).
    pub async fn tenant_oidc_by_domain(
        &self,
        domain: &str,
    ) -> Result<Option<TenantOidc>, DomainError> {
        tenant_oidc::Entity::find()
            .filter(tenant_oidc::Column::AllowedDomain.eq(domain))
            .one(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// Removes `tenant`'s provider; whether it had one.
    pub async fn delete_tenant_oidc(&self, tenant: TenantId) -> Result<bool, DomainError> {
        let done = tenant_oidc::Entity::delete_by_id(tenant.0)
            .exec(self.conn())
            .await
            .map_err(map_db_err)?;
        Ok(done.rows_affected == 1)
    }

    /// Stores a sign-in under way (and forgets those expired by `row.created_at`).
    pub async fn create_oidc_login(&self, row: OidcLogin) -> Result<(), DomainError> {
        oidc_login::Entity::delete_many()
            .filter(oidc_login::Column::ExpiresAt.lte(row.created_at))
            .exec(self.conn())
            .await
            .map_err(map_db_err)?;
        oidc_login::Entity::insert(oidc_login::ActiveModel {
            state_hash: Set(row.state_hash),
            tenant_id: Set(row.tenant_id),
            nonce: Set(row.nonce),
            pkce_verifier: Set(row.pkce_verifier),
            created_at: Set(row.created_at),
            expires_at: Set(row.expires_at),
        })
        .exec(self.conn())
        .await
        .map_err(map_db_err)?;
        Ok(())
    }

    /// Takes the sign-in of `state_hash` if it has not expired at `now`: it is deleted, and of
    /// two callers at once only the one whose delete removed the row gets it.
    pub async fn take_oidc_login(
        &self,
        state_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<OidcLogin>, DomainError> {
        let Some(row) = oidc_login::Entity::find_by_id(state_hash.to_owned())
            .one(self.conn())
            .await
            .map_err(map_db_err)?
        else {
            return Ok(None);
        };
        let taken = oidc_login::Entity::delete_many()
            .filter(oidc_login::Column::StateHash.eq(state_hash))
            .exec(self.conn())
            .await
            .map_err(map_db_err)?;
        Ok((taken.rows_affected == 1 && row.expires_at > now).then_some(row))
    }

    /// Creates a member who signed in with `tenant`'s provider as `subject`; their password
    /// hash is of a random password no one is told.
    pub async fn create_oidc_admin(
        &self,
        tenant: TenantId,
        email: &str,
        password_hash: &str,
        role: Role,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<admin::Model, DomainError> {
        self.insert_admin(
            tenant,
            email,
            password_hash,
            role,
            false,
            Some(subject),
            now,
        )
        .await
    }

    /// Links member `id` of `tenant` to `subject` if it is linked to no one yet; whether it is
    /// now linked to `subject` (false: another subject won).
    pub async fn link_oidc_subject(
        &self,
        tenant: TenantId,
        id: AdminId,
        subject: &str,
    ) -> Result<bool, DomainError> {
        admin::Entity::update_many()
            .col_expr(admin::Column::OidcSubject, Expr::value(subject))
            .filter(admin::Column::Id.eq(id.0))
            .filter(admin::Column::TenantId.eq(tenant.0))
            .filter(admin::Column::OidcSubject.is_null())
            .exec(self.conn())
            .await
            .map_err(map_db_err)?;
        let now = self.admin(tenant, id).await?;
        Ok(now.oidc_subject.as_deref() == Some(subject))
    }

    /// Replaces the one-time password of member `id` (still `old`) by `hash`, of a password
    /// no one is told, and clears the flag: signed in with the identity provider, the member
    /// needs no password, and the one-time one (known to whoever made the member) is void.
    pub async fn retire_one_time_password(
        &self,
        tenant: TenantId,
        id: AdminId,
        old: &str,
        hash: &str,
    ) -> Result<(), DomainError> {
        admin::Entity::update_many()
            .col_expr(admin::Column::PasswordHash, Expr::value(hash))
            .col_expr(admin::Column::MustChangePassword, Expr::value(false))
            .filter(admin::Column::Id.eq(id.0))
            .filter(admin::Column::TenantId.eq(tenant.0))
            .filter(admin::Column::MustChangePassword.eq(true))
            .filter(admin::Column::PasswordHash.eq(old))
            .exec(self.conn())
            .await
            .map_err(map_db_err)?;
        Ok(())
    }
}
