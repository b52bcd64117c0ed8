//! Scopes as an attacker sends them: every route that accepts scopes (portal keys, clients,
//! client updates, the CLI) parses the list item by item, so `operator` cannot be smuggled
//! inside one item by whitespace of any kind, by case, by duplicates or by a near-miss
//! spelling; and the operator scope is worth nothing outside the platform tenant, even when a
//! tenant's stored credential somehow holds it (a key, its rotation, a client's token).

use crate::both_backends;
use crate::harness::{Backend, Portal, ServerSpec, Tenant, TestServer};
use anyhow::{Context, Result};
use reqwest::Method;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

both_backends!(
    scope_lists_cannot_smuggle_the_operator_scope,
    a_stored_operator_scope_is_powerless_outside_the_platform,
    the_cli_grants_operator_only_in_the_platform_tenant,
);

/// Scope lists that must each be refused whole, as `invalid_scope`.
fn hostile_lists() -> Vec<Value> {
    vec![
        json!(["ocr:read operator"]),
        json!(["ocr:read\toperator"]),
        json!(["ocr:read\noperator"]),
        json!(["ocr:read\r\noperator"]),
        json!(["ocr:read\u{0b}operator"]),
        json!(["ocr:read\u{0c}operator"]),
        json!(["ocr:read\u{a0}operator"]),
        json!(["ocr:read\u{2003}operator"]),
        json!(["ocr:read,operator"]),
        json!(["operator"]),
        json!(["ocr:read", "operator"]),
        json!([" operator"]),
        json!(["operator "]),
        json!(["Operator"]),
        json!(["OPERATOR"]),
        json!(["OCR:READ"]),
        json!([" ocr:read"]),
        json!(["ocr:read", "ocr:read"]),
        json!(["operator", "operator"]),
        json!([""]),
        json!(["ocr:read", ""]),
        json!([]),
    ]
}

async fn ids(portal: &Portal, path: &str, field: &str) -> Result<Vec<String>> {
    let (status, list) = portal.get(path).await?;
    assert_eq!(status, 200, "GET {path}: {list}");
    Ok(list
        .as_array()
        .context("a list")?
        .iter()
        .filter_map(|v| v[field].as_str().map(str::to_owned))
        .collect())
}

async fn scope_lists_cannot_smuggle_the_operator_scope(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let t = srv.tenant("ocr:read").await?;
    let portal = srv.login(&t.owner_email, &t.owner_password).await?;
    let keys_before = ids(&portal, "/v1/keys", "key_id").await?;
    let clients_before = ids(&portal, "/v1/clients", "client_id").await?;
    let client = format!("/v1/clients/{}", t.client_id);
    for scopes in hostile_lists() {
        for (method, path, body) in [
            (
                Method::POST,
                "/v1/keys",
                json!({ "name": "k", "scopes": scopes }),
            ),
            (
                Method::POST,
                "/v1/clients",
                json!({ "name": "c", "scopes": scopes }),
            ),
            (Method::PATCH, client.as_str(), json!({ "scopes": scopes })),
        ] {
            let (status, answer) = portal.send(method.clone(), path, Some(body)).await?;
            assert_eq!(
                (status, answer["code"].as_str()),
                (422, Some("invalid_scope")),
                "{method} {path} {scopes}: {answer}"
            );
        }
    }
    // Nothing was created or changed.
    assert_eq!(ids(&portal, "/v1/keys", "key_id").await?, keys_before);
    assert_eq!(
        ids(&portal, "/v1/clients", "client_id").await?,
        clients_before
    );
    let (_, client) = portal.get(&format!("/v1/clients/{}", t.client_id)).await?;
    assert_eq!(client["scopes"], json!(["ocr:read"]));

    // Controls: honest lists are accepted, exactly as given.
    let (status, key) = portal
        .post(
            "/v1/keys",
            json!({ "name": "k", "scopes": ["usage:read", "ocr:read"] }),
        )
        .await?;
    assert_eq!(status, 201, "{key}");
    assert_eq!(key["scopes"], json!(["ocr:read", "usage:read"]));
    let (status, body) = portal
        .patch(
            &format!("/v1/clients/{}", t.client_id),
            json!({ "scopes": ["usage:read"] }),
        )
        .await?;
    assert_eq!((status, &body["scopes"]), (200, &json!(["usage:read"])));
    srv.stop().await
}

async fn set_stored_scopes(srv: &TestServer, table: &str, column: &str, id: &str) -> Result<()> {
    let res = srv
        .store()
        .conn()
        .execute_unprepared(&format!(
            "UPDATE {table} SET scopes = 'ocr:read operator' WHERE {column} = '{id}'"
        ))
        .await?;
    assert_eq!(res.rows_affected(), 1, "{table} row {id}");
    Ok(())
}

async fn operator_status(srv: &TestServer, header: (&str, String)) -> Result<(u16, Value)> {
    let resp = reqwest::Client::new()
        .get(srv.url("/v1/operator/plans"))
        .header(header.0, header.1)
        .send()
        .await?;
    let status = resp.status().as_u16();
    Ok((status, resp.json().await.unwrap_or(Value::Null)))
}

