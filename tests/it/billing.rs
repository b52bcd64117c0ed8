//! Prices and the draft invoice, end to end: the operator prices a plan through the operator
//! API (or the CLI), a tenant's real OCR calls are recorded, and its upcoming invoice is
//! exactly those units rated with that price — for each price model; a price change applies
//! from the next period (the clock is moved); prices are checked; no tenant reads another's.

use crate::both_backends;
use crate::harness::{fixture, Backend, ServerSpec, Tenant, TestServer};
use crate::metering::{ocr, plan, send};
use anyhow::{Context, Result};
use serde_json::{json, Value};

both_backends!(
    the_upcoming_invoice_is_the_recorded_usage_rated,
    a_price_change_applies_from_the_next_period,
);

pub(crate) async fn set_price(
    srv: &TestServer,
    op: &str,
    plan: &str,
    price: Value,
) -> Result<(u16, Value)> {
    let a = send(
        reqwest::Client::new()
            .put(srv.url(&format!("/v1/operator/plans/{plan}/price")))
            .header("x-api-key", op)
            .json(&price),
    )
    .await?;
    Ok((a.status, a.body))
}

pub(crate) async fn upcoming(srv: &TestServer, key: &str) -> Result<(u16, Value)> {
    let a = send(
        reqwest::Client::new()
            .get(srv.url("/v1/invoices/upcoming"))
            .header("x-api-key", key),
    )
    .await?;
    Ok((a.status, a.body))
}

/// A tenant with `billing:read` on a plan of its own, with `calls` OCR calls recorded.
pub(crate) async fn billed_tenant(srv: &TestServer, calls: usize) -> Result<(Tenant, String)> {
    let t = srv.tenant("ocr:read billing:read").await?;
    plan(srv, &t, |_| {}).await?;
    let plan_name = srv
        .store()
        .tenant_plan(t.id.parse()?)
        .await?
        .context("a plan")?
        .name;
    let hello = fixture("hello.png")?;
    for _ in 0..calls {
        assert_eq!(ocr(srv, &t.key, &hello, None).await?.status, 200);
    }
    Ok((t, plan_name))
}

async fn the_upcoming_invoice_is_the_recorded_usage_rated(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let op = srv.operator_key().await?;
    // 5 calls: 1 included, then 4 of overage.
    let tier =
        |up_to: Option<u64>, amount: i64| json!({ "up_to": up_to, "unit": { "amount": amount } });
    let cases = [
        (
            json!({ "model": "per_unit", "unit": { "amount": 7 } }),
            4 * 7,
        ),
        (
            json!({ "model": "graduated", "tiers": [tier(Some(1), 100), tier(None, 50)] }),
            100 + 3 * 50,
        ),
        (
            json!({ "model": "volume", "tiers": [tier(Some(1), 100), tier(None, 50)] }),
            4 * 50,
        ),
        (
            json!({ "model": "package", "package_size": 3, "package_price": 90 }),
            2 * 90,
        ),
        (
            json!({ "model": "per_unit", "unit": { "amount": 1, "per": 8 } }),
            0, // 4/8 of a cent rounds half to even: 0
        ),
    ];
    for (overage, expected) in cases {
        let (t, plan_name) = billed_tenant(&srv, 5).await?;
        let mut price = json!({ "currency": "eur", "base_fee": 1_000, "included_units": 1 });
        for (k, v) in overage.as_object().context("object")? {
            price[k] = v.clone();
        }
        let (status, set) = set_price(&srv, &op, &plan_name, price.clone()).await?;
        assert_eq!(status, 200, "{set}");
        let period = tollgate_core::plan::Period::of(chrono::Utc::now()).key();
        assert_eq!(
            set["effective_period"],
            period.as_str(),
            "a first price applies now"
        );
        let (status, invoice) = upcoming(&srv, &t.key).await?;
        assert_eq!(status, 200, "{invoice}");
        assert_eq!(
            (&invoice["status"], &invoice["currency"], &invoice["units"]),
            (&json!("draft"), &json!("EUR"), &json!(5))
        );
        assert_eq!(invoice["total"], 1_000 + expected, "{overage}: {invoice}");
        let lines = invoice["lines"].as_array().context("lines")?;
        let sum: i64 = lines.iter().filter_map(|l| l["amount"].as_i64()).sum();
        assert_eq!(sum, invoice["total"].as_i64().context("total")?);
        assert_eq!(invoice["price"]["model"], overage["model"]);
    }

    // The portal reads the same invoice; a key without billing:read does not.
    let (t, plan_name) = billed_tenant(&srv, 2).await?;
    let flat = json!({ "currency": "USD", "base_fee": 500, "included_units": 0,
                       "model": "per_unit", "unit": { "amount": 3 } });
    assert_eq!(set_price(&srv, &op, &plan_name, flat).await?.0, 200);
    let portal = srv.login(&t.owner_email, &t.owner_password).await?;
    let (status, body) = portal.get("/v1/invoices/upcoming").await?;
    assert_eq!((status, &body["total"]), (200, &json!(506)), "{body}");
    let narrow = srv.tenant("ocr:read").await?;
    let (status, body) = upcoming(&srv, &narrow.key).await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("insufficient_scope"))
    );
    // A plan without a price bills nothing; so does the built-in default.
    let unpriced = srv.tenant("billing:read").await?;
    let (status, body) = upcoming(&srv, &unpriced.key).await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("no_price")),
        "{body}"
    );

    // Prices are checked, item by item.
    for (bad, why) in [
        (json!({ "model": "graduated" }), "no tiers"),
        (json!({ "model": "per_unit" }), "no unit"),
        (
            json!({ "model": "per_unit", "unit": { "amount": -1 } }),
            "negative",
        ),
        (
            json!({ "model": "per_unit", "unit": { "amount": 1, "per": 0 } }),
            "per 0",
        ),
        (
            json!({ "model": "per_unit", "unit": { "amount": 1 }, "package_size": 3 }),
            "two models",
        ),
        (
            json!({ "model": "graduated", "tiers": [tier(Some(10), 1), tier(Some(5), 1), tier(None, 1)] }),
            "falling",
        ),
        (
            json!({ "model": "package", "package_size": 0, "package_price": 1 }),
            "empty package",
        ),
        (
            json!({ "model": "per_unit", "unit": { "amount": 1 }, "currency": "dollars" }),
            "currency",
        ),
    ] {
        let mut price = json!({ "currency": "USD", "base_fee": 1, "included_units": 0 });
        for (k, v) in bad.as_object().context("object")? {
            price[k] = v.clone();
        }
        let (status, body) = set_price(&srv, &op, &plan_name, price).await?;
        let code = if why == "currency" {
            "invalid_money"
        } else {
            "invalid_plan"
        };
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some(code)),
            "{why}: {body}"
        );
    }
    let flat = json!({ "currency": "USD", "base_fee": 1, "included_units": 0,
                       "model": "per_unit", "unit": { "amount": 1 } });
    let (status, body) = set_price(&srv, &t.key, &plan_name, flat).await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("insufficient_scope")),
        "a tenant cannot price plans"
    );
    srv.stop().await
}

