//! What the scheduler remembers between runs: answers (the response cache) and the calls of
//! the last hour (the budget's memory). The scheduler sees only the [`Memory`] trait; the
//! database behind it lives in `store`.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::defender::{Endpoint, FetchKey, FetchValue};

/// The scheduler's long-term memory. Reads are quick local lookups made on the scheduler's
/// task; writes must not block (the store queues them for its writer thread).
pub trait Memory: Send + Sync {
    /// The stored answer for `key` and when it was fetched.
    fn lookup(&self, key: &FetchKey) -> Option<(FetchValue, DateTime<Utc>)>;
    /// A fresh answer from the API.
    fn remember(&self, key: &FetchKey, value: &FetchValue, at: DateTime<Utc>);
    /// Calls sent since `since`, any process, this tenant.
    fn calls_since(&self, since: DateTime<Utc>) -> Vec<(Endpoint, DateTime<Utc>)>;
    /// A call left at `at`; `sent: false` takes it back (the API refused it with a 429).
    fn call(&self, endpoint: Endpoint, at: DateTime<Utc>, sent: bool);
}

/// How long an answer stays fresh, per endpoint; by default [`Endpoint::default_ttl`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ttl([Duration; Endpoint::ALL.len()]);

impl Default for Ttl {
    fn default() -> Self {
        Self(Endpoint::ALL.map(Endpoint::default_ttl))
    }
}

impl Ttl {
    pub fn of(&self, endpoint: Endpoint) -> Duration {
        self.0[endpoint as usize]
    }

    /// This policy with `endpoint`'s answers fresh for `ttl`.
    pub fn with(mut self, endpoint: Endpoint, ttl: Duration) -> Self {
        self.0[endpoint as usize] = ttl;
        self
    }
}

/// How the scheduler uses its memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CachePolicy {
    pub ttl: Ttl,
    /// `--no-cache`: never answer from the cache (fresh answers are still stored).
    pub bypass: bool,
    /// `--offline`: answer from the cache whatever its age, and never call the API.
    pub offline: bool,
}

/// Whether an answer fetched at `fetched` is still fresh at `now`.
pub fn fresh(ttl: Duration, fetched: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    let age = (now - fetched).to_std().unwrap_or(Duration::ZERO);
    age < ttl
}

/// Where an answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The API, just now.
    Network,
    /// The cache. `refreshing`: it was stale, and a fresh answer for the same ticket follows
    /// (or an error, after which the stale answer stands).
    Cache { refreshing: bool },
}

/// How a request may use the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum CacheUse {
    /// A fresh cached answer serves; a stale one serves and is refreshed in the background.
    #[default]
    Prefer,
    /// The analyst pressed `r`: ask the API.
    Refresh,
}
