//! The HTTP client for the three endpoints (reqwest): one [`Call`] is one request. Maps every
//! outcome to a value or an [`ApiError`]; never panics on what the server sends.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{StatusCode, Url, header};

use super::error::{ApiError, ErrorKind};
use super::key::{FetchKey, FetchValue};
use super::model::{Alert, IpStats, ODataList, RelatedIp};
use super::transport::{Call, CallFuture, Page, Transport};

/// Largest body read; a bigger one is refused rather than buffered.
const MAX_BODY: usize = 16 * 1024 * 1024;

pub type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<String, ApiError>> + Send + 'a>>;

/// Where bearer tokens come from: a fixed token (`MDE_TOKEN`) or a sign-in that renews.
pub trait TokenSource: Send + Sync + 'static {
    fn token(&self) -> TokenFuture<'_>;

    /// The API refused `token` (401). Forget it if it can be renewed, and say whether a retry
    /// with a fresh one makes sense: a fixed token cannot be renewed.
    fn invalidate(&self, _token: &str) -> bool {
        false
    }
}

/// A ready bearer token, e.g. from `MDE_TOKEN`. `Debug` never shows it.
#[derive(Clone)]
pub struct StaticToken(String);

impl StaticToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }
}

impl std::fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaticToken(<redacted>)")
    }
}

impl TokenSource for StaticToken {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(async move { Ok(self.0.clone()) })
    }
}

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// e.g. `https://api.security.microsoft.com` or the simulator's `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// Whole-request timeout.
    pub timeout: Duration,
}

/// The reqwest-backed [`Transport`]. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    tokens: Arc<dyn TokenSource>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Refuses a base URL that would send the token in clear text to a non-loopback host.
    pub fn new(config: ClientConfig, tokens: Arc<dyn TokenSource>) -> Result<Self, ApiError> {
        let base = Url::parse(config.base_url.trim()).map_err(|e| {
            ApiError::new(
                ErrorKind::Protocol,
                format!("'{}' is not a usable API URL: {e}", config.base_url),
            )
        })?;
        match base.scheme() {
            "https" => {}
            "http" if is_loopback(&base) => {}
            "http" => {
                return Err(ApiError::new(
                    ErrorKind::Protocol,
                    format!(
                        "refusing to send a token over plain http to {}: use https",
                        base.host_str().unwrap_or("?")
                    ),
                ));
            }
            other => {
                return Err(ApiError::new(
                    ErrorKind::Protocol,
                    format!("unsupported URL scheme '{other}'"),
                ));
            }
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("mde-triage/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                ApiError::new(
                    ErrorKind::Network,
                    format!("cannot build the HTTP client: {e}"),
                )
            })?;
        Ok(Self { http, base, tokens })
    }

    /// The URL for a call: the key's path under the base, or a validated next link.
    fn url_for(&self, call: &Call) -> Result<Url, ApiError> {
        if let Some(link) = &call.next_link {
            let url = Url::parse(link).map_err(|_| {
                ApiError::new(
                    ErrorKind::Protocol,
                    "the API sent an unreadable next-page link",
                )
            })?;
            if url.origin() != self.base.origin() {
                return Err(ApiError::new(
                    ErrorKind::Protocol,
                    "the API's next-page link points to another host; not followed",
                ));
            }
            return Ok(url);
        }
        let mut url = self.base.clone();
        {
            let mut segments = url.path_segments_mut().map_err(|_| {
                ApiError::new(ErrorKind::Protocol, "the API URL cannot take a path")
            })?;
            segments.pop_if_empty();
            for s in call.key.segments() {
                segments.push(&s);
            }
        }
        Ok(url)
    }

    /// One call; a 401 with a renewable token is retried once with a fresh one (a token
    /// revoked or expired early), then reported.
    async fn send(&self, call: Call) -> Result<Page, ApiError> {
        let token = self.tokens.token().await?;
        match self.send_with(&call, &token).await {
            Err(e) if e.kind == ErrorKind::Unauthorized && self.tokens.invalidate(&token) => {
                tracing::info!("401: renewing the token and trying once more");
                let fresh = self.tokens.token().await?;
                self.send_with(&call, &fresh).await.map_err(|mut e| {
                    // Once per call, never a loop. Saying that renewing did not help points
                    // the analyst at the tenant, consent or scope instead of at waiting.
                    if e.kind == ErrorKind::Unauthorized {
                        e.message = format!("{} (a renewed token was refused too)", e.message);
                    }
                    e
                })
            }
            other => other,
        }
    }

    async fn send_with(&self, call: &Call, token: &str) -> Result<Page, ApiError> {
        let url = self.url_for(call)?;
        let response = self
            .http
            .get(url)
            .bearer_auth(token)
            .header(header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = read_capped(response).await?;
        if status.is_success() {
            return decode_page(&call.key, &body);
        }
        if status == StatusCode::NOT_FOUND && matches!(call.key, FetchKey::IpStats(_)) {
            // For stats, 404 means the org never saw the IP: an answer, not a failure.
            return Ok(Page {
                value: FetchValue::Stats(None),
                next_link: None,
            });
        }
        Err(ApiError::from_response(
            status.as_u16(),
            retry_after.as_deref(),
            &body,
        ))
    }
}

impl Transport for Client {
    fn call(&self, call: Call) -> CallFuture {
        let this = self.clone();
        Box::pin(async move { this.send(call).await })
    }
}

/// Decodes one successful body for `key`. Malformed JSON becomes a Decode error, never a panic.
pub fn decode_page(key: &FetchKey, body: &[u8]) -> Result<Page, ApiError> {
    fn list<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<ODataList<T>, ApiError> {
        serde_json::from_slice(body).map_err(|e| ApiError::from_json(&e, body))
    }
    Ok(match key {
        FetchKey::IpStats(_) => {
            let stats: IpStats =
                serde_json::from_slice(body).map_err(|e| ApiError::from_json(&e, body))?;
            Page {
                value: FetchValue::Stats(Some(stats)),
                next_link: None,
            }
        }
        FetchKey::IpAlerts(_) => {
            let l = list::<Alert>(body)?;
            Page {
                value: FetchValue::Alerts(l.value),
                next_link: l.next_link,
            }
        }
        FetchKey::AlertIps(_) => {
            let l = list::<RelatedIp>(body)?;
            Page {
                value: FetchValue::Ips(l.value),
                next_link: l.next_link,
            }
        }
    })
}

async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, ApiError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(ApiError::new(
                ErrorKind::Decode,
                format!("response larger than {} MiB; refused", MAX_BODY >> 20),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Transport failures, described without the URL (no secrets live there, but keep it short).
pub(crate) fn transport_error(e: reqwest::Error) -> ApiError {
    if e.is_timeout() {
        ApiError::new(ErrorKind::Timeout, "no answer before the timeout")
    } else if e.is_connect() {
        ApiError::new(
            ErrorKind::Network,
            format!("cannot connect: {}", root_cause(&e)),
        )
    } else {
        ApiError::new(ErrorKind::Network, root_cause(&e))
    }
}

pub(crate) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
