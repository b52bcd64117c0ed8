//! The OpenAPI operations, grouped by resource. Handlers are thin: resolve the caller,
//! validate, call one service method, map the result.

pub mod clients;
pub mod keys;
pub mod me;
pub mod members;
pub mod oauth;
pub mod ocr;
pub mod operator;
pub mod ops;
pub mod session;
pub mod usage;

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
    /// Metered usage.
    Usage,
    /// Running the platform (operator only).
    Operator,
    /// Health and readiness.
    Ops,
}

/// Scopes a tenant admin may grant through the portal, space-separated: any known scope
/// but `operator`, which only the operator's CLI grants.
pub(crate) fn tenant_scopes(scopes: &[String]) -> Result<String, tollgate_core::DomainError> {
    if scopes
        .iter()
        .any(|s| s == tollgate_core::Scope::Operator.as_str())
    {
        return Err(tollgate_core::DomainError::invalid(
            "invalid_scope",
            "the operator scope cannot be granted here",
        ));
    }
    Ok(scopes.join(" "))
}

/// The request context the middleware recorded.
pub(crate) fn ctx(req: &Request) -> RequestCtx {
    req.extensions()
        .get::<ClientInfo>()
        .map(|c| c.ctx.clone())
        .unwrap_or_default()
}
