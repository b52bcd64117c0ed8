//! `/oauth/token` (client-credentials grant), `/oauth/revoke` (RFC 7009) and
//! `/oauth/introspect` (RFC 7662). Errors here are RFC 6749 §5.2 bodies, not problem+json.

use super::{ctx, Tag};
use crate::security::ClientAuthScheme;
use crate::state::AppState;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use poem::web::Data;
use poem::Request;
use poem_openapi::payload::{Form, Json};
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::sync::Arc;
use tollgate_auth::service::ClientAuth;
use tollgate_core::Code;
use tollgate_core::DomainError;

const NO_STORE: &str = "no-store";
const BASIC_CHALLENGE: &str = "Basic realm=\"tollgate\"";

/// RFC 6749 §5.2 error body.
#[derive(Debug, Object)]
pub struct OAuthErrorBody {
    /// Error code, e.g. `invalid_client`.
    pub error: String,
    /// Human explanation.
    #[oai(skip_serializing_if_is_none)]
    pub error_description: Option<String>,
}

/// Errors of the OAuth endpoints.
#[derive(Debug, ApiResponse)]
#[oai(bad_request_handler = "oauth_bad_request")]
pub enum OAuthError {
    /// `invalid_request`, `invalid_scope`, `unsupported_grant_type`, …
    #[oai(status = 400)]
    BadRequest(
        Json<OAuthErrorBody>,
        #[oai(header = "Cache-Control")] String,
    ),
    /// `invalid_client`.
    #[oai(status = 401)]
    InvalidClient(
        Json<OAuthErrorBody>,
        #[oai(header = "WWW-Authenticate")] String,
        #[oai(header = "Cache-Control")] String,
    ),
    /// Too many failed client authentications from this address; retry after `Retry-After`.
    #[oai(status = 429)]
    TooMany(
        Json<OAuthErrorBody>,
        #[oai(header = "Retry-After")] u64,
        #[oai(header = "Cache-Control")] String,
    ),
    /// The service is temporarily unable to answer.
    #[oai(status = 503)]
    Unavailable(Json<OAuthErrorBody>, #[oai(header = "Retry-After")] u64),
    /// Unexpected failure (logged).
    #[oai(status = 500)]
    Internal(Json<OAuthErrorBody>),
}

fn body(error: &str, description: &str) -> Json<OAuthErrorBody> {
    Json(OAuthErrorBody {
        error: error.to_owned(),
        error_description: Some(description.to_owned()),
    })
}

fn invalid_request(description: &str) -> OAuthError {
    OAuthError::BadRequest(body("invalid_request", description), NO_STORE.into())
}

fn invalid_client() -> OAuthError {
    OAuthError::InvalidClient(
        body("invalid_client", "client authentication failed"),
        BASIC_CHALLENGE.into(),
        NO_STORE.into(),
    )
}

/// Unparseable form bodies are `invalid_request`.
pub fn oauth_bad_request(_err: poem::Error) -> OAuthError {
    invalid_request("the request body must be application/x-www-form-urlencoded")
}

impl From<DomainError> for OAuthError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::Unauthenticated(_) => invalid_client(),
            DomainError::Invalid {
                code: Code::InvalidScope,
                detail,
            } => OAuthError::BadRequest(body("invalid_scope", &detail), NO_STORE.into()),
            DomainError::Invalid { detail, .. } => invalid_request(&detail),
            DomainError::TooManyAttempts { retry_after } => OAuthError::TooMany(
                body(
                    "temporarily_unavailable",
                    "too many failed client authentications; retry later",
                ),
                retry_after.max(1),
                NO_STORE.into(),
            ),
            DomainError::Unavailable(cause) => {
                tracing::warn!(%cause, "dependency unavailable");
                OAuthError::Unavailable(body("temporarily_unavailable", "retry shortly"), 1)
            }
            other => {
                tracing::error!(cause = %other, "oauth endpoint failed");
                OAuthError::Internal(body("server_error", "internal error"))
            }
        }
    }
}

/// Token request (`application/x-www-form-urlencoded`). Unknown parameters are ignored (RFC 6749 §3.2).
#[derive(Debug, Object, serde::Deserialize)]
pub struct TokenRequest {
    /// Must be `client_credentials`.
    pub grant_type: Option<String>,
    /// Space-separated subset of the client's scopes; all of them when omitted.
    pub scope: Option<String>,
    /// For `client_secret_post`.
    pub client_id: Option<String>,
    /// For `client_secret_post`.
    pub client_secret: Option<String>,
}

/// Token response (RFC 6749 §5.1).
#[derive(Debug, Object)]
pub struct TokenBody {
    /// The JWT.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Lifetime in seconds.
    pub expires_in: i64,
    /// Granted scopes.
    pub scope: String,
}

/// Successful token response; never cached.
#[derive(ApiResponse)]
pub enum TokenOk {
    /// Issued.
    #[oai(status = 200)]
    Ok(
        Json<TokenBody>,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Pragma")] String,
    ),
}

