//! Errors on the wire: `application/problem+json` (RFC 9457) with a stable `code` and the
//! request id. [`ApiError::from`] is the one place a [`DomainError`] becomes HTTP.

use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};
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
}

impl Problem {
    /// A problem with the current request id.
    pub fn new(status: u16, code: &str, detail: impl Into<String>) -> Self {
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
        return ApiError::unauthorized("unauthenticated", "credentials are required");
    }
    let status = err.status().as_u16();
    let detail = err.to_string();
    match status {
        415 => ApiError::UnsupportedMediaType(Json(Problem::new(
            415,
            "unsupported_media_type",
            detail,
        ))),
        422 => ApiError::Unprocessable(Json(Problem::new(422, "invalid_body", detail))),
        _ => ApiError::BadRequest(Json(Problem::new(400, "bad_request", detail))),
    }
}

impl ApiError {
    /// 401 with the Bearer challenge.
    pub fn unauthorized(code: &str, detail: &str) -> Self {
        let challenge = if code == "invalid_token" {
            format!("{BEARER_CHALLENGE}, error=\"invalid_token\"")
        } else {
            BEARER_CHALLENGE.to_owned()
        };
        ApiError::Unauthorized(Json(Problem::new(401, code, detail)), challenge)
    }

    /// 403 `insufficient_scope` with its Bearer challenge.
    pub fn insufficient_scope(scope: &str) -> Self {
        ApiError::Forbidden(
            Json(Problem::new(
                403,
                "insufficient_scope",
                format!("requires scope {scope}"),
            )),
            Some(format!(
                "{BEARER_CHALLENGE}, error=\"insufficient_scope\", scope=\"{scope}\""
            )),
        )
    }

    /// 403 without a challenge (roles, CSRF).
    pub fn forbidden(code: &str, detail: impl Into<String>) -> Self {
        ApiError::Forbidden(Json(Problem::new(403, code, detail)), None)
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::BadRequest(p)
            | ApiError::Unauthorized(p, _)
            | ApiError::Forbidden(p, _)
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

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::NotFound(what) => ApiError::NotFound(Json(Problem::new(
                404,
                "not_found",
                format!("{what} not found"),
            ))),
            DomainError::Conflict { code, detail } => {
                ApiError::Conflict(Json(Problem::new(409, code, detail)), None)
            }
            DomainError::InProgress {
                code,
                detail,
                retry_after,
            } => ApiError::Conflict(
                Json(Problem::new(409, code, detail)),
                Some(retry_after.max(1)),
            ),
            DomainError::Invalid { code, detail } => {
                ApiError::Unprocessable(Json(Problem::new(422, code, detail)))
            }
            DomainError::Unauthenticated(detail) => {
                ApiError::unauthorized("unauthenticated", detail)
            }
            DomainError::Forbidden(detail) => ApiError::forbidden("forbidden", detail),
            DomainError::TooManyAttempts { retry_after } => ApiError::TooMany(
                Json(Problem::new(
                    429,
                    "too_many_attempts",
                    "too many failed attempts; retry later",
                )),
                retry_after.max(1),
            ),
            DomainError::Limited {
                code,
                detail,
                retry_after,
            } => ApiError::TooMany(Json(Problem::new(429, code, detail)), retry_after.max(1)),
            DomainError::TooLarge { code, detail } => {
                ApiError::PayloadTooLarge(Json(Problem::new(413, code, detail)))
            }
            DomainError::Busy {
                code,
                detail,
                retry_after,
            } => ApiError::Unavailable(Json(Problem::new(503, code, detail)), retry_after.max(1)),
            DomainError::Unavailable(cause) => {
                tracing::warn!(%cause, "dependency unavailable");
                ApiError::Unavailable(
                    Json(Problem::new(
                        503,
                        "unavailable",
                        "a dependency is unavailable; retry shortly",
                    )),
                    1,
                )
            }
            DomainError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                ApiError::Internal(Json(Problem::new(500, "internal", "internal error")))
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
            (DomainError::conflict("email_taken", "x"), 409),
            (
                DomainError::InProgress {
                    code: "idempotency_in_progress",
                    detail: "x".into(),
                    retry_after: 1,
                },
                409,
            ),
            (DomainError::invalid("invalid_scope", "x"), 422),
            (DomainError::Unauthenticated("x"), 401),
            (DomainError::Forbidden("x".into()), 403),
            (DomainError::TooManyAttempts { retry_after: 3 }, 429),
            (DomainError::Unavailable("db down".into()), 503),
            (
                DomainError::Limited {
                    code: "rate_limited",
                    detail: "x".into(),
                    retry_after: 1,
                },
                429,
            ),
            (
                DomainError::TooLarge {
                    code: "image_too_large",
                    detail: "x".into(),
                },
                413,
            ),
            (
                DomainError::Busy {
                    code: "ocr_busy",
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
        let ApiError::Unauthorized(_, h) = ApiError::unauthorized("invalid_token", "x") else {
            panic!()
        };
        assert_eq!(h, "Bearer realm=\"tollgate\", error=\"invalid_token\"");
        let ApiError::Forbidden(_, Some(h)) = ApiError::insufficient_scope("ocr:read") else {
            panic!()
        };
        assert!(h.contains("error=\"insufficient_scope\""));
    }
}
