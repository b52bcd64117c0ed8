//! `tollgate key create`: an API key; printed once.

use super::output::{err, print, scopes};
use crate::runtime::Services;
use anyhow::Result;
use clap::Subcommand;
use serde_json::json;
use tollgate_core::api_key::KeyEnv;
use tollgate_core::{RequestCtx, TenantId};

/// API-key commands.
#[derive(Debug, Subcommand)]
pub enum KeyCmd {
    /// Create an API key; prints it once.
    Create {
        /// Tenant id.
        #[arg(long)]
        tenant: TenantId,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Scopes, separated by spaces (e.g. "ocr:read usage:read"); `operator` only for the
        /// platform tenant (see `tollgate operator key-create`).
        #[arg(long)]
        scopes: String,
        /// Create a `tg_test_` key instead of `tg_live_`.
        #[arg(long)]
        test: bool,
    },
}

pub(crate) async fn run(s: &Services, cmd: KeyCmd, j: bool) -> Result<()> {
    let KeyCmd::Create {
        tenant,
        name,
        scopes: list,
        test,
    } = cmd;
    let env = if test { KeyEnv::Test } else { KeyEnv::Live };
    let k = s
        .auth
        .create_key(
            tenant,
            &name,
            scopes(&list)?,
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
