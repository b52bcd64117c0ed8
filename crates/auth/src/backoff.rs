//! Brute-force backoff for portal logins and OAuth client authentication. Failures are
//! counted in a 15-minute window per (account, IP), per IP and per account; past a threshold
//! each further failure doubles a block (capped at 15 minutes).
//!
//! The per-(account, IP) and per-IP counters stop one address from guessing one password or
//! sweeping every account. The per-account counter (with a much higher threshold) stops a
//! botnet guessing one account's password from many addresses; so that it cannot be used to
//! lock the real user out, an address the account has signed in from before is *remembered*
//! and exempt from the per-account block. In-process by default, Redis when configured (with
//! the in-process counters taking over while Redis is unreachable).

use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tollgate_core::Clock;
use tollgate_store::redis_conn::RedisConn;

/// Counting window in seconds.
pub const WINDOW_SECS: i64 = 900;
/// Longest block in seconds.
pub const MAX_BLOCK_SECS: i64 = 900;

/// Seconds to block after `failures` failures when `threshold` are free.
pub fn block_secs(failures: u32, threshold: u32) -> i64 {
    if failures < threshold {
        return 0;
    }
    let exp = (failures - threshold).min(10);
    (1i64 << exp).min(MAX_BLOCK_SECS)
}

/// A store of failure counters.
#[async_trait]
pub trait AttemptLimiter: Send + Sync + std::fmt::Debug {
    /// Seconds until `key` may try again, if blocked.
    async fn blocked(&self, key: &str) -> Option<u64>;
    /// Counts a failure; blocks once `threshold` failures have been seen in the window.
    async fn failure(&self, key: &str, threshold: u32);
    /// Clears `key` (after a success).
    async fn reset(&self, key: &str);
    /// Remembers `key` for `secs` seconds (an address an account signed in from).
    async fn remember(&self, key: &str, secs: i64);
    /// Whether `key` is remembered.
    async fn remembered(&self, key: &str) -> bool;
}

/// Per-process counters, for the embedded default.
#[derive(Debug)]
pub struct LocalAttempts {
    clock: Arc<dyn Clock>,
    map: Mutex<HashMap<String, (u32, i64, i64)>>,
    known: Mutex<HashMap<String, i64>>,
}

/// Entries kept before expired ones are swept.
const LOCAL_SWEEP_AT: usize = 100_000;

impl LocalAttempts {
    /// Empty counters.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            map: Mutex::new(HashMap::new()),
            known: Mutex::new(HashMap::new()),
        }
    }
}

#[async_trait]
impl AttemptLimiter for LocalAttempts {
    // Times are kept in milliseconds so a one-second block lasts a full second.
    async fn blocked(&self, key: &str) -> Option<u64> {
        let now = self.clock.now().timestamp_millis();
        let map = self.map.lock().ok()?;
        let (_, _, until) = map.get(key)?;
        (*until > now).then(|| ((*until - now) as u64).div_ceil(1000))
    }

    async fn failure(&self, key: &str, threshold: u32) {
        let now = self.clock.now().timestamp_millis();
        let window = WINDOW_SECS * 1000;
        let Ok(mut map) = self.map.lock() else { return };
        if map.len() > LOCAL_SWEEP_AT {
            map.retain(|_, (_, start, until)| now - *start < window || *until > now);
        }
        let entry = map.entry(key.to_owned()).or_insert((0, now, 0));
        if now - entry.1 >= window {
            *entry = (0, now, entry.2);
        }
        entry.0 += 1;
        let block = block_secs(entry.0, threshold);
        if block > 0 {
            entry.2 = now + block * 1000;
        }
    }

    async fn reset(&self, key: &str) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(key);
        }
    }

    async fn remember(&self, key: &str, secs: i64) {
        let now = self.clock.now().timestamp_millis();
        let Ok(mut known) = self.known.lock() else {
            return;
        };
        if known.len() > LOCAL_SWEEP_AT {
            known.retain(|_, until| *until > now);
        }
        known.insert(key.to_owned(), now + secs * 1000);
    }

    async fn remembered(&self, key: &str) -> bool {
        let now = self.clock.now().timestamp_millis();
        self.known
            .lock()
            .is_ok_and(|known| known.get(key).is_some_and(|until| *until > now))
    }
}

/// Redis counters, shared by every instance. While Redis cannot be reached, each instance
/// counts in-process instead, so backoff never switches off.
pub struct RedisAttempts {
    conn: RedisConn,
    prefix: String,
    fallback: LocalAttempts,
}

impl std::fmt::Debug for RedisAttempts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisAttempts")
    }
}

