//! Audit rows on behalf of anonymous callers, bounded. A failed sign-in or client
//! authentication names a tenant's account, so without a bound an attacker could write a
//! victim tenant's audit chain at will. Two rules keep it bounded and lose nothing:
//!
//! - A *throttled* attempt (refused by backoff before any password check) is never a row of
//!   its own: attempts are counted per account, and each backoff window becomes one row with
//!   the count, written when the window has ended (or when the server stops).
//! - A *checked* failure is written at once while its chain's budget lasts (a token bucket per
//!   chain); past it, failures are counted the same way, one row per account per minute.

use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use tollgate_core::{Clock, TenantId};
use tollgate_store::audit::NewAuditEvent;

/// Budget of immediate anonymous rows per chain: this many at once...
const BURST: f64 = 60.0;
/// ...refilled at this many per second.
const REFILL_PER_SEC: f64 = 1.0;
/// Counted failures of one account become one row per this long.
const COUNT_WINDOW: Duration = Duration::seconds(60);
/// Addresses remembered per counted window.
const MAX_ADDRESSES: usize = 16;
/// Windows kept at once; past this, further attempts are folded into one overflow window.
const MAX_WINDOWS: usize = 10_000;

/// What a counted window is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Subject {
    /// The tenant whose chain gets the row (`None`: the platform chain).
    pub tenant: Option<TenantId>,
    /// The audit action (`login`, `token.refused`).
    pub action: &'static str,
    /// The account or client concerned, if known.
    pub target: Option<String>,
    /// `throttled`, `bad_credentials`, `invalid_secret`, `unknown_client`.
    pub reason: &'static str,
}

#[derive(Debug)]
struct Window {
    first_at: DateTime<Utc>,
    last_at: DateTime<Utc>,
    until: DateTime<Utc>,
    attempts: u64,
    addresses: BTreeSet<String>,
}

#[derive(Debug, Default)]
struct State {
    /// Per chain: tokens left and when they were counted.
    budgets: HashMap<String, (f64, DateTime<Utc>)>,
    windows: HashMap<Subject, Window>,
    /// Windows that were replaced by a newer one before being written.
    ended: Vec<(Subject, Window)>,
}

