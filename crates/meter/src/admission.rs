//! Admission of a metered call and what follows it: rate limit, concurrency slot,
//! idempotency key, quota reservation — in that order, so a refused call holds nothing —
//! then either a commit (the usage event is durable before the caller answers 2xx) or a drop
//! that gives everything back.
//!
//! Usage events are named by the server (`evt_<uuid>`), never by anything the client sent: a
//! client's request id is for tracing only. A client's `Idempotency-Key` makes retries count
//! once through its own row (see [`crate::idempotency`]), completed in the same transaction as
//! the event.

use crate::idempotency::{HeldKey, KeyState, StoredAnswer};
use crate::{Caller, Counter, Meter, MeterError, PolicyState, Refusal, TenantLimits};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::OwnedSemaphorePermit;
use tollgate_core::plan::{Period, Plan};
use tollgate_core::TenantId;
use tollgate_store::usage::UsageEvent;

/// A metered request being admitted.
#[derive(Debug, Clone)]
pub struct Metered {
    /// Operation name (`ocr`).
    pub operation: &'static str,
    /// Units it costs.
    pub units: i64,
    /// The client's `Idempotency-Key` (already validated), if any. Keys are per tenant.
    pub idempotency_key: Option<String>,
    /// A digest of what makes two requests the same (the body, the operation), to tell a
    /// retry from another request under the same key. Required with a key.
    pub fingerprint: Option<String>,
    /// The longest the request may run (its deadline): how long its key is held for it.
    pub max_runtime: Duration,
}

/// The outcome of admitting a metered call.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "made once per request and matched at once: boxing would add an allocation"
)]
pub enum Admitted<'a> {
    /// Run the request, then commit or drop the admission.
    Run(Admission<'a>),
    /// A retry of a completed request: answer with what it answered; nothing is charged.
    Replay {
        /// The stored answer.
        answer: StoredAnswer,
        /// The rate-limit state for the response headers.
        rate: Vec<PolicyState>,
    },
}

/// The refusal and the rate-limit state to report with it.
type Refused = (Refusal, Vec<PolicyState>);

/// The first half of admission, which needs nothing of the request's body: the rate limits
/// were charged and one of the tenant's concurrent slots is held. Taken before an upload is
/// read, so a caller over its limits never gets the server to buffer its body.
pub struct Gate {
    tenant: TenantId,
    limits: Arc<TenantLimits>,
    rate: Vec<PolicyState>,
    permit: OwnedSemaphorePermit,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

impl Gate {
    /// The caller's plan, as the gate was taken under.
    pub fn plan(&self) -> &Plan {
        &self.limits.plan
    }

    /// The rate-limit state for the response headers.
    pub fn rate(&self) -> &[PolicyState] {
        &self.rate
    }
}

impl Meter {
    /// Rate limits and a concurrency slot (see [`Gate`]).
    pub async fn gate(&self, caller: &Caller) -> Result<Gate, Refused> {
        let limits = self
            .limits(caller.tenant)
            .await
            .map_err(|e| (Refusal::from(e), Vec::new()))?;
        if limits.suspended {
            return Err((Refusal::AccountSuspended, Vec::new()));
        }
        // The admission that follows reserves this period's units; ask Redis for a lease of
        // them in the same round trip as the rate limits.
        let period = Period::of(self.clock.now()).key();
        let limit = limits.unit_limit();
        let top_up = crate::QuotaAsk {
            tenant: caller.tenant,
            period: &period,
            units: 0,
            limit: limit.unwrap_or(limits.plan.monthly_units),
            hard: limit.is_some(),
        };
        let states = self.rate_check(caller, &limits, Some(top_up)).await?;
        let permit = self
            .concurrency
            .try_acquire(caller.tenant, limits.plan.max_concurrent)
            .ok_or_else(|| {
                (
                    Refusal::Concurrency {
                        max: limits.plan.max_concurrent,
                    },
                    states.clone(),
                )
            })?;
        Ok(Gate {
            tenant: caller.tenant,
            limits,
            rate: states,
            permit,
        })
    }

    /// Admits a metered call (see the module documentation).
    pub async fn admit(&self, caller: &Caller, req: Metered) -> Result<Admitted<'_>, Refused> {
        let gate = self.gate(caller).await?;
        self.admit_gated(caller, gate, req).await
    }

