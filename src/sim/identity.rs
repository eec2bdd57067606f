//! The simulator's Entra ID: the token endpoint (client credentials, device code, refresh
//! token) and the device-code endpoint, with Entra's AADSTS-style refusals. Tokens are
//! JWT-shaped (unsigned), expire, and can be revoked for tests.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::time::Instant;

use super::{S, SKEW, Shared, SimConfig};
use crate::defender::jwt::Claims;

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// What the token endpoints handed out and were asked for, kept for tests: no secret may show
/// up in any output or log, and an overridden scope must reach the wire.
#[derive(Default)]
pub(crate) struct Record {
    /// Access tokens, refresh tokens and device codes, in the order issued.
    pub(crate) secrets: Vec<String>,
    /// The `scope` of every sign-in request that carried one, in the order received.
    pub(crate) scopes: Vec<String>,
    /// Every sign-in request, in the order received: the token request's `grant_type`, or
    /// `devicecode` for a code asked of the device-code endpoint.
    pub(crate) sign_ins: Vec<String>,
}

fn remember_sign_in(s: &Shared, what: &str) {
    if let Ok(mut r) = s.record.lock() {
        r.sign_ins.push(what.to_owned());
    }
}

fn remember_secret(s: &Shared, secret: &str) {
    if let Ok(mut r) = s.record.lock() {
        r.secrets.push(secret.to_owned());
    }
}

fn remember_scope(s: &Shared, form: &HashMap<String, String>) {
    if let (Some(scope), Ok(mut r)) = (form.get("scope"), s.record.lock()) {
        r.scopes.push(scope.clone());
    }
}

/// A device-code sign-in in progress.
#[derive(Debug, Clone)]
pub(super) struct Pending {
    /// Polls answered "authorization_pending" so far; the simulated user approves after
    /// `SimConfig::device_code_polls` of them.
    polls: u32,
    expires: Instant,
}

/// What the simulator's tokens say: the API's audience, the configured roles, an expiry.
pub(super) fn claims(config: &SimConfig, lifetime: Duration) -> Claims {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Claims {
        aud: Some("https://api.securitycenter.microsoft.com".into()),
        roles: config.roles.clone(),
        exp: Some((now + lifetime).as_secs()),
        tid: Some("00000000-0000-0000-0000-00000000517e".into()),
        appid: Some(config.client_id.clone()),
        scp: None,
        azp: None,
    }
}

/// A refusal shaped as Entra's: the description ends with the trace id, correlation id and
/// timestamp on lines of their own (`\r\n`), and the same ids come again as fields.
fn aad(status: StatusCode, error: &str, code: u32, text: &str) -> Response {
    let trace = uuid_like();
    let correlation = uuid_like();
    let timestamp = chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
    let body = json!({
        "error": error,
        "error_description": format!(
            "AADSTS{code}: {text}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {timestamp}"
        ),
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace,
        "correlation_id": correlation,
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    });
    (status, axum::Json(body)).into_response()
}

fn uuid_like() -> String {
    let hex = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn random(prefix: &str) -> String {
    format!(
        "{prefix}{:016x}{:016x}",
        fastrand::u64(..),
        fastrand::u64(..)
    )
}

/// A fresh access token (and, for user sign-ins, a refresh token).
fn grant(s: &Shared, with_refresh: bool) -> Response {
    let lifetime = s.config.token_lifetime;
    let token = claims(&s.config, lifetime).to_unsigned_token(&random("sim-at-"));
    if let Ok(mut issued) = s.issued.lock() {
        issued.insert(token.clone(), Instant::now() + lifetime + SKEW);
    }
    remember_secret(s, &token);
    let secs = lifetime.as_secs();
    let mut body = json!({"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": token});
    if with_refresh {
        let refresh = random("sim-rt-");
        if let Ok(mut r) = s.refresh_tokens.lock() {
            r.insert(refresh.clone());
        }
        remember_secret(s, &refresh);
        body["refresh_token"] = json!(refresh);
    }
    axum::Json(body).into_response()
}

fn scope_ok(form: &HashMap<String, String>) -> Option<Response> {
    let scope = form.get("scope").map(String::as_str).unwrap_or("");
    (!scope.ends_with("/.default")).then(|| {
        aad(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.",
        )
    })
}

/// `POST /{tenant}/oauth2/v2.0/token`.
pub(super) async fn token(
    State(s): S,
    Path(_tenant): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    remember_scope(&s, &form);
    remember_sign_in(&s, form.get("grant_type").map_or("", String::as_str));
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => client_credentials(&s, &form),
        Some(DEVICE_GRANT) => device_grant(&s, &form),
        Some("refresh_token") => refresh(&s, &form),
        _ => aad(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.",
        ),
    }
}

