//! The report as JSON, in a shape of our own (not the API's field names), stable for scripts:
//! README documents it. Text is kept exact (not defanged, not escaped beyond JSON's own
//! escaping): this is the format for machines, and serde_json writes valid JSON for any string.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{AlertEntry, CaseReport, Dated, PeriodStats, Place, PlaceEntry, PlaceFacts, stamp};
use crate::defender::Alert;
use crate::defender::model::{AlertComment, Evidence};
use crate::text::age;

#[derive(Serialize)]
struct Report<'a> {
    case: &'a str,
    created: String,
    updated: String,
    generated: String,
    tenant_id: Option<&'a str>,
    api_host: &'a str,
    calls: BTreeMap<&'a str, u64>,
    path: Vec<Step<'a>>,
    ips: Vec<Ip<'a>>,
    alerts: Vec<AlertOut<'a>>,
    /// Absent for a case with no device, as before devices were in cases.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    devices: Vec<DeviceOut<'a>>,
}

#[derive(Serialize)]
struct DeviceOut<'a> {
    id: &'a str,
    name: &'a str,
    link: String,
    tags: &'a [String],
    notes: Vec<NoteOut<'a>>,
    /// The record as last cached (the device entity, as the API names its fields); `null`: never
    /// fetched.
    record: Option<Record<'a>>,
}

#[derive(Serialize)]
struct Record<'a> {
    as_of: String,
    age: String,
    device: &'a crate::defender::Device,
}

#[derive(Serialize)]
struct Step<'a> {
    at: String,
    ip: Option<&'a str>,
    alert: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    device: Option<&'a str>,
}

#[derive(Serialize)]
struct Ip<'a> {
    ip: &'a str,
    link: String,
    tags: &'a [String],
    notes: Vec<NoteOut<'a>>,
    /// The freshest period fetched: one object, as scripts have read it.
    stats: Option<Stats>,
    /// The other periods fetched, if any, freshest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    stats_other_periods: Vec<Stats>,
    alerts: Option<Listed<AlertRow>>,
}

#[derive(Serialize)]
struct Stats {
    /// The period the prevalence counts over (`lookBackHours`).
    look_back_hours: u32,
    seen_in_org: bool,
    prevalence: Option<u64>,
    first_seen: Option<String>,
    last_seen: Option<String>,
    as_of: String,
    age: String,
}

#[derive(Serialize)]
struct Listed<T> {
    as_of: String,
    age: String,
    items: Vec<T>,
    /// What the list lacks (unread elements, a cut), as the console said it.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct AlertRow {
    id: String,
    link: String,
    title: String,
    severity: String,
    status: String,
    category: Option<String>,
    device: Option<String>,
    user: Option<String>,
    created: Option<String>,
    mitre_techniques: Vec<String>,
}

#[derive(Serialize)]
struct AlertOut<'a> {
    id: &'a str,
    link: String,
    /// The alert's fields, when an IP's alert list held it.
    details: Option<Details<'a>>,
    tags: &'a [String],
    notes: Vec<NoteOut<'a>>,
    ips: Option<Listed<&'a str>>,
}

/// An opened alert: its row, and the long texts a row leaves out.
#[derive(Serialize)]
struct Details<'a> {
    #[serde(flatten)]
    row: AlertRow,
    description: &'a str,
    comments: Vec<CommentOut<'a>>,
    evidence: Vec<EvidenceOut<'a>>,
}

#[derive(Serialize)]
struct CommentOut<'a> {
    at: Option<String>,
    by: Option<&'a str>,
    text: &'a str,
}

#[derive(Serialize)]
struct EvidenceOut<'a> {
    kind: Option<&'a str>,
    file_name: Option<&'a str>,
    file_path: Option<&'a str>,
    sha256: Option<&'a str>,
    command_line: Option<&'a str>,
    url: Option<&'a str>,
    ip: Option<&'a str>,
    account: Option<&'a str>,
    domain: Option<&'a str>,
    detection_status: Option<&'a str>,
}

#[derive(Serialize)]
struct NoteOut<'a> {
    at: String,
    text: &'a str,
}

pub(super) fn render(r: &CaseReport, now: DateTime<Utc>) -> String {
    let mut calls: BTreeMap<&str, u64> = r
        .calls
        .iter()
        .map(|c| (c.endpoint.as_str(), c.calls))
        .collect();
    calls.insert("total", r.calls.iter().map(|c| c.calls).sum());
    // Each kind of place in its own array, in the order of `places`.
    let (mut ips, mut devices) = (Vec::new(), Vec::new());
    for e in &r.places {
        match &e.facts {
            PlaceFacts::Ip { stats, alerts } => ips.push(ip(r, e, stats, alerts.as_ref(), now)),
            PlaceFacts::Device { device: d } => devices.push(device(r, e, d.as_ref(), now)),
        }
    }
    let report = Report {
        case: &r.case,
        created: stamp(r.created),
        updated: stamp(r.updated),
        generated: stamp(now),
        tenant_id: r.tenant_id.as_deref(),
        api_host: &r.api_host,
        calls,
        path: r.path.iter().map(step).collect(),
        ips,
        alerts: r.alerts.iter().map(|e| alert(r, e, now)).collect(),
        devices,
    };
    let mut text = serde_json::to_string_pretty(&report).expect("plain data serialises");
    text.push('\n');
    text
}

