//! The tenant-facing service: endpoints (create with a secret shown once, list, change, pause,
//! rotate the secret with an overlap, delete), the delivery log and replays. Every change is
//! audited in the transaction that makes it; every read and change names the tenant.

use crate::guard;
use crate::signing::Secret;
use crate::WebhookSettings;
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use tollgate_core::webhook::{EventType, SecretBox};
use tollgate_core::{Clock, Code, DomainError, RequestCtx, TenantId};
use tollgate_store::audit::NewAuditEvent;
use tollgate_store::webhooks::{endpoint_status, Attempt, Delivery, Endpoint, EndpointChanges};
use tollgate_store::Store;

/// Longest description.
const MAX_DESCRIPTION: usize = 500;
/// Longest overlap of a secret rotation.
pub const MAX_OVERLAP: Duration = Duration::days(7);
/// Per-attempt timeout bounds, seconds.
pub const TIMEOUT_SECS: std::ops::RangeInclusive<u32> = 1..=30;
/// Default per-attempt timeout, seconds.
pub const DEFAULT_TIMEOUT_SECS: u32 = 10;

/// An endpoint as its tenant sees it (never its secret).
#[derive(Debug, Clone)]
pub struct EndpointView {
    /// The endpoint.
    pub row: Endpoint,
    /// Its subscription.
    pub event_types: Vec<EventType>,
    /// Until when the previous secret still signs, during a rotation's overlap.
    pub previous_secret_until: Option<DateTime<Utc>>,
}

impl EndpointView {
    fn of(row: Endpoint, now: DateTime<Utc>) -> Self {
        let event_types = row
            .event_types
            .split(' ')
            .filter_map(EventType::parse)
            .collect();
        let previous_secret_until = row.prev_secret_expires_at.filter(|t| *t > now);
        Self {
            row,
            event_types,
            previous_secret_until,
        }
    }
}

/// An endpoint to register.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    /// Where to deliver.
    pub url: String,
    /// What it is for.
    pub description: Option<String>,
    /// Wire names of the event types it receives.
    pub event_types: Vec<String>,
    /// Per-attempt timeout, seconds.
    pub timeout_secs: Option<u32>,
}

/// Changes to an endpoint.
#[derive(Debug, Clone, Default)]
pub struct EndpointUpdate {
    /// New URL.
    pub url: Option<String>,
    /// New description (`Some(None)` clears it).
    pub description: Option<Option<String>>,
    /// New subscription.
    pub event_types: Option<Vec<String>>,
    /// Pause (`true`) or resume (`false`).
    pub paused: Option<bool>,
    /// New per-attempt timeout, seconds.
    pub timeout_secs: Option<u32>,
}

/// A delivery with its attempts.
#[derive(Debug, Clone)]
pub struct DeliveryView {
    /// The delivery.
    pub delivery: Delivery,
    /// Its attempts, oldest first.
    pub attempts: Vec<Attempt>,
}

/// Tenant webhooks.
#[derive(Clone)]
pub struct Webhooks {
    store: Store,
    sealer: Arc<dyn SecretBox>,
    clock: Arc<dyn Clock>,
    settings: Arc<WebhookSettings>,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhooks")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn check_description(d: Option<String>) -> Result<Option<String>, DomainError> {
    match d {
        Some(d) if d.chars().count() > MAX_DESCRIPTION || d.chars().any(char::is_control) => {
            Err(DomainError::invalid(
                Code::InvalidName,
                format!("a description has at most {MAX_DESCRIPTION} characters, none a control character"),
            ))
        }
        d => Ok(d.filter(|d| !d.is_empty())),
    }
}

fn check_timeout(t: u32) -> Result<i32, DomainError> {
    if TIMEOUT_SECS.contains(&t) {
        Ok(t as i32)
    } else {
        Err(DomainError::invalid(
            Code::InvalidTimeout,
            format!(
                "timeout_seconds must be {} to {}",
                TIMEOUT_SECS.start(),
                TIMEOUT_SECS.end()
            ),
        ))
    }
}

