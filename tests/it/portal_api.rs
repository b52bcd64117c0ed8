//! Portal sign-in at the API: a one-time password allows nothing but choosing a new one, a
//! password change ends the admin's other sessions, and a session ends after inactivity
//! (or its lifetime) with `session_expired` (the clock is moved, not waited for).

use crate::both_backends;
use crate::harness::{str_field, Backend, ServerSpec, TestServer};
use anyhow::Result;
use serde_json::json;
use std::sync::Arc;

both_backends!(
    a_one_time_password_allows_only_changing_it,
    an_idle_session_ends_and_says_so,
    a_password_change_wins_once_and_outlives_no_old_sign_in,
    password_guesses_back_off_even_in_a_burst,
);

/// Wrong current passwords back off like logins: a burst of ten at once gets exactly five
/// checks (403) and five refusals (429); the Retry-After is honest (after it, a check runs);
/// the right password with a weak new one is no failed guess.
async fn password_guesses_back_off_even_in_a_burst(backend: Backend) -> Result<()> {
    let clock = tollgate_core::ManualClock::new(chrono::Utc::now());
    let spec = ServerSpec::new(backend, false).await?;
    let srv = spec.start_with_clock(Arc::new(clock.clone())).await?;
    let (_, email, otp) = viewer_on_a_one_time_password(&srv).await?;
    let member = srv.login(&email, &otp).await?;
    let guess = |n: usize| json!({ "current_password": format!("guess {n}"), "new_password": "a long new passphrase" });
    // The right password with a short new one, three times: refused as weak, not counted.
    for _ in 0..3 {
        let weak = json!({ "current_password": otp, "new_password": "short" });
        assert_eq!(member.post("/v1/session/password", weak).await?.0, 422);
    }
    let burst =
        futures::future::join_all((0..10).map(|n| member.post("/v1/session/password", guess(n))))
            .await;
    let mut statuses: Vec<u16> = burst
        .into_iter()
        .map(|r| r.map(|(s, _)| s))
        .collect::<Result<_>>()?;
    statuses.sort_unstable();
    assert_eq!(statuses, [403, 403, 403, 403, 403, 429, 429, 429, 429, 429]);
    // Blocked: even the right password waits.
    let right = json!({ "current_password": otp, "new_password": "a long new passphrase" });
    let (status, body) = member.post("/v1/session/password", right.clone()).await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("too_many_attempts"))
    );
    // After the block (one second past the threshold), the check runs.
    clock.advance(chrono::Duration::seconds(2));
    let (status, _) = member.post("/v1/session/password", right).await?;
    assert_eq!(status, 200);
    srv.stop().await
}

/// Two changes at once: one wins, the other is refused (never both, never the loser's
/// password in force). A sign-in checked against the old password that lands
/// after the change (its session row written with the old epoch) does not live.
async fn a_password_change_wins_once_and_outlives_no_old_sign_in(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let (tenant, email, otp) = viewer_on_a_one_time_password(&srv).await?;
    let (one, two) = (
        srv.login(&email, &otp).await?,
        srv.login(&email, &otp).await?,
    );
    let change = |new: &str| json!({ "current_password": otp, "new_password": new });
    let (a, b) = tokio::join!(
        one.post("/v1/session/password", change("first new passphrase")),
        two.post("/v1/session/password", change("second new passphrase")),
    );
    let (a, b) = (a?, b?);
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    let (winner, loser, password) = if a.0 == 200 {
        (&one, &b, "first new passphrase")
    } else {
        (&two, &a, "second new passphrase")
    };
    // In one process the checks run one at a time, so the second finds the password it
    // gives already replaced (403); across instances the conditional update refuses it (409).
    let lost = (loser.0, loser.1["code"].as_str());
    assert!(
        statuses[0] == 200
            && matches!(
                lost,
                (403, Some("wrong_password")) | (409, Some("password_changed"))
            ),
        "{a:?} {b:?}"
    );
    assert_eq!(winner.get("/v1/keys").await?.0, 200);
    srv.login(&email, password).await?;
    let stale = reqwest::Client::new()
        .post(srv.url("/v1/session"))
        .json(&json!({ "email": email, "password": otp }))
        .send()
        .await?;
    assert_eq!(stale.status().as_u16(), 401);
    // A session written as a sign-in checked before the change would write it.
    let admin = srv
        .store()
        .list_admins(tenant)
        .await?
        .into_iter()
        .find(|m| m.email == email)
        .ok_or_else(|| anyhow::anyhow!("the member"))?;
    assert_eq!(admin.password_epoch, 1);
    let token = "a".repeat(43);
    let now = chrono::Utc::now();
    srv.store()
        .create_session(
            &tollgate_auth::secret::digest(&token),
            tollgate_core::AdminId(admin.id),
            tenant,
            "csrf",
            0,
            now,
            now + chrono::Duration::hours(1),
        )
        .await?;
    let old = reqwest::Client::new()
        .get(srv.url("/v1/session"))
        .header("cookie", format!("tollgate_session={token}"))
        .send()
        .await?;
    assert_eq!(old.status().as_u16(), 401);
    srv.stop().await
}

