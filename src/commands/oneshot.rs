//! `ip` and `alert`: one answer for scripts, as a table or as JSON with a stable shape
//! (`device` and `ip --devices-at` are in `device.rs`).

use crate::case::{Subject, Visit};
use std::collections::HashMap;
use std::net::IpAddr;

use serde::Serialize;

use super::device;
use super::json::{AlertJson, CaveatsJson, DeviceJson, ListCaveats, StatsJson};
use super::output::{json_line, print_json, print_lines, say_cached};
use super::wiring::{Recording, Wiring};
use super::{Failure, credentials};
use crate::config::Settings;
use crate::defender::input::read_one;
use crate::defender::{ApiError, FetchKey, FetchValue, Listing, LookBack, parse_alert_id};
use crate::fetch::Collected;

/// `mde-triage ip <IP> [--json] [--look-back PERIOD]`, or `ip --extract` over a text: the
/// input is checked before anything is sent (the period already by clap). Without a period,
/// the config file's `look_back`, else 30 days.
pub async fn ip(
    settings: &Settings,
    raw: Option<&str>,
    json: bool,
    extract: bool,
    devices_at: Option<&str>,
    look_back: Option<LookBack>,
) -> Result<(), Failure> {
    let devices_at = devices_at.map(device::parse_time).transpose()?;
    let period = look_back.unwrap_or(settings.look_back);
    let targets = if extract {
        super::extract(&extract_text(raw)?, "no IP address in the text")?
    } else {
        let found = vec![read_one(raw.unwrap_or_default())?];
        super::say_read_past(&found);
        found
    };
    // Checked before anything is sent: a time outside the API's 30 days stops here.
    let device_keys = match devices_at {
        Some(at) => {
            let ips: Vec<IpAddr> = targets.iter().map(|f| f.ip).collect();
            device::keys_at(&ips, at, chrono::Utc::now())?
        }
        None => HashMap::new(),
    };
    let tokens = credentials(settings)?;
    let mut w = Wiring::recorded(settings, tokens, Recording::open(settings)?).await?;
    let mut keys: Vec<FetchKey> = targets
        .iter()
        .flat_map(|f| [FetchKey::IpStats(f.ip, period), FetchKey::IpAlerts(f.ip)])
        .collect();
    // A public IP's findbyip is never asked: it spends no call.
    keys.extend(device_keys.values().filter_map(|k| k.clone().ok()));
    let Collected {
        mut answers,
        cached_at,
    } = super::output::collect(&w.fetch, &mut w.events, keys).await;
    drop(w.fetch);
    let from_cache = say_cached(settings, cached_at);
    for f in &targets {
        w.recording.visit(Visit::place(Subject::Ip(f.ip)));
    }
    w.recording.finish();
    // The table says it came from the cache offline; JSON keeps its shape (stderr says it).
    let mut head: Vec<String> = if json {
        Vec::new()
    } else {
        from_cache.into_iter().collect()
    };
    // Each IP is printed as it comes; with --extract the first failure is the command's,
    // after the rest are printed.
    let mut outcome = Ok(());
    for f in &targets {
        let devices = devices_at.and_then(|at| {
            let key = device_keys.get(&f.ip)?;
            Some(device::DevicesAt::of(key, &mut answers, at))
        });
        let done = ip_report(&mut answers, f.ip, period, devices).and_then(|(report, caveats)| {
            if json && extract {
                print_lines(&[json_line(&report)?])?;
            } else if json {
                print_json(&report)?;
            } else {
                let mut lines = std::mem::take(&mut head);
                lines.extend(ip_table(&report, &caveats.lines));
                print_lines(&lines)?;
            }
            caveats.finish()
        });
        match done {
            Err(e) if !extract => return Err(e),
            Err(e) => {
                eprintln!("mde-triage: {}: {e}", f.ip);
                if outcome.is_ok() {
                    outcome = Err(e);
                }
            }
            Ok(()) => {}
        }
    }
    outcome
}

/// `--extract`'s text: the argument, or stdin when it is `-` or absent.
fn extract_text(raw: Option<&str>) -> Result<String, Failure> {
    match raw {
        Some(text) if text != "-" => Ok(text.to_owned()),
        _ => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut text)
                .map_err(|e| Failure::new(super::exit::INPUT, format!("reading stdin: {e}")))?;
            Ok(text)
        }
    }
}

/// One IP's answers as the report scripts read, and what its list lacks.
fn ip_report(
    answers: &mut HashMap<FetchKey, Result<FetchValue, ApiError>>,
    ip: IpAddr,
    period: LookBack,
    devices: Option<device::DevicesAt>,
) -> Result<(IpReport, ListCaveats), Failure> {
    let stats = match answers.remove(&FetchKey::IpStats(ip, period)) {
        Some(Ok(FetchValue::Stats(s))) => s,
        Some(Err(e)) => return Err(e.into()),
        _ => None,
    };
    let mut alerts = match answers.remove(&FetchKey::IpAlerts(ip)) {
        Some(Ok(FetchValue::Alerts(a))) => a,
        Some(Err(e)) => return Err(e.into()),
        _ => Listing::default(),
    };
    crate::defender::model::newest_first(&mut alerts);
    let mut caveats = ListCaveats::of(&alerts, &format!("alerts of {ip}"));
    // Devices not read are the report's warning: the IP's own answer makes the exit code.
    if let Some(why) = devices.as_ref().and_then(|d| d.why.clone()) {
        caveats.warn(why);
    }
    let report = IpReport {
        ip,
        look_back_hours: period.hours(),
        // A 404 and a zero prevalence both mean "not seen in the org": one shape for scripts.
        stats: stats
            .as_ref()
            .filter(|s| s.seen_in_org())
            .map(|s| StatsJson::of(s, period)),
        alerts: alerts.iter().map(AlertJson::from).collect(),
        caveats: caveats.json(),
        devices,
    };
    Ok((report, caveats))
}

