//! Every Graph example body from FACTS (copied to `tests/fixtures/graph/`) through the decoder
//! that would meet it: each is read, or gets a decode error that names what was wrong. Three of
//! them are malformed JSON as published; none may panic.

use crate::support::fixture;

use std::time::Duration;

use mde_triage::defender::fields::Fields;
use mde_triage::defender::{ErrorKind, Severity, Status};
use mde_triage::graph::{
    AlertRows, Cause, Caveat, HuntingResults, decode_alert, decode_alert_page, decode_results,
    from_graph_response,
};

fn graph(name: &str) -> String {
    fixture(&format!("graph/{name}"))
}

#[test]
fn every_graph_fixture_is_covered_here() {
    // A new example must be given a test below; this list is the checklist.
    let covered = [
        "alerts_v2-get-with-evidence.example.json",
        "alerts_v2-list-sentinel.learn-2026.example.json",
        "alerts_v2-list.example.json",
        "error-400-incidents-top-over-50.observed.example.json",
        "error-403-alerts_v2-missing-roles.observed.example.json",
        "error-403-incidents-missing-roles.observed.example.json",
        "error-429-graph-throttling.example.json",
        "error-500-hunting.observed.example.json",
        "error-504-hunting.observed.example.json",
        "incidents-expand-alerts.example.json",
        "incidents-get.example.json",
        "incidents-list.example.json",
        "runHuntingQuery-alertinfo.xsoar-fixture.example.json",
        "runHuntingQuery-camelcase-rows.learn-2026.example.json",
        "runHuntingQuery-pascalcase-schema.example.json",
        "runHuntingQuery-timespan.example.json",
        "runHuntingQuery.example.json",
        "token-device-code.example.json",
        "token-graph.example.json",
    ];
    assert_eq!(crate::support::fixture_names("graph"), covered);
}

#[test]
fn the_documented_alert_with_evidence() {
    let a = decode_alert(graph("alerts_v2-get-with-evidence.example.json").as_bytes()).unwrap();
    let alert = &a.alert;
    assert_eq!(alert.id, "da637578995287051192_756343937");
    assert_eq!(alert.severity, Severity::Low);
    assert_eq!(alert.status, Status::New);
    assert_eq!(
        (
            alert.classification.as_deref(),
            alert.determination.as_deref()
        ),
        (None, None)
    );
    assert_eq!(alert.detection_source.as_deref(), Some("WindowsDefenderAv"));
    assert_eq!(alert.category.as_deref(), Some("DefenseEvasion"));
    assert_eq!(alert.incident_id, Some(28282));
    assert_eq!(a.incident_id.as_deref(), Some("28282"));
    assert_eq!(alert.mitre_techniques, ["T1564.001"]);
    assert_eq!(
        alert.alert_creation_time.unwrap().to_rfc3339(),
        "2021-04-27T12:19:27.721130500+00:00"
    );
    // The device, from deviceEvidence: MDE's machineId and computerDnsName.
    assert_eq!(
        alert.machine_id.as_deref(),
        Some("73e7e2de709dff64ef64b1d0c30e67fab63279db")
    );
    assert_eq!(alert.device(), Some("tempDns"));
    assert_eq!(alert.rbac_group_name.as_deref(), Some("UnassignedGroup"));
    let device = a.device().unwrap().to_device();
    assert_eq!(device.health_status.as_deref(), Some("Active"));
    assert_eq!(device.risk_score.as_deref(), Some("Medium"));
    assert_eq!(device.rbac_group_id.as_deref(), Some("75"));
    assert_eq!(device.os_build, Some(22424));
    assert_eq!(
        device.ip_addresses[0].ip_address.as_deref(),
        Some("1.1.1.1")
    );
    assert_eq!(device.last_seen, None, "evidence says nothing of now");
    // The process's account stands for MDE's relatedUser.
    assert_eq!(
        alert.related_user.as_ref().unwrap().display(),
        "NT AUTHORITY\\SYSTEM"
    );
    // No ipEvidence in this example: no related IPs, and none made up from the device.
    assert!(a.related_ips.is_empty());
    let kinds: Vec<_> = a.evidence_tally.read.keys().map(String::as_str).collect();
    assert_eq!(
        kinds,
        [
            "deviceEvidence",
            "fileEvidence",
            "processEvidence",
            "registryKeyEvidence"
        ]
    );
    assert!(a.evidence_tally.caveats().is_empty());
    assert_eq!(alert.evidence.len(), 4);
    assert_eq!(alert.evidence[1].file_name.as_deref(), Some("MsSense.exe"));
    assert_eq!(
        alert.evidence[2].process_command_line.as_deref(),
        Some("\"MsSense.exe\"")
    );
}

