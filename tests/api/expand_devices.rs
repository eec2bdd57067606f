//! `expand --via devices` against the simulator's demo story (and canned answers): alert →
//! its device → that device's alerts → their IPs, each node once, devices said as such, within
//! `--depth` and `--max-calls`.

use crate::support::sim_with;
use std::collections::HashSet;
use std::process::Command;

use mde_triage::commands::expand::Options;
use mde_triage::fetch::RateLimits;
use mde_triage::sim::SimConfig;
use serde_json::Value;

use crate::devices::{EXEC_01, FIN_07};
use crate::expand::{expand, expand_at, of_type};
use crate::support::replay::replay;
use crate::support::{self, ip};

fn options(depth: u32, max_calls: Option<u64>, via_devices: bool) -> Options {
    Options {
        depth,
        max_calls,
        limits: RateLimits::default(),
        reserve: 0.2,
        look_back: mde_triage::defender::LookBack::MONTH,
        via_devices,
    }
}

fn field<'a>(nodes: &'a [Value], t: &str, key: &str) -> Vec<&'a str> {
    of_type(nodes, t)
        .iter()
        .map(|n| n[key].as_str().unwrap())
        .collect()
}

fn once(items: &[&str]) -> bool {
    items.len() == items.iter().collect::<HashSet<_>>().len()
}

/// The one alert of 23.203.232.228 is on ws-fin-07; its other alerts lead to 203.0.113.66,
/// which no alert of the seed names.
#[tokio::test]
async fn via_devices_walks_the_alert_s_device_and_its_other_alerts() {
    let sim = sim_with(SimConfig::default()).await;
    let seed = [ip("23.203.232.228")];
    let (plain, _) = expand(&sim, &seed, options(1, None, false)).await;
    assert!(of_type(&plain, "device").is_empty());
    assert!(!field(&plain, "ip", "ip").contains(&"203.0.113.66"));
    assert!(
        of_type(&plain, "alert")
            .iter()
            .all(|a| a.get("device").is_none()),
        "the shape without --via stays as it was"
    );
    let plain_calls = sim.requests().len();

    let (nodes, summary) = expand(&sim, &seed, options(1, None, true)).await;
    let devices = of_type(&nodes, "device");
    assert_eq!(devices.len(), 1, "{nodes:#?}");
    let d = devices[0];
    assert_eq!(d["device"], FIN_07);
    assert_eq!(d["name"], "ws-fin-07.contoso.local");
    assert_eq!(d["depth"], 0, "a device is not an IP hop");
    assert_eq!(d["alerts"].as_array().unwrap().len(), 3);
    let alerts = field(&nodes, "alert", "alert");
    assert_eq!(alerts.len(), 3, "the device's other two alerts too");
    assert!(once(&alerts));
    assert!(
        of_type(&nodes, "alert")
            .iter()
            .all(|a| a["device"] == FIN_07)
    );
    let ips = field(&nodes, "ip", "ip");
    assert!(once(&ips));
    assert!(ips.contains(&"203.0.113.66"), "{ips:?}");
    // The machine ids came with the alert lists: no alert record was asked for.
    let calls: Vec<String> = sim
        .requests()
        .into_iter()
        .skip(plain_calls)
        .map(|r| r.path)
        .collect();
    assert_eq!(calls.len() as u64, summary.requested);
    assert!(
        !calls
            .iter()
            .any(|p| p.starts_with("/api/alerts/") && !p.ends_with("/ips")),
        "{calls:?}"
    );
    assert_eq!(
        calls
            .iter()
            .filter(|p| p.starts_with("/api/machines/"))
            .count(),
        2
    );
    sim.shutdown().await;
}

/// 203.0.113.66's alerts are on three machines, the two of the DHCP story among them.
#[tokio::test]
async fn the_dhcp_story_s_two_devices_are_both_walked_once() {
    let sim = sim_with(SimConfig::default()).await;
    let (nodes, _) = expand(&sim, &[ip("203.0.113.66")], options(1, None, true)).await;
    let devices = field(&nodes, "device", "device");
    assert!(once(&devices));
    assert!(
        devices.contains(&FIN_07) && devices.contains(&EXEC_01),
        "{devices:?}"
    );
    assert!(field(&nodes, "device", "name").contains(&"ws-exec-01.contoso.local"));
    assert!(once(&field(&nodes, "alert", "alert")));
    sim.shutdown().await;
}

