//! N real `expand` processes on N data directories against one `mde-triage sim`, without and
//! with the team backend: calls and 429s as the simulator counted them, the fleet's wall time
//! (first spawn to last exit), the floor for the union of the calls, and the ratio. Not a
//! criterion bench: one row takes seconds to tens of seconds and the figure of interest is
//! the ratio to the floor.
//!
//!     cargo bench --bench team_fleet
//!
//! `TEAM_FLEET_N` (default `1,3,5,10`): fleet sizes; `TEAM_FLEET_SEEDS` (default 6): seeds
//! per process, each `expand --depth 0` seed costing one stats and one alerts call, no seed
//! shared; `TEAM_FLEET_LIMITS` (default `10/2s,40/20s`): the spec both sides get;
//! `TEAM_FLEET_TEAM=0` skips the team rows. Each process keeps the default reserve (0.2), so
//! batch work may use 8/2s and 32/20s: the floor is `share(0.2).min_time(calls)` on the
//! busiest endpoint.

#[allow(dead_code)]
#[path = "../tests/support/fleet.rs"]
mod fleet;
#[allow(dead_code)]
#[path = "../tests/support/redis.rs"]
mod redis;

use std::time::Duration;

use fleet::{Sim, Tally};

const RESERVE: f64 = 0.2;

struct Row {
    n: usize,
    team: bool,
    tally: Tally,
    wall: Duration,
    floor: Duration,
    /// The windows themselves, nothing kept for the analyst: what uncoordinated processes can
    /// reach by spending the reserve too.
    raw_floor: Duration,
    complete: usize,
    expected: usize,
    unreachable: usize,
}

fn run(n: usize, seeds: usize, limits: &str, team: Option<&str>) -> Row {
    let sim = Sim::start(limits, Some(600));
    let fleet: Vec<_> = (0..n)
        .map(|i| {
            let ips = fleet::seeds_for(i, seeds);
            let mut args = vec!["expand", "--depth", "0"];
            args.extend(ips.iter().map(String::as_str));
            fleet::spawn(&sim, team, &args)
        })
        .collect();
    let done = fleet::finish_all(fleet);
    let log = sim.requests();
    let tally = Tally::of(&log);
    let wall = fleet::fleet_wall(&done);
    // A node is complete when it carries stats and no error.
    let complete = done
        .iter()
        .flat_map(|f| f.stdout.lines())
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("error").is_none() && v["stats"].is_object())
        .count();
    let unreachable = done
        .iter()
        .filter(|f| f.stderr.contains("team budget unreachable"))
        .count();
    for f in &done {
        if !f.status.success() {
            eprintln!("a process failed: {:?}: {}", f.status, f.stderr);
        }
    }
    Row {
        n,
        team: team.is_some(),
        floor: tally.floor(&sim.limits, RESERVE),
        raw_floor: tally.floor(&sim.limits, 0.0),
        tally,
        wall,
        complete,
        expected: n * seeds,
        unreachable,
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument would name nothing here.
    let sizes: Vec<usize> = std::env::var("TEAM_FLEET_N")
        .unwrap_or_else(|_| "1,3,5,10".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let seeds: usize = std::env::var("TEAM_FLEET_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    let limits = std::env::var("TEAM_FLEET_LIMITS").unwrap_or_else(|_| "10/2s,40/20s".into());
    let with_team = std::env::var("TEAM_FLEET_TEAM").map_or(true, |v| v != "0");
    // One throwaway redis-server per team row (None, with a printed line, when not installed).
    let with_team = with_team && redis::RedisServer::start().is_some();
    println!(
        "team_fleet: limits {limits} on both sides, reserve {RESERVE}, {seeds} seeds per process \
         (expand --depth 0: 2 calls a seed)"
    );
    println!(
        "| N | team | calls (stats / IP alerts / alert IPs) | 429s | complete nodes | wall | floor | wall/floor | raw-window floor |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for &n in &sizes {
        let mut rows = vec![run(n, seeds, &limits, None)];
        if with_team && let Some(r) = redis::RedisServer::start() {
            rows.push(run(n, seeds, &limits, Some(&r.url())));
        }
        for row in rows {
            let ratio = if row.floor.is_zero() {
                "floor 0".to_owned()
            } else {
                format!("{:.3}", row.wall.as_secs_f64() / row.floor.as_secs_f64())
            };
            let said = if row.unreachable > 0 {
                format!(" ({} said unreachable)", row.unreachable)
            } else {
                String::new()
            };
            println!(
                "| {} | {} | {} ({}) | {} | {}/{}{said} | {} | {} | {} | {} |",
                row.n,
                if row.team { "with" } else { "without" },
                row.tally.calls(),
                fleet::per_endpoint(&row.tally),
                row.tally.refused(),
                row.complete,
                row.expected,
                secs(row.wall),
                secs(row.floor),
                ratio,
                secs(row.raw_floor)
            );
        }
    }
}