    /// Admits a metered call that already passed its [`Gate`] (taken for this caller).
    pub async fn admit_gated(
        &self,
        caller: &Caller,
        gate: Gate,
        req: Metered,
    ) -> Result<Admitted<'_>, Refused> {
        if gate.tenant != caller.tenant {
            return Err((
                Refusal::from(MeterError::Internal("a gate of another tenant".into())),
                Vec::new(),
            ));
        }
        let Gate {
            limits,
            rate: states,
            permit,
            ..
        } = gate;
        let refuse = |r: Refusal| (r, states.clone());
        let held = match &req.idempotency_key {
            None => None,
            Some(key) => {
                let fingerprint = req.fingerprint.as_deref().unwrap_or_default();
                match self
                    .claim_key(caller.tenant, key, fingerprint, req.max_runtime)
                    .await
                    .map_err(|e| refuse(e.into()))?
                {
                    KeyState::Held(held) => Some(held),
                    KeyState::Replay(answer) => {
                        return Ok(Admitted::Replay {
                            answer,
                            rate: states,
                        })
                    }
                    KeyState::InProgress { retry_after } => {
                        return Err(refuse(Refusal::IdempotencyInProgress { retry_after }))
                    }
                    KeyState::Mismatch => return Err(refuse(Refusal::IdempotencyMismatch)),
                }
            }
        };
        let now = self.clock.now();
        let period = Period::of(now);
        // Limits loaded in the last period (the gate ran just before it ended) price this
        // one's units with the old price: load them again.
        let limits = if limits.of == period {
            limits
        } else {
            match self.limits(caller.tenant).await {
                Ok(l) => l,
                Err(e) => {
                    let mut held = held;
                    if let Some(h) = held.take() {
                        self.release_key(caller.tenant, &h).await;
                    }
                    return Err(refuse(e.into()));
                }
            }
        };
        let mut admission = Admission {
            meter: self,
            caller: caller.clone(),
            period: period.key(),
            req,
            started: Instant::now(),
            at: now,
            reserved: None,
            held,
            committed: false,
            _permit: permit,
            rate: states.clone(),
            crossing: (0, 0, 0),
            limits: limits.clone(),
        };
        if admission.req.units > 0 {
            let plan = &limits.plan;
            // One atomic reservation enforces both the plan's hard cap and the tenant's
            // spend cap (as the unit count it allows at this period's price).
            let limit = limits.unit_limit();
            let reserved = self
                .reserve(
                    caller.tenant,
                    &admission.period,
                    admission.req.units,
                    limit.unwrap_or(plan.monthly_units),
                    limit.is_some(),
                )
                .await;
            let refusal = match reserved {
                Ok((counter, r)) if r.granted => {
                    admission.reserved = Some(counter);
                    admission.crossing = (r.before, r.after, plan.monthly_units);
                    None
                }
                Ok(r) => Some(match &limits.spend {
                    Some(spend) if limits.capped_by_spend() => {
                        Refusal::SpendCapReached(spend.refused(r.1.before, admission.req.units))
                    }
                    _ => Refusal::QuotaExhausted {
                        retry_after: (period.end() - now).num_seconds().max(1) as u64,
                    },
                }),
                Err(e) => Some(e.into()),
            };
            if let Some(refusal) = refusal {
                // Give the key back before answering, so the client's retry can run.
                admission.release_now().await;
                return Err(refuse(refusal));
            }
        }
        Ok(Admitted::Run(admission))
    }
}

