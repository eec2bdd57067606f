//! Hostile and odd answers through the Graph layer: every one is read or refused with a
//! reason, none panics.

use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::defender::{ErrorKind, Severity, Status};

fn results(v: Value) -> HuntingResults {
    decode_results(v.to_string().as_bytes()).unwrap()
}

fn decode_error(body: &str) -> String {
    decode_results(body.as_bytes()).unwrap_err().message
}

#[test]
fn schema_and_rows_in_either_casing() {
    for (schema, name, kind) in [("schema", "name", "type"), ("Schema", "Name", "Type")] {
        for results_key in ["results", "Results"] {
            let r = results(json!({
                schema: [{name: "DeviceId", kind: "String"}],
                results_key: [{"deviceid": "a"}, {"DeviceId": "b"}],
            }));
            assert_eq!(r.columns[0].name, "DeviceId");
            assert_eq!(r.columns[0].kind.as_deref(), Some("String"));
            assert!(r.caveats.is_empty(), "{:?}", r.caveats);
            let holders = read_holders(&r);
            let ids: Vec<_> = holders.rows.iter().map(|h| h.device_id.as_str()).collect();
            assert_eq!(ids, ["a", "b"]);
        }
    }
}

#[test]
fn missing_and_extra_columns_are_said() {
    let r = results(json!({
        "schema": [{"name": "DeviceId", "type": "String"}, {"name": "DeviceName", "type": "String"}],
        "results": [
            {"DeviceId": "a"},
            {"DeviceId": "b", "DeviceName": "n", "Surprise": 1, "Other": 2},
            7,
        ],
    }));
    assert_eq!(r.rows.len(), 2);
    assert!(r.caveats.contains(&Caveat::MissingCells { rows: 1 }));
    assert!(r.caveats.contains(&Caveat::UnreadRows { count: 1 }));
    assert!(r.caveats.contains(&Caveat::ExtraKeys {
        names: vec!["Other".into(), "Surprise".into()],
        rows: 1
    }));
    let holders = read_holders(&r);
    assert_eq!(holders.rows.len(), 2);
    assert_eq!(holders.rows[0].device_name, None);
}

#[test]
fn no_schema_reads_rows_by_their_own_keys() {
    let r = results(json!({"results": [{"deviceId": "a"}]}));
    assert_eq!(r.caveats, [Caveat::NoSchema]);
    assert_eq!(read_holders(&r).rows[0].device_id, "a");
}

#[test]
fn empty_and_null_results_are_answers() {
    let r = results(json!({"schema": [], "results": []}));
    assert!(r.rows.is_empty() && r.caveats.is_empty());
    let r = results(json!({"schema": null, "results": null}));
    assert!(r.rows.is_empty());
    let activity = IpActivity::read(&results(json!({"schema": [], "results": []})));
    assert_eq!(activity.devices, None, "no row is not prevalence 0");
    assert!(activity.caveats.contains(&Caveat::MissingPart {
        part: "prevalence".into()
    }));
}

