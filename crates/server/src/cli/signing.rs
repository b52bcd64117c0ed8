//! `tollgate keys rotate`: the next (already published) signing key starts signing.

use super::output::{err, print};
use crate::runtime::Services;
use anyhow::Result;
use clap::Subcommand;
use serde_json::json;
use tollgate_core::RequestCtx;

/// Signing-key commands.
#[derive(Debug, Subcommand)]
pub enum SigningCmd {
    /// Activate the published next key, retire the current one, publish a new next key.
    Rotate,
}

pub(crate) async fn run(s: &Services, cmd: SigningCmd, j: bool) -> Result<()> {
    let SigningCmd::Rotate = cmd;
    let kid = s
        .auth
        .rotate_signing_key(&RequestCtx::cli())
        .await
        .map_err(err)?;
    print(
        j,
        json!({ "active_kid": kid }),
        format!("signing with {kid}"),
    );
    Ok(())
}
