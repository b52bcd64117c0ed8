//! Brute-force backoff for portal logins. Failures are counted per (account, IP) and per IP
//! in a 15-minute window; past a threshold each further failure doubles a block (capped at
//! 15 minutes). Counting per (account, IP) rather than per account means an attacker cannot
//! lock a user out from the user's own address, and the per-IP counter stops one address
//! from sweeping every account. In-process by default, Redis when configured.

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tollgate_core::Clock;

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
}

/// Per-process counters, for the embedded default.
#[derive(Debug)]
pub struct LocalAttempts {
    clock: Arc<dyn Clock>,
    map: Mutex<HashMap<String, (u32, i64, i64)>>,
}

impl LocalAttempts {
    /// Empty counters.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            map: Mutex::new(HashMap::new()),
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
        if map.len() > 100_000 {
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
}

/// Redis counters, shared by every instance.
#[derive(Clone)]
pub struct RedisAttempts {
    conn: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisAttempts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisAttempts")
    }
}

impl RedisAttempts {
    /// Counters in the Redis behind `conn`, under keys starting with `prefix`.
    pub fn new(conn: ConnectionManager, prefix: &str) -> Self {
        Self {
            conn,
            prefix: format!("{prefix}:login"),
        }
    }
}

const FAILURE_SCRIPT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n";

#[async_trait]
impl AttemptLimiter for RedisAttempts {
    async fn blocked(&self, key: &str) -> Option<u64> {
        let mut conn = self.conn.clone();
        let ttl: i64 = redis::cmd("PTTL")
            .arg(format!("{}:block:{key}", self.prefix))
            .query_async(&mut conn)
            .await
            .ok()?;
        (ttl > 0).then(|| (ttl as u64).div_ceil(1000))
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
                    let _: Result<(), _> = redis::cmd("SET")
                        .arg(format!("{}:block:{key}", self.prefix))
                        .arg(1)
                        .arg("EX")
                        .arg(block)
                        .query_async(&mut conn)
                        .await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "login failure not counted in Redis"),
        }
    }

    async fn reset(&self, key: &str) {
        let mut conn = self.conn.clone();
        let _: Result<(), _> = redis::cmd("DEL")
            .arg(format!("{}:count:{key}", self.prefix))
            .arg(format!("{}:block:{key}", self.prefix))
            .query_async(&mut conn)
            .await;
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
}
