//! The server lifecycle: bind, serve the API (and optionally a metrics listener), run the
//! background workers, and on shutdown drain requests and stop the workers.

use crate::config::{CommonArgs, EnvSettings, ServeArgs};
use crate::runtime::{build, Services};
use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tollgate_api::{ApiConfig, AppState, ReadinessCheck};
use tollgate_store::redis_conn::RedisConn;

const DRAIN: Duration = Duration::from_secs(20);

struct RedisReady(RedisConn);

#[async_trait::async_trait]
impl ReadinessCheck for RedisReady {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn check(&self) -> Result<(), String> {
        let mut conn = self.0.clone();
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut conn);
        match tokio::time::timeout(Duration::from_secs(1), ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("timeout".into()),
        }
    }
}

/// Metering can admit calls: the quota counters can be seeded, the usage recorder runs.
struct MeteringReady(Arc<tollgate_meter::Meter>);

#[async_trait::async_trait]
impl ReadinessCheck for MeteringReady {
    fn name(&self) -> &'static str {
        "metering"
    }

    async fn check(&self) -> Result<(), String> {
        self.0.ready().await
    }
}

/// A running server.
pub struct Running {
    /// Where the API listens.
    pub addr: SocketAddr,
    /// Where `/metrics` listens, if separate.
    pub metrics_addr: Option<SocketAddr>,
    /// The services (tests use them to seed data).
    pub services: Arc<ServicesHandle>,
    cancel: CancellationToken,
    task: JoinHandle<Result<()>>,
}

/// Services shared with tests.
pub struct ServicesHandle {
    /// The auth service.
    pub auth: Arc<tollgate_auth::AuthService>,
    /// The store.
    pub store: tollgate_store::Store,
    /// Metering.
    pub meter: Arc<tollgate_meter::Meter>,
}

impl Running {
    /// Stops accepting, drains in-flight requests and stops background workers.
    pub async fn shutdown(self) -> Result<()> {
        self.cancel.cancel();
        self.task.await.context("server task panicked")?
    }

    /// A token that stops the server when cancelled.
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Waits until the server stops by itself or through its cancel token.
    pub async fn wait(self) -> Result<()> {
        self.task.await.context("server task panicked")?
    }
}

/// The OCR engine is ready once its models are loaded and warmed up.
struct OcrReady(Arc<tollgate_ocr::Engine>);

#[async_trait::async_trait]
impl ReadinessCheck for OcrReady {
    fn name(&self) -> &'static str {
        "ocr"
    }

    async fn check(&self) -> Result<(), String> {
        if self.0.is_ready() {
            Ok(())
        } else if self.0.has_failed() {
            Err("the OCR models failed to load".into())
        } else {
            Err("the OCR models are loading".into())
        }
    }
}

/// Starts the OCR engine the settings describe (models load and warm up in the background).
pub fn start_ocr(env: &EnvSettings) -> Result<Arc<tollgate_ocr::Engine>> {
    if let Some(worker) = &env.ocr.engine.pdf_worker {
        // A worker that cannot answer would fail every PDF: refuse to start instead.
        worker
            .probe(std::time::Duration::from_secs(10))
            .map_err(|e| anyhow::anyhow!("PDF worker {}: {e}", worker.program.display()))?;
    }
    let engine = tollgate_ocr::start(env.ocr.device, env.ocr.engine.clone())
        .map_err(|e| anyhow::anyhow!("OCR engine: {e}"))?;
    Ok(Arc::new(engine))
}

/// Multipart framing allowed on top of the largest image.
const MULTIPART_SLACK: usize = 64 * 1024;

/// Binds and starts the server; returns once it is accepting connections (the OCR models
/// may still be loading: `/readyz` says when they are).
pub async fn start(common: &CommonArgs, serve: &ServeArgs, env: &EnvSettings) -> Result<Running> {
    let ocr = start_ocr(env)?;
    // A GPU that is configured but cannot be used is a start-up error, not a silent fallback.
    if env.ocr.device == tollgate_ocr::DeviceKind::Cuda
        && !ocr.wait_ready(Duration::from_secs(300)).await
    {
        anyhow::bail!(
            "TOLLGATE_OCR_DEVICE=cuda, but the models could not be loaded on the GPU (see the log)"
        );
    }
    start_with_ocr(common, serve, env, ocr).await
}

