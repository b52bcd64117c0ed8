//! Tenant webhook endpoints, deliveries and the delivery log. Every read a tenant makes names
//! the tenant; the delivery worker's own reads span tenants and are claimed row by row.

use crate::admins::found;
use crate::entity::{webhook_attempt, webhook_delivery, webhook_endpoint};
use crate::{map_db_err, Store};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use tollgate_core::{DomainError, TenantId};

pub use webhook_attempt::Model as Attempt;
pub use webhook_delivery::Model as Delivery;
pub use webhook_endpoint::Model as Endpoint;

/// Endpoint states.
pub mod endpoint_status {
    /// Receiving events.
    pub const ACTIVE: &str = "active";
    /// Paused by the tenant: deliveries wait (none is lost) until it is resumed.
    pub const PAUSED: &str = "paused";
    /// Receiving events, but its recent attempts failed.
    pub const FAILING: &str = "failing";
}

/// Delivery states.
pub mod delivery_status {
    /// To be attempted at `next_attempt_at`.
    pub const PENDING: &str = "pending";
    /// The endpoint answered 2xx.
    pub const DELIVERED: &str = "delivered";
    /// Every attempt of the schedule failed (a replay may still deliver it).
    pub const FAILED: &str = "failed";
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settle {
    /// 2xx.
    Delivered,
    /// Failed; try again at this instant.
    RetryAt(DateTime<Utc>),
    /// Failed, and the schedule is over.
    GiveUp,
}

/// Changes to an endpoint (unset fields stay).
#[derive(Debug, Clone, Default)]
pub struct EndpointChanges {
    /// New URL (checked by the caller).
    pub url: Option<String>,
    /// New description (`Some(None)` clears it).
    pub description: Option<Option<String>>,
    /// New subscription, space-separated wire names.
    pub event_types: Option<String>,
    /// `active` or `paused`.
    pub status: Option<&'static str>,
    /// New timeout.
    pub timeout_secs: Option<i32>,
    /// New secret (sealed) and the previous one's overlap.
    pub secret: Option<(String, Option<String>, Option<DateTime<Utc>>)>,
}

impl Store {
    /// Inserts an endpoint (in the caller's transaction).
    pub async fn insert_endpoint(
        &self,
        txn: &impl ConnectionTrait,
        e: Endpoint,
    ) -> Result<Endpoint, DomainError> {
        webhook_endpoint::ActiveModel::from(e)
            .insert(txn)
            .await
            .map_err(map_db_err)
    }

    /// The tenant's endpoints, oldest first.
    pub async fn endpoints(&self, tenant: TenantId) -> Result<Vec<Endpoint>, DomainError> {
        webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::TenantId.eq(tenant.0))
            .order_by_asc(webhook_endpoint::Column::CreatedAt)
            .order_by_asc(webhook_endpoint::Column::Id)
            .all(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// How many endpoints the tenant has.
    pub async fn count_endpoints(
        &self,
        conn: &impl ConnectionTrait,
        tenant: TenantId,
    ) -> Result<u64, DomainError> {
        webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::TenantId.eq(tenant.0))
            .count(conn)
            .await
            .map_err(map_db_err)
    }

    /// One endpoint of the tenant (another tenant's is `NotFound`).
    pub async fn endpoint(
        &self,
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        id: uuid::Uuid,
    ) -> Result<Endpoint, DomainError> {
        webhook_endpoint::Entity::find_by_id(id)
            .filter(webhook_endpoint::Column::TenantId.eq(tenant.0))
            .one(conn)
            .await
            .map_err(map_db_err)?
            .ok_or(DomainError::NotFound("webhook endpoint"))
    }

