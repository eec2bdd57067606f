//! App-only sign-in (OAuth 2.0 client credentials against Entra ID) with a token cache that
//! one task refreshes before expiry, however many requests wait. Written by hand: `oauth2` 5
//! and `azure_identity` 1 are tied to reqwest 0.12 (DESIGN.md section 10), and this is one
//! form POST and one JSON answer.

use std::sync::Mutex;
use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;
use tokio::time::Instant;

use super::client::{TokenFuture, TokenSource};
use super::error::{ApiError, ErrorKind};
use super::sanitize;

/// The scope that works for every API host (FACTS.md section 4: the legacy resource). Used for
/// every cloud unless overridden: the government clouds' scopes are not documented, so none is
/// guessed.
pub const API_SCOPE: &str = "https://api.securitycenter.microsoft.com/.default";

/// Checks a scope given by the analyst (`MDE_SCOPE`, the config file's `scope`): an https
/// resource followed by `/.default`, the only form the client-credentials flow accepts.
pub fn parse_scope(s: &str) -> Result<String, String> {
    let scope = s.trim();
    let usable = scope.strip_suffix("/.default").is_some_and(|resource| {
        Url::parse(resource).is_ok_and(|u| u.scheme() == "https" && u.host_str().is_some())
    });
    if usable {
        Ok(scope.to_owned())
    } else {
        Err(format!(
            "'{s}' is not a token scope (expected an https URL ending in /.default, e.g. {API_SCOPE})"
        ))
    }
}

/// A secret that never shows: no `Display`, and `Debug` prints a placeholder.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Where and as whom to sign in.
#[derive(Debug, Clone)]
pub struct AppCredentials {
    /// e.g. `https://login.microsoftonline.com`, or the simulator's URL.
    pub authority: String,
    pub tenant: String,
    pub client_id: String,
    pub secret: Secret,
}

struct Cached {
    token: String,
    /// Refresh from here on: a margin before the token's end.
    refresh_at: Instant,
}

impl Cached {
    /// A token living `lifetime` from now, renewed a tenth of it early (five minutes at most),
    /// so no request carries a token that dies on the way.
    fn new(token: String, lifetime: Duration) -> Self {
        let margin = (lifetime / 10).min(Duration::from_secs(300));
        Self {
            token,
            refresh_at: Instant::now() + lifetime - margin,
        }
    }
}

/// A token kept in memory and renewed by one task at a time, whatever the source.
#[derive(Default)]
pub(crate) struct TokenCache {
    cache: Mutex<Option<Cached>>,
    /// Held while a token is fetched, so concurrent requests wait for one renewal.
    renewing: tokio::sync::Mutex<()>,
}

impl TokenCache {
    fn fresh(&self) -> Option<String> {
        let cache = self.cache.lock().ok()?;
        cache
            .as_ref()
            .filter(|c| Instant::now() < c.refresh_at)
            .map(|c| c.token.clone())
    }

    /// The cached token, or a new one from `fetch` (token and lifetime).
    pub(crate) async fn get<F, Fut>(&self, fetch: F) -> Result<String, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(String, Duration), ApiError>>,
    {
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        let _one_at_a_time = self.renewing.lock().await;
        // Another request may have renewed it while this one waited.
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        let (token, lifetime) = fetch().await?;
        if let Ok(mut cache) = self.cache.lock() {
            *cache = Some(Cached::new(token.clone(), lifetime));
        }
        Ok(token)
    }

    /// Forgets `token` if it is the one cached.
    pub(crate) fn forget(&self, token: &str) {
        if let Ok(mut cache) = self.cache.lock()
            && cache.as_ref().is_some_and(|c| c.token == token)
        {
            *cache = None;
        }
    }
}

/// Client-credentials tokens, cached.
pub struct ClientCredentials {
    http: reqwest::Client,
    token_url: Url,
    creds: AppCredentials,
    scope: String,
    cache: TokenCache,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("token_url", &self.token_url.as_str())
            .field("client_id", &self.creds.client_id)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct AadError {
    error: Option<String>,
    error_description: Option<String>,
}

impl ClientCredentials {
    /// Refuses an authority that would send the secret in clear text off this machine.
    pub fn new(creds: AppCredentials, timeout: Duration) -> Result<Self, ApiError> {
        let (base, http) = sign_in_client(&creds.authority, timeout)?;
        let mut token_url = base;
        token_url
            .path_segments_mut()
            .map_err(|_| ApiError::new(ErrorKind::Protocol, "the authority cannot take a path"))?
            .pop_if_empty()
            .extend([creds.tenant.as_str(), "oauth2", "v2.0", "token"]);
        Ok(Self {
            http,
            token_url,
            creds,
            scope: API_SCOPE.to_owned(),
            cache: TokenCache::default(),
        })
    }

