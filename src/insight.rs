//! What an IP is before anyone is asked: its class from the address alone (RFC 1918, 6598,
//! 5737, 3927, 4193, 3849…). An analyst reads "private" or "documentation" faster than a
//! prefix, and a public address is the one worth a closer look.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The class of an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpClass {
    Public,
    /// RFC 1918 (IPv4) or unique local fc00::/7 (IPv6).
    Private,
    Loopback,
    /// 169.254.0.0/16, fe80::/10.
    LinkLocal,
    /// Carrier-grade NAT, 100.64.0.0/10 (RFC 6598).
    Cgnat,
    /// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32: never on a real network.
    Documentation,
    Multicast,
    /// Unspecified, broadcast, "this network", benchmarking, future use.
    Reserved,
}

impl IpClass {
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self::of_v4(v4),
            IpAddr::V6(v6) => Self::of_v6(v6),
        }
    }

    fn of_v4(ip: Ipv4Addr) -> Self {
        let [a, b, c, _] = ip.octets();
        match (a, b, c) {
            (127, ..) => Self::Loopback,
            (10, ..) | (172, 16..=31, _) | (192, 168, _) => Self::Private,
            (169, 254, _) => Self::LinkLocal,
            (100, 64..=127, _) => Self::Cgnat,
            (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => Self::Documentation,
            (224..=239, ..) => Self::Multicast,
            (0, ..) | (240..=255, ..) | (198, 18..=19, _) | (192, 0, 0) => Self::Reserved,
            _ => Self::Public,
        }
    }

    fn of_v6(ip: Ipv6Addr) -> Self {
        if let Some(v4) = ip.to_ipv4_mapped() {
            return Self::of_v4(v4);
        }
        let s = ip.segments();
        match s[0] {
            _ if ip.is_loopback() => Self::Loopback,
            _ if ip.is_unspecified() => Self::Reserved,
            0xfc00..=0xfdff => Self::Private,
            0xfe80..=0xfebf => Self::LinkLocal,
            0xff00..=0xffff => Self::Multicast,
            0x2001 if s[1] == 0x0db8 => Self::Documentation,
            // Global unicast is 2000::/3; the rest is not routed on the internet.
            0x2000..=0x3fff => Self::Public,
            _ => Self::Reserved,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
            Self::Loopback => "loopback",
            Self::LinkLocal => "link-local",
            Self::Cgnat => "CGNAT",
            Self::Documentation => "documentation",
            Self::Multicast => "multicast",
            Self::Reserved => "reserved",
        }
    }
}

/// Below this many devices in the org, an IP is "rare" (configurable as `rare_below`).
pub const RARE_BELOW: u64 = 10;

#[cfg(test)]
mod tests {
    use super::*;

    fn class(s: &str) -> &'static str {
        IpClass::of(s.parse().unwrap()).label()
    }

    #[test]
    fn addresses_are_classed_by_their_ranges() {
        for (ip, want) in [
            ("10.209.67.177", "private"),
            ("172.16.0.1", "private"),
            ("172.32.0.1", "public"),
            ("192.168.1.1", "private"),
            ("104.80.104.128", "public"),
            ("127.0.0.1", "loopback"),
            ("169.254.10.10", "link-local"),
            ("100.64.0.1", "CGNAT"),
            ("100.128.0.1", "public"),
            ("192.0.2.1", "documentation"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.9", "documentation"),
            ("224.0.0.251", "multicast"),
            ("255.255.255.255", "reserved"),
            ("0.0.0.0", "reserved"),
            ("::1", "loopback"),
            ("::", "reserved"),
            ("fd12:3456::1", "private"),
            ("fe80::1", "link-local"),
            ("ff02::1", "multicast"),
            ("2001:db8::7", "documentation"),
            ("2606:4700::1111", "public"),
            ("::ffff:10.0.0.1", "private"),
        ] {
            assert_eq!(class(ip), want, "{ip}");
        }
    }
}
