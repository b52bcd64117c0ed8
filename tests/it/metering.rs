//! Metering on the request path: GCRA exact under concurrency (Redis and in-process), the
//! RateLimit headers, limits per tenant and credential (not per token, address or path
//! spelling), quotas (hard cap, overage, refunds, thresholds), the concurrency cap released
//! on cancellation, idempotent retries counted once, plans applying at once, usage reports,
//! and Redis outages (degrade, fail closed, recovery).

use crate::both_backends;
use crate::harness::{fixture, Backend, PrivateRedis, ServerSpec, Tenant, TestServer};
use anyhow::{Context, Result};
use serde_json::{json, Value};
use tollgate_core::plan::Plan;
use tollgate_core::TenantId;

both_backends!(
    gcra_lets_exactly_the_burst_through_with_redis,
    quota_hard_cap_refunds_and_thresholds,
);

/// Puts the tenant on a new plan with these settings (others generous).
pub(crate) async fn plan(srv: &TestServer, t: &Tenant, f: impl FnOnce(&mut Plan)) -> Result<()> {
    let mut p = Plan {
        name: format!("p-{}", uuid::Uuid::new_v4().simple()),
        rate: 1000.0,
        burst: 1000,
        max_concurrent: 50,
        monthly_units: 1_000_000,
        overage: false,
        ..Plan::default_plan()
    };
    f(&mut p);
    srv.store().create_plan(&p, chrono::Utc::now()).await?;
    let tenant: TenantId = t.id.parse()?;
    srv.store()
        .set_tenant_plan(tenant, &p.name, srv.auth().clock.now())
        .await?;
    srv.meter().forget_limits(Some(tenant));
    Ok(())
}

pub(crate) struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

pub(crate) async fn send(req: reqwest::RequestBuilder) -> Result<Answer> {
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.json().await.unwrap_or(Value::Null);
    Ok(Answer {
        status,
        headers,
        body,
    })
}

pub(crate) fn header<'a>(a: &'a Answer, name: &str) -> Option<&'a str> {
    a.headers.get(name).and_then(|v| v.to_str().ok())
}

async fn me(srv: &TestServer, key: &str) -> Result<Answer> {
    send(
        reqwest::Client::new()
            .get(srv.url("/v1/me"))
            .header("x-api-key", key),
    )
    .await
}

pub(crate) async fn ocr(
    srv: &TestServer,
    key: &str,
    image: &[u8],
    idempotency: Option<&str>,
) -> Result<Answer> {
    let mut req = reqwest::Client::new()
        .post(srv.url("/v1/ocr"))
        .header("x-api-key", key)
        .header("content-type", "image/png")
        .body(image.to_vec());
    if let Some(k) = idempotency {
        req = req.header("idempotency-key", k);
    }
    send(req).await
}

