//! Graph's error answers (FACTS §2.2, §4.6, §6) as an [`ApiError`] the scheduler and panes
//! already understand, plus what only Graph's answers tell apart: the hunting CPU quota (which
//! pauses hunting differently from the call quota), missing application roles, a query that
//! timed out, and the 400 that hints the query parameter was not read.
//!
//! The envelope is `{"error": {"code", "message", "innerError": {"request-id", …}}}`; `code`
//! may be `""` and `message` may be `""` (`UnknownError`), so neither alone makes a sentence.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::defender::error::{SHOWN_CHARS, shorten_logged};
use crate::defender::sanitize::one_line;
use crate::defender::{ApiError, ErrorKind};

/// What a Graph failure means beyond its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum Cause {
    /// Nothing more than the status says (a plain 429 is the per-minute call quota).
    Plain,
    /// The tenant's hunting CPU allocation is used up: a 429 naming CPU, or the 400 "query
    /// execution was preempted" (FACTS §4.6). Hunting stops until `Retry-After`, else until
    /// the next 15-minute cycle (FACTS §4.3).
    CpuQuota,
    /// 403 "Missing application roles": what the API wants and what the token held.
    MissingRoles {
        required: Vec<String>,
        held: Vec<String>,
    },
    /// The query ran past the service's 3 minutes (504, or a message saying so).
    QueryTimeout,
    /// 400 "The incomplete fragment is unexpected" for a query we know is not empty: the
    /// symptom FACTS §4.1 names for a `Query`/`query` parameter the service did not read.
    QueryNotRead,
    /// 400: the answer would exceed the result size limit (50 MB, FACTS §4.3).
    ResultTooLarge,
}

/// A failed Graph call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError {
    /// Kind, status, sanitised message, `Retry-After`; `target` holds the request id.
    pub error: ApiError,
    /// Graph's `error.code` (`Forbidden`, `TooManyRequests`, `UnknownError`), sanitised.
    pub code: Option<String>,
    pub cause: Cause,
}

impl GraphError {
    /// Whether hunting must pause for the CPU quota rather than the call quota.
    pub fn is_cpu_quota(&self) -> bool {
        self.cause == Cause::CpuQuota
    }
}

impl From<GraphError> for ApiError {
    fn from(e: GraphError) -> Self {
        e.error
    }
}

/// Builds the error for a non-success Graph response. `retry_after_header` is read as a
/// decimal number of seconds (`2.128` in Graph's sample, FACTS §6). A body that is not the
/// envelope still gives an error by status, never a panic.
pub fn from_graph_response(
    status: u16,
    retry_after_header: Option<&str>,
    body: &[u8],
) -> GraphError {
    let parsed = serde_json::from_slice::<Value>(body);
    // A body that is no JSON (a proxy's page, a cut answer) is said, with where it broke.
    let unreadable = match &parsed {
        Err(e) if !body.iter().all(u8::is_ascii_whitespace) => {
            Some(format!("the error body is not readable JSON ({e})"))
        }
        _ => None,
    };
    let envelope: Option<Value> = parsed.ok().and_then(|v| v.get("error").cloned());
    let text = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .map(one_line)
            .filter(|s| !s.trim().is_empty())
    };
    let code = text(envelope.as_ref().and_then(|e| e.get("code")));
    let message = text(envelope.as_ref().and_then(|e| e.get("message")));
    let inner = envelope.as_ref().and_then(|e| e.get("innerError"));
    let request_id = text(inner.and_then(|i| i.get("request-id")));
    let cause = cause_of(status, message.as_deref().unwrap_or(""));
    let kind = match (&cause, status) {
        // Preemption is the quota speaking through a 400: pause, do not give up.
        (Cause::CpuQuota, _) => ErrorKind::Throttled,
        (Cause::QueryTimeout, _) => ErrorKind::Timeout,
        (_, 400) => ErrorKind::InvalidInput,
        (_, 401) => ErrorKind::Unauthorized,
        (_, 403) => ErrorKind::Forbidden,
        (_, 404) => ErrorKind::NotFound,
        (_, 429) => ErrorKind::Throttled,
        (_, 500..=599) => ErrorKind::Server,
        _ => ErrorKind::Protocol,
    };
    // An empty message (`UnknownError`, "") still says which code came.
    let shown = match (&message, &code, unreadable) {
        (Some(m), _, _) => m.clone(),
        (None, Some(c), _) => format!("{c} (no message)"),
        (None, None, Some(why)) => why,
        (None, None, None) => String::new(),
    };
    let retry_after = (kind == ErrorKind::Throttled)
        .then(|| retry_after_header.and_then(parse_retry_after))
        .flatten();
    GraphError {
        error: ApiError {
            kind,
            status: Some(status),
            message: shorten_logged("Graph's error message", &shown),
            target: request_id.map(|r| shorten_logged("Graph's request id", &r)),
            retry_after,
            fresh_token: false,
        },
        code: code.map(|c| c.chars().take(SHOWN_CHARS).collect()),
        cause,
    }
}

/// `Retry-After` as seconds, fractions allowed (`2.128`), rounded up to the millisecond so a
/// pause never ends early. Negative, non-finite or absurd values are ignored.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    if !secs.is_finite() || !(0.0..=86_400.0).contains(&secs) {
        return None;
    }
    Some(Duration::from_millis((secs * 1000.0).ceil() as u64))
}

fn cause_of(status: u16, message: &str) -> Cause {
    let m = message.to_ascii_lowercase();
    let names_cpu = m
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| w == "cpu");
    match status {
        429 if names_cpu => Cause::CpuQuota,
        400 if m.contains("preempted") || (names_cpu && m.contains("exceeded")) => Cause::CpuQuota,
        400 if m.contains("allowed result size") => Cause::ResultTooLarge,
        400 if m.contains("incomplete fragment") => Cause::QueryNotRead,
        403 if m.contains("missing application roles") => missing_roles(message),
        504 => Cause::QueryTimeout,
        _ if m.contains("timed out") || m.contains("timeout") => Cause::QueryTimeout,
        _ => Cause::Plain,
    }
}

/// "Missing application roles. API required roles: A,B, application roles: ." → [A, B], [].
fn missing_roles(message: &str) -> Cause {
    let after = |key: &str| -> Option<&str> {
        let lower = message.to_ascii_lowercase();
        let at = lower.find(key)? + key.len();
        message.get(at..)
    };
    let list = |s: &str| -> Vec<String> {
        s.split(',')
            .map(|r| r.trim().trim_end_matches('.').trim().to_owned())
            .filter(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '.'))
            .collect()
    };
    let required = after("api required roles:")
        .map(|rest| {
            let end = rest
                .to_ascii_lowercase()
                .find("application roles:")
                .unwrap_or(rest.len());
            list(&rest[..end])
        })
        .unwrap_or_default();
    let held = after(", application roles:").map(list).unwrap_or_default();
    Cause::MissingRoles { required, held }
}
