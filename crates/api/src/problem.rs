//! Errors on the wire: `application/problem+json` (RFC 9457) with a stable `code` and the
//! request id. Every code and its status are in one table ([`Code`]); [`ApiError::coded`] is
//! the one place a code becomes an HTTP answer, and [`ApiError::from`] the one place a
//! [`DomainError`] does (through its code).

use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};
use tollgate_core::Code;
use tollgate_core::DomainError;

tokio::task_local! {
    /// The current request's id, set by the request-id middleware.
    pub static REQUEST_ID: String;
}

/// The current request id, if inside a request.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Object, PartialEq, Eq)]
pub struct Problem {
    /// A URI reference identifying the problem type.
    #[oai(rename = "type")]
    pub ty: String,
    /// Short summary of the problem type.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// Explanation specific to this occurrence; never internal details.
    pub detail: String,
    /// Stable machine-readable code, snake_case.
    pub code: String,
    /// The request id, also in `X-Request-Id`.
    #[oai(skip_serializing_if_is_none)]
    pub request_id: Option<String>,
    /// With `spend_cap_reached`: the cap and the period's spend.
    #[oai(skip_serializing_if_is_none)]
    pub spend: Option<SpendProblem>,
}

/// Where the tenant stands against its spend cap, in minor units of `currency`.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct SpendProblem {
    /// ISO 4217.
    pub currency: String,
    /// The tenant's monthly spend cap.
    pub cap: i64,
    /// The period's rated spend so far.
    pub spent: i64,
    /// What it would be with the refused call.
    pub would_be: i64,
}

impl Problem {
    /// A problem for `code` (its status is the code's), with the current request id.
    pub fn new(code: Code, detail: impl Into<String>) -> Self {
        let status = code.status();
        let code = code.as_str();
        let title = poem::http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Error")
            .to_owned();
        Self {
            ty: format!("https://tollgate.dev/problems/{}", code.replace('_', "-")),
            title,
            status,
            detail: detail.into(),
            code: code.to_owned(),
            request_id: current_request_id(),
            spend: None,
        }
    }
}

/// The `WWW-Authenticate` challenge for protected resources (RFC 6750 §3).
pub const BEARER_CHALLENGE: &str = "Bearer realm=\"tollgate\"";

