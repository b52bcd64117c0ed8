//! Stripe sync's records: each tenant's customer, and the webhook events processed.

use crate::entity::{invoice, stripe_customer, stripe_event};
use crate::{map_db_err, Store};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use tollgate_core::{DomainError, TenantId};

impl Store {
    /// The tenant's Stripe customer, if one was recorded.
    pub async fn stripe_customer(&self, tenant: TenantId) -> Result<Option<String>, DomainError> {
        Ok(stripe_customer::Entity::find_by_id(tenant.0)
            .one(self.conn())
            .await
            .map_err(map_db_err)?
            .map(|c| c.customer_id))
    }

    /// Records the tenant's customer, unless one was recorded first; returns the recorded one.
    pub async fn record_stripe_customer(
        &self,
        tenant: TenantId,
        customer: &str,
        now: DateTime<Utc>,
    ) -> Result<String, DomainError> {
        stripe_customer::Entity::insert(stripe_customer::ActiveModel {
            tenant_id: Set(tenant.0),
            customer_id: Set(customer.to_owned()),
            created_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(stripe_customer::Column::TenantId)
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec_without_returning(self.conn())
        .await
        .map_err(map_db_err)?;
        self.stripe_customer(tenant)
            .await?
            .ok_or_else(|| DomainError::internal("a recorded customer is missing"))
    }

    /// Records an inbound event as processed (in the caller's transaction); `false` when it
    /// was processed before.
    pub async fn record_stripe_event(
        &self,
        txn: &impl ConnectionTrait,
        event_id: &str,
        kind: &str,
        outcome: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, DomainError> {
        let inserted = stripe_event::Entity::insert(stripe_event::ActiveModel {
            event_id: Set(event_id.to_owned()),
            kind: Set(kind.to_owned()),
            outcome: Set(outcome.to_owned()),
            received_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(stripe_event::Column::EventId)
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec_without_returning(txn)
        .await
        .map_err(map_db_err)?;
        Ok(matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0))
    }

    /// The invoice Stripe knows by `stripe_id`.
    pub async fn invoice_by_stripe_id(
        &self,
        stripe_id: &str,
    ) -> Result<Option<crate::invoices::Invoice>, DomainError> {
        invoice::Entity::find()
            .filter(invoice::Column::StripeInvoiceId.eq(stripe_id))
            .one(self.conn())
            .await
            .map_err(map_db_err)
    }
}
