//! The report as Markdown that pastes cleanly into a ticket (GitHub, GitLab, Jira, ServiceNow):
//! every server or analyst string defanged and escaped ([`super::md_escape`]), so a title can
//! never inject a link, an image or HTML, nor break a table. The only links are ours, to the
//! Defender portal.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::md_escape::{code, text};
use super::{
    AlertEntry, CaseReport, Dated, PeriodStats, Place, PlaceEntry, PlaceFacts, evidence_line,
};
use crate::defender::{Alert, Device, IpStats};
use crate::text::{age, thousands};

pub(super) fn render(r: &CaseReport, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Case {}\n", text(&r.case));
    let total: u64 = r.calls.iter().map(|c| c.calls).sum();
    let split: Vec<String> = r
        .calls
        .iter()
        .map(|c| format!("{} {}", c.endpoint, c.calls))
        .collect();
    let _ = writeln!(
        out,
        "- Created: {} · updated: {}",
        when(r.created),
        when(r.updated)
    );
    // Our own configuration, defanged all the same: then no text in the report is a link.
    let _ = writeln!(out, "- Source: {}", text(&r.api_host));
    if let Some(tid) = &r.tenant_id {
        let _ = writeln!(out, "- Tenant: `{}`", code(tid));
    }
    let _ = writeln!(out, "- API calls spent: {total} ({})", split.join(", "));
    let _ = writeln!(out, "- Report generated: {}\n", when(now));

    out.push_str("## Pivot path\n\n");
    if r.path.is_empty() {
        out.push_str("Nothing visited yet.\n");
    }
    for (i, step) in r.path.iter().enumerate() {
        let mut parts = Vec::new();
        match &step.place {
            Some(Place::Ip(ip)) => parts.push(link(ip, &r.ip_link(ip))),
            Some(place @ Place::Device(id)) => {
                let name = r
                    .places
                    .iter()
                    .find(|e| e.place() == *place)
                    .map_or(id.as_str(), PlaceEntry::name);
                parts.push(format!("device {}", link(name, &r.device_link(id))));
            }
            None => {}
        }
        if let Some(id) = &step.alert {
            parts.push(format!("alert {}", link(id, &r.alert_link(id))));
        }
        let _ = writeln!(out, "{}. {} · {}", i + 1, when(step.at), parts.join(" → "));
    }

    // Each kind's section, its places in the order of `places`.
    let (mut ips, mut devices) = (String::new(), String::new());
    for e in &r.places {
        match &e.facts {
            PlaceFacts::Ip { stats, alerts } => {
                ip_section(&mut ips, r, e, stats, alerts.as_ref(), now)
            }
            PlaceFacts::Device { device } => {
                device_section(&mut devices, r, e, device.as_ref(), now)
            }
        }
    }

    out.push_str("\n## IPs\n");
    if ips.is_empty() {
        out.push_str("\nNone.\n");
    }
    out.push_str(&ips);

    out.push_str("\n## Alerts\n");
    if r.alerts.is_empty() {
        out.push_str("\nNone opened.\n");
    }
    for a in &r.alerts {
        alert_section(&mut out, r, a, now);
    }

    // Reports of cases with no device keep the shape they always had.
    if !devices.is_empty() {
        out.push_str("\n## Devices\n");
    }
    out.push_str(&devices);
    out
}

fn device_section(
    out: &mut String,
    r: &CaseReport,
    e: &PlaceEntry,
    device: Option<&Dated<Box<Device>>>,
    now: DateTime<Utc>,
) {
    let _ = writeln!(out, "\n### {}\n", text(e.name()));
    let _ = writeln!(out, "- Device: {}", link(&e.id, &r.device_link(&e.id)));
    tags_line(out, &e.tags);
    match device {
        None => out.push_str("- Record: not fetched\n"),
        Some(d) => {
            let v = &d.value;
            let facts: Vec<String> = [
                v.os_platform.clone(),
                v.health_status.clone().map(|h| format!("health {h}")),
                v.risk_score.clone().map(|r| format!("risk {r}")),
                v.exposure_level.clone().map(|x| format!("exposure {x}")),
                v.last_ip_address.clone().map(|ip| format!("last IP {ip}")),
            ]
            .into_iter()
            .flatten()
            .collect();
            let _ = writeln!(
                out,
                "- Record ({}): {}",
                dated(d.as_of, now),
                text(&facts.join(" · "))
            );
            if !v.machine_tags.is_empty() {
                let _ = writeln!(out, "- Device tags: {}", text(&v.machine_tags.join(", ")));
            }
        }
    }
    notes(out, &e.notes);
}

