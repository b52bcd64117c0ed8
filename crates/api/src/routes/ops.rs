//! Liveness, readiness and the discovery documents (JWKS, RFC 8414 metadata).

use super::Tag;
use crate::state::AppState;
use poem::web::Data;
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::sync::Arc;
use tollgate_core::Scope;

/// Readiness report.
#[derive(Debug, Object)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    pub status: String,
    /// Checks that failed.
    pub failing: Vec<String>,
}

/// Readiness answer.
#[derive(ApiResponse)]
pub enum ReadyResponse {
    /// Every dependency is reachable.
    #[oai(status = 200)]
    Ready(Json<Readiness>),
    /// Some dependency is not reachable.
    #[oai(status = 503)]
    NotReady(Json<Readiness>),
}

/// The JWKS, cacheable for a short while (rotation publishes keys ahead of use).
#[derive(ApiResponse)]
pub enum JwksResponse {
    /// The published verification keys.
    #[oai(status = 200)]
    Ok(
        Json<serde_json::Value>,
        #[oai(header = "Cache-Control")] String,
    ),
}

/// RFC 8414 authorization server metadata.
#[derive(Debug, Object)]
pub struct ServerMetadata {
    /// Issuer identifier (the `iss` of every token).
    pub issuer: String,
    /// Token endpoint.
    pub token_endpoint: String,
    /// JWKS location.
    pub jwks_uri: String,
    /// Revocation endpoint (RFC 7009).
    pub revocation_endpoint: String,
    /// Introspection endpoint (RFC 7662).
    pub introspection_endpoint: String,
    /// Supported grants.
    pub grant_types_supported: Vec<String>,
    /// No authorization endpoint, so no response types.
    pub response_types_supported: Vec<String>,
    /// Client authentication methods at the token endpoint.
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// Client authentication methods at the revocation endpoint.
    pub revocation_endpoint_auth_methods_supported: Vec<String>,
    /// Client authentication methods at the introspection endpoint.
    pub introspection_endpoint_auth_methods_supported: Vec<String>,
    /// Scopes a client can be granted.
    pub scopes_supported: Vec<String>,
    /// Where the API is documented.
    pub service_documentation: String,
}

/// Operational endpoints.
pub struct OpsApi;

#[OpenApi]
impl OpsApi {
    /// Liveness: the process is up.
    ///
    /// **Permissions**: none.
    #[oai(
        path = "/healthz",
        method = "get",
        tag = "Tag::Ops",
        operation_id = "healthz"
    )]
    async fn healthz(&self) -> PlainText<&'static str> {
        PlainText("ok")
    }

    /// Readiness: the database (and Redis, when configured) answer.
    ///
    /// **Permissions**: none.
    #[oai(
        path = "/readyz",
        method = "get",
        tag = "Tag::Ops",
        operation_id = "readyz"
    )]
    async fn readyz(&self, state: Data<&Arc<AppState>>) -> ReadyResponse {
        let mut failing = Vec::new();
        if state.store.ping().await.is_err() {
            failing.push("database".to_owned());
        }
        for check in &state.readiness {
            if check.check().await.is_err() {
                failing.push(check.name().to_owned());
            }
        }
        if failing.is_empty() {
            ReadyResponse::Ready(Json(Readiness {
                status: "ready".into(),
                failing,
            }))
        } else {
            ReadyResponse::NotReady(Json(Readiness {
                status: "not_ready".into(),
                failing,
            }))
        }
    }

    /// The JSON Web Key Set verifying access tokens.
    ///
    /// **Permissions**: none.
    #[oai(
        path = "/.well-known/jwks.json",
        method = "get",
        tag = "Tag::OAuth",
        operation_id = "jwks"
    )]
    async fn jwks(&self, state: Data<&Arc<AppState>>) -> JwksResponse {
        let jwks = state.auth.tokens.keyring().snapshot().jwks.clone();
        JwksResponse::Ok(Json(jwks), "public, max-age=300".into())
    }

    /// Authorization server metadata (RFC 8414).
    ///
    /// **Permissions**: none.
    #[oai(
        path = "/.well-known/oauth-authorization-server",
        method = "get",
        tag = "Tag::OAuth",
        operation_id = "serverMetadata"
    )]
    async fn metadata(&self, state: Data<&Arc<AppState>>) -> Json<ServerMetadata> {
        let iss = state.auth.tokens.issuer().trim_end_matches('/').to_owned();
        let methods = || {
            vec![
                "client_secret_basic".to_owned(),
                "client_secret_post".to_owned(),
            ]
        };
        Json(ServerMetadata {
            token_endpoint: format!("{iss}/oauth/token"),
            jwks_uri: format!("{iss}/.well-known/jwks.json"),
            revocation_endpoint: format!("{iss}/oauth/revoke"),
            introspection_endpoint: format!("{iss}/oauth/introspect"),
            grant_types_supported: vec!["client_credentials".into()],
            response_types_supported: vec![],
            token_endpoint_auth_methods_supported: methods(),
            revocation_endpoint_auth_methods_supported: methods(),
            introspection_endpoint_auth_methods_supported: methods(),
            scopes_supported: Scope::ALL.iter().map(|s| s.as_str().to_owned()).collect(),
            service_documentation: format!("{iss}/openapi.yaml"),
            issuer: iss,
        })
    }
}
