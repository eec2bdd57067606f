//! `device` and `ip --devices-at`: a device and its alerts, and the devices that held an
//! internal IP at a time, one shot, as a table or as JSON with a stable shape.

use std::collections::HashMap;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::json::DeviceJson;
use super::output::{print_json, print_lines, say_cached};
use super::wiring::{Recording, Wiring};
use super::{Failure, credentials, exit};
use crate::config::Settings;
use crate::defender::findbyip::Refused;
use crate::defender::{
    ApiError, Device, ErrorKind, FetchKey, FetchValue, Listing, NotFound, parse_device_id,
};
use crate::fetch::Collected;

/// `mde-triage device <ID> [--json]`: the device, and the ids of its alerts, newest first. An
/// unknown device is exit 4 (the API's 404); its alerts failing still prints the device.
pub async fn device(settings: &Settings, raw: &str, json: bool) -> Result<(), Failure> {
    let id = parse_device_id(raw)?;
    let device_key = FetchKey::Device(id.clone());
    let alerts_key = FetchKey::DeviceAlerts(id.clone());
    let tokens = credentials(settings)?;
    let mut w = Wiring::recorded(settings, tokens, Recording::open(settings)?).await?;
    let Collected {
        mut answers,
        cached_at,
    } = super::output::collect(
        &w.fetch,
        &mut w.events,
        vec![device_key.clone(), alerts_key.clone()],
    )
    .await;
    drop(w.fetch);
    let from_cache = say_cached(settings, cached_at);
    w.recording.finish();
    let device = match answers.remove(&device_key) {
        Some(Ok(FetchValue::Device(d))) => d,
        Some(Err(e)) => return Err(failure(&device_key, e)),
        other => return Err(unexpected(&device_key, other)),
    };
    let (alerts, alerts_error) = match answers.remove(&alerts_key) {
        Some(Ok(FetchValue::Alerts(mut a))) => {
            crate::defender::model::newest_first(&mut a);
            (Some(a), None)
        }
        Some(Err(e)) => (None, Some(failure(&alerts_key, e))),
        other => (None, Some(unexpected(&alerts_key, other))),
    };
    let report = DeviceReport {
        device: DeviceJson::from(&*device),
        alerts: alerts
            .as_ref()
            .map(|a| a.iter().map(|a| a.id.clone()).collect()),
        alerts_error: alerts_error.as_ref().map(|f| f.message.clone()),
    };
    if json {
        print_json(&report)?;
    } else {
        let mut lines: Vec<String> = from_cache.into_iter().collect();
        lines.extend(device_table(&report.device));
        match (&alerts, &report.alerts_error) {
            (Some(a), _) if a.is_empty() => lines.push("no alerts".into()),
            (Some(a), _) => {
                lines.push(format!("{} alerts:", a.len()));
                lines.extend(a.iter().map(|a| {
                    let created = a
                        .alert_creation_time
                        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                        .unwrap_or_default();
                    format!("  {}  {created}  {}  {}", a.id, a.severity, a.title)
                }));
            }
            (None, Some(why)) => lines.push(format!("alerts not read: {why}")),
            (None, None) => {}
        }
        print_lines(&lines)?;
    }
    match alerts_error {
        Some(f) => Err(f),
        None => Ok(()),
    }
}

#[derive(Serialize)]
struct DeviceReport {
    device: DeviceJson,
    /// Null when they could not be read; `alerts_error` says why.
    alerts: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alerts_error: Option<String>,
}

/// A failed call as the command's failure: the endpoint's own reading of a 404 (a device
/// outside retention, or a transient 404), else the error's sentence; the exit code is the
/// error kind's.
fn failure(key: &FetchKey, e: ApiError) -> Failure {
    match (e.kind, key.endpoint().not_found()) {
        (ErrorKind::NotFound, NotFound::Missing(why)) => Failure::new(
            e.kind.exit_code(),
            format!("{key}: {why} ({})", e.sentence()),
        ),
        _ => Failure::new(e.kind.exit_code(), format!("{key}: {}", e.sentence())),
    }
}

fn unexpected(key: &FetchKey, got: Option<Result<FetchValue, ApiError>>) -> Failure {
    let what = if got.is_some() {
        "an answer of another kind"
    } else {
        "no answer"
    };
    Failure::new(exit::INTERNAL, format!("{key}: {what}"))
}

fn device_table(d: &DeviceJson) -> Vec<String> {
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    vec![
        format!("{}  {}", d.name, d.id),
        format!(
            "  {} {} · health {} · risk {} · exposure {} · value {}",
            or_dash(&d.os_platform),
            or_dash(&d.version),
            or_dash(&d.health_status),
            or_dash(&d.risk_score),
            or_dash(&d.exposure_level),
            or_dash(&d.device_value),
        ),
        format!(
            "  group {} · tags {} · first seen {} · last seen {}",
            or_dash(&d.group),
            if d.tags.is_empty() {
                "-".into()
            } else {
                d.tags.join(", ")
            },
            or_dash(&d.first_seen),
            or_dash(&d.last_seen),
        ),
        format!(
            "  last IP {} · last external IP {}",
            or_dash(&d.last_ip),
            or_dash(&d.last_external_ip)
        ),
    ]
}

