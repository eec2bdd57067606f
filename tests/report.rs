//! Export golden files: one case rendered as Markdown, JSON and CSV with a fixed "now", pinned
//! with insta, plus the facts that must hold whatever the snapshots say (escaping, formula
//! defusing, links with the tenant, parseable output).

mod support;

use chrono::{DateTime, Duration, TimeZone, Utc};
use mde_triage::case::Note;
use mde_triage::defender::{Alert, Severity, Status};
use mde_triage::report::{
    AlertEntry, CaseReport, Dated, EndpointCalls, Format, IpEntry, Step, render,
};
use support::{DOC_ALERT, DOC_IP, doc_stats};

fn t(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, h, m, 0).unwrap()
}

fn now() -> DateTime<Utc> {
    t(16, 30)
}

fn alert(id: &str, title: &str, severity: Severity, device: &str, created: DateTime<Utc>) -> Alert {
    Alert {
        id: id.into(),
        title: title.into(),
        severity,
        status: Status::New,
        category: Some("CommandAndControl".into()),
        computer_dns_name: Some(device.into()),
        alert_creation_time: Some(created),
        mitre_techniques: vec!["T1071".into(), "T1105".into()],
        ..Alert::default()
    }
}

fn case() -> CaseReport {
    let doc = alert(
        DOC_ALERT,
        "Suspicious PowerShell download cradle",
        Severity::High,
        "ws-fin-07.contoso.local",
        t(9, 14),
    );
    let hostile = alert(
        "da637000000000000000_1",
        "Beacon | *bold* [x](javascript:alert(1))",
        Severity::Low,
        "=cmd|' /C calc'!A0",
        t(8, 2),
    );
    CaseReport {
        case: "INC-1042".into(),
        created: t(14, 0),
        updated: t(15, 45),
        tenant_id: Some("72f988bf-86f1-41af-91ab-2d7cd011db47".into()),
        api_host: "api.security.microsoft.com".into(),
        portal: "https://security.microsoft.com".into(),
        path: vec![
            Step {
                at: t(14, 2),
                ip: Some(DOC_IP.into()),
                alert: None,
            },
            Step {
                at: t(14, 5),
                ip: Some(DOC_IP.into()),
                alert: Some(DOC_ALERT.into()),
            },
            Step {
                at: t(14, 9),
                ip: Some("23.203.232.228".into()),
                alert: None,
            },
        ],
        ips: vec![
            IpEntry {
                ip: DOC_IP.into(),
                stats: Some(Dated {
                    value: Some(doc_stats()),
                    as_of: t(14, 2),
                }),
                alerts: Some(Dated {
                    value: vec![doc.clone(), hostile],
                    as_of: t(14, 2),
                }),
                tags: vec!["malicious".into(), "c2 infra".into()],
                notes: vec![Note {
                    at: t(14, 20),
                    text: "Beacons every 60 s.\nSame host as INC-1031.".into(),
                }],
            },
            IpEntry {
                ip: "23.203.232.228".into(),
                stats: Some(Dated {
                    value: None,
                    as_of: now() - Duration::days(2),
                }),
                alerts: Some(Dated {
                    value: vec![],
                    as_of: t(14, 9),
                }),
                tags: vec!["needs review".into()],
                notes: vec![],
            },
            IpEntry {
                ip: "2001:db8::7".into(),
                stats: None,
                alerts: None,
                tags: vec!["=1+1".into()],
                notes: vec![Note {
                    at: t(15, 45),
                    text: "=HYPERLINK(\"http://evil\")".into(),
                }],
            },
        ],
        alerts: vec![AlertEntry {
            id: DOC_ALERT.into(),
            alert: Some(doc),
            ips: Some(Dated {
                value: vec!["104.80.104.128".into(), "23.203.232.228".into()],
                as_of: t(14, 5),
            }),
            tags: vec!["suspicious".into()],
            notes: vec![],
        }],
        calls: vec![
            EndpointCalls {
                endpoint: "stats".into(),
                calls: 3,
            },
            EndpointCalls {
                endpoint: "ip-alerts".into(),
                calls: 2,
            },
            EndpointCalls {
                endpoint: "alert-ips".into(),
                calls: 1,
            },
        ],
    }
}

#[test]
fn markdown_pastes_cleanly_into_a_ticket() {
    let md = render(&case(), Format::Markdown, now());
    insta::assert_snapshot!("report_md", md);
    // Every link in the report is one of ours: a title cannot make one.
    for (i, _) in md.match_indices("](") {
        let escaped = md[..i].ends_with('\\');
        let ours = md[i + 2..].starts_with("https://security.microsoft.com/");
        assert!(escaped || ours, "{}", &md[i.saturating_sub(40)..i + 20]);
    }
    assert!(md.contains("\\| \\*bold\\*"), "table cells are escaped");
    assert!(md.contains(
        "(https://security.microsoft.com/alerts/636688558380765161_2136280442?tid=72f988bf-86f1-41af-91ab-2d7cd011db47)"
    ));
    assert!(md.contains("/ip/2001%3Adb8%3A%3A7/overview?tid="));
    assert!(md.contains("63,515 device(s)"), "prevalence with its age");
    assert!(md.contains("not seen in the org (as of 2026-11-21 16:30 UTC, 2 days ago)"));
    assert!(md.contains("API calls spent: 6"));
}

#[test]
fn json_has_our_own_stable_shape() {
    let text = render(&case(), Format::Json, now());
    insta::assert_snapshot!("report_json", text);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["ips"][0]["stats"]["prevalence"], 63515);
    assert_eq!(v["ips"][0]["stats"]["first_seen"], "2017-07-30T13:36:06Z");
    assert_eq!(v["ips"][1]["stats"]["seen_in_org"], false);
    assert!(v["ips"][2]["stats"].is_null(), "never fetched");
    assert_eq!(v["calls"]["total"], 6);
    assert_eq!(v["path"].as_array().unwrap().len(), 3);
    assert_eq!(v["alerts"][0]["ips"]["items"][0], "104.80.104.128");
    assert!(v["ips"][0].get("organizationPrevalence").is_none());
}

#[test]
fn csv_parses_back_and_defuses_formulas() {
    let text = render(&case(), Format::Csv, now());
    insta::assert_snapshot!("report_csv", text);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[0], "kind");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3 + 1, "one row per IP and per alert");
    let tags = header.iter().position(|h| h == "tags").unwrap();
    assert_eq!(
        &rows[2][tags], "'=1+1",
        "a formula is kept as text, never run"
    );
    assert_eq!(&rows[0][3], "63515");
    assert_eq!(&rows[1][3], "0", "not seen");
}
