//! `expand`: breadth-first pivot from seed IPs through the scheduler (IP → stats + alerts →
//! each alert's IPs → ...; with `--via devices` also alert → its device → the device's alerts
//! → their IPs), one JSON line per node on stdout, each node once.
//!
//! The walk itself ([`walk()`], in `walk`) takes the scheduler's handle and events and reports
//! through callbacks, so tests drive it against the simulator; [`run`] adds the command line
//! around it: seeds from arguments or stdin, progress on stderr (`progress`), Ctrl-C, and
//! `--plan` (`plan`).

mod plan;
mod progress;
mod walk;

use crate::case::{Subject, Visit};
use std::io::Write as _;
use std::net::IpAddr;
use std::time::Duration;

use serde::Serialize;

use super::json::StatsJson;
use super::wiring::{Recording, Wiring};
use super::{Failure, credentials, exit};
use crate::config::Settings;
use crate::defender::{Endpoint, parse_ip};
use crate::fetch::RateLimits;
pub use plan::plan;
pub use progress::Progress;
use progress::ProgressDisplay;
pub use walk::walk;

/// What to walk.
#[derive(Debug, Clone)]
pub struct Options {
    /// IP hops from the seeds: 0 looks up the seeds only; 1 also their alerts' IPs; ...
    pub depth: u32,
    /// Hard stop: requests issued at most (each request is one call, plus one per extra page).
    pub max_calls: Option<u64>,
    /// The client's per-endpoint windows, for the time estimates.
    pub limits: RateLimits,
    /// The share of each window the scheduler keeps for the analyst.
    pub reserve: f64,
    /// The prevalence period asked for each IP (the config file's `look_back`).
    pub look_back: crate::defender::LookBack,
    /// Also walk each alert's device and that device's alerts (`--via devices`).
    pub via_devices: bool,
}

impl Options {
    /// What batch work may use of the windows: the scheduler keeps its reserve for the analyst.
    pub fn batch_limits(&self) -> RateLimits {
        self.limits.share(self.reserve)
    }

    /// The scheduler's own policy for these limits and reserve (its slack included), so the
    /// plan waits exactly what the run will.
    pub fn policy(&self) -> crate::fetch::BudgetPolicy {
        crate::fetch::SchedulerConfig {
            limits: self.limits.clone(),
            reserve: self.reserve,
            ..crate::fetch::SchedulerConfig::default()
        }
        .policy()
    }
}

/// One line of output.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Node {
    Ip {
        ip: IpAddr,
        stats: Option<StatsJson>,
        alerts: Vec<String>,
        depth: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        /// The alerts list may be incomplete (a page cap, a repeated or refused link).
        truncated: bool,
        /// What the list lacks, one sentence each (also on stderr).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        warnings: Vec<String>,
    },
    Alert {
        alert: String,
        ips: Vec<String>,
        /// With `--via devices`: the id of the alert's device, when its list said it.
        #[serde(skip_serializing_if = "Option::is_none")]
        device: Option<String>,
        depth: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        truncated: bool,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        warnings: Vec<String>,
    },
    /// With `--via devices`: an alert's device, and its alerts (walked at the same depth as
    /// the alert that led here: a device is not an IP hop).
    Device {
        device: String,
        /// The DNS name, else the id; null when the record could not be read.
        name: Option<String>,
        alerts: Vec<String>,
        depth: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        truncated: bool,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        warnings: Vec<String>,
    },
}

/// How a walk ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub nodes: u64,
    pub requested: u64,
    pub calls: u64,
    /// Requests not made because of `--max-calls`.
    pub skipped: u64,
    pub interrupted: bool,
}

