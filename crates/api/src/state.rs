//! Shared application state, passed explicitly (no globals).

use crate::metrics::Metrics;
use std::net::IpAddr;
use std::sync::Arc;
use tollgate_auth::AuthService;
use tollgate_store::Store;

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Proxies whose X-Forwarded-For is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// Add `Secure` to the session cookie (the public URL is https; otherwise only when a
    /// trusted proxy says the request came over https).
    pub secure_cookies: bool,
    /// Serve `/metrics` on the main listener, to loopback callers only (off when a separate
    /// metrics listener is set).
    pub metrics_on_main: bool,
    /// Largest `POST /v1/ocr` body (the image, plus room for multipart framing).
    pub ocr_max_body: usize,
    /// Longest a request body may take to arrive (then 408).
    pub body_timeout: std::time::Duration,
    /// Bytes of `POST /v1/ocr` bodies that may be in flight at once (being received or
    /// waiting to be decoded); past it an upload is answered 503 `ocr_busy` unread.
    pub ocr_body_budget: usize,
    /// Mount the benchmark routes (`TOLLGATE_BENCH_ROUTES=1`); only a build with the `bench`
    /// feature has them.
    pub bench_routes: bool,
    /// The signing secret of Stripe's webhooks (`STRIPE_WEBHOOK_SECRET`); without it every
    /// delivery is refused.
    pub stripe_webhook_secret: Option<tollgate_billing::stripe_sync::webhooks::WebhookSecret>,
}

/// Something `/readyz` must be able to reach.
#[async_trait::async_trait]
pub trait ReadinessCheck: Send + Sync {
    /// Name for the readiness report.
    fn name(&self) -> &'static str;
    /// Ok when reachable.
    async fn check(&self) -> Result<(), String>;
}

/// Everything handlers need.
pub struct AppState {
    /// Credentials and their operations.
    pub auth: Arc<AuthService>,
    /// Database.
    pub store: Store,
    /// Metrics.
    pub metrics: Metrics,
    /// HTTP settings.
    pub config: ApiConfig,
    /// Extra readiness checks (e.g. Redis).
    pub readiness: Vec<Box<dyn ReadinessCheck>>,
    /// The OCR engine.
    pub ocr: Arc<tollgate_ocr::Engine>,
    /// Rate limits, quotas and usage.
    pub meter: Arc<tollgate_meter::Meter>,
    /// The body budget of `POST /v1/ocr`, in KiB ([`ApiConfig::ocr_body_budget`]).
    pub ocr_bodies: Arc<tokio::sync::Semaphore>,
    /// Usage reports.
    pub usage: tollgate_meter::usage::UsageReports,
    /// Plans and tenants' plans.
    pub plans: tollgate_meter::plans::Plans,
    /// Prices and invoices.
    pub billing: tollgate_billing::Billing,
    /// Tenant webhooks.
    pub webhooks: tollgate_webhooks::Webhooks,
    /// Portal sign-in with tenants' identity providers.
    pub oidc: tollgate_auth::oidc::Oidc,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
