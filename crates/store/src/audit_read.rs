//! Reading a chain out: keyset pages (by `seq`, never OFFSET) for a portal or an API client,
//! and a stream of pages for exports of any size. Every read names the chain by its tenant,
//! so no filter can reach another tenant's events.

use crate::audit::{chain_of, AuditEvent, NewAuditEvent};
use crate::entity::audit_event;
use crate::{map_db_err, Store};
use chrono::{DateTime, Utc};
use futures::Stream;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use tollgate_core::{DomainError, RequestCtx, TenantId};

/// The audit action of reading a page of the log.
pub const READ_ACTION: &str = "audit.read";
/// The audit action of exporting the log.
pub const EXPORTED_ACTION: &str = "audit.exported";

/// Who reads the log, for the event their read leaves in it.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    /// `admin:<id>`, `client:<id>`, `key:<id>` or `operator`.
    pub actor: &'a str,
    /// From where.
    pub ctx: &'a RequestCtx,
    /// When.
    pub at: DateTime<Utc>,
}

/// Rows per page of a stream: large enough that a query's round trip is small against the
/// rows it returns, small enough that an export's memory stays flat.
pub const PAGE: u64 = 1000;

/// Which events of a chain to read. Unset fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Events at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Events before this instant.
    pub to: Option<DateTime<Utc>>,
    /// Exactly this action (e.g. `api_key.created`).
    pub action: Option<String>,
    /// Exactly this actor (e.g. `admin:<id>`).
    pub actor: Option<String>,
}

impl AuditQuery {
    /// The filter as an audit event's detail records it.
    fn describe(&self) -> serde_json::Value {
        let at = |t: &Option<DateTime<Utc>>| {
            t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        };
        serde_json::json!({
            "from": at(&self.from), "to": at(&self.to),
            "action": self.action, "actor": self.actor,
        })
    }

    fn apply(&self, mut q: Select<audit_event::Entity>) -> Select<audit_event::Entity> {
        if let Some(from) = self.from {
            q = q.filter(audit_event::Column::At.gte(from));
        }
        if let Some(to) = self.to {
            q = q.filter(audit_event::Column::At.lt(to));
        }
        if let Some(action) = &self.action {
            q = q.filter(audit_event::Column::Action.eq(action.clone()));
        }
        if let Some(actor) = &self.actor {
            q = q.filter(audit_event::Column::Actor.eq(actor.clone()));
        }
        q
    }
}

/// Which way a page runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Oldest first: the page holds events after the cursor.
    Asc,
    /// Newest first: the page holds events before the cursor.
    Desc,
}

impl Store {
    /// A page of [`Store::audit_page`], read by `reader` and recorded as `audit.read` in the
    /// same chain (a read that cannot be recorded is refused with `audit_unavailable`).
    pub async fn read_audit(
        &self,
        tenant: TenantId,
        reader: Reader<'_>,
        query: &AuditQuery,
        cursor: Option<i64>,
        order: Order,
        limit: u64,
    ) -> Result<Vec<AuditEvent>, DomainError> {
        let page = self.audit_page(tenant, query, cursor, order, limit).await?;
        let event = NewAuditEvent::new(reader.actor, READ_ACTION, reader.ctx, reader.at)
            .tenant(Some(tenant))
            .detail(serde_json::json!({
                "filter": query.describe(),
                "cursor": cursor,
                "events": page.len(),
            }));
        self.append_audit(event).await?;
        Ok(page)
    }

    /// Records `reader`'s export of `tenant`'s chain as `audit.exported` and returns the seq
    /// the export runs through (that event's own: it is the export's last row).
    pub async fn start_audit_export(
        &self,
        tenant: TenantId,
        reader: Reader<'_>,
        query: &AuditQuery,
        format: ExportFormat,
    ) -> Result<i64, DomainError> {
        let event = NewAuditEvent::new(reader.actor, EXPORTED_ACTION, reader.ctx, reader.at)
            .tenant(Some(tenant))
            .detail(serde_json::json!({
                "filter": query.describe(),
                "format": format.as_str(),
            }));
        Ok(self.append_audit(event).await?.seq)
    }

    /// One page of `tenant`'s chain matching `query`: at most `limit` events past `cursor` (a
    /// seq; exclusive) in `order`.
    pub async fn audit_page(
        &self,
        tenant: TenantId,
        query: &AuditQuery,
        cursor: Option<i64>,
        order: Order,
        limit: u64,
    ) -> Result<Vec<AuditEvent>, DomainError> {
        let q = audit_event::Entity::find()
            .filter(audit_event::Column::Chain.eq(chain_of(Some(tenant))));
        let q = query.apply(q);
        let q = match (order, cursor) {
            (Order::Asc, Some(c)) => q.filter(audit_event::Column::Seq.gt(c)),
            (Order::Desc, Some(c)) => q.filter(audit_event::Column::Seq.lt(c)),
            (_, None) => q,
        };
        let q = match order {
            Order::Asc => q.order_by_asc(audit_event::Column::Seq),
            Order::Desc => q.order_by_desc(audit_event::Column::Seq),
        };
        q.limit(limit).all(self.conn()).await.map_err(map_db_err)
    }

