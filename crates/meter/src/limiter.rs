//! Rate limiting with GCRA over several buckets at once (a tenant's and a credential's): a
//! request passes only if every bucket has room, and then every bucket is charged — atomically,
//! in Redis through this instance's leases (see [`crate::lease`]: at most one round trip, none
//! while a lease lasts), or in-process for the embedded default.
//!
//! When Redis cannot be reached the policy decides: `Degrade` (the default) limits locally at
//! the configured share of each limit (limit ÷ instances), `FailClosed` refuses with 503. Redis
//! is tried again one second after a failure, so the shared path comes back by itself.

use crate::lease::{Acquired, Leases, QuotaAsk};
use crate::MeterError;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use tollgate_core::plan::{gcra, GcraDecision, RateLimit};
use tollgate_core::Clock;

/// One bucket to check.
#[derive(Debug, Clone)]
pub struct Bucket {
    /// Policy name in the `RateLimit` headers (`tenant`, `key`, `client`).
    pub name: &'static str,
    /// Storage key (unique per bucket).
    pub key: String,
    /// Its limit.
    pub limit: RateLimit,
}

/// In-process buckets.
pub struct LocalLimiter {
    clock: Arc<dyn Clock>,
    /// By bucket key (made by the server from tenant and credential ids, so a fast hasher).
    tats: Mutex<HashMap<String, f64, foldhash::fast::RandomState>>,
}

impl LocalLimiter {
    /// Empty buckets.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            tats: Mutex::new(HashMap::default()),
        }
    }
}

impl LocalLimiter {
    /// Checks every bucket; charges them all only if all allow. One decision per bucket.
    /// Synchronous: nothing here waits.
    fn check(&self, buckets: &[Bucket]) -> Result<Vec<GcraDecision>, MeterError> {
        let now = self.clock.now().timestamp_micros() as f64 / 1000.0;
        let mut tats = self
            .tats
            .lock()
            .map_err(|_| MeterError::Internal("limiter lock poisoned".into()))?;
        if tats.len() > 200_000 {
            tats.retain(|_, tat| *tat > now);
        }
        let decisions: Vec<GcraDecision> = buckets
            .iter()
            .map(|b| gcra(tats.get(&b.key).copied(), now, b.limit))
            .collect();
        if decisions.iter().all(|d| d.allowed) {
            for (b, d) in buckets.iter().zip(&decisions) {
                // A known bucket is updated in place: no key copied per request.
                match tats.get_mut(&b.key) {
                    Some(tat) => *tat = d.tat_ms,
                    None => {
                        tats.insert(b.key.clone(), d.tat_ms);
                    }
                }
            }
        }
        Ok(decisions)
    }
}

/// What to do while Redis is unreachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedisDownPolicy {
    /// Limit in-process at each limit divided by this many instances.
    Degrade {
        /// How many instances share the limits.
        instances: u32,
    },
    /// Refuse (503) until Redis is back.
    FailClosed,
}

/// Redis when configured and reachable, otherwise the policy.
pub struct Limiter {
    redis: Option<Arc<Leases>>,
    local: LocalLimiter,
    policy: RedisDownPolicy,
    clock: Arc<dyn Clock>,
    /// Until when (ms) Redis is skipped after a failure.
    skip_redis_until: AtomicI64,
}

/// How long Redis is left alone after a failure before it is tried again.
const REDIS_RETRY_MS: i64 = 1000;

impl Limiter {
    /// A limiter over Redis (when given) with `policy` for outages.
    pub fn new(redis: Option<Arc<Leases>>, policy: RedisDownPolicy, clock: Arc<dyn Clock>) -> Self {
        Self {
            redis,
            local: LocalLimiter::new(clock.clone()),
            policy,
            clock,
            skip_redis_until: AtomicI64::new(0),
        }
    }

    /// Whether checks currently go to Redis (for metrics and tests).
    pub fn using_redis(&self) -> bool {
        self.redis.is_some()
            && self.clock.now().timestamp_millis() >= self.skip_redis_until.load(Ordering::Relaxed)
    }

    /// Checks the buckets.
    pub async fn check(&self, buckets: &[Bucket]) -> Result<Vec<GcraDecision>, MeterError> {
        Ok(self.check_with(buckets, None).await?.decisions)
    }

