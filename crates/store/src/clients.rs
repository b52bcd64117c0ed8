//! OAuth2 clients repository.

use crate::admins::found;
use crate::entity::oauth_client;
use crate::{conflict_as, map_db_err, Store};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use tollgate_core::Code;
use tollgate_core::{DomainError, TenantId};
use uuid::Uuid;

pub use oauth_client::Model as OauthClient;

/// What is needed to create a client.
#[derive(Debug)]
pub struct NewClient<'a> {
    /// Public client identifier (`tgc_…`).
    pub client_id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Space-separated scopes.
    pub scopes: &'a str,
    /// Digest of the secret.
    pub secret_digest: &'a str,
}

impl Store {
    /// Creates a client for `tenant`.
    pub async fn create_client(
        &self,
        tenant: TenantId,
        new: NewClient<'_>,
        now: DateTime<Utc>,
    ) -> Result<OauthClient, DomainError> {
        oauth_client::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.0),
            client_id: Set(new.client_id.to_owned()),
            name: Set(new.name.to_owned()),
            scopes: Set(new.scopes.to_owned()),
            secret_digest: Set(new.secret_digest.to_owned()),
            prev_secret_digest: Set(None),
            prev_secret_expires_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(self.conn())
        .await
        .map_err(conflict_as(
            Code::ClientExists,
            "a client with this id already exists",
        ))
    }

    /// Finds a client by its public id, across tenants (the token endpoint decides the tenant).
    pub async fn client_by_client_id(
        &self,
        client_id: &str,
    ) -> Result<Option<OauthClient>, DomainError> {
        oauth_client::Entity::find()
            .filter(oauth_client::Column::ClientId.eq(client_id))
            .one(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// One client of `tenant`, by public id.
    pub async fn client(
        &self,
        tenant: TenantId,
        client_id: &str,
    ) -> Result<OauthClient, DomainError> {
        oauth_client::Entity::find()
            .filter(oauth_client::Column::ClientId.eq(client_id))
            .filter(oauth_client::Column::TenantId.eq(tenant.0))
            .one(self.conn())
            .await
            .map_err(map_db_err)?
            .ok_or(DomainError::NotFound("client"))
    }

    /// Every client of `tenant`.
    pub async fn list_clients(&self, tenant: TenantId) -> Result<Vec<OauthClient>, DomainError> {
        oauth_client::Entity::find()
            .filter(oauth_client::Column::TenantId.eq(tenant.0))
            .order_by_asc(oauth_client::Column::CreatedAt)
            .all(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// Replaces a client's secret; the old one keeps working until `prev_expires_at`.
    pub async fn rotate_client_secret(
        &self,
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        client_id: &str,
        new_digest: &str,
        prev_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let res = oauth_client::Entity::update_many()
            .col_expr(
                oauth_client::Column::PrevSecretDigest,
                Expr::col(oauth_client::Column::SecretDigest).into(),
            )
            .col_expr(
                oauth_client::Column::PrevSecretExpiresAt,
                Expr::value(prev_expires_at),
            )
            .col_expr(oauth_client::Column::SecretDigest, Expr::value(new_digest))
            .col_expr(oauth_client::Column::UpdatedAt, Expr::value(now))
            .filter(oauth_client::Column::ClientId.eq(client_id))
            .filter(oauth_client::Column::TenantId.eq(tenant.0))
            .exec(conn)
            .await
            .map_err(map_db_err)?;
        found(res.rows_affected, "client")
    }

    /// Updates a client's name and/or scopes.
    pub async fn update_client(
        &self,
        tenant: TenantId,
        client_id: &str,
        name: Option<&str>,
        scopes: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let mut update = oauth_client::Entity::update_many()
            .col_expr(oauth_client::Column::UpdatedAt, Expr::value(now));
        if let Some(name) = name {
            update = update.col_expr(oauth_client::Column::Name, Expr::value(name));
        }
        if let Some(scopes) = scopes {
            update = update.col_expr(oauth_client::Column::Scopes, Expr::value(scopes));
        }
        let res = update
            .filter(oauth_client::Column::ClientId.eq(client_id))
            .filter(oauth_client::Column::TenantId.eq(tenant.0))
            .exec(self.conn())
            .await
            .map_err(map_db_err)?;
        found(res.rows_affected, "client")
    }

    /// Deletes a client; its tokens stop working at the next verification.
    pub async fn delete_client(
        &self,
        tenant: TenantId,
        client_id: &str,
    ) -> Result<(), DomainError> {
        let res = oauth_client::Entity::delete_many()
            .filter(oauth_client::Column::ClientId.eq(client_id))
            .filter(oauth_client::Column::TenantId.eq(tenant.0))
            .exec(self.conn())
            .await
            .map_err(map_db_err)?;
        found(res.rows_affected, "client")
    }
}
