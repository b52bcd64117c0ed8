//! Tenants' OpenID Connect providers and the sign-ins under way with them.

use crate::admins::insert_admin;
use crate::entity::{admin, oidc_login, tenant_oidc};
use crate::{conflict_as, map_db_err, Store};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, Set, Statement,
};
use tollgate_core::{AdminId, Code, DomainError, Role, TenantId};

pub use oidc_login::Model as OidcLogin;
pub use tenant_oidc::Model as TenantOidc;

impl Store {
    /// Sets `tenant`'s provider (replacing the one it had) and, in the same transaction,
    /// unlinks the tenant's members from identities of any other issuer (a `sub` means
    /// nothing at another provider); how many were unlinked. Another tenant's domain is 409
    /// `oidc_domain_taken`. Runs in the caller's transaction (with its audit row).
    pub async fn set_tenant_oidc(
        &self,
        txn: &DatabaseTransaction,
        row: TenantOidc,
    ) -> Result<u64, DomainError> {
        let tenant = row.tenant_id;
        let issuer = row.issuer.clone();
        let model = tenant_oidc::ActiveModel {
            tenant_id: Set(row.tenant_id),
            issuer: Set(row.issuer),
            client_id: Set(row.client_id),
            client_secret_sealed: Set(row.client_secret_sealed),
            allowed_domain: Set(row.allowed_domain),
            default_role: Set(row.default_role),
            provider_metadata: Set(row.provider_metadata),
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
                        C::ProviderMetadata,
                        C::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec(txn)
            .await
            .map_err(conflict_as(
                Code::OidcDomainTaken,
                "another tenant signs in with this email domain",
            ))?;
        let unlinked = admin::Entity::update_many()
            .col_expr(
                admin::Column::OidcSubject,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                admin::Column::OidcIssuer,
                Expr::value(Option::<String>::None),
            )
            .filter(admin::Column::TenantId.eq(tenant))
            .filter(admin::Column::OidcIssuer.is_not_null())
            .filter(admin::Column::OidcIssuer.ne(issuer))
            .exec(txn)
            .await
            .map_err(map_db_err)?
            .rows_affected;
        Ok(unlinked)
    }

    /// Pins the discovery document of `tenant`'s provider, if its issuer is still `issuer`
    /// and it has none yet (a provider configured before documents were pinned).
    pub async fn pin_tenant_oidc_metadata(
        &self,
        tenant: TenantId,
        issuer: &str,
        metadata: &str,
    ) -> Result<(), DomainError> {
        tenant_oidc::Entity::update_many()
            .col_expr(tenant_oidc::Column::ProviderMetadata, Expr::value(metadata))
            .filter(tenant_oidc::Column::TenantId.eq(tenant.0))
            .filter(tenant_oidc::Column::Issuer.eq(issuer))
            .filter(tenant_oidc::Column::ProviderMetadata.is_null())
            .exec(self.conn())
            .await
            .map_err(map_db_err)?;
        Ok(())
    }

    /// Holds off every other claim on email domains until `txn` ends: who may use a domain
    /// (a provider claiming it, a tenant adding a member at it) is decided by reading one
    /// table and writing the other, which two transactions at once would each miss. On
    /// PostgreSQL a transaction-scoped advisory lock per domain serialises them across
    /// instances; the embedded database has one process, and its caller holds
    /// [`Store::domain_claims`] as well.
    pub async fn lock_email_domain(
        &self,
        txn: &DatabaseTransaction,
        domain: &str,
    ) -> Result<(), DomainError> {
        if txn.get_database_backend() == DbBackend::Postgres {
            txn.execute(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock(hashtext($1))",
                [format!("tollgate-email-domain:{domain}").into()],
            ))
            .await
            .map_err(map_db_err)?;
        }
        Ok(())
    }

    /// This process's turn at deciding who may use an email domain (held across the
    /// transaction that takes [`Store::lock_email_domain`]).
    pub async fn domain_claims(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.domain_claims.lock().await
    }