/// `mde-triage alert <ID> [--json] [--with device]`: its IPs (1 call), and with `--with
/// device` its device through the alert's record (its `machineId`) and the machine's (2 more).
/// The exit code is the IPs' answer's: what the enrichment could not read is a warning.
pub async fn alert(
    settings: &Settings,
    raw: &str,
    json: bool,
    with_device: bool,
) -> Result<(), Failure> {
    let id = parse_alert_id(raw)?;
    let key = FetchKey::AlertIps(id.clone());
    let record_key = FetchKey::Alert(id.clone());
    let tokens = credentials(settings)?;
    let mut w = Wiring::recorded(settings, tokens, Recording::open(settings)?).await?;
    // The record is asked with the IPs, so the device waits for one round trip, not two.
    let mut keys = vec![key.clone()];
    if with_device {
        keys.push(record_key.clone());
    }
    let mut collected = super::output::collect(&w.fetch, &mut w.events, keys).await;
    let ips = match collected.answers.remove(&key) {
        Some(Ok(FetchValue::Ips(ips))) => ips,
        Some(Err(e)) => return Err(e.into()),
        _ => Listing::default(),
    };
    // The device only once the record names it: one more call, after the first two.
    let record = collected.answers.remove(&record_key);
    let machine = match with_device.then(|| device::device_key_of(&record_key, record)) {
        None => None,
        Some(Err(why)) => Some(Err(why)),
        Some(Ok(k)) => {
            collected.merge(super::output::collect(&w.fetch, &mut w.events, vec![k.clone()]).await);
            Some(device::device_of(&k, collected.answers.remove(&k)))
        }
    };
    drop(w.fetch);
    let from_cache = say_cached(settings, collected.cached_at);
    w.recording.visit(Visit::alert(id.clone()));
    w.recording.finish();
    let mut caveats = ListCaveats::of(&ips, &format!("IPs of alert {id}"));
    if let Some(Err(why)) = &machine {
        caveats.warn(why.clone());
    }
    let report = AlertReport {
        alert: id.to_string(),
        ips: ips.iter().map(|i| i.id.clone()).collect(),
        caveats: caveats.json(),
        device: machine.as_ref().and_then(|d| d.as_ref().ok()),
    };
    if json {
        print_json(&report)?;
    } else {
        let mut lines: Vec<String> = from_cache.into_iter().collect();
        lines.push(format!(
            "{} related IPs of alert {}",
            report.ips.len(),
            report.alert
        ));
        lines.extend(caveats.lines.iter().map(|w| format!("note: {w}")));
        lines.extend(report.ips.iter().map(|ip| format!("  {ip}")));
        lines.extend(machine.iter().flat_map(device::device_lines));
        print_lines(&lines)?;
    }
    caveats.finish()
}

#[derive(Serialize)]
struct IpReport {
    ip: IpAddr,
    /// The period of the prevalence, also when there is none to show (`stats` null: not seen
    /// in the org over it).
    look_back_hours: u32,
    stats: Option<StatsJson>,
    alerts: Vec<AlertJson>,
    #[serde(flatten)]
    caveats: CaveatsJson,
    /// With `--devices-at` only, so the shape without it stays as it was.
    #[serde(flatten)]
    devices: Option<device::DevicesAt>,
}

#[derive(Serialize)]
struct AlertReport<'a> {
    alert: String,
    ips: Vec<String>,
    #[serde(flatten)]
    caveats: CaveatsJson,
    /// Always present, so scripts need not guess: null without `--with device`, or when the
    /// device could not be read (then `warnings` says why).
    device: Option<&'a DeviceJson>,
}

/// `7 days`, from the hours the report holds.
fn period_text(hours: u32) -> String {
    LookBack::from_hours(hours).map_or_else(|| format!("{hours} hours"), LookBack::long)
}

/// The table of one IP's report; `notes` are what its alert list lacks (the devices' own
/// reason stays on their line).
fn ip_table(r: &IpReport, notes: &[String]) -> Vec<String> {
    let mut lines = Vec::new();
    match &r.stats {
        Some(s) if s.prevalence > 0 => lines.push(format!(
            "{}  prevalence {} devices over {} · first seen {} · last seen {}",
            r.ip,
            s.prevalence,
            period_text(r.look_back_hours),
            s.first_seen.as_deref().unwrap_or("-"),
            s.last_seen.as_deref().unwrap_or("-"),
        )),
        _ => lines.push(format!(
            "{}  not seen in the org over {}",
            r.ip,
            period_text(r.look_back_hours)
        )),
    }
    if let Some(d) = &r.devices {
        lines.extend(d.lines(r.ip));
    }
    // What the list lacks goes with the list, not only to stderr: a pasted table keeps it.
    let notes = notes.iter().map(|w| format!("note: {w}"));
    if r.alerts.is_empty() {
        lines.push("no related alerts".into());
        lines.extend(notes);
        return lines;
    }
    lines.push(format!("{} related alerts:", r.alerts.len()));
    lines.extend(notes);
    let rows: Vec<[String; 6]> = r
        .alerts
        .iter()
        .map(|a| {
            [
                a.severity.clone(),
                a.status.clone(),
                a.created
                    .as_deref()
                    .map(|c| c.chars().take(16).collect::<String>().replace('T', " "))
                    .unwrap_or_default(),
                a.device.clone().unwrap_or_default(),
                a.id.clone(),
                a.title.replace('\n', " "),
            ]
        })
        .collect();
    let header = ["SEVERITY", "STATUS", "CREATED", "DEVICE", "ID", "TITLE"].map(String::from);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        lines.push(line);
    }
    lines
}
