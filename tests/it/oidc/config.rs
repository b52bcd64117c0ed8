//! The operator's side: who may configure a provider, and each setting checked.

use super::*;
use anyhow::{Context, Result};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_operator_configures_providers_and_each_setting_is_checked() -> Result<()> {
    let (srv, t, idp, op) = setup().await?;
    let path = format!("/v1/operator/tenants/{}/oidc", t.id);
    let good = json!({ "issuer": idp.issuer, "client_id": idp.client_id,
                       "client_secret": idp.client_secret, "allowed_domain": "acme.test",
                       "default_role": "viewer" });
    let with = |field: &str, value: Value| {
        let mut b = good.clone();
        b[field] = value;
        b
    };
    use reqwest::Method;

    // A tenant's own credentials are not the operator's.
    let (status, body) = operator(&srv, Method::PUT, &path, &t.key, Some(good.clone())).await?;
    assert_eq!(status, 403, "{body}");
    let (status, _) = operator(&srv, Method::GET, &path, &t.key, None).await?;
    assert_eq!(status, 403);

    // Each setting, item by item.
    for (body, code) in [
        (
            with("issuer", json!("http://login.example.com")),
            "invalid_oidc_config",
        ),
        (
            with("issuer", json!("https://u:p@login.example.com")),
            "invalid_oidc_config",
        ),
        (
            with("issuer", json!("http://127.0.0.1:1")),
            "oidc_discovery_failed",
        ),
        (with("allowed_domain", json!("acme")), "invalid_oidc_config"),
        (
            with("allowed_domain", json!("acme.test ")),
            "invalid_oidc_config",
        ),
        (
            with("allowed_domain", json!("\u{212A}acme.test")),
            "invalid_oidc_config",
        ),
        (
            with("allowed_domain", json!("*.acme.test")),
            "invalid_oidc_config",
        ),
        (with("default_role", json!("owner")), "invalid_oidc_config"),
        (with("client_secret", json!("")), "invalid_oidc_config"),
        (
            with("client_id", json!("id with space")),
            "invalid_oidc_config",
        ),
    ] {
        let (status, answer) = operator(&srv, Method::PUT, &path, &op, Some(body.clone())).await?;
        assert_eq!(
            (status, answer["code"].as_str()),
            (422, Some(code)),
            "{body}"
        );
    }
    let (status, answer) = operator(
        &srv,
        Method::PUT,
        &path,
        &op,
        Some(with("default_role", json!("root"))),
    )
    .await?;
    assert_eq!(status, 400, "{answer}");

    // Another tenant cannot take the domain; an unknown tenant is not found.
    let other = srv.tenant("ocr:read").await?;
    let other_path = format!("/v1/operator/tenants/{}/oidc", other.id);
    let (status, answer) =
        operator(&srv, Method::PUT, &other_path, &op, Some(good.clone())).await?;
    assert_eq!(
        (status, answer["code"].as_str()),
        (409, Some("oidc_domain_taken"))
    );
    // Nor a domain where another tenant has members: they would be that tenant's people.
    let owner = srv.login(&other.owner_email, &other.owner_password).await?;
    let (status, body) = owner
        .post(
            "/v1/members",
            json!({ "email": "cfo@beta.test", "role": "viewer" }),
        )
        .await?;
    assert_eq!(status, 201, "{body}");
    let (status, answer) = operator(
        &srv,
        Method::PUT,
        &path,
        &op,
        Some(with("allowed_domain", json!("beta.test"))),
    )
    .await?;
    assert_eq!(
        (status, answer["code"].as_str()),
        (409, Some("oidc_domain_in_use")),
        "{answer}"
    );
    let unknown = format!("/v1/operator/tenants/{}/oidc", uuid::Uuid::new_v4());
    let (status, _) = operator(&srv, Method::PUT, &unknown, &op, Some(good.clone())).await?;
    assert_eq!(status, 404);
    let (status, _) = operator(&srv, Method::GET, &other_path, &op, None).await?;
    assert_eq!(status, 404);

    // The secret is never shown, and is not stored as it was given.
    let (status, shown) = operator(&srv, Method::GET, &path, &op, None).await?;
    assert_eq!(status, 200);
    assert!(shown.get("client_secret").is_none(), "{shown}");
    let row = srv
        .store()
        .tenant_oidc(t.id.parse()?)
        .await?
        .context("the row")?;
    assert!(!row.client_secret_sealed.contains(&idp.client_secret));

    // The sign-in page's errors: no provider for the domain, not an email.
    for (email, status, code) in [
        ("bob@other.test", 404, "oidc_not_configured"),
        ("bob", 422, "invalid_email"),
        ("", 422, "invalid_email"),
        ("bob@acme.test@evil.test", 422, "invalid_email"),
    ] {
        let (nav, cookie) = start(&srv, email).await?;
        assert_eq!(
            (nav.status, nav.code.as_deref()),
            (status, Some(code)),
            "{email:?}"
        );
        assert_eq!(cookie, "", "{email:?}: no sign-in started");
    }

    // Removed: the domain signs in no one; the members stay.
    sign_in(&srv, "alice@acme.test").await?;
    let (status, _) = operator(&srv, Method::DELETE, &path, &op, None).await?;
    assert_eq!(status, 204);
    let (status, _) = operator(&srv, Method::DELETE, &path, &op, None).await?;
    assert_eq!(status, 404);
    let (nav, _) = start(&srv, "alice@acme.test").await?;
    assert_eq!(nav.code.as_deref(), Some("oidc_not_configured"));
    let members = srv.store().list_admins(t.id.parse()?).await?;
    assert!(members.iter().any(|m| m.email == "alice@acme.test"));
    srv.stop().await
}

