//! App-only sign-in (OAuth 2.0 client credentials against Entra ID) with a token cache that
//! one task refreshes before expiry, however many requests wait, and that keeps a refusal. Written by hand: `oauth2` 5
//! and `azure_identity` 1 are tied to reqwest 0.12 (DESIGN.md section 10), and this is one
//! form POST and one JSON answer.

use std::sync::Mutex;
use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;
use tokio::time::Instant;

use super::client::{TokenFuture, TokenSource};
use super::entra::sign_in_error;
use super::error::{ApiError, ErrorKind};

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

/// A secret that never shows: `Debug` and `Display` print placeholders; only
/// [`Secret::expose`] gives it, for the handshake that needs it.
#[derive(Clone, PartialEq, Eq)]
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

/// Printing a secret, by mistake or in a URL, shows `***`.
impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
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

/// A token kept in memory, fetched by one task at a time whatever the source: those who ask
/// while an attempt is under way wait for it, then use its token or share its failure, so
/// several endpoints' calls starting at once make one token request (one device-code prompt).
/// A final refusal is kept for the life of the source: the rest of the command (or console
/// session) gets it without asking again.
#[derive(Default)]
pub(crate) struct TokenCache {
    state: Mutex<CacheState>,
    /// Held while a token is fetched.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct CacheState {
    cached: Option<Cached>,
    /// Attempts finished so far: one that finished while an asker waited was the one it waited
    /// for, and its failure is the asker's too (its token is in `cached`).
    attempts: u64,
    /// The last attempt's failure, if it failed, for those who waited on it.
    failed: Option<ApiError>,
    /// A refusal that asking again would only repeat.
    refused: Option<ApiError>,
}

/// What an asker does next.
enum Next {
    Answer(Result<String, ApiError>),
    /// Fetch, having seen this many attempts finished.
    Fetch(u64),
}

/// Whether a sign-in failure is final: a refusal (wrong secret, unknown app or tenant, missing
/// consent, a device code declined or expired) or an answer that cannot be read is the same
/// next time. A network failure, a timeout, a 5xx or a 429 from the token endpoint may not be.
fn is_final(kind: ErrorKind) -> bool {
    !kind.is_transient() && kind != ErrorKind::Throttled
}

impl TokenCache {
    fn state(&self) -> std::sync::MutexGuard<'_, CacheState> {
        // Nothing panics while holding it; if something did, the state is still whole.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `seen`: the attempts this asker saw finished before it waited, if it waited.
    fn next(&self, seen: Option<u64>) -> Next {
        let state = self.state();
        if let Some(refusal) = &state.refused {
            return Next::Answer(Err(refusal.clone()));
        }
        if let Some(c) = state
            .cached
            .as_ref()
            .filter(|c| Instant::now() < c.refresh_at)
        {
            return Next::Answer(Ok(c.token.clone()));
        }
        if let (Some(seen), Some(failure)) = (seen, &state.failed)
            && seen != state.attempts
        {
            return Next::Answer(Err(failure.clone()));
        }
        Next::Fetch(state.attempts)
    }

    /// The cached token, or a new one from `fetch` (token and lifetime).
    pub(crate) async fn get<F, Fut>(&self, fetch: F) -> Result<String, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(String, Duration), ApiError>>,
    {
        let seen = match self.next(None) {
            Next::Answer(answer) => return answer,
            Next::Fetch(seen) => seen,
        };
        let _one_at_a_time = self.fetching.lock().await;
        if let Next::Answer(answer) = self.next(Some(seen)) {
            return answer;
        }
        // Dropped here (the asker gave up), the attempt leaves no outcome: the next in line
        // fetches.
        let outcome = fetch().await;
        let mut state = self.state();
        state.attempts += 1;
        state.failed = outcome.as_ref().err().cloned();
        match outcome {
            Ok((token, lifetime)) => {
                // A token already past its refresh point (no lifetime) is not handed on to
                // those waiting: each asks again, as the token says to.
                state.cached = Some(Cached::new(token.clone(), lifetime));
                Ok(token)
            }
            Err(e) => {
                if is_final(e.kind) {
                    tracing::warn!(error = %e, "sign-in refused: not asked again by this command");
                    state.refused = Some(e.clone());
                } else {
                    tracing::info!(error = %e, "sign-in failed; the next request tries again");
                }
                Err(e)
            }
        }
    }

    /// Forgets `token` if it is the one cached.
    pub(crate) fn forget(&self, token: &str) {
        let mut state = self.state();
        if state.cached.as_ref().is_some_and(|c| c.token == token) {
            state.cached = None;
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
    #[serde(default, deserialize_with = "super::fields::opt_count")]
    expires_in: Option<u64>,
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
        let (status, body) = post_form(
            &self.http,
            &self.token_url,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", self.creds.client_id.as_str()),
                ("client_secret", self.creds.secret.expose()),
                ("scope", self.scope.as_str()),
            ],
        )
        .await?;
        if !(200..300).contains(&status) {
            return Err(sign_in_error(status, &body));
        }
        let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|e| unreadable(&e))?;
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(3599));
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
    crate::tls::install();
    let http = reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("mde-triage/", env!("CARGO_PKG_VERSION")))
        // A secret, a refresh token or a device code goes to the authority named, never on
        // to wherever it points: a redirect is reported by [`post_form`] instead.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| ApiError::new(ErrorKind::Network, e.to_string()))?;
    Ok((base, http))
}

/// One form POST to the authority: the status and the body of its answer. A redirect is an
/// error naming where it pointed, without the query or user part, which could carry anything.
pub(crate) async fn post_form(
    http: &reqwest::Client,
    url: &Url,
    form: &[(&str, &str)],
) -> Result<(u16, Vec<u8>), ApiError> {
    let sign_in = |e: reqwest::Error| {
        let mut err = super::client::transport_error(e);
        err.message = format!("sign-in: {}", err.message);
        err
    };
    let response = http
        .post(url.clone())
        .form(form)
        .send()
        .await
        .map_err(sign_in)?;
    let status = response.status();
    if status.is_redirection() {
        let to = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|to| url.join(to).ok());
        return Err(redirected(status.as_u16(), to));
    }
    let body = response.bytes().await.map_err(sign_in)?;
    Ok((status.as_u16(), body.to_vec()))
}

fn redirected(status: u16, to: Option<Url>) -> ApiError {
    let place = match to {
        Some(mut to) => {
            to.set_query(None);
            to.set_fragment(None);
            // Fails only for URLs that cannot have a user part, which then has none.
            let _ = to.set_username("");
            let _ = to.set_password(None);
            super::error::shorten(to.as_str())
        }
        None => "no readable location".to_owned(),
    };
    let mut e = ApiError::new(
        ErrorKind::Protocol,
        format!(
            "the token endpoint redirected to {place}; not followed: sign-ins go only to the \
             authority set (AZURE_AUTHORITY_HOST, or the cloud's)"
        ),
    );
    e.status = Some(status);
    e
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
