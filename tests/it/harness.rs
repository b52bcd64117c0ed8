//! Test harness: a real Tollgate server on port 0, on SQLite (a fresh directory) or
//! PostgreSQL (a fresh database cloned from a migrated template, so tests run in parallel),
//! with or without Redis. Services missing from the machine make tests fail, never skip.

use anyhow::{Context, Result};
use migration::MigratorTrait;
use reqwest::header::{HeaderMap, HeaderValue};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::OnceCell;
use tollgate::config::{CommonArgs, EnvSettings, OcrSettings, ServeArgs};
use tollgate::server::Running;
use tollgate_auth::master::MasterKey;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// An image (or the manifest) from `eval/fixtures/`.
pub fn fixture(name: &str) -> Result<Vec<u8>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../eval/fixtures")
        .join(name);
    std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
}

pub fn pg_admin_url() -> String {
    std::env::var("TOLLGATE_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub fn redis_url() -> String {
    std::env::var("TOLLGATE_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn pg_url_for(db: &str) -> String {
    let admin = pg_admin_url();
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    format!("{base}/{db}")
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// A migrated template database, created once per migration set (across processes: an
/// advisory lock serialises creation).
async fn template() -> Result<String> {
    TEMPLATE
        .get_or_try_init(|| async {
            let names: Vec<String> = migration::Migrator::migrations()
                .iter()
                .map(|m| m.name().to_owned())
                .collect();
            let tag = tollgate_store::sha256_hex(names.join(",").as_bytes());
            let name = format!("tollgate_tmpl_{}", &tag[..12]);
            let admin = Database::connect(pg_admin_url())
                .await
                .context("PostgreSQL is required for the test suite (TOLLGATE_TEST_PG)")?;
            admin
                .execute_unprepared("SELECT pg_advisory_lock(7243901)")
                .await?;
            let exists = admin
                .query_one(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
                ))
                .await?
                .is_some();
            let result = async {
                if !exists {
                    let building = format!("{name}_build");
                    admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {building}"))
                        .await?;
                    admin
                        .execute_unprepared(&format!("CREATE DATABASE {building}"))
                        .await?;
                    {
                        let store = tollgate_store::Store::connect(&pg_url_for(&building))
                            .await
                            .map_err(|e| anyhow::anyhow!("{e}"))?;
                        store.migrate().await.map_err(|e| anyhow::anyhow!("{e}"))?;
                        store.conn().clone().close().await?;
                    }
                    admin
                        .execute_unprepared(&format!("ALTER DATABASE {building} RENAME TO {name}"))
                        .await?;
                }
                anyhow::Ok(())
            }
            .await;
            admin
                .execute_unprepared("SELECT pg_advisory_unlock(7243901)")
                .await?;
            result?;
            Ok(name)
        })
        .await
        .cloned()
}

/// Drops per-test databases left by runs that ended over an hour ago (their names carry
/// their creation time), so the server does not fill up across runs.
async fn drop_stale_databases(admin: &sea_orm::DatabaseConnection, now: i64) {
    let Ok(rows) = admin
        .query_all(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            r"SELECT datname FROM pg_database WHERE datname LIKE 'tollgate\_t\_%'".to_owned(),
        ))
        .await
    else {
        return;
    };
    for row in rows {
        let Ok(name) = row.try_get_by_index::<String>(0) else {
            continue;
        };
        let created = name.split('_').nth(2).and_then(|t| t.parse::<i64>().ok());
        if created.is_none_or(|t| now - t > 3600) {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\""))
                .await;
        }
    }
}

