//! `tollgate billing`: a tenant's invoice for a period (the current period's draft, rated
//! from the usage recorded so far, or a finalized one), finalizing a period, recording a
//! payment, and prepaid credit.

use super::output::{err, print};
use crate::runtime::Services;
use anyhow::Result;
use chrono::{DateTime, Utc};
use clap::Subcommand;
use serde_json::json;
use tollgate_billing::stripe_sync::reconcile::Difference;
use tollgate_billing::CreditGrant;
use tollgate_core::plan::Period;
use tollgate_core::pricing::Currency;
use tollgate_core::{RequestCtx, TenantId};

/// Billing commands.
#[derive(Debug, Subcommand)]
pub enum BillingCmd {
    /// A tenant's invoice: `--period current` (the draft) or `YYYY-MM` (finalized).
    Invoice {
        /// Tenant id.
        #[arg(long)]
        tenant: TenantId,
        /// `current` or `YYYY-MM`.
        #[arg(long, default_value = "current")]
        period: String,
    },
    /// Finalize every tenant's invoice of a period that has ended (plus the grace);
    /// idempotent (the server's job does the same by itself).
    Finalize {
        /// `YYYY-MM`.
        #[arg(long)]
        period: String,
    },
    /// Record that an invoice was paid outside Stripe (reinstates a tenant suspended for it).
    Pay {
        /// Invoice id.
        #[arg(long)]
        invoice: uuid::Uuid,
        /// Where the money came from.
        #[arg(long)]
        source: String,
    },
    /// Compare a period's invoices with Stripe's and report every difference (missing,
    /// extra, total differs); fails when there is one. Needs `STRIPE_API_KEY`.
    Reconcile {
        /// `YYYY-MM`.
        #[arg(long)]
        period: String,
    },
    /// Push finalized invoices waiting in the outbox to Stripe now (the server's relay does
    /// it by itself). Needs `STRIPE_API_KEY`.
    Sync {
        /// First put the pushes that were given up back in line (after fixing their cause).
        #[arg(long)]
        retry_failed: bool,
    },
    /// Prepaid credit.
    #[command(subcommand)]
    Credit(CreditCmd),
}

/// Credit commands.
#[derive(Debug, Subcommand)]
pub enum CreditCmd {
    /// Grant a tenant credit (minor units); invoices use it before they charge.
    Grant {
        /// Tenant id.
        #[arg(long)]
        tenant: TenantId,
        /// Minor units (cents for USD), above 0.
        #[arg(long)]
        amount: i64,
        /// ISO 4217 code.
        #[arg(long)]
        currency: String,
        /// When what is left of it expires (RFC 3339); never by default.
        #[arg(long)]
        expires_at: Option<DateTime<Utc>>,
        /// A note (a purchase order, a reason).
        #[arg(long)]
        memo: Option<String>,
    },
    /// A tenant's balances, grants and ledger.
    List {
        /// Tenant id.
        #[arg(long)]
        tenant: TenantId,
    },
}

fn stripe(s: &Services) -> Result<&tollgate_billing::stripe_sync::StripeSync> {
    s.stripe
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("Stripe is not configured: set STRIPE_API_KEY"))
}