/// A stand-in issuer on loopback whose discovery document the test writes: `None` answers 500.
struct Discovery {
    issuer: String,
    doc: std::sync::Arc<std::sync::Mutex<Option<Value>>>,
    hits: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Discovery {
    async fn start() -> Result<Self> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let issuer = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
        let doc = std::sync::Arc::new(std::sync::Mutex::new(None::<Value>));
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (served, counted) = (doc.clone(), hits.clone());
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf).await;
                let body = served.lock().map(|d| d.clone()).ok().flatten();
                let answer = match body {
                    Some(doc) => {
                        let body = doc.to_string();
                        format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())
                    }
                    None => "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_string(),
                };
                let _ = conn.write_all(answer.as_bytes()).await;
            }
        });
        Ok(Self { issuer, doc, hits })
    }

    fn serve(&self, doc: Option<Value>) -> Result<()> {
        *self.doc.lock().map_err(|_| anyhow::anyhow!("poisoned"))? = doc;
        Ok(())
    }

    fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A provider's discovery document is checked when the operator sets it — every endpoint
/// Tollgate calls or sends a browser to must be on the issuer's network, and the key set is
/// fetched only from such a place — and pinned: sign-ins use the endpoints checked then,
/// whatever the issuer says later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_providers_endpoints_are_checked_and_pinned() -> Result<()> {
    let (srv, _t, idp, op) = setup().await?;
    let t = srv.tenant("ocr:read").await?;
    let path = format!("/v1/operator/tenants/{}/oidc", t.id);
    // The real provider's document, as if a stand-in issuer published it.
    let fake = Discovery::start().await?;
    let mut real: Value = reqwest::get(format!("{}/.well-known/openid-configuration", idp.issuer))
        .await?
        .json()
        .await?;
    real["issuer"] = json!(fake.issuer);
    let body = json!({ "issuer": fake.issuer, "client_id": idp.client_id,
                       "client_secret": idp.client_secret, "allowed_domain": "pinned.test",
                       "default_role": "viewer" });

    for (field, value) in [
        ("jwks_uri", "http://169.254.169.254/latest/meta-data/"),
        ("jwks_uri", "https://10.0.0.7/jwks"),
        ("token_endpoint", "http://10.0.0.1/token"),
        ("token_endpoint", "https://svc.internal/token"),
        ("authorization_endpoint", "http://login.example.com/auth"),
    ] {
        let mut doc = real.clone();
        doc[field] = json!(value);
        fake.serve(Some(doc))?;
        let (status, answer) =
            operator(&srv, reqwest::Method::PUT, &path, &op, Some(body.clone())).await?;
        assert_eq!(
            (status, answer["code"].as_str()),
            (422, Some("oidc_endpoint_refused")),
            "{field} {value}: {answer}"
        );
    }
    let mut doc = real.clone();
    doc["issuer"] = json!("http://127.0.0.1:1");
    fake.serve(Some(doc))?;
    let (status, answer) =
        operator(&srv, reqwest::Method::PUT, &path, &op, Some(body.clone())).await?;
    assert_eq!(
        (status, answer["code"].as_str()),
        (422, Some("oidc_discovery_failed")),
        "a document naming another issuer: {answer}"
    );

    fake.serve(Some(real.clone()))?;
    let (status, answer) =
        operator(&srv, reqwest::Method::PUT, &path, &op, Some(body.clone())).await?;
    assert_eq!(status, 200, "{answer}");

    // The issuer now says nothing (or anything): a sign-in starts at the pinned endpoint
    // without asking it.
    fake.serve(None)?;
    let before = fake.hits();
    let (nav, _) = start(&srv, "dana@pinned.test").await?;
    assert_eq!(nav.status, 200);
    let pinned = real["authorization_endpoint"]
        .as_str()
        .context("endpoint")?;
    assert!(nav.location.starts_with(pinned), "{}", nav.location);
    assert_eq!(fake.hits(), before, "the issuer was not asked again");
    srv.stop().await
}

