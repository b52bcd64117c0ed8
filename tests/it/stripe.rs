//! Stripe sync against localstripe (PyPI, with tests/python/localstripe_shim.py adding the
//! one-off invoice calls it lacks), end to end: real OCR calls are rated, finalized and pushed
//! by the relay through the outbox; localstripe's totals equal ours to the minor unit for each
//! price model, read back with Stripe's official Python library as a second client. A push
//! interrupted at every point, and one whose Stripe work succeeded but whose bookkeeping was
//! lost, still make exactly one Stripe invoice (localstripe ignores `Idempotency-Key`, so this
//! is the relay's own lookups at work). Webhooks are verified and processed once;
//! `billing reconcile` reports each kind of difference.

use crate::billing::{billed_tenant, set_price};
use crate::both_backends;
use crate::harness::{wait_for, Backend, LocalStripe, ServerSpec, TestServer, WEBHOOK_SECRET};
use crate::invoices::finalize;
use crate::metering::send;
use crate::spend::{get_with_key, operator_post};
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use tollgate_core::plan::Period;
use tollgate_core::{Clock, ManualClock, TenantId};

both_backends!(
    invoices_reach_stripe_with_our_totals,
    webhooks_are_verified_and_processed_once,
);

/// Mid-March of `year`. Each test bills a period of its own (localstripe is shared, and
/// reconciling compares a whole period).
fn mid_month(year: i32) -> Result<DateTime<Utc>> {
    Ok(chrono::NaiveDate::from_ymd_opt(year, 3, 15)
        .context("day")?
        .and_hms_opt(12, 0, 0)
        .context("time")?
        .and_utc())
}

fn year_of(base: i32, backend: Backend) -> i32 {
    base + i32::from(backend == Backend::Postgres)
}

