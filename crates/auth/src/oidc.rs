//! Portal sign-in with a tenant's own OpenID Connect provider: the authorization code flow
//! with PKCE (S256), a `state` bound to the browser by a cookie and used once, a `nonce` the
//! ID token must carry, and the email's domain checked against the one the operator allowed.
//! The relying party is the `openidconnect` crate (discovery, code exchange, ID token
//! signature, issuer, audience, expiry and nonce checks); this module decides who may sign in.
//!
//! The provider is configured per tenant by the operator ([`Oidc::configure`]); the sign-in
//! page finds the tenant from the email's domain (unique across tenants).

use crate::anonymous::Subject;
use crate::master::MasterKey;
use crate::secret::{digest, digests_equal, random_base62};
use crate::service::{AuthService, LoginOutcome, RequestCtx};
use chrono::Duration;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    TokenResponse,
};
use std::sync::Arc;
use tollgate_core::{AdminId, Code, DomainError, Role, TenantId};
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
    http: reqwest::Client,
    redirect_uri: String,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

fn invalid(detail: &str) -> DomainError {
    DomainError::invalid(Code::InvalidOidcConfig, detail)
}

fn refused(code: Code, detail: &str) -> DomainError {
    DomainError::invalid(code, detail)
}

fn visible_ascii(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_graphic())
}

/// The issuer, if it is an absolute `https` URL (or `http` on a loopback host) without
/// credentials, query or fragment.
fn check_issuer(issuer: &str) -> Result<IssuerUrl, DomainError> {
    if !visible_ascii(issuer, 512) {
        return Err(invalid("the issuer must be a URL of visible ASCII"));
    }
    let url = openidconnect::url::Url::parse(issuer)
        .map_err(|_| invalid("the issuer is not an absolute URL"))?;
    let loopback = matches!(
        url.host(),
        Some(openidconnect::url::Host::Domain("localhost"))
            | Some(openidconnect::url::Host::Ipv4(
                std::net::Ipv4Addr::LOCALHOST
            ))
            | Some(openidconnect::url::Host::Ipv6(
                std::net::Ipv6Addr::LOCALHOST
            ))
    );
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && loopback);
    if !scheme_ok
        || !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(invalid(
            "the issuer must be https (http only on a loopback host), without credentials, query or fragment",
        ));
    }
    IssuerUrl::new(issuer.to_owned()).map_err(|_| invalid("the issuer is not a URL"))
}

/// A lower-case DNS name of at least two labels (IDNs as punycode).
pub fn check_domain(domain: &str) -> Result<String, DomainError> {
    let bad = || invalid("the email domain must be a DNS name like example.com (IDNs in punycode)");
    if domain.is_empty() || domain.len() > 253 || !domain.is_ascii() {
        return Err(bad());
    }
    let domain = domain.to_ascii_lowercase();
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(bad());
    }
    Ok(domain)
}

/// The domain of an ASCII email address, lower-cased (`None`: not one address).
fn email_domain(email: &str) -> Option<(String, String)> {
    if !visible_ascii(email, 320) {
        return None;
    }
    let email = email.to_ascii_lowercase();
    let (local, domain) = email.split_once('@')?;
    if local.is_empty() || domain.contains('@') {
        return None;
    }
    let domain = check_domain(domain).ok()?;
    Some((email.clone(), domain))
}

