//! Portal sign-in with a tenant's own OpenID Connect provider: the authorization code flow
//! with PKCE (S256), a `state` bound to the browser by a cookie and used once, a `nonce` the
//! ID token must carry, and the email's domain checked against the one the operator allowed.
//! The relying party is the `openidconnect` crate (discovery, code exchange, ID token
//! signature, issuer, audience, expiry and nonce checks); this module decides who may sign in.
//!
//! The provider is configured per tenant by the operator ([`Oidc::configure`]), its discovery
//! document checked and pinned then; the sign-in page finds the tenant from the email's domain
//! (unique across tenants). `checks` holds the pure checks, `reach` every request to a
//! provider (held to the issuer's network), `signin` the callback and who it signs in.

mod checks;
mod reach;
mod signin;

pub use checks::check_domain;

use crate::master::MasterKey;
use crate::secret::{digest, random_base62};
use crate::service::{AuthService, RequestCtx};
use checks::{check_issuer, email_domain, invalid, visible_ascii, Network};
use chrono::Duration;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, RedirectUrl, Scope,
};
use reach::Reach;
use std::sync::Arc;
use tollgate_core::net::address_bucket;
use tollgate_core::{Code, DomainError, Role, TenantId};
use tollgate_store::audit::NewAuditEvent;
use tollgate_store::oidc::{OidcLogin, TenantOidc};

/// How long a sign-in may take between its start and the provider's callback.
pub const LOGIN_TTL_SECS: i64 = 600;
/// Sign-in starts one address may make in the limiter's window before it is slowed down.
const STARTS_PER_ADDRESS: u32 = 300;
/// Failed callbacks one address may cause in the limiter's window.
const FAILED_CALLBACKS_PER_ADDRESS: u32 = 20;

/// What the operator sets for a tenant.
#[derive(Clone)]
pub struct OidcSettings {
    /// The provider's issuer URL (`https://`, or `http://` on a loopback host).
    pub issuer: String,
    /// The client id Tollgate is registered with at the provider.
    pub client_id: String,
    /// Its client secret (sealed at rest; never returned).
    pub client_secret: String,
    /// People with emails at this domain sign in to this tenant.
    pub allowed_domain: String,
    /// The role a person gets on first sign-in: viewer or admin.
    pub default_role: Role,
}

impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("allowed_domain", &self.allowed_domain)
            .field("default_role", &self.default_role)
            .finish_non_exhaustive()
    }
}

/// A tenant's provider as shown to the operator (no secret).
#[derive(Debug, Clone)]
pub struct OidcView {
    /// Tenant.
    pub tenant: TenantId,
    /// Issuer, as its discovery document states it.
    pub issuer: String,
    /// Client id.
    pub client_id: String,
    /// Email domain.
    pub allowed_domain: String,
    /// First sign-in role.
    pub default_role: Role,
    /// The redirect URI to register at the provider.
    pub redirect_uri: String,
}

/// A sign-in started: send the browser to `redirect`, with `state` in its cookie.
#[derive(Debug)]
pub struct Started {
    /// The provider's authorization URL.
    pub redirect: String,
    /// The state, for the browser's cookie (secret).
    pub state: String,
}

/// The provider's callback, as the browser brought it.
#[derive(Debug, Default)]
pub struct Callback {
    /// `state` parameter.
    pub state: Option<String>,
    /// `code` parameter.
    pub code: Option<String>,
    /// `error` parameter (the provider refused).
    pub error: Option<String>,
    /// `iss` parameter (RFC 9207), when the provider sends it.
    pub iss: Option<String>,
    /// The state cookie this browser holds.
    pub cookie_state: Option<String>,
}

/// OpenID Connect sign-in.
#[derive(Clone)]
pub struct Oidc {
    auth: Arc<AuthService>,
    sealer: MasterKey,
    /// For providers on public hosts.
    public: Reach,
    /// For providers on this host (development and tests).
    this_host: Reach,
    redirect_uri: String,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

impl Oidc {
    /// Sign-in for a server whose callback is `redirect_uri`
    /// (`<public URL>/v1/session/oidc/callback`).
    pub fn new(
        auth: Arc<AuthService>,
        sealer: MasterKey,
        redirect_uri: String,
    ) -> Result<Self, DomainError> {
        Ok(Self {
            auth,
            sealer,
            public: Reach::new(Network::Public)?,
            this_host: Reach::new(Network::ThisHost)?,
            redirect_uri,
        })
    }

    /// The redirect URI providers must have registered.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The client for `issuer`'s provider (its network decided by the issuer's host).
    fn reach(&self, issuer: &IssuerUrl) -> &Reach {
        match Network::of(issuer.url()) {
            Network::Public => &self.public,
            Network::ThisHost => &self.this_host,
        }
    }

