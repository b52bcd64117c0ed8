//! The SDKs: what `openapi/generate` makes from the committed spec is what is committed, and
//! each SDK, installed from the repository the way a tenant developer installs it, gets a
//! token (and a new one before it expires, and when it is refused), reads an image, usage
//! and invoices, raises a typed 429, and retries a 429 after `Retry-After` with one
//! `Idempotency-Key` per call — checked against the server's own records.

use crate::billing::set_price;
use crate::harness::{fixture, Backend, Tenant, TestServer};
use crate::metering::{plan, send};
use anyhow::{Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub(crate) fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `cmd` off the async runtime; its output, or an error with both streams when it failed.
pub(crate) async fn run(mut cmd: Command, what: &str) -> Result<Output> {
    let what = what.to_string();
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await?
        .with_context(|| format!("starting {what}"))?;
    anyhow::ensure!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(out)
}

pub(crate) fn scratch(name: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "tollgate-sdk-{name}-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

#[tokio::test]
async fn the_committed_sdks_are_what_the_spec_generates() -> Result<()> {
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("openapi/generate")).arg("--check");
    let out = run(cmd, "openapi/generate --check").await?;
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("the SDKs are what the spec generates"),
        "{said}"
    );
    Ok(())
}

/// A tenant whose plan lets 3 calls through at once and 2 a second after, so a burst meets
/// a 429 with `Retry-After: 1`; priced, so it has a draft invoice.
async fn throttled_tenant(srv: &TestServer) -> Result<Tenant> {
    let t = srv.tenant("ocr:read usage:read billing:read").await?;
    plan(srv, &t, |p| {
        p.rate = 2.0;
        p.burst = 3;
    })
    .await?;
    let plan_name = srv
        .store()
        .tenant_plan(t.id.parse()?)
        .await?
        .context("a plan")?
        .name;
    let price = serde_json::json!({ "currency": "USD", "base_fee": 1_000, "included_units": 1,
                                    "model": "per_unit", "unit": { "amount": 10 } });
    let op = srv.operator_key().await?;
    assert_eq!(set_price(srv, &op, &plan_name, price).await?.0, 200);
    Ok(t)
}

/// A fresh virtual environment in `dir/venv` with only the Python SDK, installed as the README
/// says; its interpreter.
pub(crate) async fn install_python_sdk(dir: &Path) -> Result<PathBuf> {
    let mut venv = Command::new("python3");
    venv.args(["-m", "venv"]).arg(dir.join("venv"));
    run(venv, "python -m venv").await?;
    let py = dir.join("venv/bin/python");
    let mut install = Command::new(&py);
    install
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .arg(repo().join("openapi/python/tollgate-sdk"));
    run(install, "pip install ./openapi/python/tollgate-sdk").await?;
    Ok(py)
}

/// `dir` made an ES-module project of its own with only the TypeScript SDK, installed as the
/// README says.
pub(crate) async fn install_typescript_sdk(dir: &Path) -> Result<()> {
    std::fs::write(
        dir.join("package.json"),
        r#"{ "name": "sdk-e2e", "private": true, "type": "module" }"#,
    )?;
    let mut install = Command::new("npm");
    install
        .args([
            "install",
            "--silent",
            "--no-audit",
            "--no-fund",
            "--install-links",
        ])
        .arg(repo().join("openapi/typescript/tollgate-sdk"))
        .current_dir(dir);
    run(install, "npm install ./openapi/typescript/tollgate-sdk").await?;
    Ok(())
}

fn sdk_env(cmd: &mut Command, srv: &TestServer, t: &Tenant, image: &Path) {
    cmd.env("TOLLGATE_URL", &srv.base)
        .env("TOLLGATE_CLIENT_ID", &t.client_id)
        .env("TOLLGATE_CLIENT_SECRET", &t.client_secret)
        .env("TOLLGATE_IMAGE", image);
}

