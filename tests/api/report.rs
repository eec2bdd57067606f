//! Export golden files: one case rendered as Markdown, JSON and CSV with a fixed "now", pinned
//! with insta, plus the facts that must hold whatever the snapshots say (escaping, formula
//! defusing, links with the tenant, parseable output). And the same three for a case recorded
//! for real, by the binary against the simulator, with what varies from run to run masked.

use crate::support;

use std::net::SocketAddr;
use std::process::Command;

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use mde_triage::case::Note;
use mde_triage::defender::model::{AlertComment, Evidence, RelatedUser};
use mde_triage::defender::{Alert, IpStats, LookBack, Severity, Status};
use mde_triage::report::{
    AlertEntry, CaseReport, Dated, EndpointCalls, Format, PeriodStats, Place, PlaceEntry,
    PlaceFacts, Step, render,
};
use mde_triage::sim::{self, SimConfig};
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
    let mut doc = alert(
        DOC_ALERT,
        "Suspicious PowerShell download cradle",
        Severity::High,
        "ws-fin-07.contoso.local",
        t(9, 14),
    );
    // The long texts an opened alert carries, with the indicators a ticket must not link.
    doc.description =
        "PowerShell fetched http://evil.example/a.ps1 (see www.evil.example).\nThen ran it.".into();
    doc.related_user = Some(RelatedUser {
        user_name: Some("jdoe".into()),
        domain_name: Some("CONTOSO".into()),
    });
    doc.evidence = vec![
        Evidence {
            entity_type: Some("Process".into()),
            file_name: Some("powershell.exe".into()),
            file_path: Some("C:\\Windows\\System32\\WindowsPowerShell\\v1.0".into()),
            process_command_line: Some("powershell.exe -nop -enc SQBFAFgA".into()),
            ..Evidence::default()
        },
        Evidence {
            entity_type: Some("Url".into()),
            url: Some("https://evil.example/a.ps1".into()),
            ..Evidence::default()
        },
    ];
    doc.comments = vec![AlertComment {
        comment: "Escalated; mail from admin@evil.example".into(),
        created_by: Some("tier1@contoso.com".into()),
        created_time: Some(t(9, 40)),
    }];
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
                place: Some(Place::Ip(DOC_IP.into())),
                alert: None,
            },
            Step {
                at: t(14, 5),
                place: Some(Place::Ip(DOC_IP.into())),
                alert: Some(DOC_ALERT.into()),
            },
            Step {
                at: t(14, 9),
                place: Some(Place::Ip("23.203.232.228".into())),
                alert: None,
            },
        ],
        places: vec![
            PlaceEntry {
                id: DOC_IP.into(),
                facts: PlaceFacts::Ip {
                    // The analyst looked at a week after the month: freshest first.
                    stats: vec![
                        PeriodStats {
                            look_back: LookBack::WEEK,
                            stats: Dated {
                                value: Some(IpStats {
                                    organization_prevalence: Some(1204),
                                    ..doc_stats()
                                }),
                                as_of: t(14, 4),
                                caveats: Vec::new(),
                            },
                        },
                        PeriodStats {
                            look_back: LookBack::MONTH,
                            stats: Dated {
                                value: Some(doc_stats()),
                                as_of: t(14, 2),
                                caveats: Vec::new(),
                            },
                        },
                    ],
                    alerts: Some(Dated {
                        value: vec![doc.clone(), hostile],
                        as_of: t(14, 2),
                        caveats: Vec::new(),
                    }),
                },
                tags: vec!["malicious".into(), "c2 infra".into()],
                notes: vec![Note {
                    at: t(14, 20),
                    text: "Beacons every 60 s.\nSame host as INC-1031.".into(),
                }],
            },
            PlaceEntry {
                id: "23.203.232.228".into(),
                facts: PlaceFacts::Ip {
                    stats: vec![PeriodStats {
                        look_back: LookBack::DAY,
                        stats: Dated {
                            value: None,
                            as_of: now() - Duration::days(2),
                            caveats: Vec::new(),
                        },
                    }],
                    alerts: Some(Dated {
                        value: vec![],
                        as_of: t(14, 9),
                        caveats: Vec::new(),
                    }),
                },
                tags: vec!["needs review".into()],
                notes: vec![],
            },
            PlaceEntry {
                id: "2001:db8::7".into(),
                facts: PlaceFacts::Ip {
                    stats: vec![],
                    alerts: None,
                },
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
                caveats: Vec::new(),
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
    // Each figure says its period, freshest first.
    let week = md
        .find("- Prevalence over 7 days: 1,204 device(s)")
        .expect("7 days");
    let month = md
        .find("- Prevalence over 30 days: 63,515 device(s)")
        .expect("30 days");
    assert!(week < month);
    assert!(
        md.contains("- Prevalence over 1 day: not seen in the org"),
        "{md}"
    );
    assert!(md.contains("- Prevalence: not fetched"), "{md}");
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
    // Indicators in server text are defanged, shown as written, and not links.
    assert!(
        md.contains(
            "- Description: PowerShell fetched hxxp://evil[.]example/a.ps1 \\(see www[.]evil[.]example\\). / Then ran it."
        ),
        "{md}"
    );
    assert!(md.contains("· url hxxps://evil[.]example/a.ps1\n"), "{md}");
    assert!(md.contains("admin@evil[.]example"), "{md}");
    assert!(!md.contains("evil.example"), "{md}");
    assert!(
        md.contains("- User: CONTOSO\\jdoe"),
        "a lone backslash stays: {md}"
    );
}

#[test]
fn json_has_our_own_stable_shape() {
    let text = render(&case(), Format::Json, now());
    insta::assert_snapshot!("report_json", text);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    // The freshest period is `stats`; each figure names its period.
    assert_eq!(v["ips"][0]["stats"]["prevalence"], 1204);
    assert_eq!(v["ips"][0]["stats"]["look_back_hours"], 168);
    let month = &v["ips"][0]["stats_other_periods"][0];
    assert_eq!(month["prevalence"], 63515);
    assert_eq!(month["look_back_hours"], 720);
    assert_eq!(month["first_seen"], "2017-07-30T13:36:06Z");
    assert_eq!(v["ips"][1]["stats"]["seen_in_org"], false);
    assert_eq!(v["ips"][1]["stats"]["look_back_hours"], 24);
    assert!(
        v["ips"][1].get("stats_other_periods").is_none(),
        "only when there are some"
    );
    assert!(v["ips"][2]["stats"].is_null(), "never fetched");
    assert_eq!(v["calls"]["total"], 6);
    assert_eq!(v["path"].as_array().unwrap().len(), 3);
    assert_eq!(v["alerts"][0]["ips"]["items"][0], "104.80.104.128");
    assert!(v["ips"][0].get("organizationPrevalence").is_none());
    // Exact, for scripts: JSON is not defanged.
    let details = &v["alerts"][0]["details"];
    assert_eq!(details["evidence"][1]["url"], "https://evil.example/a.ps1");
    assert!(
        details["description"]
            .as_str()
            .unwrap()
            .contains("http://evil.example/a.ps1 (see www.evil.example).\nThen")
    );
    assert_eq!(details["comments"][0]["by"], "tier1@contoso.com");
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
    let period = header.iter().position(|h| h == "look_back_hours").unwrap();
    assert_eq!(
        period,
        header.len() - 1,
        "last: the columns scripts knew keep their places"
    );
    assert_eq!(
        (&rows[0][3], &rows[0][period]),
        ("1204", "168"),
        "the freshest period"
    );
    assert_eq!((&rows[1][3], &rows[1][period]), ("0", "24"), "not seen");
    assert_eq!(&rows[2][period], "", "never fetched");
    assert!(
        text.starts_with("\"kind\",\"id\","),
        "every cell quoted, the header's too"
    );
    let device = header.iter().position(|h| h == "device").unwrap();
    assert_eq!(&rows[0][device], "", "an IP row has no device");
    let hostile = rows.iter().find(|r| &r[1] == "da637000000000000000_1");
    assert!(hostile.is_none(), "only opened alerts have rows");
    let description = header.iter().position(|h| h == "description").unwrap();
    assert_eq!(
        &rows[3][description],
        "PowerShell fetched http://evil.example/a.ps1 (see www.evil.example). Then ran it.",
        "exact, not defanged, on one line"
    );
}

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

/// Makes a real export stable without making it vague. Times this run made (the case's, the
/// visits', the answers' "as of", the report's own) become `<run time>`, ages `<age>`, the
/// simulator's port `<port>`. Times that come from the data (the story's alert times, the
/// 2017 first and last seen) are kept: they are what the golden files are about, which is why
/// this is a function that tells the two apart by value, not a pattern filter.
fn normalise(text: &str, sim_host: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let text = text.replace(sim_host, "127.0.0.1:<port>");
    // Markdown shows minutes only: its stamp of the run's first second reads a minute early.
    let of_this_run = |t: DateTime<Utc>| t >= from - Duration::minutes(1) && t <= to;
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(c) = rest.chars().next() {
        // Both stamps the reports write are 20 characters: JSON and CSV's RFC 3339, Markdown's.
        let stamp = rest.get(..20).and_then(|s| {
            NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%SZ")
                .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M UTC"))
                .ok()
        });
        if stamp.is_some_and(|t| of_this_run(t.and_utc())) {
            out.push_str("<run time>");
            rest = &rest[20..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    // Ages of answers fetched during the run: "just now", or on a slow machine "1 min ago".
    let mut aged = String::with_capacity(out.len());
    let mut rest = out.replace("just now", "<age>");
    while let Some(i) = rest.find(" min ago") {
        let digits = rest[..i].len()
            - rest[..i]
                .trim_end_matches(|c: char| c.is_ascii_digit())
                .len();
        aged.push_str(&rest[..i - digits]);
        aged.push_str(if digits > 0 { "<age>" } else { " min ago" });
        rest = rest[i + " min ago".len()..].to_owned();
    }
    aged.push_str(&rest);
    aged
}

#[test]
fn the_normaliser_masks_only_what_the_run_made() {
    let from = Utc.with_ymd_and_hms(2026, 11, 30, 8, 16, 15).unwrap();
    let to = from + Duration::seconds(3);
    let text = "127.0.0.1:41234 | 2026-11-30 08:16 UTC, 2026-11-30T08:16:17Z (just now) \
                | 2026-11-20T09:14:22Z 2017-07-30 13:36 UTC 2026-11-30T08:16:19Z | 2 min ago";
    assert_eq!(
        normalise(text, "127.0.0.1:41234", from, to),
        "127.0.0.1:<port> | <run time>, <run time> (<age>) \
         | 2026-11-20T09:14:22Z 2017-07-30 13:36 UTC 2026-11-30T08:16:19Z | <age>"
    );
}

/// `ip`, then `alert`, recorded into case INC-1 by the binary against the simulator, and the
/// case exported in each format: the golden files of what an analyst really gets.
#[tokio::test(flavor = "multi_thread")]
async fn a_recorded_case_exports_to_stable_golden_files() {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let sim = sim::start(any, SimConfig::default()).await.unwrap();
    let env = support::isolated_env();
    let run = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mde-triage"));
        cmd.envs(env.iter().cloned())
            .args(args)
            .env("MDE_API_URL", &sim.url)
            .env("MDE_TOKEN", &sim.token)
            // A tenant id, so the portal links carry `?tid=` as they would for a real tenant.
            .env("AZURE_TENANT_ID", TENANT)
            .env_remove("AZURE_CLIENT_ID")
            .env_remove("MDE_CASE")
            .env("PATH", "")
            .env("MDE_TRIAGE_LOG", "off")
            .env("NO_COLOR", "1");
        // Off the async runtime, so the in-process simulator keeps serving.
        async move {
            let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
                .await
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{stderr}");
            String::from_utf8(out.stdout).unwrap()
        }
    };
    let from = Utc::now();
    run(&["ip", DOC_IP, "--case", "INC-1"]).await;
    run(&["alert", DOC_ALERT, "--with", "device", "--case", "INC-1"]).await;
    let [md, json, csv_text] = [
        run(&["export", "INC-1", "--format", "md"]).await,
        run(&["export", "INC-1", "--format", "json"]).await,
        run(&["export", "INC-1", "--format", "csv"]).await,
    ];
    let to = Utc::now();
    let host = sim.url.trim_start_matches("http://").trim_end_matches('/');
    let [md, json, csv_text] = [md, json, csv_text].map(|t| normalise(&t, host, from, to));
    insta::assert_snapshot!("recorded_case_md", md);
    insta::assert_snapshot!("recorded_case_json", json);
    insta::assert_snapshot!("recorded_case_csv", csv_text);

    // What the golden files must keep saying, whatever is accepted into them.
    assert!(md.contains("- Source: 127.0.0.1:<port>"), "{md}");
    assert!(
        // `alert` reads the alert's record and its device too.
        md.contains("API calls spent: 5 (stats 1, ip-alerts 1, alert-ips 1, device 1, alert 1)"),
        "{md}"
    );
    assert!(md.contains(&format!(
        "1. <run time> · [{DOC_IP}](https://security.microsoft.com/ip/{DOC_IP}/overview?tid={TENANT})"
    )), "{md}");
    assert!(
        md.contains(&format!("2. <run time> · alert [{DOC_ALERT}]")),
        "{md}"
    );
    assert!(
        md.contains("63,515 device(s) in the org, first seen 2017-07-30 13:36 UTC"),
        "the data's own times are kept: {md}"
    );
    assert!(
        md.contains("| High | New | 2026-11-20 09:14 UTC | ws-fin-07[.]contoso[.]local |"),
        "device names are server text, defanged: {md}"
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["calls"]["total"], 5);
    assert_eq!(v["ips"][0]["stats"]["prevalence"], 63515);
    assert_eq!(v["ips"][0]["stats"]["as_of"], "<run time>");
    assert_eq!(v["alerts"][0]["id"], DOC_ALERT);
    let rows = csv::Reader::from_reader(csv_text.as_bytes())
        .records()
        .count();
    assert_eq!(rows, 2, "one IP and one alert: {csv_text}");
    sim.shutdown().await;
}

#[test]
fn what_a_list_lacks_goes_into_every_export() {
    let mut r = case();
    let said = "list cut at 50 pages (max_pages)";
    let PlaceFacts::Ip { alerts, .. } = &mut r.places[0].facts else {
        panic!("the first place is an IP")
    };
    alerts.as_mut().unwrap().caveats = vec![said.into()];
    r.alerts[0].ips.as_mut().unwrap().caveats = vec!["1 IP could not be read".into()];
    let md = render(&r, Format::Markdown, now());
    assert!(
        md.contains(&format!(
            "Note: {}",
            said.replace('(', "\\(").replace(')', "\\)")
        )),
        "{md}"
    );
    assert!(md.contains("Note: 1 IP could not be read"), "{md}");
    let json: serde_json::Value = serde_json::from_str(&render(&r, Format::Json, now())).unwrap();
    assert_eq!(
        json["ips"][0]["alerts"]["warnings"],
        serde_json::json!([said])
    );
    assert_eq!(
        json["alerts"][0]["ips"]["warnings"],
        serde_json::json!(["1 IP could not be read"])
    );
    let csv = render(&r, Format::Csv, now());
    assert!(csv.contains(&format!("warning: {said}")), "{csv}");
    assert!(csv.contains("warning: 1 IP could not be read"), "{csv}");
    // A complete list says nothing of the kind.
    let clean = render(&case(), Format::Json, now());
    assert!(!clean.contains("warnings"), "{clean}");
}
