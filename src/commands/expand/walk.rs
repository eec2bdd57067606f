//! The walk itself: which requests a node needs, which answers complete it, and which nodes
//! the answers lead to, breadth first, each node once and within `--depth` and `--max-calls`.
//! With `--via devices` an alert also leads to its device (the machine id its list gave, else
//! its own record), and a device to its alerts, at the alert's depth: only IPs are hops.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::net::IpAddr;

use tokio::sync::mpsc::UnboundedReceiver;

use super::progress::eta;
use super::{Node, Options, Progress, Summary};
use crate::commands::json::{ListCaveats, StatsJson};
use crate::defender::{
    Alert, AlertId, Device, DeviceId, FetchKey, FetchValue, IpStats, parse_alert_id,
    parse_device_id,
};
use crate::fetch::{
    Answer, Answers, BudgetStatus, FetchEvent, FetchHandle, FetchRequest, Heard, Priority,
    RateLimits, Ticket,
};

#[derive(Default)]
struct IpParts {
    stats: Option<Result<Option<IpStats>, String>>,
    alerts: Option<Result<Listed, String>>,
}

#[derive(Default)]
struct DeviceParts {
    record: Option<Result<Device, String>>,
    alerts: Option<Result<Listed, String>>,
}

/// A list's ids and what the list lacks (said on stderr as it is met).
#[derive(Default)]
struct Listed {
    ids: Vec<String>,
    caveats: ListCaveats,
}

impl Listed {
    fn of<T: crate::defender::listing::Item>(
        list: &crate::defender::Listing<T>,
        what: &str,
    ) -> Self {
        let caveats = ListCaveats::of(list, what);
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
    /// Each listed alert's machine id, as its list gave it (`--via devices`).
    machine_of: HashMap<AlertId, Option<String>>,
    device_depth: HashMap<DeviceId, u32>,
    device_parts: HashMap<DeviceId, DeviceParts>,
    /// Requests asked and not answered yet.
    waiting: HashSet<FetchKey>,
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

    fn ask(&mut self, key: FetchKey) {
        self.next_ticket += 1;
        self.summary.requested += 1;
        self.fetch.request(FetchRequest::new(
            key.clone(),
            Ticket(self.next_ticket),
            Priority::Batch,
        ));
        self.waiting.insert(key);
    }

    fn visit_ip(&mut self, ip: IpAddr, depth: u32) {
        if self.ip_depth.contains_key(&ip) || !self.budget_allows(2, ip.to_string()) {
            return;
        }
        self.ip_depth.insert(ip, depth);
        self.ask(FetchKey::IpStats(ip, self.options.look_back));
        self.ask(FetchKey::IpAlerts(ip));
    }

    fn visit_alert(&mut self, id: AlertId, depth: u32) {
        if self.alert_depth.contains_key(&id) || !self.budget_allows(1, id.to_string()) {
            return;
        }
        self.alert_depth.insert(id.clone(), depth);
        self.ask(FetchKey::AlertIps(id.clone()));
        if self.options.via_devices {
            self.alert_device(id, depth);
        }
    }

    /// The alert's device, from the machine id its list gave; else its record is asked for.
    fn alert_device(&mut self, id: AlertId, depth: u32) {
        match self.machine_of.get(&id).cloned().flatten() {
            Some(machine) => self.visit_machine(&id, &machine, depth),
            None if self.budget_allows(1, format!("record of alert {id}")) => {
                self.ask(FetchKey::Alert(id));
            }
            None => {}
        }
    }

    /// Remembers the machine id of each alert in a list, for [`Self::alert_device`].
    /// A list of alerts as a node lists it, newest first; the devices they name are noted
    /// for `--via devices`. Another kind of answer lists nothing.
    fn alerts_listed(&mut self, value: FetchValue, what: &str) -> Listed {
        let Some(mut alerts) = value.into_alerts() else {
            return Listed::default();
        };
        crate::defender::model::newest_first(&mut alerts);
        self.note_machines(&alerts);
        Listed::of(&alerts, what)
    }

    fn note_machines(&mut self, alerts: &[Alert]) {
        if !self.options.via_devices {
            return;
        }
        for a in alerts {
            if let Ok(id) = parse_alert_id(&a.id) {
                let machine = a.machine_id.clone().filter(|m| !m.trim().is_empty());
                let known = self.machine_of.entry(id).or_default();
                if known.is_none() {
                    *known = machine;
                }
            }
        }
    }

    /// The device named `machine` by alert `alert`; an id the API could not mean is said.
    fn visit_machine(&mut self, alert: &AlertId, machine: &str, depth: u32) {
        match parse_device_id(machine) {
            Ok(device) => self.visit_device(device, depth),
            Err(e) => eprintln!("mde-triage: alert {alert}: its machineId is not a device id: {e}"),
        }
    }

    fn visit_device(&mut self, id: DeviceId, depth: u32) {
        if self.device_depth.contains_key(&id) || !self.budget_allows(2, format!("device {id}")) {
            return;
        }
        self.device_depth.insert(id.clone(), depth);
        self.ask(FetchKey::Device(id.clone()));
        self.ask(FetchKey::DeviceAlerts(id));
    }

    /// Takes one answer; returns the node it completes, if any.
    fn answer(
        &mut self,
        key: &FetchKey,
        result: Result<FetchValue, crate::defender::ApiError>,
    ) -> Option<Node> {
        if !self.waiting.remove(key) {
            return None;
        }
        let result = result.map_err(|e| e.sentence());
        match key {
            FetchKey::IpStats(ip, _) => {
                let ip = *ip;
                let stats = result.map(|v| v.into_stats().flatten());
                self.parts.entry(ip).or_default().stats = Some(stats);
                self.ip_done(ip)
            }
            FetchKey::IpAlerts(ip) => {
                let ip = *ip;
                let listed = result.map(|v| self.alerts_listed(v, &format!("alerts of {ip}")));
                self.parts.entry(ip).or_default().alerts = Some(listed);
                self.ip_done(ip)
            }
            FetchKey::AlertIps(id) => {
                let depth = self.alert_depth.get(id).copied().unwrap_or(0);
                let (listed, error) = match result.map(FetchValue::into_ips) {
                    Ok(Some(ips)) => (Listed::of(&ips, &format!("IPs of alert {id}")), None),
                    Ok(None) => (Listed::default(), None),
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
                    device: self.machine_of.get(id).cloned().flatten(),
                    depth,
                    error,
                    truncated: listed.caveats.truncated,
                    warnings: listed.caveats.lines,
                })
            }
            FetchKey::Alert(id) => {
                let depth = self.alert_depth.get(id).copied().unwrap_or(0);
                match result.map(FetchValue::into_alert) {
                    Ok(Some(a)) => match a.machine_id.as_deref() {
                        Some(m) if !m.trim().is_empty() => self.visit_machine(id, m, depth),
                        _ => eprintln!("mde-triage: alert {id} names no device (no machineId)"),
                    },
                    Ok(_) => {}
                    Err(e) => eprintln!("mde-triage: alert {id}: its device is unknown: {e}"),
                }
                None
            }
            FetchKey::Device(id) => {
                let id = id.clone();
                let record = result.and_then(|v| {
                    v.into_device()
                        .ok_or_else(|| "an answer of another kind".to_owned())
                });
                self.device_parts.entry(id.clone()).or_default().record = Some(record);
                self.device_done(id)
            }
            FetchKey::DeviceAlerts(id) => {
                let id = id.clone();
                let listed =
                    result.map(|v| self.alerts_listed(v, &format!("alerts of device {id}")));
                self.device_parts.entry(id.clone()).or_default().alerts = Some(listed);
                self.device_done(id)
            }
            // A key the walk never asks (findbyip, and any other kind of place's): none is ever
            // waited for above, so none lands here.
            _ => None,
        }
    }

