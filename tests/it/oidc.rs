//! Portal sign-in with a tenant's identity provider, against a real OpenID provider
//! (`oidc-provider` from npm, certified, started from tests/oidc on a free port): a person
//! signs in with the authorization code flow + PKCE and becomes a member with the tenant's
//! default role; and the callback refuses what an attacker brings — no or another browser's
//! state, a replayed callback, a replayed code under a fresh state, a wrong nonce, another
//! issuer, an email outside the domain or unverified, another tenant's member's email. Only
//! the operator configures providers, each setting checked.

use crate::harness::{Backend, Tenant, TestServer};
use crate::python::KillOnDrop;
use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;
use tokio::sync::OnceCell;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("oidc")
}

/// tests/oidc's packages, installed once per run (again when its lockfile changes).
async fn installed() -> Result<()> {
    static ONCE: OnceCell<()> = OnceCell::const_new();
    ONCE.get_or_try_init(|| async {
        let lock = std::fs::read(dir().join("package-lock.json"))?;
        let installed = std::fs::read(dir().join("node_modules/.package-lock.json")).ok();
        if installed.as_deref() == Some(&lock[..]) {
            return Ok(());
        }
        let out = tokio::task::spawn_blocking(|| {
            Command::new("npm")
                .args(["ci", "--silent", "--no-audit", "--no-fund"])
                .current_dir(dir())
                .output()
        })
        .await?
        .context("npm ci in tests/oidc (needs Node 20 and npm)")?;
        anyhow::ensure!(
            out.status.success(),
            "npm ci in tests/oidc failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    })
    .await
    .copied()
}

/// A running provider with one confidential client for `redirect_uri`.
pub(crate) struct Provider {
    _child: KillOnDrop,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
}

impl Provider {
    pub(crate) async fn start(redirect_uri: &str) -> Result<Self> {
        use std::io::BufRead;
        installed().await?;
        let client_id = format!("tollgate-{}", uuid::Uuid::new_v4().simple());
        let client_secret = uuid::Uuid::new_v4().simple().to_string();
        let mut child = Command::new("node")
            .arg(dir().join("provider.mjs"))
            .env("OIDC_CLIENT_ID", &client_id)
            .env("OIDC_CLIENT_SECRET", &client_secret)
            .env("OIDC_REDIRECT_URI", redirect_uri)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .context("starting tests/oidc/provider.mjs (needs Node 20)")?;
        let stdout = child.stdout.take().context("stdout")?;
        let child = KillOnDrop(child);
        let port: u16 = tokio::task::spawn_blocking(move || -> Result<u16> {
            let mut line = String::new();
            std::io::BufReader::new(stdout).read_line(&mut line)?;
            line.trim()
                .parse()
                .with_context(|| format!("provider.mjs said {line:?}"))
        })
        .await??;
        Ok(Self {
            _child: child,
            issuer: format!("http://127.0.0.1:{port}"),
            client_id,
            client_secret,
        })
    }
}

/// Logs in as `login` at the provider through its own pages, without a browser: the URL
/// it sends the browser back to (not requested).
async fn drive(authorize_url: &str, login: &str) -> Result<String> {
    let (url, login) = (authorize_url.to_owned(), login.to_owned());
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(dir().join("drive.mjs"))
            .arg(url)
            .arg(login)
            .output()
    })
    .await??;
    anyhow::ensure!(
        out.status.code() == Some(0) || out.status.code() == Some(3),
        "drive.mjs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

fn no_redirects() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// A browser's navigation: status, `Location`, and each `Set-Cookie` as `name=value`.
struct Nav {
    status: u16,
    location: String,
    cookies: Vec<(String, String)>,
    /// The whole `Set-Cookie` lines.
    set_cookies: Vec<String>,
    /// The problem's code, for an error answer with one.
    code: Option<String>,
}

impl Nav {
    fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The code of a refusal (`/admin/?oidc_error=<code>`).
    fn refusal(&self) -> Option<String> {
        let url = reqwest::Url::parse("http://portal")
            .ok()?
            .join(&self.location)
            .ok()?;
        (url.path() == "/admin/")
            .then(|| url.query_pairs().find(|(k, _)| k == "oidc_error"))
            .flatten()
            .map(|(_, v)| v.into_owned())
    }
}

async fn navigate(url: &str, cookie: Option<&str>) -> Result<Nav> {
    let mut req = no_redirects()?.get(url);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    answer(req.send().await?).await
}

async fn answer(resp: reqwest::Response) -> Result<Nav> {
    let set_cookies: Vec<String> = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect();
    let cookies = set_cookies
        .iter()
        .filter_map(|v| v.split(';').next()?.split_once('='))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    // A started sign-in's authorization URL stands where a redirect's Location would.
    let location = body["authorize_url"]
        .as_str()
        .map_or(location, str::to_owned);
    Ok(Nav {
        status,
        location,
        cookies,
        set_cookies,
        code: body["code"].as_str().map(str::to_owned),
    })
}

/// The sign-in page's "Continue with your identity provider" for `email` (the page's
/// same-origin JSON call): the answer and the browser's state cookie
/// (`tollgate_oidc=<state>`).
async fn start(srv: &TestServer, email: &str) -> Result<(Nav, String)> {
    let resp = reqwest::Client::new()
        .post(srv.url("/v1/session/oidc/start"))
        .header("sec-fetch-site", "same-origin")
        .json(&json!({ "email": email }))
        .send()
        .await?;
    let nav = answer(resp).await?;
    let cookie = nav
        .cookie("tollgate_oidc")
        .map(|v| format!("tollgate_oidc={v}"))
        .unwrap_or_default();
    Ok((nav, cookie))
}

fn param(url: &str, name: &str) -> Result<String> {
    reqwest::Url::parse(url)?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .with_context(|| format!("no {name} in {url}"))
}

fn with_param(url: &str, name: &str, value: &str) -> Result<String> {
    let mut parsed = reqwest::Url::parse(url)?;
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == name {
                value.to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    Ok(parsed.to_string())
}

/// Signs `login` in end to end: the callback's navigation (with the state cookie).
async fn sign_in(srv: &TestServer, login: &str) -> Result<Nav> {
    let (nav, cookie) = start(srv, login).await?;
    anyhow::ensure!(nav.status == 200, "start: {}", nav.status);
    let back = drive(&nav.location, login).await?;
    navigate(&back, Some(&cookie)).await
}

async fn session_of(srv: &TestServer, nav: &Nav) -> Result<(u16, Value)> {
    let value = nav
        .cookie("tollgate_session")
        .context("no session cookie")?;
    let resp = reqwest::Client::new()
        .get(srv.url("/v1/session"))
        .header("cookie", format!("tollgate_session={value}"))
        .send()
        .await?;
    Ok((resp.status().as_u16(), resp.json().await?))
}

pub(crate) async fn operator(
    srv: &TestServer,
    method: reqwest::Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> Result<(u16, Value)> {
    let mut req = reqwest::Client::new()
        .request(method, srv.url(path))
        .header("x-api-key", key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await?;
    Ok((
        resp.status().as_u16(),
        resp.json().await.unwrap_or(Value::Null),
    ))
}

/// A server, a tenant, and a provider configured for it (domain `acme.test`, new people
/// are viewers).
async fn setup() -> Result<(TestServer, Tenant, Provider, String)> {
    let srv = TestServer::start(Backend::Postgres).await?;
    let t = srv.tenant("ocr:read").await?;
    let idp = Provider::start(&srv.url("/v1/session/oidc/callback")).await?;
    let op = srv.operator_key().await?;
    let (status, body) = operator(
        &srv,
        reqwest::Method::PUT,
        &format!("/v1/operator/tenants/{}/oidc", t.id),
        &op,
        Some(json!({ "issuer": idp.issuer, "client_id": idp.client_id,
                     "client_secret": idp.client_secret, "allowed_domain": "ACME.test",
                     "default_role": "viewer" })),
    )
    .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({ "tenant_id": t.id, "issuer": idp.issuer, "client_id": idp.client_id,
                "allowed_domain": "acme.test", "default_role": "viewer",
                "redirect_uri": srv.url("/v1/session/oidc/callback") })
    );
    Ok((srv, t, idp, op))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_in_with_the_tenants_provider() -> Result<()> {
    let (srv, t, idp, _op) = setup().await?;
    let (nav, cookie) = start(&srv, " Alice@ACME.test ").await?;
    assert_eq!(nav.status, 200);
    assert_eq!(
        nav.set_cookies,
        [format!(
            "{cookie}; Path=/v1/session/oidc; HttpOnly; SameSite=Lax; Max-Age=600"
        )]
    );
    // Authorization code + PKCE S256, a state (also in the browser's cookie) and a nonce.
    let authorize = &nav.location;
    assert!(
        authorize.starts_with(&format!("{}/", idp.issuer)),
        "{authorize}"
    );
    assert_eq!(param(authorize, "response_type")?, "code");
    assert_eq!(param(authorize, "code_challenge_method")?, "S256");
    assert_eq!(param(authorize, "client_id")?, idp.client_id);
    assert_eq!(param(authorize, "login_hint")?, "alice@acme.test");
    assert_eq!(
        param(authorize, "redirect_uri")?,
        srv.url("/v1/session/oidc/callback")
    );
    let state = param(authorize, "state")?;
    assert_eq!(cookie, format!("tollgate_oidc={state}"));
    assert_eq!(param(authorize, "nonce")?.len(), 43);

    let back = drive(authorize, "alice@acme.test").await?;
    let done = navigate(&back, Some(&cookie)).await?;
    assert_eq!((done.status, done.location.as_str()), (303, "/admin/"));
    let session_cookie = &done.set_cookies[0];
    assert!(
        session_cookie.starts_with("tollgate_session=")
            && session_cookie.contains("; HttpOnly; SameSite=Strict;"),
        "{session_cookie}"
    );

    // Another site cannot start a sign-in in a visitor's browser.
    let resp = reqwest::Client::new()
        .post(srv.url("/v1/session/oidc/start"))
        .header("sec-fetch-site", "cross-site")
        .json(&json!({ "email": "alice@acme.test" }))
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 403);
    let resp = reqwest::Client::new()
        .post(srv.url("/v1/session/oidc/start"))
        .form(&[("email", "alice@acme.test")])
        .send()
        .await?;
    assert_eq!(
        resp.status().as_u16(),
        415,
        "a form post (no preflight) is refused"
    );
    let (status, me) = session_of(&srv, &done).await?;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        (
            &me["email"],
            &me["role"],
            &me["tenant_id"],
            &me["must_change_password"]
        ),
        (
            &json!("alice@acme.test"),
            &json!("viewer"),
            &json!(t.id),
            &json!(false)
        )
    );

    // The same callback again finds its state used.
    let again = navigate(&back, Some(&cookie)).await?;
    assert_eq!(again.refusal().as_deref(), Some("oidc_state_invalid"));
    assert_eq!(again.cookie("tollgate_session"), None);

    // Signing in again is the same member.
    let second = sign_in(&srv, "alice@acme.test").await?;
    let (_, me2) = session_of(&srv, &second).await?;
    assert_eq!(me2["admin_id"], me["admin_id"]);
    let members = srv.store().list_admins(t.id.parse()?).await?;
    assert_eq!(
        members
            .iter()
            .filter(|m| m.email == "alice@acme.test")
            .count(),
        1
    );
    srv.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callback_refuses_what_an_attacker_brings() -> Result<()> {
    let (srv, t, idp, _op) = setup().await?;
    let refused = |nav: &Nav| -> Option<String> {
        assert_eq!(nav.status, 303);
        assert_eq!(
            nav.cookie("tollgate_session"),
            None,
            "no session on a refusal"
        );
        nav.refusal()
    };

    // No state cookie, or another browser's: refused, and the sign-in is still the owner's.
    let (nav, cookie) = start(&srv, "alice@acme.test").await?;
    let back = drive(&nav.location, "alice@acme.test").await?;
    let (_, other_cookie) = start(&srv, "alice@acme.test").await?;
    for c in [None, Some(other_cookie.as_str()), Some("tollgate_oidc=")] {
        let nav = navigate(&back, c).await?;
        assert_eq!(
            refused(&nav).as_deref(),
            Some("oidc_state_invalid"),
            "{c:?}"
        );
    }
    let ok = navigate(&back, Some(&cookie)).await?;
    assert_eq!((ok.status, ok.location.as_str()), (303, "/admin/"));
    assert!(ok.cookie("tollgate_session").is_some());

    // The used code under a fresh sign-in's state: the provider refuses it (PKCE and
    // single use), so it signs no one in.
    let (fresh, fresh_cookie) = start(&srv, "alice@acme.test").await?;
    let replay = with_param(&back, "state", &param(&fresh.location, "state")?)?;
    let nav = navigate(&replay, Some(&fresh_cookie)).await?;
    assert_eq!(refused(&nav).as_deref(), Some("oidc_code_refused"));

    // A nonce the sign-in did not send (the authorization request tampered with).
    let (nav, cookie) = start(&srv, "alice@acme.test").await?;
    let tampered = with_param(&nav.location, "nonce", "a-nonce-of-the-attackers-choosing")?;
    let back = drive(&tampered, "alice@acme.test").await?;
    let nav = navigate(&back, Some(&cookie)).await?;
    assert_eq!(refused(&nav).as_deref(), Some("oidc_nonce_mismatch"));

    // Another issuer named in the callback (a mix-up).
    let (nav, cookie) = start(&srv, "alice@acme.test").await?;
    let back = drive(&nav.location, "alice@acme.test").await?;
    let mixed = with_param(&back, "iss", "https://evil.test")?;
    let nav = navigate(&mixed, Some(&cookie)).await?;
    assert_eq!(refused(&nav).as_deref(), Some("oidc_issuer_mismatch"));

    // The provider said no.
    let (nav, cookie) = start(&srv, "alice@acme.test").await?;
    let denied = format!(
        "{}?error=access_denied&state={}",
        srv.url("/v1/session/oidc/callback"),
        param(&nav.location, "state")?
    );
    let nav = navigate(&denied, Some(&cookie)).await?;
    assert_eq!(refused(&nav).as_deref(), Some("oidc_denied"));

    // Emails the provider vouches for that are not the tenant's to let in. The sign-in
    // starts at the tenant's domain; the person then logs in at the provider as another.
    for (login, code) in [
        ("mallory@evil.test", "oidc_email_domain"),
        ("mallory@acme.test.evil.test", "oidc_email_domain"),
        ("mallory@sub.acme.test", "oidc_email_domain"),
        ("mallory@acme.testx", "oidc_email_domain"),
        ("mallory+unverified@acme.test", "oidc_email_unverified"),
        ("mallory", "oidc_email_unverified"),
    ] {
        let (nav, cookie) = start(&srv, "alice@acme.test").await?;
        let back = drive(&nav.location, login).await?;
        let nav = navigate(&back, Some(&cookie)).await?;
        assert_eq!(refused(&nav).as_deref(), Some(code), "{login}");
    }

    // An email at the domain that is another tenant's member: not signed in to either.
    let other = srv.tenant("ocr:read").await?;
    let owner = srv.login(&other.owner_email, &other.owner_password).await?;
    let (status, body) = owner
        .post(
            "/v1/members",
            json!({ "email": "ceo@acme.test", "role": "owner" }),
        )
        .await?;
    assert_eq!(status, 201, "{body}");
    let nav = sign_in(&srv, "ceo@acme.test").await?;
    assert_eq!(refused(&nav).as_deref(), Some("oidc_email_in_use"));

    // None of these made a member; every refusal is in the tenant's audit log.
    let members = srv.store().list_admins(t.id.parse()?).await?;
    let emails: Vec<&str> = members.iter().map(|m| m.email.as_str()).collect();
    assert_eq!(emails, [t.owner_email.as_str(), "alice@acme.test"]);
    drop(idp);
    srv.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_time_password_member_signing_in_with_the_provider_loses_it() -> Result<()> {
    let (srv, t, _idp, _op) = setup().await?;
    let owner = srv.login(&t.owner_email, &t.owner_password).await?;
    let (status, created) = owner
        .post(
            "/v1/members",
            json!({ "email": "bob@acme.test", "role": "admin" }),
        )
        .await?;
    assert_eq!(status, 201, "{created}");
    let one_time = created["password"].as_str().context("password")?.to_owned();
    let nav = sign_in(&srv, "bob@acme.test").await?;
    let (status, me) = session_of(&srv, &nav).await?;
    assert_eq!(status, 200, "{me}");
    // Their role is the owner's choice, not the default; no password change is asked for.
    assert_eq!(
        (&me["role"], &me["must_change_password"]),
        (&json!("admin"), &json!(false))
    );
    // The one-time password (which the owner saw) no longer signs in.
    let resp = reqwest::Client::new()
        .post(srv.url("/v1/session"))
        .json(&json!({ "email": "bob@acme.test", "password": one_time }))
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 401);
    srv.stop().await
}

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
