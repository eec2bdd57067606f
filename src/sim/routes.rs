//! The simulator's routes: the API endpoints, the token endpoint and the request log,
//! answering with the real status codes and body shapes (FACTS.md sections 2, 3, 5 and 8).

// Handlers short-circuit with a ready `Response` through `?`; boxing it would only add noise.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::dataset::StatsAnswer;
use super::identity;
use super::limits::Referee;
use super::{LoggedRequest, S, Shared, SimConfig};
use crate::defender::Endpoint;

pub fn router(
    config: SimConfig,
    token: String,
    log: Arc<Mutex<Vec<LoggedRequest>>>,
    sign_ins: Arc<Mutex<identity::Record>>,
) -> Router {
    let budgets = Endpoint::ALL
        .iter()
        .map(|e| (*e, Referee::new(&config.limits)))
        .collect();
    let rng = fastrand::Rng::with_seed(config.seed);
    let shared = Arc::new(Shared {
        config,
        token,
        referees: Mutex::new(budgets),
        rng: Mutex::new(rng),
        log,
        started: Instant::now(),
        issued: Mutex::new(HashMap::new()),
        device_codes: Mutex::new(HashMap::new()),
        refresh_tokens: Mutex::new(std::collections::HashSet::new()),
        record: sign_ins,
    });
    Router::new()
        .route("/api/ips/{ip}/stats", get(ip_stats))
        .route("/api/ips/{ip}/alerts", get(ip_alerts))
        .route("/api/alerts/{id}/ips", get(alert_ips))
        .route("/api/alerts/{id}", get(one_alert))
        .route("/api/machines/{id}", get(super::device_routes::machine))
        .route(
            "/api/machines/{id}/alerts",
            get(super::device_routes::machine_alerts),
        )
        .route("/{tenant}/oauth2/v2.0/token", post(identity::token))
        .route(
            "/{tenant}/oauth2/v2.0/devicecode",
            post(identity::device_code),
        )
        .layer(middleware::from_fn_with_state(shared.clone(), record))
        .route("/_sim/requests", get(requests))
        .route("/_sim/revoke", post(identity::revoke))
        .layer(middleware::from_fn_with_state(shared.clone(), skewed_date))
        .with_state(shared)
}

/// A `Date` header off by `SimConfig::clock_offset_secs`, for `doctor`'s clock check.
async fn skewed_date(State(s): S, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let offset = s.config.clock_offset_secs;
    if offset != 0 {
        let at = chrono::Utc::now() + chrono::Duration::seconds(offset);
        if let Ok(v) = HeaderValue::from_str(&at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()) {
            response.headers_mut().insert(header::DATE, v);
        }
    }
    response
}

/// Logs every answered request (the log route itself excepted).
async fn record(State(s): S, req: Request, next: Next) -> Response {
    let arrived_unix_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let method = req.method().to_string();
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_owned(), |p| p.to_string());
    let response = next.run(req).await;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok()?.parse().ok());
    let at_ms = s.started.elapsed().as_millis() as u64;
    tracing::info!(%method, %path, status, "sim");
    if let Ok(mut log) = s.log.lock() {
        log.push(LoggedRequest {
            method,
            path,
            status,
            at_ms,
            arrived_unix_ms,
            retry_after,
        });
    }
    response
}

async fn requests(State(s): S) -> Response {
    let log = s.log.lock().map(|l| l.clone()).unwrap_or_default();
    axum::Json(log).into_response()
}

pub(super) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let target = format!(
        "{:08x}-sim0-4000-8000-{:012x}",
        fastrand::u32(..),
        fastrand::u64(..) & 0xffff_ffff_ffff
    );
    (
        status,
        axum::Json(json!({"error": {"code": code, "message": message, "target": target}})),
    )
        .into_response()
}

/// What every API call goes through, in the API's order: latency, token, quota, faults.
pub(super) async fn gate(
    s: &Shared,
    endpoint: Endpoint,
    headers: &HeaderMap,
) -> Result<(), Response> {
    if !s.config.latency.is_zero() {
        tokio::time::sleep(s.config.latency).await;
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let issued_until = s.issued.lock().ok().and_then(|m| m.get(presented).copied());
    let accepted = presented == s.token || issued_until.is_some_and(|t| Instant::now() < t);
    if !accepted {
        let message = if issued_until.is_some() {
            "The access token has expired."
        } else {
            "Invalid Authorization payload."
        };
        return Err(error(StatusCode::UNAUTHORIZED, "Unauthorized", message));
    }
    let role = endpoint.permission();
    if !s.config.roles.iter().any(|r| r == role) {
        return Err(error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!(
                "The application does not have any of the required application permissions ({role}) to access the resource."
            ),
        ));
    }
    throttle(s, endpoint)?;
    let fail = s
        .rng
        .lock()
        .map(|mut r| r.f64() < s.config.fail_rate)
        .unwrap_or(false);
    if fail {
        return Err(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "",
        ));
    }
    Ok(())
}