/// [`start`] with an OCR engine made elsewhere (tests share one across servers).
pub async fn start_with_ocr(
    common: &CommonArgs,
    serve: &ServeArgs,
    env: &EnvSettings,
    ocr: Arc<tollgate_ocr::Engine>,
) -> Result<Running> {
    start_with(
        common,
        serve,
        env,
        ocr,
        Arc::new(tollgate_core::SystemClock),
    )
    .await
}

/// [`start_with_ocr`] on `clock` (tests move a manual clock instead of sleeping).
pub async fn start_with(
    common: &CommonArgs,
    serve: &ServeArgs,
    env: &EnvSettings,
    ocr: Arc<tollgate_ocr::Engine>,
    clock: Arc<dyn tollgate_core::Clock>,
) -> Result<Running> {
    let listener = tokio::net::TcpListener::bind(serve.listen)
        .await
        .with_context(|| format!("cannot listen on {}", serve.listen))?;
    let addr = listener.local_addr()?;
    let metrics_listener = match serve.metrics_listen {
        Some(a) => Some(
            tokio::net::TcpListener::bind(a)
                .await
                .with_context(|| format!("cannot listen on {a}"))?,
        ),
        None => None,
    };
    let metrics_addr = metrics_listener
        .as_ref()
        .map(|l| l.local_addr())
        .transpose()?;
    let issuer = env
        .issuer
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let secure_cookies = issuer.starts_with("https://");
    let Services {
        store,
        redis,
        auth,
        billing,
        stripe,
        webhooks,
        oidc,
    } = build(common, env, issuer, !serve.no_migrate, clock.clone()).await?;
    let mut readiness: Vec<Box<dyn ReadinessCheck>> = Vec::new();
    if let Some(conn) = &redis {
        readiness.push(Box::new(RedisReady(conn.clone())));
    }
    readiness.push(Box::new(OcrReady(ocr.clone())));
    let cancel = CancellationToken::new();
    // The recorder stops (after writing what is queued) only once the HTTP server has drained.
    let recorder_stop = CancellationToken::new();
    let (recorder, recorder_task) = tollgate_meter::recorder::Recorder::start(
        store.clone(),
        tollgate_meter::recorder::RecorderConfig::default(),
        recorder_stop.clone(),
    );
    let meter = Arc::new(tollgate_meter::Meter::new(
        store.clone(),
        redis.clone().map(|c| (c, env.redis_prefix.clone())),
        recorder,
        clock.clone(),
        env.meter,
    ));
    readiness.push(Box::new(MeteringReady(meter.clone())));
    let state = Arc::new(AppState {
        auth: auth.clone(),
        store: store.clone(),
        metrics: tollgate_api::metrics::Metrics::new().context("metrics registry")?,
        config: ApiConfig {
            trusted_proxies: env.trusted_proxies.clone(),
            secure_cookies,
            metrics_on_main: metrics_listener.is_none(),
            ocr_max_body: ocr.config().limits.max_bytes + MULTIPART_SLACK,
            body_timeout: env.body_timeout,
            ocr_body_budget: env.ocr.body_budget,
            bench_routes: std::env::var("TOLLGATE_BENCH_ROUTES").is_ok_and(|v| v == "1"),
            stripe_webhook_secret: env.stripe.as_ref().and_then(|s| s.webhook_secret.clone()),
        },
        readiness,
        ocr,
        meter: meter.clone(),
        usage: tollgate_meter::usage::UsageReports::new(store.clone(), clock.clone()),
        plans: tollgate_meter::plans::Plans::new(store.clone(), clock.clone()),
        billing: billing.clone(),
        webhooks: webhooks.clone(),
        oidc,
        ocr_bodies: Arc::new(tokio::sync::Semaphore::new(
            (env.ocr.body_budget / 1024).clamp(1, tokio::sync::Semaphore::MAX_PERMITS),
        )),
    });
    let mut workers = vec![
        tokio::spawn(auth.denylist.clone().run_sync(cancel.child_token())),
        tokio::spawn(refresh_keys(auth.clone(), cancel.child_token())),
        tokio::spawn(meter.clone().purge_expired_keys(cancel.child_token())),
        tokio::spawn(webhooks.run(cancel.child_token())),
        tokio::spawn(run_audit_retention(
            store.clone(),
            clock.clone(),
            env.audit_retention_every,
            cancel.child_token(),
        )),
    ];
    if let (Some(sync), Some(every)) = (stripe, env.stripe.as_ref().and_then(|s| s.relay_every)) {
        workers.push(tokio::spawn(sync.run(every, cancel.child_token())));
    }
    if let Some(every) = env.billing.job_every {
        workers.push(tokio::spawn(run_billing(
            billing,
            meter.clone(),
            every,
            cancel.child_token(),
        )));
    }
    // Counted anonymous audit rows are flushed for the last time once requests have drained.
    let audit_stop = CancellationToken::new();
    let anonymous_task = tokio::spawn(auth.clone().run_anonymous_audit(audit_stop.clone()));
    let metrics_task = metrics_listener.map(|l| {
        let c = cancel.clone();
        tokio::spawn(tollgate_api::serve(
            tollgate_api::metrics_app(state.clone()),
            l,
            async move { c.cancelled().await },
            DRAIN,
        ))
    });
    let c = cancel.clone();
    let app = tollgate_api::app(state);
    let task = tokio::spawn(async move {
        let stop = c.clone();
        let served =
            tollgate_api::serve(app, listener, async move { stop.cancelled().await }, DRAIN).await;
        c.cancel();
        audit_stop.cancel();
        let _ = anonymous_task.await;
        recorder_stop.cancel();
        let _ = recorder_task.await;
        for w in workers {
            let _ = w.await;
        }
        if let Some(m) = metrics_task {
            let _ = m.await;
        }
        served.context("server failed")
    });
    tracing::info!(%addr, metrics = ?metrics_addr, "tollgate listening");
    Ok(Running {
        addr,
        metrics_addr,
        services: Arc::new(ServicesHandle { auth, store, meter }),
        cancel,
        task,
    })
}

