//! Portal sessions repository. Only a digest of the cookie value is stored.

use crate::entity::session;
use crate::{map_db_err, Store};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use tollgate_core::{AdminId, DomainError, TenantId};

pub use session::Model as Session;

impl Store {
    /// Stores a new session of `admin`, signed in against their password of `epoch`.
    #[expect(clippy::too_many_arguments, reason = "one column each")]
    pub async fn create_session(
        &self,
        id_hash: &str,
        admin: AdminId,
        tenant: TenantId,
        csrf_token: &str,
        epoch: i64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        session::ActiveModel {
            id_hash: Set(id_hash.to_owned()),
            admin_id: Set(admin.0),
            tenant_id: Set(tenant.0),
            csrf_token: Set(csrf_token.to_owned()),
            created_at: Set(now),
            expires_at: Set(expires_at),
            last_seen_at: Set(Some(now)),
            password_epoch: Set(epoch),
        }
        .insert(self.conn())
        .await
        .map_err(map_db_err)?;
        Ok(())
    }

    /// A session by digest, expired or not (the caller decides, and deletes it).
    pub async fn session(&self, id_hash: &str) -> Result<Option<Session>, DomainError> {
        session::Entity::find_by_id(id_hash.to_owned())
            .one(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// Records that a session was used at `now`.
    pub async fn touch_session(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(now))
            .filter(session::Column::IdHash.eq(id_hash))
            .exec(self.conn())
            .await
            .map_err(map_db_err)?;
        Ok(())
    }

    /// Ends a session if it is still at password `epoch`.
    pub async fn delete_session_at_epoch(
        &self,
        id_hash: &str,
        epoch: i64,
    ) -> Result<(), DomainError> {
        session::Entity::delete_many()
            .filter(session::Column::IdHash.eq(id_hash))
            .filter(session::Column::PasswordEpoch.eq(epoch))
            .exec(self.conn())
            .await
            .map_err(map_db_err)?;
        Ok(())
    }

    /// Ends a session.
    pub async fn delete_session(&self, id_hash: &str) -> Result<(), DomainError> {
        session::Entity::delete_by_id(id_hash.to_owned())
            .exec(self.conn())
            .await
            .map_err(map_db_err)?;
        Ok(())
    }

    /// Ends every session of one admin (role change, removal, password change).
    pub async fn delete_sessions_of(
        &self,
        tenant: TenantId,
        admin: AdminId,
    ) -> Result<(), DomainError> {
        session::Entity::delete_many()
            .filter(session::Column::AdminId.eq(admin.0))
            .filter(session::Column::TenantId.eq(tenant.0))
            .exec(self.conn())
            .await
            .map_err(map_db_err)?;
        Ok(())
    }
}
