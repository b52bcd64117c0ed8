//! Portal sign-in with a tenant's identity provider, against a real OpenID provider
//! (`oidc-provider` from npm, certified, started from tests/oidc on a free port): the helpers
//! that act as the browser and the provider's user. `flow` signs people in, `attacks` brings
//! the callback what an attacker would, `config` is the operator's side.

mod attacks;
mod config;
mod flow;

use crate::harness::{Backend, Tenant, TestServer};
use crate::python::KillOnDrop;
use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;
use tokio::sync::OnceCell;

pub(crate) fn dir() -> PathBuf {
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
pub(crate) async fn drive(authorize_url: &str, login: &str) -> Result<String> {
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

pub(crate) fn no_redirects() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// A browser's navigation: status, `Location`, and each `Set-Cookie` as `name=value`.
pub(crate) struct Nav {
    pub status: u16,
    pub location: String,
    pub cookies: Vec<(String, String)>,
    /// The whole `Set-Cookie` lines.
    pub set_cookies: Vec<String>,
    /// The problem's code, for an error answer with one.
    pub code: Option<String>,
}

impl Nav {
    pub(crate) fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The code of a refusal (`/admin/?oidc_error=<code>`).
    pub(crate) fn refusal(&self) -> Option<String> {
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

pub(crate) async fn navigate(url: &str, cookie: Option<&str>) -> Result<Nav> {
    let mut req = no_redirects()?.get(url);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    answer(req.send().await?).await
}

pub(crate) async fn answer(resp: reqwest::Response) -> Result<Nav> {
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
pub(crate) async fn start(srv: &TestServer, email: &str) -> Result<(Nav, String)> {
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

pub(crate) fn param(url: &str, name: &str) -> Result<String> {
    reqwest::Url::parse(url)?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .with_context(|| format!("no {name} in {url}"))
}

pub(crate) fn with_param(url: &str, name: &str, value: &str) -> Result<String> {
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

/// Signs `login` in end to end: the callback's navigation (with the state cookie). The sign-in
/// starts with the login's email (before a `|subject`, see provider.mjs).
pub(crate) async fn sign_in(srv: &TestServer, login: &str) -> Result<Nav> {
    let email = login.split('|').next().unwrap_or(login);
    let (nav, cookie) = start(srv, email).await?;
    anyhow::ensure!(nav.status == 200, "start: {}", nav.status);
    let back = drive(&nav.location, login).await?;
    navigate(&back, Some(&cookie)).await
}

pub(crate) async fn session_of(srv: &TestServer, nav: &Nav) -> Result<(u16, Value)> {
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
pub(crate) async fn setup() -> Result<(TestServer, Tenant, Provider, String)> {
    configured(TestServer::start(Backend::Postgres).await?).await
}

/// `srv`, a tenant, and a provider configured for it (domain `acme.test`, new people are
/// viewers); the operator key.
pub(crate) async fn configured(srv: TestServer) -> Result<(TestServer, Tenant, Provider, String)> {
    let t = srv.tenant("ocr:read").await?;
    let idp = Provider::start(&srv.url("/v1/session/oidc/callback")).await?;
    let op = srv.operator_key().await?;
    let (status, body) = set_provider(&srv, &op, &t, &idp, "ACME.test").await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({ "tenant_id": t.id, "issuer": idp.issuer, "client_id": idp.client_id,
                "allowed_domain": "acme.test", "default_role": "viewer",
                "redirect_uri": srv.url("/v1/session/oidc/callback") })
    );
    Ok((srv, t, idp, op))
}

/// The operator's `PUT /v1/operator/tenants/{id}/oidc` of `idp` for `domain` (viewers).
pub(crate) async fn set_provider(
    srv: &TestServer,
    op: &str,
    t: &Tenant,
    idp: &Provider,
    domain: &str,
) -> Result<(u16, Value)> {
    operator(
        srv,
        reqwest::Method::PUT,
        &format!("/v1/operator/tenants/{}/oidc", t.id),
        op,
        Some(json!({ "issuer": idp.issuer, "client_id": idp.client_id,
                     "client_secret": idp.client_secret, "allowed_domain": domain,
                     "default_role": "viewer" })),
    )
    .await
}