#[tokio::test]
async fn depth_0_and_max_calls_keep_the_devices_out() {
    let sim = sim_with(SimConfig::default()).await;
    let (nodes, _) = expand(&sim, &[ip("23.203.232.228")], options(0, None, true)).await;
    assert_eq!(nodes.len(), 1);
    assert!(
        !sim.requests()
            .iter()
            .any(|r| r.path.starts_with("/api/machines"))
    );
    // The IP (2) and its alert (1) fit; its device (2 more) does not.
    let (nodes, summary) = expand(&sim, &[ip("23.203.232.228")], options(1, Some(3), true)).await;
    assert!(of_type(&nodes, "device").is_empty(), "{nodes:#?}");
    assert_eq!(summary.requested, 3);
    assert!(summary.skipped >= 2, "{summary:?}");
    sim.shutdown().await;
}

/// A list that lacks the machine id: the alert's own record names it.
#[tokio::test]
async fn an_alert_listed_without_its_machine_id_is_read_for_it() {
    const M: &str = "4f1e0c9a3b7d2e8f6a5c1b9d0e3f7a2c4b6d8e0f";
    let url = replay(vec![
        ("/api/ips/192.0.2.9/stats", 200, None, "{}".into()),
        (
            "/api/ips/192.0.2.9/alerts",
            200,
            None,
            r#"{"value": [{"id": "da1_1", "title": "t"}]}"#.into(),
        ),
        (
            "/api/alerts/da1_1/ips",
            200,
            None,
            r#"{"value": [{"id": "192.0.2.9"}]}"#.into(),
        ),
        (
            "/api/alerts/da1_1",
            200,
            None,
            format!(r#"{{"id": "da1_1", "machineId": "{M}"}}"#),
        ),
        (
            "/api/machines/4f1e0c9a3b7d2e8f6a5c1b9d0e3f7a2c4b6d8e0f",
            200,
            None,
            format!(r#"{{"id": "{M}", "computerDnsName": "ws-fin-07"}}"#),
        ),
        (
            "/api/machines/4f1e0c9a3b7d2e8f6a5c1b9d0e3f7a2c4b6d8e0f/alerts",
            200,
            None,
            r#"{"value": [{"id": "da1_1", "machineId": null}]}"#.into(),
        ),
    ])
    .await;
    let (nodes, summary) = expand_at(&url, "t", &[ip("192.0.2.9")], options(1, None, true)).await;
    let devices = of_type(&nodes, "device");
    assert_eq!(devices.len(), 1, "{nodes:#?}");
    assert_eq!(devices[0]["name"], "ws-fin-07");
    assert_eq!(devices[0]["alerts"], serde_json::json!(["da1_1"]));
    assert!(devices[0].get("error").is_none(), "{nodes:#?}");
    // stats, alerts, the alert's IPs, its record, the device and its alerts.
    assert_eq!(summary.requested, 6);
    assert_eq!(of_type(&nodes, "alert").len(), 1, "the alert once");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_takes_via_devices_and_its_plan_says_the_cost() {
    let sim = sim_with(SimConfig::default()).await;
    let run = |args: Vec<&'static str>| {
        let (url, token) = (sim.url.clone(), sim.token.clone());
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_mde-triage"))
                .envs(support::isolated_env())
                .args(args)
                .env("MDE_API_URL", url)
                .env("MDE_TOKEN", token)
                .env("MDE_TRIAGE_LOG", "off")
                .output()
                .unwrap()
        })
    };
    let out = run(vec!["expand", "23.203.232.228", "--via", "devices"])
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(of_type(&lines, "device").len(), 1, "{stdout}");
    let before = sim.requests().len();
    let plan = run(vec![
        "expand",
        "23.203.232.228",
        "--via",
        "devices",
        "--plan",
    ])
    .await
    .unwrap();
    let said = String::from_utf8_lossy(&plan.stdout);
    assert!(said.contains("With --via devices"), "{said}");
    assert_eq!(sim.requests().len(), before, "a plan calls nothing");
    let bad = run(vec!["expand", "23.203.232.228", "--via", "users"])
        .await
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    sim.shutdown().await;
}