/// Finalizes each period's invoices once it has ended plus the grace, and suspends (or
/// reinstates) tenants by their invoices' payment, every `every`. Every instance runs it:
/// finalizing is idempotent in the database, so two instances finalize once.
async fn run_billing(
    billing: tollgate_billing::Billing,
    meter: Arc<tollgate_meter::Meter>,
    every: Duration,
    cancel: CancellationToken,
) {
    let mut done: Option<String> = None;
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        match billing.run_due(done.as_deref()).await {
            Ok(run) => {
                if let Some(p) = run.finalized_period {
                    done = Some(p);
                }
                for t in run.suspension_changed {
                    meter.forget_limits(Some(t));
                }
            }
            Err(e) => tracing::warn!(error = %e, "the billing job failed; it runs again shortly"),
        }
    }
}

/// Drops the audit events older than each tenant's plan keeps them, every `every` (and once
/// shortly after start). Every instance may run it: a purge moves the chain's checkpoint
/// only from where it was, so two instances drop a run of events once.
async fn run_audit_retention(
    store: tollgate_store::Store,
    clock: Arc<dyn tollgate_core::Clock>,
    every: Duration,
    cancel: CancellationToken,
) {
    let mut wait = Duration::from_secs(30).min(every);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        wait = every;
        match store.purge_expired_audit(clock.now()).await {
            Ok(done) => {
                for p in done {
                    tracing::info!(tenant = %p.tenant, dropped = p.dropped, through_seq = p.checkpoint.seq, "audit retention dropped events");
                }
            }
            Err(e) => tracing::warn!(error = %e, "audit retention failed; it runs again later"),
        }
    }
}

/// Picks up key rotations made by other instances or the CLI.
async fn refresh_keys(auth: Arc<tollgate_auth::AuthService>, cancel: CancellationToken) {
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(10)) => {}
        }
        if let Err(e) = auth.tokens.keyring().reload().await {
            tracing::warn!(error = %e, "signing key reload failed");
        }
    }
}

/// Runs until SIGINT/SIGTERM.
pub async fn run(common: CommonArgs, serve: ServeArgs) -> Result<()> {
    let env = EnvSettings::from_env()?;
    let running = start(&common, &serve, &env).await?;
    let cancel = running.cancel_token();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: draining requests");
        cancel.cancel();
    });
    running.wait().await
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
