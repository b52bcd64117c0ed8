//! The tenant's own brake, in admission: its monthly spend cap. The period's spend is its
//! usage rated with its plan's price ([`tollgate_core::pricing`]), so the cap becomes a unit
//! count once per price and cap ([`Price::max_units_within`]) and rides on the same atomic
//! quota reservation as a plan's hard cap: exact under concurrency, with no extra round trip
//! per call. Crossing 50/80/100 % of the cap, or the credit left falling below the tenant's
//! alert amount, is recorded once per period (see [`crate::thresholds`]).

use crate::MeterError;
use tollgate_core::pricing::{Currency, Price};
use tollgate_core::SpendAmounts;
use tollgate_store::billing::{grants_of, usable_credit};
use tollgate_store::Store;

/// What admission knows of a tenant's money this period.
#[derive(Debug, Clone)]
pub struct Spend {
    /// The plan's price this period.
    pub price: Price,
    /// The spend cap (minor units of the price's currency), if the tenant set one.
    pub cap: Option<i64>,
    /// The unit count the cap allows: `None` without a cap (or when no count passes it),
    /// `-1` when nothing fits (the base fee alone passes it, or the cap is in another
    /// currency than the price: the brake holds rather than being ignored).
    pub cap_units: Option<i64>,
    /// Usable prepaid credit, in the price's currency, when loaded.
    pub credit: i64,
    /// Alert when the credit left (credit minus the period's spend) falls below this.
    pub credit_alert_below: Option<i64>,
}

impl Spend {
    /// The period's spend at `units` (an amount too large to represent counts as the most).
    pub fn at(&self, units: i64) -> i64 {
        self.price
            .rate(u64::try_from(units).unwrap_or(0))
            .map_or(i64::MAX, |r| r.total)
    }

    /// The amounts of a call refused at the cap.
    pub fn refused(&self, before: i64, units: i64) -> SpendAmounts {
        SpendAmounts {
            currency: self.price.currency.to_string(),
            cap: self.cap.unwrap_or(0),
            spent: self.at(before),
            would_be: self.at(before.saturating_add(units)),
        }
    }
}

/// Loads what [`Spend`] needs for `tenant` in `period`: `None` when its plan has no price
/// (nothing is billed, so there is nothing to cap).
pub(crate) async fn load(
    store: &Store,
    tenant: tollgate_core::TenantId,
    period: &str,
    settings: Option<&tollgate_store::billing::BillingSettings>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Spend>, MeterError> {
    let Some(plan) = store.tenant_plan(tenant).await? else {
        return Ok(None);
    };
    let Some(row) = store.plan_price(plan.id, period).await? else {
        return Ok(None);
    };
    let price: Price = serde_json::from_str(&row.price)
        .map_err(|e| MeterError::Internal(format!("a stored price: {e}")))?;
    let cap = settings.and_then(|s| {
        let amount = s.spend_cap?;
        let same = s
            .spend_cap_currency
            .as_deref()
            .and_then(|c| Currency::parse(c).ok())
            == Some(price.currency);
        Some((amount, same))
    });
    let cap_units = cap.and_then(|(amount, same)| {
        if !same {
            return Some(-1);
        }
        match price.max_units_within(amount) {
            None => Some(-1),
            Some(u64::MAX) => None,
            Some(n) => Some(i64::try_from(n).unwrap_or(i64::MAX)),
        }
    });
    let ledger = store.credit_ledger(tenant).await?;
    let credit = usable_credit(&grants_of(&ledger), price.currency.as_str(), now);
    Ok(Some(Spend {
        cap: cap.map(|(amount, _)| amount),
        cap_units,
        credit,
        credit_alert_below: settings.and_then(|s| s.credit_alert_below),
        price,
    }))
}
