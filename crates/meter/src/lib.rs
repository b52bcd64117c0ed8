//! Tollgate's metering, on the path of every tenant API call after authentication: rate
//! limits (GCRA per tenant and per credential), a concurrency cap per tenant, quota
//! reservations per billing period, and usage events recorded durably before the response.
//!
//! [`Meter::throttle`] is the rate limit alone (unmetered calls); [`Meter::admit`] is the whole
//! admission of a metered call and returns an [`Admission`], which the caller either
//! [`commit`](Admission::commit)s after a success or drops — dropping it (on an error, a
//! timeout, a client gone mid-request) refunds the reserved units and frees the slot.

pub mod concurrency;
pub mod limiter;
pub mod quota;
pub mod recorder;

use chrono::{DateTime, Utc};
use concurrency::Concurrency;
use limiter::{Bucket, Limiter, RedisDownPolicy};
use quota::{LocalQuota, QuotaCounter, RedisQuota};
use recorder::Recorder;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::OwnedSemaphorePermit;
use tollgate_core::plan::{thresholds_crossed, Period, Plan, RateLimit};
use tollgate_core::{Clock, DomainError, TenantId};
use tollgate_store::audit::NewAuditEvent;
use tollgate_store::plans::LimitOverride;
use tollgate_store::usage::UsageEvent;
use tollgate_store::Store;

/// The unit every metered operation is counted in.
pub const UNIT: &str = "page";

/// Failures of the metering machinery itself.
#[derive(Debug, thiserror::Error)]
pub enum MeterError {
    /// A dependency (Redis, the database) cannot be reached.
    #[error("metering unavailable: {0}")]
    Unavailable(String),
    /// A bug.
    #[error("metering failed: {0}")]
    Internal(String),
}

impl From<DomainError> for MeterError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Unavailable(m) => MeterError::Unavailable(m),
            other => MeterError::Internal(other.to_string()),
        }
    }
}

/// Who is calling, as metering sees it.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The tenant.
    pub tenant: TenantId,
    /// `key` or `client`.
    pub kind: &'static str,
    /// Key id or client id.
    pub id: String,
}

/// One rate-limit policy as the `RateLimit` headers report it.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyState {
    /// `tenant`, `key` or `client`.
    pub name: &'static str,
    /// Requests per window (the bucket).
    pub quota: u32,
    /// Seconds for an empty bucket to refill.
    pub window: u64,
    /// Requests left now.
    pub remaining: u32,
    /// Seconds until the bucket is full.
    pub reset: u64,
}

/// Why a call was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// Over a rate limit.
    RateLimited {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// All the tenant's concurrent slots are taken.
    Concurrency {
        /// The cap.
        max: u32,
    },
    /// The period's units are used up (hard cap).
    QuotaExhausted {
        /// Seconds until the next period.
        retry_after: u64,
    },
    /// The `Idempotency-Key` was used for another request, or is older than 24 hours.
    IdempotencyConflict(&'static str),
    /// Metering cannot decide (fail-closed policy, database down).
    Unavailable,
}

impl From<Refusal> for DomainError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::RateLimited { retry_after } => DomainError::Limited {
                code: "rate_limited",
                detail: "too many requests; retry after the time in Retry-After".into(),
                retry_after,
            },
            Refusal::Concurrency { max } => DomainError::Limited {
                code: "concurrency_limited",
                detail: format!("the plan allows {max} requests in flight at once"),
                retry_after: 1,
            },
            Refusal::QuotaExhausted { retry_after } => DomainError::Limited {
                code: "quota_exhausted",
                detail: "the plan's units for this period are used up".into(),
                retry_after,
            },
            Refusal::IdempotencyConflict(detail) => {
                DomainError::invalid("idempotency_key_reused", detail)
            }
            Refusal::Unavailable => DomainError::Busy {
                code: "metering_unavailable",
                detail: "usage cannot be metered right now; retry shortly".into(),
                retry_after: 1,
            },
        }
    }
}

impl From<MeterError> for Refusal {
    fn from(e: MeterError) -> Self {
        tracing::warn!(error = %e, "metering refused a call it could not check");
        Refusal::Unavailable
    }
}

