//! Benchmark-only routes (mounted when `TOLLGATE_BENCH_ROUTES=1`, never in the OpenAPI
//! contract): one trivial handler behind increasing amounts of the request path, so the cost
//! of each layer shows against the same baseline in one run.
//!
//! - `/bench/bare`: nothing.
//! - `/bench/auth`: authentication (JWT or API key).
//! - `/bench/admit`: authentication, rate limits, concurrency slot and a quota reservation
//!   (given back when the handler ends without committing).
//! - `/bench/metered`: all of that plus the usage event, recorded durably before answering.

use crate::metering::caller;
use crate::state::AppState;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{get, handler, Request, Response, Route};
use std::sync::Arc;
use tollgate_meter::Metered;

async fn principal(state: &AppState, req: &Request) -> Result<tollgate_auth::Principal, Response> {
    let token = req
        .headers()
        .get("x-api-key")
        .or_else(|| req.headers().get("authorization"))
        .and_then(|v| v.to_str().ok())
        .map(|v| v.strip_prefix("Bearer ").unwrap_or(v).to_owned())
        .unwrap_or_default();
    state
        .auth
        .authenticator
        .bearer(&token, None)
        .await
        .map_err(|_| {
            Response::builder()
                .status(StatusCode::UNAUTHORIZED)
                .finish()
        })
}

fn ok() -> Response {
    Response::builder().body("ok")
}

fn refused(status: StatusCode) -> Response {
    Response::builder().status(status).finish()
}

fn metered() -> Metered {
    Metered {
        operation: "bench",
        units: 1,
        idempotency_key: None,
        fingerprint: None,
        max_runtime: std::time::Duration::from_secs(30),
    }
}

#[handler]
fn bare() -> Response {
    ok()
}

#[handler]
async fn auth(state: Data<&Arc<AppState>>, req: &Request) -> Response {
    match principal(&state, req).await {
        Ok(_) => ok(),
        Err(r) => r,
    }
}

#[handler]
async fn admit(state: Data<&Arc<AppState>>, req: &Request) -> Response {
    let p = match principal(&state, req).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match state.meter.admit(&caller(&p), metered()).await {
        Ok(_admission) => ok(),
        Err(_) => refused(StatusCode::TOO_MANY_REQUESTS),
    }
}

#[handler]
async fn metered_call(state: Data<&Arc<AppState>>, req: &Request) -> Response {
    let p = match principal(&state, req).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let admission = match state.meter.admit(&caller(&p), metered()).await {
        Ok(tollgate_meter::Admitted::Run(a)) => a,
        Ok(tollgate_meter::Admitted::Replay { .. }) => return ok(),
        Err(_) => return refused(StatusCode::TOO_MANY_REQUESTS),
    };
    match admission.commit(200, None).await {
        Ok(()) => ok(),
        Err(_) => refused(StatusCode::SERVICE_UNAVAILABLE),
    }
}

/// `route` with the benchmark routes added.
pub fn mount(route: Route) -> Route {
    route
        .at("/bench/bare", get(bare))
        .at("/bench/auth", get(auth))
        .at("/bench/admit", get(admit))
        .at("/bench/metered", get(metered_call))
}