/// Revocation / introspection request.
#[derive(Debug, Object, serde::Deserialize)]
pub struct TokenParam {
    /// The token.
    pub token: Option<String>,
    /// Ignored hint (RFC 7009 §2.1).
    pub token_type_hint: Option<String>,
    /// For `client_secret_post`.
    pub client_id: Option<String>,
    /// For `client_secret_post`.
    pub client_secret: Option<String>,
}

/// Empty 200.
#[derive(ApiResponse)]
pub enum RevokeOk {
    /// Revoked, or nothing to revoke (RFC 7009 answers the same).
    #[oai(status = 200)]
    Ok,
}

/// RFC 7662 response; only `active` when inactive.
#[derive(Debug, Object, Default)]
pub struct IntrospectionBody {
    /// Whether the token is active.
    pub active: bool,
    /// Scopes.
    #[oai(skip_serializing_if_is_none)]
    pub scope: Option<String>,
    /// Client (or key) id.
    #[oai(skip_serializing_if_is_none)]
    pub client_id: Option<String>,
    /// Subject.
    #[oai(skip_serializing_if_is_none)]
    pub sub: Option<String>,
    /// Expiry.
    #[oai(skip_serializing_if_is_none)]
    pub exp: Option<i64>,
    /// Issued at.
    #[oai(skip_serializing_if_is_none)]
    pub iat: Option<i64>,
    /// Issuer.
    #[oai(skip_serializing_if_is_none)]
    pub iss: Option<String>,
    /// Token id.
    #[oai(skip_serializing_if_is_none)]
    pub jti: Option<String>,
    /// Tenant.
    #[oai(skip_serializing_if_is_none)]
    pub tenant_id: Option<String>,
    /// `Bearer` or `api_key`.
    #[oai(skip_serializing_if_is_none)]
    pub token_type: Option<String>,
}

/// Percent-decodes an `application/x-www-form-urlencoded` component (RFC 6749 §2.3.1).
fn form_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Client credentials from `Authorization: Basic` or from the body — exactly one of them.
fn client_credentials(
    req: &Request,
    id: Option<&str>,
    secret: Option<&str>,
) -> Result<(String, String), OAuthError> {
    let header = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    let basic = header.and_then(|h| {
        let (scheme, rest) = h.split_once(' ')?;
        scheme.eq_ignore_ascii_case("basic").then_some(rest.trim())
    });
    match (basic, id) {
        (Some(_), Some(_)) => Err(invalid_request(
            "use one client authentication method, not two",
        )),
        (Some(encoded), None) => {
            let decoded = B64
                .decode(encoded)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(invalid_client)?;
            let (id, secret) = decoded.split_once(':').ok_or_else(invalid_client)?;
            Ok((
                form_decode(id).ok_or_else(invalid_client)?,
                form_decode(secret).ok_or_else(invalid_client)?,
            ))
        }
        (None, Some(id)) => Ok((id.to_owned(), secret.ok_or_else(invalid_client)?.to_owned())),
        (None, None) => Err(invalid_client()),
    }
}

/// OAuth2 endpoints.
pub struct OAuthApi;

async fn authenticate(
    state: &AppState,
    req: &Request,
    id: Option<&str>,
    secret: Option<&str>,
) -> Result<ClientAuth, OAuthError> {
    let (id, secret) = client_credentials(req, id, secret)?;
    state
        .auth
        .authenticate_client(&id, &secret, &ctx(req))
        .await
        .map_err(|e| {
            if matches!(e, DomainError::Unauthenticated(_)) {
                state
                    .metrics
                    .auth_failures
                    .with_label_values(&["invalid_client"])
                    .inc();
            }
            OAuthError::from(e)
        })
}