/// `GET /v1/plan` is the caller's own tenant's plan and units, for a credential with
/// `usage:read` (or a portal session); without the scope it is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_is_the_callers_own() -> Result<()> {
    let srv = TestServer::start(Backend::Postgres).await?;
    let reader = srv.tenant("usage:read").await?;
    let other = srv.tenant("ocr:read").await?;
    let plan = |key: String| {
        let http = reqwest::Client::new();
        let url = srv.url("/v1/plan");
        async move {
            let resp = http.get(url).header("x-api-key", key).send().await?;
            let status = resp.status().as_u16();
            anyhow::Ok((status, resp.json::<serde_json::Value>().await?))
        }
    };
    // The reader's tenant has a plan of its own and a unit recorded; the other has neither.
    let own = tollgate_core::plan::Plan {
        name: format!("own-{}", uuid::Uuid::new_v4().simple()),
        monthly_units: 77,
        ..tollgate_core::plan::Plan::default_plan()
    };
    srv.store().create_plan(&own, chrono::Utc::now()).await?;
    srv.store()
        .set_tenant_plan(reader.id.parse()?, &own.name, chrono::Utc::now())
        .await?;
    let ocr = reqwest::Client::new()
        .post(srv.url("/v1/ocr"))
        .header("x-api-key", &other.key)
        .header("content-type", "image/png")
        .body(crate::harness::fixture("hello.png")?)
        .send()
        .await?;
    assert_eq!(ocr.status().as_u16(), 200);
    let (status, body) = plan(reader.key.clone()).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["name"], &body["monthly_units"], &body["period_units"]),
        (&json!(own.name), &json!(77), &json!(0))
    );
    let (status, body) = plan(other.key.clone()).await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("insufficient_scope"))
    );
    let owner = srv.login(&other.owner_email, &other.owner_password).await?;
    let (status, body) = owner.get("/v1/plan").await?;
    assert_eq!(
        (status, &body["name"], &body["period_units"]),
        (200, &json!("default"), &json!(1))
    );
    srv.stop().await
}

async fn viewer_on_a_one_time_password(
    srv: &TestServer,
) -> Result<(tollgate_core::TenantId, String, String)> {
    let t = srv.tenant("ocr:read").await?;
    let owner = srv.login(&t.owner_email, &t.owner_password).await?;
    let email = format!("m-{}@example.com", uuid::Uuid::new_v4().simple());
    let (status, created) = owner
        .post("/v1/members", json!({ "email": email, "role": "viewer" }))
        .await?;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["member"]["must_change_password"], true);
    Ok((t.id.parse()?, email, str_field(&created, "/password")?))
}

