//! Portal sign-in: `POST /v1/session` sets an HttpOnly session cookie; `GET` reads the
//! session (and its CSRF token, for a page reload); `DELETE` signs out.

use super::members::RoleName;
use super::{ctx, Tag};
use crate::problem::ApiResult;
use crate::security::{SessionCookie, SESSION_COOKIE};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem::Request;
use poem_openapi::param::Header;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::sync::Arc;
use tollgate_auth::service::AdminSession;

/// Credentials.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct LoginRequest {
    /// Email address.
    pub email: String,
    /// Password.
    #[oai(validator(max_length = 1024))]
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("password", &"***")
            .finish_non_exhaustive()
    }
}

/// The signed-in admin.
#[derive(Debug, Object)]
pub struct SessionInfo {
    /// Admin id.
    pub admin_id: String,
    /// Tenant id.
    pub tenant_id: String,
    /// Email.
    pub email: String,
    /// Role.
    pub role: RoleName,
    /// Signed in with a one-time password: every other portal call answers 403
    /// `password_change_required` until `POST /v1/session/password`.
    pub must_change_password: bool,
    /// The session ends at this time whatever its use.
    pub expires_at: DateTime<Utc>,
    /// The session ends after this many seconds without a request.
    pub idle_timeout_seconds: i64,
    /// Send this in `X-CSRF-Token` on every state-changing request.
    pub csrf_token: String,
}

impl SessionInfo {
    fn of(s: &AdminSession, state: &AppState) -> Self {
        Self {
            admin_id: s.admin_id.to_string(),
            tenant_id: s.tenant_id.to_string(),
            email: s.email.clone(),
            role: s.role.into(),
            must_change_password: s.must_change_password,
            expires_at: s.expires_at,
            idle_timeout_seconds: state.auth.config.session_idle.num_seconds(),
            csrf_token: s.csrf_token.clone(),
        }
    }
}

/// A password change.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct PasswordChange {
    /// The password signed in with (the one-time password, on first sign-in).
    #[oai(validator(max_length = 1024))]
    pub current_password: String,
    /// The new password: at least 12 characters, not the current one.
    #[oai(validator(max_length = 1024))]
    pub new_password: String,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordChange").finish_non_exhaustive()
    }
}

/// Login answer.
#[derive(ApiResponse)]
pub enum LoginResponse {
    /// Signed in; the session cookie is set.
    #[oai(status = 200)]
    Ok(
        Json<SessionInfo>,
        #[oai(header = "Set-Cookie")] String,
        #[oai(header = "Cache-Control")] String,
    ),
}

/// The session (with its CSRF token: never cached).
#[derive(ApiResponse)]
pub enum SessionAnswer {
    /// The signed-in admin.
    #[oai(status = 200)]
    Ok(Json<SessionInfo>, #[oai(header = "Cache-Control")] String),
}

/// Logout answer.
#[derive(ApiResponse)]
pub enum LogoutResponse {
    /// Signed out; the cookie is cleared.
    #[oai(status = 204)]
    Done(#[oai(header = "Set-Cookie")] String),
}

/// Portal session operations.
pub struct SessionApi;

/// The session cookie; `Secure` when the public URL is https or a trusted proxy says this
/// request came over https.
pub(crate) fn cookie(state: &AppState, req: &Request, value: &str, max_age: i64) -> String {
    let secure = secure_attr(state, req);
    format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    )
}

/// `; Secure` for a portal cookie when the public URL is https or a trusted proxy says this
/// request came over https; otherwise nothing.
pub(crate) fn secure_attr(state: &AppState, req: &Request) -> &'static str {
    let https = req
        .extensions()
        .get::<crate::middleware::ClientInfo>()
        .is_some_and(|c| c.forwarded_https);
    if state.config.secure_cookies || https {
        "; Secure"
    } else {
        ""
    }
}

#[OpenApi]
impl SessionApi {
    /// Sign in to the portal.
    ///
    /// Repeated failures from one address are throttled (429 with `Retry-After`).
    ///
    /// **Permissions**: none (email and password).
    #[oai(
        path = "/v1/session",
        method = "post",
        tag = "Tag::Session",
        operation_id = "login"
    )]
    async fn login(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Json<LoginRequest>,
    ) -> ApiResult<LoginResponse> {
        let body = body.0;
        let out = state
            .auth
            .login(&body.email, body.password, &ctx(req))
            .await?;
        let max_age = state.auth.config.session_ttl.num_seconds();
        Ok(LoginResponse::Ok(
            Json(SessionInfo::of(&out.session, &state)),
            cookie(&state, req, &out.session_token, max_age),
            "no-store".into(),
        ))
    }

    /// The current session.
    ///
    /// **Permissions**: a portal session.
    #[oai(
        path = "/v1/session",
        method = "get",
        tag = "Tag::Session",
        operation_id = "getSession"
    )]
    async fn current(
        &self,
        state: Data<&Arc<AppState>>,
        session: SessionCookie,
    ) -> ApiResult<SessionAnswer> {
        let s = state.admin_pending(&session, None, false).await?;
        Ok(SessionAnswer::Ok(
            Json(SessionInfo::of(&s, &state)),
            "no-store".into(),
        ))
    }

    /// Change the signed-in admin's own password.
    ///
    /// Ends the admin's other sessions; this one stays signed in. Required before anything
    /// else after signing in with a one-time password. A wrong `current_password` is 403
    /// `wrong_password` (attempts are throttled, 429); a short new password, or the current
    /// one again, is 422 `weak_password`; a change that lost the race to another is 409
    /// `password_changed`.
    ///
    /// **Permissions**: a portal session (any role, one on a one-time password included)
    /// and its CSRF token.
    #[oai(
        path = "/v1/session/password",
        method = "post",
        tag = "Tag::Session",
        operation_id = "changePassword"
    )]
    async fn change_password(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        session: SessionCookie,
        #[oai(name = "X-CSRF-Token")] csrf: Header<Option<String>>,
        body: Json<PasswordChange>,
    ) -> ApiResult<SessionAnswer> {
        let s = state
            .admin_pending(&session, csrf.0.as_deref(), true)
            .await?;
        let body = body.0;
        state
            .auth
            .change_password(&s, body.current_password, body.new_password, &ctx(req))
            .await?;
        let s = state.admin(&session, None, false).await?;
        Ok(SessionAnswer::Ok(
            Json(SessionInfo::of(&s, &state)),
            "no-store".into(),
        ))
    }

    /// Sign out.
    ///
    /// **Permissions**: a portal session and its CSRF token.
    #[oai(
        path = "/v1/session",
        method = "delete",
        tag = "Tag::Session",
        operation_id = "logout"
    )]
    async fn logout(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        session: SessionCookie,
        #[oai(name = "X-CSRF-Token")] csrf: Header<Option<String>>,
    ) -> ApiResult<LogoutResponse> {
        let s = state
            .admin_pending(&session, csrf.0.as_deref(), true)
            .await?;
        state.auth.logout(&s, &ctx(req)).await?;
        Ok(LogoutResponse::Done(cookie(&state, req, "", 0)))
    }
}
