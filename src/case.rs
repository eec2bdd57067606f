//! The vocabulary of a case, shared by the console, the store and reports: what a note or a
//! tag is attached to, and the tags an analyst picks from.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::defender::{AlertId, DeviceId, FetchKey};

/// What a place of the trail is about: an IP (its prevalence and alerts) or a device (its record
/// and alerts). Either way the alerts table lists the subject's alerts and one can be opened.
/// Stored by kind and id ([`Subject::kind`], [`Subject::id`], read back by [`Subject::parse`]):
/// a new kind is a new arm here and in those three, and no table or report changes shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    Ip(IpAddr),
    Device(DeviceId),
}

impl Subject {
    /// `ip` or `device`, as stored (and as the trail's JSON names the field).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Ip(_) => "ip",
            Self::Device(_) => "device",
        }
    }

    pub fn id(&self) -> String {
        match self {
            Self::Ip(ip) => ip.to_string(),
            Self::Device(id) => id.to_string(),
        }
    }

    /// Rebuilds a subject from its stored parts; `None` for anything malformed, and for a kind
    /// this build does not know (a newer build's row is skipped, not misread).
    pub fn parse(kind: &str, id: &str) -> Option<Self> {
        match kind {
            "ip" => id.parse().ok().map(Self::Ip),
            "device" => crate::defender::parse_device_id(id).ok().map(Self::Device),
            _ => None,
        }
    }

    /// The answer the alerts table lists.
    pub fn alerts_key(&self) -> FetchKey {
        match self {
            Self::Ip(ip) => FetchKey::IpAlerts(*ip),
            Self::Device(id) => FetchKey::DeviceAlerts(id.clone()),
        }
    }

    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Self::Ip(ip) => Some(*ip),
            Self::Device(_) => None,
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ip(ip) => write!(f, "{ip}"),
            Self::Device(id) => write!(f, "device {id}"),
        }
    }
}

/// What a note or tag is about: a place's subject, or an alert. Stored and serialised as
/// `{"kind": .., "id": ..}`, the form notes, tags and drafts have always had.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "Stored", try_from = "Stored")]
pub enum Target {
    Place(Subject),
    Alert(AlertId),
}

impl Target {
    /// `ip`, `device` or `alert`, as stored.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Place(subject) => subject.kind(),
            Self::Alert(_) => "alert",
        }
    }

    pub fn id(&self) -> String {
        match self {
            Self::Place(subject) => subject.id(),
            Self::Alert(id) => id.to_string(),
        }
    }

    /// Rebuilds a target from its stored parts; `None` for anything malformed.
    pub fn parse(kind: &str, id: &str) -> Option<Self> {
        match kind {
            "alert" => crate::defender::parse_alert_id(id).ok().map(Self::Alert),
            _ => Subject::parse(kind, id).map(Self::Place),
        }
    }
}

impl From<Subject> for Target {
    fn from(subject: Subject) -> Self {
        Self::Place(subject)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Place(subject) => subject.fmt(f),
            Self::Alert(id) => write!(f, "alert {id}"),
        }
    }
}

/// One step of a case's trail: a place (its subject, and the alert opened there, if any), or an
/// alert looked up on its own (`mde-triage alert`), with no subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub subject: Option<Subject>,
    pub alert: Option<AlertId>,
}

impl Visit {
    /// A place of the trail, with no alert opened.
    pub fn place(subject: Subject) -> Self {
        Self {
            subject: Some(subject),
            alert: None,
        }
    }

    /// An alert looked up on its own.
    pub fn alert(id: AlertId) -> Self {
        Self {
            subject: None,
            alert: Some(id),
        }
    }
}

/// A target's stored form.
#[derive(Serialize, Deserialize)]
struct Stored {
    kind: String,
    id: String,
}

impl From<Target> for Stored {
    fn from(t: Target) -> Self {
        Self {
            kind: t.kind().to_owned(),
            id: t.id(),
        }
    }
}

impl TryFrom<Stored> for Target {
    type Error = String;

    fn try_from(s: Stored) -> Result<Self, String> {
        Target::parse(&s.kind, &s.id).ok_or_else(|| format!("not a {} id: {:?}", s.kind, s.id))
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
        let ip = Target::Place(Subject::Ip("10.0.0.1".parse().unwrap()));
        assert_eq!(Target::parse(ip.kind(), &ip.id()), Some(ip.clone()));
        let alert = Target::Alert(crate::defender::parse_alert_id("da1_2").unwrap());
        assert_eq!(Target::parse(alert.kind(), &alert.id()), Some(alert));
        let device = Target::Place(Subject::Device(
            crate::defender::parse_device_id("ws-fin-07").unwrap(),
        ));
        assert_eq!(Target::parse(device.kind(), &device.id()), Some(device));
        // The stored JSON form of drafts is unchanged.
        let json = serde_json::to_string(&ip).unwrap();
        assert_eq!(json, r#"{"kind":"ip","id":"10.0.0.1"}"#);
        assert_eq!(serde_json::from_str::<Target>(&json).unwrap(), ip);
        assert!(serde_json::from_str::<Target>(r#"{"kind":"ip","id":"x"}"#).is_err());
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