/// The seeds from arguments, or from stdin for `-`: one per line, blank lines and `#` comments
/// skipped, defanged forms accepted. Every bad line is reported, with its line number.
pub fn read_seeds(args: &[String], stdin: impl std::io::BufRead) -> Result<Vec<IpAddr>, Failure> {
    let mut lines: Vec<(String, String)> = Vec::new();
    if args.iter().any(|a| a == "-") {
        for (n, line) in stdin.lines().enumerate() {
            let line =
                line.map_err(|e| Failure::new(exit::INPUT, format!("reading stdin: {e}")))?;
            lines.push((format!("stdin line {}", n + 1), line));
        }
    }
    lines.extend(
        args.iter()
            .filter(|a| *a != "-")
            .map(|a| ("argument".to_owned(), a.clone())),
    );
    let mut seeds = Vec::new();
    let mut bad = Vec::new();
    for (origin, line) in lines {
        let text = line.split('#').next().unwrap_or("").trim();
        if text.is_empty() {
            continue;
        }
        match parse_ip(text) {
            Ok(ip) if !seeds.contains(&ip) => seeds.push(ip),
            Ok(_) => {}
            Err(e) => bad.push(format!("{origin}: {e}")),
        }
    }
    if !bad.is_empty() {
        return Err(Failure::new(exit::INPUT, bad.join("; ")));
    }
    if seeds.is_empty() {
        return Err(Failure::new(
            exit::INPUT,
            "no seed IPs: give them as arguments, or - to read them from stdin",
        ));
    }
    Ok(seeds)
}

/// `--extract`: the seeds are every IP in the text of stdin (for `-`) and the arguments, in
/// order, each once; what was found, skipped and read past is said on stderr.
pub fn extract_seeds(
    args: &[String],
    mut stdin: impl std::io::Read,
) -> Result<Vec<IpAddr>, Failure> {
    let mut text = String::new();
    if args.iter().any(|a| a == "-") {
        stdin
            .read_to_string(&mut text)
            .map_err(|e| Failure::new(exit::INPUT, format!("reading stdin: {e}")))?;
    }
    for a in args.iter().filter(|a| *a != "-") {
        text.push('\n');
        text.push_str(a);
    }
    let found = super::extract(&text, "no seed IPs: no IP address in the text")?;
    Ok(found.iter().map(|f| f.ip).collect())
}

/// `mde-triage expand`.
pub async fn run(
    settings: &Settings,
    args: &[String],
    options: Options,
    plan_only: bool,
    extract: bool,
) -> Result<(), Failure> {
    let seeds = if extract {
        extract_seeds(args, std::io::stdin().lock())?
    } else {
        read_seeds(args, std::io::stdin().lock())?
    };
    let rec = Recording::open(settings)?;
    if plan_only {
        let now = chrono::Utc::now();
        let recent: Vec<(Endpoint, Duration)> = rec
            .memory()
            .map(|m| m.calls_since(now - chrono::Duration::hours(1)))
            .unwrap_or_default()
            .into_iter()
            .map(|(e, at)| (e, (now - at).to_std().unwrap_or_default()))
            .collect();
        println!("{}", plan(&seeds, &options, &recent));
        rec.finish();
        return Ok(());
    }
    let tokens = credentials(settings)?;
    let Wiring {
        fetch,
        mut events,
        recording: rec,
    } = Wiring::recorded(settings, tokens, rec).await?;
    let mut display = ProgressDisplay::new();
    let mut out = std::io::stdout().lock();
    let mut closed = false;
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let summary = walk(
        &fetch,
        &mut events,
        &seeds,
        options,
        |node| {
            match node {
                Node::Ip { ip, .. } => rec.visit(Visit::place(Subject::Ip(*ip))),
                // The walk only reaches alerts by ids the API accepted.
                Node::Alert { alert, .. } => {
                    if let Ok(id) = crate::defender::parse_alert_id(alert) {
                        rec.visit(Visit::alert(id));
                    }
                }
                // A case's trail holds IPs and alerts; the device's line is on stdout.
                Node::Device { .. } => {}
            }
            // One line per node, flushed, so a pipe sees each as it completes.
            if !closed
                && let Ok(line) = serde_json::to_string(node)
                && (writeln!(out, "{line}").is_err() || out.flush().is_err())
            {
                closed = true; // `| head`: stop writing, keep the exit clean
            }
        },
        |p| display.update(p),
        stop,
    )
    .await;
    drop(fetch);
    rec.finish();
    display.finish(&summary);
    if summary.interrupted {
        return Err(Failure::new(
            exit::INTERRUPTED,
            format!(
                "interrupted: {} node(s) written, {} calls made",
                summary.nodes, summary.calls
            ),
        ));
    }
    Ok(())
}
