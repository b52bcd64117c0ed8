//! `tollgate operator key-create`: an API key of the platform tenant (the fixed
//! [`TenantId::PLATFORM`], created by the migrations) with the `operator` scope.

use crate::runtime::Services;
use anyhow::Result;
use clap::Subcommand;
use tollgate_core::api_key::KeyEnv;
use tollgate_core::{Scope, ScopeSet, TenantId};

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
    let operator = ScopeSet::single(Scope::Operator);
    super::key::create(s, TenantId::PLATFORM, &name, operator, KeyEnv::Live, j).await
}
