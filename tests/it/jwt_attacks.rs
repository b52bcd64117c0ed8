//! JWT attacks against `GET /v1/me`: `alg: none`, HMAC keyed with the public key, tampered
//! payloads, stripped signatures, hostile `kid`s, attacker keys offered by `jku`/`x5u`/`jwk`,
//! time claims, issuer/audience/`typ`, a retired key past its grace, oversized tokens, revoked
//! `jti`s and missing claims. Forgeries are built from raw parts (signed with the server's real
//! key wherever that isolates the check under test), next to controls showing the same recipe
//! with honest values is accepted, so each refusal comes from the check and not from a
//! crafting mistake. Accepted tokens are cached by the server, so every expectation uses a
//! token never presented before.

use crate::both_backends;
use crate::harness::{Backend, Tenant, TestServer};
use anyhow::{Context, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use ring::signature::{Ed25519KeyPair, KeyPair};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tollgate_auth::tokens::MAX_TOKEN_LEN;

const AUDIENCE: &str = "tollgate-api";
const INVALID_TOKEN: &str = "Bearer realm=\"tollgate\", error=\"invalid_token\"";

both_backends!(
    forged_algorithms_are_refused,
    retired_key_past_its_grace_is_refused,
    revoked_jti_is_refused,
    time_claims_are_enforced,
);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn b64url(bytes: impl AsRef<[u8]>) -> String {
    B64URL.encode(bytes)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A signing key and the `kid` it is published under.
struct Signer {
    kid: String,
    key: EncodingKey,
}

/// The server's currently active signing key.
fn active_signer(srv: &TestServer) -> Signer {
    let set = srv.auth().tokens.keyring().snapshot();
    let active = set
        .active
        .as_ref()
        .expect("the server has an active signing key");
    Signer {
        kid: active.kid.clone(),
        key: active.key.clone(),
    }
}

/// The header the server itself issues.
fn at_header(kid: &str) -> Value {
    json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": kid })
}

/// Claims of a valid access token for the tenant's client (fresh `jti`, so a fresh token).
fn valid_claims(srv: &TestServer, t: &Tenant) -> Value {
    let now = now();
    json!({
        "iss": srv.auth().tokens.issuer(),
        "sub": t.client_id,
        "aud": AUDIENCE,
        "exp": now + 300,
        "iat": now,
        "jti": uuid::Uuid::new_v4().simple().to_string(),
        "client_id": t.client_id,
        "tenant_id": t.id,
        "scope": "ocr:read",
    })
}

fn with_field(mut v: Value, field: &str, value: Value) -> Value {
    v[field] = value;
    v
}

fn without_field(mut v: Value, field: &str) -> Value {
    v.as_object_mut().expect("a JSON object").remove(field);
    v
}

/// `base64url(header).base64url(claims)`.
fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        b64url(header.to_string()),
        b64url(claims.to_string())
    )
}

/// A compact JWT with exactly this header and these claims, signed with `key` as `alg`.
fn craft_with(header: Value, claims: Value, key: &EncodingKey, alg: Algorithm) -> String {
    let input = signing_input(&header, &claims);
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).expect("signing");
    format!("{input}.{signature}")
}

/// A compact JWT signed with an Ed25519 `key` (EdDSA, the server's algorithm).
fn craft(header: Value, claims: Value, key: &EncodingKey) -> String {
    craft_with(header, claims, key, Algorithm::EdDSA)
}

/// The token must be refused as `invalid_token` (401 with the bearer challenge, never a 500).
async fn assert_refused(srv: &TestServer, token: &str, what: &str) -> Result<()> {
    let resp = reqwest::Client::new()
        .get(srv.url("/v1/me"))
        .bearer_auth(token)
        .send()
        .await?;
    let status = resp.status().as_u16();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = resp.text().await.unwrap_or_default();
    assert_eq!(status, 401, "{what}: expected 401, got {status}: {body}");
    assert_eq!(
        challenge.as_deref(),
        Some(INVALID_TOKEN),
        "{what}: WWW-Authenticate"
    );
    Ok(())
}

