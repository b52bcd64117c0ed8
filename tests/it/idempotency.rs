//! Billing keys as an attacker and a flaky network use them. A client's `X-Request-Id` is for
//! tracing only: replaying one is a new request, charged and recorded every time. An
//! `Idempotency-Key` follows Stripe's contract: of concurrent requests with one new key
//! exactly one runs and is charged, the others get its stored answer or 409
//! `idempotency_in_progress`; the same key with another body is 422 whether or not the first
//! has finished. No response ever claims a unit the usage table does not hold.

use crate::both_backends;
use crate::harness::{fixture, Backend, TestServer};
use crate::metering::{header, ocr, plan, send, Answer};
use anyhow::Result;
use tollgate_core::TenantId;

both_backends!(
    a_replayed_request_id_is_charged_every_time,
    concurrent_requests_with_one_key_run_once,
    one_key_with_two_bodies_is_refused_while_the_first_runs,
    idempotency_keys_expire_after_24_hours,
    a_failed_request_frees_its_key_at_once,
    unreadable_or_repeated_keys_are_refused,
);

async fn ocr_with_request_id(
    srv: &TestServer,
    key: &str,
    image: &[u8],
    id: &str,
) -> Result<Answer> {
    send(
        reqwest::Client::new()
            .post(srv.url("/v1/ocr"))
            .header("x-api-key", key)
            .header("x-request-id", id)
            .header("content-type", "image/png")
            .body(image.to_vec()),
    )
    .await
}

/// Units the tenant's usage table holds, and its rows.
async fn recorded(srv: &TestServer, tenant: &str) -> Result<(i64, usize)> {
    let tenant: TenantId = tenant.parse()?;
    let events = srv.store().usage_events(tenant).await?;
    Ok((events.iter().map(|e| e.units).sum(), events.len()))
}

/// Units the 2xx answers claim.
fn claimed(answers: &[Answer]) -> i64 {
    answers
        .iter()
        .filter(|a| a.status == 200)
        .map(|a| a.body["usage"]["units"].as_i64().unwrap_or(0))
        .sum()
}

async fn a_replayed_request_id_is_charged_every_time(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let t = srv.tenant("ocr:read").await?;
    plan(&srv, &t, |p| p.monthly_units = 3).await?;
    let hello = fixture("hello.png")?;
    let mut answers = Vec::new();
    for _ in 0..5 {
        answers.push(ocr_with_request_id(&srv, &t.key, &hello, "replay-me").await?);
    }
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [200, 200, 200, 429, 429], "the quota holds");
    for a in &answers[..3] {
        assert_eq!(a.body["usage"]["units"], 1, "{}", a.body);
        assert_eq!(header(a, "tollgate-units"), Some("1"));
        assert_eq!(header(a, "x-request-id"), Some("replay-me"), "still traced");
    }
    assert_eq!(answers[3].body["code"], "quota_exhausted");
    assert_eq!(
        recorded(&srv, &t.id).await?,
        (3, 3),
        "three units, three rows"
    );
    assert_eq!(claimed(&answers), 3);
    srv.stop().await
}

async fn concurrent_requests_with_one_key_run_once(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let t = srv.tenant("ocr:read").await?;
    plan(&srv, &t, |_| {}).await?;
    let hello = fixture("hello.png")?;
    for round in 0..3 {
        let key = format!("same-key-{round}-{}", uuid::Uuid::new_v4().simple());
        let calls = (0..4).map(|_| ocr(&srv, &t.key, &hello, Some(&key)));
        let answers: Vec<Answer> = futures::future::join_all(calls)
            .await
            .into_iter()
            .collect::<Result<_>>()?;
        let ran: Vec<&Answer> = answers
            .iter()
            .filter(|a| a.status == 200 && a.body["usage"]["units"] == 1)
            .collect();
        assert_eq!(ran.len(), 1, "exactly one runs and is charged");
        for a in &answers {
            match a.status {
                200 if a.body["usage"]["units"] == 1 => {}
                200 => {
                    assert_eq!(a.body["usage"]["units"], 0, "{}", a.body);
                    assert_eq!(a.body["text"], ran[0].body["text"]);
                    assert_eq!(header(a, "idempotent-replayed"), Some("true"));
                }
                409 => {
                    assert_eq!(a.body["code"], "idempotency_in_progress", "{}", a.body);
                    assert!(header(a, "retry-after").is_some());
                }
                other => anyhow::bail!("unexpected {other}: {}", a.body),
            }
        }
        // Once the first has finished, a retry gets its stored answer, not a second run.
        let retry = ocr(&srv, &t.key, &hello, Some(&key)).await?;
        assert_eq!(retry.status, 200, "{}", retry.body);
        assert_eq!(retry.body["usage"]["units"], 0);
        assert_eq!(
            retry.body["timing"], ran[0].body["timing"],
            "the stored answer"
        );
        assert_eq!(header(&retry, "idempotent-replayed"), Some("true"));
        assert_eq!(header(&retry, "tollgate-units"), Some("0"));
    }
    assert_eq!(recorded(&srv, &t.id).await?, (3, 3), "one unit per key");
    srv.stop().await
}

