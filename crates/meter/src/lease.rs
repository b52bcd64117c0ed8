//! Shared limits and quota counters in Redis, spent through per-instance **leases**.
//!
//! Every admission's Redis work is one script call ([`ACQUIRE_SCRIPT`]): GCRA over the
//! tenant's and the credential's buckets, all-or-nothing, and the quota counter, in one round
//! trip. A caller that keeps coming back takes more than it needs: the script hands out a
//! *lease* of up to `want` tokens per bucket (and `want` units of quota), charged to the
//! shared bucket (counter) at once, which this instance then spends in-process, with no round
//! trip, until it runs out or expires. Lease sizes adapt: a bucket starts at one token (a
//! lease is then exactly the call's own token: nothing is held), doubles each time a lease is
//! used up before it expires, and shrinks back to what was used when one expires unused.
//!
//! What this guarantees (tested in `tests`):
//!
//! - **Never over a limit.** Every call spends a token or unit the shared bucket or counter
//!   granted first, so no more calls are admitted, over all instances, than the limits allow.
//!   A lease is spent within [`LEASE_LIFETIME`] of its grant, so in any window of `T` seconds a
//!   bucket of rate `r` and burst `b` admits at most `b + r·(T + LEASE_LIFETIME)`: the GCRA
//!   bound plus at most one lease (leases are at most `r · LEASE_LIFETIME` tokens).
//! - **Under-admission is bounded.** A call may be refused while another instance holds
//!   unspent tokens of the same bucket: at most one lease per other instance, each at most
//!   `max(1, min(burst / 4, r · LEASE_LIFETIME))` tokens (quota: at most an eighth of what is
//!   left under a hard cap, and [`MAX_QUOTA_LEASE`]), for at most `LEASE_LIFETIME` plus one
//!   sweep (half a lifetime), after which what is unspent is given back ([`Leases::sweep`],
//!   pipelined, off the request path). A return Redis fails is not retried (it may have been
//!   applied): its tokens refill at the bucket's rate, its units stay counted until the
//!   counter is seeded again.
//! - **A caller gone mid-call loses nothing.** The script call and the settling of its grant
//!   run in a task of their own; the grant lands in the lease for the next caller.
//! - **A crash loses only leases.** An instance killed holding leases gives nothing back:
//!   its tokens refill at the bucket's rate; its quota units stay counted until the counter is
//!   seeded again from the recorded usage (at most [`MAX_QUOTA_LEASE`] units per tenant).
//! - **A failover of Redis** loses the writes not yet replicated (the calls in flight); with
//!   `TOLLGATE_REDIS_DOWN=fail-closed` calls are refused meanwhile, with `degrade` they are
//!   limited in-process at the configured share.
//!
//! Keys carry the tenant in a hash tag (`{prefix}:rl:{<tenant>}:t`, `…:{<tenant>}:p:<id>`,
//! `{prefix}:quota:{<tenant>}:<period>`), so one script's keys share a Redis Cluster slot.

use crate::limiter::Bucket;
use crate::quota::Reserved;
use crate::MeterError;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tollgate_core::plan::{GcraDecision, RateLimit};
use tollgate_core::TenantId;
use tollgate_store::redis_conn::RedisConn;
use tollgate_store::Store;

/// How long a lease may be spent after it was granted.
pub const LEASE_LIFETIME: Duration = Duration::from_millis(100);

/// How long a lease nobody asks of is remembered (with the size its next lease starts at).
const IDLE_POOL: Duration = Duration::from_secs(10);

/// The largest quota lease, in units: what a killed instance can leave counted but unused.
pub const MAX_QUOTA_LEASE: i64 = 64;

/// GCRA over `nb` buckets and an optional quota counter, in one call on Redis's clock.
///
/// KEYS: the buckets, then the quota counter when asked. ARGV: `nb`, `1` when the quota is
/// asked, then per bucket `interval_ms, capacity_ms, want, need` (`need` is 1 when this call
/// needs a token from the shared bucket, `want` ≥ `need` the lease asked for), then for the
/// quota `want, need, limit, hard`.
///
/// The buckets are all-or-nothing: if any bucket that `need`s a token has none, nothing is
/// charged. Otherwise each bucket is charged `min(want, available)` tokens. The quota, asked
/// only when the buckets passed, grants `want` units (under a hard cap at most what is left,
/// and near the cap an eighth of it, so the last units go out a few at a time), or nothing
/// when fewer than `need` are left.
///
/// Returns `{ok, rows, quota}`: per bucket `{granted, remaining, retry_after_ms, reset_ms}`;
/// quota `{status, granted, before}` with status 1 granted, 0 refused, -1 counter missing
/// (seed it and retry), -2 not asked.
const ACQUIRE_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local nb = tonumber(ARGV[1])
local ok, tats, avails = 1, {}, {}
for i = 1, nb do
  local b = 2 + (i - 1) * 4
  local interval, capacity = tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  if tat > now + capacity then tat = now + capacity - interval end
  local avail = math.floor((capacity - (tat - now)) / interval + 0.000001)
  if avail < 0 then avail = 0 end
  if avail < tonumber(ARGV[b + 4]) then ok = 0 end
  tats[i], avails[i] = tat, avail
