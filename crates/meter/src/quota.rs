//! Quota reservations: a counter per (tenant, billing period) of units reserved or committed.
//! Admission reserves a request's units (refused past a hard cap); a success leaves them
//! counted (its usage event is the durable record); a failure on our side gives them back.
//!
//! The counters live in Redis when configured, otherwise in-process; either way a missing
//! counter is seeded from the units already recorded in the database, so a restart (or a
//! Redis that lost its data) does not hand out a fresh month.

use crate::MeterError;
use async_trait::async_trait;
use redis::aio::ConnectionManager;
use std::collections::HashMap;
use std::sync::Mutex;
use tollgate_core::TenantId;
use tollgate_store::Store;

/// What a reservation found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reserved {
    /// Whether the units were reserved.
    pub granted: bool,
    /// Units counted before this request.
    pub before: i64,
    /// Units counted after it (equal to `before` when refused).
    pub after: i64,
}

/// A counter store.
#[async_trait]
pub trait QuotaCounter: Send + Sync {
    /// Reserves `units` unless that would pass `limit` with `hard` set.
    async fn reserve(
        &self,
        tenant: TenantId,
        period: &str,
        units: i64,
        limit: i64,
        hard: bool,
    ) -> Result<Reserved, MeterError>;
    /// Gives `units` back.
    async fn refund(&self, tenant: TenantId, period: &str, units: i64) -> Result<(), MeterError>;
}

fn decide(before: i64, units: i64, limit: i64, hard: bool) -> Reserved {
    if hard && before + units > limit {
        Reserved {
            granted: false,
            before,
            after: before,
        }
    } else {
        Reserved {
            granted: true,
            before,
            after: before + units,
        }
    }
}

/// Units counted per (tenant, period).
type Counts = HashMap<(TenantId, String), i64>;

/// In-process counters (one instance: the embedded default).
pub struct LocalQuota {
    store: Store,
    counts: Mutex<Counts>,
}

impl LocalQuota {
    /// Counters seeded from `store`.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            counts: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Counts>, MeterError> {
        self.counts
            .lock()
            .map_err(|_| MeterError::Internal("quota lock poisoned".into()))
    }

    /// Gives `units` back, without waiting (usable where nothing can be awaited).
    pub fn refund_now(&self, tenant: TenantId, period: &str, units: i64) -> Result<(), MeterError> {
        if let Some(c) = self.lock()?.get_mut(&(tenant, period.to_owned())) {
            *c -= units;
        }
        Ok(())
    }
}

#[async_trait]
impl QuotaCounter for LocalQuota {
    async fn reserve(
        &self,
        tenant: TenantId,
        period: &str,
        units: i64,
        limit: i64,
        hard: bool,
    ) -> Result<Reserved, MeterError> {
        let key = (tenant, period.to_owned());
        let seeded = self.lock()?.contains_key(&key);
        if !seeded {
            let recorded = self
                .store
                .usage_units(tenant, period)
                .await
                .map_err(MeterError::from)?;
            self.lock()?.entry(key.clone()).or_insert(recorded);
        }
        let mut counts = self.lock()?;
        let count = counts.entry(key).or_insert(0);
        let r = decide(*count, units, limit, hard);
        *count = r.after;
        Ok(r)
    }

    async fn refund(&self, tenant: TenantId, period: &str, units: i64) -> Result<(), MeterError> {
        self.refund_now(tenant, period, units)
    }
}

/// Reserve against a counter; `nil` when the counter does not exist yet (seed it first).
const RESERVE_SCRIPT: &str = r"
local cur = redis.call('GET', KEYS[1])
if not cur then return nil end
cur = tonumber(cur)
local units, limit, hard = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3] == '1'
if hard and cur + units > limit then return {0, cur, cur} end
local after = redis.call('INCRBY', KEYS[1], units)
return {1, after - units, after}";

/// Counters in Redis, shared by every instance.
#[derive(Clone)]
pub struct RedisQuota {
    conn: ConnectionManager,
    store: Store,
    prefix: String,
    script: redis::Script,
}

impl RedisQuota {
    /// Counters under keys starting with `prefix`, seeded from `store`.
    pub fn new(conn: ConnectionManager, store: Store, prefix: &str) -> Self {
        Self {
            conn,
            store,
            prefix: format!("{prefix}:quota"),
            script: redis::Script::new(RESERVE_SCRIPT),
        }
    }

    fn key(&self, tenant: TenantId, period: &str) -> String {
        format!("{}:{}:{period}", self.prefix, tenant.0)
    }
}

fn unavailable(e: redis::RedisError) -> MeterError {
    MeterError::Redis(e.to_string())
}

/// Counters outlive their month by this long (seconds), then expire.
const COUNTER_TTL_SECS: i64 = 40 * 24 * 3600;

#[async_trait]
impl QuotaCounter for RedisQuota {
    async fn reserve(
        &self,
        tenant: TenantId,
        period: &str,
        units: i64,
        limit: i64,
        hard: bool,
    ) -> Result<Reserved, MeterError> {
        let key = self.key(tenant, period);
        let mut conn = self.conn.clone();
        for _ in 0..2 {
            let out: Option<(i64, i64, i64)> = self
                .script
                .key(&key)
                .arg(units)
                .arg(limit)
                .arg(if hard { "1" } else { "0" })
                .invoke_async(&mut conn)
                .await
                .map_err(unavailable)?;
            if let Some((granted, before, after)) = out {
                return Ok(Reserved {
                    granted: granted == 1,
                    before,
                    after,
                });
            }
            // Seed from the database; if another instance seeded first, NX keeps its value.
            let recorded = self
                .store
                .usage_units(tenant, period)
                .await
                .map_err(MeterError::from)?;
            let _: Option<String> = redis::cmd("SET")
                .arg(&key)
                .arg(recorded)
                .arg("NX")
                .arg("EX")
                .arg(COUNTER_TTL_SECS)
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
        }
        Err(MeterError::Redis(
            "the quota counter vanished twice right after it was seeded".into(),
        ))
    }

    async fn refund(&self, tenant: TenantId, period: &str, units: i64) -> Result<(), MeterError> {
        let mut conn = self.conn.clone();
        let _: i64 = redis::cmd("DECRBY")
            .arg(self.key(tenant, period))
            .arg(units)
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::decide;

    #[test]
    fn hard_caps_refuse_soft_plans_count_on() {
        assert_eq!(decide(9, 1, 10, true).after, 10);
        assert!(!decide(10, 1, 10, true).granted);
        let soft = decide(10, 1, 10, false);
        assert!(soft.granted && soft.after == 11);
    }
}