/// N ≫ L parallel requests against a bucket of L (refilling far too slowly to matter):
/// exactly L pass; every refusal is a 429 `rate_limited` with `Retry-After`.
async fn exact_under_concurrency(srv: &TestServer) -> Result<()> {
    let t = srv.tenant("ocr:read").await?;
    plan(srv, &t, |p| {
        p.rate = 0.01;
        p.burst = 10;
    })
    .await?;
    let calls = (0..100).map(|_| me(srv, &t.key));
    let answers = futures::future::join_all(calls).await;
    let mut passed = 0;
    for a in answers {
        let a = a?;
        match a.status {
            200 => passed += 1,
            429 => {
                assert_eq!(a.body["code"], "rate_limited", "{}", a.body);
                assert!(header(&a, "retry-after")
                    .is_some_and(|v| v.parse::<u64>().is_ok_and(|s| s >= 1)));
                assert!(
                    header(&a, "ratelimit").is_some_and(|v| v.contains("r=0")),
                    "{:?}",
                    a.headers
                );
            }
            other => anyhow::bail!("unexpected {other}: {}", a.body),
        }
    }
    assert_eq!(passed, 10, "exactly the burst passes");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gcra_lets_exactly_the_burst_through_in_process() -> Result<()> {
    let srv = ServerSpec::new(Backend::Sqlite, false)
        .await?
        .start()
        .await?;
    exact_under_concurrency(&srv).await?;
    srv.stop().await
}

async fn gcra_lets_exactly_the_burst_through_with_redis(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    exact_under_concurrency(&srv).await?;
    srv.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_response_carries_ratelimit_headers() -> Result<()> {
    let srv = TestServer::start(Backend::Sqlite).await?;
    let t = srv.tenant("ocr:read").await?;
    plan(&srv, &t, |p| {
        p.rate = 5.0;
        p.burst = 7;
    })
    .await?;
    let a = me(&srv, &t.key).await?;
    assert_eq!(a.status, 200);
    assert_eq!(
        header(&a, "ratelimit-policy"),
        Some("\"tenant\";q=7;w=2, \"key\";q=7;w=2")
    );
    assert_eq!(
        header(&a, "ratelimit").map(|v| v.starts_with("\"tenant\";r=6;t=")),
        Some(true),
        "{:?}",
        a.headers
    );
    let o = ocr(&srv, &t.key, &fixture("hello.png")?, None).await?;
    assert_eq!(o.status, 200, "{}", o.body);
    assert!(header(&o, "ratelimit").is_some());
    assert_eq!(
        (header(&o, "tollgate-units"), header(&o, "tollgate-unit")),
        (Some("1"), Some("page"))
    );
    assert_eq!(o.body["usage"]["units"], 1);
    srv.stop().await
}

/// Limits belong to the tenant and the credential: new tokens for the same client, rotating
/// `X-Forwarded-For` (from an untrusted peer) and other path spellings get nothing extra.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_cannot_be_bypassed() -> Result<()> {
    let srv = TestServer::start(Backend::Sqlite).await?;
    let t = srv.tenant("ocr:read").await?;
    plan(&srv, &t, |p| {
        p.rate = 0.01;
        p.burst = 3;
    })
    .await?;
    let http = reqwest::Client::new();
    for i in 0..3 {
        let token = srv.token(&t.client_id, &t.client_secret, None).await?;
        let a = send(
            http.get(srv.url("/v1/me"))
                .bearer_auth(&token)
                .header("x-forwarded-for", format!("10.0.0.{i}")),
        )
        .await?;
        assert_eq!(a.status, 200, "request {i}");
    }
    let fresh = srv.token(&t.client_id, &t.client_secret, None).await?;
    let a = send(
        http.get(srv.url("/v1/me"))
            .bearer_auth(&fresh)
            .header("x-forwarded-for", "10.9.9.9"),
    )
    .await?;
    assert_eq!(
        (a.status, a.body["code"].as_str()),
        (429, Some("rate_limited")),
        "a new token and address"
    );
    // The API key shares the tenant bucket, which is now empty.
    assert_eq!(me(&srv, &t.key).await?.status, 429);
    // Other spellings of the path are other (unknown) routes, not the endpoint unthrottled.
    for path in [
        "/V1/ME",
        "/v1/me/",
        "/v1//me",
        "/v1/Me",
        "/v1/me%2F",
        "/v1/%6De",
    ] {
        let a = send(http.get(srv.url(path)).header("x-api-key", &t.key)).await?;
        assert_eq!(
            (a.status, a.body["code"].as_str()),
            (404, Some("not_found")),
            "{path}: {}",
            a.body
        );
    }
    srv.stop().await
}

/// A credential's override tightens its own bucket; the plan stays the ceiling.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overrides_only_tighten() -> Result<()> {
    let srv = TestServer::start(Backend::Sqlite).await?;
    let t = srv.tenant("ocr:read").await?;
    plan(&srv, &t, |p| {
        p.rate = 0.01;
        p.burst = 4;
    })
    .await?;
    let tenant: TenantId = t.id.parse()?;
    // Tighter for the key; "looser" for the client, which must not loosen anything.
    srv.store()
        .set_limit_override(tenant, &t.key_id, Some(0.01), Some(2), chrono::Utc::now())
        .await?;
    srv.store()
        .set_limit_override(
            tenant,
            &t.client_id,
            Some(100.0),
            Some(100),
            chrono::Utc::now(),
        )
        .await?;
    srv.meter().forget_limits(Some(tenant));
    let statuses: Vec<u16> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(me(&srv, &t.key).await?.status);
        }
        v
    };
    assert_eq!(statuses, [200, 200, 429], "the key's own bucket holds 2");
    let token = srv.token(&t.client_id, &t.client_secret, None).await?;
    let mut client = Vec::new();
    for _ in 0..3 {
        client.push(srv.me(&token).await?.0);
    }
    assert_eq!(
        client,
        [200, 200, 429],
        "the client gets the rest of the tenant's 4, not 100"
    );
    srv.stop().await
}

