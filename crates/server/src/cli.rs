//! Subcommands. Operator commands print text, or one JSON object with `--json`.

use crate::config::{CommonArgs, EnvSettings, ServeArgs};
use crate::runtime::build;
use anyhow::{anyhow, Context, Result};
use clap::{Parser, Subcommand};
use serde_json::json;
use std::io::Read;
use tollgate_auth::RequestCtx;
use tollgate_core::api_key::KeyEnv;
use tollgate_core::{Role, TenantId};
use tollgate_store::audit::ChainCheck;

/// Tollgate: metered OCR API server and operator CLI.
#[derive(Debug, Parser)]
#[command(name = "tollgate", version)]
pub struct Cli {
    /// Shared settings.
    #[command(flatten)]
    pub common: CommonArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API server.
    Serve(ServeArgs),
    /// Apply database migrations.
    Migrate,
    /// Print the OpenAPI document (YAML).
    Openapi,
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCmd),
    /// Manage tenant administrators.
    #[command(subcommand)]
    Admin(AdminCmd),
    /// Manage OAuth2 clients.
    #[command(subcommand)]
    Client(ClientCmd),
    /// Manage API keys.
    #[command(subcommand)]
    Key(KeyCmd),
    /// Manage token-signing keys.
    #[command(subcommand)]
    Keys(SigningCmd),
    /// Inspect the audit log.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Manage plans.
    #[command(subcommand)]
    Plan(crate::cli_meter::PlanCmd),
    /// Tighten the limits of one credential.
    #[command(subcommand)]
    Limit(crate::cli_meter::LimitCmd),
    /// The operator's own API credential.
    #[command(subcommand)]
    Operator(crate::cli_meter::OperatorCmd),
}

impl Command {
    /// True for the long-running server (it logs at info by default).
    pub fn is_server(&self) -> bool {
        matches!(self, Command::Serve(_))
    }
}

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
}

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

/// Client commands.
#[derive(Debug, Subcommand)]
pub enum ClientCmd {
    /// Create an OAuth2 client; prints its secret once.
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
    },
}

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

/// Signing-key commands.
#[derive(Debug, Subcommand)]
pub enum SigningCmd {
    /// Activate the published next key, retire the current one, publish a new next key.
    Rotate,
}

/// Audit commands.
#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Verify the chain of a tenant (or the platform chain): every row's MAC and link, and
    /// that the newest row is the chain's head; names the first bad event and exits non-zero.
    Verify {
        /// Tenant id; the platform chain when omitted.
        #[arg(long)]
        tenant: Option<TenantId>,
    },
}

pub(crate) fn print(json_out: bool, value: serde_json::Value, text: String) {
    if json_out {
        println!("{value}");
    } else {
        println!("{text}");
    }
}

pub(crate) fn err(e: tollgate_core::DomainError) -> anyhow::Error {
    anyhow!("{e}")
}

/// `--scopes`: scope names separated by single spaces, each exactly a known name.
fn parse_scopes(scopes: &str) -> Result<tollgate_core::ScopeSet> {
    tollgate_core::ScopeSet::parse(scopes).map_err(err)
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    let common = cli.common;
    match cli.command {
        Command::Serve(args) => crate::server::run(common, args).await,
        Command::Openapi => {
            print!("{}", tollgate_api::spec_yaml());
            Ok(())
        }
        Command::Migrate => {
            let store = tollgate_store::Store::connect(&common.database_url()?)
                .await
                .map_err(err)?;
            store.migrate().await.map_err(err)?;
            print(
                common.json,
                json!({ "migrated": true }),
                "migrations applied".into(),
            );
            Ok(())
        }
        other => operator(common, other).await,
    }
}

