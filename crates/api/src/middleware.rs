//! Cross-cutting request handling: request ids, client address (X-Forwarded-For only from
//! trusted proxies), structured access logs (path only: query strings can carry secrets) and
//! metrics, plus turning any error that escaped an operation into problem+json.
//!
//! Request bodies are read here, bounded in size and in time. `POST /v1/ocr` (the one route
//! with large bodies) is authenticated from its headers *before* its body is read: a caller
//! without valid credentials is answered at once and its upload never read.

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
use tokio::sync::OwnedSemaphorePermit;
use tollgate_auth::RequestCtx;
use tollgate_core::Code;
use tollgate_meter::Gate;
use tracing::Instrument;

/// Per-request facts extracted once, available to handlers via request extensions (and to
/// code without the request, its address, through [`caller_address`]).
#[derive(Debug, Clone)]
pub struct ClientInfo {
    /// Where the request came from.
    pub ctx: RequestCtx,
    /// A trusted proxy says the client reached it over https (`X-Forwarded-Proto`).
    pub forwarded_https: bool,
    /// The caller is on this host: a loopback peer, not a trusted proxy, not relaying anyone
    /// (no forwarding headers).
    pub local: bool,
}

tokio::task_local! {
    static CLIENT: ClientInfo;
}

/// The current request's client address, if inside a request and known (copies the address
/// alone, not the whole [`ClientInfo`]).
pub fn caller_address() -> Option<String> {
    CLIENT.try_with(|c| c.ctx.ip.clone()).ok().flatten()
}

/// Whether the peer relays for someone else (any forwarding header).
fn forwarded(req: &Request) -> bool {
    ["x-forwarded-for", "forwarded", "x-real-ip"]
        .iter()
        .any(|h| req.headers().contains_key(*h))
}

fn trusted_peer(req: &Request, trusted: &[IpAddr]) -> bool {
    req.remote_addr()
        .as_socket_addr()
        .is_some_and(|a| trusted.contains(&a.ip()))
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

/// A problem answer built outside any operation (before routing, or for poem's own errors),
/// through the same table of codes and the same problem document as the operations'.
pub(crate) fn problem_response(code: Code, detail: String) -> Response {
    let problem = Problem::new(code, detail);
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = poem_openapi::types::ToJSON::to_json(&problem)
        .map(|v| v.to_string())
        .unwrap_or_default();
    Response::builder()
        .status(status)
        .content_type("application/problem+json")
        .body(body)
}

/// The 404 of an unknown route.
pub fn not_found() -> Response {
    problem_response(Code::NotFound, "no such route".into())
}

/// Converts a poem error that no operation mapped (unknown route, wrong method, …) into
/// problem+json; responses an operation built itself pass through untouched.
fn error_to_response(err: poem::Error, path: &str) -> Response {
    if err.is::<poem::error::NotFoundError>() {
        return problem_response(Code::NotFound, "no such route".into());
    }
    if err.is::<poem_openapi::error::AuthorizationError>() {
        // No credentials at all: RFC 6750 §3.1 says no error code, just the challenge.
        let portal = ["/v1/session", "/v1/members", "/v1/clients", "/v1/keys"]
            .iter()
            .any(|p| path.starts_with(p));
        let challenge = if portal {
            crate::problem::SESSION_CHALLENGE
        } else {
            crate::problem::BEARER_CHALLENGE
        };
        let mut resp = problem_response(Code::Unauthenticated, "credentials are required".into());
        if let Ok(v) = HeaderValue::from_str(challenge) {
            resp.headers_mut().insert("www-authenticate", v);
        }
        return resp;
    }
    let status = err.status();
    // A request-parsing error says what was wrong with the request (never anything internal).
    let message: String = err.to_string().chars().take(300).collect();
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
    // The OAuth endpoints speak RFC 6749: a body they cannot parse (another media type, none
    // at all) is `invalid_request`, in an RFC 6749 error body.
    if path.starts_with("/oauth/")
        && matches!(
            status,
            StatusCode::BAD_REQUEST | StatusCode::UNSUPPORTED_MEDIA_TYPE
        )
    {
        let body = serde_json::json!({
            "error": "invalid_request",
            "error_description": "the request body must be application/x-www-form-urlencoded",
        });
        return Response::builder()
            .status(StatusCode::BAD_REQUEST)
            .content_type("application/json; charset=utf-8")
            .header("cache-control", "no-store")
            .body(body.to_string());
    }
    let code = match status {
        StatusCode::NOT_FOUND => Code::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => Code::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => Code::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Code::UnsupportedMediaType,
        s if s.is_server_error() => Code::Internal,
        _ => Code::BadRequest,
    };
    let detail = if status.is_server_error() {
        "internal error".to_owned()
    } else if message.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        message
    };
    problem_response(code, detail)
}

