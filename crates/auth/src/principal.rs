//! One principal model for API callers: an OAuth2 client presenting a JWT and an API key
//! both resolve to [`Principal`], which every endpoint and every limit bucket uses.
//! Verified tokens and looked-up keys are cached in memory; the cache never outlives
//! revocation (denylist and signing key checked on every hit; key entries live one second).
//! Unknown keys are cached apart from known ones, in a bounded map that never evicts a known
//! key, and misses are counted per client address: past a few, the address is refused
//! before any lookup (a CRC32 is a typo check, not a secret: valid-looking keys are free).

use crate::backoff::AttemptLimiter;
use crate::revocation::Denylist;
use crate::secret;
use crate::tokens::{TokenError, TokenService};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tollgate_core::api_key::{self, KeyFormatError};
use tollgate_core::net::address_bucket;
use tollgate_core::{Clock, DomainError, KeyId, Scope, ScopeSet, TenantId};
use tollgate_store::flight::SingleFlight;
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
    /// Client id or key id. Shared: a principal is copied out of a cache on every request.
    pub id: Arc<str>,
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
    /// Too many unknown keys from this address: refused before any lookup.
    #[error("too many unknown keys from this address")]
    Throttled {
        /// Seconds until the address may try again.
        retry_after: u64,
    },
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
            AuthError::Throttled { .. } => "key_guessing",
            AuthError::Unavailable(_) => "unavailable",
        }
    }
}

const KEY_CACHE_TTL: Duration = Duration::from_secs(1);
/// A key that authenticated within this long is looked up even from a blocked address (so a
/// guesser behind the same address cannot lock its honest neighbours out).
const KEY_KNOWN_TTL: Duration = Duration::from_secs(900);
const CACHE_MAX: usize = 50_000;
/// Unknown keys remembered at once (their own map: a flood of them never evicts a known key).
const MISS_CACHE_MAX: usize = 10_000;
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);
/// Unknown keys one address may present (in the backoff window) before it is refused without
/// a lookup; each further one doubles the block.
pub const KEY_MISS_THRESHOLD: u32 = 10;
/// A blocked address is still allowed one lookup this often.
const BLOCKED_LOOKUP_EVERY: Duration = Duration::from_secs(1);

struct CachedToken {
    principal: Principal,
    jti: String,
    exp: i64,
    /// The key that verified it: once unpublished, the cached token is refused too.
    kid: String,
}

struct CachedKey {
    principal: Principal,
    fetched: Instant,
}

type FastMap<V> = HashMap<String, V, foldhash::fast::RandomState>;

/// Inserts into a map bounded at `max`: when full, drops the entries older than `ttl` first,
/// and when none is, makes room by dropping one entry — never the whole map.
fn bounded_insert<V, S: std::hash::BuildHasher>(
    map: &mut HashMap<String, V, S>,
    max: usize,
    key: String,
    value: V,
    fresh: impl Fn(&V) -> bool,
) {
    if map.len() >= max && !map.contains_key(&key) {
        map.retain(|_, v| fresh(v));
        if map.len() >= max {
            if let Some(any) = map.keys().next().cloned() {
                map.remove(&any);
            }
        }
    }
    map.insert(key, value);
}

/// Resolves credentials to principals.
pub struct Authenticator {
    tokens: Arc<TokenService>,
    denylist: Arc<Denylist>,
    store: Store,
    clock: Arc<dyn Clock>,
    /// Verified tokens and looked-up keys, by token and by digest: filled only with
    /// credentials that verified, so a fast hasher is safe here (the maps that unknown input
    /// fills keep the standard one).
    token_cache: Mutex<FastMap<CachedToken>>,
    key_cache: Mutex<FastMap<CachedKey>>,
    /// Digests of keys found unknown, and when.
    miss_cache: Mutex<HashMap<String, Instant>>,
    /// Key lookups running, by digest.
    key_lookups: SingleFlight<String, Result<Option<Principal>, String>>,
    /// Per blocked address, when it was last allowed a lookup anyway (see `api_key`).
    blocked_lookups: Mutex<HashMap<String, Instant>>,
    /// Counts unknown keys per client address.
    attempts: Arc<dyn AttemptLimiter>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").finish_non_exhaustive()
    }
}

impl Authenticator {
    /// An authenticator; `attempts` counts unknown keys per address (shared across instances
    /// when it is Redis-backed).
    pub fn new(
        tokens: Arc<TokenService>,
        denylist: Arc<Denylist>,
        store: Store,
        clock: Arc<dyn Clock>,
        attempts: Arc<dyn AttemptLimiter>,
    ) -> Self {
        Self {
            tokens,
            denylist,
            store,
            clock,
            token_cache: Mutex::new(FastMap::default()),
            key_cache: Mutex::new(FastMap::default()),
            miss_cache: Mutex::new(HashMap::new()),
            key_lookups: SingleFlight::default(),
            blocked_lookups: Mutex::new(HashMap::new()),
            attempts,
        }
    }

