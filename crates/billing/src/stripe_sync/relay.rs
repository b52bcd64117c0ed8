//! The outbox relay: pushes each finalized invoice to Stripe as a draft invoice with one
//! invoice item per non-zero line, then finalizes it there, and records Stripe's ids.
//!
//! Every call that creates something carries an `Idempotency-Key` derived from (tenant,
//! invoice, line), and — because a stand-in such as localstripe ignores that header, and
//! Stripe forgets keys after 24 hours — the relay is safe on its own: before creating an
//! object it looks for one carrying the metadata it attaches (`tollgate_tenant_id`,
//! `tollgate_invoice_id`, `tollgate_line_id`), so a push interrupted at any point and run again
//! creates nothing twice. Before finalizing, the Stripe draft's total is checked against
//! Tollgate's; a difference stops the push (the message is given up for an operator) rather
//! than charge a wrong amount. Tollgate stays the system of record: Stripe's answers are
//! parsed as plain JSON for the few fields used (ids, metadata, totals, status).

use super::{StripeSync, SyncError};
use chrono::Utc;
use serde_json::Value;
use std::collections::HashMap;
use stripe_billing::invoice::{
    CreateInvoice, CreateInvoicePendingInvoiceItemsBehavior, DeleteInvoice, FinalizeInvoiceInvoice,
    ListInvoice, PayInvoice,
};
use stripe_billing::invoice_item::CreateInvoiceItem;
use stripe_core::customer::{CreateCustomer, ListCustomer};
use stripe_shared::InvoiceCollectionMethod;
use tollgate_core::{DomainError, TenantId};
use tollgate_store::invoices::{Invoice, InvoiceLine};
use tollgate_store::outbox::OutboxMessage;

/// The outbox topic: finalizing writes it.
pub const TOPIC: &str = crate::STRIPE_INVOICE_TOPIC;

/// Attempts before a message is given up (an operator looks; `billing reconcile` reports it).
const MAX_ATTEMPTS: i32 = 12;

/// How long a claimed message is left to its relay before another may take it: longer than
/// the longest push (about ten calls of at most 20 s each).
const LEASE: chrono::Duration = chrono::Duration::minutes(10);

/// A round claims no new message after this long (what it claimed stays well inside its
/// lease).
const ROUND_BUDGET: std::time::Duration = std::time::Duration::from_secs(60);

/// What one invoice's push produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// The Stripe customer.
    pub customer: String,
    /// The Stripe invoice.
    pub invoice: String,
    /// Stripe's total, equal to Tollgate's.
    pub total: i64,
    /// The invoice items, by Tollgate line id.
    pub items: Vec<(String, String)>,
    /// Why nothing was pushed (the invoice was paid before it could be), if so.
    pub skipped: Option<String>,
}

impl Pushed {
    fn nothing(customer: String, why: &str) -> Self {
        Self {
            customer,
            invoice: String::new(),
            total: 0,
            items: Vec::new(),
            skipped: Some(why.to_owned()),
        }
    }
}

/// What a relay round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelayRound {
    /// Invoices pushed and recorded.
    pub pushed: usize,
    /// Attempts that failed and will be retried.
    pub retried: usize,
    /// Messages given up.
    pub given_up: usize,
}

fn meta(pairs: &[(&str, String)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn str_of<'a>(v: &'a Value, key: &str) -> Result<&'a str, SyncError> {
    v[key]
        .as_str()
        .ok_or_else(|| SyncError::Unexpected(format!("Stripe's answer has no `{key}`")))
}

