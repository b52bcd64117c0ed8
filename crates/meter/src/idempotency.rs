//! `Idempotency-Key` on admission, following Stripe's contract: keys are namespaced to the
//! tenant; of concurrent requests with one new key exactly one runs (the others are told it
//! is in progress, or, once it has finished, get its stored answer); the same key with another
//! body is refused whether or not the first has finished; a key is forgotten 24 hours after it
//! was first used. The key rows live in the database ([`tollgate_store::idempotency`]), so
//! every instance sees the same claim.

use crate::{Meter, MeterError};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tollgate_core::TenantId;
use tollgate_store::idempotency::{ClaimRequest, Claimed};

/// How long an `Idempotency-Key` names one request.
pub const IDEMPOTENCY_WINDOW: chrono::Duration = chrono::Duration::hours(24);

/// Added to a request's longest run time to make the lease of its key: a holder that crashed
/// is taken over by a retry after this.
const LEASE_MARGIN: Duration = Duration::from_secs(30);

/// How often expired keys are deleted.
const PURGE_EVERY: Duration = Duration::from_secs(600);

/// A completed request's answer, replayed to a retry with the same key and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    /// Its HTTP status.
    pub status: u16,
    /// Its body, as first sent.
    pub body: String,
}

/// A key an admission holds while its request runs.
#[derive(Debug, Clone)]
pub(crate) struct HeldKey {
    pub(crate) key: String,
    pub(crate) claim: String,
}

/// What claiming found, in metering's terms.
pub(crate) enum KeyState {
    Held(HeldKey),
    Replay(StoredAnswer),
    InProgress { retry_after: u64 },
    Mismatch,
}

impl Meter {
    pub(crate) async fn claim_key(
        &self,
        tenant: TenantId,
        key: &str,
        fingerprint: &str,
        max_runtime: Duration,
    ) -> Result<KeyState, MeterError> {
        let claim = uuid::Uuid::new_v4().simple().to_string();
        let lease = chrono::Duration::from_std(max_runtime + LEASE_MARGIN)
            .map_err(|e| MeterError::Internal(e.to_string()))?;
        let now = self.clock.now();
        let found = self
            .store
            .claim_idempotency_key(&ClaimRequest {
                tenant,
                key,
                fingerprint,
                claim: &claim,
                now,
                lease,
                window: IDEMPOTENCY_WINDOW,
            })
            .await?;
        Ok(match found {
            Claimed::Held => KeyState::Held(HeldKey {
                key: key.to_owned(),
                claim,
            }),
            Claimed::Replay { status, body } => KeyState::Replay(StoredAnswer { status, body }),
            // The holder usually finishes within a second or two; its lease is only the bound.
            Claimed::InProgress { locked_until } => KeyState::InProgress {
                retry_after: (locked_until - now).num_seconds().clamp(1, 2) as u64,
            },
            Claimed::Mismatch => KeyState::Mismatch,
        })
    }

    pub(crate) async fn release_key(&self, tenant: TenantId, held: &HeldKey) {
        if let Err(e) = self
            .store
            .release_idempotency_key(tenant, &held.key, &held.claim)
            .await
        {
            // Not lost: the lease ends and a retry takes the key over then.
            tracing::warn!(error = %e, "an idempotency key could not be released");
        }
    }

    /// Releases a held key from where nothing can be awaited (an admission dropped).
    pub(crate) fn release_key_later(self: &Meter, tenant: TenantId, held: HeldKey) {
        let store = self.store.clone();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Err(e) = store
                    .release_idempotency_key(tenant, &held.key, &held.claim)
                    .await
                {
                    tracing::warn!(error = %e, "an idempotency key could not be released");
                }
            });
        }
    }

    /// Deletes keys older than [`IDEMPOTENCY_WINDOW`] every ten minutes, until `cancel`.
    pub async fn purge_expired_keys(self: Arc<Self>, cancel: CancellationToken) {
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(PURGE_EVERY) => {}
            }
            let now = self.clock.now();
            match self
                .store
                .purge_idempotency_keys(now - IDEMPOTENCY_WINDOW, now)
                .await
            {
                Ok(n) if n > 0 => tracing::debug!(deleted = n, "expired idempotency keys deleted"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "expired idempotency keys not deleted"),
            }
        }
    }
}