/// The counter of anonymous audit rows.
#[derive(Debug)]
pub struct AnonymousAudit {
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

fn chain(tenant: Option<TenantId>) -> String {
    tenant.map_or_else(|| "platform".to_owned(), |t| t.to_string())
}

impl AnonymousAudit {
    /// An empty counter.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            state: Mutex::new(State::default()),
        }
    }

    /// Counts a throttled attempt into the window of its subject, which lasts at least until
    /// the backoff ends (`retry_after` seconds from now).
    pub fn throttled(&self, subject: Subject, ip: Option<&str>, retry_after: u64) {
        let now = self.clock.now();
        let until = now + Duration::seconds(i64::try_from(retry_after).unwrap_or(i64::MAX / 2));
        self.count(subject, ip, now, until);
    }

    /// A checked failure: `true` when it may be written now (the chain's budget allows);
    /// otherwise it has been counted and will be written with its window.
    pub fn failure(&self, subject: Subject, ip: Option<&str>) -> bool {
        let now = self.clock.now();
        let allowed = self.state.lock().is_ok_and(|mut state| {
            let (tokens, at) = state
                .budgets
                .entry(chain(subject.tenant))
                .or_insert((BURST, now));
            let elapsed = (now - *at).num_milliseconds().max(0) as f64 / 1000.0;
            *tokens = (*tokens + elapsed * REFILL_PER_SEC).min(BURST);
            *at = now;
            if *tokens >= 1.0 {
                *tokens -= 1.0;
                true
            } else {
                false
            }
        });
        if !allowed {
            self.count(subject, ip, now, now + COUNT_WINDOW);
        }
        allowed
    }

    fn count(&self, subject: Subject, ip: Option<&str>, now: DateTime<Utc>, until: DateTime<Utc>) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let subject = if state.windows.len() >= MAX_WINDOWS && !state.windows.contains_key(&subject)
        {
            Subject {
                tenant: None,
                action: subject.action,
                target: None,
                reason: "overflow",
            }
        } else {
            subject
        };
        if let Some(w) = state.windows.get(&subject) {
            if w.until <= now {
                if let Some(old) = state.windows.remove(&subject) {
                    state.ended.push((subject.clone(), old));
                }
            }
        }
        let w = state.windows.entry(subject).or_insert_with(|| Window {
            first_at: now,
            last_at: now,
            until,
            attempts: 0,
            addresses: BTreeSet::new(),
        });
        w.attempts += 1;
        w.last_at = now;
        w.until = w.until.max(until);
        if let Some(ip) = ip {
            if w.addresses.len() < MAX_ADDRESSES {
                w.addresses.insert(ip.to_owned());
            }
        }
    }

    /// The rows of windows that have ended (all of them with `all`, at shutdown), taken out.
    pub fn due(&self, all: bool) -> Vec<NewAuditEvent> {
        let now = self.clock.now();
        let Ok(mut state) = self.state.lock() else {
            return Vec::new();
        };
        let mut out: Vec<(Subject, Window)> = std::mem::take(&mut state.ended);
        let ended: Vec<Subject> = state
            .windows
            .iter()
            .filter(|(_, w)| all || w.until <= now)
            .map(|(s, _)| s.clone())
            .collect();
        for s in ended {
            if let Some(w) = state.windows.remove(&s) {
                out.push((s, w));
            }
        }
        state
            .budgets
            .retain(|_, (tokens, at)| *tokens < BURST && now - *at < Duration::minutes(5));
        out.into_iter()
            .map(|(s, w)| NewAuditEvent {
                tenant: s.tenant,
                actor: "anonymous".into(),
                action: s.action,
                target: s.target,
                ip: w.addresses.iter().next().cloned(),
                user_agent: None,
                outcome: "failure",
                detail: serde_json::json!({
                    "reason": s.reason,
                    "attempts": w.attempts,
                    "first_at": w.first_at,
                    "last_at": w.last_at,
                    "addresses": w.addresses,
                }),
                at: w.last_at,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_core::ManualClock;

    fn subject(reason: &'static str) -> Subject {
        Subject {
            tenant: Some(TenantId::new()),
            action: "login",
            target: Some("admin:x".into()),
            reason,
        }
    }

    #[test]
    fn throttled_attempts_become_one_row_per_window() {
        let clock = ManualClock::new(Utc::now());
        let gate = AnonymousAudit::new(Arc::new(clock.clone()));
        let s = subject("throttled");
        for _ in 0..500 {
            gate.throttled(s.clone(), Some("10.0.0.1"), 4);
        }
        assert!(gate.due(false).is_empty(), "the window is still open");
        clock.advance(Duration::seconds(5));
        gate.throttled(s.clone(), Some("10.0.0.2"), 8);
        let rows = gate.due(false);
        assert_eq!(rows.len(), 1, "the first window ended");
        assert_eq!(rows[0].detail["attempts"], 500);
        assert_eq!(rows[0].detail["addresses"], serde_json::json!(["10.0.0.1"]));
        let rest = gate.due(true);
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].detail["attempts"], 1);
    }

    #[test]
    fn checked_failures_are_written_within_the_budget_then_counted() {
        let clock = ManualClock::new(Utc::now());
        let gate = AnonymousAudit::new(Arc::new(clock.clone()));
        let s = subject("bad_credentials");
        let written = (0..100).filter(|_| gate.failure(s.clone(), None)).count();
        assert_eq!(written, BURST as usize);
        clock.advance(Duration::seconds(61));
        let rows = gate.due(false);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].detail["attempts"], 100 - BURST as u64);
        assert!(gate.failure(s, None), "the budget refilled");
    }
}
