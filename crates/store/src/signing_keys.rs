//! Signing keys repository: the keyring's durable state.

use crate::entity::signing_key;
use crate::{map_db_err, Store};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};

pub use signing_key::{ActiveModel as NewSigningKey, Model as SigningKey};

/// A key row to insert: published now, and signing now when `active`.
pub fn new_signing_key(
    kid: String,
    alg: &str,
    private_key_enc: String,
    public_key: String,
    now: DateTime<Utc>,
    active: bool,
) -> NewSigningKey {
    use sea_orm::Set;
    NewSigningKey {
        kid: Set(kid),
        alg: Set(alg.to_owned()),
        private_key_enc: Set(private_key_enc),
        public_key: Set(public_key),
        created_at: Set(now),
        activated_at: Set(active.then_some(now)),
        retired_at: Set(None),
        publish_until: Set(None),
    }
}

impl Store {
    /// Every key still published (not past `publish_until`), oldest first.
    pub async fn published_signing_keys(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<SigningKey>, sea_orm::DbErr> {
        signing_key::Entity::find()
            .filter(
                signing_key::Column::PublishUntil
                    .is_null()
                    .or(signing_key::Column::PublishUntil.gt(now)),
            )
            .order_by_asc(signing_key::Column::CreatedAt)
            .all(self.conn())
            .await
    }

    /// Inserts keys; used at first start.
    pub async fn insert_signing_keys(
        &self,
        keys: Vec<NewSigningKey>,
    ) -> Result<(), tollgate_core::DomainError> {
        let txn = self.conn().begin().await.map_err(map_db_err)?;
        for key in keys {
            key.insert(&txn).await.map_err(map_db_err)?;
        }
        txn.commit().await.map_err(map_db_err)
    }

    /// Rotation in one transaction: retire `active`, activate `next`, publish `fresh` as the
    /// following next key.
    pub async fn rotate_signing_keys(
        &self,
        active: Option<&str>,
        next: &str,
        fresh: NewSigningKey,
        now: DateTime<Utc>,
        retired_publish_until: DateTime<Utc>,
    ) -> Result<(), tollgate_core::DomainError> {
        let txn = self.conn().begin().await.map_err(map_db_err)?;
        if let Some(active) = active {
            retire(&txn, active, now, retired_publish_until).await?;
        }
        signing_key::Entity::update_many()
            .col_expr(signing_key::Column::ActivatedAt, Expr::value(now))
            .filter(signing_key::Column::Kid.eq(next))
            .exec(&txn)
            .await
            .map_err(map_db_err)?;
        fresh.insert(&txn).await.map_err(map_db_err)?;
        txn.commit().await.map_err(map_db_err)
    }
}

async fn retire(
    txn: &impl ConnectionTrait,
    kid: &str,
    now: DateTime<Utc>,
    publish_until: DateTime<Utc>,
) -> Result<(), tollgate_core::DomainError> {
    signing_key::Entity::update_many()
        .col_expr(signing_key::Column::RetiredAt, Expr::value(now))
        .col_expr(
            signing_key::Column::PublishUntil,
            Expr::value(publish_until),
        )
        .filter(signing_key::Column::Kid.eq(kid))
        .exec(txn)
        .await
        .map_err(map_db_err)?;
    Ok(())
}