/// The token must be accepted as the tenant's client.
async fn assert_accepted(srv: &TestServer, t: &Tenant, token: &str, what: &str) -> Result<()> {
    let (status, me) = srv.me(token).await?;
    assert_eq!(status, 200, "{what}: expected 200: {me}");
    assert_eq!(me["tenant_id"], t.id.as_str(), "{what}: {me}");
    assert_eq!(me["kind"], "client", "{what}: {me}");
    assert_eq!(me["id"], t.client_id.as_str(), "{what}: {me}");
    Ok(())
}

/// The `x` (base64url public key) of `kid` in the published JWKS.
async fn jwks_x(srv: &TestServer, kid: &str) -> Result<Option<String>> {
    let jwks: Value = reqwest::get(srv.url("/.well-known/jwks.json"))
        .await?
        .json()
        .await?;
    let keys = jwks["keys"].as_array().context("JWKS without keys")?;
    Ok(keys
        .iter()
        .find(|k| k["kid"] == kid)
        .and_then(|k| k["x"].as_str())
        .map(str::to_owned))
}

/// `POST /oauth/revoke` as `client`; returns the status.
async fn revoke(srv: &TestServer, client: &Tenant, token: &str) -> Result<u16> {
    let resp = reqwest::Client::new()
        .post(srv.url("/oauth/revoke"))
        .basic_auth(&client.client_id, Some(&client.client_secret))
        .form(&[("token", token)])
        .send()
        .await?;
    Ok(resp.status().as_u16())
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

/// `alg: none` in every spelling, and HS256/384/512 keyed with the server's public key.
async fn forged_algorithms_are_refused(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let t = srv.tenant("ocr:read").await?;
    let signer = active_signer(&srv);

    // Control: the crafting recipe with honest values is accepted.
    let honest = craft(at_header(&signer.kid), valid_claims(&srv, &t), &signer.key);
    assert_accepted(&srv, &t, &honest, "honest crafted token").await?;

    // alg: none — unsigned, garbage-signed, and even carrying a real signature of the input.
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({ "alg": alg, "typ": "at+jwt", "kid": signer.kid });
        let input = signing_input(&header, &valid_claims(&srv, &t));
        let real = jsonwebtoken::crypto::sign(input.as_bytes(), &signer.key, Algorithm::EdDSA)
            .expect("signing");
        let tokens = [
            (format!("{input}."), "empty signature"),
            (
                format!("{input}.{}", b64url("garbage signature")),
                "garbage signature",
            ),
            (format!("{input}.{real}"), "real signature"),
        ];
        for (token, how) in tokens {
            assert_refused(&srv, &token, &format!("alg {alg:?} with {how}")).await?;
        }
    }

    // Algorithm confusion: HMAC with the published public key as the secret, both as the raw
    // 32 key bytes and as the `x` text of the JWKS.
    let x = jwks_x(&srv, &signer.kid)
        .await?
        .context("the active key is in the JWKS")?;
    let raw = B64URL.decode(&x)?;
    assert_eq!(raw.len(), 32, "an Ed25519 public key");
    let secrets = [
        ("raw public key bytes", raw),
        ("JWKS x text", x.clone().into_bytes()),
    ];
    let hmacs = [
        ("HS256", Algorithm::HS256),
        ("HS384", Algorithm::HS384),
        ("HS512", Algorithm::HS512),
    ];
    for (secret_name, secret) in &secrets {
        let key = EncodingKey::from_secret(secret);
        for (alg_name, alg) in hmacs {
            let headers = [
                (
                    "with the active kid",
                    json!({ "alg": alg_name, "typ": "at+jwt", "kid": signer.kid }),
                ),
                ("without kid", json!({ "alg": alg_name, "typ": "at+jwt" })),
            ];
            for (kid_note, header) in headers {
                let token = craft_with(header, valid_claims(&srv, &t), &key, alg);
                // The forgery is a correct HMAC JWT under that secret: only the server's
                // algorithm pinning stands between it and acceptance.
                let mut v = Validation::new(alg);
                v.set_audience(&[AUDIENCE]);
                v.set_issuer(&[srv.auth().tokens.issuer()]);
                jsonwebtoken::decode::<Value>(&token, &DecodingKey::from_secret(secret), &v)
                    .expect("the forgery verifies as an HMAC JWT under the public key");
                assert_refused(
                    &srv,
                    &token,
                    &format!("{alg_name} keyed with the {secret_name}, {kid_note}"),
                )
                .await?;
            }
        }
    }

    // The server still accepts honest tokens afterwards.
    let honest = craft(at_header(&signer.kid), valid_claims(&srv, &t), &signer.key);
    assert_accepted(&srv, &t, &honest, "honest crafted token, again").await?;
    srv.stop().await
}

