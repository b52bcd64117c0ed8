//! Tenant webhooks end to end: a real HTTP receiver (tests/python/webhook_receiver.py) checks
//! every delivery with the `standardwebhooks` package, an implementation of the specification
//! independent of Tollgate's. Endpoints are managed by the portal only within their tenant;
//! unsafe URLs are refused at registration and at delivery; events are retried with the same
//! id until delivered, survive a restart, wait while an endpoint is paused, carry both
//! signatures during a secret rotation, and are logged and replayable.

use crate::billing::{billed_tenant, set_price};
use crate::harness::{fixture, mid_month, str_field, wait_for, Backend, Portal, ServerSpec};
use crate::metering::{ocr, plan};
use crate::spend::operator_post;
use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tollgate_core::{Clock, ManualClock};

/// The receiver, killed on drop.
struct Receiver {
    port: u16,
    _child: crate::python::KillOnDrop,
    http: reqwest::Client,
}

impl Receiver {
    async fn start() -> Result<Self> {
        let (child, port) = crate::python::server("webhook_receiver.py", "standardwebhooks")?;
        Ok(Self {
            port,
            _child: child,
            http: reqwest::Client::new(),
        })
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks/tollgate", self.port)
    }

    async fn configure(&self, secrets: &[&str], fail_first: u32) -> Result<()> {
        let resp = self
            .http
            .put(format!("http://127.0.0.1:{}/_config", self.port))
            .json(&json!({ "secrets": secrets, "fail_first": fail_first }))
            .send()
            .await?;
        anyhow::ensure!(resp.status() == 200);
        Ok(())
    }

    async fn received(&self) -> Result<Vec<Value>> {
        Ok(self
            .http
            .get(format!("http://127.0.0.1:{}/_received", self.port))
            .send()
            .await?
            .json()
            .await?)
    }

    /// Waits until it has received `n` deliveries.
    async fn wait_for(&self, n: usize) -> Result<Vec<Value>> {
        wait_for(|| async {
            let got = self.received().await?;
            Ok((got.len() >= n).then_some(got))
        })
        .await
        .with_context(|| format!("the receiver did not get {n} deliveries"))
    }
}

/// A spec whose failed attempts are retried after 1 s, at most `retries` times.
async fn spec(backend: Backend, retries: usize) -> Result<ServerSpec> {
    let mut spec = ServerSpec::new(backend, true).await?;
    spec.webhooks.schedule = vec![Duration::from_secs(1); retries];
    spec.webhooks.poll_every = Duration::from_millis(100);
    spec.webhooks.expiry_scan_every = Duration::from_millis(200);
    Ok(spec)
}

/// Registers an endpoint for `types`; its id and secret.
async fn register(owner: &Portal, url: &str, types: &[&str]) -> Result<(String, String)> {
    let (status, created) = owner
        .post(
            "/v1/webhooks/endpoints",
            json!({ "url": url, "event_types": types, "description": "ops" }),
        )
        .await?;
    anyhow::ensure!(status == 201, "{status}: {created}");
    Ok((
        str_field(&created, "/endpoint/id")?,
        str_field(&created, "/secret")?,
    ))
}

async fn deliveries(owner: &Portal, endpoint: &str) -> Result<Vec<Value>> {
    let (status, page) = owner
        .get(&format!("/v1/webhooks/endpoints/{endpoint}/deliveries"))
        .await?;
    anyhow::ensure!(status == 200, "{status}: {page}");
    Ok(page["deliveries"].as_array().cloned().unwrap_or_default())
}

crate::both_backends!(events_are_signed_retried_logged_and_replayed);

