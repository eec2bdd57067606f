//! Delegated sign-in by device code (RFC 8628 as Entra ID speaks it): the analyst opens a URL
//! on any device and enters a code; we poll until they have. Then the refresh token renews the
//! access token without asking again. For headless boxes and SSH sessions, where no browser
//! can open (FACTS.md section 4 names this flow for that case).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;

use super::auth::{API_SCOPE, Secret, TokenCache};
use super::client::{TokenFuture, TokenSource};
use super::error::{ApiError, ErrorKind};

/// The Azure CLI's public client id: a first-party app every tenant knows, used when no
/// `AZURE_CLIENT_ID` names the organisation's own public client.
pub const DEFAULT_PUBLIC_CLIENT: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

/// Shows the "open this page and enter this code" message to the analyst.
pub type Prompt = Arc<dyn Fn(&str) + Send + Sync>;

/// Device-code sign-in, then refresh tokens.
pub struct DeviceCode {
    http: reqwest::Client,
    base: Url,
    tenant: String,
    client_id: String,
    prompt: Prompt,
    scope: String,
    refresh: Mutex<Option<Secret>>,
    cache: TokenCache,
}

impl std::fmt::Debug for DeviceCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCode")
            .field("authority", &self.base.as_str())
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// The `/devicecode` answer. Counts may come as numbers or strings ("900", "5").
#[derive(Deserialize)]
struct CodeAnswer {
    device_code: String,
    message: String,
    #[serde(default, deserialize_with = "super::fields::opt_count")]
    interval: Option<u64>,
    #[serde(default, deserialize_with = "super::fields::opt_count")]
    expires_in: Option<u64>,
}

impl CodeAnswer {
    /// How long to wait between polls: RFC 8628 section 3.2 says five seconds when the
    /// answer does not say.
    fn interval(&self) -> Duration {
        Duration::from_secs(self.interval.unwrap_or(5))
    }

    /// How long the code lives: Entra's usual fifteen minutes when the answer does not say.
    fn lifetime(&self) -> Duration {
        Duration::from_secs(self.expires_in.unwrap_or(900))
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default, deserialize_with = "super::fields::opt_count")]
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct Refusal {
    error: String,
}

impl DeviceCode {
    /// `tenant` may be `organizations` for any work account.
    pub fn new(
        authority: &str,
        tenant: &str,
        client_id: &str,
        prompt: Prompt,
        timeout: Duration,
    ) -> Result<Self, ApiError> {
        let (base, http) = super::auth::sign_in_client(authority, timeout)?;
        Ok(Self {
            http,
            base,
            tenant: tenant.to_owned(),
            client_id: client_id.to_owned(),
            prompt,
            scope: API_SCOPE.to_owned(),
            refresh: Mutex::new(None),
            cache: TokenCache::default(),
        })
    }

    /// Asks for `scope` instead of [`API_SCOPE`] (see [`super::auth::parse_scope`]).
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }

    fn endpoint(&self, last: &str) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments
                .pop_if_empty()
                .extend([self.tenant.as_str(), "oauth2", "v2.0", last]);
        }
        url
    }

    async fn post(&self, last: &str, form: &[(&str, &str)]) -> Result<(u16, Vec<u8>), ApiError> {
        super::auth::post_form(&self.http, &self.endpoint(last), form).await
    }

    /// Keeps the refresh token and returns the access token with its lifetime.
    fn accept(&self, body: &[u8]) -> Result<(String, Duration), ApiError> {
        let answer: TokenAnswer =
            serde_json::from_slice(body).map_err(|e| super::auth::unreadable(&e))?;
        if let (Some(r), Ok(mut slot)) = (answer.refresh_token, self.refresh.lock()) {
            *slot = Some(Secret::new(r));
        }
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(3599));
        Ok((answer.access_token, lifetime))
    }

    async fn renew(&self, refresh: &Secret) -> Result<(String, Duration), ApiError> {
        let (status, body) = self
            .post(
                "token",
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", &self.client_id),
                    ("refresh_token", refresh.expose()),
                    ("scope", &self.scope),
                ],
            )
            .await?;
        if status == 200 {
            tracing::info!("token renewed with the refresh token");
            return self.accept(&body);
        }
        Err(super::entra::sign_in_error(status, &body))
    }

    async fn sign_in(&self) -> Result<(String, Duration), ApiError> {
        let (status, body) = self
            .post(
                "devicecode",
                &[("client_id", &self.client_id), ("scope", &self.scope)],
            )
            .await?;
        if status != 200 {
            return Err(super::entra::sign_in_error(status, &body));
        }
        let code: CodeAnswer =
            serde_json::from_slice(&body).map_err(|e| super::auth::unreadable(&e))?;
        (self.prompt)(&super::sanitize::one_line(&code.message));
        let deadline = tokio::time::Instant::now() + code.lifetime();
        let mut interval = code.interval();
        loop {
            tokio::time::sleep(interval).await;
            let (status, body) = self
                .post(
                    "token",
                    &[
                        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                        ("client_id", &self.client_id),
                        ("device_code", &code.device_code),
                    ],
                )
                .await?;
            if status == 200 {
                tracing::info!("signed in (device code)");
                return self.accept(&body);
            }
            match serde_json::from_slice::<Refusal>(&body).map(|r| r.error) {
                Ok(e) if e == "authorization_pending" => {}
                // RFC 8628: poll five seconds slower from now on.
                Ok(e) if e == "slow_down" => interval += Duration::from_secs(5),
                _ => return Err(super::entra::sign_in_error(status, &body)),
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ApiError::new(
                    ErrorKind::SignIn,
                    "the device code expired before the sign-in was completed",
                ));
            }
        }
    }

    async fn fetch(&self) -> Result<(String, Duration), ApiError> {
        let refresh = self.refresh.lock().ok().and_then(|r| r.clone());
        match refresh {
            Some(r) => self.renew(&r).await,
            None => self.sign_in().await,
        }
    }
}

impl TokenSource for DeviceCode {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(self.cache.get(|| self.fetch()))
    }

    fn invalidate(&self, token: &str) -> bool {
        self.cache.forget(token);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_answers_are_read_with_counts_as_numbers_or_strings_or_absent() {
        let cases = [
            (r#""interval": 5, "expires_in": 900"#, 5, 900),
            (r#""interval": "5", "expires_in": "900""#, 5, 900),
            (r#""interval": " 7 ", "expires_in": "1800""#, 7, 1800),
            // RFC 8628: no interval means five seconds.
            (r#""expires_in": 600"#, 5, 600),
            (r#""interval": null, "expires_in": "soon""#, 5, 900),
            (r#""interval": 0, "expires_in": 60"#, 0, 60),
        ];
        for (counts, interval, lifetime) in cases {
            let body = format!(r#"{{"device_code": "dc", "message": "m", {counts}}}"#);
            let code: CodeAnswer = serde_json::from_str(&body).unwrap();
            assert_eq!(
                (code.interval(), code.lifetime()),
                (Duration::from_secs(interval), Duration::from_secs(lifetime)),
                "{body}"
            );
        }
    }
}
