//! Two processes of one user on one data directory, no Redis: they share the budget live
//! through the local database (every admission one SQLite transaction), not only the call log
//! read at start. Real processes (the built binary) against the simulator with the same scaled
//! limits on both sides: no 429, no window over its limit, every answer complete.

use crate::support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use mde_triage::sim::{self, SimConfig};

const LIMITS: &str = "20/1s";
/// Seeds per process: each queues 30 calls per endpoint at once, more than a window holds.
const SEEDS: u32 = 30;

fn seeds(net: u32) -> Vec<String> {
    (1..=SEEDS).map(|i| format!("10.{net}.0.{i}")).collect()
}

fn expand(url: &str, token: &str, data: &std::path::Path, seeds: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mde-triage"))
        .envs(support::isolated_env())
        .args(["--rate-limit", LIMITS, "--data-dir"])
        .arg(data)
        .arg("expand")
        .args(seeds)
        .args(["--depth", "0"])
        .env("MDE_API_URL", url)
        .env("MDE_TOKEN", token)
        .env("MDE_TRIAGE_LOG", "off")
        .env_remove("MDE_TEAM_REDIS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

/// The most requests per endpoint that arrived within any `window`-long span.
fn most_in_window(at: &[(String, u64)], window_ms: u64) -> usize {
    let mut by_endpoint: HashMap<&str, Vec<u64>> = HashMap::new();
    for (path, t) in at {
        let endpoint = path.rsplit('/').next().unwrap_or("");
        let endpoint = if path.starts_with("/api/alerts/") {
            "alert-ips"
        } else {
            endpoint
        };
        by_endpoint.entry(endpoint).or_default().push(*t);
    }
    by_endpoint
        .values()
        .flat_map(|ts| {
            ts.iter().map(|t0| {
                ts.iter()
                    .filter(|t| **t >= *t0 && **t < *t0 + window_ms)
                    .count()
            })
        })
        .max()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_process_on_one_data_directory_shares_the_budget_live() {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let sim = sim::start(
        any,
        SimConfig {
            limits: LIMITS.parse().unwrap(),
            ..SimConfig::default()
        },
    )
    .await
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let (url, token) = (sim.url.clone(), sim.token.clone());
    let first = {
        let (url, token, data) = (url.clone(), token.clone(), data.path().to_owned());
        tokio::task::spawn_blocking(move || expand(&url, &token, &data, &seeds(1)))
    };
    // The second starts once the first is spending: what it reads at start is not enough.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while sim.requests().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the first never called"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let second = {
        let (url, token, data) = (url.clone(), token.clone(), data.path().to_owned());
        tokio::task::spawn_blocking(move || expand(&url, &token, &data, &seeds(2)))
    };
    let (first, second) = (first.await.unwrap(), second.await.unwrap());
    for out in [&first, &second] {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let requests = sim.requests();
    let refused: Vec<_> = requests.iter().filter(|r| r.status == 429).collect();
    assert!(refused.is_empty(), "429s: {refused:?}");
    let at: Vec<(String, u64)> = requests.iter().map(|r| (r.path.clone(), r.at_ms)).collect();
    assert!(
        most_in_window(&at, 1000) <= 20,
        "a window got more than its limit: {at:?}"
    );
    // Complete answers: every seed a node, each with its stats and alerts.
    for out in [&first, &second] {
        let nodes: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(nodes.len(), SEEDS as usize, "a walk came back short");
        assert!(nodes.iter().all(|n| n.get("error").is_none()), "{nodes:?}");
    }
    assert_eq!(requests.len(), 4 * SEEDS as usize, "one call per key");
    sim.shutdown().await;
}