async fn a_one_time_password_allows_only_changing_it(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let (tenant, email, otp) = viewer_on_a_one_time_password(&srv).await?;
    let earlier = srv.login(&email, &otp).await?;
    let member = srv.login(&email, &otp).await?;
    let (status, session) = member.get("/v1/session").await?;
    assert_eq!(
        (status, &session["must_change_password"], &session["role"]),
        (200, &json!(true), &json!("viewer"))
    );
    // Every other portal call is refused until the password is changed, reads and writes.
    for path in [
        "/v1/keys",
        "/v1/members",
        "/v1/usage",
        "/v1/plan",
        "/v1/audit-events",
    ] {
        let (status, body) = member.get(path).await?;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("password_change_required")),
            "{path}"
        );
    }
    for (path, body) in [
        ("/v1/keys", json!({ "name": "k", "scopes": ["ocr:read"] })),
        (
            "/v1/clients",
            json!({ "name": "c", "scopes": ["ocr:read"] }),
        ),
        (
            "/v1/members",
            json!({ "email": "x@example.com", "role": "owner" }),
        ),
    ] {
        let (status, answer) = member.post(path, body).await?;
        assert_eq!(
            (status, answer["code"].as_str()),
            (403, Some("password_change_required")),
            "{path}"
        );
    }
    let change =
        |current: &str, new: &str| json!({ "current_password": current, "new_password": new });
    // Without the CSRF token: refused.
    let no_csrf = member
        .http
        .post(format!("{}/v1/session/password", member.base))
        .json(&change(&otp, "a long new passphrase"))
        .send()
        .await?;
    assert_eq!(no_csrf.status().as_u16(), 403);
    let cases = [
        (
            change("not it", "a long new passphrase"),
            403,
            "wrong_password",
        ),
        (change(&otp, "short"), 422, "weak_password"),
        (change(&otp, &otp), 422, "weak_password"),
    ];
    for (body, want_status, want_code) in cases {
        let (status, answer) = member.post("/v1/session/password", body).await?;
        assert_eq!(
            (status, answer["code"].as_str()),
            (want_status, Some(want_code))
        );
    }
    // Unknown fields (an admin id smuggled in) are refused: only one's own password changes.
    let mut smuggled = change(&otp, "a long new passphrase");
    smuggled["admin_id"] = json!(uuid::Uuid::new_v4().to_string());
    assert_eq!(member.post("/v1/session/password", smuggled).await?.0, 400);

    let (status, after) = member
        .post(
            "/v1/session/password",
            change(&otp, "a long new passphrase"),
        )
        .await?;
    assert_eq!(
        (status, &after["must_change_password"]),
        (200, &json!(false))
    );
    assert_eq!(member.get("/v1/keys").await?.0, 200);
    // The other session (signed in on the one-time password) ended; the old password is gone.
    let (status, body) = earlier.get("/v1/session").await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("session_required"))
    );
    let stale = reqwest::Client::new()
        .post(srv.url("/v1/session"))
        .json(&json!({ "email": email, "password": otp }))
        .send()
        .await?;
    assert_eq!(stale.status().as_u16(), 401);
    srv.login(&email, "a long new passphrase").await?;
    // The change is audited on the tenant's chain.
    let events = srv.store().audit_events(Some(tenant)).await?;
    assert!(events
        .iter()
        .any(|e| e.action == "password.changed" && e.outcome == "success"));
    assert!(events
        .iter()
        .any(|e| e.action == "password.change_failed" && e.outcome == "failure"));
    srv.stop().await
}

async fn an_idle_session_ends_and_says_so(backend: Backend) -> Result<()> {
    let clock = tollgate_core::ManualClock::new(chrono::Utc::now());
    let spec = ServerSpec::new(backend, false).await?;
    let srv = spec.start_with_clock(Arc::new(clock.clone())).await?;
    let t = srv.tenant("ocr:read").await?;
    let portal = srv.login(&t.owner_email, &t.owner_password).await?;
    let (status, session) = portal.get("/v1/session").await?;
    assert_eq!(
        (status, &session["idle_timeout_seconds"]),
        (200, &json!(1800))
    );
    // Used every 29 minutes, it lives on.
    for _ in 0..4 {
        clock.advance(chrono::Duration::minutes(29));
        assert_eq!(portal.get("/v1/keys").await?.0, 200);
    }
    // 31 minutes idle: it ended, and the answer says why (once: the row is gone after).
    clock.advance(chrono::Duration::minutes(31));
    let (status, body) = portal.get("/v1/keys").await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("session_expired"))
    );
    let (status, body) = portal.get("/v1/session").await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("session_required"))
    );
    // However busy, a session ends at its lifetime (12 hours).
    let busy = srv.login(&t.owner_email, &t.owner_password).await?;
    let mut lived = chrono::Duration::zero();
    let ended = loop {
        clock.advance(chrono::Duration::minutes(20));
        lived += chrono::Duration::minutes(20);
        let (status, body) = busy.get("/v1/session").await?;
        if status != 200 {
            break (status, body["code"].as_str().map(str::to_owned));
        }
        anyhow::ensure!(
            lived < chrono::Duration::hours(13),
            "the session outlived its lifetime"
        );
    };
    assert_eq!(ended, (401, Some("session_expired".to_owned())));
    assert_eq!(lived, chrono::Duration::hours(12));
    srv.stop().await
}