/// What either SDK's run reported, against the server's records.
async fn check_run(srv: &TestServer, t: &Tenant, out: &Output) -> Result<()> {
    let report: Value = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "the SDK run printed {:?} ({})",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let at = |p: &str| report.pointer(p).cloned().unwrap_or(Value::Null);
    assert_eq!(at("/tenant_id"), t.id.as_str(), "{report}");
    // One token for the first calls; none more a minute later; a second one when less than
    // the refresh margin is left, and a third after the second was revoked.
    assert_eq!(
        [
            at("/fetches_after_first_call"),
            at("/fetches_a_minute_later"),
            at("/fetches_near_expiry"),
            at("/distinct_bearers"),
            at("/revoke_status"),
            at("/fetches_after_revocation"),
        ],
        [1, 1, 2, 2, 200, 3].map(Value::from),
        "{report}"
    );
    assert_eq!(at("/text"), "Hello Tollgate 2026", "{report}");
    assert_eq!(
        at("/read_as"),
        "line",
        "the mode reached the server: {report}"
    );
    assert_eq!(
        (at("/usage/total_units"), at("/usage/total_calls")),
        (Value::from(1), Value::from(1)),
        "{report}"
    );
    let lines = at("/upcoming/lines");
    let sum: i64 = lines
        .as_array()
        .context("upcoming lines")?
        .iter()
        .map(|l| l["amount"].as_i64().unwrap_or(i64::MIN))
        .sum();
    assert_eq!(Value::from(sum), at("/upcoming/subtotal"), "{report}");
    assert_eq!(at("/invoices"), Value::Array(vec![]), "{report}");

    // The typed 429: its code, its Retry-After, and the request id the server logged.
    let limited = at("/rate_limited");
    assert_eq!(
        (
            &limited["class"],
            &limited["is_tollgate_error"],
            &limited["status"],
            &limited["code"]
        ),
        (
            &Value::from("RateLimited"),
            &Value::Bool(true),
            &Value::from(429),
            &Value::from("rate_limited")
        ),
        "{report}"
    );
    assert!(
        limited["retry_after"].as_f64().is_some_and(|s| s >= 1.0),
        "{report}"
    );
    let request_id = limited["request_id"].as_str().context("request_id")?;
    assert!(
        request_id.len() == 32 && request_id.bytes().all(|b| b.is_ascii_hexdigit()),
        "the server's request id: {report}"
    );

    // The retried call: throttled first, served after waiting each Retry-After, every
    // attempt with the call's one key; the next call has another key.
    let retried = at("/retried");
    assert_eq!(
        retried["texts"],
        serde_json::json!(["Hello Tollgate 2026", "Hello Tollgate 2026"]),
        "{report}"
    );
    let attempts = retried["attempts"].as_array().context("attempts")?;
    let first_key = key_of(&attempts[0])?;
    let served: Vec<usize> = attempts
        .iter()
        .enumerate()
        .filter(|(_, a)| a[0] == 200)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(served.len(), 2, "two calls served: {report}");
    let (one, two) = (&attempts[..=served[0]], &attempts[served[0] + 1..]);
    assert!(
        one.len() >= 2 && one[0][0] == 429,
        "first call throttled first: {report}"
    );
    assert!(
        one.iter()
            .all(|a| key_of(a).ok().as_deref() == Some(&first_key)),
        "{report}"
    );
    let second_key = key_of(&two[0])?;
    assert_ne!(first_key, second_key, "{report}");
    assert!(
        two.iter()
            .all(|a| key_of(a).ok().as_deref() == Some(&second_key)),
        "{report}"
    );
    let sleeps = retried["sleeps"].as_array().context("sleeps")?;
    assert!(
        !sleeps.is_empty() && sleeps.iter().all(|s| s.as_f64() == Some(1.0)),
        "each wait is the server's Retry-After (1 s): {report}"
    );

    // Every call served is a unit recorded, once: the first image and the two retried calls.
    // The run ends rate limited on this key, so this read waits out the server's Retry-After
    // as a client must.
    let mut tries = 0;
    let usage = loop {
        let usage = send(
            reqwest::Client::new()
                .get(srv.url("/v1/usage"))
                .header("x-api-key", &t.key),
        )
        .await?;
        tries += 1;
        if usage.status != 429 || tries > 3 {
            break usage;
        }
        let wait: u64 = crate::metering::header(&usage, "retry-after")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
    };
    assert_eq!(
        (
            usage.status,
            &usage.body["total_units"],
            &usage.body["total_calls"]
        ),
        (200, &Value::from(3), &Value::from(3)),
        "the server's usage {} after the run {report}",
        usage.body
    );
    Ok(())
}

/// A refresh in flight (its token request held at the wire) did not hold up a call whose token
/// was still valid, and made one new token.
fn check_refresh(out: &Output) -> Result<()> {
    let report: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(
        report["refresh"],
        serde_json::json!({ "token_request_held": true, "served_while_refreshing": true,
                            "fetches": 2 }),
        "{report}"
    );
    Ok(())
}

fn key_of(attempt: &Value) -> Result<String> {
    let key = attempt[1]
        .as_str()
        .context("an Idempotency-Key on every OCR attempt")?;
    anyhow::ensure!(uuid::Uuid::parse_str(key).is_ok(), "not a UUID: {key}");
    Ok(key.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_installed_from_the_repo_works_end_to_end() -> Result<()> {
    let srv = TestServer::start(Backend::Postgres).await?;
    let t = throttled_tenant(&srv).await?;
    let dir = scratch("python")?;
    let image = dir.join("hello.png");
    std::fs::write(&image, fixture("hello.png")?)?;
    let py = install_python_sdk(&dir).await?;
    let mut e2e = Command::new(&py);
    e2e.arg(repo().join("tests/sdk/python_e2e.py"))
        .env("PYTHONDONTWRITEBYTECODE", "1");
    sdk_env(&mut e2e, &srv, &t, &image);
    let out = run(e2e, "tests/sdk/python_e2e.py").await?;
    check_run(&srv, &t, &out).await?;
    check_refresh(&out)?;
    let _ = std::fs::remove_dir_all(&dir);
    srv.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_sdk_installed_from_the_repo_works_end_to_end() -> Result<()> {
    let srv = TestServer::start(Backend::Postgres).await?;
    let t = throttled_tenant(&srv).await?;
    let dir = scratch("typescript")?;
    let image = dir.join("hello.png");
    std::fs::write(&image, fixture("hello.png")?)?;
    install_typescript_sdk(&dir).await?;
    std::fs::copy(repo().join("tests/sdk/ts_e2e.mjs"), dir.join("e2e.mjs"))?;
    let mut e2e = Command::new("node");
    e2e.arg(dir.join("e2e.mjs")).current_dir(&dir);
    sdk_env(&mut e2e, &srv, &t, &image);
    let out = run(e2e, "tests/sdk/ts_e2e.mjs").await?;
    check_run(&srv, &t, &out).await?;
    check_refresh(&out)?;
    let _ = std::fs::remove_dir_all(&dir);
    srv.stop().await
}
