//! `alert ID` with its device, as a script runs it: the real binary against the simulator (or
//! canned answers) over loopback. The device comes through the alert's record and the
//! machine's; the IPs still come when either cannot be read, with `device_error` saying why.

use crate::support::sim_with;

use mde_triage::sim::SimConfig;

use crate::device_oneshot::{api_calls, json};
use crate::devices::FIN_07;
use crate::oneshot::{run, stderr, stdout};
use crate::support::replay::replay;
use crate::support::{DOC_ALERT, fixture};

const IPS: &str = r#"{"value": [{"id": "10.209.67.177"}, {"id": "104.80.104.128"}]}"#;

#[tokio::test(flavor = "multi_thread")]
async fn alert_json_carries_its_device_as_device_prints_it() {
    let sim = sim_with(SimConfig::default()).await;
    let out = run(&sim.url, Some(&sim.token), &["alert", DOC_ALERT, "--json"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["alert"], DOC_ALERT);
    assert_eq!(v["ips"].as_array().unwrap().len(), 3, "{v}");
    assert_eq!(v["device"]["id"], FIN_07);
    assert_eq!(v["device"]["name"], "ws-fin-07.contoso.local");
    // The same object `device ID --json` prints.
    let device = run(&sim.url, Some(&sim.token), &["device", FIN_07, "--json"]).await;
    assert_eq!(v["device"], json(&device)["device"]);
    assert!(v.get("device_error").is_none(), "{v}");
    let calls = api_calls(&sim);
    assert_eq!(
        calls[..3].iter().filter(|p| p.contains(DOC_ALERT)).count(),
        2,
        "the IPs and the record first: {calls:?}"
    );
    assert_eq!(calls[2], format!("/api/machines/{FIN_07}"), "{calls:?}");

    let table = run(&sim.url, Some(&sim.token), &["alert", DOC_ALERT]).await;
    assert!(table.status.success(), "{}", stderr(&table));
    let text = stdout(&table);
    assert!(text.starts_with("3 related IPs of alert"), "{text}");
    assert!(
        text.contains("device ws-fin-07.contoso.local  4f1e0c9a"),
        "{text}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_machine_read_the_ips_still_come_and_device_error_names_the_permission() {
    let sim = sim_with(SimConfig {
        roles: vec!["Ip.Read.All".into(), "Alert.Read.All".into()],
        ..SimConfig::default()
    })
    .await;
    let out = run(&sim.url, Some(&sim.token), &["alert", DOC_ALERT, "--json"]).await;
    assert_eq!(out.status.code(), Some(6), "forbidden: {}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["ips"].as_array().unwrap().len(), 3, "{v}");
    assert!(v["device"].is_null(), "{v}");
    let why = v["device_error"].as_str().unwrap();
    assert!(why.contains("Machine.Read.All"), "{why}");
    assert!(why.starts_with(&format!("device {FIN_07}")), "{why}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreadable_alert_record_leaves_the_ips_and_asks_no_device() {
    let url = replay(vec![
        ("/api/alerts/da1_1/ips", 200, None, IPS.into()),
        (
            "/api/alerts/da1_1",
            404,
            None,
            fixture("error-resource-not-found.example.json"),
        ),
    ])
    .await;
    let out = run(&url, Some("t"), &["alert", "da1_1", "--json"]).await;
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(
        v["ips"],
        serde_json::json!(["10.209.67.177", "104.80.104.128"])
    );
    assert!(v["device"].is_null(), "{v}");
    let why = v["device_error"].as_str().unwrap();
    assert!(
        why.starts_with("alert da1_1: unknown alert, or outside the retention period"),
        "{why}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alert_without_a_machine_id_says_so_and_is_not_a_failure() {
    let url = replay(vec![
        ("/api/alerts/da1_2/ips", 200, None, IPS.into()),
        (
            "/api/alerts/da1_2",
            200,
            None,
            r#"{"id": "da1_2", "title": "Sign-in from a rare place", "machineId": null}"#.into(),
        ),
    ])
    .await;
    let out = run(&url, Some("t"), &["alert", "da1_2", "--json"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    assert!(v["device"].is_null(), "{v}");
    assert_eq!(
        v["device_error"],
        "alert da1_2 names no device (no machineId)"
    );
    let table = run(&url, Some("t"), &["alert", "da1_2"]).await;
    assert!(
        stdout(&table).contains("device not read: alert da1_2 names no device"),
        "{}",
        stdout(&table)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_device_the_api_does_not_know_is_exit_4_after_the_ips() {
    const GONE: &str = "ffffffffffffffffffffffffffffffffffffffff";
    let url = replay(vec![
        ("/api/alerts/da1_3/ips", 200, None, IPS.into()),
        (
            "/api/alerts/da1_3",
            200,
            None,
            format!(r#"{{"id": "da1_3", "machineId": "{GONE}"}}"#),
        ),
        (
            "/api/machines/ffffffffffffffffffffffffffffffffffffffff",
            404,
            None,
            fixture("error-machine-not-found.observed.example.json"),
        ),
    ])
    .await;
    let out = run(&url, Some("t"), &["alert", "da1_3", "--json"]).await;
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["ips"].as_array().unwrap().len(), 2, "{v}");
    assert!(v["device"].is_null(), "{v}");
    let why = v["device_error"].as_str().unwrap();
    assert!(
        why.contains("outside retention, or a transient 404"),
        "{why}"
    );
}