/// A receiver failing the first 3 attempts gets the event on the 4th with the same id, each
/// attempt verified by `standardwebhooks`; the log shows 500, 500, 500, 204; another
/// tenant's events and unsubscribed types never arrive; a rotation with overlap signs with
/// both secrets, one without signs with the new only; a replay sends the same id again.
async fn events_are_signed_retried_logged_and_replayed(backend: Backend) -> Result<()> {
    let srv = spec(backend, 5).await?.start().await?;
    let receiver = Receiver::start().await?;
    let t = srv.tenant("ocr:read").await?;
    let other = srv.tenant("ocr:read").await?;
    let owner = srv.login(&t.owner_email, &t.owner_password).await?;
    let (endpoint, secret) = register(&owner, &receiver.url(), &["api_key.revoked"]).await?;
    assert!(secret.starts_with("whsec_"), "{secret}");
    receiver.configure(&[&secret], 3).await?;

    // Unsubscribed (a client secret rotation) and another tenant's revocation: nothing.
    let (status, _) = owner
        .post(
            &format!("/v1/clients/{}/rotate", t.client_id),
            json!({ "overlap_seconds": 0 }),
        )
        .await?;
    assert_eq!(status, 200);
    let other_owner = srv.login(&other.owner_email, &other.owner_password).await?;
    let (status, _) = other_owner
        .delete(&format!("/v1/keys/{}", other.key_id))
        .await?;
    assert_eq!(status, 204);
    // This tenant's revocation: the event.
    let (status, _) = owner.delete(&format!("/v1/keys/{}", t.key_id)).await?;
    assert_eq!(status, 204);

    let got = receiver.wait_for(4).await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got_after = receiver.received().await?;
    assert_eq!(got_after.len(), 4, "nothing more arrives: {got_after:#?}");
    let id = got[0]["id"].as_str().context("id")?;
    assert!(id.starts_with("msg_"), "{id}");
    for (i, g) in got.iter().enumerate() {
        assert_eq!(g["id"], id, "same id on every attempt");
        assert_eq!(g["verified_with"], json!([0]), "attempt {}: {g}", i + 1);
        assert_eq!(g["attempt"], i + 1);
        assert_eq!(g["answered"], if i < 3 { 500 } else { 204 });
        assert_eq!(g["body"], got[0]["body"], "the same body every time");
    }
    let body = &got[0]["body"];
    assert_eq!(body["type"], "api_key.revoked");
    assert_eq!(body["data"]["key_id"], t.key_id.as_str());
    assert_eq!(body["data"]["tenant_id"], t.id.as_str());
    assert!(body["timestamp"].is_string());

    let log = wait_for(|| async {
        let d = deliveries(&owner, &endpoint).await?;
        Ok((d.len() == 1 && d[0]["status"] == "delivered").then_some(d))
    })
    .await?;
    let d = &log[0];
    assert_eq!(
        (&d["message_id"], &d["attempts"], &d["event_type"]),
        (&json!(id), &json!(4), &json!("api_key.revoked"))
    );
    let codes: Vec<&Value> = d["log"]
        .as_array()
        .context("log")?
        .iter()
        .map(|a| &a["status_code"])
        .collect();
    assert_eq!(codes, [&json!(500), &json!(500), &json!(500), &json!(204)]);
    assert!(d["log"][0]["response"]
        .as_str()
        .unwrap_or_default()
        .contains("failing on purpose"));
    assert_eq!(d["log"][0]["error"], "answered 500");
    assert!(d["log"][3]["latency_ms"].as_i64().is_some());
    let (_, ep) = owner
        .get(&format!("/v1/webhooks/endpoints/{endpoint}"))
        .await?;
    assert_eq!(
        ep["status"], "active",
        "a success clears the failures: {ep}"
    );
    assert!(ep.get("secret").is_none());

    // Rotation with an overlap: both signatures; the receiver knows both secrets.
    let (status, rotated) = owner
        .post(
            &format!("/v1/webhooks/endpoints/{endpoint}/rotate"),
            json!({ "overlap_seconds": 3600 }),
        )
        .await?;
    assert_eq!(status, 200, "{rotated}");
    let new_secret = str_field(&rotated, "/secret")?;
    assert_ne!(new_secret, secret);
    assert!(rotated["endpoint"]["previous_secret_until"].is_string());
    receiver.configure(&[&secret, &new_secret], 0).await?;
    let (status, key) = owner
        .post("/v1/keys", json!({ "name": "k2", "scopes": ["ocr:read"] }))
        .await?;
    assert_eq!(status, 201, "{key}");
    let k2 = str_field(&key, "/key_id")?;
    let (status, _) = owner.delete(&format!("/v1/keys/{k2}")).await?;
    assert_eq!(status, 204);
    let got = receiver.wait_for(5).await?;
    assert_eq!(got[4]["verified_with"], json!([0, 1]), "{}", got[4]);
    assert_eq!(
        got[4]["signature"].as_str().map(|s| s.split(' ').count()),
        Some(2)
    );
    // Without an overlap the old secret stops at once.
    let (status, rotated) = owner
        .post(
            &format!("/v1/webhooks/endpoints/{endpoint}/rotate"),
            json!({ "overlap_seconds": 0 }),
        )
        .await?;
    assert_eq!(status, 200);
    let newest = str_field(&rotated, "/secret")?;
    receiver.configure(&[&new_secret, &newest], 0).await?;

    // A replay of the first delivery: the same id and body again, logged as a replay.
    let (status, replay) = owner
        .post(
            &format!(
                "/v1/webhooks/deliveries/{}/replay",
                log[0]["id"].as_str().context("id")?
            ),
            json!({}),
        )
        .await?;
    assert_eq!((status, &replay["queued"]), (202, &json!(true)), "{replay}");
    let got = receiver.wait_for(6).await?;
    let replayed = got
        .iter()
        .find(|g| g["id"] == id && g["attempt"] == 5)
        .context("replayed")?;
    assert_eq!(
        replayed["verified_with"],
        json!([1]),
        "signed with the newest secret only"
    );
    assert_eq!(replayed["body"], got[0]["body"]);
    let log = wait_for(|| async {
        let d = deliveries(&owner, &endpoint).await?;
        let first = d.iter().find(|d| d["message_id"] == id).cloned();
        Ok(first.filter(|f| f["log"].as_array().is_some_and(|l| l.len() == 5)))
    })
    .await?;
    assert_eq!(log["log"][4]["replay"], true);
    assert_eq!(log["status"], "delivered");

    // Nothing of this reaches the other tenant: it has no endpoint, and cannot read ours.
    for path in [
        format!("/v1/webhooks/endpoints/{endpoint}"),
        format!("/v1/webhooks/endpoints/{endpoint}/deliveries"),
    ] {
        let (status, body) = other_owner.get(&path).await?;
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("not_found")),
            "{path}"
        );
    }
    let (status, body) = other_owner
        .post(
            &format!(
                "/v1/webhooks/deliveries/{}/replay",
                log["id"].as_str().context("id")?
            ),
            json!({}),
        )
        .await?;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    let (status, body) = other_owner
        .patch(
            &format!("/v1/webhooks/endpoints/{endpoint}"),
            json!({ "paused": true }),
        )
        .await?;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    let (status, body) = other_owner
        .delete(&format!("/v1/webhooks/endpoints/{endpoint}"))
        .await?;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    let (_, list) = other_owner.get("/v1/webhooks/endpoints").await?;
    assert_eq!(list, json!([]));
    srv.stop().await
}

