//! `expand`: breadth-first pivot from seed IPs through the scheduler (IP → stats + alerts →
//! each alert's IPs → ...), one JSON line per node on stdout, each node once.
//!
//! The walk itself ([`walk`]) takes the scheduler's handle and events and reports through
//! callbacks, so tests drive it against the simulator; [`run`] adds the command line around it:
//! seeds from arguments or stdin, progress on stderr, Ctrl-C.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::io::{IsTerminal as _, Write as _};
use std::net::IpAddr;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc::UnboundedReceiver;

use super::json::StatsJson;
use super::session::Recording;
use super::{Failure, credentials, exit};
use crate::config::Settings;
use crate::defender::{AlertId, Endpoint, FetchKey, FetchValue, IpStats, parse_alert_id, parse_ip};
use crate::fetch::{
    Answer, Answers, BudgetStatus, FetchEvent, FetchHandle, FetchRequest, Heard, Priority,
    RateLimits, Ticket,
};

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
        depth: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        truncated: bool,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        warnings: Vec<String>,
    },
}

/// Where the walk stands, for the progress display.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// Nodes written so far.
    pub nodes: u64,
    /// Requests issued so far, and how many of them have not answered yet.
    pub requested: u64,
    pub waiting: u64,
    /// Calls sent (pages and retries included), per the scheduler.
    pub calls: u64,
    /// At least this long for the requests still waiting, given the budget now.
    pub eta: Duration,
    pub paused_for: Option<Duration>,
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

#[derive(Debug)]
enum Waiting {
    Stats(IpAddr),
    Alerts(IpAddr),
    AlertIps(AlertId),
}

#[derive(Default)]
struct IpParts {
    stats: Option<Result<Option<IpStats>, String>>,
    alerts: Option<Result<Listed, String>>,
}

/// A list's ids and what the list lacks (said on stderr as it is met).
#[derive(Default)]
struct Listed {
    ids: Vec<String>,
    caveats: super::json::ListCaveats,
}

impl Listed {
    fn of<T: crate::defender::listing::Item>(
        list: &crate::defender::Listing<T>,
        what: &str,
    ) -> Self {
        let caveats = super::json::ListCaveats::of(list, what);
        caveats.say();
        Self {
            ids: list.iter().map(|i| i.id().to_owned()).collect(),
            caveats,
        }
    }
}

struct Walk<'a> {
    fetch: &'a FetchHandle,
    options: Options,
    ip_depth: HashMap<IpAddr, u32>,
    alert_depth: HashMap<AlertId, u32>,
    parts: HashMap<IpAddr, IpParts>,
    waiting: HashMap<FetchKey, Waiting>,
    /// Nodes `--max-calls` kept out.
    refused: HashSet<String>,
    next_ticket: u64,
    summary: Summary,
}

