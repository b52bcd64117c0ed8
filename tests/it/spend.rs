//! Spend caps, prepaid credit and billing alerts, end to end through real OCR calls: the
//! tenant's cap refuses the call that would pass it (402 `spend_cap_reached` with the
//! amounts) before OCR runs — exactly, with many calls in parallel at the edge; only a tenant
//! admin sets it; credit granted by the operator is applied to the draft and its ledger sums
//! to the balance; thresholds are recorded once per period.

use crate::billing::{billed_tenant, set_price, upcoming};
use crate::both_backends;
use crate::harness::{fixture, Backend, ServerSpec, TestServer};
use crate::metering::{ocr, send};
use anyhow::{Context, Result};
use serde_json::{json, Value};
use tollgate_core::TenantId;

both_backends!(
    the_spend_cap_is_exact_under_concurrency,
    only_a_tenant_admin_sets_the_cap,
    credit_is_applied_and_its_ledger_sums,
    thresholds_are_recorded_once_per_period,
);

/// 10 minor units of USD per unit, no base fee, nothing included.
fn ten_each() -> Value {
    json!({ "currency": "USD", "base_fee": 0, "included_units": 0,
            "model": "per_unit", "unit": { "amount": 10 } })
}

pub(crate) async fn operator_post(
    srv: &TestServer,
    op: &str,
    path: &str,
    body: Value,
) -> Result<(u16, Value)> {
    let a = send(
        reqwest::Client::new()
            .post(srv.url(path))
            .header("x-api-key", op)
            .json(&body),
    )
    .await?;
    Ok((a.status, a.body))
}

pub(crate) async fn get_with_key(srv: &TestServer, key: &str, path: &str) -> Result<(u16, Value)> {
    let a = send(
        reqwest::Client::new()
            .get(srv.url(path))
            .header("x-api-key", key),
    )
    .await?;
    Ok((a.status, a.body))
}

async fn the_spend_cap_is_exact_under_concurrency(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let op = srv.operator_key().await?;
    let (t, plan_name) = billed_tenant(&srv, 0).await?;
    assert_eq!(set_price(&srv, &op, &plan_name, ten_each()).await?.0, 200);
    let portal = srv.login(&t.owner_email, &t.owner_password).await?;
    // 55 allows 5 units (50); the sixth would make 60.
    let (status, body) = portal
        .send(
            reqwest::Method::PUT,
            "/v1/billing/settings",
            Some(json!({ "spend_cap": { "amount": 55, "currency": "usd" } })),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["spend_cap"],
        json!({ "amount": 55, "currency": "USD" })
    );

    let hello = fixture("hello.png")?;
    let calls = (0..12).map(|_| ocr(&srv, &t.key, &hello, None));
    let answers = futures::future::join_all(calls).await;
    let mut ok = 0;
    for a in answers {
        let a = a?;
        match a.status {
            200 => ok += 1,
            402 => {
                assert_eq!(a.body["code"], "spend_cap_reached", "{}", a.body);
                assert_eq!(
                    a.body["spend"],
                    json!({ "currency": "USD", "cap": 55, "spent": 50, "would_be": 60 }),
                    "{}",
                    a.body
                );
                assert_eq!(
                    a.headers.get("content-type").and_then(|v| v.to_str().ok()),
                    Some("application/problem+json")
                );
            }
            other => panic!("unexpected {other}: {}", a.body),
        }
    }
    assert_eq!(ok, 5, "exactly the units the cap allows ran");
    let tenant: TenantId = t.id.parse()?;
    let units: i64 = srv
        .store()
        .usage_events(tenant)
        .await?
        .iter()
        .map(|e| e.units)
        .sum();
    assert_eq!(units, 5, "every unit served is recorded, no refused one");
    let (_, draft) = upcoming(&srv, &t.key).await?;
    assert_eq!(draft["total"], 50, "{draft}");

    // Raising the cap lets the next call through at once; clearing it removes the brake.
    let (status, _) = portal
        .send(
            reqwest::Method::PUT,
            "/v1/billing/settings",
            Some(json!({ "spend_cap": { "amount": 60, "currency": "USD" } })),
        )
        .await?;
    assert_eq!(status, 200);
    assert_eq!(ocr(&srv, &t.key, &hello, None).await?.status, 200);
    let refused = ocr(&srv, &t.key, &hello, None).await?;
    assert_eq!(
        (refused.status, refused.body["spend"]["spent"].as_i64()),
        (402, Some(60))
    );
    let (status, body) = portal
        .send(
            reqwest::Method::PUT,
            "/v1/billing/settings",
            Some(json!({ "spend_cap": null })),
        )
        .await?;
    assert_eq!((status, &body["spend_cap"]), (200, &Value::Null), "{body}");
    assert_eq!(ocr(&srv, &t.key, &hello, None).await?.status, 200);

    // A cap of 0 stops every metered call; the base fee alone counts as spend.
    let (status, _) = portal
        .send(
            reqwest::Method::PUT,
            "/v1/billing/settings",
            Some(json!({ "spend_cap": { "amount": 0, "currency": "USD" } })),
        )
        .await?;
    assert_eq!(status, 200);
    let refused = ocr(&srv, &t.key, &hello, None).await?;
    assert_eq!(
        (refused.status, refused.body["spend"]["would_be"].as_i64()),
        (402, Some(80))
    );
    srv.stop().await
}

