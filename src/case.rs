//! The vocabulary of a case, shared by the console, the store and reports: what a note or a
//! tag is attached to, and the tags an analyst picks from.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::defender::{AlertId, DeviceId};

/// What a note or tag is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "lowercase")]
pub enum Target {
    Ip(IpAddr),
    Alert(AlertId),
    Device(DeviceId),
}

impl Target {
    /// `ip`, `alert` or `device`, as stored.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Ip(_) => "ip",
            Self::Alert(_) => "alert",
            Self::Device(_) => "device",
        }
    }

    pub fn id(&self) -> String {
        match self {
            Self::Ip(ip) => ip.to_string(),
            Self::Alert(id) => id.to_string(),
            Self::Device(id) => id.to_string(),
        }
    }

    /// Rebuilds a target from its stored parts; `None` for anything malformed.
    pub fn parse(kind: &str, id: &str) -> Option<Self> {
        match kind {
            "ip" => id.parse().ok().map(Self::Ip),
            "alert" => crate::defender::parse_alert_id(id).ok().map(Self::Alert),
            "device" => crate::defender::parse_device_id(id).ok().map(Self::Device),
            _ => None,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ip(ip) => write!(f, "{ip}"),
            Self::Alert(id) => write!(f, "alert {id}"),
            Self::Device(id) => write!(f, "device {id}"),
        }
    }
}

/// The verdicts offered by `t`, in key order (1–4); free text is allowed too.
pub const VERDICTS: [&str; 4] = ["malicious", "suspicious", "benign", "needs review"];

/// Longest tag kept; longer input is cut (a tag is a label, not a note).
pub const MAX_TAG: usize = 40;

/// Longest note kept, in characters.
pub const MAX_NOTE: usize = 4000;

/// A note with when it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub at: chrono::DateTime<chrono::Utc>,
    pub text: String,
}

/// Everything the console needs to reopen a case where it was left.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SavedCase {
    /// The console's trail as JSON (`app::History`); `None` for a new case.
    pub trail: Option<String>,
    /// A note that was being typed, as JSON (`app::NoteDraft`).
    pub draft: Option<String>,
    pub notes: Vec<(Target, Note)>,
    pub tags: Vec<(Target, String)>,
}

/// A tag as the analyst typed it, tidied: one line, trimmed, lower-case verdicts kept as they
/// are, at most [`MAX_TAG`] characters. `None` when nothing is left.
pub fn clean_tag(raw: &str) -> Option<String> {
    let one = crate::defender::sanitize::one_line(raw);
    let tag: String = one.trim().chars().take(MAX_TAG).collect();
    (!tag.is_empty()).then_some(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_round_trip_through_their_stored_parts() {
        let ip = Target::Ip("10.0.0.1".parse().unwrap());
        assert_eq!(Target::parse(ip.kind(), &ip.id()), Some(ip));
        let alert = Target::Alert(crate::defender::parse_alert_id("da1_2").unwrap());
        assert_eq!(Target::parse(alert.kind(), &alert.id()), Some(alert));
        let device = Target::Device(crate::defender::parse_device_id("ws-fin-07").unwrap());
        assert_eq!(Target::parse(device.kind(), &device.id()), Some(device));
        assert_eq!(Target::parse("ip", "not an ip"), None);
        assert_eq!(Target::parse("device", ".hidden"), None);
        assert_eq!(Target::parse("user", "x"), None);
    }

    #[test]
    fn tags_are_one_tidy_line() {
        assert_eq!(clean_tag("  needs review \n"), Some("needs review".into()));
        assert_eq!(clean_tag("   "), None);
        assert_eq!(clean_tag(&"x".repeat(100)).unwrap().len(), MAX_TAG);
        assert_eq!(clean_tag("a\u{1b}[31mb").as_deref(), Some("ab"));
    }
}