    /// An endpoint by id alone, for the delivery worker.
    pub async fn endpoint_by_id(&self, id: uuid::Uuid) -> Result<Option<Endpoint>, DomainError> {
        webhook_endpoint::Entity::find_by_id(id)
            .one(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// Applies `changes` to the tenant's endpoint (in the caller's transaction).
    pub async fn update_endpoint(
        &self,
        txn: &impl ConnectionTrait,
        tenant: TenantId,
        id: uuid::Uuid,
        changes: EndpointChanges,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        use webhook_endpoint::Column as C;
        let mut q =
            webhook_endpoint::Entity::update_many().col_expr(C::UpdatedAt, Expr::value(now));
        if let Some(url) = changes.url {
            q = q.col_expr(C::Url, Expr::value(url));
        }
        if let Some(d) = changes.description {
            q = q.col_expr(C::Description, Expr::value(d));
        }
        if let Some(t) = changes.event_types {
            q = q.col_expr(C::EventTypes, Expr::value(t));
        }
        if let Some(s) = changes.status {
            q = q.col_expr(C::Status, Expr::value(s));
            if s == endpoint_status::ACTIVE {
                q = q.col_expr(C::ConsecutiveFailures, Expr::value(0));
            }
        }
        if let Some(t) = changes.timeout_secs {
            q = q.col_expr(C::TimeoutSecs, Expr::value(t));
        }
        if let Some((secret, prev, prev_until)) = changes.secret {
            q = q
                .col_expr(C::SecretSealed, Expr::value(secret))
                .col_expr(C::PrevSecretSealed, Expr::value(prev))
                .col_expr(C::PrevSecretExpiresAt, Expr::value(prev_until));
        }
        let res = q
            .filter(C::Id.eq(id))
            .filter(C::TenantId.eq(tenant.0))
            .exec(txn)
            .await
            .map_err(map_db_err)?;
        found(res.rows_affected, "webhook endpoint")
    }

    /// Deletes the tenant's endpoint with its deliveries and their log (in the caller's
    /// transaction).
    pub async fn delete_endpoint(
        &self,
        txn: &impl ConnectionTrait,
        tenant: TenantId,
        id: uuid::Uuid,
    ) -> Result<(), DomainError> {
        let of_endpoint = Query::select()
            .column(webhook_delivery::Column::Id)
            .from(webhook_delivery::Entity)
            .and_where(webhook_delivery::Column::EndpointId.eq(id))
            .and_where(webhook_delivery::Column::TenantId.eq(tenant.0))
            .to_owned();
        webhook_attempt::Entity::delete_many()
            .filter(webhook_attempt::Column::DeliveryId.in_subquery(of_endpoint))
            .exec(txn)
            .await
            .map_err(map_db_err)?;
        webhook_delivery::Entity::delete_many()
            .filter(webhook_delivery::Column::EndpointId.eq(id))
            .filter(webhook_delivery::Column::TenantId.eq(tenant.0))
            .exec(txn)
            .await
            .map_err(map_db_err)?;
        let res = webhook_endpoint::Entity::delete_many()
            .filter(webhook_endpoint::Column::Id.eq(id))
            .filter(webhook_endpoint::Column::TenantId.eq(tenant.0))
            .exec(txn)
            .await
            .map_err(map_db_err)?;
        found(res.rows_affected, "webhook endpoint")
    }

    /// Inserts deliveries of one event (in the caller's transaction); one already made for
    /// an endpoint and message is left as it is.
    pub async fn insert_deliveries(
        &self,
        txn: &impl ConnectionTrait,
        rows: Vec<Delivery>,
    ) -> Result<(), DomainError> {
        if rows.is_empty() {
            return Ok(());
        }
        webhook_delivery::Entity::insert_many(
            rows.into_iter().map(webhook_delivery::ActiveModel::from),
        )
        .on_conflict(
            OnConflict::columns([
                webhook_delivery::Column::EndpointId,
                webhook_delivery::Column::MessageId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .do_nothing()
        .exec_without_returning(txn)
        .await
        .map_err(map_db_err)?;
        Ok(())
    }

    /// Pending deliveries due at `now`, not in flight, whose endpoint is not paused, oldest
    /// first.
    pub async fn due_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<Delivery>, DomainError> {
        let paused = Query::select()
            .column(webhook_endpoint::Column::Id)
            .from(webhook_endpoint::Entity)
            .and_where(webhook_endpoint::Column::Status.eq(endpoint_status::PAUSED))
            .to_owned();
        webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::Status.eq(delivery_status::PENDING))
            .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
            .filter(
                Condition::any()
                    .add(webhook_delivery::Column::LeasedUntil.is_null())
                    .add(webhook_delivery::Column::LeasedUntil.lt(now)),
            )
            .filter(webhook_delivery::Column::EndpointId.not_in_subquery(paused))
            .order_by_asc(webhook_delivery::Column::NextAttemptAt)
            .limit(limit)
            .all(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// Claims a due delivery for one attempt (leased until `lease_until`, so no other worker
    /// takes it meanwhile); `false` when another worker claimed it first.
    pub async fn claim_delivery(
        &self,
        d: &Delivery,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, DomainError> {
        let res = webhook_delivery::Entity::update_many()
            .col_expr(
                webhook_delivery::Column::Attempts,
                Expr::value(d.attempts + 1),
            )
            .col_expr(
                webhook_delivery::Column::NextAttemptAt,
                Expr::value(lease_until),
            )
            .col_expr(webhook_delivery::Column::ReplayPending, Expr::value(false))
            .filter(webhook_delivery::Column::Id.eq(d.id))
            .filter(webhook_delivery::Column::Status.eq(delivery_status::PENDING))
            .filter(webhook_delivery::Column::Attempts.eq(d.attempts))
            .exec(self.conn())
            .await
            .map_err(map_db_err)?;
        Ok(res.rows_affected == 1)
    }

    /// Drops a delivery whose endpoint is gone (deleted while the event was fanned out), so
    /// it does not wait in the due queue for ever.
    pub async fn drop_orphan_delivery(&self, id: uuid::Uuid) -> Result<(), DomainError> {
        webhook_delivery::Entity::delete_many()
            .filter(webhook_delivery::Column::Id.eq(id))
            .exec(self.conn())
            .await
            .map_err(map_db_err)?;
        Ok(())
    }

    /// Logs attempt number `attempt` of a delivery and records what it came to, if the claim
    /// that made it still holds; and the endpoint's run of failures (`failing` from
    /// `failing_after` in a row, `active` again on a success). `false`: overtaken (logged,
    /// nothing else changed).
    pub async fn settle_delivery(
        &self,
        attempt: Attempt,
        endpoint_id: uuid::Uuid,
        settle: Settle,
        failing_after: i32,
    ) -> Result<bool, DomainError> {
        use sea_orm::TransactionTrait;
        use webhook_delivery::Column as D;
        let txn = self.conn().begin().await.map_err(map_db_err)?;
        let mut q = webhook_delivery::Entity::update_many()
            .col_expr(D::LastStatusCode, Expr::value(attempt.status_code))
            .col_expr(D::LastError, Expr::value(attempt.error.clone()))
            .col_expr(D::LeasedUntil, Expr::value(Option::<DateTime<Utc>>::None));
        q = match &settle {
            Settle::Delivered => q
                .col_expr(D::Status, Expr::value(delivery_status::DELIVERED))
                .col_expr(D::DeliveredAt, Expr::value(attempt.at)),
            Settle::RetryAt(at) => q.col_expr(D::NextAttemptAt, Expr::value(*at)),
            Settle::GiveUp => q.col_expr(D::Status, Expr::value(delivery_status::FAILED)),
        };
        let res = q
            .filter(D::Id.eq(attempt.delivery_id))
            .filter(D::Status.eq(delivery_status::PENDING))
            .filter(D::Attempts.eq(attempt.attempt))
            .exec(&txn)
            .await
            .map_err(map_db_err)?;
        // The attempt was made either way: it is logged even when another claim overtook it.
        webhook_attempt::ActiveModel::from(attempt.clone())
            .insert(&txn)
            .await
            .map_err(map_db_err)?;
        if res.rows_affected != 1 {
            txn.commit().await.map_err(map_db_err)?;
            return Ok(false);
        }
        use webhook_endpoint::Column as E;
        let ok = settle == Settle::Delivered;
        let runs = webhook_endpoint::Entity::update_many()
            .col_expr(
                E::ConsecutiveFailures,
                if ok {
                    Expr::value(0)
                } else {
                    Expr::col(E::ConsecutiveFailures).add(1)
                },
            )
            .filter(E::Id.eq(endpoint_id))
            .exec(&txn)
            .await
            .map_err(map_db_err)?;
        if runs.rows_affected == 1 {
            let (from, to, cond) = if ok {
                (endpoint_status::FAILING, endpoint_status::ACTIVE, None)
            } else {
                (
                    endpoint_status::ACTIVE,
                    endpoint_status::FAILING,
                    Some(failing_after),
                )
            };
            let mut q = webhook_endpoint::Entity::update_many()
                .col_expr(E::Status, Expr::value(to))
                .filter(E::Id.eq(endpoint_id))
                .filter(E::Status.eq(from));
            if let Some(n) = cond {
                q = q.filter(E::ConsecutiveFailures.gte(n));
            }
            q.exec(&txn).await.map_err(map_db_err)?;
        }
        txn.commit().await.map_err(map_db_err)?;
        Ok(true)
    }

    /// The tenant's deliveries to one endpoint, newest first, at most `limit` before
    /// `cursor` (a delivery id: they are time-ordered).
    pub async fn deliveries(
        &self,
        tenant: TenantId,
        endpoint: uuid::Uuid,
        cursor: Option<uuid::Uuid>,
        limit: u64,
    ) -> Result<Vec<Delivery>, DomainError> {
        let mut q = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::TenantId.eq(tenant.0))
            .filter(webhook_delivery::Column::EndpointId.eq(endpoint));
        if let Some(c) = cursor {
            q = q.filter(webhook_delivery::Column::Id.lt(c));
        }
        q.order_by_desc(webhook_delivery::Column::Id)
            .limit(limit)
            .all(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// One delivery of the tenant.
    pub async fn delivery(
        &self,
        tenant: TenantId,
        id: uuid::Uuid,
    ) -> Result<Delivery, DomainError> {
        webhook_delivery::Entity::find_by_id(id)
            .filter(webhook_delivery::Column::TenantId.eq(tenant.0))
            .one(self.conn())
            .await
            .map_err(map_db_err)?
            .ok_or(DomainError::NotFound("webhook delivery"))
    }

    /// The attempts of the tenant's deliveries `ids`, in order.
    pub async fn attempts(
        &self,
        tenant: TenantId,
        ids: &[uuid::Uuid],
    ) -> Result<Vec<Attempt>, DomainError> {
        webhook_attempt::Entity::find()
            .filter(webhook_attempt::Column::TenantId.eq(tenant.0))
            .filter(webhook_attempt::Column::DeliveryId.is_in(ids.iter().copied()))
            .order_by_asc(webhook_attempt::Column::DeliveryId)
            .order_by_asc(webhook_attempt::Column::Attempt)
            .all(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// Queues one more attempt of the tenant's delivery now, whatever its state (in the
    /// caller's transaction); `false` when one is already queued or in flight.
    pub async fn replay_delivery(
        &self,
        txn: &impl ConnectionTrait,
        tenant: TenantId,
        id: uuid::Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, DomainError> {
        use webhook_delivery::Column as D;
        let res = webhook_delivery::Entity::update_many()
            .col_expr(D::Status, Expr::value(delivery_status::PENDING))
            .col_expr(D::NextAttemptAt, Expr::value(now))
            .col_expr(D::ReplayPending, Expr::value(true))
            .filter(D::Id.eq(id))
            .filter(D::TenantId.eq(tenant.0))
            .filter(D::ReplayPending.eq(false))
            .filter(
                Condition::any()
                    .add(D::Status.ne(delivery_status::PENDING))
                    .add(D::NextAttemptAt.gt(now)),
            )
            .filter(
                Condition::any()
                    .add(D::LeasedUntil.is_null())
                    .add(D::LeasedUntil.lt(now)),
            )
            .exec(txn)
            .await
            .map_err(map_db_err)?;
        Ok(res.rows_affected == 1)
    }

    /// Deletes finished deliveries (delivered or given up) created before `before`, with
    /// their log; returns how many deliveries went.
    pub async fn purge_webhook_history(&self, before: DateTime<Utc>) -> Result<u64, DomainError> {
        let old = Query::select()
            .column(webhook_delivery::Column::Id)
            .from(webhook_delivery::Entity)
            .and_where(webhook_delivery::Column::Status.ne(delivery_status::PENDING))
            .and_where(webhook_delivery::Column::CreatedAt.lt(before))
            .to_owned();
        webhook_attempt::Entity::delete_many()
            .filter(webhook_attempt::Column::DeliveryId.in_subquery(old))
            .exec(self.conn())
            .await
            .map_err(map_db_err)?;
        Ok(webhook_delivery::Entity::delete_many()
            .filter(webhook_delivery::Column::Status.ne(delivery_status::PENDING))
            .filter(webhook_delivery::Column::CreatedAt.lt(before))
            .exec(self.conn())
            .await
            .map_err(map_db_err)?
            .rows_affected)
    }
}
