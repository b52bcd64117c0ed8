//! Portal sign-in with the tenant's identity provider (OpenID Connect authorization code +
//! PKCE), and the operator's per-tenant provider settings.
//!
//! `start` is the portal page's JSON call (same-origin only); `callback` is the browser's
//! navigation back from the provider and answers a 303: a refusal sends the browser back to
//! the portal with `?oidc_error=<code>`, the same stable code a problem document would carry,
//! which the sign-in page explains.

use super::members::RoleName;
use super::{ctx, Tag};
use crate::problem::ApiResult;
use crate::security::ApiCaller;
use crate::state::AppState;
use poem::web::Data;
use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::sync::Arc;
use tollgate_auth::oidc::{Callback, OidcSettings, OidcView, LOGIN_TTL_SECS};
use tollgate_core::{DomainError, TenantId};

/// The cookie binding a sign-in's `state` to the browser that started it. `SameSite=Lax`:
/// it must come back on the provider's redirect, a cross-site top-level navigation.
pub const OIDC_COOKIE: &str = "tollgate_oidc";
const OIDC_COOKIE_PATH: &str = "/v1/session/oidc";
/// Where the browser goes after signing in, or with `?oidc_error=` after a refusal.
const PORTAL: &str = "/admin/";

/// How the callback's answer is described in the spec.
#[derive(ApiResponse)]
#[expect(
    dead_code,
    reason = "only its metadata is used: `Redirect` is the answer sent"
)]
enum RedirectSpec {
    /// See `Location`: the portal (signed in, or with `?oidc_error=<code>`). `Set-Cookie`
    /// clears the sign-in's state cookie and, signed in, sets the session cookie.
    #[oai(status = 303)]
    SeeOther(
        #[oai(header = "Location")] String,
        #[oai(header = "Set-Cookie")] String,
        #[oai(header = "Cache-Control")] String,
    ),
}

/// A browser redirect setting any number of cookies (poem-openapi's derived responses hold
/// one value per header name).
pub struct Redirect {
    location: String,
    cookies: Vec<String>,
}

impl poem::IntoResponse for Redirect {
    fn into_response(self) -> poem::Response {
        let mut resp = poem::Response::builder()
            .status(poem::http::StatusCode::SEE_OTHER)
            .header(poem::http::header::LOCATION, self.location)
            .header(poem::http::header::CACHE_CONTROL, "no-store");
        for cookie in self.cookies {
            resp = resp.header(poem::http::header::SET_COOKIE, cookie);
        }
        resp.finish()
    }
}

impl ApiResponse for Redirect {
    fn meta() -> poem_openapi::registry::MetaResponses {
        RedirectSpec::meta()
    }

    fn register(registry: &mut poem_openapi::registry::Registry) {
        RedirectSpec::register(registry);
    }
}

/// Who is signing in.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct OidcStart {
    /// The person's work email; its domain says which tenant's provider signs them in.
    #[oai(validator(max_length = 320))]
    pub email: String,
}

/// Where the browser goes next.
#[derive(Debug, Object)]
pub struct OidcStarted {
    /// The identity provider's authorization URL: navigate the page there.
    pub authorize_url: String,
}

/// A started sign-in.
#[derive(ApiResponse)]
pub enum Started {
    /// Started; the state cookie is set.
    #[oai(status = 200)]
    Ok(
        Json<OidcStarted>,
        #[oai(header = "Set-Cookie")] String,
        #[oai(header = "Cache-Control")] String,
    ),
}

/// A tenant's identity provider, as the operator sets it.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct OidcConfigBody {
    /// The provider's issuer URL: `https://`, or `http://` on a loopback host. Its discovery
    /// document (`/.well-known/openid-configuration`) is fetched to check it.
    #[oai(validator(max_length = 512))]
    pub issuer: String,
    /// The client id Tollgate is registered with at the provider.
    #[oai(validator(max_length = 255))]
    pub client_id: String,
    /// Its client secret (stored encrypted; never returned).
    #[oai(validator(max_length = 1024))]
    pub client_secret: String,
    /// People whose verified email is at this domain sign in to this tenant (one tenant per
    /// domain; IDNs in punycode).
    #[oai(validator(max_length = 253))]
    pub allowed_domain: String,
    /// The role a person gets on first sign-in: `viewer` or `admin`.
    pub default_role: RoleName,
}

impl std::fmt::Debug for OidcConfigBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcConfigBody")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

