//! Finalized invoices. At a period's end plus the grace for late usage, each priced tenant's
//! usage is rated once into an immutable invoice: numbered per tenant without gaps, with the
//! price it was rated with, a snapshot of the usage, lines that sum to the total, and the
//! prepaid credit it used — all in one transaction with the credit's ledger entries, the
//! outbox row that pushes it to Stripe and its audit event. Finalizing is idempotent (one
//! invoice per tenant and period, enforced by the database), so two instances running the
//! job at once finalize once.
//!
//! Usage recorded for a period after its invoice was finalized is billed with the next
//! invoice (a line of its own in the snapshot, rated with the next period's price).

use crate::{stored, Billing};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use std::collections::BTreeMap;
use tollgate_core::plan::Period;
use tollgate_core::pricing::{Line, LineKind, Overage, Price};
use tollgate_core::{Code, DomainError, RequestCtx, TenantId};
use tollgate_store::audit::NewAuditEvent;
use tollgate_store::billing::{grants_of, kind, NewEntry};
use tollgate_store::invoices::{status, Invoice, InvoiceLine};

/// How many earlier periods one finalization catches up at most (ten years).
const MAX_CATCH_UP: usize = 120;

/// The outbox topic of invoices to push to Stripe.
pub const STRIPE_INVOICE_TOPIC: &str = "stripe.invoice";

/// The outbox topic of invoices paid outside Stripe, to mark paid there (so Stripe does not
/// collect them again).
pub const STRIPE_PAID_TOPIC: &str = "stripe.invoice.paid_out_of_band";

/// An invoice with its lines and the price it was rated with.
#[derive(Debug, Clone)]
pub struct InvoiceView {
    /// The invoice.
    pub invoice: Invoice,
    /// Its lines, in order.
    pub lines: Vec<InvoiceLine>,
    /// The price it was rated with.
    pub price: Price,
    /// The usage it was rated from.
    pub snapshot: serde_json::Value,
}

/// What finalizing one tenant's period did.
#[derive(Debug, Clone)]
pub enum Finalized {
    /// The invoice was written now.
    Invoiced(Invoice),
    /// It had been finalized before; nothing changed.
    Already(Invoice),
    /// The tenant's plan has no price in the period: nothing is billed.
    NotBilled,
}

/// What finalizing a period for every tenant did.
#[derive(Debug, Default)]
pub struct PeriodReport {
    /// `YYYY-MM`.
    pub period: String,
    /// Invoices written now.
    pub finalized: Vec<Invoice>,
    /// Tenants finalized before.
    pub already: usize,
    /// Tenants without a price in the period.
    pub not_billed: usize,
    /// Tenants whose finalization failed (the others are finalized regardless): the error.
    pub failed: Vec<(TenantId, DomainError)>,
}

/// A verified inbound Stripe event, reduced to what billing acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeEvent {
    /// Stripe's event id.
    pub id: String,
    /// Its type.
    pub kind: String,
    /// For invoice events: Stripe's invoice id.
    pub stripe_invoice: Option<String>,
    /// For invoice events: the Tollgate invoice its metadata names.
    pub tollgate_invoice: Option<uuid::Uuid>,
    /// For invoice events: the Stripe customer.
    pub customer: Option<String>,
    /// For invoice events: the invoice's status (`paid`, `open`, …).
    pub status: Option<String>,
    /// For invoice events: what was paid, and its currency (lower case, as Stripe writes it).
    pub amount_paid: Option<(i64, String)>,
}

/// What an inbound event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOutcome {
    /// Acted on now.
    Applied,
    /// Processed before (a repeated delivery): nothing changed.
    Duplicate,
    /// Not an event Tollgate acts on (recorded).
    Ignored,
}

/// What a round of the billing job did.
#[derive(Debug, Clone, Default)]
pub struct JobRun {
    /// The period finalized (for every tenant) in this round.
    pub finalized_period: Option<String>,
    /// Tenants suspended or reinstated in this round.
    pub suspension_changed: Vec<TenantId>,
}

/// The units an invoice (or the draft) of a period bills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Billable {
    /// Recorded in the period.
    pub period_units: i64,
    /// Recorded late for earlier, invoiced periods.
    pub late: Vec<(String, i64)>,
}