/// A customer's invoices, read with Stripe's Python library.
fn read_back(ls: &LocalStripe, customer: &str) -> Result<Vec<Value>> {
    let script =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/stripe_readback.py");
    let out = std::process::Command::new(crate::python::python()?)
        .arg(script)
        .args([ls.url.as_str(), customer])
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "stripe_readback: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// Customers of localstripe carrying `tenant` in their metadata.
async fn customers_of(ls: &LocalStripe, tenant: &str) -> Result<Vec<String>> {
    let page: Value = reqwest::Client::new()
        .get(format!("{}/v1/customers?limit=100", ls.url))
        .basic_auth("sk_test_tollgate", Some(""))
        .send()
        .await?
        .json()
        .await?;
    Ok(page["data"]
        .as_array()
        .context("data")?
        .iter()
        .filter(|c| c["metadata"]["tollgate_tenant_id"] == tenant)
        .filter_map(|c| c["id"].as_str().map(str::to_owned))
        .collect())
}

async fn invoices_reach_stripe_with_our_totals(backend: Backend) -> Result<()> {
    let ls = LocalStripe::shared().await?;
    let start = mid_month(year_of(2031, backend))?;
    let clock = ManualClock::new(start);
    let mut spec = ServerSpec::new(backend, false).await?;
    spec.stripe = Some(ls.settings(Some(std::time::Duration::from_millis(200))));
    let srv = spec.start_with_clock(Arc::new(clock.clone())).await?;
    let op = srv.operator_key().await?;
    let tier =
        |up_to: Option<u64>, amount: i64| json!({ "up_to": up_to, "unit": { "amount": amount } });
    // 5 pages each: 1 included, 4 of overage.
    let models = [
        json!({ "model": "per_unit", "unit": { "amount": 7 } }),
        json!({ "model": "graduated", "tiers": [tier(Some(1), 100), tier(None, 50)] }),
        json!({ "model": "volume", "tiers": [tier(Some(1), 100), tier(None, 50)] }),
        json!({ "model": "package", "package_size": 3, "package_price": 90 }),
    ];
    let mut tenants = Vec::new();
    for (i, overage) in models.iter().enumerate() {
        let (t, plan_name) = billed_tenant(&srv, 5).await?;
        let mut price = json!({ "currency": "EUR", "base_fee": 1_000, "included_units": 1 });
        for (k, v) in overage.as_object().context("object")? {
            price[k] = v.clone();
        }
        assert_eq!(set_price(&srv, &op, &plan_name, price).await?.0, 200);
        if i == 0 {
            // Credit makes a negative line: Stripe's total is still ours.
            let path = format!("/v1/operator/tenants/{}/credits", t.id);
            let (status, body) = operator_post(
                &srv,
                &op,
                &path,
                json!({ "amount": 333, "currency": "EUR" }),
            )
            .await?;
            assert_eq!(status, 201, "{body}");
        }
        tenants.push(t);
    }
    let period = Period::of(start);
    clock.advance(period.end() - start + chrono::Duration::hours(2));
    let (status, report) = finalize(&srv, &op, &period.key()).await?;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report["finalized"].as_array().map(Vec::len),
        Some(4),
        "{report}"
    );

    // The relay pushes each; the invoice then carries Stripe's id.
    for t in &tenants {
        let inv = wait_for(|| async {
            let (_, list) = get_with_key(&srv, &t.key, "/v1/invoices").await?;
            let inv = list["invoices"][0].clone();
            Ok(inv["stripe_invoice_id"].is_string().then_some(inv))
        })
        .await?;
        let customers = customers_of(ls, &t.id).await?;
        assert_eq!(customers.len(), 1, "one customer per tenant");
        let theirs = read_back(ls, &customers[0])?;
        assert_eq!(theirs.len(), 1, "{theirs:?}");
        let s = &theirs[0];
        assert_eq!(s["id"], inv["stripe_invoice_id"]);
        assert_eq!(
            (&s["status"], &s["currency"]),
            (&json!("open"), &json!("eur"))
        );
        assert_eq!(s["total"], inv["total"], "{s} vs {inv}");
        assert_eq!(s["tollgate_invoice_id"], inv["id"]);
        let (_, full) = get_with_key(
            &srv,
            &t.key,
            &format!("/v1/invoices/{}", inv["id"].as_str().context("id")?),
        )
        .await?;
        let nonzero: Vec<i64> = full["lines"]
            .as_array()
            .context("lines")?
            .iter()
            .filter_map(|l| l["amount"].as_i64())
            .filter(|a| *a != 0)
            .collect();
        let pushed: Vec<i64> = s["lines"]
            .as_array()
            .context("lines")?
            .iter()
            .filter_map(|l| l["amount"].as_i64())
            .collect();
        assert_eq!(pushed, nonzero, "one item per non-zero line, in order");
    }
    let totals: Vec<i64> = {
        let mut v = Vec::new();
        for t in &tenants {
            let (_, list) = get_with_key(&srv, &t.key, "/v1/invoices").await?;
            v.push(list["invoices"][0]["total"].as_i64().context("total")?);
        }
        v
    };
    assert_eq!(
        totals,
        [
            1_000 + 4 * 7 - 333,
            1_000 + 100 + 3 * 50,
            1_000 + 4 * 50,
            1_000 + 2 * 90
        ]
    );

    // Reconcile: clean; then each kind of difference, planted in localstripe.
    srv.stop().await?;
    let run = |args: &[&str]| crate::cli::run_status(&spec, args);
    let key = period.key();
    let (ok, r, err) = run(&["billing", "reconcile", "--period", &key])?;
    assert!(ok, "{err}");
    assert_eq!(
        (&r["checked"], &r["matched"], &r["differences"]),
        (&json!(4), &json!(4), &json!([]))
    );
    let raw = |path: &str, form: Vec<(String, String)>| {
        let url = format!("{}/v1/{path}", ls.url);
        async move {
            let v: Value = reqwest::Client::new()
                .post(url)
                .basic_auth("sk_test_tollgate", Some(""))
                .form(&form)
                .send()
                .await?
                .json()
                .await?;
            anyhow::Ok(v)
        }
    };
    // Extra: a Stripe invoice of the period that no Tollgate invoice accounts for.
    let c0 = customers_of(ls, &tenants[0].id).await?.remove(0);
    let stray = raw(
        "invoices",
        vec![
            ("customer".into(), c0.clone()),
            ("metadata[tollgate_period]".into(), key.clone()),
        ],
    )
    .await?;
    raw(
        "invoiceitems",
        vec![
            ("customer".into(), c0.clone()),
            (
                "invoice".into(),
                stray["id"].as_str().context("id")?.to_owned(),
            ),
            ("amount".into(), "42".into()),
            ("currency".into(), "eur".into()),
        ],
    )
    .await?;
    let (ok, r, _) = run(&["billing", "reconcile", "--period", &key])?;
    assert!(!ok);
    assert_eq!(r["differences"].as_array().map(Vec::len), Some(1), "{r}");
    assert_eq!(
        (
            &r["differences"][0]["kind"],
            &r["differences"][0]["stripe_invoice_id"],
            &r["differences"][0]["total"]
        ),
        (&json!("extra"), &stray["id"], &json!(42))
    );
    raw(
        &format!("invoices/{}/void", stray["id"].as_str().context("id")?),
        vec![],
    )
    .await?;
    // Total differs: Tollgate's total is not Stripe's (planted in our database).
    let changed = srv_invoice_id(&spec, &tenants[1]).await?;
    let store = tollgate_store::Store::connect(&spec_db(&spec)).await?;
    {
        use sea_orm::sea_query::{Alias, Expr, Query};
        use sea_orm::ConnectionTrait;
        let update = Query::update()
            .table(Alias::new("invoices"))
            .value(Alias::new("total"), Expr::col(Alias::new("total")).add(1))
            .and_where(Expr::col(Alias::new("id")).eq(changed))
            .to_owned();
        let backend = store.conn().get_database_backend();
        assert_eq!(
            store
                .conn()
                .execute(backend.build(&update))
                .await?
                .rows_affected(),
            1
        );
    }
    // Missing: Stripe's invoice of a Tollgate invoice no longer names it.
    let missing = srv_invoice_id(&spec, &tenants[2]).await?;
    let c2 = customers_of(ls, &tenants[2].id).await?.remove(0);
    let pushed2 = read_back(ls, &c2)?.remove(0);
    raw(
        &format!("invoices/{}", pushed2["id"].as_str().context("id")?),
        vec![
            (
                "metadata[tollgate_invoice_id]".into(),
                "someone-else".into(),
            ),
            ("metadata[tollgate_period]".into(), "1999-01".into()),
        ],
    )
    .await?;
    let (ok, r, _) = run(&["billing", "reconcile", "--period", &key])?;
    assert!(!ok);
    let mut kinds: Vec<(String, String)> = r["differences"]
        .as_array()
        .context("differences")?
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap_or("").to_owned(),
                d["invoice_id"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    kinds.sort();
    let mut want = vec![
        ("extra".to_owned(), String::new()),
        ("missing".to_owned(), missing.to_string()),
        ("total_differs".to_owned(), changed.to_string()),
    ];
    want.sort();
    // The voided stray invoice still carries the period: it stays an extra (void is not gone).
    assert_eq!(kinds, want, "{r}");
    assert_eq!((&r["checked"], &r["matched"]), (&json!(4), &json!(2)));
    Ok(())
}

async fn srv_invoice_id(spec: &ServerSpec, t: &crate::harness::Tenant) -> Result<uuid::Uuid> {
    let store = tollgate_store::Store::connect(&spec_db(spec)).await?;
    Ok(store.invoices(TenantId(t.id.parse()?)).await?[0].id)
}

fn spec_db(spec: &ServerSpec) -> String {
    spec.database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            spec.data_dir.join("tollgate.db").display()
        )
    })
}