/// A key retired by rotation verifies during its grace period and not after it.
async fn retired_key_past_its_grace_is_refused(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let t = srv.tenant("ocr:read").await?;
    let keyring = srv.auth().tokens.keyring().clone();
    let old = active_signer(&srv);

    // Two tokens by the soon-retired key, each presented once (accepted tokens are cached).
    let during_grace = craft(at_header(&old.kid), valid_claims(&srv, &t), &old.key);
    let after_grace = craft(at_header(&old.kid), valid_claims(&srv, &t), &old.key);

    let new_kid = keyring.rotate().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_ne!(new_kid, old.kid);
    let new = active_signer(&srv);
    assert_eq!(new.kid, new_kid);
    assert!(
        keyring.snapshot().verify.contains_key(&old.kid),
        "the retired key stays published"
    );
    assert!(
        jwks_x(&srv, &old.kid).await?.is_some(),
        "the retired key stays in the JWKS"
    );
    assert_accepted(
        &srv,
        &t,
        &during_grace,
        "retired key within its grace period",
    )
    .await?;
    let issued = srv.token(&t.client_id, &t.client_secret, None).await?;
    let issued_header: Value =
        serde_json::from_slice(&B64URL.decode(issued.split('.').next().context("header")?)?)?;
    assert_eq!(
        issued_header["kid"],
        new_kid.as_str(),
        "the server now signs with the new key"
    );
    assert_accepted(&srv, &t, &issued, "token issued with the new key").await?;

    // End the grace period in the database, then reload the keyring.
    let conn = srv.store().conn();
    let db = conn.get_database_backend();
    let sql = match db {
        DbBackend::Postgres => "UPDATE signing_keys SET publish_until = $1 WHERE kid = $2",
        _ => "UPDATE signing_keys SET publish_until = ? WHERE kid = ?",
    };
    let past = chrono::Utc::now() - chrono::Duration::hours(1);
    let values = [
        sea_orm::Value::from(past),
        sea_orm::Value::from(old.kid.clone()),
    ];
    let res = conn
        .execute(Statement::from_sql_and_values(db, sql, values))
        .await?;
    assert_eq!(res.rows_affected(), 1);
    keyring.reload().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    assert!(
        !keyring.snapshot().verify.contains_key(&old.kid),
        "the retired key is unpublished"
    );
    assert!(
        jwks_x(&srv, &old.kid).await?.is_none(),
        "the retired key left the JWKS"
    );

    assert_refused(&srv, &after_grace, "retired key past its grace period").await?;
    assert_refused(
        &srv,
        &during_grace,
        "a token cached while its key was published, once the key is not",
    )
    .await?;
    let honest = craft(at_header(&new.kid), valid_claims(&srv, &t), &new.key);
    assert_accepted(&srv, &t, &honest, "crafted token with the new key").await?;
    srv.stop().await
}