    /// Checks the buckets and, in the same round trip to Redis, tops up the tenant's lease of
    /// quota (`quota.units` is 0: see [`Leases::acquire`]). In-process, the quota is left to
    /// admission.
    pub async fn check_with(
        &self,
        buckets: &[Bucket],
        quota: Option<QuotaAsk<'_>>,
    ) -> Result<Acquired, MeterError> {
        let local = |decisions| Acquired {
            decisions,
            quota: None,
        };
        let Some(redis) = &self.redis else {
            return self.local.check(buckets).map(local);
        };
        if self.using_redis() {
            // Boxed: a round trip's future is large, and in line it would make the in-process
            // check's future (copied on every call) as large; one allocation is nothing next
            // to the round trip.
            match Box::pin(redis.acquire(buckets, quota)).await {
                Ok(d) => return Ok(d),
                // Only Redis being away is a reason to limit in-process: a database failure
                // (seeding a quota counter) or a bug is passed up, never a looser limit.
                Err(e @ (MeterError::Database(_) | MeterError::Internal(_))) => return Err(e),
                Err(e) => {
                    tracing::warn!(error = %e, policy = ?self.policy, "rate limiter: Redis unreachable");
                    self.skip_redis_until.store(
                        self.clock.now().timestamp_millis() + REDIS_RETRY_MS,
                        Ordering::Relaxed,
                    );
                }
            }
        }
        match self.policy {
            RedisDownPolicy::FailClosed => Err(MeterError::Redis(
                "the rate limiter's Redis is unreachable".into(),
            )),
            RedisDownPolicy::Degrade { instances } => {
                let share = f64::from(instances.max(1));
                let local_buckets: Vec<Bucket> = buckets
                    .iter()
                    .map(|b| Bucket {
                        limit: RateLimit {
                            rate: b.limit.rate / share,
                            burst: (f64::from(b.limit.burst) / share).ceil().max(1.0) as u32,
                        },
                        ..b.clone()
                    })
                    .collect();
                self.local.check(&local_buckets).map(local)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_core::ManualClock;

    fn bucket(name: &'static str, key: &str, rate: f64, burst: u32) -> Bucket {
        Bucket {
            name,
            key: key.into(),
            limit: RateLimit { rate, burst },
        }
    }

    #[test]
    fn all_or_nothing_across_buckets() {
        let clock = ManualClock::new(chrono::Utc::now());
        let lim = LocalLimiter::new(Arc::new(clock.clone()));
        let tenant = bucket("tenant", "t", 1.0, 3);
        // The key bucket allows one; the tenant bucket three.
        let key = bucket("key", "k", 1.0, 1);
        assert!(lim
            .check(&[tenant.clone(), key.clone()])
            .unwrap()
            .iter()
            .all(|d| d.allowed));
        let refused = lim.check(&[tenant.clone(), key.clone()]).unwrap();
        assert!(!refused[1].allowed);
        // The refusal charged nothing: the tenant bucket still has two.
        let other_key = bucket("key", "k2", 1.0, 5);
        assert!(lim.check(&[tenant.clone(), other_key.clone()]).unwrap()[0].allowed);
        assert!(lim.check(&[tenant.clone(), other_key.clone()]).unwrap()[0].allowed);
        assert!(!lim.check(&[tenant, other_key]).unwrap()[0].allowed);
    }

    /// A `redis-server` of the test's own on a free port (killed on drop).
    struct PrivateRedis(std::process::Child, u16);

    impl PrivateRedis {
        async fn start() -> Self {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let redis = Self(
                std::process::Command::new("redis-server")
                    .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                    .args(["--save", "", "--appendonly", "no"])
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .expect("redis-server is required for the test suite"),
                port,
            );
            for _ in 0..100 {
                if tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .is_ok()
                {
                    return redis;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            panic!("redis-server did not start");
        }
    }

    async fn connect(port: u16) -> tollgate_store::redis_conn::RedisConn {
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).unwrap();
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(std::time::Duration::from_millis(200))
            .set_response_timeout(std::time::Duration::from_millis(500))
            .set_number_of_retries(0);
        // A server that accepts TCP may still reset the first connection while it starts.
        for _ in 0..50 {
            if let Ok(c) =
                redis::aio::ConnectionManager::new_with_config(client.clone(), config.clone()).await
            {
                return tollgate_store::redis_conn::RedisConn::Single(c);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("cannot connect to the private redis-server on {port}")
    }

    async fn memory_store() -> tollgate_store::Store {
        tollgate_store::Store::connect("sqlite::memory:")
            .await
            .unwrap()
    }

    impl Drop for PrivateRedis {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    /// With Redis gone, each of two instances limits at half the limit, in-process: the
    /// degrade branch runs (a limiter that never had Redis would allow the whole burst).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn degraded_limits_are_a_share() {
        let mut redis = PrivateRedis::start().await;
        let conn = connect(redis.1).await;
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(chrono::Utc::now()));
        let lim = Limiter::new(
            Some(Arc::new(Leases::new(conn, memory_store().await, "test"))),
            RedisDownPolicy::Degrade { instances: 2 },
            clock,
        );
        let b = [bucket("tenant", "x", 0.01, 9)];
        assert!(lim.check(&b).await.unwrap()[0].allowed, "through Redis");
        assert!(lim.using_redis());
        let _ = redis.0.kill();
        let _ = redis.0.wait();
        let mut allowed = 0;
        for _ in 0..20 {
            if lim.check(&b).await.unwrap()[0].allowed {
                allowed += 1;
            }
        }
        assert!(!lim.using_redis(), "the degrade branch ran");
        assert_eq!(allowed, 5, "ceil(9 / 2) in-process while Redis is away");
    }

    #[tokio::test]
    async fn fail_closed_refuses_while_redis_is_away() {
        let mut redis = PrivateRedis::start().await;
        let conn = connect(redis.1).await;
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(chrono::Utc::now()));
        let lim = Limiter::new(
            Some(Arc::new(Leases::new(conn, memory_store().await, "test"))),
            RedisDownPolicy::FailClosed,
            clock,
        );
        let _ = redis.0.kill();
        let _ = redis.0.wait();
        assert!(matches!(
            lim.check(&[bucket("tenant", "y", 1.0, 9)]).await,
            Err(MeterError::Redis(_))
        ));
    }
}
