//! `tollgate admin create`: a tenant administrator with a one-time (or given) password.

use super::output::{err, print};
use crate::runtime::Services;
use anyhow::{Context, Result};
use clap::Subcommand;
use serde_json::json;
use std::io::Read;
use tollgate_core::{RequestCtx, Role, TenantId};

/// Admin commands.
#[derive(Debug, Subcommand)]
pub enum AdminCmd {
    /// Create an admin; prints a generated one-time password unless `--password-stdin`.
    Create {
        /// Tenant id.
        #[arg(long)]
        tenant: TenantId,
        /// Login email.
        #[arg(long)]
        email: String,
        /// owner, admin or viewer.
        #[arg(long, default_value = "owner")]
        role: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

pub(crate) async fn run(s: &Services, cmd: AdminCmd, j: bool) -> Result<()> {
    let AdminCmd::Create {
        tenant,
        email,
        role,
        password_stdin,
    } = cmd;
    let role = Role::parse(&role).map_err(err)?;
    let password = if password_stdin {
        let mut buf = String::new();
        std::io::stdin()
            .read_to_string(&mut buf)
            .context("reading the password from stdin")?;
        Some(buf.trim_end_matches(['\r', '\n']).to_owned())
    } else {
        None
    };
    let generated = password.is_none();
    let created = s
        .auth
        .create_admin(
            tenant,
            &email,
            role,
            password,
            "operator",
            &RequestCtx::cli(),
        )
        .await
        .map_err(err)?;
    let shown = generated.then_some(created.password);
    let text = match &shown {
        Some(p) => format!("admin {} created; one-time password: {p}", created.admin.id),
        None => format!("admin {} created", created.admin.id),
    };
    print(
        j,
        json!({ "admin_id": created.admin.id, "tenant_id": tenant, "email": created.admin.email,
                "role": role.as_str(), "password": shown }),
        text,
    );
    Ok(())
}
