//! `tollgate tenant oidc …`: a tenant's identity provider for portal sign-in, as the operator
//! API's `/v1/operator/tenants/{id}/oidc` sets, shows and removes it. The client secret is read
//! from a file or standard input, never from the command line (where `ps` would show it).

use super::output::{err, print};
use crate::runtime::Services;
use anyhow::{Context, Result};
use clap::Subcommand;
use serde_json::json;
use std::io::Read;
use tollgate_auth::oidc::{OidcSettings, OidcView};
use tollgate_core::{RequestCtx, Role, TenantId};

/// Identity-provider commands.
#[derive(Debug, Subcommand)]
pub enum OidcCmd {
    /// Set (or replace) the tenant's provider; its discovery document is fetched, checked and
    /// pinned. Prints the redirect URI to register at the provider.
    Set {
        /// Tenant id.
        #[arg(long)]
        tenant: TenantId,
        /// The provider's issuer URL (https; http only on a loopback host).
        #[arg(long)]
        issuer: String,
        /// The client id Tollgate is registered with at the provider.
        #[arg(long)]
        client_id: String,
        /// A file holding the client secret (`-`: standard input); one trailing newline is
        /// dropped.
        #[arg(long)]
        client_secret_file: String,
        /// People whose verified email is at this domain sign in to this tenant.
        #[arg(long)]
        domain: String,
        /// The role people get on first sign-in: viewer or admin.
        #[arg(long, default_value = "viewer")]
        default_role: String,
    },
    /// Show the tenant's provider (never its secret).
    Show {
        /// Tenant id.
        #[arg(long)]
        tenant: TenantId,
    },
    /// Remove the tenant's provider; its members keep their accounts.
    Remove {
        /// Tenant id.
        #[arg(long)]
        tenant: TenantId,
    },
}

fn read_secret(path: &str) -> Result<String> {
    let mut secret = String::new();
    if path == "-" {
        std::io::stdin()
            .read_to_string(&mut secret)
            .context("reading the client secret from standard input")?;
    } else {
        secret = std::fs::read_to_string(path)
            .with_context(|| format!("reading the client secret from {path}"))?;
    }
    let secret = secret.strip_suffix('\n').unwrap_or(&secret);
    Ok(secret.strip_suffix('\r').unwrap_or(secret).to_owned())
}

fn shown(view: &OidcView) -> (serde_json::Value, String) {
    (
        json!({ "tenant_id": view.tenant, "issuer": view.issuer, "client_id": view.client_id,
                "allowed_domain": view.allowed_domain, "default_role": view.default_role.as_str(),
                "redirect_uri": view.redirect_uri }),
        format!(
            "tenant {}: people at {} sign in with {} (client {}) as {} on first sign-in\n\
             register this redirect URI at the provider: {}",
            view.tenant,
            view.allowed_domain,
            view.issuer,
            view.client_id,
            view.default_role.as_str(),
            view.redirect_uri
        ),
    )
}

pub(crate) async fn run(s: &Services, cmd: OidcCmd, j: bool) -> Result<()> {
    match cmd {
        OidcCmd::Set {
            tenant,
            issuer,
            client_id,
            client_secret_file,
            domain,
            default_role,
        } => {
            let settings = OidcSettings {
                issuer,
                client_id,
                client_secret: read_secret(&client_secret_file)?,
                allowed_domain: domain,
                default_role: Role::parse(&default_role).map_err(err)?,
            };
            let view = s
                .oidc
                .configure(tenant, settings, "operator", &RequestCtx::cli())
                .await
                .map_err(err)?;
            let (value, text) = shown(&view);
            print(j, value, text);
        }
        OidcCmd::Show { tenant } => {
            let view = s.oidc.get(tenant).await.map_err(err)?;
            let (value, text) = shown(&view);
            print(j, value, text);
        }
        OidcCmd::Remove { tenant } => {
            s.oidc
                .remove(tenant, "operator", &RequestCtx::cli())
                .await
                .map_err(err)?;
            print(
                j,
                json!({ "tenant_id": tenant, "removed": true }),
                format!("tenant {tenant}: identity provider removed"),
            );
        }
    }
    Ok(())
}
