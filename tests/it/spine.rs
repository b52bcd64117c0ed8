//! The spine end to end: tokens by both client-auth methods, `/v1/me` with every credential
//! form, portal sessions (surviving a restart), CSRF, client and key lifecycles, members.

use crate::both_backends;
use crate::harness::{Backend, ServerSpec, TestServer};
use anyhow::Result;
use reqwest::Method;
use serde_json::{json, Value};

both_backends!(
    token_by_basic_and_post_and_me,
    me_without_or_with_bad_credentials,
    session_survives_restart_and_logout_ends_it,
    csrf_is_required_for_changes,
    client_lifecycle,
    key_lifecycle,
    members_and_roles,
    bodies_reject_unknown_fields,
);

async fn token_by_basic_and_post_and_me(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let t = srv.tenant("ocr:read usage:read").await?;
    let http = reqwest::Client::new();

    let basic = http
        .post(srv.url("/oauth/token"))
        .basic_auth(&t.client_id, Some(&t.client_secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "ocr:read")])
        .send()
        .await?;
    assert_eq!(basic.status(), 200);
    assert_eq!(basic.headers()["cache-control"], "no-store");
    let body: Value = basic.json().await?;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["scope"], "ocr:read");
    let jwt = body["access_token"].as_str().unwrap().to_owned();

    let (status, me) = srv.me(&jwt).await?;
    assert_eq!(status, 200);
    assert_eq!(
        me,
        json!({ "tenant_id": t.id, "kind": "client", "id": t.client_id, "scopes": ["ocr:read"] })
    );

    let post = http
        .post(srv.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &t.client_id),
            ("client_secret", &t.client_secret),
        ])
        .send()
        .await?;
    assert_eq!(post.status(), 200);
    let body: Value = post.json().await?;
    assert_eq!(body["scope"], "ocr:read usage:read");

    // Both methods at once is a protocol error.
    let both = http
        .post(srv.url("/oauth/token"))
        .basic_auth(&t.client_id, Some(&t.client_secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &t.client_id),
            ("client_secret", &t.client_secret),
        ])
        .send()
        .await?;
    assert_eq!(both.status(), 400);
    assert_eq!(both.json::<Value>().await?["error"], "invalid_request");

    // Up-scoping is refused.
    let up = http
        .post(srv.url("/oauth/token"))
        .basic_auth(&t.client_id, Some(&t.client_secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "ocr:read audit:read"),
        ])
        .send()
        .await?;
    assert_eq!(up.status(), 400);
    let body = up.json::<Value>().await?;
    assert_eq!(body["error"], "invalid_scope", "{body}");

    // Wrong secret with Basic: 401 + challenge.
    let bad = http
        .post(srv.url("/oauth/token"))
        .basic_auth(&t.client_id, Some("tgs_wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?;
    assert_eq!(bad.status(), 401);
    assert!(bad.headers()["www-authenticate"]
        .to_str()?
        .starts_with("Basic"));
    assert_eq!(bad.headers()["cache-control"], "no-store");
    assert_eq!(bad.json::<Value>().await?["error"], "invalid_client");

    let unsupported = http
        .post(srv.url("/oauth/token"))
        .basic_auth(&t.client_id, Some(&t.client_secret))
        .form(&[("grant_type", "password")])
        .send()
        .await?;
    assert_eq!(
        unsupported.json::<Value>().await?["error"],
        "unsupported_grant_type"
    );

    // The API key, by Bearer and by X-API-Key.
    let (status, me) = srv.me(&t.key).await?;
    assert_eq!(status, 200);
    assert_eq!(me["kind"], "key");
    assert_eq!(me["id"], t.key_id);
    let resp = http
        .get(srv.url("/v1/me"))
        .header("x-api-key", &t.key)
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await?["tenant_id"], t.id);
    srv.stop().await
}

