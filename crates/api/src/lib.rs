//! Tollgate's HTTP API: poem + poem-openapi. The OpenAPI document generated here is the
//! contract (`openapi/openapi.yaml`); [`serve`] runs the API on a listener until `shutdown`.

#[cfg(feature = "bench")]
pub mod bench;
pub mod metering;
pub mod metrics;
pub mod middleware;
pub mod payload;
mod portal;
pub mod problem;
pub mod routes;
pub mod security;
pub mod state;

use poem::endpoint::make_sync;
use poem::listener::TcpAcceptor;
use poem::web::Data;
use poem::{get, EndpointExt, Route, Server};
use poem_openapi::OpenApiService;
use routes::{
    audit::AuditApi, billing::BillingApi, clients::ClientsApi, credits::CreditsApi,
    invoices::InvoicesApi, keys::KeysApi, me::MeApi, members::MembersApi, oauth::OAuthApi,
    ocr::OcrApi, oidc::OidcApi, operator::OperatorApi, ops::OpsApi, plan::PlanApi,
    session::SessionApi, stripe::StripeApi, usage::UsageApi, webhooks::WebhooksApi,
};
use std::sync::Arc;
use std::time::Duration;

pub use state::{ApiConfig, AppState, ReadinessCheck};

// poem-openapi implements `OpenApi` for tuples of up to 16: two groups.
type Apis = (
    (
        OpsApi,
        OAuthApi,
        SessionApi,
        OidcApi,
        MembersApi,
        ClientsApi,
        KeysApi,
        MeApi,
        OcrApi,
    ),
    (
        UsageApi,
        PlanApi,
        BillingApi,
        CreditsApi,
        InvoicesApi,
        AuditApi,
        WebhooksApi,
        StripeApi,
        OperatorApi,
    ),
);

/// The OpenAPI service (also the source of the committed spec).
pub fn api_service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            (
                OpsApi, OAuthApi, SessionApi, OidcApi, MembersApi, ClientsApi, KeysApi, MeApi,
                OcrApi,
            ),
            (
                UsageApi,
                PlanApi,
                BillingApi,
                CreditsApi,
                InvoicesApi,
                AuditApi,
                WebhooksApi,
                StripeApi,
                OperatorApi,
            ),
        ),
        "Tollgate",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Metered OCR API: OAuth2 client credentials and API keys, per-tenant administration.",
    )
}

/// The spec as YAML, exactly as committed in `openapi/openapi.yaml`.
///
/// poem-openapi writes a described reference as `allOf: [{$ref}, {description}]`, which
/// OpenAPI 3.0 generators read as a composition (openapi-python-client refuses it for enums
/// and drops every schema that uses one); such a field is written as the plain `$ref` here
/// (the referenced schema keeps its own description).
pub fn spec_yaml() -> String {
    let service = api_service();
    let yaml = service.spec_yaml();
    let Ok(mut doc) = serde_yaml::from_str::<serde_yaml::Value>(&yaml) else {
        return yaml;
    };
    plain_refs(&mut doc);
    serde_yaml::to_string(&doc).unwrap_or(yaml)
}

/// Replaces every schema that is an `allOf` of one `$ref` plus annotations only (no type,
/// no properties) by that `$ref`.
fn plain_refs(v: &mut serde_yaml::Value) {
    use serde_yaml::Value;
    match v {
        Value::Mapping(map) => {
            let plain = map
                .get("allOf")
                .and_then(Value::as_sequence)
                .and_then(|parts| {
                    let refs: Vec<_> = parts.iter().filter_map(|p| p.get("$ref")).collect();
                    let annotations_only = parts.iter().all(|p| {
                        p.get("$ref").is_some()
                            || p.as_mapping().is_some_and(|m| {
                                m.keys().all(|k| {
                                    matches!(k.as_str(), Some("description" | "title" | "default"))
                                })
                            })
                    });
                    (refs.len() == 1 && annotations_only).then(|| refs[0].clone())
                });
            let annotated = map.keys().all(|k| {
                matches!(
                    k.as_str(),
                    Some("allOf" | "description" | "title" | "default")
                )
            });
            match plain {
                Some(reference) if annotated => {
                    map.clear();
                    map.insert(Value::from("$ref"), reference);
                }
                _ => map.values_mut().for_each(plain_refs),
            }
        }
        Value::Sequence(items) => items.iter_mut().for_each(plain_refs),
        _ => {}
    }
}

/// The whole HTTP application for `state`.
pub fn app(state: Arc<AppState>) -> impl poem::Endpoint {
    let spec = spec_yaml();
    let mut route = Route::new()
        .nest("/", api_service())
        .at("/openapi.yaml", get(make_sync(move |_| spec.clone())))
        .at("/admin", portal::serve)
        .at("/admin/*rest", portal::serve);
    if state.config.metrics_on_main {
        route = route.at("/metrics", get(local_metrics));
    }
    #[cfg(feature = "bench")]
    if state.config.bench_routes {
        route = bench::mount(route);
    }
    let mw_state = state.clone();
    route
        .data(state)
        .with(poem::middleware::CookieJarManager::new())
        .around(move |ep, req| middleware::around(mw_state.clone(), ep, req))
}

/// `/metrics` on the public listener: to callers on this host only (a loopback peer relaying
/// no one); anyone else gets the same 404 as an unknown route.
#[poem::handler]
fn local_metrics(state: Data<&Arc<AppState>>, req: &poem::Request) -> poem::Response {
    use poem::IntoResponse;
    let local = req
        .extensions()
        .get::<middleware::ClientInfo>()
        .is_some_and(|c| c.local);
    if local {
        state.metrics.render().into_response()
    } else {
        middleware::not_found()
    }
}

#[poem::handler]
fn metrics_endpoint(state: Data<&Arc<AppState>>) -> String {
    state.metrics.render()
}

/// An app serving only `/metrics`, for a separate metrics listener.
pub fn metrics_app(state: Arc<AppState>) -> impl poem::Endpoint {
    Route::new()
        .at("/metrics", get(metrics_endpoint))
        .data(state)
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains in-flight requests
/// (for at most `grace`).
pub async fn serve(
    endpoint: impl poem::Endpoint + 'static,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send,
    grace: Duration,
) -> std::io::Result<()> {
    let acceptor = TcpAcceptor::from_tokio(listener)?;
    Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(endpoint, shutdown, Some(grace))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn described_references_are_plain_references() {
        let yaml = spec_yaml();
        assert!(!yaml.contains("allOf"), "an allOf is left in the spec");
        assert!(yaml.contains("$ref: '#/components/schemas/RoleName'"));
        assert!(yaml.starts_with("openapi: 3.0.0"), "the key order is kept");
    }
}
