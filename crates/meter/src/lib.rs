//! Tollgate's metering, on the path of every tenant API call after authentication: rate
//! limits (GCRA per tenant and per credential), a concurrency cap per tenant, quota
//! reservations per billing period, idempotency keys, and usage events recorded durably
//! before the response.
//!
//! [`Meter::throttle`] is the rate limit alone (unmetered calls); [`Meter::admit`] is the whole
//! admission of a metered call and returns an [`Admitted`]: a stored answer to replay, or an
//! [`Admission`], which the caller either [`commit`](Admission::commit)s after a success or
//! drops — dropping it (on an error, a timeout, a client gone mid-request) refunds the
//! reserved units, frees the slot and releases the idempotency key.

pub mod admission;
pub mod concurrency;
pub mod idempotency;
pub mod lease;
pub mod limiter;
pub mod limits;
pub mod plans;
pub mod quota;
pub mod recorder;
pub mod spend;
mod thresholds;
pub mod usage;

pub use admission::{Admission, Admitted, Gate, Metered};
pub use idempotency::{StoredAnswer, IDEMPOTENCY_WINDOW};
pub use limits::TenantLimits;

use concurrency::Concurrency;
use lease::Leases;
pub use lease::QuotaAsk;
use limiter::{Bucket, Limiter, RedisDownPolicy};
use quota::LocalQuota;
use recorder::Recorder;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tollgate_core::plan::Period;
use tollgate_core::Code;
use tollgate_core::{Clock, DomainError, TenantId};
use tollgate_store::flight::SingleFlight;
use tollgate_store::Store;

/// The unit every metered operation is counted in.
pub const UNIT: &str = "page";

/// Failures of the metering machinery itself. Which dependency failed is kept apart, so a
/// database failure is never logged as an unreachable Redis (nor answered by falling back
/// to in-process counters, which would not help).
#[derive(Debug, Clone, thiserror::Error)]
pub enum MeterError {
    /// Redis cannot be reached (the in-process fallback may take over).
    #[error("Redis unreachable: {0}")]
    Redis(String),
    /// The database failed a read or write metering needs.
    #[error("the database failed a metering query: {0}")]
    Database(String),
    /// Another part of metering is not running (the usage recorder has stopped).
    #[error("metering unavailable: {0}")]
    Unavailable(String),
    /// The request's idempotency key was taken over by a retry after its lease ran out, so
    /// this request's answer is not the one recorded; nothing of it was recorded.
    #[error("the idempotency key was taken over by a retry")]
    IdempotencyKeyLost,
    /// The usage event's connection was lost after its statement may have reached the
    /// database, and writing it again failed too: it may have been recorded. Its units are
    /// not refunded (a unit too few to admit is the safe side; a unit served and not counted
    /// is not).
    #[error("the usage event may or may not have been recorded")]
    UsageOutcomeUnknown,
    /// A bug.
    #[error("metering failed: {0}")]
    Internal(String),
}

impl From<DomainError> for MeterError {
    fn from(e: DomainError) -> Self {
        MeterError::Database(e.to_string())
    }
}

/// Who is calling, as metering sees it.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The tenant.
    pub tenant: TenantId,
    /// `key` or `client`.
    pub kind: &'static str,
    /// Key id or client id (shared with the principal: no copy per call).
    pub id: std::sync::Arc<str>,
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
    /// The tenant is suspended for an unpaid invoice.
    AccountSuspended,
    /// The call would take the period's spend past the tenant's spend cap.
    SpendCapReached(tollgate_core::SpendAmounts),
    /// The `Idempotency-Key` named a request with another body.
    IdempotencyMismatch,
    /// A request with this `Idempotency-Key` is running now.
    IdempotencyInProgress {
        /// Seconds to wait before retrying.
        retry_after: u64,
    },
    /// Metering cannot decide (fail-closed policy, database down).
    Unavailable,
}

