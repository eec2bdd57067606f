//! The simulator's IP and alert answers (FACTS.md sections 2, 3 and 5): an IP's prevalence
//! and alerts, an alert's IPs and its record. Each runs after the gate let the call through.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::dataset::StatsAnswer;
use super::http::{Call, alerts_page, error};

/// `GET /api/ips/{ip}/stats`.
pub fn ip_stats(s: &Shared, call: &Call) -> Response {
    let ip = match call.ip() {
        Ok(ip) => ip,
        Err(r) => return r,
    };
    // Omitted means 30 days (FACTS.md §8.6).
    let hours = match call.query.get("lookBackHours").map(|h| h.parse::<u32>()) {
        None => 720,
        Some(Ok(h)) if (1..=720).contains(&h) => h,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidInput",
                "lookBackHours must be between 1 and 720",
            );
        }
    };
    match s.config.dataset.stats(ip, hours) {
        StatsAnswer::NotFound => error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            &format!("IP {ip} was not found"),
        ),
        StatsAnswer::Found(stats) => {
            let mut body = serde_json::to_value(&stats).unwrap_or(Value::Null);
            if let Value::Object(map) = &mut body {
                let context = format!(
                    "{}/api/$metadata#microsoft.windowsDefenderATP.api.InOrgIPStats",
                    call.base()
                );
                map.insert("@odata.context".into(), Value::String(context));
            }
            axum::Json(body).into_response()
        }
    }
}

/// `GET /api/ips/{ip}/alerts`, paged.
pub fn ip_alerts(s: &Shared, call: &Call) -> Response {
    let ip = match call.ip() {
        Ok(ip) => ip,
        Err(r) => return r,
    };
    let all = s.config.dataset.alerts_of(ip);
    alerts_page(s.config.page_size, &all, call, &format!("ips/{ip}/alerts"))
}

/// `GET /api/alerts/{id}/ips`.
pub fn alert_ips(s: &Shared, call: &Call) -> Response {
    let id = &call.subject;
    match s.config.dataset.alert(id) {
        None => unknown_alert(id),
        Some(a) => {
            let value: Vec<_> = a
                .related_ips
                .iter()
                .map(|ip| json!({"id": ip.to_string()}))
                .collect();
            axum::Json(json!({"@odata.context": format!("{}/api/$metadata#Ips", call.base()), "value": value}))
                .into_response()
        }
    }
}

/// `GET /api/alerts/{id}`: one alert's record, on its own endpoint's limits.
pub fn one_alert(s: &Shared, call: &Call) -> Response {
    match s.config.dataset.alert(&call.subject) {
        None => unknown_alert(&call.subject),
        Some(a) => axum::Json(&a.alert).into_response(),
    }
}

fn unknown_alert(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        &format!("Alert {id} was not found"),
    )
}