/// A push stopped after each of its Stripe calls in turn, and run again each time, ends in
/// exactly one Stripe invoice with our total; so does one whose Stripe work all succeeded
/// and whose bookkeeping was lost (the relay killed between the two).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_push_makes_one_stripe_invoice() -> Result<()> {
    let ls = LocalStripe::shared().await?;
    let start = mid_month(2035)?;
    let clock = ManualClock::new(start);
    let mut spec = ServerSpec::new(Backend::Sqlite, false).await?;
    spec.stripe = Some(ls.settings(None));
    let srv = spec.start_with_clock(Arc::new(clock.clone())).await?;
    let op = srv.operator_key().await?;
    let mut cases = Vec::new();
    for _ in 0..3 {
        let (t, plan_name) = billed_tenant(&srv, 4).await?;
        let price = json!({ "currency": "USD", "base_fee": 500, "included_units": 1,
                            "model": "graduated", "tiers": [
                                { "up_to": 1, "unit": { "amount": 30 } },
                                { "unit": { "amount": 20 } }] });
        assert_eq!(set_price(&srv, &op, &plan_name, price).await?.0, 200);
        let path = format!("/v1/operator/tenants/{}/credits", t.id);
        assert_eq!(
            operator_post(&srv, &op, &path, json!({ "amount": 55, "currency": "USD" }))
                .await?
                .0,
            201
        );
        cases.push(t);
    }
    let period = Period::of(start);
    clock.advance(period.end() - start + chrono::Duration::hours(2));
    let (status, report) = finalize(&srv, &op, &period.key()).await?;
    assert_eq!(status, 200, "{report}");
    // 500 + 30 + 2 × 20 - 55: lines base, overage ×2, credit (and a 0 included line).
    let want = 500 + 30 + 40 - 55;
    let sync = tollgate_billing::stripe_sync::StripeSync::new(
        spec.stripe.clone().context("stripe")?.client,
        srv.store().clone(),
        Arc::new(clock.clone()),
    )?;

    // 1. The push stopped after 1, 2, 3, … Stripe calls, and run again each time.
    let ids = [
        srv.store().invoices(TenantId(cases[0].id.parse()?)).await?[0].id,
        srv.store().invoices(TenantId(cases[1].id.parse()?)).await?[0].id,
    ];
    let mut runs = 0;
    let first = loop {
        runs += 1;
        anyhow::ensure!(runs < 40, "the push never completed");
        let budget = Arc::new(AtomicUsize::new(runs));
        match sync
            .clone()
            .with_call_budget(budget)
            .push_invoice(ids[0])
            .await
        {
            Ok(pushed) => break pushed,
            Err(tollgate_billing::stripe_sync::SyncError::Interrupted) => {}
            Err(e) => anyhow::bail!("run {runs}: {e}"),
        }
    };
    assert!(
        runs > 5,
        "the push takes several calls, each interrupted once: {runs}"
    );
    assert_eq!(first.total, want);
    // 2. The other's Stripe work all done, its bookkeeping lost (the relay killed between).
    let second = sync.push_invoice(ids[1]).await?;
    assert_eq!(second.total, want);
    for id in ids {
        let inv = srv.store().invoice_by_id(srv.store().conn(), id).await?;
        assert!(inv.stripe_invoice_id.is_none(), "nothing recorded yet");
    }
    // 3. Paid outside Stripe before it was pushed: nothing is put up for collection there.
    let third = srv.store().invoices(TenantId(cases[2].id.parse()?)).await?[0].id;
    let pay = format!("/v1/operator/invoices/{third}/pay");
    assert_eq!(
        operator_post(&srv, &op, &pay, json!({ "source": "wire" }))
            .await?
            .0,
        200
    );
    // The relay's next round records all three, creating nothing more in Stripe.
    let round = sync.relay_once().await?;
    assert_eq!(
        (round.pushed, round.retried, round.given_up),
        (3, 0, 0),
        "{round:?}"
    );
    let c3 = customers_of(ls, &cases[2].id).await?;
    assert_eq!(
        read_back(ls, &c3[0])?,
        Vec::<Value>::new(),
        "no Stripe invoice for a paid one"
    );
    let third = srv.store().invoice_by_id(srv.store().conn(), third).await?;
    assert!(third.stripe_invoice_id.is_none());
    for (t, pushed) in cases[..2].iter().zip([&first, &second]) {
        let customers = customers_of(ls, &t.id).await?;
        assert_eq!(customers.len(), 1, "{customers:?}");
        let theirs = read_back(ls, &customers[0])?;
        assert_eq!(theirs.len(), 1, "{theirs:?}");
        assert_eq!(theirs[0]["id"].as_str(), Some(pushed.invoice.as_str()));
        assert_eq!(
            (&theirs[0]["total"], &theirs[0]["status"]),
            (&json!(want), &json!("open"))
        );
        assert_eq!(
            theirs[0]["lines"].as_array().map(Vec::len),
            Some(4),
            "{theirs:?}"
        );
        let inv = &srv.store().invoices(TenantId(t.id.parse()?)).await?[0];
        assert_eq!(
            inv.stripe_invoice_id.as_deref(),
            Some(pushed.invoice.as_str())
        );
    }
    // 4. Paid outside Stripe after it was pushed: Stripe is told (paid out of band), so it
    // does not collect it again.
    let pay = format!("/v1/operator/invoices/{}/pay", ids[0]);
    assert_eq!(
        operator_post(&srv, &op, &pay, json!({ "source": "cheque" }))
            .await?
            .0,
        200
    );
    // (The third's paid message goes too, finding nothing to mark: it was never pushed.)
    let round = sync.relay_once().await?;
    assert_eq!(
        (round.pushed, round.retried, round.given_up),
        (2, 0, 0),
        "{round:?}"
    );
    assert_eq!(read_back(ls, &c3[0])?, Vec::<Value>::new());
    let c0 = customers_of(ls, &cases[0].id).await?;
    let theirs = read_back(ls, &c0[0])?;
    assert_eq!(
        (theirs.len(), &theirs[0]["status"]),
        (1, &json!("paid")),
        "{theirs:?}"
    );
    // Done messages are not sent again.
    assert_eq!(
        sync.relay_once().await?,
        tollgate_billing::stripe_sync::RelayRound::default()
    );
    srv.stop().await
}

