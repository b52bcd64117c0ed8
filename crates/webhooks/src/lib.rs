//! Tenant webhooks: a tenant's endpoints (URL, event types, a signing secret shown once and
//! rotated with an overlap), Standard Webhooks signing, the worker that fans the outbox's
//! events out to endpoints and delivers them with retries, the delivery log a tenant reads
//! and replays from, and the SSRF guard on every address Tollgate connects to.

pub mod guard;
pub mod service;
pub mod signing;
pub mod worker;

pub use service::Webhooks;

use std::time::Duration;

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Endpoints may be on loopback or private networks, over plain http
    /// (`TOLLGATE_WEBHOOK_ALLOW_PRIVATE=1`): for tests and local receivers, never production.
    pub allow_private: bool,
    /// Waits after each failed attempt; the delivery gives up after the last
    /// (`TOLLGATE_WEBHOOK_RETRY_SECS`). Each wait is jittered by up to ±10 %.
    pub schedule: Vec<Duration>,
    /// How often the worker looks for events and due deliveries.
    pub poll_every: Duration,
    /// Failed attempts in a row after which an endpoint shows as `failing`.
    pub failing_after: i32,
    /// Endpoints per tenant.
    pub max_endpoints: u64,
    /// Deliveries in flight at once per instance.
    pub concurrency: usize,
    /// Of those, at most this many one tenant's.
    pub per_tenant: usize,
    /// How long finished deliveries and their log are kept.
    pub history: chrono::Duration,
    /// How long before a key expires its `api_key.expiring` event is sent.
    pub expiry_notice: chrono::Duration,
    /// How often keys are checked for an expiry ahead.
    pub expiry_scan_every: Duration,
}

/// The default schedule: immediately, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
/// 20 h and 20 h: ten attempts over about three days.
pub fn default_schedule() -> Vec<Duration> {
    [5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 72_000]
        .into_iter()
        .map(Duration::from_secs)
        .collect()
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private: false,
            schedule: default_schedule(),
            poll_every: Duration::from_secs(1),
            failing_after: 5,
            max_endpoints: 20,
            concurrency: 8,
            per_tenant: 2,
            history: chrono::Duration::days(30),
            expiry_notice: chrono::Duration::days(7),
            expiry_scan_every: Duration::from_secs(600),
        }
    }
}