/// A tenant's identity provider (the secret is never shown).
#[derive(Debug, Object)]
pub struct OidcConfig {
    /// Tenant id.
    pub tenant_id: String,
    /// Issuer, as its discovery document states it.
    pub issuer: String,
    /// Client id.
    pub client_id: String,
    /// Email domain.
    pub allowed_domain: String,
    /// The role of people on first sign-in.
    pub default_role: RoleName,
    /// The redirect URI to register at the provider for this client.
    pub redirect_uri: String,
}

impl From<OidcView> for OidcConfig {
    fn from(v: OidcView) -> Self {
        Self {
            tenant_id: v.tenant.to_string(),
            issuer: v.issuer,
            client_id: v.client_id,
            allowed_domain: v.allowed_domain,
            default_role: v.default_role.into(),
            redirect_uri: v.redirect_uri,
        }
    }
}

/// Removal answer.
#[derive(ApiResponse)]
pub enum Removed {
    /// Removed; members keep their accounts.
    #[oai(status = 204)]
    Done,
}

/// OpenID Connect sign-in and its settings.
pub struct OidcApi;

fn state_cookie(state: &AppState, req: &Request, value: &str, max_age: i64) -> String {
    format!(
        "{OIDC_COOKIE}={value}; Path={OIDC_COOKIE_PATH}; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        super::session::secure_attr(state, req)
    )
}

/// The value of cookie `name` in the request; `None` when it is sent more than once (a
/// sibling domain can plant a second one, and which the browser sends first is not ours to
/// choose).
fn cookie_value(req: &Request, name: &str) -> Option<String> {
    let mut values = req
        .headers()
        .get_all(poem::http::header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned());
    let first = values.next()?;
    values.next().is_none().then_some(first)
}

/// Back to the portal's sign-in page with the refusal's code (the state cookie cleared).
fn refused(state: &AppState, req: &Request, e: &DomainError) -> Redirect {
    if matches!(e, DomainError::Internal(_)) {
        tracing::error!(error = %e, "OpenID sign-in failed");
    }
    Redirect {
        location: format!("{PORTAL}?oidc_error={}", e.code().as_str()),
        cookies: vec![state_cookie(state, req, "", 0)],
    }
}

fn tenant_of(id: &str) -> Result<TenantId, DomainError> {
    id.parse().map_err(|_| DomainError::NotFound("tenant"))
}

