//! `tollgate client create`: an OAuth2 client; its secret is printed once.

use super::key::NewCredential;
use super::output::{err, print, scopes};
use crate::runtime::Services;
use anyhow::Result;
use clap::Subcommand;
use serde_json::json;
use tollgate_core::RequestCtx;

/// Client commands.
#[derive(Debug, Subcommand)]
pub enum ClientCmd {
    /// Create an OAuth2 client; prints its secret once.
    Create(NewCredential),
}

pub(crate) async fn run(s: &Services, cmd: ClientCmd, j: bool) -> Result<()> {
    let ClientCmd::Create(NewCredential {
        tenant,
        name,
        scopes: list,
    }) = cmd;
    let c = s
        .auth
        .create_client(
            tenant,
            &name,
            scopes(&list)?,
            "operator",
            &RequestCtx::cli(),
        )
        .await
        .map_err(err)?;
    print(
        j,
        json!({ "client_id": c.client.client_id, "client_secret": c.client_secret,
                "tenant_id": tenant, "scopes": c.client.scopes.to_string() }),
        format!(
            "client_id: {}\nclient_secret: {}",
            c.client.client_id, c.client_secret
        ),
    );
    Ok(())
}
