//! What every simulated API call shares: the request as its handler reads it, the gate (token,
//! permission, quota, faults), the API's error body and the paging of alert lists.

// Checks short-circuit with a ready `Response` through `?`; boxing it would only add noise.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::net::IpAddr;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::Shared;
use crate::defender::Endpoint;

/// One API call as its endpoint's handler reads it, after the gate let it through.
pub struct Call {
    /// The route's subject, decoded: an IP, an alert or machine id, or an OData function's
    /// arguments (what is between its parentheses).
    pub subject: String,
    pub query: HashMap<String, String>,
    pub headers: HeaderMap,
}

impl Call {
    /// The subject as an IP, or the API's 400 for one that is not.
    pub fn ip(&self) -> Result<IpAddr, Response> {
        parse_ip(&self.subject)
    }

    /// The scheme and host the request came to, for the links the answer carries.
    pub fn base(&self) -> String {
        base(&self.headers)
    }
}

pub fn error(status: StatusCode, code: &str, message: &str) -> Response {
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
pub async fn gate(s: &Shared, endpoint: Endpoint, headers: &HeaderMap) -> Result<(), Response> {
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

fn base(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// One page of an alert list, `$skip` from the query, with the `@odata.nextLink` to the next
/// page of `route` (under `/api/`) while there is one.
pub fn alerts_page(
    page_size: usize,
    all: &[&crate::defender::Alert],
    call: &Call,
    route: &str,
) -> Response {
    let skip: usize = call
        .query
        .get("$skip")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let page = page_size.max(1);
    let value: Vec<_> = all.iter().skip(skip).take(page).collect();
    let mut body =
        json!({"@odata.context": format!("{}/api/$metadata#Alerts", call.base()), "value": value});
    if skip + page < all.len() {
        body["@odata.nextLink"] =
            Value::String(format!("{}/api/{route}?$skip={}", call.base(), skip + page));
    }
    axum::Json(body).into_response()
}
