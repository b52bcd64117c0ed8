//! Leases of shared limits (crates/meter/src/lease.rs), with two meters on one Redis and one
//! PostgreSQL: two instances' worth of metering. Leases never let calls past a limit; what
//! one instance holds unspent is given back when its lease expires, so a quota of Q admits
//! exactly Q; a tenant that is not busy costs one round trip per call; a refund stays
//! in-process; one tenant's keys share a Redis Cluster slot.

use crate::harness::{fresh_pg_database, redis_url};
use anyhow::Result;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tollgate_core::plan::Plan;
use tollgate_core::{SystemClock, TenantId};
use tollgate_meter::lease::LEASE_LIFETIME;
use tollgate_meter::recorder::{Recorder, RecorderConfig};
use tollgate_meter::{Admitted, Caller, Meter, MeterConfig, Metered, Refusal};
use tollgate_store::Store;

pub(crate) struct Instances {
    pub store: Store,
    pub meters: Vec<Arc<Meter>>,
    pub prefix: String,
    pub redis: tollgate_store::redis_conn::RedisConn,
    pub cancel: CancellationToken,
}

impl Drop for Instances {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// `n` meters (each with its own recorder and leases) on one database and the test Redis.
async fn instances(n: usize) -> Result<Instances> {
    instances_on(&redis_url(), n, MeterConfig::default()).await
}

/// `n` meters with `config` on one fresh database and the Redis (or cluster) at `url`.
pub(crate) async fn instances_on(url: &str, n: usize, config: MeterConfig) -> Result<Instances> {
    let store = Store::connect(&fresh_pg_database().await?).await?;
    store.migrate().await?;
    let redis = tollgate_store::redis_conn::connect(url, Default::default()).await?;
    let prefix = format!("tollgate-test-{}", uuid::Uuid::new_v4().simple());
    let cancel = CancellationToken::new();
    let meters = (0..n)
        .map(|_| {
            let (recorder, _) =
                Recorder::start(store.clone(), RecorderConfig::default(), cancel.clone());
            Arc::new(Meter::new(
                store.clone(),
                Some((redis.clone(), prefix.clone())),
                recorder,
                Arc::new(SystemClock),
                config,
            ))
        })
        .collect();
    Ok(Instances {
        store,
        meters,
        prefix,
        redis,
        cancel,
    })
}

/// A tenant on a plan made by `f` from the default one.
pub(crate) async fn tenant(store: &Store, f: impl FnOnce(&mut Plan)) -> Result<Caller> {
    let now = chrono::Utc::now();
    let t = store.create_tenant("lease", now).await?;
    let mut plan = Plan {
        name: format!("lease-{}", uuid::Uuid::new_v4().simple()),
        max_concurrent: 1000,
        ..Plan::default_plan()
    };
    f(&mut plan);
    store.create_plan(&plan, now).await?;
    store
        .set_tenant_plan(TenantId(t.id), &plan.name, now)
        .await?;
    Ok(Caller {
        tenant: TenantId(t.id),
        kind: "key",
        id: format!("key_{}", uuid::Uuid::new_v4().simple()).into(),
    })
}

pub(crate) fn one_unit() -> Metered {
    Metered {
        operation: "ocr",
        units: 1,
        idempotency_key: None,
        fingerprint: None,
        max_runtime: Duration::from_secs(30),
    }
}

/// One metered call through `meter`, committed when admitted: `Ok(true)` admitted (and its
/// usage event durable), `Ok(false)` refused for quota, anything else an error.
async fn call(meter: &Meter, caller: &Caller) -> Result<bool> {
    match meter.admit(caller, one_unit()).await {
        Ok(Admitted::Run(a)) => {
            a.commit(200, None).await?;
            Ok(true)
        }
        Ok(Admitted::Replay { .. }) => anyhow::bail!("nothing to replay without a key"),
        Err((Refusal::QuotaExhausted { .. }, _)) => Ok(false),
        Err((r, _)) => anyhow::bail!("refused: {r:?}"),
    }
}

/// A tenant with a quota of `q` units and rate limits no test here reaches.
pub(crate) async fn quota_tenant(store: &Store, q: i64) -> Result<Caller> {
    tenant(store, |p| {
        p.monthly_units = q;
        p.rate = 100_000.0;
        p.burst = 100_000;
    })
    .await
}

/// Spends `caller`'s quota on `meter` one unit at a time until it has been refused for `quiet`
/// without a break (long enough for every lease another instance held to be spent or given
/// back); `on_admit` runs after each admitted call. Returns the calls admitted.
pub(crate) async fn spend_until_refused(
    meter: &Meter,
    caller: &Caller,
    quiet: Duration,
    mut on_admit: impl FnMut(),
) -> Result<i64> {
    let mut admitted = 0;
    let mut refused_since: Option<Instant> = None;
    loop {
        if call(meter, caller).await? {
            admitted += 1;
            on_admit();
            refused_since = None;
        } else if refused_since.get_or_insert_with(Instant::now).elapsed() > quiet {
            return Ok(admitted);
        } else {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// A quota of Q units, spent by eight callers on each of two instances at once, admits
/// exactly Q: never more (every unit is leased from the shared counter before it is spent),
/// and, once the leases the instances hold have expired and been given back, not fewer.
/// Every admitted call is a usage row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quota_spent_on_two_instances_admits_exactly_q() -> Result<()> {
    const Q: i64 = 600;
    let inst = instances(2).await?;
    let caller = quota_tenant(&inst.store, Q).await?;
    let admitted = Arc::new(AtomicI64::new(0));
    // Round trips when the first half of the quota was admitted (far from the cap, where
    // leases shrink to single units).
    let trips_at_half = Arc::new(AtomicI64::new(-1));
    let meters = Arc::new(inst.meters.clone());
    let mut tasks = Vec::new();
    for meter in &inst.meters {
        for _ in 0..8 {
            let (meter, caller, admitted) = (meter.clone(), caller.clone(), admitted.clone());
            let (trips_at_half, meters) = (trips_at_half.clone(), meters.clone());
            tasks.push(tokio::spawn(async move {
                // Until refused for a whole lease lifetime and sweep.
                spend_until_refused(&meter, &caller, LEASE_LIFETIME * 4, || {
                    if admitted.fetch_add(1, Ordering::SeqCst) + 1 == Q / 2 {
                        let trips: u64 = meters.iter().map(|m| m.redis_round_trips()).sum();
                        trips_at_half.store(trips as i64, Ordering::SeqCst);
                    }
                })
                .await
            }));
        }
    }
    for t in tasks {
        t.await??;
    }
    assert_eq!(admitted.load(Ordering::SeqCst), Q, "admitted");
    let rows = inst.store.usage_events(caller.tenant).await?.len();
    assert_eq!(rows as i64, Q, "usage rows");
    let trips = trips_at_half.load(Ordering::SeqCst);
    eprintln!("{trips} round trips for the first {} calls", Q / 2);
    assert!(
        (0..Q / 4).contains(&trips),
        "leases spared round trips: {trips} for the first {} calls",
        Q / 2
    );
    Ok(())
}

/// What one instance holds unspent is a bounded, temporary shortfall: while instance A holds
/// a lease, B is refused at most A's lease short of the cap; once A's lease expires and the
/// sweep gives it back, B gets the rest, and the total is exactly Q.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_instances_lease_comes_back() -> Result<()> {
    const Q: i64 = 400;
    let inst = instances(2).await?;
    let (a, b) = (&inst.meters[0], &inst.meters[1]);
    let caller = tenant(&inst.store, |p| {
        p.monthly_units = Q;
        p.rate = 100_000.0;
        p.burst = 100_000;
    })
    .await?;
    // A gets busy: its leases grow (1, 2, 4, … units).
    for _ in 0..100 {
        assert!(call(a, &caller).await?);
    }
    // Then only B calls, until refused.
    let mut by_b = 0;
    while call(b, &caller).await? {
        by_b += 1;
    }
    let short = Q - 100 - by_b;
    assert!(
        (0..=tollgate_meter::lease::MAX_QUOTA_LEASE).contains(&short),
        "B was refused {short} units short of the cap (at most one lease of A's)"
    );
    tokio::time::sleep(LEASE_LIFETIME * 3).await;
    let mut after = 0;
    while call(b, &caller).await? {
        after += 1;
    }
    assert_eq!(after, short, "A's unspent lease came back to B");
    assert!(!call(a, &caller).await?, "the cap holds on A too");
    assert_eq!(
        inst.store.usage_events(caller.tenant).await?.len() as i64,
        Q
    );
    Ok(())
}

/// Rate limits through leases on two instances: over a run of D seconds no more calls pass
/// than the bucket's burst plus its rate over D and one lease lifetime (the bound
/// crates/meter/src/lease.rs states), and not much fewer than the burst plus the rate over D
/// (at most one lease per instance and a tenth of a second of refill short).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_rate_limit() -> Result<()> {
    const RATE: f64 = 1_000.0;
    const BURST: u32 = 200;
    let inst = instances(2).await?;
    let caller = tenant(&inst.store, |p| {
        p.rate = RATE;
        p.burst = BURST;
        p.monthly_units = 1_000_000_000;
    })
    .await?;
    // Limits are cached: load them (and the quota counter) before the clock starts.
    for m in &inst.meters {
        m.throttle(&caller)
            .await
            .map_err(|(r, _)| anyhow::anyhow!("{r:?}"))?;
    }
    let started = Instant::now();
    let run = Duration::from_millis(600);
    let passed = Arc::new(AtomicI64::new(2));
    let mut tasks = Vec::new();
    for meter in &inst.meters {
        for _ in 0..6 {
            let (meter, caller, passed) = (meter.clone(), caller.clone(), passed.clone());
            tasks.push(tokio::spawn(async move {
                while started.elapsed() < run {
                    match meter.throttle(&caller).await {
                        Ok(_) => {
                            passed.fetch_add(1, Ordering::SeqCst);
                        }
                        Err((Refusal::RateLimited { .. }, _)) => tokio::task::yield_now().await,
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
    let secs = started.elapsed().as_secs_f64();
    let passed = passed.load(Ordering::SeqCst) as f64;
    let lease = (RATE * LEASE_LIFETIME.as_secs_f64()).min(f64::from(BURST / 4));
    let most = f64::from(BURST) + RATE * (secs + LEASE_LIFETIME.as_secs_f64()) + 1.0;
    let least = f64::from(BURST) + RATE * secs - 2.0 * lease - RATE * 0.1;
    assert!(
        passed <= most,
        "{passed} calls passed in {secs:.3} s; at most {most:.0} may"
    );
    assert!(
        passed >= least,
        "{passed} calls passed in {secs:.3} s; at least {least:.0} should"
    );
    Ok(())
}

/// A tenant that is not busy (the default plan: 10 requests a second) costs one round trip
/// per metered call: the rate limits and the quota in one script. A dropped admission's unit
/// goes back in-process (no round trip), and the next call spends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_tenant_costs_one_round_trip_a_call() -> Result<()> {
    let inst = instances(1).await?;
    let meter = &inst.meters[0];
    let caller = tenant(&inst.store, |_| {}).await?;
    // The first call also seeds the period's counter from the recorded usage.
    assert!(call(meter, &caller).await?);
    let before = meter.redis_round_trips();
    for _ in 0..5 {
        assert!(call(meter, &caller).await?);
    }
    assert_eq!(meter.redis_round_trips() - before, 5, "one per call");

    let before = meter.redis_round_trips();
    match meter.admit(&caller, one_unit()).await {
        Ok(Admitted::Run(a)) => drop(a),
        other => anyhow::bail!("not admitted: {other:?}"),
    }
    // The refunded unit is spent by the next call: its gate still charges the rate limits
    // (one round trip), its admission takes the unit from the lease (none).
    assert!(call(meter, &caller).await?);
    assert_eq!(meter.redis_round_trips() - before, 2);
    assert_eq!(inst.store.usage_events(caller.tenant).await?.len(), 7);
    Ok(())
}

/// Every key of a tenant carries the tenant in a hash tag, so a script's keys share a Redis
/// Cluster slot; no key of another tenant's is touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenants_keys_share_a_slot() -> Result<()> {
    let inst = instances(1).await?;
    let (x, y) = (
        tenant(&inst.store, |_| {}).await?,
        tenant(&inst.store, |_| {}).await?,
    );
    assert!(call(&inst.meters[0], &x).await?);
    let mut conn = inst.redis.clone();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}:*", inst.prefix))
        .query_async(&mut conn)
        .await?;
    let tag = format!("{{{}}}", x.tenant.0);
    assert!(keys.len() >= 3, "buckets and counter: {keys:?}");
    for k in &keys {
        assert!(k.contains(&tag), "{k} is not in {tag}'s slot");
        assert_eq!(k.matches('{').count(), 1, "{k}: one hash tag");
        assert!(!k.contains(&y.tenant.0.to_string()));
    }
    Ok(())
}

/// Callers that go away mid-admission (a client disconnecting drops its request at whatever
/// await it is in: the script call, the seed, the wait for another's refill) lose no units:
/// what the script granted lands in the lease, what was reserved is refunded, and the quota
/// still admits exactly Q afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_gone_mid_admission_lose_no_units() -> Result<()> {
    const Q: i64 = 30;
    let inst = instances(1).await?;
    let meter = inst.meters[0].clone();
    let caller = quota_tenant(&inst.store, Q).await?;
    for i in 0..300u64 {
        let cut = Duration::from_micros(20 + (i % 9) * 150);
        let tries: Vec<_> = (0..4)
            .map(|_| {
                let (meter, caller) = (meter.clone(), caller.clone());
                tokio::spawn(async move {
                    // Admitted or not, the admission is dropped uncommitted.
                    let _ = tokio::time::timeout(cut, meter.admit(&caller, one_unit())).await;
                })
            })
            .collect();
        for t in tries {
            t.await?;
        }
    }
    tokio::time::sleep(LEASE_LIFETIME * 3).await;
    let admitted = spend_until_refused(&meter, &caller, LEASE_LIFETIME * 4, || {}).await?;
    assert_eq!(admitted, Q, "every unit is still there");
    assert_eq!(
        inst.store.usage_events(caller.tenant).await?.len() as i64,
        Q
    );
    Ok(())
}

/// Many callers of one busy tenant at once (each refill taken by others before its own
/// caller comes back for it): every call is decided, none fails for contention.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_of_callers_is_served() -> Result<()> {
    let inst = instances(1).await?;
    let caller = tenant(&inst.store, |p| {
        p.rate = 1_000_000.0;
        p.burst = 1_000_000;
        p.monthly_units = 1_000_000;
    })
    .await?;
    let tasks: Vec<_> = (0..512)
        .map(|_| {
            let (meter, caller) = (inst.meters[0].clone(), caller.clone());
            tokio::spawn(async move {
                for _ in 0..10 {
                    anyhow::ensure!(call(&meter, &caller).await?, "refused");
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    assert_eq!(inst.store.usage_events(caller.tenant).await?.len(), 5120);
    Ok(())
}
