//! Case export for a ticket: what a report holds ([`CaseReport`], read from the store) and its
//! renderings as Markdown, JSON and CSV. Rendering is pure: the time "now" comes in, so ages
//! in a report are reproducible and golden files can pin them.
//!
//! Server text (and the analyst's) cannot be turned against the reader: Markdown escapes and
//! defangs it (`md_escape`, `defang`), CSV quotes every cell and defuses formulas (`formula`),
//! JSON keeps it exact, as data.

mod csv;
mod defang;
mod formula;
mod json;
mod markdown;
mod md_escape;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::case::Subject;
use crate::defender::model::Evidence;
use crate::defender::{Alert, IpStats, LookBack, portal, sanitize};

/// A case, gathered for export: everything the analyst saw and wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseReport {
    pub case: String,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    /// Entra tenant id, when known: portal links then open in the right tenant.
    pub tenant_id: Option<String>,
    /// The API host the data came from (`SIMULATED TENANT` data says so here).
    pub api_host: String,
    /// Portal base URL for deep links, e.g. `https://security.microsoft.com`.
    pub portal: String,
    /// The pivot path, in the order walked.
    pub path: Vec<Step>,
    /// Every place visited (or pivoted to), or tagged or noted, of every kind, in order of
    /// first visit. Each format writes a section per kind (IPs, then devices after the
    /// alerts), which keeps this order.
    pub places: Vec<PlaceEntry>,
    /// Every alert opened, or tagged or noted, in order of first visit. An alert is not a
    /// place: its own list.
    pub alerts: Vec<AlertEntry>,
    /// Calls this case spent per endpoint (`stats`, `ip-alerts`, `alert-ips`); answers served
    /// from the cache cost none.
    pub calls: Vec<EndpointCalls>,
}

/// One step of the trail: a place, an alert opened there, or (from `mde-triage alert`) an
/// alert on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub at: DateTime<Utc>,
    /// The place's page, or the place whose alert was opened.
    pub place: Option<Place>,
    pub alert: Option<String>,
}

/// Which place, by kind: its id as text, as the store wrote it (a report holds text, never
/// re-parsed). One arm per [`Subject`] kind; the JSON names each step's field after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    Ip(String),
    Device(String),
}

impl From<&Subject> for Place {
    fn from(subject: &Subject) -> Self {
        match subject {
            Subject::Ip(ip) => Self::Ip(ip.to_string()),
            Subject::Device(id) => Self::Device(id.to_string()),
        }
    }
}

/// A place of the case: what is known of it, by kind, and the analyst's tags and notes.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceEntry {
    /// The IP, or the device's id.
    pub id: String,
    pub facts: PlaceFacts,
    pub tags: Vec<String>,
    pub notes: Vec<Note>,
}

/// What the case knows of a place, as last cached. Every format matches this without a
/// wildcard: a new kind does not compile until each says how it writes the kind's section.
#[derive(Debug, Clone, PartialEq)]
pub enum PlaceFacts {
    Ip {
        /// The prevalence over each period fetched, freshest first; empty: never fetched.
        stats: Vec<PeriodStats>,
        /// The IP's related alerts, newest first; `None` when never fetched.
        alerts: Option<Dated<Vec<Alert>>>,
    },
    Device {
        /// The device's record; `None`: never fetched. Boxed, as in answers: a record is
        /// several times the size of an IP's facts.
        device: Option<Dated<Box<crate::defender::Device>>>,
    },
}

impl PlaceEntry {
    /// Which place this is: its kind (from its facts) and id.
    pub fn place(&self) -> Place {
        let id = self.id.clone();
        match &self.facts {
            PlaceFacts::Ip { .. } => Place::Ip(id),
            PlaceFacts::Device { .. } => Place::Device(id),
        }
    }

    /// What the place is called: a device's name when its record has one, else the id.
    pub fn name(&self) -> &str {
        match &self.facts {
            PlaceFacts::Ip { .. } => &self.id,
            PlaceFacts::Device { device } => device
                .as_ref()
                .map(|d| d.value.name().trim())
                .filter(|n| !n.is_empty())
                .unwrap_or(&self.id),
        }
    }
}

