//! Tenant webhook event types: the closed set a tenant's endpoint subscribes to, parsed item
//! by item like scopes (exact names, none twice), and which audited action each one reports.

use crate::{Code, DomainError};

/// An event a tenant's program can hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventType {
    /// The period's units crossed 50, 80 or 100 % of the plan's included units.
    UsageThresholdCrossed,
    /// The period's spend crossed 50, 80 or 100 % of the tenant's spend cap.
    SpendThresholdCrossed,
    /// The prepaid credit left fell below the tenant's alert amount.
    CreditLow,
    /// An invoice was finalized.
    InvoiceFinalized,
    /// An invoice was paid.
    InvoicePaid,
    /// A payment of an invoice failed.
    InvoicePaymentFailed,
    /// The tenant's metered API was suspended for an unpaid invoice.
    AccountSuspended,
    /// An API key expires within 7 days.
    ApiKeyExpiring,
    /// An API key was revoked.
    ApiKeyRevoked,
    /// An OAuth2 client's secret was rotated.
    ClientSecretRotated,
}

impl EventType {
    /// Every event type.
    pub const ALL: [EventType; 10] = [
        EventType::UsageThresholdCrossed,
        EventType::SpendThresholdCrossed,
        EventType::CreditLow,
        EventType::InvoiceFinalized,
        EventType::InvoicePaid,
        EventType::InvoicePaymentFailed,
        EventType::AccountSuspended,
        EventType::ApiKeyExpiring,
        EventType::ApiKeyRevoked,
        EventType::ClientSecretRotated,
    ];

    /// The wire name, e.g. `invoice.finalized`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::UsageThresholdCrossed => "usage.threshold_crossed",
            EventType::SpendThresholdCrossed => "spend.threshold_crossed",
            EventType::CreditLow => "credit.low",
            EventType::InvoiceFinalized => "invoice.finalized",
            EventType::InvoicePaid => "invoice.paid",
            EventType::InvoicePaymentFailed => "invoice.payment_failed",
            EventType::AccountSuspended => "account.suspended",
            EventType::ApiKeyExpiring => "api_key.expiring",
            EventType::ApiKeyRevoked => "api_key.revoked",
            EventType::ClientSecretRotated => "client.secret_rotated",
        }
    }

    /// The event type named exactly `s`.
    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The event a successful audited action reports, if any: each webhook event is written
    /// in the transaction of the audit row of what it reports.
    pub fn of_audit_action(action: &str) -> Option<EventType> {
        Some(match action {
            "quota.threshold" => EventType::UsageThresholdCrossed,
            "spend.threshold" => EventType::SpendThresholdCrossed,
            "credit.low" => EventType::CreditLow,
            "invoice.finalized" => EventType::InvoiceFinalized,
            "invoice.paid" => EventType::InvoicePaid,
            "invoice.payment_failed" => EventType::InvoicePaymentFailed,
            "account.suspended" => EventType::AccountSuspended,
            "key.expiring" => EventType::ApiKeyExpiring,
            "key.revoked" => EventType::ApiKeyRevoked,
            "client.secret_rotated" => EventType::ClientSecretRotated,
            _ => return None,
        })
    }

    /// Parses a subscription list item by item: each item exactly one event type's name, none
    /// twice, at least one.
    pub fn parse_list<'a>(
        items: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<EventType>, DomainError> {
        let mut out: Vec<EventType> = Vec::new();
        for item in items {
            let t = EventType::parse(item).ok_or_else(|| {
                let shown: String = item.chars().take(40).collect();
                DomainError::invalid(
                    Code::InvalidEventType,
                    format!("unknown event type {shown:?}"),
                )
            })?;
            if out.contains(&t) {
                return Err(DomainError::invalid(
                    Code::InvalidEventType,
                    format!("event type `{}` is listed twice", t.as_str()),
                ));
            }
            out.push(t);
        }
        if out.is_empty() {
            return Err(DomainError::invalid(
                Code::InvalidEventType,
                "subscribe to at least one event type",
            ));
        }
        out.sort();
        Ok(out)
    }
}

/// Encrypts secrets that must be read back (webhook signing secrets) at rest; the server
/// implements it with the master key.
pub trait SecretBox: Send + Sync {
    /// Encrypts `plain`, bound to `aad` (a row's id, so ciphertexts cannot be swapped).
    fn seal(&self, aad: &str, plain: &[u8]) -> Result<String, DomainError>;
    /// Decrypts what `seal` produced with the same `aad`.
    fn open(&self, aad: &str, sealed: &str) -> Result<Vec<u8>, DomainError>;
}

#[cfg(test)]
mod tests {
    use super::EventType;

    #[test]
    fn names_round_trip_and_lists_are_exact() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
        assert_eq!(
            EventType::parse_list(["invoice.paid", "credit.low"]).unwrap(),
            vec![EventType::CreditLow, EventType::InvoicePaid]
        );
        for bad in [
            vec!["invoice.paid "],
            vec!["Invoice.paid"],
            vec!["invoice.paid invoice.finalized"],
            vec!["invoice.paid", "invoice.paid"],
            vec!["invoice.\u{a0}paid"],
            vec!["*"],
            vec![],
        ] {
            assert!(EventType::parse_list(bad.clone()).is_err(), "{bad:?}");
        }
    }
}
