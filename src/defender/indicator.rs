//! Indicators as analysts paste them: every IP in a piece of text (a typed address, a defanged
//! ticket, an e-mail, a log excerpt), in order, each once, with what was skipped and why.
//!
//! One reader serves the input box, pastes, `ip`, `expand -` and seed files, so the console and
//! the one-shots accept exactly the same forms. It never guesses: where the text could mean two
//! addresses (leading zeros, an IPv6 followed by what may be a port) it refuses with the reason,
//! and nothing it passes over that looks like an address goes unmentioned.

mod embedded;
#[cfg(test)]
mod props;
mod refang;
mod scan;
#[cfg(test)]
mod tests;

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

pub use embedded::Embedding;

/// One address found in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The address to look up: for an IPv6 that embeds an IPv4 host, that IPv4.
    pub ip: IpAddr,
    /// The text it was read from, as written (defanged, with its port or brackets).
    pub written: String,
    /// Where `written` sits in the text, in bytes.
    pub at: std::ops::Range<usize>,
    /// What was read past on the way (a port, a zone, a /32, the IPv6 form it came in).
    pub notes: Vec<Note>,
}

/// Something read past while taking an address, said on screen beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// `1.2.3.4:8080`, `[2001:db8::1]:443`: the API takes addresses, not ports.
    Port(u16),
    /// `fe80::1%eth0`: the zone names an interface on the machine that wrote it.
    Zone(String),
    /// `/32` or `/128`: a prefix that names one host.
    HostPrefix(u8),
    /// `::ffff:10.209.67.177`: the IPv4 host inside an IPv6 form.
    Embedded { v6: Ipv6Addr, how: Embedding },
}

/// Text that looked like an address and was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub written: String,
    pub why: Refusal,
}

/// Why an address-like piece of text was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `10.0.0.0/8`: a range, and the API looks up hosts.
    Network { prefix: u8 },
    /// `1.2.3.4/33`: longer than the address.
    BadPrefix { prefix: u32 },
    /// `010.1.1.1`: some tools read `010` as octal (8), others as decimal (10).
    LeadingZeros,
    /// `256.1.1.1`.
    OctetOver255,
    /// `2001:db8::1:443`: one IPv6 address, or `2001:db8::1` and port 443.
    AmbiguousPort { host: Ipv6Addr, port: u16 },
    /// Shaped like an IPv6 address, but not one (`1::2::3`).
    NotAnAddress,
}

/// Everything one piece of text holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reading {
    /// In the order of the text, each address once (its first occurrence).
    pub found: Vec<Found>,
    /// In the order of the text, each written form once.
    pub skipped: Vec<Skipped>,
}

/// Whether `text` holds nothing once paste debris (spaces, controls, zero-width) is gone.
pub fn refanged_is_blank(text: &str) -> bool {
    refang::refang(text)
        .iter()
        .all(|ch| ch.c == ' ' || ch.c == '\n')
}

/// Pasted text for the input box: invisible characters gone, line breaks, tabs and other
/// controls as single spaces, the ends trimmed (a pasted line ends with CR or CRLF).
pub fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().filter(|&c| !refang::invisible(c)) {
        if c.is_control() || c.is_whitespace() {
            if !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    super::sanitize::one_line(out.trim())
}

/// Reads every IP in `text`.
pub fn read(text: &str) -> Reading {
    let clean = refang::refang(text);
    let mut reading = Reading::default();
    for piece in scan::scan(&clean, text) {
        match piece {
            scan::Piece::Found(found) => {
                if !reading.found.iter().any(|f| f.ip == found.ip) {
                    reading.found.push(found);
                }
            }
            scan::Piece::Skipped(skipped) => {
                if !reading.skipped.iter().any(|s| s.written == skipped.written) {
                    reading.skipped.push(skipped);
                }
            }
        }
    }
    reading
}

impl Reading {
    pub fn ips(&self) -> Vec<IpAddr> {
        self.found.iter().map(|f| f.ip).collect()
    }

    /// One line for the screen: `3 IPs found · 1 skipped: 10.0.0.0/8 is a network`.
    pub fn summary(&self) -> String {
        let found = match self.found.len() {
            0 => "no IP found".to_owned(),
            1 => "1 IP found".to_owned(),
            n => format!("{n} IPs found"),
        };
        if self.skipped.is_empty() {
            return found;
        }
        let why: Vec<String> = self.skipped.iter().map(|s| s.to_string()).collect();
        format!(
            "{found} · {} skipped: {}",
            self.skipped.len(),
            why.join("; ")
        )
    }
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = shown(&self.written);
        match &self.why {
            Refusal::Network { prefix } => {
                write!(f, "{w} is a network (/{prefix}), not one host")
            }
            Refusal::BadPrefix { prefix } => {
                write!(f, "{w}: /{prefix} is longer than the address")
            }
            Refusal::LeadingZeros => write!(
                f,
                "{w} has leading zeros, read as octal by some tools and decimal by others: write it without them"
            ),
            Refusal::OctetOver255 => {
                write!(f, "{w} is not an IPv4 or IPv6 address (a part over 255)")
            }
            Refusal::AmbiguousPort { host, port } => write!(
                f,
                "{w} is ambiguous: one IPv6 address, or {host} port {port}? Write [{host}]:{port} for a port"
            ),
            Refusal::NotAnAddress => write!(f, "{w} is not an IPv6 address"),
        }
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::Port(p) => write!(f, "port {p} dropped"),
            Note::Zone(z) => write!(f, "zone %{} dropped", shown(z)),
            Note::HostPrefix(p) => write!(f, "/{p} is one host"),
            Note::Embedded { v6, how } => {
                let v4 = embedded::host(*v6).map_or_else(String::new, |(v4, _)| v4.to_string());
                write!(f, "{how}, looked up as {v4}")
            }
        }
    }
}

impl Found {
    /// What was read past, short, for a hint beside the address: `port 8080 dropped`.
    pub fn notes_text(&self) -> String {
        let notes: Vec<String> = self.notes.iter().map(|n| n.to_string()).collect();
        notes.join(" · ")
    }

    /// What was read past, as a sentence that names the text:
    /// `::ffff:10.209.67.177: IPv4-mapped, looked up as 10.209.67.177`.
    pub fn said(&self) -> String {
        format!("{}: {}", shown(&self.written), self.notes_text())
    }
}

/// Echoes text in messages without letting it break the line or the terminal.
pub(crate) fn shown(text: &str) -> String {
    let s = super::sanitize::one_line(text);
    let s = s.trim();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s.to_owned()
    }
}
