//! Plans and the arithmetic of metering: rate limits (GCRA), billing periods, quota
//! thresholds. Pure functions of their inputs; the limiters and counters that store state
//! live in `tollgate-meter`.

use crate::DomainError;
use chrono::{DateTime, Datelike, TimeZone, Utc};

/// What a plan allows a tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Plan name (unique).
    pub name: String,
    /// Sustained requests per second.
    pub rate: f64,
    /// Requests that may arrive at once on top of the sustained rate (bucket size).
    pub burst: u32,
    /// Requests of the tenant in flight at once.
    pub max_concurrent: u32,
    /// Units (pages) included per calendar month.
    pub monthly_units: i64,
    /// Past the included units: `true` keeps serving and counts overage, `false` refuses.
    pub overage: bool,
    /// Largest image, in bytes.
    pub max_image_bytes: u64,
    /// Largest image, in pixels.
    pub max_pixels: u64,
    /// Most pages of one PDF (each a unit); a longer one is refused before anything runs.
    pub max_pdf_pages: u32,
    /// Days the tenants' audit events are kept; `None` keeps them forever. Older events are
    /// dropped behind a signed checkpoint, so the rest of the chain still verifies.
    pub audit_retention_days: Option<u32>,
}

impl Plan {
    /// The plan of tenants that were never given one: modest limits, hard cap.
    pub fn default_plan() -> Self {
        Self {
            name: "default".into(),
            rate: 10.0,
            burst: 20,
            max_concurrent: 4,
            monthly_units: 1000,
            overage: false,
            max_image_bytes: 20 * 1024 * 1024,
            max_pixels: 40_000_000,
            max_pdf_pages: 50,
            audit_retention_days: None,
        }
    }

    /// Checks that the numbers make sense.
    pub fn validate(&self) -> Result<(), crate::DomainError> {
        let bad = |what: &str| {
            Err(crate::DomainError::invalid(
                crate::Code::InvalidPlan,
                what.to_owned(),
            ))
        };
        if self.name.trim().is_empty() || self.name.len() > 64 {
            return bad("the plan name must have 1 to 64 characters");
        }
        if !(self.rate.is_finite() && self.rate > 0.0 && self.rate <= 1e6) {
            return bad("rate must be above 0 and at most 1000000 per second");
        }
        if self.burst == 0 || self.max_concurrent == 0 {
            return bad("burst and max concurrent must be at least 1");
        }
        if self.monthly_units < 0 {
            return bad("monthly units cannot be negative");
        }
        if self.max_image_bytes == 0 || self.max_pixels == 0 {
            return bad("image limits must be above 0");
        }
        if !(1..=MAX_PDF_PAGES).contains(&self.max_pdf_pages) {
            return bad("max PDF pages must be 1 to 1000");
        }
        if self
            .audit_retention_days
            .is_some_and(|d| !(1..=MAX_AUDIT_RETENTION_DAYS).contains(&d))
        {
            return bad("audit retention must be 1 to 36500 days (omit it to keep events forever)");
        }
        Ok(())
    }
}

/// The most pages a plan may allow in one PDF.
pub const MAX_PDF_PAGES: u32 = 1000;

/// The longest audit retention a plan may set (100 years): longer is "forever", said by omitting it.
pub const MAX_AUDIT_RETENTION_DAYS: u32 = 36_500;

/// Rate-limit settings of one bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Sustained requests per second.
    pub rate: f64,
    /// Bucket size.
    pub burst: u32,
}

impl RateLimit {
    /// Milliseconds between requests at the sustained rate (GCRA's emission interval).
    pub fn interval_ms(&self) -> f64 {
        1000.0 / self.rate
    }

    /// The tighter of two limits, setting by setting: an override can only tighten.
    pub fn tightened(self, other: Option<RateLimit>) -> RateLimit {
        match other {
            Some(o) => RateLimit {
                rate: self.rate.min(o.rate),
                burst: self.burst.min(o.burst),
            },
            None => self,
        }
    }

    /// Seconds for an empty bucket to fill again (the policy's window).
    pub fn window_secs(&self) -> u64 {
        (f64::from(self.burst) / self.rate).ceil().max(1.0) as u64
    }
}

/// A GCRA decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GcraDecision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// The bucket's theoretical arrival time to store (unchanged when refused), ms.
    pub tat_ms: f64,
    /// Requests that could still arrive now.
    pub remaining: u32,
    /// Milliseconds until one more request would be allowed (0 when allowed).
    pub retry_after_ms: f64,
    /// Milliseconds until the bucket is full again.
    pub reset_ms: f64,
}

/// The generic cell rate algorithm: with emission interval `T` and bucket `burst`, a request
/// at `now` is allowed when `max(tat, now) + T - now <= burst * T`; then `tat` advances by
/// `T`. `tat` is `None` for a bucket never used (or expired). Under one limit `tat` is never
/// more than `burst * T` ahead of `now`; a `tat` further ahead was left by another plan, and
/// counts as a bucket with one request left, so a changed plan applies from the next request.
pub fn gcra(tat_ms: Option<f64>, now_ms: f64, limit: RateLimit) -> GcraDecision {
    let t = limit.interval_ms();
    let capacity = f64::from(limit.burst) * t;
    let tat = match tat_ms {
        None => now_ms,
        Some(v) if v > now_ms + capacity => now_ms + capacity - t,
        Some(v) => v.max(now_ms),
    };
    let next = tat + t;
    let remaining =
        |tat_after: f64| ((capacity - (tat_after - now_ms)) / t).floor().max(0.0) as u32;
    if next - now_ms <= capacity + 1e-6 {
        GcraDecision {
            allowed: true,
            tat_ms: next,
            remaining: remaining(next),
            retry_after_ms: 0.0,
            reset_ms: next - now_ms,
        }
    } else {
        GcraDecision {
            allowed: false,
            tat_ms: tat,
            remaining: 0,
            retry_after_ms: next - now_ms - capacity,
            reset_ms: tat - now_ms,
        }
    }
}