async fn only_a_tenant_admin_sets_the_cap(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let op = srv.operator_key().await?;
    let (t, plan_name) = billed_tenant(&srv, 0).await?;
    let owner = srv.login(&t.owner_email, &t.owner_password).await?;
    let cap = |amount: Value, currency: &str| json!({ "spend_cap": { "amount": amount, "currency": currency } });
    // Without a price there is nothing to cap.
    let (status, body) = owner
        .send(
            reqwest::Method::PUT,
            "/v1/billing/settings",
            Some(cap(json!(100), "USD")),
        )
        .await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("no_price")),
        "{body}"
    );
    assert_eq!(set_price(&srv, &op, &plan_name, ten_each()).await?.0, 200);

    // Bad amounts and currencies, one by one.
    for (body, code, why) in [
        (cap(json!(-1), "USD"), "invalid_money", "negative"),
        (
            cap(json!(100), "EUR"),
            "invalid_money",
            "not the price's currency",
        ),
        (cap(json!(100), "US"), "invalid_money", "not a currency"),
        (cap(json!(100), "usd "), "invalid_money", "trailing space"),
        (
            cap(json!(100), "ＵＳＤ"),
            "invalid_money",
            "full-width letters",
        ),
        (
            json!({ "credit_alert_below": -5 }),
            "invalid_money",
            "negative alert",
        ),
        (
            cap(json!(1.5), "USD"),
            "bad_request",
            "a fraction of a minor unit",
        ),
        (cap(json!("100"), "USD"), "bad_request", "a string amount"),
        (
            json!({ "spend_cap": { "amount": 1, "currency": "USD" }, "extra": 1 }),
            "bad_request",
            "unknown field",
        ),
    ] {
        let (status, answer) = owner
            .send(reqwest::Method::PUT, "/v1/billing/settings", Some(body))
            .await?;
        let expected = if code == "bad_request" { 400 } else { 422 };
        assert_eq!(
            (status, answer["code"].as_str()),
            (expected, Some(code)),
            "{why}: {answer}"
        );
    }

    // A viewer reads the settings but cannot change them; neither can a request without
    // the session's CSRF token, nor a credential.
    let (email, password) = owner.add_member("viewer").await?;
    let viewer = srv.login_first_time(&email, &password).await?;
    let (status, body) = viewer
        .send(
            reqwest::Method::PUT,
            "/v1/billing/settings",
            Some(cap(json!(1), "USD")),
        )
        .await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("forbidden")),
        "{body}"
    );
    let (status, body) = viewer.get("/v1/billing/settings").await?;
    assert_eq!((status, &body["spend_cap"]), (200, &Value::Null), "{body}");
    // Only owners decide what the tenant may spend: an admin manages keys, not the cap.
    let (email, password) = owner.add_member("admin").await?;
    let admin = srv.login_first_time(&email, &password).await?;
    let (status, body) = admin
        .send(
            reqwest::Method::PUT,
            "/v1/billing/settings",
            Some(cap(json!(1), "USD")),
        )
        .await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("forbidden")),
        "{body}"
    );
    let no_csrf = send(
        owner
            .http
            .put(srv.url("/v1/billing/settings"))
            .json(&cap(json!(1), "USD")),
    )
    .await?;
    assert_eq!(
        (no_csrf.status, no_csrf.body["code"].as_str()),
        (403, Some("csrf_failed"))
    );
    let with_key = send(
        reqwest::Client::new()
            .put(srv.url("/v1/billing/settings"))
            .header("x-api-key", &t.key)
            .json(&cap(json!(1), "USD")),
    )
    .await?;
    assert_eq!(with_key.status, 401, "a credential is no portal session");
    let (status, body) = owner.get("/v1/billing/settings").await?;
    assert_eq!(
        (status, &body["spend_cap"]),
        (200, &Value::Null),
        "nothing changed: {body}"
    );

    // Another tenant's settings are its own.
    let (other, other_plan) = billed_tenant(&srv, 0).await?;
    assert_eq!(set_price(&srv, &op, &other_plan, ten_each()).await?.0, 200);
    let (status, _) = owner
        .send(
            reqwest::Method::PUT,
            "/v1/billing/settings",
            Some(cap(json!(7), "USD")),
        )
        .await?;
    assert_eq!(status, 200);
    let (status, body) = get_with_key(&srv, &other.key, "/v1/billing/settings").await?;
    assert_eq!((status, &body["spend_cap"]), (200, &Value::Null), "{body}");
    let changed: Vec<_> = srv
        .store()
        .audit_events(Some(t.id.parse()?))
        .await?
        .into_iter()
        .filter(|e| e.action == "billing.settings_changed")
        .collect();
    assert_eq!(changed.len(), 1, "the one change is audited");
    srv.stop().await
}

