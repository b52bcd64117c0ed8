//! The OpenAPI operations, grouped by resource. Handlers are thin: resolve the caller,
//! validate, call one service method, map the result.

pub mod audit;
pub mod billing;
pub mod clients;
pub mod credits;
pub mod invoices;
pub mod keys;
pub mod me;
pub mod members;
pub mod oauth;
pub mod ocr;
pub mod oidc;
pub mod operator;
pub mod ops;
mod paging;
pub mod plan;
pub mod session;
pub mod stripe;
pub mod usage;
pub mod webhooks;

use crate::middleware::ClientInfo;
use poem::Request;
use poem_openapi::Tags;
use tollgate_auth::RequestCtx;
use tollgate_core::Code;

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
    /// Prices and invoices.
    Billing,
    /// The tenant's audit log.
    Audit,
    /// The tenant's webhook endpoints and deliveries.
    Webhooks,
    /// Running the platform (operator only).
    Operator,
    /// Health and readiness.
    Ops,
}

/// Scopes a tenant admin grants through the portal, parsed item by item (each item exactly
/// one known scope name, none twice). `operator` is never granted here: only the operator's
/// CLI mints it, into the platform tenant.
pub(crate) fn portal_scopes(
    scopes: &[String],
) -> Result<tollgate_core::ScopeSet, tollgate_core::DomainError> {
    let set = tollgate_core::ScopeSet::from_items(scopes.iter().map(String::as_str))?;
    if set.contains(tollgate_core::Scope::Operator) {
        return Err(tollgate_core::DomainError::invalid(
            Code::InvalidScope,
            "the operator scope cannot be granted here",
        ));
    }
    Ok(set)
}

/// The request context the middleware recorded.
pub(crate) fn ctx(req: &Request) -> RequestCtx {
    req.extensions()
        .get::<ClientInfo>()
        .map(|c| c.ctx.clone())
        .unwrap_or_default()
}
