//! The command line: the server, migrations, the spec, and the operator's commands, one module
//! per command with its arguments and its `run`. Operator commands print text, or one JSON
//! object with `--json` (see [`output`]); they read the same configuration as the server, so
//! they act on a running server's database.

mod admin;
mod audit;
mod billing;
mod client;
mod key;
mod limit;
mod oidc;
mod operator;
mod output;
mod plan;
mod signing;
mod tenant;

use crate::config::{CommonArgs, EnvSettings, ServeArgs};
use crate::runtime::{build, Services};
use anyhow::Result;
use clap::{Parser, Subcommand};

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
    Tenant(tenant::TenantCmd),
    /// Manage tenant administrators.
    #[command(subcommand)]
    Admin(admin::AdminCmd),
    /// Manage OAuth2 clients.
    #[command(subcommand)]
    Client(client::ClientCmd),
    /// Manage API keys.
    #[command(subcommand)]
    Key(key::KeyCmd),
    /// Manage token-signing keys.
    #[command(subcommand)]
    Keys(signing::SigningCmd),
    /// Inspect the audit log.
    #[command(subcommand)]
    Audit(audit::AuditCmd),
    /// Manage plans.
    #[command(subcommand)]
    Plan(plan::PlanCmd),
    /// Tighten the limits of one credential.
    #[command(subcommand)]
    Limit(limit::LimitCmd),
    /// The operator's own API credential.
    #[command(subcommand)]
    Operator(operator::OperatorCmd),
    /// Invoices.
    #[command(subcommand)]
    Billing(billing::BillingCmd),
}

impl Command {
    /// True for the long-running server (it logs at info by default).
    pub fn is_server(&self) -> bool {
        matches!(self, Command::Serve(_))
    }
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    let common = cli.common;
    let json = common.json;
    let command = match cli.command {
        Command::Serve(args) => return crate::server::run(common, args).await,
        Command::Openapi => {
            print!("{}", tollgate_api::spec_yaml());
            return Ok(());
        }
        Command::Migrate => return migrate(&common).await,
        other => other,
    };
    let services = services(&common).await?;
    match command {
        Command::Tenant(cmd) => tenant::run(&services, cmd, json).await,
        Command::Admin(cmd) => admin::run(&services, cmd, json).await,
        Command::Client(cmd) => client::run(&services, cmd, json).await,
        Command::Key(cmd) => key::run(&services, cmd, json).await,
        Command::Keys(cmd) => signing::run(&services, cmd, json).await,
        Command::Audit(cmd) => audit::run(&services, cmd, json).await,
        Command::Plan(cmd) => plan::run(&services, cmd, json).await,
        Command::Limit(cmd) => limit::run(&services, cmd, json).await,
        Command::Operator(cmd) => operator::run(&services, cmd, json).await,
        Command::Billing(cmd) => billing::run(&services, cmd, json).await,
        Command::Serve(_) | Command::Migrate | Command::Openapi => Ok(()),
    }
}

async fn migrate(common: &CommonArgs) -> Result<()> {
    let store = tollgate_store::Store::connect(&common.database_url()?)
        .await
        .map_err(output::err)?;
    store.migrate().await.map_err(output::err)?;
    output::print(
        common.json,
        serde_json::json!({ "migrated": true }),
        "migrations applied".into(),
    );
    Ok(())
}

/// The services an operator command works with, wired as the server wires them.
async fn services(common: &CommonArgs) -> Result<Services> {
    let env = EnvSettings::from_env()?;
    let issuer = env
        .issuer
        .clone()
        .unwrap_or_else(|| "http://127.0.0.1:8080".into());
    build(
        common,
        &env,
        issuer,
        true,
        std::sync::Arc::new(tollgate_core::SystemClock),
    )
    .await
}
