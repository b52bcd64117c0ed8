//! Wires the services from configuration: database (migrated), optional Redis, keyring,
//! denylist, authenticator and the auth service. Shared by `serve` and operator commands.

use crate::config::{master_key, CommonArgs, EnvSettings, MAX_TOKEN_TTL_SECS};
use anyhow::{Context, Result};
use chrono::Duration;
use std::sync::Arc;
use tollgate_auth::backoff::{AttemptLimiter, LocalAttempts, RedisAttempts};
use tollgate_auth::keyring::Keyring;
use tollgate_auth::password::{PasswordHasherPool, PasswordParams};
use tollgate_auth::revocation::Denylist;
use tollgate_auth::tokens::TokenService;
use tollgate_auth::{AuthConfig, AuthService, Authenticator};
use tollgate_core::Clock;
use tollgate_store::redis_conn::{self, RedisConn};
use tollgate_store::Store;

/// Explicit clock-skew allowance for token time claims.
pub const TOKEN_LEEWAY_SECS: i64 = 30;

/// The wired services.
pub struct Services {
    /// Database.
    pub store: Store,
    /// Redis, when configured.
    pub redis: Option<RedisConn>,
    /// Auth.
    pub auth: Arc<AuthService>,
    /// Prices, credit and invoices, under the configured policy.
    pub billing: tollgate_billing::Billing,
    /// Stripe sync, when `STRIPE_API_KEY` is set.
    pub stripe: Option<tollgate_billing::stripe_sync::StripeSync>,
    /// Tenant webhooks (their worker runs in `serve`).
    pub webhooks: tollgate_webhooks::Webhooks,
    /// Portal sign-in with tenants' identity providers.
    pub oidc: tollgate_auth::oidc::Oidc,
}

/// Connects to Redis (one server, or a Redis Cluster: see `tollgate_store::redis_conn`),
/// failing fast with a clear message. Commands time out after a second and a lost connection
/// is retried once, briefly, per command: while Redis is away every caller gets an error at
/// once (and takes its fallback path) instead of queueing behind minutes of exponential
/// reconnect backoff; the next command after Redis returns reconnects.
pub async fn connect_redis(url: &str) -> Result<RedisConn> {
    let conn = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        redis_conn::connect(url, redis_conn::Timeouts::default()),
    )
    .await
    .context("timed out connecting to Redis (REDIS_URL)")?
    .context("cannot connect to Redis (REDIS_URL)")?;
    Ok(conn)
}

/// Builds every service. `issuer` is the `iss` of tokens; `clock` is every service's time
/// (the system clock, or a test's).
pub async fn build(
    common: &CommonArgs,
    env: &EnvSettings,
    issuer: String,
    migrate: bool,
    clock: Arc<dyn Clock>,
) -> Result<Services> {
    let url = common.database_url()?;
    let master = master_key(env, &common.data_dir)?;
    let store = Store::connect(&url)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .with_audit_key(master.audit_key());
    if migrate {
        store
            .migrate()
            .await
            .map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
    }
    // Once per database: seal the heads of audit chains older than keyed hashes.
    store
        .seal_legacy_audit_heads(clock.now())
        .await
        .map_err(|e| anyhow::anyhow!("sealing the audit chains: {e}"))?;
    let redis = match &common.redis_url {
        Some(url) => Some(connect_redis(url).await?),
        None => None,
    };
    let config = AuthConfig {
        token_horizon: Duration::seconds(env.token_ttl_secs + TOKEN_LEEWAY_SECS + 60),
        session_idle: Duration::seconds(env.session_idle_secs),
        ..AuthConfig::default()
    };
    // A retired key stays published for the longest lifetime *any* instance may give a
    // token, not this process's: `tollgate keys rotate` may run with another configuration
    // than the servers that signed with the key.
    let retire_grace = Duration::seconds(MAX_TOKEN_TTL_SECS + TOKEN_LEEWAY_SECS + 60);
    // Webhook signing secrets are read back to sign, so they are sealed under the master key.
    let sealer: Arc<dyn tollgate_core::webhook::SecretBox> = Arc::new(master.clone());
    // Tenants' identity-provider client secrets are sealed under it too.
    let oidc_sealer = master.clone();
    let redirect_uri = format!("{}/v1/session/oidc/callback", issuer.trim_end_matches('/'));
    let keyring = Arc::new(
        Keyring::open(store.clone(), master, clock.clone(), retire_grace)
            .await
            .map_err(|e| anyhow::anyhow!("signing keys: {e}"))?,
    );
    let tokens = Arc::new(TokenService::new(
        keyring,
        clock.clone(),
        issuer,
        env.audience.clone(),
        Duration::seconds(env.token_ttl_secs),
        TOKEN_LEEWAY_SECS,
    ));
    let denylist = Arc::new(
        Denylist::open(
            store.clone(),
            redis.clone(),
            &env.redis_prefix,
            clock.clone(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("revocations: {e}"))?,
    );
    let attempts: Arc<dyn AttemptLimiter> = match &redis {
        Some(conn) => Arc::new(RedisAttempts::new(
            conn.clone(),
            &env.redis_prefix,
            clock.clone(),
        )),
        None => Arc::new(LocalAttempts::new(clock.clone())),
    };
    let authenticator = Arc::new(Authenticator::new(
        tokens.clone(),
        denylist.clone(),
        store.clone(),
        clock.clone(),
        attempts.clone(),
    ));
    let passwords =
        PasswordHasherPool::new(PasswordParams::OWASP).map_err(|e| anyhow::anyhow!("{e}"))?;
    let anonymous = tollgate_auth::anonymous::AnonymousAudit::new(clock.clone());
    let auth = Arc::new(AuthService {
        store: store.clone(),
        clock,
        passwords,
        tokens,
        denylist,
        authenticator,
        attempts,
        anonymous,
        config,
        password_checks: Default::default(),
    });
    let mut policy = env.billing.policy;
    policy.stripe_sync = env.stripe.is_some();
    let billing =
        tollgate_billing::Billing::new(store.clone(), auth.clock.clone()).with_policy(policy);
    let stripe = env
        .stripe
        .as_ref()
        .map(|s| {
            tollgate_billing::stripe_sync::StripeSync::new(
                s.client.clone(),
                store.clone(),
                auth.clock.clone(),
            )
        })
        .transpose()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let webhooks = tollgate_webhooks::Webhooks::new(
        store.clone(),
        sealer,
        auth.clock.clone(),
        env.webhooks.clone(),
    );
    let oidc = tollgate_auth::oidc::Oidc::new(auth.clone(), oidc_sealer, redirect_uri)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Services {
        store,
        redis,
        auth,
        billing,
        stripe,
        webhooks,
        oidc,
    })
}