/// A URL as the audit log records it: scheme, host and port only (services put tokens in
/// the path or the query).
fn shown(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{}://{h}:{p}", u.scheme()),
            (Some(h), None) => format!("{}://{h}", u.scheme()),
            _ => String::new(),
        },
        Err(_) => String::new(),
    }
}

/// The associated data a secret is sealed with: its purpose and its endpoint, so it cannot
/// be swapped between endpoints or with the master key's other ciphertexts (signing keys).
fn aad(id: uuid::Uuid) -> String {
    format!("webhook-secret:{id}")
}

fn types_wire(types: &[EventType]) -> String {
    types
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

impl Webhooks {
    /// The service over `store`; `sealer` encrypts endpoint secrets at rest.
    pub fn new(
        store: Store,
        sealer: Arc<dyn SecretBox>,
        clock: Arc<dyn Clock>,
        settings: WebhookSettings,
    ) -> Self {
        Self {
            store,
            sealer,
            clock,
            settings: Arc::new(settings),
        }
    }

    /// The settings it runs with.
    pub fn settings(&self) -> &WebhookSettings {
        &self.settings
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The secrets an endpoint signs with now: its own, and the previous one during an
    /// overlap.
    pub(crate) fn secrets_of(&self, e: &Endpoint) -> Result<Vec<Secret>, DomainError> {
        let aad = aad(e.id);
        let mut out = vec![Secret::from_bytes(
            self.sealer.open(&aad, &e.secret_sealed)?,
        )];
        if let (Some(prev), Some(until)) = (&e.prev_secret_sealed, e.prev_secret_expires_at) {
            if until > self.clock.now() {
                out.push(Secret::from_bytes(self.sealer.open(&aad, prev)?));
            }
        }
        Ok(out)
    }

    /// Checks a URL's form and that its host resolves to public addresses only.
    async fn check_url(&self, raw: &str) -> Result<String, DomainError> {
        let url = guard::check_url(raw, self.settings.allow_private)?;
        guard::resolve(&url, self.settings.allow_private).await?;
        Ok(url.to_string())
    }

    /// Registers an endpoint; its secret (`whsec_…`) is in this answer only.
    pub async fn create_endpoint(
        &self,
        tenant: TenantId,
        new: NewEndpoint,
        actor: &str,
        ctx: &RequestCtx,
    ) -> Result<(EndpointView, String), DomainError> {
        let types = EventType::parse_list(new.event_types.iter().map(String::as_str))?;
        let description = check_description(new.description)?;
        let timeout = check_timeout(new.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS))?;
        let url = self.check_url(&new.url).await?;
        let secret = Secret::generate()?;
        let now = self.clock.now();
        let id = uuid::Uuid::now_v7();
        let row = Endpoint {
            id,
            tenant_id: tenant.0,
            url: url.clone(),
            description,
            event_types: types_wire(&types),
            status: endpoint_status::ACTIVE.to_owned(),
            timeout_secs: timeout,
            secret_sealed: self.sealer.seal(&aad(id), secret.bytes())?,
            prev_secret_sealed: None,
            prev_secret_expires_at: None,
            consecutive_failures: 0,
            created_at: now,
            updated_at: now,
        };
        let event = NewAuditEvent::new(actor, "webhook.endpoint_created", ctx, now)
            .tenant(Some(tenant))
            .target(Some(format!("webhook_endpoint:{id}")))
            .detail(serde_json::json!({ "url": shown(&url), "event_types": row.event_types }));
        let max = self.settings.max_endpoints;
        let done = self
            .store
            .audited(Some(tenant), |txn| {
                let (store, row, event) = (self.store.clone(), row.clone(), event.clone());
                Box::pin(async move {
                    if store.count_endpoints(txn, tenant).await? >= max {
                        return Err(DomainError::conflict(
                            Code::EndpointLimit,
                            format!("a tenant has at most {max} webhook endpoints"),
                        ));
                    }
                    Ok(Some((store.insert_endpoint(txn, row).await?, event)))
                })
            })
            .await?
            .ok_or_else(|| DomainError::internal("creating an endpoint did nothing"))?;
        Ok((EndpointView::of(done.0, now), secret.to_wire()))
    }

    /// The tenant's endpoints.
    pub async fn endpoints(&self, tenant: TenantId) -> Result<Vec<EndpointView>, DomainError> {
        let now = self.clock.now();
        Ok(self
            .store
            .endpoints(tenant)
            .await?
            .into_iter()
            .map(|e| EndpointView::of(e, now))
            .collect())
    }

    /// One endpoint of the tenant.
    pub async fn endpoint(
        &self,
        tenant: TenantId,
        id: uuid::Uuid,
    ) -> Result<EndpointView, DomainError> {
        let e = self.store.endpoint(self.store.conn(), tenant, id).await?;
        Ok(EndpointView::of(e, self.clock.now()))
    }

    /// Changes an endpoint: URL (checked again), description, subscription, timeout, paused.
    /// Resuming a paused endpoint delivers what waited meanwhile.
    pub async fn update_endpoint(
        &self,
        tenant: TenantId,
        id: uuid::Uuid,
        update: EndpointUpdate,
        actor: &str,
        ctx: &RequestCtx,
    ) -> Result<EndpointView, DomainError> {
        let mut changes = EndpointChanges::default();
        let mut what = serde_json::Map::new();
        if let Some(url) = &update.url {
            let url = self.check_url(url).await?;
            what.insert("url".into(), shown(&url).into());
            changes.url = Some(url);
        }
        if let Some(d) = update.description {
            changes.description = Some(check_description(d)?);
            what.insert("description".into(), true.into());
        }
        if let Some(types) = &update.event_types {
            let types = EventType::parse_list(types.iter().map(String::as_str))?;
            what.insert("event_types".into(), types_wire(&types).into());
            changes.event_types = Some(types_wire(&types));
        }
        if let Some(t) = update.timeout_secs {
            changes.timeout_secs = Some(check_timeout(t)?);
            what.insert("timeout_seconds".into(), t.into());
        }
        let action = match update.paused {
            Some(true) => {
                changes.status = Some(endpoint_status::PAUSED);
                "webhook.endpoint_paused"
            }
            Some(false) => {
                changes.status = Some(endpoint_status::ACTIVE);
                "webhook.endpoint_resumed"
            }
            None => "webhook.endpoint_updated",
        };
        let now = self.clock.now();
        let event = NewAuditEvent::new(actor, action, ctx, now)
            .tenant(Some(tenant))
            .target(Some(format!("webhook_endpoint:{id}")))
            .detail(serde_json::Value::Object(what));
        self.store
            .audited(Some(tenant), |txn| {
                let (store, changes, event) = (self.store.clone(), changes.clone(), event.clone());
                Box::pin(async move {
                    store.update_endpoint(txn, tenant, id, changes, now).await?;
                    Ok(Some(((), event)))
                })
            })
            .await?;
        self.endpoint(tenant, id).await
    }

    /// A new secret (in this answer only); the previous one keeps signing, beside the new
    /// one, for `overlap` (0 to 7 days), so receivers can switch without missing a delivery.
    pub async fn rotate_secret(
        &self,
        tenant: TenantId,
        id: uuid::Uuid,
        overlap: Duration,
        actor: &str,
        ctx: &RequestCtx,
    ) -> Result<(EndpointView, String), DomainError> {
        if overlap < Duration::zero() || overlap > MAX_OVERLAP {
            return Err(DomainError::invalid(
                Code::InvalidOverlap,
                format!(
                    "overlap must be between 0 and {} seconds",
                    MAX_OVERLAP.num_seconds()
                ),
            ));
        }
        let secret = Secret::generate()?;
        let sealed = self.sealer.seal(&aad(id), secret.bytes())?;
        let now = self.clock.now();
        let event = NewAuditEvent::new(actor, "webhook.secret_rotated", ctx, now)
            .tenant(Some(tenant))
            .target(Some(format!("webhook_endpoint:{id}")))
            .detail(serde_json::json!({ "overlap_seconds": overlap.num_seconds() }));
        self.store
            .audited(Some(tenant), |txn| {
                let (store, event, sealed) = (self.store.clone(), event.clone(), sealed.clone());
                Box::pin(async move {
                    let current = store.endpoint(txn, tenant, id).await?;
                    let prev = if overlap > Duration::zero() {
                        (Some(current.secret_sealed), Some(now + overlap))
                    } else {
                        (None, None)
                    };
                    let changes = EndpointChanges {
                        secret: Some((sealed, prev.0, prev.1)),
                        ..EndpointChanges::default()
                    };
                    store.update_endpoint(txn, tenant, id, changes, now).await?;
                    Ok(Some(((), event)))
                })
            })
            .await?;
        Ok((self.endpoint(tenant, id).await?, secret.to_wire()))
    }

    /// Deletes an endpoint, its pending deliveries and its log.
    pub async fn delete_endpoint(
        &self,
        tenant: TenantId,
        id: uuid::Uuid,
        actor: &str,
        ctx: &RequestCtx,
    ) -> Result<(), DomainError> {
        let event = NewAuditEvent::new(actor, "webhook.endpoint_deleted", ctx, self.clock.now())
            .tenant(Some(tenant))
            .target(Some(format!("webhook_endpoint:{id}")));
        self.store
            .audited(Some(tenant), |txn| {
                let (store, event) = (self.store.clone(), event.clone());
                Box::pin(async move {
                    store.delete_endpoint(txn, tenant, id).await?;
                    Ok(Some(((), event)))
                })
            })
            .await?;
        Ok(())
    }

    /// The endpoint's deliveries, newest first, with their attempts.
    pub async fn deliveries(
        &self,
        tenant: TenantId,
        endpoint: uuid::Uuid,
        cursor: Option<uuid::Uuid>,
        limit: u64,
    ) -> Result<Vec<DeliveryView>, DomainError> {
        self.store
            .endpoint(self.store.conn(), tenant, endpoint)
            .await?;
        let deliveries = self
            .store
            .deliveries(tenant, endpoint, cursor, limit)
            .await?;
        let ids: Vec<uuid::Uuid> = deliveries.iter().map(|d| d.id).collect();
        let mut attempts = self.store.attempts(tenant, &ids).await?;
        Ok(deliveries
            .into_iter()
            .map(|delivery| {
                let (mine, rest): (Vec<_>, Vec<_>) = attempts
                    .drain(..)
                    .partition(|a| a.delivery_id == delivery.id);
                attempts = rest;
                DeliveryView {
                    delivery,
                    attempts: mine,
                }
            })
            .collect())
    }

    /// Sends a delivery again now, with the same `webhook-id` and body (the receiver
    /// deduplicates by id); `false` when an attempt is already queued.
    pub async fn replay(
        &self,
        tenant: TenantId,
        delivery: uuid::Uuid,
        actor: &str,
        ctx: &RequestCtx,
    ) -> Result<bool, DomainError> {
        let d = self.store.delivery(tenant, delivery).await?;
        let now = self.clock.now();
        let event = NewAuditEvent::new(actor, "webhook.delivery_replayed", ctx, now)
            .tenant(Some(tenant))
            .target(Some(format!("webhook_delivery:{delivery}")))
            .detail(serde_json::json!({ "message_id": d.message_id }));
        let done = self
            .store
            .audited(Some(tenant), |txn| {
                let (store, event) = (self.store.clone(), event.clone());
                Box::pin(async move {
                    Ok(store
                        .replay_delivery(txn, tenant, delivery, now)
                        .await?
                        .then_some(((), event)))
                })
            })
            .await?;
        Ok(done.is_some())
    }
}