/// RFC 7009: the owner's revocation refuses the token within a second; another client's
/// revocation request is answered 200 and does nothing.
async fn revoked_jti_is_refused(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let t = srv.tenant("ocr:read").await?;
    let other = srv.tenant("ocr:read").await?;
    let token = srv.token(&t.client_id, &t.client_secret, None).await?;
    assert_accepted(&srv, &t, &token, "fresh token").await?;

    assert_eq!(
        revoke(&srv, &other, &token).await?,
        200,
        "another client's revoke is answered 200"
    );
    assert_accepted(&srv, &t, &token, "another client's revoke has no effect").await?;
    assert_eq!(
        revoke(&srv, &t, "not-a-jwt").await?,
        200,
        "an invalid token is answered 200"
    );
    assert_accepted(&srv, &t, &token, "still valid").await?;

    assert_eq!(revoke(&srv, &t, &token).await?, 200);
    let start = Instant::now();
    loop {
        let (status, _) = srv.me(&token).await?;
        if status == 401 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "revoked token still accepted after {:?}",
            start.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_refused(&srv, &token, "revoked jti").await?;

    // Revocation is by jti: the client's other tokens keep working.
    let fresh = srv.token(&t.client_id, &t.client_secret, None).await?;
    assert_accepted(&srv, &t, &fresh, "another token of the same client").await?;
    srv.stop().await
}

/// A real token with its payload edited (signature kept), or its signature stripped/swapped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_and_stripped_tokens_are_refused() -> Result<()> {
    let srv = TestServer::start(Backend::Sqlite).await?;
    let t = srv.tenant("ocr:read usage:read").await?;
    let other = srv.tenant("ocr:read usage:read audit:read").await?;
    let token = srv
        .token(&t.client_id, &t.client_secret, Some("ocr:read"))
        .await?;
    let (status, me) = srv.me(&token).await?;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["scopes"], json!(["ocr:read"]));

    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let (header, payload, signature) = (parts[0], parts[1], parts[2]);
    let claims: Value = serde_json::from_slice(&B64URL.decode(payload)?)?;
    let exp = claims["exp"].as_i64().context("exp")?;
    let tampered = [
        (
            "wider scope",
            with_field(
                claims.clone(),
                "scope",
                json!("ocr:read usage:read audit:read"),
            ),
        ),
        (
            "another tenant",
            with_field(claims.clone(), "tenant_id", json!(other.id)),
        ),
        (
            "another client",
            with_field(
                with_field(claims.clone(), "client_id", json!(other.client_id)),
                "sub",
                json!(other.client_id),
            ),
        ),
        (
            "later expiry",
            with_field(claims.clone(), "exp", json!(exp + 86_400)),
        ),
    ];
    for (what, edited) in tampered {
        let forged = format!("{header}.{}.{signature}", b64url(edited.to_string()));
        assert_refused(&srv, &forged, &format!("payload tampered: {what}")).await?;
    }

    // Stripped, flipped and borrowed signatures.
    assert_refused(&srv, &format!("{header}.{payload}."), "empty signature").await?;
    assert_refused(&srv, &format!("{header}.{payload}"), "no signature segment").await?;
    let mut sig = B64URL.decode(signature)?;
    sig[0] ^= 0x01;
    assert_refused(
        &srv,
        &format!("{header}.{payload}.{}", b64url(&sig)),
        "one signature bit flipped",
    )
    .await?;
    let second = srv.token(&t.client_id, &t.client_secret, None).await?;
    let borrowed = second.rsplit('.').next().context("signature")?;
    assert_refused(
        &srv,
        &format!("{header}.{payload}.{borrowed}"),
        "another token's signature",
    )
    .await?;

    // The untouched token is still fine.
    assert_eq!(srv.me(&token).await?.0, 200);
    srv.stop().await
}

/// Tokens signed with the real active key but naming no, an unknown or a hostile `kid`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_missing_and_hostile_kids_are_refused() -> Result<()> {
    let srv = TestServer::start(Backend::Sqlite).await?;
    let t = srv.tenant("ocr:read").await?;
    let signer = active_signer(&srv);
    let honest = craft(at_header(&signer.kid), valid_claims(&srv, &t), &signer.key);
    assert_accepted(&srv, &t, &honest, "honest crafted token").await?;

    let missing = craft(
        json!({ "alg": "EdDSA", "typ": "at+jwt" }),
        valid_claims(&srv, &t),
        &signer.key,
    );
    assert_refused(&srv, &missing, "missing kid").await?;

    let kids = [
        ("unknown kid", json!("ed-00000000000000000000000000000000")),
        ("path traversal", json!("../../dev/null")),
        ("SQL injection", json!("' OR '1'='1")),
        ("absolute path", json!("/etc/passwd")),
        ("2000-character kid", json!("k".repeat(2000))),
        ("empty kid", json!("")),
        ("null kid", Value::Null),
        ("numeric kid", json!(42)),
        (
            "active kid with trailing space",
            json!(format!("{} ", signer.kid)),
        ),
        ("active kid upper-cased", json!(signer.kid.to_uppercase())),
    ];
    for (what, kid) in kids {
        let header = json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": kid });
        let token = craft(header, valid_claims(&srv, &t), &signer.key);
        assert!(token.len() < MAX_TOKEN_LEN, "{what}: under the size limit");
        assert_refused(&srv, &token, what).await?;
    }
    srv.stop().await
}

