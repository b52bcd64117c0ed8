//! Stripe sync. Tollgate is the system of record for usage, rating and invoices;
//! Stripe collects. Finalized invoices reach Stripe through the transactional outbox
//! ([`relay`]); Stripe's webhooks come back verified and processed once ([`webhooks`]);
//! `billing reconcile` compares both sides ([`reconcile`]).
//!
//! Requests are built with async-stripe's typed request builders (`=1.0.0-rc.10`) and sent by
//! its client; answers are read as plain JSON for the fields used, so a stand-in that answers
//! with fewer fields than Stripe (localstripe, in the tests) is read the same way.
//!
//! Without `STRIPE_API_KEY` none of this runs: invoices are finalized and nothing is synced.

pub mod reconcile;
pub mod relay;
pub mod webhooks;

use std::sync::Arc;
use stripe::{IdempotencyKey, RequestStrategy};
use stripe_client_core::RequestBuilder;
use tollgate_core::{Clock, DomainError};
use tollgate_store::Store;

pub use relay::{Pushed, RelayRound, TOPIC};

/// How to reach Stripe.
#[derive(Clone)]
pub struct StripeConfig {
    /// The secret key (`STRIPE_API_KEY`).
    pub api_key: String,
    /// Where the API is (`STRIPE_API_BASE`; default Stripe's).
    pub api_base: Option<String>,
}

impl std::fmt::Debug for StripeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeConfig")
            .field("api_base", &self.api_base)
            .field("api_key", &"***")
            .finish()
    }
}

/// Why a call to Stripe failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Stripe answered with an error status.
    #[error("Stripe answered {status}: {message}")]
    Stripe {
        /// HTTP status.
        status: u16,
        /// Stripe's message.
        message: String,
    },
    /// Stripe could not be reached (or timed out).
    #[error("Stripe could not be reached: {0}")]
    Network(String),
    /// An answer was not what the relay expected.
    #[error("unexpected answer from Stripe: {0}")]
    Unexpected(String),
    /// Stripe's invoice does not match Tollgate's: not retried.
    #[error("{0}")]
    Mismatch(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] DomainError),
    /// A test's call budget ran out (an interruption at a chosen point).
    #[error("interrupted after the allowed number of Stripe calls")]
    Interrupted,
}

impl SyncError {
    /// Whether trying again later can succeed.
    pub fn retryable(&self) -> bool {
        match self {
            // 401/403: a key being rotated or lacking a permission is the operator's to fix;
            // the messages wait (with backoff) rather than being given up one by one.
            SyncError::Stripe { status, .. } => {
                matches!(*status, 401 | 403 | 409 | 429) || *status >= 500
            }
            SyncError::Network(_) | SyncError::Store(_) | SyncError::Interrupted => true,
            SyncError::Unexpected(_) | SyncError::Mismatch(_) => false,
        }
    }
}

impl From<stripe::StripeError> for SyncError {
    fn from(e: stripe::StripeError) -> Self {
        match e {
            stripe::StripeError::Stripe(err, status) => SyncError::Stripe {
                status,
                message: err.message.unwrap_or_default(),
            },
            stripe::StripeError::Timeout | stripe::StripeError::ClientError(_) => {
                SyncError::Network(e.to_string())
            }
            other => SyncError::Unexpected(other.to_string()),
        }
    }
}

/// The Stripe sync service.
#[derive(Clone)]
pub struct StripeSync {
    client: Arc<stripe::Client>,
    store: Store,
    clock: Arc<dyn Clock>,
    config: StripeConfig,
    /// Tests only: Stripe calls allowed before every further one fails with
    /// [`SyncError::Interrupted`] (an interruption at a chosen point of a push).
    budget: Option<Arc<std::sync::atomic::AtomicUsize>>,
}

impl std::fmt::Debug for StripeSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeSync")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl StripeSync {
    /// A client for `config`.
    pub fn new(
        config: StripeConfig,
        store: Store,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, DomainError> {
        let mut builder = stripe::ClientBuilder::new(config.api_key.clone())
            .request_strategy(RequestStrategy::Once)
            .timeout(std::time::Duration::from_secs(20));
        if let Some(base) = &config.api_base {
            // The client appends `v1/…` to the base.
            let base = if base.ends_with('/') {
                base.clone()
            } else {
                format!("{base}/")
            };
            builder = builder.url(base);
        }
        let client = builder
            .build()
            .map_err(|e| DomainError::internal(format!("the Stripe client: {e}")))?;
        Ok(Self {
            client: Arc::new(client),
            store,
            clock,
            config,
            budget: None,
        })
    }

    /// The same, allowed `calls` Stripe calls before each further one is interrupted (tests
    /// use it to stop a push at every point and run it again).
    pub fn with_call_budget(mut self, calls: Arc<std::sync::atomic::AtomicUsize>) -> Self {
        self.budget = Some(calls);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &StripeConfig {
        &self.config
    }

    /// Sends `req` (once; with `idempotency` as its `Idempotency-Key`) and reads the answer
    /// as JSON.
    async fn call(
        &self,
        req: RequestBuilder,
        idempotency: Option<String>,
    ) -> Result<serde_json::Value, SyncError> {
        if let Some(budget) = &self.budget {
            use std::sync::atomic::Ordering;
            if budget
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_err()
            {
                return Err(SyncError::Interrupted);
            }
        }
        let mut req = req.customize::<miniserde::json::Value>();
        if let Some(key) = idempotency {
            let key = IdempotencyKey::new(key)
                .map_err(|e| SyncError::Unexpected(format!("an idempotency key: {e}")))?;
            req = req.request_strategy(RequestStrategy::Idempotent(key));
        }
        let answer = req.send(&*self.client).await?;
        serde_json::from_str(&miniserde::json::to_string(&answer))
            .map_err(|e| SyncError::Unexpected(e.to_string()))
    }
}
