//! The delivery worker. Each round (every `poll_every`) it (1) fans the outbox's new webhook events out into one
//! delivery per subscribed endpoint — the delivery rows and the message's settlement commit
//! together, and `(endpoint, message)` is unique, so an event is fanned out once however the
//! round ends; (2) attempts due deliveries as tasks (at most `concurrency` at once, at most
//! `per_tenant` of one tenant's), each claimed first (so two instances never send one attempt
//! twice), signed per Standard Webhooks, sent to the addresses the SSRF guard checked,
//! with no redirects, a per-endpoint timeout and a bounded read of the answer, then logged and
//! rescheduled with jittered backoff or given up; and (3) now and then announces keys that
//! expire within the notice. Everything it needs is in the database, so a restart between
//! attempts loses nothing.

use crate::guard;
use crate::signing::signature_header;
use crate::Webhooks;
use chrono::{DateTime, Utc};
use rand::Rng;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tollgate_core::{DomainError, RequestCtx, TenantId};
use tollgate_store::audit::NewAuditEvent;
use tollgate_store::webhook_events::{expiring_key, TOPIC};
use tollgate_store::webhooks::{delivery_status, Attempt, Delivery, Endpoint, Settle};

/// The start of an answer kept in the log.
const RESPONSE_KEPT: usize = 1024;
/// Events fanned out per round.
const FAN_OUT_BATCH: u64 = 100;
/// Due deliveries looked at per round.
const DUE_BATCH: u64 = 200;
/// How long attempts in flight may finish at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Longest a delivery's DNS lookup may take.
const RESOLVE_BUDGET: Duration = Duration::from_secs(5);

/// Takes one of `tenant`'s in-flight places; `false` when it holds `cap` already.
fn take(busy: &Mutex<HashMap<uuid::Uuid, usize>>, tenant: uuid::Uuid, cap: usize) -> bool {
    let Ok(mut busy) = busy.lock() else {
        return false;
    };
    let n = busy.entry(tenant).or_default();
    if *n >= cap.max(1) {
        return false;
    }
    *n += 1;
    true
}

fn release(busy: &Mutex<HashMap<uuid::Uuid, usize>>, tenant: uuid::Uuid) {
    if let Ok(mut busy) = busy.lock() {
        if let Some(n) = busy.get_mut(&tenant) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                busy.remove(&tenant);
            }
        }
    }
}

/// What one attempt came to, before it is logged.
struct Outcome {
    status: Option<u16>,
    error: Option<String>,
    response: Option<String>,
    latency: Duration,
}

