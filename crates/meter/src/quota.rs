//! Quota reservations: a counter per (tenant, billing period) of units reserved or committed.
//! Admission reserves a request's units (refused past a hard cap); a success leaves them
//! counted (its usage event is the durable record); a failure on our side gives them back.
//!
//! The counters live in Redis when configured (see [`crate::lease`]), otherwise in-process
//! (here); either way a missing counter is seeded from the units already recorded in the
//! database, so a restart (or a Redis that lost its data) does not hand out a fresh month.

use crate::MeterError;
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

impl LocalQuota {
    /// Reserves `units` unless that would pass `limit` with `hard` set.
    pub async fn reserve(
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