    /// How many members of tenants other than `tenant` have emails at `domain`.
    pub async fn members_at_domain_elsewhere(
        &self,
        db: &impl ConnectionTrait,
        tenant: TenantId,
        domain: &str,
    ) -> Result<u64, DomainError> {
        admin::Entity::find()
            .filter(admin::Column::TenantId.ne(tenant.0))
            .filter(admin::Column::Email.ends_with(format!("@{domain}")))
            .count(db)
            .await
            .map_err(map_db_err)
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
        db: &impl ConnectionTrait,
        domain: &str,
    ) -> Result<Option<TenantOidc>, DomainError> {
        tenant_oidc::Entity::find()
            .filter(tenant_oidc::Column::AllowedDomain.eq(domain))
            .one(db)
            .await
            .map_err(map_db_err)
    }

    /// Removes `tenant`'s provider, in the caller's transaction; whether it had one.
    pub async fn delete_tenant_oidc(
        &self,
        txn: &DatabaseTransaction,
        tenant: TenantId,
    ) -> Result<bool, DomainError> {
        let done = tenant_oidc::Entity::delete_by_id(tenant.0)
            .exec(txn)
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

    /// The member of `tenant` linked to identity (`issuer`, `subject`), if any.
    pub async fn admin_by_oidc_identity(
        &self,
        tenant: TenantId,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<admin::Model>, DomainError> {
        admin::Entity::find()
            .filter(admin::Column::TenantId.eq(tenant.0))
            .filter(admin::Column::OidcIssuer.eq(issuer))
            .filter(admin::Column::OidcSubject.eq(subject))
            .one(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// Creates, in the caller's transaction (with its audit row), a member who signed in
    /// with `tenant`'s provider as (`issuer`, `subject`); their password hash is of a random
    /// password no one is told. A taken email or identity is a conflict.
    #[expect(clippy::too_many_arguments, reason = "one column each")]
    pub async fn create_oidc_admin(
        &self,
        txn: &DatabaseTransaction,
        tenant: TenantId,
        email: &str,
        password_hash: &str,
        role: Role,
        issuer: &str,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<admin::Model, DomainError> {
        let identity = Some((issuer, subject));
        insert_admin(
            txn,
            tenant,
            email,
            password_hash,
            role,
            false,
            identity,
            now,
        )
        .await
    }

    /// Links member `id` of `tenant`, in the caller's transaction (with its audit row), to
    /// identity (`issuer`, `subject`) if it is linked to no identity of `issuer` yet (a link
    /// to another issuer's `sub` means nothing at this one); whether it is now linked (false:
    /// another identity won, or this identity is another member's — roll back then).
    pub async fn link_oidc_subject(
        &self,
        txn: &DatabaseTransaction,
        tenant: TenantId,
        id: AdminId,
        issuer: &str,
        subject: &str,
    ) -> Result<bool, DomainError> {
        let unlinked = Condition::any()
            .add(admin::Column::OidcSubject.is_null())
            .add(admin::Column::OidcIssuer.is_null())
            .add(admin::Column::OidcIssuer.ne(issuer));
        let linked = admin::Entity::update_many()
            .col_expr(admin::Column::OidcSubject, Expr::value(subject))
            .col_expr(admin::Column::OidcIssuer, Expr::value(issuer))
            .filter(admin::Column::Id.eq(id.0))
            .filter(admin::Column::TenantId.eq(tenant.0))
            .filter(unlinked)
            .exec(txn)
            .await
            .map_err(map_db_err);
        match linked {
            Ok(done) => Ok(done.rows_affected == 1),
            Err(DomainError::Conflict { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Replaces the one-time password of member `id` (still `old`) by `hash`, of a password
    /// no one is told, and clears the flag: signed in with the identity provider, the member
    /// needs no password, and the one-time one (known to whoever made the member) is void.
    pub async fn retire_one_time_password(
        &self,
        txn: &DatabaseTransaction,
        tenant: TenantId,
        id: AdminId,
        old: &str,
        hash: &str,
    ) -> Result<bool, DomainError> {
        let done = admin::Entity::update_many()
            .col_expr(admin::Column::PasswordHash, Expr::value(hash))
            .col_expr(admin::Column::MustChangePassword, Expr::value(false))
            .filter(admin::Column::Id.eq(id.0))
            .filter(admin::Column::TenantId.eq(tenant.0))
            .filter(admin::Column::MustChangePassword.eq(true))
            .filter(admin::Column::PasswordHash.eq(old))
            .exec(txn)
            .await
            .map_err(map_db_err)?;
        Ok(done.rows_affected == 1)
    }
}