/// Settings.
#[derive(Debug, Clone, Copy)]
pub struct MeterConfig {
    /// What to do while Redis is unreachable.
    pub redis_down: RedisDownPolicy,
    /// How long a tenant's plan and overrides are cached (changes through this process's
    /// operator API apply at once; changes by other processes within this time).
    pub limits_ttl: Duration,
}

impl Default for MeterConfig {
    fn default() -> Self {
        Self {
            redis_down: RedisDownPolicy::Degrade { instances: 1 },
            limits_ttl: Duration::from_secs(1),
        }
    }
}

/// A tenant's plan and its credentials' overrides.
#[derive(Debug, Clone)]
pub struct TenantLimits {
    /// The plan.
    pub plan: Plan,
    overrides: HashMap<String, RateLimit>,
}

impl TenantLimits {
    fn new(plan: Plan, overrides: Vec<LimitOverride>) -> Self {
        let overrides = overrides
            .iter()
            .map(|o| (o.principal_id.clone(), o.to_limit()))
            .collect();
        Self { plan, overrides }
    }

    fn tenant_limit(&self) -> RateLimit {
        RateLimit {
            rate: self.plan.rate,
            burst: self.plan.burst,
        }
    }

    /// The credential's bucket: the plan's, tightened by its override.
    fn principal_limit(&self, id: &str) -> RateLimit {
        self.tenant_limit()
            .tightened(self.overrides.get(id).copied())
    }
}

/// A metered request being admitted.
#[derive(Debug, Clone)]
pub struct Metered {
    /// Operation name (`ocr`).
    pub operation: &'static str,
    /// Units it costs.
    pub units: i64,
    /// The client's `Idempotency-Key`, if any; otherwise the request id is the event id.
    pub idempotency_key: Option<String>,
    /// The request id.
    pub request_id: String,
    /// A digest of the request body, to tell a retry from a different request under the
    /// same idempotency key.
    pub fingerprint: Option<String>,
}

/// Which counter holds a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counter {
    Redis,
    Local,
}

/// The metering state.
pub struct Meter {
    store: Store,
    clock: Arc<dyn Clock>,
    limiter: Limiter,
    redis_quota: Option<RedisQuota>,
    local_quota: LocalQuota,
    config: MeterConfig,
    concurrency: Concurrency,
    recorder: Recorder,
    limits: Mutex<HashMap<TenantId, (Instant, Arc<TenantLimits>)>>,
    /// Thresholds already announced (tenant, period, percent), so each is announced once.
    announced: Mutex<std::collections::HashSet<(TenantId, String, u32)>>,
    redis: Option<(redis::aio::ConnectionManager, String)>,
}

impl std::fmt::Debug for Meter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Meter")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// How long an `Idempotency-Key` names one request.
pub const IDEMPOTENCY_WINDOW: chrono::Duration = chrono::Duration::hours(24);

impl Meter {
    /// A meter over `store`, with Redis (shared limits and counters) when given.
    pub fn new(
        store: Store,
        redis: Option<(redis::aio::ConnectionManager, String)>,
        recorder: Recorder,
        clock: Arc<dyn Clock>,
        config: MeterConfig,
    ) -> Self {
        let (limiter_redis, redis_quota) = match redis.clone() {
            Some((conn, prefix)) => (
                Some(limiter::RedisLimiter::new(conn.clone(), &prefix)),
                Some(RedisQuota::new(conn, store.clone(), &prefix)),
            ),
            None => (None, None),
        };
        Self {
            limiter: Limiter::new(limiter_redis, config.redis_down, clock.clone()),
            local_quota: LocalQuota::new(store.clone()),
            redis_quota,
            store,
            clock,
            config,
            concurrency: Concurrency::default(),
            recorder,
            limits: Mutex::new(HashMap::new()),
            announced: Mutex::new(std::collections::HashSet::new()),
            redis,
        }
    }

