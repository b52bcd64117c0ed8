//! Authentication primitives, each next to a baseline measured in the same run:
//! - JWT verification (EdDSA, all claim checks) vs a bare Ed25519 signature check (ring) of
//!   the same token: the difference is our parsing and validation.
//! - Verified-token cache hit (what the request path pays after the first use).
//! - API-key verification (parse, checksum, SHA-256 digest, constant-time compare) vs a bare
//!   SHA-256 of the key.
//! - argon2id at the configured (OWASP) parameters, hash and verify.
//!
//! Run: `cargo bench -p tollgate-auth --bench auth`

#![allow(clippy::expect_used, reason = "benchmark setup fails loudly")]

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use chrono::Duration;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::sync::Arc;
use tollgate_auth::keyring::Keyring;
use tollgate_auth::master::MasterKey;
use tollgate_auth::password::{hash_with_params, PasswordHasherPool, PasswordParams};
use tollgate_auth::revocation::Denylist;
use tollgate_auth::secret;
use tollgate_auth::tokens::TokenService;
use tollgate_auth::Authenticator;
use tollgate_core::api_key::KeyEnv;
use tollgate_core::{Clock, ScopeSet, SystemClock, TenantId};
use tollgate_store::Store;

struct Fixture {
    tokens: Arc<TokenService>,
    authenticator: Authenticator,
    token: String,
    public_key: Vec<u8>,
}

fn fixture(rt: &tokio::runtime::Runtime) -> Fixture {
    rt.block_on(async {
        let store = Store::connect("sqlite::memory:").await.expect("sqlite");
        store.migrate().await.expect("migrate");
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let keyring = Arc::new(
            Keyring::open(
                store.clone(),
                MasterKey::generate().expect("key"),
                clock.clone(),
                Duration::minutes(16),
            )
            .await
            .expect("keyring"),
        );
        let tokens = Arc::new(TokenService::new(
            keyring.clone(),
            clock.clone(),
            "http://bench".into(),
            "tollgate-api".into(),
            Duration::minutes(15),
            30,
        ));
        let denylist = Arc::new(
            Denylist::open(store.clone(), None, "bench", clock.clone())
                .await
                .expect("denylist"),
        );
        let attempts =
            std::sync::Arc::new(tollgate_auth::backoff::LocalAttempts::new(clock.clone()));
        let authenticator = Authenticator::new(tokens.clone(), denylist, store, clock, attempts);
        let scopes = ScopeSet::parse("ocr:read usage:read").expect("scopes");
        let token = tokens
            .issue(TenantId::new(), "tgc_bench", &scopes)
            .expect("issue")
            .token;
        let header = jsonwebtoken::decode_header(&token).expect("header");
        let jwks = keyring.snapshot().jwks.clone();
        let x = jwks["keys"]
            .as_array()
            .and_then(|keys| {
                keys.iter()
                    .find(|k| k["kid"].as_str() == header.kid.as_deref())
            })
            .and_then(|k| k["x"].as_str())
            .expect("jwk")
            .to_owned();
        Fixture {
            tokens,
            authenticator,
            token,
            public_key: B64URL.decode(x).expect("x"),
        }
    })
}

fn jwt(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let f = fixture(&rt);
    let (signed, sig) = f.token.rsplit_once('.').expect("jws");
    let sig = B64URL.decode(sig).expect("sig");
    let pk =
        ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, f.public_key.clone());
    let mut g = c.benchmark_group("jwt");
    g.bench_function("baseline_ed25519_signature_only", |b| {
        b.iter(|| {
            pk.verify(black_box(signed.as_bytes()), black_box(&sig))
                .expect("valid")
        })
    });
    g.bench_function("verify_eddsa_full", |b| {
        b.iter(|| f.tokens.verify(black_box(&f.token)).expect("valid"))
    });
    f.authenticator.jwt(&f.token).expect("valid");
    g.bench_function("authenticate_cached", |b| {
        b.iter(|| f.authenticator.jwt(black_box(&f.token)).expect("valid"))
    });
    g.finish();
}

fn api_key(c: &mut Criterion) {
    let key = secret::new_api_key(KeyEnv::Live);
    let stored = secret::digest(&key);
    let mut g = c.benchmark_group("api_key");
    g.bench_function("baseline_sha256_only", |b| {
        b.iter(|| tollgate_store::sha256_hex(black_box(key.as_bytes())))
    });
    g.bench_function("verify_parse_checksum_digest_compare", |b| {
        b.iter(|| {
            let (_, digest) = secret::check_api_key(black_box(&key)).expect("well-formed");
            assert!(secret::digests_equal(digest.as_str(), &stored));
        })
    });
    let mut forged = key.clone().into_bytes();
    forged[20] ^= 1;
    let forged = String::from_utf8(forged).expect("ascii");
    g.bench_function("reject_bad_checksum", |b| {
        b.iter(|| secret::check_api_key(black_box(&forged)).is_err())
    });
    g.finish();
}

fn argon2(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let pool = PasswordHasherPool::new(PasswordParams::OWASP).expect("pool");
    let stored =
        hash_with_params(PasswordParams::OWASP, "correct horse battery staple").expect("hash");
    let mut g = c.benchmark_group("argon2id_owasp");
    g.sample_size(20);
    g.bench_function("hash", |b| {
        b.iter(|| {
            hash_with_params(
                PasswordParams::OWASP,
                black_box("correct horse battery staple"),
            )
        })
    });
    g.bench_function("verify_known_account", |b| {
        b.iter(|| {
            rt.block_on(pool.verify(Some(stored.clone()), "wrong password here".into()))
                .expect("verify")
        })
    });
    g.bench_function("verify_unknown_account_dummy", |b| {
        b.iter(|| {
            rt.block_on(pool.verify(None, "wrong password here".into()))
                .expect("verify")
        })
    });
    g.finish();
}

criterion_group!(benches, jwt, api_key, argon2);
criterion_main!(benches);
