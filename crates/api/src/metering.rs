//! Metering on the request path: API calls pass the rate limits of their tenant and
//! credential; metered calls are admitted (limits, concurrency, quota) and committed. What
//! the limits say goes back on the response as `RateLimit-Policy` and `RateLimit` headers
//! (draft-ietf-httpapi-ratelimit-headers), and charged units as `Tollgate-Units`.

use crate::problem::ApiResult;
use crate::state::AppState;
use poem::http::{HeaderName, HeaderValue};
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

/// Appends the `RateLimit-Policy` value for `states` to `policy` and the `RateLimit` value
/// to `state` (draft-ietf-httpapi-ratelimit-headers). On the response of every rate-limited
/// call, so written without the formatting machinery.
fn write_rate_headers(states: &[PolicyState], policy: &mut String, state: &mut String) {
    let mut num = itoa::Buffer::new();
    for (i, s) in states.iter().enumerate() {
        if i > 0 {
            policy.push_str(", ");
            state.push_str(", ");
        }
        for (out, (a, b)) in [
            (&mut *policy, (("q", u64::from(s.quota)), ("w", s.window))),
            (&mut *state, (("r", u64::from(s.remaining)), ("t", s.reset))),
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
}

// Names of the headers `apply` sets, made once: a name given as a `&str` is copied into a
// new allocation on every insert.
const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
const TOLLGATE_UNITS: HeaderName = HeaderName::from_static("tollgate-units");
const TOLLGATE_UNIT: HeaderName = HeaderName::from_static("tollgate-unit");
const TOLLGATE_UNITS_REMAINING: HeaderName = HeaderName::from_static("tollgate-units-remaining");

thread_local! {
    /// Where this thread writes the rate-limit header values before they are copied into
    /// the response: one allocation per header value, none to build it.
    static RATE_BUFFERS: RefCell<(String, String)> =
        RefCell::new((String::with_capacity(128), String::with_capacity(128)));
}

/// Adds the headers for `meta` to `resp`.
pub fn apply(resp: &mut Response, meta: &ResponseMeta) {
    let headers = resp.headers_mut();
    if !meta.rate.is_empty() {
        let values = RATE_BUFFERS.with(|buffers| {
            let mut own = Default::default();
            // Nothing here calls back into `apply`, but should anything ever: its own buffers.
            let mut shared = buffers.try_borrow_mut();
            let (policy, state): &mut (String, String) = match shared.as_deref_mut() {
                Ok(buffers) => buffers,
                Err(_) => &mut own,
            };
            policy.clear();
            state.clear();
            write_rate_headers(&meta.rate, policy, state);
            (HeaderValue::from_str(policy), HeaderValue::from_str(state))
        });
        if let (Ok(p), Ok(s)) = values {
            headers.insert(RATELIMIT_POLICY, p);
            headers.insert(RATELIMIT, s);
        }
    }
    if let Some((charged, left)) = meta.units {
        headers.insert(TOLLGATE_UNITS, HeaderValue::from(charged));
        headers.insert(TOLLGATE_UNIT, HeaderValue::from_static(UNIT));
        if let Some(left) = left {
            headers.insert(TOLLGATE_UNITS_REMAINING, HeaderValue::from(left));
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
        // Twice on one thread: the second response must not carry the first one's values.
        for remaining in [19, 18] {
            let mut resp = Response::default();
            let mut meta = ResponseMeta {
                rate: states.to_vec(),
                units: Some((3, Some(97))),
            };
            meta.rate[0].remaining = remaining;
            apply(&mut resp, &meta);
            let h = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok());
            assert_eq!(
                h("ratelimit-policy"),
                Some("\"tenant\";q=20;w=2, \"key\";q=5;w=1")
            );
            let state = format!("\"tenant\";r={remaining};t=1, \"key\";r=0;t=1");
            assert_eq!(h("ratelimit"), Some(state.as_str()));
            assert_eq!(h("tollgate-units"), Some("3"));
            assert_eq!(h("tollgate-unit"), Some(UNIT));
            assert_eq!(h("tollgate-units-remaining"), Some("97"));
        }
    }
}