/// `jku`, `x5u` and embedded `jwk` headers offering an attacker's key are never trusted,
/// whether the `kid` is unknown or the server's own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attacker_keys_in_headers_are_never_trusted() -> Result<()> {
    let srv = TestServer::start(Backend::Sqlite).await?;
    let t = srv.tenant("ocr:read").await?;
    let signer = active_signer(&srv);

    let pkcs8 =
        Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).expect("key generation");
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("key parse");
    let attacker_x = b64url(pair.public_key().as_ref());
    let attacker = EncodingKey::from_ed_der(pkcs8.as_ref());
    let jku = "https://attacker.example/.well-known/jwks.json";
    let x5u = "https://attacker.example/cert.pem";

    let jwk = |kid: &str| json!({ "kty": "OKP", "crv": "Ed25519", "x": attacker_x, "kid": kid, "alg": "EdDSA", "use": "sig" });
    let all_three = |kid: &str| {
        let h = with_field(at_header(kid), "jwk", jwk(kid));
        with_field(with_field(h, "jku", json!(jku)), "x5u", json!(x5u))
    };
    let mut v = Validation::new(Algorithm::EdDSA);
    v.set_audience(&[AUDIENCE]);
    v.set_issuer(&[srv.auth().tokens.issuer()]);
    let offered = DecodingKey::from_ed_components(&attacker_x).expect("attacker public key");

    for (kid_note, kid) in [
        ("unknown kid", "attacker-key-1"),
        ("the server's active kid", signer.kid.as_str()),
    ] {
        let headers = [
            ("embedded jwk", with_field(at_header(kid), "jwk", jwk(kid))),
            ("jku", with_field(at_header(kid), "jku", json!(jku))),
            ("x5u", with_field(at_header(kid), "x5u", json!(x5u))),
            ("jwk + jku + x5u", all_three(kid)),
        ];
        for (what, header) in headers {
            let token = craft(header, valid_claims(&srv, &t), &attacker);
            // The forgery verifies under the offered key: only the server ignoring it helps.
            jsonwebtoken::decode::<Value>(&token, &offered, &v)
                .expect("the forgery verifies under the attacker key");
            assert_refused(
                &srv,
                &token,
                &format!("attacker key via {what}, {kid_note}"),
            )
            .await?;
        }
    }

    // Control: the same headers on a token really signed by the server's key are harmless
    // (they are never read) — so the refusals above are the signature/kid checks at work.
    let genuine = craft(all_three(&signer.kid), valid_claims(&srv, &t), &signer.key);
    assert_accepted(
        &srv,
        &t,
        &genuine,
        "real signature with ignored attacker headers",
    )
    .await?;
    srv.stop().await
}

