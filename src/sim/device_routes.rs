//! The simulator's device answers (FACTS.md 8.1, 8.2, 8.4): a machine by id, its alerts, and
//! findbyip, an OData function call in the path that shares `/api/machines/{id}`'s place (the
//! router tells them apart). Each runs after the gate let the call through.

use std::net::IpAddr;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::Shared;
use super::http::{Call, alerts_page, error};
use crate::defender::findbyip::OLDEST;

/// `GET /api/machines/{id}`.
pub fn machine(s: &Shared, call: &Call) -> Response {
    let id = &call.subject;
    match s.config.dataset.device(id) {
        None => not_found(id),
        Some(d) => {
            let mut body = serde_json::to_value(d).unwrap_or(Value::Null);
            if let Value::Object(map) = &mut body {
                let context = format!("{}/api/$metadata#Machines/$entity", call.base());
                map.insert("@odata.context".into(), Value::String(context));
            }
            axum::Json(body).into_response()
        }
    }
}

/// The body ISSUE#13047 quotes for an unknown machine.
fn not_found(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        &format!("Machine {id} was not found"),
    )
}

/// `GET /api/machines/{id}/alerts`: 404 for an unknown device, an empty list for a known one
/// without alerts, paged like an IP's alerts.
pub fn machine_alerts(s: &Shared, call: &Call) -> Response {
    let id = &call.subject;
    let Some(device) = s.config.dataset.device(id) else {
        return not_found(id);
    };
    let all = s.config.dataset.alerts_on(&device.id);
    alerts_page(
        s.config.page_size,
        &all,
        call,
        &format!("machines/{id}/alerts"),
    )
}

/// `findbyip(ip='{IP}',timestamp={TimeStamp})`: the IP a quoted string, the time an unquoted
/// ISO-8601 UTC literal in the 30 days before the tenant's clock (400 otherwise); every device
/// that held the IP within 15 minutes of it, 200 with an empty list when none did.
pub fn find_by_ip(s: &Shared, call: &Call) -> Response {
    let (ip, at) = match parse_args(&call.subject) {
        Ok(parsed) => parsed,
        Err(why) => return error(StatusCode::BAD_REQUEST, "InvalidRequestBody", &why),
    };
    if at < s.now() - OLDEST {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestBody",
            "The given timestamp must be in the past 30 days",
        );
    }
    let value: Vec<_> = s.config.dataset.devices_at(ip, at);
    axum::Json(json!({
        "@odata.context": format!("{}/api/$metadata#Machines", call.base()),
        "value": value,
    }))
    .into_response()
}

fn parse_args(args: &str) -> Result<(IpAddr, DateTime<Utc>), String> {
    let mut ip = None;
    let mut at = None;
    for part in args.split(',') {
        let (name, value) = part
            .split_once('=')
            .ok_or_else(|| format!("'{part}' is not name=value"))?;
        match name.trim() {
            "ip" => {
                let quoted = value
                    .strip_prefix('\'')
                    .and_then(|v| v.strip_suffix('\''))
                    .ok_or("ip must be a quoted string")?;
                ip = Some(
                    quoted
                        .parse::<IpAddr>()
                        .map_err(|_| format!("Invalid IP address: {quoted}"))?,
                );
            }
            "timestamp" => {
                let t = DateTime::parse_from_rfc3339(value)
                    .map_err(|_| format!("timestamp is not a DateTimeOffset literal: {value}"))?;
                at = Some(t.with_timezone(&Utc));
            }
            other => return Err(format!("unknown parameter '{other}'")),
        }
    }
    match (ip, at) {
        (Some(ip), Some(at)) => Ok((ip, at)),
        _ => Err("findbyip takes ip and timestamp".into()),
    }
}