async fn post_webhook(
    srv: &TestServer,
    body: &[u8],
    signature: Option<String>,
) -> Result<(u16, Value)> {
    let mut req = reqwest::Client::new()
        .post(srv.url("/v1/stripe/webhooks"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(s) = signature {
        req = req.header("stripe-signature", s);
    }
    let a = send(req).await?;
    Ok((a.status, a.body))
}

async fn webhooks_are_verified_and_processed_once(backend: Backend) -> Result<()> {
    let ls = LocalStripe::shared().await?;
    let start = mid_month(year_of(2033, backend))?;
    let clock = ManualClock::new(start);
    let mut spec = ServerSpec::new(backend, false).await?;
    spec.stripe = Some(ls.settings(Some(std::time::Duration::from_millis(200))));
    spec.billing.policy.due_days = 0;
    spec.billing.job_every = Some(std::time::Duration::from_millis(200));
    let srv = spec.start_with_clock(Arc::new(clock.clone())).await?;
    let op = srv.operator_key().await?;
    let (t, plan_name) = billed_tenant(&srv, 1).await?;
    let price = json!({ "currency": "USD", "base_fee": 900, "included_units": 0,
                        "model": "per_unit", "unit": { "amount": 1 } });
    assert_eq!(set_price(&srv, &op, &plan_name, price).await?.0, 200);
    let period = Period::of(start);
    clock.advance(period.end() - start + chrono::Duration::hours(2));
    // The job finalizes, the relay pushes, and past the due date the tenant is suspended.
    let inv = wait_for(|| async {
        let (_, list) = get_with_key(&srv, &t.key, "/v1/invoices").await?;
        let inv = list["invoices"][0].clone();
        Ok(inv["stripe_invoice_id"].is_string().then_some(inv))
    })
    .await?;
    clock.advance(chrono::Duration::minutes(5));
    let hello = crate::harness::fixture("hello.png")?;
    wait_for(|| async {
        Ok((crate::metering::ocr(&srv, &t.key, &hello, None)
            .await?
            .status
            == 402)
            .then_some(()))
    })
    .await?;
    let stripe_id = inv["stripe_invoice_id"].as_str().context("id")?.to_owned();
    let customer = srv
        .store()
        .stripe_customer(TenantId(t.id.parse()?))
        .await?
        .context("a customer")?;
    let total = inv["total"].as_i64().context("total")?;
    let event_paying =
        |id: &str, kind: &str, invoice: &str, ours: &str, customer: &str, paid: i64| {
            serde_json::to_vec(&json!({
                "id": id, "type": kind, "object": "event",
                "data": { "object": { "object": "invoice", "id": invoice, "customer": customer,
                                      "status": if paid > 0 { "paid" } else { "open" },
                                      "amount_paid": paid, "currency": "usd",
                                      "metadata": { "tollgate_invoice_id": ours } } }
            }))
        };
    let event = |id: &str, kind: &str, invoice: &str, ours: &str| {
        event_paying(id, kind, invoice, ours, &customer, total)
    };
    let ours = inv["id"].as_str().context("id")?;
    let paid = event("evt_paid_1", "invoice.paid", &stripe_id, ours)?;
    let now = clock.now().timestamp();
    let sign = |t: i64, body: &[u8], secret: &str| {
        format!(
            "t={t},v1={}",
            tollgate_billing::stripe_sync::webhooks::sign(secret, t, body)
        )
    };

    // Refused, each audited: unsigned, forged, another secret, stale, future.
    let refusals = [
        None,
        Some(format!("t={now},v1={}", "0".repeat(64))),
        Some(sign(now, &paid, "whsec_someone_else")),
        Some(sign(now - 301, &paid, WEBHOOK_SECRET)),
        Some(sign(now + 301, &paid, WEBHOOK_SECRET)),
        Some("garbage".to_owned()),
    ];
    for sig in &refusals {
        let (status, body) = post_webhook(&srv, &paid, sig.clone()).await?;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("webhook_refused")),
            "{sig:?}: {body}"
        );
    }
    let refused = srv
        .store()
        .audit_events(None)
        .await?
        .iter()
        .filter(|e| e.action == "stripe.webhook_refused")
        .count();
    assert_eq!(refused, refusals.len());
    assert_eq!(
        crate::metering::ocr(&srv, &t.key, &hello, None)
            .await?
            .status,
        402,
        "nothing was paid"
    );

    // An event naming our invoice with another Stripe invoice id is not acted on.
    let wrong = event("evt_wrong", "invoice.paid", "in_someone_else", ours)?;
    let (status, body) =
        post_webhook(&srv, &wrong, Some(sign(now, &wrong, WEBHOOK_SECRET))).await?;
    assert_eq!(
        (status, &body["outcome"]),
        (200, &json!("ignored")),
        "{body}"
    );

    // Paid, but not in full, or by another customer: not acted on.
    for (id, who, paid) in [
        ("evt_short", customer.as_str(), total - 1),
        ("evt_other", "cus_other", total),
    ] {
        let e = event_paying(id, "invoice.paid", &stripe_id, ours, who, paid)?;
        let (status, body) = post_webhook(&srv, &e, Some(sign(now, &e, WEBHOOK_SECRET))).await?;
        assert_eq!(
            (status, &body["outcome"]),
            (200, &json!("ignored")),
            "{id}: {body}"
        );
    }
    assert_eq!(
        crate::metering::ocr(&srv, &t.key, &hello, None)
            .await?
            .status,
        402,
        "still unpaid"
    );

    // The genuine one: paid, reinstated at once; delivered again: nothing more.
    let (status, body) = post_webhook(&srv, &paid, Some(sign(now, &paid, WEBHOOK_SECRET))).await?;
    assert_eq!(
        (status, &body["outcome"]),
        (200, &json!("applied")),
        "{body}"
    );
    assert_eq!(
        crate::metering::ocr(&srv, &t.key, &hello, None)
            .await?
            .status,
        200
    );
    let (status, body) =
        post_webhook(&srv, &paid, Some(sign(now + 5, &paid, WEBHOOK_SECRET))).await?;
    assert_eq!(
        (status, &body["outcome"]),
        (200, &json!("duplicate")),
        "{body}"
    );
    let (_, list) = get_with_key(&srv, &t.key, "/v1/invoices").await?;
    assert_eq!(list["invoices"][0]["status"], "paid");
    let paid_rows = srv
        .store()
        .audit_events(Some(TenantId(t.id.parse()?)))
        .await?
        .iter()
        .filter(|e| e.action == "invoice.paid")
        .count();
    assert_eq!(paid_rows, 1);
    // A failed payment is audited once; other types are recorded and ignored.
    let failed = event("evt_failed_1", "invoice.payment_failed", &stripe_id, ours)?;
    let (status, body) =
        post_webhook(&srv, &failed, Some(sign(now, &failed, WEBHOOK_SECRET))).await?;
    assert_eq!(
        (status, &body["outcome"]),
        (200, &json!("applied")),
        "{body}"
    );
    let other = serde_json::to_vec(
        &json!({ "id": "evt_cus", "type": "customer.created", "data": { "object": { "object": "customer" } } }),
    )?;
    let (status, body) =
        post_webhook(&srv, &other, Some(sign(now, &other, WEBHOOK_SECRET))).await?;
    assert_eq!(
        (status, &body["outcome"]),
        (200, &json!("ignored")),
        "{body}"
    );
    srv.stop().await
}

