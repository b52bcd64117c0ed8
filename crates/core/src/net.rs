//! Which network a caller or a destination is on: public unicast addresses versus loopback,
//! private, link-local, metadata and reserved ones (the SSRF guards of webhooks and identity
//! providers ask this), and the bucket an address is counted in by the brute-force limits.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `ip` is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

pub fn is_public_v4(ip: Ipv4Addr) -> bool {
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

pub fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    // Prefixes that translate to IPv4 inside one network, never across the internet: the
    // local-use NAT64 prefix (`64:ff9b:1::/48`, RFC 8215) and IPv4-translated addresses
    // (`::ffff:0:a.b.c.d`, RFC 2765).
    if (s[0] == 0x0064 && s[1] == 0xff9b && s[2] == 1) || (s[..4] == [0; 4] && s[4] == 0xffff) {
        return false;
    }
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
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
/// NAT64's well-known prefix (`64:ff9b::/96`) or 6to4 (`2002:ab:cd::/16`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[..5] == [0; 5]
        && (s[5] == 0xffff || (s[5] == 0 && ip != Ipv6Addr::LOCALHOST && !ip.is_unspecified()))
    {
        return Some(tail);
    }
    if s[0] == 0x0064 && s[1] == 0xff9b && s[2..6] == [0; 4] {
        // NAT64's well-known prefix (`64:ff9b::/96`).
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

/// Names that are local by definition, refused without asking DNS.
pub fn is_local_name(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    // A single label is completed by the resolver's search domains: the platform's own.
    !h.contains('.')
        || h.ends_with(".localhost")
        || h.ends_with(".local")
        || h.ends_with(".internal")
}

/// Whether `ip` is a loopback address (IPv4 inside IPv6 judged as IPv4).
pub fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// The bucket a caller's address is counted in by the brute-force limits: an IPv4 address,
/// or an IPv6 address's /64 (one host can hold a whole /64, so single IPv6 addresses would
/// cost it nothing to rotate); an IPv4-mapped IPv6 address counts as its IPv4 address.
pub fn address_bucket(from: Option<&str>) -> String {
    match from.and_then(|f| f.parse::<IpAddr>().ok()) {
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Some(ip) => ip.to_string(),
        None => from.unwrap_or("unknown").to_owned(),
    }
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
            "64:ff9b:1::808:808",
            "::ffff:0:808:808",
            "::ffff:0:7f00:1",
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
    fn ipv6_callers_are_counted_by_their_64() {
        assert_eq!(
            address_bucket(Some("2001:db8:1:2:aaaa::1")),
            address_bucket(Some("2001:db8:1:2:ffff:1:2:3"))
        );
        assert_eq!(address_bucket(Some("2001:db8:1:2::1")), "2001:db8:1:2::/64");
        assert_ne!(
            address_bucket(Some("2001:db8:1:2::1")),
            address_bucket(Some("2001:db8:1:3::1"))
        );
        assert_eq!(address_bucket(Some("::ffff:10.1.2.3")), "10.1.2.3");
        assert_eq!(address_bucket(Some("10.1.2.3")), "10.1.2.3");
        assert_eq!(address_bucket(None), "unknown");
    }

    #[test]
    fn loopback_includes_mapped_ipv4() {
        for ip in ["127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1"] {
            assert!(is_loopback(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["10.0.0.1", "8.8.8.8", "::ffff:8.8.8.8", "fe80::1"] {
            assert!(!is_loopback(ip.parse().unwrap()), "{ip}");
        }
    }
}