#[test]
fn malformed_bodies_name_what_was_wrong() {
    let e = decode_error(r#"{"schema": [], "results": [{"a": 1},]}"#);
    assert!(
        e.starts_with("unexpected response body (trailing comma"),
        "{e}"
    );
    assert!(decode_error("[1, 2]").contains("expected a hunting result object, found list"));
    assert!(decode_error(r#"{"schema": []}"#).contains("with 'results'"));
    assert!(
        decode_error(r#"{"results": "nope"}"#).contains("expected a 'results' list, found string")
    );
    assert!(decode_error(r#"{"results": [], "schema": 5}"#).contains("'schema' list"));
    assert!(decode_error("").contains("unexpected response body"));
    let e = decode_results(b"\x1b[2J{").unwrap_err();
    assert_eq!(e.kind, ErrorKind::Decode);
    assert!(!e.message.contains('\u{1b}'));
}

#[test]
fn the_row_cap_is_said() {
    let rows: Vec<Value> = (0..ROW_CAP)
        .map(|i| json!({"DeviceId": i.to_string()}))
        .collect();
    let r = results(json!({"schema": [{"name": "DeviceId"}], "results": rows}));
    assert!(r.caveats.contains(&Caveat::RowCap { rows: ROW_CAP }));
    assert!(
        Caveat::RowCap { rows: ROW_CAP }
            .to_string()
            .contains("may be cut")
    );
}

fn activity_rows(rows: Value) -> IpActivity {
    IpActivity::read(&results(json!({
        "schema": [{"name": "Part"}, {"name": "Devices"}, {"name": "FirstSeen"},
                   {"name": "LastSeen"}, {"name": "Total"}, {"name": "DeviceId"},
                   {"name": "DeviceName"}, {"name": "InitiatingProcessFileName"},
                   {"name": "RemotePort"}, {"name": "Count"}],
        "results": rows,
    })))
}

#[test]
fn prevalence_and_connections_come_from_one_answer() {
    let a = activity_rows(json!([
        {"Part": "connection", "DeviceId": "d1", "DeviceName": "one", "InitiatingProcessFileName": "curl.exe",
         "RemotePort": 443, "Count": 3, "FirstSeen": "2026-11-01T09:00:00Z", "LastSeen": "2026-11-01T10:00:00Z"},
        {"Part": "prevalence", "Devices": 2, "FirstSeen": "2026-10-30T00:00:00.1234567Z", "LastSeen": "2026-11-02T00:00:00Z"},
        {"Part": "connection", "DeviceId": "d2", "InitiatingProcessFileName": "svchost.exe",
         "RemotePort": "53", "Count": "12", "FirstSeen": "2026-11-02T00:00:00Z", "LastSeen": "2026-11-02T00:00:00Z"},
        {"Part": "total", "Total": 5},
    ]));
    assert_eq!(a.devices, Some(2));
    assert_eq!(a.connections_total, Some(5));
    assert_eq!(a.connections_cut(), Some(3));
    let order: Vec<_> = a.connections.iter().map(|c| c.device_id.as_str()).collect();
    assert_eq!(order, ["d2", "d1"], "newest first");
    // Numbers as strings are read, and said.
    assert_eq!(a.connections[0].remote_port, Some(53));
    assert_eq!(a.connections[0].count, Some(12));
    assert!(a.caveats.contains(&Caveat::OddValues { count: 2 }));
    let stats = a.to_ip_stats("203.0.113.7".parse().unwrap());
    assert_eq!(stats.prevalence(), Some(2));
}

#[test]
fn odd_rows_of_the_ip_answer_cost_themselves() {
    let a = activity_rows(json!([
        {"Part": "prevalence", "Devices": {"x": 1}, "FirstSeen": 1700000000, "LastSeen": null},
        {"Part": "mystery"},
        {"part": "CONNECTION", "deviceid": "d", "remoteport": 70000},
    ]));
    assert_eq!(a.devices, None);
    assert_eq!(a.first_seen, None);
    assert_eq!(a.connections.len(), 1);
    assert_eq!(a.connections[0].remote_port, None, "no port above 65535");
    assert!(a.caveats.contains(&Caveat::UnknownRows { count: 1 }));
    assert!(a.caveats.contains(&Caveat::MissingPart {
        part: "connections total".into()
    }));
}

#[test]
fn escape_sequences_in_row_strings_are_sanitised() {
    let r = results(json!({
        "schema": [{"name": "AlertId"}, {"name": "Title"}, {"name": "AttackTechniques"}],
        "results": [{"AlertId": "da1", "Title": "evil\u{1b}]0;pwned\u{7}\u{202e}title",
                     "AttackTechniques": "[\"T1\\u001b[31m\", \"T2\"]"}],
    }));
    let rows = AlertRows::read(&r);
    let title = rows.alerts[0].title.as_deref().unwrap();
    assert!(
        !title.contains('\u{1b}') && !title.contains('\u{202e}'),
        "{title:?}"
    );
    assert_eq!(rows.alerts[0].techniques, ["T1", "T2"]);
}

#[test]
fn alert_rows_map_display_strings_and_count_rows_without_id() {
    let r = results(json!({
        "schema": [{"name": "AlertId"}, {"name": "Severity"}, {"name": "Created"}],
        "results": [
            {"AlertId": "", "Severity": "Medium"},
            {"AlertId": "a1", "Severity": "Medium", "Created": "2026-11-01T00:00:00Z"},
            {"AlertId": "a2", "Severity": "Catastrophic", "Created": "2026-11-02T00:00:00Z"},
        ],
    }));
    let rows = AlertRows::read(&r);
    assert!(rows.caveats.contains(&Caveat::RowsWithoutId { count: 1 }));
    let alerts: Vec<_> = rows.alerts.iter().map(AlertRow::to_alert).collect();
    assert_eq!(alerts[0].id, "a2");
    assert_eq!(alerts[0].severity, Severity::Other("Catastrophic".into()));
    assert_eq!(alerts[1].severity, Severity::Medium);
    assert_eq!(
        alerts[1].status,
        Status::Missing,
        "hunting does not say status"
    );
}

#[test]
fn device_rows_read_json_in_strings() {
    let r = results(json!({
        "schema": [{"name": "DeviceId"}, {"name": "LoggedOnUsers"}, {"name": "DeviceManualTags"},
                   {"name": "IsAzureADJoined"}, {"name": "SensorHealthState"}, {"name": "OSBuild"}],
        "results": [{"DeviceId": "d", "LoggedOnUsers": "[{\"UserName\":\"ana\",\"DomainName\":\"CONTOSO\"}]",
                     "DeviceManualTags": "[\"VIP\"]", "IsAzureADJoined": "true",
                     "SensorHealthState": "active", "OSBuild": "19045"}],
    }));
    let d = &read_devices(&r).rows[0];
    assert_eq!(d.logged_on_users[0].display(), "CONTOSO\\ana");
    assert_eq!(d.manual_tags, ["VIP"]);
    let device = d.to_device();
    assert_eq!(device.is_aad_joined, Some(true));
    assert_eq!(device.health_status.as_deref(), Some("Active"));
    assert_eq!(device.os_build, Some(19045));
}

fn alert(v: Value) -> GraphAlert {
    decode_alert(v.to_string().as_bytes()).unwrap()
}

#[test]
fn alerts_v2_enums_in_either_casing_and_unknown_values_kept() {
    let a = alert(
        json!({"id": "x", "severity": "High", "status": "InProgress",
        "classification": null, "determination": "notEnoughDataToValidate",
        "detectionSource": "microsoftDefenderForDNS", "investigationState": "pendingApproval"}),
    );
    assert_eq!(a.alert.severity, Severity::High);
    assert_eq!(a.alert.status, Status::InProgress);
    assert_eq!(a.alert.classification, None);
    assert_eq!(a.alert.determination.as_deref(), Some("InsufficientData"));
    assert_eq!(
        a.alert.detection_source.as_deref(),
        Some("microsoftDefenderForDNS")
    );
    assert_eq!(
        a.alert.investigation_state.as_deref(),
        Some("PendingApproval")
    );
    let odd = alert(json!({"id": "y", "severity": 5, "status": "awaitingAction",
        "serviceSource": "microsoftDataLossPrevention", "incidentId": "abc"}));
    assert_eq!(odd.alert.severity, Severity::Other("5".into()));
    assert_eq!(odd.alert.status, Status::Other("awaitingAction".into()));
    assert_eq!(
        odd.service_source.as_deref(),
        Some("microsoftDataLossPrevention")
    );
    assert_eq!(
        (odd.alert.incident_id, odd.incident_id.as_deref()),
        (None, Some("abc"))
    );
    let numeric = alert(json!({"id": "z", "incidentId": 28282}));
    assert_eq!(numeric.alert.incident_id, Some(28282));
}

#[test]
fn evidence_of_unknown_or_no_type_is_counted_not_dropped() {
    let a = alert(json!({"id": "x", "evidence": [
        {"@odata.type": "#microsoft.graph.security.ipEvidence", "ipAddress": "203.0.113.7",
         "countryLetterCode": "NL", "verdict": 5, "roles": ["attacker"]},
        {"@odata.type": "#microsoft.graph.security.IPEVIDENCE", "ipAddress": "203.0.113.7"},
        {"@odata.type": "#microsoft.graph.security.networkConnectionEvidence",
         "sourceAddress": {"ipAddress": "10.0.0.5"}, "destinationAddress": {"ipAddress": "2001:db8::1"}},
        {"@odata.type": "#microsoft.graph.security.quantumEvidence", "qubits": 7},
        {"@odata.type": "#microsoft.graph.security.kubernetesPodEvidence"},
        {"no": "type"},
        "a string",
        42,
    ]}));
    let ips: Vec<_> = a
        .related_ips
        .iter()
        .map(|i| (i.ip.as_str(), i.origin))
        .collect();
    assert_eq!(
        ips,
        [
            ("203.0.113.7", IpOrigin::IpEvidence),
            ("10.0.0.5", IpOrigin::ConnectionSource),
            ("2001:db8::1", IpOrigin::ConnectionDestination)
        ]
    );
    assert_eq!(a.related_ips[0].verdict.as_deref(), Some("5"));
    assert_eq!(a.related_ips[0].country.as_deref(), Some("NL"));
    assert_eq!(a.evidence_tally.read["ipEvidence"], 2);
    assert_eq!(a.evidence_tally.not_read["quantumEvidence"], 1);
    assert_eq!(a.evidence_tally.not_read["kubernetesPodEvidence"], 1);
    assert_eq!(a.evidence_tally.untyped, 3);
    assert_eq!(a.alert.evidence.len(), 5, "typed items are all listed");
    assert_eq!(a.evidence_tally.caveats().len(), 2);
    assert_eq!(a.related_ip_list().len(), 3);
}

#[test]
fn alert_text_is_sanitised() {
    let a = alert(json!({"id": "x", "title": "a\u{1b}[2Jb\u{202e}c",
        "evidence": [{"@odata.type": "#microsoft.graph.security.deviceEvidence",
                      "deviceDnsName": "host\u{1b}]0;t\u{7}name", "mdeDeviceId": "d"}]}));
    assert!(!a.alert.title.contains('\u{1b}') && !a.alert.title.contains('\u{202e}'));
    let name = a.alert.computer_dns_name.unwrap();
    assert_eq!(name, "hostname");
}

#[test]
fn alert_bodies_that_are_not_alerts_say_so() {
    let e = decode_alert(b"[]").unwrap_err();
    assert!(
        e.message.contains("expected an alert record, found list"),
        "{}",
        e.message
    );
    assert_eq!(
        decode_alert(b"{\"id\": ").unwrap_err().kind,
        ErrorKind::Decode
    );
    let e = decode_alert_page(br#"{"value": {"id": "x"}}"#).unwrap_err();
    assert!(
        e.message.contains("expected a 'value' list, found object"),
        "{}",
        e.message
    );
    let (page, next) = decode_alert_page(
        br#"{"value": [{"id": "a"}, 3, {"id": "a"}], "@odata.nextLink": {"evil": 1}}"#,
    )
    .unwrap();
    assert_eq!((page.len(), page.unread.len(), page.repeats), (1, 1, 1));
    assert!(matches!(next, Some(crate::defender::Next::Refused { .. })));
}

#[test]
fn graph_errors_say_what_happened() {
    let plain = from_graph_response(
        429,
        Some("2.128"),
        br#"{"error":{"code":"TooManyRequests","message":"Please retry again later."}}"#,
    );
    assert_eq!(plain.error.kind, ErrorKind::Throttled);
    assert_eq!(plain.error.retry_after, Some(Duration::from_millis(2128)));
    assert_eq!(plain.cause, Cause::Plain);
    assert!(!plain.is_cpu_quota());
    let cpu = from_graph_response(
        429,
        None,
        br#"{"error":{"code":"TooManyRequests","message":"Tenant reached its allocated CPU resources."}}"#,
    );
    assert!(cpu.is_cpu_quota());
    assert_eq!(
        cpu.error.retry_after, None,
        "the scheduler waits out the cycle"
    );
    let preempted = from_graph_response(
        400,
        None,
        br#"{"error":{"code":"BadRequest","message":"Query execution has exceeded the allowed limits. The query execution was preempted. This could possibly be due to high CPU and/or memory resource consumption."}}"#,
    );
    assert!(preempted.is_cpu_quota());
    assert_eq!(preempted.error.kind, ErrorKind::Throttled);
    let fragment = from_graph_response(
        400,
        None,
        br#"{"error":{"code":"BadRequest","message":"The incomplete fragment is unexpected. Fix syntax errors"}}"#,
    );
    assert_eq!(fragment.cause, Cause::QueryNotRead);
    assert_eq!(fragment.error.kind, ErrorKind::InvalidInput);
}

#[test]
fn odd_error_bodies_still_give_an_error() {
    for body in [&b"<html>gateway</html>"[..], b"", b"{\"error\": 5}", b"[]"] {
        let e = from_graph_response(502, Some("soon"), body);
        assert_eq!(e.error.kind, ErrorKind::Server);
        assert_eq!(e.error.retry_after, None);
        assert_eq!(e.cause, Cause::Plain);
    }
    let hostile = from_graph_response(
        403,
        None,
        "{\"error\":{\"code\":\"x\\u001b[2J\",\"message\":\"no \\u202e way\"}}".as_bytes(),
    );
    assert!(!hostile.error.message.contains('\u{202e}'));
    assert!(!hostile.code.unwrap().contains('\u{1b}'));
    for bad in ["-1", "NaN", "inf", "1e300", "soon"] {
        assert_eq!(error::parse_retry_after(bad), None, "{bad}");
    }
    assert_eq!(
        error::parse_retry_after(" 10 "),
        Some(Duration::from_secs(10))
    );
}