impl StripeSync {
    /// One round: every due message, oldest first, one per tenant (a tenant's invoices are
    /// pushed in order), each claimed for [`LEASE`] so two relays never push the same one at
    /// once.
    pub async fn relay_once(&self) -> Result<RelayRound, DomainError> {
        let started = std::time::Instant::now();
        // Pushes first: a payment made outside Stripe is marked there after its push.
        let mut due = self.store.due_messages(TOPIC, self.clock.now(), 50).await?;
        due.extend(
            self.store
                .due_messages(crate::STRIPE_PAID_TOPIC, self.clock.now(), 50)
                .await?,
        );
        let mut round = RelayRound::default();
        let mut tenants = std::collections::HashSet::new();
        for m in due {
            if started.elapsed() > ROUND_BUDGET {
                break;
            }
            if !tenants.insert(m.tenant_id)
                || !self
                    .store
                    .claim_message(&m, self.clock.now() + LEASE)
                    .await?
            {
                continue;
            }
            // The claim moved `attempts` on by one: only this claim may settle the message.
            let claim = m.attempts + 1;
            match self.push_message(&m).await {
                Ok(pushed) => {
                    self.record(&m, claim, &pushed).await?;
                    round.pushed += 1;
                }
                Err(e) => {
                    let give_up = !e.retryable() || claim >= MAX_ATTEMPTS;
                    tracing::warn!(invoice = %m.key, attempts = claim, give_up, error = %e, "Stripe push failed");
                    let retry_at = (!give_up).then(|| self.clock.now() + backoff(claim));
                    self.store
                        .message_failed(m.id, claim, &e.to_string(), retry_at)
                        .await?;
                    if give_up {
                        round.given_up += 1;
                    } else {
                        round.retried += 1;
                    }
                }
            }
        }
        Ok(round)
    }