async fn credit_is_applied_and_its_ledger_sums(backend: Backend) -> Result<()> {
    let spec = ServerSpec::new(backend, true).await?;
    let srv = spec.start().await?;
    let op = srv.operator_key().await?;
    let (t, plan_name) = billed_tenant(&srv, 3).await?;
    assert_eq!(set_price(&srv, &op, &plan_name, ten_each()).await?.0, 200);
    let path = format!("/v1/operator/tenants/{}/credits", t.id);
    let (status, grant) = operator_post(
        &srv,
        &op,
        &path,
        json!({ "amount": 25, "currency": "usd", "memo": "PO 1234" }),
    )
    .await?;
    assert_eq!(status, 201, "{grant}");
    assert_eq!(
        (&grant["kind"], &grant["amount"]),
        (&json!("grant"), &json!(25))
    );
    let later = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let (status, _) = operator_post(
        &srv,
        &op,
        &path,
        json!({ "amount": 1_000, "currency": "EUR", "expires_at": later }),
    )
    .await?;
    assert_eq!(status, 201);

    // 3 units at 10 = 30; 25 of USD credit applies; the EUR credit does not.
    let (_, draft) = upcoming(&srv, &t.key).await?;
    assert_eq!(
        (
            &draft["subtotal"],
            &draft["credit_applied"],
            &draft["total"]
        ),
        (&json!(30), &json!(25), &json!(5)),
        "{draft}"
    );
    let lines = draft["lines"].as_array().context("lines")?;
    assert_eq!(lines.last().context("a line")?["kind"], "credit");
    let sum: i64 = lines.iter().filter_map(|l| l["amount"].as_i64()).sum();
    assert_eq!(sum, 5, "the lines sum to the total");

    let (status, credits) = get_with_key(&srv, &t.key, "/v1/billing/credits").await?;
    assert_eq!(status, 200, "{credits}");
    assert_eq!(
        credits["balances"],
        json!([{ "amount": 1_000, "currency": "EUR" }, { "amount": 25, "currency": "USD" }])
    );
    for currency in ["USD", "EUR"] {
        let ledger: i64 = credits["ledger"]
            .as_array()
            .context("ledger")?
            .iter()
            .filter(|e| e["currency"] == currency)
            .filter_map(|e| e["amount"].as_i64())
            .sum();
        let balance = credits["balances"]
            .as_array()
            .context("balances")?
            .iter()
            .find(|b| b["currency"] == currency)
            .and_then(|b| b["amount"].as_i64());
        assert_eq!(
            Some(ledger),
            balance,
            "{currency}: the ledger sums to the balance"
        );
    }

    // Grants are checked; a tenant cannot grant itself credit; another tenant sees none.
    for (body, code) in [
        (json!({ "amount": 0, "currency": "USD" }), "invalid_money"),
        (json!({ "amount": -5, "currency": "USD" }), "invalid_money"),
        (
            json!({ "amount": 1_000_000_000_001_i64, "currency": "USD" }),
            "invalid_money",
        ),
        (json!({ "amount": 5, "currency": "US" }), "invalid_money"),
        (
            json!({ "amount": 5, "currency": "USD", "expires_at": "2001-01-01T00:00:00Z" }),
            "invalid_expiry",
        ),
        (
            json!({ "amount": 5, "currency": "USD", "memo": "a\u{0}b" }),
            "invalid_name",
        ),
    ] {
        let (status, answer) = operator_post(&srv, &op, &path, body.clone()).await?;
        assert_eq!(
            (status, answer["code"].as_str()),
            (422, Some(code)),
            "{body}: {answer}"
        );
    }
    let (status, body) = operator_post(
        &srv,
        &t.key,
        &path,
        json!({ "amount": 5, "currency": "USD" }),
    )
    .await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("insufficient_scope"))
    );
    let unknown = format!("/v1/operator/tenants/{}/credits", uuid::Uuid::new_v4());
    let (status, _) = operator_post(
        &srv,
        &op,
        &unknown,
        json!({ "amount": 5, "currency": "USD" }),
    )
    .await?;
    assert_eq!(status, 404);
    let other = srv.tenant("billing:read").await?;
    let (status, body) = get_with_key(&srv, &other.key, "/v1/billing/credits").await?;
    assert_eq!((status, &body["balances"]), (200, &json!([])), "{body}");

    // The CLI grants and lists the same ledger.
    let spec_run = |args: &[&str]| crate::cli::run_status(&spec, args);
    let (ok, out, err) = spec_run(&[
        "billing",
        "credit",
        "grant",
        "--tenant",
        &t.id,
        "--amount",
        "7",
        "--currency",
        "USD",
    ])?;
    assert!(ok, "{err}");
    assert_eq!(out["amount"], 7);
    let (ok, listed, err) = spec_run(&["billing", "credit", "list", "--tenant", &t.id])?;
    assert!(ok, "{err}");
    assert_eq!(
        listed["balances"],
        json!([{ "amount": 1_000, "currency": "EUR" }, { "amount": 32, "currency": "USD" }])
    );
    let granted: Vec<_> = srv
        .store()
        .audit_events(Some(t.id.parse()?))
        .await?
        .into_iter()
        .filter(|e| e.action == "credit.granted")
        .collect();
    assert_eq!(
        granted.len(),
        3,
        "every grant is audited on the tenant's chain"
    );
    srv.stop().await
}