impl RedisAttempts {
    /// Counters in the Redis behind `conn`, under keys starting with `prefix`.
    pub fn new(conn: RedisConn, prefix: &str, clock: Arc<dyn Clock>) -> Self {
        Self {
            conn,
            prefix: format!("{prefix}:login"),
            fallback: LocalAttempts::new(clock),
        }
    }
}

fn unreachable(e: &redis::RedisError) {
    tracing::warn!(error = %e, "Redis unreachable; login backoff counted in-process");
}

const FAILURE_SCRIPT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n";

#[async_trait]
impl AttemptLimiter for RedisAttempts {
    async fn blocked(&self, key: &str) -> Option<u64> {
        let mut conn = self.conn.clone();
        let ttl: Result<i64, _> = redis::cmd("PTTL")
            .arg(format!("{}:block:{key}", self.prefix))
            .query_async(&mut conn)
            .await;
        let local = self.fallback.blocked(key).await;
        match ttl {
            Ok(ttl) => (ttl > 0).then(|| (ttl as u64).div_ceil(1000)).max(local),
            Err(e) => {
                unreachable(&e);
                local
            }
        }
    }

    async fn failure(&self, key: &str, threshold: u32) {
        let mut conn = self.conn.clone();
        let count: Result<u32, _> = redis::Script::new(FAILURE_SCRIPT)
            .key(format!("{}:count:{key}", self.prefix))
            .arg(WINDOW_SECS)
            .invoke_async(&mut conn)
            .await;
        match count {
            Ok(n) => {
                let block = block_secs(n, threshold);
                if block > 0 {
                    let set: Result<(), _> = redis::cmd("SET")
                        .arg(format!("{}:block:{key}", self.prefix))
                        .arg(1)
                        .arg("EX")
                        .arg(block)
                        .query_async(&mut conn)
                        .await;
                    if let Err(e) = set {
                        unreachable(&e);
                        self.fallback.failure(key, threshold).await;
                    }
                }
            }
            Err(e) => {
                unreachable(&e);
                self.fallback.failure(key, threshold).await;
            }
        }
    }

    async fn reset(&self, key: &str) {
        self.fallback.reset(key).await;
        let mut conn = self.conn.clone();
        let _: Result<(), _> = redis::cmd("DEL")
            .arg(format!("{}:count:{key}", self.prefix))
            .arg(format!("{}:block:{key}", self.prefix))
            .query_async(&mut conn)
            .await;
    }

    async fn remember(&self, key: &str, secs: i64) {
        self.fallback.remember(key, secs).await;
        let mut conn = self.conn.clone();
        let _: Result<(), _> = redis::cmd("SET")
            .arg(format!("{}:known:{key}", self.prefix))
            .arg(1)
            .arg("EX")
            .arg(secs.max(1))
            .query_async(&mut conn)
            .await;
    }

    async fn remembered(&self, key: &str) -> bool {
        let mut conn = self.conn.clone();
        let hit: Result<bool, _> = redis::cmd("EXISTS")
            .arg(format!("{}:known:{key}", self.prefix))
            .query_async(&mut conn)
            .await;
        hit.unwrap_or(false) || self.fallback.remembered(key).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_core::ManualClock;

    #[test]
    fn doubling_and_cap() {
        assert_eq!(block_secs(4, 5), 0);
        assert_eq!(block_secs(5, 5), 1);
        assert_eq!(block_secs(7, 5), 4);
        assert_eq!(block_secs(40, 5), MAX_BLOCK_SECS);
    }

    #[tokio::test]
    async fn local_blocks_then_expires() {
        let clock = ManualClock::new(chrono::Utc::now());
        let lim = LocalAttempts::new(Arc::new(clock.clone()));
        for _ in 0..4 {
            lim.failure("k", 5).await;
        }
        assert_eq!(lim.blocked("k").await, None);
        lim.failure("k", 5).await;
        lim.failure("k", 5).await;
        assert_eq!(lim.blocked("k").await, Some(2));
        clock.advance(chrono::Duration::seconds(3));
        assert_eq!(lim.blocked("k").await, None);
        assert_eq!(lim.blocked("other").await, None);
    }

    #[tokio::test]
    async fn local_remembers_until_expiry() {
        let clock = ManualClock::new(chrono::Utc::now());
        let lim = LocalAttempts::new(Arc::new(clock.clone()));
        assert!(!lim.remembered("k").await);
        lim.remember("k", 10).await;
        assert!(lim.remembered("k").await);
        clock.advance(chrono::Duration::seconds(11));
        assert!(!lim.remembered("k").await);
    }
}
