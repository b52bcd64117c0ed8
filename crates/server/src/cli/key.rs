//! `tollgate key create`: an API key; printed once.

use super::output::{err, print, scopes};
use crate::runtime::Services;
use anyhow::Result;
use clap::Subcommand;
use serde_json::json;
use tollgate_core::api_key::KeyEnv;
use tollgate_core::{RequestCtx, ScopeSet, TenantId};

/// What a new credential (key or client) is: whose, called what, allowed what.
#[derive(Debug, clap::Args)]
pub struct NewCredential {
    /// Tenant id.
    #[arg(long)]
    pub tenant: TenantId,
    /// Display name.
    #[arg(long)]
    pub name: String,
    /// Scopes, separated by spaces (e.g. "ocr:read usage:read"); `operator` only for the
    /// platform tenant (see `tollgate operator key-create`).
    #[arg(long)]
    pub scopes: String,
}

/// API-key commands.
#[derive(Debug, Subcommand)]
pub enum KeyCmd {
    /// Create an API key; prints it once.
    Create {
        /// Whose, its name and scopes.
        #[command(flatten)]
        new: NewCredential,
        /// Create a `tg_test_` key instead of `tg_live_`.
        #[arg(long)]
        test: bool,
    },
}

pub(crate) async fn run(s: &Services, cmd: KeyCmd, j: bool) -> Result<()> {
    let KeyCmd::Create { new, test } = cmd;
    let env = if test { KeyEnv::Test } else { KeyEnv::Live };
    create(s, new.tenant, &new.name, scopes(&new.scopes)?, env, j).await
}

/// Creates a key and prints it (once).
pub(crate) async fn create(
    s: &Services,
    tenant: TenantId,
    name: &str,
    scopes: ScopeSet,
    env: KeyEnv,
    j: bool,
) -> Result<()> {
    let k = s
        .auth
        .create_key(
            tenant,
            name,
            scopes,
            env,
            None,
            "operator",
            &RequestCtx::cli(),
        )
        .await
        .map_err(err)?;
    print(
        j,
        json!({ "key": k.key, "key_id": k.view.key_id, "tenant_id": tenant, "prefix": k.view.prefix }),
        format!("key_id: {}\nkey: {}", k.view.key_id, k.key),
    );
    Ok(())
}
