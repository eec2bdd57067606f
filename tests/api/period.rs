//! The prevalence period over loopback: the client always sends `lookBackHours`, the
//! simulator answers each period on its own, each period is one call and one cache entry (the
//! real binary on one data directory), and a period the API may not take is refused before any
//! call with exit code 2.

use crate::support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use mde_triage::defender::client::{Client, ClientConfig, StaticToken};
use mde_triage::defender::{Call, FetchKey, FetchValue, LookBack, Transport};
use mde_triage::sim::{self, SimConfig, SimHandle};
use serde_json::Value;
use support::{DOC_IP, ip};

async fn sim() -> SimHandle {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    sim::start(any, SimConfig::default()).await.unwrap()
}

/// The stats calls the simulator answered, as path and query.
fn stats_calls(sim: &SimHandle) -> Vec<String> {
    sim.requests()
        .into_iter()
        .map(|r| r.path)
        .filter(|p| p.contains("/stats"))
        .collect()
}

#[tokio::test]
async fn the_client_sends_the_period_and_a_shorter_one_sees_fewer_devices() {
    let sim = sim().await;
    let client = Client::new(
        ClientConfig {
            base_url: sim.url.clone(),
            timeout: Duration::from_secs(10),
        },
        Arc::new(StaticToken::new(&sim.token)),
    )
    .unwrap();
    let mut devices = Vec::new();
    for period in [LookBack::DAY, LookBack::WEEK, LookBack::MONTH] {
        let page = client
            .call(Call::first(FetchKey::IpStats(ip(DOC_IP), period)))
            .await
            .unwrap();
        let FetchValue::Stats(Some(stats)) = page.value else {
            panic!("stats expected");
        };
        devices.push(stats.prevalence().unwrap());
    }
    assert!(
        devices[0] < devices[1] && devices[1] < devices[2],
        "{devices:?}"
    );
    assert_eq!(devices[2], 63515, "30 days is the documentation's example");
    assert_eq!(
        stats_calls(&sim),
        [
            "/api/ips/10.209.67.177/stats?lookBackHours=24",
            "/api/ips/10.209.67.177/stats?lookBackHours=168",
            "/api/ips/10.209.67.177/stats?lookBackHours=720",
        ],
        "the period is always sent, 30 days included"
    );
    sim.shutdown().await;
}

/// A data directory (and config and logs) of its own, kept across runs of the binary.
fn home() -> PathBuf {
    tempfile::Builder::new()
        .prefix("mde-triage-period-")
        .tempdir()
        .unwrap()
        .keep()
}

/// Runs the binary on `home` off the async runtime, so the in-process simulator keeps serving.
async fn run(home: &Path, sim: &SimHandle, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mde-triage"));
    cmd.args(args)
        .env("MDE_TRIAGE_DATA_DIR", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("MDE_API_URL", &sim.url)
        .env("MDE_TOKEN", &sim.token)
        .env_remove("MDE_CASE")
        .env_remove("MDE_TRIAGE_CONFIG")
        .env_remove("AZURE_TENANT_ID")
        .env("PATH", "")
        .env("MDE_TRIAGE_LOG", "off");
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_period_is_one_call_and_one_cache_entry_and_the_json_says_which() {
    let sim = sim().await;
    let home = home();
    let week = json(&run(&home, &sim, &["ip", DOC_IP, "--look-back", "7d", "--json"]).await);
    assert_eq!(week["look_back_hours"], 168);
    assert_eq!(week["stats"]["look_back_hours"], 168);
    assert_eq!(
        stats_calls(&sim),
        ["/api/ips/10.209.67.177/stats?lookBackHours=168"]
    );

    // The same period again, written another way: the cache answers, no call.
    let again = json(
        &run(
            &home,
            &sim,
            &["ip", DOC_IP, "--look-back", "168h", "--json"],
        )
        .await,
    );
    assert_eq!(again, week);
    assert_eq!(
        stats_calls(&sim).len(),
        1,
        "a period already fetched costs no call"
    );

    // Another period is another entry: one call, another answer.
    let two_days = json(&run(&home, &sim, &["ip", DOC_IP, "--look-back", "48h", "--json"]).await);
    assert_eq!(two_days["stats"]["look_back_hours"], 48);
    assert!(
        two_days["stats"]["prevalence"].as_u64() < week["stats"]["prevalence"].as_u64(),
        "{two_days} {week}"
    );
    // No flag: 30 days, sent explicitly, its own entry too.
    let month = json(&run(&home, &sim, &["ip", DOC_IP, "--json"]).await);
    assert_eq!(month["look_back_hours"], 720);
    assert_eq!(month["stats"]["prevalence"], 63515);
    assert_eq!(
        stats_calls(&sim),
        [
            "/api/ips/10.209.67.177/stats?lookBackHours=168",
            "/api/ips/10.209.67.177/stats?lookBackHours=48",
            "/api/ips/10.209.67.177/stats?lookBackHours=720",
        ]
    );
    let table = run(&home, &sim, &["ip", DOC_IP, "--look-back", "7d"]).await;
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("devices over 7 days"), "{text}");
    assert_eq!(
        stats_calls(&sim).len(),
        3,
        "the table is served from the cache too"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_config_file_s_period_is_the_default_and_the_flag_wins() {
    let sim = sim().await;
    let home = home();
    let config = home.join("config.toml");
    std::fs::write(&config, "[settings]\nlook_back = \"1d\"\n").unwrap();
    let config = config.to_str().unwrap();
    let day = json(&run(&home, &sim, &["--config", config, "ip", DOC_IP, "--json"]).await);
    assert_eq!(day["look_back_hours"], 24);
    let flagged = [
        "--config",
        config,
        "ip",
        DOC_IP,
        "--json",
        "--look-back",
        "30d",
    ];
    assert_eq!(
        json(&run(&home, &sim, &flagged).await)["look_back_hours"],
        720
    );
    assert_eq!(
        stats_calls(&sim),
        [
            "/api/ips/10.209.67.177/stats?lookBackHours=24",
            "/api/ips/10.209.67.177/stats?lookBackHours=720",
        ]
    );
    // Not seen over the period: no stats, and the period still said.
    let unseen = ["--config", config, "ip", "198.51.100.77", "--json"];
    let unseen = json(&run(&home, &sim, &unseen).await);
    assert!(unseen["stats"].is_null(), "{unseen}");
    assert_eq!(unseen["look_back_hours"], 24);
    let table = run(&home, &sim, &["--config", config, "ip", "198.51.100.77"]).await;
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("not seen in the org over 1 day"), "{text}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_period_out_of_range_or_garbled_exits_2_before_any_call() {
    let sim = sim().await;
    let home = home();
    let cases = [
        ("0h", "outside 1h to 720h"),
        ("721h", "outside 1h to 720h"),
        ("31d", "outside 1h to 720h"),
        ("abc", "is not a period"),
        ("1.5d", "is not a period"),
        ("-1h", "is not a period"),
    ];
    for (period, says) in cases {
        // `=` so that clap hands `-1h` over as the value rather than read it as a flag.
        let flag = format!("--look-back={period}");
        let out = run(&home, &sim, &["ip", DOC_IP, &flag, "--json"]).await;
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{period}: {err}");
        assert!(err.contains(says), "{period}: {err}");
        assert!(out.stdout.is_empty(), "{period}");
    }
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
    sim.shutdown().await;
}
