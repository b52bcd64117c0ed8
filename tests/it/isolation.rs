//! Tenant isolation: another tenant's owner reaches none of a tenant's members, clients or
//! keys by id (always 404 `not_found`, indistinguishable from an id that does not exist, and
//! nothing changes), lists show only the caller's own tenant, and another tenant's OAuth2
//! client can neither introspect nor revoke the tenant's credentials.

use crate::both_backends;
use crate::harness::{str_field, Backend, Portal, Tenant, TestServer};
use anyhow::Result;
use reqwest::Method;
use serde_json::{json, Value};

both_backends!(
    portal_routes_never_reach_another_tenant,
    oauth_introspect_and_revoke_never_cross_tenants,
);

/// What a tenant's owner sees of their tenant: every member, client and key.
/// One id-taking route: method, path template, body, which kind of id, the ids to try.
type Route<'a> = (Method, &'a str, Option<Value>, IdKind, &'a [String]);

async fn tenant_state(owner: &Portal) -> Result<Value> {
    let mut state = serde_json::Map::new();
    for path in ["/v1/members", "/v1/clients", "/v1/keys"] {
        let (status, body) = owner.get(path).await?;
        assert_eq!(status, 200, "GET {path}: {body}");
        state.insert(path.to_owned(), body);
    }
    Ok(Value::Object(state))
}

/// The parts of a problem document that must not tell "another tenant's" from "no such".
fn problem_shape(v: &Value) -> Value {
    json!({
        "type": v["type"],
        "title": v["title"],
        "status": v["status"],
        "code": v["code"],
        "detail": v["detail"],
    })
}

/// Which kind of id a route takes, to make an unknown id of the same shape.
#[derive(Clone, Copy)]
enum IdKind {
    Member,
    Client,
    Key,
}

fn unknown_id(kind: IdKind) -> String {
    match kind {
        IdKind::Member | IdKind::Key => uuid::Uuid::new_v4().to_string(),
        IdKind::Client => format!("tgc_{}", &uuid::Uuid::new_v4().simple().to_string()[..22]),
    }
}

