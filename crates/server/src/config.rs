//! Configuration: command-line flags, `TOLLGATE_*` environment variables, `DATABASE_URL` and
//! `REDIS_URL`, with embedded defaults so `tollgate serve` runs with nothing set. Secrets may
//! come from `*_FILE`; they never appear in `Debug` output.

use anyhow::{bail, Context, Result};
use clap::Args;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use tollgate_auth::master::MasterKey;

/// Settings shared by every subcommand (so operator commands reach a running server's database).
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Directory for the embedded database and generated secrets.
    #[arg(
        long,
        env = "TOLLGATE_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Database URL (`postgres://…` or `sqlite://…`); default: SQLite under the data directory.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Redis URL; default: in-process limiter and revocation cache.
    #[arg(long, env = "REDIS_URL", global = true, hide_env_values = true)]
    pub redis_url: Option<String>,
    /// Print one JSON object instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

/// Settings of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TOLLGATE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Separate address for `/metrics` (otherwise served on the main listener).
    #[arg(long, env = "TOLLGATE_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Do not apply migrations on start.
    #[arg(long)]
    pub no_migrate: bool,
}

/// Settings that only come from the environment.
#[derive(Clone)]
pub struct EnvSettings {
    /// `iss` of tokens (`TOLLGATE_ISSUER`); default `http://<listen>`.
    pub issuer: Option<String>,
    /// `aud` of tokens (`TOLLGATE_AUDIENCE`).
    pub audience: String,
    /// Access-token lifetime in seconds (`TOLLGATE_TOKEN_TTL_SECS`).
    pub token_ttl_secs: i64,
    /// A portal session unused for this long ends (`TOLLGATE_SESSION_IDLE_SECS`, 300 to
    /// 86400; default 1800: at least five times the minute between writes of a session's
    /// last use).
    pub session_idle_secs: i64,
    /// Proxies trusted for X-Forwarded-For (`TOLLGATE_TRUSTED_PROXIES`, comma-separated).
    pub trusted_proxies: Vec<IpAddr>,
    /// Master key (`TOLLGATE_MASTER_KEY` or `TOLLGATE_MASTER_KEY_FILE`), if given.
    pub master_key: Option<MasterKey>,
    /// Namespace of every Redis key (`TOLLGATE_REDIS_PREFIX`), so deployments can share a Redis.
    pub redis_prefix: String,
    /// The OCR engine.
    pub ocr: OcrSettings,
    /// Metering (`TOLLGATE_REDIS_DOWN`, `TOLLGATE_INSTANCES`).
    pub meter: tollgate_meter::MeterConfig,
    /// Longest a request body may take to arrive (`TOLLGATE_BODY_TIMEOUT_SECS`, default 60).
    pub body_timeout: std::time::Duration,
    /// Invoicing (`TOLLGATE_BILLING_*`, `TOLLGATE_INVOICE_DUE_DAYS`, `TOLLGATE_SUSPEND_UNPAID`).
    pub billing: BillingSettings,
    /// Stripe (`STRIPE_API_KEY`, `STRIPE_API_BASE`, `STRIPE_WEBHOOK_SECRET`); `None` without a
    /// key: nothing is synced.
    pub stripe: Option<StripeSettings>,
    /// How often the plans' audit retention is applied (`TOLLGATE_AUDIT_RETENTION_SECS`, 60 to
    /// 86400; default 3600).
    pub audit_retention_every: std::time::Duration,
    /// Tenant webhooks (`TOLLGATE_WEBHOOK_ALLOW_PRIVATE`, `TOLLGATE_WEBHOOK_RETRY_SECS`).
    pub webhooks: tollgate_webhooks::WebhookSettings,
}

/// Stripe sync settings.
#[derive(Debug, Clone)]
pub struct StripeSettings {
    /// Where and how to reach Stripe.
    pub client: tollgate_billing::stripe_sync::StripeConfig,
    /// The webhook endpoint's signing secret.
    pub webhook_secret: Option<tollgate_billing::stripe_sync::webhooks::WebhookSecret>,
    /// How often the relay looks at the outbox (`TOLLGATE_STRIPE_RELAY_SECS`, default 5);
    /// `None`: this process runs no relay (`tollgate billing sync` pushes by hand).
    pub relay_every: Option<std::time::Duration>,
}