/// Exact sliding windows per endpoint; a refused call does not count.
fn throttle(s: &Shared, endpoint: Endpoint) -> Result<(), Response> {
    let now = Instant::now();
    let Ok(mut referees) = s.referees.lock() else {
        return Ok(());
    };
    let Some(referee) = referees.get_mut(&endpoint) else {
        return Ok(());
    };
    let Err(full) = referee.admit(now) else {
        return Ok(());
    };
    let wait = full.wait.as_secs_f64().ceil().max(1.0) as u64;
    let (limit, window) = (full.limit, full.window.as_secs());
    let message = format!(
        "API calls quota exceeded! maximum allowed {limit} per {:02}:{:02}:{:02}",
        window / 3600,
        window / 60 % 60,
        window % 60
    );
    let mut response = error(StatusCode::TOO_MANY_REQUESTS, "429", &message);
    if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    Err(response)
}

fn parse_ip(raw: &str) -> Result<IpAddr, Response> {
    raw.parse().map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            "InvalidIpAddress",
            &format!("Invalid IP address: {raw}"),
        )
    })
}

pub(super) fn base(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

async fn ip_stats(
    State(s): S,
    Path(raw): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = gate(&s, Endpoint::IpStats, &headers).await {
        return r;
    }
    let ip = match parse_ip(&raw) {
        Ok(ip) => ip,
        Err(r) => return r,
    };
    // Omitted means 30 days (FACTS.md §8.6).
    let hours = match q.get("lookBackHours").map(|h| h.parse::<u32>()) {
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
                    base(&headers)
                );
                map.insert("@odata.context".into(), Value::String(context));
            }
            axum::Json(body).into_response()
        }
    }
}

async fn ip_alerts(
    State(s): S,
    Path(raw): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = gate(&s, Endpoint::IpAlerts, &headers).await {
        return r;
    }
    let ip = match parse_ip(&raw) {
        Ok(ip) => ip,
        Err(r) => return r,
    };
    let all = s.config.dataset.alerts_of(ip);
    alerts_page(
        s.config.page_size,
        &all,
        &q,
        &headers,
        &format!("ips/{ip}/alerts"),
    )
}

/// One page of an alert list, `$skip` from the query, with the `@odata.nextLink` to the next
/// page of `route` (under `/api/`) while there is one.
pub(super) fn alerts_page(
    page_size: usize,
    all: &[&crate::defender::Alert],
    q: &HashMap<String, String>,
    headers: &HeaderMap,
    route: &str,
) -> Response {
    let skip: usize = q.get("$skip").and_then(|v| v.parse().ok()).unwrap_or(0);
    let page = page_size.max(1);
    let value: Vec<_> = all.iter().skip(skip).take(page).collect();
    let mut body = json!({"@odata.context": format!("{}/api/$metadata#Alerts", base(headers)), "value": value});
    if skip + page < all.len() {
        body["@odata.nextLink"] = Value::String(format!(
            "{}/api/{route}?$skip={}",
            base(headers),
            skip + page
        ));
    }
    axum::Json(body).into_response()
}

async fn alert_ips(State(s): S, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Err(r) = gate(&s, Endpoint::AlertIps, &headers).await {
        return r;
    }
    match s.config.dataset.alert(&id) {
        None => error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            &format!("Alert {id} was not found"),
        ),
        Some(a) => {
            let value: Vec<_> = a
                .related_ips
                .iter()
                .map(|ip| json!({"id": ip.to_string()}))
                .collect();
            axum::Json(json!({"@odata.context": format!("{}/api/$metadata#Ips", base(&headers)), "value": value}))
                .into_response()
        }
    }
}

/// `GET /api/alerts/{id}`: one alert's record, on its own endpoint's limits.
async fn one_alert(State(s): S, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Err(r) = gate(&s, Endpoint::Alert, &headers).await {
        return r;
    }
    match s.config.dataset.alert(&id) {
        None => error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            &format!("Alert {id} was not found"),
        ),
        Some(a) => axum::Json(&a.alert).into_response(),
    }
}