/// The outbox's claims: a relay whose lease ran out and was overtaken settles nothing (its
/// `done` or `failed` is refused), the one holding the message does; a given-up message comes
/// back only when requeued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_claim_holding_a_message_settles_it() -> Result<()> {
    let spec = ServerSpec::new(Backend::Postgres, false).await?;
    let srv = spec.start().await?;
    let store = srv.store();
    let tenant = TenantId(srv.tenant("billing:read").await?.id.parse()?);
    let now = Utc::now();
    let topic = "test.claims";
    {
        use sea_orm::TransactionTrait;
        let txn = store.conn().begin().await?;
        assert!(
            store
                .enqueue(&txn, topic, "k1", tenant, &json!({}), now)
                .await?
        );
        assert!(
            !store
                .enqueue(&txn, topic, "k1", tenant, &json!({}), now)
                .await?,
            "written once"
        );
        txn.commit().await?;
    }
    let first = store.due_messages(topic, now, 10).await?.remove(0);
    // Relay A claims it; its lease runs out (it is due again) and relay B claims it too.
    assert!(
        store
            .claim_message(&first, now - chrono::Duration::seconds(1))
            .await?
    );
    assert!(
        !store.claim_message(&first, now).await?,
        "the same claim cannot be taken twice"
    );
    let again = store.due_messages(topic, now, 10).await?.remove(0);
    assert_eq!(again.attempts, 1);
    assert!(
        store
            .claim_message(&again, now + chrono::Duration::minutes(10))
            .await?
    );
    // A's outcome is refused either way; B's is recorded.
    let conn = store.conn();
    assert!(
        !store
            .message_done(conn, first.id, 1, &json!({ "by": "A" }), now)
            .await?
    );
    store.message_failed(first.id, 1, "A failed", None).await?;
    let row = store.messages(topic).await?.remove(0);
    assert_eq!(
        (row.status.as_str(), row.last_error.as_deref()),
        ("pending", None)
    );
    assert!(
        store
            .message_done(conn, first.id, 2, &json!({ "by": "B" }), now)
            .await?
    );
    let row = store.messages(topic).await?.remove(0);
    assert_eq!(
        (row.status.as_str(), row.result.as_deref()),
        ("done", Some(r#"{"by":"B"}"#))
    );
    assert!(
        !store
            .message_done(conn, first.id, 2, &json!({ "by": "B" }), now)
            .await?,
        "done once"
    );

    // Given up: only a requeue brings it back, due now and counted afresh.
    {
        use sea_orm::TransactionTrait;
        let txn = store.conn().begin().await?;
        assert!(
            store
                .enqueue(&txn, topic, "k2", tenant, &json!({}), now)
                .await?
        );
        txn.commit().await?;
    }
    let m = store.due_messages(topic, now, 10).await?.remove(0);
    assert!(
        store
            .claim_message(&m, now + chrono::Duration::minutes(10))
            .await?
    );
    store.message_failed(m.id, 1, "refused", None).await?;
    let later = now + chrono::Duration::days(1);
    assert!(store.due_messages(topic, later, 10).await?.is_empty());
    assert_eq!(store.failed_messages(topic).await?.len(), 1);
    assert_eq!(store.requeue_failed(topic, later).await?, 1);
    let back = store.due_messages(topic, later, 10).await?;
    assert_eq!((back.len(), back[0].attempts), (1, 0));
    srv.stop().await
}
