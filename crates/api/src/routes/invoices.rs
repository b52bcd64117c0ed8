//! Finalized invoices on the wire. A tenant lists and reads its own (another tenant's is 404)
//! and downloads one as JSON or CSV; the operator reads every tenant's, finalizes a period
//! and records a payment made outside Stripe.

use super::billing::{InvoiceLineBody, LineKindBody, PriceBody};
use super::credits::tenant_path;
use super::members::parse_uuid;
use super::{ctx, Tag};
use crate::problem::ApiResult;
use crate::security::{ApiCaller, TenantCaller};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use std::sync::Arc;
use tollgate_billing::InvoiceView;
use tollgate_core::plan::Period;
use tollgate_core::{DomainError, Scope};
use tollgate_store::invoices::{status, Invoice};

/// A finalized invoice's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum FinalStatus {
    /// Finalized and not paid yet.
    Open,
    /// Paid (or nothing was owed).
    Paid,
}

/// A finalized invoice, without its lines.
#[derive(Debug, Object)]
pub struct InvoiceSummary {
    /// Id.
    pub id: String,
    /// The tenant.
    pub tenant_id: String,
    /// Per tenant, from 1, without gaps.
    pub number: i64,
    /// The period (`YYYY-MM`).
    pub period: String,
    /// `open` or `paid`.
    pub status: FinalStatus,
    /// The plan it was rated under.
    pub plan: String,
    /// ISO 4217 code of every amount.
    pub currency: String,
    /// Units billed (the period's, plus any recorded late for earlier periods).
    pub units: i64,
    /// Minor units before credit.
    pub subtotal: i64,
    /// Prepaid credit used.
    pub credit_applied: i64,
    /// Minor units owed: `subtotal - credit_applied`, the sum of the lines.
    pub total: i64,
    /// When it was finalized.
    pub finalized_at: DateTime<Utc>,
    /// When it is due.
    pub due_at: DateTime<Utc>,
    /// When it was paid.
    #[oai(skip_serializing_if_is_none)]
    pub paid_at: Option<DateTime<Utc>>,
    /// Stripe's id of it, once synced.
    #[oai(skip_serializing_if_is_none)]
    pub stripe_invoice_id: Option<String>,
}

impl From<&Invoice> for InvoiceSummary {
    fn from(i: &Invoice) -> Self {
        Self {
            id: i.id.to_string(),
            tenant_id: i.tenant_id.to_string(),
            number: i.number,
            period: i.period.clone(),
            status: if i.status == status::PAID {
                FinalStatus::Paid
            } else {
                FinalStatus::Open
            },
            plan: i.plan.clone(),
            currency: i.currency.clone(),
            units: i.units,
            subtotal: i.subtotal,
            credit_applied: i.credit_applied,
            total: i.total,
            finalized_at: i.finalized_at,
            due_at: i.due_at,
            paid_at: i.paid_at,
            stripe_invoice_id: i.stripe_invoice_id.clone(),
        }
    }
}

/// Units recorded late for an earlier, already invoiced period, billed here.
#[derive(Debug, Object)]
pub struct LateUsage {
    /// The period they were recorded for.
    pub period: String,
    /// Units.
    pub units: i64,
}

/// The usage an invoice was rated from.
#[derive(Debug, Object)]
pub struct UsageSnapshot {
    /// Units recorded in the period when it was finalized.
    pub period_units: i64,
    /// Units recorded late for earlier periods.
    pub late: Vec<LateUsage>,
}

/// A finalized invoice with its lines.
#[derive(Debug, Object)]
pub struct InvoiceBody {
    /// The invoice.
    #[oai(flatten)]
    pub summary: InvoiceSummary,
    /// Lines, base fee first, credit applied last; their amounts sum to `total`.
    pub lines: Vec<InvoiceLineBody>,
    /// The price it was rated with.
    pub price: PriceBody,
    /// The usage it was rated from.
    pub usage: UsageSnapshot,
}

impl From<&InvoiceView> for InvoiceBody {
    fn from(v: &InvoiceView) -> Self {
        let lines = v
            .lines
            .iter()
            .map(|l| InvoiceLineBody {
                kind: match l.kind.as_str() {
                    "base_fee" => LineKindBody::BaseFee,
                    "included" => LineKindBody::Included,
                    "credit" => LineKindBody::Credit,
                    _ => LineKindBody::Overage,
                },
                tier: l.tier.and_then(|t| u32::try_from(t).ok()),
                quantity: u64::try_from(l.quantity).unwrap_or(0),
                amount: l.amount,
                description: Some(l.description.clone()),
            })
            .collect();
        let late = v.snapshot["late"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| LateUsage {
                period: l["period"].as_str().unwrap_or_default().to_owned(),
                units: l["units"].as_i64().unwrap_or(0),
            })
            .collect();
        Self {
            summary: InvoiceSummary::from(&v.invoice),
            lines,
            price: PriceBody::from_price(&v.price),
            usage: UsageSnapshot {
                period_units: v.snapshot["period_units"].as_i64().unwrap_or(0),
                late,
            },
        }
    }
}

