//! Metering on the request path: API calls pass the rate limits of their tenant and
//! credential; metered calls are admitted (limits, concurrency, quota) and committed. What
//! the limits say goes back on the response as `RateLimit-Policy` and `RateLimit` headers
//! (draft-ietf-httpapi-ratelimit-headers), and charged units as `Tollgate-Units`.

use crate::problem::ApiResult;
use crate::state::AppState;
use poem::http::HeaderValue;
use poem::Response;
use std::cell::RefCell;
use tollgate_auth::Principal;
use tollgate_core::Code;
use tollgate_core::DomainError;
use tollgate_meter::{Admission, Admitted, Caller, Gate, MeterError, Metered, PolicyState, UNIT};
use tracing::Instrument;

tokio::task_local! {
    /// What the current request's metering decided, for the response headers.
    pub static RESPONSE_META: RefCell<ResponseMeta>;
}

/// Metering facts to put on the response.
#[derive(Debug, Default, Clone)]
pub struct ResponseMeta {
    /// Rate-limit policies and their state.
    pub rate: Vec<PolicyState>,
    /// Units charged and units left in the period.
    pub units: Option<(i64, Option<i64>)>,
}

fn note(f: impl FnOnce(&mut ResponseMeta)) {
    let _ = RESPONSE_META.try_with(|m| f(&mut m.borrow_mut()));
}

/// Records units charged by this request (and what is left of the period).
pub fn note_units(charged: i64, left: Option<i64>) {
    note(|m| m.units = Some((charged, left)));
}

/// The `RateLimit-Policy` and `RateLimit` header values for `states`. On the response of
/// every rate-limited call, so written without the formatting machinery.
pub fn rate_headers(states: &[PolicyState]) -> (String, String) {
    let (mut policy, mut state) = (String::with_capacity(64), String::with_capacity(64));
    let mut num = itoa::Buffer::new();
    for (i, s) in states.iter().enumerate() {
        if i > 0 {
            policy.push_str(", ");
            state.push_str(", ");
        }
        for (out, (a, b)) in [
            (&mut policy, (("q", u64::from(s.quota)), ("w", s.window))),
            (&mut state, (("r", u64::from(s.remaining)), ("t", s.reset))),
        ] {
            out.push('"');
            out.push_str(s.name);
            out.push('"');
            for (param, value) in [a, b] {
                out.push(';');
                out.push_str(param);
                out.push('=');
                out.push_str(num.format(value));
            }
        }
    }
    (policy, state)
}

/// Adds the headers for `meta` to `resp`.
pub fn apply(resp: &mut Response, meta: &ResponseMeta) {
    let headers = resp.headers_mut();
    if !meta.rate.is_empty() {
        let (policy, state) = rate_headers(&meta.rate);
        if let (Ok(p), Ok(s)) = (HeaderValue::try_from(policy), HeaderValue::try_from(state)) {
            headers.insert("ratelimit-policy", p);
            headers.insert("ratelimit", s);
        }
    }
    if let Some((charged, left)) = meta.units {
        headers.insert("tollgate-units", HeaderValue::from(charged));
        headers.insert("tollgate-unit", HeaderValue::from_static(UNIT));
        if let Some(left) = left {
            headers.insert("tollgate-units-remaining", HeaderValue::from(left));
        }
    }
}

/// The meter's view of a principal.
pub fn caller(p: &Principal) -> Caller {
    Caller {
        tenant: p.tenant_id,
        kind: p.kind.as_str(),
        id: p.id.clone(),
    }
}

impl AppState {
    /// Applies the caller's rate limits (tenant and credential buckets).
    pub async fn throttle(&self, p: &Principal) -> ApiResult<()> {
        match self.meter.throttle(&caller(p)).await {
            Ok(states) => {
                note(|m| m.rate = states);
                Ok(())
            }
            Err((refusal, states)) => {
                note(|m| m.rate = states);
                Err(DomainError::from(refusal).into())
            }
        }
    }

