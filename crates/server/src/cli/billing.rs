//! `tollgate billing invoice`: a tenant's invoice for a period (the current period's draft,
//! rated from the usage recorded so far).

use super::output::{err, print};
use crate::runtime::Services;
use anyhow::Result;
use clap::Subcommand;
use serde_json::json;
use tollgate_billing::Billing;
use tollgate_core::TenantId;

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
}

pub(crate) async fn run(s: &Services, cmd: BillingCmd, j: bool) -> Result<()> {
    let BillingCmd::Invoice { tenant, period } = cmd;
    if period != "current" {
        anyhow::bail!(
            "only --period current (the draft) can be shown until invoices are finalized"
        );
    }
    let draft = Billing::new(s.store.clone(), s.auth.clock.clone())
        .upcoming(tenant)
        .await
        .map_err(err)?;
    let lines: Vec<_> = draft
        .rating
        .lines
        .iter()
        .map(|l| json!({ "kind": format!("{:?}", l.kind), "quantity": l.quantity, "amount": l.amount }))
        .collect();
    print(
        j,
        json!({ "tenant_id": tenant, "period": draft.period, "status": "draft", "plan": draft.plan,
                "currency": draft.rating.currency.to_string(), "units": draft.units,
                "lines": lines, "total": draft.rating.total }),
        format!(
            "{} draft for {}: {} units, {} {} (minor units)",
            draft.period, draft.plan, draft.units, draft.rating.total, draft.rating.currency
        ),
    );
    Ok(())
}
