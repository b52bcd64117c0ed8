//! Prices and invoices on the wire: the operator sets a plan's price
//! (`PUT /v1/operator/plans/{name}/price`), a tenant reads its current period's draft invoice
//! (`GET /v1/invoices/upcoming`). Amounts are integer minor units of the price's currency.

use super::Tag;
use crate::problem::ApiResult;
use crate::security::{ApiCaller, TenantCaller};
use crate::state::AppState;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi};
use std::sync::Arc;
use tollgate_billing::{Draft, PriceSet};
use tollgate_core::pricing::{Currency, LineKind, Overage, Price, Tier, UnitPrice};
use tollgate_core::{Code, DomainError, Scope};

/// `amount` minor units per `per` units (a tenth of a cent a page: `1` per `10`).
#[derive(Debug, Clone, Copy, Object)]
#[oai(deny_unknown_fields)]
pub struct UnitPriceBody {
    /// Minor units.
    pub amount: i64,
    /// Units they buy (default 1).
    #[oai(default = "one")]
    pub per: u64,
}

fn one() -> u64 {
    1
}

/// A tier of a graduated or volume price.
#[derive(Debug, Clone, Copy, Object)]
#[oai(deny_unknown_fields)]
pub struct TierBody {
    /// The last overage unit it covers; absent for the last tier (no end).
    #[oai(skip_serializing_if_is_none)]
    pub up_to: Option<u64>,
    /// The rate of its units.
    pub unit: UnitPriceBody,
    /// A flat fee charged once when the tier is used (default 0).
    #[oai(default)]
    pub flat: i64,
}

/// How units past the included ones are priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum PriceModel {
    /// Every overage unit at `unit`.
    PerUnit,
    /// Overage units fill `tiers` in order, each at its tier's rate.
    Graduated,
    /// All overage units at the rate of the tier their count falls in.
    Volume,
    /// Per started package of `package_size` units, at `package_price`.
    Package,
}

/// A plan's price. Money is integer minor units of `currency`; a line is rounded half to
/// even, once. Tier bounds count overage units (those past `included_units`).
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct PriceBody {
    /// ISO 4217 code, e.g. `USD`.
    pub currency: String,
    /// Charged every period.
    pub base_fee: i64,
    /// Units the base fee includes.
    pub included_units: u64,
    /// The overage model.
    pub model: PriceModel,
    /// For `per_unit`.
    #[oai(skip_serializing_if_is_none)]
    pub unit: Option<UnitPriceBody>,
    /// For `graduated` and `volume`: in order, the last without `up_to`.
    #[oai(skip_serializing_if_is_none)]
    pub tiers: Option<Vec<TierBody>>,
    /// For `package`: units in a package.
    #[oai(skip_serializing_if_is_none)]
    pub package_size: Option<u64>,
    /// For `package`: minor units a package costs.
    #[oai(skip_serializing_if_is_none)]
    pub package_price: Option<i64>,
}

fn invalid(detail: &str) -> DomainError {
    DomainError::invalid(Code::InvalidPlan, detail.to_owned())
}

impl PriceBody {
    /// The domain price; a model without its fields, or with another model's, is refused.
    pub fn to_price(&self) -> Result<Price, DomainError> {
        let unit = |u: UnitPriceBody| UnitPrice {
            amount: u.amount,
            per: u.per,
        };
        let tiers = || -> Result<Vec<Tier>, DomainError> {
            Ok(self
                .tiers
                .as_ref()
                .ok_or_else(|| invalid("this model needs `tiers`"))?
                .iter()
                .map(|t| Tier {
                    up_to: t.up_to,
                    unit: unit(t.unit),
                    flat: t.flat,
                })
                .collect())
        };
        let extra = match self.model {
            PriceModel::PerUnit => {
                self.tiers.is_some() || self.package_size.is_some() || self.package_price.is_some()
            }
            PriceModel::Graduated | PriceModel::Volume => {
                self.unit.is_some() || self.package_size.is_some() || self.package_price.is_some()
            }
            PriceModel::Package => self.unit.is_some() || self.tiers.is_some(),
        };
        if extra {
            return Err(invalid("fields of another price model were given"));
        }
        let overage = match self.model {
            PriceModel::PerUnit => Overage::PerUnit {
                unit: unit(
                    self.unit
                        .ok_or_else(|| invalid("`per_unit` needs `unit`"))?,
                ),
            },
            PriceModel::Graduated => Overage::Graduated { tiers: tiers()? },
            PriceModel::Volume => Overage::Volume { tiers: tiers()? },
            PriceModel::Package => Overage::Package {
                size: self
                    .package_size
                    .ok_or_else(|| invalid("`package` needs `package_size`"))?,
                price: self
                    .package_price
                    .ok_or_else(|| invalid("`package` needs `package_price`"))?,
            },
        };
        let price = Price {
            currency: Currency::parse(&self.currency)?,
            base_fee: self.base_fee,
            included_units: self.included_units,
            overage,
        };
        price.validate()?;
        Ok(price)
    }

    /// The wire form of a price.
    pub fn from_price(p: &Price) -> Self {
        let body = |u: UnitPrice| UnitPriceBody {
            amount: u.amount,
            per: u.per,
        };
        let tier_bodies = |tiers: &[Tier]| {
            tiers
                .iter()
                .map(|t| TierBody {
                    up_to: t.up_to,
                    unit: body(t.unit),
                    flat: t.flat,
                })
                .collect()
        };
        let mut out = Self {
            currency: p.currency.to_string(),
            base_fee: p.base_fee,
            included_units: p.included_units,
            model: PriceModel::PerUnit,
            unit: None,
            tiers: None,
            package_size: None,
            package_price: None,
        };
        match &p.overage {
            Overage::PerUnit { unit } => out.unit = Some(body(*unit)),
            Overage::Graduated { tiers } => {
                out.model = PriceModel::Graduated;
                out.tiers = Some(tier_bodies(tiers));
            }
            Overage::Volume { tiers } => {
                out.model = PriceModel::Volume;
                out.tiers = Some(tier_bodies(tiers));
            }
            Overage::Package { size, price } => {
                out.model = PriceModel::Package;
                out.package_size = Some(*size);
                out.package_price = Some(*price);
            }
        }
        out
    }
}