/// A value and when it was fetched from the API.
#[derive(Debug, Clone, PartialEq)]
pub struct Dated<T> {
    pub value: T,
    pub as_of: DateTime<Utc>,
    /// What the list lacks or may lack (unread elements, a cut), one sentence each.
    pub caveats: Vec<String>,
}

/// An IP's prevalence over one period. `stats.value` `None`: the API said 404, not seen in
/// the org (as is a prevalence of 0), over that period.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodStats {
    pub look_back: LookBack,
    pub stats: Dated<Option<IpStats>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AlertEntry {
    pub id: String,
    /// The alert's fields, from whichever IP's alert list held it; `None` when not at hand.
    pub alert: Option<Alert>,
    /// Its related IPs; `None` when never fetched.
    pub ips: Option<Dated<Vec<String>>>,
    pub tags: Vec<String>,
    pub notes: Vec<Note>,
}

pub use crate::case::Note;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointCalls {
    pub endpoint: String,
    pub calls: u64,
}

/// The formats `export --format` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Json,
    Csv,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "md" | "markdown" => Ok(Self::Markdown),
            "json" => Ok(Self::Json),
            "csv" => Ok(Self::Csv),
            other => Err(format!(
                "unknown format '{other}' (expected md, json or csv)"
            )),
        }
    }
}

impl Format {
    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Markdown => "md",
            Self::Json => "json",
            Self::Csv => "csv",
        }
    }
}

/// Renders `report` as of `now` (for the data's ages).
pub fn render(report: &CaseReport, format: Format, now: DateTime<Utc>) -> String {
    match format {
        Format::Markdown => markdown::render(report, now),
        Format::Json => json::render(report, now),
        Format::Csv => csv::render(report, now),
    }
}

impl CaseReport {
    /// Deep link to an alert in the Defender portal.
    pub fn alert_link(&self, id: &str) -> String {
        portal::alert_link(&self.portal, self.tenant_id.as_deref(), id)
    }

    /// Deep link to an IP's page in the Defender portal.
    pub fn ip_link(&self, ip: &str) -> String {
        portal::ip_link(&self.portal, self.tenant_id.as_deref(), ip)
    }

    /// Deep link to a device's page in the Defender portal.
    pub fn device_link(&self, id: &str) -> String {
        portal::device_link(&self.portal, self.tenant_id.as_deref(), id)
    }
}

/// One line, with nothing that could hide or reorder text: line breaks of every kind and tabs
/// become spaces, escape sequences go, other controls and invisibles become U+FFFD (the
/// console's substitute). Server text was cleaned once when decoded; a report may also hold
/// the analyst's text, and a line break would end a table row or a CSV record.
fn one_line(s: &str) -> String {
    let breaks: String = s
        .chars()
        .map(|c| match c {
            '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}' => '\n',
            c => c,
        })
        .collect();
    sanitize::one_line(&breaks)
}

/// One piece of evidence on one line, its fields named: `File · name invoice.exe · path C:\x`.
fn evidence_line(e: &Evidence) -> String {
    let account = match (&e.domain_name, &e.account_name) {
        (Some(d), Some(a)) => Some(format!("{d}\\{a}")),
        (d, a) => a.clone().or(d.clone()),
    };
    let fields = [
        ("", e.entity_type.clone()),
        ("name ", e.file_name.clone()),
        ("path ", e.file_path.clone()),
        ("sha256 ", e.sha256.clone()),
        ("command line ", e.process_command_line.clone()),
        ("url ", e.url.clone()),
        ("ip ", e.ip_address.clone()),
        ("account ", account),
        ("detection ", e.detection_status.clone()),
    ];
    let parts: Vec<String> = fields
        .into_iter()
        .filter_map(|(name, v)| v.filter(|v| !v.is_empty()).map(|v| format!("{name}{v}")))
        .collect();
    if parts.is_empty() {
        return "-".into();
    }
    parts.join(" · ")
}

/// An instant as the JSON and CSV exports write it: RFC 3339 to the second, in UTC.
fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}