pub(crate) async fn run(s: &Services, cmd: BillingCmd, j: bool) -> Result<()> {
    let billing = &s.billing;
    match cmd {
        BillingCmd::Invoice { tenant, period } if period == "current" => {
            let draft = s.billing.upcoming(tenant).await.map_err(err)?;
            let lines: Vec<_> = draft
                .lines()
                .iter()
                .map(|l| {
                    json!({ "kind": l.kind.as_str(), "tier": l.kind.tier(),
                            "quantity": l.quantity, "amount": l.amount })
                })
                .collect();
            let currency = draft.rating.currency;
            print(
                j,
                json!({ "tenant_id": tenant, "period": draft.period, "status": "draft",
                        "plan": draft.plan, "currency": currency.to_string(),
                        "units": draft.units, "lines": lines, "subtotal": draft.rating.total,
                        "credit_applied": draft.credit_applied, "total": draft.total() }),
                format!(
                    "{} draft for {}: {} units, {} {currency} (minor units) after {} of credit",
                    draft.period,
                    draft.plan,
                    draft.units,
                    draft.total(),
                    draft.credit_applied
                ),
            );
        }
        BillingCmd::Invoice { tenant, period } => {
            let p = Period::parse(&period).map_err(err)?;
            let Some(found) = s
                .billing
                .invoices(tenant)
                .await
                .map_err(err)?
                .into_iter()
                .find(|i| i.period == p.key())
            else {
                anyhow::bail!(
                    "{tenant} has no finalized invoice for {period} (`--period current` shows the draft)"
                );
            };
            let v = s.billing.invoice(tenant, found.id).await.map_err(err)?;
            let lines: Vec<_> = v
                .lines
                .iter()
                .map(|l| {
                    json!({ "kind": l.kind, "tier": l.tier, "quantity": l.quantity,
                            "amount": l.amount, "description": l.description })
                })
                .collect();
            let i = &v.invoice;
            print(
                j,
                json!({ "id": i.id, "tenant_id": tenant, "number": i.number,
                        "period": i.period, "status": i.status, "plan": i.plan,
                        "currency": i.currency, "units": i.units, "lines": lines,
                        "subtotal": i.subtotal, "credit_applied": i.credit_applied,
                        "total": i.total, "due_at": i.due_at, "paid_at": i.paid_at,
                        "usage": v.snapshot }),
                format!(
                    "invoice {} ({}) for {}: {} units, {} {} (minor units), {}",
                    i.number, i.id, i.period, i.units, i.total, i.currency, i.status
                ),
            );
        }
        BillingCmd::Finalize { period } => {
            let p = Period::parse(&period).map_err(err)?;
            let report = s
                .billing
                .finalize_period(p, "operator", &RequestCtx::cli())
                .await
                .map_err(err)?;
            let failed: Vec<_> = report
                .failed
                .iter()
                .map(|(t, e)| json!({ "tenant_id": t, "error": e.to_string() }))
                .collect();
            let finalized: Vec<_> = report
                .finalized
                .iter()
                .map(|i| {
                    json!({ "id": i.id, "tenant_id": i.tenant_id, "number": i.number,
                            "total": i.total, "currency": i.currency })
                })
                .collect();
            print(
                j,
                json!({ "period": report.period, "finalized": finalized,
                        "already": report.already, "not_billed": report.not_billed,
                        "failed": failed }),
                format!(
                    "{}: {} invoices finalized, {} finalized before, {} tenants not billed, {} failed",
                    report.period,
                    report.finalized.len(),
                    report.already,
                    report.not_billed,
                    report.failed.len()
                ),
            );
            if !report.failed.is_empty() {
                anyhow::bail!("{} tenants could not be finalized", report.failed.len());
            }
        }
        BillingCmd::Pay { invoice, source } => {
            let i = s
                .billing
                .mark_paid(invoice, "operator", &source, &RequestCtx::cli())
                .await
                .map_err(err)?;
            print(
                j,
                json!({ "id": i.id, "tenant_id": i.tenant_id, "status": i.status,
                        "paid_at": i.paid_at }),
                format!("invoice {} is {}", i.id, i.status),
            );
        }
        BillingCmd::Reconcile { period } => {
            let p = Period::parse(&period).map_err(err)?;
            let sync = stripe(s)?;
            let r = sync
                .reconcile(&p.key())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let differences: Vec<_> = r
                .differences
                .iter()
                .map(|d| match d {
                    Difference::Missing { invoice, total } => {
                        json!({ "kind": "missing", "invoice_id": invoice, "total": total })
                    }
                    Difference::Extra {
                        stripe_invoice,
                        invoice,
                        total,
                    } => json!({ "kind": "extra", "stripe_invoice_id": stripe_invoice,
                                 "invoice_id": invoice, "total": total }),
                    Difference::TotalDiffers {
                        invoice,
                        stripe_invoice,
                        ours,
                        theirs,
                    } => json!({ "kind": "total_differs", "invoice_id": invoice,
                                 "stripe_invoice_id": stripe_invoice,
                                 "total": ours.0, "currency": ours.1,
                                 "stripe_total": theirs.0, "stripe_currency": theirs.1 }),
                    Difference::StatusDiffers {
                        invoice,
                        stripe_invoice,
                        ours,
                        theirs,
                    } => json!({ "kind": "status_differs", "invoice_id": invoice,
                                 "stripe_invoice_id": stripe_invoice,
                                 "status": ours, "stripe_status": theirs }),
                    Difference::NotSynced { invoice, error } => {
                        json!({ "kind": "not_synced", "invoice_id": invoice, "error": error })
                    }
                })
                .collect();
            print(
                j,
                json!({ "period": p.key(), "checked": r.checked, "matched": r.matched,
                        "differences": differences }),
                format!(
                    "{}: {} invoices checked, {} match, {} differences",
                    p.key(),
                    r.checked,
                    r.matched,
                    r.differences.len()
                ),
            );
            if !r.differences.is_empty() {
                anyhow::bail!("{} differences with Stripe", r.differences.len());
            }
        }
        BillingCmd::Sync { retry_failed } => {
            let sync = stripe(s)?;
            let requeued = if retry_failed {
                s.store
                    .requeue_failed(tollgate_billing::STRIPE_INVOICE_TOPIC, chrono::Utc::now())
                    .await
                    .map_err(err)?
            } else {
                0
            };
            let round = sync.relay_once().await.map_err(err)?;
            print(
                j,
                json!({ "requeued": requeued, "pushed": round.pushed, "retried": round.retried,
                        "given_up": round.given_up }),
                format!(
                    "{} invoices pushed, {} to retry, {} given up",
                    round.pushed, round.retried, round.given_up
                ),
            );
        }
        BillingCmd::Credit(CreditCmd::Grant {
            tenant,
            amount,
            currency,
            expires_at,
            memo,
        }) => {
            let grant = CreditGrant {
                amount,
                currency: Currency::parse(&currency).map_err(err)?,
                expires_at,
                memo,
            };
            let e = billing
                .grant_credit(tenant, grant, "operator", &RequestCtx::cli())
                .await
                .map_err(err)?;
            print(
                j,
                json!({ "grant_id": e.grant_id, "tenant_id": tenant, "amount": e.amount,
                        "currency": e.currency, "expires_at": e.expires_at }),
                format!(
                    "granted {} {} (minor units) to {tenant}: grant {}",
                    e.amount, e.currency, e.grant_id
                ),
            );
        }
        BillingCmd::Credit(CreditCmd::List { tenant }) => {
            let c = billing.credits(tenant).await.map_err(err)?;
            let balances: Vec<_> = c
                .balances
                .iter()
                .map(|(currency, amount)| json!({ "currency": currency, "amount": amount }))
                .collect();
            let grants: Vec<_> = c
                .grants
                .iter()
                .map(|g| {
                    json!({ "grant_id": g.entry.grant_id, "amount": g.entry.amount,
                            "currency": g.entry.currency, "remaining": g.remaining,
                            "expires_at": g.entry.expires_at, "memo": g.entry.memo })
                })
                .collect();
            let text = c
                .balances
                .iter()
                .map(|(currency, amount)| format!("{amount} {currency}"))
                .collect::<Vec<_>>()
                .join(", ");
            print(
                j,
                json!({ "tenant_id": tenant, "balances": balances, "grants": grants,
                        "entries": c.ledger.len() }),
                format!(
                    "{tenant}: {} usable (minor units), {} grants",
                    if text.is_empty() {
                        "nothing".into()
                    } else {
                        text
                    },
                    c.grants.len()
                ),
            );
        }
    }
    Ok(())
}