/// A billing period: a calendar month in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    /// Year.
    pub year: i32,
    /// Month, 1–12.
    pub month: u32,
}

impl Period {
    /// The period `at` falls in.
    pub fn of(at: DateTime<Utc>) -> Self {
        Self {
            year: at.year(),
            month: at.month(),
        }
    }

    /// First instant of the period.
    pub fn start(&self) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(self.year, self.month, 1, 0, 0, 0)
            .single()
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// First instant of the next period.
    pub fn end(&self) -> DateTime<Utc> {
        let (y, m) = if self.month == 12 {
            (self.year + 1, 1)
        } else {
            (self.year, self.month + 1)
        };
        Period { year: y, month: m }.start()
    }

    /// `2026-11`. Keys of periods sort as the periods do.
    pub fn key(&self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    /// The period after this one.
    pub fn next(&self) -> Self {
        Self::of(self.end())
    }

    /// The period before this one.
    pub fn prev(&self) -> Self {
        Self::of(self.start() - chrono::Duration::seconds(1))
    }

    /// Parses a key, exactly as [`key`](Self::key) writes it (`2026-11`): a sign, a space
    /// or another spelling of the same month is refused, not normalized.
    pub fn parse(key: &str) -> Result<Self, DomainError> {
        let bad = || DomainError::invalid(crate::Code::InvalidRange, "a period is YYYY-MM");
        let (y, m) = key.split_once('-').ok_or_else(bad)?;
        let (year, month) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if y.len() != 4 || m.len() != 2 || !(1..=12).contains(&month) {
            return Err(bad());
        }
        let p = Self { year, month };
        if p.key() != key {
            return Err(bad());
        }
        Ok(p)
    }
}

#[cfg(test)]
mod period_tests {
    use super::Period;

    #[test]
    fn periods_parse_order_and_follow() {
        let nov = Period::parse("2026-11").unwrap();
        assert_eq!(nov.next().key(), "2026-12");
        assert_eq!(nov.next().next().key(), "2027-01");
        assert!(Period::parse("2026-1").is_err() && Period::parse("2026-13").is_err());
        assert!(Period::parse("26-11").is_err() && Period::parse("nonsense").is_err());
        for smuggled in [
            "+026-11", "2026-+1", "2026-11 ", " 2026-11", "2026-011", "2026-00",
        ] {
            assert!(Period::parse(smuggled).is_err(), "{smuggled:?}");
        }
        assert!(nov.key() < nov.next().key());
    }
}

/// Quota thresholds that are announced (audit events, later webhooks), in percent.
pub const THRESHOLDS: [u32; 3] = [50, 80, 100];

/// The thresholds crossed when usage goes from `before` to `after` units of `limit`.
pub fn thresholds_crossed(before: i64, after: i64, limit: i64) -> Vec<u32> {
    if limit <= 0 {
        return Vec::new();
    }
    THRESHOLDS
        .iter()
        .copied()
        .filter(|p| {
            let mark = (i128::from(limit) * i128::from(*p) + 99) / 100;
            i128::from(before) < mark && i128::from(after) >= mark
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: RateLimit = RateLimit {
        rate: 10.0,
        burst: 3,
    };

    #[test]
    fn gcra_allows_the_burst_then_the_rate() {
        let mut tat = None;
        for i in 0..3 {
            let d = gcra(tat, 0.0, L);
            assert!(d.allowed, "request {i}");
            assert_eq!(d.remaining, 2 - i);
            tat = Some(d.tat_ms);
        }
        let refused = gcra(tat, 0.0, L);
        assert!(!refused.allowed);
        assert!((refused.retry_after_ms - 100.0).abs() < 1e-6);
        assert_eq!(refused.tat_ms, tat.unwrap());
        // One interval later exactly one more fits.
        assert!(gcra(tat, 100.0, L).allowed);
        assert!(!gcra(Some(gcra(tat, 100.0, L).tat_ms), 100.0, L).allowed);
    }

    #[test]
    fn a_looser_limit_applies_at_once() {
        // A tight limit (1 per 100 s) left its bucket 100 s ahead…
        let tight = RateLimit {
            rate: 0.01,
            burst: 1,
        };
        let tat = gcra(None, 0.0, tight).tat_ms;
        assert!(!gcra(Some(tat), 1.0, tight).allowed);
        // …a plan of 1000/s lets the next request through a few ms later.
        let loose = RateLimit {
            rate: 1000.0,
            burst: 1000,
        };
        assert!(gcra(Some(tat), 5.0, loose).allowed);
    }

    #[test]
    fn overrides_only_tighten() {
        let tight = RateLimit {
            rate: 1.0,
            burst: 50,
        };
        assert_eq!(
            L.tightened(Some(tight)),
            RateLimit {
                rate: 1.0,
                burst: 3
            }
        );
        assert_eq!(L.tightened(None), L);
    }

    #[test]
    fn periods_and_thresholds() {
        let at = Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59).unwrap();
        let p = Period::of(at);
        assert_eq!(p.key(), "2026-12");
        assert_eq!(p.end(), Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap());
        assert_eq!(thresholds_crossed(4, 5, 10), vec![50]);
        assert_eq!(thresholds_crossed(0, 10, 10), vec![50, 80, 100]);
        assert_eq!(thresholds_crossed(10, 11, 10), Vec::<u32>::new());
        assert_eq!(thresholds_crossed(7, 8, 10), vec![80]);
    }
}
