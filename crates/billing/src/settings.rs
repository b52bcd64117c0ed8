//! A tenant's own billing settings: its monthly spend cap (admission refuses the call that
//! would pass it, see `tollgate_meter::spend`) and the credit balance below which it is
//! alerted.

use crate::Billing;
use tollgate_core::plan::Period;
use tollgate_core::pricing::Currency;
use tollgate_core::{Code, DomainError, RequestCtx, TenantId};
use tollgate_store::audit::NewAuditEvent;
use tollgate_store::billing::{BillingAlert, BillingSettings};

/// The most a cap or an alert amount can be (minor units).
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000;

/// A monthly spend cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpendCap {
    /// Minor units; 0 stops every metered call.
    pub amount: i64,
    /// ISO 4217: the plan's price's.
    pub currency: Currency,
}

/// A tenant's billing settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Settings {
    /// The monthly spend cap, if any.
    pub spend_cap: Option<SpendCap>,
    /// Alert when the credit left falls below this (minor units of the price's currency).
    pub credit_alert_below: Option<i64>,
}

fn amount_in_range(amount: i64) -> Result<(), DomainError> {
    if (0..=MAX_AMOUNT).contains(&amount) {
        Ok(())
    } else {
        Err(DomainError::invalid(
            Code::InvalidMoney,
            format!("an amount is 0 to {MAX_AMOUNT} minor units"),
        ))
    }
}

impl Billing {
    /// `tenant`'s settings (none set: no cap, no alert).
    pub async fn settings(&self, tenant: TenantId) -> Result<Settings, DomainError> {
        self.store.tenant(tenant).await?;
        let Some(row) = self.store.billing_settings(tenant).await? else {
            return Ok(Settings::default());
        };
        let spend_cap = match (row.spend_cap, row.spend_cap_currency.as_deref()) {
            (Some(amount), Some(c)) => Some(SpendCap {
                amount,
                currency: Currency::parse(c)?,
            }),
            _ => None,
        };
        Ok(Settings {
            spend_cap,
            credit_alert_below: row.credit_alert_below,
        })
    }

    /// Replaces `tenant`'s settings. A cap is in the currency of the plan's price this
    /// period (422 `invalid_money` otherwise; 404 `no_price` when the plan has none, as
    /// nothing is billed to cap). Audited on the tenant's chain in the same transaction.
    pub async fn set_settings(
        &self,
        tenant: TenantId,
        settings: Settings,
        actor: &str,
        ctx: &RequestCtx,
    ) -> Result<Settings, DomainError> {
        if let Some(cap) = settings.spend_cap {
            amount_in_range(cap.amount)?;
            let price = self
                .price_of(tenant, &Period::of(self.clock.now()).key())
                .await?;
            if price.currency != cap.currency {
                return Err(DomainError::invalid(
                    Code::InvalidMoney,
                    format!(
                        "the spend cap must be in {}, the currency of the plan's price",
                        price.currency
                    ),
                ));
            }
        }
        if let Some(below) = settings.credit_alert_below {
            amount_in_range(below)?;
        }
        self.store.tenant(tenant).await?;
        let now = self.clock.now();
        let row = BillingSettings {
            tenant_id: tenant.0,
            spend_cap: settings.spend_cap.map(|c| c.amount),
            spend_cap_currency: settings.spend_cap.map(|c| c.currency.to_string()),
            credit_alert_below: settings.credit_alert_below,
            updated_at: now,
            suspended_at: None, // not written by a settings change
        };
        let detail = serde_json::json!({
            "spend_cap": row.spend_cap,
            "currency": row.spend_cap_currency,
            "credit_alert_below": row.credit_alert_below,
        });
        let event = NewAuditEvent::new(actor, "billing.settings_changed", ctx, now)
            .tenant(Some(tenant))
            .detail(detail);
        self.store
            .audited(Some(tenant), |txn| {
                let (store, row, event) = (self.store.clone(), row.clone(), event.clone());
                Box::pin(async move {
                    store.set_billing_settings(txn, row).await?;
                    Ok(Some(((), event)))
                })
            })
            .await?;
        Ok(settings)
    }

    /// `tenant`'s billing alerts, newest first, of `period` (`YYYY-MM`) or of all periods.
    pub async fn alerts(
        &self,
        tenant: TenantId,
        period: Option<&str>,
    ) -> Result<Vec<BillingAlert>, DomainError> {
        if let Some(p) = period {
            Period::parse(p)?;
        }
        self.store.tenant(tenant).await?;
        self.store.billing_alerts(tenant, period).await
    }
}