/// A tenant credential whose stored scopes hold `operator` (written straight into the
/// database, as a bug or an attacker with write access might) still cannot reach the operator
/// API: not as a key, not through a token of the client, not after rotating the key.
async fn a_stored_operator_scope_is_powerless_outside_the_platform(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let t: Tenant = srv.tenant("ocr:read").await?;
    let portal = srv.login(&t.owner_email, &t.owner_password).await?;
    let name = format!("k-{}", uuid::Uuid::new_v4().simple());
    let (status, key) = portal
        .post("/v1/keys", json!({ "name": name, "scopes": ["ocr:read"] }))
        .await?;
    assert_eq!(status, 201);
    let key_value = key["key"].as_str().context("key")?.to_owned();
    let key_id = key["key_id"].as_str().context("key_id")?.to_owned();
    set_stored_scopes(&srv, "api_keys", "name", &name).await?;
    set_stored_scopes(&srv, "oauth_clients", "client_id", &t.client_id).await?;
    // Past the one-second key cache.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let (status, body) = operator_status(&srv, ("x-api-key", key_value.clone())).await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("insufficient_scope")),
        "the key: {body}"
    );
    let (_, me) = srv.me(&key_value).await?;
    assert_eq!(me["scopes"], json!(["ocr:read"]), "{me}");

    // The client: a token asking for everything carries no operator scope, and asking for
    // it is refused.
    let token = srv.token(&t.client_id, &t.client_secret, None).await?;
    let (status, body) =
        operator_status(&srv, ("authorization", format!("Bearer {token}"))).await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("insufficient_scope"))
    );
    let resp = reqwest::Client::new()
        .post(srv.url("/oauth/token"))
        .basic_auth(&t.client_id, Some(&t.client_secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "operator")])
        .send()
        .await?;
    let status = resp.status().as_u16();
    let body: Value = resp.json().await?;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );

    // Rotation re-issues the key's scopes, without `operator`.
    let (status, rotated) = portal
        .post(&format!("/v1/keys/{key_id}/rotate"), json!({}))
        .await?;
    assert_eq!(status, 201, "{rotated}");
    assert_eq!(rotated["scopes"], json!(["ocr:read"]));
    let new_key = rotated["key"].as_str().context("key")?.to_owned();
    let (status, _) = operator_status(&srv, ("x-api-key", new_key)).await?;
    assert_eq!(status, 403);
    srv.stop().await
}

/// The CLI parses `--scopes` item by item too, grants `operator` to no tenant (only
/// `tollgate operator key-create` mints it, into the platform tenant), and the platform
/// tenant is not found by name: a customer who calls itself `tollgate-platform` gets nothing.
async fn the_cli_grants_operator_only_in_the_platform_tenant(backend: Backend) -> Result<()> {
    let spec = ServerSpec::new(backend, false).await?;
    let srv = spec.start().await?;
    let run = |args: &[&str]| crate::cli::run_status(&spec, args);
    let (ok, tenant, _) = run(&["tenant", "create", "--name", "tollgate-platform"])?;
    assert!(ok);
    let tenant_id = tenant["tenant_id"]
        .as_str()
        .context("tenant_id")?
        .to_owned();
    for scopes in [
        "operator",
        "ocr:read operator",
        "ocr:read\toperator",
        "ocr:read\noperator",
        "ocr:read\u{a0}operator",
        "Operator",
        "ocr:read ocr:read",
        "ocr:read,usage:read",
        "",
    ] {
        for kind in ["key", "client"] {
            let (ok, out, err) = run(&[
                kind, "create", "--tenant", &tenant_id, "--name", "x", "--scopes", scopes,
            ])?;
            assert!(!ok, "{kind} create --scopes {scopes:?} succeeded: {out}");
            assert!(err.contains("scope"), "{kind} {scopes:?}: {err}");
        }
    }
    // The customer's tenant holds no credentials at all after those attempts.
    let tenant: tollgate_core::TenantId = tenant_id.parse()?;
    assert!(srv.store().list_keys(tenant).await?.is_empty());
    assert!(srv.store().list_clients(tenant).await?.is_empty());

    let (ok, op, err) = run(&["operator", "key-create", "--name", "ops"])?;
    assert!(ok, "{err}");
    let (ok, op2, err) = run(&["operator", "key-create", "--name", "ops2"])?;
    assert!(ok, "{err}");
    assert_ne!(op["tenant_id"], tenant_id.as_str(), "not the look-alike");
    assert_eq!(
        op["tenant_id"], op2["tenant_id"],
        "one stable platform tenant"
    );
    let (status, body) = operator_status(
        &srv,
        ("x-api-key", op["key"].as_str().context("key")?.to_owned()),
    )
    .await?;
    assert_eq!(status, 200, "{body}");
    srv.stop().await
}