impl Walk<'_> {
    /// Whether `cost` more requests fit under `--max-calls`; a refused node is counted once.
    fn budget_allows(&mut self, cost: u64, node: String) -> bool {
        match self.options.max_calls {
            Some(max) if self.summary.requested + cost > max => {
                if self.refused.insert(node) {
                    self.summary.skipped += cost;
                }
                false
            }
            _ => true,
        }
    }

    fn ask(&mut self, key: FetchKey, why: Waiting) {
        self.next_ticket += 1;
        self.summary.requested += 1;
        self.fetch.request(FetchRequest::new(
            key.clone(),
            Ticket(self.next_ticket),
            Priority::Batch,
        ));
        self.waiting.insert(key, why);
    }

    fn visit_ip(&mut self, ip: IpAddr, depth: u32) {
        if self.ip_depth.contains_key(&ip) || !self.budget_allows(2, ip.to_string()) {
            return;
        }
        self.ip_depth.insert(ip, depth);
        self.ask(FetchKey::IpStats(ip), Waiting::Stats(ip));
        self.ask(FetchKey::IpAlerts(ip), Waiting::Alerts(ip));
    }

    fn visit_alert(&mut self, id: AlertId, depth: u32) {
        if self.alert_depth.contains_key(&id) || !self.budget_allows(1, id.to_string()) {
            return;
        }
        self.alert_depth.insert(id.clone(), depth);
        self.ask(FetchKey::AlertIps(id.clone()), Waiting::AlertIps(id));
    }

    /// Takes one answer; returns the node it completes, if any.
    fn answer(
        &mut self,
        key: &FetchKey,
        result: Result<FetchValue, crate::defender::ApiError>,
    ) -> Option<Node> {
        let why = self.waiting.remove(key)?;
        let result = result.map_err(|e| e.sentence());
        match why {
            Waiting::Stats(ip) => {
                let stats = result.map(|v| match v {
                    FetchValue::Stats(s) => s,
                    _ => None,
                });
                self.parts.entry(ip).or_default().stats = Some(stats);
                self.ip_done(ip)
            }
            Waiting::Alerts(ip) => {
                let listed = result.map(|v| match v {
                    FetchValue::Alerts(mut alerts) => {
                        crate::defender::model::newest_first(&mut alerts);
                        Listed::of(&alerts, &format!("alerts of {ip}"))
                    }
                    _ => Listed::default(),
                });
                self.parts.entry(ip).or_default().alerts = Some(listed);
                self.ip_done(ip)
            }
            Waiting::AlertIps(id) => {
                let depth = self.alert_depth.get(&id).copied().unwrap_or(0);
                let (listed, error) = match result {
                    Ok(FetchValue::Ips(ips)) => {
                        (Listed::of(&ips, &format!("IPs of alert {id}")), None)
                    }
                    Ok(_) => (Listed::default(), None),
                    Err(e) => (Listed::default(), Some(e)),
                };
                let ips = listed.ids;
                if depth < self.options.depth {
                    for ip in ips.iter().filter_map(|s: &String| s.trim().parse().ok()) {
                        self.visit_ip(ip, depth + 1);
                    }
                }
                Some(Node::Alert {
                    alert: id.to_string(),
                    ips,
                    depth,
                    error,
                    truncated: listed.caveats.truncated,
                    warnings: listed.caveats.lines,
                })
            }
        }
    }

    /// An IP's node is complete once both its stats and its alerts are in.
    fn ip_done(&mut self, ip: IpAddr) -> Option<Node> {
        let parts = self.parts.get(&ip)?;
        if parts.stats.is_none() || parts.alerts.is_none() {
            return None;
        }
        let parts = self.parts.remove(&ip)?;
        let depth = self.ip_depth.get(&ip).copied().unwrap_or(0);
        let mut errors = Vec::new();
        let stats = match parts.stats {
            Some(Ok(s)) => s,
            Some(Err(e)) => {
                errors.push(format!("stats: {e}"));
                None
            }
            None => None,
        };
        let listed = match parts.alerts {
            Some(Ok(a)) => a,
            Some(Err(e)) => {
                errors.push(format!("alerts: {e}"));
                Listed::default()
            }
            None => Listed::default(),
        };
        let alerts = listed.ids;
        if depth < self.options.depth {
            for id in alerts.iter().filter_map(|a| parse_alert_id(a).ok()) {
                self.visit_alert(id, depth);
            }
        }
        Some(Node::Ip {
            ip,
            stats: stats
                .as_ref()
                .filter(|s| s.seen_in_org())
                .map(StatsJson::from),
            alerts,
            depth,
            error: (!errors.is_empty()).then(|| errors.join("; ")),
            truncated: listed.caveats.truncated,
            warnings: listed.caveats.lines,
        })
    }

    fn progress(&self, budget: &BudgetStatus, limits: &RateLimits) -> Progress {
        Progress {
            nodes: self.summary.nodes,
            requested: self.summary.requested,
            waiting: self.waiting.len() as u64,
            calls: budget.endpoints.iter().map(|e| e.calls).sum(),
            eta: eta(&self.waiting, budget, limits),
            paused_for: budget.paused_for(),
        }
    }
}

/// A floor for the time the waiting requests need: per endpoint, the calls beyond what its
/// windows have left now must wait for whole windows to pass.
fn eta(
    waiting: &HashMap<FetchKey, Waiting>,
    budget: &BudgetStatus,
    limits: &RateLimits,
) -> Duration {
    let mut per_endpoint: HashMap<_, usize> = HashMap::new();
    for key in waiting.keys() {
        *per_endpoint.entry(key.endpoint()).or_default() += 1;
    }
    per_endpoint
        .into_iter()
        .map(|(endpoint, n)| {
            let left = budget
                .endpoint(endpoint)
                .and_then(|b| b.tightest())
                .map_or(usize::MAX, |w| w.left() as usize);
            let beyond = n.saturating_sub(left);
            let wait = if beyond == 0 {
                Duration::ZERO
            } else {
                limits.min_time(beyond + 1)
            };
            wait.max(budget.paused_for().unwrap_or_default())
        })
        .max()
        .unwrap_or_default()
}

