//! Operational surface: health, readiness, metrics and discovery documents.

use crate::harness::{pg_admin_url, Backend, PrivateRedis, ServerSpec, TestServer};
use anyhow::{Context, Result};
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_metrics_and_discovery() -> Result<()> {
    let srv = TestServer::start(Backend::Postgres).await?;
    let t = srv.tenant("ocr:read").await?;
    assert_eq!(reqwest::get(srv.url("/healthz")).await?.text().await?, "ok");
    let ready: Value = reqwest::get(srv.url("/readyz")).await?.json().await?;
    assert_eq!(ready["status"], "ready");

    let token = srv.token(&t.client_id, &t.client_secret, None).await?;
    assert_eq!(srv.me(&token).await?.0, 200);
    assert_eq!(srv.me("garbage").await?.0, 401);
    let metrics = reqwest::get(srv.url("/metrics")).await?.text().await?;
    for needle in [
        "tollgate_http_requests_total{method=\"GET\",route=\"/v1/me\",status=\"200\"} 1",
        "tollgate_http_requests_total{method=\"GET\",route=\"/v1/me\",status=\"401\"} 1",
        "tollgate_http_request_duration_seconds_bucket{route=\"/v1/me\"",
        "tollgate_tokens_issued_total 1",
        "tollgate_auth_failures_total{reason=\"malformed\"} 1",
        &format!("tollgate_tenant_requests_total{{tenant=\"{}\"}} 1", t.id),
    ] {
        assert!(
            metrics.contains(needle),
            "missing `{needle}` in:\n{metrics}"
        );
    }

    let meta: Value = reqwest::get(srv.url("/.well-known/oauth-authorization-server"))
        .await?
        .json()
        .await?;
    assert_eq!(meta["issuer"], srv.base);
    assert_eq!(meta["token_endpoint"], format!("{}/oauth/token", srv.base));
    assert_eq!(
        meta["grant_types_supported"],
        serde_json::json!(["client_credentials"])
    );
    let claims = srv
        .auth()
        .tokens
        .verify(&token)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(claims.iss, meta["issuer"].as_str().unwrap());

    let jwks: Value = reqwest::get(srv.url("/.well-known/jwks.json"))
        .await?
        .json()
        .await?;
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "active and next");
    for k in keys {
        assert_eq!(
            (k["kty"].as_str(), k["crv"].as_str(), k["alg"].as_str()),
            (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
        );
        assert!(k.get("d").is_none(), "no private material");
    }
    // The token verifies with the published key alone, as any resource server would do it.
    let header = jsonwebtoken::decode_header(&token)?;
    let jwk = keys
        .iter()
        .find(|k| k["kid"].as_str() == header.kid.as_deref())
        .unwrap();
    let key = jsonwebtoken::DecodingKey::from_ed_components(jwk["x"].as_str().unwrap())?;
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    v.set_audience(&["tollgate-api"]);
    let data = jsonwebtoken::decode::<Value>(&token, &key, &v)?;
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(data.claims["tenant_id"], t.id);
    assert_eq!(
        data.claims["exp"].as_i64().unwrap() - data.claims["iat"].as_i64().unwrap(),
        900
    );
    for claim in ["iss", "aud", "sub", "jti", "scope", "client_id"] {
        assert!(data.claims.get(claim).is_some(), "claim {claim}");
    }

    let spec = reqwest::get(srv.url("/openapi.yaml")).await?.text().await?;
    assert_eq!(spec, tollgate_api::spec_yaml());
    srv.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_have_their_own_listener() -> Result<()> {
    let spec = crate::harness::ServerSpec::new(Backend::Sqlite, false).await?;
    let serve = tollgate::config::ServeArgs {
        metrics_listen: Some("127.0.0.1:0".parse()?),
        ..spec.serve_args()?
    };
    let running = crate::harness::start_server(&spec.common(), &serve, &spec.env()).await?;
    let metrics_addr = running.metrics_addr.expect("metrics listener");
    reqwest::get(format!("http://{}/healthz", running.addr)).await?;
    let on_main = reqwest::get(format!("http://{}/metrics", running.addr)).await?;
    assert_eq!(on_main.status(), 404, "not exposed on the public listener");
    let text = reqwest::get(format!("http://{metrics_addr}/metrics"))
        .await?
        .text()
        .await?;
    assert!(
        text.contains(
            "tollgate_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
        ),
        "{text}"
    );
    running.shutdown().await
}

async fn ready(srv: &TestServer) -> Result<(u16, Value)> {
    let resp = reqwest::get(srv.url("/readyz")).await?;
    Ok((resp.status().as_u16(), resp.json().await?))
}

/// `/readyz` names what fails — Redis stopped, then the database gone (and with it metering)
/// — while `/healthz`
/// (the process) stays up, and portal logins still answer (backoff counts in-process while
/// Redis is away).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_names_the_failing_dependency() -> Result<()> {
    let mut redis = PrivateRedis::start().await?;
    let mut spec = ServerSpec::new(Backend::Postgres, false).await?;
    spec.redis_url = Some(redis.url());
    let srv = spec.start().await?;
    let t = srv.tenant("ocr:read").await?;
    assert_eq!(
        ready(&srv).await?,
        (200, json!({ "status": "ready", "failing": [] }))
    );

    redis.kill();
    let (status, body) = ready(&srv).await?;
    assert_eq!(
        (status, &body["failing"]),
        (503, &json!(["redis"])),
        "{body}"
    );
    let resp = reqwest::Client::new()
        .post(srv.url("/v1/session"))
        .json(&json!({ "email": t.owner_email, "password": "a wrong password" }))
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 401, "logins answer without Redis");
    assert_eq!(reqwest::get(srv.url("/healthz")).await?.status(), 200);

    let db = spec
        .database_url
        .as_deref()
        .and_then(|u| u.rsplit('/').next())
        .context("a PostgreSQL spec has a database")?
        .to_owned();
    let admin = sea_orm::Database::connect(pg_admin_url()).await?;
    admin
        .execute_unprepared(&format!("DROP DATABASE \"{db}\" WITH (FORCE)"))
        .await?;
    let (status, body) = ready(&srv).await?;
    assert_eq!(
        (status, &body["failing"]),
        (503, &json!(["database", "redis", "metering"])),
        "metered calls cannot be admitted without the database: {body}"
    );
    assert_eq!(reqwest::get(srv.url("/healthz")).await?.status(), 200);
    srv.stop().await
}