impl Billable {
    pub fn total(&self) -> i64 {
        self.period_units + self.late.iter().map(|(_, u)| u).sum::<i64>()
    }
}

/// What earlier invoices already billed, per period (their own units and late units later
/// invoices carried for them).
fn carried(invoices: &[Invoice], before: &str) -> Result<BTreeMap<String, i64>, DomainError> {
    let mut carried: BTreeMap<String, i64> = BTreeMap::new();
    for inv in invoices.iter().filter(|i| i.period.as_str() < before) {
        let snap: serde_json::Value =
            serde_json::from_str(&inv.snapshot).map_err(DomainError::internal)?;
        *carried.entry(inv.period.clone()).or_default() +=
            snap["period_units"].as_i64().unwrap_or(0);
        for late in snap["late"].as_array().into_iter().flatten() {
            if let (Some(p), Some(u)) = (late["period"].as_str(), late["units"].as_i64()) {
                *carried.entry(p.to_owned()).or_default() += u;
            }
        }
    }
    Ok(carried)
}

fn line_description(kind: LineKind, quantity: u64, price: &Price, period: &str) -> String {
    match kind {
        LineKind::BaseFee => format!("Base fee, {period}"),
        LineKind::Included => format!("{quantity} included pages"),
        LineKind::Overage { tier } => match (&price.overage, tier) {
            (Overage::Package { size, .. }, _) => {
                format!("{quantity} packages of {size} pages")
            }
            (_, Some(t)) => format!("{quantity} pages past the included, tier {}", t + 1),
            (_, None) => format!("{quantity} pages past the included"),
        },
        LineKind::Credit => "Prepaid credit applied".to_owned(),
    }
}

impl Billing {
    /// The units `tenant` is billed for `period`: the period's, plus any recorded late for
    /// earlier invoiced periods (one SQL aggregate over the periods concerned).
    pub(crate) async fn billable(
        &self,
        conn: &impl ConnectionTrait,
        tenant: TenantId,
        period: &str,
        invoices: &[Invoice],
    ) -> Result<Billable, DomainError> {
        let carried = carried(invoices, period)?;
        let mut periods: Vec<String> = carried.keys().cloned().collect();
        periods.push(period.to_owned());
        let recorded = self
            .store
            .usage_units_by_period(conn, tenant, &periods)
            .await?;
        let late = carried
            .iter()
            .filter_map(|(p, billed)| {
                let now = recorded.get(p).copied().unwrap_or(0);
                (now > *billed).then(|| (p.clone(), now - billed))
            })
            .collect();
        Ok(Billable {
            period_units: recorded.get(period).copied().unwrap_or(0),
            late,
        })
    }

    /// Finalizes `tenant`'s invoice for `period` (see the module documentation), first
    /// finalizing, oldest first, any earlier periods it has a price in and no invoice for (a
    /// server that was down for a month catches up, and no period's usage is skipped). 409
    /// `period_open` before the period's end plus the grace; 409 `period_order` when a later
    /// period is finalized already.
    pub async fn finalize(
        &self,
        tenant: TenantId,
        period: Period,
        actor: &str,
        ctx: &RequestCtx,
    ) -> Result<Finalized, DomainError> {
        let mut done = self
            .finalize_catching_up(tenant, period, actor, ctx)
            .await?;
        done.pop()
            .ok_or_else(|| DomainError::internal("finalizing gave no outcome"))
    }