impl StripeSettings {
    /// Reads `STRIPE_API_KEY` (none: no sync), `STRIPE_API_BASE` (an http(s) URL; default
    /// Stripe's), `STRIPE_WEBHOOK_SECRET` and `TOLLGATE_STRIPE_RELAY_SECS` (1 to 3600).
    pub fn from_env() -> Result<Option<Self>> {
        let Some(api_key) = var("STRIPE_API_KEY") else {
            if var("STRIPE_API_BASE").is_some() || var("STRIPE_WEBHOOK_SECRET").is_some() {
                bail!("STRIPE_API_BASE or STRIPE_WEBHOOK_SECRET is set without STRIPE_API_KEY");
            }
            return Ok(None);
        };
        let api_base = var("STRIPE_API_BASE");
        if let Some(b) = &api_base {
            if !(b.starts_with("http://") || b.starts_with("https://")) {
                bail!("STRIPE_API_BASE must be an http(s) URL, not `{b}`");
            }
        }
        let every: u64 = number("TOLLGATE_STRIPE_RELAY_SECS", 5)?;
        if !(1..=3600).contains(&every) {
            bail!("TOLLGATE_STRIPE_RELAY_SECS must be between 1 and 3600");
        }
        Ok(Some(Self {
            client: tollgate_billing::stripe_sync::StripeConfig {
                api_key: api_key.trim().to_owned(),
                api_base,
            },
            webhook_secret: var("STRIPE_WEBHOOK_SECRET").map(|s| {
                tollgate_billing::stripe_sync::webhooks::WebhookSecret(s.trim().to_owned())
            }),
            relay_every: Some(std::time::Duration::from_secs(every)),
        }))
    }
}

/// How invoices are finalized and collected, and how often the server looks.
#[derive(Debug, Clone, Copy, Default)]
pub struct BillingSettings {
    /// The policy.
    pub policy: tollgate_billing::Policy,
    /// How often the server finalizes due periods and suspends or reinstates tenants
    /// (`TOLLGATE_BILLING_JOB_SECS`, default 60).
    pub job_every: Option<std::time::Duration>,
}

impl BillingSettings {
    /// Reads `TOLLGATE_BILLING_GRACE_SECS` (0 to 7 days; default 3600),
    /// `TOLLGATE_INVOICE_DUE_DAYS` (0 to 365; default 30), `TOLLGATE_SUSPEND_UNPAID`
    /// (`true`, the default, or `false`) and `TOLLGATE_BILLING_JOB_SECS` (1 to 3600).
    pub fn from_env() -> Result<Self> {
        let mut policy = tollgate_billing::Policy::default();
        let grace: i64 = number("TOLLGATE_BILLING_GRACE_SECS", policy.grace.num_seconds())?;
        // At most a week: the job finalizes the period before the current one once its grace
        // is over, which must happen within the shortest month.
        if !(0..=7 * 86_400).contains(&grace) {
            bail!("TOLLGATE_BILLING_GRACE_SECS must be between 0 and 604800 (7 days)");
        }
        policy.grace = chrono::Duration::seconds(grace);
        policy.due_days = number("TOLLGATE_INVOICE_DUE_DAYS", policy.due_days)?;
        if !(0..=365).contains(&policy.due_days) {
            bail!("TOLLGATE_INVOICE_DUE_DAYS must be between 0 and 365");
        }
        policy.suspend_unpaid = match var("TOLLGATE_SUSPEND_UNPAID").as_deref() {
            None | Some("true") => true,
            Some("false") => false,
            Some(other) => {
                bail!("TOLLGATE_SUSPEND_UNPAID must be `true` or `false`, not `{other}`")
            }
        };
        let every: u64 = number("TOLLGATE_BILLING_JOB_SECS", 60)?;
        if !(1..=3600).contains(&every) {
            bail!("TOLLGATE_BILLING_JOB_SECS must be between 1 and 3600");
        }
        Ok(Self {
            policy,
            job_every: Some(std::time::Duration::from_secs(every)),
        })
    }
}