/// `ip --devices-at TIME`: the time as given (RFC 3339), checked before anything is sent.
pub fn parse_time(raw: &str) -> Result<DateTime<Utc>, Failure> {
    crate::defender::findbyip::parse_at(raw).ok_or_else(|| {
        Failure::new(
            exit::INPUT,
            format!(
                "--devices-at '{}' is not a time like 2026-11-20T09:14:00Z",
                crate::defender::indicator::shown(raw)
            ),
        )
    })
}

/// The findbyip key for each IP, or why none is asked: a time outside the API's 30 days
/// stops the command before any call (exit 2); a public IP is only left unasked.
pub fn keys_at(
    ips: &[IpAddr],
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<HashMap<IpAddr, Result<FetchKey, Refused>>, Failure> {
    let mut out = HashMap::new();
    for &ip in ips {
        match FetchKey::devices_at(ip, at, now) {
            Err(e @ (Refused::TooOld { .. } | Refused::InFuture { .. })) => {
                return Err(Failure::new(exit::INPUT, format!("--devices-at: {e}")));
            }
            other => {
                out.insert(ip, other);
            }
        }
    }
    Ok(out)
}

/// What `ip --devices-at` adds to an IP's report. Why the devices are not there is the
/// report's warning (see [`DevicesAt::of`]), not an error of the IP's own.
#[derive(Debug, Serialize)]
pub struct DevicesAt {
    pub devices_at: String,
    /// The window the API searches, ±15 minutes around the time.
    pub devices_window: [String; 2],
    /// Null when not asked or not read (the report's `warnings` say why). `[]` when no device
    /// had the IP then (a 200 with an empty list, or a 404).
    pub devices: Option<Vec<DeviceJson>>,
    /// Why `devices` is null, for the table's line (the JSON carries it in `warnings`).
    #[serde(skip)]
    pub why: Option<String>,
}

impl DevicesAt {
    /// From the key (or why it was not asked) and the answers.
    pub fn of(
        key: &Result<FetchKey, Refused>,
        answers: &mut HashMap<FetchKey, Result<FetchValue, ApiError>>,
        at: DateTime<Utc>,
    ) -> Self {
        let at = crate::defender::UtcSecond::new(at);
        let (from, to) = at.window();
        let stamp = |t: DateTime<Utc>| crate::defender::UtcSecond::new(t).to_string();
        let (devices, why) = match key {
            Err(refused) => (None, Some(format!("devices at {at} not asked: {refused}"))),
            Ok(key) => match answers.remove(key) {
                Some(Ok(FetchValue::Devices(list))) => (Some(json_list(&list)), None),
                Some(Err(e)) => (None, Some(failure(key, e).message)),
                other => (None, Some(unexpected(key, other).message)),
            },
        };
        Self {
            devices_at: at.to_string(),
            devices_window: [stamp(from), stamp(to)],
            devices,
            why,
        }
    }

    /// The table's lines for it.
    pub fn lines(&self, ip: IpAddr) -> Vec<String> {
        let head = format!(
            "devices with {ip} at {} (seen {} to {})",
            self.devices_at, self.devices_window[0], self.devices_window[1]
        );
        match (&self.devices, &self.why) {
            (_, Some(why)) => vec![format!("{head}: {why}")],
            (Some(d), None) if d.is_empty() => vec![format!("{head}: none")],
            (Some(d), None) => std::iter::once(format!("{head}:"))
                .chain(d.iter().map(|d| format!("  {}  {}", d.name, d.id)))
                .collect(),
            (None, None) => vec![head],
        }
    }
}

fn json_list(list: &Listing<Device>) -> Vec<DeviceJson> {
    list.iter().map(DeviceJson::from).collect()
}

/// `alert --with device`: the device key an alert's record (the answer to `record_key`) leads
/// to, or the warning saying why there is none (a failed call, or a record naming no device).
pub fn device_key_of(
    record_key: &FetchKey,
    record: Option<Result<FetchValue, ApiError>>,
) -> Result<FetchKey, String> {
    let alert = match record {
        Some(Ok(FetchValue::Alert(a))) => a,
        Some(Err(e)) => return Err(failure(record_key, e).message),
        other => return Err(unexpected(record_key, other).message),
    };
    let Some(raw) = alert.machine_id.as_deref().filter(|m| !m.trim().is_empty()) else {
        return Err(format!("{record_key} names no device (no machineId)"));
    };
    parse_device_id(raw)
        .map(FetchKey::Device)
        .map_err(|e| format!("{record_key}: its machineId is not a device id: {e}"))
}

/// `alert --with device`: the device from its answer, or the warning saying why it is not
/// there (the permission a 403 lacks, what a 404 means).
pub fn device_of(
    key: &FetchKey,
    answer: Option<Result<FetchValue, ApiError>>,
) -> Result<DeviceJson, String> {
    match answer {
        Some(Ok(FetchValue::Device(d))) => Ok(DeviceJson::from(&*d)),
        Some(Err(e)) => Err(failure(key, e).message),
        other => Err(unexpected(key, other).message),
    }
}

/// The table's lines for an alert's device, or why it was not read.
pub fn device_lines(device: &Result<DeviceJson, String>) -> Vec<String> {
    match device {
        Ok(d) => device_table(d)
            .into_iter()
            .enumerate()
            .map(|(i, l)| if i == 0 { format!("device {l}") } else { l })
            .collect(),
        Err(why) => vec![format!("device not read: {why}")],
    }
}