/// A fresh PostgreSQL database for one test.
pub async fn fresh_pg_database() -> Result<String> {
    let tmpl = template().await?;
    let now = chrono::Utc::now().timestamp();
    let db = format!("tollgate_t_{now}_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(pg_admin_url()).await?;
    drop_stale_databases(&admin, now).await;
    // CREATE DATABASE … TEMPLATE fails if another session is connected to the template.
    for attempt in 0..50 {
        match admin
            .execute_unprepared(&format!("CREATE DATABASE {db} TEMPLATE {tmpl}"))
            .await
        {
            Ok(_) => break,
            Err(e) if attempt < 49 && e.to_string().contains("being accessed") => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(pg_url_for(&db))
}

/// Everything needed to start (and restart) a server on the same data.
#[derive(Clone)]
pub struct ServerSpec {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub redis_url: Option<String>,
    pub master_key: MasterKey,
    /// Token issuer; instances that share a database must share it (default: own address).
    pub issuer: Option<String>,
    /// Redis namespace shared by the instances of this spec only.
    pub redis_prefix: String,
    /// Invoicing policy; the billing job is off unless a test turns it on.
    pub billing: tollgate::config::BillingSettings,
    /// Stripe sync (off unless a test points it at localstripe).
    pub stripe: Option<tollgate::config::StripeSettings>,
    /// Webhooks: private endpoints allowed (the receivers are on loopback), as with
    /// `TOLLGATE_WEBHOOK_ALLOW_PRIVATE=1`.
    pub webhooks: tollgate_webhooks::WebhookSettings,
}

impl ServerSpec {
    pub async fn new(backend: Backend, redis: bool) -> Result<Self> {
        let data_dir =
            std::env::temp_dir().join(format!("tollgate-it-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&data_dir)?;
        let database_url = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(fresh_pg_database().await?),
        };
        Ok(Self {
            data_dir,
            database_url,
            redis_url: redis.then(redis_url),
            master_key: MasterKey::generate().map_err(|e| anyhow::anyhow!("{e}"))?,
            issuer: None,
            redis_prefix: format!("tollgate-test-{}", uuid::Uuid::new_v4().simple()),
            billing: Default::default(),
            stripe: None,
            webhooks: tollgate_webhooks::WebhookSettings {
                allow_private: true,
                ..Default::default()
            },
        })
    }

    pub fn common(&self) -> CommonArgs {
        CommonArgs {
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            redis_url: self.redis_url.clone(),
            json: true,
        }
    }

    /// Serve arguments: port 0, no separate metrics listener.
    pub fn serve_args(&self) -> Result<ServeArgs> {
        Ok(ServeArgs {
            listen: "127.0.0.1:0".parse()?,
            metrics_listen: None,
            no_migrate: false,
        })
    }

    /// The environment a server of this spec reads.
    pub fn env(&self) -> EnvSettings {
        EnvSettings {
            issuer: self.issuer.clone(),
            audience: "tollgate-api".into(),
            token_ttl_secs: 900,
            session_idle_secs: 1800,
            trusted_proxies: vec![],
            master_key: Some(self.master_key.clone()),
            redis_prefix: self.redis_prefix.clone(),
            ocr: OcrSettings::default(),
            meter: tollgate_meter::MeterConfig::default(),
            body_timeout: std::time::Duration::from_secs(60),
            billing: self.billing,
            stripe: self.stripe.clone(),
            audit_retention_every: std::time::Duration::from_secs(3600),
            webhooks: self.webhooks.clone(),
        }
    }

    pub async fn start(&self) -> Result<TestServer> {
        let running = start_server(&self.common(), &self.serve_args()?, &self.env()).await?;
        let base = format!("http://{}", running.addr);
        Ok(TestServer { base, running })
    }

    /// Starts a server whose every service reads `clock` (tests move it instead of sleeping).
    pub async fn start_with_clock(
        &self,
        clock: Arc<dyn tollgate_core::Clock>,
    ) -> Result<TestServer> {
        let running = tollgate::server::start_with(
            &self.common(),
            &self.serve_args()?,
            &self.env(),
            shared_ocr().await?,
            clock,
        )
        .await?;
        let base = format!("http://{}", running.addr);
        Ok(TestServer { base, running })
    }
}

static OCR: OnceCell<Arc<tollgate_ocr::Engine>> = OnceCell::const_new();

/// One OCR engine for the whole test binary (the models load once), ready.
pub async fn shared_ocr() -> Result<Arc<tollgate_ocr::Engine>> {
    OCR.get_or_try_init(|| async {
        let mut env = ServerSpec::new(Backend::Sqlite, false).await?.env();
        // PDFs go through the worker process as in production: the real binary, with a
        // smaller address-space limit than the default (the test pages are small; a test
        // document that exhausts it does so sooner).
        let mut worker = tollgate_ocr::pdf_worker::PdfWorker::new(crate::cli::binary()?);
        worker.memory_limit = 768 << 20;
        env.ocr.engine.pdf_worker = Some(worker);
        let engine = tollgate::server::start_ocr(&env)?;
        anyhow::ensure!(
            engine.wait_ready(std::time::Duration::from_secs(120)).await,
            "the OCR models did not load"
        );
        Ok(engine)
    })
    .await
    .cloned()
}

/// Starts a server on the shared OCR engine.
pub async fn start_server(
    common: &CommonArgs,
    serve: &ServeArgs,
    env: &EnvSettings,
) -> Result<Running> {
    tollgate::server::start_with_ocr(common, serve, env, shared_ocr().await?).await
}

pub struct TestServer {
    pub base: String,
    pub running: Running,
}

/// A tenant with an owner, a client and a key.
pub struct Tenant {
    pub id: String,
    pub owner_email: String,
    pub owner_password: String,
    pub client_id: String,
    pub client_secret: String,
    pub key: String,
    pub key_id: String,
}

impl TestServer {
    pub async fn start(backend: Backend) -> Result<Self> {
        ServerSpec::new(backend, true).await?.start().await
    }

    /// The image limits of the servers' OCR engine (the default configuration).
    pub fn ocr_limits(&self) -> tollgate_ocr::ImageLimits {
        OcrSettings::default().engine.limits
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn auth(&self) -> &tollgate_auth::AuthService {
        &self.running.services.auth
    }

    pub fn meter(&self) -> &tollgate_meter::Meter {
        &self.running.services.meter
    }

    /// Whether the server's limiter currently uses Redis.
    pub fn meter_uses_redis(&self) -> bool {
        self.meter().using_redis()
    }

    pub fn store(&self) -> &tollgate_store::Store {
        &self.running.services.store
    }

    pub async fn stop(self) -> Result<()> {
        self.running.shutdown().await
    }

    /// An API key of the platform tenant with the `operator` scope (what
    /// `tollgate operator key-create` makes).
    pub async fn operator_key(&self) -> Result<String> {
        let key = self
            .auth()
            .create_key(
                tollgate_core::TenantId::PLATFORM,
                "operator",
                tollgate_core::ScopeSet::single(tollgate_core::Scope::Operator),
                tollgate_core::api_key::KeyEnv::Live,
                None,
                "operator",
                &tollgate_auth::RequestCtx::cli(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(key.key)
    }

    /// Creates a tenant with an owner (known password), an OAuth2 client and an API key.
    pub async fn tenant(&self, scopes: &str) -> Result<Tenant> {
        let scopes = tollgate_core::ScopeSet::parse(scopes).map_err(|e| anyhow::anyhow!("{e}"))?;
        let ctx = tollgate_auth::RequestCtx::cli();
        let auth = self.auth();
        let id = auth
            .create_tenant("Test tenant", &ctx)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let email = format!("owner-{}@example.com", uuid::Uuid::new_v4().simple());
        let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
        auth.create_admin(
            id,
            &email,
            tollgate_core::Role::Owner,
            Some(password.clone()),
            "operator",
            &ctx,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let client = auth
            .create_client(id, "test client", scopes, "operator", &ctx)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let key = auth
            .create_key(
                id,
                "test key",
                scopes,
                tollgate_core::api_key::KeyEnv::Live,
                None,
                "operator",
                &ctx,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(Tenant {
            id: id.to_string(),
            owner_email: email,
            owner_password: password,
            client_id: client.client.client_id,
            client_secret: client.client_secret,
            key: key.key,
            key_id: key.view.key_id.to_string(),
        })
    }

    /// Gets an access token with `client_secret_basic`.
    pub async fn token(
        &self,
        client_id: &str,
        secret: &str,
        scope: Option<&str>,
    ) -> Result<String> {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(s) = scope {
            form.push(("scope", s));
        }
        let resp = reqwest::Client::new()
            .post(self.url("/oauth/token"))
            .basic_auth(client_id, Some(secret))
            .form(&form)
            .send()
            .await?;
        anyhow::ensure!(
            resp.status() == 200,
            "token request failed: {}",
            resp.status()
        );
        let body: Value = resp.json().await?;
        Ok(body["access_token"]
            .as_str()
            .context("no access_token")?
            .to_owned())
    }

    /// `GET /v1/me` with a bearer credential; returns status and body.
    pub async fn me(&self, bearer: &str) -> Result<(u16, Value)> {
        let resp = reqwest::Client::new()
            .get(self.url("/v1/me"))
            .bearer_auth(bearer)
            .send()
            .await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(Value::Null)))
    }

    /// Signs in a member created with a one-time password and chooses a new one (the
    /// portal allows nothing else before); the session stays signed in.
    pub async fn login_first_time(&self, email: &str, one_time: &str) -> Result<Portal> {
        let portal = self.login(email, one_time).await?;
        let (status, body) = portal
            .post(
                "/v1/session/password",
                json!({ "current_password": one_time, "new_password": format!("{one_time}-chosen") }),
            )
            .await?;
        anyhow::ensure!(status == 200, "password change: {status} {body}");
        Ok(portal)
    }

    /// Signs in to the portal; the returned client keeps the session cookie.
    pub async fn login(&self, email: &str, password: &str) -> Result<Portal> {
        login_at(&self.base, email, password).await
    }
}

/// Signs in to the portal of the server at `base`; the returned client keeps the session
/// cookie.
pub async fn login_at(base: &str, email: &str, password: &str) -> Result<Portal> {
    let http = reqwest::Client::builder().cookie_store(true).build()?;
    let resp = http
        .post(format!("{base}/v1/session"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await?;
    anyhow::ensure!(resp.status() == 200, "login failed: {}", resp.status());
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .context("no session cookie")?
        .to_owned();
    let attrs = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    anyhow::ensure!(
        attrs.contains("HttpOnly") && attrs.contains("SameSite=Strict"),
        "cookie attributes: {attrs}"
    );
    let body: Value = resp.json().await?;
    let csrf = body["csrf_token"]
        .as_str()
        .context("no csrf_token")?
        .to_owned();
    Ok(Portal {
        http,
        base: base.to_owned(),
        csrf,
        cookie,
    })
}

/// A signed-in portal user.
pub struct Portal {
    pub http: reqwest::Client,
    pub base: String,
    pub csrf: String,
    /// `tollgate_session=<value>`, as the browser sends it.
    pub cookie: String,
}

impl Portal {
    fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&self.csrf) {
            h.insert("x-csrf-token", v);
        }
        h
    }

    pub async fn get(&self, path: &str) -> Result<(u16, Value)> {
        let resp = self.http.get(format!("{}{path}", self.base)).send().await?;
        Ok((
            resp.status().as_u16(),
            resp.json().await.unwrap_or(Value::Null),
        ))
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value)> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .headers(self.headers());
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        Ok((
            resp.status().as_u16(),
            resp.json().await.unwrap_or(Value::Null),
        ))
    }

    /// Adds a member with `role` (as an owner): their email and one-time password.
    pub async fn add_member(&self, role: &str) -> Result<(String, String)> {
        let email = format!("{role}-{}@example.com", uuid::Uuid::new_v4().simple());
        let (status, created) = self
            .post("/v1/members", json!({ "email": email, "role": role }))
            .await?;
        anyhow::ensure!(status == 201, "adding a member: {status} {created}");
        Ok((email, str_field(&created, "/password")?))
    }

    pub async fn post(&self, path: &str, body: Value) -> Result<(u16, Value)> {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Result<(u16, Value)> {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Result<(u16, Value)> {
        self.send(reqwest::Method::DELETE, path, None).await
    }
}

/// The string at JSON `pointer` in `v`.
pub fn str_field(v: &Value, pointer: &str) -> Result<String> {
    Ok(v.pointer(pointer)
        .and_then(Value::as_str)
        .with_context(|| format!("no {pointer} in {v}"))?
        .to_owned())
}

/// For each `async fn name(Backend) -> Result<()>`, defines tests `name::sqlite` and
/// `name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() -> anyhow::Result<()> {
                    super::$name($crate::harness::Backend::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() -> anyhow::Result<()> {
                    super::$name($crate::harness::Backend::Postgres).await
                }
            }
        )*
    };
}

/// A Redis server of the test's own, on a free port, for tests that stop Redis under a
/// running Tollgate. Killed on drop.
pub struct PrivateRedis {
    pub port: u16,
    child: std::process::Child,
}

impl PrivateRedis {
    /// Starts `redis-server` (no persistence) and waits until it answers.
    pub async fn start() -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        Self::start_on(port).await
    }

    /// Starts one on `port` (e.g. again after [`PrivateRedis::kill`]).
    pub async fn start_on(port: u16) -> Result<Self> {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .context("redis-server is required for the test suite")?;
        let redis = Self { port, child };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(redis);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        anyhow::bail!("redis-server on port {port} did not start")
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// How many keys match `pattern`.
    pub async fn keys(&self, pattern: &str) -> Result<usize> {
        let client = redis::Client::open(self.url())?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(pattern)
            .query_async(&mut conn)
            .await?;
        Ok(keys.len())
    }

    /// Stops the server (as a crash would: no goodbye to clients).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// localstripe (PyPI) behind tests/python/localstripe_shim.py, one per test binary, on a free
/// port; tests keep apart by tenant (each tenant is its own Stripe customer).
pub struct LocalStripe {
    pub url: String,
    _child: std::process::Child,
}

static LOCALSTRIPE: OnceCell<LocalStripe> = OnceCell::const_new();

/// The webhook signing secret the tests configure.
pub const WEBHOOK_SECRET: &str = "whsec_tollgate_tests";

impl LocalStripe {
    /// The shared instance, started on first use.
    pub async fn shared() -> Result<&'static LocalStripe> {
        LOCALSTRIPE
            .get_or_try_init(|| async {
                let port = std::net::TcpListener::bind("127.0.0.1:0")?
                    .local_addr()?
                    .port();
                let shim = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/localstripe_shim.py");
                let log = std::fs::File::create(std::env::temp_dir().join(format!("localstripe-{port}.log")))?;
                let child = std::process::Command::new(crate::python::python()?)
                    .arg(shim)
                    .args(["--port", &port.to_string(), "--from-scratch"])
                    .stdout(log.try_clone()?)
                    .stderr(log)
                    .spawn()
                    .context("localstripe is required for the billing tests (tests/python/requirements.txt)")?;
                let url = format!("http://127.0.0.1:{port}");
                let client = reqwest::Client::new();
                for _ in 0..200 {
                    if client.get(format!("{url}/v1/customers")).basic_auth("sk_test_x", Some("")).send().await.is_ok() {
                        return Ok(LocalStripe { url, _child: child });
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                anyhow::bail!("localstripe on port {port} did not start")
            })
            .await
    }

    /// Stripe settings pointing at it; the relay runs every `relay` (or not at all).
    pub fn settings(&self, relay: Option<std::time::Duration>) -> tollgate::config::StripeSettings {
        tollgate::config::StripeSettings {
            client: tollgate_billing::stripe_sync::StripeConfig {
                api_key: "sk_test_tollgate".into(),
                api_base: Some(self.url.clone()),
            },
            webhook_secret: Some(tollgate_billing::stripe_sync::webhooks::WebhookSecret(
                WEBHOOK_SECRET.into(),
            )),
            relay_every: relay,
        }
    }
}

/// Polls `f` (every 100 ms, at most 15 s) until it gives a value.
pub async fn wait_for<T, F, Fut>(f: F) -> Result<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    for _ in 0..150 {
        if let Some(v) = f().await? {
            return Ok(v);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::bail!("timed out waiting")
}

/// The 15th of this month at noon (so a month ahead is the next period).
pub fn mid_month() -> Result<chrono::DateTime<chrono::Utc>> {
    use chrono::Datelike;
    Ok(chrono::Utc::now()
        .date_naive()
        .with_day(15)
        .context("day")?
        .and_hms_opt(12, 0, 0)
        .context("time")?
        .and_utc())
}
