//! Revocation across instances: two servers share PostgreSQL and Redis; a token revoked on
//! one is refused by the other within a second, and the denylist entry expires with the token.

use crate::harness::{Backend, ServerSpec};
use anyhow::Result;
use std::time::{Duration, Instant};

async fn refused_within(
    srv: &crate::harness::TestServer,
    token: &str,
    limit: Duration,
) -> Result<Duration> {
    let start = Instant::now();
    loop {
        let (status, _) = srv.me(token).await?;
        if status == 401 {
            return Ok(start.elapsed());
        }
        anyhow::ensure!(
            start.elapsed() < limit,
            "still accepted after {:?}",
            start.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_token_is_refused_by_every_instance_within_a_second() -> Result<()> {
    let mut spec = ServerSpec::new(Backend::Postgres, true).await?;
    spec.issuer = Some("http://tollgate.test".into());
    let a = spec.start().await?;
    let b = spec.start().await?;
    let t = a.tenant("ocr:read").await?;
    let token = a.token(&t.client_id, &t.client_secret, None).await?;
    // Both instances accept (and cache) it.
    assert_eq!(a.me(&token).await?.0, 200);
    assert_eq!(b.me(&token).await?.0, 200);

    let resp = reqwest::Client::new()
        .post(a.url("/oauth/revoke"))
        .basic_auth(&t.client_id, Some(&t.client_secret))
        .form(&[("token", token.as_str())])
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        a.me(&token).await?.0,
        401,
        "the revoking instance refuses at once"
    );
    let took = refused_within(&b, &token, Duration::from_secs(1)).await?;
    eprintln!("revocation reached the other instance in {took:?}");

    // A third instance started later learns it from the database.
    let c = spec.start().await?;
    assert_eq!(c.me(&token).await?.0, 401);

    // A deleted client's tokens are refused everywhere too.
    let token2 = a.token(&t.client_id, &t.client_secret, None).await?;
    assert_eq!(b.me(&token2).await?.0, 200);
    let tenant = t.id.parse()?;
    a.auth()
        .delete_client(
            tenant,
            &t.client_id,
            "operator",
            &tollgate_auth::RequestCtx::cli(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    refused_within(&b, &token2, Duration::from_secs(1)).await?;
    c.stop().await?;
    b.stop().await?;
    a.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_key_is_refused_by_every_instance_within_a_second() -> Result<()> {
    let mut spec = ServerSpec::new(Backend::Postgres, true).await?;
    spec.issuer = Some("http://tollgate.test".into());
    let a = spec.start().await?;
    let b = spec.start().await?;
    let t = a.tenant("ocr:read").await?;
    assert_eq!(b.me(&t.key).await?.0, 200);
    let portal = a.login(&t.owner_email, &t.owner_password).await?;
    let (status, _) = portal.delete(&format!("/v1/keys/{}", t.key_id)).await?;
    assert_eq!(status, 204);
    assert_eq!(a.me(&t.key).await?.0, 401);
    // The other instance's key cache lives at most one second.
    refused_within(&b, &t.key, Duration::from_millis(1500)).await?;
    b.stop().await?;
    a.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denylist_entries_expire_with_the_token() -> Result<()> {
    let spec = ServerSpec::new(Backend::Sqlite, false).await?;
    let srv = spec.start().await?;
    let t = srv.tenant("ocr:read").await?;
    let token = srv.token(&t.client_id, &t.client_secret, None).await?;
    let claims = srv
        .auth()
        .tokens
        .verify(&token)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    reqwest::Client::new()
        .post(srv.url("/oauth/revoke"))
        .form(&[
            ("token", token.as_str()),
            ("client_id", &t.client_id),
            ("client_secret", &t.client_secret),
        ])
        .send()
        .await?;
    let now = chrono::Utc::now();
    let rows = srv
        .store()
        .active_revocations(now)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let entry = rows
        .iter()
        .find(|(e, _)| e.ends_with(&claims.jti))
        .expect("revocation stored");
    assert_eq!(
        entry.1.timestamp(),
        claims.exp,
        "kept exactly as long as the token lives"
    );
    let later = chrono::DateTime::from_timestamp(claims.exp + 1, 0).unwrap();
    assert_eq!(
        srv.store()
            .purge_revocations(later)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        1
    );
    srv.stop().await
}

/// When a cached key or a tenant's cached limits expire, the requests in flight with them
/// wait for one database lookup instead of each running its own (a thundering herd of up to
/// one query per concurrent request). An unknown key's concurrent presentations share one
/// lookup too, and each is still refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_cache_entry_costs_one_lookup_however_many_wait() -> Result<()> {
    let srv = crate::harness::TestServer::start(Backend::Postgres).await?;
    let t = srv.tenant("ocr:read").await?;
    let tenant = tollgate_core::TenantId(t.id.parse()?);
    let authn = &srv.auth().authenticator;
    let meter = srv.meter();
    let p = authn.api_key(&t.key, None).await?;
    assert_eq!(&*p.id, t.key_id);
    meter.limits(tenant).await?;
    // Both caches keep an entry for a second.
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // Polled together on one task: every call finds the entry expired before any lookup
    // has answered.
    let (lookups, loads) = (authn.key_lookups(), meter.limit_loads());
    let keys =
        futures::future::join_all((0..32).map(|_| authn.api_key(&t.key, Some("203.0.113.7"))))
            .await;
    let limits = futures::future::join_all((0..32).map(|_| meter.limits(tenant))).await;
    for k in keys {
        assert_eq!(&*k?.id, t.key_id);
    }
    for l in limits {
        assert_eq!(
            l?.period,
            tollgate_core::plan::Period::of(chrono::Utc::now()).key()
        );
    }
    assert_eq!(
        authn.key_lookups() - lookups,
        1,
        "one key lookup for 32 callers"
    );
    assert_eq!(
        meter.limit_loads() - loads,
        1,
        "one limits load for 32 callers"
    );

    // An unknown key (well-formed, checksum valid) presented 8 times at once: one lookup,
    // 8 refusals.
    let unknown = tollgate_auth::secret::new_api_key(tollgate_core::api_key::KeyEnv::Live);
    let lookups = authn.key_lookups();
    let refused =
        futures::future::join_all((0..8).map(|_| authn.api_key(&unknown, Some("203.0.113.8"))))
            .await;
    for r in refused {
        assert!(
            matches!(r, Err(tollgate_auth::AuthError::KeyRejected)),
            "{r:?}"
        );
    }
    assert_eq!(authn.key_lookups() - lookups, 1);
    // Each of the 8 counts as a miss of the address: two more unknown keys reach the
    // threshold (10), and the address is refused before any lookup within two more (a
    // blocked address keeps one lookup a second).
    assert_eq!(tollgate_auth::principal::KEY_MISS_THRESHOLD, 10);
    for _ in 0..2 {
        let other = tollgate_auth::secret::new_api_key(tollgate_core::api_key::KeyEnv::Live);
        let r = authn.api_key(&other, Some("203.0.113.8")).await;
        assert!(
            matches!(r, Err(tollgate_auth::AuthError::KeyRejected)),
            "{r:?}"
        );
    }
    let mut refused_unlooked = false;
    for _ in 0..2 {
        let other = tollgate_auth::secret::new_api_key(tollgate_core::api_key::KeyEnv::Live);
        let r = authn.api_key(&other, Some("203.0.113.8")).await;
        refused_unlooked |= matches!(r, Err(tollgate_auth::AuthError::Throttled { .. }));
    }
    assert!(
        refused_unlooked,
        "the 8 shared misses were not each counted"
    );
    srv.stop().await
}
