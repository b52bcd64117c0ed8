//! The transactional outbox: a message is written in the transaction of what it announces
//! (so it exists exactly when that committed), and a relay sends it later, at least once,
//! recording the outcome. `(topic, key)` is unique: a message is written once.

use crate::entity::outbox;
use crate::{map_db_err, Store};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use tollgate_core::{DomainError, TenantId};

pub use outbox::Model as OutboxMessage;

/// Message states.
pub mod state {
    /// Not sent yet (or to be retried at `next_attempt_at`).
    pub const PENDING: &str = "pending";
    /// Sent; `result` says what the other side answered.
    pub const DONE: &str = "done";
    /// Given up after too many attempts: an operator looks.
    pub const FAILED: &str = "failed";
}

impl Store {
    /// Writes a message (in the caller's transaction); `false` when `(topic, key)` was
    /// written before.
    pub async fn enqueue(
        &self,
        txn: &impl ConnectionTrait,
        topic: &str,
        key: &str,
        tenant: TenantId,
        payload: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<bool, DomainError> {
        let inserted = outbox::Entity::insert(outbox::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            topic: Set(topic.to_owned()),
            key: Set(key.to_owned()),
            tenant_id: Set(tenant.0),
            payload: Set(payload.to_string()),
            status: Set(state::PENDING.to_owned()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            last_error: Set(None),
            result: Set(None),
            created_at: Set(now),
            done_at: Set(None),
        })
        .on_conflict(
            OnConflict::columns([outbox::Column::Topic, outbox::Column::Key])
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec_without_returning(txn)
        .await
        .map_err(map_db_err)?;
        Ok(matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0))
    }

    /// Whether `(topic, key)` was ever written (in any state).
    pub async fn has_message(
        &self,
        conn: &impl ConnectionTrait,
        topic: &str,
        key: &str,
    ) -> Result<bool, DomainError> {
        Ok(outbox::Entity::find()
            .filter(outbox::Column::Topic.eq(topic))
            .filter(outbox::Column::Key.eq(key))
            .one(conn)
            .await
            .map_err(map_db_err)?
            .is_some())
    }

    /// Pending messages of `topic` due at `now`, oldest first.
    pub async fn due_messages(
        &self,
        topic: &str,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<OutboxMessage>, DomainError> {
        outbox::Entity::find()
            .filter(outbox::Column::Topic.eq(topic))
            .filter(outbox::Column::Status.eq(state::PENDING))
            .filter(outbox::Column::NextAttemptAt.lte(now))
            .order_by_asc(outbox::Column::CreatedAt)
            .limit(limit)
            .all(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// Every message of `topic` (tests, operators), oldest first.
    pub async fn messages(&self, topic: &str) -> Result<Vec<OutboxMessage>, DomainError> {
        outbox::Entity::find()
            .filter(outbox::Column::Topic.eq(topic))
            .order_by_asc(outbox::Column::CreatedAt)
            .all(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// Claims a due message for one attempt: moves its next attempt to `lease_until` so no
    /// other relay takes it meanwhile; `false` when another relay claimed it first.
    pub async fn claim_message(
        &self,
        m: &OutboxMessage,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, DomainError> {
        let done = outbox::Entity::update_many()
            .col_expr(outbox::Column::NextAttemptAt, Expr::value(lease_until))
            .col_expr(outbox::Column::Attempts, Expr::value(m.attempts + 1))
            .filter(outbox::Column::Id.eq(m.id))
            .filter(outbox::Column::Status.eq(state::PENDING))
            .filter(outbox::Column::Attempts.eq(m.attempts))
            .exec(self.conn())
            .await
            .map_err(map_db_err)?;
        Ok(done.rows_affected == 1)
    }

    /// Records a message as sent, with what the other side answered, if the claim that made
    /// `attempts` what it is still holds it; `false` when another relay has claimed it since.
    pub async fn message_done(
        &self,
        conn: &impl ConnectionTrait,
        id: uuid::Uuid,
        attempts: i32,
        result: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<bool, DomainError> {
        let done = outbox::Entity::update_many()
            .col_expr(outbox::Column::Status, Expr::value(state::DONE))
            .col_expr(outbox::Column::Result, Expr::value(result.to_string()))
            .col_expr(outbox::Column::DoneAt, Expr::value(now))
            .col_expr(
                outbox::Column::LastError,
                Expr::value(Option::<String>::None),
            )
            .filter(outbox::Column::Id.eq(id))
            .filter(outbox::Column::Status.eq(state::PENDING))
            .filter(outbox::Column::Attempts.eq(attempts))
            .exec(conn)
            .await
            .map_err(map_db_err)?;
        Ok(done.rows_affected == 1)
    }

    /// Records a failed attempt (by the claim that made `attempts` what it is): retried at
    /// `retry_at`, or given up when `None`.
    pub async fn message_failed(
        &self,
        id: uuid::Uuid,
        attempts: i32,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), DomainError> {
        let mut update = outbox::Entity::update_many()
            .col_expr(outbox::Column::LastError, Expr::value(error.to_owned()))
            .filter(outbox::Column::Id.eq(id))
            .filter(outbox::Column::Status.eq(state::PENDING))
            .filter(outbox::Column::Attempts.eq(attempts));
        update = match retry_at {
            Some(at) => update.col_expr(outbox::Column::NextAttemptAt, Expr::value(at)),
            None => update.col_expr(outbox::Column::Status, Expr::value(state::FAILED)),
        };
        update.exec(self.conn()).await.map_err(map_db_err)?;
        Ok(())
    }

    /// Puts given-up messages of `topic` back to pending, due now, with their attempts
    /// counted afresh (after an operator fixed the cause); returns how many.
    pub async fn requeue_failed(
        &self,
        topic: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, DomainError> {
        let done = outbox::Entity::update_many()
            .col_expr(outbox::Column::Status, Expr::value(state::PENDING))
            .col_expr(outbox::Column::Attempts, Expr::value(0))
            .col_expr(outbox::Column::NextAttemptAt, Expr::value(now))
            .filter(outbox::Column::Topic.eq(topic))
            .filter(outbox::Column::Status.eq(state::FAILED))
            .exec(self.conn())
            .await
            .map_err(map_db_err)?;
        Ok(done.rows_affected)
    }

    /// Messages of `topic` given up (operators, reconciliation).
    pub async fn failed_messages(&self, topic: &str) -> Result<Vec<OutboxMessage>, DomainError> {
        outbox::Entity::find()
            .filter(outbox::Column::Topic.eq(topic))
            .filter(outbox::Column::Status.eq(state::FAILED))
            .order_by_asc(outbox::Column::CreatedAt)
            .all(self.conn())
            .await
            .map_err(map_db_err)
    }
}
