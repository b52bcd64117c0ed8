//! The admin portal as a person uses it: `admin-ui/e2e/walk.mjs` drives Debian's Chromium
//! (Playwright) through sign-in, refresh, a server restart, keys, real OCR calls and the
//! playground, webhooks and a delivery's replay, clients, members, the dashboard, the draft
//! invoice, the audit log and its export, and a first sign-in on a one-time password,
//! against the real binary on PostgreSQL and Redis; this test starts and restarts the
//! server for it and checks the database afterwards. Also: how `/admin` is served.

use crate::cli::{run_status, serve};
use crate::harness::{str_field, Backend, ServerSpec, TestServer};
use anyhow::{Context, Result};
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use tollgate_core::plan::Plan;

fn stop(child: &mut Child) -> Result<()> {
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status()?;
    child.wait()?;
    Ok(())
}

/// Where the walk's screenshots go: `target/portal-screenshots/` of this build.
fn screenshots() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let target = exe
        .parent()
        .and_then(|d| d.parent())
        .and_then(|d| d.parent())
        .context("target dir")?;
    Ok(target.join("portal-screenshots"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_walks_the_portal_in_chromium() -> Result<()> {
    let spec = ServerSpec::new(Backend::Postgres, true).await?;
    // The seed: a tenant with an owner, on a priced plan; a viewer on a one-time password.
    let seed = spec.start().await?;
    let t = seed.tenant("ocr:read").await?;
    let plan = Plan {
        name: format!("portal-{}", uuid::Uuid::new_v4().simple()),
        rate: 100.0,
        burst: 100,
        monthly_units: 500,
        overage: true,
        ..Plan::default_plan()
    };
    seed.store().create_plan(&plan, chrono::Utc::now()).await?;
    let op = seed.operator_key().await?;
    let (status, _) = crate::billing::set_price(
        &seed,
        &op,
        &plan.name,
        json!({ "currency": "USD", "base_fee": 4900, "included_units": 100,
                "model": "per_unit", "unit": { "amount": 1, "per": 1 } }),
    )
    .await?;
    assert_eq!(status, 200);
    seed.store()
        .set_tenant_plan(t.id.parse()?, &plan.name, chrono::Utc::now())
        .await?;
    // The tenant's identity provider (a real OpenID provider), for the server on `port`.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let idp =
        crate::oidc::Provider::start(&format!("http://127.0.0.1:{port}/v1/session/oidc/callback"))
            .await?;
    let (status, body) = crate::oidc::operator(
        &seed,
        reqwest::Method::PUT,
        &format!("/v1/operator/tenants/{}/oidc", t.id),
        &op,
        Some(json!({ "issuer": idp.issuer, "client_id": idp.client_id,
                "client_secret": idp.client_secret, "allowed_domain": "sso.example.com",
                "default_role": "viewer" })),
    )
    .await?;
    assert_eq!(status, 200, "{body}");
    seed.stop().await?;
    let otp_email = format!("viewer-{}@example.com", uuid::Uuid::new_v4().simple());
    let (ok, created, stderr) = run_status(
        &spec,
        &[
            "admin", "create", "--tenant", &t.id, "--email", &otp_email, "--role", "viewer",
        ],
    )?;
    assert!(ok, "{stderr}");
    let otp_password = str_field(&created, "/password")?;

    let mut server = serve(&spec, port).await?;
    let image = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../eval/fixtures/hello.png");
    let shots = screenshots()?;
    // This run's screenshots only.
    let _ = std::fs::remove_dir_all(&shots);
    let ui = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../admin-ui");
    let calls = 3;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut walk = Command::new("node")
        .arg("e2e/walk.mjs")
        .current_dir(&ui)
        .env("BASE", format!("http://127.0.0.1:{port}"))
        .env("OWNER_EMAIL", &t.owner_email)
        .env("OWNER_PASSWORD", &t.owner_password)
        .env("OTP_EMAIL", &otp_email)
        .env("OTP_PASSWORD", &otp_password)
        .env("IMAGE", &image)
        .env("OCR_CALLS", calls.to_string())
        .env("HOOK_URL", format!("http://127.0.0.1:{closed}/hook"))
        .env("SCREENSHOTS", &shots)
        .env("OIDC_ISSUER", &idp.issuer)
        .env("OIDC_EMAIL", "dana@sso.example.com")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("running node (the browser tests need Node.js 20)")?;
    let mut to_walk = walk.stdin.take().context("stdin")?;
    let from_walk = BufReader::new(walk.stdout.take().context("stdout")?);
    for line in from_walk.lines() {
        let line = line?;
        if line == "RESTART" {
            stop(&mut server)?;
            server = serve(&spec, port).await?;
            writeln!(to_walk, "RESTARTED")?;
            to_walk.flush()?;
        } else {
            eprintln!("walk: {line}");
        }
    }
    let status = walk.wait()?;
    stop(&mut server)?;
    assert!(status.success(), "the browser walk failed: {status}");

    // What the walk did is in the database: its key revoked by the owner, its calls metered.
    let check = spec.start().await?;
    let tenant = t.id.parse()?;
    let keys = check.auth().list_keys(tenant).await?;
    let browser_key = keys
        .iter()
        .find(|k| k.name == "browser key")
        .context("the key the walk created")?;
    assert!(browser_key.revoked_at.is_some());
    let period = tollgate_core::plan::Period::of(chrono::Utc::now()).key();
    // The page's calls and the playground's one.
    assert_eq!(check.store().usage_units(tenant, &period).await?, calls + 1);
    let members = check.store().list_admins(tenant).await?;
    let viewer = members
        .iter()
        .find(|m| m.email == otp_email)
        .context("the viewer")?;
    assert!(!viewer.must_change_password);
    for shot in [
        "sign-in",
        "keys-empty",
        "keys-created",
        "playground",
        "webhooks",
        "clients",
        "members",
        "dashboard",
        "invoices",
        "audit",
        "password-required",
        "oidc-signed-in",
        "oidc-refused",
    ] {
        for width in ["1280", "390"] {
            let path = shots.join(format!("{shot}-{width}.png"));
            assert!(path.exists(), "{} was not written", path.display());
        }
    }
    check.stop().await?;
    Ok(())
}

/// `/admin/...` is the app (deep links included, with a strict CSP); a missing asset, an
/// unknown `/v1/...` path and a write to the portal are problem+json.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_is_served_with_deep_links() -> Result<()> {
    let srv = TestServer::start(Backend::Sqlite).await?;
    let http = reqwest::Client::new();
    for path in [
        "/admin",
        "/admin/",
        "/admin/keys",
        "/admin/invoices/2026-11",
    ] {
        let resp = http.get(srv.url(path)).send().await?;
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        assert_eq!(header("content-type"), "text/html; charset=utf-8", "{path}");
        assert_eq!(header("cache-control"), "no-cache");
        assert!(header("content-security-policy").contains("script-src 'self'"));
        assert_eq!(header("x-frame-options"), "DENY");
        let html = resp.text().await?;
        assert!(html.contains("/admin/assets/"), "{path}: {html}");
    }
    let html = http.get(srv.url("/admin/")).send().await?.text().await?;
    let script = html
        .split("src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .context("a script in index.html")?
        .to_owned();
    let js = http.get(srv.url(&script)).send().await?;
    assert_eq!(js.status().as_u16(), 200);
    assert!(js
        .headers()
        .get("cache-control")
        .is_some_and(|v| v.as_bytes().ends_with(b"immutable")));
    for (method, path, status) in [
        (reqwest::Method::GET, "/admin/assets/missing.js", 404),
        (reqwest::Method::GET, "/v1/keyz", 404),
        (reqwest::Method::POST, "/admin/keys", 405),
    ] {
        let resp = http.request(method, srv.url(path)).send().await?;
        assert_eq!(resp.status().as_u16(), status, "{path}");
        assert!(resp
            .headers()
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json")));
    }
    srv.stop().await
}
