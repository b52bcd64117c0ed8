//! OAuth2 scopes granted to clients and API keys.

use crate::{Code, DomainError, TenantId};
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

/// At most this much of a refused scope item is echoed back in the error.
const ECHO_MAX: usize = 40;

fn invalid_scope(detail: String) -> DomainError {
    DomainError::invalid(Code::InvalidScope, detail)
}

impl ScopeSet {
    /// Parses a list of scope names, item by item: every item must be exactly one known
    /// scope name (no surrounding or inner whitespace of any kind, exact case), and no item
    /// may repeat. A list is never joined into a string and re-split, so nothing hidden in
    /// one item can become a second scope.
    pub fn from_items<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Self, DomainError> {
        let mut set = 0;
        for item in items {
            let scope = Scope::parse(item).ok_or_else(|| {
                let shown: String = item.chars().take(ECHO_MAX).collect();
                invalid_scope(format!("unknown scope {shown:?}"))
            })?;
            if set & scope.bit() != 0 {
                return Err(invalid_scope(format!(
                    "scope `{}` is listed twice",
                    scope.as_str()
                )));
            }
            set |= scope.bit();
        }
        Ok(Self(set))
    }

    /// Parses an RFC 6749 scope string: names separated by spaces (U+0020 only; a tab, a
    /// newline or any other whitespace is part of a name, so it makes the name unknown).
    /// Unknown and repeated names are an error.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Self::from_items(s.split(' ').filter(|item| !item.is_empty()))
    }

    /// Parses a stored scope string (written by this code, space-separated), dropping names
    /// this build no longer knows.
    pub fn parse_lenient(s: &str) -> Self {
        Self(
            s.split(' ')
                .filter_map(Scope::parse)
                .fold(0, |set, scope| set | scope.bit()),
        )
    }

    /// The set holding just `scope`.
    pub fn single(scope: Scope) -> Self {
        Self(scope.bit())
    }

    /// This set without `scope`.
    pub fn without(self, scope: Scope) -> Self {
        Self(self.0 & !scope.bit())
    }

    /// These scopes, for a credential of `tenant`: `operator` belongs to the platform
    /// tenant alone, so granting it to any other tenant's credential is `invalid_scope`.
    pub fn grantable_in(self, tenant: TenantId) -> Result<Self, DomainError> {
        if self.is_empty() {
            return Err(invalid_scope("at least one scope is required".into()));
        }
        if self.contains(Scope::Operator) && !tenant.is_platform() {
            return Err(invalid_scope(
                "the operator scope belongs to the platform; tenant credentials cannot hold it"
                    .into(),
            ));
        }
        Ok(self)
    }

    /// What a credential of `tenant` holding these (stored) scopes may do: `operator` counts
    /// only in the platform tenant, whatever a row says.
    pub fn effective_in(self, tenant: TenantId) -> Self {
        if tenant.is_platform() {
            self
        } else {
            self.without(Scope::Operator)
        }
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

    fn refused(items: &[&str]) -> bool {
        matches!(
            ScopeSet::from_items(items.iter().copied()),
            Err(DomainError::Invalid {
                code: Code::InvalidScope,
                ..
            })
        )
    }

    #[test]
    fn items_are_exact_scope_names() {
        for hostile in [
            "ocr:read operator",
            "ocr:read\toperator",
            "ocr:read\noperator",
            "ocr:read\u{a0}operator",
            "ocr:read\u{2028}operator",
            " operator",
            "operator ",
            "Operator",
            "OCR:READ",
            "",
            "ocr:read,operator",
        ] {
            assert!(refused(&[hostile]), "{hostile:?}");
            assert!(refused(&["usage:read", hostile]), "{hostile:?} second");
        }
        assert!(refused(&["ocr:read", "ocr:read"]), "duplicates");
        let set = ScopeSet::from_items(["usage:read", "ocr:read"]).unwrap();
        assert_eq!(set.names(), ["ocr:read", "usage:read"]);
    }

    #[test]
    fn operator_belongs_to_the_platform_tenant() {
        let op = ScopeSet::parse("ocr:read operator").unwrap();
        let tenant = TenantId::new();
        assert!(op.grantable_in(tenant).is_err());
        assert_eq!(op.grantable_in(TenantId::PLATFORM).unwrap(), op);
        assert_eq!(op.effective_in(tenant).to_string(), "ocr:read");
        assert_eq!(op.effective_in(TenantId::PLATFORM), op);
        assert!(ScopeSet::default()
            .grantable_in(TenantId::PLATFORM)
            .is_err());
        assert!(
            !TenantId::new().is_platform(),
            "generated ids are never the platform's"
        );
    }

    #[test]
    fn only_spaces_separate_names_in_a_string() {
        for hostile in [
            "ocr:read\toperator",
            "ocr:read\noperator",
            "ocr:read\r\noperator",
            "ocr:read\u{b}operator",
            "ocr:read\u{c}operator",
            "ocr:read\u{a0}operator",
            "ocr:read ocr:read",
        ] {
            assert!(ScopeSet::parse(hostile).is_err(), "{hostile:?}");
        }
        assert_eq!(
            ScopeSet::parse("ocr:read operator").unwrap().to_string(),
            "ocr:read operator",
            "a plain space does separate two names"
        );
    }

    #[test]
    fn the_refused_item_is_echoed_short_and_escaped() {
        let long = format!("x\n{}", "y".repeat(500));
        let Err(DomainError::Invalid { detail, .. }) = ScopeSet::from_items([long.as_str()]) else {
            panic!("refused");
        };
        assert!(detail.len() < 80 && detail.contains("\\n"), "{detail}");
    }
}
