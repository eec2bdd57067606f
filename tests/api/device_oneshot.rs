//! `device ID` and `ip IP --devices-at TIME` as a script runs them: the real binary against
//! the simulator (or canned answers) over loopback; JSON shapes, exit codes, and the calls a
//! public IP or an old time never makes.

use crate::support::sim_with;

use chrono::{DateTime, Utc};
use mde_triage::sim::{SimConfig, SimHandle};
use serde_json::Value;

use crate::devices::{EXEC_01, FIN_07, MOVED_IP, told_now};
use crate::oneshot::{run, stderr, stdout};
use crate::support::replay::replay;
use crate::support::{DOC_ALERT, DOC_IP, fixture};

/// The API paths the simulator was asked, in order.
pub(crate) fn api_calls(sim: &SimHandle) -> Vec<String> {
    sim.requests()
        .into_iter()
        .map(|r| r.path)
        .filter(|p| p.starts_with("/api/"))
        .collect()
}

/// The command's stdout as JSON.
pub(crate) fn json(o: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

#[tokio::test(flavor = "multi_thread")]
async fn device_json_is_the_device_and_its_alert_ids_newest_first() {
    let sim = sim_with(SimConfig::default()).await;
    let out = run(&sim.url, Some(&sim.token), &["device", FIN_07, "--json"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["device"]["id"], FIN_07);
    assert_eq!(v["device"]["name"], "ws-fin-07.contoso.local");
    for field in [
        "os_platform",
        "health_status",
        "risk_score",
        "exposure_level",
        "last_seen",
    ] {
        assert!(v["device"][field].is_string(), "{field}: {v}");
    }
    assert_eq!(
        v["device"]["tags"],
        serde_json::json!(["Finance", "Isolated"])
    );
    let alerts: Vec<&str> = v["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(alerts.len(), 3);
    assert_eq!(
        alerts[0], "da638673230876540021_-1622001987",
        "newest first"
    );
    assert!(alerts.contains(&DOC_ALERT));
    assert!(v.get("alerts_error").is_none(), "{v}");
    assert_eq!(api_calls(&sim).len(), 2, "one call per endpoint");

    let table = run(&sim.url, Some(&sim.token), &["device", EXEC_01]).await;
    assert!(table.status.success(), "{}", stderr(&table));
    let text = stdout(&table);
    assert!(
        text.starts_with("ws-exec-01.contoso.local  1b2c3d4e"),
        "{text}"
    );
    assert!(text.contains("2 alerts:"), "{text}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_device_exits_4_and_a_malformed_id_2_before_any_call() {
    let sim = sim_with(SimConfig::default()).await;
    let out = run(
        &sim.url,
        Some(&sim.token),
        &[
            "device",
            "ffffffffffffffffffffffffffffffffffffffff",
            "--json",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("device not found") && err.contains("retention") && err.contains("transient"),
        "{err}"
    );
    let calls = api_calls(&sim).len();
    let out = run(&sim.url, Some(&sim.token), &["device", "../etc/passwd"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(api_calls(&sim).len(), calls, "no call for a malformed id");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn devices_at_names_who_held_an_internal_ip_then() {
    let story = told_now();
    let sim = sim_with(SimConfig {
        dataset: story.clone(),
        ..SimConfig::default()
    })
    .await;
    let at = |s: &str| {
        story
            .as_told(s.parse::<DateTime<Utc>>().unwrap())
            .to_rfc3339()
    };
    for (time, holder) in [
        (at("2026-11-20T09:14:22Z"), "ws-fin-07.contoso.local"),
        (at("2026-11-21T03:13:20Z"), "ws-exec-01.contoso.local"),
    ] {
        let out = run(
            &sim.url,
            Some(&sim.token),
            &["ip", MOVED_IP, "--devices-at", &time, "--json"],
        )
        .await;
        assert!(out.status.success(), "{}", stderr(&out));
        let v = json(&out);
        let devices = v["devices"].as_array().unwrap();
        assert_eq!(devices.len(), 1, "{v}");
        assert_eq!(devices[0]["name"], holder);
        assert!(devices[0]["id"].is_string());
        let window = v["devices_window"].as_array().unwrap();
        assert_eq!(window.len(), 2);
        assert!(v["devices_at"].as_str().unwrap().ends_with('Z'), "{v}");
        assert!(
            v["stats"].is_object() || v["stats"].is_null(),
            "the IP's report stays: {v}"
        );
    }
    // Nobody had it then: an empty list, not an error.
    let out = run(
        &sim.url,
        Some(&sim.token),
        &[
            "ip",
            "10.99.99.99",
            "--devices-at",
            &at("2026-11-21T03:13:20Z"),
            "--json",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json(&out)["devices"], serde_json::json!([]));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_public_ip_spends_no_devices_call_and_an_old_time_no_call_at_all() {
    let sim = sim_with(SimConfig::default()).await;
    let hour_ago = (Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let out = run(
        &sim.url,
        Some(&sim.token),
        &["ip", "104.80.104.128", "--devices-at", &hour_ago, "--json"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    assert!(v["devices"].is_null(), "{v}");
    // Why is the report's warning, not an error of the IP's own (exit 0 above).
    assert!(v.get("devices_error").is_none(), "gone for warnings: {v}");
    let warnings = v["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{v}");
    let why = warnings[0].as_str().unwrap();
    assert!(why.contains("not asked") && why.contains("public"), "{why}");
    assert!(
        stderr(&out).contains(&format!("mde-triage: warning: {why}")),
        "one line on stderr: {}",
        stderr(&out)
    );
    assert!(
        v["stats"].is_object(),
        "the rest of the report is there: {v}"
    );
    let calls = api_calls(&sim);
    assert_eq!(calls.len(), 2, "stats and alerts only: {calls:?}");
    assert!(!calls.iter().any(|p| p.contains("findbyip")));

    let old = (Utc::now() - chrono::Duration::days(31)).to_rfc3339();
    for (args, says) in [
        (vec!["ip", MOVED_IP, "--devices-at", &old], "30 days"),
        (
            vec!["ip", MOVED_IP, "--devices-at", "yesterday"],
            "is not a time",
        ),
    ] {
        let out = run(&sim.url, Some(&sim.token), &args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{}", stderr(&out));
    }
    assert_eq!(api_calls(&sim).len(), 2, "no call for a refused time");

    // Without --devices-at the shape is what it was.
    let out = run(&sim.url, Some(&sim.token), &["ip", DOC_IP, "--json"]).await;
    let v = json(&out);
    assert!(
        v.get("devices").is_none() && v.get("devices_at").is_none(),
        "{v}"
    );
    // Each alert names its device's id, for `device ID`.
    let doc = v["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == DOC_ALERT)
        .unwrap();
    assert_eq!(doc["machine_id"], FIN_07, "{doc}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_findbyip_404_is_an_empty_list() {
    let at = Utc::now() - chrono::Duration::hours(3);
    let stamp = mde_triage::defender::UtcSecond::new(at).to_string();
    let path: &'static str = Box::leak(
        format!("/api/machines/findbyip(ip='{MOVED_IP}',timestamp={stamp})").into_boxed_str(),
    );
    let url = replay(vec![
        (
            "/api/ips/10.20.40.15/stats",
            200,
            None,
            fixture("ip-stats.example.json"),
        ),
        (
            "/api/ips/10.20.40.15/alerts",
            200,
            None,
            r#"{"value": []}"#.into(),
        ),
        (
            path,
            404,
            None,
            fixture("error-resource-not-found.example.json"),
        ),
    ])
    .await;
    let out = run(
        &url,
        Some("t"),
        &["ip", MOVED_IP, "--devices-at", &at.to_rfc3339(), "--json"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["devices"], serde_json::json!([]), "{v}");
    assert_eq!(
        v["warnings"],
        serde_json::json!([]),
        "none had it: no warning: {v}"
    );
}

/// Without `Machine.Read.All` the IP's own answer is complete: exit 0, and the warning names
/// the permission the devices needed.
#[tokio::test(flavor = "multi_thread")]
async fn devices_at_without_machine_read_is_a_warning_and_exit_0() {
    let sim = sim_with(SimConfig {
        roles: vec!["Ip.Read.All".into(), "Alert.Read.All".into()],
        ..SimConfig::default()
    })
    .await;
    let hour_ago = (Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let out = run(
        &sim.url,
        Some(&sim.token),
        &["ip", MOVED_IP, "--devices-at", &hour_ago, "--json"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert!(v["devices"].is_null(), "{v}");
    let warnings = v["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{v}");
    assert!(
        warnings[0].as_str().unwrap().contains("Machine.Read.All"),
        "{v}"
    );
    let err = stderr(&out);
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("mde-triage: warning: "))
        .collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(api_calls(&sim).iter().any(|p| p.contains("findbyip")));
    sim.shutdown().await;
}