/// A step, its place under its kind's field.
fn step(s: &super::Step) -> Step<'_> {
    let (mut ip, mut device) = (None, None);
    match &s.place {
        Some(Place::Ip(id)) => ip = Some(id.as_str()),
        Some(Place::Device(id)) => device = Some(id.as_str()),
        None => {}
    }
    Step {
        at: stamp(s.at),
        ip,
        alert: s.alert.as_deref(),
        device,
    }
}

fn ip<'a>(
    r: &CaseReport,
    e: &'a PlaceEntry,
    stats: &[PeriodStats],
    alerts: Option<&Dated<Vec<Alert>>>,
    now: DateTime<Utc>,
) -> Ip<'a> {
    Ip {
        ip: &e.id,
        link: r.ip_link(&e.id),
        tags: &e.tags,
        notes: notes(&e.notes),
        stats: stats.first().map(|p| period(p, now)),
        stats_other_periods: stats.iter().skip(1).map(|p| period(p, now)).collect(),
        alerts: alerts.map(|d| listed(d, now, |a| row(r, a))),
    }
}

fn device<'a>(
    r: &CaseReport,
    e: &'a PlaceEntry,
    d: Option<&'a Dated<Box<crate::defender::Device>>>,
    now: DateTime<Utc>,
) -> DeviceOut<'a> {
    DeviceOut {
        id: &e.id,
        name: e.name(),
        link: r.device_link(&e.id),
        tags: &e.tags,
        notes: notes(&e.notes),
        record: d.map(|d| Record {
            as_of: stamp(d.as_of),
            age: age(d.as_of, now),
            device: &d.value,
        }),
    }
}

fn period(p: &PeriodStats, now: DateTime<Utc>) -> Stats {
    let d = &p.stats;
    Stats {
        look_back_hours: p.look_back.hours(),
        seen_in_org: d.value.as_ref().is_some_and(|s| s.seen_in_org()),
        prevalence: d.value.as_ref().and_then(|s| s.prevalence()),
        first_seen: d.value.as_ref().and_then(|s| s.org_first_seen).map(stamp),
        last_seen: d.value.as_ref().and_then(|s| s.org_last_seen).map(stamp),
        as_of: stamp(d.as_of),
        age: age(d.as_of, now),
    }
}

fn alert<'a>(r: &CaseReport, e: &'a AlertEntry, now: DateTime<Utc>) -> AlertOut<'a> {
    AlertOut {
        id: &e.id,
        link: r.alert_link(&e.id),
        details: e.alert.as_ref().map(|a| details(r, a)),
        tags: &e.tags,
        notes: notes(&e.notes),
        ips: e.ips.as_ref().map(|d| Listed {
            as_of: stamp(d.as_of),
            age: age(d.as_of, now),
            items: d.value.iter().map(String::as_str).collect(),
            warnings: d.caveats.clone(),
        }),
    }
}

fn row(r: &CaseReport, a: &Alert) -> AlertRow {
    AlertRow {
        id: a.id.clone(),
        link: r.alert_link(&a.id),
        title: a.title.clone(),
        severity: a.severity.to_string(),
        status: a.status.to_string(),
        category: a.category.clone(),
        device: a.device().map(str::to_owned),
        user: a.related_user.as_ref().map(|u| u.display()),
        created: a.alert_creation_time.map(stamp),
        mitre_techniques: a.mitre_techniques.clone(),
    }
}

fn details<'a>(r: &CaseReport, a: &'a Alert) -> Details<'a> {
    Details {
        row: row(r, a),
        description: &a.description,
        comments: a.comments.iter().map(comment).collect(),
        evidence: a.evidence.iter().map(evidence).collect(),
    }
}

fn comment(c: &AlertComment) -> CommentOut<'_> {
    CommentOut {
        at: c.created_time.map(stamp),
        by: c.created_by.as_deref(),
        text: &c.comment,
    }
}

fn evidence(e: &Evidence) -> EvidenceOut<'_> {
    EvidenceOut {
        kind: e.entity_type.as_deref(),
        file_name: e.file_name.as_deref(),
        file_path: e.file_path.as_deref(),
        sha256: e.sha256.as_deref(),
        command_line: e.process_command_line.as_deref(),
        url: e.url.as_deref(),
        ip: e.ip_address.as_deref(),
        account: e.account_name.as_deref(),
        domain: e.domain_name.as_deref(),
        detection_status: e.detection_status.as_deref(),
    }
}

fn listed<T, U>(d: &Dated<Vec<T>>, now: DateTime<Utc>, f: impl Fn(&T) -> U) -> Listed<U> {
    Listed {
        as_of: stamp(d.as_of),
        age: age(d.as_of, now),
        items: d.value.iter().map(f).collect(),
        warnings: d.caveats.clone(),
    }
}

fn notes(notes: &[super::Note]) -> Vec<NoteOut<'_>> {
    notes
        .iter()
        .map(|n| NoteOut {
            at: stamp(n.at),
            text: &n.text,
        })
        .collect()
}
