//! The simulator's routes: every API endpoint where [`Endpoint::route`] puts it, answered by
//! the handler [`answer`] names for it after the gate; the token endpoints and the request log.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::time::Instant;

use super::http::{Call, gate};
use super::limits::Referee;
use super::{LoggedRequest, S, Shared, SimConfig};
use super::{device_routes, identity, ip_routes};
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
    let mut api = Router::new();
    for (path, served) in places() {
        let handler = move |State(s): S,
                            Path(raw): Path<String>,
                            Query(query): Query<HashMap<String, String>>,
                            headers: HeaderMap| {
            let served = served.clone();
            async move { dispatch(&s, &served, &raw, query, headers).await }
        };
        api = api.route(&path, get(handler));
    }
    api.route("/{tenant}/oauth2/v2.0/token", post(identity::token))
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

/// Each endpoint's answer, once the gate let the call through. No wildcard: a new endpoint
/// does not compile until it is answered here, and then it is served at its route.
fn answer(s: &Shared, endpoint: Endpoint, call: &Call) -> Response {
    match endpoint {
        Endpoint::IpStats => ip_routes::ip_stats(s, call),
        Endpoint::IpAlerts => ip_routes::ip_alerts(s, call),
        Endpoint::AlertIps => ip_routes::alert_ips(s, call),
        Endpoint::Alert => ip_routes::one_alert(s, call),
        Endpoint::Machine => device_routes::machine(s, call),
        Endpoint::MachineAlerts => device_routes::machine_alerts(s, call),
        Endpoint::FindByIp => device_routes::find_by_ip(s, call),
    }
}

/// The endpoint a request at one place is for, gated on that endpoint's permission and
/// limits, then answered.
async fn dispatch(
    s: &Shared,
    served: &[(Subject, Endpoint)],
    raw: &str,
    query: HashMap<String, String>,
    headers: HeaderMap,
) -> Response {
    let Some((endpoint, subject)) = pick(served, raw) else {
        // What axum answers where no route is: a place only function calls share.
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Err(r) = gate(s, endpoint, &headers).await {
        return r;
    }
    let call = Call {
        subject: subject.to_owned(),
        query,
        headers,
    };
    answer(s, endpoint, &call)
}

/// What a route's subject segment takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subject {
    /// Any value (`{ip}`, `{id}`): the subject is the segment.
    Any,
    /// An OData function call, `name(...)`: the subject is what is between the parentheses.
    Function(&'static str),
}

impl Subject {
    fn take(self, raw: &str) -> Option<&str> {
        match self {
            Self::Any => Some(raw),
            Self::Function(name) => raw.strip_prefix(name)?.strip_prefix('(')?.strip_suffix(')'),
        }
    }
}

/// Each endpoint's route in axum's syntax, its subject's segment as `{subject}` (findbyip's
/// function call too: it shares `/api/machines/{subject}` with the machine, as in the API),
/// with the endpoints served there, function calls first so the plain subject takes the rest.
fn places() -> BTreeMap<String, Vec<(Subject, Endpoint)>> {
    let mut places: BTreeMap<String, Vec<(Subject, Endpoint)>> = BTreeMap::new();
    for endpoint in Endpoint::ALL {
        let (path, subject) = place(endpoint.route());
        places.entry(path).or_default().push((subject, endpoint));
    }
    for served in places.values_mut() {
        served.sort_by_key(|(subject, _)| *subject == Subject::Any);
    }
    places
}

/// `route` as [`Endpoint::route`] writes it (the subject in braces, or findbyip's
/// `findbyip(ip='{IP}',timestamp={TimeStamp})`) in axum's syntax, and what its subject takes.
fn place(route: &'static str) -> (String, Subject) {
    let mut subject = Subject::Any;
    let path: Vec<&str> = route
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "{subject}"
            } else if let Some((name, _)) = segment.split_once('(') {
                subject = Subject::Function(name);
                "{subject}"
            } else {
                segment
            }
        })
        .collect();
    (path.join("/"), subject)
}

/// The first endpoint served at a place whose subject takes `raw`, and the subject it reads.
fn pick<'a>(served: &[(Subject, Endpoint)], raw: &'a str) -> Option<(Endpoint, &'a str)> {
    served
        .iter()
        .find_map(|(subject, endpoint)| Some((*endpoint, subject.take(raw)?)))
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

#[cfg(test)]
mod tests;
