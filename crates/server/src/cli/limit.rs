//! `tollgate limit set`: tighten one credential's rate limit (never looser than its plan).

use super::output::{err, print};
use crate::runtime::Services;
use anyhow::Result;
use clap::Subcommand;
use serde_json::json;
use tollgate_core::{RequestCtx, TenantId};

/// Limit-override commands.
#[derive(Debug, Subcommand)]
pub enum LimitCmd {
    /// Tighten the rate limit of one API key or OAuth2 client (never looser than the plan).
    Set {
        /// Tenant id.
        #[arg(long)]
        tenant: TenantId,
        /// The key id or client id.
        #[arg(long)]
        credential: String,
        /// Requests per second.
        #[arg(long)]
        rate: Option<f64>,
        /// Bucket size.
        #[arg(long)]
        burst: Option<u32>,
    },
}

pub(crate) async fn run(s: &Services, cmd: LimitCmd, j: bool) -> Result<()> {
    let store = &s.store;
    let LimitCmd::Set {
        tenant,
        credential,
        rate,
        burst,
    } = cmd;
    // A key id is a UUID; anything else can only be an OAuth2 client id.
    let is_key = match credential.parse() {
        Ok(id) => store.key(tenant, id).await.is_ok(),
        Err(_) => false,
    };
    let owned = is_key
        || store
            .client_by_client_id(&credential)
            .await
            .map_err(err)?
            .is_some_and(|c| c.tenant_id == tenant.0);
    if !owned {
        anyhow::bail!("no API key or client {credential} in tenant {}", tenant.0);
    }
    store
        .set_limit_override(tenant, &credential, rate, burst, s.auth.clock.now())
        .await
        .map_err(err)?;
    s.auth
        .audit(
            Some(tenant),
            "operator",
            "limit.override_set",
            Some(format!("credential:{credential}")),
            "success",
            &RequestCtx::cli(),
            json!({ "rate": rate, "burst": burst }),
        )
        .await
        .map_err(err)?;
    print(
        j,
        json!({ "tenant_id": tenant, "credential": credential, "rate": rate, "burst": burst }),
        "override set".into(),
    );
    Ok(())
}
