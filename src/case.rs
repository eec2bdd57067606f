//! The vocabulary of a case, shared by the console, the store and reports: what a note or a
//! tag is attached to, and the tags an analyst picks from.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::defender::input::{InputError, read_one};
use crate::defender::{AlertId, DeviceId, FetchKey};

/// The kinds of place a case visits, each with its stored name. A new [`Subject`] variant does
/// not compile until [`Subject::kind`] names its kind here; a new kind does not compile until
/// [`Kind::name`], [`Kind::next`], [`Subject::parse`] and [`Subject::parse_typed`] place it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Ip,
    Device,
}

impl Kind {
    /// In declaration order, so `k as usize` is `k`'s index here (checked at compile time).
    pub const ALL: [Kind; 2] = [Kind::Ip, Kind::Device];

    /// The kind declared after this one. No wildcard: a new variant does not compile until it
    /// is placed here, and then the check below does not compile until [`Kind::ALL`] holds it
    /// (reading stored rows and typed input walk `ALL`).
    const fn next(self) -> Option<Kind> {
        match self {
            Kind::Ip => Some(Kind::Device),
            Kind::Device => None,
        }
    }

    /// `ip` or `device`: the kind's name in stored rows (visits, notes, tags, drafts) and the
    /// trail's JSON. Never change one: rows already written carry it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Ip => "ip",
            Kind::Device => "device",
        }
    }

    /// The kind stored as `name` (see [`Self::name`]).
    pub fn from_name(name: &str) -> Option<Kind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// `Kind::ALL` is every variant, each at its own index, in declaration order: walked through
/// [`Kind::next`] at compile time.
const _: () = {
    let mut at = Some(Kind::Ip);
    let mut i = 0;
    while let Some(k) = at {
        assert!(i < Kind::ALL.len(), "Kind::ALL misses a kind");
        assert!(Kind::ALL[i] as usize == k as usize && k as usize == i);
        at = k.next();
        i += 1;
    }
    assert!(i == Kind::ALL.len(), "Kind::ALL lists a kind twice");
};

/// What a place of the trail is about: an IP (its prevalence and alerts) or a device (its record
/// and alerts). Either way the alerts table lists the subject's alerts and one can be opened.
/// Stored by kind and id ([`Subject::kind`], [`Subject::id`], read back by [`Subject::parse`]):
/// a new variant does not compile until [`Subject::kind`] gives it a [`Kind`], and no table or
/// report changes shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    Ip(IpAddr),
    Device(DeviceId),
}