    /// The tenant's plan and overrides (cached for `limits_ttl`).
    pub async fn limits(&self, tenant: TenantId) -> Result<Arc<TenantLimits>, MeterError> {
        if let Ok(cache) = self.limits.lock() {
            if let Some((at, l)) = cache.get(&tenant) {
                if at.elapsed() < self.config.limits_ttl {
                    return Ok(l.clone());
                }
            }
        }
        let (plan, overrides) = self.store.tenant_limits(tenant).await?;
        let l = Arc::new(TenantLimits::new(plan, overrides));
        if let Ok(mut cache) = self.limits.lock() {
            if cache.len() > 100_000 {
                cache.clear();
            }
            cache.insert(tenant, (Instant::now(), l.clone()));
        }
        Ok(l)
    }

    /// Whether limits and quotas currently go through Redis.
    pub fn using_redis(&self) -> bool {
        self.limiter.using_redis()
    }

    /// Forgets cached limits (after this process changed a plan or an override).
    pub fn forget_limits(&self, tenant: Option<TenantId>) {
        if let Ok(mut cache) = self.limits.lock() {
            match tenant {
                Some(t) => {
                    cache.remove(&t);
                }
                None => cache.clear(),
            }
        }
    }

    /// The rate limit alone: the tenant's bucket and the credential's, charged together.
    pub async fn throttle(
        &self,
        caller: &Caller,
    ) -> Result<Vec<PolicyState>, (Refusal, Vec<PolicyState>)> {
        let limits = self
            .limits(caller.tenant)
            .await
            .map_err(|e| (Refusal::from(e), Vec::new()))?;
        self.rate_check(caller, &limits).await
    }

    async fn rate_check(
        &self,
        caller: &Caller,
        limits: &TenantLimits,
    ) -> Result<Vec<PolicyState>, (Refusal, Vec<PolicyState>)> {
        let buckets = [
            Bucket {
                name: "tenant",
                key: format!("t:{}", caller.tenant.0),
                limit: limits.tenant_limit(),
            },
            Bucket {
                name: caller.kind,
                key: format!("p:{}:{}", caller.tenant.0, caller.id),
                limit: limits.principal_limit(&caller.id),
            },
        ];
        let decisions = self
            .limiter
            .check(&buckets)
            .await
            .map_err(|e| (Refusal::from(e), Vec::new()))?;
        let states: Vec<PolicyState> = buckets
            .iter()
            .zip(&decisions)
            .map(|(b, d)| PolicyState {
                name: b.name,
                quota: b.limit.burst,
                window: b.limit.window_secs(),
                remaining: d.remaining,
                reset: (d.reset_ms / 1000.0).ceil().max(0.0) as u64,
            })
            .collect();
        if decisions.iter().all(|d| d.allowed) {
            Ok(states)
        } else {
            let wait_ms = decisions
                .iter()
                .map(|d| d.retry_after_ms)
                .fold(0.0, f64::max);
            Err((
                Refusal::RateLimited {
                    retry_after: (wait_ms / 1000.0).ceil().max(1.0) as u64,
                },
                states,
            ))
        }
    }

