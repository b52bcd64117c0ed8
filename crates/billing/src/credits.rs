//! Prepaid credit: grants (by an operator: a top-up paid elsewhere, a goodwill credit), each
//! with an amount, a currency and an optional expiry, in an append-only ledger that always
//! sums to the balance. Invoices consume credit before they charge, soonest-expiring first.

use crate::Billing;
use chrono::{DateTime, Utc};
use tollgate_core::pricing::Currency;
use tollgate_core::{Code, DomainError, RequestCtx, TenantId};
use tollgate_store::audit::NewAuditEvent;
use tollgate_store::billing::{grants_of, kind, usable_credit, CreditEntry, Grant, NewEntry};

/// The largest single grant (minor units): ten billion of a currency's major unit at 100
/// minor units, far past any real top-up and far from overflowing a sum of many.
pub const MAX_GRANT: i64 = 1_000_000_000_000;

/// A grant to make.
#[derive(Debug, Clone)]
pub struct CreditGrant {
    /// Minor units, above 0.
    pub amount: i64,
    /// ISO 4217.
    pub currency: Currency,
    /// When what is left of it expires (in the future), if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// A note (a purchase order, a reason), at most 500 characters.
    pub memo: Option<String>,
}

/// A tenant's credit: balances per currency, its grants and the whole ledger.
#[derive(Debug, Clone)]
pub struct Credits {
    /// Usable now, per currency (expired grants excluded), sorted by currency.
    pub balances: Vec<(String, i64)>,
    /// The grants, oldest first, with what is left of each.
    pub grants: Vec<Grant>,
    /// Every entry, oldest first; per currency they sum to the balance plus what expired
    /// and is not booked as expired yet.
    pub ledger: Vec<CreditEntry>,
}

impl Billing {
    /// Grants `tenant` credit; audited on the tenant's chain in the same transaction.
    pub async fn grant_credit(
        &self,
        tenant: TenantId,
        grant: CreditGrant,
        actor: &str,
        ctx: &RequestCtx,
    ) -> Result<CreditEntry, DomainError> {
        let now = self.clock.now();
        if grant.amount <= 0 || grant.amount > MAX_GRANT {
            return Err(DomainError::invalid(
                Code::InvalidMoney,
                format!("a grant is 1 to {MAX_GRANT} minor units"),
            ));
        }
        if grant.expires_at.is_some_and(|e| e <= now) {
            return Err(DomainError::invalid(
                Code::InvalidExpiry,
                "a grant's expiry must be in the future",
            ));
        }
        let memo = grant
            .memo
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty());
        if memo
            .as_ref()
            .is_some_and(|m| m.chars().count() > 500 || m.chars().any(char::is_control))
        {
            return Err(DomainError::invalid(
                Code::InvalidName,
                "a memo is at most 500 printable characters",
            ));
        }
        self.store.tenant(tenant).await?;
        if tenant.is_platform() {
            return Err(DomainError::invalid(
                Code::PlatformTenant,
                "the platform tenant is not billed",
            ));
        }
        let grant_id = uuid::Uuid::now_v7();
        let entry = NewEntry {
            tenant,
            grant_id,
            kind: kind::GRANT,
            reference: kind::GRANT.to_owned(),
            amount: grant.amount,
            currency: grant.currency.to_string(),
            expires_at: grant.expires_at,
            invoice_id: None,
            memo,
            actor: actor.to_owned(),
            at: now,
        };
        let detail = serde_json::json!({
            "grant_id": grant_id,
            "amount": grant.amount,
            "currency": entry.currency,
            "expires_at": grant.expires_at,
        });
        let event = NewAuditEvent::new(actor, "credit.granted", ctx, now)
            .tenant(Some(tenant))
            .target(Some(format!("credit:{grant_id}")))
            .detail(detail);
        self.store
            .audited(Some(tenant), |txn| {
                let (store, entry, event) = (self.store.clone(), entry.clone(), event.clone());
                Box::pin(async move {
                    store.book_credit(txn, entry).await?;
                    Ok(Some(((), event)))
                })
            })
            .await?;
        let ledger = self.store.credit_ledger(tenant).await?;
        ledger
            .into_iter()
            .find(|e| e.grant_id == grant_id && e.kind == kind::GRANT)
            .ok_or_else(|| DomainError::internal("a booked grant is missing"))
    }

    /// `tenant`'s credit now.
    pub async fn credits(&self, tenant: TenantId) -> Result<Credits, DomainError> {
        self.store.tenant(tenant).await?;
        let now = self.clock.now();
        let ledger = self.store.credit_ledger(tenant).await?;
        let grants = grants_of(&ledger);
        let mut currencies: Vec<String> = grants.iter().map(|g| g.entry.currency.clone()).collect();
        currencies.sort();
        currencies.dedup();
        let balances = currencies
            .into_iter()
            .map(|c| {
                let usable = usable_credit(&grants, &c, now);
                (c, usable)
            })
            .collect();
        Ok(Credits {
            balances,
            grants,
            ledger,
        })
    }
}
