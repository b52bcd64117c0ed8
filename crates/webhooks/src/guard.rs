//! The SSRF guard. A tenant chooses where Tollgate sends requests, so an endpoint must not
//! reach the platform's own network: its URL is `https` (plain `http` only where the operator
//! allows private endpoints, for tests and local receivers), carries no credentials, and every
//! address its host resolves to is public — not loopback, private, link-local (the cloud
//! metadata address 169.254.169.254 among them), shared, documentation, multicast or reserved,
//! in IPv4 or IPv6 (IPv4 inside IPv6 is judged as IPv4). The check runs when the endpoint is
//! registered and again at every delivery, and the delivery connects to exactly the addresses
//! it checked (no second lookup: DNS rebinding gains nothing).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use tollgate_core::{Code, DomainError};

/// Longest endpoint URL.
pub const MAX_URL: usize = 2048;

fn refused(detail: impl Into<String>) -> DomainError {
    DomainError::invalid(Code::InvalidWebhookUrl, detail)
}

/// Whether `ip` is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local (fd00:ec2::254, the metadata address, too)
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x2001 && s[1] < 0x0200) // IETF protocol assignments (Teredo, ORCHID…)
        || s[0] == 0x0100) // discard-only
}

/// The IPv4 address an IPv6 one carries: mapped (`::ffff:a.b.c.d`), compatible (`::a.b.c.d`),
/// NAT64 (`64:ff9b::/96`) or 6to4 (`2002:ab:cd::/16`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[..5] == [0; 5]
        && (s[5] == 0xffff || (s[5] == 0 && ip != Ipv6Addr::LOCALHOST && !ip.is_unspecified()))
    {
        return Some(tail);
    }
    if s[0] == 0x0064 && s[1] == 0xff9b && (s[2..6] == [0; 4] || s[2] == 1) {
        // NAT64, well-known (`64:ff9b::/96`) and local-use (`64:ff9b:1::/48`) prefixes.
        return Some(tail);
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    None
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

/// Names that are local by definition, refused without asking DNS.
fn is_local_name(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    // A single label is completed by the resolver's search domains: the platform's own.
    !h.contains('.')
        || h.ends_with(".localhost")
        || h.ends_with(".local")
        || h.ends_with(".internal")
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
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "192.0.2.1",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "fc00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "64:ff9b:1::a00:1",
            "2001:db8::1",
            "fec0::1",
            "100::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "2002:808:808::",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

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