fn ip_section(
    out: &mut String,
    r: &CaseReport,
    e: &PlaceEntry,
    stats: &[PeriodStats],
    alerts: Option<&Dated<Vec<Alert>>>,
    now: DateTime<Utc>,
) {
    let _ = writeln!(out, "\n### {}\n", text(&e.id));
    let _ = writeln!(
        out,
        "- Portal: {}",
        link("open in Defender", &r.ip_link(&e.id))
    );
    tags_line(out, &e.tags);
    if stats.is_empty() {
        out.push_str("- Prevalence: not fetched\n");
    }
    for p in stats {
        let _ = writeln!(
            out,
            "- Prevalence over {}: {}",
            p.look_back,
            prevalence(&p.stats, now)
        );
    }
    match alerts {
        None => out.push_str("\nAlerts not fetched.\n"),
        Some(d) if d.value.is_empty() && d.caveats.is_empty() => {
            let _ = writeln!(out, "\nNo related alerts ({}).", dated(d.as_of, now));
        }
        Some(d) => {
            let _ = writeln!(
                out,
                "\n{} related alert(s) ({}):\n",
                d.value.len(),
                dated(d.as_of, now)
            );
            // What the list lacks goes with it into the ticket.
            for c in &d.caveats {
                let _ = writeln!(out, "Note: {}\n", text(c));
            }
            out.push_str("| Severity | Status | Created | Device | Title | Alert |\n");
            out.push_str("|---|---|---|---|---|---|\n");
            for a in &d.value {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} |",
                    text(&a.severity.to_string()),
                    text(&a.status.to_string()),
                    a.alert_creation_time
                        .map(when)
                        .unwrap_or_else(|| "-".into()),
                    text(a.device().unwrap_or("-")),
                    text(&a.title),
                    link(&a.id, &r.alert_link(&a.id)),
                );
            }
        }
    }
    notes(out, &e.notes);
}

fn alert_section(out: &mut String, r: &CaseReport, e: &AlertEntry, now: DateTime<Utc>) {
    let title = e
        .alert
        .as_ref()
        .map(|a| a.title.as_str())
        .filter(|t| !t.is_empty())
        .unwrap_or(&e.id);
    let _ = writeln!(out, "\n### {}\n", text(title));
    let _ = writeln!(out, "- Alert: {}", link(&e.id, &r.alert_link(&e.id)));
    tags_line(out, &e.tags);
    if let Some(a) = &e.alert {
        alert_fields(out, a);
    }
    match &e.ips {
        None => out.push_str("- Related IPs: not fetched\n"),
        Some(d) => {
            let ips: Vec<String> = d.value.iter().map(|ip| link(ip, &r.ip_link(ip))).collect();
            let list = if ips.is_empty() {
                "none".to_owned()
            } else {
                ips.join(", ")
            };
            let _ = writeln!(out, "- Related IPs ({}): {list}", dated(d.as_of, now));
            for c in &d.caveats {
                let _ = writeln!(out, "- Note: {}", text(c));
            }
        }
    }
    notes(out, &e.notes);
}

fn alert_fields(out: &mut String, a: &Alert) {
    let mut field = |name: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty() && v != "-") {
            let _ = writeln!(out, "- {name}: {}", text(&v));
        }
    };
    field("Severity", Some(a.severity.to_string()));
    field("Status", Some(a.status.to_string()));
    field("Category", a.category.clone());
    field("Device", a.device().map(str::to_owned));
    field("User", a.related_user.as_ref().map(|u| u.display()));
    field("Created", a.alert_creation_time.map(when));
    field("MITRE techniques", Some(a.mitre_techniques.join(", ")));
    field("Description", Some(joined_lines(&a.description)));
    if !a.evidence.is_empty() {
        out.push_str("- Evidence:\n");
        for e in &a.evidence {
            let _ = writeln!(out, "  - {}", text(&evidence_line(e)));
        }
    }
    if !a.comments.is_empty() {
        out.push_str("- Comments:\n");
        for c in &a.comments {
            let at = c.created_time.map(when).unwrap_or_else(|| "-".into());
            let by = c.created_by.as_deref().unwrap_or("-");
            let _ = writeln!(
                out,
                "  - {at}, {}: {}",
                text(by),
                text(&joined_lines(&c.comment))
            );
        }
    }
}

/// A multi-line text on one line, its lines joined by ` / `, blank ones left out: a bullet
/// holds one line, and a line break could start new markup.
fn joined_lines(s: &str) -> String {
    let lines: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    lines.join(" / ")
}

fn prevalence(d: &Dated<Option<IpStats>>, now: DateTime<Utc>) -> String {
    match &d.value {
        Some(s) if s.seen_in_org() => format!(
            "{} device(s) in the org, first seen {}, last seen {} ({})",
            thousands(s.prevalence().unwrap_or(0)),
            s.org_first_seen.map(when).unwrap_or_else(|| "-".into()),
            s.org_last_seen.map(when).unwrap_or_else(|| "-".into()),
            dated(d.as_of, now)
        ),
        _ => format!("not seen in the org ({})", dated(d.as_of, now)),
    }
}

fn tags_line(out: &mut String, tags: &[String]) {
    if !tags.is_empty() {
        let list: Vec<String> = tags.iter().map(|t| format!("`{}`", code(t))).collect();
        let _ = writeln!(out, "- Tags: {}", list.join(" "));
    }
}

fn notes(out: &mut String, notes: &[super::Note]) {
    if notes.is_empty() {
        return;
    }
    out.push_str("\nNotes:\n\n");
    for n in notes {
        let _ = writeln!(out, "- {}: {}", when(n.at), text(&joined_lines(&n.text)));
    }
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn dated(as_of: DateTime<Utc>, now: DateTime<Utc>) -> String {
    format!("as of {}, {}", when(as_of), age(as_of, now))
}

fn link(label: &str, url: &str) -> String {
    // Our own URLs are percent-encoded already; only the label needs escaping.
    format!("[{}]({url})", text(label))
}
