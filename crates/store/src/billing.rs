//! Billing's rows: the prepaid-credit ledger, a tenant's billing settings (its spend cap) and
//! the billing alerts. Writes that must commit with their audit event take the caller's
//! transaction (see [`Store::audited`]).

use crate::entity::{billing_alert, credit_entry, tenant_billing};
use crate::{map_db_err, Store};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, TryInsertResult,
};
use std::collections::BTreeMap;
use tollgate_core::{DomainError, TenantId};

pub use billing_alert::Model as BillingAlert;
pub use credit_entry::Model as CreditEntry;
pub use tenant_billing::Model as BillingSettings;

/// A ledger entry's kind.
pub mod kind {
    /// Credit granted (positive).
    pub const GRANT: &str = "grant";
    /// Credit an invoice used (negative).
    pub const CONSUME: &str = "consume";
    /// Credit that expired unused (negative).
    pub const EXPIRE: &str = "expire";
}

/// A grant and what is left of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The grant's entry.
    pub entry: CreditEntry,
    /// Minor units left: the sum of the grant's entries.
    pub remaining: i64,
}

impl Grant {
    /// Whether it can still be used at `now`.
    pub fn usable_at(&self, now: DateTime<Utc>) -> bool {
        self.remaining > 0 && self.entry.expires_at.is_none_or(|e| e > now)
    }
}

/// A tenant's grants from its ledger, oldest first, each with what is left of it.
pub fn grants_of(ledger: &[CreditEntry]) -> Vec<Grant> {
    let mut left: BTreeMap<uuid::Uuid, i64> = BTreeMap::new();
    for e in ledger {
        *left.entry(e.grant_id).or_default() += e.amount;
    }
    ledger
        .iter()
        .filter(|e| e.kind == kind::GRANT)
        .map(|e| Grant {
            entry: e.clone(),
            remaining: left.get(&e.grant_id).copied().unwrap_or(0),
        })
        .collect()
}

/// Credit usable at `now` in `currency`.
pub fn usable_credit(grants: &[Grant], currency: &str, now: DateTime<Utc>) -> i64 {
    grants
        .iter()
        .filter(|g| g.entry.currency == currency && g.usable_at(now))
        .map(|g| g.remaining)
        .sum()
}

/// A new ledger entry.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// The tenant.
    pub tenant: TenantId,
    /// The grant it belongs to (a new grant's own id).
    pub grant_id: uuid::Uuid,
    /// See [`kind`].
    pub kind: &'static str,
    /// Unique per grant (`grant`, `expire`, `invoice:<id>`).
    pub reference: String,
    /// Minor units.
    pub amount: i64,
    /// ISO 4217.
    pub currency: String,
    /// A grant's expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// The invoice that consumed it.
    pub invoice_id: Option<uuid::Uuid>,
    /// A note.
    pub memo: Option<String>,
    /// Who booked it.
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A new alert.
#[derive(Debug, Clone)]
pub struct NewAlert {
    /// The tenant.
    pub tenant: TenantId,
    /// `YYYY-MM`.
    pub period: String,
    /// `usage`, `spend` or `credit`.
    pub kind: &'static str,
    /// Percent, or 0.
    pub level: i32,
    /// The numbers at the crossing.
    pub detail: serde_json::Value,
    /// When.
    pub at: DateTime<Utc>,
}