#[test]
fn the_documented_alert_lists() {
    let (page, next) = decode_alert_page(graph("alerts_v2-list.example.json").as_bytes()).unwrap();
    assert_eq!(next, None);
    assert_eq!(page.len(), 1);
    assert!(page.unread.is_empty());
    assert_eq!(page[0].alert.id, "da637551227677560813_-961444813");
    assert_eq!(
        page[0].provider_alert_id.as_deref(),
        Some("da637551227677560813_-961444813")
    );
    let (sentinel, _) =
        decode_alert_page(graph("alerts_v2-list-sentinel.learn-2026.example.json").as_bytes())
            .unwrap();
    let s = &sentinel[0];
    assert_eq!(s.alert.severity, Severity::High);
    assert_eq!(s.service_source.as_deref(), Some("microsoftSentinel"));
    assert_eq!(
        s.alert.detection_source.as_deref(),
        Some("scheduledAlerts"),
        "kept as sent"
    );
    assert!(s.devices.is_empty() && s.related_ips.is_empty());
    assert_eq!(s.alert.machine_id, None);
}

#[test]
fn incidents_share_the_alert_envelope_and_enums() {
    // The pivot loop reads no incidents; their records go through the alert reader here only to
    // show PascalCase members (`Medium`, `TruePositive`) read as camelCase ones do.
    let (list, _) = decode_alert_page(graph("incidents-list.example.json").as_bytes()).unwrap();
    assert_eq!(list[0].alert.severity, Severity::Medium);
    assert_eq!(
        list[0].alert.classification.as_deref(),
        Some("TruePositive")
    );
    assert_eq!(
        list[0].alert.determination.as_deref(),
        Some("MultiStagedAttack")
    );
    let one = decode_alert(graph("incidents-get.example.json").as_bytes()).unwrap();
    assert_eq!(one.alert.id, "2972395");
    assert_eq!(one.alert.status, Status::Other("Active".into()));
    // Published with trailing commas (FACTS §0): a clear error at the first one.
    let body = graph("incidents-expand-alerts.example.json");
    let e = decode_alert_page(body.as_bytes()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Decode);
    assert!(
        e.message.contains("trailing comma at line 115"),
        "{}",
        e.message
    );
    assert!(e.message.contains("command line\", ]"), "{}", e.message);
}

fn hunting(name: &str) -> HuntingResults {
    decode_results(graph(name).as_bytes()).unwrap()
}

fn file_rows(f: &mut Fields<'_>) -> (Option<String>, Option<String>, bool) {
    (
        f.opt_text("FileName"),
        f.opt_text("InitiatingProcessFileName"),
        f.time("Timestamp").is_some(),
    )
}

#[test]
fn the_documented_hunting_answers_in_each_casing() {
    for name in [
        "runHuntingQuery.example.json",
        "runHuntingQuery-pascalcase-schema.example.json",
        "runHuntingQuery-camelcase-rows.learn-2026.example.json",
        "runHuntingQuery-timespan.example.json",
    ] {
        let r = hunting(name);
        let names: Vec<_> = r.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["Timestamp", "FileName", "InitiatingProcessFileName"],
            "{name}"
        );
        assert_eq!(r.columns[0].kind.as_deref(), Some("DateTime"), "{name}");
        assert!(r.caveats.is_empty(), "{name}: {:?}", r.caveats);
        let mut caveats = Vec::new();
        let rows = r.read_rows(
            &["Timestamp", "FileName", "InitiatingProcessFileName"],
            &[],
            file_rows,
            &mut caveats,
        );
        assert!(caveats.is_empty(), "{name}: {caveats:?}");
        assert!(rows.len() >= 2, "{name}");
        for (file, process, timed) in rows {
            assert!(file.is_some() && process.is_some() && timed, "{name}");
        }
    }
}