async fn me_without_or_with_bad_credentials(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let t = srv.tenant("ocr:read").await?;
    let http = reqwest::Client::new();
    let none = http.get(srv.url("/v1/me")).send().await?;
    assert_eq!(none.status(), 401);
    assert_eq!(
        none.headers()["www-authenticate"],
        "Bearer realm=\"tollgate\""
    );
    assert_eq!(none.headers()["content-type"], "application/problem+json");
    let body: Value = none.json().await?;
    assert_eq!(body["code"], "unauthenticated");
    assert!(body["request_id"].is_string());

    let bad = http
        .get(srv.url("/v1/me"))
        .bearer_auth("not-a-jwt")
        .send()
        .await?;
    assert_eq!(bad.status(), 401);
    assert_eq!(
        bad.headers()["www-authenticate"],
        "Bearer realm=\"tollgate\", error=\"invalid_token\""
    );
    assert_eq!(bad.json::<Value>().await?["code"], "invalid_token");

    // A key with one character changed fails its checksum.
    let mut forged = t.key.clone().into_bytes();
    let last = forged.len() - 10;
    forged[last] = if forged[last] == b'a' { b'b' } else { b'a' };
    let (status, _) = srv.me(&String::from_utf8(forged)?).await?;
    assert_eq!(status, 401);

    // The request id is echoed, or generated.
    let resp = http
        .get(srv.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await?;
    assert_eq!(resp.headers()["x-request-id"], "abc-123");
    let resp = http.get(srv.url("/healthz")).send().await?;
    assert_eq!(resp.headers()["x-request-id"].len(), 32);
    srv.stop().await
}

async fn session_survives_restart_and_logout_ends_it(backend: Backend) -> Result<()> {
    let spec = ServerSpec::new(backend, true).await?;
    let srv = spec.start().await?;
    let t = srv.tenant("ocr:read").await?;
    let portal = srv.login(&t.owner_email, &t.owner_password).await?;
    let (status, me) = portal.get("/v1/session").await?;
    assert_eq!(status, 200);
    assert_eq!(me["email"], t.owner_email);
    assert_eq!(me["role"], "owner");
    assert_eq!(me["csrf_token"], portal.csrf);

    // Restart on the same database: the cookie still works.
    srv.stop().await?;
    let srv = spec.start().await?;
    let portal = crate::harness::Portal {
        base: srv.base.clone(),
        ..portal
    };
    let (status, body) = portal.get("/v1/clients").await?;
    assert_eq!(status, 200, "{body}");

    let (status, _) = portal.delete("/v1/session").await?;
    assert_eq!(status, 204);
    // The browser drops the cookie; replaying the old value finds no session either.
    let (status, body) = portal.get("/v1/clients").await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    let replay = reqwest::Client::new()
        .get(srv.url("/v1/clients"))
        .header("cookie", &portal.cookie)
        .send()
        .await?;
    assert_eq!(replay.status(), 401);
    assert_eq!(replay.json::<Value>().await?["code"], "session_required");

    let wrong = reqwest::Client::new()
        .post(srv.url("/v1/session"))
        .json(&json!({ "email": t.owner_email, "password": "wrong password!" }))
        .send()
        .await?;
    assert_eq!(wrong.status(), 401);
    let unknown = reqwest::Client::new()
        .post(srv.url("/v1/session"))
        .json(&json!({ "email": "nobody@example.com", "password": "wrong password!" }))
        .send()
        .await?;
    assert_eq!(unknown.status(), 401);
    assert_eq!(
        unknown.json::<Value>().await?["detail"],
        "invalid email or password"
    );
    srv.stop().await
}

async fn csrf_is_required_for_changes(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let t = srv.tenant("ocr:read").await?;
    let portal = srv.login(&t.owner_email, &t.owner_password).await?;
    let no_csrf = portal
        .http
        .post(srv.url("/v1/keys"))
        .json(&json!({ "name": "k", "scopes": ["ocr:read"] }))
        .send()
        .await?;
    assert_eq!(no_csrf.status(), 403);
    assert_eq!(no_csrf.json::<Value>().await?["code"], "csrf_failed");
    let wrong = portal
        .http
        .post(srv.url("/v1/keys"))
        .header("x-csrf-token", "x".repeat(32))
        .json(&json!({ "name": "k", "scopes": ["ocr:read"] }))
        .send()
        .await?;
    assert_eq!(wrong.status(), 403);
    let (status, keys) = portal.get("/v1/keys").await?;
    assert_eq!(status, 200);
    assert_eq!(keys.as_array().unwrap().len(), 1, "nothing was created");
    let (status, _) = portal
        .post("/v1/keys", json!({ "name": "k", "scopes": ["ocr:read"] }))
        .await?;
    assert_eq!(status, 201);
    srv.stop().await
}

async fn client_lifecycle(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let t = srv.tenant("ocr:read").await?;
    let portal = srv.login(&t.owner_email, &t.owner_password).await?;
    let (status, created) = portal
        .post(
            "/v1/clients",
            json!({ "name": "batch", "scopes": ["ocr:read", "usage:read"] }),
        )
        .await?;
    assert_eq!(status, 201);
    let id = created["client"]["client_id"].as_str().unwrap().to_owned();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("tgs_"));

    // Listing never shows a secret or digest.
    let (_, list) = portal.get("/v1/clients").await?;
    let text = list.to_string();
    assert!(text.contains(&id));
    assert!(!text.contains(&secret) && !text.contains("digest") && !text.contains("hash"));

    // Rotate with an overlap: both secrets work; with no overlap only the new one.
    let (status, rotated) = portal
        .post(
            &format!("/v1/clients/{id}/rotate"),
            json!({ "overlap_seconds": 600 }),
        )
        .await?;
    assert_eq!(status, 200);
    let secret2 = rotated["client_secret"].as_str().unwrap().to_owned();
    assert!(rotated["client"]["previous_secret_expires_at"].is_string());
    srv.token(&id, &secret, None).await?;
    srv.token(&id, &secret2, None).await?;
    let (_, rotated) = portal
        .post(
            &format!("/v1/clients/{id}/rotate"),
            json!({ "overlap_seconds": 0 }),
        )
        .await?;
    let secret3 = rotated["client_secret"].as_str().unwrap().to_owned();
    assert!(srv.token(&id, &secret2, None).await.is_err());
    let jwt = srv.token(&id, &secret3, None).await?;
    let (status, _) = portal
        .post(
            &format!("/v1/clients/{id}/rotate"),
            json!({ "overlap_seconds": 99_999_999 }),
        )
        .await?;
    assert_eq!(status, 422);

    // Narrow scopes.
    let (status, patched) = portal
        .patch(
            &format!("/v1/clients/{id}"),
            json!({ "scopes": ["ocr:read"] }),
        )
        .await?;
    assert_eq!(status, 200);
    assert_eq!(patched["scopes"], json!(["ocr:read"]));
    let (status, body) = portal
        .patch(&format!("/v1/clients/{id}"), json!({ "scopes": ["root"] }))
        .await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_scope"))
    );

    // Delete: the client's live token stops working.
    assert_eq!(srv.me(&jwt).await?.0, 200);
    let (status, _) = portal.delete(&format!("/v1/clients/{id}")).await?;
    assert_eq!(status, 204);
    assert_eq!(srv.me(&jwt).await?.0, 401);
    assert!(srv.token(&id, &secret3, None).await.is_err());
    let (status, _) = portal.get(&format!("/v1/clients/{id}")).await?;
    assert_eq!(status, 404);
    srv.stop().await
}

