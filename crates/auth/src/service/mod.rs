//! The credential operations shared by the HTTP API and the operator CLI. Every operation
//! that changes who can do what appends an audit event; secrets appear only in return values.

mod clients;
mod keys;
mod members;
mod oauth;
mod portal;

pub use clients::{ClientView, CreatedClient};
pub use keys::{CreatedKey, KeyView};
pub use members::CreatedMember;
pub use oauth::{ClientAuth, Introspection};
pub use portal::{AdminSession, LoginOutcome, SessionLookup};

use crate::anonymous::{AnonymousAudit, Subject};
use crate::backoff::AttemptLimiter;
use crate::password::PasswordHasherPool;
use crate::principal::Authenticator;
use crate::revocation::Denylist;
use crate::tokens::TokenService;
use chrono::Duration;
use std::collections::HashMap;
use std::sync::Arc;
use tollgate_core::Code;
use tollgate_core::{AdminId, Clock, DomainError, TenantId};
use tollgate_store::audit::NewAuditEvent;
use tollgate_store::Store;

pub use tollgate_core::RequestCtx;

/// Tunables of the auth service.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Portal session lifetime.
    pub session_ttl: Duration,
    /// A portal session unused for this long ends.
    pub session_idle: Duration,
    /// Failures per (account, IP) before backoff starts.
    pub account_ip_threshold: u32,
    /// Failures per IP before backoff starts (portal logins and OAuth client authentication
    /// are counted apart).
    pub ip_threshold: u32,
    /// Failed OAuth client authentications per (client id, IP) before backoff starts.
    pub client_ip_threshold: u32,
    /// Failures per account, from any address, before backoff starts for addresses the
    /// account has not signed in from.
    pub account_threshold: u32,
    /// Longest overlap allowed when rotating a client secret.
    pub max_secret_overlap: Duration,
    /// Longest grace allowed when rotating an API key.
    pub max_key_grace: Duration,
    /// How long a denylist entry for a deleted client must live (token TTL plus leeway).
    pub token_horizon: Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            session_ttl: Duration::hours(12),
            session_idle: Duration::minutes(30),
            account_ip_threshold: 5,
            ip_threshold: 50,
            client_ip_threshold: 10,
            account_threshold: 20,
            max_secret_overlap: Duration::days(7),
            max_key_grace: Duration::days(30),
            token_horizon: Duration::minutes(16),
        }
    }
}

/// Everything needed to authenticate and to manage credentials.
pub struct AuthService {
    /// Database.
    pub store: Store,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Password hashing.
    pub passwords: PasswordHasherPool,
    /// JWT issue/verify.
    pub tokens: Arc<TokenService>,
    /// Revocations.
    pub denylist: Arc<Denylist>,
    /// Credential → principal.
    pub authenticator: Arc<Authenticator>,
    /// Login backoff.
    pub attempts: Arc<dyn AttemptLimiter>,
    /// Bounds the audit rows anonymous callers cause.
    pub anonymous: AnonymousAudit,
    /// Tunables.
    pub config: AuthConfig,
    /// One password-change check at a time per admin.
    pub password_checks: CheckLocks,
}

/// One password check at a time per admin in this process: a burst of parallel guesses is
/// checked one after another, each failure counted before the next check, so the backoff
/// holds however many arrive at once (across instances, at most one at a time on each).
#[derive(Debug, Default)]
pub struct CheckLocks(std::sync::Mutex<HashMap<AdminId, Arc<tokio::sync::Mutex<()>>>>);

impl CheckLocks {
    /// The lock of `admin`'s checks (locks no one holds are swept when the map grows).
    pub(crate) fn of(&self, admin: AdminId) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, lock| Arc::strong_count(lock) > 1);
        }
        map.entry(admin).or_default().clone()
    }
}

impl std::fmt::Debug for AuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService").finish_non_exhaustive()
    }
}

/// Outcome labels of audit events.
pub(crate) const SUCCESS: &str = "success";
pub(crate) const FAILURE: &str = "failure";

impl AuthService {
    /// Appends an audit event. A failed append fails the operation: an action that cannot
    /// be recorded is not performed silently.
    #[expect(clippy::too_many_arguments, reason = "mirrors the audit row's columns")]
    pub async fn audit(
        &self,
        tenant: Option<TenantId>,
        actor: &str,
        action: &'static str,
        target: Option<String>,
        outcome: &'static str,
        ctx: &RequestCtx,
        detail: serde_json::Value,
    ) -> Result<(), DomainError> {
        let event = NewAuditEvent::new(actor, action, ctx, self.clock.now())
            .tenant(tenant)
            .target(target)
            .outcome(outcome)
            .detail(detail);
        self.store.append_audit(event).await.map(|_| ())
    }

    /// Records an anonymous caller's checked failure: at once while the chain's budget
    /// lasts, otherwise counted into one row per account per minute.
    pub async fn audit_anonymous_failure(
        &self,
        subject: Subject,
        ctx: &RequestCtx,
    ) -> Result<(), DomainError> {
        if !self.anonymous.failure(subject.clone(), ctx.ip.as_deref()) {
            return Ok(());
        }
        self.audit(
            subject.tenant,
            "anonymous",
            subject.action,
            subject.target,
            FAILURE,
            ctx,
            serde_json::json!({ "reason": subject.reason }),
        )
        .await
    }

    /// Writes the counted anonymous rows whose windows have ended (`all`: every window, when
    /// the server stops).
    pub async fn flush_anonymous_audit(&self, all: bool) {
        for event in self.anonymous.due(all) {
            if let Err(e) = self.store.append_audit(event).await {
                tracing::warn!(error = %e, "a counted anonymous audit row was not written");
            }
        }
    }

    /// Flushes counted anonymous audit rows every few seconds until `cancel`, then all.
    pub async fn run_anonymous_audit(self: Arc<Self>, cancel: tokio_util::sync::CancellationToken) {
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                () = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
            }
            self.flush_anonymous_audit(false).await;
        }
        self.flush_anonymous_audit(true).await;
    }

    /// Creates a tenant (operator).
    pub async fn create_tenant(
        &self,
        name: &str,
        ctx: &RequestCtx,
    ) -> Result<TenantId, DomainError> {
        let name = validate_name(name)?;
        let tenant = self.store.create_tenant(name, self.clock.now()).await?;
        let id = TenantId(tenant.id);
        self.audit(
            Some(id),
            "operator",
            "tenant.created",
            Some(id.to_string()),
            SUCCESS,
            ctx,
            serde_json::json!({ "name": name }),
        )
        .await?;
        Ok(id)
    }

    /// Rotates the token-signing key (operator).
    pub async fn rotate_signing_key(&self, ctx: &RequestCtx) -> Result<String, DomainError> {
        let kid = self.tokens.keyring().rotate().await?;
        self.audit(
            None,
            "operator",
            "signing_key.rotated",
            Some(kid.clone()),
            SUCCESS,
            ctx,
            serde_json::json!({}),
        )
        .await?;
        Ok(kid)
    }
}

/// Trims and bounds a display name.
pub(crate) fn validate_name(name: &str) -> Result<&str, DomainError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            Code::InvalidName,
            "name must be 1-200 printable characters",
        ));
    }
    Ok(name)
}
