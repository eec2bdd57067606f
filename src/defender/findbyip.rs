//! "Which device had this internal IP at that time" (`findbyip`, FACTS.md 8.1): the moment
//! as the API reads it (whole seconds, UTC) and the checks made before any call, since the
//! API answers a time older than 30 days with 400 and says nothing useful of a public IP.

use std::fmt;
use std::net::IpAddr;

use chrono::{DateTime, Duration, SubsecRound, Utc};

use crate::insight::IpClass;

/// How far back the API looks: "The given timestamp must be in the past 30 days."
pub const OLDEST: Duration = Duration::days(30);

/// The API finds devices seen with the IP "15 minutes prior and after" the time asked.
pub const WINDOW: Duration = Duration::minutes(15);

/// A time cut to whole seconds, UTC: the only form the docs show, so two times that format
/// alike are one key (one cache entry, one call).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UtcSecond(DateTime<Utc>);

impl UtcSecond {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(at.trunc_subsecs(0))
    }

    pub fn time(self) -> DateTime<Utc> {
        self.0
    }

    /// The window the API searches around this time, as an analyst reads it.
    pub fn window(self) -> (DateTime<Utc>, DateTime<Utc>) {
        (self.0 - WINDOW, self.0 + WINDOW)
    }
}

impl From<DateTime<Utc>> for UtcSecond {
    fn from(at: DateTime<Utc>) -> Self {
        Self::new(at)
    }
}

impl fmt::Display for UtcSecond {
    /// `2026-11-20T09:14:00Z`: unquoted in the route.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%dT%H:%M:%SZ"))
    }
}

/// Why a findbyip call is not made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Only addresses a device's own adapter holds inside a network are asked about.
    #[error("{ip} is a {} address: devices are looked up by internal IPs only", .class.label())]
    NotInternal { ip: IpAddr, class: IpClass },
    #[error("{at} is more than 30 days ago: the API looks back 30 days only")]
    TooOld { at: UtcSecond },
    #[error("{at} is in the future")]
    InFuture { at: UtcSecond },
}

/// Whether `ip` can be asked about: private (RFC 1918, fc00::/7), carrier-grade NAT or
/// link-local, the addresses adapters hold inside a network. Public, loopback, documentation,
/// multicast and reserved addresses are not.
pub fn is_internal(ip: IpAddr) -> bool {
    matches!(
        IpClass::of(ip),
        IpClass::Private | IpClass::Cgnat | IpClass::LinkLocal
    )
}

/// A time as an analyst types one for findbyip: RFC 3339 (`2026-11-20T09:14:00Z`, an offset
/// allowed), or `2026-11-20 09:14[:00]` read as UTC.
pub fn parse_at(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
        .map(|t| t.and_utc())
}

/// The checks made before a findbyip call, against `now`.
pub fn check(ip: IpAddr, at: UtcSecond, now: DateTime<Utc>) -> Result<(), Refused> {
    if !is_internal(ip) {
        return Err(Refused::NotInternal {
            ip,
            class: IpClass::of(ip),
        });
    }
    if at.time() > now {
        return Err(Refused::InFuture { at });
    }
    if at.time() < now - OLDEST {
        return Err(Refused::TooOld { at });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn times_are_cut_to_seconds_and_written_as_the_docs_do() {
        let at = UtcSecond::new(t("2026-11-20T09:14:05.987654321+02:00"));
        assert_eq!(at.to_string(), "2026-11-20T07:14:05Z");
        assert_eq!(at, UtcSecond::new(t("2026-11-20T07:14:05Z")));
        let (from, to) = at.window();
        assert_eq!(to - from, Duration::minutes(30));
    }

    #[test]
    fn typed_times_read_as_utc_or_with_their_offset() {
        let want = t("2026-11-20T09:14:00Z");
        for text in [
            "2026-11-20T09:14:00Z",
            " 2026-11-20T10:14:00+01:00 ",
            "2026-11-20 09:14",
            "2026-11-20 09:14:00",
            "2026-11-20T09:14",
        ] {
            assert_eq!(parse_at(text), Some(want), "{text}");
        }
        for text in ["", "yesterday", "2026-11-20", "09:14", "2026-13-20 09:14"] {
            assert_eq!(parse_at(text), None, "{text}");
        }
    }

    #[test]
    fn only_internal_ips_within_the_last_30_days_are_asked() {
        let now = t("2026-12-06T12:00:00Z");
        let at = UtcSecond::new(now - Duration::days(1));
        for ip in [
            "10.1.2.3",
            "192.168.0.9",
            "172.20.0.1",
            "fd00::1",
            "100.64.0.1",
        ] {
            assert_eq!(check(ip.parse().unwrap(), at, now), Ok(()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "2a00:1450::1",
            "127.0.0.1",
            "192.0.2.1",
            "224.0.0.1",
        ] {
            let e = check(ip.parse().unwrap(), at, now).unwrap_err();
            assert!(matches!(e, Refused::NotInternal { .. }), "{ip}");
            assert!(e.to_string().contains("internal IPs only"), "{e}");
        }
        let ip = "10.1.2.3".parse().unwrap();
        let edge = UtcSecond::new(now - OLDEST);
        assert_eq!(check(ip, edge, now), Ok(()));
        let old = UtcSecond::new(now - OLDEST - Duration::seconds(1));
        assert_eq!(check(ip, old, now), Err(Refused::TooOld { at: old }));
        let later = UtcSecond::new(now + Duration::seconds(1));
        assert_eq!(check(ip, later, now), Err(Refused::InFuture { at: later }));
    }
}