/// The operator sets, shows and removes a provider from the CLI too; the secret comes from a
/// file, and is neither printed nor stored as given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_sets_shows_and_removes_a_provider() -> Result<()> {
    let spec = crate::harness::ServerSpec::new(crate::harness::Backend::Postgres, true).await?;
    let srv = spec.start().await?;
    let t = srv.tenant("ocr:read").await?;
    let idp = Provider::start(&srv.url("/v1/session/oidc/callback")).await?;
    let secret_file = spec.data_dir.join("oidc-secret");
    std::fs::write(&secret_file, format!("{}\n", idp.client_secret))?;
    let secret_path = secret_file.to_string_lossy().into_owned();
    let set = crate::cli::run(
        &spec,
        &[
            "tenant",
            "oidc",
            "set",
            "--tenant",
            &t.id,
            "--issuer",
            &idp.issuer,
            "--client-id",
            &idp.client_id,
            "--client-secret-file",
            &secret_path,
            "--domain",
            "cli.test",
            "--default-role",
            "admin",
        ],
        None,
    )?;
    assert_eq!(
        (
            &set["tenant_id"],
            &set["issuer"],
            &set["allowed_domain"],
            &set["default_role"]
        ),
        (
            &json!(t.id),
            &json!(idp.issuer),
            &json!("cli.test"),
            &json!("admin")
        ),
        "{set}"
    );
    assert!(!set.to_string().contains(&idp.client_secret));
    // The secret read from the file (its newline dropped) is the one the provider takes.
    let nav = sign_in(&srv, "erin@cli.test").await?;
    let (status, me) = session_of(&srv, &nav).await?;
    assert_eq!((status, &me["role"]), (200, &json!("admin")), "{me}");

    let shown = crate::cli::run(&spec, &["tenant", "oidc", "show", "--tenant", &t.id], None)?;
    assert_eq!(shown, set);
    let (ok, _, stderr) = crate::cli::run_status(
        &spec,
        &[
            "tenant",
            "oidc",
            "set",
            "--tenant",
            &t.id,
            "--issuer",
            &idp.issuer,
            "--client-id",
            &idp.client_id,
            "--client-secret-file",
            &secret_path,
            "--domain",
            "cli.test",
            "--default-role",
            "owner",
        ],
    )?;
    assert!(!ok && stderr.contains("viewer or admin"), "{stderr}");
    let removed = crate::cli::run(
        &spec,
        &["tenant", "oidc", "remove", "--tenant", &t.id],
        None,
    )?;
    assert_eq!(removed, json!({ "tenant_id": t.id, "removed": true }));
    let (ok, _, stderr) =
        crate::cli::run_status(&spec, &["tenant", "oidc", "show", "--tenant", &t.id])?;
    assert!(!ok && stderr.contains("not found"), "{stderr}");
    srv.stop().await
}

/// The operator claiming a domain for one tenant while another tenant's owner adds a member
/// at it, at once on two instances of one database: one of the two wins, never both (a
/// member of another tenant at a claimed domain would be refused sign-in by the provider's
/// people, and stand between them and their tenant).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_claim_and_a_member_at_the_domain_never_both_win() -> Result<()> {
    let spec = crate::harness::ServerSpec::new(Backend::Postgres, true).await?;
    let (a, t, idp, op) = configured(spec.start().await?).await?;
    let b = spec.start().await?;
    let other = a.tenant("ocr:read").await?;
    let owner = b.login(&other.owner_email, &other.owner_password).await?;
    let mut claims_won = 0;
    for round in 0..12 {
        let domain = format!("race{round}.test");
        let member = json!({ "email": format!("someone@{domain}"), "role": "viewer" });
        let ((claim_status, claim), (member_status, created)) = tokio::try_join!(
            set_provider(&a, &op, &t, &idp, &domain),
            owner.post("/v1/members", member),
        )?;
        let outcome = (
            claim_status,
            claim["code"].as_str().unwrap_or(""),
            member_status,
            created["code"].as_str().unwrap_or(""),
        );
        match outcome {
            (200, _, 409, "email_domain_claimed") => claims_won += 1,
            (409, "oidc_domain_in_use", 201, _) => {}
            other => panic!("round {round}: {other:?}"),
        }
    }
    eprintln!("claims won {claims_won} of 12 rounds");
    a.stop().await?;
    b.stop().await
}