    /// Admits a metered call: rate limit, concurrency slot, idempotency check, quota
    /// reservation — in that order, so a refused call holds nothing.
    pub async fn admit(
        &self,
        caller: &Caller,
        req: Metered,
    ) -> Result<Admission<'_>, (Refusal, Vec<PolicyState>)> {
        let limits = self
            .limits(caller.tenant)
            .await
            .map_err(|e| (Refusal::from(e), Vec::new()))?;
        let states = self.rate_check(caller, &limits).await?;
        let refuse = |r: Refusal| (r, states.clone());
        let permit = self
            .concurrency
            .try_acquire(caller.tenant, limits.plan.max_concurrent)
            .ok_or_else(|| {
                refuse(Refusal::Concurrency {
                    max: limits.plan.max_concurrent,
                })
            })?;
        let now = self.clock.now();
        let event_id = match &req.idempotency_key {
            Some(k) => format!("idem:{k}"),
            None => req.request_id.clone(),
        };
        let mut charge = true;
        if req.idempotency_key.is_some() {
            if let Some(prior) = self
                .store
                .usage_event(caller.tenant, &event_id)
                .await
                .map_err(|e| refuse(MeterError::from(e).into()))?
            {
                if prior.fingerprint != req.fingerprint {
                    return Err(refuse(Refusal::IdempotencyConflict(
                        "this Idempotency-Key was used for a different request",
                    )));
                }
                if now - prior.created_at > IDEMPOTENCY_WINDOW {
                    return Err(refuse(Refusal::IdempotencyConflict(
                        "this Idempotency-Key is older than 24 hours; use a new one",
                    )));
                }
                // A retry of a recorded request: served again, not counted again.
                charge = false;
            }
        }
        let period = Period::of(now);
        let mut admission = Admission {
            meter: self,
            caller: caller.clone(),
            req,
            event_id,
            period: period.key(),
            started: Instant::now(),
            at: now,
            reserved: None,
            committed: false,
            _permit: permit,
            rate: states.clone(),
            crossing: (0, 0, 0),
            limits: limits.clone(),
        };
        if charge && admission.req.units > 0 {
            let plan = &limits.plan;
            let (counter, r) = self
                .reserve(
                    caller.tenant,
                    &admission.period,
                    admission.req.units,
                    plan.monthly_units,
                    !plan.overage,
                )
                .await
                .map_err(|e| refuse(e.into()))?;
            if !r.granted {
                let retry_after = (period.end() - now).num_seconds().max(1) as u64;
                return Err(refuse(Refusal::QuotaExhausted { retry_after }));
            }
            admission.reserved = Some(counter);
            admission.crossing = (r.before, r.after, plan.monthly_units);
        }
        Ok(admission)
    }

    async fn reserve(
        &self,
        tenant: TenantId,
        period: &str,
        units: i64,
        limit: i64,
        hard: bool,
    ) -> Result<(Counter, quota::Reserved), MeterError> {
        if let Some(redis) = &self.redis_quota {
            if self.limiter.using_redis() {
                match redis.reserve(tenant, period, units, limit, hard).await {
                    Ok(r) => return Ok((Counter::Redis, r)),
                    Err(e) => tracing::warn!(error = %e, "quota: Redis unreachable"),
                }
            }
            if self.config.redis_down == RedisDownPolicy::FailClosed {
                return Err(MeterError::Unavailable(
                    "the quota counters' Redis is unreachable".into(),
                ));
            }
        }
        Ok((
            Counter::Local,
            self.local_quota
                .reserve(tenant, period, units, limit, hard)
                .await?,
        ))
    }

    async fn refund(&self, counter: Counter, tenant: TenantId, period: &str, units: i64) {
        let result = match (counter, &self.redis_quota) {
            (Counter::Redis, Some(redis)) => redis.refund(tenant, period, units).await,
            _ => self.local_quota.refund(tenant, period, units).await,
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, %units, "a quota refund was lost");
        }
    }

    async fn announce_threshold(
        &self,
        tenant: TenantId,
        period: &str,
        percent: u32,
        used: i64,
        limit: i64,
    ) {
        let first_here = self
            .announced
            .lock()
            .is_ok_and(|mut seen| seen.insert((tenant, period.to_owned(), percent)));
        if !first_here {
            return;
        }
        if let Some((conn, prefix)) = &self.redis {
            let mut conn = conn.clone();
            let set: Result<Option<String>, _> = redis::cmd("SET")
                .arg(format!(
                    "{prefix}:threshold:{}:{period}:{percent}",
                    tenant.0
                ))
                .arg(1)
                .arg("NX")
                .arg("EX")
                .arg(40 * 24 * 3600)
                .query_async(&mut conn)
                .await;
            if matches!(set, Ok(None)) {
                return;
            }
        }
        let event = NewAuditEvent {
            tenant: Some(tenant),
            actor: "system".into(),
            action: "quota.threshold",
            target: Some(format!("period:{period}")),
            ip: None,
            user_agent: None,
            outcome: "success",
            detail: serde_json::json!({ "percent": percent, "used": used, "included": limit }),
            at: self.clock.now(),
        };
        if let Err(e) = self.store.append_audit(event).await {
            tracing::warn!(error = %e, %percent, "quota threshold event not recorded");
        }
    }
}

