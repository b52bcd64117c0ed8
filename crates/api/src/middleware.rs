//! Cross-cutting request handling: request ids, client address (X-Forwarded-For only from
//! trusted proxies), structured access logs (path only: query strings can carry secrets) and
//! metrics, plus turning any error that escaped an operation into problem+json.

use crate::metering::{apply, ResponseMeta, RESPONSE_META};
use crate::metrics::route_label;
use crate::problem::{Problem, REQUEST_ID};
use crate::state::AppState;
use poem::http::{HeaderValue, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};
use std::cell::RefCell;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;
use tollgate_auth::RequestCtx;
use tracing::Instrument;

/// Per-request facts extracted once, available to handlers via request extensions.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    /// Where the request came from.
    pub ctx: RequestCtx,
}

fn valid_request_id(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The caller's IP: the peer address, or the right-most untrusted X-Forwarded-For entry when
/// the peer is a trusted proxy.
pub fn client_ip(req: &Request, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = req.remote_addr().as_socket_addr().map(|a| a.ip())?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded = req.headers().get_all("x-forwarded-for");
    let mut hops: Vec<IpAddr> = forwarded
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    while let Some(ip) = hops.pop() {
        if !trusted.contains(&ip) {
            return Some(ip);
        }
    }
    Some(peer)
}

fn problem_response(status: StatusCode, code: &str, detail: String) -> Response {
    let body = Problem::new(status.as_u16(), code, detail);
    let json = serde_json::json!({
        "type": body.ty, "title": body.title, "status": body.status,
        "detail": body.detail, "code": body.code, "request_id": body.request_id,
    });
    Response::builder()
        .status(status)
        .content_type("application/problem+json")
        .body(json.to_string())
}

/// Converts a poem error that no operation mapped (unknown route, wrong method, …) into
/// problem+json; responses an operation built itself pass through untouched.
fn error_to_response(err: poem::Error, path: &str) -> Response {
    if err.is::<poem::error::NotFoundError>() {
        return problem_response(StatusCode::NOT_FOUND, "not_found", "no such route".into());
    }
    if err.is::<poem_openapi::error::AuthorizationError>() {
        // No credentials at all: RFC 6750 §3.1 says no error code, just the challenge.
        let portal = ["/v1/session", "/v1/members", "/v1/clients", "/v1/keys"]
            .iter()
            .any(|p| path.starts_with(p));
        let challenge = if portal {
            "Cookie realm=\"tollgate-portal\""
        } else {
            crate::problem::BEARER_CHALLENGE
        };
        let mut resp = problem_response(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "credentials are required".into(),
        );
        if let Ok(v) = HeaderValue::from_str(challenge) {
            resp.headers_mut().insert("www-authenticate", v);
        }
        return resp;
    }
    let status = err.status();
    let resp = err.into_response();
    let is_problem = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.starts_with("application/problem+json") || ct.starts_with("application/json")
        });
    if is_problem {
        return resp;
    }
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let detail = if status.is_server_error() {
        "internal error".to_owned()
    } else {
        status.canonical_reason().unwrap_or("error").to_owned()
    };
    problem_response(status, code, detail)
}

/// Largest request body the JSON and form endpoints accept. Checked against the bytes
/// actually read, so a chunked body without Content-Length cannot get around it.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Buffers the body up to `limit` bytes; `Err` is the 413/400 answer.
async fn bounded_body(req: &mut Request, limit: usize) -> Result<(), Response> {
    let too_large = || {
        problem_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("request bodies here are limited to {limit} bytes"),
        )
    };
    let declared = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(too_large());
    }
    match req.take_body().into_bytes_limit(limit).await {
        Ok(bytes) => {
            req.set_body(bytes);
            Ok(())
        }
        Err(poem::error::ReadBodyError::PayloadTooLarge) => Err(too_large()),
        Err(_) => Err(problem_response(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "the request body could not be read".into(),
        )),
    }
}

/// Wraps the application: request id, client info, logging, metrics, error normalisation.
pub async fn around(
    state: Arc<AppState>,
    next: impl Endpoint,
    mut req: Request,
) -> poem::Result<Response> {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| valid_request_id(v))
        .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_owned);
    let ip = client_ip(&req, &state.config.trusted_proxies);
    let user_agent = req
        .headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(256).collect());
    req.extensions_mut().insert(ClientInfo {
        ctx: RequestCtx {
            ip: ip.map(|i| i.to_string()),
            user_agent,
        },
    });
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let route = route_label(&path);
    let has_body = !matches!(
        *req.method(),
        poem::http::Method::GET | poem::http::Method::HEAD | poem::http::Method::OPTIONS
    );
    // Every event logged while the request runs carries its id (the span's field).
    let span = tracing::info_span!("request", request_id = %request_id);
    // Images go to one route; every other body is small JSON or a form.
    let body_limit = if route == "/v1/ocr" {
        state.config.ocr_max_body
    } else {
        MAX_BODY_BYTES
    };
    let result = REQUEST_ID.scope(
        request_id.clone(),
        RESPONSE_META.scope(
            RefCell::new(ResponseMeta::default()),
            async {
                let mut resp = if has_body {
                    bounded_body(&mut req, body_limit).await.err()
                } else {
                    None
                };
                if resp.is_none() {
                    resp = Some(match next.call(req).await {
                        Ok(resp) => resp.into_response(),
                        Err(err) => error_to_response(err, &path),
                    });
                }
                let mut resp = resp.unwrap_or_default();
                let _ = RESPONSE_META.try_with(|m| apply(&mut resp, &m.borrow()));
                resp
            }
            .instrument(span),
        ),
    );
    let mut resp = result.await;
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    let status = resp.status().as_u16();
    let elapsed = started.elapsed();
    state
        .metrics
        .requests
        .with_label_values(&[&route, &method, &status.to_string()])
        .inc();
    state
        .metrics
        .latency
        .with_label_values(&[&route])
        .observe(elapsed.as_secs_f64());
    tracing::info!(
        request_id = %request_id, method = %method, route = %route, status,
        latency_ms = elapsed.as_secs_f64() * 1000.0, ip = ?ip, "request"
    );
    Ok(resp)
}