    /// Authenticates a bearer credential: an API key if it has the key prefix, else a JWT.
    /// `from` gives the caller's address, asked only for a key not cached (see
    /// [`Self::api_key_from`]).
    pub async fn bearer(
        &self,
        credential: &str,
        from: impl FnOnce() -> Option<String>,
    ) -> Result<Principal, AuthError> {
        if api_key::looks_like_key(credential) {
            self.api_key_from(credential, from).await
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
                if !self.tokens.key_published(&hit.kid) {
                    return Err(AuthError::Token(TokenError::UnknownKey));
                }
                return Ok(hit.principal.clone());
            }
        }
        let (claims, kid) = self
            .tokens
            .verify_with_kid(token)
            .map_err(AuthError::Token)?;
        if self.denylist.token_denied(&claims.jti, &claims.client_id) {
            return Err(AuthError::Token(TokenError::Revoked));
        }
        let principal = Principal {
            tenant_id: claims.tenant_id,
            kind: PrincipalKind::Client,
            id: claims.client_id.as_str().into(),
            scopes: ScopeSet::parse_lenient(&claims.scope).effective_in(claims.tenant_id),
        };
        if let Ok(mut cache) = self.token_cache.lock() {
            let entry = CachedToken {
                principal: principal.clone(),
                jti: claims.jti,
                exp: claims.exp,
                kid,
            };
            bounded_insert(&mut cache, CACHE_MAX, token.to_owned(), entry, |v| {
                v.exp > now
            });
        }
        Ok(principal)
    }

    /// Verifies an API key: format and checksum first (no I/O), then the caches, then — unless
    /// `from` has presented too many unknown keys — the digest lookup.
    pub async fn api_key(
        &self,
        presented: &str,
        from: Option<&str>,
    ) -> Result<Principal, AuthError> {
        self.api_key_from(presented, || from.map(str::to_owned))
            .await
    }

    /// [`Self::api_key`], with the caller's address asked for only when the key is not in the
    /// cache: a cached key is the common case, and it needs no address.
    pub async fn api_key_from(
        &self,
        presented: &str,
        from: impl FnOnce() -> Option<String>,
    ) -> Result<Principal, AuthError> {
        let (_, digest) = secret::check_api_key(presented).map_err(AuthError::KeyFormat)?;
        let digest = digest.as_str();
        let mut known = false;
        if let Ok(cache) = self.key_cache.lock() {
            if let Some(hit) = cache.get(digest) {
                if hit.fetched.elapsed() < KEY_CACHE_TTL {
                    return Ok(hit.principal.clone());
                }
                known = true;
            }
        }
        // Boxed: the lookup's future is large (the query's), and in line it would make every
        // cached request's future (copied as it moves up the stack) as large.
        Box::pin(self.api_key_uncached(digest.to_owned(), known, from())).await
    }

    /// [`Self::api_key_from`] for a key not in the cache (`known`: it was, and expired).
    async fn api_key_uncached(
        &self,
        digest: String,
        known: bool,
        from: Option<String>,
    ) -> Result<Principal, AuthError> {
        let address = address_bucket(from.as_deref());
        let miss_key = format!("apikey-miss:{address}");
        if !known {
            if let Some(retry_after) = self.attempts.blocked(&miss_key).await {
                // A blocked address still gets one lookup a second: a guesser's cost stays
                // bounded, and an honest caller behind the same address (a NAT) gets in.
                if !self.lookup_while_blocked(&address) {
                    return Err(AuthError::Throttled { retry_after });
                }
            }
        }
        let cached_miss = self.miss_cache.lock().is_ok_and(|m| {
            m.get(&digest)
                .is_some_and(|at| at.elapsed() < KEY_CACHE_TTL)
        });
        if cached_miss {
            self.attempts.failure(&miss_key, KEY_MISS_THRESHOLD).await;
            return Err(AuthError::KeyRejected);
        }
        // One lookup per key at a time: when its cache entry expires, the requests in flight
        // with it wait for one query instead of each running its own.
        let looked_up = self
            .key_lookups
            .load(&digest, || self.look_up_key(&digest))
            .await;
        let principal = looked_up.value.map_err(AuthError::Unavailable)?;
        let Some(principal) = principal else {
            if let Ok(mut cache) = self.key_cache.lock() {
                cache.remove(&digest); // revoked or expired since: no longer known
            }
            // Remembered before the miss is counted (an await): a presentation of the same
            // key arriving meanwhile finds it here, not a new lookup.
            if let Ok(mut misses) = self.miss_cache.lock() {
                bounded_insert(&mut misses, MISS_CACHE_MAX, digest, Instant::now(), |at| {
                    at.elapsed() < KEY_CACHE_TTL
                });
            }
            self.attempts.failure(&miss_key, KEY_MISS_THRESHOLD).await;
            return Err(AuthError::KeyRejected);
        };
        if let Ok(mut cache) = self.key_cache.lock() {
            // A key forgotten (revoked here) since this lookup started: use what it found,
            // but do not keep it. Checked under the cache's lock, which `forget_key` takes
            // after moving the epoch on.
            if !self.key_lookups.current(looked_up.epoch) {
                return Ok(principal);
            }
            let entry = CachedKey {
                principal: principal.clone(),
                fetched: Instant::now(),
            };
            bounded_insert(&mut cache, CACHE_MAX, digest, entry, |e| {
                e.fetched.elapsed() < KEY_KNOWN_TTL
            });
        }
        Ok(principal)
    }

    /// The principal of the live key with `digest` (`None`: unknown, revoked or expired);
    /// records the key's use at most once a minute.
    async fn look_up_key(&self, digest: &str) -> Result<Option<Principal>, String> {
        let row = self
            .store
            .key_by_digest(digest)
            .await
            .map_err(|e| e.to_string())?;
        let Some(row) = row else {
            return Ok(None);
        };
        let now = self.clock.now();
        let live = row.revoked_at.is_none()
            && row.expires_at.is_none_or(|exp| exp > now)
            && secret::digests_equal(&row.digest, digest);
        if !live {
            return Ok(None);
        }
        if row.last_used_at.is_none_or(|t| now - t > TOUCH_EVERY) {
            let store = self.store.clone();
            let id = KeyId(row.id);
            tokio::spawn(async move {
                if let Err(e) = store.touch_key(id, now).await {
                    tracing::debug!(error = %e, "could not record key use");
                }
            });
        }
        let tenant = TenantId(row.tenant_id);
        Ok(Some(Principal {
            tenant_id: tenant,
            kind: PrincipalKind::Key,
            id: row.id.to_string().into(),
            scopes: ScopeSet::parse_lenient(&row.scopes).effective_in(tenant),
        }))
    }

    /// Whether a blocked `address` may have a lookup now (one a second).
    fn lookup_while_blocked(&self, address: &str) -> bool {
        let Ok(mut last) = self.blocked_lookups.lock() else {
            return false;
        };
        if last
            .get(address)
            .is_some_and(|at| at.elapsed() < BLOCKED_LOOKUP_EVERY)
        {
            return false;
        }
        bounded_insert(
            &mut last,
            MISS_CACHE_MAX,
            address.to_owned(),
            Instant::now(),
            |at| at.elapsed() < BLOCKED_LOOKUP_EVERY,
        );
        true
    }

    /// Key lookups this authenticator has run against the database.
    pub fn key_lookups(&self) -> u64 {
        self.key_lookups.runs()
    }

    /// Forgets a cached key at once (same-instance revocation); `None`: every known key. A
    /// lookup of it already running is not joined by later ones, nor cached.
    pub fn forget_key(&self, digest_or_all: Option<&str>) {
        self.key_lookups
            .forget(|d| digest_or_all.is_none_or(|only| only == d));
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
            AuthError::Throttled { retry_after } => DomainError::TooManyAttempts { retry_after },
            _ => DomainError::Unauthenticated("invalid credentials"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::bounded_insert;

    use std::collections::HashMap;

    #[test]
    fn a_full_map_makes_room_without_dropping_everything() {
        let mut map: HashMap<String, bool> = HashMap::new();
        // `true`: still fresh. A full map of fresh entries loses one entry per insert.
        for i in 0..100 {
            bounded_insert(&mut map, 100, format!("known-{i}"), true, |fresh| *fresh);
        }
        for i in 0..10 {
            bounded_insert(&mut map, 100, format!("new-{i}"), true, |fresh| *fresh);
        }
        assert_eq!(map.len(), 100);
        let known = map.keys().filter(|k| k.starts_with("known-")).count();
        assert!(
            known >= 90,
            "at most one entry made room per insert: {known} left"
        );
        assert!(map.contains_key("new-9"), "the newest is in");
        // Stale entries go first, all of them.
        let mut stale: HashMap<String, bool> =
            (0..100).map(|i| (format!("old-{i}"), false)).collect();
        bounded_insert(&mut stale, 100, "fresh".into(), true, |fresh| *fresh);
        assert_eq!(stale.len(), 1);
    }
}
