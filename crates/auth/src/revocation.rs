//! The revocation denylist. Entries are token ids (`jti:<id>`) and deleted clients
//! (`client:<id>`), each kept until the last token it could cover has expired. Every instance
//! answers from memory; a revocation is written to the database (durable, reloaded at start)
//! and, when Redis is configured, to a Redis sorted set that every instance polls every
//! 200 ms, so all instances refuse a revoked token well within a second.

use chrono::{DateTime, TimeZone, Utc};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tollgate_core::{Clock, DomainError};
use tollgate_store::redis_conn::RedisConn;
use tollgate_store::Store;

/// How often instances pull revocations from Redis.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// How far back each poll looks, to tolerate clock skew between instances.
const POLL_OVERLAP_MS: i64 = 5_000;

/// The denylist.
pub struct Denylist {
    local: RwLock<Local>,
    store: Store,
    redis: Option<RedisConn>,
    redis_key: String,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Denylist {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Denylist")
            .field("redis", &self.redis.is_some())
            .finish_non_exhaustive()
    }
}

/// Denied token ids and clients, each with the expiry (unix seconds) of its entry. Two maps
/// so a request looks both up by the ids it has, without building keys.
#[derive(Default)]
struct Local {
    jtis: HashMap<String, i64>,
    clients: HashMap<String, i64>,
}

impl Local {
    fn insert(&mut self, entry: &str, exp: i64) {
        if let Some(jti) = entry.strip_prefix("jti:") {
            self.jtis.insert(jti.to_owned(), exp);
        } else if let Some(client) = entry.strip_prefix("client:") {
            self.clients.insert(client.to_owned(), exp);
        }
    }
}

/// Denylist entry for a token id.
pub fn jti_entry(jti: &str) -> String {
    format!("jti:{jti}")
}

/// Denylist entry for every token of a client.
pub fn client_entry(client_id: &str) -> String {
    format!("client:{client_id}")
}

impl Denylist {
    /// Loads the durable entries. Redis keys are namespaced by `redis_prefix`.
    pub async fn open(
        store: Store,
        redis: Option<RedisConn>,
        redis_prefix: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, DomainError> {
        let list = Self {
            local: RwLock::new(Local::default()),
            store,
            redis,
            redis_key: format!("{redis_prefix}:revocations"),
            clock,
        };
        list.reload_from_db().await?;
        Ok(list)
    }

    async fn reload_from_db(&self) -> Result<(), DomainError> {
        let rows = self.store.active_revocations(self.clock.now()).await?;
        if let Ok(mut map) = self.local.write() {
            for (entry, exp) in rows {
                map.insert(&entry, exp.timestamp());
            }
        }
        Ok(())
    }

    /// True when a token with this `jti` for this client is denied now.
    pub fn token_denied(&self, jti: &str, client_id: &str) -> bool {
        let now = self.clock.now().timestamp();
        self.local
            .read()
            .map(|m| {
                m.jtis.get(jti).is_some_and(|exp| *exp > now)
                    || m.clients.get(client_id).is_some_and(|exp| *exp > now)
            })
            .unwrap_or(true)
    }

    /// Denies `entry` until `expires_at`, locally, durably and (if configured) in Redis.
    pub async fn revoke(
        &self,
        entry: String,
        expires_at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        if let Ok(mut map) = self.local.write() {
            map.insert(&entry, expires_at.timestamp());
        }
        self.store.insert_revoked(&entry, expires_at).await?;
        if let Some(redis) = &self.redis {
            let mut conn = redis.clone();
            let member = format!("{}|{entry}", expires_at.timestamp());
            let score = self.clock.now().timestamp_millis();
            let res: Result<(), redis::RedisError> = redis::cmd("ZADD")
                .arg(&self.redis_key)
                .arg(score)
                .arg(member)
                .query_async(&mut conn)
                .await;
            if let Err(e) = res {
                // Durable in the database; other instances pick it up at their next reload.
                tracing::warn!(error = %e, "revocation not published to Redis");
            }
        }
        Ok(())
    }

    fn apply_remote(&self, members: Vec<String>) {
        let Ok(mut map) = self.local.write() else {
            return;
        };
        for m in members {
            if let Some((exp, entry)) = m.split_once('|') {
                if let Ok(exp) = exp.parse::<i64>() {
                    map.insert(entry, exp);
                }
            }
        }
    }

    fn prune(&self) {
        let now = self.clock.now().timestamp();
        if let Ok(mut map) = self.local.write() {
            map.jtis.retain(|_, exp| *exp > now);
            map.clients.retain(|_, exp| *exp > now);
        }
    }

    /// Background sync: polls Redis, prunes expired entries and periodically reloads from the
    /// database (which also covers a Redis outage). Returns when `cancel` fires.
    pub async fn run_sync(self: Arc<Self>, cancel: CancellationToken) {
        let mut since = self.clock.now().timestamp_millis() - POLL_OVERLAP_MS;
        let mut ticks: u64 = 0;
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(POLL_INTERVAL) => {}
            }
            ticks += 1;
            if let Some(redis) = &self.redis {
                let mut conn = redis.clone();
                let now_ms = self.clock.now().timestamp_millis();
                let res: Result<Vec<String>, redis::RedisError> = redis::cmd("ZRANGEBYSCORE")
                    .arg(&self.redis_key)
                    .arg(since)
                    .arg("+inf")
                    .query_async(&mut conn)
                    .await;
                match res {
                    Ok(members) => {
                        self.apply_remote(members);
                        since = now_ms - POLL_OVERLAP_MS;
                    }
                    Err(e) => tracing::debug!(error = %e, "revocation poll failed"),
                }
                if ticks.is_multiple_of(300) {
                    let horizon = now_ms - 24 * 3600 * 1000;
                    let _: Result<(), _> = redis::cmd("ZREMRANGEBYSCORE")
                        .arg(&self.redis_key)
                        .arg("-inf")
                        .arg(horizon)
                        .query_async(&mut conn)
                        .await;
                }
            }
            if ticks.is_multiple_of(50) {
                self.prune();
                if let Err(e) = self.reload_from_db().await {
                    tracing::warn!(error = %e, "revocation reload failed");
                }
                let _ = self.store.purge_revocations(self.clock.now()).await;
            }
        }
    }
}

/// Seconds-since-epoch to a UTC time (saturating to now on overflow).
pub fn from_unix(ts: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(ts, 0).single().unwrap_or_else(Utc::now)
}
