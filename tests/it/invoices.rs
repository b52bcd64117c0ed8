//! Finalized invoices, end to end on a moved clock: real OCR calls are rated once their period
//! has ended plus the grace, into one numbered invoice per tenant and period — even with two
//! servers finalizing at once — whose lines sum to the total, with prepaid credit used
//! soonest-expiring first and expired credit booked out; usage recorded for a period after
//! its invoice is billed with the next one; an invoice unpaid past its due date suspends the
//! tenant's API (not its portal) until it is paid; no tenant reads another's invoice.

use crate::billing::{billed_tenant, set_price};
use crate::both_backends;
use crate::harness::{fixture, mid_month, wait_for, Backend, ServerSpec, TestServer};
use crate::metering::{ocr, send};
use crate::spend::{get_with_key, operator_post};
use anyhow::{Context, Result};
use chrono::Utc;
use serde_json::{json, Value};
use std::sync::Arc;
use tollgate_core::plan::Period;
use tollgate_core::{Clock, ManualClock, TenantId};

both_backends!(
    a_period_is_invoiced_once_with_credit_and_late_usage,
    an_unpaid_invoice_suspends_the_api_until_it_is_paid,
    periods_are_billed_under_the_plan_in_force_and_credit_held_then,
);

fn sum_of_lines(invoice: &Value) -> Result<i64> {
    Ok(invoice["lines"]
        .as_array()
        .context("lines")?
        .iter()
        .map(|l| l["amount"].as_i64().unwrap_or(i64::MIN))
        .sum())
}

pub(crate) async fn finalize(srv: &TestServer, op: &str, period: &str) -> Result<(u16, Value)> {
    operator_post(
        srv,
        op,
        "/v1/operator/billing/finalize",
        json!({ "period": period }),
    )
    .await
}

