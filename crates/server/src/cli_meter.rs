//! Operator commands for metering: plans, tenants' plans, limit overrides, and the operator's
//! own API credential.

use crate::cli::{err, print};
use anyhow::Result;
use clap::Subcommand;
use serde_json::json;
use tollgate_auth::{AuthService, RequestCtx};
use tollgate_core::api_key::KeyEnv;
use tollgate_core::plan::Plan;
use tollgate_core::{Scope, ScopeSet, TenantId};
use tollgate_meter::plans::{plan_json, Plans};
use tollgate_store::Store;

/// Plan commands.
#[derive(Debug, Subcommand)]
pub enum PlanCmd {
    /// Create a plan.
    Create {
        /// Unique name.
        #[arg(long)]
        name: String,
        /// Sustained requests per second (per tenant, and per credential).
        #[arg(long)]
        rate: f64,
        /// Requests that may arrive at once on top of the rate.
        #[arg(long)]
        burst: u32,
        /// Units (pages) included per calendar month.
        #[arg(long)]
        monthly_units: i64,
        /// Past the included units, keep serving and count overage (default: refuse).
        #[arg(long)]
        overage: bool,
        /// Requests of a tenant in flight at once.
        #[arg(long, default_value_t = Plan::default_plan().max_concurrent)]
        max_concurrent: u32,
        /// Largest image in bytes.
        #[arg(long, default_value_t = Plan::default_plan().max_image_bytes)]
        max_image_bytes: u64,
        /// Largest image in pixels.
        #[arg(long, default_value_t = Plan::default_plan().max_pixels)]
        max_pixels: u64,
    },
    /// List plans.
    List,
}

/// Limit-override commands.
#[derive(Debug, Subcommand)]
pub enum LimitCmd {
    /// Tighten the rate limit of one API key or OAuth2 client (never looser than the plan).
    Set {
        /// Tenant id.
        #[arg(long)]
        tenant: TenantId,
        /// The key id or client id.
        #[arg(long)]
        credential: String,
        /// Requests per second.
        #[arg(long)]
        rate: Option<f64>,
        /// Bucket size.
        #[arg(long)]
        burst: Option<u32>,
    },
}

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

async fn audit(
    auth: &AuthService,
    tenant: Option<TenantId>,
    action: &'static str,
    target: String,
    detail: serde_json::Value,
) -> Result<()> {
    auth.audit(
        tenant,
        "operator",
        action,
        Some(target),
        "success",
        &RequestCtx::cli(),
        detail,
    )
    .await
    .map_err(err)
}

/// `tollgate plan …`.
pub async fn plan(store: &Store, auth: &AuthService, cmd: PlanCmd, j: bool) -> Result<()> {
    match cmd {
        PlanCmd::Create {
            name,
            rate,
            burst,
            monthly_units,
            overage,
            max_concurrent,
            max_image_bytes,
            max_pixels,
        } => {
            let p = Plan {
                name,
                rate,
                burst,
                max_concurrent,
                monthly_units,
                overage,
                max_image_bytes,
                max_pixels,
            };
            let row = Plans::new(store.clone(), auth.clock.clone())
                .create(p, "operator", &RequestCtx::cli())
                .await
                .map_err(err)?;
            print(
                j,
                json!({ "plan": plan_json(&row.to_plan()) }),
                format!("plan {} created", row.name),
            );
        }
        PlanCmd::List => {
            let rows = Plans::new(store.clone(), auth.clock.clone())
                .list()
                .await
                .map_err(err)?;
            let text = rows
                .iter()
                .map(|r| {
                    format!(
                        "{}  {}/s burst {}  {} units/month",
                        r.name, r.rate, r.burst, r.monthly_units
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            print(
                j,
                json!({ "plans": rows.iter().map(|r| plan_json(&r.to_plan())).collect::<Vec<_>>() }),
                text,
            );
        }
    }
    Ok(())
}

/// `tollgate tenant set-plan`.
pub async fn set_plan(
    store: &Store,
    auth: &AuthService,
    tenant: TenantId,
    plan: &str,
    j: bool,
) -> Result<()> {
    let row = Plans::new(store.clone(), auth.clock.clone())
        .assign(tenant, plan, "operator", &RequestCtx::cli())
        .await
        .map_err(err)?;
    print(
        j,
        json!({ "tenant_id": tenant, "plan": row.name }),
        format!("tenant {} is on plan {}", tenant.0, row.name),
    );
    Ok(())
}

/// `tollgate limit set`.
pub async fn limit(store: &Store, auth: &AuthService, cmd: LimitCmd, j: bool) -> Result<()> {
    let LimitCmd::Set {
        tenant,
        credential,
        rate,
        burst,
    } = cmd;
    // A key id is a UUID; anything else can only be an OAuth2 client id.
    let is_key = match credential.parse() {
        Ok(id) => store.key(tenant, id).await.is_ok(),
        Err(_) => false,
    };
    let owned = is_key
        || store
            .client_by_client_id(&credential)
            .await
            .map_err(err)?
            .is_some_and(|c| c.tenant_id == tenant.0);
    if !owned {
        anyhow::bail!("no API key or client {credential} in tenant {}", tenant.0);
    }
    store
        .set_limit_override(tenant, &credential, rate, burst, auth.clock.now())
        .await
        .map_err(err)?;
    audit(
        auth,
        Some(tenant),
        "limit.override_set",
        format!("credential:{credential}"),
        json!({ "rate": rate, "burst": burst }),
    )
    .await?;
    print(
        j,
        json!({ "tenant_id": tenant, "credential": credential, "rate": rate, "burst": burst }),
        "override set".into(),
    );
    Ok(())
}

/// `tollgate operator key-create`: an API key of the platform tenant (the fixed
/// [`TenantId::PLATFORM`], created by the migrations) with the `operator` scope.
pub async fn operator(auth: &AuthService, cmd: OperatorCmd, j: bool) -> Result<()> {
    let OperatorCmd::KeyCreate { name } = cmd;
    let platform = TenantId::PLATFORM;
    let k = auth
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
