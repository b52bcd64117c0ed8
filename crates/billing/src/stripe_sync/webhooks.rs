//! Inbound Stripe webhooks: the `Stripe-Signature` header (`t=<unix time>,v1=<hex>`, the
//! HMAC-SHA256 of `"<t>.<body>"` under the endpoint's secret) is checked in constant time
//! against every `v1` it lists, and `t` must be within the tolerance of now either way (a
//! delivery recorded and sent again later is refused). What passes is parsed into the few
//! fields Tollgate acts on; processing is idempotent by the event's id (see the billing
//! crate).

use chrono::{DateTime, Utc};

/// How far `t` may be from now (Stripe's libraries default to five minutes).
pub const TOLERANCE_SECS: i64 = 300;

/// The endpoint's signing secret (never printed).
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(pub String);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(***)")
    }
}

/// Why a delivery was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// No `Stripe-Signature` header, or no webhook secret is configured.
    #[error("the request is not signed")]
    Unsigned,
    /// The header does not parse.
    #[error("the Stripe-Signature header is malformed")]
    Malformed,
    /// No `v1` signature matches.
    #[error("no signature matches")]
    BadSignature,
    /// `t` is outside the tolerance (a replay, or a clock far off).
    #[error("the signature's timestamp is outside the tolerance")]
    Stale,
    /// Signed, but not an event Tollgate can read.
    #[error("the body is not a Stripe event")]
    NotAnEvent,
}

impl Refused {
    /// A stable reason, for the audit log.
    pub fn reason(self) -> &'static str {
        match self {
            Refused::Unsigned => "unsigned",
            Refused::Malformed => "malformed_signature",
            Refused::BadSignature => "bad_signature",
            Refused::Stale => "stale_timestamp",
            Refused::NotAnEvent => "not_an_event",
        }
    }
}

pub use crate::StripeEvent as Event;

/// The signature of `body` at `t` under `secret`, as Stripe writes it (hex).
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let mut ctx = ring::hmac::Context::with_key(&key);
    ctx.update(t.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    hex::encode(ctx.sign().as_ref())
}