async fn key_lifecycle(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let t = srv.tenant("ocr:read").await?;
    let portal = srv.login(&t.owner_email, &t.owner_password).await?;
    let (status, created) = portal
        .post(
            "/v1/keys",
            json!({ "name": "ci", "scopes": ["ocr:read"], "environment": "test" }),
        )
        .await?;
    assert_eq!(status, 201);
    let key = created["key"].as_str().unwrap().to_owned();
    let key_id = created["key_id"].as_str().unwrap().to_owned();
    assert!(key.starts_with("tg_test_"));
    assert_eq!(created["prefix"], &key[..12]);
    assert_eq!(srv.me(&key).await?.0, 200);

    let (_, one) = portal.get(&format!("/v1/keys/{key_id}")).await?;
    assert_eq!(one["name"], "ci");
    assert!(one.get("key").is_none() && one.get("digest").is_none());
    assert!(!one.to_string().contains(&key));

    // Rotate with grace: both work; the old one gets an expiry.
    let (status, rotated) = portal
        .post(
            &format!("/v1/keys/{key_id}/rotate"),
            json!({ "grace_seconds": 3600 }),
        )
        .await?;
    assert_eq!(status, 201);
    let new_key = rotated["key"].as_str().unwrap().to_owned();
    assert!(new_key.starts_with("tg_test_"));
    assert_eq!(srv.me(&key).await?.0, 200);
    assert_eq!(srv.me(&new_key).await?.0, 200);
    let (_, old) = portal.get(&format!("/v1/keys/{key_id}")).await?;
    assert!(old["expires_at"].is_string());

    // A short grace ends: the rotated-away key stops working, its successor works, and an
    // expired key cannot be rotated into a new one.
    let second_id = rotated["key_id"].as_str().unwrap().to_owned();
    let (status, third) = portal
        .post(
            &format!("/v1/keys/{second_id}/rotate"),
            json!({ "grace_seconds": 1 }),
        )
        .await?;
    assert_eq!(status, 201, "{third}");
    let third_key = third["key"].as_str().unwrap().to_owned();
    assert_eq!(srv.me(&new_key).await?.0, 200, "within its grace");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(srv.me(&new_key).await?.0, 401, "past its grace");
    assert_eq!(srv.me(&third_key).await?.0, 200);
    let (status, body) = portal
        .post(
            &format!("/v1/keys/{second_id}/rotate"),
            json!({ "grace_seconds": 0 }),
        )
        .await?;
    assert_eq!((status, body["code"].as_str()), (409, Some("key_expired")));

    // Revoke: refused at once on this instance.
    let (status, _) = portal.delete(&format!("/v1/keys/{key_id}")).await?;
    assert_eq!(status, 204);
    assert_eq!(srv.me(&key).await?.0, 401);
    let (status, _) = portal.delete(&format!("/v1/keys/{key_id}")).await?;
    assert_eq!(status, 404, "revoking twice finds nothing to revoke");
    let (_, list) = portal.get("/v1/keys").await?;
    let revoked = list
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key_id"] == key_id.as_str())
        .unwrap();
    assert!(revoked["revoked_at"].is_string());

    // Last use is recorded.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let new_id = third["key_id"].as_str().unwrap();
    let (_, fresh) = portal.get(&format!("/v1/keys/{new_id}")).await?;
    assert!(fresh["last_used_at"].is_string());

    let (status, _) = portal
        .post("/v1/keys", json!({ "name": "x", "scopes": [] }))
        .await?;
    assert_eq!(status, 422);
    let (status, _) = portal.get("/v1/keys/not-a-uuid").await?;
    assert_eq!(status, 404);
    srv.stop().await
}

