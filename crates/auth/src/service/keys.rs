//! API-key management.

use super::{validate_name, AuthService, RequestCtx, SUCCESS};
use crate::secret::{digest, new_api_key};
use chrono::{DateTime, Duration, Utc};
use tollgate_core::api_key::{KeyEnv, DISPLAY_PREFIX_LEN};
use tollgate_core::Code;
use tollgate_core::{DomainError, KeyId, ScopeSet, TenantId};
use tollgate_store::api_keys::{ApiKey, NewKey};
use tollgate_store::audit::NewAuditEvent;

/// A key as listed (never the key itself or its digest).
#[derive(Debug, Clone)]
pub struct KeyView {
    /// Id.
    pub key_id: KeyId,
    /// Display name.
    pub name: String,
    /// First characters of the key, to tell keys apart.
    pub prefix: String,
    /// Granted scopes.
    pub scopes: ScopeSet,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last authenticated use (updated at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&ApiKey> for KeyView {
    fn from(row: &ApiKey) -> Self {
        let tenant = TenantId(row.tenant_id);
        Self {
            key_id: KeyId(row.id),
            name: row.name.clone(),
            prefix: row.prefix.clone(),
            scopes: ScopeSet::parse_lenient(&row.scopes).effective_in(tenant),
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
        }
    }
}

/// A new key with its secret value, returned once.
#[derive(Debug)]
pub struct CreatedKey {
    /// The key's metadata.
    pub view: KeyView,
    /// The key itself; never retrievable again.
    pub key: String,
}

impl AuthService {
    /// Creates a key for `tenant` with `scopes` (typed: parsed item by item by the caller;
    /// `operator` only in the platform tenant).
    #[expect(
        clippy::too_many_arguments,
        reason = "each argument is a distinct part of the request"
    )]
    pub async fn create_key(
        &self,
        tenant: TenantId,
        name: &str,
        scopes: ScopeSet,
        env: KeyEnv,
        expires_at: Option<DateTime<Utc>>,
        actor: &str,
        ctx: &RequestCtx,
    ) -> Result<CreatedKey, DomainError> {
        let name = validate_name(name)?;
        let scopes = scopes.grantable_in(tenant)?;
        let now = self.clock.now();
        if expires_at.is_some_and(|t| t <= now) {
            return Err(DomainError::invalid(
                Code::InvalidExpiry,
                "expiry must be in the future",
            ));
        }
        self.store.tenant(tenant).await?;
        let key = new_api_key(env);
        let row = self
            .store
            .create_key(
                tenant,
                NewKey {
                    name,
                    prefix: &key[..DISPLAY_PREFIX_LEN],
                    digest: &digest(&key),
                    scopes: &scopes.to_string(),
                    expires_at,
                },
                now,
            )
            .await?;
        self.audit(
            Some(tenant),
            actor,
            "key.created",
            Some(format!("key:{}", row.id)),
            SUCCESS,
            ctx,
            serde_json::json!({ "scopes": scopes.to_string(), "prefix": row.prefix }),
        )
        .await?;
        Ok(CreatedKey {
            view: KeyView::from(&row),
            key,
        })
    }

    /// Keys of `tenant`.
    pub async fn list_keys(&self, tenant: TenantId) -> Result<Vec<KeyView>, DomainError> {
        Ok(self
            .store
            .list_keys(tenant)
            .await?
            .iter()
            .map(KeyView::from)
            .collect())
    }

    /// One key of `tenant`.
    pub async fn key(&self, tenant: TenantId, id: KeyId) -> Result<KeyView, DomainError> {
        Ok(KeyView::from(&self.store.key(tenant, id).await?))
    }

    /// Revokes a key at once.
    pub async fn revoke_key(
        &self,
        tenant: TenantId,
        id: KeyId,
        actor: &str,
        ctx: &RequestCtx,
    ) -> Result<(), DomainError> {
        // The revocation, its audit row and the `api_key.revoked` webhook event commit
        // together.
        let now = self.clock.now();
        let event = NewAuditEvent::new(actor, "key.revoked", ctx, now)
            .tenant(Some(tenant))
            .target(Some(format!("key:{id}")));
        self.store
            .audited(Some(tenant), |txn| {
                let (store, event) = (self.store.clone(), event.clone());
                Box::pin(async move {
                    store.revoke_key(txn, tenant, id, now).await?;
                    Ok(Some(((), event)))
                })
            })
            .await?;
        self.authenticator.forget_key(None);
        Ok(())
    }

    /// Replaces a key: a new key with the same name and scopes; the old one keeps working
    /// for `grace` (bounded), then expires. The scopes are re-checked on the way: a stored
    /// `operator` never carries over into a tenant's new key.
    pub async fn rotate_key(
        &self,
        tenant: TenantId,
        id: KeyId,
        grace: Duration,
        actor: &str,
        ctx: &RequestCtx,
    ) -> Result<CreatedKey, DomainError> {
        if grace < Duration::zero() || grace > self.config.max_key_grace {
            return Err(DomainError::invalid(
                Code::InvalidGrace,
                format!(
                    "grace must be between 0 and {} seconds",
                    self.config.max_key_grace.num_seconds()
                ),
            ));
        }
        let old = self.store.key(tenant, id).await?;
        if old.revoked_at.is_some() {
            return Err(DomainError::conflict(
                Code::KeyRevoked,
                "a revoked key cannot be rotated",
            ));
        }
        let now = self.clock.now();
        if old.expires_at.is_some_and(|at| at <= now) {
            return Err(DomainError::conflict(
                Code::KeyExpired,
                "an expired key cannot be rotated; create a new key",
            ));
        }
        let scopes = ScopeSet::parse_lenient(&old.scopes)
            .effective_in(tenant)
            .grantable_in(tenant)
            .map_err(|_| {
                DomainError::conflict(
                    Code::KeyWithoutScopes,
                    "the key holds no scope it may keep; create a new key",
                )
            })?;
        let env = if old.prefix.starts_with(KeyEnv::Test.prefix()) {
            KeyEnv::Test
        } else {
            KeyEnv::Live
        };
        let key = new_api_key(env);
        let row = self
            .store
            .create_key(
                tenant,
                NewKey {
                    name: &old.name,
                    prefix: &key[..DISPLAY_PREFIX_LEN],
                    digest: &digest(&key),
                    scopes: &scopes.to_string(),
                    expires_at: old.expires_at,
                },
                now,
            )
            .await?;
        // The grace period shortens the old key's life, never lengthens it.
        let old_until = old.expires_at.map_or(now + grace, |at| at.min(now + grace));
        self.store.expire_key_at(tenant, id, old_until).await?;
        self.authenticator.forget_key(None);
        self.audit(Some(tenant), actor, "key.rotated", Some(format!("key:{id}")), SUCCESS, ctx, serde_json::json!({ "new_key": row.id.to_string(), "grace_seconds": grace.num_seconds() }))
            .await?;
        Ok(CreatedKey {
            view: KeyView::from(&row),
            key,
        })
    }
}