async fn quota_hard_cap_refunds_and_thresholds(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let t = srv.tenant("ocr:read").await?;
    plan(&srv, &t, |p| p.monthly_units = 2).await?;
    let hello = fixture("hello.png")?;
    // Our failures and the caller's bad images are not charged.
    let bad = ocr(&srv, &t.key, &hello[..hello.len() / 2], None).await?;
    assert_eq!(bad.status, 422);
    let first = ocr(&srv, &t.key, &hello, None).await?;
    assert_eq!(
        (first.status, first.body["usage"]["remaining"].as_i64()),
        (200, Some(1)),
        "{}",
        first.body
    );
    let second = ocr(&srv, &t.key, &hello, None).await?;
    assert_eq!(second.status, 200);
    let third = ocr(&srv, &t.key, &hello, None).await?;
    assert_eq!(
        (third.status, third.body["code"].as_str()),
        (429, Some("quota_exhausted")),
        "{}",
        third.body
    );
    let retry: i64 = header(&third, "retry-after")
        .context("Retry-After")?
        .parse()?;
    let now = chrono::Utc::now();
    let to_month_end = (tollgate_core::plan::Period::of(now).end() - now).num_seconds();
    assert!(
        (retry - to_month_end).abs() <= 5,
        "Retry-After {retry} is the period's end ({to_month_end})"
    );
    let tenant: TenantId = t.id.parse()?;
    let events = srv.store().usage_events(tenant).await?;
    assert_eq!(
        events.iter().map(|e| e.units).sum::<i64>(),
        2,
        "exactly the two successes"
    );
    let thresholds: Vec<Value> = srv
        .store()
        .audit_events(Some(tenant))
        .await?
        .into_iter()
        .filter(|e| e.action == "quota.threshold")
        .map(|e| serde_json::from_str::<Value>(&e.detail).map(|d| d["percent"].clone()))
        .collect::<Result<_, _>>()?;
    assert_eq!(thresholds, [json!(50), json!(80), json!(100)]);
    srv.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overage_plans_keep_serving_and_count() -> Result<()> {
    let srv = TestServer::start(Backend::Sqlite).await?;
    let t = srv.tenant("ocr:read").await?;
    plan(&srv, &t, |p| {
        p.monthly_units = 1;
        p.overage = true;
    })
    .await?;
    let hello = fixture("hello.png")?;
    for expected_left in [0, -1] {
        let a = ocr(&srv, &t.key, &hello, None).await?;
        assert_eq!(
            (a.status, a.body["usage"]["remaining"].as_i64()),
            (200, Some(expected_left))
        );
    }
    let tenant: TenantId = t.id.parse()?;
    assert_eq!(
        srv.store()
            .usage_units(
                tenant,
                &tollgate_core::plan::Period::of(chrono::Utc::now()).key()
            )
            .await?,
        2
    );
    srv.stop().await
}

/// The same Idempotency-Key and image is served again but counted once; the same key with
/// another image is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_retries_count_once() -> Result<()> {
    let srv = TestServer::start(Backend::Postgres).await?;
    let t = srv.tenant("ocr:read").await?;
    let hello = fixture("hello.png")?;
    let first = ocr(&srv, &t.key, &hello, Some("retry-me-1")).await?;
    let retry = ocr(&srv, &t.key, &hello, Some("retry-me-1")).await?;
    assert_eq!((first.status, retry.status), (200, 200));
    assert_eq!(retry.body["text"], first.body["text"]);
    assert_eq!(
        (
            first.body["usage"]["units"].as_i64(),
            retry.body["usage"]["units"].as_i64()
        ),
        (Some(1), Some(0))
    );
    let other = ocr(&srv, &t.key, &fixture("chinese.png")?, Some("retry-me-1")).await?;
    assert_eq!(
        (other.status, other.body["code"].as_str()),
        (422, Some("idempotency_key_reused"))
    );
    let tenant: TenantId = t.id.parse()?;
    let events = srv.store().usage_events(tenant).await?;
    assert_eq!(events.len(), 1, "one event for the key");
    assert!(
        events[0].event_id.starts_with("evt_"),
        "named by the server"
    );
    srv.stop().await
}