/// Registration refuses what is not a safe, exact subscription: smuggled event type names,
/// duplicates, bad timeouts, too many endpoints; viewers and CSRF-less requests change
/// nothing; with private endpoints not allowed, loopback, private, metadata and mapped
/// addresses are refused, and an endpoint registered while they were allowed is not
/// connected to once they are not (the address is checked at delivery).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_refuses_unsafe_endpoints_and_delivery_rechecks() -> Result<()> {
    let mut spec = spec(Backend::Postgres, 1).await?;
    let srv = spec.start().await?;
    let receiver = Receiver::start().await?;
    let t = srv.tenant("ocr:read").await?;
    let owner = srv.login(&t.owner_email, &t.owner_password).await?;
    let url = receiver.url();
    for (body, status, code) in [
        (
            json!({ "url": url, "event_types": ["api_key.revoked", "api_key.revoked"] }),
            422,
            "invalid_event_type",
        ),
        (
            json!({ "url": url, "event_types": [] }),
            422,
            "invalid_event_type",
        ),
        (
            json!({ "url": url, "event_types": ["api_key.revoked "] }),
            400,
            "bad_request",
        ),
        (
            json!({ "url": url, "event_types": ["API_KEY.REVOKED"] }),
            400,
            "bad_request",
        ),
        (
            json!({ "url": url, "event_types": ["*"] }),
            400,
            "bad_request",
        ),
        (
            json!({ "url": url, "event_types": ["api_key.revoked"], "timeout_seconds": 0 }),
            422,
            "invalid_timeout",
        ),
        (
            json!({ "url": url, "event_types": ["api_key.revoked"], "timeout_seconds": 31 }),
            422,
            "invalid_timeout",
        ),
        (
            json!({ "url": url, "event_types": ["api_key.revoked"], "description": "x".repeat(501) }),
            422,
            "invalid_name",
        ),
        (
            json!({ "url": url, "event_types": ["api_key.revoked"], "secret": "mine" }),
            400,
            "bad_request",
        ),
        (
            json!({ "url": "ftp://example.com/", "event_types": ["api_key.revoked"] }),
            422,
            "invalid_webhook_url",
        ),
    ] {
        let (s, b) = owner.post("/v1/webhooks/endpoints", body.clone()).await?;
        assert_eq!((s, b["code"].as_str()), (status, Some(code)), "{body}: {b}");
    }
    // A viewer reads but cannot register; no CSRF token, no change.
    let email = format!("v-{}@example.com", uuid::Uuid::new_v4().simple());
    let (_, created) = owner
        .post("/v1/members", json!({ "email": email, "role": "viewer" }))
        .await?;
    let viewer = srv
        .login_first_time(&email, &str_field(&created, "/password")?)
        .await?;
    let (s, b) = viewer
        .post(
            "/v1/webhooks/endpoints",
            json!({ "url": url, "event_types": ["api_key.revoked"] }),
        )
        .await?;
    assert_eq!((s, b["code"].as_str()), (403, Some("forbidden")));
    assert_eq!(viewer.get("/v1/webhooks/endpoints").await?.0, 200);
    let resp = owner
        .http
        .post(format!("{}/v1/webhooks/endpoints", owner.base))
        .json(&json!({ "url": url, "event_types": ["api_key.revoked"] }))
        .send()
        .await?;
    assert_eq!(resp.status(), 403);
    // At most 20 endpoints.
    let (endpoint, _) = register(&owner, &url, &["api_key.revoked"]).await?;
    for _ in 1..20 {
        register(&owner, &url, &["credit.low"]).await?;
    }
    let (s, b) = owner
        .post(
            "/v1/webhooks/endpoints",
            json!({ "url": url, "event_types": ["credit.low"] }),
        )
        .await?;
    assert_eq!((s, b["code"].as_str()), (409, Some("endpoint_limit")));
    srv.stop().await?;

    // Private endpoints no longer allowed.
    spec.webhooks.allow_private = false;
    let srv = spec.start().await?;
    let owner = srv.login(&t.owner_email, &t.owner_password).await?;
    for bad in [
        url.clone(),
        format!("https://127.0.0.1:{}/", receiver.port),
        "https://localhost/hook".to_owned(),
        "https://10.0.0.7/hook".to_owned(),
        "https://169.254.169.254/latest/meta-data/".to_owned(),
        "https://[::1]/hook".to_owned(),
        "https://[::ffff:127.0.0.1]/hook".to_owned(),
        "https://2130706433/hook".to_owned(),
        "https://user:pw@example.com/hook".to_owned(),
        "http://example.com/hook".to_owned(),
    ] {
        let (s, b) = owner
            .post(
                "/v1/webhooks/endpoints",
                json!({ "url": bad, "event_types": ["api_key.revoked"] }),
            )
            .await?;
        assert_eq!(
            (s, b["code"].as_str()),
            (422, Some("invalid_webhook_url")),
            "{bad}: {b}"
        );
        let (s, b) = owner
            .patch(
                &format!("/v1/webhooks/endpoints/{endpoint}"),
                json!({ "url": bad }),
            )
            .await?;
        assert_eq!(
            (s, b["code"].as_str()),
            (422, Some("invalid_webhook_url")),
            "{bad}: {b}"
        );
    }
    // The endpoint registered on loopback earlier: the attempt is refused before connecting.
    receiver.configure(&[], 0).await?;
    let (status, _) = owner.delete(&format!("/v1/keys/{}", t.key_id)).await?;
    assert_eq!(status, 204);
    let log = wait_for(|| async {
        let d = deliveries(&owner, &endpoint).await?;
        Ok(d.first().filter(|d| d["status"] == "failed").cloned())
    })
    .await?;
    let errors: Vec<&str> = log["log"]
        .as_array()
        .context("log")?
        .iter()
        .filter_map(|a| a["error"].as_str())
        .collect();
    assert_eq!(errors.len(), 2, "{log}");
    assert!(
        errors
            .iter()
            .all(|e| e.contains("not public") || e.contains("https")),
        "{errors:?}"
    );
    assert!(log["log"][0]["status_code"].is_null());
    assert_eq!(
        receiver.received().await?,
        Vec::<Value>::new(),
        "nothing was sent"
    );
    srv.stop().await
}

