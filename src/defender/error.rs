//! What can go wrong talking to the API, mapped by HTTP status (never by the body's `code`,
//! which real throttling replies set to the string `"429"`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::sanitize;

/// The kind of failure; it decides retries, the pane's wording and the CLI's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// 400: the API rejected the input (an IP it does not accept, a malformed id).
    InvalidInput,
    /// 401: missing, invalid or expired token.
    Unauthorized,
    /// The token endpoint refused to sign in (wrong secret, unknown app or tenant, consent).
    SignIn,
    /// 403: valid token without the endpoint's permission (`Endpoint::permission` names it).
    Forbidden,
    /// 404: what it means is the endpoint's (`Endpoint::not_found`): an answer for some (an IP
    /// never seen), a failure for others (an unknown alert or device, or one past retention).
    NotFound,
    /// 429: over the quota; wait for `Retry-After`.
    Throttled,
    /// 5xx: the service failed; worth retrying.
    Server,
    /// No answer in time.
    Timeout,
    /// Could not connect, TLS failure, connection reset.
    Network,
    /// The body was not the JSON we expected.
    Decode,
    /// Any other status, or a request we refused to send (e.g. a cross-origin next link).
    Protocol,
    /// `--offline` and the answer is not in the cache: nothing was sent.
    Offline,
}

impl ErrorKind {
    /// Whether trying again later can succeed (the scheduler retries these with backoff).
    pub fn is_transient(self) -> bool {
        matches!(self, Self::Server | Self::Timeout | Self::Network)
    }

    /// The process exit code the one-shot commands use; documented in README.
    pub fn exit_code(self) -> u8 {
        match self {
            Self::InvalidInput => 3,
            Self::NotFound => 4,
            Self::Unauthorized => 5,
            Self::Forbidden => 6,
            Self::Throttled => 7,
            Self::Server => 8,
            Self::Timeout => 9,
            Self::Network => 12,
            Self::Decode | Self::Protocol => 10,
            Self::SignIn => 13,
            Self::Offline => 15,
        }
    }
}

/// A failed call, with what the analyst needs to act on it. Cheap to clone: it travels in
/// messages and stays in pane state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.sentence())]
pub struct ApiError {
    pub kind: ErrorKind,
    /// HTTP status, when there was a response.
    pub status: Option<u16>,
    /// The server's message (sanitised) or our own description.
    pub message: String,
    /// The body's `target`: a correlation id for Microsoft support.
    pub target: Option<String>,
    /// From `Retry-After`, or from the quota window named in a 429 message.
    pub retry_after: Option<Duration>,
    /// A 401 whose token the source dropped: one more call, with a fresh token, may succeed.
    pub fresh_token: bool,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            status: None,
            message: message.into(),
            target: None,
            retry_after: None,
            fresh_token: false,
        }
    }

    /// Builds the error for a non-success response from its status, headers and body.
    pub fn from_response(status: u16, retry_after_header: Option<&str>, body: &[u8]) -> Self {
        let kind = match status {
            400 => ErrorKind::InvalidInput,
            401 => ErrorKind::Unauthorized,
            403 => ErrorKind::Forbidden,
            404 => ErrorKind::NotFound,
            429 => ErrorKind::Throttled,
            500..=599 => ErrorKind::Server,
            _ => ErrorKind::Protocol,
        };
        let envelope = serde_json::from_slice::<ErrorEnvelope>(body)
            .ok()
            .map(|e| e.error);
        let full = envelope
            .as_ref()
            .and_then(|e| e.message.as_deref())
            .filter(|m| !m.trim().is_empty())
            .map(sanitize::one_line)
            .unwrap_or_else(|| default_message(status));
        let target = envelope
            .as_ref()
            .and_then(|e| e.target.as_deref())
            .map(|t| shorten_logged("the error's target", &sanitize::one_line(t)));
        // Read from the whole message: a cut one may have lost the window at its end.
        let retry_after = (kind == ErrorKind::Throttled)
            .then(|| {
                retry_after_header
                    .and_then(parse_retry_after)
                    .or_else(|| quota_window(&full))
            })
            .flatten();
        Self {
            kind,
            status: Some(status),
            message: shorten_logged("the API's error message", &full),
            target,
            retry_after,
            fresh_token: false,
        }
    }

    /// A body that is not the JSON we expect: keep a short, sanitised excerpt for the analyst.
    pub fn decode(detail: impl std::fmt::Display, body: &[u8]) -> Self {
        Self::decode_at(detail, body, 0)
    }

    /// A JSON error, with the excerpt taken around the place where parsing stopped, which is
    /// what the analyst (or the person they forward it to) needs to see.
    pub fn from_json(e: &serde_json::Error, body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        let line_start: usize = text
            .split_inclusive('\n')
            .take(e.line().saturating_sub(1))
            .map(str::len)
            .sum();
        let at = (line_start + e.column()).min(text.len());
        Self::decode_at(e, body, at)
    }

    fn decode_at(detail: impl std::fmt::Display, body: &[u8], at: usize) -> Self {
        const BEFORE: usize = 40;
        const WIDTH: usize = 80;
        let text = String::from_utf8_lossy(body);
        let mut start = at.saturating_sub(BEFORE).min(text.len());
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let window = &text[start..];
        // Runs of whitespace (indentation) say nothing; fold them so the excerpt shows content.
        let folded = sanitize::one_line(window)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let mut excerpt = String::new();
        if start > 0 {
            excerpt.push('…');
        }
        excerpt.extend(folded.chars().take(WIDTH));
        if folded.chars().count() > WIDTH {
            excerpt.push('…');
        }
        // serde's detail can quote a whole value from the body, however long.
        let message = format!("unexpected response body ({detail}): {excerpt}");
        let mut e = Self::new(
            ErrorKind::Decode,
            shorten_logged("an unreadable body's description", &message),
        );
        e.status = Some(200);
        e
    }

    /// One clear sentence for the status bar, a pane, or stderr.
    pub fn sentence(&self) -> String {
        let what = match self.kind {
            ErrorKind::InvalidInput => "the API rejected the request as invalid",
            ErrorKind::Unauthorized => "not signed in: the token is missing, invalid or expired",
            ErrorKind::SignIn => "sign-in refused by Entra ID",
            ErrorKind::Forbidden => "access denied: the app lacks a permission",
            ErrorKind::NotFound => "not found",
            ErrorKind::Throttled => "throttled by the API",
            ErrorKind::Server => "the API had a server error",
            ErrorKind::Timeout => "the API did not answer in time",
            ErrorKind::Network => "could not reach the API",
            ErrorKind::Decode => "the API sent a response we could not read",
            ErrorKind::Protocol => "unexpected response from the API",
            ErrorKind::Offline => "offline, and not in the cache",
        };
        let mut s = String::from(what);
        if let Some(status) = self.status.filter(|_| self.kind != ErrorKind::Decode) {
            s.push_str(&format!(" (HTTP {status})"));
        }
        if !self.message.is_empty() {
            s.push_str(": ");
            s.push_str(&self.message);
        }
        if let Some(wait) = self.retry_after {
            s.push_str(&format!("; retry after {}s", wait.as_secs()));
        }
        if let Some(target) = &self.target {
            s.push_str(&format!(" [request id {target}]"));
        }
        s
    }
}

