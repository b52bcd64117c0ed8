//! The SSRF guard. A tenant chooses where Tollgate sends requests, so an endpoint must not
//! reach the platform's own network: its URL is `https` (plain `http` only where the operator
//! allows private endpoints, for tests and local receivers), carries no credentials, and every
//! address its host resolves to is public — not loopback, private, link-local (the cloud
//! metadata address 169.254.169.254 among them), shared, documentation, multicast or reserved,
//! in IPv4 or IPv6 (IPv4 inside IPv6 is judged as IPv4). The check runs when the endpoint is
//! registered and again at every delivery, and the delivery connects to exactly the addresses
//! it checked (no second lookup: DNS rebinding gains nothing).

use std::net::SocketAddr;
use tollgate_core::net::{is_local_name, is_public, is_public_v4, is_public_v6};
use tollgate_core::{Code, DomainError};

/// Longest endpoint URL.
pub const MAX_URL: usize = 2048;

fn refused(detail: impl Into<String>) -> DomainError {
    DomainError::invalid(Code::InvalidWebhookUrl, detail)
}

/// Checks an endpoint URL's form (not its addresses): https (or http when private endpoints
/// are allowed), a host, no credentials, no fragment, at most [`MAX_URL`] bytes, and an IP
/// literal host must be public.
pub fn check_url(raw: &str, allow_private: bool) -> Result<reqwest::Url, DomainError> {
    if raw.len() > MAX_URL || raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(refused(format!(
            "the URL must be at most {MAX_URL} bytes, without spaces or control characters"
        )));
    }
    let url = reqwest::Url::parse(raw).map_err(|_| refused("not an absolute URL"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        _ => return Err(refused("the URL must be https")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refused("the URL must not carry credentials"));
    }
    if url.fragment().is_some() {
        return Err(refused("the URL must not have a fragment"));
    }
    match url.host() {
        None => return Err(refused("the URL has no host")),
        Some(url::Host::Ipv4(ip)) if !allow_private && !is_public_v4(ip) => {
            return Err(refused("the URL's address is not public"))
        }
        Some(url::Host::Ipv6(ip)) if !allow_private && !is_public_v6(ip) => {
            return Err(refused("the URL's address is not public"))
        }
        Some(url::Host::Domain(d)) if !allow_private && is_local_name(d) => {
            return Err(refused("the URL's host is not public"))
        }
        _ => {}
    }
    Ok(url)
}

/// The addresses a delivery to `url` may connect to: every address its host resolves to,
/// all of which must be public (one that is not refuses the lot: a name that also points
/// inside is not an endpoint), unless private endpoints are allowed.
pub async fn resolve(
    url: &reqwest::Url,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, DomainError> {
    let host = url
        .host_str()
        .ok_or_else(|| refused("the URL has no host"))?;
    let port = url
        .port_or_known_default()
        .ok_or_else(|| refused("the URL has no port"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| refused(format!("the host {host} does not resolve")))?
        .collect();
    if addrs.is_empty() {
        return Err(refused(format!("the host {host} does not resolve")));
    }
    if !allow_private {
        if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
            // Which inside address it named stays in the server's log: the tenant is not
            // told, so the guard cannot be used to map the platform's network.
            tracing::info!(host, address = %bad.ip(), "webhook host refused: not a public address");
            return Err(refused(format!(
                "the host {host} resolves to an address that is not public"
            )));
        }
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_before_any_lookup() {
        for bad in [
            "http://example.com/hook",
            "ftp://example.com/",
            "https://user:pw@example.com/",
            "https://example.com/#x",
            "https://127.0.0.1/",
            "https://[::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://169.254.169.254/latest/meta-data/",
            "https://2130706433/",
            "https://0x7f.1/",
            "https://localhost/",
            "https://svc.internal/",
            "https://metadata/",
            "https://intranet./",
            "https://example.com/a b",
            "/relative",
            "",
        ] {
            assert!(check_url(bad, false).is_err(), "{bad}");
        }
        assert!(check_url("https://example.com/hooks/tollgate?x=1", false).is_ok());
        assert!(check_url("http://127.0.0.1:9000/hook", true).is_ok());
    }

    /// A name is judged by what it resolves to: `localhost` (bypassing the name check)
    /// resolves to loopback, so a delivery to it is refused unless private endpoints are
    /// allowed.
    #[tokio::test]
    async fn a_name_that_resolves_inside_is_refused() {
        let url = reqwest::Url::parse("https://localhost:9/").unwrap();
        assert!(
            check_url(url.as_str(), false).is_err(),
            "refused by name first"
        );
        let err = resolve(&url, false).await.unwrap_err();
        assert!(err.to_string().contains("not public"), "{err}");
        assert!(
            !err.to_string().contains("127.0.0.1"),
            "the address is not echoed: {err}"
        );
        assert!(resolve(&url, true).await.is_ok());
    }
}