/// A delivery whose first attempt failed is retried by the next server on the same database:
/// the restart loses nothing, the id stays; a paused endpoint's deliveries wait and go out
/// on resume.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_and_pauses_lose_nothing() -> Result<()> {
    let mut spec = spec(Backend::Postgres, 3).await?;
    spec.webhooks.schedule = vec![Duration::from_secs(3); 3];
    let srv = spec.start().await?;
    let receiver = Receiver::start().await?;
    let t = srv.tenant("ocr:read").await?;
    let owner = srv.login(&t.owner_email, &t.owner_password).await?;
    let (endpoint, secret) = register(&owner, &receiver.url(), &["api_key.revoked"]).await?;
    receiver.configure(&[&secret], 1).await?;
    let (status, _) = owner.delete(&format!("/v1/keys/{}", t.key_id)).await?;
    assert_eq!(status, 204);
    let first = receiver.wait_for(1).await?;
    assert_eq!(first[0]["answered"], 500);
    srv.stop().await?;

    let srv = spec.start().await?;
    let got = receiver.wait_for(2).await?;
    assert_eq!(
        (&got[1]["id"], &got[1]["answered"], &got[1]["verified_with"]),
        (&got[0]["id"], &json!(204), &json!([0]))
    );
    let owner = srv.login(&t.owner_email, &t.owner_password).await?;
    let d = wait_for(|| async {
        let d = deliveries(&owner, &endpoint).await?;
        Ok(d.first().filter(|d| d["status"] == "delivered").cloned())
    })
    .await?;
    assert_eq!(d["attempts"], 2);

    // Paused: the event waits; resumed: it goes out.
    receiver.configure(&[&secret], 0).await?;
    let (status, paused) = owner
        .patch(
            &format!("/v1/webhooks/endpoints/{endpoint}"),
            json!({ "paused": true }),
        )
        .await?;
    assert_eq!((status, &paused["status"]), (200, &json!("paused")));
    let (_, key) = owner
        .post("/v1/keys", json!({ "name": "k2", "scopes": ["ocr:read"] }))
        .await?;
    let (status, _) = owner
        .delete(&format!("/v1/keys/{}", str_field(&key, "/key_id")?))
        .await?;
    assert_eq!(status, 204);
    let waiting = wait_for(|| async {
        let d = deliveries(&owner, &endpoint).await?;
        Ok((d.len() == 2).then_some(d))
    })
    .await?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        receiver.received().await?.len(),
        2,
        "nothing goes to a paused endpoint"
    );
    assert_eq!(
        (&waiting[0]["status"], &waiting[0]["attempts"]),
        (&json!("pending"), &json!(0))
    );
    let (status, _) = owner
        .patch(
            &format!("/v1/webhooks/endpoints/{endpoint}"),
            json!({ "paused": false }),
        )
        .await?;
    assert_eq!(status, 200);
    let got = receiver.wait_for(3).await?;
    assert_eq!(
        (&got[2]["body"]["type"], &got[2]["answered"]),
        (&json!("api_key.revoked"), &json!(204))
    );
    // Deleted: its log goes with it.
    let (status, _) = owner
        .delete(&format!("/v1/webhooks/endpoints/{endpoint}"))
        .await?;
    assert_eq!(status, 204);
    let (status, _) = owner
        .get(&format!("/v1/webhooks/endpoints/{endpoint}/deliveries"))
        .await?;
    assert_eq!(status, 404);
    srv.stop().await
}

