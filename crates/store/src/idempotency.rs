//! Idempotency keys (Stripe's contract). A metered request with an `Idempotency-Key` first
//! *claims* the key: a row is inserted, or an existing one is taken over when its holder is
//! presumed gone or the key has expired; every change is a compare-and-set on the claim
//! token, so of two racing requests exactly one holds the key. The holder completes it in the
//! same transaction as its usage event, storing the answer retries get back; a holder that
//! fails releases it, so a retry runs again.

use crate::entity::{idempotency_key, usage_event};
use crate::usage::UsageEvent;
use crate::{map_db_err, Store};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait, TryInsertResult,
};
use tollgate_core::{DomainError, TenantId};

const RUNNING: &str = "running";
const DONE: &str = "done";

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    /// The caller holds the key and runs the request.
    Held,
    /// A request with this key and body completed: its stored answer.
    Replay {
        /// HTTP status it was answered with.
        status: u16,
        /// The answer's body, as sent.
        body: String,
    },
    /// A request with this key and body is running now.
    InProgress {
        /// Until when its holder has the key (then a retry may take over).
        locked_until: DateTime<Utc>,
    },
    /// The key named a request with another body.
    Mismatch,
}

/// A claim attempt.
#[derive(Debug, Clone)]
pub struct ClaimRequest<'a> {
    /// The tenant (keys are namespaced per tenant).
    pub tenant: TenantId,
    /// The client's key.
    pub key: &'a str,
    /// Digest of the request body (and what else makes two requests the same).
    pub fingerprint: &'a str,
    /// A fresh random token naming this attempt.
    pub claim: &'a str,
    /// Now.
    pub now: DateTime<Utc>,
    /// How long the claim protects a running request (its deadline, with a margin).
    pub lease: Duration,
    /// How long a key names one request; an older key is forgotten and may be used again.
    pub window: Duration,
}