/// Invoices.
#[derive(Debug, Object)]
pub struct InvoiceList {
    /// Newest first (operators: by tenant, then number).
    pub invoices: Vec<InvoiceSummary>,
}

/// The format of a download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum DownloadFormat {
    /// The invoice as `GET /v1/invoices/{id}` answers it.
    Json,
    /// One row per line (RFC 4180).
    Csv,
}

/// A downloaded invoice's body.
#[derive(poem_openapi::ResponseContent)]
pub enum InvoiceFile {
    /// JSON, as `GET /v1/invoices/{id}` answers it.
    Json(Json<Box<InvoiceBody>>),
    /// CSV: a header and one row per line (RFC 4180).
    #[oai(content_type = "text/csv; charset=utf-8")]
    Csv(PlainText<String>),
}

/// A downloaded invoice.
#[derive(ApiResponse)]
pub enum Download {
    /// The file, as an attachment.
    #[oai(status = 200)]
    File(InvoiceFile, #[oai(header = "Content-Disposition")] String),
}

fn download(view: &InvoiceView, format: Option<DownloadFormat>) -> Download {
    let name = format!("invoice-{}-{}", view.invoice.period, view.invoice.number);
    match format.unwrap_or(DownloadFormat::Json) {
        DownloadFormat::Json => Download::File(
            InvoiceFile::Json(Json(Box::new(InvoiceBody::from(view)))),
            format!("attachment; filename=\"{name}.json\""),
        ),
        DownloadFormat::Csv => Download::File(
            InvoiceFile::Csv(PlainText(tollgate_billing::csv(view))),
            format!("attachment; filename=\"{name}.csv\""),
        ),
    }
}

/// A period to finalize.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct FinalizeRequest {
    /// `YYYY-MM`; it must have ended, plus the grace for late usage.
    pub period: String,
}

/// What finalizing a period did.
#[derive(Debug, Object)]
pub struct FinalizeReport {
    /// The period.
    pub period: String,
    /// Invoices written now.
    pub finalized: Vec<InvoiceSummary>,
    /// Tenants whose invoice was written before (nothing changed).
    pub already: u64,
    /// Tenants whose plan had no price in the period (nothing billed).
    pub not_billed: u64,
    /// Tenants that could not be finalized (the others were).
    pub failed: Vec<FinalizeFailure>,
}

/// A tenant whose invoice could not be finalized.
#[derive(Debug, Object)]
pub struct FinalizeFailure {
    /// The tenant.
    pub tenant_id: String,
    /// The problem's `code` (e.g. `period_order`).
    pub code: String,
    /// Why.
    pub detail: String,
}

/// A payment made outside Stripe.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct PaymentRecord {
    /// Where it came from (e.g. `bank transfer 2026-12-03`), at most 200 characters.
    pub source: String,
}

fn invoice_id(id: &str) -> Result<uuid::Uuid, DomainError> {
    parse_uuid(id, "invoice")
}

/// Invoice operations.
pub struct InvoicesApi;