    /// Asks for `scope` instead of [`API_SCOPE`] (see [`parse_scope`]).
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }

    async fn fetch(&self) -> Result<(String, Duration), ApiError> {
        let response = self
            .http
            .post(self.token_url.clone())
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", self.creds.client_id.as_str()),
                ("client_secret", self.creds.secret.expose()),
                ("scope", self.scope.as_str()),
            ])
            .send()
            .await
            .map_err(|e| {
                let mut err = super::client::transport_error(e);
                err.message = format!("sign-in: {}", err.message);
                err
            })?;
        let status = response.status();
        let body = response.bytes().await.unwrap_or_default();
        if !status.is_success() {
            return Err(sign_in_error(status.as_u16(), &body));
        }
        let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|e| unreadable(&e))?;
        let lifetime = Duration::from_secs(
            answer
                .expires_in
                .as_ref()
                .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
                .unwrap_or(3599),
        );
        tracing::info!(secs = lifetime.as_secs(), "signed in (client credentials)");
        Ok((answer.access_token, lifetime))
    }
}

impl TokenSource for ClientCredentials {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(self.cache.get(|| self.fetch()))
    }

    fn invalidate(&self, token: &str) -> bool {
        self.cache.forget(token);
        true
    }
}

/// The authority's URL and an HTTP client for it. Refuses an authority that would send a
/// secret or a code in clear text off this machine.
pub(crate) fn sign_in_client(
    authority: &str,
    timeout: Duration,
) -> Result<(Url, reqwest::Client), ApiError> {
    let base = Url::parse(authority.trim()).map_err(|e| {
        ApiError::new(
            ErrorKind::Protocol,
            format!("'{authority}' is not a usable sign-in authority: {e}"),
        )
    })?;
    if base.scheme() != "https" && !super::client::is_loopback(&base) {
        return Err(ApiError::new(
            ErrorKind::Protocol,
            "refusing to sign in over plain http: the authority must be https",
        ));
    }
    let http = reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("mde-triage/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ApiError::new(ErrorKind::Network, e.to_string()))?;
    Ok((base, http))
}

/// A sign-in answer that does not parse, said without quoting it: unlike an API body (see
/// [`ApiError::from_json`]), it may hold an access token, a refresh token or a device code.
pub(crate) fn unreadable(e: &serde_json::Error) -> ApiError {
    ApiError::new(
        ErrorKind::Decode,
        format!("unreadable sign-in answer: {}", unquoted(e)),
    )
}

/// What is wrong with a JSON text, with no part of the text (serde's own message can quote a
/// value).
pub(crate) fn unquoted(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Eof => "it ends early",
        Category::Syntax => "it is not JSON",
        Category::Data => "a field is missing or of the wrong kind",
        Category::Io => "it could not be read",
    };
    format!(
        "{what} at line {}, column {} (not shown: it may hold a token)",
        e.line(),
        e.column()
    )
}

/// Entra ID's refusal, in one sentence: the AADSTS code and its description, without the
/// trace and correlation ids and timestamps it appends.
pub(crate) fn sign_in_error(status: u16, body: &[u8]) -> ApiError {
    let parsed: Option<AadError> = serde_json::from_slice(body).ok();
    let description = parsed
        .as_ref()
        .and_then(|e| e.error_description.as_deref())
        .map(|d| d.split(" Trace ID:").next().unwrap_or(d))
        .map(sanitize::one_line);
    let code = parsed.as_ref().and_then(|e| e.error.clone());
    let mut e = ApiError::new(
        if status >= 500 {
            ErrorKind::Server
        } else {
            ErrorKind::SignIn
        },
        match (code, description) {
            (Some(code), Some(d)) => format!("{code}: {d}"),
            (None, Some(d)) => d,
            (Some(code), None) => code,
            (None, None) => format!("HTTP {status} from the token endpoint"),
        },
    );
    e.status = Some(status);
    e
}
