//! The OpenAPI operations, grouped by resource. Handlers are thin: resolve the caller,
//! validate, call one service method, map the result.

pub mod clients;
pub mod keys;
pub mod me;
pub mod members;
pub mod oauth;
pub mod ocr;
pub mod ops;
pub mod session;

use crate::middleware::ClientInfo;
use poem::Request;
use poem_openapi::Tags;
use tollgate_auth::RequestCtx;

/// Operation groups in the spec.
#[derive(Tags)]
pub enum Tag {
    /// OAuth2 authorization server endpoints (RFC 6749, 7009, 7662, 8414).
    #[oai(rename = "oauth")]
    OAuth,
    /// The calling API principal.
    Principal,
    /// Portal sign-in.
    Session,
    /// Tenant administrators.
    Members,
    /// OAuth2 clients of the tenant.
    Clients,
    /// API keys of the tenant.
    Keys,
    /// Reading text from images.
    Ocr,
    /// Health and readiness.
    Ops,
}

/// The request context the middleware recorded.
pub(crate) fn ctx(req: &Request) -> RequestCtx {
    req.extensions()
        .get::<ClientInfo>()
        .map(|c| c.ctx.clone())
        .unwrap_or_default()
}