#[test]
fn the_alertinfo_capture_has_rows_without_ids() {
    let r = hunting("runHuntingQuery-alertinfo.xsoar-fixture.example.json");
    assert_eq!(r.rows.len(), 2);
    let alerts = AlertRows::read(&r);
    // DLP rows with `AlertId: ""`: nothing to pivot from, left out and counted.
    assert!(alerts.alerts.is_empty());
    assert!(alerts.caveats.contains(&Caveat::RowsWithoutId { count: 2 }));
}

fn error(name: &str, status: u16, retry_after: Option<&str>) -> mde_triage::graph::GraphError {
    from_graph_response(status, retry_after, graph(name).as_bytes())
}

#[test]
fn the_documented_errors() {
    let roles = error(
        "error-403-alerts_v2-missing-roles.observed.example.json",
        403,
        None,
    );
    assert_eq!(roles.error.kind, ErrorKind::Forbidden);
    assert_eq!(roles.code.as_deref(), Some("Forbidden"));
    assert_eq!(
        roles.error.target.as_deref(),
        Some("xxxxx"),
        "the request id"
    );
    assert_eq!(
        roles.cause,
        Cause::MissingRoles {
            required: vec![
                "SecurityAlert.Read.All".into(),
                "SecurityAlert.ReadWrite.All".into(),
                "SecurityIncident.Read.All".into(),
                "SecurityIncident.ReadWrite.All".into(),
            ],
            held: vec![],
        }
    );
    // Published with a quote lost to redaction: still a 403, and the body's flaw is said.
    let broken = error(
        "error-403-incidents-missing-roles.observed.example.json",
        403,
        None,
    );
    assert_eq!(broken.error.kind, ErrorKind::Forbidden);
    assert!(
        broken
            .error
            .message
            .contains("not readable JSON (expected `,` or `}` at line 1"),
        "{}",
        broken.error.message
    );

    let top = error(
        "error-400-incidents-top-over-50.observed.example.json",
        400,
        None,
    );
    assert_eq!(top.error.kind, ErrorKind::InvalidInput);
    assert_eq!(top.code, None, "an empty code is no code");
    assert!(
        top.error
            .message
            .contains("The limit of '50' for Top query")
    );

    // Graph's sample 429 came with `Retry-After: 2.128` (FACTS §6): a plain 429, not the CPU.
    let throttled = error(
        "error-429-graph-throttling.example.json",
        429,
        Some("2.128"),
    );
    assert_eq!(throttled.error.kind, ErrorKind::Throttled);
    assert_eq!(
        throttled.error.retry_after,
        Some(Duration::from_millis(2128))
    );
    assert_eq!(throttled.cause, Cause::Plain);
    assert!(!throttled.is_cpu_quota());
    assert_eq!(throttled.error.message, "Please retry again later.");

    let server = error("error-500-hunting.observed.example.json", 500, None);
    assert_eq!(server.error.kind, ErrorKind::Server);
    assert_eq!(server.error.message, "UnknownError (no message)");
    assert_eq!(
        server.error.target.as_deref(),
        Some("1033a640-1c97-48f2-a1ad-face30df60a6")
    );
    let timeout = error("error-504-hunting.observed.example.json", 504, None);
    assert_eq!(timeout.error.kind, ErrorKind::Timeout);
    assert_eq!(timeout.cause, Cause::QueryTimeout);
    assert!(timeout.error.sentence().contains("(HTTP 504)"));
}

#[test]
fn error_bodies_are_no_hunting_answers() {
    // An error body handed to the success decoder by mistake is refused, with the reason.
    let e =
        decode_results(graph("error-500-hunting.observed.example.json").as_bytes()).unwrap_err();
    assert!(
        e.message
            .contains("expected a hunting result with 'results'"),
        "{}",
        e.message
    );
}

#[test]
fn the_token_answers_read() {
    for name in ["token-graph.example.json", "token-device-code.example.json"] {
        let v: serde_json::Value = serde_json::from_str(&graph(name)).unwrap();
        assert_eq!(v["token_type"], "Bearer", "{name}");
        assert_eq!(v["expires_in"], 3599, "{name}");
    }
}