    /// [`Self::finalize`], with what it did for each period, oldest first (the last is
    /// `period`'s).
    async fn finalize_catching_up(
        &self,
        tenant: TenantId,
        period: Period,
        actor: &str,
        ctx: &RequestCtx,
    ) -> Result<Vec<Finalized>, DomainError> {
        let now = self.clock.now();
        if now < period.end() + self.policy.grace {
            return Err(DomainError::conflict(
                Code::PeriodOpen,
                format!(
                    "{} can be finalized from {} (its end plus {} minutes of grace)",
                    period.key(),
                    period.end() + self.policy.grace,
                    self.policy.grace.num_minutes()
                ),
            ));
        }
        if tenant.is_platform() {
            return Ok(vec![Finalized::NotBilled]);
        }
        let invoiced: Vec<String> = self
            .store
            .invoices(tenant)
            .await?
            .into_iter()
            .map(|i| i.period)
            .collect();
        let mut behind = Vec::new();
        let mut earlier = period.prev();
        while behind.len() < MAX_CATCH_UP && !invoiced.contains(&earlier.key()) {
            match self.plan_and_price(tenant, &earlier.key()).await {
                Ok(_) => behind.push(earlier),
                // Before the tenant's first priced plan: nothing further back is billed.
                Err(e) if e.code() == Code::NoPrice => break,
                // Anything else stops this finalization, not just the catch-up (a month
                // skipped now could never be billed).
                Err(e) => return Err(e),
            }
            earlier = earlier.prev();
        }
        let mut done = Vec::with_capacity(behind.len() + 1);
        for p in behind.into_iter().rev().chain([period]) {
            done.push(self.finalize_one(tenant, p, actor, ctx).await?);
        }
        Ok(done)
    }

    /// Finalizes one period of `tenant` (its end and grace are checked by the caller).
    async fn finalize_one(
        &self,
        tenant: TenantId,
        period: Period,
        actor: &str,
        ctx: &RequestCtx,
    ) -> Result<Finalized, DomainError> {
        let now = self.clock.now();
        let key = period.key();
        let (plan, price) = match self.plan_and_price(tenant, &key).await {
            Ok(found) => found,
            Err(e) if e.code() == Code::NoPrice => return Ok(Finalized::NotBilled),
            Err(e) => return Err(e),
        };
        let done = self
            .store
            .audited(Some(tenant), |txn| {
                let (this, key, plan, price) =
                    (self.clone(), key.clone(), plan.clone(), price.clone());
                let (actor, ctx) = (actor.to_owned(), ctx.clone());
                Box::pin(async move {
                    this.finalize_in(txn, tenant, &key, &plan, &price, now)
                        .await
                        .map(|written| {
                            written.map(|inv| {
                                let detail = serde_json::json!({
                                    "number": inv.number, "period": inv.period,
                                    "total": inv.total, "currency": inv.currency,
                                    "credit_applied": inv.credit_applied,
                                });
                                let event =
                                    NewAuditEvent::new(&actor, "invoice.finalized", &ctx, now)
                                        .tenant(Some(tenant))
                                        .target(Some(format!("invoice:{}", inv.id)))
                                        .detail(detail);
                                (inv, event)
                            })
                        })
                })
            })
            .await?;
        match done {
            Some((inv, _)) => Ok(Finalized::Invoiced(inv)),
            None => {
                let existing = self
                    .store
                    .invoices(tenant)
                    .await?
                    .into_iter()
                    .find(|i| i.period == key)
                    .ok_or_else(|| DomainError::internal("finalized, yet no invoice"))?;
                Ok(Finalized::Already(existing))
            }
        }
    }