#[OpenApi]
impl OAuthApi {
    /// Get an access token (client-credentials grant).
    ///
    /// Client authentication by `client_secret_basic` or `client_secret_post`. The token is
    /// an RFC 9068 JWT signed with EdDSA; verify it with the JWKS.
    ///
    /// **Permissions**: a client id and secret.
    #[oai(
        path = "/oauth/token",
        method = "post",
        tag = "Tag::OAuth",
        operation_id = "token"
    )]
    async fn token(
        &self,
        _client_auth: ClientAuthScheme,
        state: Data<&Arc<AppState>>,
        req: &Request,
        form: Form<TokenRequest>,
    ) -> Result<TokenOk, OAuthError> {
        let form = form.0;
        let client = authenticate(
            &state,
            req,
            form.client_id.as_deref(),
            form.client_secret.as_deref(),
        )
        .await?;
        match form.grant_type.as_deref() {
            Some("client_credentials") => {}
            Some(_) => {
                return Err(OAuthError::BadRequest(
                    body(
                        "unsupported_grant_type",
                        "only client_credentials is supported",
                    ),
                    NO_STORE.into(),
                ))
            }
            None => return Err(invalid_request("grant_type is required")),
        }
        let issued = state
            .auth
            .issue_token(&client, form.scope.as_deref(), &ctx(req))
            .await?;
        state.metrics.tokens_issued.inc();
        Ok(TokenOk::Ok(
            Json(TokenBody {
                access_token: issued.token,
                token_type: "Bearer".into(),
                expires_in: issued.expires_in,
                scope: issued.claims.scope,
            }),
            NO_STORE.into(),
            "no-cache".into(),
        ))
    }

    /// Revoke an access token (RFC 7009).
    ///
    /// Answers 200 whether or not the token was valid or known, as the RFC requires.
    ///
    /// **Permissions**: the client the token was issued to.
    #[oai(
        path = "/oauth/revoke",
        method = "post",
        tag = "Tag::OAuth",
        operation_id = "revoke"
    )]
    async fn revoke(
        &self,
        _client_auth: ClientAuthScheme,
        state: Data<&Arc<AppState>>,
        req: &Request,
        form: Form<TokenParam>,
    ) -> Result<RevokeOk, OAuthError> {
        let form = form.0;
        let client = authenticate(
            &state,
            req,
            form.client_id.as_deref(),
            form.client_secret.as_deref(),
        )
        .await?;
        let token = form
            .token
            .ok_or_else(|| invalid_request("token is required"))?;
        state.auth.revoke_token(&client, &token, &ctx(req)).await?;
        Ok(RevokeOk::Ok)
    }

    /// Introspect a token (RFC 7662).
    ///
    /// Only tokens and API keys of the caller's own tenant are ever reported active.
    ///
    /// **Permissions**: any client of the tenant (client authentication required).
    #[oai(
        path = "/oauth/introspect",
        method = "post",
        tag = "Tag::OAuth",
        operation_id = "introspect"
    )]
    async fn introspect(
        &self,
        _client_auth: ClientAuthScheme,
        state: Data<&Arc<AppState>>,
        req: &Request,
        form: Form<TokenParam>,
    ) -> Result<Json<IntrospectionBody>, OAuthError> {
        let form = form.0;
        let client = authenticate(
            &state,
            req,
            form.client_id.as_deref(),
            form.client_secret.as_deref(),
        )
        .await?;
        let token = form
            .token
            .ok_or_else(|| invalid_request("token is required"))?;
        let i = state.auth.introspect(&client, &token, &ctx(req)).await?;
        Ok(Json(IntrospectionBody {
            active: i.active,
            scope: i.scope,
            client_id: i.client_id,
            sub: i.sub,
            exp: i.exp,
            iat: i.iat,
            iss: i.iss,
            jti: i.jti,
            tenant_id: i.tenant_id.map(|t| t.to_string()),
            token_type: i.token_type,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::{form_decode, OAuthError};
    use tollgate_core::{Code, DomainError};

    #[test]
    fn decodes_form_components() {
        assert_eq!(form_decode("a%3Ab+c").as_deref(), Some("a:b c"));
        assert_eq!(form_decode("%zz"), None);
        assert_eq!(form_decode("%4"), None);
    }

    /// Every domain error becomes an RFC 6749 §5.2 answer: its status, `error` code and
    /// headers, never internal text.
    #[test]
    fn domain_errors_map_to_rfc6749_errors() {
        let error = |e: OAuthError| -> (u16, String, Option<String>) {
            match e {
                OAuthError::BadRequest(b, cache) => (400, b.0.error, Some(cache)),
                OAuthError::InvalidClient(b, challenge, _) => (401, b.0.error, Some(challenge)),
                OAuthError::TooMany(b, retry, _) => (429, b.0.error, Some(retry.to_string())),
                OAuthError::Unavailable(b, retry) => (503, b.0.error, Some(retry.to_string())),
                OAuthError::Internal(b) => {
                    assert_eq!(b.0.error_description.as_deref(), Some("internal error"));
                    (500, b.0.error, None)
                }
            }
        };
        let cases = [
            (
                DomainError::Unauthenticated("invalid_client"),
                (401, "invalid_client", Some("Basic realm=\"tollgate\"")),
            ),
            (
                DomainError::invalid(Code::InvalidScope, "x"),
                (400, "invalid_scope", Some("no-store")),
            ),
            (
                DomainError::invalid(Code::InvalidName, "x"),
                (400, "invalid_request", Some("no-store")),
            ),
            (
                DomainError::TooManyAttempts { retry_after: 0 },
                (429, "temporarily_unavailable", Some("1")),
            ),
            (
                DomainError::Unavailable("db".into()),
                (503, "temporarily_unavailable", Some("1")),
            ),
            (
                DomainError::Internal("relation \"x\" does not exist".into()),
                (500, "server_error", None),
            ),
        ];
        for (domain, (status, code, header)) in cases {
            let what = domain.to_string();
            assert_eq!(
                error(OAuthError::from(domain)),
                (status, code.to_owned(), header.map(str::to_owned)),
                "{what}"
            );
        }
    }
}