end
local rows = {}
for i = 1, nb do
  local b = 2 + (i - 1) * 4
  local interval, capacity = tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2])
  local tat, avail = tats[i], avails[i]
  local g = 0
  if ok == 1 then g = math.min(tonumber(ARGV[b + 3]), avail) end
  if g > 0 then
    tat = tat + g * interval
    redis.call('SET', KEYS[i], tostring(tat), 'PX', math.ceil(tat - now) + 1000)
  end
  local retry = 0
  if ok == 0 then retry = math.max(0, math.ceil(tat + interval - now - capacity)) end
  rows[i] = {g, avail - g, retry, math.ceil(tat - now)}
end
local q = {-2, 0, 0}
if ARGV[2] == '1' and ok == 1 then
  local b = 2 + nb * 4
  local want, need, limit = tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3])
  local cur = redis.call('GET', KEYS[nb + 1])
  if not cur then
    q = {-1, 0, 0}
  else
    cur = tonumber(cur)
    local g = want
    if ARGV[b + 4] == '1' then
      local left = limit - cur
      if left < need then g = 0 else g = math.min(want, math.max(need, math.floor(left / 8))) end
    end
    if g > 0 then redis.call('INCRBY', KEYS[nb + 1], g) end
    local status = 0
    if g >= need and g > 0 then status = 1 end
    q = {status, g, cur}
  end
end
return {ok, rows, q}";

/// Gives back what a lease did not spend: KEYS[1] a bucket (ARGV `rate`, tokens,
/// interval_ms) or a quota counter (ARGV `quota`, units). A bucket's time is moved back by
/// the unspent tokens, never before now; a counter that is gone is left alone.
const RETURN_SCRIPT: &str = r"
if ARGV[1] == 'quota' then
  if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('DECRBY', KEYS[1], ARGV[2]) end
  return 0
end
local tat = redis.call('GET', KEYS[1])
if not tat then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local new = math.max(now, tonumber(tat) - tonumber(ARGV[2]) * tonumber(ARGV[3]))
redis.call('SET', KEYS[1], tostring(new), 'PX', math.ceil(new - now) + 1000)
return 0";

/// Quota counters outlive their month by this long (seconds), then expire.
const COUNTER_TTL_SECS: i64 = 40 * 24 * 3600;

/// A quota reservation asked together with the rate limits.
#[derive(Debug, Clone)]
pub struct QuotaAsk<'a> {
    /// The tenant.
    pub tenant: TenantId,
    /// The billing period's key.
    pub period: &'a str,
    /// Units the call needs now (0: only top the lease up, never refuse).
    pub units: i64,
    /// The period's limit (units).
    pub limit: i64,
    /// Whether the limit is a hard cap.
    pub hard: bool,
}

/// Tokens of one bucket held by this instance.
#[derive(Debug)]
struct RatePool {
    limit: RateLimit,
    tokens: u32,
    expires: Instant,
    /// The next lease to ask for.
    want: u32,
    /// Tokens spent from the current lease.
    spent: u32,
    /// The shared bucket's remaining tokens and reset (ms) when the lease was granted.
    remaining: u32,
    reset_ms: f64,
    granted: Instant,
    /// A refill is in flight.
    refilling: bool,
    /// Wakes the callers waiting for it.
    notify: Arc<Notify>,
}

impl RatePool {
    /// A bucket seen for the first time (no refill of it in flight yet).
    fn new(limit: RateLimit, now: Instant) -> Self {
        Self {
            limit,
            tokens: 0,
            expires: now,
            want: 1,
            spent: 0,
            remaining: 0,
            reset_ms: 0.0,
            granted: now,
            refilling: false,
            notify: Arc::new(Notify::new()),
        }
    }
}

/// Units of one (tenant, period) counter held by this instance: ranges of the counter.
#[derive(Debug, Default)]
struct QuotaPool {
    ranges: VecDeque<(i64, i64)>,
    expires: Option<Instant>,
    want: i64,
    spent: i64,
    /// A refill is in flight.
    refilling: bool,
    /// Wakes the callers waiting for it.
    notify: Arc<Notify>,
    /// The limit and whether it is a hard cap, as the units were granted under.
    terms: Option<(i64, bool)>,
    /// Last asked of.
    touched: Option<Instant>,
}