    /// The finalization itself, inside its transaction; `None` when it was done before.
    async fn finalize_in(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        tenant: TenantId,
        period: &str,
        plan: &str,
        price: &Price,
        now: DateTime<Utc>,
    ) -> Result<Option<Invoice>, DomainError> {
        let invoices = self.store.invoices_in(txn, tenant).await?;
        if invoices.iter().any(|i| i.period == period) {
            return Ok(None);
        }
        if let Some(later) = invoices.iter().find(|i| i.period.as_str() > period) {
            return Err(DomainError::conflict(
                Code::PeriodOrder,
                format!(
                    "{} is finalized already; {period} comes before it",
                    later.period
                ),
            ));
        }
        let billable = self.billable(txn, tenant, period, &invoices).await?;
        let units = u64::try_from(billable.total()).unwrap_or(0);
        let rating = price.rate(units)?;
        let id = uuid::Uuid::now_v7();
        let currency = price.currency.to_string();

        // Credit pays for the period it was held in: granted before the period's end and not
        // expired by then, the soonest-expiring first. What is left of grants expired by now
        // is booked out.
        let period_end = Period::parse(period)?.end();
        let ledger = self.store.credit_ledger_in(txn, tenant).await?;
        let mut grants: Vec<_> = grants_of(&ledger)
            .into_iter()
            .filter(|g| g.entry.currency == currency && g.remaining > 0)
            .collect();
        grants.sort_by_key(|g| {
            (
                g.entry.expires_at.is_none(),
                g.entry.expires_at,
                g.entry.created_at,
            )
        });
        let mut to_apply = rating.total.max(0);
        let mut applied = 0i64;
        for g in &mut grants {
            if to_apply == 0 {
                break;
            }
            if g.entry.created_at >= period_end || !g.usable_at(period_end) {
                continue;
            }
            let take = g.remaining.min(to_apply);
            let booked = self
                .store
                .book_credit(
                    txn,
                    entry(
                        tenant,
                        g,
                        kind::CONSUME,
                        format!("invoice:{id}"),
                        -take,
                        Some(id),
                        now,
                    ),
                )
                .await?;
            if !booked {
                return Err(DomainError::internal("a consumption was booked twice"));
            }
            g.remaining -= take;
            to_apply -= take;
            applied += take;
        }
        for g in grants
            .iter()
            .filter(|g| g.remaining > 0 && !g.usable_at(now))
        {
            // One expiry per grant (the ledger's (grant, reference) is unique).
            self.store
                .book_credit(
                    txn,
                    entry(
                        tenant,
                        g,
                        kind::EXPIRE,
                        "expire".into(),
                        -g.remaining,
                        None,
                        now,
                    ),
                )
                .await?;
        }

        let mut lines: Vec<Line> = rating.lines.clone();
        if applied > 0 {
            lines.push(Line {
                kind: LineKind::Credit,
                quantity: 1,
                amount: -applied,
            });
        }
        let total = rating.total - applied;
        let rows: Vec<InvoiceLine> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| InvoiceLine {
                id: uuid::Uuid::now_v7(),
                invoice_id: id,
                position: i32::try_from(i).unwrap_or(i32::MAX),
                kind: l.kind.as_str().to_owned(),
                tier: l.kind.tier().and_then(|t| i32::try_from(t).ok()),
                quantity: i64::try_from(l.quantity).unwrap_or(i64::MAX),
                amount: l.amount,
                description: line_description(l.kind, l.quantity, price, period),
            })
            .collect();
        if rows.iter().map(|l| l.amount).sum::<i64>() != total {
            return Err(DomainError::internal(
                "invoice lines do not sum to the total",
            ));
        }
        let snapshot = serde_json::json!({
            "period_units": billable.period_units,
            "late": billable.late.iter().map(|(p, u)| serde_json::json!({ "period": p, "units": u })).collect::<Vec<_>>(),
            "units": units,
            "rated_at": now,
        });
        let number = invoices.iter().map(|i| i.number).max().unwrap_or(0) + 1;
        let inv = Invoice {
            id,
            tenant_id: tenant.0,
            number,
            period: period.to_owned(),
            status: if total == 0 {
                status::PAID
            } else {
                status::OPEN
            }
            .to_owned(),
            plan: plan.to_owned(),
            currency,
            units: billable.total(),
            subtotal: rating.total,
            credit_applied: applied,
            total,
            price: serde_json::to_string(price).map_err(DomainError::internal)?,
            snapshot: snapshot.to_string(),
            finalized_at: now,
            due_at: now + chrono::Duration::days(self.policy.due_days),
            paid_at: (total == 0).then_some(now),
            stripe_invoice_id: None,
        };
        self.store.insert_invoice(txn, inv.clone(), rows).await?;
        if self.policy.stripe_sync && total > 0 {
            let payload = serde_json::json!({ "invoice_id": id, "tenant_id": tenant });
            self.store
                .enqueue(
                    txn,
                    STRIPE_INVOICE_TOPIC,
                    &id.to_string(),
                    tenant,
                    &payload,
                    now,
                )
                .await?;
        }
        Ok(Some(inv))
    }

    /// Finalizes `period` for every tenant (see [`Self::finalize`]).
    pub async fn finalize_period(
        &self,
        period: Period,
        actor: &str,
        ctx: &RequestCtx,
    ) -> Result<PeriodReport, DomainError> {
        let mut report = PeriodReport {
            period: period.key(),
            ..PeriodReport::default()
        };
        for t in self.store.list_tenants().await? {
            let tenant = TenantId(t.id);
            if tenant.is_platform() {
                continue;
            }
            match self.finalize_catching_up(tenant, period, actor, ctx).await {
                Ok(mut done) => {
                    // Earlier periods caught up count only for what they wrote.
                    match done.pop() {
                        Some(Finalized::Already(_)) => report.already += 1,
                        Some(Finalized::NotBilled) => report.not_billed += 1,
                        Some(invoiced @ Finalized::Invoiced(_)) => done.push(invoiced),
                        None => {}
                    }
                    report
                        .finalized
                        .extend(done.into_iter().filter_map(|f| match f {
                            Finalized::Invoiced(inv) => Some(inv),
                            Finalized::Already(_) | Finalized::NotBilled => None,
                        }));
                }
                // Not yet due is the same for every tenant: say so once.
                Err(e) if e.code() == Code::PeriodOpen => return Err(e),
                Err(e) => report.failed.push((tenant, e)),
            }
        }
        Ok(report)
    }

    fn view(&self, invoice: Invoice, lines: Vec<InvoiceLine>) -> Result<InvoiceView, DomainError> {
        let price = stored(&invoice.price)?;
        let snapshot = serde_json::from_str(&invoice.snapshot).map_err(DomainError::internal)?;
        Ok(InvoiceView {
            invoice,
            lines,
            price,
            snapshot,
        })
    }

    /// `tenant`'s finalized invoices, newest first.
    pub async fn invoices(&self, tenant: TenantId) -> Result<Vec<Invoice>, DomainError> {
        self.store.tenant(tenant).await?;
        self.store.invoices(tenant).await
    }

    /// One of `tenant`'s invoices (another tenant's is not found).
    pub async fn invoice(
        &self,
        tenant: TenantId,
        id: uuid::Uuid,
    ) -> Result<InvoiceView, DomainError> {
        let inv = self.store.tenant_invoice(tenant, id).await?;
        let lines = self.store.invoice_lines(inv.id).await?;
        self.view(inv, lines)
    }

    /// Any tenant's invoice (operators).
    pub async fn invoice_any(&self, id: uuid::Uuid) -> Result<InvoiceView, DomainError> {
        let inv = self.store.invoice_by_id(self.store.conn(), id).await?;
        let lines = self.store.invoice_lines(inv.id).await?;
        self.view(inv, lines)
    }

    /// Every tenant's invoices of `period` (operators).
    pub async fn invoices_of_period(&self, period: Period) -> Result<Vec<Invoice>, DomainError> {
        self.store.invoices_of_period(&period.key()).await
    }

    /// Records that an invoice was paid (by Stripe, or offline as an operator says, with
    /// `source` saying how: 1 to 200 characters, no control characters); a tenant suspended
    /// with nothing else overdue is reinstated in the same transaction (also when the invoice
    /// was paid before: a payment that met a suspension being written is not lost). Paying a
    /// paid invoice changes nothing else.
    pub async fn mark_paid(
        &self,
        id: uuid::Uuid,
        actor: &str,
        source: &str,
        ctx: &RequestCtx,
    ) -> Result<Invoice, DomainError> {
        let source = source.trim();
        if source.is_empty() || source.chars().count() > 200 || source.chars().any(char::is_control)
        {
            return Err(DomainError::invalid(
                Code::BadRequest,
                "`source` is 1 to 200 characters without control characters",
            ));
        }
        self.pay(id, actor, source, None, ctx).await?;
        self.store.invoice_by_id(self.store.conn(), id).await
    }

    /// Marks `id` paid and reinstates its tenant when nothing else is overdue, in one audited
    /// transaction that also records `event` (an inbound Stripe event id), so an event is
    /// acted on once. `false` when nothing changed (paid before and not suspended, or the
    /// event was processed before).
    async fn pay(
        &self,
        id: uuid::Uuid,
        actor: &str,
        source: &str,
        event: Option<(&str, &str)>,
        ctx: &RequestCtx,
    ) -> Result<bool, DomainError> {
        let inv = self.store.invoice_by_id(self.store.conn(), id).await?;
        let tenant = TenantId(inv.tenant_id);
        let now = self.clock.now();
        let done = self
            .store
            .audited(Some(tenant), |txn| {
                let (store, ctx, actor) = (self.store.clone(), ctx.clone(), actor.to_owned());
                let source = source.to_owned();
                let event = event.map(|(i, k)| (i.to_owned(), k.to_owned()));
                Box::pin(async move {
                    if let Some((event_id, kind)) = &event {
                        if !store
                            .record_stripe_event(txn, event_id, kind, "paid", now)
                            .await?
                        {
                            return Ok(None);
                        }
                    }
                    let paid_now = store.mark_invoice_paid(txn, id, now).await?;
                    // Paid outside Stripe, for an invoice meant for Stripe (whatever this
                    // process's own configuration): Stripe must not collect it too.
                    let for_stripe = store
                        .has_message(txn, STRIPE_INVOICE_TOPIC, &id.to_string())
                        .await?;
                    if paid_now && event.is_none() && for_stripe {
                        let payload = serde_json::json!({ "invoice_id": id, "tenant_id": tenant });
                        store
                            .enqueue(
                                txn,
                                STRIPE_PAID_TOPIC,
                                &id.to_string(),
                                tenant,
                                &payload,
                                now,
                            )
                            .await?;
                    }
                    let (overdue, suspended) = payment_state(&store, txn, tenant, now).await?;
                    let reinstated = suspended && overdue.is_empty();
                    if reinstated {
                        store.set_suspended(txn, tenant, None, now).await?;
                    }
                    let event = match (paid_now, reinstated, event.is_some()) {
                        (true, _, _) => NewAuditEvent::new(&actor, "invoice.paid", &ctx, now)
                            .target(Some(format!("invoice:{id}")))
                            .detail(
                                serde_json::json!({ "source": source, "reinstated": reinstated }),
                            ),
                        (false, true, _) => {
                            NewAuditEvent::new(&actor, "account.reinstated", &ctx, now)
                                .target(Some(format!("invoice:{id}")))
                        }
                        // A processed event that changed nothing is still recorded.
                        (false, false, true) => {
                            NewAuditEvent::new(&actor, "stripe.event", &ctx, now)
                                .target(Some(format!("invoice:{id}")))
                                .detail(serde_json::json!({ "source": source, "changed": false }))
                        }
                        (false, false, false) => return Ok(None),
                    };
                    Ok(Some(((), event.tenant(Some(tenant)))))
                })
            })
            .await?;
        Ok(done.is_some())
    }

    /// Acts on a verified inbound Stripe event, once per event id: a paid invoice is marked
    /// paid (reinstating its tenant), a failed payment is audited, anything else recorded
    /// and ignored. The invoice is the one the event's metadata names, and only when Stripe's
    /// invoice id is the one the relay recorded for it (or none was recorded yet).
    pub async fn stripe_event(
        &self,
        e: &StripeEvent,
        ctx: &RequestCtx,
    ) -> Result<EventOutcome, DomainError> {
        let now = self.clock.now();
        let target = self.event_invoice(e).await?;
        let paid_in_full = |inv: &Invoice| {
            e.status.as_deref() == Some("paid")
                && e.amount_paid.as_ref().is_some_and(|(amount, currency)| {
                    *amount == inv.total && currency.eq_ignore_ascii_case(&inv.currency)
                })
        };
        let source = format!("stripe:{}", e.id);
        match (e.kind.as_str(), target) {
            ("invoice.paid" | "invoice.payment_succeeded", Some(inv)) if paid_in_full(&inv) => {
                let changed = self
                    .pay(inv.id, "stripe", &source, Some((&e.id, &e.kind)), ctx)
                    .await?;
                Ok(if changed {
                    EventOutcome::Applied
                } else {
                    EventOutcome::Duplicate
                })
            }
            ("invoice.payment_failed", Some(inv)) => {
                let tenant = TenantId(inv.tenant_id);
                let done = self
                    .store
                    .audited(Some(tenant), |txn| {
                        let (store, ctx, eid, kind) = (
                            self.store.clone(),
                            ctx.clone(),
                            e.id.clone(),
                            e.kind.clone(),
                        );
                        let id = inv.id;
                        Box::pin(async move {
                            if !store
                                .record_stripe_event(txn, &eid, &kind, "payment_failed", now)
                                .await?
                            {
                                return Ok(None);
                            }
                            let event =
                                NewAuditEvent::new("stripe", "invoice.payment_failed", &ctx, now)
                                    .tenant(Some(tenant))
                                    .target(Some(format!("invoice:{id}")))
                                    .detail(serde_json::json!({ "event": eid }));
                            Ok(Some(((), event)))
                        })
                    })
                    .await?;
                Ok(if done.is_some() {
                    EventOutcome::Applied
                } else {
                    EventOutcome::Duplicate
                })
            }
            _ => {
                use sea_orm::TransactionTrait;
                let txn = self
                    .store
                    .conn()
                    .begin()
                    .await
                    .map_err(tollgate_store::map_db_err)?;
                let fresh = self
                    .store
                    .record_stripe_event(&txn, &e.id, &e.kind, "ignored", now)
                    .await?;
                txn.commit().await.map_err(tollgate_store::map_db_err)?;
                Ok(if fresh {
                    EventOutcome::Ignored
                } else {
                    EventOutcome::Duplicate
                })
            }
        }
    }

    /// The invoice an event is about: the one its metadata names, when the event's customer
    /// is that tenant's Stripe customer and Stripe's invoice is the one the relay recorded for
    /// it (or none is recorded yet).
    async fn event_invoice(&self, e: &StripeEvent) -> Result<Option<Invoice>, DomainError> {
        let (Some(id), Some(stripe_id)) = (e.tollgate_invoice, e.stripe_invoice.as_deref()) else {
            return Ok(None);
        };
        let inv = match self.store.invoice_by_id(self.store.conn(), id).await {
            Ok(inv) => inv,
            Err(DomainError::NotFound(_)) => return Ok(None),
            Err(err) => return Err(err),
        };
        let customer = self.store.stripe_customer(TenantId(inv.tenant_id)).await?;
        let same_customer = customer.is_some() && customer == e.customer;
        let same_invoice = inv
            .stripe_invoice_id
            .as_deref()
            .is_none_or(|recorded| recorded == stripe_id);
        let matches = same_customer && same_invoice;
        Ok(matches.then_some(inv))
    }

    /// Suspends tenants with an invoice open past its due date (when the policy says so)
    /// and reinstates suspended tenants with none; returns the tenants suspended and
    /// reinstated now. Each change re-reads the tenant's invoices in its own transaction (a
    /// payment recorded meanwhile wins), and a tenant that fails is logged and retried next
    /// round without holding up the others.
    pub async fn enforce_payment(&self) -> Result<(Vec<TenantId>, Vec<TenantId>), DomainError> {
        let now = self.clock.now();
        let mut candidates: Vec<uuid::Uuid> = Vec::new();
        if self.policy.suspend_unpaid {
            candidates.extend(
                self.store
                    .overdue_invoices(now)
                    .await?
                    .iter()
                    .map(|i| i.tenant_id),
            );
        }
        candidates.extend(self.store.suspended_tenants().await?);
        candidates.sort();
        candidates.dedup();
        let (mut newly, mut back) = (Vec::new(), Vec::new());
        for tenant in candidates.into_iter().map(TenantId) {
            match self.enforce_one(tenant, now).await {
                Ok(Some(true)) => newly.push(tenant),
                Ok(Some(false)) => back.push(tenant),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(%tenant, error = %e, "suspension not updated; retrying next round")
                }
            }
        }
        Ok((newly, back))
    }

    /// Suspends (`Some(true)`) or reinstates (`Some(false)`) one tenant as its invoices say
    /// now, inside the transaction that records it.
    async fn enforce_one(
        &self,
        tenant: TenantId,
        now: DateTime<Utc>,
    ) -> Result<Option<bool>, DomainError> {
        let suspend_unpaid = self.policy.suspend_unpaid;
        let done = self
            .store
            .audited(Some(tenant), |txn| {
                let store = self.store.clone();
                Box::pin(async move {
                    let (overdue, suspended) = payment_state(&store, txn, tenant, now).await?;
                    let owes = suspend_unpaid && !overdue.is_empty();
                    let ctx = RequestCtx::default();
                    let event = match (owes, suspended) {
                        (true, false) => {
                            store.set_suspended(txn, tenant, Some(now), now).await?;
                            NewAuditEvent::new("system", "account.suspended", &ctx, now)
                                .detail(serde_json::json!({ "overdue_invoices": overdue }))
                        }
                        (false, true) => {
                            store.set_suspended(txn, tenant, None, now).await?;
                            NewAuditEvent::new("system", "account.reinstated", &ctx, now)
                        }
                        _ => return Ok(None),
                    };
                    Ok(Some((owes, event.tenant(Some(tenant)))))
                })
            })
            .await?;
        Ok(done.map(|(suspended, _)| suspended))
    }

    /// The job's one round (see the server): finalizes the period before the current one
    /// when it has ended plus the grace and is not `done` (what an earlier round finalized),
    /// then enforces payment.
    pub async fn run_due(&self, done: Option<&str>) -> Result<JobRun, DomainError> {
        let now = self.clock.now();
        let prev = Period::of(now).prev();
        let mut run = JobRun::default();
        if now >= prev.end() + self.policy.grace && done != Some(prev.key().as_str()) {
            let report = self
                .finalize_period(prev, "system", &RequestCtx::default())
                .await?;
            if !report.finalized.is_empty() {
                tracing::info!(period = %report.period, invoices = report.finalized.len(), "invoices finalized");
            }
            for (tenant, e) in &report.failed {
                tracing::warn!(%tenant, period = %report.period, error = %e, "an invoice could not be finalized; retrying next round");
            }
            if report.failed.is_empty() {
                run.finalized_period = Some(report.period);
            }
        }
        let (suspended, reinstated) = self.enforce_payment().await?;
        run.suspension_changed = suspended.into_iter().chain(reinstated).collect();
        Ok(run)
    }

    /// Whether `tenant` is suspended now.
    pub async fn suspended(&self, tenant: TenantId) -> Result<bool, DomainError> {
        Ok(self
            .store
            .billing_settings(tenant)
            .await?
            .is_some_and(|s| s.suspended_at.is_some()))
    }
}