/// Characters of server text an error shows on stderr or in a pane: more than any real message
/// needs, and still a few lines on a terminal when a proxy or a bug sends a whole page.
pub const SHOWN_CHARS: usize = 500;

/// Characters of a cut text that go to the log file instead, where a long line does no harm.
const LOGGED_CHARS: usize = 16 * 1024;

/// `text` cut to [`SHOWN_CHARS`] characters (never inside one), saying how many were left out.
pub fn shorten(text: &str) -> String {
    cut_at(text, SHOWN_CHARS).unwrap_or_else(|| text.to_owned())
}

/// [`shorten`], with the text (up to [`LOGGED_CHARS`]) written to the log when it was cut, so
/// the rest can still be read there. Only for server text: never for anything that may hold a
/// secret.
pub(crate) fn shorten_logged(what: &str, text: &str) -> String {
    match cut_at(text, SHOWN_CHARS) {
        None => text.to_owned(),
        Some(short) => {
            let logged = cut_at(text, LOGGED_CHARS);
            tracing::debug!(
                chars = text.chars().count(),
                text = logged.as_deref().unwrap_or(text),
                "{what} was cut for display"
            );
            short
        }
    }
}

/// `text`'s first `max` characters and a note of how many more there were, or `None` when it
/// is no longer than that.
pub(crate) fn cut_at(text: &str, max: usize) -> Option<String> {
    let (at, _) = text.char_indices().nth(max)?;
    let more = text[at..].chars().count();
    Some(format!("{}… ({more} more characters)", &text[..at]))
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    message: Option<String>,
    target: Option<String>,
}

fn default_message(status: u16) -> String {
    match status {
        401 => "Unauthorized".into(),
        403 => "Forbidden".into(),
        404 => "Not Found".into(),
        429 => "Too Many Requests".into(),
        _ => String::new(),
    }
}