/// Reads `TOLLGATE_WEBHOOK_ALLOW_PRIVATE` (`1` lets endpoints be on loopback and private
/// networks, over plain http: for tests and local receivers) and `TOLLGATE_WEBHOOK_RETRY_SECS`
/// (the waits after each failed attempt, comma-separated seconds; default about three days).
pub fn webhooks_from_env() -> Result<tollgate_webhooks::WebhookSettings> {
    let allow_private = match var("TOLLGATE_WEBHOOK_ALLOW_PRIVATE").as_deref() {
        None | Some("0") => false,
        Some("1") => true,
        Some(other) => bail!("TOLLGATE_WEBHOOK_ALLOW_PRIVATE must be 0 or 1, not `{other}`"),
    };
    let mut s = tollgate_webhooks::WebhookSettings {
        allow_private,
        ..Default::default()
    };
    if let Some(list) = var("TOLLGATE_WEBHOOK_RETRY_SECS") {
        let waits: Result<Vec<u64>, _> = list.split(',').map(|w| w.trim().parse()).collect();
        match waits {
            Ok(w) if w.len() <= 20 && w.iter().all(|s| (1..=86_400).contains(s)) => {
                s.schedule = w.into_iter().map(std::time::Duration::from_secs).collect();
            }
            _ => bail!(
                "TOLLGATE_WEBHOOK_RETRY_SECS must be at most 20 comma-separated waits of 1 to 86400 seconds"
            ),
        }
    }
    Ok(s)
}

/// Reads `TOLLGATE_REDIS_DOWN` (`degrade`, the default, or `fail-closed`) and
/// `TOLLGATE_INSTANCES` (how many instances share the limits; default 1).
pub fn meter_from_env() -> Result<tollgate_meter::MeterConfig> {
    use tollgate_meter::limiter::RedisDownPolicy;
    let instances: u32 = number("TOLLGATE_INSTANCES", 1)?;
    if instances == 0 {
        bail!("TOLLGATE_INSTANCES must be at least 1");
    }
    let redis_down = match var("TOLLGATE_REDIS_DOWN").as_deref() {
        None | Some("degrade") => RedisDownPolicy::Degrade { instances },
        Some("fail-closed") => RedisDownPolicy::FailClosed,
        Some(other) => {
            bail!("TOLLGATE_REDIS_DOWN must be `degrade` or `fail-closed`, not `{other}`")
        }
    };
    Ok(tollgate_meter::MeterConfig {
        redis_down,
        ..Default::default()
    })
}

/// OCR engine settings (`TOLLGATE_OCR_*`).
#[derive(Debug, Clone)]
pub struct OcrSettings {
    /// `cpu` (default) or `cuda` (`TOLLGATE_OCR_DEVICE`).
    pub device: tollgate_ocr::DeviceKind,
    /// Queue, batch, timeout and image limits.
    pub engine: tollgate_ocr::EngineConfig,
    /// Bytes of uploads that may be in flight at once (`TOLLGATE_OCR_BODY_BUDGET_MB`).
    pub body_budget: usize,
}

impl Default for OcrSettings {
    fn default() -> Self {
        Self {
            device: tollgate_ocr::DeviceKind::Cpu,
            engine: tollgate_ocr::EngineConfig::default(),
            body_budget: 256 << 20,
        }
    }
}

fn number<T: std::str::FromStr>(name: &str, default: T) -> Result<T> {
    match var(name) {
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("{name} must be a positive number, not `{v}`")),
        None => Ok(default),
    }
}