async fn portal_routes_never_reach_another_tenant(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let a = srv.tenant("ocr:read usage:read").await?;
    let b = srv.tenant("ocr:read usage:read").await?;
    let a_owner = srv.login(&a.owner_email, &a.owner_password).await?;
    let b_owner = srv.login(&b.owner_email, &b.owner_password).await?;

    // A gets ids of every kind: its owner, an extra member, a portal-made client and key
    // (besides the harness-made client and key).
    let (_, session) = a_owner.get("/v1/session").await?;
    let a_owner_id = str_field(&session, "/admin_id")?;
    let member_email = format!("member-{}@example.com", uuid::Uuid::new_v4().simple());
    let (status, created) = a_owner
        .post(
            "/v1/members",
            json!({ "email": member_email, "role": "viewer" }),
        )
        .await?;
    assert_eq!(status, 201, "{created}");
    let a_member_id = str_field(&created, "/member/id")?;
    let member_password = str_field(&created, "/password")?;
    let (status, created) = a_owner
        .post(
            "/v1/clients",
            json!({ "name": "a portal client", "scopes": ["ocr:read"] }),
        )
        .await?;
    assert_eq!(status, 201, "{created}");
    let a_client2 = str_field(&created, "/client/client_id")?;
    let a_secret2 = str_field(&created, "/client_secret")?;
    let (status, created) = a_owner
        .post(
            "/v1/keys",
            json!({ "name": "a portal key", "scopes": ["usage:read"] }),
        )
        .await?;
    assert_eq!(status, 201, "{created}");
    let a_key2_id = str_field(&created, "/key_id")?;
    let a_key2 = str_field(&created, "/key")?;

    let before = tenant_state(&a_owner).await?;

    let members = vec![a_owner_id.clone(), a_member_id.clone()];
    let clients = vec![a.client_id.clone(), a_client2.clone()];
    let keys = vec![a.key_id.clone(), a_key2_id.clone()];
    // Every route that takes an id; the destructive ones last, though each must fail anyway.
    let routes: Vec<Route<'_>> = vec![
        (
            Method::GET,
            "/v1/members/{id}",
            None,
            IdKind::Member,
            members.as_slice(),
        ),
        (
            Method::PATCH,
            "/v1/members/{id}",
            Some(json!({ "role": "admin" })),
            IdKind::Member,
            members.as_slice(),
        ),
        (
            Method::GET,
            "/v1/clients/{id}",
            None,
            IdKind::Client,
            clients.as_slice(),
        ),
        (
            Method::PATCH,
            "/v1/clients/{id}",
            Some(json!({ "name": "taken over", "scopes": ["usage:read"] })),
            IdKind::Client,
            clients.as_slice(),
        ),
        (
            Method::POST,
            "/v1/clients/{id}/rotate",
            Some(json!({ "overlap_seconds": 0 })),
            IdKind::Client,
            clients.as_slice(),
        ),
        (
            Method::GET,
            "/v1/keys/{id}",
            None,
            IdKind::Key,
            keys.as_slice(),
        ),
        (
            Method::POST,
            "/v1/keys/{id}/rotate",
            Some(json!({ "grace_seconds": 0 })),
            IdKind::Key,
            keys.as_slice(),
        ),
        (
            Method::DELETE,
            "/v1/members/{id}",
            None,
            IdKind::Member,
            members.as_slice(),
        ),
        (
            Method::DELETE,
            "/v1/clients/{id}",
            None,
            IdKind::Client,
            clients.as_slice(),
        ),
        (
            Method::DELETE,
            "/v1/keys/{id}",
            None,
            IdKind::Key,
            keys.as_slice(),
        ),
    ];
    let mut tried = 0;
    for (method, template, body, kind, ids) in &routes {
        // The answer for an id that exists nowhere, to compare with.
        let nowhere = template.replace("{id}", &unknown_id(*kind));
        let (status, unknown) = b_owner.send(method.clone(), &nowhere, body.clone()).await?;
        assert_eq!(status, 404, "{method} {nowhere}: {unknown}");
        for id in ids.iter() {
            let path = template.replace("{id}", id);
            let (status, problem) = b_owner.send(method.clone(), &path, body.clone()).await?;
            assert_eq!(
                (status, problem["code"].as_str()),
                (404, Some("not_found")),
                "B's owner: {method} {path} (A's id): {problem}"
            );
            assert_eq!(
                problem_shape(&problem),
                problem_shape(&unknown),
                "{method} {path}: another tenant's id is told apart from an unknown one"
            );
            tried += 1;
        }
    }
    assert_eq!(tried, 20, "every route was tried with every id of A");

    // A sees exactly what it had: same members and roles, same client names and scopes,
    // same keys (none revoked, none given an expiry).
    let after = tenant_state(&a_owner).await?;
    assert_eq!(before, after, "B's attempts changed A's tenant");
    let (status, member) = a_owner.get(&format!("/v1/members/{a_member_id}")).await?;
    assert_eq!((status, member["role"].as_str()), (200, Some("viewer")));
    let (status, me) = a_owner.get("/v1/session").await?;
    assert_eq!(
        (status, me["role"].as_str()),
        (200, Some("owner")),
        "A's owner is still an owner, still signed in"
    );
    let (status, client) = a_owner.get(&format!("/v1/clients/{a_client2}")).await?;
    assert_eq!(status, 200);
    assert_eq!(client["name"], "a portal client");
    assert_eq!(client["scopes"], json!(["ocr:read"]));
    assert!(
        client.get("previous_secret_expires_at").is_none(),
        "{client}"
    );
    let (_, client) = a_owner.get(&format!("/v1/clients/{}", a.client_id)).await?;
    assert_eq!(client["name"], "test client");
    assert_eq!(client["scopes"], json!(["ocr:read", "usage:read"]));
    for key_id in &keys {
        let (status, key) = a_owner.get(&format!("/v1/keys/{key_id}")).await?;
        assert_eq!(status, 200);
        assert!(key["revoked_at"].is_null(), "{key}");
        assert!(key["expires_at"].is_null(), "{key}");
    }

    // A's credentials all still work: the secrets (a rotation with no overlap would have
    // killed them), the keys (a rotation with no grace would have expired them), the member.
    srv.token(&a.client_id, &a.client_secret, None).await?;
    let token = srv.token(&a_client2, &a_secret2, None).await?;
    assert_eq!(srv.me(&token).await?.0, 200);
    assert_eq!(srv.me(&a.key).await?.0, 200);
    assert_eq!(srv.me(&a_key2).await?.0, 200);
    let member = srv.login(&member_email, &member_password).await?;
    let (status, me) = member.get("/v1/session").await?;
    assert_eq!((status, me["role"].as_str()), (200, Some("viewer")));

    // B's lists hold B's own things and nothing of A's.
    let a_ids = [
        a_owner_id.as_str(),
        a_member_id.as_str(),
        a.owner_email.as_str(),
        member_email.as_str(),
        a.client_id.as_str(),
        a_client2.as_str(),
        a.key_id.as_str(),
        a_key2_id.as_str(),
    ];
    let b_own = [
        ("/v1/members", b.owner_email.as_str()),
        ("/v1/clients", b.client_id.as_str()),
        ("/v1/keys", b.key_id.as_str()),
    ];
    for (path, own) in b_own {
        let (status, list) = b_owner.get(path).await?;
        assert_eq!(status, 200, "{path}: {list}");
        let text = list.to_string();
        assert!(text.contains(own), "B's {path} lists B's own {own}: {text}");
        for id in a_ids {
            assert!(!text.contains(id), "B's {path} shows A's {id}: {text}");
        }
    }
    srv.stop().await
}