async fn one_key_with_two_bodies_is_refused_while_the_first_runs(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let t = srv.tenant("ocr:read").await?;
    plan(&srv, &t, |_| {}).await?;
    let (page, hello) = (fixture("page_rotated.png")?, fixture("hello.png")?);
    for round in 0..3 {
        let key = format!("two-bodies-{round}-{}", uuid::Uuid::new_v4().simple());
        let (a, b) = tokio::join!(
            ocr(&srv, &t.key, &page, Some(&key)),
            ocr(&srv, &t.key, &hello, Some(&key))
        );
        let answers = [a?, b?];
        let mut statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 422], "round {round}");
        let refused = answers.iter().find(|a| a.status == 422).expect("a 422");
        assert_eq!(refused.body["code"], "idempotency_key_reused");
        assert_eq!(claimed(&answers), 1);
    }
    assert_eq!(recorded(&srv, &t.id).await?, (3, 3));
    srv.stop().await
}

/// A key names one request for 24 hours (the clock is moved, not waited for): within them a
/// retry is replayed and a different body refused; after them the key is forgotten, and the
/// same key starts a new request, charged again.
async fn idempotency_keys_expire_after_24_hours(backend: Backend) -> Result<()> {
    let clock = tollgate_core::ManualClock::new(chrono::Utc::now());
    let spec = crate::harness::ServerSpec::new(backend, false).await?;
    let srv = spec
        .start_with_clock(std::sync::Arc::new(clock.clone()))
        .await?;
    let t = srv.tenant("ocr:read").await?;
    let (hello, other) = (fixture("hello.png")?, fixture("chinese.png")?);
    let first = ocr(&srv, &t.key, &hello, Some("day-key")).await?;
    assert_eq!(
        (first.status, &first.body["usage"]["units"]),
        (200, &serde_json::json!(1))
    );
    clock.advance(chrono::Duration::hours(23) + chrono::Duration::minutes(59));
    let replay = ocr(&srv, &t.key, &hello, Some("day-key")).await?;
    assert_eq!(header(&replay, "idempotent-replayed"), Some("true"));
    assert_eq!(replay.body["usage"]["units"], 0);
    let refused = ocr(&srv, &t.key, &other, Some("day-key")).await?;
    assert_eq!(
        (refused.status, refused.body["code"].as_str()),
        (422, Some("idempotency_key_reused"))
    );
    clock.advance(chrono::Duration::minutes(2));
    let fresh = ocr(&srv, &t.key, &other, Some("day-key")).await?;
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    assert_eq!(fresh.body["usage"]["units"], 1, "a new request, charged");
    assert_eq!(header(&fresh, "idempotent-replayed"), None);
    assert_eq!(recorded(&srv, &t.id).await?, (2, 2));
    srv.stop().await
}

/// A request that fails is not stored, and its key is free before the answer goes out: the
/// immediate retry runs again (not 409), and once the image is fixed it succeeds, charged
/// once.
async fn a_failed_request_frees_its_key_at_once(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let t = srv.tenant("ocr:read").await?;
    let hello = fixture("hello.png")?;
    let broken = &hello[..hello.len() / 2];
    for _ in 0..3 {
        let a = ocr(&srv, &t.key, broken, Some("fix-and-retry")).await?;
        assert_eq!(
            (a.status, a.body["code"].as_str()),
            (422, Some("corrupt_image")),
            "{}",
            a.body
        );
    }
    let fixed = ocr(&srv, &t.key, &hello, Some("fix-and-retry")).await?;
    assert_eq!(
        (fixed.status, &fixed.body["usage"]["units"]),
        (200, &serde_json::json!(1))
    );
    assert_eq!(recorded(&srv, &t.id).await?, (1, 1));
    srv.stop().await
}

/// A key the server cannot read as one visible-ASCII value (bytes that are not text, several
/// headers, spaces inside, too long) is refused, never read as "no key": a client that meant
/// its retries to count once must not be charged for each.
async fn unreadable_or_repeated_keys_are_refused(backend: Backend) -> Result<()> {
    use reqwest::header::HeaderValue;
    let srv = TestServer::start(backend).await?;
    let t = srv.tenant("ocr:read").await?;
    let hello = fixture("hello.png")?;
    let long = "k".repeat(256);
    let cases: Vec<Vec<HeaderValue>> = vec![
        vec![HeaderValue::from_bytes(b"\xff\xfe")?],
        vec![HeaderValue::from_static("a"), HeaderValue::from_static("b")],
        vec![HeaderValue::from_static("two words")],
        vec![HeaderValue::from_str(&long)?],
        vec![HeaderValue::from_static("")],
    ];
    for values in cases {
        let mut req = reqwest::Client::new()
            .post(srv.url("/v1/ocr"))
            .header("x-api-key", &t.key)
            .header("content-type", "image/png")
            .body(hello.clone());
        for v in &values {
            req = req.header("idempotency-key", v.clone());
        }
        let a = send(req).await?;
        assert_eq!(
            (a.status, a.body["code"].as_str()),
            (422, Some("invalid_idempotency_key")),
            "{values:?}: {}",
            a.body
        );
    }
    assert_eq!(recorded(&srv, &t.id).await?, (0, 0), "nothing ran");
    srv.stop().await
}
