//! `tollgate billing`: a tenant's invoice for a period (the current period's draft, rated
//! from the usage recorded so far) and its prepaid credit.

use super::output::{err, print};
use crate::runtime::Services;
use anyhow::Result;
use chrono::{DateTime, Utc};
use clap::Subcommand;
use serde_json::json;
use tollgate_billing::{Billing, CreditGrant};
use tollgate_core::pricing::Currency;
use tollgate_core::{RequestCtx, TenantId};

/// Billing commands.
#[derive(Debug, Subcommand)]
pub enum BillingCmd {
    /// A tenant's invoice: `--period current` (the draft; finalized invoices come later).
    Invoice {
        /// Tenant id.
        #[arg(long)]
        tenant: TenantId,
        /// `current`.
        #[arg(long, default_value = "current")]
        period: String,
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

pub(crate) async fn run(s: &Services, cmd: BillingCmd, j: bool) -> Result<()> {
    let billing = Billing::new(s.store.clone(), s.auth.clock.clone());
    match cmd {
        BillingCmd::Invoice { tenant, period } => {
            if period != "current" {
                anyhow::bail!(
                    "only --period current (the draft) can be shown until invoices are finalized"
                );
            }
            let draft = billing.upcoming(tenant).await.map_err(err)?;
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