impl Store {
    /// Claims an idempotency key (see the module documentation).
    pub async fn claim_idempotency_key(
        &self,
        r: &ClaimRequest<'_>,
    ) -> Result<Claimed, DomainError> {
        let locked_until = r.now + r.lease;
        for _ in 0..5 {
            let row = idempotency_key::ActiveModel {
                tenant_id: Set(r.tenant.0),
                key: Set(r.key.to_owned()),
                fingerprint: Set(r.fingerprint.to_owned()),
                state: Set(RUNNING.to_owned()),
                claim: Set(r.claim.to_owned()),
                locked_until: Set(locked_until),
                event_id: Set(None),
                response_status: Set(None),
                response_body: Set(None),
                created_at: Set(r.now),
            };
            let inserted = idempotency_key::Entity::insert(row)
                .on_conflict(
                    OnConflict::columns([
                        idempotency_key::Column::TenantId,
                        idempotency_key::Column::Key,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .do_nothing()
                .exec_without_returning(self.conn())
                .await
                .map_err(map_db_err)?;
            if matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
                return Ok(Claimed::Held);
            }
            let Some(found) = idempotency_key::Entity::find_by_id((r.tenant.0, r.key.to_owned()))
                .one(self.conn())
                .await
                .map_err(map_db_err)?
            else {
                continue; // released in between: try the insert again
            };
            let expired = found.created_at <= r.now - r.window;
            if !expired && found.fingerprint != r.fingerprint {
                return Ok(Claimed::Mismatch);
            }
            if !expired && found.state == DONE {
                return Ok(Claimed::Replay {
                    status: found
                        .response_status
                        .and_then(|s| u16::try_from(s).ok())
                        .unwrap_or(200),
                    body: found.response_body.unwrap_or_default(),
                });
            }
            if !expired && found.locked_until > r.now {
                return Ok(Claimed::InProgress {
                    locked_until: found.locked_until,
                });
            }
            // Expired, or its holder is gone: take it over, unless someone else just did.
            let mut update = idempotency_key::Entity::update_many()
                .col_expr(idempotency_key::Column::Claim, Expr::value(r.claim))
                .col_expr(idempotency_key::Column::State, Expr::value(RUNNING))
                .col_expr(
                    idempotency_key::Column::LockedUntil,
                    Expr::value(locked_until),
                );
            if expired {
                let none: Option<String> = None;
                update = update
                    .col_expr(
                        idempotency_key::Column::Fingerprint,
                        Expr::value(r.fingerprint),
                    )
                    .col_expr(idempotency_key::Column::CreatedAt, Expr::value(r.now))
                    .col_expr(idempotency_key::Column::EventId, Expr::value(none.clone()))
                    .col_expr(
                        idempotency_key::Column::ResponseStatus,
                        Expr::value(Option::<i32>::None),
                    )
                    .col_expr(idempotency_key::Column::ResponseBody, Expr::value(none));
            }
            let res = update
                .filter(idempotency_key::Column::TenantId.eq(r.tenant.0))
                .filter(idempotency_key::Column::Key.eq(r.key))
                .filter(idempotency_key::Column::Claim.eq(found.claim))
                .exec(self.conn())
                .await
                .map_err(map_db_err)?;
            if res.rows_affected == 1 {
                return Ok(Claimed::Held);
            }
        }
        // Lost every race: someone else holds it now.
        Ok(Claimed::InProgress {
            locked_until: locked_until.min(r.now + Duration::seconds(1)),
        })
    }

    /// Gives a running key back (its request failed), so a retry runs again.
    pub async fn release_idempotency_key(
        &self,
        tenant: TenantId,
        key: &str,
        claim: &str,
    ) -> Result<(), DomainError> {
        idempotency_key::Entity::delete_many()
            .filter(idempotency_key::Column::TenantId.eq(tenant.0))
            .filter(idempotency_key::Column::Key.eq(key))
            .filter(idempotency_key::Column::Claim.eq(claim))
            .filter(idempotency_key::Column::State.eq(RUNNING))
            .exec(self.conn())
            .await
            .map_err(map_db_err)?;
        Ok(())
    }

    /// Completes a held key and records its usage event, in one transaction. `false` (and
    /// nothing written) when the claim was lost to a takeover.
    pub async fn complete_idempotent(
        &self,
        key: &str,
        claim: &str,
        event: UsageEvent,
        status: u16,
        body: &str,
    ) -> Result<bool, DomainError> {
        let txn = self.conn().begin().await.map_err(map_db_err)?;
        let res = idempotency_key::Entity::update_many()
            .col_expr(idempotency_key::Column::State, Expr::value(DONE))
            .col_expr(
                idempotency_key::Column::EventId,
                Expr::value(event.event_id.clone()),
            )
            .col_expr(
                idempotency_key::Column::ResponseStatus,
                Expr::value(i32::from(status)),
            )
            .col_expr(idempotency_key::Column::ResponseBody, Expr::value(body))
            .filter(idempotency_key::Column::TenantId.eq(event.tenant_id))
            .filter(idempotency_key::Column::Key.eq(key))
            .filter(idempotency_key::Column::Claim.eq(claim))
            .filter(idempotency_key::Column::State.eq(RUNNING))
            .exec(&txn)
            .await
            .map_err(map_db_err)?;
        if res.rows_affected != 1 {
            txn.rollback().await.map_err(map_db_err)?;
            return Ok(false);
        }
        usage_event::ActiveModel::from(event)
            .insert(&txn)
            .await
            .map_err(map_db_err)?;
        txn.commit().await.map_err(map_db_err)?;
        Ok(true)
    }

    /// Deletes keys created before `before` (expired) unless a request still holds one;
    /// returns how many.
    pub async fn purge_idempotency_keys(
        &self,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, DomainError> {
        let res = idempotency_key::Entity::delete_many()
            .filter(idempotency_key::Column::CreatedAt.lt(before))
            .filter(
                sea_orm::Condition::any()
                    .add(idempotency_key::Column::State.eq(DONE))
                    .add(idempotency_key::Column::LockedUntil.lt(now)),
            )
            .exec(self.conn())
            .await
            .map_err(map_db_err)?;
        Ok(res.rows_affected)
    }
}
