//! The simulated MDE tenant: an axum server with the real routes, status codes, bearer checks,
//! sliding-window limits answering 429, a request log, latency and fault injection.

pub mod dataset;
mod device_routes;
mod devices;
mod http;
mod identity;
mod ip_routes;
mod limits;
mod routes;
mod story;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::defender::Endpoint;
use crate::fetch::RateLimits;
pub use dataset::Dataset;
use limits::Referee;

/// How the simulator behaves.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Per-endpoint windows enforced with 429 + `Retry-After`.
    pub limits: RateLimits,
    /// Added to every API answer.
    pub latency: Duration,
    /// Probability (0..=1) that an API call fails with a 500.
    pub fail_rate: f64,
    /// The bearer token the API accepts; random when `None`.
    pub token: Option<String>,
    /// Alerts per page before `@odata.nextLink` is used.
    pub page_size: usize,
    /// Client credentials the token endpoint accepts.
    pub client_id: String,
    pub client_secret: String,
    /// The `interval` (seconds) a device-code sign-in tells the client to poll at.
    pub device_code_interval: u64,
    /// "authorization_pending" answers before the simulated user approves a device code.
    pub device_code_polls: u32,
    /// The simulated user declines the device-code sign-in instead of approving it.
    pub device_code_declined: bool,
    /// Lifetime of tokens from the token endpoint (`expires_in`); they are accepted a few
    /// seconds longer, as Entra ID allows for clock skew.
    pub token_lifetime: Duration,
    /// Application roles the token carries; an endpoint whose permission is missing answers
    /// 403, as the API does for a registration without that consent. By default every
    /// endpoint's permission ([`permissions`]), so a new endpoint is allowed like the others.
    pub roles: Vec<String>,
    /// Seconds the simulator's `Date` header is off from the real clock (0: hyper's own).
    pub clock_offset_secs: i64,
    /// Seed for fault injection and the random token.
    pub seed: u64,
    /// The tenant's data; the demo story by default, told at its own fixed date
    /// ([`Dataset::demo`]; `demo` and `sim` tell it today, [`Dataset::demo_on`]). The
    /// simulator's clock starts at its [`Dataset::told_at`], so what it answers depends on
    /// where the story is told, never on the day the simulator runs.
    pub dataset: Arc<Dataset>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            limits: RateLimits::default(),
            latency: Duration::ZERO,
            fail_rate: 0.0,
            token: None,
            page_size: 100,
            client_id: "sim-client".into(),
            client_secret: "sim-secret".into(),
            roles: permissions(&Endpoint::ALL),
            token_lifetime: Duration::from_secs(3599),
            device_code_interval: 1,
            device_code_polls: 2,
            device_code_declined: false,
            clock_offset_secs: 0,
            seed: 0x5eed,
            dataset: Arc::new(Dataset::demo()),
        }
    }
}

/// The permissions `endpoints` need, each once, in their order: the roles of a registration
/// consented to every call among them.
pub fn permissions(endpoints: &[Endpoint]) -> Vec<String> {
    let mut roles: Vec<String> = Vec::new();
    for permission in endpoints.iter().map(|e| e.permission()) {
        if !roles.iter().any(|r| r == permission) {
            roles.push(permission.to_owned());
        }
    }
    roles
}

/// One request the simulator answered.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LoggedRequest {
    pub method: String,
    /// Path and query as received, e.g. `/api/ips/10.209.67.177/stats`.
    pub path: String,
    pub status: u16,
    /// Milliseconds since the simulator started, when the answer left.
    pub at_ms: u64,
    /// When the request arrived, on the system clock (milliseconds since the Unix epoch), so
    /// a harness driving several processes can line it up with its own clock.
    #[serde(default)]
    pub arrived_unix_ms: u64,
    /// The `Retry-After` seconds of a 429.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// What every handler (API, token endpoints, request log) reads and writes.