/// A tenant's open invoices past their due date, and whether it is suspended, read in `txn`.
async fn payment_state(
    store: &tollgate_store::Store,
    txn: &sea_orm::DatabaseTransaction,
    tenant: TenantId,
    now: DateTime<Utc>,
) -> Result<(Vec<uuid::Uuid>, bool), DomainError> {
    let overdue = store
        .invoices_in(txn, tenant)
        .await?
        .into_iter()
        .filter(|i| i.status == status::OPEN && i.due_at < now)
        .map(|i| i.id)
        .collect();
    let suspended = store
        .billing_settings_in(txn, tenant)
        .await?
        .is_some_and(|s| s.suspended_at.is_some());
    Ok((overdue, suspended))
}

fn entry(
    tenant: TenantId,
    g: &tollgate_store::billing::Grant,
    kind: &'static str,
    reference: String,
    amount: i64,
    invoice: Option<uuid::Uuid>,
    at: DateTime<Utc>,
) -> NewEntry {
    NewEntry {
        tenant,
        grant_id: g.entry.grant_id,
        kind,
        reference,
        amount,
        currency: g.entry.currency.clone(),
        expires_at: None,
        invoice_id: invoice,
        memo: None,
        actor: "system".into(),
        at,
    }
}

/// An invoice as CSV: one row per line (RFC 4180 quoting); the amounts sum to the total.
pub fn csv(view: &InvoiceView) -> String {
    let q = tollgate_core::csv::cell;
    let inv = &view.invoice;
    let mut out = String::from(
        "invoice_id,number,period,position,kind,tier,quantity,amount,currency,description\r\n",
    );
    for l in &view.lines {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{}\r\n",
            inv.id,
            inv.number,
            inv.period,
            l.position,
            l.kind,
            l.tier.map(|t| t.to_string()).unwrap_or_default(),
            l.quantity,
            l.amount,
            inv.currency,
            q(&l.description)
        ));
    }
    out
}