/// Largest request body the JSON and form endpoints accept. Checked against the bytes
/// actually read, so a chunked body without Content-Length cannot get around it.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Buffers the body up to `limit` bytes within `deadline`; `Err` is the 413/408/400 answer.
async fn bounded_body(
    req: &mut Request,
    limit: usize,
    deadline: std::time::Duration,
) -> Result<(), Response> {
    let too_large = || {
        problem_response(
            Code::PayloadTooLarge,
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
    let read = tokio::time::timeout(deadline, req.take_body().into_bytes_limit(limit)).await;
    match read {
        Ok(Ok(bytes)) => {
            req.set_body(bytes);
            Ok(())
        }
        Ok(Err(poem::error::ReadBodyError::PayloadTooLarge)) => Err(too_large()),
        Ok(Err(_)) => Err(problem_response(
            Code::BadRequest,
            "the request body could not be read".into(),
        )),
        Err(_) => Err(problem_response(
            Code::RequestTimeout,
            format!(
                "the request body did not arrive within {} seconds",
                deadline.as_secs()
            ),
        )),
    }
}

/// The API credential in the headers, as the `ApiCaller` security scheme reads it:
/// `Authorization: Bearer` first, then `X-API-Key`.
pub(crate) fn header_credentials(req: &Request) -> Option<crate::security::ApiCaller> {
    use crate::security::{ApiCaller, ApiKeyAuth, BearerAuth};
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty());
    if let Some(token) = bearer {
        return Some(ApiCaller::Bearer(BearerAuth(poem_openapi::auth::Bearer {
            token: token.to_owned(),
        })));
    }
    req.headers()
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(|key| {
            ApiCaller::ApiKey(ApiKeyAuth(poem_openapi::auth::ApiKey {
                key: key.to_owned(),
            }))
        })
}

/// What `POST /v1/ocr` took before its body was read, for the handler: the metering gate
/// (rate limits charged, a concurrency slot) and the upload's share of the body budget. The
/// share is given back when the request (the last clone of this value) ends.
#[derive(Clone)]
pub struct Preadmitted(Arc<PreadmittedInner>);

struct PreadmittedInner {
    gate: std::sync::Mutex<Option<Gate>>,
    _body: OwnedSemaphorePermit,
}

impl std::fmt::Debug for Preadmitted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Preadmitted")
    }
}

impl Preadmitted {
    /// The gate, for admission (once).
    pub fn take_gate(&self) -> Option<Gate> {
        self.0.gate.lock().ok()?.take()
    }
}

