//! `tollgate operator key-create`: an API key of the platform tenant (the fixed
//! [`TenantId::PLATFORM`], created by the migrations) with the `operator` scope.

use super::output::{err, print};
use crate::runtime::Services;
use anyhow::Result;
use clap::Subcommand;
use serde_json::json;
use tollgate_core::api_key::KeyEnv;
use tollgate_core::{RequestCtx, Scope, ScopeSet, TenantId};

/// Operator-credential commands.
#[derive(Debug, Subcommand)]
pub enum OperatorCmd {
    /// Create an API key with the `operator` scope (for `/v1/operator/*`); prints it once.
    KeyCreate {
        /// Display name.
        #[arg(long)]
        name: String,
    },
}

pub(crate) async fn run(s: &Services, cmd: OperatorCmd, j: bool) -> Result<()> {
    let OperatorCmd::KeyCreate { name } = cmd;
    let platform = TenantId::PLATFORM;
    let k = s
        .auth
        .create_key(
            platform,
            &name,
            ScopeSet::single(Scope::Operator),
            KeyEnv::Live,
            None,
            "operator",
            &RequestCtx::cli(),
        )
        .await
        .map_err(err)?;
    print(
        j,
        json!({ "key": k.key, "key_id": k.view.key_id, "tenant_id": platform }),
        format!("key_id: {}\nkey: {}", k.view.key_id, k.key),
    );
    Ok(())
}