impl Store {
    /// Books a ledger entry; `false` when the grant already has one with that reference
    /// (booked before: nothing is booked twice).
    pub async fn book_credit(
        &self,
        txn: &impl ConnectionTrait,
        e: NewEntry,
    ) -> Result<bool, DomainError> {
        let row = credit_entry::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            tenant_id: Set(e.tenant.0),
            grant_id: Set(e.grant_id),
            kind: Set(e.kind.to_owned()),
            reference: Set(e.reference),
            amount: Set(e.amount),
            currency: Set(e.currency),
            expires_at: Set(e.expires_at),
            invoice_id: Set(e.invoice_id),
            memo: Set(e.memo),
            actor: Set(e.actor),
            created_at: Set(e.at),
        };
        let inserted = credit_entry::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    credit_entry::Column::GrantId,
                    credit_entry::Column::Reference,
                ])
                .do_nothing()
                .to_owned(),
            )
            .do_nothing()
            .exec_without_returning(txn)
            .await
            .map_err(map_db_err)?;
        Ok(matches!(inserted, TryInsertResult::Inserted(n) if n > 0))
    }

    /// The tenant's credit ledger, oldest first (read through `conn`, which may be the
    /// caller's transaction).
    pub async fn credit_ledger_in(
        &self,
        conn: &impl ConnectionTrait,
        tenant: TenantId,
    ) -> Result<Vec<CreditEntry>, DomainError> {
        credit_entry::Entity::find()
            .filter(credit_entry::Column::TenantId.eq(tenant.0))
            .order_by_asc(credit_entry::Column::CreatedAt)
            .order_by_asc(credit_entry::Column::Id)
            .all(conn)
            .await
            .map_err(map_db_err)
    }

    /// The tenant's credit ledger, oldest first.
    pub async fn credit_ledger(&self, tenant: TenantId) -> Result<Vec<CreditEntry>, DomainError> {
        self.credit_ledger_in(self.conn(), tenant).await
    }

    /// The tenant's billing settings, if it set any.
    pub async fn billing_settings(
        &self,
        tenant: TenantId,
    ) -> Result<Option<BillingSettings>, DomainError> {
        self.billing_settings_in(self.conn(), tenant).await
    }

    /// [`billing_settings`](Self::billing_settings) through `conn`.
    pub async fn billing_settings_in(
        &self,
        conn: &impl ConnectionTrait,
        tenant: TenantId,
    ) -> Result<Option<BillingSettings>, DomainError> {
        tenant_billing::Entity::find_by_id(tenant.0)
            .one(conn)
            .await
            .map_err(map_db_err)
    }

    /// Tenants suspended now.
    pub async fn suspended_tenants(&self) -> Result<Vec<uuid::Uuid>, DomainError> {
        Ok(tenant_billing::Entity::find()
            .filter(tenant_billing::Column::SuspendedAt.is_not_null())
            .all(self.conn())
            .await
            .map_err(map_db_err)?
            .into_iter()
            .map(|r| r.tenant_id)
            .collect())
    }

    /// Replaces the tenant's billing settings.
    pub async fn set_billing_settings(
        &self,
        txn: &impl ConnectionTrait,
        settings: BillingSettings,
    ) -> Result<(), DomainError> {
        tenant_billing::Entity::insert(tenant_billing::ActiveModel {
            tenant_id: Set(settings.tenant_id),
            spend_cap: Set(settings.spend_cap),
            spend_cap_currency: Set(settings.spend_cap_currency),
            credit_alert_below: Set(settings.credit_alert_below),
            updated_at: Set(settings.updated_at),
            // Suspension is not a setting: only [`Store::set_suspended`] changes it.
            suspended_at: sea_orm::ActiveValue::NotSet,
        })
        .on_conflict(
            OnConflict::column(tenant_billing::Column::TenantId)
                .update_columns([
                    tenant_billing::Column::SpendCap,
                    tenant_billing::Column::SpendCapCurrency,
                    tenant_billing::Column::CreditAlertBelow,
                    tenant_billing::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await
        .map_err(map_db_err)?;
        Ok(())
    }

    /// Records an alert; `false` when it was recorded before (once per tenant, period, kind
    /// and level).
    pub async fn record_alert(
        &self,
        txn: &impl ConnectionTrait,
        a: NewAlert,
    ) -> Result<bool, DomainError> {
        let inserted = billing_alert::Entity::insert(billing_alert::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            tenant_id: Set(a.tenant.0),
            period: Set(a.period),
            kind: Set(a.kind.to_owned()),
            level: Set(a.level),
            detail: Set(a.detail.to_string()),
            created_at: Set(a.at),
        })
        .on_conflict(
            OnConflict::columns([
                billing_alert::Column::TenantId,
                billing_alert::Column::Period,
                billing_alert::Column::Kind,
                billing_alert::Column::Level,
            ])
            .do_nothing()
            .to_owned(),
        )
        .do_nothing()
        .exec_without_returning(txn)
        .await
        .map_err(map_db_err)?;
        Ok(matches!(inserted, TryInsertResult::Inserted(n) if n > 0))
    }

    /// The tenant's alerts, newest first, of one period or all.
    pub async fn billing_alerts(
        &self,
        tenant: TenantId,
        period: Option<&str>,
    ) -> Result<Vec<BillingAlert>, DomainError> {
        let mut q =
            billing_alert::Entity::find().filter(billing_alert::Column::TenantId.eq(tenant.0));
        if let Some(p) = period {
            q = q.filter(billing_alert::Column::Period.eq(p));
        }
        q.order_by_desc(billing_alert::Column::CreatedAt)
            .order_by_desc(billing_alert::Column::Id)
            .all(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// Marks `tenant` suspended (`Some(since)`) or not (`None`).
    pub async fn set_suspended(
        &self,
        txn: &impl ConnectionTrait,
        tenant: TenantId,
        since: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        tenant_billing::Entity::insert(tenant_billing::ActiveModel {
            tenant_id: Set(tenant.0),
            spend_cap: Set(None),
            spend_cap_currency: Set(None),
            credit_alert_below: Set(None),
            updated_at: Set(now),
            suspended_at: Set(since),
        })
        .on_conflict(
            OnConflict::column(tenant_billing::Column::TenantId)
                .update_columns([tenant_billing::Column::SuspendedAt])
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await
        .map_err(map_db_err)?;
        Ok(())
    }
}
