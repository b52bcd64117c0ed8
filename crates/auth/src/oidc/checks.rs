//! The checks of what an operator sets and a provider says, before anything is stored or
//! requested: the issuer URL, the email domain, an email's domain, and the endpoints a
//! provider's discovery document names (which network they may be on).

use openidconnect::url::{Host, Url};
use openidconnect::IssuerUrl;
use std::net::{Ipv4Addr, Ipv6Addr};
use tollgate_core::net::{is_local_name, is_loopback, is_public};
use tollgate_core::{Code, DomainError};

/// Where a provider's endpoints may be, decided by its issuer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Network {
    /// An issuer on a public host: https endpoints on public addresses only.
    Public,
    /// An issuer on this host (development, tests): also http and https on loopback.
    ThisHost,
}

impl Network {
    /// The network of `issuer`'s endpoints.
    pub(crate) fn of(issuer: &Url) -> Self {
        if on_this_host(issuer) {
            Self::ThisHost
        } else {
            Self::Public
        }
    }

    /// Whether a request may connect to `ip`.
    pub(crate) fn allows(self, ip: std::net::IpAddr) -> bool {
        is_public(ip) || (self == Self::ThisHost && is_loopback(ip))
    }

    /// Whether `url` may be requested (or a browser sent there): https, or http to a loopback
    /// host of a this-host issuer; no credentials; an address host must be allowed and a name
    /// must not be local by definition (the name's addresses are checked when it resolves).
    pub(crate) fn allows_url(self, url: &Url) -> bool {
        let scheme_ok = match url.scheme() {
            "https" => true,
            "http" => self == Self::ThisHost && on_this_host(url),
            _ => false,
        };
        let host_ok = match url.host() {
            Some(Host::Ipv4(ip)) => self.allows(ip.into()),
            Some(Host::Ipv6(ip)) => self.allows(ip.into()),
            Some(Host::Domain(name)) => {
                (self == Self::ThisHost && name.eq_ignore_ascii_case("localhost"))
                    || !is_local_name(name)
            }
            None => false,
        };
        scheme_ok && host_ok && url.username().is_empty() && url.password().is_none()
    }
}

/// Whether `url`'s host is this machine: `localhost` or a loopback address.
fn on_this_host(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip == Ipv4Addr::LOCALHOST,
        Some(Host::Ipv6(ip)) => ip == Ipv6Addr::LOCALHOST,
        None => false,
    }
}

pub(crate) fn invalid(detail: &str) -> DomainError {
    DomainError::invalid(Code::InvalidOidcConfig, detail)
}

pub(crate) fn refused(code: Code, detail: &str) -> DomainError {
    DomainError::invalid(code, detail)
}

pub(crate) fn visible_ascii(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_graphic())
}

/// The issuer, if it is an absolute `https` URL (or `http` on a loopback host) without
/// credentials, query or fragment.
pub(crate) fn check_issuer(issuer: &str) -> Result<IssuerUrl, DomainError> {
    if !visible_ascii(issuer, 512) {
        return Err(invalid("the issuer must be a URL of visible ASCII"));
    }
    let url = Url::parse(issuer).map_err(|_| invalid("the issuer is not an absolute URL"))?;
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && on_this_host(&url));
    if !scheme_ok
        || !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(invalid(
            "the issuer must be https (http only on a loopback host), without credentials, query or fragment",
        ));
    }
    IssuerUrl::new(issuer.to_owned()).map_err(|_| invalid("the issuer is not a URL"))
}

/// A lower-case DNS name of at least two labels (IDNs as punycode).
pub fn check_domain(domain: &str) -> Result<String, DomainError> {
    let bad = || invalid("the email domain must be a DNS name like example.com (IDNs in punycode)");
    if domain.is_empty() || domain.len() > 253 || !domain.is_ascii() {
        return Err(bad());
    }
    let domain = domain.to_ascii_lowercase();
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(bad());
    }
    Ok(domain)
}

