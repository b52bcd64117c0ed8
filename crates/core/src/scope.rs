//! OAuth2 scopes granted to clients and API keys.

use crate::DomainError;
use std::fmt;

/// A scope Tollgate knows about. Unknown scopes are refused, not ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Run OCR.
    OcrRead,
    /// Read the tenant's usage.
    UsageRead,
    /// Read the tenant's audit log.
    AuditRead,
    /// Read the tenant's invoices.
    BillingRead,
    /// Run the platform: plans, tenants, every tenant's usage. Granted by the operator's CLI
    /// only, never through the portal.
    Operator,
}

impl Scope {
    /// Every known scope.
    pub const ALL: [Scope; 5] = [
        Scope::OcrRead,
        Scope::UsageRead,
        Scope::AuditRead,
        Scope::BillingRead,
        Scope::Operator,
    ];

    /// The wire name, e.g. `ocr:read`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::OcrRead => "ocr:read",
            Scope::UsageRead => "usage:read",
            Scope::AuditRead => "audit:read",
            Scope::BillingRead => "billing:read",
            Scope::Operator => "operator",
        }
    }

    fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == s)
    }
}

/// A set of scopes, written on the wire as a space-separated string (RFC 6749 §3.3).
/// A bitmask: copying one costs nothing on the request path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScopeSet(u8);

impl Scope {
    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl ScopeSet {
    /// Parses a space-separated scope string; unknown scopes are an error.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let mut set = 0;
        for item in s.split_ascii_whitespace() {
            let scope = Scope::parse(item).ok_or_else(|| {
                DomainError::invalid("invalid_scope", format!("unknown scope `{item}`"))
            })?;
            set |= scope.bit();
        }
        Ok(Self(set))
    }

    /// Parses a stored scope string, dropping names this build no longer knows.
    pub fn parse_lenient(s: &str) -> Self {
        Self(
            s.split_ascii_whitespace()
                .filter_map(Scope::parse)
                .fold(0, |set, scope| set | scope.bit()),
        )
    }

    /// True when `scope` is granted.
    pub fn contains(&self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// True when every scope of `other` is also in `self`.
    pub fn is_superset(&self, other: &ScopeSet) -> bool {
        other.0 & !self.0 == 0
    }

    /// True when no scope is granted.
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The granted scopes, in [`Scope::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        Scope::ALL.into_iter().filter(|s| self.contains(*s))
    }

    /// The scope names, in [`Scope::ALL`] order.
    pub fn names(&self) -> Vec<String> {
        self.iter().map(|s| s.as_str().to_owned()).collect()
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_sorted() {
        let set = ScopeSet::parse("usage:read  ocr:read").unwrap();
        assert_eq!(set.to_string(), "ocr:read usage:read");
        assert!(set.contains(Scope::OcrRead));
        assert!(!set.contains(Scope::AuditRead));
    }

    #[test]
    fn unknown_scope_is_refused() {
        assert!(ScopeSet::parse("ocr:read admin").is_err());
        assert_eq!(
            ScopeSet::parse_lenient("ocr:read admin").to_string(),
            "ocr:read"
        );
    }

    #[test]
    fn superset() {
        let all = ScopeSet::parse("ocr:read usage:read").unwrap();
        let one = ScopeSet::parse("ocr:read").unwrap();
        assert!(all.is_superset(&one));
        assert!(!one.is_superset(&all));
    }
}