impl OcrSettings {
    /// Reads `TOLLGATE_OCR_DEVICE`, `_QUEUE`, `_MAX_BATCH`, `_THREADS`, `_TIMEOUT_SECS`,
    /// `_MAX_BYTES`, `_MAX_PIXELS`, `_MEMORY_MB`, and `TOLLGATE_PDF_WORKER` (the executable
    /// run as the PDF worker; this one by default) and `TOLLGATE_PDF_WORKER_MEMORY_MB`.
    pub fn from_env() -> Result<Self> {
        let d = Self::default();
        let device = match var("TOLLGATE_OCR_DEVICE") {
            Some(v) => v
                .parse()
                .map_err(|e: String| anyhow::anyhow!("TOLLGATE_OCR_DEVICE: {e}"))?,
            None => d.device,
        };
        let mut engine = d.engine;
        engine.queue_capacity = number("TOLLGATE_OCR_QUEUE", engine.queue_capacity)?;
        engine.max_batch = number("TOLLGATE_OCR_MAX_BATCH", engine.max_batch)?;
        engine.threads = number("TOLLGATE_OCR_THREADS", engine.threads)?;
        engine.timeout = std::time::Duration::from_secs(number(
            "TOLLGATE_OCR_TIMEOUT_SECS",
            engine.timeout.as_secs(),
        )?);
        engine.limits.max_bytes = number("TOLLGATE_OCR_MAX_BYTES", engine.limits.max_bytes)?;
        engine.limits.max_pixels = number("TOLLGATE_OCR_MAX_PIXELS", engine.limits.max_pixels)?;
        let memory_mb: usize = number("TOLLGATE_OCR_MEMORY_MB", engine.memory_budget >> 20)?;
        if memory_mb < 64 {
            bail!("TOLLGATE_OCR_MEMORY_MB must be at least 64");
        }
        engine.memory_budget = memory_mb << 20;
        let body_mb: usize = number("TOLLGATE_OCR_BODY_BUDGET_MB", d.body_budget >> 20)?;
        if (body_mb << 20) < engine.limits.max_bytes {
            bail!("TOLLGATE_OCR_BODY_BUDGET_MB must hold at least one upload of TOLLGATE_OCR_MAX_BYTES");
        }
        // PDFs are parsed and rendered in children of this executable (or of the one named).
        let program = match var("TOLLGATE_PDF_WORKER") {
            Some(path) => std::path::PathBuf::from(path),
            None => std::env::current_exe()
                .map_err(|e| anyhow::anyhow!("finding this executable for the PDF worker: {e}"))?,
        };
        let mut worker = tollgate_ocr::pdf_worker::PdfWorker::new(program);
        let worker_mb: u64 = number("TOLLGATE_PDF_WORKER_MEMORY_MB", worker.memory_limit >> 20)?;
        if worker_mb < 256 {
            bail!("TOLLGATE_PDF_WORKER_MEMORY_MB must be at least 256");
        }
        worker.memory_limit = worker_mb << 20;
        engine.pdf_worker = Some(worker);
        if engine.queue_capacity == 0 || engine.max_batch == 0 || engine.timeout.is_zero() {
            bail!("TOLLGATE_OCR_QUEUE, TOLLGATE_OCR_MAX_BATCH and TOLLGATE_OCR_TIMEOUT_SECS must be above 0");
        }
        Ok(Self {
            device,
            engine,
            body_budget: body_mb << 20,
        })
    }
}

impl std::fmt::Debug for EnvSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvSettings")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("token_ttl_secs", &self.token_ttl_secs)
            .field("master_key", &self.master_key.as_ref().map(|_| "***"))
            .field("redis_prefix", &self.redis_prefix)
            .finish()
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Reads `TOLLGATE_BODY_TIMEOUT_SECS` (1 to 3600; default 60).
fn body_timeout_from_env() -> Result<std::time::Duration> {
    let secs: u64 = number("TOLLGATE_BODY_TIMEOUT_SECS", 60)?;
    if !(1..=3600).contains(&secs) {
        bail!("TOLLGATE_BODY_TIMEOUT_SECS must be between 1 and 3600");
    }
    Ok(std::time::Duration::from_secs(secs))
}

/// Longest access-token lifetime that may be configured.
pub const MAX_TOKEN_TTL_SECS: i64 = 86_400;