async fn a_period_is_invoiced_once_with_credit_and_late_usage(backend: Backend) -> Result<()> {
    let start = mid_month()?;
    let clock = ManualClock::new(start);
    let spec = ServerSpec::new(backend, false).await?;
    let srv = spec.start_with_clock(Arc::new(clock.clone())).await?;
    let op = srv.operator_key().await?;
    let this = Period::of(start);
    let (t, plan_name) = billed_tenant(&srv, 3).await?;
    // 1 000 base, 1 included, 10 a page past it: 3 pages rate to 1 020.
    let price = json!({ "currency": "USD", "base_fee": 1_000, "included_units": 1,
                        "model": "per_unit", "unit": { "amount": 10 } });
    assert_eq!(set_price(&srv, &op, &plan_name, price).await?.0, 200);
    let credits = format!("/v1/operator/tenants/{}/credits", t.id);
    let soon = start + chrono::Duration::days(5);
    for (amount, expires) in [
        (100, Some(soon)),
        (200, None),
        (250, Some(start + chrono::Duration::days(400))),
    ] {
        let (status, body) = operator_post(
            &srv,
            &op,
            &credits,
            json!({ "amount": amount, "currency": "USD", "expires_at": expires }),
        )
        .await?;
        assert_eq!(status, 201, "{body}");
    }

    // Not before the period's end plus the grace (1 h by default).
    let (status, body) = finalize(&srv, &op, &this.key()).await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("period_open")),
        "{body}"
    );
    clock.advance(this.end() - start + chrono::Duration::minutes(59));
    let (status, body) = finalize(&srv, &op, &this.key()).await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("period_open")),
        "{body}"
    );
    clock.advance(chrono::Duration::minutes(2));

    // Two servers on the same database finalize at once: one invoice.
    let other = spec.start_with_clock(Arc::new(clock.clone())).await?;
    let key = this.key();
    let (a, b) = tokio::join!(finalize(&srv, &op, &key), finalize(&other, &op, &key));
    let (a, b) = (a?, b?);
    assert_eq!((a.0, b.0), (200, 200), "{a:?} {b:?}");
    let written = |r: &Value| r["finalized"].as_array().map_or(0, Vec::len);
    let already = |r: &Value| r["already"].as_u64().unwrap_or(0);
    assert_eq!(written(&a.1) + written(&b.1), 1, "{a:?} {b:?}");
    assert_eq!(already(&a.1) + already(&b.1), 1, "{a:?} {b:?}");
    assert_eq!((&a.1["failed"], &b.1["failed"]), (&json!([]), &json!([])));
    other.stop().await?;
    let (status, again) = finalize(&srv, &op, &this.key()).await?;
    assert_eq!(
        (status, written(&again), already(&again)),
        (200, 0, 1),
        "{again}"
    );

    // The invoice: 1 020 less 300 of credit (the expired 100 is not used; the credit that
    // expires first goes first, so 250 then 50 of the 200 that never expires).
    let (status, list) = get_with_key(&srv, &t.key, "/v1/invoices").await?;
    assert_eq!(status, 200, "{list}");
    let invoices = list["invoices"].as_array().context("invoices")?;
    assert_eq!(invoices.len(), 1, "{list}");
    let id = invoices[0]["id"].as_str().context("id")?.to_owned();
    let (status, inv) = get_with_key(&srv, &t.key, &format!("/v1/invoices/{id}")).await?;
    assert_eq!(status, 200, "{inv}");
    assert_eq!(
        (
            &inv["number"],
            &inv["period"],
            &inv["status"],
            &inv["units"]
        ),
        (&json!(1), &json!(this.key()), &json!("open"), &json!(3))
    );
    assert_eq!(
        (&inv["subtotal"], &inv["credit_applied"], &inv["total"]),
        (&json!(1_020), &json!(450), &json!(570)),
        "{inv}"
    );
    assert_eq!(sum_of_lines(&inv)?, 570);
    let kinds: Vec<&str> = inv["lines"]
        .as_array()
        .context("lines")?
        .iter()
        .filter_map(|l| l["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["base_fee", "included", "overage", "credit"]);
    assert_eq!(inv["usage"], json!({ "period_units": 3, "late": [] }));
    assert_eq!(inv["price"]["base_fee"], 1_000);

    // The ledger: grants 550, expired 100, used 450 — it sums to the balance, 0.
    let (_, c) = get_with_key(&srv, &t.key, "/v1/billing/credits").await?;
    let ledger = c["ledger"].as_array().context("ledger")?;
    let by_kind = |k: &str| -> i64 {
        ledger
            .iter()
            .filter(|e| e["kind"] == k)
            .filter_map(|e| e["amount"].as_i64())
            .sum()
    };
    assert_eq!(
        (by_kind("grant"), by_kind("expire"), by_kind("consume")),
        (550, -100, -450),
        "{c}"
    );
    let balance: i64 = c["balances"]
        .as_array()
        .context("balances")?
        .iter()
        .filter_map(|b| b["amount"].as_i64())
        .sum();
    assert_eq!(balance, 0, "{c}");

    // CSV: a header and one row per line, whose amounts sum to the total.
    let csv = reqwest::Client::new()
        .get(srv.url(&format!("/v1/invoices/{id}/download?format=csv")))
        .header("x-api-key", &t.key)
        .send()
        .await?;
    assert_eq!(csv.status(), 200);
    assert_eq!(
        csv.headers()["content-type"].to_str()?,
        "text/csv; charset=utf-8"
    );
    assert!(csv.headers()["content-disposition"]
        .to_str()?
        .starts_with("attachment; filename=\"invoice-"));
    let text = csv.text().await?;
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 1 + kinds.len(), "{text}");
    let amounts: i64 = rows[1..]
        .iter()
        .map(|r| {
            r.split(',')
                .nth(7)
                .and_then(|a| a.parse::<i64>().ok())
                .unwrap_or(i64::MIN)
        })
        .sum();
    assert_eq!(amounts, 570, "{text}");
    let json_dl = send(
        reqwest::Client::new()
            .get(srv.url(&format!("/v1/invoices/{id}/download")))
            .header("x-api-key", &t.key),
    )
    .await?;
    assert_eq!((json_dl.status, &json_dl.body["total"]), (200, &json!(570)));

    // No other tenant sees it; the operator does; ids are checked.
    let stranger = srv.tenant("billing:read").await?;
    for path in [
        format!("/v1/invoices/{id}"),
        format!("/v1/invoices/{id}/download"),
    ] {
        let (status, body) = get_with_key(&srv, &stranger.key, &path).await?;
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("not_found")),
            "{path}: {body}"
        );
    }
    let (_, theirs) = get_with_key(&srv, &stranger.key, "/v1/invoices").await?;
    assert_eq!(theirs["invoices"], json!([]));
    let (status, body) = get_with_key(&srv, &t.key, "/v1/invoices/not-a-uuid").await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("not_found")),
        "{body}"
    );
    let (status, body) = get_with_key(&srv, &op, &format!("/v1/operator/invoices/{id}")).await?;
    assert_eq!((status, &body["total"]), (200, &json!(570)), "{body}");
    let (status, body) = get_with_key(&srv, &t.key, &format!("/v1/operator/invoices/{id}")).await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("insufficient_scope")),
        "{body}"
    );
    let (status, body) = get_with_key(
        &srv,
        &op,
        &format!("/v1/operator/invoices?period={}", this.key()),
    )
    .await?;
    assert_eq!(status, 200, "{body}");
    let ids: Vec<&str> = body["invoices"]
        .as_array()
        .context("invoices")?
        .iter()
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert_eq!(ids, [id.as_str()]);
    for bad in ["+026-11", "2026-1", "2026-11%20", "2026-13"] {
        let (status, body) =
            get_with_key(&srv, &op, &format!("/v1/operator/invoices?period={bad}")).await?;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("invalid_range")),
            "{bad}: {body}"
        );
    }

    // Usage recorded for the finalized period afterwards (a late write) is billed next period.
    let tenant = TenantId(t.id.parse()?);
    let mut late = srv
        .store()
        .usage_events(tenant)
        .await?
        .into_iter()
        .next()
        .context("an event")?;
    late.event_id = format!("evt_late_{}", uuid::Uuid::new_v4().simple());
    late.units = 2;
    assert_eq!(srv.store().insert_usage_events(vec![late]).await?.len(), 1);
    let hello = fixture("hello.png")?;
    assert_eq!(ocr(&srv, &t.key, &hello, None).await?.status, 200);
    let next = this.next();
    let (_, draft) = get_with_key(&srv, &t.key, "/v1/invoices/upcoming").await?;
    assert_eq!(
        (&draft["period"], &draft["units"]),
        (&json!(next.key()), &json!(3)),
        "the draft bills the late units too: {draft}"
    );
    // Two months on, finalizing the later one catches up the skipped one first (and that
    // one bills the late units).
    clock.advance(chrono::Duration::days(63));
    let after = next.next();
    let (status, body) = finalize(&srv, &op, &after.key()).await?;
    assert_eq!((status, written(&body)), (200, 2), "{body}");
    let (_, list) = get_with_key(&srv, &t.key, "/v1/invoices").await?;
    let numbers: Vec<(i64, String)> = list["invoices"]
        .as_array()
        .context("invoices")?
        .iter()
        .map(|i| {
            (
                i["number"].as_i64().unwrap_or(0),
                i["period"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        numbers,
        [(3, after.key()), (2, next.key()), (1, this.key())],
        "numbered without gaps, newest first"
    );
    let next_id = list["invoices"][1]["id"].as_str().context("id")?.to_owned();
    let (_, inv2) = get_with_key(&srv, &t.key, &format!("/v1/invoices/{next_id}")).await?;
    assert_eq!(
        (&inv2["units"], &inv2["usage"]),
        (
            &json!(3),
            &json!({ "period_units": 1, "late": [{ "period": this.key(), "units": 2 }] })
        ),
        "{inv2}"
    );
    // 1 000 + 2 × 10, no credit left.
    assert_eq!(
        (&inv2["total"], sum_of_lines(&inv2)?),
        (&json!(1_020), 1_020)
    );
    assert_eq!(
        list["invoices"][0]["total"], 1_000,
        "nothing is billed twice: {list}"
    );
    // A period without a price bills nothing.
    let (status, body) = finalize(&srv, &op, &this.prev().key()).await?;
    assert_eq!(
        (status, &body["finalized"], &body["failed"]),
        (200, &json!([]), &json!([])),
        "{body}"
    );
    // Audit: one invoice.finalized per invoice.
    let finalized = srv
        .store()
        .audit_events(Some(tenant))
        .await?
        .iter()
        .filter(|e| e.action == "invoice.finalized")
        .count();
    assert_eq!(finalized, 3);
    srv.stop().await
}

async fn an_unpaid_invoice_suspends_the_api_until_it_is_paid(backend: Backend) -> Result<()> {
    let start = mid_month()?;
    let clock = ManualClock::new(start);
    let mut spec = ServerSpec::new(backend, false).await?;
    spec.billing.policy.due_days = 3;
    spec.billing.job_every = Some(std::time::Duration::from_millis(200));
    let srv = spec.start_with_clock(Arc::new(clock.clone())).await?;
    let op = srv.operator_key().await?;
    let this = Period::of(start);
    let (t, plan_name) = billed_tenant(&srv, 1).await?;
    let price = json!({ "currency": "EUR", "base_fee": 900, "included_units": 0,
                        "model": "per_unit", "unit": { "amount": 1 } });
    assert_eq!(set_price(&srv, &op, &plan_name, price).await?.0, 200);
    let hello = fixture("hello.png")?;

    // The job finalizes the period by itself once it has ended plus the grace.
    clock.advance(this.end() - start + chrono::Duration::hours(2));
    let invoice = wait_for(|| async {
        let (_, list) = get_with_key(&srv, &t.key, "/v1/invoices").await?;
        Ok(list["invoices"].as_array().and_then(|l| l.first().cloned()))
    })
    .await?;
    assert_eq!(
        (&invoice["total"], &invoice["status"]),
        (&json!(901), &json!("open"))
    );
    let id = invoice["id"].as_str().context("id")?.to_owned();
    assert_eq!(
        ocr(&srv, &t.key, &hello, None).await?.status,
        200,
        "not due yet"
    );

    // Past its due date the API refuses metered calls; the portal still works.
    clock.advance(chrono::Duration::days(4));
    let refused = wait_for(|| async {
        let a = ocr(&srv, &t.key, &hello, None).await?;
        Ok((a.status == 402).then_some(a.body))
    })
    .await?;
    assert_eq!(refused["code"], "account_suspended", "{refused}");
    assert_eq!(
        refused["type"],
        "https://tollgate.dev/problems/account-suspended"
    );
    let portal = srv.login(&t.owner_email, &t.owner_password).await?;
    let (status, list) = portal.get("/v1/invoices").await?;
    assert_eq!(
        (status, list["invoices"][0]["id"].as_str()),
        (200, Some(id.as_str()))
    );
    let units_before = srv
        .store()
        .usage_units(TenantId(t.id.parse()?), &this.next().key())
        .await?;
    assert_eq!(ocr(&srv, &t.key, &hello, None).await?.status, 402);
    assert_eq!(
        srv.store()
            .usage_units(TenantId(t.id.parse()?), &this.next().key())
            .await?,
        units_before,
        "a refused call records nothing"
    );

    // Paid (an operator records it): the API answers again at once; paying twice changes
    // nothing; a tenant cannot record payments.
    let pay = format!("/v1/operator/invoices/{id}/pay");
    let (status, body) = operator_post(&srv, &t.key, &pay, json!({ "source": "me" })).await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("insufficient_scope"))
    );
    for source in ["", "   ", "a\nb"] {
        let (status, body) = operator_post(&srv, &op, &pay, json!({ "source": source })).await?;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("bad_request")),
            "{source:?}"
        );
    }
    let (status, paid) =
        operator_post(&srv, &op, &pay, json!({ "source": "bank transfer" })).await?;
    assert_eq!((status, &paid["status"]), (200, &json!("paid")), "{paid}");
    assert_eq!(ocr(&srv, &t.key, &hello, None).await?.status, 200);
    let (status, again) = operator_post(&srv, &op, &pay, json!({ "source": "again" })).await?;
    assert_eq!((status, &again["paid_at"]), (200, &paid["paid_at"]));
    let actions: Vec<String> = srv
        .store()
        .audit_events(Some(TenantId(t.id.parse()?)))
        .await?
        .into_iter()
        .map(|e| e.action)
        .filter(|a| a.starts_with("account.") || a.starts_with("invoice."))
        .collect();
    assert_eq!(
        actions,
        ["invoice.finalized", "account.suspended", "invoice.paid"],
        "the job does not reinstate again what the payment did"
    );
    // The job keeps it reinstated.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(ocr(&srv, &t.key, &hello, None).await?.status, 200);
    srv.stop().await
}