/// Authenticates `POST /v1/ocr` from its headers alone, then charges its rate limits, takes a
/// concurrency slot and reserves the upload's bytes in the body budget — all before a byte of
/// the body is read. `Err` is the answer, sent without reading the body.
async fn preauthorize(state: &AppState, req: &mut Request) -> Result<(), Response> {
    let Some(caller) = header_credentials(req) else {
        let mut resp = problem_response(Code::Unauthenticated, "credentials are required".into());
        if let Ok(v) = HeaderValue::from_str(crate::problem::BEARER_CHALLENGE) {
            resp.headers_mut().insert("www-authenticate", v);
        }
        return Err(resp);
    };
    let principal = state
        .authorized(&caller, tollgate_core::Scope::OcrRead)
        .await
        .map_err(IntoResponse::into_response)?;
    let gate = state
        .gate(&principal)
        .await
        .map_err(IntoResponse::into_response)?;
    // The upload's bytes in the body budget: the declared length, or the most a body here
    // may be when none is declared (chunked).
    let declared = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(state.config.ocr_max_body)
        .min(state.config.ocr_max_body);
    let kib = u32::try_from(declared.div_ceil(1024).max(1)).unwrap_or(u32::MAX);
    let body = state
        .ocr_bodies
        .clone()
        .try_acquire_many_owned(kib)
        .map_err(|_| {
            let mut resp = problem_response(
                Code::OcrBusy,
                "too many uploads are being received; retry shortly".into(),
            );
            resp.headers_mut()
                .insert("retry-after", HeaderValue::from_static("1"));
            resp
        })?;
    req.extensions_mut().insert(principal);
    req.extensions_mut()
        .insert(Preadmitted(Arc::new(PreadmittedInner {
            gate: std::sync::Mutex::new(Some(gate)),
            _body: body,
        })));
    Ok(())
}

/// A request id for a request that brought none: a random UUID (v4), from the thread's
/// CSPRNG rather than a `getrandom` system call per request (`Uuid::new_v4`). Request ids
/// are not secrets (a client may choose its own); they only need to be unique.
fn new_request_id() -> String {
    uuid::Builder::from_random_bytes(rand::random())
        .into_uuid()
        .simple()
        .to_string()
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
        .map_or_else(new_request_id, str::to_owned);
    let ip = client_ip(&req, &state.config.trusted_proxies);
    let user_agent = req
        .headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(256).collect());
    let trusted = trusted_peer(&req, &state.config.trusted_proxies);
    let forwarded_https = trusted
        && req
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    // On this host and relaying no one: a loopback peer that is not a proxy we were told
    // about (a trusted proxy on this host makes every loopback caller a relayed one, even
    // when it adds no forwarding header) and sends no forwarding header.
    let local = req
        .remote_addr()
        .as_socket_addr()
        .is_some_and(|a| a.ip().is_loopback())
        && !trusted
        && !forwarded(&req);
    let client = ClientInfo {
        ctx: RequestCtx {
            ip: ip.map(|i| i.to_string()),
            user_agent,
        },
        forwarded_https,
        local,
    };
    req.extensions_mut().insert(client.clone());
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let route = route_label(&path);
    let has_body = !matches!(
        *req.method(),
        poem::http::Method::GET | poem::http::Method::HEAD | poem::http::Method::OPTIONS
    );
    // Every event logged while the request runs carries its id (the span's field); exported
    // as a trace, the span is the server span `{method} {route}` (OpenTelemetry's HTTP names).
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        "http.request.method" = %method,
        "http.route" = %route,
        "http.response.status_code" = tracing::field::Empty,
    );
    let request_span = span.clone();
    // Images go to one route; every other body is small JSON or a form.
    let ocr = route == "/v1/ocr" && *req.method() == poem::http::Method::POST;
    let body_limit = if ocr {
        state.config.ocr_max_body
    } else {
        MAX_BODY_BYTES
    };
    let result = CLIENT.scope(
        client,
        REQUEST_ID.scope(
            request_id.clone(),
            RESPONSE_META.scope(
                RefCell::new(ResponseMeta::default()),
                async {
                    let mut resp = if ocr {
                        preauthorize(&state, &mut req).await.err()
                    } else {
                        None
                    };
                    if resp.is_none() && has_body {
                        resp = bounded_body(&mut req, body_limit, state.config.body_timeout)
                            .await
                            .err();
                    }
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
        ),
    );
    let mut resp = result.await;
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    let status = resp.status().as_u16();
    request_span.record("http.response.status_code", i64::from(status));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_request_ids_are_random_v4_uuids() {
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| new_request_id()).collect();
        assert_eq!(ids.len(), 1000);
        for id in &ids {
            assert!(valid_request_id(id), "{id}");
            let uuid = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(uuid.get_version(), Some(uuid::Version::Random));
            assert_eq!(uuid.get_variant(), uuid::Variant::RFC4122);
        }
    }
}