    /// The part of admission that needs no body: rate limits and a concurrency slot.
    pub async fn gate(&self, p: &Principal) -> ApiResult<Gate> {
        let gated = self
            .meter
            .gate(&caller(p))
            .instrument(tracing::info_span!(target: tollgate_core::STAGE_SPAN_TARGET, "throttle"))
            .await;
        match gated {
            Ok(gate) => {
                let rate = gate.rate().to_vec();
                note(|m| m.rate = rate);
                Ok(gate)
            }
            Err((refusal, states)) => {
                note(|m| m.rate = states);
                Err(DomainError::from(refusal).into())
            }
        }
    }

    /// Admits a metered call: rate limits and the tenant's concurrency cap (or the `gate`
    /// already taken for it), then idempotency and quota.
    pub async fn admit(
        &self,
        p: &Principal,
        gate: Option<Gate>,
        req: Metered,
    ) -> ApiResult<Admitted<'_>> {
        let span = tracing::info_span!(target: tollgate_core::STAGE_SPAN_TARGET, "admit");
        let admitted = match gate {
            Some(gate) => {
                self.meter
                    .admit_gated(&caller(p), gate, req)
                    .instrument(span)
                    .await
            }
            None => self.meter.admit(&caller(p), req).instrument(span).await,
        };
        match admitted {
            Ok(a) => {
                let rate = match &a {
                    Admitted::Run(a) => a.rate().to_vec(),
                    Admitted::Replay { rate, .. } => rate.clone(),
                };
                note(|m| m.rate = rate);
                if matches!(a, Admitted::Replay { .. }) {
                    note_units(0, None);
                }
                Ok(a)
            }
            Err((refusal, states)) => {
                note(|m| m.rate = states);
                Err(DomainError::from(refusal).into())
            }
        }
    }

    /// Commits an admitted call after its success (with the answer about to be sent, when the
    /// call holds an idempotency key); a failure to record is an error answer, never a
    /// success the usage table does not know about.
    pub async fn commit(
        &self,
        admission: Admission<'_>,
        status: u16,
        answer: Option<&str>,
    ) -> ApiResult<()> {
        let (charged, left) = (admission.units_charged(), admission.quota_left());
        admission
            .commit(status, answer)
            .instrument(
                tracing::info_span!(target: tollgate_core::STAGE_SPAN_TARGET, "usage.commit", units = charged),
            )
            .await
            .map_err(|e| match e {
                MeterError::IdempotencyKeyLost => DomainError::InProgress {
                    code: Code::IdempotencyInProgress,
                    detail: "a retry with this Idempotency-Key took over; retry to get its answer"
                        .into(),
                    retry_after: 1,
                },
                MeterError::UsageOutcomeUnknown => {
                    tracing::warn!("the usage event's outcome is unknown; answering 503");
                    DomainError::Busy {
                        code: Code::UsageUnavailable,
                        detail: "the database connection failed while usage was being recorded, \
                                 so this call may have been charged; retry"
                            .into(),
                        retry_after: 1,
                    }
                }
                other => {
                    tracing::warn!(error = %other, "usage could not be recorded; answering 503");
                    DomainError::Busy {
                        code: Code::UsageUnavailable,
                        detail: "usage could not be recorded, so nothing was charged; retry".into(),
                        retry_after: 1,
                    }
                }
            })?;
        note_units(charged, left);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_follow_the_draft() {
        let states = [
            PolicyState {
                name: "tenant",
                quota: 20,
                window: 2,
                remaining: 19,
                reset: 1,
            },
            PolicyState {
                name: "key",
                quota: 5,
                window: 1,
                remaining: 0,
                reset: 1,
            },
        ];
        let (policy, state) = rate_headers(&states);
        assert_eq!(policy, "\"tenant\";q=20;w=2, \"key\";q=5;w=1");
        assert_eq!(state, "\"tenant\";r=19;t=1, \"key\";r=0;t=1");
    }
}