/// A tenant is billed from its first plan on, each period under the plan it was on at the
/// period's end (a change during the grace does not reprice the period before), and credit
/// granted after a period's end does not pay that period.
async fn periods_are_billed_under_the_plan_in_force_and_credit_held_then(
    backend: Backend,
) -> Result<()> {
    let start = mid_month()?;
    let clock = ManualClock::new(start);
    let spec = ServerSpec::new(backend, false).await?;
    let srv = spec.start_with_clock(Arc::new(clock.clone())).await?;
    let op = srv.operator_key().await?;
    let m0 = Period::of(start);
    let flat = |base: i64| {
        json!({ "currency": "USD", "base_fee": base, "included_units": 0,
                "model": "per_unit", "unit": { "amount": 0 } })
    };
    // An early tenant on `cheap` (1 000) and a plan `dear` (5 000), both priced now.
    let (early, cheap) = billed_tenant(&srv, 0).await?;
    let (other, dear) = billed_tenant(&srv, 0).await?;
    assert_eq!(set_price(&srv, &op, &cheap, flat(1_000)).await?.0, 200);
    assert_eq!(set_price(&srv, &op, &dear, flat(5_000)).await?.0, 200);
    // Two months on, a new tenant joins `cheap`.
    clock.advance(chrono::Duration::days(61));
    let m2 = Period::of(clock.now());
    assert_eq!(m2, m0.next().next());
    let late_joiner = srv.tenant("billing:read").await?;
    srv.store()
        .set_tenant_plan(TenantId(late_joiner.id.parse()?), &cheap, clock.now())
        .await?;
    // In m2's grace hour, the early tenant moves to `dear` and is granted credit.
    clock.advance(m2.end() - clock.now() + chrono::Duration::minutes(30));
    srv.store()
        .set_tenant_plan(TenantId(early.id.parse()?), &dear, clock.now())
        .await?;
    let (status, body) = operator_post(
        &srv,
        &op,
        &format!("/v1/operator/tenants/{}/credits", early.id),
        json!({ "amount": 700, "currency": "USD" }),
    )
    .await?;
    assert_eq!(status, 201, "{body}");
    clock.advance(chrono::Duration::minutes(31));
    let (status, report) = finalize(&srv, &op, &m2.key()).await?;
    assert_eq!((status, &report["failed"]), (200, &json!([])), "{report}");

    let invoices_of = |t: &crate::harness::Tenant| {
        let key = t.key.clone();
        let srv = &srv;
        async move {
            let (_, list) = get_with_key(srv, &key, "/v1/invoices").await?;
            let got: Vec<(String, i64, i64)> = list["invoices"]
                .as_array()
                .context("invoices")?
                .iter()
                .map(|i| {
                    (
                        i["period"].as_str().unwrap_or("").to_owned(),
                        i["total"].as_i64().unwrap_or(-1),
                        i["credit_applied"].as_i64().unwrap_or(-1),
                    )
                })
                .collect();
            anyhow::Ok(got)
        }
    };
    // The early tenant: three periods on `cheap` (the move came after m2's end), and the
    // credit granted after m2's end pays none of them.
    assert_eq!(
        invoices_of(&early).await?,
        [
            (m2.key(), 1_000, 0),
            (m0.next().key(), 1_000, 0),
            (m0.key(), 1_000, 0)
        ]
    );
    assert_eq!(
        invoices_of(&other).await?,
        [
            (m2.key(), 5_000, 0),
            (m0.next().key(), 5_000, 0),
            (m0.key(), 5_000, 0)
        ]
    );
    // The late joiner: only the period it joined in, though `cheap` was priced before.
    assert_eq!(invoices_of(&late_joiner).await?, [(m2.key(), 1_000, 0)]);

    // The next period is the early tenant's first on `dear`, and the credit pays for it.
    let m3 = m2.next();
    clock.advance(m3.end() - clock.now() + chrono::Duration::hours(2));
    let (status, report) = finalize(&srv, &op, &m3.key()).await?;
    assert_eq!((status, &report["failed"]), (200, &json!([])), "{report}");
    assert_eq!(invoices_of(&early).await?[0], (m3.key(), 4_300, 700));
    srv.stop().await
}

