//! The report as CSV for spreadsheets: one row per IP, per alert and per device. Every cell is quoted and
//! defused ([`super::formula`]), so no spreadsheet runs one as a formula, whatever separator
//! it splits on. Values are otherwise exact, not defanged: in a spreadsheet analysts filter and
//! match on indicators as they are, and the link a cell can hide there is a formula
//! (`=HYPERLINK`), which is defused. (Some spreadsheets do show a plain URL as clickable.)

use chrono::{DateTime, Utc};

use super::formula::defuse;
use super::{
    AlertEntry, CaseReport, Dated, PeriodStats, PlaceEntry, PlaceFacts, evidence_line, stamp,
};
use crate::defender::{Alert, Device};
use crate::text::age;

const COLUMNS: usize = 21;

const HEADER: [&str; COLUMNS] = [
    "kind",
    "id",
    "visited",
    "prevalence",
    "first_seen",
    "last_seen",
    "data_as_of",
    "severity",
    "status",
    "device",
    "created",
    "title",
    "related",
    "tags",
    "notes",
    "link",
    "user",
    "description",
    "evidence",
    "comments",
    // Last, so the columns scripts knew keep their places: the period of `prevalence`.
    "look_back_hours",
];

pub(super) fn render(r: &CaseReport, now: DateTime<Utc>) -> String {
    let mut w = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .from_writer(Vec::new());
    // Each kind's rows, its places in the order of `places`: IPs, then alerts, then devices.
    let (mut ips, mut devices) = (Vec::new(), Vec::new());
    for e in &r.places {
        let place = e.place();
        let visited = r.path.iter().find(|s| s.place.as_ref() == Some(&place));
        let visited = visited.map(|s| stamp(s.at)).unwrap_or_default();
        match &e.facts {
            PlaceFacts::Ip { stats, alerts } => {
                ips.push(ip_row(r, e, visited, stats, alerts.as_ref(), now))
            }
            PlaceFacts::Device { device } => {
                devices.push(device_row(r, e, visited, device.as_ref(), now))
            }
        }
    }
    let alerts = r.alerts.iter().map(|e| alert_row(r, e, now));
    let rows: Vec<Row> = ips.into_iter().chain(alerts).chain(devices).collect();
    // Writing to a Vec cannot fail; the csv crate still returns Results.
    let _ = w.write_record(HEADER.iter().map(|c| defuse(c)));
    for row in rows {
        let _ = w.write_record(row.iter().map(|c| defuse(c)));
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// One record of the file, a cell per column.
type Row = [String; COLUMNS];

fn ip_row(
    r: &CaseReport,
    e: &PlaceEntry,
    visited: String,
    stats: &[PeriodStats],
    alerts: Option<&Dated<Vec<Alert>>>,
    now: DateTime<Utc>,
) -> Row {
    // The freshest period fetched; the Markdown and JSON reports hold every one.
    let period = stats.first();
    let stats = period.map(|p| &p.stats);
    let seen = stats
        .and_then(|d| d.value.as_ref())
        .filter(|s| s.seen_in_org());
    let related: Vec<&str> = alerts
        .iter()
        .flat_map(|d| d.value.iter().map(|a| a.id.as_str()))
        .collect();
    [
        "ip".into(),
        e.id.clone(),
        visited,
        match (stats, seen) {
            (None, _) => String::new(),
            (Some(_), None) => "0".into(),
            (Some(_), Some(s)) => s.prevalence().unwrap_or(0).to_string(),
        },
        seen.and_then(|s| s.org_first_seen)
            .map(stamp)
            .unwrap_or_default(),
        seen.and_then(|s| s.org_last_seen)
            .map(stamp)
            .unwrap_or_default(),
        stats
            .map(|d| format!("{} ({})", stamp(d.as_of), age(d.as_of, now)))
            .unwrap_or_default(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        related.join(" "),
        e.tags.join("; "),
        with_caveats(notes(&e.notes), alerts.map(|d| &d.caveats[..])),
        r.ip_link(&e.id),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        period
            .map(|p| p.look_back.hours().to_string())
            .unwrap_or_default(),
    ]
}

fn alert_row(r: &CaseReport, e: &AlertEntry, now: DateTime<Utc>) -> Row {
    let visited = r.path.iter().find(|s| s.alert.as_deref() == Some(&e.id));
    let a = e.alert.as_ref();
    [
        "alert".into(),
        e.id.clone(),
        visited.map(|s| stamp(s.at)).unwrap_or_default(),
        String::new(),
        String::new(),
        String::new(),
        e.ips
            .as_ref()
            .map(|d| format!("{} ({})", stamp(d.as_of), age(d.as_of, now)))
            .unwrap_or_default(),
        a.map(|a| a.severity.to_string()).unwrap_or_default(),
        a.map(|a| a.status.to_string()).unwrap_or_default(),
        a.and_then(|a| a.device()).unwrap_or_default().to_owned(),
        a.and_then(|a| a.alert_creation_time)
            .map(stamp)
            .unwrap_or_default(),
        a.map(|a| a.title.clone()).unwrap_or_default(),
        e.ips
            .as_ref()
            .map(|d| d.value.join(" "))
            .unwrap_or_default(),
        e.tags.join("; "),
        with_caveats(notes(&e.notes), e.ips.as_ref().map(|d| &d.caveats[..])),
        r.alert_link(&e.id),
        a.and_then(|a| a.related_user.as_ref())
            .map(|u| u.display())
            .unwrap_or_default(),
        a.map(|a| a.description.clone()).unwrap_or_default(),
        a.map(|a| {
            let lines: Vec<String> = a.evidence.iter().map(evidence_line).collect();
            lines.join(" | ")
        })
        .unwrap_or_default(),
        a.map(|a| comments(&a.comments)).unwrap_or_default(),
        String::new(),
    ]
}

/// A device's row: its name in `device`, its health and risk in `status` and `severity`.
fn device_row(
    r: &CaseReport,
    e: &PlaceEntry,
    visited: String,
    d: Option<&Dated<Box<Device>>>,
    now: DateTime<Utc>,
) -> Row {
    let v = d.map(|d| &d.value);
    [
        "device".into(),
        e.id.clone(),
        visited,
        String::new(),
        v.and_then(|v| v.first_seen).map(stamp).unwrap_or_default(),
        v.and_then(|v| v.last_seen).map(stamp).unwrap_or_default(),
        d.map(|d| format!("{} ({})", stamp(d.as_of), age(d.as_of, now)))
            .unwrap_or_default(),
        v.and_then(|v| v.risk_score.clone()).unwrap_or_default(),
        v.and_then(|v| v.health_status.clone()).unwrap_or_default(),
        e.name().to_owned(),
        String::new(),
        v.and_then(|v| v.os_platform.clone()).unwrap_or_default(),
        v.and_then(|v| v.last_ip_address.clone())
            .unwrap_or_default(),
        e.tags.join("; "),
        notes(&e.notes),
        r.device_link(&e.id),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    ]
}

/// The notes cell, with what the row's list lacks said first (`warning: list cut at 50 pages`).
fn with_caveats(notes: String, caveats: Option<&[String]>) -> String {
    let mut parts: Vec<String> = caveats
        .unwrap_or_default()
        .iter()
        .map(|c| format!("warning: {c}"))
        .collect();
    if !notes.is_empty() {
        parts.push(notes);
    }
    parts.join(" | ")
}

fn notes(notes: &[super::Note]) -> String {
    notes
        .iter()
        .map(|n| format!("{}: {}", stamp(n.at), n.text))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// `2026-11-20T09:40:11Z tier1@contoso.com: text | ...`, in the order the API lists them.
fn comments(comments: &[crate::defender::model::AlertComment]) -> String {
    comments
        .iter()
        .map(|c| {
            let when = c.created_time.map(stamp).unwrap_or_else(|| "-".into());
            let by = c.created_by.as_deref().unwrap_or("-");
            format!("{when} {by}: {}", c.comment)
        })
        .collect::<Vec<_>>()
        .join(" | ")
}
