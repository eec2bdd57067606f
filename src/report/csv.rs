//! The report as CSV for spreadsheets: one row per IP and per alert. Cells that a spreadsheet
//! would run as a formula are defused (OWASP's advice: a leading `'`).

use chrono::{DateTime, SecondsFormat, Utc};

use super::{CaseReport, age};

const HEADER: [&str; 16] = [
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
];

pub(super) fn render(r: &CaseReport, now: DateTime<Utc>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut rows: Vec<[String; 16]> = Vec::new();
    for e in &r.ips {
        let visited = r.path.iter().find(|s| s.ip.as_deref() == Some(&e.ip));
        let stats = e.stats.as_ref();
        let seen = stats
            .and_then(|d| d.value.as_ref())
            .filter(|s| s.seen_in_org());
        let related: Vec<&str> = e
            .alerts
            .iter()
            .flat_map(|d| d.value.iter().map(|a| a.id.as_str()))
            .collect();
        rows.push([
            "ip".into(),
            e.ip.clone(),
            visited.map(|s| stamp(s.at)).unwrap_or_default(),
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
            notes(&e.notes),
            r.ip_link(&e.ip),
        ]);
    }
    for e in &r.alerts {
        let visited = r.path.iter().find(|s| s.alert.as_deref() == Some(&e.id));
        let a = e.alert.as_ref();
        rows.push([
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
            notes(&e.notes),
            r.alert_link(&e.id),
        ]);
    }
    // Writing to a Vec cannot fail; the csv crate still returns Results.
    let _ = w.write_record(HEADER);
    for row in rows {
        let _ = w.write_record(row.iter().map(|c| defuse(c)));
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

fn notes(notes: &[super::Note]) -> String {
    notes
        .iter()
        .map(|n| format!("{}: {}", stamp(n.at), n.text.replace(['\r', '\n'], " ")))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// A cell a spreadsheet would evaluate (`=`, `+`, `-`, `@`, tab, CR) gets a leading `'`.
fn defuse(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_defused() {
        assert_eq!(defuse("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(defuse("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(defuse("-1+2"), "'-1+2");
        assert_eq!(defuse("10.0.0.1"), "10.0.0.1");
        assert_eq!(defuse(""), "");
    }
}
