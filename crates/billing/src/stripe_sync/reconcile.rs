//! `tollgate billing reconcile --period P`: Tollgate's invoices of a period against Stripe's,
//! every difference reported. Stripe's invoices are listed whole (paginated) and matched by
//! the `tollgate_invoice_id` in their metadata.

use super::{StripeSync, SyncError};
use std::collections::BTreeMap;
use stripe::StripeRequest as _;
use stripe_billing::invoice::ListInvoice;

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// Tollgate has an invoice to collect; Stripe has none for it.
    Missing {
        /// Tollgate's invoice.
        invoice: uuid::Uuid,
        /// Its total.
        total: i64,
    },
    /// Stripe has an invoice for the period that no Tollgate invoice accounts for (or a
    /// second one for the same Tollgate invoice).
    Extra {
        /// Stripe's invoice.
        stripe_invoice: String,
        /// The Tollgate invoice its metadata names, if any.
        invoice: Option<String>,
        /// Its total.
        total: i64,
    },
    /// Both have it, in states that disagree: Stripe's is a draft, void or uncollectible, or
    /// one side says paid and the other open.
    StatusDiffers {
        /// Tollgate's invoice.
        invoice: uuid::Uuid,
        /// Stripe's invoice.
        stripe_invoice: String,
        /// Tollgate's status.
        ours: String,
        /// Stripe's.
        theirs: String,
    },
    /// Tollgate gave up pushing it (see the outbox's last error); `billing sync
    /// --retry-failed` tries again.
    NotSynced {
        /// Tollgate's invoice.
        invoice: uuid::Uuid,
        /// The last error.
        error: String,
    },
    /// Both have it, with other totals (or amounts due) or currencies.
    TotalDiffers {
        /// Tollgate's invoice.
        invoice: uuid::Uuid,
        /// Stripe's invoice.
        stripe_invoice: String,
        /// Tollgate's total and currency.
        ours: (i64, String),
        /// Stripe's.
        theirs: (i64, String),
    },
}

/// What reconciling a period found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciliation {
    /// Tollgate's invoices of the period that Stripe should have (total above 0).
    pub checked: usize,
    /// Of them, matched exactly.
    pub matched: usize,
    /// Every difference.
    pub differences: Vec<Difference>,
}

impl StripeSync {
    /// Compares `period`'s invoices (see the module documentation).
    pub async fn reconcile(&self, period: &str) -> Result<Reconciliation, SyncError> {
        let ours: Vec<_> = self
            .store
            .invoices_of_period(period)
            .await?
            .into_iter()
            .filter(|i| i.total > 0)
            .collect();
        let mut theirs: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
        let mut extra = Vec::new();
        let all = self
            .list_all(
                |after| {
                    let list = ListInvoice::new().limit(100);
                    match after {
                        Some(a) => list.starting_after(a).build(),
                        None => list.build(),
                    }
                },
                |_| false,
            )
            .await?;
        for inv in all
            .into_iter()
            .filter(|i| i["metadata"]["tollgate_period"].as_str() == Some(period))
        {
            match inv["metadata"]["tollgate_invoice_id"].as_str() {
                Some(id) => theirs.entry(id.to_owned()).or_default().push(inv.clone()),
                None => extra.push(inv),
            }
        }
        let mut r = Reconciliation {
            checked: ours.len(),
            ..Reconciliation::default()
        };
        let failed: std::collections::BTreeMap<String, String> = self
            .store
            .failed_messages(super::TOPIC)
            .await?
            .into_iter()
            .map(|m| (m.key, m.last_error.unwrap_or_default()))
            .collect();
        let total = |v: &serde_json::Value| v["total"].as_i64().unwrap_or(i64::MIN);
        let id_of = |v: &serde_json::Value| v["id"].as_str().unwrap_or_default().to_owned();
        for inv in &ours {
            let Some(mut found) = theirs.remove(&inv.id.to_string()) else {
                r.differences.push(match failed.get(&inv.id.to_string()) {
                    Some(error) => Difference::NotSynced {
                        invoice: inv.id,
                        error: error.clone(),
                    },
                    None => Difference::Missing {
                        invoice: inv.id,
                        total: inv.total,
                    },
                });
                continue;
            };
            // The one Tollgate recorded, else the first; any other is extra.
            let pick = found
                .iter()
                .position(|s| inv.stripe_invoice_id.as_deref() == s["id"].as_str())
                .unwrap_or(0);
            let s = found.remove(pick);
            let (t, c) = (
                total(&s),
                s["currency"].as_str().unwrap_or("").to_uppercase(),
            );
            if t == inv.total && c == inv.currency {
                r.matched += 1;
            } else {
                r.differences.push(Difference::TotalDiffers {
                    invoice: inv.id,
                    stripe_invoice: id_of(&s),
                    ours: (inv.total, inv.currency.clone()),
                    theirs: (t, c),
                });
            }
            extra.extend(found);
        }
        extra.extend(theirs.into_values().flatten());
        for s in extra {
            r.differences.push(Difference::Extra {
                stripe_invoice: id_of(&s),
                invoice: s["metadata"]["tollgate_invoice_id"]
                    .as_str()
                    .map(str::to_owned),
                total: total(&s),
            });
        }
        Ok(r)
    }
}