fn client_credentials(s: &Shared, form: &HashMap<String, String>) -> Response {
    if form.get("client_id") != Some(&s.config.client_id) {
        return aad(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            "Application not found in the directory.",
        );
    }
    if form.get("client_secret") != Some(&s.config.client_secret) {
        return aad(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            "Invalid client secret provided.",
        );
    }
    if let Some(refusal) = scope_ok(form) {
        return refusal;
    }
    grant(s, false)
}

/// `POST /{tenant}/oauth2/v2.0/devicecode`: a code for the user to enter elsewhere.
pub(super) async fn device_code(
    State(s): S,
    Path(_tenant): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    remember_sign_in(&s, "devicecode");
    if form.get("client_id").is_none_or(|c| c.is_empty()) {
        return aad(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        );
    }
    remember_scope(&s, &form);
    if let Some(refusal) = scope_ok(&form) {
        return refusal;
    }
    let device_code = random("sim-dc-");
    remember_secret(&s, &device_code);
    let user_code = format!(
        "{:04X}-{:04X}",
        fastrand::u16(..) & 0x7fff,
        fastrand::u16(..) & 0x7fff
    );
    let expires_in = 900u64;
    if let Ok(mut pending) = s.device_codes.lock() {
        pending.insert(
            device_code.clone(),
            Pending {
                polls: 0,
                expires: Instant::now() + Duration::from_secs(expires_in),
            },
        );
    }
    let uri = "https://microsoft.com/devicelogin";
    axum::Json(json!({
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": uri,
        "expires_in": expires_in,
        "interval": s.config.device_code_interval,
        "message": format!("To sign in, use a web browser to open the page {uri} and enter the code {user_code} to authenticate."),
    }))
    .into_response()
}

fn device_grant(s: &Shared, form: &HashMap<String, String>) -> Response {
    let code = form.get("device_code").cloned().unwrap_or_default();
    let Ok(mut pending) = s.device_codes.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Some(entry) = pending.get_mut(&code) else {
        return aad(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            70000,
            "Provided grant is invalid or malformed.",
        );
    };
    if Instant::now() >= entry.expires {
        pending.remove(&code);
        return aad(
            StatusCode::BAD_REQUEST,
            "expired_token",
            70020,
            "The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
        );
    }
    if entry.polls < s.config.device_code_polls {
        entry.polls += 1;
        return aad(
            StatusCode::BAD_REQUEST,
            "authorization_pending",
            70016,
            "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
        );
    }
    pending.remove(&code);
    drop(pending);
    if s.config.device_code_declined {
        // RFC 8628's `access_denied`, as Entra names it; the AADSTS number is the simulator's.
        return aad(
            StatusCode::BAD_REQUEST,
            "authorization_declined",
            70000,
            "The end user denied the authorization request.",
        );
    }
    grant(s, true)
}

fn refresh(s: &Shared, form: &HashMap<String, String>) -> Response {
    let presented = form.get("refresh_token").cloned().unwrap_or_default();
    let known = s
        .refresh_tokens
        .lock()
        .map(|mut r| r.remove(&presented))
        .unwrap_or(false);
    if !known {
        return aad(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            700082,
            "The refresh token has expired or is invalid. Sign in again.",
        );
    }
    grant(s, true)
}

/// Revokes every token the token endpoint issued: the next API call with one gets a 401, as
/// after a secret rotation or a revoked consent.
pub(super) async fn revoke(State(s): S) -> Response {
    if let Ok(mut issued) = s.issued.lock() {
        for until in issued.values_mut() {
            *until = Instant::now();
        }
    }
    StatusCode::NO_CONTENT.into_response()
}
