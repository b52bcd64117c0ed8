//! `tollgate audit verify`: check a chain, naming its first bad event.

use super::output::{err, print};
use crate::runtime::Services;
use anyhow::Result;
use clap::Subcommand;
use serde_json::json;
use tollgate_core::TenantId;
use tollgate_store::audit::ChainCheck;

/// Audit commands.
#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Verify the chain of a tenant (or the platform chain): every row's MAC and link, and
    /// that the newest row is the chain's head; names the first bad event and exits non-zero.
    Verify {
        /// Tenant id; the platform chain when omitted.
        #[arg(long)]
        tenant: Option<TenantId>,
    },
}

pub(crate) async fn run(s: &Services, cmd: AuditCmd, j: bool) -> Result<()> {
    let AuditCmd::Verify { tenant } = cmd;
    match s.store.verify_audit_chain(tenant).await.map_err(err)? {
        ChainCheck::Intact { events } => {
            print(
                j,
                json!({ "intact": true, "events": events }),
                format!("intact: {events} events"),
            );
            Ok(())
        }
        ChainCheck::BrokenAt { seq, fault } => {
            print(
                j,
                json!({ "intact": false, "broken_at": seq, "fault": fault.as_str() }),
                format!("BROKEN at event {seq}: {}", fault.as_str()),
            );
            anyhow::bail!("audit chain broken at event {seq} ({})", fault.as_str())
        }
    }
}
