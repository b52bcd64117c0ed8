//! Thresholds, recorded once per tenant and period: 50, 80 and 100 % of the plan's units
//! (`quota.threshold`), of the tenant's spend cap (`spend.threshold`), and the credit left
//! falling below the tenant's alert amount (`credit.low`). Each lands as a billing alert row
//! (unique per tenant, period, kind and level, so once across instances) and, in the same
//! transaction, an audit event; a later issue delivers them as webhooks. Announced for units
//! committed, never for reservations that might still be refunded.

use crate::{Meter, TenantLimits};
use tollgate_core::plan::thresholds_crossed;
use tollgate_core::TenantId;
use tollgate_store::audit::NewAuditEvent;
use tollgate_store::billing::NewAlert;

/// One threshold reached.
struct Crossing {
    kind: &'static str,
    action: &'static str,
    level: i32,
    detail: serde_json::Value,
}

impl Meter {
    /// Announces what the period's usage going from `before` to `after` units crossed.
    pub(crate) async fn announce_crossings(
        &self,
        tenant: TenantId,
        period: &str,
        limits: &TenantLimits,
        before: i64,
        after: i64,
    ) {
        let mut crossings = Vec::new();
        let included = limits.plan.monthly_units;
        for percent in thresholds_crossed(before, after, included) {
            crossings.push(Crossing {
                kind: "usage",
                action: "quota.threshold",
                level: percent as i32,
                detail: serde_json::json!({ "percent": percent, "used": after, "included": included }),
            });
        }
        if let Some(spend) = &limits.spend {
            let (spent_before, spent) = (spend.at(before), spend.at(after));
            let currency = spend.price.currency.as_str();
            if let Some(cap) = spend.cap {
                for percent in thresholds_crossed(spent_before, spent, cap) {
                    crossings.push(Crossing {
                        kind: "spend",
                        action: "spend.threshold",
                        level: percent as i32,
                        detail: serde_json::json!({
                            "percent": percent, "spent": spent, "cap": cap, "currency": currency,
                        }),
                    });
                }
            }
            if let Some(below) = spend.credit_alert_below {
                let left = spend.credit.saturating_sub(spent);
                if left < below {
                    crossings.push(Crossing {
                        kind: "credit",
                        action: "credit.low",
                        level: 0,
                        detail: serde_json::json!({
                            "credit_left": left, "below": below, "currency": currency,
                        }),
                    });
                }
            }
        }
        for c in crossings {
            self.announce(tenant, period, c).await;
        }
    }

    async fn announce(&self, tenant: TenantId, period: &str, c: Crossing) {
        let first_here = self
            .announced
            .lock()
            .is_ok_and(|mut seen| seen.insert((tenant, period.to_owned(), c.kind, c.level)));
        if !first_here {
            return;
        }
        let at = self.clock.now();
        let event = NewAuditEvent::new("system", c.action, &Default::default(), at)
            .tenant(Some(tenant))
            .target(Some(format!("period:{period}")))
            .detail(c.detail.clone());
        let alert = NewAlert {
            tenant,
            period: period.to_owned(),
            kind: c.kind,
            level: c.level,
            detail: c.detail,
            at,
        };
        let recorded = self
            .store
            .audited(Some(tenant), |txn| {
                let (store, alert, event) = (self.store.clone(), alert.clone(), event.clone());
                Box::pin(
                    async move { Ok(store.record_alert(txn, alert).await?.then_some(((), event))) },
                )
            })
            .await;
        if let Err(e) = recorded {
            tracing::warn!(error = %e, kind = c.kind, level = c.level, "a billing alert was not recorded");
            // Let a later call try again.
            if let Ok(mut seen) = self.announced.lock() {
                seen.remove(&(tenant, period.to_owned(), c.kind, c.level));
            }
        }
    }
}