/// Walks from `seeds`, calling `on_node` for each finished node and `on_progress` as the
/// budget moves, until done or until `stop` resolves.
pub async fn walk(
    fetch: &FetchHandle,
    events: &mut UnboundedReceiver<FetchEvent>,
    seeds: &[IpAddr],
    options: Options,
    mut on_node: impl FnMut(&Node),
    mut on_progress: impl FnMut(&Progress),
    stop: impl Future<Output = ()>,
) -> Summary {
    let mut walk = Walk {
        fetch,
        options,
        ip_depth: HashMap::new(),
        alert_depth: HashMap::new(),
        parts: HashMap::new(),
        waiting: HashMap::new(),
        refused: HashSet::new(),
        next_ticket: 0,
        summary: Summary::default(),
    };
    let mut seen = HashSet::new();
    for ip in seeds.iter().filter(|ip| seen.insert(**ip)) {
        walk.visit_ip(*ip, 0);
    }
    let limits = walk.options.batch_limits();
    let limits = &limits;
    let mut budget = BudgetStatus::default();
    let mut team = super::team_notice::TeamNotice::default();
    let mut protocol = Answers::new();
    tokio::pin!(stop);
    while !walk.waiting.is_empty() {
        let event = tokio::select! {
            biased;
            () = &mut stop => {
                walk.summary.interrupted = true;
                break;
            }
            event = events.recv() => event,
        };
        let Some(event) = event else {
            break;
        };
        match protocol.take(event) {
            Heard::Answer(Answer {
                key,
                result,
                refresh_failed,
                ..
            }) => {
                if let Some(e) = refresh_failed {
                    tracing::warn!(%key, error = %e, "refresh failed; using the cached answer");
                }
                if let Some(node) = walk.answer(&key, result) {
                    walk.summary.nodes += 1;
                    on_node(&node);
                }
                on_progress(&walk.progress(&budget, limits));
            }
            Heard::Other(FetchEvent::Budget(b)) => {
                team.tell(&b);
                budget = b;
                walk.summary.calls = budget.endpoints.iter().map(|e| e.calls).sum();
                on_progress(&walk.progress(&budget, limits));
            }
            Heard::Held | Heard::Other(FetchEvent::Retrying { .. } | FetchEvent::Done { .. }) => {}
        }
    }
    walk.summary.calls = walk
        .summary
        .calls
        .max(budget.endpoints.iter().map(|e| e.calls).sum());
    walk.summary
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

/// What `--plan` says: the first level's cost and the least time the budget allows for it,
/// counting the calls already made in the last hour (`recent`: endpoint and how long ago).
pub fn plan(seeds: &[IpAddr], options: &Options, recent: &[(Endpoint, Duration)]) -> String {
    let n = seeds.len();
    let share = options.batch_limits();
    let capped = options.max_calls.map_or(String::new(), |m| {
        format!(" (--max-calls {m} caps the walk)")
    });
    let spent = if recent.is_empty() {
        String::new()
    } else {
        format!(
            " ({} call(s) of the last hour, remembered from earlier runs, count against it)",
            recent.len()
        )
    };
    let least = [Endpoint::IpStats, Endpoint::IpAlerts]
        .into_iter()
        .map(|e| least_time(options, recent, e, n))
        .max()
        .unwrap_or_default();
    format!(
        "level 0: {n} seed IP(s) cost {} calls ({n} stats, {n} ip-alerts); batch work may use \
         {share} of the {} per endpoint (the rest is kept for the analyst; see --reserve), so \
         they need at least {}{spent}.\nLater levels depend on the answers: each new alert costs \
         1 call (alert-ips), each new IP 2; depth {} set{capped}. Nothing was called.",
        2 * n,
        options.limits,
        crate::text::duration(least),
        options.depth,
    )
}

/// When the last of `calls` back-to-back batch calls to `endpoint` could start, on the same
/// budget the scheduler keeps, seeded with the calls already made.
fn least_time(
    options: &Options,
    recent: &[(Endpoint, Duration)],
    endpoint: Endpoint,
    calls: usize,
) -> Duration {
    let now = tokio::time::Instant::now();
    let earlier = recent
        .iter()
        .filter(|(e, _)| *e == endpoint)
        .map(|(_, ago)| now.checked_sub(*ago).unwrap_or(now));
    options
        .policy()
        .least_time(crate::fetch::Priority::Batch, earlier, calls, now)
}

/// `mde-triage expand`.
pub async fn run(
    settings: &Settings,
    args: &[String],
    options: Options,
    plan_only: bool,
) -> Result<(), Failure> {
    let seeds = read_seeds(args, std::io::stdin().lock())?;
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
    let (fetch, mut events) = super::books::connect_recorded(settings, tokens, &rec).await?;
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
                Node::Ip { ip, .. } => rec.visit(Some(ip.to_string()), None),
                Node::Alert { alert, .. } => rec.visit(None, Some(alert.clone())),
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

/// A progress bar on a terminal; otherwise a quiet line every few seconds.
struct ProgressDisplay {
    bar: Option<indicatif::ProgressBar>,
    last_line: std::time::Instant,
}

impl ProgressDisplay {
    fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} requests · {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        Self {
            bar,
            last_line: std::time::Instant::now(),
        }
    }

    fn update(&mut self, p: &Progress) {
        let pause = p.paused_for.map_or(String::new(), |d| {
            format!(" · throttled, waiting {}", crate::text::duration(d))
        });
        let msg = format!(
            "{} nodes · {} calls · at least {} left{pause}",
            p.nodes,
            p.calls,
            crate::text::duration(p.eta)
        );
        match &self.bar {
            Some(bar) => {
                bar.set_length(p.requested);
                bar.set_position(p.requested - p.waiting);
                bar.set_message(msg);
            }
            None if self.last_line.elapsed() >= Duration::from_secs(5) => {
                self.last_line = std::time::Instant::now();
                eprintln!(
                    "mde-triage expand: {}/{} requests answered · {msg}",
                    p.requested - p.waiting,
                    p.requested
                );
            }
            None => {}
        }
    }

    fn finish(&self, s: &Summary) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let skipped = if s.skipped > 0 {
            format!("; {} call(s) not made (--max-calls)", s.skipped)
        } else {
            String::new()
        };
        eprintln!(
            "mde-triage expand: {} nodes, {} calls{skipped}",
            s.nodes, s.calls
        );
    }
}
