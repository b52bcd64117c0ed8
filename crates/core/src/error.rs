//! The one domain error. Every crate converts its own failures into it; the API maps it to
//! HTTP in exactly one place, by its [`Code`]'s status in the one table of codes.

use crate::Code;

/// Where a tenant stands against its spend cap (minor units of `currency`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpendAmounts {
    /// ISO 4217.
    pub currency: String,
    /// The cap.
    pub cap: i64,
    /// The period's rated spend so far.
    pub spent: i64,
    /// What it would be with the refused call.
    pub would_be: i64,
}

/// A failure the caller can act on, plus `Internal` for everything it cannot.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The addressed thing does not exist (or belongs to another tenant: same answer).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness rule was violated.
    #[error("{detail}")]
    Conflict {
        /// Stable machine-readable code.
        code: Code,
        /// Human explanation, safe to show.
        detail: String,
    },
    /// The same operation is running now (e.g. under the same idempotency key); retry after
    /// `retry_after` seconds for its outcome.
    #[error("{detail}")]
    InProgress {
        /// Stable machine-readable code.
        code: Code,
        /// Human explanation, safe to show.
        detail: String,
        /// Seconds until a retry may succeed.
        retry_after: u64,
    },
    /// The input is well-formed but not acceptable.
    #[error("{detail}")]
    Invalid {
        /// Stable machine-readable code.
        code: Code,
        /// Human explanation, safe to show.
        detail: String,
    },
    /// No valid credentials.
    #[error("unauthenticated: {0}")]
    Unauthenticated(&'static str),
    /// Authenticated, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// Too many attempts; retry after the given number of seconds.
    #[error("too many attempts")]
    TooManyAttempts {
        /// Seconds until a retry may succeed.
        retry_after: u64,
    },
    /// Over a rate, concurrency or quota limit; retry after `retry_after` seconds.
    #[error("{detail}")]
    Limited {
        /// Stable machine-readable code.
        code: Code,
        /// Human explanation, safe to show.
        detail: String,
        /// Seconds until a retry may succeed.
        retry_after: u64,
    },
    /// The tenant must pay (or change its own limits) before this call can run.
    #[error("{detail}")]
    PaymentRequired {
        /// Stable machine-readable code.
        code: Code,
        /// Human explanation, safe to show.
        detail: String,
        /// The amounts behind a spend-cap refusal.
        spend: Option<SpendAmounts>,
    },
    /// The input is over a size limit.
    #[error("{detail}")]
    TooLarge {
        /// Stable machine-readable code.
        code: Code,
        /// Human explanation, safe to show.
        detail: String,
    },
    /// Temporarily unable to serve this request (a full queue, a deadline passed, a model
    /// still loading); the caller may retry after `retry_after` seconds.
    #[error("{detail}")]
    Busy {
        /// Stable machine-readable code.
        code: Code,
        /// Human explanation, safe to show.
        detail: String,
        /// Seconds until a retry may succeed.
        retry_after: u64,
    },
    /// A dependency (database, cache) is unavailable.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected failure; the text is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl DomainError {
    /// The code answered for this error (its HTTP status is the code's).
    pub fn code(&self) -> Code {
        match self {
            DomainError::NotFound(_) => Code::NotFound,
            DomainError::Unauthenticated(_) => Code::Unauthenticated,
            DomainError::Forbidden(_) => Code::Forbidden,
            DomainError::TooManyAttempts { .. } => Code::TooManyAttempts,
            DomainError::Unavailable(_) => Code::Unavailable,
            DomainError::Internal(_) => Code::Internal,
            DomainError::Conflict { code, .. }
            | DomainError::InProgress { code, .. }
            | DomainError::Invalid { code, .. }
            | DomainError::Limited { code, .. }
            | DomainError::TooLarge { code, .. }
            | DomainError::PaymentRequired { code, .. }
            | DomainError::Busy { code, .. } => *code,
        }
    }

    /// Shorthand for [`DomainError::Invalid`].
    pub fn invalid(code: Code, detail: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            detail: detail.into(),
        }
    }

    /// Shorthand for [`DomainError::Conflict`].
    pub fn conflict(code: Code, detail: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            detail: detail.into(),
        }
    }

    /// Shorthand for [`DomainError::Internal`] from any displayable cause.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }
}