/// Every error an API operation can answer with.
#[derive(Debug, ApiResponse)]
#[oai(bad_request_handler = "bad_request")]
pub enum ApiError {
    /// The request is malformed.
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Problem>),
    /// No or invalid credentials.
    #[oai(status = 401, content_type = "application/problem+json")]
    Unauthorized(Json<Problem>, #[oai(header = "WWW-Authenticate")] String),
    /// Authenticated, but not allowed (missing scope or role, or bad CSRF token).
    #[oai(status = 403, content_type = "application/problem+json")]
    Forbidden(
        Json<Problem>,
        #[oai(header = "WWW-Authenticate")] Option<String>,
    ),
    /// Payment required: the call would pass the tenant's spend cap.
    #[oai(status = 402, content_type = "application/problem+json")]
    PaymentRequired(Json<Problem>),
    /// Not found (including other tenants' resources).
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Problem>),
    /// Conflicts with existing state, or the same request is being processed (then with
    /// `Retry-After`).
    #[oai(status = 409, content_type = "application/problem+json")]
    Conflict(Json<Problem>, #[oai(header = "Retry-After")] Option<u64>),
    /// The body is over a size limit.
    #[oai(status = 413, content_type = "application/problem+json")]
    PayloadTooLarge(Json<Problem>),
    /// The body's media type is not accepted.
    #[oai(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Json<Problem>),
    /// Well-formed but invalid input.
    #[oai(status = 422, content_type = "application/problem+json")]
    Unprocessable(Json<Problem>),
    /// Too many requests or attempts.
    #[oai(status = 429, content_type = "application/problem+json")]
    TooMany(Json<Problem>, #[oai(header = "Retry-After")] u64),
    /// Unexpected failure; the cause is logged, not returned.
    #[oai(status = 500, content_type = "application/problem+json")]
    Internal(Json<Problem>),
    /// A dependency is unavailable; retry later.
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(Json<Problem>, #[oai(header = "Retry-After")] u64),
}

/// Converts request-parsing failures (bad JSON, unknown fields, missing credentials) into problems.
pub fn bad_request(err: poem::Error) -> ApiError {
    if err.is::<poem_openapi::error::AuthorizationError>() {
        return ApiError::unauthorized(Code::Unauthenticated, "credentials are required");
    }
    let detail = err.to_string();
    let code = match err.status().as_u16() {
        415 => Code::UnsupportedMediaType,
        422 => Code::InvalidBody,
        _ => Code::BadRequest,
    };
    ApiError::coded(code, detail, None)
}

impl ApiError {
    /// The answer for `code` — its status from the table of codes — with `detail` and, for
    /// answers that carry one, `Retry-After` (at least 1 s). Every problem goes through here.
    pub fn coded(code: Code, detail: impl Into<String>, retry_after: Option<u64>) -> Self {
        let problem = Json(Problem::new(code, detail));
        let retry = retry_after.unwrap_or(1).max(1);
        match code.status() {
            400 => ApiError::BadRequest(problem),
            401 => {
                let challenge = if matches!(code, Code::SessionRequired | Code::SessionExpired) {
                    SESSION_CHALLENGE.to_owned()
                } else if code == Code::InvalidToken {
                    format!("{BEARER_CHALLENGE}, error=\"invalid_token\"")
                } else {
                    BEARER_CHALLENGE.to_owned()
                };
                ApiError::Unauthorized(problem, challenge)
            }
            402 => ApiError::PaymentRequired(problem),
            403 => ApiError::Forbidden(problem, None),
            404 => ApiError::NotFound(problem),
            409 => ApiError::Conflict(problem, retry_after.map(|r| r.max(1))),
            413 => ApiError::PayloadTooLarge(problem),
            415 => ApiError::UnsupportedMediaType(problem),
            422 => ApiError::Unprocessable(problem),
            429 => ApiError::TooMany(problem, retry),
            503 => ApiError::Unavailable(problem, retry),
            _ => ApiError::Internal(problem),
        }
    }

    /// 401 with the Bearer challenge (`error="invalid_token"` for [`Code::InvalidToken`]).
    pub fn unauthorized(code: Code, detail: &str) -> Self {
        Self::coded(code, detail, None)
    }

    /// 403 `insufficient_scope` with its Bearer challenge.
    pub fn insufficient_scope(scope: &str) -> Self {
        ApiError::Forbidden(
            Json(Problem::new(
                Code::InsufficientScope,
                format!("requires scope {scope}"),
            )),
            Some(format!(
                "{BEARER_CHALLENGE}, error=\"insufficient_scope\", scope=\"{scope}\""
            )),
        )
    }

    /// 403 without a challenge (roles, CSRF).
    pub fn forbidden(code: Code, detail: impl Into<String>) -> Self {
        Self::coded(code, detail, None)
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::BadRequest(p)
            | ApiError::Unauthorized(p, _)
            | ApiError::Forbidden(p, _)
            | ApiError::PaymentRequired(p)
            | ApiError::NotFound(p)
            | ApiError::Conflict(p, _)
            | ApiError::Unprocessable(p)
            | ApiError::PayloadTooLarge(p)
            | ApiError::UnsupportedMediaType(p)
            | ApiError::TooMany(p, _)
            | ApiError::Internal(p)
            | ApiError::Unavailable(p, _) => p.0.status,
        }
    }
}

/// The portal's challenge for a missing session.
pub const SESSION_CHALLENGE: &str = "Cookie realm=\"tollgate-portal\"";

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        let code = err.code();
        match err {
            DomainError::NotFound(what) => Self::coded(code, format!("{what} not found"), None),
            DomainError::Conflict { detail, .. }
            | DomainError::Invalid { detail, .. }
            | DomainError::TooLarge { detail, .. } => Self::coded(code, detail, None),
            DomainError::InProgress {
                detail,
                retry_after,
                ..
            }
            | DomainError::Limited {
                detail,
                retry_after,
                ..
            }
            | DomainError::Busy {
                detail,
                retry_after,
                ..
            } => Self::coded(code, detail, Some(retry_after)),
            DomainError::PaymentRequired { detail, spend, .. } => {
                let mut answer = Self::coded(code, detail, None);
                if let (ApiError::PaymentRequired(p), Some(s)) = (&mut answer, spend) {
                    p.0.spend = Some(SpendProblem {
                        currency: s.currency,
                        cap: s.cap,
                        spent: s.spent,
                        would_be: s.would_be,
                    });
                }
                answer
            }
            DomainError::Unauthenticated(detail) => Self::coded(code, detail, None),
            DomainError::Forbidden(detail) => Self::coded(code, detail, None),
            DomainError::TooManyAttempts { retry_after } => Self::coded(
                code,
                "too many failed attempts; retry later",
                Some(retry_after),
            ),
            DomainError::Unavailable(cause) => {
                tracing::warn!(%cause, "dependency unavailable");
                Self::coded(code, "a dependency is unavailable; retry shortly", Some(1))
            }
            DomainError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                Self::coded(code, "internal error", None)
            }
        }
    }
}

