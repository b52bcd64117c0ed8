//! The tenant's audit log on the wire: keyset pages for the portal and API clients, and an
//! export of any size streamed as NDJSON or CSV. Reading either way is itself audited.

use super::{ctx, Tag};
use crate::problem::ApiResult;
use crate::security::TenantCaller;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use poem::web::Data;
use poem::{Body, Request};
use poem_openapi::param::Query;
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, ResponseContent};
use std::sync::Arc;
use tollgate_core::{Code, DomainError, Role, Scope, TenantId};
use tollgate_store::audit::AuditEvent;
use tollgate_store::audit_read::{AuditQuery, ExportFormat, Order, Reader};

/// Largest page.
const MAX_LIMIT: u32 = 500;
/// Longest `action` or `actor` filter.
const MAX_FILTER: usize = 200;

/// Whether the action succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum AuditOutcome {
    /// It was done.
    Success,
    /// It was refused or failed.
    Failure,
}

/// One event of the tenant's chain.
#[derive(Debug, Object)]
pub struct AuditEventBody {
    /// Position in the tenant's chain, from 1, without gaps (retention drops the oldest).
    pub seq: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who acted: `admin:<id>`, `client:<id>`, `key:<id>`, `operator`, `anonymous`, `system`.
    pub actor: String,
    /// What happened, e.g. `api_key.created`.
    pub action: String,
    /// What it happened to.
    #[oai(skip_serializing_if_is_none)]
    pub target: Option<String>,
    /// The caller's address.
    #[oai(skip_serializing_if_is_none)]
    pub ip: Option<String>,
    /// The caller's user agent.
    #[oai(skip_serializing_if_is_none)]
    pub user_agent: Option<String>,
    /// Whether it succeeded.
    pub outcome: AuditOutcome,
    /// Structured context (never secrets).
    pub detail: serde_json::Value,
    /// The previous event's `hash`: each event links to the one before it.
    pub prev_hash: String,
    /// This event's MAC under the platform's audit key.
    pub hash: String,
}

