//! One principal model for API callers: an OAuth2 client presenting a JWT and an API key
//! both resolve to [`Principal`], which every endpoint and every limit bucket uses.
//! Verified tokens and looked-up keys are cached in memory; the cache never outlives
//! revocation (denylist checked on every hit; key entries live one second).

use crate::revocation::Denylist;
use crate::secret;
use crate::tokens::{TokenError, TokenService};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tollgate_core::api_key::{self, KeyFormatError};
use tollgate_core::{Clock, DomainError, KeyId, Scope, ScopeSet, TenantId};
use tollgate_store::Store;

/// What kind of credential a principal presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// An OAuth2 client with an access token.
    Client,
    /// An API key.
    Key,
}

impl PrincipalKind {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Client => "client",
            PrincipalKind::Key => "key",
        }
    }
}

/// An authenticated API caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The tenant it acts for.
    pub tenant_id: TenantId,
    /// Client or key.
    pub kind: PrincipalKind,
    /// Client id or key id.
    pub id: String,
    /// Granted scopes.
    pub scopes: ScopeSet,
}

impl Principal {
    /// `client:<id>` or `key:<id>`, for audit actors and limit buckets.
    pub fn actor(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.id)
    }

    /// Fails with 403 `insufficient_scope` unless `scope` is granted.
    pub fn require(&self, scope: Scope) -> Result<(), AuthError> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(AuthError::InsufficientScope(scope))
        }
    }
}

/// Why a request could not be authenticated or authorised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No credentials at all.
    #[error("missing credentials")]
    Missing,
    /// Bad token.
    #[error("invalid token: {0}")]
    Token(TokenError),
    /// Malformed API key (checked before any lookup).
    #[error("invalid api key: {0}")]
    KeyFormat(KeyFormatError),
    /// Well-formed key that is unknown, revoked or expired.
    #[error("unknown, revoked or expired api key")]
    KeyRejected,
    /// Missing scope.
    #[error("insufficient scope")]
    InsufficientScope(Scope),
    /// Storage failure.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl AuthError {
    /// Metric label for authentication failures.
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::Missing => "missing",
            AuthError::Token(t) => t.reason(),
            AuthError::KeyFormat(_) => "key_format",
            AuthError::KeyRejected => "key_rejected",
            AuthError::InsufficientScope(_) => "insufficient_scope",
            AuthError::Unavailable(_) => "unavailable",
        }
    }
}

const KEY_CACHE_TTL: Duration = Duration::from_secs(1);
const CACHE_MAX: usize = 50_000;
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);

struct CachedToken {
    principal: Principal,
    jti: String,
    exp: i64,
}

struct CachedKey {
    principal: Option<Principal>,
    fetched: Instant,
}

/// Resolves credentials to principals.
pub struct Authenticator {
    tokens: Arc<TokenService>,
    denylist: Arc<Denylist>,
    store: Store,
    clock: Arc<dyn Clock>,
    token_cache: Mutex<HashMap<String, CachedToken>>,
    key_cache: Mutex<HashMap<String, CachedKey>>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").finish_non_exhaustive()
    }
}