    /// The provider's pinned discovery document (checked at configuration). A provider
    /// configured before documents were pinned has its document fetched, checked and pinned
    /// now.
    async fn metadata(&self, row: &TenantOidc) -> Result<CoreProviderMetadata, DomainError> {
        if let Some(json) = &row.provider_metadata {
            return serde_json::from_str(json)
                .map_err(|e| DomainError::internal(format!("a pinned discovery document: {e}")));
        }
        let issuer = stored_issuer(row)?;
        let metadata = self.reach(&issuer).discover(issuer).await.map_err(|e| {
            tracing::warn!(error = %e, "pinning an identity provider's discovery failed");
            unreachable_provider()
        })?;
        let json = serde_json::to_string(&metadata)
            .map_err(|e| DomainError::internal(format!("a discovery document: {e}")))?;
        self.auth
            .store
            .pin_tenant_oidc_metadata(TenantId(row.tenant_id), &row.issuer, &json)
            .await?;
        Ok(metadata)
    }

    fn aad(tenant: TenantId) -> String {
        format!("tenant_oidc:{tenant}")
    }

    fn view(&self, row: &TenantOidc) -> Result<OidcView, DomainError> {
        Ok(OidcView {
            tenant: TenantId(row.tenant_id),
            issuer: row.issuer.clone(),
            client_id: row.client_id.clone(),
            allowed_domain: row.allowed_domain.clone(),
            default_role: Role::parse(&row.default_role)?,
            redirect_uri: self.redirect_uri.clone(),
        })
    }

    /// Sets `tenant`'s provider after checking each setting and fetching the issuer's
    /// discovery document (so a typo fails here, not at a person's first sign-in). The
    /// document is pinned: sign-ins use the endpoints checked here. Members linked to
    /// identities of another issuer are unlinked; another tenant's members at the domain
    /// make it 409 `oidc_domain_in_use`.
    pub async fn configure(
        &self,
        tenant: TenantId,
        settings: OidcSettings,
        actor: &str,
        ctx: &RequestCtx,
    ) -> Result<OidcView, DomainError> {
        if tenant.is_platform() {
            return Err(DomainError::invalid(
                Code::PlatformTenant,
                "the platform tenant has no portal members",
            ));
        }
        self.auth.store.tenant(tenant).await?;
        let issuer = check_issuer(&settings.issuer)?;
        if !visible_ascii(&settings.client_id, 255) {
            return Err(invalid(
                "the client id must be 1 to 255 visible ASCII characters",
            ));
        }
        if !visible_ascii(&settings.client_secret, 1024) {
            return Err(invalid(
                "the client secret must be 1 to 1024 visible ASCII characters",
            ));
        }
        let domain = check_domain(&settings.allowed_domain)?;
        if settings.default_role == Role::Owner {
            return Err(invalid(
                "the role of new people must be viewer or admin (owners are made by owners)",
            ));
        }
        let metadata = self.reach(&issuer).discover(issuer).await?;
        let now = self.auth.clock.now();
        let row = TenantOidc {
            tenant_id: tenant.0,
            issuer: metadata.issuer().to_string(),
            client_id: settings.client_id,
            client_secret_sealed: self
                .sealer
                .seal(&Self::aad(tenant), settings.client_secret.as_bytes())?,
            allowed_domain: domain,
            default_role: settings.default_role.as_str().to_owned(),
            provider_metadata: Some(
                serde_json::to_string(&metadata)
                    .map_err(|e| DomainError::internal(format!("a discovery document: {e}")))?,
            ),
            created_at: now,
            updated_at: now,
        };
        let event = NewAuditEvent::new(actor, "oidc.configured", ctx, now)
            .tenant(Some(tenant))
            .target(Some(format!("tenant:{tenant}")));
        // The domain is claimed under its lock, against a member being added at it meanwhile.
        let _claims = self.auth.store.domain_claims().await;
        self.auth
            .store
            .audited(Some(tenant), |txn| {
                let (store, row, event) = (self.auth.store.clone(), row.clone(), event.clone());
                Box::pin(async move {
                    let domain = &row.allowed_domain;
                    store.lock_email_domain(txn, domain).await?;
                    let elsewhere = store
                        .members_at_domain_elsewhere(txn, tenant, domain)
                        .await?;
                    if elsewhere > 0 {
                        return Err(DomainError::conflict(
                            Code::OidcDomainInUse,
                            format!(
                                "{elsewhere} member(s) of other tenants have emails at {domain}"
                            ),
                        ));
                    }
                    let detail = serde_json::json!({
                        "issuer": row.issuer,
                        "client_id": row.client_id,
                        "allowed_domain": row.allowed_domain,
                        "default_role": row.default_role,
                    });
                    let unlinked = store.set_tenant_oidc(txn, row).await?;
                    let mut detail = detail;
                    detail["members_unlinked"] = unlinked.into();
                    Ok(Some(((), event.detail(detail))))
                })
            })
            .await?;
        self.view(&row)
    }