impl From<AuditEvent> for AuditEventBody {
    fn from(e: AuditEvent) -> Self {
        Self {
            seq: e.seq,
            at: e.at,
            outcome: if e.outcome == "success" {
                AuditOutcome::Success
            } else {
                AuditOutcome::Failure
            },
            detail: serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::String(e.detail)),
            actor: e.actor,
            action: e.action,
            target: e.target,
            ip: e.ip,
            user_agent: e.user_agent,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

/// A page of events.
#[derive(Debug, Object)]
pub struct AuditPage {
    /// In the order asked for.
    pub events: Vec<AuditEventBody>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

/// Which way a page runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum PageOrder {
    /// Newest first (the default).
    Desc,
    /// Oldest first.
    Asc,
}

/// The format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum AuditFormat {
    /// One JSON object per line (the default): exact, as the chain hashes it.
    Ndjson,
    /// RFC 4180 with a header row; a cell that a spreadsheet would run as a formula starts
    /// with `'`.
    Csv,
}

/// An export's body, streamed.
#[derive(ResponseContent)]
pub enum AuditFile {
    /// NDJSON: one event per line, oldest first.
    #[oai(content_type = "application/x-ndjson")]
    Ndjson(Binary<Body>),
    /// CSV: a header, then one event per row, oldest first.
    #[oai(content_type = "text/csv; charset=utf-8")]
    Csv(Binary<Body>),
}

/// An export.
#[derive(ApiResponse)]
pub enum AuditExport {
    /// The events, as an attachment, streamed (chunked); a failure midway cuts the transfer
    /// short rather than ending it cleanly.
    #[oai(status = 200)]
    File(
        AuditFile,
        #[oai(header = "Content-Disposition")] String,
        /// The seq the export runs through (its own `audit.exported` event): a consumer that
        /// got fewer rows than this, from the first on, got a cut-short transfer.
        #[oai(header = "Audit-Through-Seq")]
        i64,
        /// When retention dropped the chain's oldest events: the last dropped seq; the first
        /// row of an unfiltered export follows it.
        #[oai(header = "Audit-Checkpoint-Seq")]
        Option<i64>,
        /// ...and its hash, the `prev_hash` of that first row.
        #[oai(header = "Audit-Checkpoint-Hash")]
        Option<String>,
    ),
}

fn filter_text(name: &str, v: Option<String>) -> Result<Option<String>, DomainError> {
    match v {
        Some(s) if s.is_empty() || s.len() > MAX_FILTER || s.chars().any(char::is_control) => {
            Err(DomainError::invalid(
                Code::InvalidFilter,
                format!("`{name}` must be 1 to {MAX_FILTER} bytes without control characters"),
            ))
        }
        v => Ok(v),
    }
}

fn range(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Result<(), DomainError> {
    if let (Some(f), Some(t)) = (from, to) {
        if f >= t {
            return Err(DomainError::invalid(
                Code::InvalidRange,
                "`from` must be before `to`",
            ));
        }
    }
    Ok(())
}

/// The tenant and the actor reading its log: a portal session of role admin or owner, or a
/// credential with `audit:read` (its rate limits apply).
async fn reader(state: &AppState, auth: TenantCaller) -> ApiResult<(TenantId, String)> {
    Ok(match auth {
        TenantCaller::Session(cookie) => {
            let s = state.admin(&cookie, None, false).await?;
            s.require(Role::Admin)?;
            (s.tenant_id, s.actor())
        }
        TenantCaller::Bearer(b) => {
            let p = state
                .principal_with(&crate::security::ApiCaller::Bearer(b), Scope::AuditRead)
                .await?;
            (p.tenant_id, p.actor())
        }
        TenantCaller::ApiKey(k) => {
            let p = state
                .principal_with(&crate::security::ApiCaller::ApiKey(k), Scope::AuditRead)
                .await?;
            (p.tenant_id, p.actor())
        }
    })
}

/// Audit log operations.
pub struct AuditApi;

#[OpenApi]
impl AuditApi {
    /// The tenant's audit events, a page at a time.
    ///
    /// Keyset-paginated by `seq`: pass `next_cursor` back as `cursor` until it is absent.
    /// Filters combine; `action` and `actor` match exactly. Each call is itself recorded in
    /// the log as `audit.read`.
    ///
    /// **Permissions**: scope `audit:read`, or a portal session with role `admin` or `owner`.
    #[oai(
        path = "/v1/audit-events",
        method = "get",
        tag = "Tag::Audit",
        operation_id = "listAuditEvents"
    )]
    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per query parameter, as poem-openapi declares them"
    )]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: TenantCaller,
        /// Events at or after this instant (RFC 3339).
        from: Query<Option<DateTime<Utc>>>,
        /// Events before this instant (RFC 3339).
        to: Query<Option<DateTime<Utc>>>,
        /// Exactly this action, e.g. `api_key.created`.
        action: Query<Option<String>>,
        /// Exactly this actor, e.g. `admin:<id>`.
        actor: Query<Option<String>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// Events per page, 1 to 500 (default 100).
        limit: Query<Option<u32>>,
        /// `desc` (newest first, the default) or `asc`.
        order: Query<Option<PageOrder>>,
    ) -> ApiResult<Json<AuditPage>> {
        let (tenant, who) = reader(&state, auth).await?;
        range(from.0, to.0)?;
        let query = AuditQuery {
            from: from.0,
            to: to.0,
            action: filter_text("action", action.0)?,
            actor: filter_text("actor", actor.0)?,
        };
        let cursor = super::paging::cursor(cursor.0, |c: &i64| *c > 0)?;
        let limit = super::paging::limit(limit.0, 100, MAX_LIMIT)?;
        let order = match order.0.unwrap_or(PageOrder::Desc) {
            PageOrder::Desc => Order::Desc,
            PageOrder::Asc => Order::Asc,
        };
        let ctx = ctx(req);
        let who = Reader {
            actor: &who,
            ctx: &ctx,
            at: state.auth.clock.now(),
        };
        let page = state
            .store
            .read_audit(tenant, who, &query, cursor, order, u64::from(limit))
            .await?;
        let next_cursor = super::paging::next(&page, limit, |e| e.seq.to_string());
        Ok(Json(AuditPage {
            events: page.into_iter().map(AuditEventBody::from).collect(),
            next_cursor,
        }))
    }

    /// Exports the tenant's audit events, streamed.
    ///
    /// Every event in `[from, to)`, oldest first, with its `seq`, `prev_hash` and `hash`, so
    /// a consumer can check that none is missing, added or reordered (each links to the one
    /// before); recomputing a hash needs the platform's audit key (`tollgate audit verify`).
    /// Any size: the server reads the log a page at a time and holds no more. The export is
    /// recorded as `audit.exported` first, and runs through that event.
    ///
    /// **Permissions**: scope `audit:read`, or a portal session with role `admin` or `owner`.
    #[oai(
        path = "/v1/audit-events/export",
        method = "get",
        tag = "Tag::Audit",
        operation_id = "exportAuditEvents"
    )]
    async fn export(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: TenantCaller,
        /// `ndjson` (default) or `csv`.
        format: Query<Option<AuditFormat>>,
        /// Events at or after this instant (RFC 3339).
        from: Query<Option<DateTime<Utc>>>,
        /// Events before this instant (RFC 3339).
        to: Query<Option<DateTime<Utc>>>,
    ) -> ApiResult<AuditExport> {
        let (tenant, who) = reader(&state, auth).await?;
        range(from.0, to.0)?;
        let format = match format.0.unwrap_or(AuditFormat::Ndjson) {
            AuditFormat::Ndjson => ExportFormat::Ndjson,
            AuditFormat::Csv => ExportFormat::Csv,
        };
        let query = AuditQuery {
            from: from.0,
            to: to.0,
            ..AuditQuery::default()
        };
        let ctx = ctx(req);
        let at = state.auth.clock.now();
        let reader = Reader {
            actor: &who,
            ctx: &ctx,
            at,
        };
        let through = state
            .store
            .start_audit_export(tenant, reader, &query, format)
            .await?;
        let checkpoint = state.store.audit_checkpoint(Some(tenant)).await?;
        let header = futures::stream::iter(
            (!format.header().is_empty())
                .then(|| Ok::<_, std::io::Error>(format.header().to_owned())),
        );
        let rows = state
            .store
            .audit_export(tenant, query, through)
            .map(move |page| match page {
                Ok(rows) => {
                    let mut out = String::with_capacity(rows.len() * 400);
                    for row in &rows {
                        format.write(row, &mut out);
                    }
                    Ok(out)
                }
                Err(e) => {
                    tracing::error!(error = %e, "an audit export failed midway; the transfer is cut");
                    Err(std::io::Error::other("audit export failed"))
                }
            });
        let body = Body::from_bytes_stream(header.chain(rows));
        let name = format!(
            "attachment; filename=\"audit-{tenant}-{}.{}\"",
            at.format("%Y%m%dT%H%M%SZ"),
            format.as_str()
        );
        Ok(AuditExport::File(
            match format {
                ExportFormat::Ndjson => AuditFile::Ndjson(Binary(body)),
                ExportFormat::Csv => AuditFile::Csv(Binary(body)),
            },
            name,
            through,
            checkpoint.as_ref().map(|c| c.seq),
            checkpoint.map(|c| c.hash),
        ))
    }
}