/// `Retry-After` in delta-seconds (what the API documents). HTTP dates are not used by MDE.
fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The window in "maximum allowed 100 per 00:01:00": the longest a fresh window can take.
pub fn quota_window(message: &str) -> Option<Duration> {
    let tail = message.rsplit_once(" per ")?.1.trim();
    let hms: String = tail
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ':')
        .collect();
    let mut parts = hms.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, s) = (parts.next()??, parts.next()??, parts.next()??);
    Some(Duration::from_secs(h * 3600 + m * 60 + s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_reads_retry_after_then_the_quota_window() {
        let body = br#"{"error":{"code":"429","message":"API calls quota exceeded! maximum allowed 100 per 00:01:00","target":"abc"}}"#;
        let e = ApiError::from_response(429, Some("17"), body);
        assert_eq!(e.kind, ErrorKind::Throttled);
        assert_eq!(e.retry_after, Some(Duration::from_secs(17)));
        assert_eq!(e.target.as_deref(), Some("abc"));
        let e = ApiError::from_response(429, None, body);
        assert_eq!(e.retry_after, Some(Duration::from_secs(60)));
        let hourly = br#"{"error":{"code":"429","message":"maximum allowed 1500 per 01:00:00"}}"#;
        assert_eq!(
            ApiError::from_response(429, None, hourly).retry_after,
            Some(Duration::from_secs(3600))
        );
    }

    #[test]
    fn status_decides_the_kind_not_the_code() {
        let body = br#"{"error":{"code":"TooManyRequests","message":"nope"}}"#;
        assert_eq!(
            ApiError::from_response(400, None, body).kind,
            ErrorKind::InvalidInput
        );
        assert_eq!(
            ApiError::from_response(503, None, b"<html>").kind,
            ErrorKind::Server
        );
        assert_eq!(
            ApiError::from_response(418, None, b"").kind,
            ErrorKind::Protocol
        );
    }

    #[test]
    fn server_text_is_sanitised_in_errors() {
        let body = "{\"error\":{\"message\":\"bad \\u001b]0;pwned\\u0007 thing\",\"target\":\"t\\u202e1\"}}";
        let e = ApiError::from_response(400, None, body.as_bytes());
        assert_eq!(e.message, "bad  thing");
        assert_eq!(e.target.as_deref(), Some("t\u{FFFD}1"));
        let d = ApiError::decode("expected value", b"\x1b[2J{\"value\": [ ...");
        assert!(!d.message.contains('\u{1b}'));
    }

    /// Characters in `text` before the note [`shorten`] appends, and the count the note gives.
    fn split_note(text: &str) -> (usize, usize) {
        let (shown, note) = text
            .rsplit_once("… (")
            .expect("a note says the text was cut");
        let more = note
            .strip_suffix(" more characters)")
            .and_then(|n| n.parse().ok())
            .expect("the note counts what was left out");
        (shown.chars().count(), more)
    }

    #[test]
    fn a_megabyte_of_error_message_is_cut_and_the_cut_said() {
        // Two-byte characters: a cut by bytes rather than characters would split one (a panic).
        let long = "é".repeat(1_000_000);
        let body = serde_json::json!({"error": {"code": "x", "message": long, "target": long}});
        let e = ApiError::from_response(500, None, body.to_string().as_bytes());
        assert_eq!(
            split_note(&e.message),
            (SHOWN_CHARS, 1_000_000 - SHOWN_CHARS)
        );
        assert_eq!(
            split_note(e.target.as_deref().unwrap()),
            (SHOWN_CHARS, 1_000_000 - SHOWN_CHARS)
        );
        assert!(
            e.sentence().chars().count() < 3 * SHOWN_CHARS,
            "one readable sentence"
        );
        // The quota window at the end of a long 429 message is still read.
        let throttled = serde_json::json!({"error": {"message": format!(
            "{} maximum allowed 100 per 00:01:00",
            "x".repeat(1_000_000)
        )}});
        let e = ApiError::from_response(429, None, throttled.to_string().as_bytes());
        assert_eq!(e.retry_after, Some(Duration::from_secs(60)));
        assert_eq!(split_note(&e.message).0, SHOWN_CHARS);
    }

    #[test]
    fn a_megabyte_value_quoted_by_the_decoder_is_cut_and_the_cut_said() {
        // serde quotes a string found where a number belongs, whole.
        let body = format!("{{\"prevalence\": \"{}\"}}", "9".repeat(1_000_000));
        let err =
            serde_json::from_str::<std::collections::HashMap<String, u64>>(&body).unwrap_err();
        let e = ApiError::from_json(&err, body.as_bytes());
        let (shown, more) = split_note(&e.message);
        assert_eq!(shown, SHOWN_CHARS);
        assert!(more > 999_000, "{more}");
        assert!(
            e.message
                .starts_with("unexpected response body (invalid type")
        );
    }

    #[test]
    fn short_text_is_left_whole() {
        let body = br#"{"error":{"message":"Invalid IP address","target":"abc"}}"#;
        let e = ApiError::from_response(400, None, body);
        assert_eq!(e.message, "Invalid IP address");
        let exactly = "a".repeat(SHOWN_CHARS);
        assert_eq!(shorten(&exactly), exactly);
        assert_eq!(
            split_note(&shorten(&format!("{exactly}b"))),
            (SHOWN_CHARS, 1)
        );
    }
}