/// Verifies a delivery (see the module documentation) and reads its event.
pub fn verify(
    secret: Option<&str>,
    header: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Event, Refused> {
    let (Some(secret), Some(header)) = (secret, header) else {
        return Err(Refused::Unsigned);
    };
    let mut t: Option<i64> = None;
    let mut v1: Vec<Vec<u8>> = Vec::new();
    for part in header.split(',') {
        let (k, v) = part.trim().split_once('=').ok_or(Refused::Malformed)?;
        match k {
            "t" if t.is_none() => t = Some(v.parse().map_err(|_| Refused::Malformed)?),
            "t" => return Err(Refused::Malformed),
            "v1" => v1.push(hex::decode(v).map_err(|_| Refused::Malformed)?),
            _ => {} // v0 and future schemes are ignored, as Stripe says
        }
    }
    let t = t.ok_or(Refused::Malformed)?;
    if v1.is_empty() {
        return Err(Refused::Unsigned);
    }
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let mut signed = t.to_string().into_bytes();
    signed.push(b'.');
    signed.extend_from_slice(body);
    if !v1
        .iter()
        .any(|sig| ring::hmac::verify(&key, &signed, sig).is_ok())
    {
        return Err(Refused::BadSignature);
    }
    if (now.timestamp() - t).abs() > TOLERANCE_SECS {
        return Err(Refused::Stale);
    }
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|_| Refused::NotAnEvent)?;
    let (Some(id), Some(kind)) = (v["id"].as_str(), v["type"].as_str()) else {
        return Err(Refused::NotAnEvent);
    };
    if id.is_empty() || id.len() > 255 || kind.len() > 255 {
        return Err(Refused::NotAnEvent);
    }
    let object = &v["data"]["object"];
    let is_invoice = object["object"].as_str() == Some("invoice");
    Ok(Event {
        id: id.to_owned(),
        kind: kind.to_owned(),
        stripe_invoice: is_invoice
            .then(|| object["id"].as_str().map(str::to_owned))
            .flatten(),
        tollgate_invoice: is_invoice
            .then(|| {
                object["metadata"]["tollgate_invoice_id"]
                    .as_str()
                    .and_then(|s| uuid::Uuid::parse_str(s).ok())
            })
            .flatten(),
        customer: is_invoice
            .then(|| object["customer"].as_str().map(str::to_owned))
            .flatten(),
        status: is_invoice
            .then(|| object["status"].as_str().map(str::to_owned))
            .flatten(),
        amount_paid: is_invoice
            .then(|| {
                Some((
                    object["amount_paid"].as_i64()?,
                    object["currency"].as_str()?.to_owned(),
                ))
            })
            .flatten(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test";

    fn body() -> Vec<u8> {
        br#"{"id":"evt_1","type":"invoice.paid","data":{"object":{"object":"invoice","id":"in_1","metadata":{"tollgate_invoice_id":"0192b6f4-4b8e-7c1a-9f00-000000000001"}}}}"#.to_vec()
    }

    #[test]
    fn a_signed_fresh_event_is_read() {
        let now = Utc::now();
        let t = now.timestamp();
        let header = format!("t={t},v1={}", sign(SECRET, t, &body()));
        let e = verify(Some(SECRET), Some(&header), &body(), now).unwrap();
        assert_eq!((e.id.as_str(), e.kind.as_str()), ("evt_1", "invoice.paid"));
        assert_eq!(e.stripe_invoice.as_deref(), Some("in_1"));
        assert!(e.tollgate_invoice.is_some());
        // Another v1 (a rolled secret) beside the right one still passes; v0 is ignored.
        let header = format!(
            "t={t},v0=00,v1={},v1={}",
            "ab".repeat(32),
            sign(SECRET, t, &body())
        );
        assert!(verify(Some(SECRET), Some(&header), &body(), now).is_ok());
    }

    #[test]
    fn forged_stale_and_unsigned_deliveries_are_refused() {
        let now = Utc::now();
        let t = now.timestamp();
        let good = sign(SECRET, t, &body());
        let mut tampered = body();
        tampered[10] ^= 1;
        // (secret configured, header, body, refusal)
        type Case<'a> = (Option<&'a str>, Option<String>, Vec<u8>, Refused);
        let cases: Vec<Case> = vec![
            (Some(SECRET), None, body(), Refused::Unsigned),
            (
                None,
                Some(format!("t={t},v1={good}")),
                body(),
                Refused::Unsigned,
            ),
            (
                Some(SECRET),
                Some(format!("t={t}")),
                body(),
                Refused::Unsigned,
            ),
            (
                Some(SECRET),
                Some(format!("v1={good}")),
                body(),
                Refused::Malformed,
            ),
            (
                Some(SECRET),
                Some(format!("t={t},t={t},v1={good}")),
                body(),
                Refused::Malformed,
            ),
            (
                Some(SECRET),
                Some(format!("t=x,v1={good}")),
                body(),
                Refused::Malformed,
            ),
            (
                Some(SECRET),
                Some(format!("t={t},v1=zz")),
                body(),
                Refused::Malformed,
            ),
            (
                Some(SECRET),
                Some(format!("t={t},v1={good}")),
                tampered,
                Refused::BadSignature,
            ),
            (
                Some("whsec_other"),
                Some(format!("t={t},v1={good}")),
                body(),
                Refused::BadSignature,
            ),
            // The signature covers t: moving it breaks the signature.
            (
                Some(SECRET),
                Some(format!("t={},v1={good}", t + 1)),
                body(),
                Refused::BadSignature,
            ),
        ];
        for (secret, header, body, want) in cases {
            assert_eq!(
                verify(secret, header.as_deref(), &body, now),
                Err(want),
                "{header:?}"
            );
        }
        // A genuine delivery replayed past the tolerance, or from the future.
        for skew in [TOLERANCE_SECS + 1, -(TOLERANCE_SECS + 1)] {
            let old = t - skew;
            let header = format!("t={old},v1={}", sign(SECRET, old, &body()));
            assert_eq!(
                verify(Some(SECRET), Some(&header), &body(), now),
                Err(Refused::Stale)
            );
        }
        // Signed garbage is not an event.
        let junk = b"not json".to_vec();
        let header = format!("t={t},v1={}", sign(SECRET, t, &junk));
        assert_eq!(
            verify(Some(SECRET), Some(&header), &junk, now),
            Err(Refused::NotAnEvent)
        );
    }
}