    /// Every row of one chain with `after < seq <= through`, oldest first, as a stream of
    /// pages of at most `page` rows, each one query (keyset on the chain's primary key): a
    /// reader holds one page at a time and no connection or transaction between pages.
    pub fn audit_rows(
        &self,
        tenant: Option<TenantId>,
        after: i64,
        through: i64,
        page: u64,
    ) -> impl Stream<Item = Result<Vec<AuditEvent>, DomainError>> + Send + 'static {
        self.audit_stream(
            chain_of(tenant),
            AuditQuery::default(),
            after,
            through,
            page,
        )
    }

    /// [`Store::audit_rows`] of `tenant`'s chain filtered by `query`.
    pub fn audit_export(
        &self,
        tenant: TenantId,
        query: AuditQuery,
        through: i64,
    ) -> impl Stream<Item = Result<Vec<AuditEvent>, DomainError>> + Send + 'static {
        self.audit_stream(chain_of(Some(tenant)), query, 0, through, PAGE)
    }

    fn audit_stream(
        &self,
        chain: String,
        query: AuditQuery,
        after: i64,
        through: i64,
        page: u64,
    ) -> impl Stream<Item = Result<Vec<AuditEvent>, DomainError>> + Send + 'static {
        let store = self.clone();
        futures::stream::try_unfold(Some(after), move |cursor| {
            let (store, chain, query) = (store.clone(), chain.clone(), query.clone());
            async move {
                let Some(after) = cursor else {
                    return Ok(None);
                };
                let q = audit_event::Entity::find()
                    .filter(audit_event::Column::Chain.eq(chain))
                    .filter(audit_event::Column::Seq.gt(after))
                    .filter(audit_event::Column::Seq.lte(through));
                let rows = query
                    .apply(q)
                    .order_by_asc(audit_event::Column::Seq)
                    .limit(page)
                    .all(store.conn())
                    .await
                    .map_err(map_db_err)?;
                if rows.is_empty() {
                    return Ok(None);
                }
                let next = (rows.len() as u64 == page)
                    .then(|| rows.last().map(|r| r.seq))
                    .flatten();
                Ok(Some((rows, next)))
            }
        })
    }
}

/// The format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One JSON object per line, exact: `detail` is the stored JSON.
    Ndjson,
    /// RFC 4180 with a header row, for spreadsheets: cells that would run as a formula get a
    /// leading `'` ([`tollgate_core::csv::cell`]), so use NDJSON to check hashes.
    Csv,
}

/// An exported row. Field order is the NDJSON's.
#[derive(serde::Serialize)]
struct ExportRow<'a> {
    seq: i64,
    tenant_id: Option<String>,
    at: String,
    actor: &'a str,
    action: &'a str,
    target: Option<&'a str>,
    ip: Option<&'a str>,
    user_agent: Option<&'a str>,
    outcome: &'a str,
    detail: &'a serde_json::value::RawValue,
    prev_hash: &'a str,
    hash: &'a str,
}

/// The CSV header, in [`ExportRow`]'s order.
const CSV_HEADER: &str =
    "seq,tenant_id,at,actor,action,target,ip,user_agent,outcome,detail,prev_hash,hash\r\n";

impl ExportFormat {
    /// `ndjson` or `csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Ndjson => "ndjson",
            ExportFormat::Csv => "csv",
        }
    }

    /// The export's MIME type.
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Ndjson => "application/x-ndjson",
            ExportFormat::Csv => "text/csv; charset=utf-8",
        }
    }

    /// What the export starts with (CSV's header row).
    pub fn header(self) -> &'static str {
        match self {
            ExportFormat::Ndjson => "",
            ExportFormat::Csv => CSV_HEADER,
        }
    }

    /// Appends `row` as one line (CRLF-terminated in CSV, LF in NDJSON).
    pub fn write(self, row: &AuditEvent, out: &mut String) {
        let at = row.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        match self {
            ExportFormat::Ndjson => {
                // The stored detail is JSON written by this code; a row whose detail somehow
                // is not is exported with it as a JSON string rather than breaking the line.
                use serde_json::value::RawValue;
                let as_string = || serde_json::Value::String(row.detail.clone()).to_string();
                let Ok(detail) = RawValue::from_string(row.detail.clone())
                    .or_else(|_| RawValue::from_string(as_string()))
                else {
                    return;
                };
                let line = ExportRow {
                    seq: row.seq,
                    tenant_id: row.tenant_id.map(|t| t.to_string()),
                    at,
                    actor: &row.actor,
                    action: &row.action,
                    target: row.target.as_deref(),
                    ip: row.ip.as_deref(),
                    user_agent: row.user_agent.as_deref(),
                    outcome: &row.outcome,
                    detail: &detail,
                    prev_hash: &row.prev_hash,
                    hash: &row.hash,
                };
                if let Ok(json) = serde_json::to_string(&line) {
                    out.push_str(&json);
                    out.push('\n');
                }
            }
            ExportFormat::Csv => {
                use std::fmt::Write;
                use tollgate_core::csv::cell;
                fn opt(v: &Option<String>) -> std::borrow::Cow<'_, str> {
                    v.as_deref()
                        .map(tollgate_core::csv::cell)
                        .unwrap_or_default()
                }
                let tenant = row.tenant_id.map(|t| t.to_string()).unwrap_or_default();
                let _ = write!(
                    out,
                    "{},{},{},{},{},{},{},{},{},{},{},{}\r\n",
                    row.seq,
                    tenant,
                    at,
                    cell(&row.actor),
                    cell(&row.action),
                    opt(&row.target),
                    opt(&row.ip),
                    opt(&row.user_agent),
                    cell(&row.outcome),
                    cell(&row.detail),
                    row.prev_hash,
                    row.hash,
                );
            }
        }
    }
}