async fn operator(common: CommonArgs, command: Command) -> Result<()> {
    let env = EnvSettings::from_env()?;
    let issuer = env
        .issuer
        .clone()
        .unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let services = build(
        &common,
        &env,
        issuer,
        true,
        std::sync::Arc::new(tollgate_core::SystemClock),
    )
    .await?;
    let auth = services.auth;
    let ctx = RequestCtx::cli();
    let j = common.json;
    match command {
        Command::Tenant(TenantCmd::Create { name }) => {
            let id = auth.create_tenant(&name, &ctx).await.map_err(err)?;
            print(j, json!({ "tenant_id": id }), format!("tenant {id}"));
        }
        Command::Tenant(TenantCmd::List) => {
            let tenants = services.store.list_tenants().await.map_err(err)?;
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
        Command::Admin(AdminCmd::Create {
            tenant,
            email,
            role,
            password_stdin,
        }) => {
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
            let created = auth
                .create_admin(tenant, &email, role, password, "operator", &ctx)
                .await
                .map_err(err)?;
            let shown = generated.then_some(created.password);
            print(
                j,
                json!({ "admin_id": created.admin.id, "tenant_id": tenant, "email": created.admin.email, "role": role.as_str(), "password": shown }),
                match &shown {
                    Some(p) => {
                        format!("admin {} created; one-time password: {p}", created.admin.id)
                    }
                    None => format!("admin {} created", created.admin.id),
                },
            );
        }
        Command::Client(ClientCmd::Create {
            tenant,
            name,
            scopes,
        }) => {
            let c = auth
                .create_client(tenant, &name, parse_scopes(&scopes)?, "operator", &ctx)
                .await
                .map_err(err)?;
            print(
                j,
                json!({ "client_id": c.client.client_id, "client_secret": c.client_secret, "tenant_id": tenant, "scopes": c.client.scopes.to_string() }),
                format!(
                    "client_id: {}\nclient_secret: {}",
                    c.client.client_id, c.client_secret
                ),
            );
        }
        Command::Key(KeyCmd::Create {
            tenant,
            name,
            scopes,
            test,
        }) => {
            let env = if test { KeyEnv::Test } else { KeyEnv::Live };
            let k = auth
                .create_key(
                    tenant,
                    &name,
                    parse_scopes(&scopes)?,
                    env,
                    None,
                    "operator",
                    &ctx,
                )
                .await
                .map_err(err)?;
            print(
                j,
                json!({ "key": k.key, "key_id": k.view.key_id, "tenant_id": tenant, "prefix": k.view.prefix }),
                format!("key_id: {}\nkey: {}", k.view.key_id, k.key),
            );
        }
        Command::Keys(SigningCmd::Rotate) => {
            let kid = auth.rotate_signing_key(&ctx).await.map_err(err)?;
            print(
                j,
                json!({ "active_kid": kid }),
                format!("signing with {kid}"),
            );
        }
        Command::Audit(AuditCmd::Verify { tenant }) => match services
            .store
            .verify_audit_chain(tenant)
            .await
            .map_err(err)?
        {
            ChainCheck::Intact { events } => print(
                j,
                json!({ "intact": true, "events": events }),
                format!("intact: {events} events"),
            ),
            ChainCheck::BrokenAt { seq, fault } => {
                print(
                    j,
                    json!({ "intact": false, "broken_at": seq, "fault": fault.as_str() }),
                    format!("BROKEN at event {seq}: {}", fault.as_str()),
                );
                anyhow::bail!("audit chain broken at event {seq} ({})", fault.as_str());
            }
        },
        Command::Tenant(TenantCmd::SetPlan { tenant, plan }) => {
            crate::cli_meter::set_plan(&services.store, &auth, tenant, &plan, j).await?;
        }
        Command::Plan(cmd) => crate::cli_meter::plan(&services.store, &auth, cmd, j).await?,
        Command::Limit(cmd) => crate::cli_meter::limit(&services.store, &auth, cmd, j).await?,
        Command::Operator(cmd) => crate::cli_meter::operator(&auth, cmd, j).await?,
        Command::Serve(_) | Command::Migrate | Command::Openapi => unreachable_command()?,
    }
    Ok(())
}

fn unreachable_command() -> Result<()> {
    Err(anyhow!("handled elsewhere"))
}