#[OpenApi]
impl InvoicesApi {
    /// The tenant's finalized invoices, newest first (the current period's draft is
    /// `GET /v1/invoices/upcoming`).
    ///
    /// **Permissions**: scope `billing:read`, or a portal session (any role).
    #[oai(
        path = "/v1/invoices",
        method = "get",
        tag = "Tag::Billing",
        operation_id = "listInvoices"
    )]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: TenantCaller,
    ) -> ApiResult<Json<InvoiceList>> {
        let tenant = state.tenant_of(auth, Scope::BillingRead).await?;
        let invoices = state.billing.invoices(tenant).await?;
        Ok(Json(InvoiceList {
            invoices: invoices.iter().map(InvoiceSummary::from).collect(),
        }))
    }

    /// One of the tenant's invoices, with its lines, price and usage (another tenant's is
    /// 404 `not_found`).
    ///
    /// **Permissions**: scope `billing:read`, or a portal session (any role).
    #[oai(
        path = "/v1/invoices/:invoice_id",
        method = "get",
        tag = "Tag::Billing",
        operation_id = "getInvoice"
    )]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        auth: TenantCaller,
        /// The invoice's id.
        invoice_id: Path<String>,
    ) -> ApiResult<Json<InvoiceBody>> {
        let tenant = state.tenant_of(auth, Scope::BillingRead).await?;
        let id = self::invoice_id(&invoice_id.0)?;
        Ok(Json(InvoiceBody::from(
            &state.billing.invoice(tenant, id).await?,
        )))
    }

    /// One of the tenant's invoices as a file: JSON (the default) or CSV, one row per line.
    ///
    /// **Permissions**: scope `billing:read`, or a portal session (any role).
    #[oai(
        path = "/v1/invoices/:invoice_id/download",
        method = "get",
        tag = "Tag::Billing",
        operation_id = "downloadInvoice"
    )]
    async fn download(
        &self,
        state: Data<&Arc<AppState>>,
        auth: TenantCaller,
        /// The invoice's id.
        invoice_id: Path<String>,
        /// `json` or `csv`.
        format: Query<Option<DownloadFormat>>,
    ) -> ApiResult<Download> {
        let tenant = state.tenant_of(auth, Scope::BillingRead).await?;
        let id = self::invoice_id(&invoice_id.0)?;
        Ok(download(
            &state.billing.invoice(tenant, id).await?,
            format.0,
        ))
    }

    /// Every tenant's invoices of a period, by tenant and number.
    ///
    /// **Permissions**: scope `operator`.
    #[oai(
        path = "/v1/operator/invoices",
        method = "get",
        tag = "Tag::Operator",
        operation_id = "listAllInvoices"
    )]
    async fn list_all(
        &self,
        state: Data<&Arc<AppState>>,
        auth: ApiCaller,
        /// `YYYY-MM`.
        period: Query<String>,
        /// Only this tenant's.
        tenant_id: Query<Option<String>>,
    ) -> ApiResult<Json<InvoiceList>> {
        state.operator(&auth).await?;
        let p = Period::parse(&period.0)?;
        let tenant = tenant_id.0.as_deref().map(tenant_path).transpose()?;
        let invoices = state.billing.invoices_of_period(p).await?;
        Ok(Json(InvoiceList {
            invoices: invoices
                .iter()
                .filter(|i| tenant.is_none_or(|t| t.0 == i.tenant_id))
                .map(InvoiceSummary::from)
                .collect(),
        }))
    }

    /// Any tenant's invoice.
    ///
    /// **Permissions**: scope `operator`.
    #[oai(
        path = "/v1/operator/invoices/:invoice_id",
        method = "get",
        tag = "Tag::Operator",
        operation_id = "getAnyInvoice"
    )]
    async fn get_any(
        &self,
        state: Data<&Arc<AppState>>,
        auth: ApiCaller,
        /// The invoice's id.
        invoice_id: Path<String>,
        /// `json` (the default) or `csv`.
        format: Query<Option<DownloadFormat>>,
    ) -> ApiResult<Download> {
        state.operator(&auth).await?;
        let id = self::invoice_id(&invoice_id.0)?;
        Ok(download(&state.billing.invoice_any(id).await?, format.0))
    }

    /// Records that an open invoice was paid outside Stripe; a tenant suspended for it
    /// (with nothing else overdue) is reinstated. Paying a paid invoice changes nothing.
    ///
    /// **Permissions**: scope `operator`.
    #[oai(
        path = "/v1/operator/invoices/:invoice_id/pay",
        method = "post",
        tag = "Tag::Operator",
        operation_id = "payInvoice"
    )]
    async fn pay(
        &self,
        state: Data<&Arc<AppState>>,
        req: &poem::Request,
        auth: ApiCaller,
        /// The invoice's id.
        invoice_id: Path<String>,
        body: Json<PaymentRecord>,
    ) -> ApiResult<Json<InvoiceSummary>> {
        let actor = state.operator(&auth).await?;
        let id = self::invoice_id(&invoice_id.0)?;
        let inv = state
            .billing
            .mark_paid(id, &actor, &body.0.source, &ctx(req))
            .await?;
        state
            .meter
            .forget_limits(Some(tollgate_core::TenantId(inv.tenant_id)));
        Ok(Json(InvoiceSummary::from(&inv)))
    }

    /// Finalizes a period's invoices for every tenant (the server does it by itself once the
    /// period has ended plus the grace; this is for running it at once). Idempotent: a
    /// tenant's invoice is written once. 409 `period_open` before the period's end plus the
    /// grace.
    ///
    /// **Permissions**: scope `operator`.
    #[oai(
        path = "/v1/operator/billing/finalize",
        method = "post",
        tag = "Tag::Operator",
        operation_id = "finalizePeriod"
    )]
    async fn finalize(
        &self,
        state: Data<&Arc<AppState>>,
        req: &poem::Request,
        auth: ApiCaller,
        body: Json<FinalizeRequest>,
    ) -> ApiResult<Json<FinalizeReport>> {
        let actor = state.operator(&auth).await?;
        let p = Period::parse(&body.0.period)?;
        let report = state.billing.finalize_period(p, &actor, &ctx(req)).await?;
        Ok(Json(FinalizeReport {
            period: report.period,
            finalized: report.finalized.iter().map(InvoiceSummary::from).collect(),
            already: report.already as u64,
            not_billed: report.not_billed as u64,
            failed: report
                .failed
                .iter()
                .map(|(t, e)| FinalizeFailure {
                    tenant_id: t.to_string(),
                    code: e.code().as_str().to_owned(),
                    detail: match e {
                        DomainError::Internal(_)
                        | DomainError::Unavailable(_)
                        | DomainError::Busy { .. } => {
                            tracing::warn!(tenant = %t, error = %e, "an invoice was not finalized");
                            "the server could not finalize it now (see its log); retry".into()
                        }
                        e => e.to_string(),
                    },
                })
                .collect(),
        }))
    }
}