impl From<Refusal> for DomainError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::RateLimited { retry_after } => DomainError::Limited {
                code: Code::RateLimited,
                detail: "too many requests; retry after the time in Retry-After".into(),
                retry_after,
            },
            Refusal::Concurrency { max } => DomainError::Limited {
                code: Code::ConcurrencyLimited,
                detail: format!("the plan allows {max} requests in flight at once"),
                retry_after: 1,
            },
            Refusal::QuotaExhausted { retry_after } => DomainError::Limited {
                code: Code::QuotaExhausted,
                detail: "the plan's units for this period are used up".into(),
                retry_after,
            },
            Refusal::AccountSuspended => DomainError::PaymentRequired {
                code: Code::AccountSuspended,
                detail: "the tenant has an invoice unpaid past its due date; metered calls \
                         resume once it is paid (the portal still works)"
                    .into(),
                spend: None,
            },
            Refusal::SpendCapReached(amounts) => DomainError::PaymentRequired {
                code: Code::SpendCapReached,
                detail: format!(
                    "this call would take the period's spend to {} {} minor units, past the \
                     spend cap of {}; a tenant admin can raise the cap",
                    amounts.would_be, amounts.currency, amounts.cap
                ),
                spend: Some(amounts),
            },
            Refusal::IdempotencyMismatch => DomainError::invalid(
                Code::IdempotencyKeyReused,
                "this Idempotency-Key was used for a different request",
            ),
            Refusal::IdempotencyInProgress { retry_after } => DomainError::InProgress {
                code: Code::IdempotencyInProgress,
                detail: "a request with this Idempotency-Key is being processed; retry after \
                         the time in Retry-After to get its answer"
                    .into(),
                retry_after,
            },
            Refusal::Unavailable => DomainError::Busy {
                code: Code::MeteringUnavailable,
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
    leases: Option<Arc<Leases>>,
    local_quota: LocalQuota,
    config: MeterConfig,
    concurrency: Concurrency,
    recorder: Recorder,
    limits: Mutex<HashMap<TenantId, (Instant, Arc<TenantLimits>)>>,
    /// Loads of limits running, per tenant and period.
    limit_loads: SingleFlight<(TenantId, Period), Result<Arc<TenantLimits>, MeterError>>,
    /// Thresholds already announced here (tenant, period, kind, level), so each costs the
    /// database one insert per process.
    announced: Mutex<std::collections::HashSet<(TenantId, String, &'static str, i32)>>,
    redis: Option<(tollgate_store::redis_conn::RedisConn, String)>,
}

impl std::fmt::Debug for Meter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Meter")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Meter {
    /// A meter over `store`, with Redis (shared limits and counters) when given.
    pub fn new(
        store: Store,
        redis: Option<(tollgate_store::redis_conn::RedisConn, String)>,
        recorder: Recorder,
        clock: Arc<dyn Clock>,
        config: MeterConfig,
    ) -> Self {
        let leases = redis
            .clone()
            .map(|(conn, prefix)| Arc::new(Leases::new(conn, store.clone(), &prefix)));
        if let (Some(leases), Ok(rt)) = (&leases, tokio::runtime::Handle::try_current()) {
            rt.spawn(sweep_leases(Arc::downgrade(leases)));
        }
        Self {
            limiter: Limiter::new(leases.clone(), config.redis_down, clock.clone()),
            local_quota: LocalQuota::new(store.clone()),
            leases,
            store,
            clock,
            config,
            concurrency: Concurrency::default(),
            recorder,
            limits: Mutex::new(HashMap::new()),
            limit_loads: SingleFlight::default(),
            announced: Mutex::new(std::collections::HashSet::new()),
            redis,
        }
    }

    /// Round trips to Redis this meter's admissions have made (0 without Redis).
    pub fn redis_round_trips(&self) -> u64 {
        self.leases.as_ref().map_or(0, |l| l.round_trips())
    }

    /// Whether limits and quotas currently go through Redis.
    pub fn using_redis(&self) -> bool {
        self.limiter.using_redis()
    }

    /// Whether metered calls can be admitted and recorded right now, for `/readyz`: the
    /// recorded usage can be summed (what seeds every quota counter), the recorder runs, and
    /// a fail-closed meter has its Redis.
    pub async fn ready(&self) -> Result<(), String> {
        let period = Period::of(self.clock.now()).key();
        self.store
            .usage_units(TenantId::PLATFORM, &period)
            .await
            .map_err(|e| format!("recorded usage cannot be summed: {e}"))?;
        if self.recorder.is_stopped() {
            return Err("the usage recorder has stopped".into());
        }
        if self.redis.is_some()
            && self.config.redis_down == RedisDownPolicy::FailClosed
            && !self.limiter.using_redis()
        {
            return Err("Redis is unreachable and metering fails closed".into());
        }
        Ok(())
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
        self.rate_check(caller, &limits, None).await
    }

    /// Charges the tenant's and the credential's buckets. A metered call's gate passes
    /// `quota` (its tenant's period and limit), so the same round trip to Redis tops up this
    /// instance's lease of the period's units for the admission that follows.
    async fn rate_check(
        &self,
        caller: &Caller,
        limits: &TenantLimits,
        quota: Option<QuotaAsk<'_>>,
    ) -> Result<Vec<PolicyState>, (Refusal, Vec<PolicyState>)> {
        // `{tenant}`: a hash tag, so both buckets (and the tenant's quota counter) share a
        // Redis Cluster slot and one script may touch them all. Built without `format!`:
        // this runs on every API call.
        let mut uuid = uuid::Uuid::encode_buffer();
        let tenant = caller.tenant.0.hyphenated().encode_lower(&mut uuid);
        let key = |parts: &[&str]| {
            let mut key = String::with_capacity(parts.iter().map(|p| p.len()).sum());
            parts.iter().for_each(|p| key.push_str(p));
            key
        };
        let buckets = [
            Bucket {
                name: "tenant",
                key: key(&["{", tenant, "}:t"]),
                limit: limits.tenant_limit(),
            },
            Bucket {
                name: caller.kind,
                key: key(&["{", tenant, "}:p:", &caller.id]),
                limit: limits.principal_limit(&caller.id),
            },
        ];
        let decisions = self
            .limiter
            .check_with(&buckets, quota)
            .await
            .map_err(|e| (Refusal::from(e), Vec::new()))?
            .decisions;
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

    async fn reserve(
        &self,
        tenant: TenantId,
        period: &str,
        units: i64,
        limit: i64,
        hard: bool,
    ) -> Result<(Counter, quota::Reserved), MeterError> {
        if let Some(leases) = &self.leases {
            if self.limiter.using_redis() {
                let ask = QuotaAsk {
                    tenant,
                    period,
                    units,
                    limit,
                    hard,
                };
                match leases.acquire(&[], Some(ask)).await {
                    Ok(lease::Acquired { quota: Some(r), .. }) => return Ok((Counter::Redis, r)),
                    Ok(_) => {
                        return Err(MeterError::Internal(
                            "a quota reservation came back without an answer".into(),
                        ))
                    }
                    Err(MeterError::Redis(e)) => {
                        tracing::warn!(error = %e, "quota: Redis unreachable, counting in-process");
                    }
                    // A database failure (seeding the counter) is no reason to count
                    // elsewhere: the in-process counter would need the same query.
                    Err(other) => return Err(other),
                }
            }
            if self.config.redis_down == RedisDownPolicy::FailClosed {
                return Err(MeterError::Redis(
                    "the quota counters' Redis is unreachable (fail-closed)".into(),
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

    /// Gives back `units` reserved at counter value `before`: at once, with no I/O (to this
    /// instance's lease of a Redis counter, or to the in-process counter).
    fn refund(&self, counter: Counter, tenant: TenantId, period: &str, before: i64, units: i64) {
        let result = match (counter, &self.leases) {
            (Counter::Redis, Some(leases)) => leases.refund(tenant, period, before, units),
            _ => self.local_quota.refund_now(tenant, period, units),
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, %units, "a quota refund was lost");
        }
    }
}

/// Returns what expired leases left unspent, every half lease lifetime, until the meter is
/// dropped.
async fn sweep_leases(leases: std::sync::Weak<Leases>) {
    let mut tick = tokio::time::interval(lease::LEASE_LIFETIME / 2);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(leases) = leases.upgrade() else {
            return;
        };
        // A failure is logged by the sweep; the next one tries what comes due then.
        let _ = leases.sweep().await;
    }
}