/// An admitted metered call. Commit it after a success; drop it otherwise.
pub struct Admission<'a> {
    meter: &'a Meter,
    caller: Caller,
    req: Metered,
    /// The billing period's key (`YYYY-MM`).
    period: String,
    started: Instant,
    at: DateTime<Utc>,
    reserved: Option<Counter>,
    held: Option<HeldKey>,
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
            .field("tenant", &self.caller.tenant)
            .field("operation", &self.req.operation)
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

    /// Units this call is charged once committed.
    pub fn units_charged(&self) -> i64 {
        if self.reserved.is_some() {
            self.req.units
        } else {
            0
        }
    }

    /// Units left in the period after this call.
    pub fn quota_left(&self) -> Option<i64> {
        let (_, after, limit) = self.crossing;
        self.reserved.map(|_| limit - after)
    }

    /// Whether the call holds an idempotency key, so its answer is stored with its usage
    /// (pass it to [`commit`](Self::commit)).
    pub fn stores_answer(&self) -> bool {
        self.held.is_some()
    }

    /// Records the call's usage event durably (the caller answers 2xx only after this). With
    /// an idempotency key, `answer` (the body about to be sent) is stored with the event, in
    /// one transaction, for retries to get back.
    pub async fn commit(mut self, status: u16, answer: Option<&str>) -> Result<(), MeterError> {
        let latency = i32::try_from(self.started.elapsed().as_millis()).unwrap_or(i32::MAX);
        let event = UsageEvent {
            tenant_id: self.caller.tenant.0,
            event_id: format!("evt_{}", uuid::Uuid::now_v7().simple()),
            principal_kind: self.caller.kind.to_owned(),
            principal_id: self.caller.id.to_string(),
            operation: self.req.operation.to_owned(),
            units: self.units_charged(),
            status: i32::from(status),
            latency_ms: latency,
            fingerprint: self.req.fingerprint.clone(),
            period: self.period.clone(),
            hour_epoch: self.at.timestamp() - self.at.timestamp().rem_euclid(3600),
            created_at: self.at,
        };
        // From here the event may be written even if this future is dropped (a client gone
        // mid-commit): the units count as used, never refunded, unless the write is known to
        // have failed (not when its outcome is unknown). A dropped commit can only over-count
        // by its own units.
        self.committed = true;
        let result = self.record(event, status, answer).await;
        if result
            .as_ref()
            .is_err_and(|e| !matches!(e, MeterError::UsageOutcomeUnknown))
        {
            self.committed = false;
        }
        result?;
        // Thresholds are announced for units actually used, not for reservations that might
        // still be refunded: every threshold this call's position in the period's counter
        // has reached (each once: the meter and the database dedupe). Reached, not crossed
        // by this very call: with leases, the positions a returned lease held are handed out
        // again out of order, so the call that crosses a mark may never run.
        let (_, after, _) = self.crossing;
        self.meter
            .announce_crossings(self.caller.tenant, &self.period, &self.limits, 0, after)
            .await;
        Ok(())
    }

    /// Writes the usage event (with the stored answer, under an idempotency key).
    async fn record(
        &mut self,
        event: UsageEvent,
        status: u16,
        answer: Option<&str>,
    ) -> Result<(), MeterError> {
        match &self.held {
            Some(held) => {
                let completed = self
                    .meter
                    .store
                    .complete_idempotent(
                        &held.key,
                        &held.claim,
                        event,
                        status,
                        answer.unwrap_or_default(),
                    )
                    .await?;
                if !completed {
                    // Taken over after our lease ran out: the other holder's answer counts.
                    self.held = None;
                    return Err(MeterError::IdempotencyKeyLost);
                }
                self.held = None;
            }
            None => {
                if !self.meter.recorder.record(event).await? {
                    return Err(MeterError::Internal(
                        "a server-generated usage event id was already recorded".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Gives everything back now, for a call that failed: the units are refunded and the
    /// idempotency key is released before the caller answers, so an immediate retry runs
    /// (dropping the admission does the same, but in the background).
    pub async fn abandon(mut self) {
        self.release_now().await;
    }

    /// Gives the reserved units back (at once, with no I/O), if any are still held.
    fn refund_reserved(&mut self) {
        if let Some(counter) = self.reserved.take() {
            self.meter.refund(
                counter,
                self.caller.tenant,
                &self.period,
                self.crossing.0,
                self.req.units,
            );
        }
    }

    /// Refunds the reservation and releases the key now (a refusal after the key was held).
    async fn release_now(&mut self) {
        self.refund_reserved();
        if let Some(held) = self.held.take() {
            self.meter.release_key(self.caller.tenant, &held).await;
        }
    }
}

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        // Not committed: a failure, a timeout or a client gone. Give everything back (the
        // units at once, with no I/O; the key in the background).
        self.refund_reserved();
        if let Some(held) = self.held.take() {
            self.meter.release_key_later(self.caller.tenant, held);
        }
    }
}