/// The domain of an ASCII email address, lower-cased (`None`: not one address).
pub(crate) fn email_domain(email: &str) -> Option<(String, String)> {
    if !visible_ascii(email, 320) {
        return None;
    }
    let email = email.to_ascii_lowercase();
    let (local, domain) = email.split_once('@')?;
    if local.is_empty() || domain.contains('@') {
        return None;
    }
    let domain = check_domain(domain).ok()?;
    Some((email.clone(), domain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_are_https_or_loopback_http() {
        for ok in [
            "https://login.example.com",
            "https://login.example.com/realms/acme",
            "http://127.0.0.1:8081",
            "http://localhost:9000",
            "http://[::1]:9000",
        ] {
            assert!(check_issuer(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://login.example.com",
            "http://127.0.0.2:80",
            "https://user:pw@login.example.com",
            "https://login.example.com/?a=b",
            "https://login.example.com/#x",
            "ftp://login.example.com",
            "login.example.com",
            "https://login.example.com/ x",
            "",
        ] {
            assert_eq!(
                check_issuer(bad).map(|_| ()).map_err(|e| e.code()),
                Err(Code::InvalidOidcConfig),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_public_issuers_endpoints_are_https_on_public_hosts() {
        let url = |s: &str| Url::parse(s).unwrap();
        let public = Network::of(&url("https://login.example.com"));
        assert_eq!(public, Network::Public);
        assert!(public.allows_url(&url("https://login.example.com/token")));
        assert!(public.allows_url(&url("https://93.184.216.34/jwks")));
        for bad in [
            "http://login.example.com/token",
            "https://127.0.0.1/jwks",
            "https://10.0.0.1/jwks",
            "https://169.254.169.254/latest/meta-data/",
            "https://[::1]/jwks",
            "https://[::ffff:10.0.0.1]/jwks",
            "https://[fd00:ec2::254]/jwks",
            "https://localhost/jwks",
            "https://metadata/computeMetadata",
            "https://svc.internal/jwks",
            "https://u:p@login.example.com/token",
            "ftp://login.example.com/token",
        ] {
            assert!(!public.allows_url(&url(bad)), "{bad}");
        }
        // An issuer on this host (development, tests) may also use loopback, nothing private.
        let here = Network::of(&url("http://127.0.0.1:9000"));
        assert_eq!(here, Network::ThisHost);
        for ok in [
            "http://127.0.0.1:9000/token",
            "http://localhost:9000/jwks",
            "https://[::1]:9000/jwks",
            "https://login.example.com/token",
        ] {
            assert!(here.allows_url(&url(ok)), "{ok}");
        }
        for bad in [
            "http://10.0.0.1/token",
            "http://169.254.169.254/latest/meta-data/",
            "https://192.168.1.1/jwks",
            "http://login.example.com/token",
            "https://svc.internal/jwks",
        ] {
            assert!(!here.allows_url(&url(bad)), "{bad}");
        }
    }

    #[test]
    fn domains_are_checked_label_by_label() {
        assert_eq!(check_domain("Acme.Test").unwrap(), "acme.test");
        assert_eq!(
            check_domain("xn--bcher-kva.example").unwrap(),
            "xn--bcher-kva.example"
        );
        for bad in [
            "",
            "acme",
            ".acme.test",
            "acme.test.",
            "acme..test",
            "-acme.test",
            "acme-.test",
            "ac me.test",
            "acme.test ",
            "bücher.example",
            "acme.te\u{212A}t",
            "a@acme.test",
            "acme_x.test",
        ] {
            assert!(check_domain(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_email_has_one_at_and_a_checked_domain() {
        assert_eq!(
            email_domain("Alice@ACME.test"),
            Some(("alice@acme.test".into(), "acme.test".into()))
        );
        for bad in [
            "alice",
            "@acme.test",
            "a@b@acme.test",
            "alice@acme",
            "alice @acme.test",
            "alice@acme.test\n",
            "ålice@acme.test",
            "alice@\u{212A}.test",
        ] {
            assert_eq!(email_domain(bad), None, "{bad:?}");
        }
    }
}