async fn a_price_change_applies_from_the_next_period(backend: Backend) -> Result<()> {
    // Mid-month, so moving a month ahead lands in the next period.
    let start = crate::harness::mid_month()?;
    let clock = tollgate_core::ManualClock::new(start);
    let spec = ServerSpec::new(backend, false).await?;
    let srv = spec
        .start_with_clock(std::sync::Arc::new(clock.clone()))
        .await?;
    let op = srv.operator_key().await?;
    let (t, plan_name) = billed_tenant(&srv, 3).await?;
    let price = |base: i64| {
        json!({ "currency": "USD", "base_fee": base, "included_units": 0,
                "model": "per_unit", "unit": { "amount": 10 } })
    };
    let this = tollgate_core::plan::Period::of(start);
    let (_, first) = set_price(&srv, &op, &plan_name, price(1_000)).await?;
    assert_eq!(first["effective_period"], this.key().as_str());
    let (_, second) = set_price(&srv, &op, &plan_name, price(2_000)).await?;
    assert_eq!(
        second["effective_period"],
        this.next().key().as_str(),
        "{second}"
    );
    let (_, invoice) = upcoming(&srv, &t.key).await?;
    assert_eq!(
        invoice["total"],
        1_000 + 30,
        "this period keeps its price: {invoice}"
    );
    clock.advance(chrono::Duration::days(31));
    let (_, invoice) = upcoming(&srv, &t.key).await?;
    assert_eq!(invoice["period"], this.next().key().as_str());
    assert_eq!(
        (&invoice["units"], &invoice["total"]),
        (&json!(0), &json!(2_000)),
        "{invoice}"
    );
    srv.stop().await
}

/// The CLI prices a plan and shows the draft invoice, and agrees with the API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_prices_plans_and_shows_the_draft() -> Result<()> {
    let spec = ServerSpec::new(Backend::Sqlite, false).await?;
    let srv = spec.start().await?;
    let (t, plan_name) = billed_tenant(&srv, 4).await?;
    let run = |args: &[&str]| crate::cli::run_status(&spec, args);
    let (ok, set, err) = run(&[
        "plan",
        "set-price",
        "--plan",
        &plan_name,
        "--currency",
        "usd",
        "--base-fee",
        "100",
        "--included",
        "1",
        "--graduated",
        "2:10,*:1/2",
    ])?;
    assert!(ok, "{err}");
    assert_eq!(set["price"]["overage"]["model"], "graduated");
    let (ok, invoice, err) = run(&["billing", "invoice", "--tenant", &t.id])?;
    assert!(ok, "{err}");
    // 4 units: 1 included, 2 at 10, 1 at ½ (rounds half to even: 0).
    assert_eq!(
        (&invoice["units"], &invoice["total"]),
        (&json!(4), &json!(120)),
        "{invoice}"
    );
    let (_, api) = upcoming(&srv, &t.key).await?;
    assert_eq!(api["total"], invoice["total"]);
    let (ok, _, err) = run(&[
        "plan",
        "set-price",
        "--plan",
        &plan_name,
        "--currency",
        "usd",
        "--base-fee",
        "1",
        "--per-unit",
        "1",
        "--package",
        "3:1",
    ])?;
    assert!(!ok, "two models at once are refused");
    assert!(
        err.contains("cannot be used with") || err.contains("exactly one"),
        "{err}"
    );
    srv.stop().await
}