impl Oidc {
    /// Sign-in for a server whose callback is `redirect_uri`
    /// (`<public URL>/v1/session/oidc/callback`).
    pub fn new(
        auth: Arc<AuthService>,
        sealer: MasterKey,
        redirect_uri: String,
    ) -> Result<Self, DomainError> {
        // No redirects: a provider's endpoints are where its discovery says (and following
        // redirects would let one send Tollgate's requests elsewhere).
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| DomainError::internal(format!("http client: {e}")))?;
        Ok(Self {
            auth,
            sealer,
            http,
            redirect_uri,
        })
    }

    /// The redirect URI providers must have registered.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    async fn discover(&self, issuer: IssuerUrl) -> Result<CoreProviderMetadata, DomainError> {
        CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "OpenID discovery failed");
                DomainError::invalid(
                    Code::OidcDiscoveryFailed,
                    "the issuer's OpenID configuration could not be fetched or read",
                )
            })
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
    /// discovery document (so a typo fails here, not at a person's first sign-in).
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
        let metadata = self.discover(issuer).await?;
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
            created_at: now,
            updated_at: now,
        };
        self.auth.store.set_tenant_oidc(row.clone()).await?;
        self.auth
            .audit(
                Some(tenant),
                actor,
                "oidc.configured",
                Some(format!("tenant:{tenant}")),
                crate::service::SUCCESS,
                ctx,
                serde_json::json!({
                    "issuer": row.issuer,
                    "client_id": row.client_id,
                    "allowed_domain": row.allowed_domain,
                    "default_role": row.default_role,
                }),
            )
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
        if !self.auth.store.delete_tenant_oidc(tenant).await? {
            return Err(DomainError::NotFound("identity provider"));
        }
        self.auth
            .audit(
                Some(tenant),
                actor,
                "oidc.removed",
                Some(format!("tenant:{tenant}")),
                crate::service::SUCCESS,
                ctx,
                serde_json::json!({}),
            )
            .await
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
        let ip_key = format!("oidc-start:{}", ctx.ip.as_deref().unwrap_or("unknown"));
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
            .tenant_oidc_by_domain(&domain)
            .await?
            .ok_or_else(|| {
                DomainError::invalid(
                    Code::OidcNotConfigured,
                    "no identity provider signs in people of this email's domain",
                )
            })?;
        let issuer = IssuerUrl::new(row.issuer.clone())
            .map_err(|_| DomainError::internal("a stored issuer is not a URL"))?;
        let metadata = self.discover(issuer).await.map_err(|_| {
            DomainError::Unavailable("the identity provider could not be reached".into())
        })?;
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

    /// Finishes a sign-in at the provider's callback: a portal session of the member with
    /// the verified email (created with the tenant's default role on first sign-in). Every
    /// refusal is audited and counted against the caller's address.
    pub async fn finish(
        &self,
        callback: Callback,
        ctx: &RequestCtx,
    ) -> Result<LoginOutcome, DomainError> {
        let ip_key = format!("oidc-callback:{}", ctx.ip.as_deref().unwrap_or("unknown"));
        if let Some(retry_after) = self.auth.attempts.blocked(&ip_key).await {
            return Err(DomainError::TooManyAttempts { retry_after });
        }
        let mut tenant = None;
        let out = self.verify(callback, &mut tenant).await;
        match out {
            Ok(admin) => {
                let detail = serde_json::json!({ "method": "oidc" });
                self.auth.open_session(&admin, ctx, detail).await
            }
            Err(e) => {
                self.auth
                    .attempts
                    .failure(&ip_key, FAILED_CALLBACKS_PER_ADDRESS)
                    .await;
                let subject = Subject {
                    tenant,
                    action: "login",
                    target: None,
                    reason: e.code().as_str(),
                };
                self.auth.audit_anonymous_failure(subject, ctx).await?;
                Err(e)
            }
        }
    }

    async fn verify(
        &self,
        callback: Callback,
        tenant_seen: &mut Option<TenantId>,
    ) -> Result<tollgate_store::admins::Admin, DomainError> {
        let state_refused = || {
            refused(
                Code::OidcStateInvalid,
                "this sign-in is not this browser's, was used already or expired: start again",
            )
        };
        let (Some(state), Some(cookie)) = (&callback.state, &callback.cookie_state) else {
            return Err(state_refused());
        };
        if !digests_equal(state, cookie) {
            return Err(state_refused());
        }
        let now = self.auth.clock.now();
        let login = self
            .auth
            .store
            .take_oidc_login(&digest(state), now)
            .await?
            .ok_or_else(state_refused)?;
        let tenant = TenantId(login.tenant_id);
        *tenant_seen = Some(tenant);
        let row = self.auth.store.tenant_oidc(tenant).await?.ok_or_else(|| {
            refused(
                Code::OidcNotConfigured,
                "the tenant's identity provider was removed",
            )
        })?;
        if callback.error.is_some() {
            return Err(DomainError::invalid(
                Code::OidcDenied,
                "the identity provider did not sign you in",
            ));
        }
        if callback.iss.as_deref().is_some_and(|iss| iss != row.issuer) {
            return Err(refused(
                Code::OidcIssuerMismatch,
                "the callback names another issuer than the tenant's",
            ));
        }
        let code = callback
            .code
            .filter(|c| visible_ascii(c, 2048))
            .ok_or_else(|| refused(Code::OidcCodeRefused, "the callback carries no code"))?;
        let issuer = IssuerUrl::new(row.issuer.clone())
            .map_err(|_| DomainError::internal("a stored issuer is not a URL"))?;
        let metadata = self.discover(issuer).await.map_err(|_| {
            DomainError::Unavailable("the identity provider could not be reached".into())
        })?;
        let client = self.client(&row, metadata)?;
        let exchange = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|_| {
                DomainError::Unavailable("the identity provider has no token endpoint".into())
            })?
            .set_pkce_verifier(PkceCodeVerifier::new(login.pkce_verifier));
        let tokens = exchange
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(_) => refused(
                    Code::OidcCodeRefused,
                    "the identity provider refused the code (used, expired or not this sign-in's)",
                ),
                other => {
                    tracing::warn!(error = %other, "OpenID code exchange failed");
                    DomainError::Unavailable("the identity provider could not be reached".into())
                }
            })?;
        let token_invalid = || refused(Code::OidcTokenInvalid, "the ID token did not verify");
        let id_token = tokens.id_token().ok_or_else(token_invalid)?;
        let claims = id_token
            .claims(&client.id_token_verifier(), &Nonce::new(login.nonce))
            .map_err(|e| match e {
                ClaimsVerificationError::InvalidNonce(_) => refused(
                    Code::OidcNonceMismatch,
                    "the ID token's nonce is not this sign-in's",
                ),
                other => {
                    tracing::info!(error = %other, "an ID token did not verify");
                    token_invalid()
                }
            })?;
        let unverified = || {
            refused(
                Code::OidcEmailUnverified,
                "the identity provider gave no verified email",
            )
        };
        let email = claims.email().ok_or_else(unverified)?;
        if claims.email_verified() != Some(true) {
            return Err(unverified());
        }
        let (email, domain) = email_domain(email.as_str()).ok_or_else(unverified)?;
        if domain != row.allowed_domain {
            return Err(refused(
                Code::OidcEmailDomain,
                "your email is outside the domain this tenant allows",
            ));
        }
        let subject = claims.subject().as_str().to_owned();
        self.member(tenant, &row, &email, &subject).await
    }

    /// The member `email` of `tenant`, linked to `subject` (created on first sign-in).
    async fn member(
        &self,
        tenant: TenantId,
        row: &TenantOidc,
        email: &str,
        subject: &str,
    ) -> Result<tollgate_store::admins::Admin, DomainError> {
        let store = &self.auth.store;
        let mut existing = store.admin_by_email(email).await?;
        if existing.is_none() {
            let role = Role::parse(&row.default_role)?;
            // A password no one is told: this member signs in with the provider.
            let hash = self.auth.passwords.hash(random_base62(32)).await?;
            match store
                .create_oidc_admin(tenant, email, &hash, role, subject, self.auth.clock.now())
                .await
            {
                Ok(admin) => {
                    self.auth
                        .audit(
                            Some(tenant),
                            &format!("admin:{}", admin.id),
                            "member.created",
                            Some(format!("admin:{}", admin.id)),
                            crate::service::SUCCESS,
                            &RequestCtx::default(),
                            serde_json::json!({ "role": role.as_str(), "via": "oidc" }),
                        )
                        .await?;
                    return Ok(admin);
                }
                // Created meanwhile (two first sign-ins at once): the checks below apply.
                Err(DomainError::Conflict { .. }) => existing = store.admin_by_email(email).await?,
                Err(e) => return Err(e),
            }
        }
        let admin = existing.ok_or(DomainError::NotFound("member"))?;
        if admin.tenant_id != tenant.0 {
            return Err(DomainError::conflict(
                Code::OidcEmailInUse,
                "this email belongs to a member of another tenant",
            ));
        }
        let mismatch = || {
            refused(
                Code::OidcSubjectMismatch,
                "this member signed in as another person of the identity provider before",
            )
        };
        match admin.oidc_subject.as_deref() {
            Some(linked) if linked == subject => {}
            Some(_) => return Err(mismatch()),
            None => {
                if !store
                    .link_oidc_subject(tenant, AdminId(admin.id), subject)
                    .await?
                {
                    return Err(mismatch());
                }
            }
        }
        if admin.must_change_password {
            // Their one-time password was never used: the provider vouches for them now, and
            // the one-time password (which whoever made the member knows) stops working.
            let hash = self.auth.passwords.hash(random_base62(32)).await?;
            store
                .retire_one_time_password(tenant, AdminId(admin.id), &admin.password_hash, &hash)
                .await?;
        }
        store.admin(tenant, AdminId(admin.id)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_are_https_or_loopback_http() {
        for ok in [
            "https://login.example.com",
            "https://login.example.com/realms/acme",
            "http://127.0.0.1:8081",
            "http://localhost:9000",
            "http://[::1]:9000",
        ] {
            assert!(check_issuer(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://login.example.com",
            "http://127.0.0.2:80",
            "https://user:pw@login.example.com",
            "https://login.example.com/?a=b",
            "https://login.example.com/#x",
            "ftp://login.example.com",
            "login.example.com",
            "https://login.example.com/ x",
            "",
        ] {
            assert_eq!(
                check_issuer(bad).map(|_| ()).map_err(|e| e.code()),
                Err(Code::InvalidOidcConfig),
                "{bad}"
            );
        }
    }

    #[test]
    fn domains_are_checked_label_by_label() {
        assert_eq!(check_domain("Acme.Test").unwrap(), "acme.test");
        assert_eq!(
            check_domain("xn--bcher-kva.example").unwrap(),
            "xn--bcher-kva.example"
        );
        for bad in [
            "",
            "acme",
            ".acme.test",
            "acme.test.",
            "acme..test",
            "-acme.test",
            "acme-.test",
            "ac me.test",
            "acme.test ",
            "bücher.example",
            "acme.te\u{212A}t",
            "a@acme.test",
            "acme_x.test",
        ] {
            assert!(check_domain(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_email_has_one_at_and_a_checked_domain() {
        assert_eq!(
            email_domain("Alice@ACME.test"),
            Some(("alice@acme.test".into(), "acme.test".into()))
        );
        for bad in [
            "alice",
            "@acme.test",
            "a@b@acme.test",
            "alice@acme",
            "alice @acme.test",
            "alice@acme.test\n",
            "ålice@acme.test",
            "alice@\u{212A}.test",
        ] {
            assert_eq!(email_domain(bad), None, "{bad:?}");
        }
    }
}