/// The events that cost a tenant money arrive, from the actions that cause them: the usage
/// threshold of the plan's units, an invoice finalized by the billing job, the account
/// suspended past the due date, the invoice paid; and a key expiring within 7 days.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn billing_and_expiry_events_arrive() -> Result<()> {
    let start = mid_month()?;
    let clock = ManualClock::new(start);
    let mut spec = spec(Backend::Postgres, 3).await?;
    spec.billing.policy.due_days = 3;
    spec.billing.job_every = Some(Duration::from_millis(200));
    let srv = spec.start_with_clock(Arc::new(clock.clone())).await?;
    let receiver = Receiver::start().await?;
    let op = srv.operator_key().await?;
    let (t, plan_name) = billed_tenant(&srv, 0).await?;
    plan(&srv, &t, |p| p.monthly_units = 2).await?;
    let plan_name = srv
        .store()
        .tenant_plan(t.id.parse()?)
        .await?
        .map_or(plan_name, |p| p.name);
    let price = json!({ "currency": "EUR", "base_fee": 900, "included_units": 0,
                        "model": "per_unit", "unit": { "amount": 1 } });
    assert_eq!(set_price(&srv, &op, &plan_name, price).await?.0, 200);
    let owner = srv.login(&t.owner_email, &t.owner_password).await?;
    let all = [
        "usage.threshold_crossed",
        "invoice.finalized",
        "account.suspended",
        "invoice.paid",
        "api_key.expiring",
    ];
    let (_, secret) = register(&owner, &receiver.url(), &all).await?;
    receiver.configure(&[&secret], 0).await?;

    // One of the plan's two units: 50 %.
    assert_eq!(
        ocr(&srv, &t.key, &fixture("hello.png")?, None)
            .await?
            .status,
        200
    );
    let got = receiver.wait_for(1).await?;
    assert_eq!(got[0]["body"]["type"], "usage.threshold_crossed");
    assert_eq!(got[0]["body"]["data"]["percent"], 50);

    // A key that expires in 3 days.
    let expires = (clock.now() + chrono::Duration::days(3)).to_rfc3339();
    let (status, key) = owner
        .post(
            "/v1/keys",
            json!({ "name": "soon", "scopes": ["ocr:read"], "expires_at": expires }),
        )
        .await?;
    assert_eq!(status, 201, "{key}");
    let got = receiver.wait_for(2).await?;
    assert_eq!(got[1]["body"]["type"], "api_key.expiring");
    assert_eq!(
        got[1]["body"]["data"]["key_id"],
        str_field(&key, "/key_id")?.as_str()
    );

    // The period ends: finalized; past due: suspended; paid.
    let this = tollgate_core::plan::Period::of(start);
    clock.advance(this.end() - start + chrono::Duration::hours(2));
    let got = receiver.wait_for(3).await?;
    assert_eq!(got[2]["body"]["type"], "invoice.finalized");
    let invoice = got[2]["body"]["data"]["invoice_id"]
        .as_str()
        .context("invoice_id")?
        .to_owned();
    assert_eq!(got[2]["body"]["data"]["total"], 901);
    clock.advance(chrono::Duration::days(4));
    let got = receiver.wait_for(4).await?;
    assert_eq!(got[3]["body"]["type"], "account.suspended");
    let (status, _) = operator_post(
        &srv,
        &op,
        &format!("/v1/operator/invoices/{invoice}/pay"),
        json!({ "source": "bank transfer" }),
    )
    .await?;
    assert_eq!(status, 200);
    let got = receiver.wait_for(5).await?;
    assert_eq!(
        (
            &got[4]["body"]["type"],
            &got[4]["body"]["data"]["invoice_id"]
        ),
        (&json!("invoice.paid"), &json!(invoice))
    );
    assert!(
        got.iter().all(|g| g["verified_with"] == json!([0])),
        "{got:#?}"
    );
    // Each once, however often the job and the expiry scan ran meanwhile.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(receiver.received().await?.len(), 5);
    srv.stop().await
}