impl QuotaPool {
    fn units(&self) -> i64 {
        self.ranges.iter().map(|(a, b)| b - a).sum()
    }

    /// Takes `units` from the front ranges: the counter's value before and after them.
    fn take(&mut self, units: i64) -> Option<(i64, i64)> {
        if self.units() < units {
            return None;
        }
        let before = self.ranges.front().map_or(0, |r| r.0);
        let mut left = units;
        while left > 0 {
            let Some(front) = self.ranges.front_mut() else {
                break;
            };
            let n = (front.1 - front.0).min(left);
            front.0 += n;
            left -= n;
            if front.0 == front.1 {
                self.ranges.pop_front();
            }
        }
        self.spent += units;
        Some((before, before + units))
    }
}

/// Something to give back to Redis.
#[derive(Debug, Clone, PartialEq)]
enum Return {
    Rate {
        key: String,
        tokens: u32,
        interval_ms: f64,
    },
    Quota {
        tenant: TenantId,
        period: String,
        units: i64,
    },
}

#[derive(Debug, Default)]
struct Pools {
    rate: HashMap<String, RatePool>,
    quota: HashMap<(TenantId, String), QuotaPool>,
    returns: Vec<Return>,
}

/// The shared buckets and counters, with this instance's leases of them.
pub struct Leases {
    conn: RedisConn,
    store: Store,
    rate_prefix: String,
    quota_prefix: String,
    acquire: redis::Script,
    pools: Mutex<Pools>,
    /// Script calls made on the request path.
    round_trips: AtomicU64,
}

impl std::fmt::Debug for Leases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leases").finish_non_exhaustive()
    }
}

/// What [`Leases::acquire`] decided.
#[derive(Debug, Clone)]
pub struct Acquired {
    /// One decision per bucket (`remaining` counts this instance's unspent lease too).
    pub decisions: Vec<GcraDecision>,
    /// The quota reservation, when units were asked and the buckets passed.
    pub quota: Option<Reserved>,
}

/// The script's answer: `ok`, per bucket `(granted, remaining, retry_after_ms, reset_ms)`,
/// and the quota's `(status, granted, before)`.
type ScriptAnswer = (i64, Vec<BucketRow>, (i64, i64, i64));

/// One bucket's row of the script's answer.
type BucketRow = (i64, i64, i64, i64);

/// What a call asks the script for: per bucket the lease wanted (0: this bucket's lease
/// covers the call) and whether the call leads its refill; the quota's `(want, need)` and
/// whether the call leads its refill.
#[derive(Debug, Clone)]
struct CallPlan {
    wants: Vec<u32>,
    refills: Vec<bool>,
    quota: Option<(i64, i64)>,
    quota_refill: bool,
}

/// What [`Leases::plan`] decided.
enum Plan {
    /// Wait for this refill in flight, then plan again.
    Wait(tokio::sync::futures::OwnedNotified),
    /// Served from the leases.
    Done(Acquired),
    /// Call the script, then plan again.
    Call(CallPlan),
}

/// How many times a caller waits for another's refill before it asks for itself.
const MAX_WAITS: u32 = 2;

/// Script calls one admission makes before it takes what the last one granted directly
/// (other callers took the grants of the earlier ones first).
const MAX_CALLS: u32 = 3;

/// A quota ask owned by the refill task.
#[derive(Debug, Clone)]
struct OwnedAsk {
    tenant: TenantId,
    period: String,
    units: i64,
    limit: i64,
    hard: bool,
}

impl OwnedAsk {
    fn of(q: &QuotaAsk<'_>) -> Self {
        Self {
            tenant: q.tenant,
            period: q.period.to_owned(),
            units: q.units,
            limit: q.limit,
            hard: q.hard,
        }
    }

    fn borrowed(&self) -> QuotaAsk<'_> {
        QuotaAsk {
            tenant: self.tenant,
            period: &self.period,
            units: self.units,
            limit: self.limit,
            hard: self.hard,
        }
    }
}

/// Ends the refills a call leads when dropped, and wakes whoever waits for them.
struct RefillGuard {
    leases: Arc<Leases>,
    rate: Vec<String>,
    quota: Option<(TenantId, String)>,
}

