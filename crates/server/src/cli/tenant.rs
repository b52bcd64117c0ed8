//! `tollgate tenant …`: create and list tenants, put one on a plan, and set its identity
//! provider (`tenant oidc`, in [`super::oidc`]).

use super::output::{err, print};
use crate::runtime::Services;
use anyhow::Result;
use clap::Subcommand;
use serde_json::json;
use tollgate_core::{RequestCtx, TenantId};
use tollgate_meter::plans::Plans;

/// Tenant commands.
#[derive(Debug, Subcommand)]
pub enum TenantCmd {
    /// Create a tenant.
    Create {
        /// Display name.
        #[arg(long)]
        name: String,
    },
    /// List tenants.
    List,
    /// Put a tenant on a plan (applies from its next request).
    SetPlan {
        /// Tenant id.
        #[arg(long)]
        tenant: TenantId,
        /// Plan name.
        #[arg(long)]
        plan: String,
    },
    /// The tenant's identity provider for portal sign-in (OpenID Connect).
    #[command(subcommand)]
    Oidc(super::oidc::OidcCmd),
}

pub(crate) async fn run(s: &Services, cmd: TenantCmd, j: bool) -> Result<()> {
    match cmd {
        TenantCmd::Create { name } => {
            let id = s
                .auth
                .create_tenant(&name, &RequestCtx::cli())
                .await
                .map_err(err)?;
            print(j, json!({ "tenant_id": id }), format!("tenant {id}"));
        }
        TenantCmd::List => {
            let tenants = s.store.list_tenants().await.map_err(err)?;
            let list: Vec<_> = tenants
                .iter()
                .map(|t| json!({ "tenant_id": t.id, "name": t.name, "created_at": t.created_at }))
                .collect();
            let text = tenants
                .iter()
                .map(|t| format!("{}  {}", t.id, t.name))
                .collect::<Vec<_>>()
                .join("\n");
            print(j, json!({ "tenants": list }), text);
        }
        TenantCmd::SetPlan { tenant, plan } => {
            let row = Plans::new(s.store.clone(), s.auth.clock.clone())
                .assign(tenant, &plan, "operator", &RequestCtx::cli())
                .await
                .map_err(err)?;
            print(
                j,
                json!({ "tenant_id": tenant, "plan": row.name }),
                format!("tenant {} is on plan {}", tenant.0, row.name),
            );
        }
        TenantCmd::Oidc(cmd) => super::oidc::run(s, cmd, j).await?,
    }
    Ok(())
}
