//! A tenant's money outside its invoices: prepaid credit (granted by the operator, read by
//! the tenant), its own billing settings (the monthly spend cap, the credit alert) and the
//! billing alerts recorded for it.

use super::members::parse_uuid;
use super::{ctx, Tag};
use crate::problem::ApiResult;
use crate::security::{ApiCaller, SessionCookie, TenantCaller};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::sync::Arc;
use tollgate_billing::{CreditGrant, Credits, Settings, SpendCap};
use tollgate_core::pricing::Currency;
use tollgate_core::{DomainError, Role, Scope, TenantId};
use tollgate_store::billing::{BillingAlert, CreditEntry};

/// An amount of money.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct Money {
    /// Minor units (cents for USD).
    pub amount: i64,
    /// ISO 4217 code, e.g. `USD`.
    pub currency: String,
}

/// A tenant's billing settings.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct BillingSettingsBody {
    /// The monthly spend cap, in the currency of the plan's price; a metered call that
    /// would take the period's rated spend past it is refused with 402
    /// `spend_cap_reached`. Absent (or null in a request): no cap.
    #[oai(skip_serializing_if_is_none)]
    pub spend_cap: Option<Money>,
    /// Alert (`credit.low`) when the prepaid credit left, after this period's spend so far,
    /// falls below this many minor units. Absent (or null in a request): no alert.
    #[oai(skip_serializing_if_is_none)]
    pub credit_alert_below: Option<i64>,
}

impl From<Settings> for BillingSettingsBody {
    fn from(s: Settings) -> Self {
        Self {
            spend_cap: s.spend_cap.map(|c| Money {
                amount: c.amount,
                currency: c.currency.to_string(),
            }),
            credit_alert_below: s.credit_alert_below,
        }
    }
}

/// A credit grant to make.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct NewCreditGrant {
    /// Minor units, above 0.
    pub amount: i64,
    /// ISO 4217.
    pub currency: String,
    /// When what is left of it expires; absent for never.
    pub expires_at: Option<DateTime<Utc>>,
    /// A note, at most 500 characters.
    pub memo: Option<String>,
}

/// One entry of the credit ledger.
#[derive(Debug, Clone, Object)]
pub struct LedgerEntry {
    /// Id.
    pub id: String,
    /// The grant it belongs to.
    pub grant_id: String,
    /// `grant` (positive), `consume` or `expire` (negative).
    pub kind: String,
    /// Minor units.
    pub amount: i64,
    /// ISO 4217.
    pub currency: String,
    /// For a grant: when what is left of it expires.
    #[oai(skip_serializing_if_is_none)]
    pub expires_at: Option<DateTime<Utc>>,
    /// For a consumption: the invoice.
    #[oai(skip_serializing_if_is_none)]
    pub invoice_id: Option<String>,
    /// A note.
    #[oai(skip_serializing_if_is_none)]
    pub memo: Option<String>,
    /// Booked.
    pub created_at: DateTime<Utc>,
}

impl From<&CreditEntry> for LedgerEntry {
    fn from(e: &CreditEntry) -> Self {
        Self {
            id: e.id.to_string(),
            grant_id: e.grant_id.to_string(),
            kind: e.kind.clone(),
            amount: e.amount,
            currency: e.currency.clone(),
            expires_at: e.expires_at,
            invoice_id: e.invoice_id.map(|i| i.to_string()),
            memo: e.memo.clone(),
            created_at: e.created_at,
        }
    }
}

/// A grant and what is left of it.
#[derive(Debug, Clone, Object)]
pub struct GrantBody {
    /// The grant's ledger entry.
    #[oai(flatten)]
    pub entry: LedgerEntry,
    /// Minor units left (0 once used up; what expired is booked as `expire`).
    pub remaining: i64,
}

/// A tenant's prepaid credit.
#[derive(Debug, Clone, Object)]
pub struct CreditsBody {
    /// Usable now, per currency.
    pub balances: Vec<Money>,
    /// The grants, oldest first.
    pub grants: Vec<GrantBody>,
    /// Every ledger entry, oldest first.
    pub ledger: Vec<LedgerEntry>,
}

impl From<Credits> for CreditsBody {
    fn from(c: Credits) -> Self {
        Self {
            balances: c
                .balances
                .into_iter()
                .map(|(currency, amount)| Money { amount, currency })
                .collect(),
            grants: c
                .grants
                .iter()
                .map(|g| GrantBody {
                    entry: LedgerEntry::from(&g.entry),
                    remaining: g.remaining,
                })
                .collect(),
            ledger: c.ledger.iter().map(LedgerEntry::from).collect(),
        }
    }
}

