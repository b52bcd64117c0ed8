//! Security schemes as the OpenAPI contract declares them, and their resolution into a
//! [`Principal`] (API callers) or an [`AdminSession`] (portal, with CSRF protection).

use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use poem_openapi::auth::{ApiKey, Basic, Bearer};
use poem_openapi::SecurityScheme;
use tollgate_auth::service::{AdminSession, SessionLookup};
use tollgate_auth::{AuthError, Principal};
use tollgate_core::Code;
use tollgate_core::Scope;

/// An OAuth2 access token (JWT) or an API key (`tg_live_…`), as `Authorization: Bearer`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT or tg_live_/tg_test_ API key")]
pub struct BearerAuth(pub Bearer);

/// An API key in the `X-API-Key` header.
#[derive(SecurityScheme)]
#[oai(ty = "api_key", key_name = "X-API-Key", key_in = "header")]
pub struct ApiKeyAuth(pub ApiKey);

/// A tenant API caller: either scheme.
#[derive(SecurityScheme)]
pub enum ApiCaller {
    /// `Authorization: Bearer`.
    Bearer(BearerAuth),
    /// `X-API-Key`.
    ApiKey(ApiKeyAuth),
}

/// A tenant's API caller (with the operation's scope) or a signed-in tenant admin: for
/// reading the tenant's own usage and invoices.
#[derive(SecurityScheme)]
pub enum TenantCaller {
    /// `Authorization: Bearer`.
    Bearer(BearerAuth),
    /// `X-API-Key`.
    ApiKey(ApiKeyAuth),
    /// Portal session.
    Session(SessionCookie),
}

/// OAuth2 client authentication by `client_secret_basic` (RFC 6749 §2.3.1: the client id
/// and secret, each form-urlencoded, as HTTP Basic credentials).
#[derive(SecurityScheme)]
#[oai(ty = "basic")]
pub struct ClientSecretBasic(pub Basic);

/// How an OAuth2 client authenticates: HTTP Basic, or `client_secret_post` (the
/// `client_id` and `client_secret` form parameters), which OpenAPI cannot express as a
/// security scheme and so appears as the fallback. The endpoints parse the credentials
/// themselves, since RFC 6749 form-encodes them inside the Basic header.
#[derive(SecurityScheme)]
pub enum ClientAuthScheme {
    /// `client_secret_basic`.
    Basic(ClientSecretBasic),
    /// `client_secret_post`.
    #[oai(fallback)]
    Post,
}

/// A portal session (HttpOnly cookie set by `POST /v1/session`). State-changing requests
/// must also send the session's CSRF token in `X-CSRF-Token`.
#[derive(SecurityScheme)]
#[oai(ty = "api_key", key_name = "tollgate_session", key_in = "cookie")]
pub struct SessionCookie(pub ApiKey);

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "tollgate_session";

impl AppState {
    /// Authenticates an API caller and applies its rate limits.
    pub async fn principal(&self, caller: &ApiCaller) -> ApiResult<Principal> {
        let p = self.authenticate(caller).await?;
        self.throttle(&p).await?;
        Ok(p)
    }

    /// Authenticates an API caller (no rate limit: metered calls are limited on admission).
    pub async fn authenticate(&self, caller: &ApiCaller) -> ApiResult<Principal> {
        use tracing::Instrument;
        self.authenticate_now(caller)
            .instrument(
                tracing::info_span!(target: tollgate_core::STAGE_SPAN_TARGET, "authenticate"),
            )
            .await
    }

    async fn authenticate_now(&self, caller: &ApiCaller) -> ApiResult<Principal> {
        // The caller's address is asked for only when a key is not in the cache.
        let from = crate::middleware::caller_address;
        let result = match caller {
            ApiCaller::Bearer(b) => self.auth.authenticator.bearer(&b.0.token, from).await,
            ApiCaller::ApiKey(k) => self.auth.authenticator.api_key_from(&k.0.key, from).await,
        };
        match result {
            Ok(p) => {
                // Rendered on the stack: this runs on every authenticated request.
                let mut buf = uuid::Uuid::encode_buffer();
                let tenant = p.tenant_id.0.hyphenated().encode_lower(&mut buf);
                self.metrics
                    .tenant_requests
                    .with_label_values(&[tenant])
                    .inc();
                Ok(p)
            }
            Err(AuthError::Unavailable(cause)) => {
                Err(tollgate_core::DomainError::Unavailable(cause).into())
            }
            Err(e @ AuthError::Throttled { .. }) => {
                tracing::info!(reason = e.reason(), "API key guessing throttled");
                self.metrics
                    .auth_failures
                    .with_label_values(&[e.reason()])
                    .inc();
                Err(tollgate_core::DomainError::from(e).into())
            }
            Err(e) => {
                tracing::info!(reason = e.reason(), "API credentials refused");
                self.metrics
                    .auth_failures
                    .with_label_values(&[e.reason()])
                    .inc();
                Err(ApiError::unauthorized(
                    Code::InvalidToken,
                    "the access token or API key is invalid, expired or revoked",
                ))
            }
        }
    }