    /// A device's node is complete once both its record and its alerts are in; its alerts
    /// are then walked at its depth.
    fn device_done(&mut self, id: DeviceId) -> Option<Node> {
        let parts = self.device_parts.get(&id)?;
        if parts.record.is_none() || parts.alerts.is_none() {
            return None;
        }
        let parts = self.device_parts.remove(&id)?;
        let depth = self.device_depth.get(&id).copied().unwrap_or(0);
        let mut errors = Vec::new();
        let name = settled(parts.record, "device", &mut errors).map(|d| d.name().to_owned());
        let listed = settled(parts.alerts, "alerts", &mut errors).unwrap_or_default();
        // A device is reached from an alert at `depth` < --depth only, so its alerts may go on.
        for alert in listed.ids.iter().filter_map(|a| parse_alert_id(a).ok()) {
            self.visit_alert(alert, depth);
        }
        Some(Node::Device {
            device: id.to_string(),
            name,
            alerts: listed.ids,
            depth,
            error: (!errors.is_empty()).then(|| errors.join("; ")),
            truncated: listed.caveats.truncated,
            warnings: listed.caveats.lines,
        })
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
        let stats = settled(parts.stats, "stats", &mut errors).flatten();
        let listed = settled(parts.alerts, "alerts", &mut errors).unwrap_or_default();
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
                .map(|s| StatsJson::of(s, self.options.look_back)),
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
        machine_of: HashMap::new(),
        device_depth: HashMap::new(),
        device_parts: HashMap::new(),
        waiting: HashSet::new(),
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
    let mut team = crate::commands::team_notice::TeamNotice::default();
    // Not `fetch::collect`: a walk's keys grow with each answer, it stops on Ctrl-C, and it
    // reports progress on every budget event; a fixed set of keys waited for fits none of it.
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

/// A node's part as answered: its value, or `None` with the failure noted as `what: error`.
fn settled<T>(part: Option<Result<T, String>>, what: &str, errors: &mut Vec<String>) -> Option<T> {
    match part? {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(format!("{what}: {e}"));
            None
        }
    }
}
