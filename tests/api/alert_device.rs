//! `alert ID` and `alert ID --with device`, as a script runs them: the real binary against the
//! simulator (or canned answers) over loopback. By default one call, the IPs; with the device,
//! the alert's record and the machine's too. The exit code is the IPs' answer's: what the
//! device's calls could not read is a warning (JSON `warnings`, one stderr line), never a code.

use crate::support::sim_with;

use mde_triage::sim::SimConfig;

use crate::device_oneshot::{api_calls, json};
use crate::devices::FIN_07;
use crate::oneshot::{run, stderr, stdout};
use crate::support::replay::replay;
use crate::support::{DOC_ALERT, fixture};

const IPS: &str = r#"{"value": [{"id": "10.209.67.177"}, {"id": "104.80.104.128"}]}"#;

/// The stderr lines that carry a warning.
fn warning_lines(o: &std::process::Output) -> Vec<String> {
    stderr(o)
        .lines()
        .filter(|l| l.starts_with("mde-triage: warning: "))
        .map(str::to_owned)
        .collect()
}

/// `alert ID --json --with device`, whose IPs (`ips` of them) came whole but whose device could
/// not be read: exit 0, `device` null, and one warning, in the JSON and once on stderr. Returns
/// the process's output and that warning.
async fn device_unread(
    url: &str,
    token: Option<&str>,
    id: &str,
    ips: usize,
) -> (std::process::Output, String) {
    let out = run(url, token, &["alert", id, "--json", "--with", "device"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["ips"].as_array().unwrap().len(), ips, "{v}");
    assert!(v["device"].is_null(), "{v}");
    let w = warnings(&v);
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(warning_lines(&out).len(), 1, "{}", stderr(&out));
    let warning = w[0].clone();
    (out, warning)
}

/// The JSON's `warnings`, as strings.
fn warnings(v: &serde_json::Value) -> Vec<String> {
    v["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("warnings always present: {v}"))
        .iter()
        .map(|w| w.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn by_default_alert_spends_one_call_and_its_device_is_null() {
    let sim = sim_with(SimConfig::default()).await;
    let out = run(&sim.url, Some(&sim.token), &["alert", DOC_ALERT, "--json"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["ips"].as_array().unwrap().len(), 3, "{v}");
    assert!(
        v["device"].is_null(),
        "present and null when not asked: {v}"
    );
    assert!(warnings(&v).is_empty(), "not asking is no warning: {v}");
    assert_eq!(
        api_calls(&sim),
        [format!("/api/alerts/{DOC_ALERT}/ips")],
        "a script looping over 500 alerts spends 500 calls"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_device_all_three_calls_answer_and_the_device_is_the_one_device_prints() {
    let sim = sim_with(SimConfig::default()).await;
    let args = ["alert", DOC_ALERT, "--json", "--with", "device"];
    let out = run(&sim.url, Some(&sim.token), &args).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["alert"], DOC_ALERT);
    assert_eq!(v["ips"].as_array().unwrap().len(), 3, "{v}");
    assert_eq!(v["device"]["id"], FIN_07);
    assert_eq!(v["device"]["name"], "ws-fin-07.contoso.local");
    assert!(warnings(&v).is_empty(), "{v}");
    assert!(v.get("device_error").is_none(), "gone for warnings: {v}");
    assert!(warning_lines(&out).is_empty(), "{}", stderr(&out));
    let calls = api_calls(&sim);
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert_eq!(
        calls[..2].iter().filter(|p| p.contains(DOC_ALERT)).count(),
        2,
        "the IPs and the record first: {calls:?}"
    );
    assert_eq!(calls[2], format!("/api/machines/{FIN_07}"), "{calls:?}");
    // The same object `device ID --json` prints.
    let device = run(&sim.url, Some(&sim.token), &["device", FIN_07, "--json"]).await;
    assert_eq!(v["device"], json(&device)["device"]);

    let table = run(
        &sim.url,
        Some(&sim.token),
        &["alert", DOC_ALERT, "--with=device"],
    )
    .await;
    assert!(table.status.success(), "{}", stderr(&table));
    let text = stdout(&table);
    assert!(text.starts_with("3 related IPs of alert"), "{text}");
    assert!(
        text.contains("device ws-fin-07.contoso.local  4f1e0c9a"),
        "{text}"
    );
    sim.shutdown().await;
}

/// The issue's case: an app holding only `Ip.Read.All`, the permission the API documents for
/// an alert's IPs. The IPs are complete, so the exit is 0, both with and without the device.
#[tokio::test(flavor = "multi_thread")]
async fn with_ip_read_only_the_ips_exit_0_and_the_record_s_403_is_a_warning() {
    let sim = sim_with(SimConfig {
        roles: vec!["Ip.Read.All".into(), "Machine.Read.All".into()],
        ..SimConfig::default()
    })
    .await;
    let plain = run(&sim.url, Some(&sim.token), &["alert", DOC_ALERT, "--json"]).await;
    assert!(plain.status.success(), "{}", stderr(&plain));
    assert!(warnings(&json(&plain)).is_empty());

    let (out, w) = device_unread(&sim.url, Some(&sim.token), DOC_ALERT, 3).await;
    assert!(w.starts_with(&format!("alert {DOC_ALERT}")), "{w}");
    assert!(w.contains("Alert.Read.All"), "the permission named: {w}");
    let lines = warning_lines(&out);
    assert!(lines[0].contains("Alert.Read.All"), "{lines:?}");
    assert!(
        !api_calls(&sim)
            .iter()
            .any(|p| p.starts_with("/api/machines/")),
        "no record, no device to ask"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_machine_read_the_device_s_403_is_a_warning_naming_the_permission() {
    let sim = sim_with(SimConfig {
        roles: vec!["Ip.Read.All".into(), "Alert.Read.All".into()],
        ..SimConfig::default()
    })
    .await;
    let (_, w) = device_unread(&sim.url, Some(&sim.token), DOC_ALERT, 3).await;
    assert!(w.starts_with(&format!("device {FIN_07}")), "{w}");
    assert!(w.contains("Machine.Read.All"), "{w}");

    let table = run(
        &sim.url,
        Some(&sim.token),
        &["alert", DOC_ALERT, "--with", "device"],
    )
    .await;
    assert_eq!(table.status.code(), Some(0), "{}", stderr(&table));
    assert!(
        stdout(&table).contains(&format!("device not read: device {FIN_07}")),
        "{}",
        stdout(&table)
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_device_past_retention_is_a_warning_saying_what_the_404_means() {
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
    let (_, w) = device_unread(&url, Some("t"), "da1_3", 2).await;
    assert!(w.contains("outside retention, or a transient 404"), "{w}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ips_404_is_the_exit_code_4_whatever_the_device_says() {
    let url = replay(vec![
        (
            "/api/alerts/da1_4/ips",
            404,
            None,
            fixture("error-resource-not-found.example.json"),
        ),
        (
            "/api/alerts/da1_4",
            200,
            None,
            format!(r#"{{"id": "da1_4", "machineId": "{FIN_07}"}}"#),
        ),
    ])
    .await;
    for args in [
        &["alert", "da1_4", "--json"][..],
        &["alert", "da1_4", "--json", "--with", "device"],
    ] {
        let out = run(&url, Some("t"), args).await;
        assert_eq!(out.status.code(), Some(4), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "no partial JSON: {}", stdout(&out));
        assert!(stderr(&out).contains("not found"), "{}", stderr(&out));
    }
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
    let out = run(
        &url,
        Some("t"),
        &["alert", "da1_1", "--json", "--with", "device"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(
        v["ips"],
        serde_json::json!(["10.209.67.177", "104.80.104.128"])
    );
    assert!(v["device"].is_null(), "{v}");
    assert_eq!(warnings(&v).len(), 1, "{v}");
    assert!(
        warnings(&v)[0].starts_with("alert da1_1: unknown alert, or outside the retention period"),
        "{v}"
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
    let out = run(
        &url,
        Some("t"),
        &["alert", "da1_2", "--json", "--with", "device"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    assert!(v["device"].is_null(), "{v}");
    assert_eq!(warnings(&v), ["alert da1_2 names no device (no machineId)"]);
    let table = run(&url, Some("t"), &["alert", "da1_2", "--with", "device"]).await;
    assert!(
        stdout(&table).contains("device not read: alert da1_2 names no device"),
        "{}",
        stdout(&table)
    );
}

/// A script's author reads the cost before looping: each one-shot's help says it.
#[tokio::test(flavor = "multi_thread")]
async fn each_one_shot_s_help_says_what_it_costs_with_and_without_its_extras() {
    for (command, says) in [
        ("alert", ["1 API call", "--with device adds 2"]),
        ("ip", ["2 API calls", "--devices-at adds 1"]),
        ("device", ["2 API calls", "exit 4"]),
    ] {
        let out = run("http://127.0.0.1:9", None, &[command, "--help"]).await;
        assert!(out.status.success(), "{}", stderr(&out));
        let help = stdout(&out);
        for s in says {
            assert!(help.contains(s), "{command}: {s}: {help}");
        }
    }
}