async fn thresholds_are_recorded_once_per_period(backend: Backend) -> Result<()> {
    let spec = ServerSpec::new(backend, true).await?;
    let srv = spec.start().await?;
    let op = srv.operator_key().await?;
    let (t, plan_name) = billed_tenant(&srv, 0).await?;
    assert_eq!(set_price(&srv, &op, &plan_name, ten_each()).await?.0, 200);
    crate::metering::plan(&srv, &t, |p| {
        p.monthly_units = 10;
        p.overage = true;
    })
    .await?;
    // `plan` put the tenant on a new plan: price it too.
    let plan_name = srv
        .store()
        .tenant_plan(t.id.parse()?)
        .await?
        .context("a plan")?
        .name;
    assert_eq!(set_price(&srv, &op, &plan_name, ten_each()).await?.0, 200);
    let path = format!("/v1/operator/tenants/{}/credits", t.id);
    assert_eq!(
        operator_post(
            &srv,
            &op,
            &path,
            json!({ "amount": 100, "currency": "USD" })
        )
        .await?
        .0,
        201
    );
    let owner = srv.login(&t.owner_email, &t.owner_password).await?;
    let (status, _) = owner
        .send(
            reqwest::Method::PUT,
            "/v1/billing/settings",
            Some(json!({ "spend_cap": { "amount": 200, "currency": "USD" }, "credit_alert_below": 45 })),
        )
        .await?;
    assert_eq!(status, 200);
    let hello = fixture("hello.png")?;
    // 12 units: usage crosses 50/80/100 % of 10; spend (120 of 200) crosses 50 %; credit
    // left (100 − spend) falls below 45 at the sixth unit.
    for _ in 0..12 {
        assert_eq!(ocr(&srv, &t.key, &hello, None).await?.status, 200);
    }
    let narrow = srv.tenant("ocr:read").await?;
    let (status, body) = get_with_key(&srv, &narrow.key, "/v1/billing/alerts").await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("insufficient_scope")),
        "alerts need billing:read: {body}"
    );
    let (status, by_key) = get_with_key(&srv, &t.key, "/v1/billing/alerts").await?;
    assert_eq!(status, 200, "{by_key}");
    let (status, body) = owner.get("/v1/billing/alerts").await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body, by_key,
        "the portal and a billing:read key see the same"
    );
    let mut seen: Vec<(String, i64)> = body["alerts"]
        .as_array()
        .context("alerts")?
        .iter()
        .map(|a| {
            (
                a["kind"].as_str().unwrap_or("").to_owned(),
                a["level"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    seen.sort();
    let want: Vec<(String, i64)> = [
        ("credit", 0),
        ("spend", 50),
        ("usage", 50),
        ("usage", 80),
        ("usage", 100),
    ]
    .iter()
    .map(|(k, l)| ((*k).to_owned(), *l))
    .collect();
    assert_eq!(seen, want, "{body}");
    let credit = body["alerts"]
        .as_array()
        .context("alerts")?
        .iter()
        .find(|a| a["kind"] == "credit")
        .context("credit alert")?;
    assert_eq!(credit["detail"]["credit_left"], 40, "{credit}");

    // A second server on the same database (a restart, another instance) records none again.
    srv.stop().await?;
    let srv = spec.start().await?;
    for _ in 0..3 {
        assert_eq!(ocr(&srv, &t.key, &hello, None).await?.status, 200);
    }
    let owner = srv.login(&t.owner_email, &t.owner_password).await?;
    let (_, body) = owner.get("/v1/billing/alerts?period=2001-01").await?;
    assert_eq!(body["alerts"], json!([]));
    let (status, body) = owner.get("/v1/billing/alerts?period=2001-13").await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_range"))
    );
    let (_, body) = owner.get("/v1/billing/alerts").await?;
    assert_eq!(body["alerts"].as_array().map(Vec::len), Some(5), "{body}");
    let audited: Vec<String> = srv
        .store()
        .audit_events(Some(t.id.parse()?))
        .await?
        .into_iter()
        .filter(|e| {
            ["quota.threshold", "spend.threshold", "credit.low"].contains(&e.action.as_str())
        })
        .map(|e| e.action)
        .collect();
    assert_eq!(audited.len(), 5, "each alert audited once: {audited:?}");
    srv.stop().await
}