/// One slot: a second request while the first runs is refused; the slot comes back on every
/// exit — a caller's error, a success, and a request the client abandoned mid-way (its work
/// finishes on the server, then the slot is free).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_cap_is_released_on_every_exit() -> Result<()> {
    let srv = TestServer::start(Backend::Sqlite).await?;
    let t = srv.tenant("ocr:read").await?;
    plan(&srv, &t, |p| p.max_concurrent = 1).await?;
    let page = fixture("page_rotated.png")?;
    // An error exit (undecodable image) frees the slot at once.
    let bad = ocr(&srv, &t.key, &page[..page.len() / 2], None).await?;
    assert_eq!(bad.status, 422);
    // Two at once: one runs, the other finds the slot taken.
    let (a, b) = tokio::join!(
        ocr(&srv, &t.key, &page, None),
        ocr(&srv, &t.key, &page, None)
    );
    let (a, b) = (a?, b?);
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 429], "one slot");
    let refused = if a.status == 429 { &a } else { &b };
    assert_eq!(refused.body["code"], "concurrency_limited");
    // Abandoned by the client mid-way.
    let abandoned = reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(20))
        .build()?;
    let r = abandoned
        .post(srv.url("/v1/ocr"))
        .header("x-api-key", &t.key)
        .header("content-type", "image/png")
        .body(page.clone())
        .send()
        .await;
    assert!(r.is_err(), "the client gave up");
    let mut freed = false;
    for _ in 0..100 {
        let c = ocr(&srv, &t.key, &page, None).await?;
        if c.status == 200 {
            freed = true;
            break;
        }
        assert_eq!(c.body["code"], "concurrency_limited", "{}", c.body);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(freed, "the abandoned request's slot came back");
    srv.stop().await
}

/// Reports come from the database, per tenant, grouped; tenant B sees none of A's usage; the
/// operator sees both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_reports() -> Result<()> {
    let srv = TestServer::start(Backend::Postgres).await?;
    let a = srv.tenant("ocr:read usage:read").await?;
    let b = srv.tenant("ocr:read usage:read").await?;
    let hello = fixture("hello.png")?;
    for _ in 0..2 {
        assert_eq!(ocr(&srv, &a.key, &hello, None).await?.status, 200);
    }
    let http = reqwest::Client::new();
    let report = send(
        http.get(srv.url("/v1/usage?granularity=hour&group_by=key"))
            .header("x-api-key", &a.key),
    )
    .await?;
    assert_eq!(report.status, 200, "{}", report.body);
    assert_eq!(report.body["total_units"], 2);
    assert_eq!(report.body["unit"], "page");
    let buckets = report.body["buckets"].as_array().context("buckets")?;
    assert_eq!(buckets.len(), 1);
    assert_eq!(buckets[0]["group"], format!("key:{}", a.key_id));
    let other = send(http.get(srv.url("/v1/usage")).header("x-api-key", &b.key)).await?;
    assert_eq!((other.status, &other.body["total_units"]), (200, &json!(0)));
    // The portal sees the same numbers.
    let portal = srv.login(&a.owner_email, &a.owner_password).await?;
    let (status, body) = portal.get("/v1/usage?group_by=operation").await?;
    assert_eq!((status, &body["total_units"]), (200, &json!(2)));
    assert_eq!(body["buckets"][0]["group"], "ocr");
    // A caller without usage:read is refused.
    let narrow = srv.tenant("ocr:read").await?;
    assert_eq!(
        send(
            http.get(srv.url("/v1/usage"))
                .header("x-api-key", &narrow.key)
        )
        .await?
        .status,
        403
    );
    let bad = send(
        http.get(srv.url("/v1/usage?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z"))
            .header("x-api-key", &a.key),
    )
    .await?;
    assert_eq!(
        (bad.status, bad.body["code"].as_str()),
        (422, Some("invalid_range"))
    );
    srv.stop().await
}

