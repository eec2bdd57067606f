//! The JSON shapes scripts read from `ip`, `alert`, `device` and `expand` (stable, documented in
//! README),
//! and what a list answer lacks, said the same way by each of them.

use serde::Serialize;

use super::Failure;
use crate::defender::listing::Item;
use crate::defender::{Alert, Device, IpStats, Listing, LookBack};

#[derive(Debug, Serialize)]
pub struct StatsJson {
    pub prevalence: u64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    /// The period the prevalence counts over (`lookBackHours`).
    pub look_back_hours: u32,
}

impl StatsJson {
    /// `s`, the answer for `period`.
    pub fn of(s: &IpStats, period: LookBack) -> Self {
        Self {
            look_back_hours: period.hours(),
            prevalence: s.prevalence().unwrap_or(0),
            first_seen: s
                .org_first_seen
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
            last_seen: s
                .org_last_seen
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct AlertJson {
    pub id: String,
    pub title: String,
    pub severity: String,
    pub status: String,
    pub category: Option<String>,
    pub created: Option<String>,
    pub device: Option<String>,
    /// The device's id, for `device ID`: `device` is its name when the alert has one.
    pub machine_id: Option<String>,
    pub user: Option<String>,
    pub detection_source: Option<String>,
    pub mitre_techniques: Vec<String>,
    pub incident_id: Option<i64>,
}

impl From<&Alert> for AlertJson {
    fn from(a: &Alert) -> Self {
        Self {
            id: a.id.clone(),
            title: a.title.clone(),
            severity: a.severity.as_str().to_owned(),
            status: a.status.as_str().to_owned(),
            category: a.category.clone(),
            created: a
                .alert_creation_time
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
            device: a.device().map(str::to_owned),
            machine_id: a.machine_id.clone(),
            user: a.related_user.as_ref().map(|u| u.display()),
            detection_source: a.detection_source.clone(),
            mitre_techniques: a.mitre_techniques.clone(),
            incident_id: a.incident_id,
        }
    }
}

/// A device as scripts read it: its id and the name to show first, then what the Machine
/// entity says of it (FACTS.md 8.5), enum-like values as the API sent them.
#[derive(Debug, Serialize)]
pub struct DeviceJson {
    pub id: String,
    /// The DNS name, else the id.
    pub name: String,
    pub os_platform: Option<String>,
    pub version: Option<String>,
    pub os_build: Option<i64>,
    pub health_status: Option<String>,
    pub risk_score: Option<String>,
    pub exposure_level: Option<String>,
    pub device_value: Option<String>,
    pub tags: Vec<String>,
    pub group: Option<String>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub last_ip: Option<String>,
    pub last_external_ip: Option<String>,
    pub aad_device_id: Option<String>,
    pub ip_addresses: Vec<String>,
}

impl From<&Device> for DeviceJson {
    fn from(d: &Device) -> Self {
        let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
            t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        };
        Self {
            id: d.id.clone(),
            name: d.name().to_owned(),
            os_platform: d.os_platform.clone(),
            version: d.version.clone(),
            os_build: d.os_build,
            health_status: d.health_status.clone(),
            risk_score: d.risk_score.clone(),
            exposure_level: d.exposure_level.clone(),
            device_value: d.device_value.clone(),
            tags: d.machine_tags.clone(),
            group: d.rbac_group_name.clone(),
            first_seen: time(d.first_seen),
            last_seen: time(d.last_seen),
            last_ip: d.last_ip_address.clone(),
            last_external_ip: d.last_external_ip_address.clone(),
            aad_device_id: d.aad_device_id.clone(),
            ip_addresses: d
                .ip_addresses
                .iter()
                .filter_map(|a| a.ip_address.clone())
                .collect(),
        }
    }
}

/// What a list answer lacks, for the commands that print one: said on stderr, carried in the
/// JSON, and for a one-shot turned into the exit code when it is an error (a refused link, a
/// failed page) rather than a cap. A one-shot's enrichments (`alert --with device`, `ip
/// --devices-at`) add what they could not read here too, as warnings that never change the
/// exit code: a one-shot's exit code is its main answer's.
#[derive(Debug, Default)]
pub struct ListCaveats {
    what: String,
    /// One sentence per caveat.
    pub lines: Vec<String>,
    /// The list may be incomplete.
    pub truncated: bool,
    unread: usize,
    exit: Option<(u8, String)>,
    /// One sentence per enrichment not read, naming the permission or what a 404 means.
    enrichments: Vec<String>,
}

impl ListCaveats {
    pub fn of<T: Item>(list: &Listing<T>, what: &str) -> Self {
        Self {
            what: what.to_owned(),
            lines: list.caveats(),
            truncated: list.cut.is_some(),
            unread: list.unread.len(),
            exit: list
                .cut
                .as_ref()
                .and_then(|c| Some((c.exit_code()?, c.describe(list.pages)))),
            enrichments: Vec::new(),
        }
    }

    /// What an enrichment could not read: a warning in the JSON and on stderr, not a failure.
    pub fn warn(&mut self, sentence: String) {
        self.enrichments.push(sentence);
    }

    pub fn json(&self) -> CaveatsJson {
        CaveatsJson {
            truncated: self.truncated,
            unread: self.unread,
            warnings: self
                .lines
                .iter()
                .chain(&self.enrichments)
                .cloned()
                .collect(),
        }
    }

    /// Says each caveat on stderr, as it is met (`expand`).
    pub fn say(&self) {
        for line in &self.lines {
            eprintln!("mde-triage: {}: {line}", self.what);
        }
    }

    /// For a one-shot, after its output: says each caveat and each enrichment's warning on
    /// stderr (one line each), then the exit code, which only the list's own errors make.
    pub fn finish(self) -> Result<(), Failure> {
        for line in &self.lines {
            if self.exit.as_ref().is_none_or(|(_, m)| m != line) {
                eprintln!("mde-triage: {}: {line}", self.what);
            }
        }
        for warning in &self.enrichments {
            eprintln!("mde-triage: warning: {warning}");
        }
        match self.exit {
            Some((code, message)) => Err(Failure::new(code, format!("{}: {message}", self.what))),
            None => Ok(()),
        }
    }
}

/// Always present, so scripts can test `.truncated` without guessing.
#[derive(Serialize)]
pub struct CaveatsJson {
    /// The list may be incomplete: a page cap, a repeated or refused link, a failed page.
    pub truncated: bool,
    /// Elements the API sent that could not be read at all.
    pub unread: usize,
    /// One sentence per caveat, then one per enrichment not read, as stderr says them.
    pub warnings: Vec<String>,
}