async fn members_and_roles(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let t = srv.tenant("ocr:read").await?;
    let owner = srv.login(&t.owner_email, &t.owner_password).await?;
    let email = format!("viewer-{}@example.com", uuid::Uuid::new_v4().simple());
    let (status, created) = owner
        .post("/v1/members", json!({ "email": email, "role": "viewer" }))
        .await?;
    assert_eq!(status, 201);
    let password = created["password"].as_str().unwrap().to_owned();
    let member_id = created["member"]["id"].as_str().unwrap().to_owned();
    assert!(created["member"].get("password_hash").is_none());

    let (status, body) = owner
        .post("/v1/members", json!({ "email": email, "role": "viewer" }))
        .await?;
    assert_eq!((status, body["code"].as_str()), (409, Some("email_taken")));
    // A role is one of the spec's enum values exactly: no other name, case or padding.
    for role in [
        "god",
        "Owner",
        " owner",
        "owner ",
        "operator",
        "owner,admin",
        "",
    ] {
        let (status, body) = owner
            .post("/v1/members", json!({ "email": "x@y.z", "role": role }))
            .await?;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("bad_request")),
            "{role:?}"
        );
    }

    // A viewer reads but cannot change.
    let viewer = srv.login_first_time(&email, &password).await?;
    assert_eq!(viewer.get("/v1/clients").await?.0, 200);
    let (status, _) = viewer
        .post(
            "/v1/clients",
            json!({ "name": "x", "scopes": ["ocr:read"] }),
        )
        .await?;
    assert_eq!(status, 403);
    let (status, _) = viewer
        .post("/v1/members", json!({ "email": "a@b.co", "role": "owner" }))
        .await?;
    assert_eq!(status, 403);

    // Promote; the promoted member's old session is ended so the new role applies cleanly.
    let (status, patched) = owner
        .patch(
            &format!("/v1/members/{member_id}"),
            json!({ "role": "admin" }),
        )
        .await?;
    assert_eq!((status, patched["role"].as_str()), (200, Some("admin")));
    assert_eq!(viewer.get("/v1/clients").await?.0, 401);

    // The last owner can be neither demoted nor removed.
    let (_, me) = owner.get("/v1/session").await?;
    let owner_id = me["admin_id"].as_str().unwrap();
    let (status, body) = owner
        .patch(
            &format!("/v1/members/{owner_id}"),
            json!({ "role": "viewer" }),
        )
        .await?;
    assert_eq!((status, body["code"].as_str()), (409, Some("last_owner")));
    let (status, _) = owner.delete(&format!("/v1/members/{owner_id}")).await?;
    assert_eq!(status, 409);

    let (status, _) = owner.delete(&format!("/v1/members/{member_id}")).await?;
    assert_eq!(status, 204);
    let (_, list) = owner.get("/v1/members").await?;
    assert_eq!(list.as_array().unwrap().len(), 1);
    srv.stop().await
}

