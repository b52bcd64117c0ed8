//! The limiter, the quota and revocations on a real Redis Cluster: three masters with a
//! replica each (`redis-server --cluster-enabled yes` on six loopback ports, joined by
//! `redis-cli --cluster create`), reached through `redis+cluster://…` as `REDIS_URL` names
//! it. A tenant's keys share a slot (`{tenant}`), so the one-script admission runs there
//! unchanged; a failover (the tenant's master killed, its replica promoted) loses at most the
//! call in flight and never lets the tenant past its limit by more than one lease.

use crate::leases::{instances_on, one_unit, quota_tenant, spend_until_refused, tenant, Instances};
use anyhow::{Context, Result};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tollgate_core::SystemClock;
use tollgate_meter::limiter::RedisDownPolicy;
use tollgate_meter::{Admitted, Caller, Meter, MeterConfig, Refusal};
use tollgate_store::redis_conn::RedisConn;

/// Six `redis-server`s in cluster mode, killed on drop.
struct Cluster {
    nodes: Vec<Option<Child>>,
    ports: Vec<u16>,
    _dir: TempDir,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for n in self.nodes.iter_mut().flatten() {
            let _ = n.kill();
            let _ = n.wait();
        }
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn cli(port: u16, args: &[&str]) -> Result<String> {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .context("redis-cli is required for the cluster tests")?;
    anyhow::ensure!(out.status.success(), "redis-cli {args:?}: {:?}", out);
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

async fn until(what: &str, mut f: impl FnMut() -> Result<bool>) -> Result<()> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if f().unwrap_or(false) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("{what}: not within 30 s")
}

impl Cluster {
    async fn start() -> Result<Self> {
        let dir = std::env::temp_dir().join(format!(
            "tollgate-cluster-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir)?;
        let mut nodes = Vec::new();
        let mut ports = Vec::new();
        for _ in 0..6 {
            let port = free_port()?;
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--cluster-enabled", "yes", "--cluster-node-timeout", "1000"])
                .arg("--cluster-config-file")
                .arg(dir.join(format!("nodes-{port}.conf")))
                .arg("--dir")
                .arg(&dir)
                .args(["--save", "", "--appendonly", "no"])
                // Replicas sync at once (the default waits 5 s for more replicas).
                .args(["--repl-diskless-sync-delay", "0"])
                .stdout(Stdio::null())
                .spawn()
                .context("redis-server is required for the cluster tests")?;
            nodes.push(Some(child));
            ports.push(port);
        }
        let cluster = Self {
            nodes,
            ports,
            _dir: TempDir(dir),
        };
        for &p in &cluster.ports {
            until(
                "redis-server up",
                || Ok(cli(p, &["PING"])?.trim() == "PONG"),
            )
            .await?;
        }
        let addrs: Vec<String> = cluster
            .ports
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        let out = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addrs)
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .output()?;
        anyhow::ensure!(out.status.success(), "cluster create: {out:?}");
        for &p in &cluster.ports {
            until("cluster_state:ok", || {
                Ok(cli(p, &["CLUSTER", "INFO"])?.contains("cluster_state:ok"))
            })
            .await?;
            // Every replica has synced with its master (else a failover starts empty).
            until("replication link up", || {
                let info = cli(p, &["INFO", "replication"])?;
                Ok(info.contains("role:master") || info.contains("master_link_status:up"))
            })
            .await?;
        }
        Ok(cluster)
    }

    fn url(&self) -> String {
        let nodes: Vec<String> = self
            .ports
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        format!("redis+cluster://{}", nodes.join(","))
    }

    /// The ports of the master serving `key`'s slot and of its replica.
    fn master_and_replica(&self, key: &str) -> Result<(u16, u16)> {
        let slot: u16 = cli(self.ports[0], &["CLUSTER", "KEYSLOT", key])?
            .trim()
            .parse()?;
        let nodes = cli(self.ports[0], &["CLUSTER", "NODES"])?;
        // <id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slot> ...
        let rows: Vec<Vec<&str>> = nodes.lines().map(|l| l.split(' ').collect()).collect();
        let port_of = |r: &[&str]| -> Result<u16> {
            Ok(r[1]
                .split('@')
                .next()
                .and_then(|a| a.rsplit(':').next())
                .context("addr")?
                .parse()?)
        };
        let master = rows
            .iter()
            .find(|r| {
                r[2].contains("master")
                    && r[8..].iter().any(|range| {
                        let (a, b) = range.split_once('-').unwrap_or((range, range));
                        matches!((a.parse::<u16>(), b.parse::<u16>()), (Ok(a), Ok(b)) if (a..=b).contains(&slot))
                    })
            })
            .context("no master serves the slot")?;
        let replica = rows
            .iter()
            .find(|r| r[2].contains("slave") && r[3] == master[0])
            .context("the master has no replica")?;
        Ok((port_of(master)?, port_of(replica)?))
    }

    fn kill(&mut self, port: u16) {
        if let Some(i) = self.ports.iter().position(|p| *p == port) {
            if let Some(mut n) = self.nodes[i].take() {
                let _ = n.kill();
                let _ = n.wait();
            }
        }
    }
}

/// `n` meters on one fresh database and the cluster at `url`, with `policy` while it is
/// away.
async fn meters(url: &str, n: usize, policy: RedisDownPolicy) -> Result<Instances> {
    let config = MeterConfig {
        redis_down: policy,
        ..MeterConfig::default()
    };
    let m = instances_on(url, n, config).await?;
    anyhow::ensure!(
        matches!(m.redis, RedisConn::Cluster(_)),
        "a cluster connection"
    );
    Ok(m)
}

/// One metered call, committed when admitted: `Some(true)` admitted, `Some(false)` refused
/// for the rate or the quota, `None` when metering was unavailable.
async fn call(meter: &Meter, caller: &Caller) -> Result<Option<bool>> {
    let req = one_unit();
    match meter.admit(caller, req).await {
        Ok(Admitted::Run(a)) => {
            a.commit(200, None).await?;
            Ok(Some(true))
        }
        Ok(Admitted::Replay { .. }) => anyhow::bail!("nothing to replay without a key"),
        Err((Refusal::QuotaExhausted { .. } | Refusal::RateLimited { .. }, _)) => Ok(Some(false)),
        Err((Refusal::Unavailable, _)) => Ok(None),
        Err((r, _)) => anyhow::bail!("refused: {r:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_quota_and_revocations_work_on_a_cluster() -> Result<()> {
    const L: i64 = 30;
    const Q: i64 = 200;
    let cluster = Cluster::start().await?;
    let m = meters(&cluster.url(), 2, RedisDownPolicy::FailClosed).await?;

    // A burst of L (and next to no refill): four callers on each meter, exactly L pass.
    let rated = tenant(&m.store, |p| {
        p.rate = 0.001;
        p.burst = L as u32;
    })
    .await?;
    let passed = Arc::new(AtomicI64::new(0));
    let mut tasks = Vec::new();
    for meter in &m.meters {
        for _ in 0..4 {
            let (meter, caller, passed) = (meter.clone(), rated.clone(), passed.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..L {
                    match meter.throttle(&caller).await {
                        Ok(_) => {
                            passed.fetch_add(1, Ordering::SeqCst);
                        }
                        Err((Refusal::RateLimited { .. }, _)) => {}
                        Err((r, _)) => anyhow::bail!("refused: {r:?}"),
                    }
                }
                anyhow::Ok(())
            }));
        }
    }
    for t in tasks {
        t.await??;
    }
    assert_eq!(
        passed.load(Ordering::SeqCst),
        L,
        "rate-limited calls passed"
    );

    // A quota of Q, spent on both meters through leases: exactly Q.
    let quota = quota_tenant(&m.store, Q).await?;
    let admitted = Arc::new(AtomicI64::new(0));
    let mut tasks = Vec::new();
    for meter in &m.meters {
        for _ in 0..4 {
            let (meter, caller, admitted) = (meter.clone(), quota.clone(), admitted.clone());
            tasks.push(tokio::spawn(async move {
                spend_until_refused(&meter, &caller, Duration::from_millis(400), || {
                    admitted.fetch_add(1, Ordering::SeqCst);
                })
                .await
            }));
        }
    }
    for t in tasks {
        t.await??;
    }
    assert_eq!(admitted.load(Ordering::SeqCst), Q, "quota admitted");
    assert_eq!(m.store.usage_events(quota.tenant).await?.len() as i64, Q);

    // All of a tenant's keys live on the one node that serves its slot.
    let tag = format!("{{{}}}", quota.tenant.0);
    let holders: Vec<u16> = cluster
        .ports
        .iter()
        .copied()
        .filter(|p| {
            cli(*p, &["KEYS", &format!("{}:*", m.prefix)])
                .is_ok_and(|keys| keys.lines().any(|k| k.contains(&tag)))
        })
        .collect();
    assert_eq!(holders.len(), 2, "the master and its replica: {holders:?}");
    for &p in &holders {
        let keys = cli(p, &["KEYS", &format!("{}:*{tag}*", m.prefix)])?;
        assert!(
            keys.lines().count() >= 3,
            "buckets and counter on {p}: {keys}"
        );
    }

    // Revocations: one instance's, seen by another instance's poll.
    let clock: Arc<dyn tollgate_core::Clock> = Arc::new(SystemClock);
    let open = || {
        tollgate_auth::revocation::Denylist::open(
            m.store.clone(),
            Some(m.redis.clone()),
            &m.prefix,
            clock.clone(),
        )
    };
    let (one, other) = (Arc::new(open().await?), Arc::new(open().await?));
    tokio::spawn(other.clone().run_sync(m.cancel.clone()));
    let jti = uuid::Uuid::new_v4().to_string();
    assert!(!other.token_denied(&jti, "client"));
    one.revoke(
        tollgate_auth::revocation::jti_entry(&jti),
        chrono::Utc::now() + chrono::Duration::minutes(5),
    )
    .await?;
    let start = Instant::now();
    while !other.token_denied(&jti, "client") {
        anyhow::ensure!(start.elapsed() < Duration::from_secs(1), "not within 1 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// The tenant's master is killed and its replica promoted (`CLUSTER FAILOVER TAKEOVER`)
/// halfway through a burst of L: calls meanwhile are refused as unavailable (fail-closed),
/// and afterwards the limit holds on the promoted replica: at most one call more than L
/// passes in all (the call whose write was in flight; the burst's leases are one token).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failover_loses_at_most_the_call_in_flight() -> Result<()> {
    const L: i64 = 40;
    let mut cluster = Cluster::start().await?;
    let m = meters(&cluster.url(), 1, RedisDownPolicy::FailClosed).await?;
    let caller = tenant(&m.store, |p| {
        p.rate = 0.001;
        p.burst = L as u32;
    })
    .await?;
    let meter = &m.meters[0];
    let mut passed = 0;
    for _ in 0..L / 2 {
        anyhow::ensure!(call(meter, &caller).await? == Some(true));
        passed += 1;
    }
    let (master, replica) = cluster.master_and_replica(&format!("{{{}}}", caller.tenant.0))?;
    cluster.kill(master);
    cli(replica, &["CLUSTER", "FAILOVER", "TAKEOVER"])?;
    until("the replica is a master", || {
        Ok(cli(replica, &["ROLE"])?.starts_with("master"))
    })
    .await?;
    let (mut refused, mut unavailable) = (0, 0);
    let start = Instant::now();
    while refused < 5 && start.elapsed() < Duration::from_secs(30) {
        match call(meter, &caller).await? {
            Some(true) => passed += 1,
            Some(false) => refused += 1,
            None => {
                unavailable += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    eprintln!("failover: {passed} passed, {unavailable} refused as unavailable meanwhile");
    assert_eq!(refused, 5, "the limit holds after the failover");
    assert!(
        (L..=L + 1).contains(&passed),
        "{passed} calls passed a burst of {L}"
    );
    Ok(())
}
