//! Finds address-shaped runs in refanged text and decides what each one is.
//!
//! A run is a stretch of hex digits, dots and colons standing alone (no letter or digit glued
//! to either side). Around it may sit what the reader takes off: brackets and a port
//! (`[v6]:443`), a prefix (`/32`), a zone (`%eth0`), a sentence's full stop or colon.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::refang::Ch;
use super::{Found, Note, Refusal, Skipped, embedded};

pub(super) enum Piece {
    Found(Found),
    Skipped(Skipped),
}

/// Every address-like run of `clean`, read; `text` is the original, for spans.
pub(super) fn scan(clean: &[Ch], text: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < clean.len() {
        if !in_run(clean[i].c) {
            i += 1;
            continue;
        }
        let start = i;
        while i < clean.len() && in_run(clean[i].c) {
            i += 1;
        }
        if let Some(piece) = run(clean, start, i, text) {
            out.push(piece);
        }
    }
    out
}

fn in_run(c: char) -> bool {
    c.is_ascii_hexdigit() || c == '.' || c == ':'
}

fn glued(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// What stands after an address: a port after `]`, else a prefix or a zone.
#[derive(Default)]
struct Tail {
    port: Option<u16>,
    prefix: Option<u32>,
    zone: Option<String>,
    /// One past the last character taken.
    end: usize,
}

fn run(clean: &[Ch], mut s: usize, mut e: usize, text: &str) -> Option<Piece> {
    let c = |k: usize| clean.get(k).map(|ch| ch.c);
    // A sentence's full stop, a label's colon: `see 1.2.3.4.`, `IP:1.2.3.4`, but not `::1`.
    loop {
        if c(s) == Some('.') || (c(s) == Some(':') && c(s + 1) != Some(':')) {
            s += 1;
        } else if e > s
            && (c(e - 1) == Some('.')
                || (c(e - 1) == Some(':') && (e < s + 2 || c(e - 2) != Some(':'))))
        {
            e -= 1;
        } else {
            break;
        }
        if s >= e {
            return None;
        }
    }
    let before = s.checked_sub(1).and_then(c);
    let bracketed = before == Some('[') && c(e) == Some(']');
    // After `://` the address is a URL's host, and a `/` starts its path.
    let url_host = s >= 2 && c(s - 1) == Some('/') && c(s - 2) == Some('/');
    let tail = tail(clean, e, bracketed, url_host);
    // `www.1.2.3.4`, `1.2.3.4.example.com`: a dot glued to a word makes a name, not an address.
    let dotted_word_before = before == Some('.') && glued(s.checked_sub(2).and_then(c));
    let dotted_word_after = c(tail.end) == Some('.') && glued(c(tail.end + 1));
    let free_before = bracketed || (!glued(before) && !dotted_word_before);
    let free_after = !glued(c(tail.end)) && !dotted_word_after;
    if !free_after {
        return None;
    }
    let candidate: String = clean[s..e].iter().map(|ch| ch.c).collect();
    let first = if bracketed { s - 1 } else { s };
    let span = |from: usize| clean[from].from..clean[tail.end - 1].to;
    let piece = if free_before {
        whole(&candidate, &tail, bracketed)
    } else {
        None
    };
    // `Source:1.2.3.4`: the label's colon is a boundary of its own.
    let piece = piece.or_else(|| {
        (!bracketed)
            .then(|| labelled_v4(&candidate, &tail))
            .flatten()
    });
    let from = match &piece {
        Some(Read::Labelled(..)) => s + candidate.rfind(':').map_or(0, |k| k + 1),
        _ => first,
    };
    let at = span(from);
    let written = text[at.clone()].to_owned();
    Some(match piece? {
        Read::Ip(ip, notes) | Read::Labelled(ip, notes) => Piece::Found(Found {
            ip,
            written,
            at,
            notes,
        }),
        Read::Refused(why) => Piece::Skipped(Skipped { written, why }),
    })
}

enum Read {
    Ip(IpAddr, Vec<Note>),
    /// An IPv4 after a label's colon; its text starts after that colon.
    Labelled(IpAddr, Vec<Note>),
    Refused(Refusal),
}

fn tail(clean: &[Ch], e: usize, bracketed: bool, url_host: bool) -> Tail {
    let c = |k: usize| clean.get(k).map(|ch| ch.c);
    let digits = |from: usize| {
        let mut k = from;
        while c(k).is_some_and(|c| c.is_ascii_digit()) {
            k += 1;
        }
        let text: String = clean[from..k].iter().map(|ch| ch.c).collect();
        (text, k)
    };
    let mut tail = Tail {
        end: e,
        ..Tail::default()
    };
    if bracketed {
        tail.end = e + 1;
        if c(e + 1) == Some(':') {
            let (port, k) = digits(e + 2);
            // `]:99999` is no port: the address ends at its bracket, the rest is text.
            if let Some(p) = port_of(&port) {
                tail.port = Some(p);
                tail.end = k;
            }
        }
    } else if c(e) == Some('/') && !url_host {
        let (prefix, k) = digits(e + 1);
        // `http://1.2.3.4/1/a.php`: digits that go on into a path are not a prefix.
        // `10.0.0.0/8.` ends a sentence; `/1.html` and `/2fa` go on into a path.
        let ends = match c(k) {
            Some('/') => false,
            Some('.') => !glued(c(k + 1)),
            next => !glued(next),
        };
        if !prefix.is_empty() && ends {
            tail.prefix = Some(prefix.parse().unwrap_or(u32::MAX));
            tail.end = k;
        }
    } else if c(e) == Some('%') {
        let mut k = e + 1;
        while c(k).is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-')) {
            k += 1;
        }
        if k > e + 1 {
            tail.zone = Some(clean[e + 1..k].iter().map(|ch| ch.c).collect());
            tail.end = k;
        }
    }
    tail
}

