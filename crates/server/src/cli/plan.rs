//! `tollgate plan …`: create and list plans (through the plans service the operator API uses).

use super::output::{err, print};
use crate::runtime::Services;
use anyhow::Result;
use clap::Subcommand;
use serde_json::json;
use tollgate_core::plan::Plan;
use tollgate_core::RequestCtx;
use tollgate_meter::plans::{plan_json, Plans};

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

pub(crate) async fn run(s: &Services, cmd: PlanCmd, j: bool) -> Result<()> {
    let plans = Plans::new(s.store.clone(), s.auth.clock.clone());
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
            let row = plans
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
            let rows = plans.list().await.map_err(err)?;
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