struct Shared {
    config: SimConfig,
    token: String,
    referees: Mutex<HashMap<Endpoint, Referee>>,
    rng: Mutex<fastrand::Rng>,
    log: Arc<Mutex<Vec<LoggedRequest>>>,
    started: Instant,
    /// Tokens from the token endpoint, with the instant each stops being accepted.
    issued: Mutex<HashMap<String, Instant>>,
    /// Device-code sign-ins waiting for the (simulated) user.
    device_codes: Mutex<HashMap<String, identity::Pending>>,
    /// Refresh tokens not yet used (each is good once, as Entra rotates them).
    refresh_tokens: Mutex<HashSet<String>>,
    /// Secrets issued and scopes asked for, shared with [`SimHandle`].
    record: Arc<Mutex<identity::Record>>,
}

impl Shared {
    /// The tenant's clock: the story's instant when serving began, run on since. Tokens keep
    /// to the real clock (their expiry is the client's business, not the story's).
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        let run = chrono::Duration::from_std(self.started.elapsed()).unwrap_or_default();
        self.config.dataset.told_at() + run
    }
}

/// How long past `expires_in` an issued token is still accepted (clock skew).
const SKEW: Duration = Duration::from_secs(5);

type S = State<Arc<Shared>>;

/// A running simulator; call [`SimHandle::shutdown`] to stop it.
pub struct SimHandle {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    /// The bearer token to use.
    pub token: String,
    log: Arc<Mutex<Vec<LoggedRequest>>>,
    record: Arc<Mutex<identity::Record>>,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl SimHandle {
    /// Every request answered so far, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Every access token, refresh token and device code the token endpoints issued, oldest
    /// first: what tests search outputs and logs for (none may appear).
    pub fn issued_secrets(&self) -> Vec<String> {
        self.record
            .lock()
            .map(|r| r.secrets.clone())
            .unwrap_or_default()
    }

    /// The `scope` of every sign-in request that carried one, oldest first.
    pub fn requested_scopes(&self) -> Vec<String> {
        self.record
            .lock()
            .map(|r| r.scopes.clone())
            .unwrap_or_default()
    }

    /// Every sign-in request, oldest first: the token request's `grant_type`, or `devicecode`
    /// for a request to the device-code endpoint.
    pub fn sign_in_requests(&self) -> Vec<String> {
        self.record
            .lock()
            .map(|r| r.sign_ins.clone())
            .unwrap_or_default()
    }

    /// Stops accepting, lets requests in progress finish.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Binds `addr` (use port 0 for any) and serves until shut down.
pub async fn start(addr: SocketAddr, config: SimConfig) -> std::io::Result<SimHandle> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let token = config.token.clone().unwrap_or_else(|| {
        let mut rng = fastrand::Rng::with_seed(config.seed ^ u64::from(local.port()));
        let signature = format!("sim-{:016x}{:016x}", rng.u64(..), rng.u64(..));
        // JWT-shaped like Entra ID's, so `doctor` reads roles and audience the same way; it
        // never expires (a year is forever for a simulator).
        identity::claims(&config, std::time::Duration::from_secs(365 * 86_400))
            .to_unsigned_token(&signature)
    });
    let log = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::new(Mutex::new(identity::Record::default()));
    let router = routes::router(config, token.clone(), log.clone(), record.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, router).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "simulator stopped");
        }
    });
    Ok(SimHandle {
        url: format!("http://{local}"),
        token,
        log,
        record,
        stop,
        task,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_token_holds_each_endpoints_permission_once() {
        assert_eq!(
            permissions(&[Endpoint::Machine, Endpoint::IpStats, Endpoint::FindByIp]),
            ["Machine.Read.All", "Ip.Read.All"]
        );
        let roles = SimConfig::default().roles;
        for e in Endpoint::ALL {
            assert_eq!(
                roles.iter().filter(|r| *r == e.permission()).count(),
                1,
                "{e:?}"
            );
        }
        assert_eq!(roles, permissions(&Endpoint::ALL));
    }
}