/// A tenant whose endpoints accept connections and never answer holds at most its own share
/// of the worker: another tenant's event is delivered at once, not after the hanging
/// attempts' timeouts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_tenant_does_not_hold_up_the_others() -> Result<()> {
    let srv = spec(Backend::Postgres, 1).await?.start().await?;
    let receiver = Receiver::start().await?;
    // Accepts, reads nothing, answers nothing; keeps every connection open.
    let tar_pit = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let pit = format!("http://{}/hook", tar_pit.local_addr()?);
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((sock, _)) = tar_pit.accept().await {
            open.push(sock);
        }
    });
    let slow = srv.tenant("ocr:read").await?;
    let slow_owner = srv.login(&slow.owner_email, &slow.owner_password).await?;
    for _ in 0..6 {
        let (status, b) = slow_owner
            .post(
                "/v1/webhooks/endpoints",
                json!({ "url": pit, "event_types": ["api_key.revoked"], "timeout_seconds": 20 }),
            )
            .await?;
        assert_eq!(status, 201, "{b}");
    }
    for i in 0..3 {
        let (_, key) = slow_owner
            .post(
                "/v1/keys",
                json!({ "name": format!("k{i}"), "scopes": ["ocr:read"] }),
            )
            .await?;
        let (status, _) = slow_owner
            .delete(&format!("/v1/keys/{}", str_field(&key, "/key_id")?))
            .await?;
        assert_eq!(status, 204);
    }
    // 18 deliveries of the slow tenant are due or hanging; now the other tenant's event.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let t = srv.tenant("ocr:read").await?;
    let owner = srv.login(&t.owner_email, &t.owner_password).await?;
    let (_, secret) = register(&owner, &receiver.url(), &["api_key.revoked"]).await?;
    receiver.configure(&[&secret], 0).await?;
    let asked = std::time::Instant::now();
    let (status, _) = owner.delete(&format!("/v1/keys/{}", t.key_id)).await?;
    assert_eq!(status, 204);
    let got = receiver.wait_for(1).await?;
    let took = asked.elapsed();
    assert_eq!(got[0]["body"]["data"]["tenant_id"], t.id.as_str());
    assert!(
        took < Duration::from_secs(10),
        "delivered after {took:?}, behind the hanging tenant's 20 s attempts"
    );
    held.abort();
    srv.stop().await
}
