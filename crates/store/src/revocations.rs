//! Durable denylist of revoked token ids; entries are purged once the token has expired.

use crate::entity::revoked_token;
use crate::{map_db_err, Store};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use tollgate_core::DomainError;

impl Store {
    /// Records that `jti` is revoked until `expires_at` (idempotent).
    pub async fn insert_revoked(
        &self,
        jti: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        revoked_token::Entity::insert(revoked_token::ActiveModel {
            jti: Set(jti.to_owned()),
            expires_at: Set(expires_at),
        })
        .on_conflict(
            OnConflict::column(revoked_token::Column::Jti)
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec(self.conn())
        .await
        .map_err(map_db_err)?;
        Ok(())
    }

    /// Revoked ids whose tokens have not expired yet.
    pub async fn active_revocations(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, DateTime<Utc>)>, DomainError> {
        Ok(revoked_token::Entity::find()
            .filter(revoked_token::Column::ExpiresAt.gt(now))
            .all(self.conn())
            .await
            .map_err(map_db_err)?
            .into_iter()
            .map(|row| (row.jti, row.expires_at))
            .collect())
    }

    /// Removes entries whose tokens have expired.
    pub async fn purge_revocations(&self, now: DateTime<Utc>) -> Result<u64, DomainError> {
        Ok(revoked_token::Entity::delete_many()
            .filter(revoked_token::Column::ExpiresAt.lte(now))
            .exec(self.conn())
            .await
            .map_err(map_db_err)?
            .rows_affected)
    }
}