/// `exp`, `nbf` and `iat` against the server clock, with its 30 s leeway.
async fn time_claims_are_enforced(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let t = srv.tenant("ocr:read").await?;
    let signer = active_signer(&srv);
    let sign = |claims: Value| craft(at_header(&signer.kid), claims, &signer.key);

    let n = now();
    let refused = [
        (
            "expired 120 s ago",
            with_field(valid_claims(&srv, &t), "exp", json!(n - 120)),
        ),
        (
            "expired a day ago",
            with_field(valid_claims(&srv, &t), "exp", json!(n - 86_400)),
        ),
        (
            "nbf in 10 minutes",
            with_field(valid_claims(&srv, &t), "nbf", json!(n + 600)),
        ),
        (
            "iat in 10 minutes",
            with_field(valid_claims(&srv, &t), "iat", json!(n + 600)),
        ),
        (
            "a lifetime of a day (the server issues 900 s)",
            with_field(valid_claims(&srv, &t), "exp", json!(n + 86_400)),
        ),
        (
            "a lifetime of a year",
            with_field(valid_claims(&srv, &t), "exp", json!(n + 365 * 86_400)),
        ),
        (
            "issued an hour ago, valid for another 10 minutes",
            with_field(
                with_field(valid_claims(&srv, &t), "iat", json!(n - 3_600)),
                "exp",
                json!(n + 600),
            ),
        ),
    ];
    for (what, claims) in refused {
        assert_refused(&srv, &sign(claims), what).await?;
    }

    // Controls: within the leeway, and a past nbf, are fine.
    let n = now();
    let accepted = [
        (
            "expired 5 s ago (within leeway)",
            with_field(valid_claims(&srv, &t), "exp", json!(n - 5)),
        ),
        (
            "nbf 5 s ahead (within leeway)",
            with_field(valid_claims(&srv, &t), "nbf", json!(n + 5)),
        ),
        (
            "iat 5 s ahead (within leeway)",
            with_field(valid_claims(&srv, &t), "iat", json!(n + 5)),
        ),
        (
            "nbf in the past",
            with_field(valid_claims(&srv, &t), "nbf", json!(n - 60)),
        ),
        (
            "the full lifetime the server issues, plus the leeway",
            with_field(valid_claims(&srv, &t), "exp", json!(n + 900 + 30)),
        ),
    ];
    for (what, claims) in accepted {
        assert_accepted(&srv, &t, &sign(claims), what).await?;
    }
    srv.stop().await
}

/// Exact `iss` and `aud`, and `typ` of `at+jwt` (or its media type) only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuer_audience_and_typ_are_enforced() -> Result<()> {
    let srv = TestServer::start(Backend::Sqlite).await?;
    let t = srv.tenant("ocr:read").await?;
    let signer = active_signer(&srv);
    let issuer = srv.auth().tokens.issuer().to_owned();

    let claims = [
        (
            "foreign issuer",
            with_field(valid_claims(&srv, &t), "iss", json!("https://evil.example")),
        ),
        (
            "issuer with a trailing slash",
            with_field(valid_claims(&srv, &t), "iss", json!(format!("{issuer}/"))),
        ),
        (
            "empty issuer",
            with_field(valid_claims(&srv, &t), "iss", json!("")),
        ),
        (
            "foreign audience",
            with_field(valid_claims(&srv, &t), "aud", json!("other-api")),
        ),
        (
            "empty audience",
            with_field(valid_claims(&srv, &t), "aud", json!("")),
        ),
    ];
    for (what, claims) in claims {
        let token = craft(at_header(&signer.kid), claims, &signer.key);
        assert_refused(&srv, &token, what).await?;
    }

    let typs = [
        (
            "typ JWT",
            json!({ "alg": "EdDSA", "typ": "JWT", "kid": signer.kid }),
        ),
        ("typ missing", json!({ "alg": "EdDSA", "kid": signer.kid })),
        (
            "typ session",
            json!({ "alg": "EdDSA", "typ": "session", "kid": signer.kid }),
        ),
        (
            "typ empty",
            json!({ "alg": "EdDSA", "typ": "", "kid": signer.kid }),
        ),
    ];
    for (what, header) in typs {
        let token = craft(header, valid_claims(&srv, &t), &signer.key);
        assert_refused(&srv, &token, what).await?;
    }

    // Both spellings RFC 9068 allows are accepted.
    for typ in ["at+jwt", "application/at+jwt"] {
        let header = json!({ "alg": "EdDSA", "typ": typ, "kid": signer.kid });
        let token = craft(header, valid_claims(&srv, &t), &signer.key);
        assert_accepted(&srv, &t, &token, &format!("typ {typ}")).await?;
    }
    srv.stop().await
}