/// Plans through the operator API apply from the tenant's next request; tenant credentials
/// cannot use the operator API, and the portal cannot grant the operator scope.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_api_and_plan_changes() -> Result<()> {
    let srv = TestServer::start(Backend::Sqlite).await?;
    let t = srv.tenant("ocr:read").await?;
    let op_key = srv.operator_key().await?;
    let http = reqwest::Client::new();
    let name = format!("tiny-{}", uuid::Uuid::new_v4().simple());
    let created = send(
        http.post(srv.url("/v1/operator/plans"))
            .header("x-api-key", &op_key)
            .json(&json!({ "name": name, "rate": 0.01, "burst": 1, "monthly_units": 10 })),
    )
    .await?;
    assert_eq!(created.status, 201, "{}", created.body);
    let dup = send(
        http.post(srv.url("/v1/operator/plans"))
            .header("x-api-key", &op_key)
            .json(&json!({ "name": name, "rate": 1.0, "burst": 1, "monthly_units": 10 })),
    )
    .await?;
    assert_eq!(
        (dup.status, dup.body["code"].as_str()),
        (409, Some("plan_exists"))
    );
    // On the tiny plan (one request per 100 s) the second request is refused…
    let put_plan = |plan: &str| {
        http.put(srv.url(&format!("/v1/operator/tenants/{}/plan", t.id)))
            .header("x-api-key", &op_key)
            .json(&json!({ "plan": plan }))
    };
    let set = send(put_plan(&name)).await?;
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(me(&srv, &t.key).await?.status, 200);
    assert_eq!(me(&srv, &t.key).await?.status, 429);
    // …and the next request after an upgrade already gets the new plan.
    let big = format!("big-{}", uuid::Uuid::new_v4().simple());
    let created = send(
        http.post(srv.url("/v1/operator/plans"))
            .header("x-api-key", &op_key)
            .json(&json!({ "name": big, "rate": 1000.0, "burst": 1000, "monthly_units": 10 })),
    )
    .await?;
    assert_eq!(created.status, 201);
    assert_eq!(send(put_plan(&big)).await?.status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_eq!(
        me(&srv, &t.key).await?.status,
        200,
        "the upgrade applies to the next request"
    );
    let unknown = send(put_plan("no-such-plan")).await?;
    assert_eq!(
        (unknown.status, unknown.body["code"].as_str()),
        (404, Some("not_found"))
    );
    // Tenants cannot act as the operator or mint operator credentials.
    let denied = send(
        http.get(srv.url("/v1/operator/plans"))
            .header("x-api-key", &t.key),
    )
    .await?;
    assert_eq!(
        (denied.status, denied.body["code"].as_str()),
        (403, Some("insufficient_scope"))
    );
    let portal = srv.login(&t.owner_email, &t.owner_password).await?;
    let (status, body) = portal
        .post(
            "/v1/keys",
            json!({ "name": "sneaky", "scopes": ["operator"] }),
        )
        .await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_scope"))
    );
    srv.stop().await
}

async fn redis_outage(fail_closed: bool) -> Result<()> {
    let mut redis = PrivateRedis::start().await?;
    let mut spec = ServerSpec::new(Backend::Postgres, false).await?;
    spec.redis_url = Some(redis.url());
    let mut env = spec.env();
    env.meter.redis_down = if fail_closed {
        tollgate_meter::limiter::RedisDownPolicy::FailClosed
    } else {
        tollgate_meter::limiter::RedisDownPolicy::Degrade { instances: 2 }
    };
    let running = crate::harness::start_server(&spec.common(), &spec.serve_args()?, &env).await?;
    let srv = TestServer {
        base: format!("http://{}", running.addr),
        running,
    };
    let t = srv.tenant("ocr:read").await?;
    plan(&srv, &t, |p| {
        p.rate = 0.01;
        p.burst = 9;
    })
    .await?;
    assert_eq!(me(&srv, &t.key).await?.status, 200);
    assert!(srv.meter_uses_redis(), "Redis is in use");
    redis.kill();
    if fail_closed {
        let down = me(&srv, &t.key).await?;
        assert_eq!(
            (down.status, down.body["code"].as_str()),
            (503, Some("metering_unavailable")),
            "{}",
            down.body
        );
        assert!(header(&down, "retry-after").is_some());
    } else {
        // Each of the two instances limits at its share in-process: ceil(9 / 2) = 5 pass.
        let mut statuses = Vec::new();
        for _ in 0..12 {
            statuses.push(me(&srv, &t.key).await?.status);
        }
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            5,
            "degraded to a share of the limit: {statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| *s == 200 || *s == 429),
            "{statuses:?}"
        );
        assert!(!srv.meter_uses_redis());
    }
    // Redis returns on the same port: within seconds the shared path is used again.
    let back = PrivateRedis::start_on(redis.port).await?;
    let mut recovered = false;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let a = me(&srv, &t.key).await?;
        if a.status == 200 && srv.meter_uses_redis() && back.keys("*:rl:*").await? > 0 {
            recovered = true;
            break;
        }
    }
    assert!(recovered, "the Redis path came back by itself");
    srv.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_degrades_to_local_limits_and_recovers() -> Result<()> {
    redis_outage(false).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_fails_closed_when_configured() -> Result<()> {
    redis_outage(true).await
}