/// The CLI finalizes a period, shows the finalized invoice and records its payment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_finalizes_shows_and_pays() -> Result<()> {
    // The server lives last month; the CLI (the real clock) finalizes it.
    let start = Period::of(Utc::now()).prev().start() + chrono::Duration::days(10);
    let clock = ManualClock::new(start);
    let spec = ServerSpec::new(Backend::Sqlite, false).await?;
    let srv = spec.start_with_clock(Arc::new(clock.clone())).await?;
    let op = srv.operator_key().await?;
    let (t, plan_name) = billed_tenant(&srv, 2).await?;
    let price = json!({ "currency": "USD", "base_fee": 0, "included_units": 0,
                        "model": "package", "package_size": 10, "package_price": 250 });
    assert_eq!(set_price(&srv, &op, &plan_name, price).await?.0, 200);
    srv.stop().await?;
    let period = Period::of(start).key();
    let run = |args: &[&str]| crate::cli::run_status(&spec, args);
    let (ok, done, err) = run(&["billing", "finalize", "--period", &period])?;
    assert!(ok, "{err}");
    assert_eq!(
        done["finalized"].as_array().map(Vec::len),
        Some(1),
        "{done}"
    );
    let (ok, again, _) = run(&["billing", "finalize", "--period", &period])?;
    assert!(ok);
    assert_eq!(
        (&again["finalized"], &again["already"]),
        (&json!([]), &json!(1))
    );
    let (ok, inv, err) = run(&["billing", "invoice", "--tenant", &t.id, "--period", &period])?;
    assert!(ok, "{err}");
    assert_eq!(
        (&inv["number"], &inv["units"], &inv["total"], &inv["status"]),
        (&json!(1), &json!(2), &json!(250), &json!("open")),
        "{inv}"
    );
    let id = inv["id"].as_str().context("id")?;
    let (ok, paid, err) = run(&["billing", "pay", "--invoice", id, "--source", "cheque"])?;
    assert!(ok, "{err}");
    assert_eq!(paid["status"], "paid");
    for bad in ["2026-1", "+026-11", "current "] {
        let (ok, _, err) = run(&["billing", "finalize", "--period", bad])?;
        assert!(!ok && err.contains("YYYY-MM"), "{bad}: {err}");
    }
    let (ok, _, err) = run(&[
        "billing", "invoice", "--tenant", &t.id, "--period", "1999-01",
    ])?;
    assert!(!ok && err.contains("no finalized invoice"), "{err}");
    Ok(())
}