/// An admitted metered call. Commit it after a success; drop it otherwise.
pub struct Admission<'a> {
    meter: &'a Meter,
    caller: Caller,
    req: Metered,
    event_id: String,
    /// The billing period's key (`YYYY-MM`).
    period: String,
    started: Instant,
    at: DateTime<Utc>,
    reserved: Option<Counter>,
    committed: bool,
    _permit: OwnedSemaphorePermit,
    rate: Vec<PolicyState>,
    /// Units before and after this call's reservation, and the period's limit.
    crossing: (i64, i64, i64),
    /// The tenant's plan and overrides this call was admitted under.
    limits: Arc<TenantLimits>,
}

impl std::fmt::Debug for Admission<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admission")
            .field("event_id", &self.event_id)
            .finish_non_exhaustive()
    }
}

impl Admission<'_> {
    /// The rate-limit state for the response headers.
    pub fn rate(&self) -> &[PolicyState] {
        &self.rate
    }

    /// The tenant's plan this call was admitted under.
    pub fn plan(&self) -> &Plan {
        &self.limits.plan
    }

    /// Units charged for this call (0 for a retry of a recorded one).
    pub fn units_charged(&self) -> i64 {
        if self.reserved.is_some() {
            self.req.units
        } else {
            0
        }
    }

    /// Units left in the period after this call (unknown for retries).
    pub fn quota_left(&self) -> Option<i64> {
        let (_, after, limit) = self.crossing;
        self.reserved.map(|_| limit - after)
    }

    /// Records the call's usage event durably (the caller answers 2xx only after this).
    /// A retry of a recorded request is not recorded again and its reservation is returned.
    pub async fn commit(mut self, status: u16) -> Result<(), MeterError> {
        let latency = i32::try_from(self.started.elapsed().as_millis()).unwrap_or(i32::MAX);
        let event = UsageEvent {
            tenant_id: self.caller.tenant.0,
            event_id: self.event_id.clone(),
            principal_kind: self.caller.kind.to_owned(),
            principal_id: self.caller.id.clone(),
            operation: self.req.operation.to_owned(),
            units: self.units_charged(),
            status: i32::from(status),
            latency_ms: latency,
            fingerprint: self.req.fingerprint.clone(),
            period: self.period.clone(),
            hour_epoch: self.at.timestamp() - self.at.timestamp().rem_euclid(3600),
            created_at: self.at,
        };
        let inserted = self.meter.recorder.record(event).await?;
        self.committed = true;
        if !inserted {
            if let Some(counter) = self.reserved.take() {
                self.meter
                    .refund(counter, self.caller.tenant, &self.period, self.req.units)
                    .await;
            }
            return Ok(());
        }
        // Thresholds are announced for units actually used, not for reservations that might
        // still be refunded.
        let (before, after, limit) = self.crossing;
        for percent in thresholds_crossed(before, after, limit) {
            self.meter
                .announce_threshold(self.caller.tenant, &self.period, percent, after, limit)
                .await;
        }
        Ok(())
    }
}

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        if let Some(counter) = self.reserved.take() {
            // Not committed: a failure, a timeout or a client gone. Give the units back.
            self.meter.spawn_refund(RefundTask {
                counter,
                tenant: self.caller.tenant,
                period: std::mem::take(&mut self.period),
                units: self.req.units,
            });
        }
    }
}

struct RefundTask {
    counter: Counter,
    tenant: TenantId,
    period: String,
    units: i64,
}

impl Meter {
    fn spawn_refund(&self, r: RefundTask) {
        // In-process counters are refunded at once (no I/O); Redis ones need the runtime.
        if r.counter == Counter::Local || self.redis_quota.is_none() {
            if let Err(e) = self.local_quota.refund_now(r.tenant, &r.period, r.units) {
                tracing::warn!(error = %e, "a quota refund was lost");
            }
            return;
        }
        if let Some(redis) = &self.redis_quota {
            let redis = redis.clone();
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(async move {
                    if let Err(e) = redis.refund(r.tenant, &r.period, r.units).await {
                        tracing::warn!(error = %e, units = r.units, "a quota refund was lost");
                    }
                });
            }
        }
    }
}
