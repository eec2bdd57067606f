//! The HTTP client for the API's endpoints (reqwest): one [`Call`] is one request. Maps every
//! outcome to a value or an [`ApiError`]; never panics on what the server sends.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{StatusCode, Url, header, redirect};
use serde_json::Value;

use super::error::{ApiError, ErrorKind};
use super::key::{FetchKey, NotFound};
use super::listing::{Item, Listing};
use super::sanitize::one_line;
use super::transport::{Call, CallFuture, Next, Page, Transport};

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
    /// What "now" is when judging a key the API could only refuse.
    wall: crate::clock::Wall,
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
        crate::tls::install();
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("mde-triage/", env!("CARGO_PKG_VERSION")))
            // Microsoft never redirects these GETs. A redirect is answered as an error naming
            // its target: followed, it would be a request the budget never saw, and its answer
            // someone else's data shown as the tenant's.
            .redirect(redirect::Policy::none())
            .build()
            .map_err(|e| {
                ApiError::new(
                    ErrorKind::Network,
                    format!("cannot build the HTTP client: {e}"),
                )
            })?;
        Ok(Self {
            http,
            base,
            tokens,
            wall: crate::clock::Wall::system(),
        })
    }

    /// The same client judging "now" by `wall` (a test's day, the scheduler's clock).
    pub fn with_wall(self, wall: crate::clock::Wall) -> Self {
        Self { wall, ..self }
    }

    /// The URL of a key's first page: its path under the base.
    fn first_page(&self, key: &FetchKey) -> Result<Url, ApiError> {
        let mut url = self.base.clone();
        {
            let mut segments = url.path_segments_mut().map_err(|_| {
                ApiError::new(ErrorKind::Protocol, "the API URL cannot take a path")
            })?;
            segments.pop_if_empty();
            for s in key.segments() {
                segments.push(&s);
            }
        }
        let query = key.query();
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// The URL for a call: the key's first page, or a next link judged followable again.
    fn url_for(&self, call: &Call) -> Result<Url, ApiError> {
        match &call.next_link {
            None => self.first_page(&call.key),
            Some(link) => match self.judge_link(&call.key, link) {
                Next::Follow(url) => Url::parse(&url)
                    .map_err(|_| ApiError::new(ErrorKind::Protocol, "unreadable next link")),
                Next::Loop => Err(ApiError::new(
                    ErrorKind::Protocol,
                    "the next-page link leads back to the first page",
                )),
                Next::Refused { link, why } => Err(ApiError::new(
                    ErrorKind::Protocol,
                    format!("next-page link not followed: {why}: {link}"),
                )),
            },
        }
    }

    /// A next link is followed only on the same origin (scheme, host and port) and the same
    /// endpoint path; the query may change. Anything else would send the token, or show
    /// records, that are not this endpoint's.
    fn judge_link(&self, key: &FetchKey, link: &str) -> Next {
        let shown = shown_link(link);
        let refuse = |why: &str| Next::Refused {
            link: shown.clone(),
            why: why.to_owned(),
        };
        let Ok(first) = self.first_page(key) else {
            return refuse("no path to compare with");
        };
        // A relative link is read against the page it came from, as a browser would.
        let Ok(url) = first.join(link.trim()) else {
            return refuse("unreadable link");
        };
        if !url.username().is_empty() || url.password().is_some() {
            return refuse("it carries a user name or password");
        }
        if url.origin() != self.base.origin() {
            return refuse("another origin");
        }
        if decoded_path(&url) != decoded_path(&first) {
            return refuse("another path");
        }
        let mut bare = url.clone();
        bare.set_fragment(None);
        if bare == first {
            return Next::Loop;
        }
        Next::Follow(bare.into())
    }

    /// One call is one request. A 401 is reported with whether the token source dropped the
    /// refused token: the scheduler then tries once more, through the budget like any call.
    async fn send(&self, call: Call) -> Result<Page, ApiError> {
        // Whoever built the key: a call the API could only refuse is not sent.
        call.key.refused(self.wall.now())?;
        let token = self.tokens.token().await?;
        let result = self.send_with(&call, &token).await;
        match result {
            Err(mut e) if e.kind == ErrorKind::Unauthorized => {
                e.fresh_token = self.tokens.invalidate(&token);
                Err(e)
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
        let header_text = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &header::HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let retry_after = header_text(header::RETRY_AFTER);
        if status.is_redirection() {
            let to = header_text(header::LOCATION)
                .map(|l| shown_link(&l))
                .unwrap_or_else(|| "nowhere named".into());
            return Err(ApiError {
                status: Some(status.as_u16()),
                ..ApiError::new(
                    ErrorKind::Protocol,
                    format!(
                        "the API answered {} redirecting to {to}; redirects are not followed",
                        status.as_u16()
                    ),
                )
            });
        }
        let body = read_capped(response).await?;
        if status.is_success() {
            let mut page = decode_page(&call.key, &body)?;
            if let Some(Next::Follow(link)) = &page.next {
                page.next = Some(self.judge_link(&call.key, link));
            }
            return Ok(page);
        }
        if status == StatusCode::NOT_FOUND
            && let NotFound::Answer(value) = call.key.endpoint().not_found()
        {
            return Ok(Page::last(value));
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

/// Decodes one successful body for `key`. Malformed JSON becomes a Decode error, never a panic;
/// inside a well-formed list each element is read on its own. A next link comes back as
/// [`Next::Follow`] unjudged: only the client knows the origin and path to judge it against.
pub fn decode_page(key: &FetchKey, body: &[u8]) -> Result<Page, ApiError> {
    let json: Value = serde_json::from_slice(body).map_err(|e| ApiError::from_json(&e, body))?;
    (key.endpoint().reader().page)(&json, body)
}

/// The OData envelope `{"value": [...], "@odata.nextLink": "..."}`; a bare list is read as
/// its value.
pub(super) fn list<T: Item>(
    json: &Value,
    body: &[u8],
) -> Result<(Listing<T>, Option<Next>), ApiError> {
    let (values, link) = match json {
        Value::Array(values) => (values.as_slice(), None),
        Value::Object(map) => {
            let values = match map.get("value") {
                Some(Value::Array(values)) => values.as_slice(),
                Some(Value::Null) => &[],
                Some(other) => return Err(not_a(other, "a 'value' list", body)),
                None => return Err(not_a(json, "a 'value' list", body)),
            };
            (values, map.get("@odata.nextLink"))
        }
        other => return Err(not_a(other, "a list", body)),
    };
    let next = match link {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(Next::Follow(s.clone())),
        Some(other) => Some(Next::Refused {
            link: shown_link(&other.to_string()),
            why: format!("a {} instead of a link", super::fields::type_name(other)),
        }),
    };
    Ok((Listing::read_page(values), next))
}

pub(super) fn not_a(found: &Value, wanted: &str, body: &[u8]) -> ApiError {
    ApiError::decode(
        format!(
            "expected {wanted}, found {}",
            super::fields::type_name(found)
        ),
        body,
    )
}

/// A link as it may be shown: user-info blanked (it may be a password), sanitised, and of
/// readable length (the cut is said).
fn shown_link(link: &str) -> String {
    const MAX: usize = 160;
    let link = match Url::parse(link.trim()) {
        Ok(mut url) if !url.username().is_empty() || url.password().is_some() => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
                .replacen("://", "://<user-info removed>@", 1)
        }
        _ => link.trim().to_owned(),
    };
    let clean = one_line(&link);
    super::error::cut_at(&clean, MAX).unwrap_or(clean)
}

/// A URL's path with percent-escapes undone, so `%3A` and `:` in an IPv6 compare equal.
fn decoded_path(url: &Url) -> Vec<String> {
    url.path_segments()
        .map(|segments| {
            segments
                .filter(|s| !s.is_empty())
                .map(|s| {
                    percent_encoding::percent_decode_str(s)
                        .decode_utf8_lossy()
                        .to_lowercase()
                })
                .collect()
        })
        .unwrap_or_default()
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