/// Result of an API operation.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_errors_map_to_statuses() {
        let cases = [
            (DomainError::NotFound("key"), 404),
            (DomainError::conflict(Code::EmailTaken, "x"), 409),
            (
                DomainError::InProgress {
                    code: Code::IdempotencyInProgress,
                    detail: "x".into(),
                    retry_after: 1,
                },
                409,
            ),
            (DomainError::invalid(Code::InvalidScope, "x"), 422),
            (DomainError::Unauthenticated("x"), 401),
            (DomainError::Forbidden("x".into()), 403),
            (DomainError::TooManyAttempts { retry_after: 3 }, 429),
            (DomainError::Unavailable("db down".into()), 503),
            (
                DomainError::Limited {
                    code: Code::RateLimited,
                    detail: "x".into(),
                    retry_after: 1,
                },
                429,
            ),
            (
                DomainError::TooLarge {
                    code: Code::PayloadTooLarge,
                    detail: "x".into(),
                },
                413,
            ),
            (
                DomainError::Busy {
                    code: Code::OcrBusy,
                    detail: "x".into(),
                    retry_after: 2,
                },
                503,
            ),
            (DomainError::Internal("secret sql text".into()), 500),
        ];
        for (err, status) in cases {
            assert_eq!(ApiError::from(err).status(), status);
        }
    }

    /// The one mapping answers every code of the table with the code's own status.
    #[test]
    fn every_code_is_answered_with_its_status() {
        for code in Code::ALL {
            let expected = match code.status() {
                405 | 408 => continue, // answered by the middleware, outside any operation
                s => s,
            };
            let e = ApiError::coded(*code, "x", Some(3));
            assert_eq!(e.status(), expected, "{code}");
        }
    }

    #[test]
    fn internal_text_is_not_exposed() {
        let ApiError::Internal(p) = ApiError::from(DomainError::Internal(
            "relation \"x\" does not exist".into(),
        )) else {
            panic!("expected internal");
        };
        assert!(!p.0.detail.contains("relation"));
        assert_eq!(p.0.code, "internal");
    }

    #[test]
    fn bearer_challenges() {
        let ApiError::Unauthorized(_, h) = ApiError::unauthorized(Code::InvalidToken, "x") else {
            panic!()
        };
        assert_eq!(h, "Bearer realm=\"tollgate\", error=\"invalid_token\"");
        let ApiError::Forbidden(_, Some(h)) = ApiError::insufficient_scope("ocr:read") else {
            panic!()
        };
        assert!(h.contains("error=\"insufficient_scope\""));
    }
}
