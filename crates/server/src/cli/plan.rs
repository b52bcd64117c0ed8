//! `tollgate plan …`: create and list plans (through the plans service the operator API uses),
//! and set their prices (through billing).

use super::output::{err, print};
use crate::runtime::Services;
use anyhow::{Context, Result};
use clap::Subcommand;
use serde_json::json;
use tollgate_billing::Billing;
use tollgate_core::plan::Plan;
use tollgate_core::pricing::{Currency, Overage, Price, Tier, UnitPrice};
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
        /// Most pages of one PDF (each page is a unit).
        #[arg(long, default_value_t = Plan::default_plan().max_pdf_pages)]
        max_pdf_pages: u32,
        /// Days the tenants' audit events are kept (default: forever).
        #[arg(long)]
        audit_retention_days: Option<u32>,
    },
    /// List plans.
    List,
    /// Set a plan's price (from the next period when it already has one in this period).
    #[command(group(clap::ArgGroup::new("model").required(true).args(["per_unit", "graduated", "volume", "package"])))]
    SetPrice {
        /// The plan's name.
        #[arg(long)]
        plan: String,
        /// ISO 4217 currency code.
        #[arg(long)]
        currency: String,
        /// Minor units charged every period.
        #[arg(long)]
        base_fee: i64,
        /// Units the base fee includes.
        #[arg(long, default_value_t = 0)]
        included: u64,
        /// Every overage unit at `AMOUNT[/PER]` minor units (`1/10`: a tenth of one).
        #[arg(long)]
        per_unit: Option<String>,
        /// Tiers `UPTO:AMOUNT[/PER][+FLAT],…,*:AMOUNT[/PER]`, units filling them in order.
        #[arg(long)]
        graduated: Option<String>,
        /// Tiers as for `--graduated`; all units at the rate of the tier their count is in.
        #[arg(long)]
        volume: Option<String>,
        /// `SIZE:PRICE`: per started package of SIZE units.
        #[arg(long)]
        package: Option<String>,
    },
}

fn unit_price(s: &str) -> Result<UnitPrice> {
    let (amount, per) = s.split_once('/').unwrap_or((s, "1"));
    Ok(UnitPrice {
        amount: amount
            .trim()
            .parse()
            .context("a unit price is AMOUNT[/PER]")?,
        per: per.trim().parse().context("a unit price is AMOUNT[/PER]")?,
    })
}

/// `UPTO:AMOUNT[/PER][+FLAT],…,*:AMOUNT[/PER][+FLAT]`.
fn tiers(s: &str) -> Result<Vec<Tier>> {
    s.split(',')
        .map(|t| {
            let (up_to, rest) = t
                .split_once(':')
                .context("a tier is UPTO:AMOUNT[/PER][+FLAT] (UPTO `*` for the last)")?;
            let (rate, flat) = rest.split_once('+').unwrap_or((rest, "0"));
            Ok(Tier {
                up_to: match up_to.trim() {
                    "*" => None,
                    n => Some(
                        n.parse()
                            .context("a tier's UPTO is a number of units, or *")?,
                    ),
                },
                unit: unit_price(rate)?,
                flat: flat
                    .trim()
                    .parse()
                    .context("a tier's FLAT is minor units")?,
            })
        })
        .collect()
}

/// The overage model of `plan set-price`'s one given flag.
fn overage(
    per_unit: Option<&str>,
    graduated: Option<&str>,
    volume: Option<&str>,
    package: Option<&str>,
) -> Result<Overage> {
    Ok(match (per_unit, graduated, volume, package) {
        (Some(u), None, None, None) => Overage::PerUnit {
            unit: unit_price(u)?,
        },
        (None, Some(t), None, None) => Overage::Graduated { tiers: tiers(t)? },
        (None, None, Some(t), None) => Overage::Volume { tiers: tiers(t)? },
        (None, None, None, Some(p)) => {
            let (size, price) = p.split_once(':').context("a package is SIZE:PRICE")?;
            Overage::Package {
                size: size.trim().parse().context("a package's SIZE is units")?,
                price: price
                    .trim()
                    .parse()
                    .context("a package's PRICE is minor units")?,
            }
        }
        _ => anyhow::bail!("give exactly one of --per-unit, --graduated, --volume, --package"),
    })
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
            max_pdf_pages,
            audit_retention_days,
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
                max_pdf_pages,
                audit_retention_days,
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
        PlanCmd::SetPrice {
            plan,
            currency,
            base_fee,
            included,
            per_unit,
            graduated,
            volume,
            package,
        } => {
            let price = Price {
                currency: Currency::parse(&currency).map_err(err)?,
                base_fee,
                included_units: included,
                overage: overage(
                    per_unit.as_deref(),
                    graduated.as_deref(),
                    volume.as_deref(),
                    package.as_deref(),
                )?,
            };
            let set = Billing::new(s.store.clone(), s.auth.clock.clone())
                .set_price(&plan, price, "operator", &RequestCtx::cli())
                .await
                .map_err(err)?;
            print(
                j,
                json!({ "plan": set.plan, "effective_period": set.effective_period, "price": set.price }),
                format!("plan {} costs this from {}", set.plan, set.effective_period),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_flags_parse() {
        assert_eq!(
            overage(Some("1/10"), None, None, None).unwrap(),
            Overage::PerUnit {
                unit: UnitPrice { amount: 1, per: 10 }
            }
        );
        let Overage::Graduated { tiers } =
            overage(None, Some("100:10,1000:5+300,*:1/2"), None, None).unwrap()
        else {
            panic!("graduated");
        };
        assert_eq!(tiers.len(), 3);
        assert_eq!(
            (tiers[1].up_to, tiers[1].unit.amount, tiers[1].flat),
            (Some(1000), 5, 300)
        );
        assert_eq!((tiers[2].up_to, tiers[2].unit.per), (None, 2));
        assert_eq!(
            overage(None, None, None, Some("1000:700")).unwrap(),
            Overage::Package {
                size: 1000,
                price: 700
            }
        );
        assert!(overage(Some("x"), None, None, None).is_err());
        assert!(overage(None, Some("100"), None, None).is_err());
        assert!(overage(Some("1"), None, None, Some("1:1")).is_err());
    }
}
