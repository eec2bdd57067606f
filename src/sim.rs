//! The simulated MDE tenant: an axum server with the real routes, status codes, bearer checks,
//! sliding-window limits answering 429, a request log, latency and fault injection.
//! (Interface fixed; the body is being written.)

use std::net::SocketAddr;
use std::time::Duration;

use crate::fetch::RateLimits;

/// How the simulator behaves.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Per-endpoint windows enforced with 429 + `Retry-After`.
    pub limits: RateLimits,
    /// Added to every API answer.
    pub latency: Duration,
    /// Probability (0..=1) that an API call fails with a 5xx.
    pub fail_rate: f64,
    /// The bearer token the API accepts; random when `None`.
    pub token: Option<String>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            limits: RateLimits::default(),
            latency: Duration::ZERO,
            fail_rate: 0.0,
            token: None,
        }
    }
}

/// One request the simulator answered.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LoggedRequest {
    pub method: String,
    /// Path and query as received, e.g. `/api/ips/10.209.67.177/stats`.
    pub path: String,
    pub status: u16,
}

/// A running simulator; dropping it does not stop it, call [`SimHandle::shutdown`].
pub struct SimHandle {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    /// The bearer token to use.
    pub token: String,
}

impl SimHandle {
    /// Every request answered so far, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        todo!()
    }

    pub async fn shutdown(self) {}
}

/// Binds `addr` (use port 0 for any) and serves until shut down.
pub async fn start(addr: SocketAddr, config: SimConfig) -> std::io::Result<SimHandle> {
    let _ = (addr, config);
    todo!("simulator body")
}