impl Subject {
    /// The subject's kind; its [`Kind::name`] is what is stored (and what the trail's JSON
    /// names the field).
    pub fn kind(&self) -> Kind {
        match self {
            Self::Ip(_) => Kind::Ip,
            Self::Device(_) => Kind::Device,
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
        match Kind::from_name(kind)? {
            Kind::Ip => id.parse().ok().map(Self::Ip),
            Kind::Device => crate::defender::parse_device_id(id).ok().map(Self::Device),
        }
    }

    /// Reads what the analyst typed into the input box as a place: each kind that can be typed
    /// tries the text, in [`Kind::ALL`]'s order, and the first that reads it wins. When none
    /// does, the first typed kind's complaint is the answer (today the IP reader's, as the
    /// box has always said).
    pub fn parse_typed(text: &str) -> Result<Typed, InputError> {
        let mut complaint = None;
        for kind in Kind::ALL {
            match Self::typed_as(kind, text) {
                Some(Ok(typed)) => return Ok(typed),
                Some(Err(e)) => {
                    complaint.get_or_insert(e);
                }
                None => {}
            }
        }
        // Only a build where no kind is typed at all gets here without a complaint.
        Err(complaint.unwrap_or(InputError::Empty))
    }

    /// `text` read as a `kind` typed into the box; `None` for a kind that is never typed.
    fn typed_as(kind: Kind, text: &str) -> Option<Result<Typed, InputError>> {
        match kind {
            // Plain or defanged, with a port or an IPv6 form read past and said.
            Kind::Ip => Some(read_one(text).map(|found| Typed {
                read_past: (!found.notes.is_empty()).then(|| found.said()),
                subject: Self::Ip(found.ip),
            })),
            // Devices are opened from an alert (and by `mde-triage device`), never typed into
            // the box.
            Kind::Device => None,
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

/// A place typed into the input box ([`Subject::parse_typed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typed {
    pub subject: Subject,
    /// What was read past on the way (`::ffff:10.209.67.177: IPv4-mapped, looked up as
    /// 10.209.67.177`), said beside the box; `None` when the text was the id as it is.
    pub read_past: Option<String>,
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
            Self::Place(subject) => subject.kind().name(),
            Self::Alert(_) => "alert",
        }
    }

    pub fn id(&self) -> String {
        match self {
            Self::Place(subject) => subject.id(),
            Self::Alert(id) => id.to_string(),
        }
    }

    /// The target's page in the Defender portal (`portal` is its base), for the tenant when
    /// it is known.
    pub fn portal_link(&self, portal: &str, tenant: Option<&str>) -> String {
        use crate::defender::portal;
        match self {
            Self::Place(Subject::Ip(ip)) => portal::ip_link(portal, tenant, &ip.to_string()),
            Self::Place(Subject::Device(id)) => portal::device_link(portal, tenant, id.as_str()),
            Self::Alert(id) => portal::alert_link(portal, tenant, id.as_str()),
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

    /// A subject of each kind: an exhaustive match, so a new kind does not compile here until
    /// it has one to round-trip.
    fn one_of(kind: Kind) -> Subject {
        match kind {
            Kind::Ip => Subject::Ip("2001:db8::1".parse().unwrap()),
            Kind::Device => {
                Subject::Device(crate::defender::parse_device_id("mymachine1.contoso.com").unwrap())
            }
        }
    }

    #[test]
    fn every_kind_reads_back_from_its_stored_name() {
        for kind in Kind::ALL {
            let subject = one_of(kind);
            assert_eq!(subject.kind(), kind);
            assert_eq!(Kind::from_name(kind.name()), Some(kind));
            assert_eq!(
                Subject::parse(kind.name(), &subject.id()),
                Some(subject.clone())
            );
            // The trail's JSON names the field as rows name the kind.
            let json = serde_json::to_value(&subject).unwrap();
            let fields: Vec<&String> = json.as_object().unwrap().keys().collect();
            assert_eq!(fields, [kind.name()], "{kind:?}");
            let target = Target::from(subject);
            assert_eq!(Target::parse(target.kind(), &target.id()), Some(target));
            let same = Kind::ALL.iter().filter(|k| k.name() == kind.name()).count();
            assert_eq!(same, 1, "{kind:?}");
            assert_ne!(kind.name(), "alert", "an alert is a target of its own");
        }
        assert_eq!(Kind::ALL.map(Kind::name), ["ip", "device"]);
        assert_eq!(Subject::parse("alert", "da1_2"), None);
    }

    #[test]
    fn typed_input_reads_ips_as_the_box_always_has() {
        let typed = Subject::parse_typed(" 10[.]209[.]67[.]177 ").unwrap();
        assert_eq!(typed.subject, Subject::Ip("10.209.67.177".parse().unwrap()));
        assert_eq!(typed.read_past, None);
        let typed = Subject::parse_typed("::ffff:10.209.67.177").unwrap();
        assert_eq!(typed.subject, Subject::Ip("10.209.67.177".parse().unwrap()));
        let said = read_one("::ffff:10.209.67.177").unwrap().said();
        assert_eq!(typed.read_past, Some(said));
        // A device id is not typed: refused with the IP reader's words, as before.
        for text in [
            "",
            "1e5bc9d7e413ddd7902c2932e418702b84d0cc07",
            "mymachine1.contoso.com",
            "999.1.1.1",
            "1.2.3.4 5.6.7.8",
        ] {
            assert_eq!(
                Subject::parse_typed(text).map(|t| t.subject),
                read_one(text).map(|f| Subject::Ip(f.ip)),
                "{text}"
            );
        }
    }

    #[test]
    fn tags_are_one_tidy_line() {
        assert_eq!(clean_tag("  needs review \n"), Some("needs review".into()));
        assert_eq!(clean_tag("   "), None);
        assert_eq!(clean_tag(&"x".repeat(100)).unwrap().len(), MAX_TAG);
        assert_eq!(clean_tag("a\u{1b}[31mb").as_deref(), Some("ab"));
    }
}