/// A portal session (the cookie a signed-in admin holds) is not an API credential: as a
/// bearer token, as an API key, or as the cookie itself on an API route, it is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_session_does_not_work_on_the_api() -> Result<()> {
    let srv = TestServer::start(Backend::Sqlite).await?;
    let t = srv.tenant("ocr:read").await?;
    let portal = srv.login(&t.owner_email, &t.owner_password).await?;
    let (status, _) = portal.get("/v1/session").await?;
    assert_eq!(status, 200, "the session itself is valid");
    let session = portal
        .cookie
        .split_once('=')
        .map(|(_, v)| v.to_owned())
        .context("cookie without a value")?;
    assert_refused(&srv, &session, "session cookie value as a bearer token").await?;
    let http = reqwest::Client::new();
    let as_key = http
        .get(srv.url("/v1/me"))
        .header("x-api-key", &session)
        .send()
        .await?;
    assert_eq!(as_key.status().as_u16(), 401, "session value as X-API-Key");
    let as_cookie = http
        .get(srv.url("/v1/me"))
        .header("cookie", &portal.cookie)
        .send()
        .await?;
    assert_eq!(as_cookie.status().as_u16(), 401, "session cookie on /v1/me");
    srv.stop().await
}

/// Tokens over `MAX_TOKEN_LEN` are refused before parsing, even when validly signed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_tokens_are_refused() -> Result<()> {
    let srv = TestServer::start(Backend::Sqlite).await?;
    let t = srv.tenant("ocr:read").await?;
    let signer = active_signer(&srv);
    let padded = |pad: usize| {
        let header = with_field(at_header(&signer.kid), "x-pad", json!("p".repeat(pad)));
        craft(header, valid_claims(&srv, &t), &signer.key)
    };

    // Control: unknown header fields are ignored, so a padded token under the limit is fine.
    let under = padded(4 * 1024);
    assert!(under.len() < MAX_TOKEN_LEN);
    assert_accepted(&srv, &t, &under, "padded token under the limit").await?;

    for pad in [9 * 1024, 32 * 1024] {
        let over = padded(pad);
        assert!(
            over.len() > MAX_TOKEN_LEN
                && over.split('.').next().is_some_and(|h| h.len() > 8 * 1024)
        );
        assert_refused(
            &srv,
            &over,
            &format!("validly signed token with a {pad}-byte header pad"),
        )
        .await?;
    }
    assert_refused(&srv, &"a".repeat(MAX_TOKEN_LEN + 1), "oversized garbage").await?;

    // Still healthy.
    let health = reqwest::get(srv.url("/healthz")).await?;
    assert_eq!(health.status(), 200);
    srv.stop().await
}

/// Every claim the server relies on must be present (and `sub`/`jti` non-empty).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_missing_claims_are_refused() -> Result<()> {
    let srv = TestServer::start(Backend::Sqlite).await?;
    let t = srv.tenant("ocr:read").await?;
    let signer = active_signer(&srv);
    let sign = |claims: Value| craft(at_header(&signer.kid), claims, &signer.key);
    assert_accepted(&srv, &t, &sign(valid_claims(&srv, &t)), "complete claims").await?;

    for field in [
        "tenant_id",
        "sub",
        "exp",
        "iat",
        "iss",
        "aud",
        "jti",
        "client_id",
    ] {
        let token = sign(without_field(valid_claims(&srv, &t), field));
        assert_refused(&srv, &token, &format!("missing {field}")).await?;
    }
    let odd = [
        (
            "empty sub",
            with_field(valid_claims(&srv, &t), "sub", json!("")),
        ),
        (
            "empty jti",
            with_field(valid_claims(&srv, &t), "jti", json!("")),
        ),
        (
            "tenant_id not a UUID",
            with_field(valid_claims(&srv, &t), "tenant_id", json!("tenant-1")),
        ),
        (
            "exp as a string",
            with_field(
                valid_claims(&srv, &t),
                "exp",
                json!((now() + 300).to_string()),
            ),
        ),
    ];
    for (what, claims) in odd {
        assert_refused(&srv, &sign(claims), what).await?;
    }
    srv.stop().await
}