impl Authenticator {
    /// An authenticator.
    pub fn new(
        tokens: Arc<TokenService>,
        denylist: Arc<Denylist>,
        store: Store,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            tokens,
            denylist,
            store,
            clock,
            token_cache: Mutex::new(HashMap::new()),
            key_cache: Mutex::new(HashMap::new()),
        }
    }

    /// Authenticates a bearer credential: an API key if it has the key prefix, else a JWT.
    pub async fn bearer(&self, credential: &str) -> Result<Principal, AuthError> {
        if api_key::looks_like_key(credential) {
            self.api_key(credential).await
        } else {
            self.jwt(credential)
        }
    }

    /// Verifies an access token (cached) and checks revocation.
    pub fn jwt(&self, token: &str) -> Result<Principal, AuthError> {
        let now = self.clock.now().timestamp();
        if let Ok(cache) = self.token_cache.lock() {
            if let Some(hit) = cache.get(token) {
                if hit.exp <= now {
                    return Err(AuthError::Token(TokenError::Expired));
                }
                if self.denylist.token_denied(&hit.jti, &hit.principal.id) {
                    return Err(AuthError::Token(TokenError::Revoked));
                }
                return Ok(hit.principal.clone());
            }
        }
        let claims = self.tokens.verify(token).map_err(AuthError::Token)?;
        if self.denylist.token_denied(&claims.jti, &claims.client_id) {
            return Err(AuthError::Token(TokenError::Revoked));
        }
        let principal = Principal {
            tenant_id: claims.tenant_id,
            kind: PrincipalKind::Client,
            id: claims.client_id.clone(),
            scopes: ScopeSet::parse_lenient(&claims.scope),
        };
        if let Ok(mut cache) = self.token_cache.lock() {
            if cache.len() >= CACHE_MAX {
                cache.retain(|_, v| v.exp > now);
                if cache.len() >= CACHE_MAX {
                    cache.clear();
                }
            }
            cache.insert(
                token.to_owned(),
                CachedToken {
                    principal: principal.clone(),
                    jti: claims.jti,
                    exp: claims.exp,
                },
            );
        }
        Ok(principal)
    }

    /// Verifies an API key: format and checksum first (no I/O), then digest lookup.
    pub async fn api_key(&self, presented: &str) -> Result<Principal, AuthError> {
        let (_, digest) = secret::check_api_key(presented).map_err(AuthError::KeyFormat)?;
        if let Ok(cache) = self.key_cache.lock() {
            if let Some(hit) = cache.get(&digest) {
                if hit.fetched.elapsed() < KEY_CACHE_TTL {
                    return hit.principal.clone().ok_or(AuthError::KeyRejected);
                }
            }
        }
        let row = self
            .store
            .key_by_digest(&digest)
            .await
            .map_err(|e| AuthError::Unavailable(e.to_string()))?;
        let now = self.clock.now();
        let principal = row.as_ref().and_then(|row| {
            let live = row.revoked_at.is_none()
                && row.expires_at.is_none_or(|exp| exp > now)
                && secret::digests_equal(&row.digest, &digest);
            live.then(|| Principal {
                tenant_id: TenantId(row.tenant_id),
                kind: PrincipalKind::Key,
                id: row.id.to_string(),
                scopes: ScopeSet::parse_lenient(&row.scopes),
            })
        });
        if let (Some(row), Some(_)) = (&row, &principal) {
            if row.last_used_at.is_none_or(|t| now - t > TOUCH_EVERY) {
                let store = self.store.clone();
                let id = KeyId(row.id);
                tokio::spawn(async move {
                    if let Err(e) = store.touch_key(id, now).await {
                        tracing::debug!(error = %e, "could not record key use");
                    }
                });
            }
        }
        if let Ok(mut cache) = self.key_cache.lock() {
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
            cache.insert(
                digest,
                CachedKey {
                    principal: principal.clone(),
                    fetched: Instant::now(),
                },
            );
        }
        principal.ok_or(AuthError::KeyRejected)
    }

    /// Forgets a cached key at once (same-instance revocation).
    pub fn forget_key(&self, digest_or_all: Option<&str>) {
        if let Ok(mut cache) = self.key_cache.lock() {
            match digest_or_all {
                Some(d) => {
                    cache.remove(d);
                }
                None => cache.clear(),
            }
        }
    }
}

impl From<AuthError> for DomainError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::InsufficientScope(s) => {
                DomainError::Forbidden(format!("requires scope {}", s.as_str()))
            }
            AuthError::Unavailable(m) => DomainError::Unavailable(m),
            _ => DomainError::Unauthenticated("invalid credentials"),
        }
    }
}
