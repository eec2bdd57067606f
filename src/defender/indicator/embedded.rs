//! IPv6 forms that carry an IPv4 host: the analyst means the IPv4 (Windows logs write a mapped
//! `::ffff:10.209.67.177` for an IPv4 peer), and the API knows the IPv4 under its own name.
//!
//! Only forms whose IPv4 *is* the host: 6to4 (`2002::/16`) and Teredo (`2001::/32`) carry the
//! address of a relay or a NAT, another machine, so they stay IPv6.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// How an IPv6 address carries its IPv4 host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Embedding {
    /// `::ffff:a.b.c.d` (RFC 4291 §2.5.5.2).
    Mapped,
    /// `::ffff:0:a.b.c.d` (RFC 2765 §2.1, SIIT).
    Translated,
    /// `::a.b.c.d` (RFC 4291 §2.5.5.1, deprecated but still logged).
    Compatible,
    /// `64:ff9b::a.b.c.d`, the well-known NAT64 prefix (RFC 6052 §2.1).
    Nat64,
}

impl fmt::Display for Embedding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Embedding::Mapped => "IPv4-mapped",
            Embedding::Translated => "IPv4-translated",
            Embedding::Compatible => "IPv4-compatible",
            Embedding::Nat64 => "NAT64",
        })
    }
}

/// The IPv4 host inside `v6`, if it is one of the forms above.
pub fn host(v6: Ipv6Addr) -> Option<(Ipv4Addr, Embedding)> {
    let s = v6.segments();
    let v4 = Ipv4Addr::from(((u32::from(s[6])) << 16) | u32::from(s[7]));
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some((v4, Embedding::Mapped)),
        [0, 0, 0, 0, 0xffff, 0, _, _] => Some((v4, Embedding::Translated)),
        // `::` and `::1` are IPv6's own unspecified and loopback addresses, not 0.0.0.x.
        [0, 0, 0, 0, 0, 0, _, _] if v4.octets()[0] != 0 => Some((v4, Embedding::Compatible)),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some((v4, Embedding::Nat64)),
        _ => None,
    }
}
