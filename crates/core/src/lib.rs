//! Tollgate's domain vocabulary: identifiers, scopes, roles, the API-key format, the clock,
//! prices and rating, and the one error type (with its table of codes) every other crate
//! converts into. Pure: no I/O, no framework types.

pub mod api_key;
pub mod base62;
pub mod clock;
pub mod codes;
pub mod csv;
pub mod error;
pub mod ids;
pub mod net;
pub mod plan;
pub mod pricing;
pub mod role;
pub mod scope;
pub mod webhook;

/// Where a request came from, for audit rows and backoff keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestCtx {
    /// Caller's IP.
    pub ip: Option<String>,
    /// Caller's user agent (truncated).
    pub user_agent: Option<String>,
}

impl RequestCtx {
    /// The context of a CLI invocation.
    pub fn cli() -> Self {
        Self {
            ip: None,
            user_agent: Some("tollgate-cli".into()),
        }
    }
}

pub use clock::{Clock, ManualClock, SystemClock};

/// The target of the spans that mark the stages of a request (authentication, throttling,
/// admission, the OCR queue and inference, the usage commit): exported as traces, not logged.
/// `tollgate-ocr`, which does not depend on this crate, spells it out.
pub const STAGE_SPAN_TARGET: &str = "tollgate::stage";
pub use codes::Code;
pub use error::{DomainError, SpendAmounts};
pub use ids::{AdminId, KeyId, TenantId};
pub use role::Role;
pub use scope::{Scope, ScopeSet};