impl EnvSettings {
    /// Reads and validates the environment.
    pub fn from_env() -> Result<Self> {
        let token_ttl_secs = match var("TOLLGATE_TOKEN_TTL_SECS") {
            Some(v) => v
                .parse()
                .context("TOLLGATE_TOKEN_TTL_SECS must be a number of seconds")?,
            None => 900,
        };
        if !(60..=MAX_TOKEN_TTL_SECS).contains(&token_ttl_secs) {
            bail!("TOLLGATE_TOKEN_TTL_SECS must be between 60 and {MAX_TOKEN_TTL_SECS}");
        }
        let trusted_proxies = var("TOLLGATE_TRUSTED_PROXIES")
            .map(|v| {
                v.split(',')
                    .map(|s| {
                        s.trim().parse::<IpAddr>().with_context(|| {
                            format!("TOLLGATE_TRUSTED_PROXIES: `{s}` is not an IP address")
                        })
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .transpose()?
            .unwrap_or_default();
        let master_key = match (var("TOLLGATE_MASTER_KEY"), var("TOLLGATE_MASTER_KEY_FILE")) {
            (Some(_), Some(_)) => {
                bail!("set TOLLGATE_MASTER_KEY or TOLLGATE_MASTER_KEY_FILE, not both")
            }
            (Some(k), None) => {
                Some(MasterKey::from_base64(&k).map_err(|e| anyhow::anyhow!("{e}"))?)
            }
            (None, Some(path)) => {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading TOLLGATE_MASTER_KEY_FILE {path}"))?;
                Some(MasterKey::from_base64(&text).map_err(|e| anyhow::anyhow!("{e}"))?)
            }
            (None, None) => None,
        };
        Ok(Self {
            issuer: var("TOLLGATE_ISSUER"),
            audience: var("TOLLGATE_AUDIENCE").unwrap_or_else(|| "tollgate-api".into()),
            token_ttl_secs,
            session_idle_secs: {
                let secs: i64 = number("TOLLGATE_SESSION_IDLE_SECS", 1800)?;
                if !(300..=86_400).contains(&secs) {
                    bail!("TOLLGATE_SESSION_IDLE_SECS must be between 300 and 86400");
                }
                secs
            },
            trusted_proxies,
            master_key,
            redis_prefix: var("TOLLGATE_REDIS_PREFIX").unwrap_or_else(|| "tollgate".into()),
            ocr: OcrSettings::from_env()?,
            meter: meter_from_env()?,
            body_timeout: body_timeout_from_env()?,
            billing: BillingSettings::from_env()?,
            stripe: StripeSettings::from_env()?,
            webhooks: webhooks_from_env()?,
            audit_retention_every: {
                let every: u64 = number("TOLLGATE_AUDIT_RETENTION_SECS", 3600)?;
                if !(60..=86_400).contains(&every) {
                    bail!("TOLLGATE_AUDIT_RETENTION_SECS must be between 60 and 86400");
                }
                std::time::Duration::from_secs(every)
            },
        })
    }
}

impl CommonArgs {
    /// The database URL, defaulting to SQLite under the data directory.
    pub fn database_url(&self) -> Result<String> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating data directory {}", self.data_dir.display()))?;
        Ok(format!(
            "sqlite://{}?mode=rwc",
            self.data_dir.join("tollgate.db").display()
        ))
    }
}

/// The master key: from the environment, or `<data-dir>/master.key` (created with mode 0600).
pub fn master_key(env: &EnvSettings, data_dir: &Path) -> Result<MasterKey> {
    if let Some(k) = &env.master_key {
        return Ok(k.clone());
    }
    let path = data_dir.join("master.key");
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        return MasterKey::from_base64(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let key = MasterKey::generate().map_err(|e| anyhow::anyhow!("{e}"))?;
    write_private(&path, &key.to_base64())?;
    tracing::info!(path = %path.display(), "generated a new master key");
    Ok(key)
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> Result<()> {
    std::fs::write(path, contents).with_context(|| format!("creating {}", path.display()))
}
