//! The simulator's device routes (FACTS.md 8.1, 8.2, 8.4): a machine by id, its alerts, and
//! findbyip, an OData function call in the path that shares `/api/machines/{id}`'s place.

// Handlers short-circuit with a ready `Response` through `?`; boxing it would only add noise.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::net::IpAddr;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::S;
use super::routes::{alerts_page, base, error, gate};
use crate::defender::Endpoint;
use crate::defender::findbyip::OLDEST;

/// `GET /api/machines/{id}`, or findbyip when the segment is `findbyip(...)`.
pub async fn machine(State(s): S, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Some(args) = id
        .strip_prefix("findbyip(")
        .and_then(|a| a.strip_suffix(')'))
    {
        return find_by_ip(&s, args, &headers).await;
    }
    if let Err(r) = gate(&s, Endpoint::Machine, &headers).await {
        return r;
    }
    match s.config.dataset.device(&id) {
        None => not_found(&id),
        Some(d) => {
            let mut body = serde_json::to_value(d).unwrap_or(Value::Null);
            if let Value::Object(map) = &mut body {
                let context = format!("{}/api/$metadata#Machines/$entity", base(&headers));
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
pub async fn machine_alerts(
    State(s): S,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = gate(&s, Endpoint::MachineAlerts, &headers).await {
        return r;
    }
    let Some(device) = s.config.dataset.device(&id) else {
        return not_found(&id);
    };
    let all = s.config.dataset.alerts_on(&device.id);
    alerts_page(
        s.config.page_size,
        &all,
        &q,
        &headers,
        &format!("machines/{id}/alerts"),
    )
}

/// `findbyip(ip='{IP}',timestamp={TimeStamp})`: the IP a quoted string, the time an unquoted
/// ISO-8601 UTC literal in the 30 days before the tenant's clock (400 otherwise); every device
/// that held the IP within 15 minutes of it, 200 with an empty list when none did.
async fn find_by_ip(s: &super::Shared, args: &str, headers: &HeaderMap) -> Response {
    if let Err(r) = gate(s, Endpoint::FindByIp, headers).await {
        return r;
    }
    let (ip, at) = match parse_args(args) {
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
        "@odata.context": format!("{}/api/$metadata#Machines", base(headers)),
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
