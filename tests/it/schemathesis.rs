//! The contract against the server: schemathesis (tests/python/requirements.txt) generates
//! requests from the committed `openapi/openapi.yaml` and checks every answer — no 5xx, and
//! status, content type, headers and body as the spec documents them — as an API key, a
//! portal session, the operator and nobody. Bounded (a few thousand cases in all), one worker,
//! a fixed seed; any failure fails the test with schemathesis' report.

use crate::harness::{Backend, TestServer};
use crate::metering::plan;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

fn schemathesis() -> Result<PathBuf> {
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/schemathesis");
    anyhow::ensure!(
        bin.exists(),
        "schemathesis is missing: run scripts/test (it installs tests/python/requirements.txt into .venv)"
    );
    Ok(bin)
}

/// One schemathesis run as `who`, with `headers` and extra arguments; its report on failure.
fn run(base: &str, dir: &Path, who: &str, headers: &[String], extra: &[&str]) -> Result<()> {
    let spec = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi/openapi.yaml");
    let config = dir.join("schemathesis.toml");
    std::fs::write(&config, "[cache]\nenabled = false\n")?;
    let mut cmd = Command::new(schemathesis()?);
    cmd.current_dir(dir)
        .env("HYPOTHESIS_STORAGE_DIRECTORY", dir.join("hypothesis"))
        .arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(&spec)
        .args(["--url", base])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_headers_conformance,response_schema_conformance",
        ])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--workers", "1", "--seed", "20261201"])
        .args(["--generation-with-security-parameters", "false"])
        .args(["--generation-database", "none"])
        .args(["--request-timeout", "30", "--no-color"])
        .arg("--report")
        .arg("junit")
        .arg("--report-junit-path")
        .arg(dir.join(format!("{who}.xml")));
    for h in headers {
        cmd.args(["--header", h]);
    }
    cmd.args(extra);
    let out = cmd.output().context("running schemathesis")?;
    let report = String::from_utf8_lossy(&out.stdout);
    let tail: String = report
        .lines()
        .rev()
        .take(200)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    anyhow::ensure!(
        out.status.success(),
        "schemathesis as {who} failed ({}):\n{tail}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let cases = report
        .lines()
        .find(|l| {
            let l = l.trim_start();
            l.starts_with(|c: char| c.is_ascii_digit()) && l.contains(" generated")
        })
        .unwrap_or("no case count");
    eprintln!("schemathesis as {who}: {}", cases.trim());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_keeps_its_openapi_contract() -> Result<()> {
    let srv = TestServer::start(Backend::Postgres).await?;
    let t = srv
        .tenant("ocr:read usage:read audit:read billing:read")
        .await?;
    // Generous limits, so the run exercises the operations rather than the rate limiter.
    plan(&srv, &t, |p| {
        p.rate = 10_000.0;
        p.burst = 10_000;
    })
    .await?;
    let portal = srv.login(&t.owner_email, &t.owner_password).await?;
    let operator = srv.operator_key().await?;
    let dir = std::env::temp_dir().join(format!(
        "tollgate-schemathesis-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir)?;
    let base = srv.base.clone();
    let (key, cookie, csrf) = (t.key.clone(), portal.cookie.clone(), portal.csrf.clone());
    tokio::task::spawn_blocking(move || -> Result<()> {
        run(
            &base,
            &dir,
            "api-key",
            &[format!("X-API-Key: {key}")],
            &[
                "--max-examples",
                "25",
                "--exclude-path-regex",
                "^/v1/operator/",
            ],
        )?;
        // Signing out would end the session for the rest of the run.
        run(
            &base,
            &dir,
            "session",
            &[format!("Cookie: {cookie}"), format!("X-CSRF-Token: {csrf}")],
            &["--max-examples", "25", "--exclude-operation-id", "logout"],
        )?;
        run(
            &base,
            &dir,
            "operator",
            &[format!("X-API-Key: {operator}")],
            &[
                "--max-examples",
                "25",
                "--include-path-regex",
                "^/v1/operator/",
            ],
        )?;
        run(&base, &dir, "anonymous", &[], &["--max-examples", "10"])?;
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    })
    .await??;
    srv.stop().await
}