impl Drop for RefillGuard {
    fn drop(&mut self) {
        let Ok(mut pools) = self.leases.pools.lock() else {
            return;
        };
        for key in &self.rate {
            if let Some(p) = pools.rate.get_mut(key) {
                p.refilling = false;
                p.notify.notify_waiters();
            }
        }
        if let Some(p) = self.quota.as_ref().and_then(|k| pools.quota.get_mut(k)) {
            p.refilling = false;
            p.notify.notify_waiters();
        }
    }
}

/// What a script call came to.
enum Settled {
    /// Granted: the grants are in the leases; plan again to take from them.
    Granted,
    /// Granted and taken for the caller (its last call).
    Taken(Acquired),
    /// Refused: the decisions (and the quota's refusal) to answer with.
    Refused(Acquired),
    /// The quota counter was missing and is seeded now: call again.
    Seeded,
}

fn redis_err(e: redis::RedisError) -> MeterError {
    MeterError::Redis(e.to_string())
}

/// The largest lease of a bucket.
fn max_rate_lease(limit: RateLimit) -> u32 {
    let by_rate = limit.rate * LEASE_LIFETIME.as_secs_f64();
    let cap = by_rate.min(f64::from(limit.burst / 4)).floor();
    if cap >= 1.0 {
        cap as u32
    } else {
        1
    }
}

fn lock(pools: &Mutex<Pools>) -> Result<std::sync::MutexGuard<'_, Pools>, MeterError> {
    pools
        .lock()
        .map_err(|_| MeterError::Internal("lease lock poisoned".into()))
}

impl Leases {
    /// Buckets under `{prefix}:rl:` and counters under `{prefix}:quota:`, seeded from `store`.
    pub fn new(conn: RedisConn, store: Store, prefix: &str) -> Self {
        Self {
            conn,
            store,
            rate_prefix: format!("{prefix}:rl"),
            quota_prefix: format!("{prefix}:quota"),
            acquire: redis::Script::new(ACQUIRE_SCRIPT),
            pools: Mutex::new(Pools::default()),
            round_trips: AtomicU64::new(0),
        }
    }

