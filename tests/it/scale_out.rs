//! Two `tollgate serve` instances (the real binary) on one PostgreSQL and one Redis, behind
//! HAProxy (Debian's `haproxy`, started here on a free port, round robin): they keep one set
//! of limits. With a burst of L, many more calls spread over both let exactly L through; a
//! quota of Q units admits exactly Q; a plan changed on one applies on the other, and a key
//! revoked on one is refused by the other, within the one-second caches; `kill -9` of one
//! mid-load leaves the other serving, and every 2xx the client saw is a usage row.

use crate::cli::serve_with;
use crate::harness::{fixture, login_at, Backend, ServerSpec, Tenant};
use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tollgate_core::plan::Plan;
use tollgate_core::TenantId;

/// A child process killed (SIGKILL) and reaped on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// HAProxy on `port`, round robin over `backends`, checking `/readyz` every 200 ms; a
/// connection refused is re-dispatched to the other server (a request already sent is not).
async fn haproxy(port: u16, backends: &[u16], dir: &std::path::Path) -> Result<Proc> {
    let servers: String = backends
        .iter()
        .enumerate()
        .map(|(i, p)| format!("  server s{i} 127.0.0.1:{p} check inter 200ms fall 2 rise 1\n"))
        .collect();
    let cfg = format!(
        "global\n  maxconn 2000\n\
         defaults\n  mode http\n  timeout connect 1s\n  timeout client 60s\n  timeout server 60s\n  retries 3\n  option redispatch\n\
         frontend fe\n  bind 127.0.0.1:{port}\n  default_backend be\n\
         backend be\n  balance roundrobin\n  option httpchk GET /readyz\n{servers}"
    );
    let path = dir.join("haproxy.cfg");
    std::fs::write(&path, cfg)?;
    let child = Command::new("haproxy")
        .arg("-f")
        .arg(&path)
        .arg("-db")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("haproxy is required for the scale-out tests (scripts/test installs it)")?;
    let proc = Proc(child);
    let ready = format!("http://127.0.0.1:{port}/readyz");
    for _ in 0..100 {
        if reqwest::get(&ready).await.is_ok_and(|r| r.status() == 200) {
            return Ok(proc);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("haproxy did not come up on {port}")
}

struct Fleet {
    spec: ServerSpec,
    /// The two instances (`None` once killed) and their ports.
    servers: Vec<Option<Proc>>,
    ports: Vec<u16>,
    _lb: Proc,
    lb: String,
    operator: String,
}

impl Fleet {
    fn direct(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.ports[i])
    }

    fn kill(&mut self, i: usize) {
        self.servers[i] = None;
    }
}

/// Tenants made (each on a plan from `plans`) before the fleet starts, with an operator key.
async fn fleet(plans: Vec<Plan>) -> Result<(Fleet, Vec<Tenant>)> {
    let spec = ServerSpec::new(Backend::Postgres, true).await?;
    let seed = spec.start().await?;
    let operator = seed.operator_key().await?;
    let mut tenants = Vec::new();
    for p in plans {
        let t = seed.tenant("ocr:read").await?;
        seed.store().create_plan(&p, chrono::Utc::now()).await?;
        seed.store()
            .set_tenant_plan(t.id.parse()?, &p.name, chrono::Utc::now())
            .await?;
        tenants.push(t);
    }
    seed.stop().await?;
    let lb_port = free_port()?;
    let lb = format!("http://127.0.0.1:{lb_port}");
    let mut servers = Vec::new();
    let mut ports = Vec::new();
    for _ in 0..2 {
        let port = free_port()?;
        // Tokens name the load balancer as their issuer: both instances accept them.
        let child = serve_with(&spec, port, &[("TOLLGATE_ISSUER", &lb)]).await?;
        servers.push(Some(Proc(child)));
        ports.push(port);
    }
    let lb_proc = haproxy(lb_port, &ports, &spec.data_dir).await?;
    Ok((
        Fleet {
            spec,
            servers,
            ports,
            _lb: lb_proc,
            lb,
            operator,
        },
        tenants,
    ))
}

fn plan(f: impl FnOnce(&mut Plan)) -> Plan {
    let mut p = Plan {
        name: format!("fleet-{}", uuid::Uuid::new_v4().simple()),
        rate: 1_000.0,
        burst: 1_000,
        max_concurrent: 100,
        monthly_units: 1_000_000,
        ..Plan::default_plan()
    };
    f(&mut p);
    p
}

async fn me(http: &reqwest::Client, base: &str, key: &str) -> Result<(u16, Value)> {
    let resp = http
        .get(format!("{base}/v1/me"))
        .header("x-api-key", key)
        .send()
        .await?;
    let status = resp.status().as_u16();
    Ok((status, resp.json().await.unwrap_or(Value::Null)))
}

async fn ocr(http: &reqwest::Client, base: &str, key: &str, image: &[u8]) -> Result<(u16, Value)> {
    let resp = http
        .post(format!("{base}/v1/ocr"))
        .header("x-api-key", key)
        .header("content-type", "image/png")
        .body(image.to_vec())
        .send()
        .await?;
    let status = resp.status().as_u16();
    Ok((status, resp.json().await.unwrap_or(Value::Null)))
}

/// How many requests of `tenant` instance `i` authenticated (its Prometheus counter).
async fn served_by(fleet: &Fleet, i: usize, tenant: &str) -> Result<f64> {
    let text = reqwest::get(format!("{}/metrics", fleet.direct(i)))
        .await?
        .text()
        .await?;
    Ok(text
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains(tenant))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}

/// Polls `f` every 20 ms until it is true (at most 5 s); returns how long it took.
async fn time_until<F, Fut>(mut f: F) -> Result<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool>>,
{
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if f().await? {
            return Ok(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    anyhow::bail!("not within 5 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_behind_haproxy_keep_one_set_of_limits() -> Result<()> {
    const L: usize = 25;
    const Q: usize = 40;
    let rated = plan(|p| {
        p.rate = 0.001;
        p.burst = L as u32;
    });
    let quota = plan(|p| {
        p.monthly_units = Q as i64;
        p.overage = false;
    });
    let roomy = plan(|_| {});
    let roomy_name = roomy.name.clone();
    let (fleet, tenants) = fleet(vec![rated, quota, roomy]).await?;
    let (r, q) = (&tenants[0], &tenants[1]);
    let http = reqwest::Client::new();

    // Rate: 6 × L calls from 8 callers through the balancer; exactly L pass.
    let next = Arc::new(AtomicUsize::new(0));
    let mut callers = Vec::new();
    for _ in 0..8 {
        let (http, lb, key, next) = (http.clone(), fleet.lb.clone(), r.key.clone(), next.clone());
        callers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while next.fetch_add(1, Ordering::SeqCst) < 6 * L {
                let (status, body) = me(&http, &lb, &key).await?;
                seen.push((status, body["code"].as_str().map(str::to_owned)));
            }
            anyhow::Ok(seen)
        }));
    }
    let mut seen = Vec::new();
    for c in callers {
        seen.extend(c.await??);
    }
    let passed = seen.iter().filter(|(s, _)| *s == 200).count();
    let limited = seen
        .iter()
        .filter(|(s, c)| *s == 429 && c.as_deref() == Some("rate_limited"))
        .count();
    assert_eq!((passed, limited), (L, 5 * L), "{seen:?}");
    for i in 0..2 {
        assert!(
            served_by(&fleet, i, &r.id).await? > 0.0,
            "instance {i} served some of the calls"
        );
    }

    // Quota: OCR calls through the balancer until refused for a while; exactly Q pass.
    let image = fixture("hello.png")?;
    let ok = Arc::new(AtomicUsize::new(0));
    let mut callers = Vec::new();
    for _ in 0..6 {
        let (http, lb, key, image, ok) = (
            http.clone(),
            fleet.lb.clone(),
            q.key.clone(),
            image.clone(),
            ok.clone(),
        );
        callers.push(tokio::spawn(async move {
            // Leases held by the other instance come back within a lease lifetime and a
            // sweep: a caller stops after half a second of refusals.
            let mut refused_since: Option<Instant> = None;
            loop {
                let (status, body) = ocr(&http, &lb, &key, &image).await?;
                match status {
                    200 => {
                        ok.fetch_add(1, Ordering::SeqCst);
                        refused_since = None;
                    }
                    429 => {
                        anyhow::ensure!(body["code"] == "quota_exhausted", "{body}");
                        let since = *refused_since.get_or_insert_with(Instant::now);
                        if since.elapsed() > Duration::from_millis(500) {
                            return anyhow::Ok(());
                        }
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    other => anyhow::bail!("OCR answered {other}: {body}"),
                }
            }
        }));
    }
    for c in callers {
        c.await??;
    }
    assert_eq!(ok.load(Ordering::SeqCst), Q, "OCR calls served");
    let store =
        tollgate_store::Store::connect(fleet.spec.database_url.as_deref().context("pg")?).await?;
    let q_tenant: TenantId = q.id.parse()?;
    assert_eq!(store.usage_events(q_tenant).await?.len(), Q, "usage rows");

    // A plan change through instance 0 applies on instance 1 (its limits are cached for a
    // second): R's bucket is empty until then.
    let (status, body) = me(&http, &fleet.direct(1), &r.key).await?;
    assert_eq!(status, 429, "{body}");
    let resp = http
        .put(format!(
            "{}/v1/operator/tenants/{}/plan",
            fleet.direct(0),
            r.id
        ))
        .bearer_auth(&fleet.operator)
        .json(&json!({ "plan": roomy_name }))
        .send()
        .await?;
    anyhow::ensure!(resp.status() == 200, "set plan: {}", resp.status());
    let took = time_until(|| {
        let (http, base, key) = (http.clone(), fleet.direct(1), r.key.clone());
        async move { Ok(me(&http, &base, &key).await?.0 == 200) }
    })
    .await?;
    eprintln!("plan change applied on the other instance after {took:?}");
    assert!(took < Duration::from_millis(1_200), "{took:?}");

    // A key revoked on instance 0 is refused by instance 1 within a second.
    let portal = login_at(&fleet.direct(0), &r.owner_email, &r.owner_password).await?;
    assert_eq!(me(&http, &fleet.direct(1), &r.key).await?.0, 200);
    let (status, body) = portal.delete(&format!("/v1/keys/{}", r.key_id)).await?;
    anyhow::ensure!(status == 204 || status == 200, "revoke: {status} {body}");
    let took = time_until(|| {
        let (http, base, key) = (http.clone(), fleet.direct(1), r.key.clone());
        async move { Ok(me(&http, &base, &key).await?.0 == 401) }
    })
    .await?;
    eprintln!("revoked key refused by the other instance after {took:?}");
    assert!(took <= Duration::from_millis(1_050), "{took:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_one_instance_loses_no_2xx() -> Result<()> {
    let (mut fleet, tenants) = fleet(vec![plan(|_| {})]).await?;
    let t = &tenants[0];
    let image = fixture("hello.png")?;
    let ok = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (ok, stop, lb, key, image) = (
                ok.clone(),
                stop.clone(),
                fleet.lb.clone(),
                t.key.clone(),
                image.clone(),
            );
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                while !stop.load(Ordering::Relaxed) {
                    // A request cut off by the kill fails here (or answers 502): no 2xx.
                    if let Ok((200, _)) = ocr(&http, &lb, &key, &image).await {
                        ok.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    let started = Instant::now();
    while (ok.load(Ordering::SeqCst) < 10 || started.elapsed() < Duration::from_secs(2))
        && started.elapsed() < Duration::from_secs(90)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    fleet.kill(0); // SIGKILL, mid-load
    let at_kill = ok.load(Ordering::SeqCst);
    let after = Instant::now();
    while ok.load(Ordering::SeqCst) < at_kill + 10 && after.elapsed() < Duration::from_secs(90) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await?;
    }
    let answered = ok.load(Ordering::SeqCst);
    assert!(
        answered >= at_kill + 10,
        "the other instance carried on: {at_kill} 2xx at the kill, {answered} in all"
    );
    let store =
        tollgate_store::Store::connect(fleet.spec.database_url.as_deref().context("pg")?).await?;
    let recorded = store.usage_events(t.id.parse()?).await?.len();
    // A request may be recorded and then lose its answer to the kill, never the reverse.
    assert!(
        (answered..=answered + 8).contains(&recorded),
        "{answered} answered 2xx, {recorded} recorded"
    );
    Ok(())
}
