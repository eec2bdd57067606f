//! `expand` over a simulated tenant under scaled limits, measured against the theoretical
//! minimum the windows allow, in real time over loopback HTTP. Not a criterion bench: one run
//! takes about a minute and the figure of interest is the ratio to the floor, not nanoseconds.
//!
//!     cargo bench --bench expand_limit
//!
//! Scenario "same limits": the simulator and the client both use `10/5s,100/1h`. Expected:
//! zero 429s, wall time close to the floor, which is set by the share of the windows batch
//! work may use (the scheduler keeps 20% of each window for the analyst: 8/5s here). Scenario "tighter simulator": the simulator allows
//! `6/5s,100/1h` while the client plans for `10/5s,100/1h` (another console spends the rest of
//! the registration's budget). Expected: 429s, each followed by silence on that endpoint until
//! its Retry-After ends, and every node still answered.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mde_triage::commands::expand::{Options, walk};
use mde_triage::defender::client::{Client, ClientConfig, StaticToken};
use mde_triage::fetch::{RateLimits, SchedulerConfig, spawn};
use mde_triage::sim::{self, Dataset, LoggedRequest, SimConfig};

const TENANT_IPS: usize = 600;
const SEEDS: u32 = 3;
const DEPTH: u32 = 2;

struct Outcome {
    nodes: u64,
    wall: Duration,
    floor: Duration,
    calls: HashMap<&'static str, usize>,
    throttled: usize,
    early_after_429: usize,
}

fn endpoint_of(path: &str) -> Option<&'static str> {
    let path = path.split('?').next()?;
    if !path.starts_with("/api/") {
        None
    } else if path.ends_with("/stats") {
        Some("stats")
    } else if path.starts_with("/api/ips/") {
        Some("ip-alerts")
    } else {
        Some("alert-ips")
    }
}

async fn scenario(sim_limits: &str, client_limits: &str) -> Outcome {
    let sim_limits: RateLimits = sim_limits.parse().unwrap();
    let client_limits: RateLimits = client_limits.parse().unwrap();
    let sim = sim::start(
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        SimConfig {
            limits: sim_limits.clone(),
            dataset: Arc::new(Dataset::synthetic(TENANT_IPS, 7)),
            ..SimConfig::default()
        },
    )
    .await
    .unwrap();
    let client = Client::new(
        ClientConfig {
            base_url: sim.url.clone(),
            timeout: Duration::from_secs(30),
        },
        Arc::new(StaticToken::new(sim.token.clone())),
    )
    .unwrap();
    let (fetch, mut events) = spawn(
        Arc::new(client),
        SchedulerConfig {
            limits: client_limits.clone(),
            ..SchedulerConfig::default()
        },
    );
    let seeds: Vec<IpAddr> = (1..=SEEDS)
        .map(|i| IpAddr::V4(Ipv4Addr::from(0x0A00_0000 + i * 97)))
        .collect();
    let started = Instant::now();
    let summary = walk(
        &fetch,
        &mut events,
        &seeds,
        Options {
            depth: DEPTH,
            max_calls: None,
            limits: client_limits.clone(),
            reserve: SchedulerConfig::default().reserve,
        },
        |_| {},
        |_| {},
        std::future::pending(),
    )
    .await;
    let wall = started.elapsed();
    let log: Vec<LoggedRequest> = sim.requests();
    sim.shutdown().await;
    if std::env::var_os("EXPAND_BENCH_TRACE").is_some() {
        // Calls per endpoint per 5-second slot: where an endpoint sat idle.
        let mut slots: HashMap<&str, Vec<usize>> = HashMap::new();
        for r in &log {
            if let Some(e) = endpoint_of(&r.path) {
                let v = slots.entry(e).or_default();
                let slot = (r.at_ms / 5000) as usize;
                if v.len() <= slot {
                    v.resize(slot + 1, 0);
                }
                v[slot] += 1;
            }
        }
        eprintln!("calls per 5 s slot: {slots:?}");
    }

    let mut calls: HashMap<&'static str, usize> = HashMap::new();
    let mut answered: HashMap<&'static str, usize> = HashMap::new();
    for r in &log {
        if let Some(e) = endpoint_of(&r.path) {
            *calls.entry(e).or_default() += 1;
            if r.status != 429 {
                *answered.entry(e).or_default() += 1;
            }
        }
    }
    // The floor: the answered calls of the busiest endpoint, back to back, under the tighter of
    // the two budgets (the simulator's is the one the registration really has).
    // Batch work keeps the scheduler's reserve for the analyst, so it may use only a share of
    // the client's windows; the simulator's windows bind too. The floor: the answered calls of
    // the busiest endpoint, back to back, under every one of those windows at once.
    let share = client_limits.share(SchedulerConfig::default().reserve);
    let both = RateLimits(sim_limits.0.iter().chain(&share.0).copied().collect());
    let floor = answered
        .values()
        .map(|n| both.min_time(*n))
        .max()
        .unwrap_or_default();
    // After each 429, nothing may reach that endpoint before its Retry-After ends, once the
    // client could know: calls already on the wire when the 429 left (up to 4 run at once)
    // arrive within a round trip, hence the 50 ms allowance after the 429 itself.
    let mut early = 0;
    let mut throttled = 0;
    for (i, r) in log.iter().enumerate() {
        let (Some(e), Some(wait)) = (endpoint_of(&r.path), r.retry_after) else {
            continue;
        };
        throttled += 1;
        let until = r.at_ms + wait * 1000;
        early += log[i + 1..]
            .iter()
            .filter(|n| {
                endpoint_of(&n.path) == Some(e) && n.at_ms > r.at_ms + 50 && n.at_ms + 5 < until
            })
            .count();
    }
    Outcome {
        nodes: summary.nodes,
        wall,
        floor,
        calls,
        throttled,
        early_after_429: early,
    }
}

fn report(name: &str, o: &Outcome) {
    let mut calls: Vec<_> = o.calls.iter().collect();
    calls.sort();
    let over = if o.floor.is_zero() {
        "no floor (nothing waits)".to_owned()
    } else {
        let ratio = o.wall.as_secs_f64() / o.floor.as_secs_f64() - 1.0;
        format!("{:+.1}% over the floor", ratio * 100.0)
    };
    println!(
        "{name}: {} nodes · calls {calls:?} · 429s {} · requests inside a Retry-After {} · wall {:.2}s · floor {:.2}s · {over}",
        o.nodes,
        o.throttled,
        o.early_after_429,
        o.wall.as_secs_f64(),
        o.floor.as_secs_f64(),
    );
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` would run this too: skip then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let only = std::env::var("EXPAND_BENCH").unwrap_or_default();
    if only.is_empty() || only == "calibrate" {
        let o = rt.block_on(scenario("100000/1s", "100000/1s"));
        report("calibration (no limits)", &o);
    }
    if only.is_empty() || only == "same" {
        let o = rt.block_on(scenario("10/5s,100/1h", "10/5s,100/1h"));
        report("same limits 10/5s,100/1h", &o);
    }
    if only.is_empty() || only == "tighter" {
        let o = rt.block_on(scenario("6/5s,100/1h", "10/5s,100/1h"));
        report("simulator 6/5s,100/1h, client 10/5s,100/1h", &o);
    }
}
