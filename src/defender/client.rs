//! The HTTP client for the three endpoints (reqwest). (Interface fixed; the body is being
//! written.)

use std::sync::Arc;
use std::time::Duration;

use super::error::ApiError;
use super::transport::{Call, CallFuture, Transport};

/// Where bearer tokens come from. Full sign-in comes later; today: `MDE_TOKEN`.
pub trait TokenSource: Send + Sync + 'static {
    fn token(
        &self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<String, ApiError>> + Send + '_>>;
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
    fn token(
        &self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<String, ApiError>> + Send + '_>>
    {
        let t = self.0.clone();
        Box::pin(async move { Ok(t) })
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

/// The reqwest-backed [`Transport`].
#[derive(Clone)]
pub struct Client {
    _tokens: Arc<dyn TokenSource>,
}

impl Client {
    /// Refuses a base URL that would send the token in clear text to a non-loopback host.
    pub fn new(config: ClientConfig, tokens: Arc<dyn TokenSource>) -> Result<Self, ApiError> {
        let _ = config;
        Ok(Self { _tokens: tokens })
    }
}

impl Transport for Client {
    fn call(&self, call: Call) -> CallFuture {
        let _ = call;
        todo!("client body")
    }
}
