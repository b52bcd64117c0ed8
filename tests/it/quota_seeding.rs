//! Quota counters seeded from recorded usage, on PostgreSQL (where `SUM` over a `bigint` is a
//! `numeric`): after a restart without Redis, after Redis loses its keys, and across a Redis
//! outage and restart, the next metered call is served and the quota left is exact; when
//! metering cannot admit at all, `/readyz` says so by name.

use crate::both_backends;
use crate::harness::{fixture, Backend, PrivateRedis, ServerSpec, Tenant, TestServer};
use crate::metering::{ocr, plan};
use anyhow::{Context, Result};
use sea_orm::ConnectionTrait;
use serde_json::Value;

both_backends!(restart_without_redis_seeds_the_quota_from_recorded_usage);

const UNITS: i64 = 10;

/// One OCR call that must succeed; returns the units it says are left.
async fn served(srv: &TestServer, t: &Tenant) -> Result<i64> {
    let a = ocr(srv, &t.key, &fixture("hello.png")?, None).await?;
    anyhow::ensure!(a.status == 200, "OCR answered {}: {}", a.status, a.body);
    a.body["usage"]["remaining"]
        .as_i64()
        .with_context(|| format!("no remaining units in {}", a.body))
}

/// A tenant on a plan of [`UNITS`] with `used` units already recorded.
async fn tenant_with_usage(srv: &TestServer, used: i64) -> Result<Tenant> {
    let t = srv.tenant("ocr:read").await?;
    plan(srv, &t, |p| p.monthly_units = UNITS).await?;
    for i in 1..=used {
        assert_eq!(served(srv, &t).await?, UNITS - i);
    }
    Ok(t)
}

async fn start(spec: &ServerSpec) -> Result<TestServer> {
    let srv = spec.start().await?;
    Ok(srv)
}

async fn restart_without_redis_seeds_the_quota_from_recorded_usage(backend: Backend) -> Result<()> {
    let spec = ServerSpec::new(backend, false).await?;
    let srv = start(&spec).await?;
    let t = tenant_with_usage(&srv, 2).await?;
    srv.stop().await?;
    let srv = start(&spec).await?;
    assert_eq!(
        served(&srv, &t).await?,
        UNITS - 3,
        "seeded with the 2 recorded"
    );
    assert_eq!(served(&srv, &t).await?, UNITS - 4);
    srv.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flushed_redis_counters_are_reseeded() -> Result<()> {
    let redis = PrivateRedis::start().await?;
    let mut spec = ServerSpec::new(Backend::Postgres, false).await?;
    spec.redis_url = Some(redis.url());
    let srv = start(&spec).await?;
    let t = tenant_with_usage(&srv, 2).await?;
    assert!(
        redis.keys("*:quota:*").await? > 0,
        "the counter lives in Redis"
    );
    let client = redis::Client::open(redis.url())?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let _: () = redis::cmd("FLUSHALL").query_async(&mut conn).await?;
    assert_eq!(served(&srv, &t).await?, UNITS - 3);
    srv.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_stays_exact_across_a_redis_outage_and_restart() -> Result<()> {
    let mut redis = PrivateRedis::start().await?;
    let mut spec = ServerSpec::new(Backend::Postgres, false).await?;
    spec.redis_url = Some(redis.url());
    let srv = start(&spec).await?;
    let t = tenant_with_usage(&srv, 2).await?;
    redis.kill();
    // Degraded: the in-process counter is seeded from the database.
    assert_eq!(served(&srv, &t).await?, UNITS - 3, "while Redis is down");
    // Redis comes back empty: its counter is seeded from the database again.
    let back = PrivateRedis::start_on(redis.port).await?;
    let mut on_redis = false;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let probe = reqwest::Client::new()
            .get(srv.url("/v1/me"))
            .header("x-api-key", &t.key)
            .send()
            .await?;
        if probe.status() == 200 && srv.meter_uses_redis() {
            on_redis = true;
            break;
        }
    }
    assert!(on_redis, "the Redis path came back");
    assert_eq!(served(&srv, &t).await?, UNITS - 4, "after Redis restarted");
    assert!(back.keys("*:quota:*").await? > 0, "counted in Redis again");
    // And a restart of Tollgate on top.
    srv.stop().await?;
    let srv = start(&spec).await?;
    assert_eq!(served(&srv, &t).await?, UNITS - 5);
    srv.stop().await
}

async fn readiness(srv: &TestServer) -> Result<(u16, Value)> {
    let resp = reqwest::get(srv.url("/readyz")).await?;
    let status = resp.status().as_u16();
    Ok((status, resp.json().await?))
}

/// When the quota counter cannot be seeded (here: the usage table is gone), `/readyz` is 503
/// and names `metering`, and metered calls are 503 `metering_unavailable`; once the table is
/// back, both recover.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_reports_metering_that_cannot_admit() -> Result<()> {
    let spec = ServerSpec::new(Backend::Postgres, false).await?;
    let srv = start(&spec).await?;
    let t = srv.tenant("ocr:read").await?;
    assert_eq!(readiness(&srv).await?.0, 200);
    let conn = srv.store().conn();
    conn.execute_unprepared("ALTER TABLE usage_events RENAME TO usage_events_away")
        .await?;
    let (status, body) = readiness(&srv).await?;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["failing"]
            .as_array()
            .is_some_and(|f| f.iter().any(|c| c == "metering")),
        "{body}"
    );
    let refused = ocr(&srv, &t.key, &fixture("hello.png")?, None).await?;
    assert_eq!(
        (refused.status, refused.body["code"].as_str()),
        (503, Some("metering_unavailable")),
        "{}",
        refused.body
    );
    conn.execute_unprepared("ALTER TABLE usage_events_away RENAME TO usage_events")
        .await?;
    assert_eq!(readiness(&srv).await?.0, 200);
    assert_eq!(
        served(&srv, &t).await?,
        tollgate_core::plan::Plan::default_plan().monthly_units - 1
    );
    srv.stop().await
}