async fn bodies_reject_unknown_fields(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let t = srv.tenant("ocr:read").await?;
    let owner = srv.login(&t.owner_email, &t.owner_password).await?;
    let other_tenant = uuid::Uuid::new_v4().to_string();
    let attempts = [
        (
            Method::POST,
            "/v1/keys".to_owned(),
            json!({ "name": "k", "scopes": ["ocr:read"], "tenant_id": other_tenant }),
        ),
        (
            Method::POST,
            "/v1/clients".to_owned(),
            json!({ "name": "c", "scopes": ["ocr:read"], "is_admin": true }),
        ),
        (
            Method::POST,
            "/v1/members".to_owned(),
            json!({ "email": "m@example.com", "role": "viewer", "tenant_id": other_tenant }),
        ),
        (
            Method::PATCH,
            format!("/v1/clients/{}", t.client_id),
            json!({ "name": "c", "tenant_id": other_tenant }),
        ),
    ];
    for (method, path, body) in attempts {
        let (status, problem) = owner.send(method.clone(), &path, Some(body)).await?;
        assert!(status == 400 || status == 422, "{method} {path}: {status}");
        assert!(problem["code"].is_string(), "{method} {path}: {problem}");
    }
    let (_, keys) = owner.get("/v1/keys").await?;
    assert_eq!(keys.as_array().unwrap().len(), 1, "nothing was created");
    let (_, members) = owner.get("/v1/members").await?;
    assert_eq!(members.as_array().unwrap().len(), 1);

    // Malformed JSON is a 400 problem, never a 500.
    let resp = owner
        .http
        .post(srv.url("/v1/keys"))
        .header("x-csrf-token", &owner.csrf)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await?;
    assert!(resp.status() == 400 || resp.status() == 422);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    srv.stop().await
}

/// Oversized bodies are refused with 413 whether or not they declare their length.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_refused() -> Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let srv = TestServer::start(Backend::Sqlite).await?;
    let big = json!({ "email": "a@b.co", "password": "x".repeat(100_000) });
    let resp = reqwest::Client::new()
        .post(srv.url("/v1/session"))
        .json(&big)
        .send()
        .await?;
    assert_eq!(resp.status(), 413);
    assert_eq!(resp.json::<Value>().await?["code"], "payload_too_large");

    // Chunked, no Content-Length: the limit applies to what is read.
    let addr = srv.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await?;
    let head = format!("POST /v1/session HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await?;
    let chunk = "x".repeat(16 * 1024);
    for _ in 0..8 {
        let piece = format!("{:x}\r\n{chunk}\r\n", chunk.len());
        if stream.write_all(piece.as_bytes()).await.is_err() {
            break; // the server may answer and close before reading everything
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    srv.stop().await
}
