//! Canary secrets (a password, a client secret, an API key, an access token) are pushed
//! through every path that could leak them — success, failure, wrong fields, query strings —
//! and then looked for in the logs (JSON, at debug level), in every error body and in every
//! audit row. None may appear.

use crate::harness::{Backend, TestServer};
use anyhow::Result;
use serde_json::{json, Value};
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

static LOGS: OnceLock<Capture> = OnceLock::new();

fn capture_logs() -> Capture {
    LOGS.get_or_init(|| {
        let capture = Capture(Arc::new(Mutex::new(Vec::new())));
        let writer = capture.clone();
        let subscriber = tollgate::logging::subscriber(
            true,
            tracing_subscriber::EnvFilter::new("debug"),
            move || writer.clone(),
        );
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other subscriber in this test binary");
        capture
    })
    .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_logs_error_bodies_or_audit_rows() -> Result<()> {
    let logs = capture_logs();
    let srv = TestServer::start(Backend::Postgres).await?;
    let t = srv.tenant("ocr:read usage:read").await?;
    let http = reqwest::Client::new();
    let jwt = srv.token(&t.client_id, &t.client_secret, None).await?;
    let canaries = [
        ("password", t.owner_password.clone()),
        ("client secret", t.client_secret.clone()),
        ("api key", t.key.clone()),
        ("access token", jwt.clone()),
    ];
    let mut bodies: Vec<String> = Vec::new();
    let mut keep = |label: &str, status: u16, body: String| {
        bodies.push(format!("{label} ({status}): {body}"));
    };

    // Successful use of every secret.
    let r = http
        .post(srv.url("/v1/session"))
        .json(&json!({ "email": t.owner_email, "password": t.owner_password }))
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    let r = http
        .post(srv.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &t.client_id),
            ("client_secret", &t.client_secret),
        ])
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    assert_eq!(srv.me(&jwt).await?.0, 200);
    assert_eq!(srv.me(&t.key).await?.0, 200);

    // Failures that carry a secret in the wrong place.
    let failures: Vec<reqwest::RequestBuilder> = vec![
        http.post(srv.url("/v1/session")).json(&json!({ "email": t.owner_password, "password": t.owner_password })),
        http.post(srv.url("/v1/session")).json(&json!({ "email": t.owner_email, "password": t.owner_password, "extra": t.client_secret })),
        http.post(srv.url("/v1/session")).json(&json!({ "email": 5, "password": t.owner_password })),
        http.post(srv.url("/v1/session")).body(format!("{{\"email\": \"{}\"", t.owner_password)).header("content-type", "application/json"),
        http.post(srv.url("/oauth/token")).basic_auth(&t.client_secret, Some(&t.client_secret)).form(&[("grant_type", "client_credentials")]),
        http.post(srv.url("/oauth/token")).form(&[("grant_type", "client_credentials"), ("client_id", &t.client_secret), ("client_secret", &t.key)]),
        http.post(srv.url("/oauth/token")).basic_auth(&t.client_id, Some(&t.client_secret)).form(&[("grant_type", t.client_secret.as_str())]),
        http.post(srv.url("/oauth/token")).basic_auth(&t.client_id, Some(&t.client_secret)).form(&[("grant_type", "client_credentials"), ("scope", t.key.as_str())]),
        http.get(srv.url(&format!("/v1/me?api_key={}&token={}", t.key, jwt))),
        http.get(srv.url("/v1/me")).bearer_auth(&t.client_secret),
        http.get(srv.url("/v1/me")).header("x-api-key", &jwt),
        http.get(srv.url("/v1/me")).header("authorization", format!("Basic {}", t.owner_password)),
        http.get(srv.url(&format!("/v1/keys/{}", t.key))).header("cookie", format!("tollgate_session={}", t.client_secret)),
        http.get(srv.url(&format!("/nope/{}", t.client_secret))),
        http.post(srv.url("/oauth/introspect")).form(&[("token", jwt.as_str()), ("client_id", &t.client_id), ("client_secret", &t.key)]),
        http.post(srv.url("/oauth/revoke")).basic_auth(&t.client_id, Some(&t.key)).form(&[("token", jwt.as_str())]),
    ];
    for (i, req) in failures.into_iter().enumerate() {
        let resp = req.header("user-agent", "canary-test").send().await?;
        let status = resp.status().as_u16();
        assert!(
            (400..500).contains(&status),
            "case {i}: expected a 4xx, got {status}"
        );
        keep(&format!("case {i}"), status, resp.text().await?);
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let tenant: tollgate_core::TenantId = t.id.parse()?;
    let mut audit = String::new();
    for chain in [Some(tenant), None] {
        for row in srv
            .store()
            .audit_events(chain)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
        {
            audit.push_str(&format!("{row:?}\n"));
        }
    }
    assert!(
        audit.contains("token.refused") && audit.contains("login"),
        "audit rows were written"
    );
    let log_text = String::from_utf8(logs.0.lock().unwrap().clone())?;
    assert!(
        log_text.contains("\"request_id\""),
        "logs were captured as JSON"
    );
    // Events logged inside a request (not only the access-log line) carry its id.
    let inside_requests = log_text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| {
            v["message"] == "API credentials refused" && v["span"]["request_id"].is_string()
        })
        .count();
    assert!(
        inside_requests > 0,
        "no event logged inside a request carries the request id:\n{}",
        log_text.lines().take(30).collect::<Vec<_>>().join("\n")
    );
    let bodies = bodies.join("\n");
    for (name, secret) in &canaries {
        assert!(
            !log_text.contains(secret.as_str()),
            "the {name} appears in the logs"
        );
        assert!(
            !bodies.contains(secret.as_str()),
            "the {name} appears in an error body:\n{bodies}"
        );
        assert!(
            !audit.contains(secret.as_str()),
            "the {name} appears in an audit row"
        );
    }
    let problems: Vec<Value> = bodies
        .lines()
        .filter_map(|l| {
            l.split_once(": ")
                .and_then(|(_, b)| serde_json::from_str(b).ok())
        })
        .collect();
    assert!(problems.len() >= 10, "error bodies are JSON");
    srv.stop().await
}