/// A price and the first period it applies to.
#[derive(Debug, Object)]
pub struct PriceSetBody {
    /// The plan.
    pub plan: String,
    /// The first period (`YYYY-MM`): the current one when the plan had no price in it, the
    /// next one otherwise (no period is rated with two prices).
    pub effective_period: String,
    /// The price.
    pub price: PriceBody,
}

impl From<PriceSet> for PriceSetBody {
    fn from(p: PriceSet) -> Self {
        Self {
            plan: p.plan,
            effective_period: p.effective_period,
            price: PriceBody::from_price(&p.price),
        }
    }
}

/// What an invoice line is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum LineKindBody {
    /// The period's base fee.
    BaseFee,
    /// The units the base fee includes (amount 0).
    Included,
    /// Units past them.
    Overage,
    /// Prepaid credit applied (a negative amount).
    Credit,
}

/// One line of an invoice.
#[derive(Debug, Object)]
pub struct InvoiceLineBody {
    /// What it is for.
    pub kind: LineKindBody,
    /// The tier (from 0), for tiered prices' overage.
    #[oai(skip_serializing_if_is_none)]
    pub tier: Option<u32>,
    /// Units counted (packages, for a package price's overage; 1 for the base fee).
    pub quantity: u64,
    /// Minor units.
    pub amount: i64,
    /// What it is, in words (finalized invoices).
    #[oai(skip_serializing_if_is_none)]
    pub description: Option<String>,
}

/// An invoice's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum InvoiceStatus {
    /// The current period's, computed live from the usage recorded so far.
    Draft,
}

/// The current period's draft invoice.
#[derive(Debug, Object)]
pub struct UpcomingInvoice {
    /// The period (`YYYY-MM`).
    pub period: String,
    /// Always `draft`.
    pub status: InvoiceStatus,
    /// The tenant's plan.
    pub plan: String,
    /// ISO 4217 code of every amount.
    pub currency: String,
    /// Units recorded in the period so far.
    pub units: u64,
    /// Lines, base fee first, credit applied last; their amounts sum to `total`.
    pub lines: Vec<InvoiceLineBody>,
    /// Minor units before credit: the sum of every line but the credit.
    pub subtotal: i64,
    /// Prepaid credit it would use now (at most the subtotal).
    pub credit_applied: i64,
    /// Minor units owed: `subtotal - credit_applied`.
    pub total: i64,
    /// The price it is rated with.
    pub price: PriceBody,
}

impl From<Draft> for UpcomingInvoice {
    fn from(d: Draft) -> Self {
        let (lines, total) = (d.lines(), d.total());
        Self {
            period: d.period,
            status: InvoiceStatus::Draft,
            plan: d.plan,
            currency: d.rating.currency.to_string(),
            units: d.units,
            lines: lines
                .iter()
                .map(|l| {
                    let kind = match l.kind {
                        LineKind::BaseFee => LineKindBody::BaseFee,
                        LineKind::Included => LineKindBody::Included,
                        LineKind::Overage { .. } => LineKindBody::Overage,
                        LineKind::Credit => LineKindBody::Credit,
                    };
                    let tier = l.kind.tier().and_then(|t| u32::try_from(t).ok());
                    InvoiceLineBody {
                        kind,
                        tier,
                        quantity: l.quantity,
                        amount: l.amount,
                        description: None,
                    }
                })
                .collect(),
            subtotal: d.rating.total,
            credit_applied: d.credit_applied,
            total,
            price: PriceBody::from_price(&d.price),
        }
    }
}

/// Billing operations.
pub struct BillingApi;

#[OpenApi]
impl BillingApi {
    /// The current period's draft invoice: the usage recorded so far, rated with the plan's
    /// price in this period. 404 `no_price` when the plan has no price (nothing is billed).
    ///
    /// **Permissions**: scope `billing:read`, or a portal session (any role).
    #[oai(
        path = "/v1/invoices/upcoming",
        method = "get",
        tag = "Tag::Billing",
        operation_id = "getUpcomingInvoice"
    )]
    async fn upcoming(
        &self,
        state: Data<&Arc<AppState>>,
        auth: TenantCaller,
    ) -> ApiResult<Json<UpcomingInvoice>> {
        let tenant = state.tenant_of(auth, Scope::BillingRead).await?;
        Ok(Json(state.billing.upcoming(tenant).await?.into()))
    }

    /// Set a plan's price. It applies from the next period when the plan already has a price
    /// in this one, else from this one; the answer says which.
    ///
    /// **Permissions**: scope `operator`.
    #[oai(
        path = "/v1/operator/plans/:name/price",
        method = "put",
        tag = "Tag::Operator",
        operation_id = "setPlanPrice"
    )]
    async fn set_price(
        &self,
        state: Data<&Arc<AppState>>,
        req: &poem::Request,
        auth: ApiCaller,
        /// The plan's name.
        name: Path<String>,
        body: Json<PriceBody>,
    ) -> ApiResult<Json<PriceSetBody>> {
        let actor = state.operator(&auth).await?;
        let price = body.0.to_price()?;
        let set = state
            .billing
            .set_price(&name.0, price, &actor, &super::ctx(req))
            .await?;
        Ok(Json(set.into()))
    }
}
