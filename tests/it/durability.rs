//! Nothing a client was told succeeded is lost: the real binary is killed with SIGKILL under
//! load and every 2xx it sent has its usage event; SIGTERM drains the requests in flight
//! (each answered 2xx and recorded) before the process exits.

use crate::cli::serve;
use crate::harness::{fixture, Backend, ServerSpec, Tenant};
use anyhow::{Context, Result};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tollgate_core::plan::Plan;
use tollgate_core::TenantId;

struct Spawned {
    child: Child,
    base: String,
}

/// Seeds a tenant on a generous plan, then runs `tollgate serve` on the spec's database.
async fn spawn(spec: &ServerSpec) -> Result<(Spawned, Tenant)> {
    let seed = spec.start().await?;
    let t = seed.tenant("ocr:read").await?;
    let p = Plan {
        name: format!("load-{}", uuid::Uuid::new_v4().simple()),
        rate: 10_000.0,
        burst: 10_000,
        max_concurrent: 100,
        monthly_units: 1_000_000,
        ..Plan::default_plan()
    };
    seed.store().create_plan(&p, chrono::Utc::now()).await?;
    seed.store()
        .set_tenant_plan(t.id.parse()?, &p.name, chrono::Utc::now())
        .await?;
    seed.stop().await?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = serve(spec, port).await?;
    let base = format!("http://127.0.0.1:{port}");
    Ok((Spawned { child, base }, t))
}

async fn post_ocr(http: &reqwest::Client, base: &str, key: &str, image: Vec<u8>) -> Option<u16> {
    http.post(format!("{base}/v1/ocr"))
        .header("x-api-key", key)
        .header("content-type", "image/png")
        .body(image)
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_2xx_survives_kill_9() -> Result<()> {
    let spec = ServerSpec::new(Backend::Postgres, false).await?;
    let (mut server, t) = spawn(&spec).await?;
    let image = fixture("hello.png")?;
    let ok = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (ok, stop, base, key, image) = (
                ok.clone(),
                stop.clone(),
                server.base.clone(),
                t.key.clone(),
                image.clone(),
            );
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                while !stop.load(Ordering::Relaxed) {
                    match post_ocr(&http, &base, &key, image.clone()).await {
                        Some(s) if (200..300).contains(&s) => {
                            ok.fetch_add(1, Ordering::SeqCst);
                        }
                        Some(_) => {}
                        None => break,
                    }
                }
            })
        })
        .collect();
    // Kill once the load has run a while and answered some 2xx (on a busy machine the
    // debug build's OCR can take seconds a call; waiting on a fixed time was a flake).
    let started = std::time::Instant::now();
    while (ok.load(Ordering::SeqCst) < 5 || started.elapsed() < Duration::from_millis(2500))
        && started.elapsed() < Duration::from_secs(90)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.child.kill()?; // SIGKILL, mid-load
    server.child.wait()?;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await?;
    }
    let answered = ok.load(Ordering::SeqCst);
    assert!(answered >= 5, "the load ran ({answered} successes)");
    let store = tollgate_store::Store::connect(spec.database_url.as_deref().context("pg")?).await?;
    let tenant: TenantId = t.id.parse()?;
    let recorded = store.usage_events(tenant).await?.len();
    assert!(
        recorded >= answered,
        "{answered} answered 2xx, {recorded} recorded"
    );
    // A request may be recorded and then lose its answer to the kill, never the reverse.
    assert!(
        recorded <= answered + 8,
        "{answered} answered 2xx, {recorded} recorded"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_requests() -> Result<()> {
    let spec = ServerSpec::new(Backend::Postgres, false).await?;
    let (mut server, t) = spawn(&spec).await?;
    let image = fixture("hello.png")?;
    let http = reqwest::Client::new();
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let (http, base, key, image) = (
                http.clone(),
                server.base.clone(),
                t.key.clone(),
                image.clone(),
            );
            tokio::spawn(async move { post_ocr(&http, &base, &key, image).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(60)).await;
    let term = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()?;
    assert!(term.success());
    let mut statuses = Vec::new();
    for c in calls {
        statuses.push(c.await?);
    }
    let exit = server.child.wait()?;
    assert!(exit.success(), "clean exit after draining: {exit:?}");
    assert!(
        statuses.iter().all(|s| *s == Some(200)),
        "every request in flight finished: {statuses:?}"
    );
    let store = tollgate_store::Store::connect(spec.database_url.as_deref().context("pg")?).await?;
    assert_eq!(store.usage_events(t.id.parse()?).await?.len(), 6);
    Ok(())
}