/// `POST /oauth/introspect` or `/oauth/revoke` as `caller`'s client (Basic auth).
async fn oauth(srv: &TestServer, path: &str, caller: &Tenant, token: &str) -> Result<(u16, Value)> {
    let resp = reqwest::Client::new()
        .post(srv.url(path))
        .basic_auth(&caller.client_id, Some(&caller.client_secret))
        .form(&[("token", token)])
        .send()
        .await?;
    let status = resp.status().as_u16();
    Ok((status, resp.json().await.unwrap_or(Value::Null)))
}

async fn oauth_introspect_and_revoke_never_cross_tenants(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let a = srv.tenant("ocr:read usage:read").await?;
    let b = srv.tenant("ocr:read usage:read").await?;
    let a_token = srv.token(&a.client_id, &a.client_secret, None).await?;
    let b_token = srv.token(&b.client_id, &b.client_secret, None).await?;

    // Each tenant's own client sees its own credentials as active (so "inactive" below
    // means "not yours", not "broken").
    let (status, own) = oauth(&srv, "/oauth/introspect", &a, &a_token).await?;
    assert_eq!(status, 200);
    assert_eq!(own["active"], true, "{own}");
    assert_eq!(own["tenant_id"], a.id.as_str());
    let (_, own) = oauth(&srv, "/oauth/introspect", &a, &a.key).await?;
    assert_eq!(own["active"], true, "{own}");
    assert_eq!(own["token_type"], "api_key");
    let (_, own) = oauth(&srv, "/oauth/introspect", &b, &b_token).await?;
    assert_eq!(own["active"], true, "{own}");

    // B's client learns nothing about A's token or key: exactly `{"active": false}`.
    for (what, token) in [("access token", &a_token), ("API key", &a.key)] {
        let (status, body) = oauth(&srv, "/oauth/introspect", &b, token).await?;
        assert_eq!(status, 200, "B introspecting A's {what}");
        assert_eq!(
            body,
            json!({ "active": false }),
            "B introspecting A's {what}"
        );
    }

    // B's client "revoking" A's token or key is answered 200 (RFC 7009) and does nothing.
    for (what, token) in [("access token", &a_token), ("API key", &a.key)] {
        let (status, _) = oauth(&srv, "/oauth/revoke", &b, token).await?;
        assert_eq!(status, 200, "B revoking A's {what}");
    }
    // Revocation propagates within a second elsewhere; give it the chance to (wrongly) land.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (status, me) = srv.me(&a_token).await?;
    assert_eq!(status, 200, "A's token survives B's revoke: {me}");
    assert_eq!(me["tenant_id"], a.id.as_str());
    assert_eq!(srv.me(&a.key).await?.0, 200, "A's key survives B's revoke");
    let (_, still) = oauth(&srv, "/oauth/introspect", &a, &a_token).await?;
    assert_eq!(still["active"], true, "{still}");
    srv.stop().await
}