    /// `tenant`'s provider (404 when it has none).
    pub async fn get(&self, tenant: TenantId) -> Result<OidcView, DomainError> {
        let row = self
            .auth
            .store
            .tenant_oidc(tenant)
            .await?
            .ok_or(DomainError::NotFound("identity provider"))?;
        self.view(&row)
    }

    /// Removes `tenant`'s provider (404 when it has none). Members keep their accounts.
    pub async fn remove(
        &self,
        tenant: TenantId,
        actor: &str,
        ctx: &RequestCtx,
    ) -> Result<(), DomainError> {
        let event = NewAuditEvent::new(actor, "oidc.removed", ctx, self.auth.clock.now())
            .tenant(Some(tenant))
            .target(Some(format!("tenant:{tenant}")));
        let removed = self
            .auth
            .store
            .audited(Some(tenant), |txn| {
                let (store, event) = (self.auth.store.clone(), event.clone());
                Box::pin(async move {
                    let had = store.delete_tenant_oidc(txn, tenant).await?;
                    Ok(had.then_some(((), event)))
                })
            })
            .await?;
        removed
            .map(|_| ())
            .ok_or(DomainError::NotFound("identity provider"))
    }

    fn client(
        &self,
        row: &TenantOidc,
        metadata: CoreProviderMetadata,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        DomainError,
    > {
        let secret = self.sealer.open(
            &Self::aad(TenantId(row.tenant_id)),
            &row.client_secret_sealed,
        )?;
        let secret = String::from_utf8(secret)
            .map_err(|_| DomainError::internal("a sealed client secret is not UTF-8"))?;
        let redirect = RedirectUrl::new(self.redirect_uri.clone())
            .map_err(|_| DomainError::internal("the public URL is not a URL"))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(row.client_id.clone()),
            Some(ClientSecret::new(secret)),
        )
        .set_redirect_uri(redirect))
    }

    /// Starts a sign-in for `email`: the provider of its domain's tenant, an authorization
    /// URL with a fresh state, nonce and PKCE challenge (stored for the callback).
    pub async fn start(&self, email: &str, ctx: &RequestCtx) -> Result<Started, DomainError> {
        let ip_key = format!("oidc-start:{}", address_bucket(ctx.ip.as_deref()));
        if let Some(retry_after) = self.auth.attempts.blocked(&ip_key).await {
            return Err(DomainError::TooManyAttempts { retry_after });
        }
        // Every start is counted: each one stores a row until it expires.
        self.auth
            .attempts
            .failure(&ip_key, STARTS_PER_ADDRESS)
            .await;
        let (email, domain) = email_domain(email.trim())
            .ok_or_else(|| DomainError::invalid(Code::InvalidEmail, "not a valid email address"))?;
        let row = self
            .auth
            .store
            .tenant_oidc_by_domain(self.auth.store.conn(), &domain)
            .await?
            .ok_or_else(|| {
                DomainError::invalid(
                    Code::OidcNotConfigured,
                    "no identity provider signs in people of this email's domain",
                )
            })?;
        let metadata = self.metadata(&row).await?;
        let client = self.client(&row, metadata)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = random_base62(43);
        let nonce = random_base62(43);
        let (url, _, _) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                {
                    let state = state.clone();
                    move || CsrfToken::new(state)
                },
                {
                    let nonce = nonce.clone();
                    move || Nonce::new(nonce)
                },
            )
            .add_scope(Scope::new("email".into()))
            .add_extra_param("login_hint", email)
            .set_pkce_challenge(challenge)
            .url();
        let now = self.auth.clock.now();
        self.auth
            .store
            .create_oidc_login(OidcLogin {
                state_hash: digest(&state),
                tenant_id: row.tenant_id,
                nonce,
                pkce_verifier: verifier.secret().clone(),
                created_at: now,
                expires_at: now + Duration::seconds(LOGIN_TTL_SECS),
            })
            .await?;
        Ok(Started {
            redirect: url.to_string(),
            state,
        })
    }
}

/// The stored issuer of `row` as a URL.
fn stored_issuer(row: &TenantOidc) -> Result<IssuerUrl, DomainError> {
    IssuerUrl::new(row.issuer.clone())
        .map_err(|_| DomainError::internal("a stored issuer is not a URL"))
}

/// The provider could not be reached, or answered what is not OpenID Connect.
fn unreachable_provider() -> DomainError {
    DomainError::invalid(
        Code::OidcProviderUnavailable,
        "the identity provider could not be reached",
    )
}