/// The run as one address, with what stands around it.
fn whole(candidate: &str, tail: &Tail, bracketed: bool) -> Option<Read> {
    let mut notes = Vec::new();
    if let Some(p) = tail.port {
        notes.push(Note::Port(p));
    }
    let ip = if !candidate.contains(':') {
        match v4(candidate)? {
            Ok(ip) => IpAddr::V4(ip),
            Err(why) => return Some(Read::Refused(why)),
        }
    } else if candidate.matches(':').count() == 1 {
        // 1.2.3.4:8080
        let (host, port) = candidate.split_once(':')?;
        let port = port_of(port)?;
        match v4(host)? {
            Ok(ip) => {
                notes.push(Note::Port(port));
                IpAddr::V4(ip)
            }
            Err(why) => return Some(Read::Refused(why)),
        }
    } else {
        match candidate.parse::<Ipv6Addr>() {
            Ok(v6) => {
                // Brackets end the address; without them a short address's last decimal group
                // may be a port (`::1:631` as netstat prints it).
                if let Some((host, port)) =
                    port_reading(candidate).filter(|_| !bracketed && short_after_gap(candidate))
                {
                    return Some(Read::Refused(Refusal::AmbiguousPort { host, port }));
                }
                if let Some(zone) = &tail.zone {
                    notes.push(Note::Zone(zone.clone()));
                }
                match embedded::host(v6) {
                    Some((v4, how)) => {
                        notes.push(Note::Embedded { v6, how });
                        IpAddr::V4(v4)
                    }
                    None => IpAddr::V6(v6),
                }
            }
            Err(_) => {
                if let Some((host, port)) = port_reading(candidate) {
                    return Some(Read::Refused(Refusal::AmbiguousPort { host, port }));
                }
                let shaped = candidate.contains("::") || candidate.matches(':').count() == 7;
                return (shaped && !has_v4_tail(candidate))
                    .then_some(Read::Refused(Refusal::NotAnAddress));
            }
        }
    };
    prefixed(ip, tail.prefix, notes)
}

/// A /32 or /128 names the host; any shorter prefix a network.
fn prefixed(ip: IpAddr, prefix: Option<u32>, mut notes: Vec<Note>) -> Option<Read> {
    let Some(p) = prefix else {
        return Some(Read::Ip(ip, notes));
    };
    // An embedded IPv4 was written as IPv6: its prefix counts 128 bits.
    let written_v6 = ip.is_ipv6() || notes.iter().any(|n| matches!(n, Note::Embedded { .. }));
    let full = if written_v6 { 128 } else { 32 };
    if p > full {
        return Some(Read::Refused(Refusal::BadPrefix { prefix: p }));
    }
    let p = p as u8;
    if u32::from(p) < full {
        return Some(Read::Refused(Refusal::Network { prefix: p }));
    }
    notes.push(Note::HostPrefix(p));
    Some(Read::Ip(ip, notes))
}

/// An IPv4 after the last colon of a run that is not an address as a whole.
fn labelled_v4(candidate: &str, tail: &Tail) -> Option<Read> {
    let (_, last) = candidate.rsplit_once(':')?;
    match v4(last)? {
        Ok(ip) => prefixed(IpAddr::V4(ip), tail.prefix, Vec::new()).map(|r| match r {
            Read::Ip(ip, notes) => Read::Labelled(ip, notes),
            other => other,
        }),
        Err(_) => None,
    }
}

fn has_v4_tail(candidate: &str) -> bool {
    candidate
        .rsplit_once(':')
        .is_some_and(|(_, last)| v4(last).is_some())
}

/// `2001:db8::1:443`, `::1:631`: exactly two groups after the `::`, so that without the last
/// one the address is still a plausible host (`2001:db8::1`). With more groups after it
/// (`2001:db8::ff00:42:8329`) the address reading is taken.
fn short_after_gap(candidate: &str) -> bool {
    candidate
        .split_once("::")
        .is_some_and(|(_, after)| after.split(':').count() == 2)
}

/// Dotted-quad text: `None` when it is not shaped like one (versions, OIDs), else the
/// address or why it is refused.
fn v4(s: &str) -> Option<Result<Ipv4Addr, Refusal>> {
    let parts: Vec<&str> = s.split('.').collect();
    // `0177.0.0.01` is still shaped like one, so its leading zeros can be named.
    if parts.len() != 4
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 12 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    if parts.iter().any(|p| p.len() > 1 && p.starts_with('0')) {
        return Some(Err(Refusal::LeadingZeros));
    }
    let mut octets = [0u8; 4];
    for (o, p) in octets.iter_mut().zip(&parts) {
        match p.parse::<u8>() {
            Ok(v) => *o = v,
            Err(_) => return Some(Err(Refusal::OctetOver255)),
        }
    }
    Some(Ok(Ipv4Addr::from(octets)))
}

/// Decimal, at most 65535, and no leading zero (ports are not written `0443`; hex groups are).
fn port_of(s: &str) -> Option<u16> {
    if s.is_empty()
        || s.len() > 5
        || (s.len() > 1 && s.starts_with('0'))
        || !s.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    s.parse().ok()
}

/// Reads the run as an IPv6 address followed by `:port`, where that is a reading at all: the
/// last group is decimal and what comes before it is an address.
pub(super) fn port_reading(candidate: &str) -> Option<(Ipv6Addr, u16)> {
    let (host, port) = candidate.rsplit_once(':')?;
    let port = port_of(port)?;
    let host: Ipv6Addr = host.parse().ok()?;
    Some((host, port))
}