    /// Runs [`Self::relay_once`] every `every` until `cancel`.
    pub async fn run(
        self,
        every: std::time::Duration,
        cancel: tokio_util::sync::CancellationToken,
    ) {
        loop {
            if let Err(e) = self.relay_once().await {
                tracing::warn!(error = %e, "the Stripe relay round failed");
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }

    async fn record(
        &self,
        m: &OutboxMessage,
        claim: i32,
        pushed: &Pushed,
    ) -> Result<(), DomainError> {
        use sea_orm::TransactionTrait;
        let id = uuid::Uuid::parse_str(&m.key).map_err(DomainError::internal)?;
        let result = serde_json::json!({
            "customer": pushed.customer, "invoice": pushed.invoice, "total": pushed.total,
            "skipped": pushed.skipped,
            "items": pushed.items.iter().map(|(l, i)| serde_json::json!({ "line": l, "item": i })).collect::<Vec<_>>(),
        });
        let txn = self
            .store
            .conn()
            .begin()
            .await
            .map_err(tollgate_store::map_db_err)?;
        // Settled by this claim only (a relay whose lease ran out and was overtaken records
        // nothing: the one holding the message now finds what was pushed and records it).
        if !self
            .store
            .message_done(&txn, m.id, claim, &result, self.clock.now())
            .await?
        {
            return Ok(());
        }
        if !pushed.invoice.is_empty() && m.topic == TOPIC {
            self.store
                .set_invoice_stripe_id(&txn, id, &pushed.invoice)
                .await?;
        }
        txn.commit().await.map_err(tollgate_store::map_db_err)
    }

    async fn push_message(&self, m: &OutboxMessage) -> Result<Pushed, SyncError> {
        let id = uuid::Uuid::parse_str(&m.key).map_err(|_| {
            SyncError::Unexpected(format!("outbox key {} is not an invoice id", m.key))
        })?;
        if m.topic == crate::STRIPE_PAID_TOPIC {
            self.mark_paid_out_of_band(id).await
        } else {
            self.push_invoice(id).await
        }
    }

    /// Tells Stripe an invoice was paid outside it: an open Stripe invoice is marked paid out
    /// of band, a draft (a push interrupted before it finalized) deleted; nothing pushed,
    /// nothing to do.
    pub async fn mark_paid_out_of_band(&self, id: uuid::Uuid) -> Result<Pushed, SyncError> {
        let inv = self.store.invoice_by_id(self.store.conn(), id).await?;
        let Some(customer) = self.store.stripe_customer(TenantId(inv.tenant_id)).await? else {
            return Ok(Pushed::nothing(String::new(), "not pushed"));
        };
        let Some(found) = self.find_invoice(&customer, &inv).await? else {
            return Ok(Pushed::nothing(customer, "not pushed"));
        };
        let stripe_id = str_of(&found, "id")?.to_owned();
        match str_of(&found, "status")? {
            "open" => {
                let pay = PayInvoice::new(stripe_id.clone()).paid_out_of_band(true);
                let key = format!("tollgate-{}-{}-paid-out-of-band", inv.tenant_id, inv.id);
                self.call(pay.build(), Some(key)).await?;
            }
            "draft" => {
                self.call(DeleteInvoice::new(stripe_id.clone()).build(), None)
                    .await?;
            }
            _ => {}
        }
        Ok(Pushed {
            customer,
            invoice: stripe_id,
            total: found["total"].as_i64().unwrap_or(0),
            items: Vec::new(),
            skipped: None,
        })
    }

    /// Pushes one invoice (see the module documentation); safe to run again after an
    /// interruption at any point.
    pub async fn push_invoice(&self, id: uuid::Uuid) -> Result<Pushed, SyncError> {
        let inv = self.store.invoice_by_id(self.store.conn(), id).await?;
        let lines = self.store.invoice_lines(id).await?;
        let tenant = TenantId(inv.tenant_id);
        let customer = self.customer(tenant).await?;
        let found = self.find_invoice(&customer, &inv).await?;
        if inv.status != tollgate_store::invoices::status::OPEN {
            // Paid (outside Stripe) before the push completed: nothing to collect there. A
            // draft left by an interrupted push is deleted; an open one is the paid-out-of-band
            // message's to settle.
            if let Some(draft) = found.as_ref().filter(|f| f["status"] == "draft") {
                let sid = str_of(draft, "id")?.to_owned();
                self.call(DeleteInvoice::new(sid).build(), None).await?;
            }
            return Ok(Pushed::nothing(customer, &inv.status));
        }
        let (stripe_inv, created) = match found {
            Some(found) => (found, false),
            None => (self.create_invoice(&customer, &inv).await?, true),
        };
        let stripe_id = str_of(&stripe_inv, "id")?.to_owned();
        let mut status = str_of(&stripe_inv, "status")?.to_owned();
        let mut items = Vec::new();
        if status == "draft" {
            let present = if created {
                HashMap::new()
            } else {
                self.items_on(&stripe_id).await?
            };
            for line in lines.iter().filter(|l| l.amount != 0) {
                let line_id = line.id.to_string();
                let item = match present.get(&line_id) {
                    Some(item) => item.clone(),
                    None => self.create_item(&customer, &stripe_id, &inv, line).await?,
                };
                items.push((line_id, item));
            }
            let draft = self.retrieve_invoice(&stripe_id).await?;
            let total = draft["total"].as_i64().unwrap_or(i64::MIN);
            if total != inv.total {
                return Err(SyncError::Mismatch(format!(
                    "the Stripe draft {stripe_id} totals {total}, Tollgate's invoice {id} {}",
                    inv.total
                )));
            }
            let finalized = self.finalize(&stripe_id).await?;
            status = str_of(&finalized, "status")?.to_owned();
        } else {
            items = self.items_on(&stripe_id).await?.into_iter().collect();
            items.sort();
        }
        let now = self.retrieve_invoice(&stripe_id).await?;
        let total = now["total"].as_i64().unwrap_or(i64::MIN);
        // What Stripe will collect: a customer balance would change it.
        let due = now["amount_due"].as_i64().unwrap_or(i64::MIN);
        if total != inv.total || due != inv.total || !matches!(status.as_str(), "open" | "paid") {
            return Err(SyncError::Mismatch(format!(
                "the Stripe invoice {stripe_id} is {status} with total {total} and {due} due; \
                 Tollgate's {id} totals {}",
                inv.total
            )));
        }
        Ok(Pushed {
            customer,
            invoice: stripe_id,
            total,
            items,
            skipped: None,
        })
    }

    /// The tenant's Stripe customer: recorded, else found by its metadata, else created.
    pub async fn customer(&self, tenant: TenantId) -> Result<String, SyncError> {
        if let Some(c) = self.store.stripe_customer(tenant).await? {
            return Ok(c);
        }
        let wanted = tenant.to_string();
        let ours =
            |c: &Value| c["metadata"]["tollgate_tenant_id"].as_str() == Some(wanted.as_str());
        let customers = self
            .list_all(
                |after| {
                    let list = ListCustomer::new().limit(100);
                    match after {
                        Some(a) => list.starting_after(a).build(),
                        None => list.build(),
                    }
                },
                ours,
            )
            .await?;
        if let Some(c) = customers.iter().find(|c| ours(c)) {
            let id = str_of(c, "id")?;
            return Ok(self
                .store
                .record_stripe_customer(tenant, id, Utc::now())
                .await?);
        }
        let name = self.store.tenant(tenant).await?.name;
        let create = CreateCustomer::new()
            .name(name)
            .metadata(meta(&[("tollgate_tenant_id", wanted.clone())]));
        let created = self
            .call(create.build(), Some(format!("tollgate-customer-{wanted}")))
            .await?;
        let id = str_of(&created, "id")?;
        Ok(self
            .store
            .record_stripe_customer(tenant, id, Utc::now())
            .await?)
    }

    /// The Stripe invoice carrying `inv`'s id in its metadata (every page of the customer's
    /// invoices; a voided one only when there is no other).
    async fn find_invoice(
        &self,
        customer: &str,
        inv: &Invoice,
    ) -> Result<Option<Value>, SyncError> {
        let wanted = inv.id.to_string();
        let found: Vec<Value> = self
            .list_all(
                |after| {
                    let list = ListInvoice::new().customer(customer.to_owned()).limit(100);
                    match after {
                        Some(a) => list.starting_after(a).build(),
                        None => list.build(),
                    }
                },
                |_| false,
            )
            .await?
            .into_iter()
            .filter(|i| i["metadata"]["tollgate_invoice_id"].as_str() == Some(wanted.as_str()))
            .collect();
        let live: Vec<&Value> = found.iter().filter(|i| i["status"] != "void").collect();
        match live.as_slice() {
            [] => Ok(found.into_iter().next()),
            [one] => Ok(Some((*one).clone())),
            _ => Err(SyncError::Mismatch(format!(
                "Stripe holds {} live invoices for Tollgate's {wanted}",
                live.len()
            ))),
        }
    }

    async fn create_invoice(&self, customer: &str, inv: &Invoice) -> Result<Value, SyncError> {
        let currency = currency_of(inv)?;
        // Due when Tollgate's is (not counted from the push, which may come later).
        let create = CreateInvoice::new()
            .customer(customer.to_owned())
            .currency(currency)
            .collection_method(InvoiceCollectionMethod::SendInvoice)
            .due_date(
                inv.due_at
                    .timestamp()
                    .max(chrono::Utc::now().timestamp() + 60),
            )
            .auto_advance(false)
            .pending_invoice_items_behavior(CreateInvoicePendingInvoiceItemsBehavior::Exclude)
            .description(format!(
                "Tollgate invoice {} for {}",
                inv.number, inv.period
            ))
            .metadata(meta(&[
                ("tollgate_tenant_id", inv.tenant_id.to_string()),
                ("tollgate_invoice_id", inv.id.to_string()),
                ("tollgate_period", inv.period.clone()),
            ]));
        let key = format!("tollgate-{}-{}-invoice", inv.tenant_id, inv.id);
        self.call(create.build(), Some(key)).await
    }

    /// The invoice items on a Stripe invoice, by the Tollgate line id in their metadata.
    async fn items_on(&self, stripe_invoice: &str) -> Result<HashMap<String, String>, SyncError> {
        let req = stripe_client_core::RequestBuilder::new(
            stripe_client_core::StripeMethod::Get,
            format!("/invoices/{stripe_invoice}/lines"),
        )
        .query(&[("limit", "100")]);
        let page = self.call(req, None).await?;
        if page["has_more"].as_bool() == Some(true) {
            // Tollgate's invoices have a handful of lines; more than a page is not ours.
            return Err(SyncError::Mismatch(format!(
                "the Stripe invoice {stripe_invoice} has more than 100 lines"
            )));
        }
        Ok(page["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| {
                let line = l["metadata"]["tollgate_line_id"].as_str()?;
                let item = l["invoice_item"].as_str().or_else(|| l["id"].as_str())?;
                Some((line.to_owned(), item.to_owned()))
            })
            .collect())
    }

    async fn create_item(
        &self,
        customer: &str,
        stripe_invoice: &str,
        inv: &Invoice,
        line: &InvoiceLine,
    ) -> Result<String, SyncError> {
        let currency = currency_of(inv)?;
        let create = CreateInvoiceItem::new()
            .customer(customer.to_owned())
            .invoice(stripe_invoice.to_owned())
            .amount(line.amount)
            .currency(currency)
            .description(line.description.clone())
            .metadata(meta(&[
                ("tollgate_tenant_id", inv.tenant_id.to_string()),
                ("tollgate_invoice_id", inv.id.to_string()),
                ("tollgate_line_id", line.id.to_string()),
            ]));
        let key = format!("tollgate-{}-{}-{}", inv.tenant_id, inv.id, line.id);
        let item = self.call(create.build(), Some(key)).await?;
        Ok(str_of(&item, "id")?.to_owned())
    }

    /// Every object of a list endpoint, page after page (`page(None)` is the first request,
    /// `page(Some(id))` the one after the object `id`), stopping after the page that holds
    /// an object `enough` accepts.
    pub(crate) async fn list_all(
        &self,
        page: impl Fn(Option<String>) -> stripe_client_core::RequestBuilder,
        enough: impl Fn(&Value) -> bool,
    ) -> Result<Vec<Value>, SyncError> {
        let mut all = Vec::new();
        let mut after = None;
        loop {
            let answer = self.call(page(after.take()), None).await?;
            let data = answer["data"].as_array().cloned().unwrap_or_default();
            let more = answer["has_more"].as_bool() == Some(true) && !data.iter().any(&enough);
            let last = data
                .last()
                .map(|l| str_of(l, "id").map(str::to_owned))
                .transpose()?;
            all.extend(data);
            match (more, last) {
                (true, Some(id)) => after = Some(id),
                _ => return Ok(all),
            }
        }
    }

    async fn retrieve_invoice(&self, stripe_invoice: &str) -> Result<Value, SyncError> {
        let req = stripe_client_core::RequestBuilder::new(
            stripe_client_core::StripeMethod::Get,
            format!("/invoices/{stripe_invoice}"),
        );
        self.call(req, None).await
    }

    async fn finalize(&self, stripe_invoice: &str) -> Result<Value, SyncError> {
        let req = FinalizeInvoiceInvoice::new(stripe_invoice.to_owned()).auto_advance(false);
        self.call(
            req.build(),
            Some(format!("tollgate-finalize-{stripe_invoice}")),
        )
        .await
    }
}

/// Stripe's spelling of an invoice's currency.
fn currency_of(inv: &Invoice) -> Result<stripe_types::Currency, SyncError> {
    inv.currency
        .to_lowercase()
        .parse()
        .map_err(|_| SyncError::Unexpected(format!("Stripe has no currency {}", inv.currency)))
}

/// 30 s, doubling to at most 1 h, with up to 25 % jitter.
fn backoff(attempts: i32) -> chrono::Duration {
    let base = 30i64 << attempts.clamp(0, 7);
    let base = base.min(3600);
    let jitter = (uuid::Uuid::new_v4().as_u128() % 1000) as i64 * base / 4000;
    chrono::Duration::seconds(base + jitter)
}

use stripe::StripeRequest as _;
