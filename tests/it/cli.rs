//! The operator CLI, as a person runs it: the real binary, `--json` output, against the
//! database of a running server (PostgreSQL here), the secrets it prints usable at once.

use crate::harness::{Backend, ServerSpec};
use anyhow::{Context, Result};
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};

pub(crate) fn binary() -> Result<std::path::PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .context("target dir")?;
    let bin = dir.join("tollgate");
    anyhow::ensure!(
        bin.exists(),
        "{} not built: run `cargo build -p tollgate` first (scripts/test does)",
        bin.display()
    );
    Ok(bin)
}

/// `tollgate serve` (the real binary) for `spec` on 127.0.0.1:`port`, with Redis when the
/// spec has it, waited for until `/readyz` answers 200.
pub(crate) async fn serve(spec: &ServerSpec, port: u16) -> Result<std::process::Child> {
    serve_with(spec, port, &[]).await
}

/// [`serve`] with more environment variables.
pub(crate) async fn serve_with(
    spec: &ServerSpec,
    port: u16,
    env: &[(&str, &str)],
) -> Result<std::process::Child> {
    let mut cmd = Command::new(binary()?);
    cmd.envs(env.iter().copied());
    cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("TOLLGATE_DATA_DIR", &spec.data_dir)
        .env("TOLLGATE_MASTER_KEY", spec.master_key.to_base64())
        .env("TOLLGATE_REDIS_PREFIX", &spec.redis_prefix)
        .env(
            "TOLLGATE_WEBHOOK_ALLOW_PRIVATE",
            if spec.webhooks.allow_private {
                "1"
            } else {
                "0"
            },
        )
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    match &spec.database_url {
        Some(url) => cmd.env("DATABASE_URL", url),
        None => cmd.env_remove("DATABASE_URL"),
    };
    match &spec.redis_url {
        Some(url) => cmd.env("REDIS_URL", url),
        None => cmd.env_remove("REDIS_URL"),
    };
    let mut child = cmd.spawn()?;
    let ready = format!("http://127.0.0.1:{port}/readyz");
    for _ in 0..300 {
        if reqwest::get(&ready).await.is_ok_and(|r| r.status() == 200) {
            return Ok(child);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    anyhow::bail!("the server did not become ready")
}

pub(crate) fn run(spec: &ServerSpec, args: &[&str], stdin: Option<&str>) -> Result<Value> {
    let (ok, value, stderr) = run_with(spec, args, stdin)?;
    anyhow::ensure!(ok, "{args:?} failed: {stderr}");
    Ok(value)
}

/// Runs the CLI with `--json` against `spec`'s database: success, the JSON it printed
/// (`Null` when none) and its standard error.
pub(crate) fn run_status(spec: &ServerSpec, args: &[&str]) -> Result<(bool, Value, String)> {
    run_with(spec, args, None)
}

/// The CLI with `args` against `spec`'s database, its output piped (no `--json`).
pub(crate) fn command(spec: &ServerSpec, args: &[&str]) -> Result<Command> {
    let mut cmd = Command::new(binary()?);
    cmd.args(args)
        .env("TOLLGATE_DATA_DIR", &spec.data_dir)
        .env("TOLLGATE_MASTER_KEY", spec.master_key.to_base64())
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match &spec.database_url {
        Some(url) => cmd.env("DATABASE_URL", url),
        None => cmd.env_remove("DATABASE_URL"),
    };
    cmd.env_remove("REDIS_URL");
    match &spec.stripe {
        Some(s) => {
            cmd.env("STRIPE_API_KEY", &s.client.api_key);
            cmd.env(
                "STRIPE_API_BASE",
                s.client.api_base.clone().unwrap_or_default(),
            );
        }
        None => {
            cmd.env_remove("STRIPE_API_KEY")
                .env_remove("STRIPE_API_BASE");
        }
    }
    Ok(cmd)
}

fn run_with(
    spec: &ServerSpec,
    args: &[&str],
    stdin: Option<&str>,
) -> Result<(bool, Value, String)> {
    let mut cmd = command(spec, args)?;
    cmd.arg("--json");
    let mut child = cmd.spawn()?;
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .context("stdin")?
            .write_all(input.as_bytes())?;
    }
    drop(child.stdin.take());
    let out = child.wait_with_output()?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = String::from_utf8(out.stdout)?;
    if !out.status.success() {
        return Ok((
            false,
            serde_json::from_str(&stdout).unwrap_or(Value::Null),
            stderr,
        ));
    }
    anyhow::ensure!(
        stdout.lines().count() == 1,
        "one JSON object expected, got: {stdout}"
    );
    Ok((true, serde_json::from_str(&stdout)?, stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_commands_work_against_a_running_server() -> Result<()> {
    let spec = ServerSpec::new(Backend::Postgres, false).await?;
    let srv = spec.start().await?;
    let tenant = run(&spec, &["tenant", "create", "--name", "Acme"], None)?;
    let tenant_id = tenant["tenant_id"]
        .as_str()
        .context("tenant_id")?
        .to_owned();

    let admin = run(
        &spec,
        &[
            "admin",
            "create",
            "--tenant",
            &tenant_id,
            "--email",
            "Ops@Acme.example",
            "--role",
            "owner",
        ],
        None,
    )?;
    let password = admin["password"].as_str().context("generated password")?;
    assert_eq!(admin["email"], "ops@acme.example");
    srv.login("ops@acme.example", password).await?;
    let chosen = run(
        &spec,
        &[
            "admin",
            "create",
            "--tenant",
            &tenant_id,
            "--email",
            "second@acme.example",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        Some("a chosen password 123\n"),
    )?;
    assert!(
        chosen["password"].is_null(),
        "a password read from stdin is not echoed"
    );
    srv.login("second@acme.example", "a chosen password 123")
        .await?;

    let client = run(
        &spec,
        &[
            "client",
            "create",
            "--tenant",
            &tenant_id,
            "--name",
            "ci",
            "--scopes",
            "ocr:read usage:read",
        ],
        None,
    )?;
    let token = srv
        .token(
            client["client_id"].as_str().unwrap(),
            client["client_secret"].as_str().unwrap(),
            Some("usage:read"),
        )
        .await?;
    assert_eq!(
        srv.me(&token).await?.1["scopes"],
        serde_json::json!(["usage:read"])
    );

    let key = run(
        &spec,
        &[
            "key", "create", "--tenant", &tenant_id, "--name", "k", "--scopes", "ocr:read",
        ],
        None,
    )?;
    assert!(key["key"].as_str().unwrap().starts_with("tg_live_"));

    // Limit overrides name either credential kind: a key id or an OAuth2 client id.
    for credential in [
        key["key_id"].as_str().unwrap(),
        client["client_id"].as_str().unwrap(),
    ] {
        let set = run(
            &spec,
            &[
                "limit",
                "set",
                "--tenant",
                &tenant_id,
                "--credential",
                credential,
                "--burst",
                "3",
            ],
            None,
        )?;
        assert_eq!(set["credential"], credential);
    }
    let unknown = run(
        &spec,
        &[
            "limit",
            "set",
            "--tenant",
            &tenant_id,
            "--credential",
            "tgc_nosuchclient",
            "--burst",
            "3",
        ],
        None,
    );
    assert!(unknown.is_err(), "an unknown credential is refused");
    assert_eq!(
        srv.me(key["key"].as_str().unwrap()).await?.1["tenant_id"],
        tenant_id.as_str()
    );

    // Rotation through the CLI: the next key (already published) starts signing; tokens
    // signed before stay valid because the retired key stays published.
    let jwks_before: Value = reqwest::get(srv.url("/.well-known/jwks.json"))
        .await?
        .json()
        .await?;
    let rotated = run(&spec, &["keys", "rotate"], None)?;
    let kid = rotated["active_kid"].as_str().unwrap();
    let published: Vec<&str> = jwks_before["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    assert!(
        published.contains(&kid),
        "the new signing key was published before it signed"
    );
    srv.auth()
        .tokens
        .keyring()
        .reload()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(srv.me(&token).await?.0, 200);
    let fresh = srv
        .token(
            client["client_id"].as_str().unwrap(),
            client["client_secret"].as_str().unwrap(),
            None,
        )
        .await?;
    let header = jsonwebtoken::decode_header(&fresh)?;
    assert_eq!(header.kid.as_deref(), Some(kid));
    let platform = srv.store().audit_events(None).await?;
    assert!(
        platform
            .iter()
            .any(|e| e.action == "signing_key.rotated" && e.outcome == "success"),
        "key rotation is audited on the platform chain"
    );
    let jwks_after: Value = reqwest::get(srv.url("/.well-known/jwks.json"))
        .await?
        .json()
        .await?;
    assert_eq!(
        jwks_after["keys"].as_array().unwrap().len(),
        3,
        "retired + active + next"
    );

    let verify = run(&spec, &["audit", "verify", "--tenant", &tenant_id], None)?;
    assert_eq!(verify["intact"], true);
    assert!(verify["events"].as_u64().unwrap() >= 5);
    let platform = run(&spec, &["audit", "verify"], None)?;
    assert_eq!(platform["intact"], true);

    let bad = Command::new(binary()?)
        .args([
            "client", "create", "--tenant", &tenant_id, "--name", "x", "--scopes", "root",
        ])
        .env("TOLLGATE_DATA_DIR", &spec.data_dir)
        .env("DATABASE_URL", spec.database_url.as_deref().unwrap())
        .env("TOLLGATE_MASTER_KEY", spec.master_key.to_base64())
        .output()?;
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown scope"));
    srv.stop().await
}

/// The benchmark routes are compiled only with the `bench` feature: the binary the suite
/// builds (as a release does) answers them 404 even when asked to mount them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_release_binary_has_no_bench_routes() -> Result<()> {
    let spec = ServerSpec::new(Backend::Sqlite, false).await?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    struct Killed(std::process::Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _server = Killed(serve_with(&spec, port, &[("TOLLGATE_BENCH_ROUTES", "1")]).await?);
    let http = reqwest::Client::new();
    for route in ["bare", "auth", "admit", "metered"] {
        let resp = http
            .get(format!("http://127.0.0.1:{port}/bench/{route}"))
            .send()
            .await?;
        let status = resp.status().as_u16();
        let body: Value = resp.json().await?;
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("not_found")),
            "/bench/{route}"
        );
    }
    Ok(())
}