#[OpenApi]
impl OidcApi {
    /// Start signing in with the identity provider of the email's domain.
    ///
    /// Answers the provider's authorization URL (authorization code flow with PKCE S256, a
    /// fresh `state` and `nonce`) for the page to navigate to, and sets the `state` in an
    /// HttpOnly cookie valid for 10 minutes. A JSON body, and a browser's `Sec-Fetch-Site`
    /// of `same-origin` when it sends one: another site cannot start a sign-in in a
    /// visitor's browser (and so cannot sign them in to an account of its choosing).
    ///
    /// **Permissions**: none.
    #[oai(
        path = "/v1/session/oidc/start",
        method = "post",
        tag = "Tag::Session",
        operation_id = "startOidcLogin"
    )]
    async fn start(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Json<OidcStart>,
    ) -> ApiResult<Started> {
        let site = req
            .headers()
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok());
        if site.is_some_and(|s| s != "same-origin") {
            return Err(DomainError::Forbidden(
                "an identity-provider sign-in starts from the portal's own page".into(),
            )
            .into());
        }
        let started = state.oidc.start(&body.0.email, &ctx(req)).await?;
        Ok(Started::Ok(
            Json(OidcStarted {
                authorize_url: started.redirect,
            }),
            state_cookie(&state, req, &started.state, LOGIN_TTL_SECS),
            "no-store".into(),
        ))
    }

    /// The identity provider's redirect back: signs the person in.
    ///
    /// The `state` must be this browser's (its cookie) and unused; the code is exchanged
    /// with the PKCE verifier; the ID token's signature, issuer, audience, expiry and nonce
    /// are checked; its verified email must be at the tenant's domain. A person new to the
    /// tenant becomes a member with the tenant's default role. Then 303 to the portal with
    /// the session cookie set. A refusal is a 303 to the portal with `?oidc_error=` one of
    /// `oidc_state_invalid`, `oidc_denied`, `oidc_issuer_mismatch`, `oidc_code_refused`,
    /// `oidc_token_invalid`, `oidc_nonce_mismatch`, `oidc_email_unverified`,
    /// `oidc_email_domain`, `oidc_email_in_use`, `oidc_subject_mismatch`,
    /// `oidc_not_configured`, `oidc_provider_unavailable`, `too_many_attempts` or
    /// `unavailable`. A `tollgate_oidc` cookie sent twice is no state at all.
    ///
    /// **Permissions**: none (the provider's answer).
    #[oai(
        path = "/v1/session/oidc/callback",
        method = "get",
        tag = "Tag::Session",
        operation_id = "finishOidcLogin"
    )]
    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per query parameter, as poem-openapi declares them"
    )]
    async fn callback(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        /// The authorization code.
        code: Query<Option<String>>,
        /// The state sent at the start.
        #[oai(name = "state")]
        login_state: Query<Option<String>>,
        /// The provider's error, when it did not sign the person in.
        error: Query<Option<String>>,
        /// The provider's explanation of `error` (not shown).
        #[oai(name = "error_description")]
        _error_description: Query<Option<String>>,
        /// The issuer (RFC 9207), when the provider sends it.
        iss: Query<Option<String>>,
    ) -> Redirect {
        let callback = Callback {
            state: login_state.0,
            code: code.0,
            error: error.0,
            iss: iss.0,
            cookie_state: cookie_value(req, OIDC_COOKIE),
        };
        match state.oidc.finish(callback, &ctx(req)).await {
            Ok(out) => {
                let max_age = state.auth.config.session_ttl.num_seconds();
                Redirect {
                    location: PORTAL.into(),
                    cookies: vec![
                        super::session::cookie(&state, req, &out.session_token, max_age),
                        state_cookie(&state, req, "", 0),
                    ],
                }
            }
            Err(e) => refused(&state, req, &e),
        }
    }

    /// Set a tenant's identity provider for portal sign-in (replacing any it had).
    ///
    /// Each setting is checked (422 `invalid_oidc_config`), then the issuer's discovery
    /// document is fetched (422 `oidc_discovery_failed`) and pinned: its token endpoint and
    /// key set must be https on public hosts (http and loopback only for an issuer on
    /// loopback; else 422 `oidc_endpoint_refused`), and sign-ins use the endpoints checked
    /// here (set the provider again to pick up moved ones). Another tenant's domain is 409
    /// `oidc_domain_taken`; a domain where other tenants have members, 409
    /// `oidc_domain_in_use`. A new issuer unlinks the tenant's members from their old
    /// provider's identities (each is linked again at their next sign-in, by email). Register
    /// `redirect_uri` (in the answer) at the provider.
    ///
    /// **Permissions**: scope `operator`.
    #[oai(
        path = "/v1/operator/tenants/:tenant_id/oidc",
        method = "put",
        tag = "Tag::Operator",
        operation_id = "setTenantOidc"
    )]
    async fn set(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: ApiCaller,
        tenant_id: Path<String>,
        body: Json<OidcConfigBody>,
    ) -> ApiResult<Json<OidcConfig>> {
        let actor = state.operator(&auth).await?;
        let tenant = tenant_of(&tenant_id.0)?;
        let body = body.0;
        let settings = OidcSettings {
            issuer: body.issuer,
            client_id: body.client_id,
            client_secret: body.client_secret,
            allowed_domain: body.allowed_domain,
            default_role: body.default_role.into(),
        };
        let view = state
            .oidc
            .configure(tenant, settings, &actor, &ctx(req))
            .await?;
        Ok(Json(view.into()))
    }

    /// A tenant's identity provider (404 when it has none).
    ///
    /// **Permissions**: scope `operator`.
    #[oai(
        path = "/v1/operator/tenants/:tenant_id/oidc",
        method = "get",
        tag = "Tag::Operator",
        operation_id = "getTenantOidc"
    )]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        auth: ApiCaller,
        tenant_id: Path<String>,
    ) -> ApiResult<Json<OidcConfig>> {
        state.operator(&auth).await?;
        let tenant = tenant_of(&tenant_id.0)?;
        Ok(Json(state.oidc.get(tenant).await?.into()))
    }

    /// Remove a tenant's identity provider; its members keep their accounts (404 when it
    /// has none).
    ///
    /// **Permissions**: scope `operator`.
    #[oai(
        path = "/v1/operator/tenants/:tenant_id/oidc",
        method = "delete",
        tag = "Tag::Operator",
        operation_id = "deleteTenantOidc"
    )]
    async fn remove(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: ApiCaller,
        tenant_id: Path<String>,
    ) -> ApiResult<Removed> {
        let actor = state.operator(&auth).await?;
        let tenant = tenant_of(&tenant_id.0)?;
        state.oidc.remove(tenant, &actor, &ctx(req)).await?;
        Ok(Removed::Done)
    }
}