    /// Authenticates an API caller, requires `scope`, and applies its rate limits.
    pub async fn principal_with(&self, caller: &ApiCaller, scope: Scope) -> ApiResult<Principal> {
        let p = self.authorized(caller, scope).await?;
        self.throttle(&p).await?;
        Ok(p)
    }

    /// Authenticates an API caller and requires `scope` (no rate limit yet).
    pub async fn authorized(&self, caller: &ApiCaller, scope: Scope) -> ApiResult<Principal> {
        let p = self.authenticate(caller).await?;
        if !p.scopes.contains(scope) {
            self.metrics
                .auth_failures
                .with_label_values(&["insufficient_scope"])
                .inc();
            return Err(ApiError::insufficient_scope(scope.as_str()));
        }
        Ok(p)
    }

    /// The tenant a [`TenantCaller`] acts for: a credential must hold `scope` (and passes its
    /// rate limits); a portal session of any role reads its own tenant.
    pub async fn tenant_of(
        &self,
        caller: TenantCaller,
        scope: Scope,
    ) -> ApiResult<tollgate_core::TenantId> {
        Ok(match caller {
            TenantCaller::Session(cookie) => self.admin(&cookie, None, false).await?.tenant_id,
            TenantCaller::Bearer(b) => {
                self.principal_with(&ApiCaller::Bearer(b), scope)
                    .await?
                    .tenant_id
            }
            TenantCaller::ApiKey(k) => {
                self.principal_with(&ApiCaller::ApiKey(k), scope)
                    .await?
                    .tenant_id
            }
        })
    }

    /// Resolves a portal session; `csrf` must match for state-changing requests. A session
    /// signed in with a one-time password is refused (403 `password_change_required`) until
    /// it has chosen its own: see [`AppState::admin_pending`].
    pub async fn admin(
        &self,
        cookie: &SessionCookie,
        csrf: Option<&str>,
        mutating: bool,
    ) -> ApiResult<AdminSession> {
        let session = self.admin_pending(cookie, csrf, mutating).await?;
        if session.must_change_password {
            return Err(ApiError::forbidden(
                Code::PasswordChangeRequired,
                "signed in with a one-time password: choose a new password first",
            ));
        }
        Ok(session)
    }

    /// Resolves a portal session, one still on its one-time password included: only for
    /// reading the session, signing out and changing the password.
    pub async fn admin_pending(
        &self,
        cookie: &SessionCookie,
        csrf: Option<&str>,
        mutating: bool,
    ) -> ApiResult<AdminSession> {
        let session = match self.auth.session(&cookie.0.key).await? {
            SessionLookup::Live(session) => session,
            ended => {
                self.metrics
                    .auth_failures
                    .with_label_values(&["session"])
                    .inc();
                return Err(if matches!(ended, SessionLookup::Expired) {
                    ApiError::coded(
                        Code::SessionExpired,
                        "the session ended after inactivity or at the end of its lifetime: sign in again",
                        None,
                    )
                } else {
                    ApiError::coded(Code::SessionRequired, "sign in first", None)
                });
            }
        };
        if mutating {
            let ok =
                csrf.is_some_and(|c| tollgate_auth::secret::digests_equal(c, &session.csrf_token));
            if !ok {
                self.metrics
                    .auth_failures
                    .with_label_values(&["csrf"])
                    .inc();
                return Err(ApiError::forbidden(
                    Code::CsrfFailed,
                    "missing or wrong X-CSRF-Token header",
                ));
            }
        }
        Ok(session)
    }
}