/// A threshold reached, once per period.
#[derive(Debug, Clone, Object)]
pub struct AlertBody {
    /// `usage` (percent of the plan's units), `spend` (percent of the spend cap) or
    /// `credit` (credit left below the alert amount).
    pub kind: String,
    /// Percent (50, 80, 100); 0 for `credit`.
    pub level: i32,
    /// The period (`YYYY-MM`).
    pub period: String,
    /// The numbers at the crossing.
    pub detail: serde_json::Value,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<&BillingAlert> for AlertBody {
    fn from(a: &BillingAlert) -> Self {
        Self {
            kind: a.kind.clone(),
            level: a.level,
            period: a.period.clone(),
            detail: serde_json::from_str(&a.detail).unwrap_or_default(),
            created_at: a.created_at,
        }
    }
}

/// The tenant's alerts.
#[derive(Debug, Object)]
pub struct AlertList {
    /// Newest first.
    pub alerts: Vec<AlertBody>,
}

/// A grant made.
#[derive(ApiResponse)]
pub enum GrantCreated {
    /// The grant's ledger entry.
    #[oai(status = 201)]
    Created(Json<LedgerEntry>),
}

pub(crate) fn tenant_path(id: &str) -> Result<TenantId, DomainError> {
    Ok(TenantId(parse_uuid(id, "tenant")?))
}

/// Credit, settings and alerts.
pub struct CreditsApi;

#[OpenApi]
impl CreditsApi {
    /// The tenant's billing settings.
    ///
    /// **Permissions**: scope `billing:read`, or a portal session (any role).
    #[oai(
        path = "/v1/billing/settings",
        method = "get",
        tag = "Tag::Billing",
        operation_id = "getBillingSettings"
    )]
    async fn settings(
        &self,
        state: Data<&Arc<AppState>>,
        auth: TenantCaller,
    ) -> ApiResult<Json<BillingSettingsBody>> {
        let tenant = state.tenant_of(auth, Scope::BillingRead).await?;
        Ok(Json(state.billing.settings(tenant).await?.into()))
    }

    /// Replace the tenant's billing settings: its monthly spend cap (in the currency of the
    /// plan's price: 422 `invalid_money` otherwise, 404 `no_price` without a price) and its
    /// credit alert. A new cap applies from the next metered call.
    ///
    /// **Permissions**: portal session with role `owner` (the cap decides what the tenant
    /// may spend), plus `X-CSRF-Token`.
    #[oai(
        path = "/v1/billing/settings",
        method = "put",
        tag = "Tag::Billing",
        operation_id = "setBillingSettings"
    )]
    async fn set_settings(
        &self,
        state: Data<&Arc<AppState>>,
        req: &poem::Request,
        session: SessionCookie,
        #[oai(name = "X-CSRF-Token")] csrf: Header<Option<String>>,
        body: Json<BillingSettingsBody>,
    ) -> ApiResult<Json<BillingSettingsBody>> {
        let s = state.admin(&session, csrf.0.as_deref(), true).await?;
        s.require(Role::Owner)?;
        let spend_cap = match &body.0.spend_cap {
            Some(m) => Some(SpendCap {
                amount: m.amount,
                currency: Currency::parse(&m.currency)?,
            }),
            None => None,
        };
        let settings = Settings {
            spend_cap,
            credit_alert_below: body.0.credit_alert_below,
        };
        let set = state
            .billing
            .set_settings(s.tenant_id, settings, &s.actor(), &ctx(req))
            .await?;
        state.meter.forget_limits(Some(s.tenant_id));
        Ok(Json(set.into()))
    }

    /// The tenant's prepaid credit: balances, grants and the ledger.
    ///
    /// **Permissions**: scope `billing:read`, or a portal session (any role).
    #[oai(
        path = "/v1/billing/credits",
        method = "get",
        tag = "Tag::Billing",
        operation_id = "getCredits"
    )]
    async fn credits(
        &self,
        state: Data<&Arc<AppState>>,
        auth: TenantCaller,
    ) -> ApiResult<Json<CreditsBody>> {
        let tenant = state.tenant_of(auth, Scope::BillingRead).await?;
        Ok(Json(state.billing.credits(tenant).await?.into()))
    }

    /// The tenant's billing alerts (usage and spend thresholds, low credit), newest first.
    ///
    /// **Permissions**: scope `billing:read`, or a portal session (any role).
    #[oai(
        path = "/v1/billing/alerts",
        method = "get",
        tag = "Tag::Billing",
        operation_id = "listBillingAlerts"
    )]
    async fn alerts(
        &self,
        state: Data<&Arc<AppState>>,
        auth: TenantCaller,
        /// Only this period (`YYYY-MM`).
        period: Query<Option<String>>,
    ) -> ApiResult<Json<AlertList>> {
        let tenant = state.tenant_of(auth, Scope::BillingRead).await?;
        let alerts = state.billing.alerts(tenant, period.0.as_deref()).await?;
        Ok(Json(AlertList {
            alerts: alerts.iter().map(AlertBody::from).collect(),
        }))
    }

    /// Grant a tenant prepaid credit (a top-up paid elsewhere, a goodwill credit).
    /// Invoices use it before they charge, soonest-expiring first.
    ///
    /// **Permissions**: scope `operator`.
    #[oai(
        path = "/v1/operator/tenants/:tenant_id/credits",
        method = "post",
        tag = "Tag::Operator",
        operation_id = "grantCredit"
    )]
    async fn grant(
        &self,
        state: Data<&Arc<AppState>>,
        req: &poem::Request,
        auth: ApiCaller,
        tenant_id: Path<String>,
        body: Json<NewCreditGrant>,
    ) -> ApiResult<GrantCreated> {
        let actor = state.operator(&auth).await?;
        let tenant = tenant_path(&tenant_id.0)?;
        let grant = CreditGrant {
            amount: body.0.amount,
            currency: Currency::parse(&body.0.currency)?,
            expires_at: body.0.expires_at,
            memo: body.0.memo,
        };
        let entry = state
            .billing
            .grant_credit(tenant, grant, &actor, &ctx(req))
            .await?;
        state.meter.forget_limits(Some(tenant));
        Ok(GrantCreated::Created(Json(LedgerEntry::from(&entry))))
    }

    /// A tenant's prepaid credit.
    ///
    /// **Permissions**: scope `operator`.
    #[oai(
        path = "/v1/operator/tenants/:tenant_id/credits",
        method = "get",
        tag = "Tag::Operator",
        operation_id = "getTenantCredits"
    )]
    async fn tenant_credits(
        &self,
        state: Data<&Arc<AppState>>,
        auth: ApiCaller,
        tenant_id: Path<String>,
    ) -> ApiResult<Json<CreditsBody>> {
        state.operator(&auth).await?;
        let tenant = tenant_path(&tenant_id.0)?;
        Ok(Json(state.billing.credits(tenant).await?.into()))
    }
}