impl Webhooks {
    /// Runs rounds until `cancel`, then gives the attempts in flight a few seconds. A round's failure is logged and the next round retries.
    /// Attempts run as tasks: at most `concurrency` at once, at most `per_tenant` of them one
    /// tenant's, so a tenant whose endpoints hang cannot hold up the others' deliveries.
    pub async fn run(self, cancel: CancellationToken) {
        let slots = Arc::new(Semaphore::new(self.settings().concurrency.max(1)));
        let busy: Arc<Mutex<HashMap<uuid::Uuid, usize>>> = Arc::default();
        let mut tasks = JoinSet::new();
        let mut last_scan: Option<Instant> = None;
        loop {
            if last_scan.is_none_or(|t| t.elapsed() >= self.settings().expiry_scan_every) {
                last_scan = Some(Instant::now());
                if let Err(e) = self.housekeeping().await {
                    tracing::warn!(error = %e, "webhooks: the key expiry scan or history purge failed");
                }
            }
            if let Err(e) = self.fan_out().await {
                tracing::warn!(error = %e, "webhooks: fanning events out failed; retrying");
            }
            match self
                .store()
                .due_deliveries(self.clock().now(), DUE_BATCH)
                .await
            {
                Ok(due) => {
                    for d in due {
                        let Ok(slot) = slots.clone().try_acquire_owned() else {
                            break;
                        };
                        if !take(&busy, d.tenant_id, self.settings().per_tenant) {
                            continue;
                        }
                        let (me, busy) = (self.clone(), busy.clone());
                        tasks.spawn(async move {
                            let tenant = d.tenant_id;
                            if let Err(e) = me.attempt(d).await {
                                tracing::warn!(error = %e, "webhooks: an attempt could not be recorded");
                            }
                            release(&busy, tenant);
                            drop(slot);
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "webhooks: reading due deliveries failed"),
            }
            while tasks.try_join_next().is_some() {}
            tokio::select! {
                () = cancel.cancelled() => break,
                () = tokio::time::sleep(self.settings().poll_every) => {}
            }
        }
        // Attempts in flight get a few seconds to finish; the rest are dropped, their claims
        // lapse and the next instance sends them again (same id: at least once).
        let drain = async { while tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
            tasks.abort_all();
        }
    }

    /// Announces keys about to expire and drops the delivery history past its keeping time.
    async fn housekeeping(&self) -> Result<(), DomainError> {
        self.announce_expiring_keys().await?;
        let before = self.clock().now() - self.settings().history;
        self.store().purge_webhook_history(before).await?;
        Ok(())
    }

    async fn fan_out(&self) -> Result<(), DomainError> {
        use sea_orm::TransactionTrait;
        let store = self.store();
        let now = self.clock().now();
        for m in store.due_messages(TOPIC, now, FAN_OUT_BATCH).await? {
            if !store
                .claim_message(&m, now + chrono::Duration::seconds(60))
                .await?
            {
                continue;
            }
            let payload: serde_json::Value = serde_json::from_str(&m.payload).unwrap_or_default();
            let kind = payload["type"].as_str().unwrap_or_default().to_owned();
            let tenant = TenantId(m.tenant_id);
            let message_id = format!("msg_{}", m.id.simple());
            let rows: Vec<Delivery> = store
                .endpoints(tenant)
                .await?
                .into_iter()
                .filter(|e| e.event_types.split(' ').any(|t| t == kind))
                .map(|e| Delivery {
                    id: uuid::Uuid::now_v7(),
                    tenant_id: tenant.0,
                    endpoint_id: e.id,
                    message_id: message_id.clone(),
                    event_type: kind.clone(),
                    body: m.payload.clone(),
                    status: delivery_status::PENDING.to_owned(),
                    attempts: 0,
                    next_attempt_at: now,
                    last_status_code: None,
                    last_error: None,
                    replay_pending: false,
                    leased_until: None,
                    created_at: now,
                    delivered_at: None,
                })
                .collect();
            let txn = store
                .conn()
                .begin()
                .await
                .map_err(tollgate_store::map_db_err)?;
            let endpoints = rows.len();
            store.insert_deliveries(&txn, rows).await?;
            let result = serde_json::json!({ "message_id": message_id, "endpoints": endpoints });
            if store
                .message_done(&txn, m.id, m.attempts + 1, &result, now)
                .await?
            {
                txn.commit().await.map_err(tollgate_store::map_db_err)?;
            }
        }
        Ok(())
    }

    /// Claims, sends and settles one delivery.
    async fn attempt(&self, d: Delivery) -> Result<(), DomainError> {
        let store = self.store();
        let endpoint = store
            .endpoint_by_id(d.endpoint_id)
            .await?
            .filter(|e| e.tenant_id == d.tenant_id);
        let Some(endpoint) = endpoint else {
            // Deleted while the event was being fanned out: the delivery goes with it.
            return store.drop_orphan_delivery(d.id).await;
        };
        let now = self.clock().now();
        let lease = chrono::Duration::seconds(i64::from(endpoint.timeout_secs) + 30);
        if !store.claim_delivery(&d, now + lease).await? {
            return Ok(());
        }
        let attempt = d.attempts + 1;
        // Well inside the lease, whatever the DNS lookup and the endpoint do.
        let budget = Duration::from_secs(u64::try_from(endpoint.timeout_secs).unwrap_or(10) + 10);
        let started = Instant::now();
        let outcome = match tokio::time::timeout(budget, self.send(&endpoint, &d)).await {
            Ok(o) => o,
            Err(_) => Outcome {
                status: None,
                error: Some(format!("no answer within {}s", budget.as_secs())),
                response: None,
                latency: started.elapsed(),
            },
        };
        let ok = outcome.status.is_some_and(|s| (200..300).contains(&s));
        let settle = if ok {
            Settle::Delivered
        } else {
            match self.settings().schedule.get(attempt as usize - 1) {
                Some(wait) => Settle::RetryAt(self.clock().now() + jittered(*wait)),
                None => Settle::GiveUp,
            }
        };
        if !ok {
            tracing::info!(
                endpoint = %endpoint.id, message = %d.message_id, attempt,
                status = ?outcome.status, error = ?outcome.error,
                "webhook attempt failed"
            );
        }
        let row = Attempt {
            id: uuid::Uuid::now_v7(),
            tenant_id: d.tenant_id,
            delivery_id: d.id,
            attempt,
            at: now,
            status_code: outcome.status.map(i32::from),
            latency_ms: outcome.latency.as_millis().min(i64::MAX as u128) as i64,
            error: outcome.error,
            response: outcome.response,
            replay: d.replay_pending,
        };
        store
            .settle_delivery(row, endpoint.id, settle, self.settings().failing_after)
            .await?;
        Ok(())
    }

    /// One signed POST of `d` to `endpoint`.
    async fn send(&self, endpoint: &Endpoint, d: &Delivery) -> Outcome {
        let started = Instant::now();
        let failed = |error: String| Outcome {
            status: None,
            error: Some(error),
            response: None,
            latency: started.elapsed(),
        };
        let allow_private = self.settings().allow_private;
        let url = match guard::check_url(&endpoint.url, allow_private) {
            Ok(u) => u,
            Err(e) => return failed(e.to_string()),
        };
        let addrs =
            match tokio::time::timeout(RESOLVE_BUDGET, guard::resolve(&url, allow_private)).await {
                Ok(Ok(a)) => a,
                Ok(Err(e)) => return failed(e.to_string()),
                Err(_) => return failed("the host did not resolve in time".into()),
            };
        let secrets = match self.secrets_of(endpoint) {
            Ok(s) => s,
            Err(e) => return failed(format!("the endpoint's secret cannot be read: {e}")),
        };
        let timeout = Duration::from_secs(u64::try_from(endpoint.timeout_secs).unwrap_or(10));
        let mut client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("Tollgate-Webhooks/", env!("CARGO_PKG_VERSION")))
            .no_proxy();
        if let Some(host) = url.domain() {
            // Connect to the addresses just checked, not to what a second lookup says.
            client = client.resolve_to_addrs(host, &addrs);
        }
        let client = match client.build() {
            Ok(c) => c,
            Err(e) => return failed(format!("HTTP client: {e}")),
        };
        // The wire's send time, which the receiver checks against its own clock (a tolerance of
        // minutes): the system's, whatever clock schedules the attempts.
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let signature = signature_header(&secrets, &d.message_id, timestamp, &d.body);
        let sent = client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &d.message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(d.body.clone())
            .send()
            .await;
        let mut resp = match sent {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                return failed(format!("timed out after {}s", timeout.as_secs()))
            }
            Err(e) if e.is_connect() => return failed("could not connect".into()),
            Err(_) => return failed("the request failed".into()),
        };
        let status = resp.status().as_u16();
        let mut kept = Vec::new();
        while kept.len() < RESPONSE_KEPT {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    kept.extend_from_slice(&chunk[..chunk.len().min(RESPONSE_KEPT - kept.len())])
                }
                _ => break,
            }
        }
        drop(resp);
        Outcome {
            status: Some(status),
            error: (!(200..300).contains(&status)).then(|| {
                if (300..400).contains(&status) {
                    format!("answered {status} (redirects are not followed)")
                } else {
                    format!("answered {status}")
                }
            }),
            response: (!kept.is_empty()).then(|| String::from_utf8_lossy(&kept).into_owned()),
            latency: started.elapsed(),
        }
    }

    /// Records `key.expiring` (and so the `api_key.expiring` event) once for each key that
    /// expires within the notice, unless it was announced for that expiry before.
    pub async fn announce_expiring_keys(&self) -> Result<usize, DomainError> {
        let store = self.store();
        let now = self.clock().now();
        let mut announced = 0;
        for key in store
            .keys_expiring(now, now + self.settings().expiry_notice)
            .await?
        {
            let tenant = TenantId(key.tenant_id);
            if tenant.is_platform() {
                continue;
            }
            let Some(expires_at) = key.expires_at else {
                continue;
            };
            let target = format!("key:{}", key.id);
            let at = stamp(expires_at);
            let dedup = expiring_key(&target, &at);
            let event = NewAuditEvent::new("system", "key.expiring", &RequestCtx::default(), now)
                .tenant(Some(tenant))
                .target(Some(target))
                .detail(serde_json::json!({ "expires_at": at, "name": key.name }));
            let done = store
                .audited(Some(tenant), |txn| {
                    let (store, event, dedup) = (store.clone(), event.clone(), dedup.clone());
                    Box::pin(async move {
                        Ok((!store.has_message(txn, TOPIC, &dedup).await?).then_some(((), event)))
                    })
                })
                .await?;
            announced += usize::from(done.is_some());
        }
        Ok(announced)
    }
}

/// An instant as the events write it.
fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `wait` moved by up to ±10 %, so endpoints that failed together are not retried together.
fn jittered(wait: Duration) -> chrono::Duration {
    let ms = wait.as_millis() as f64 * rand::thread_rng().gen_range(0.9..=1.1);
    chrono::Duration::milliseconds(ms as i64)
}
