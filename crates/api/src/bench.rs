//! Benchmark-only routes, compiled only with the `bench` cargo feature (never into the
//! release binary, never in the OpenAPI contract) and mounted when `TOLLGATE_BENCH_ROUTES=1`:
//! one trivial handler behind increasing amounts of the production request path, so the cost
//! of each layer shows against the same baseline in one run. Each goes through the same
//! middleware (request id, metrics, rate-limit headers) and the same `AppState` calls as
//! `POST /v1/ocr`, and answers their errors as problem+json like every route.
//!
//! - `/bench/bare`: nothing.
//! - `/bench/auth`: [`AppState::authorized`] (JWT or API key, scope `ocr:read`).
//! - `/bench/admit`: that plus [`AppState::admit`] (rate limits, concurrency slot, quota
//!   reservation), dropped without a commit (the reservation is given back).
//! - `/bench/metered`: that plus [`AppState::commit`] (the usage event, durable before the
//!   answer), as `POST /v1/ocr` does.

use crate::middleware::header_credentials;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use poem::web::Data;
use poem::{get, handler, IntoResponse, Request, Response, Route};
use std::sync::Arc;
use tollgate_auth::Principal;
use tollgate_core::{Code, Scope};
use tollgate_meter::{Admitted, Metered};

async fn principal(state: &AppState, req: &Request) -> ApiResult<Principal> {
    let caller = header_credentials(req)
        .ok_or_else(|| ApiError::unauthorized(Code::Unauthenticated, "credentials are required"))?;
    state.authorized(&caller, Scope::OcrRead).await
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

fn answer(result: ApiResult<()>) -> Response {
    match result {
        Ok(()) => Response::builder().body("ok"),
        Err(e) => e.into_response(),
    }
}

#[handler]
fn bare() -> Response {
    answer(Ok(()))
}

#[handler]
async fn auth(state: Data<&Arc<AppState>>, req: &Request) -> Response {
    answer(principal(&state, req).await.map(drop))
}

#[handler]
async fn admit(state: Data<&Arc<AppState>>, req: &Request) -> Response {
    answer(
        async {
            let p = principal(&state, req).await?;
            state.admit(&p, None, metered()).await.map(drop)
        }
        .await,
    )
}

#[handler]
async fn metered_call(state: Data<&Arc<AppState>>, req: &Request) -> Response {
    answer(
        async {
            let p = principal(&state, req).await?;
            match state.admit(&p, None, metered()).await? {
                Admitted::Run(admission) => state.commit(admission, 200, None).await,
                // No idempotency key is sent, so nothing is replayed.
                Admitted::Replay { .. } => Ok(()),
            }
        }
        .await,
    )
}

/// `route` with the benchmark routes added.
pub fn mount(route: Route) -> Route {
    route
        .at("/bench/bare", get(bare))
        .at("/bench/auth", get(auth))
        .at("/bench/admit", get(admit))
        .at("/bench/metered", get(metered_call))
}