    /// Round trips to Redis made on the request path so far (script calls and seeds).
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }

    fn rate_key(&self, bucket: &Bucket) -> String {
        format!("{}:{}", self.rate_prefix, bucket.key)
    }

    fn quota_key(&self, tenant: TenantId, period: &str) -> String {
        format!("{}:{{{}}}:{period}", self.quota_prefix, tenant.0)
    }

    /// Charges one token of every bucket (all or nothing) and, when asked, reserves quota
    /// units: from this instance's leases when they cover it, otherwise through one script
    /// call that also takes the next leases.
    ///
    /// The script call and the settling of what it granted run in a task of their own, so a
    /// caller that is gone mid-call (a client disconnecting drops its request) loses nothing:
    /// the grant lands in the leases for the next caller, or goes back to Redis with them.
    pub async fn acquire(
        self: &Arc<Self>,
        buckets: &[Bucket],
        quota: Option<QuotaAsk<'_>>,
    ) -> Result<Acquired, MeterError> {
        let (mut waits, mut calls, mut seeded) = (0, 0, false);
        loop {
            // The last call asks Redis for all the call needs and takes it from the grant.
            let last = calls + 1 >= MAX_CALLS;
            match self.plan(buckets, quota.as_ref(), waits < MAX_WAITS, last)? {
                Plan::Wait(w) => {
                    waits += 1;
                    let _ = tokio::time::timeout(LEASE_LIFETIME, w).await;
                }
                Plan::Done(acquired) => return Ok(acquired),
                Plan::Call(plan) => {
                    calls += 1;
                    let task = tokio::spawn(self.clone().refill(
                        buckets.to_vec(),
                        quota.as_ref().map(OwnedAsk::of),
                        plan,
                        last,
                    ));
                    let settled = task
                        .await
                        .map_err(|e| MeterError::Internal(format!("a lease refill failed: {e}")))?;
                    match settled? {
                        Settled::Granted => {}
                        // Seeding the period's counter is not a call that others took from.
                        Settled::Seeded if !seeded => {
                            seeded = true;
                            calls -= 1;
                        }
                        Settled::Seeded => {
                            return Err(MeterError::Redis(
                                "the quota counter vanished right after it was seeded".into(),
                            ))
                        }
                        Settled::Taken(acquired) | Settled::Refused(acquired) => {
                            return Ok(acquired)
                        }
                    }
                    if calls >= MAX_CALLS {
                        return Err(MeterError::Internal(
                            "lease refills kept being taken".into(),
                        ));
                    }
                }
            }
        }
    }

    /// What a call does, decided under the lock: wait for a refill in flight, take all it
    /// needs from its leases, or call the script (leading the refills it starts). Nothing is
    /// taken from a lease unless everything the call needs is there.
    fn plan(
        &self,
        buckets: &[Bucket],
        quota: Option<&QuotaAsk<'_>>,
        may_wait: bool,
        last: bool,
    ) -> Result<Plan, MeterError> {
        let now = Instant::now();
        let mut pools = lock(&self.pools)?;
        let mut waiter = None;
        let mut covered = true;
        for b in buckets {
            match Self::rate_pool(&mut pools, b, now) {
                Some(p) if p.tokens > 0 => {}
                Some(p) => {
                    covered = false;
                    if p.refilling && may_wait {
                        waiter = Some(p.notify.clone().notified_owned());
                    }
                }
                None => covered = false,
            }
        }
        if let Some(q) = quota {
            let pool = Self::quota_pool(&mut pools, q, now);
            if q.units > pool.units() {
                covered = false;
                if pool.refilling && may_wait {
                    waiter = Some(pool.notify.clone().notified_owned());
                }
            }
        }
        if covered {
            // The gate tops an empty quota lease up only in a round trip it makes anyway.
            return Self::take_covered(&mut pools, buckets, quota, now)
                .map(Plan::Done)
                .ok_or_else(|| MeterError::Internal("a covered lease came up short".into()));
        }
        if let Some(w) = waiter {
            return Ok(Plan::Wait(w));
        }
        let mut plan = CallPlan {
            wants: vec![0; buckets.len()],
            refills: vec![false; buckets.len()],
            quota: None,
            quota_refill: false,
        };
        for (i, b) in buckets.iter().enumerate() {
            match pools.rate.get_mut(&b.key) {
                // Covered by the lease: only read, unless this is the call's last.
                Some(p) if p.tokens > 0 => plan.wants[i] = u32::from(last),
                Some(p) if p.refilling => plan.wants[i] = 1,
                Some(p) => {
                    plan.wants[i] = p.want.clamp(1, max_rate_lease(b.limit));
                    p.refilling = true;
                    plan.refills[i] = true;
                }
                None => {
                    let mut p = RatePool::new(b.limit, now);
                    p.refilling = true;
                    pools.rate.insert(b.key.clone(), p);
                    plan.wants[i] = 1;
                    plan.refills[i] = true;
                }
            }
        }
        if let Some(q) = quota {
            let pool = Self::quota_pool(&mut pools, q, now);
            // The last call asks for all its units, not only what the lease lacks.
            let missing = if last {
                q.units
            } else {
                q.units - pool.units()
            };
            if missing > 0 {
                // What the lease lacks (and, unless a refill is running, the next lease).
                let want = if pool.refilling {
                    missing
                } else {
                    pool.refilling = true;
                    plan.quota_refill = true;
                    pool.want.clamp(missing, MAX_QUOTA_LEASE.max(missing))
                };
                plan.quota = Some((want, missing));
            } else if q.units == 0 && pool.units() == 0 && !pool.refilling {
                // The gate tops an empty lease up in the round trip it makes anyway (one
                // unit for a tenant that is not busy), never refusing.
                pool.refilling = true;
                plan.quota_refill = true;
                plan.quota = Some((pool.want.clamp(1, MAX_QUOTA_LEASE), 0));
            }
        }
        Ok(Plan::Call(plan))
    }

    /// One script call and its settling, run to the end whatever happens to the caller.
    /// With `take`, the caller's own token and units are taken from the grant at once.
    async fn refill(
        self: Arc<Self>,
        buckets: Vec<Bucket>,
        quota: Option<OwnedAsk>,
        plan: CallPlan,
        take: bool,
    ) -> Result<Settled, MeterError> {
        let _guard = RefillGuard {
            leases: self.clone(),
            rate: buckets
                .iter()
                .zip(&plan.refills)
                .filter(|(_, r)| **r)
                .map(|(b, _)| b.key.clone())
                .collect(),
            quota: quota
                .as_ref()
                .filter(|_| plan.quota_refill)
                .map(|q| (q.tenant, q.period.clone())),
        };
        let ask = quota.as_ref().map(OwnedAsk::borrowed);
        let answer = self
            .call(&buckets, &plan.wants, ask.as_ref().zip(plan.quota))
            .await?;
        let settled = self.settle(&buckets, ask.as_ref(), answer, &plan, take)?;
        if let (Settled::Seeded, Some(q)) = (&settled, &ask) {
            self.seed(q.tenant, q.period).await?;
        }
        Ok(settled)
    }

    /// What the script call granted, put in this instance's leases.
    fn settle(
        &self,
        buckets: &[Bucket],
        quota: Option<&QuotaAsk<'_>>,
        (ok, rows, q): ScriptAnswer,
        plan: &CallPlan,
        take: bool,
    ) -> Result<Settled, MeterError> {
        let now = Instant::now();
        let mut pools = lock(&self.pools)?;
        let mut decisions = Vec::with_capacity(buckets.len());
        for (i, b) in buckets.iter().enumerate() {
            let (granted, remaining, retry, reset) = rows.get(i).copied().unwrap_or_default();
            let granted = u32::try_from(granted).unwrap_or(0);
            let remaining = u32::try_from(remaining).unwrap_or(0);
            if ok == 1 {
                let pool = pools.rate.entry(b.key.clone()).or_insert_with(|| {
                    // Dropped meanwhile (its limit changed): no refill of it is in flight.
                    RatePool::new(b.limit, now)
                });
                if granted > 0 {
                    // A refill after a lease used up before it expired: ask for twice as
                    // much next time.
                    if plan.refills[i]
                        && pool.tokens == 0
                        && pool.expires > now
                        && pool.spent >= pool.want
                    {
                        pool.want = pool.want.saturating_mul(2);
                    }
                    pool.tokens += granted;
                    if plan.refills[i] || pool.expires <= now {
                        pool.spent = 0;
                        pool.expires = now + LEASE_LIFETIME;
                    }
                }
                pool.remaining = remaining;
                pool.reset_ms = reset as f64;
                pool.granted = now;
            }
            decisions.push(GcraDecision {
                allowed: ok == 1,
                tat_ms: 0.0,
                remaining: 0,
                retry_after_ms: if plan.wants[i] > 0 { retry as f64 } else { 0.0 },
                reset_ms: reset as f64,
            });
        }
        if ok != 1 {
            return Ok(Settled::Refused(Acquired {
                decisions,
                quota: None,
            }));
        }
        let (status, granted, before) = q;
        if let (Some(ask), Some(_)) = (quota, plan.quota) {
            if status == -1 {
                return Ok(Settled::Seeded);
            }
            let pool = Self::quota_pool(&mut pools, ask, now);
            if granted > 0 {
                if plan.quota_refill && pool.ranges.is_empty() && pool.spent >= pool.want {
                    pool.want = pool.want.saturating_mul(2).max(1);
                }
                pool.ranges.push_back((before, before + granted));
                if plan.quota_refill || pool.expires.is_none() {
                    pool.expires = Some(now + LEASE_LIFETIME);
                    pool.spent = 0;
                }
            }
            if status == 0 && ask.units > 0 {
                // Refused; the buckets' tokens stay in the leases for the next call.
                return Ok(Settled::Refused(Acquired {
                    decisions,
                    quota: Some(Reserved {
                        granted: false,
                        before,
                        after: before,
                    }),
                }));
            }
        }
        if !take {
            return Ok(Settled::Granted);
        }
        Ok(Self::take_covered(&mut pools, buckets, quota, now)
            .map_or(Settled::Granted, Settled::Taken))
    }

    /// Takes a token of every bucket and the quota's units from the leases, if they hold
    /// all of it (otherwise takes nothing): the call served from its leases.
    fn take_covered(
        pools: &mut Pools,
        buckets: &[Bucket],
        quota: Option<&QuotaAsk<'_>>,
        now: Instant,
    ) -> Option<Acquired> {
        let tokens = buckets
            .iter()
            .all(|b| pools.rate.get(&b.key).is_some_and(|p| p.tokens > 0));
        let units = quota
            .filter(|q| q.units > 0)
            .is_none_or(|q| Self::quota_pool(pools, q, now).units() >= q.units);
        if !(tokens && units) {
            return None;
        }
        for b in buckets {
            if let Some(p) = pools.rate.get_mut(&b.key) {
                p.tokens -= 1;
                p.spent += 1;
            }
        }
        let reserved = match quota {
            Some(q) if q.units > 0 => {
                let (before, after) = Self::quota_pool(pools, q, now).take(q.units)?;
                Some(Reserved {
                    granted: true,
                    before,
                    after,
                })
            }
            _ => None,
        };
        Some(Acquired {
            decisions: Self::leased_decisions(pools, buckets, now),
            quota: reserved,
        })
    }

    /// Gives back `units` a call reserved at counter value `before` and did not commit, to
    /// this instance's lease of the counter: no round trip; the lease returns them to Redis
    /// if it expires unspent.
    pub fn refund(
        &self,
        tenant: TenantId,
        period: &str,
        before: i64,
        units: i64,
    ) -> Result<(), MeterError> {
        let mut pools = lock(&self.pools)?;
        let now = Instant::now();
        let pool = Self::quota_pool_of(&mut pools, tenant, period, None, now);
        pool.ranges.push_front((before, before + units));
        pool.spent = pool.spent.saturating_sub(units);
        if pool.expires.is_none() {
            pool.expires = Some(now + LEASE_LIFETIME);
        }
        Ok(())
    }

    /// The rate pool of `b`, dropped (and queued for return) when expired or granted under
    /// another limit.
    fn rate_pool<'p>(pools: &'p mut Pools, b: &Bucket, now: Instant) -> Option<&'p mut RatePool> {
        let stale = pools
            .rate
            .get(&b.key)
            .is_some_and(|p| p.expires <= now || p.limit != b.limit);
        if stale {
            if let Some(p) = pools.rate.get_mut(&b.key) {
                // Unspent when it expired: next time ask for what was used.
                if p.tokens > 0 {
                    let tokens = std::mem::take(&mut p.tokens);
                    p.want = p.spent.max(1);
                    pools_return_rate(&mut pools.returns, &b.key, tokens, p.limit);
                }
                if p.limit != b.limit {
                    pools.rate.remove(&b.key);
                }
            }
        }
        pools.rate.get_mut(&b.key)
    }

    /// The quota lease a call asks of, dropped (its units queued for return) when expired
    /// or granted under another limit or cap.
    fn quota_pool<'p>(pools: &'p mut Pools, q: &QuotaAsk<'_>, now: Instant) -> &'p mut QuotaPool {
        Self::quota_pool_of(pools, q.tenant, q.period, Some((q.limit, q.hard)), now)
    }

    fn quota_pool_of<'p>(
        pools: &'p mut Pools,
        tenant: TenantId,
        period: &str,
        terms: Option<(i64, bool)>,
        now: Instant,
    ) -> &'p mut QuotaPool {
        // One lookup: the pool and the return queue are separate fields, borrowed apart.
        let pool = pools.quota.entry((tenant, period.to_owned())).or_default();
        let other_terms = matches!((terms, pool.terms), (Some(t), Some(held)) if t != held);
        if pool.expires.is_some_and(|e| e <= now) || other_terms {
            let units = pool.units();
            pool.ranges.clear();
            pool.expires = None;
            pool.want = pool.spent.max(1);
            pool.spent = 0;
            if units > 0 {
                pools.returns.push(Return::Quota {
                    tenant,
                    period: period.to_owned(),
                    units,
                });
            }
        }
        if terms.is_some() {
            pool.terms = terms;
        }
        pool.touched = Some(now);
        pool
    }

    /// Decisions for a call served from leases alone.
    fn leased_decisions(pools: &Pools, buckets: &[Bucket], now: Instant) -> Vec<GcraDecision> {
        buckets
            .iter()
            .map(|b| {
                let p = pools.rate.get(&b.key);
                let elapsed = p.map_or(0.0, |p| {
                    now.duration_since(p.granted).as_secs_f64() * 1000.0
                });
                GcraDecision {
                    allowed: true,
                    tat_ms: 0.0,
                    remaining: p.map_or(0, |p| p.remaining.saturating_add(p.tokens)),
                    retry_after_ms: 0.0,
                    reset_ms: p.map_or(0.0, |p| (p.reset_ms - elapsed).max(0.0)),
                }
            })
            .collect()
    }

    /// The script call: the buckets (their leases' wants, or nothing for a bucket this
    /// call took from its lease) and the quota's `(want, need)`.
    async fn call(
        &self,
        buckets: &[Bucket],
        wants: &[u32],
        quota: Option<(&QuotaAsk<'_>, (i64, i64))>,
    ) -> Result<ScriptAnswer, MeterError> {
        let mut inv = self.acquire.prepare_invoke();
        inv.arg(buckets.len())
            .arg(if quota.is_some() { "1" } else { "0" });
        for (b, want) in buckets.iter().zip(wants) {
            // A bucket whose lease covers the call is only read (want and need 0).
            let interval = b.limit.interval_ms();
            inv.key(self.rate_key(b));
            inv.arg(interval)
                .arg(interval * f64::from(b.limit.burst))
                .arg(*want)
                .arg(u8::from(*want > 0));
        }
        if let Some((q, (want, need))) = quota {
            inv.key(self.quota_key(q.tenant, q.period));
            inv.arg(want)
                .arg(need)
                .arg(q.limit)
                .arg(if q.hard { "1" } else { "0" });
        }
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        let mut conn = self.conn.clone();
        let (ok, rows, q): (i64, Vec<BucketRow>, Vec<i64>) =
            inv.invoke_async(&mut conn).await.map_err(redis_err)?;
        let q = (
            q.first().copied().unwrap_or(-2),
            q.get(1).copied().unwrap_or(0),
            q.get(2).copied().unwrap_or(0),
        );
        Ok((ok, rows, q))
    }

    /// Creates the period's counter from the recorded usage (if another instance created it
    /// first, `NX` keeps its value).
    async fn seed(&self, tenant: TenantId, period: &str) -> Result<(), MeterError> {
        let recorded = self
            .store
            .usage_units(tenant, period)
            .await
            .map_err(MeterError::from)?;
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        let mut conn = self.conn.clone();
        let _: Option<String> = redis::cmd("SET")
            .arg(self.quota_key(tenant, period))
            .arg(recorded)
            .arg("NX")
            .arg("EX")
            .arg(COUNTER_TTL_SECS)
            .query_async(&mut conn)
            .await
            .map_err(redis_err)?;
        Ok(())
    }

    /// Gives back what expired leases left unspent, in one pipeline. Run periodically off
    /// the request path (every half lease lifetime).
    pub async fn sweep(&self) -> Result<usize, MeterError> {
        let returns = {
            let mut guard = lock(&self.pools)?;
            let pools = &mut *guard;
            let now = Instant::now();
            let expired: Vec<(String, u32, RateLimit)> = pools
                .rate
                .iter_mut()
                .filter(|(_, p)| p.expires <= now && p.tokens > 0)
                .map(|(k, p)| {
                    p.want = p.spent.max(1);
                    (k.clone(), std::mem::take(&mut p.tokens), p.limit)
                })
                .collect();
            for (key, tokens, limit) in expired {
                pools_return_rate(&mut pools.returns, &key, tokens, limit);
            }
            // Buckets idle for a while are forgotten (their next lease starts at one).
            pools
                .rate
                .retain(|_, p| p.refilling || now.duration_since(p.expires) < IDLE_POOL);
            let stale: Vec<(TenantId, String)> = pools
                .quota
                .iter()
                .filter(|(_, p)| p.expires.is_some_and(|e| e <= now))
                .map(|(k, _)| k.clone())
                .collect();
            for (tenant, period) in stale {
                Self::quota_pool_of(pools, tenant, &period, None, now);
            }
            pools.quota.retain(|_, p| {
                p.refilling
                    || !p.ranges.is_empty()
                    || p.touched.is_some_and(|t| now.duration_since(t) < IDLE_POOL)
            });
            std::mem::take(&mut pools.returns)
        };
        if returns.is_empty() {
            return Ok(0);
        }
        // One pipeline; on a cluster one per tenant (a pipeline goes to one node, and a
        // tenant's keys share a slot).
        let mut pipes: std::collections::BTreeMap<String, redis::Pipeline> = Default::default();
        let cluster = matches!(self.conn, RedisConn::Cluster(_));
        for r in &returns {
            let key = match r {
                Return::Rate { key, .. } => format!("{}:{key}", self.rate_prefix),
                Return::Quota { tenant, period, .. } => self.quota_key(*tenant, period),
            };
            let slot = if cluster {
                key.split_once('{')
                    .and_then(|(_, rest)| rest.split_once('}'))
                    .map_or_else(|| key.clone(), |(tag, _)| tag.to_owned())
            } else {
                String::new()
            };
            let mut cmd = redis::cmd("EVAL");
            cmd.arg(RETURN_SCRIPT).arg(1).arg(key);
            match r {
                Return::Rate {
                    tokens,
                    interval_ms,
                    ..
                } => cmd.arg("rate").arg(*tokens).arg(*interval_ms),
                Return::Quota { units, .. } => cmd.arg("quota").arg(*units),
            };
            pipes.entry(slot).or_default().add_command(cmd).ignore();
        }
        let mut failed = None;
        for pipe in pipes.values() {
            let mut conn = self.conn.clone();
            if let Err(e) = pipe.query_async::<()>(&mut conn).await {
                failed = Some(e);
            }
        }
        if let Some(e) = failed {
            // Not retried: part of the pipeline may have been applied, and a return applied
            // twice would hand out what was spent. What is lost errs on the safe side:
            // unreturned tokens refill at the bucket's rate, unreturned units are counted
            // until the counter is seeded again.
            tracing::warn!(error = %e, returns = returns.len(), "unspent leases could not be returned");
            return Err(redis_err(e));
        }
        Ok(returns.len())
    }
}

fn pools_return_rate(returns: &mut Vec<Return>, key: &str, tokens: u32, limit: RateLimit) {
    returns.push(Return::Rate {
        key: key.to_owned(),
        tokens,
        interval_ms: limit.interval_ms(),
    });
}
